//! The boundary between the driver and whatever runs containers: one trait, plain messages.

use crate::api::{Param, ParamValue};
use crate::plan::model::StepPlan;
use crate::reconcile::Timestamp;

/// A fully resolved TaskRun to start; executors never interpret `$(...)` in it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRunRequest {
    /// The TaskRun's name (`<pipelinerun>-<pipeline task>`), the key of every later message.
    pub name: String,
    /// The pipeline task it runs.
    pub pipeline_task: String,
    /// True for a finally task.
    pub finally: bool,
    /// Parameter values after defaults and pipeline-level substitution (results included).
    pub params: Vec<Param>,
    /// The steps exactly as they run.
    pub steps: Vec<StepPlan>,
    /// The sidecars exactly as they run.
    pub sidecars: Vec<StepPlan>,
}

/// How a TaskRun finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutcome {
    /// Every step succeeded.
    Succeeded,
    /// A step failed, or the TaskRun timed out.
    Failed {
        /// The TaskRun's condition reason (`Failed`, `TaskRunTimeout`, …).
        reason: String,
        /// The TaskRun's condition message.
        message: String,
    },
    /// The TaskRun stopped because it was cancelled.
    Cancelled,
}

/// A TaskRun finished, with the results it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecEvent {
    /// The TaskRun's name, as given in [`TaskRunRequest::name`].
    pub task_run: String,
    /// How it finished.
    pub outcome: ExecOutcome,
    /// The results it emitted, failed runs included (Tekton keeps them).
    pub results: Vec<(String, ParamValue)>,
}

/// Why an executor could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The TaskRun could not be created.
    #[error("cannot start TaskRun \"{task_run}\": {message}")]
    Start {
        /// The TaskRun.
        task_run: String,
        /// What went wrong.
        message: String,
    },
    /// The TaskRun could not be cancelled.
    #[error("cannot cancel TaskRun \"{task_run}\": {message}")]
    Cancel {
        /// The TaskRun.
        task_run: String,
        /// What went wrong.
        message: String,
    },
    /// The container engine or API server is unreachable.
    #[error("executor unavailable: {0}")]
    Unavailable(String),
}

/// Runs TaskRuns: the only code that touches containers or an API server.
///
/// Calls are synchronous and must return promptly; progress is observed through [`poll`].
///
/// [`poll`]: Executor::poll
pub trait Executor {
    /// Creates the TaskRun; it finishes later, reported by [`Executor::poll`].
    fn start(&mut self, task_run: &TaskRunRequest) -> Result<(), ExecError>;
    /// Asks a running TaskRun to stop, with the `statusMessage` to record; idempotent.
    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError>;
    /// The TaskRuns that finished since the last call, each reported once.
    fn poll(&mut self, now: Timestamp) -> Vec<ExecEvent>;
}
