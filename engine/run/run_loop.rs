//! The loop of [`Driver::run`]: pass after pass, reconcile and apply, poll the executor and
//! record, until the run reaches a final condition. The loop and its invariants are
//! described in the [`run`](super) module doc.
//!
//! Each pass reads the latest `spec.status` (the one the run started with, or the one
//! [`Interrupt::set_spec_status`](super::Interrupt::set_spec_status) recorded last),
//! escalated by stop requests, and advances the child PipelineRuns after their parent.

use super::clock::Clock;
use super::driver::{Driver, Tracked};
use super::error::RunError;
use super::executor::{ExecEvent, Executor};
use super::outcome::RunOutcome;
use super::progress::{Progress, RunKind};
use super::spec_status::{escalate, spec_status};
use super::volumes;
use super::wiring::Values;
use super::workspaces::{self, RunDirectory};
use crate::cel::CelError;
use crate::reconcile::{
    reconcile, Action, CancelCause, Condition, PipelineTaskState, ResultRef, RunReason, RunView,
    Step, TaskView, Timestamp,
};

impl<'b> Driver<'b> {
    /// Runs the loop until the PipelineRun reaches a final condition, reporting
    /// [`Progress::RunStarted`] first and [`Progress::RunFinished`] last.
    pub fn run(
        self,
        executor: &mut dyn Executor,
        clock: &mut dyn Clock,
    ) -> Result<RunOutcome, RunError> {
        let (run, progress) = (self.name.clone(), self.progress.clone());
        progress.send(Progress::RunStarted {
            run: run.clone(),
            kind: RunKind::PipelineRun,
        });
        let result = self.run_passes(executor, clock);
        progress.send(match &result {
            Ok(outcome) => Progress::RunFinished {
                run,
                status: outcome.condition.status,
                reason: outcome.condition.reason.as_str().to_owned(),
                message: outcome.condition.message.clone(),
            },
            Err(e) => Progress::run_error(run, e),
        });
        result
    }

    /// The loop itself: pass after pass until a final condition.
    fn run_passes(
        mut self,
        executor: &mut dyn Executor,
        clock: &mut dyn Clock,
    ) -> Result<RunOutcome, RunError> {
        volumes::host_path_policy(&self.host_paths, self.strict, &self.progress)?;
        // Before anything starts, as Tekton creates a run's PVCs: a full disk ends the run
        // with a status, not halfway through its tasks.
        if let Err(e) = self.ensure_run_dir() {
            let now = clock.now();
            self.start = Some(now);
            let condition = Condition {
                status: crate::reconcile::ConditionStatus::False,
                reason: RunReason::CouldntCreateWorkspacePVC,
                message: e.to_string(),
            };
            return Ok(self.outcome(condition, Some(now)));
        }
        let mut reported: Option<(Condition, usize, Option<Timestamp>)> = None;
        loop {
            let now = clock.now();
            let (step, decided) = match self.advance(now, executor) {
                Ok(advanced) => advanced,
                Err(e) => {
                    self.abort(executor);
                    return Err(e);
                }
            };
            let status = (
                step.condition.clone(),
                self.children.len(),
                self.finally_start,
            );
            if reported.as_ref() != Some(&status) {
                self.progress.send(Progress::RunStatus {
                    condition: step.condition.clone(),
                    children: self.children.clone(),
                    finally_start: self.finally_start,
                });
                reported = Some(status);
            }
            if step.is_done() {
                let events = executor.poll(clock.now());
                self.deliver(events, executor)?;
                return Ok(self.outcome(step.condition, Some(now)));
            }
            if step.condition.reason == RunReason::PipelineRunPending {
                return Ok(self.outcome(step.condition, None));
            }
            let events = executor.poll(now);
            if events.is_empty() && !decided {
                if !self.any_running() {
                    self.abort(executor);
                    return Err(RunError::Stalled(step.condition.message));
                }
                if !executor.wait(self.tick) {
                    clock.sleep(self.tick);
                }
            }
            if let Err(e) = self.deliver(events, executor) {
                self.abort(executor);
                return Err(e);
            }
            if self.stop_reason().is_some() && !self.any_running() {
                let now = clock.now();
                let condition = self.lost_condition(now)?;
                return Ok(self.outcome(condition, Some(now)));
            }
        }
    }

