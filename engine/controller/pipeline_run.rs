//! One PipelineRun reconciled: the driver's loop with its TaskRuns as child objects.
//!
//! # Design
//!
//! [`Driver::for_cluster`] decides, exactly as for `adze run`; its executor is
//! [`ChildTaskRuns`], so each TaskRun it starts is a child object the TaskRun side runs.
//! Everything the loop needs to resume is on the objects: the start and finally-start
//! times in the status, the children under their deterministic names (adopted on a 409),
//! and `spec.status`, whose changes reach the loop through its [`Interrupt`]. A controller
//! that restarts replays the run: finished children report at once, running ones are
//! followed, and nothing is created twice.
//!
//! While the run goes, each pass that changes its condition or starts a child is written as
//! it happens ([`Progress::RunStatus`] → [`pipeline_run_progress`]): `Running` with Tekton's
//! `Tasks Completed: … Incomplete: …` counts and the `childReferences` so far, so `kubectl
//! get` and Tekton's clients follow the run. The final status is written once those writes
//! are done, so a late one never replaces it.
//!
//! A pipeline task that runs a Pipeline (pipelines in pipelines) becomes a child
//! PipelineRun object `<run>-<task>`, owned by this one, which the controller reconciles as
//! any other; its pipeline results become the task's results.

use kube::api::DynamicObject;

use super::children::{ChildTaskRuns, Parent};
use super::context::{load_errors, start_time, Context, Ended};
use super::objects::{status_time, RunKey, RunKind};
use crate::api::Object;
use crate::plan::pipeline::resolve_pipeline;
use crate::run::{Driver, Interrupt, Progress, ProgressSink, RunError, SystemClock};
use crate::status::{pipeline_run_object, pipeline_run_progress, rfc3339, succeeded_condition};

/// How long the driver waits when nothing finished (its children are listed every 250 ms).
const TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs the PipelineRun `object` to its end (or until it is pending) and writes its status;
/// blocks.
pub fn reconcile(ctx: &Context, object: &DynamicObject, interrupt: Interrupt) -> Ended {
    let key = RunKey::of(RunKind::PipelineRun, object);
    let bundle = match ctx.bundle(&key, object) {
        Ok(bundle) => bundle,
        Err(ended) => return ended,
    };
    let pr = bundle.objects.iter().find_map(|o| match &o.object {
        Object::PipelineRun(pr) if pr.metadata.name.as_deref() == Some(key.name.as_str()) => {
            Some(pr.clone())
        }
        _ => None,
    });
    let Some(pr) = pr else {
        return ctx.fail(&key, "PipelineRunValidationFailed", &load_errors(&bundle));
    };
    let (spec, target) = match resolve_pipeline(&bundle, &pr) {
        Ok((spec, target)) => (spec.clone(), target),
        Err(e) => return ctx.fail(&key, "CouldntGetPipeline", &e.to_string()),
    };
    let driver = match Driver::for_cluster(&bundle, &pr) {
        Ok(driver) => driver,
        Err(e) => return ctx.fail(&key, resolution_reason(&e), &e.to_string()),
    };
    let recorded_start = status_time(&object.data, "startTime");
    let pending = pr.spec.status.as_deref() == Some("PipelineRunPending");
    let started = recorded_start.or_else(|| (!pending).then(|| start_time(None)));
    if let (None, Some(start)) = (recorded_start, started) {
        let running = serde_json::json!({
            "startTime": rfc3339(start),
            "conditions": [succeeded_condition(
                "Unknown",
                "Running",
                "Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0",
                Some(start),
            )],
        });
        if let Ended::Gone = ctx.write(&key, &running) {
            return Ended::Gone;
        }
        ctx.event(RunKind::PipelineRun, object, false, "Started", "");
    }
    let pipeline = if target == "(embedded)" {
        key.name.clone()
    } else {
        target
    };
    let parent = Parent {
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        uid: key.uid.clone(),
        pipeline,
        labels: object.metadata.labels.clone().unwrap_or_default(),
    };
    let mut executor = ChildTaskRuns::new(ctx.handle.clone(), ctx.client().clone(), parent);
    let (sink, events) = ProgressSink::channel();
    let writer = {
        let (ctx, key, spec) = (ctx.clone(), key.clone(), spec.clone());
        std::thread::spawn(move || {
            for event in events {
                let Progress::RunStatus {
                    condition,
                    children,
                    finally_start,
                } = event
                else {
                    continue;
                };
                if !condition.is_done() {
                    let status =
                        pipeline_run_progress(&spec, &condition, started, finally_start, &children);
                    // A failed write is repaired by the next one, or by the final status.
                    let _ = ctx.write(&key, &status);
                }
            }
        })
    };
    let outcome = driver
        .with_resumed(started, status_time(&object.data, "finallyStartTime"))
        .with_interrupt(interrupt)
        .with_progress(sink)
        .with_tick(TICK)
        .run(&mut executor, &mut SystemClock);
    // The driver is gone with its sink: the writer has written everything it will.
    let _ = writer.join();
    match outcome {
        Ok(outcome) => {
            let id = key.identity(object);
            let rendered = pipeline_run_object(&pr, &id, &spec, &outcome);
            match ctx.write(&key, &rendered["status"]) {
                Ended::Written if !outcome.condition.is_done() => Ended::Pending,
                Ended::Written => {
                    ctx.ended_event(RunKind::PipelineRun, object, &rendered["status"]);
                    Ended::Written
                }
                ended => ended,
            }
        }
        Err(e) => Ended::Requeue(e.to_string()),
    }
}

/// Tekton's reason for a PipelineRun that cannot be resolved.
fn resolution_reason(error: &RunError) -> &'static str {
    match error {
        RunError::Plan(crate::plan::PlanError::NotFound(_)) => "CouldntGetTask",
        _ => "PipelineRunValidationFailed",
    }
}
