//! The executor driver (`Executor` trait and `MesosExecutorDriver`) and the
//! command executor.
//!
//! Not built yet: this crate holds the place the agent issue fills.
