//! Pipelines in pipelines: a pipeline task with `pipelineSpec`/`pipelineRef` runs as a child
//! PipelineRun `<run>-<task>`, driven by a child [`Driver`] inside its parent's loop with the
//! same executor; when the child ends, its pipeline task takes its outcome and its pipeline
//! results.
//!
//! # Invariants
//!
//! - The child takes its per-task settings (`taskRunTemplate`, `taskRunSpecs`) and the
//!   driver's options (tick, progress, interrupt, keep, workspace base, cluster) from its
//!   parent.
//! - Its TaskRuns know the path of pipeline tasks that runs them
//!   ([`TaskRunRequest::parent_tasks`](super::TaskRunRequest::parent_tasks)), which
//!   `--break-before` names nested steps by.
//! - Its workspaces are the parent's bindings its pipeline task maps, with the task's
//!   `subPath` appended.

use super::driver::Driver;
use super::error::RunError;
use super::executor::{ChildPipelineRun, ExecEvent, ExecOutcome, Executor};
use super::outcome::{ChildKind, ChildReference, RunOutcome};
use super::progress::Progress;
use super::request::no_task;
use crate::api::pipeline::PipelineTask;
use crate::api::{Param, PipelineRun};
use crate::plan::lookup::find_pipeline;
use crate::reconcile::{CancelCause, OnError, PipelineTaskState, Timestamp};

impl<'b> Driver<'b> {
    /// Starts a pipeline task that runs a Pipeline (`pipelineSpec`/`pipelineRef`) as a child
    /// PipelineRun named `<run>-<task>`, driven by this loop with the same executor.
    pub(super) fn start_child_pipeline(
        &mut self,
        task: &str,
        finally: bool,
        now: Timestamp,
        executor: &mut dyn Executor,
    ) -> Result<(), RunError> {
        let Some(tracked) = self.all().find(|t| t.pt.name == task) else {
            return Ok(());
        };
        let pt: &'b PipelineTask = tracked.pt;
        let name = tracked.task_run.clone();
        let (spec, pipeline_name) = match (&pt.pipeline_spec, &pt.pipeline_ref) {
            (Some(spec), _) => (&**spec, None),
            (None, Some(r)) => {
                let (spec, found) = find_pipeline(self.bundle, r)?;
                (spec, Some(found))
            }
            (None, None) => return Err(no_task(pt).into()),
        };
        let statuses = self.statuses();
        let values = self.values(&statuses);
        // The child binds its Pipeline's workspaces to the parent's bindings they map to.
        let mut parent_bindings = Vec::new();
        let bindings = pt
            .workspaces
            .iter()
            .filter_map(|w| {
                let parent = w.workspace.as_deref().unwrap_or(&w.name);
                let mut b = self.bindings.iter().find(|b| b.name == parent)?.clone();
                parent_bindings.push((w.name.clone(), b.clone()));
                b.name = w.name.clone();
                if let Some(sub) = &w.sub_path {
                    let sub = values.subst(sub);
                    b.sub_path = Some(match &b.sub_path {
                        Some(base) => format!("{base}/{sub}"),
                        None => sub,
                    });
                }
                Some(b)
            })
            .collect();
        let mut run = PipelineRun::default();
        run.metadata.name = Some(name.clone());
        run.metadata.namespace = Some(self.namespace.clone());
        run.spec.params = pt
            .params
            .iter()
            .map(|p| Param {
                name: p.name.clone(),
                value: values.value(&p.value),
            })
            .collect();
        run.spec.workspaces = bindings;
        if let Some(t) = &pt.timeout {
            run.spec.timeouts = Some(crate::api::run::Timeouts {
                pipeline: Some(t.clone()),
                ..Default::default()
            });
        }
        let elsewhere = ChildPipelineRun {
            run: PipelineRun {
                spec: crate::api::run::PipelineRunSpec {
                    pipeline_ref: pt.pipeline_ref.clone(),
                    pipeline_spec: pt.pipeline_spec.as_deref().cloned(),
                    ..run.spec.clone()
                },
                ..run.clone()
            },
            pipeline_task: task.to_owned(),
            parent_bindings,
        };
        if let Some(started) = executor.start_pipeline_run(&elsewhere) {
            started?;
            self.remote.insert(name.clone(), task.to_owned());
            self.started_child_pipeline(task, &name, finally, now);
            return Ok(());
        }
        let mut child = Driver::build(
            self.bundle,
            self.pr,
            &run,
            spec,
            pipeline_name,
            self.cluster,
        )?
        .with_tick(self.tick)
        .with_progress(self.progress.clone())
        .with_interrupt(self.interrupt.clone())
        .with_keep(self.keep)
        .with_workspace_base(self.workspace_base.clone());
        child.parent_tasks = self
            .parent_tasks
            .iter()
            .cloned()
            .chain([task.to_owned()])
            .collect();
        self.nested.insert(task.to_owned(), Box::new(child));
        self.started_child_pipeline(task, &name, finally, now);
        Ok(())
    }

