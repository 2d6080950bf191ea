//! What the agent checkpoints under `<work_dir>/meta` and how it reads it
//! back after a restart.
//!
//! - `checkpoint`: atomic writes of records and text, appended logs.
//! - `recover`: the checkpointed tree read back as plain data.

pub mod checkpoint;
pub mod recover;

pub use recover::{AgentState, ExecutorState, FrameworkState, RunState, TaskState};
