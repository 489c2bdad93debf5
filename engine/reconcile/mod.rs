//! The PipelineRun state machine: given what the run's children are doing and the time, decide
//! what to do next and what the run's condition is.
//!
//! # Design
//!
//! [`reconcile`] is a pure function of a [`RunView`] and `now`: no I/O, no clock, no hidden
//! state. The driver (local runner, Kubernetes executor, controller) observes its children,
//! builds a view, applies the returned [`Action`]s, records the matching task states and calls
//! again. Because every decision is recomputed from the view, the function is idempotent: a
//! pass over an unchanged view returns the same actions (cancels of still-running children are
//! repeated on purpose, so a crashed driver re-sends them), and a finished run yields no new
//! `Start`, `StartFinally` or `Skip`.
//!
//! Facts that need substitution or I/O stay with the caller: whether a task's when-expressions
//! hold ([`TaskView::when`], read only once its parents are done), which results each task
//! references and which it emitted, and the DAG itself (built with [`crate::dag::Dag::build`]
//! from the same dependencies `plan` uses).
//!
//! # Order of a pass (§4.13)
//!
//! 1. `spec.status: Cancelled` → cancel every running child, `False/Cancelled`; nothing else.
//! 2. `PipelineRunPending` → `Unknown/PipelineRunPending`; nothing started, no start time.
//!    A CEL when-expression that failed ([`RunView::with_cel_error`]) → cancel every running
//!    child, `False/CELEvaluationFailed`; nothing else.
//! 3. Pipeline timeout → cancel every running child, skip every unstarted task,
//!    `False/PipelineRunTimeout`; finally never runs.
//! 4. DAG tasks in topological order: the skip list of §4.15, result validation, starts; then
//!    cancels for the tasks timeout or `CancelledRunFinally`.
//! 5. Once every DAG task is done: finally (start time recorded once, timeout, skips, starts).
//! 6. The condition of §4.21 over the states with this pass's decisions applied.
//!
//! # Invariants
//!
//! - A task is started, skipped or failed at most once: only `NotStarted` tasks are decided.
//! - Running DAG tasks are never cancelled because the pipeline is stopping; only a hard or
//!   graceful cancel and a timeout cancel children.
//! - Finally never starts after a hard cancel or the pipeline timeout, and only once every DAG
//!   task is done; `finally_start` is returned only on the pass that first schedules finally.
//! - No panics on any view [`RunView::new`] accepts.
//!
//! # Elsewhere, on purpose
//!
//! This module decides one pass; the driver ([`crate::run`]) keeps what passes share: it
//! fans matrix tasks out and folds their TaskRuns into one task state
//! ([`results::aggregate_matrix`]), counts retry attempts, wires pipeline results
//! ([`results::pipeline_results`]) into the final condition, and has executors report TaskRun
//! states through [`task_run::evaluate`].
//!
//! # Not yet
//!
//! - `PipelineRunCouldntCancel`/`CouldntTimeOut`, the "timed out for 2× timeout" shortcut, and
//!   lowering `startTime` to the earliest child.

mod action;
mod condition;
pub mod results;
mod schedule;
mod state;
pub mod task_run;
mod view;

#[cfg(test)]
mod tests;

pub use action::{Action, Step};
pub use condition::{Condition, ConditionStatus, Counts, RunReason};
pub use state::{
    CancelCause, OnError, PipelineTaskState, SkipReason, SpecStatus, Timeouts, Timestamp,
};
pub use view::{ResultRef, RunView, TaskView, ViewError};

use schedule::Pass;

/// Decides one pass over a PipelineRun at time `now`.
pub fn reconcile(view: &RunView<'_>, now: Timestamp) -> Step {
    if view.spec_status == SpecStatus::Pending {
        return Step {
            actions: Vec::new(),
            condition: Condition::pending(view.name),
            start_time: None,
            finally_start: None,
        };
    }
    let start_time = view.start.is_none().then_some(now);
    let start = view.start.unwrap_or(now);
    let mut pass = Pass::new(view, now);

    if view.spec_status == SpecStatus::Cancelled {
        pass.cancel_running(CancelCause::Cancelled);
        return Step {
            actions: pass.into_actions(),
            condition: Condition::cancelled(view.name),
            start_time,
            finally_start: None,
        };
    }

    if let Some(error) = &view.cel_error {
        // Tekton marks the run failed and schedules nothing more; adze also stops what runs,
        // so no container outlives the finished run.
        pass.cancel_running(CancelCause::Cancelled);
        return Step {
            actions: pass.into_actions(),
            condition: Condition::cel_failed(view.name, error),
            start_time,
            finally_start: None,
        };
    }

    let pipeline_timed_out = view
        .timeouts
        .pipeline_limit()
        .filter(|&limit| start.exceeded(limit, now));
    if pipeline_timed_out.is_some() {
        pass.cancel_running(CancelCause::TimedOut);
        pass.skip_unstarted(SkipReason::PipelineTimeout);
        let condition = pass.condition(pipeline_timed_out, None);
        return Step {
            actions: pass.into_actions(),
            condition,
            start_time,
            finally_start: None,
        };
    }

    let tasks_timed_out = view
        .timeouts
        .tasks_limit()
        .filter(|&limit| start.exceeded(limit, now));
    pass.schedule_dag(tasks_timed_out.is_some());
    if tasks_timed_out.is_some() {
        pass.cancel_running_dag(CancelCause::TimedOut);
    } else if view.spec_status == SpecStatus::CancelledRunFinally {
        pass.cancel_running_dag(CancelCause::Cancelled);
    }

    let mut finally_start = None;
    if pass.dag_done() && !view.finally.is_empty() {
        let begun = view.finally_start.unwrap_or(now);
        if view.finally_start.is_none() {
            finally_start = Some(now);
        }
        let finally_timed_out = view
            .timeouts
            .finally_limit()
            .is_some_and(|limit| begun.exceeded(limit, now));
        pass.schedule_finally(finally_timed_out);
    }

    let condition = pass.condition(None, tasks_timed_out);
    Step {
        actions: pass.into_actions(),
        condition,
        start_time,
        finally_start,
    }
}