    /// Why nothing more may start: the engine stopped, or a breakpoint halted the run
    /// ([`Interrupt::halt`](super::Interrupt::halt)).
    pub(super) fn stop_reason(&self) -> Option<String> {
        self.engine_lost.clone().or_else(|| self.interrupt.halted())
    }

    /// Whether a start must wait or never happen: the run is stopping, or a breakpoint's
    /// session holds starts ([`Interrupt::hold`](super::Interrupt::hold)).
    pub(super) fn starts_refused(&self) -> bool {
        self.stop_reason().is_some() || self.interrupt.held()
    }

    /// The final condition of a run whose engine stopped (or that a breakpoint halted):
    /// failed, saying why, with the tally of the tasks as they are now (what finished, what
    /// never started).
    fn lost_condition(&self, now: Timestamp) -> Result<Condition, RunError> {
        let tally = self.pass(now)?.condition.message;
        Ok(Condition {
            status: crate::reconcile::ConditionStatus::False,
            reason: RunReason::Failed,
            message: format!("{}; {tally}", self.stop_reason().unwrap_or_default()),
        })
    }

    /// Creates the run directory for shared workspaces and the bindings' directories in it,
    /// once, if a binding needs it.
    fn ensure_run_dir(&mut self) -> Result<(), RunError> {
        if !self.cluster
            && self.run_dir.is_none()
            && self.bindings.iter().any(workspaces::needs_run_directory)
        {
            let dir = RunDirectory::create(&self.workspace_base, &self.name, self.keep)
                .and_then(|dir| dir.prepare(&self.bindings).map(|()| dir))
                .map_err(|e| RunError::RunDirectory {
                    base: self.workspace_base.clone(),
                    message: e.to_string(),
                })?;
            self.run_dir = Some(dir);
        }
        Ok(())
    }

    /// One pass: reconcile and apply, then the same for every child PipelineRun, finishing
    /// the pipeline tasks whose child ended. Returns the pass and whether anything was decided.
    fn advance(
        &mut self,
        now: Timestamp,
        executor: &mut dyn Executor,
    ) -> Result<(Step, bool), RunError> {
        self.ensure_run_dir()?;
        let current = match self.interrupt.spec_status() {
            Some(status) => spec_status(status.as_deref()),
            None => self.initial_status,
        };
        self.spec_status = escalate(current, self.interrupt.count());
        let step = self.pass(now)?;
        if let Some(t) = step.start_time {
            self.start.get_or_insert(t);
        }
        if let Some(t) = step.finally_start {
            self.finally_start.get_or_insert(t);
        }
        self.apply(&step.actions, now, executor)?;
        let refused = self.starts_refused();
        let mut decided = step.actions.iter().any(|a| match a {
            Action::Cancel { .. } => false,
            // Refused once the engine is gone or a breakpoint holds them (see `apply`):
            // nothing changed.
            Action::Start { .. } | Action::StartFinally { .. } => !refused,
            _ => true,
        });
        let mut tasks: Vec<String> = self.nested.keys().cloned().collect();
        tasks.sort();
        for task in tasks {
            let Some(child) = self.nested.get_mut(&task) else {
                continue;
            };
            let (child_step, child_decided) = child.advance(now, executor)?;
            decided |= child_decided;
            let lost = child.stop_reason().is_some() && !child.any_running();
            if child_step.is_done() || lost {
                if let Some(child) = self.nested.remove(&task) {
                    let condition = if lost {
                        child.lost_condition(now)?
                    } else {
                        child_step.condition
                    };
                    let outcome = child.outcome(condition, Some(now));
                    if self.engine_lost.is_none() {
                        self.engine_lost.clone_from(&outcome.engine_lost);
                    }
                    self.finish_child_pipeline(&task, outcome);
                    decided = true;
                }
            }
        }
        Ok((step, decided))
    }

