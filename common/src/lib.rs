//! Shared helpers (being written).
