//! Applying one pass's [`Action`]s: starting a pipeline task (one TaskRun, one per matrix
//! combination, or a child PipelineRun), sending cancels, recording skips and validation
//! failures.
//!
//! # Invariants
//!
//! - A task starts only from `NotStarted`, so a `Start` repeated by reconcile starts nothing
//!   twice.
//! - A cancel is sent once per TaskRun, with the first cause; reconcile repeats it every pass.
//! - Once the engine is lost or a breakpoint halted the run, and while a breakpoint's
//!   session holds starts, `Start` and `StartFinally` are ignored: the task stays not started
//!   (reconcile asks again on the next pass).
//! - A matrix without combinations skips its task (`EmptyMatrix`); no TaskRun starts.

use super::driver::{Child, Driver};
use super::error::RunError;
use super::executor::Executor;
use super::outcome::{ChildKind, ChildReference, TaskRunRecord};
use super::progress::Progress;
use crate::api::pipeline::PipelineTask;
use crate::plan::child_name;
use crate::plan::matrix::{combinations, Combination};
use crate::reconcile::{Action, PipelineTaskState, SkipReason, SpecStatus, Timestamp};

impl<'b> Driver<'b> {
    /// Applies one pass's actions in order.
    pub(super) fn apply(
        &mut self,
        actions: &[Action],
        now: Timestamp,
        executor: &mut dyn Executor,
    ) -> Result<(), RunError> {
        for action in actions {
            match action {
                // Without an engine a new TaskRun could only fail: it stays not started; so
                // does one a breakpoint stopped or holds.
                Action::Start { .. } | Action::StartFinally { .. } if self.starts_refused() => {}
                Action::Start { task } => self.start_task(task, false, now, executor)?,
                Action::StartFinally { task } => self.start_task(task, true, now, executor)?,
                Action::Cancel { task, cause } => {
                    if let Some(child) = self.nested.get_mut(task) {
                        // A child PipelineRun is cancelled as a whole, finally included.
                        child.initial_status = SpecStatus::Cancelled;
                    }
                    let remote = self
                        .remote
                        .iter()
                        .find(|(_, t)| *t == task)
                        .map(|(name, _)| name.clone());
                    if let Some(name) = remote {
                        if self.find_mut(task).is_some_and(|t| t.cancel.is_none()) {
                            executor.cancel(&name, cause.message())?;
                        }
                    }
                    if let Some(t) = self.find_mut(task) {
                        if t.cancel.is_none() {
                            t.cancel = Some(*cause);
                            for c in t
                                .children
                                .iter()
                                .filter(|c| c.done.is_none() && c.attempts > 0)
                            {
                                executor.cancel(&c.name, cause.message())?;
                            }
                        }
                    }
                }
                Action::Skip { task, reason } => {
                    if let Some(t) = self.find_mut(task) {
                        t.state = PipelineTaskState::Skipped { reason: *reason };
                    }
                    self.progress.send(Progress::TaskSkipped {
                        task: task.clone(),
                        reason: *reason,
                    });
                }
                Action::FailValidation { task, message } => {
                    if let Some(t) = self.find_mut(task) {
                        t.state = PipelineTaskState::ValidationFailed {
                            message: message.clone(),
                        };
                    }
                }
            }
        }
        Ok(())
    }

    /// Resolves the task's TaskRuns (one, or one per matrix combination) with the results
    /// produced so far and starts them.
    fn start_task(
        &mut self,
        task: &str,
        finally: bool,
        now: Timestamp,
        executor: &mut dyn Executor,
    ) -> Result<(), RunError> {
        let Some(tracked) = self.all().find(|t| t.pt.name == task) else {
            return Ok(());
        };
        if tracked.state != PipelineTaskState::NotStarted {
            return Ok(());
        }
        if tracked.pt.pipeline_spec.is_some() || tracked.pt.pipeline_ref.is_some() {
            return self.start_child_pipeline(task, finally, now, executor);
        }
        let children: Vec<Child> = match self.combinations(tracked.pt) {
            None => vec![Child {
                name: tracked.task_run.clone(),
                label: task.to_owned(),
                combination: Vec::new(),
                attempts: 0,
                done: None,
            }],
            Some(combos) => combos
                .into_iter()
                .enumerate()
                .map(|(i, combination)| Child {
                    name: child_name(&self.name, &format!("-{task}-{i}")),
                    label: format!("{task}[{i}]"),
                    combination,
                    attempts: 0,
                    done: None,
                })
                .collect(),
        };
        if children.is_empty() {
            let reason = SkipReason::EmptyMatrix;
            if let Some(t) = self.find_mut(task) {
                t.state = PipelineTaskState::Skipped { reason };
            }
            self.progress.send(Progress::TaskSkipped {
                task: task.to_owned(),
                reason,
            });
            return Ok(());
        }
        if let Some(t) = self.find_mut(task) {
            t.children = children.clone();
            t.state = PipelineTaskState::Running { started: now };
        }
        for child in &children {
            self.launch(task, child, finally, executor)?;
        }
        Ok(())
    }

    /// Starts one attempt of one child TaskRun.
    pub(super) fn launch(
        &mut self,
        task: &str,
        child: &Child,
        finally: bool,
        executor: &mut dyn Executor,
    ) -> Result<(), RunError> {
        let Some(tracked) = self.all().find(|t| t.pt.name == task) else {
            return Ok(());
        };
        let (request, spec) = self.request(tracked, child, finally)?;
        // Before the executor starts it, so every event about its steps comes after: the
        // executor reports from its own threads as soon as it is started.
        self.progress.send(Progress::TaskStarted {
            task: child.label.clone(),
            task_run: request.name.clone(),
            finally,
            steps: request.steps.iter().map(|s| s.name.clone()).collect(),
        });
        executor.start(&request)?;
        if let Some(c) = self
            .find_mut(task)
            .and_then(|t| t.children.iter_mut().find(|c| c.name == child.name))
        {
            c.attempts += 1;
        }
        if child.attempts == 0 {
            self.children.push(ChildReference {
                name: request.name.clone(),
                pipeline_task: request.pipeline_task.clone(),
                kind: ChildKind::TaskRun,
            });
            self.records.push(TaskRunRecord {
                request,
                spec,
                event: None,
                retries: Vec::new(),
            });
        } else if let Some(r) = self
            .records
            .iter_mut()
            .find(|r| r.request.name == request.name)
        {
            r.request = request;
            r.spec = spec;
        }
        Ok(())
    }

    /// The matrix combinations of a task, with results produced so far; `None` without one.
    fn combinations(&self, pt: &PipelineTask) -> Option<Vec<Combination>> {
        let m = pt.matrix.as_ref()?;
        let statuses = self.statuses();
        let scope = self.task_scope(pt);
        let values = self.values_in(&scope, &statuses);
        let axes: Vec<(String, Vec<String>)> = m
            .params
            .iter()
            .map(|p| {
                let value = values.value(&p.value);
                let items = value.strings().into_iter().map(str::to_owned).collect();
                (p.name.clone(), items)
            })
            .collect();
        let include: Vec<Combination> = m
            .include
            .iter()
            .map(|inc| {
                inc.params
                    .iter()
                    .map(|p| (p.name.clone(), values.value(&p.value).strings().join(",")))
                    .collect()
            })
            .collect();
        Some(combinations(&axes, &include))
    }
}