    /// Records finished TaskRuns of this run, then of its child PipelineRuns; returns the
    /// events none of them knew.
    fn deliver(
        &mut self,
        events: Vec<ExecEvent>,
        executor: &mut dyn Executor,
    ) -> Result<Vec<ExecEvent>, RunError> {
        let events = self.record_remote(events);
        let mut rest = self.record(events, executor)?;
        for child in self.nested.values_mut() {
            if rest.is_empty() {
                break;
            }
            rest = child.deliver(rest, executor)?;
        }
        Ok(rest)
    }

    /// One reconcile pass over the recorded states.
    fn pass(&self, now: Timestamp) -> Result<Step, RunError> {
        let statuses = self.statuses();
        let values = self.values(&statuses);
        // The views borrow these, so they are built first and live for the whole pass.
        let dag_consumes = result_refs(&self.tasks);
        let fin_consumes = result_refs(&self.finally);
        let dag_produced = self.produced_names(&self.tasks);
        let fin_produced = self.produced_names(&self.finally);
        let mut cel_error = None;
        let dag_views = task_views(
            &self.tasks,
            &dag_consumes,
            &dag_produced,
            &values,
            &mut cel_error,
        );
        let fin_views = task_views(
            &self.finally,
            &fin_consumes,
            &fin_produced,
            &values,
            &mut cel_error,
        );
        let mut view = RunView::new(&self.name, &self.dag, &dag_views, &fin_views)?
            .with_spec_status(self.spec_status)
            .with_timeouts(self.timeouts);
        if let Some(e) = cel_error {
            view = view.with_cel_error(e.to_string());
        }
        if let Some(start) = self.start {
            view = view.with_start(start);
        }
        if let Some(finally_start) = self.finally_start {
            view = view.with_finally_start(finally_start);
        }
        Ok(reconcile(&view, now))
    }

    /// The result names each task emitted, in task order.
    fn produced_names<'a>(&'a self, tasks: &[Tracked<'_>]) -> Vec<Vec<&'a str>> {
        tasks
            .iter()
            .map(|t| {
                self.produced
                    .get(&t.pt.name)
                    .map(|rs| rs.iter().map(|(n, _)| n.as_str()).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Best effort after an error: ask every running child to stop, so nothing is left behind.
    fn abort(&mut self, executor: &mut dyn Executor) {
        for child in self.nested.values_mut() {
            child.abort(executor);
        }
        for name in self.remote.keys() {
            let _ = executor.cancel(name, CancelCause::Cancelled.message());
        }
        for t in self.tasks.iter_mut().chain(self.finally.iter_mut()) {
            if matches!(t.state, PipelineTaskState::Running { .. }) && t.cancel.is_none() {
                for c in t
                    .children
                    .iter()
                    .filter(|c| c.done.is_none() && c.attempts > 0)
                {
                    // The first error is the one reported; a failing cancel adds nothing to it.
                    let _ = executor.cancel(&c.name, CancelCause::Cancelled.message());
                }
                t.cancel = Some(CancelCause::Cancelled);
            }
        }
    }
}

/// The results each task consumes, as reconcile's view borrows them.
fn result_refs<'a>(tasks: &'a [Tracked<'_>]) -> Vec<Vec<ResultRef<'a>>> {
    tasks
        .iter()
        .map(|t| {
            t.consumes
                .iter()
                .map(|(task, result)| ResultRef { task, result })
                .collect()
        })
        .collect()
}

/// The tasks as reconcile sees them; the first CEL failure of a not-started task goes to
/// `cel_error` (Tekton evaluates every task's CEL on every pass, before scheduling).
fn task_views<'a>(
    tasks: &'a [Tracked<'_>],
    consumes: &'a [Vec<ResultRef<'a>>],
    produced: &'a [Vec<&'a str>],
    values: &Values<'_>,
    cel_error: &mut Option<CelError>,
) -> Vec<TaskView<'a>> {
    tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            // Only read by reconcile once the parents are done, when their results are known.
            let when = t.state != PipelineTaskState::NotStarted
                || values.when_holds(&t.pt.when).unwrap_or_else(|e| {
                    cel_error.get_or_insert(e);
                    false
                });
            TaskView {
                name: &t.pt.name,
                state: t.state.clone(),
                on_error: t.on_error,
                when,
                consumes: &consumes[i],
                produced: &produced[i],
            }
        })
        .collect()
}
