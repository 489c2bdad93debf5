//! The PipelineRun `Succeeded` condition, computed from task states after a pass (§4.21).

use super::state::{CancelCause, PipelineTaskState, SpecStatus};
use crate::api::GoDuration;

/// A condition's `status` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionStatus {
    /// Finished successfully.
    True,
    /// Finished unsuccessfully.
    False,
    /// Still in progress.
    Unknown,
}

impl ConditionStatus {
    /// `"True"`, `"False"` or `"Unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

/// The PipelineRun condition reasons this module produces (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunReason {
    /// True: every task succeeded.
    Succeeded,
    /// True: finished with at least one skipped task.
    Completed,
    /// False: a task failed or a timeout skipped a task.
    Failed,
    /// False: cancelled by the user.
    Cancelled,
    /// False: the pipeline or tasks timeout elapsed.
    PipelineRunTimeout,
    /// False: a result reference could not be resolved.
    PipelineValidationFailed,
    /// False: a CEL when-expression did not compile, failed, or gave no bool.
    CelEvaluationFailed,
    /// False: the storage of the run's shared workspaces (a PVC on a cluster, a directory
    /// locally) could not be created; no task ran.
    CouldntCreateWorkspacePVC,
    /// Unknown: tasks are running.
    Running,
    /// Unknown: waiting for running tasks after a failure or cancel.
    PipelineRunStopping,
    /// Unknown: finally runs after `CancelledRunFinally`.
    CancelledRunningFinally,
    /// Unknown: finally runs after `StoppedRunFinally`.
    StoppedRunningFinally,
    /// Unknown: finally runs after the tasks timeout.
    PipelineRunTimeoutRunningFinally,
    /// Unknown: `spec.status: PipelineRunPending`.
    PipelineRunPending,
}

impl RunReason {
    /// Tekton's exact reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            RunReason::Succeeded => "Succeeded",
            RunReason::Completed => "Completed",
            RunReason::Failed => "Failed",
            RunReason::Cancelled => "Cancelled",
            RunReason::PipelineRunTimeout => "PipelineRunTimeout",
            RunReason::PipelineValidationFailed => "PipelineValidationFailed",
            RunReason::CelEvaluationFailed => "CELEvaluationFailed",
            RunReason::CouldntCreateWorkspacePVC => "CouldntCreateWorkspacePVC",
            RunReason::Running => "Running",
            RunReason::PipelineRunStopping => "PipelineRunStopping",
            RunReason::CancelledRunningFinally => "CancelledRunningFinally",
            RunReason::StoppedRunningFinally => "StoppedRunningFinally",
            RunReason::PipelineRunTimeoutRunningFinally => "PipelineRunTimeoutRunningFinally",
            RunReason::PipelineRunPending => "PipelineRunPending",
        }
    }
}

/// The run's `Succeeded` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// Machine-readable reason.
    pub reason: RunReason,
    /// Human-readable message.
    pub message: String,
}

impl Condition {
    /// True once the run is finished (`status` is not `Unknown`).
    pub fn is_done(&self) -> bool {
        self.status != ConditionStatus::Unknown
    }

    /// `Unknown/PipelineRunPending`.
    pub fn pending(name: &str) -> Condition {
        Condition {
            status: ConditionStatus::Unknown,
            reason: RunReason::PipelineRunPending,
            message: format!("PipelineRun \"{name}\" is pending"),
        }
    }

    /// `False/Cancelled` with the run-level message.
    pub fn cancelled(name: &str) -> Condition {
        Condition {
            status: ConditionStatus::False,
            reason: RunReason::Cancelled,
            message: cancelled_message(name),
        }
    }

    /// `False/CELEvaluationFailed`: `error` is what evaluating a CEL when-expression gave.
    pub fn cel_failed(name: &str, error: &str) -> Condition {
        Condition {
            status: ConditionStatus::False,
            reason: RunReason::CelEvaluationFailed,
            message: format!("Error evaluating CEL {name}: [User error] {error}"),
        }
    }

    /// `False/PipelineRunTimeout` for `timeouts.pipeline`.
    pub fn pipeline_timeout(name: &str, limit: GoDuration) -> Condition {
        Condition {
            status: ConditionStatus::False,
            reason: RunReason::PipelineRunTimeout,
            message: format!("PipelineRun \"{name}\" failed to finish within \"{limit}\""),
        }
    }

