//! One scheduling pass: skips, validation failures, starts, cancels and finally (§4.14–§4.20).

use super::action::Action;
use super::condition::{self, Condition, Counts, Facts};
use super::state::{CancelCause, OnError, PipelineTaskState, SkipReason, SpecStatus, Timestamp};
use super::view::{RunView, TaskView};
use crate::api::GoDuration;

/// What to do with one not-started task this pass.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    /// Its parents are not done yet.
    Wait,
    /// Create it.
    Start,
    /// Record it as skipped.
    Skip(SkipReason),
    /// Record it as validation-failed.
    FailValidation(String),
}

/// Whether the results a task references can be handed to it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Results {
    /// Every referenced result exists.
    Available,
    /// A producer has not finished (the caller's DAG lacks the edge); wait for it.
    NotYet,
    /// A result is unavailable in a way that skips the consumer.
    Missing,
    /// A result is unavailable in a way that fails the run (§4.14).
    Invalid(String),
}

/// The working state of a pass: the caller's states with this pass's decisions applied.
pub(super) struct Pass<'v, 'a> {
    view: &'v RunView<'a>,
    now: Timestamp,
    dag: Vec<PipelineTaskState>,
    finally: Vec<PipelineTaskState>,
    /// Some DAG task failed without `onError: continue` (Tekton's `IsStopping`).
    stopping: bool,
    actions: Vec<Action>,
}

impl<'v, 'a> Pass<'v, 'a> {
    /// Starts a pass from the caller's states.
    pub(super) fn new(view: &'v RunView<'a>, now: Timestamp) -> Pass<'v, 'a> {
        let dag: Vec<_> = view.tasks.iter().map(|t| t.state.clone()).collect();
        let stopping = dag.iter().any(PipelineTaskState::stops_pipeline);
        Pass {
            view,
            now,
            dag,
            finally: view.finally.iter().map(|t| t.state.clone()).collect(),
            stopping,
            actions: Vec::new(),
        }
    }

    /// The actions decided so far.
    pub(super) fn into_actions(self) -> Vec<Action> {
        self.actions
    }

    /// Cancels every running child, DAG and finally, for `cause`.
    pub(super) fn cancel_running(&mut self, cause: CancelCause) {
        let view = self.view;
        self.cancel_running_in(view.tasks.iter().chain(view.finally), cause);
    }

    /// Cancels every running DAG child for `cause`; finally tasks keep running.
    pub(super) fn cancel_running_dag(&mut self, cause: CancelCause) {
        let view = self.view;
        self.cancel_running_in(view.tasks.iter(), cause);
    }