    /// Records that pipeline task `task` runs as the child PipelineRun `name`.
    fn started_child_pipeline(&mut self, task: &str, name: &str, finally: bool, now: Timestamp) {
        self.children.push(ChildReference {
            name: name.to_owned(),
            pipeline_task: task.to_owned(),
            kind: ChildKind::PipelineRun,
        });
        if let Some(t) = self.find_mut(task) {
            t.state = PipelineTaskState::Running { started: now };
        }
        self.progress.send(Progress::TaskStarted {
            task: task.to_owned(),
            task_run: name.to_owned(),
            finally,
            steps: Vec::new(),
        });
    }

    /// A child PipelineRun ended: its pipeline task takes its outcome and its results.
    pub(super) fn finish_child_pipeline(&mut self, task: &str, outcome: RunOutcome) {
        let c = &outcome.condition;
        let succeeded = c.status == crate::reconcile::ConditionStatus::True;
        let results = outcome
            .pipeline_results
            .results
            .into_iter()
            .map(|r| (r.name, r.value))
            .collect();
        self.finish_pipeline_task(task, succeeded, c.reason.as_str(), &c.message, results);
    }

    /// Events that end child PipelineRuns run elsewhere (see
    /// [`Executor::start_pipeline_run`]) finish their pipeline tasks; the others are returned.
    pub(super) fn record_remote(&mut self, events: Vec<ExecEvent>) -> Vec<ExecEvent> {
        let mut rest = Vec::new();
        for event in events {
            let Some(task) = self.remote.remove(&event.task_run) else {
                rest.push(event);
                continue;
            };
            let (succeeded, reason, message) = match &event.outcome {
                ExecOutcome::Succeeded => (true, "Succeeded", event.report.message.as_str()),
                ExecOutcome::Cancelled => (false, "Cancelled", event.report.message.as_str()),
                ExecOutcome::Failed { reason, message }
                | ExecOutcome::EngineLost { reason, message } => {
                    (false, reason.as_str(), message.as_str())
                }
            };
            let (reason, message) = (reason.to_owned(), message.to_owned());
            self.finish_pipeline_task(&task, succeeded, &reason, &message, event.results);
        }
        rest
    }

    /// Pipeline task `task`, run as a child PipelineRun, ended with its `Succeeded`
    /// condition's reason and message, and its pipeline results.
    fn finish_pipeline_task(
        &mut self,
        task: &str,
        succeeded: bool,
        reason: &str,
        message: &str,
        results: Vec<(String, crate::api::ParamValue)>,
    ) {
        let Some(t) = self.find_mut(task) else {
            return;
        };
        t.state = match (succeeded, reason) {
            (true, _) => PipelineTaskState::Succeeded,
            (false, "Cancelled") => PipelineTaskState::Cancelled {
                cause: t.cancel.unwrap_or(CancelCause::Cancelled),
            },
            (false, reason) => PipelineTaskState::Failed {
                reason: reason.to_owned(),
                ignored: t.on_error == OnError::Continue,
            },
        };
        let state = t.state.clone();
        let task_run = t.task_run.clone();
        self.progress.send(Progress::TaskFinished {
            task: task.to_owned(),
            task_run,
            state,
            message: message.to_owned(),
        });
        self.produced
            .insert(task.to_owned(), results.into_iter().collect());
    }
}
