//! Recording executor events as task states: a failed attempt with retries left starts
//! again (the failed one kept for `retriesStatus`), and a pipeline task changes once all its
//! TaskRuns are done, a matrix aggregating their results.
//!
//! # Invariants
//!
//! - Only a `Running` task changes; a repeated event, or one for a TaskRun already done, is
//!   ignored.
//! - Events this run does not know are returned, for its child PipelineRuns.
//! - Only a `Failed` attempt is retried, and not once a cancel was sent; an engine fault
//!   (`EngineLost`) is never retried, nor ignored by `onError: continue`.

use super::driver::Driver;
use super::error::RunError;
use super::executor::{ExecEvent, ExecOutcome, Executor};
use super::progress::Progress;
use crate::reconcile::results::{aggregate_matrix, MatrixRun, RunOutcome as MatrixOutcome};
use crate::reconcile::{CancelCause, OnError, PipelineTaskState};

impl<'b> Driver<'b> {
    /// Records finished TaskRuns: a failed attempt with retries left is started again; a
    /// task changes once all its TaskRuns are done. Only a `Running` task changes.
    pub(super) fn record(
        &mut self,
        events: Vec<ExecEvent>,
        executor: &mut dyn Executor,
    ) -> Result<Vec<ExecEvent>, RunError> {
        let mut unknown = Vec::new();
        let halted = self.interrupt.halted();
        for event in events {
            let Some(t) = self
                .tasks
                .iter_mut()
                .chain(self.finally.iter_mut())
                .find(|t| t.children.iter().any(|c| c.name == event.task_run))
            else {
                unknown.push(event);
                continue;
            };
            if !matches!(t.state, PipelineTaskState::Running { .. }) {
                continue;
            }
            let task = t.pt.name.clone();
            let finally = self.finally.iter().any(|f| f.pt.name == task);
            if let ExecOutcome::EngineLost { message, .. } = &event.outcome {
                self.engine_lost.get_or_insert_with(|| message.clone());
            }
            let Some(t) = self.find_mut(&task) else {
                continue;
            };
            // An engine fault is not retried: the next attempt would meet the same engine.
            // Nor is a failure once a breakpoint halted the run.
            let retry = matches!(event.outcome, ExecOutcome::Failed { .. })
                && t.cancel.is_none()
                && halted.is_none();
            let retries = t.retries;
            let Some(child) = t
                .children
                .iter_mut()
                .find(|c| c.name == event.task_run && c.done.is_none())
            else {
                continue;
            };
            if retry && child.attempts <= retries {
                // Tekton archives the failed attempt in `retriesStatus` and starts it again.
                let child = child.clone();
                if let ExecOutcome::Failed { reason, message } = &event.outcome {
                    self.progress.send(Progress::TaskRetried {
                        task: child.label.clone(),
                        task_run: event.task_run.clone(),
                        attempt: child.attempts + 1,
                        reason: reason.clone(),
                        message: message.clone(),
                    });
                }
                if let Some(r) = self
                    .records
                    .iter_mut()
                    .find(|r| r.request.name == event.task_run)
                {
                    r.retries.push(event);
                }
                self.launch(&task, &child, finally, executor)?;
                continue;
            }
            child.done = Some((event.outcome.clone(), event.results.clone()));
            let label = child.label.clone();
            let matrixed = !child.combination.is_empty() || t.children.len() > 1;
            let message = event.report.message.clone();
            let state = single_state(&event.outcome, t.on_error, t.cancel);
            for (name, value) in &event.results {
                self.progress.send(Progress::TaskResult {
                    task: label.clone(),
                    task_run: event.task_run.clone(),
                    name: name.clone(),
                    value: value.clone(),
                });
            }
            if matrixed {
                self.progress.send(Progress::TaskFinished {
                    task: label,
                    task_run: event.task_run.clone(),
                    state,
                    message: message.clone(),
                });
            }
            if let Some(a) = &event.report.artifacts {
                self.artifacts.insert(task.clone(), a.clone());
            }
            if let Some(r) = self
                .records
                .iter_mut()
                .find(|r| r.request.name == event.task_run)
            {
                r.event = Some(event);
            }
            self.finish_task(&task, matrixed, &message);
        }
        Ok(unknown)
    }

    /// Once every TaskRun of `task` is done: its state and results.
    fn finish_task(&mut self, task: &str, matrixed: bool, message: &str) {
        let Some(t) = self.find_mut(task) else {
            return;
        };
        if t.children.iter().any(|c| c.done.is_none()) {
            return;
        }
        let (state, results) = if matrixed {
            let runs: Vec<MatrixRun> = t
                .children
                .iter()
                .filter_map(|c| {
                    let (outcome, results) = c.done.as_ref()?;
                    let o = match outcome {
                        ExecOutcome::Succeeded => MatrixOutcome::Succeeded,
                        _ => MatrixOutcome::Failed,
                    };
                    Some((c.name.clone(), o, results.clone()))
                })
                .collect();
            let aggregate = aggregate_matrix(&runs);
            let first_bad = t.children.iter().find_map(|c| match &c.done {
                Some((ExecOutcome::Succeeded, _)) | None => None,
                Some((outcome, _)) => Some(outcome.clone()),
            });
            let state = match first_bad {
                None => PipelineTaskState::Succeeded,
                Some(outcome) => single_state(&outcome, t.on_error, t.cancel),
            };
            (state, aggregate.results)
        } else {
            let Some((outcome, results)) = t.children.first().and_then(|c| c.done.clone()) else {
                return;
            };
            (single_state(&outcome, t.on_error, t.cancel), results)
        };
        t.state = state.clone();
        let task_run = t.task_run.clone();
        self.progress.send(Progress::TaskFinished {
            task: task.to_owned(),
            task_run,
            state,
            message: if matrixed {
                String::new()
            } else {
                message.to_owned()
            },
        });
        self.produced.insert(task.to_owned(), results);
    }
}

/// A pipeline task's state from one TaskRun's outcome.
fn single_state(
    outcome: &ExecOutcome,
    on_error: OnError,
    cancel: Option<CancelCause>,
) -> PipelineTaskState {
    match outcome {
        ExecOutcome::Succeeded => PipelineTaskState::Succeeded,
        ExecOutcome::Failed { reason, .. } => PipelineTaskState::Failed {
            reason: reason.clone(),
            ignored: on_error == OnError::Continue,
        },
        // The engine's fault is never ignored: the run cannot go on without it.
        ExecOutcome::EngineLost { reason, .. } => PipelineTaskState::Failed {
            reason: reason.clone(),
            ignored: false,
        },
        // A child cancelled without our asking (by hand, by the engine) counts as a user
        // cancel, as Tekton does.
        ExecOutcome::Cancelled => PipelineTaskState::Cancelled {
            cause: cancel.unwrap_or(CancelCause::Cancelled),
        },
    }
}