    fn cancel_running_in<'t>(
        &mut self,
        tasks: impl Iterator<Item = &'t TaskView<'a>>,
        cause: CancelCause,
    ) where
        'a: 't,
    {
        for task in tasks {
            if matches!(task.state, PipelineTaskState::Running { .. }) {
                self.actions.push(Action::Cancel {
                    task: task.name.to_owned(),
                    cause,
                });
            }
        }
    }

    /// Skips every not-started task, DAG and finally, for `reason`.
    pub(super) fn skip_unstarted(&mut self, reason: SkipReason) {
        let view = self.view;
        for (i, task) in view.tasks.iter().enumerate() {
            self.skip_if_unstarted(Which::Dag(i), task, reason);
        }
        for (i, task) in view.finally.iter().enumerate() {
            self.skip_if_unstarted(Which::Finally(i), task, reason);
        }
    }

    fn skip_if_unstarted(&mut self, which: Which, task: &TaskView<'_>, reason: SkipReason) {
        let state = match which {
            Which::Dag(i) => &mut self.dag[i],
            Which::Finally(i) => &mut self.finally[i],
        };
        if *state == PipelineTaskState::NotStarted {
            *state = PipelineTaskState::Skipped { reason };
            self.actions.push(Action::Skip {
                task: task.name.to_owned(),
                reason,
            });
        }
    }

    /// Decides every not-started DAG task, cascading skips, then starts the ready ones.
    ///
    /// Skips and validation failures are repeated until nothing changes, because one can
    /// enable another earlier in topological order (a validation failure makes the pipeline
    /// stop, which skips tasks already judged ready); each round settles at least one task,
    /// so the loop ends. Only the final, stable round's ready tasks start, which is how
    /// "none of the batch starts when one fails validation" holds.
    pub(super) fn schedule_dag(&mut self, tasks_timed_out: bool) {
        let order = self.view.dag.topo_order();
        loop {
            let mut changed = false;
            let mut ready = Vec::new();
            for &i in &order {
                if self.dag[i] != PipelineTaskState::NotStarted {
                    continue;
                }
                let task = &self.view.tasks[i];
                match self.decide_dag(i, tasks_timed_out) {
                    Decision::Wait => {}
                    Decision::Start => ready.push(i),
                    Decision::Skip(reason) => {
                        changed = true;
                        self.dag[i] = PipelineTaskState::Skipped { reason };
                        self.actions.push(Action::Skip {
                            task: task.name.to_owned(),
                            reason,
                        });
                    }
                    Decision::FailValidation(message) => {
                        changed = true;
                        self.stopping = true;
                        self.dag[i] = PipelineTaskState::ValidationFailed {
                            message: message.clone(),
                        };
                        self.actions.push(Action::FailValidation {
                            task: task.name.to_owned(),
                            message,
                        });
                    }
                }
            }
            if !changed {
                for i in ready {
                    self.dag[i] = PipelineTaskState::Running { started: self.now };
                    self.actions.push(Action::Start {
                        task: self.view.tasks[i].name.to_owned(),
                    });
                }
                return;
            }
        }
    }

    /// The skip list of §4.15 in Tekton's order, then result validation, then readiness.
    fn decide_dag(&self, i: usize, tasks_timed_out: bool) -> Decision {
        if self.stopping {
            return Decision::Skip(SkipReason::Stopping);
        }
        match self.view.spec_status {
            SpecStatus::CancelledRunFinally => {
                return Decision::Skip(SkipReason::GracefullyCancelled)
            }
            SpecStatus::StoppedRunFinally => return Decision::Skip(SkipReason::GracefullyStopped),
            _ => {}
        }
        let task = &self.view.tasks[i];
        let parents = self.view.dag.parents(i);
        let parents_done = parents.iter().all(|&p| self.dag[p].is_done());
        if parents_done && !task.when {
            return Decision::Skip(SkipReason::WhenFalse);
        }
        // A when-skipped parent does not skip its dependents (when-expression scope, §4.15).
        let parent_skipped = parents.iter().any(|&p| {
            self.dag[p]
                .skip_reason()
                .is_some_and(|r| r != SkipReason::WhenFalse)
        });
        if parent_skipped {
            return Decision::Skip(SkipReason::ParentSkipped);
        }
        let results = if parents_done {
            self.dag_results(task)
        } else {
            Results::NotYet
        };
        if results == Results::Missing {
            return Decision::Skip(SkipReason::ResultsMissing);
        }
        if tasks_timed_out {
            return Decision::Skip(SkipReason::TasksTimeout);
        }
        match results {
            Results::Available => Decision::Start,
            Results::Invalid(message) => Decision::FailValidation(message),
            Results::NotYet | Results::Missing => Decision::Wait,
        }
    }

    /// Checks a DAG task's result references against the producers' emitted results.
    fn dag_results(&self, task: &TaskView<'_>) -> Results {
        for r in task.consumes {
            let Some(p) = self.view.dag.index_of(r.task) else {
                // Undeclared producers are rejected by validation before the first pass.
                continue;
            };
            let producer = &self.view.tasks[p];
            let state = &self.dag[p];
            if !state.is_done() {
                return Results::NotYet;
            }
            if state.skip_reason().is_some() {
                return Results::Missing;
            }
            if producer.emitted(r.result) {
                continue;
            }
            if task.on_error == OnError::Continue {
                return Results::Missing;
            }
            let message = if *state == PipelineTaskState::Succeeded {
                format!(
                    "task \"{}\" completed successfully but did not emit the result \"{}\", \
                     which is referenced by task \"{}\"",
                    r.task, r.result, task.name
                )
            } else {
                format!(
                    "Invalid task result reference: Could not find result with name {} \
                     for pipeline task {}",
                    r.result, r.task
                )
            };
            return Results::Invalid(message);
        }
        Results::Available
    }

    /// True once every DAG task is done, after this pass's decisions.
    pub(super) fn dag_done(&self) -> bool {
        self.dag.iter().all(PipelineTaskState::is_done)
    }

    /// Cancels running finally tasks when their timeout elapsed, and skips or starts the rest.
    pub(super) fn schedule_finally(&mut self, finally_timed_out: bool) {
        let view = self.view;
        for (i, task) in view.finally.iter().enumerate() {
            match self.finally[i] {
                PipelineTaskState::Running { .. } if finally_timed_out => {
                    self.actions.push(Action::Cancel {
                        task: task.name.to_owned(),
                        cause: CancelCause::TimedOut,
                    });
                }
                PipelineTaskState::NotStarted => {
                    let skip = if !self.finally_results_available(task) {
                        Some(SkipReason::ResultsMissing)
                    } else if !task.when {
                        Some(SkipReason::WhenFalse)
                    } else if finally_timed_out {
                        Some(SkipReason::FinallyTimeout)
                    } else {
                        None
                    };
                    match skip {
                        Some(reason) => self.skip_if_unstarted(Which::Finally(i), task, reason),
                        None => {
                            self.finally[i] = PipelineTaskState::Running { started: self.now };
                            self.actions.push(Action::StartFinally {
                                task: task.name.to_owned(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// A finally task's DAG result references all resolve (any miss skips it, §4.16).
    fn finally_results_available(&self, task: &TaskView<'_>) -> bool {
        task.consumes.iter().all(|r| {
            self.view
                .dag
                .index_of(r.task)
                .is_some_and(|p| self.view.tasks[p].emitted(r.result))
        })
    }

    /// The condition after this pass.
    pub(super) fn condition(
        &self,
        pipeline_timed_out: Option<GoDuration>,
        tasks_timed_out: Option<GoDuration>,
    ) -> Condition {
        let validation_errors = self
            .view
            .tasks
            .iter()
            .zip(&self.dag)
            .filter_map(|(task, state)| match state {
                PipelineTaskState::ValidationFailed { message } => {
                    Some((task.name, message.as_str()))
                }
                _ => None,
            })
            .collect();
        let facts = Facts {
            name: self.view.name,
            spec_status: self.view.spec_status,
            pipeline_timed_out,
            tasks_timed_out,
            finally_done: self.finally.iter().all(PipelineTaskState::is_done),
            validation_errors,
        };
        condition::compute(&facts, &Counts::of(self.dag.iter().chain(&self.finally)))
    }
}

/// Which task list an index points into.
#[derive(Debug, Clone, Copy)]
enum Which {
    Dag(usize),
    Finally(usize),
}