    /// `False/PipelineRunTimeout` for `timeouts.tasks`.
    pub fn tasks_timeout(name: &str, limit: GoDuration) -> Condition {
        Condition {
            status: ConditionStatus::False,
            reason: RunReason::PipelineRunTimeout,
            message: format!(
                "PipelineRun \"{name}\" failed due to tasks failed to finish within \"{limit}\""
            ),
        }
    }
}

fn cancelled_message(name: &str) -> String {
    format!("PipelineRun \"{name}\" was cancelled")
}

/// Per-state tallies over DAG and finally tasks (Tekton's `pipelineRunStatusCount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Succeeded tasks.
    pub succeeded: usize,
    /// Failed tasks, children cancelled by a timeout included.
    pub failed: usize,
    /// Failures ignored by `onError: continue`.
    pub ignored_failed: usize,
    /// Children cancelled by the user.
    pub cancelled: usize,
    /// Tasks whose result references failed validation.
    pub validation_failed: usize,
    /// Skipped tasks, for any reason.
    pub skipped: usize,
    /// Skipped tasks whose reason is a timeout.
    pub skipped_due_to_timeout: usize,
    /// Tasks not started or still running.
    pub incomplete: usize,
}

impl Counts {
    /// Tallies every state.
    pub fn of<'s>(states: impl IntoIterator<Item = &'s PipelineTaskState>) -> Counts {
        let mut c = Counts::default();
        for state in states {
            match state {
                PipelineTaskState::Succeeded => c.succeeded += 1,
                PipelineTaskState::Cancelled {
                    cause: CancelCause::TimedOut,
                } => c.failed += 1,
                PipelineTaskState::Cancelled {
                    cause: CancelCause::Cancelled,
                } => c.cancelled += 1,
                PipelineTaskState::Failed { ignored: true, .. } => c.ignored_failed += 1,
                PipelineTaskState::Failed { ignored: false, .. } => c.failed += 1,
                PipelineTaskState::ValidationFailed { .. } => c.validation_failed += 1,
                PipelineTaskState::Skipped { reason } => {
                    c.skipped += 1;
                    if reason.is_timeout() {
                        c.skipped_due_to_timeout += 1;
                    }
                }
                PipelineTaskState::NotStarted | PipelineTaskState::Running { .. } => {
                    c.incomplete += 1
                }
            }
        }
        c
    }

    /// `Completed = Succeeded + Failed + Cancelled + IgnoredFailed`.
    fn completed(&self) -> usize {
        self.succeeded + self.failed + self.cancelled + self.ignored_failed
    }
}

/// What the condition depends on besides the counts.
#[derive(Debug, Clone)]
pub(super) struct Facts<'a> {
    /// The run's name.
    pub name: &'a str,
    /// `spec.status`.
    pub spec_status: SpecStatus,
    /// The pipeline limit, when it has elapsed.
    pub pipeline_timed_out: Option<GoDuration>,
    /// The tasks limit, when it has elapsed.
    pub tasks_timed_out: Option<GoDuration>,
    /// Every finally task is done (true when there are none).
    pub finally_done: bool,
    /// `(task name, message)` of each validation failure.
    pub validation_errors: Vec<(&'a str, &'a str)>,
}

/// Longest `Failed Validation` detail before it is cut (Tekton's limit).
const MAX_VALIDATION_DETAIL: usize = 1024;

/// Computes the condition after a pass (§4.21), in Tekton's order of precedence.
pub(super) fn compute(facts: &Facts<'_>, counts: &Counts) -> Condition {
    if let Some(limit) = facts.pipeline_timed_out {
        return Condition::pipeline_timeout(facts.name, limit);
    }
    if let Some(limit) = facts.tasks_timed_out {
        if facts.finally_done {
            return Condition::tasks_timeout(facts.name, limit);
        }
    }
    if counts.incomplete == 0 {
        return finished(facts, counts);
    }
    in_progress(facts, counts)
}

