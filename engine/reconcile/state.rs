//! The facts a PipelineRun pass reads: time, `spec.status`, timeouts and each task's state.

use crate::api::GoDuration;

/// A point in time, in milliseconds since the Unix epoch; the caller's clock, never ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// True when more than `limit` has passed between `self` and `now` (Tekton compares with `>`).
    ///
    /// A zero or negative limit means "no timeout", as in Tekton.
    pub fn exceeded(self, limit: GoDuration, now: Timestamp) -> bool {
        if limit.0 <= 0 {
            return false;
        }
        let elapsed_ns = i128::from(now.0.saturating_sub(self.0)) * 1_000_000;
        elapsed_ns > limit.0
    }
}

/// The PipelineRun's `spec.status`: how the user wants the run to proceed (§4.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpecStatus {
    /// No request: run normally.
    #[default]
    None,
    /// Cancel every child now; finally does not run.
    Cancelled,
    /// Cancel running DAG children, skip the rest, then run finally.
    CancelledRunFinally,
    /// Let running DAG children finish, skip the rest, then run finally.
    StoppedRunFinally,
    /// Do not start anything yet.
    Pending,
}

impl SpecStatus {
    /// True for the two graceful variants, which still run finally.
    pub fn is_graceful(self) -> bool {
        matches!(
            self,
            SpecStatus::CancelledRunFinally | SpecStatus::StoppedRunFinally
        )
    }
}

/// The PipelineRun's `spec.timeouts`, already parsed; `None` or zero means no limit.
///
/// The caller applies the `default-timeout-minutes` default to `pipeline`; the derived
/// `pipeline − finally` / `pipeline − tasks` limits are computed here (§4.19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// `timeouts.pipeline`, measured from the run's start.
    pub pipeline: Option<GoDuration>,
    /// `timeouts.tasks`, measured from the run's start.
    pub tasks: Option<GoDuration>,
    /// `timeouts.finally`, measured from the finally start.
    pub finally: Option<GoDuration>,
}

impl Timeouts {
    /// The limit on the whole run, if any.
    pub fn pipeline_limit(&self) -> Option<GoDuration> {
        self.pipeline.filter(|d| d.0 > 0)
    }

    /// The limit on DAG tasks: `tasks`, or `pipeline − finally` when both of those are set.
    pub fn tasks_limit(&self) -> Option<GoDuration> {
        match (self.tasks, self.pipeline_limit(), self.finally) {
            (Some(t), _, _) => Some(t).filter(|d| d.0 > 0),
            (None, Some(p), Some(f)) if f.0 > 0 => Some(GoDuration(p.0 - f.0)).filter(|d| d.0 > 0),
            _ => None,
        }
    }

    /// The limit on finally tasks: `finally`, or `pipeline − tasks` when both of those are set.
    pub fn finally_limit(&self) -> Option<GoDuration> {
        match (self.finally, self.pipeline_limit(), self.tasks) {
            (Some(f), _, _) => Some(f).filter(|d| d.0 > 0),
            (None, Some(p), Some(t)) if t.0 > 0 => Some(GoDuration(p.0 - t.0)).filter(|d| d.0 > 0),
            _ => None,
        }
    }
}

/// A pipeline task's `onError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// A failure stops the pipeline (the default).
    #[default]
    StopAndFail,
    /// A failure is recorded as ignored and dependents still run.
    Continue,
}

/// Why a child was cancelled; decides whether the summary counts it as Failed or Cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelCause {
    /// The user cancelled the PipelineRun (counted as Cancelled).
    Cancelled,
    /// A PipelineRun timeout (pipeline, tasks or finally) elapsed (counted as Failed, §4.19).
    TimedOut,
}

impl CancelCause {
    /// The `statusMessage` written on the cancelled TaskRun (§4.12).
    pub fn message(self) -> &'static str {
        match self {
            CancelCause::Cancelled => {
                "TaskRun cancelled as the PipelineRun it belongs to has been cancelled."
            }
            CancelCause::TimedOut => {
                "TaskRun cancelled as the PipelineRun it belongs to has timed out."
            }
        }
    }
}

