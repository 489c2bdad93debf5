//! What a reconcile pass asks the driver to do, and the run status it computed.

use super::condition::Condition;
use super::state::{CancelCause, SkipReason, Timestamp};

/// One thing for the driver to do to a child; the driver records the matching state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create the DAG task's TaskRun; record `Running { started: now }`.
    Start {
        /// The pipeline task.
        task: String,
    },
    /// Record the task as skipped (`status.skippedTasks`); create nothing.
    Skip {
        /// The pipeline task (DAG or finally).
        task: String,
        /// Why.
        reason: SkipReason,
    },
    /// Patch the running child `spec.status=TaskRunCancelled` with `cause.message()`.
    ///
    /// Repeated on every pass while the child still runs; the driver must treat it idempotently.
    Cancel {
        /// The pipeline task (DAG or finally).
        task: String,
        /// Why, which also decides the state recorded once the child stops.
        cause: CancelCause,
    },
    /// Create the finally task's TaskRun; record `Running { started: now }`.
    StartFinally {
        /// The finally task.
        task: String,
    },
    /// Record the DAG task as `ValidationFailed { message }`; create nothing (§4.14).
    FailValidation {
        /// The pipeline task whose result reference cannot be resolved.
        task: String,
        /// Tekton's error text.
        message: String,
    },
}

/// The outcome of one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Actions in a deterministic order: DAG skips and validation failures (topological),
    /// DAG starts, cancels, then finally decisions; a timeout pass lists cancels first.
    pub actions: Vec<Action>,
    /// The run's `Succeeded` condition after the actions are applied.
    pub condition: Condition,
    /// `status.startTime` to record: `Some(now)` on the first pass that is not pending.
    pub start_time: Option<Timestamp>,
    /// `status.finallyStartTime` to record: `Some(now)` on the pass that schedules finally.
    pub finally_start: Option<Timestamp>,
}

impl Step {
    /// True when the run has reached a final condition (`True` or `False`).
    pub fn is_done(&self) -> bool {
        self.condition.is_done()
    }
}
