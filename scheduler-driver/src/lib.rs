//! The `Scheduler` trait and `MesosSchedulerDriver` for frameworks.
//!
//! Not built yet: this crate holds the place the scheduler driver issue fills.