/// Why a task was skipped; the text goes to `status.skippedTasks[].reason` (§4.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A DAG task failed without `onError: continue`.
    Stopping,
    /// `spec.status: CancelledRunFinally`.
    GracefullyCancelled,
    /// `spec.status: StoppedRunFinally`.
    GracefullyStopped,
    /// The task's own when-expressions were false.
    WhenFalse,
    /// A parent was skipped for a reason other than its when-expressions.
    ParentSkipped,
    /// A referenced result is unavailable.
    ResultsMissing,
    /// `timeouts.pipeline` elapsed.
    PipelineTimeout,
    /// `timeouts.tasks` elapsed.
    TasksTimeout,
    /// `timeouts.finally` elapsed.
    FinallyTimeout,
    /// A matrix param resolved to an empty array, so there was nothing to run.
    EmptyMatrix,
}

impl SkipReason {
    /// Tekton's exact reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Stopping => "PipelineRun was stopping",
            SkipReason::GracefullyCancelled => "PipelineRun was gracefully cancelled",
            SkipReason::GracefullyStopped => "PipelineRun was gracefully stopped",
            SkipReason::WhenFalse => "When Expressions evaluated to false",
            SkipReason::ParentSkipped => "Parent Tasks were skipped",
            SkipReason::ResultsMissing => "Results were missing",
            SkipReason::PipelineTimeout => "PipelineRun timeout has been reached",
            SkipReason::TasksTimeout => "PipelineRun Tasks timeout has been reached",
            SkipReason::FinallyTimeout => "PipelineRun Finally timeout has been reached",
            SkipReason::EmptyMatrix => "Matrix Parameters have an empty array",
        }
    }

    /// True for the timeout reasons, which make a finished run `Failed` (§4.21).
    pub fn is_timeout(self) -> bool {
        matches!(
            self,
            SkipReason::PipelineTimeout | SkipReason::TasksTimeout | SkipReason::FinallyTimeout
        )
    }
}

/// Where one pipeline task stands, as the caller last observed it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PipelineTaskState {
    /// No TaskRun exists and no decision was recorded.
    #[default]
    NotStarted,
    /// A TaskRun exists and has not finished (retries in progress included).
    Running {
        /// When the first attempt was created.
        started: Timestamp,
    },
    /// Every TaskRun succeeded.
    Succeeded,
    /// The TaskRun failed after its last retry.
    Failed {
        /// The TaskRun's condition reason (`StepFailed`, `FailureIgnored`, …).
        reason: String,
        /// True when `onError: continue` turned the failure into `FailureIgnored`.
        ignored: bool,
    },
    /// The TaskRun was cancelled on the PipelineRun's behalf.
    Cancelled {
        /// Whether the cancel came from the user or from a timeout.
        cause: CancelCause,
    },
    /// No TaskRun was created, for this reason.
    Skipped {
        /// The recorded reason.
        reason: SkipReason,
    },
    /// A result reference could not be resolved before start (§4.14); never started.
    ValidationFailed {
        /// The error shown in the run's `Failed Validation` suffix.
        message: String,
    },
}

impl PipelineTaskState {
    /// Finished, one way or another: nothing more will happen to this task (§4.14).
    pub fn is_done(&self) -> bool {
        !matches!(
            self,
            PipelineTaskState::NotStarted | PipelineTaskState::Running { .. }
        )
    }

    /// A failure that stops the pipeline when it happens to a DAG task (Tekton's `isFailure`
    /// minus ignored failures).
    pub fn stops_pipeline(&self) -> bool {
        matches!(
            self,
            PipelineTaskState::Failed { ignored: false, .. }
                | PipelineTaskState::Cancelled { .. }
                | PipelineTaskState::ValidationFailed { .. }
        )
    }

    /// The skip reason, if the task was skipped.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self {
            PipelineTaskState::Skipped { reason } => Some(*reason),
            _ => None,
        }
    }
}
