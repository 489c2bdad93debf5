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
//! - Its workspaces are the parent's bindings its pipeline task maps, with the task's
//!   `subPath` appended.

use super::driver::Driver;
use super::error::RunError;
use super::outcome::{ChildKind, ChildReference, RunOutcome};
use super::progress::Progress;
use super::request::no_task;
use crate::api::pipeline::PipelineTask;
use crate::api::{Param, PipelineRun};
use crate::plan::pipeline::find_pipeline;
use crate::reconcile::{CancelCause, OnError, PipelineTaskState, RunReason, Timestamp};

impl<'b> Driver<'b> {
    /// Starts a pipeline task that runs a Pipeline (`pipelineSpec`/`pipelineRef`) as a child
    /// PipelineRun named `<run>-<task>`, driven by this loop with the same executor.
    pub(super) fn start_child_pipeline(
        &mut self,
        task: &str,
        finally: bool,
        now: Timestamp,
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
        let bindings = pt
            .workspaces
            .iter()
            .filter_map(|w| {
                let parent = w.workspace.as_deref().unwrap_or(&w.name);
                let mut b = self.bindings.iter().find(|b| b.name == parent)?.clone();
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
        let child = Driver::build(
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
        self.nested.insert(task.to_owned(), Box::new(child));
        self.children.push(ChildReference {
            name: name.clone(),
            pipeline_task: task.to_owned(),
            kind: ChildKind::PipelineRun,
        });
        if let Some(t) = self.find_mut(task) {
            t.state = PipelineTaskState::Running { started: now };
        }
        self.progress.send(Progress::TaskStarted {
            task: task.to_owned(),
            task_run: name,
            finally,
            steps: Vec::new(),
        });
        Ok(())
    }

    /// A child PipelineRun ended: its pipeline task takes its outcome and its results.
    pub(super) fn finish_child_pipeline(&mut self, task: &str, outcome: RunOutcome) {
        let Some(t) = self.find_mut(task) else {
            return;
        };
        let c = &outcome.condition;
        t.state = match (c.status, c.reason) {
            (crate::reconcile::ConditionStatus::True, _) => PipelineTaskState::Succeeded,
            (_, RunReason::Cancelled) => PipelineTaskState::Cancelled {
                cause: t.cancel.unwrap_or(CancelCause::Cancelled),
            },
            (_, reason) => PipelineTaskState::Failed {
                reason: reason.as_str().to_owned(),
                ignored: t.on_error == OnError::Continue,
            },
        };
        let state = t.state.clone();
        let task_run = t.task_run.clone();
        self.progress.send(Progress::TaskFinished {
            task: task.to_owned(),
            task_run,
            state,
            message: c.message.clone(),
        });
        let results = outcome
            .pipeline_results
            .results
            .into_iter()
            .map(|r| (r.name, r.value))
            .collect();
        self.produced.insert(task.to_owned(), results);
    }
}