/// The final condition once no task is incomplete.
fn finished(facts: &Facts<'_>, c: &Counts) -> Condition {
    let failed = if c.ignored_failed > 0 {
        format!(
            "{} (Ignored: {})",
            c.failed + c.ignored_failed,
            c.ignored_failed
        )
    } else {
        c.failed.to_string()
    };
    let mut message = format!(
        "Tasks Completed: {} (Failed: {failed}, Cancelled {}), Skipped: {}",
        c.completed(),
        c.cancelled,
        c.skipped
    );
    if c.validation_failed > 0 {
        message.push_str(&format!(
            ", Failed Validation: {} ({})",
            c.validation_failed,
            validation_detail(&facts.validation_errors)
        ));
    }
    let (status, reason) = if c.validation_failed > 0 {
        (ConditionStatus::False, RunReason::PipelineValidationFailed)
    } else if c.failed > 0 || c.skipped_due_to_timeout > 0 {
        (ConditionStatus::False, RunReason::Failed)
    } else if facts.spec_status.is_graceful() {
        return Condition::cancelled(facts.name);
    } else if c.cancelled > 0 {
        (ConditionStatus::False, RunReason::Cancelled)
    } else if c.skipped > 0 {
        (ConditionStatus::True, RunReason::Completed)
    } else {
        (ConditionStatus::True, RunReason::Succeeded)
    };
    Condition {
        status,
        reason,
        message,
    }
}

/// Validation errors ordered by task name, joined, cut at Tekton's limit.
fn validation_detail(errors: &[(&str, &str)]) -> String {
    let mut sorted = errors.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let joined = sorted
        .iter()
        .map(|(_, message)| *message)
        .collect::<Vec<_>>()
        .join("; ");
    if joined.len() <= MAX_VALIDATION_DETAIL {
        return joined;
    }
    // Cut on a character boundary so a multi-byte name never splits.
    let mut end = MAX_VALIDATION_DETAIL;
    while !joined.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &joined[..end])
}

/// The `Unknown` condition while tasks are incomplete.
fn in_progress(facts: &Facts<'_>, c: &Counts) -> Condition {
    let reason = if facts.tasks_timed_out.is_some() {
        RunReason::PipelineRunTimeoutRunningFinally
    } else if facts.spec_status == SpecStatus::CancelledRunFinally {
        RunReason::CancelledRunningFinally
    } else if facts.spec_status == SpecStatus::StoppedRunFinally {
        RunReason::StoppedRunningFinally
    } else if c.cancelled > 0 || (c.failed > 0 && facts.finally_done) {
        RunReason::PipelineRunStopping
    } else {
        RunReason::Running
    };
    Condition {
        status: ConditionStatus::Unknown,
        reason,
        message: format!(
            "Tasks Completed: {} (Failed: {}, Cancelled {}), Incomplete: {}, Skipped: {}",
            c.completed(),
            c.failed,
            c.cancelled,
            c.incomplete,
            c.skipped
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::state::SkipReason;

    fn facts(name: &str) -> Facts<'_> {
        Facts {
            name,
            spec_status: SpecStatus::None,
            pipeline_timed_out: None,
            tasks_timed_out: None,
            finally_done: true,
            validation_errors: Vec::new(),
        }
    }

    #[test]
    fn ignored_failures_are_spelled_out_and_the_run_still_succeeds() {
        let states = [
            PipelineTaskState::Succeeded,
            PipelineTaskState::Failed {
                reason: "FailureIgnored".into(),
                ignored: true,
            },
        ];
        let c = compute(&facts("pr"), &Counts::of(&states));
        assert_eq!(c.status.as_str(), "True");
        assert_eq!(c.reason.as_str(), "Succeeded");
        assert_eq!(
            c.message,
            "Tasks Completed: 2 (Failed: 1 (Ignored: 1), Cancelled 0), Skipped: 0"
        );
    }

    #[test]
    fn a_timeout_skip_fails_a_finished_run() {
        let states = [
            PipelineTaskState::Succeeded,
            PipelineTaskState::Skipped {
                reason: SkipReason::FinallyTimeout,
            },
        ];
        let c = compute(&facts("pr"), &Counts::of(&states));
        assert_eq!(c.reason, RunReason::Failed);
        assert_eq!(
            c.message,
            "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 1"
        );
    }

    #[test]
    fn long_validation_details_are_cut() {
        let long = "x".repeat(2000);
        let mut f = facts("pr");
        f.validation_errors = vec![("b", long.as_str()), ("a", "first")];
        let states = [
            PipelineTaskState::ValidationFailed {
                message: "first".into(),
            },
            PipelineTaskState::ValidationFailed {
                message: long.clone(),
            },
        ];
        let c = compute(&f, &Counts::of(&states));
        assert_eq!(c.reason, RunReason::PipelineValidationFailed);
        let detail = format!("first; {}", "x".repeat(1024 - "first; ".len()));
        assert_eq!(
            c.message,
            format!(
                "Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0, \
                 Failed Validation: 2 ({detail}...)"
            )
        );
    }
}
