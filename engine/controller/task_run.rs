//! One TaskRun reconciled: resolved from its object and what it references, run as a Pod
//! owned by it, and its status written in Tekton's shape.
//!
//! # Design
//!
//! The same [`TaskRunDriver::for_cluster`] and [`KubernetesExecutor`] as `adze run
//! --executor kubernetes`, with two differences: the Pod, its ConfigMap and Secret are owned
//! by the TaskRun (deleting it deletes them), and a Pod that already exists under the
//! TaskRun's name is adopted (a restarted controller resumes the run; nothing is created
//! twice). Completed Pods are kept, as Tekton keeps them; they go with their TaskRun.
//!
//! A TaskRun a PipelineRun created (label `tekton.dev/pipelineRun`, owned by it) is run as
//! that run's child: its Pod carries the PipelineRun's labels and shares its claims.
//!
//! `spec.retries`: a failed attempt is archived in `retriesStatus` and the TaskRun runs again
//! in a new Pod (`<name>-pod-retry<N>`), with `$(context.task.retry-count)` counting, as
//! Tekton's TaskRun reconciler does. A restarted controller runs the attempts again from the
//! first: the Pods of earlier attempts are adopted and their outcomes read back.
//!
//! While the Pod runs, the steps are written as they start and end ([`super::step_progress`]).

use kube::api::DynamicObject;

use super::context::{load_errors, owner_of, start_time, Context, Ended};
use super::objects::{status_time, RunKey, RunKind};
use super::step_progress;
use crate::api::Object;
use crate::exec::kubernetes::{pod_name, KubernetesExecutor, KubernetesOptions};
use crate::run::{Interrupt, ProgressSink, RunError, RunIdentity, SystemClock, TaskRunDriver};
use crate::status::{rfc3339, succeeded_condition, task_run_object};

/// How often the driver checks the Pod's progress.
const TICK: std::time::Duration = std::time::Duration::from_millis(200);

/// Tekton's message while a TaskRun's steps run.
const RUNNING: &str = "Not all Steps in the Task have finished executing";

/// Runs the TaskRun `object` to its end and writes its status; blocks.
pub fn reconcile(ctx: &Context, object: &DynamicObject, interrupt: Interrupt) -> Ended {
    let key = RunKey::of(RunKind::TaskRun, object);
    let bundle = match ctx.bundle(&key, object) {
        Ok(bundle) => bundle,
        Err(ended) => return ended,
    };
    let tr = bundle.objects.iter().find_map(|o| match &o.object {
        Object::TaskRun(tr) if tr.metadata.name.as_deref() == Some(key.name.as_str()) => {
            Some(tr.clone())
        }
        _ => None,
    });
    let Some(tr) = tr else {
        return ctx.fail(&key, "TaskRunValidationFailed", &load_errors(&bundle));
    };
    if tr.spec.status.as_deref() == Some("TaskRunPending") {
        let now = start_time(None);
        let message = format!("TaskRun \"{}\" is pending", key.name);
        let pending = serde_json::json!({
            "conditions": [succeeded_condition("Unknown", "TaskRunPending", &message, Some(now))],
        });
        return match ctx.write(&key, &pending) {
            Ended::Written => Ended::Pending,
            ended => ended,
        };
    }
    // Resolved once up front so that a TaskRun that cannot run fails before any Pod exists.
    if let Err(e) = TaskRunDriver::for_cluster_attempt(&bundle, &tr, 0) {
        return ctx.fail(&key, resolution_reason(&e), &e.to_string());
    }
    let parent = parent(object);
    let recorded_start = status_time(&object.data, "startTime");
    let start = start_time(recorded_start);
    if recorded_start.is_none() {
        let running = serde_json::json!({
            "podName": pod_name(&key.name, 0),
            "startTime": rfc3339(start),
            "conditions": [succeeded_condition("Unknown", "Running", RUNNING, Some(start))],
        });
        if let Ended::Gone = ctx.write(&key, &running) {
            return Ended::Gone;
        }
        ctx.event(RunKind::TaskRun, object, false, "Started", "");
    }
    let (sink, events) = ProgressSink::channel();
    let writer =
        step_progress::spawn_writer(ctx.clone(), key.clone(), pod_name(&key.name, 0), events);
    let options = KubernetesOptions {
        progress: sink.clone(),
        entrypoint_image: ctx.entrypoint_image.clone(),
        nop_image: ctx.nop_image.clone(),
        keep: true,
        adopt: true,
        task_run_owner: Some(owner_of(&key)),
        started: recorded_start,
        results_from: ctx.results_from,
        max_result_size: ctx.max_result_size,
        ..KubernetesOptions::default()
    };
    let mut executor = KubernetesExecutor::on_runtime(
        ctx.handle.clone(),
        ctx.in_namespace(&key.namespace),
        options,
    );
    let retries = u32::try_from(tr.spec.retries.unwrap_or(0)).unwrap_or(0);
    let mut failed_attempts = Vec::new();
    let record = loop {
        let attempt = u32::try_from(failed_attempts.len()).unwrap_or(u32::MAX);
        let driver = match TaskRunDriver::for_cluster_attempt(&bundle, &tr, attempt) {
            Ok(driver) => driver,
            Err(e) => return ctx.fail(&key, resolution_reason(&e), &e.to_string()),
        };
        let driver = match &parent {
            Some((pipeline_run, task)) => {
                driver.within_pipeline_run(pipeline_run.clone(), task.clone())
            }
            None => driver,
        };
        let record = driver
            .with_interrupt(interrupt.clone())
            .with_progress(sink.clone())
            .with_tick(TICK)
            .run(&mut executor, &mut SystemClock);
        match record {
            Ok(mut record) if attempt < retries && retried(&record) => {
                failed_attempts.extend(record.event.take());
            }
            Ok(record) if lost(&record) => {
                // The API server went away under the Pod: not the steps' doing, and the
                // Pod may well still run. Try again later; the next reconcile adopts it.
                break Err(RunError::Exec(crate::run::ExecError::Unavailable(
                    record.event.map(|e| e.report.message).unwrap_or_default(),
                )));
            }
            Ok(mut record) => {
                record.retries = failed_attempts;
                break Ok(record);
            }
            Err(e) => break Err(e),
        }
    };
    // Every sender gone, the writer has written all it will: the final status comes last.
    drop((executor, sink));
    let _ = writer.join();
    match record {
        Ok(record) => {
            let id = key.identity(object);
            let mut rendered = task_run_object(&tr, &id, &record);
            let status = &mut rendered["status"];
            status["startTime"] = rfc3339(start).into();
            let ended = ctx.write(&key, status);
            if ended == Ended::Written {
                ctx.ended_event(RunKind::TaskRun, object, status);
            }
            ended
        }
        Err(e) => Ended::Requeue(e.to_string()),
    }
}

/// True when the API server stopped answering while the attempt ran.
fn lost(record: &crate::run::TaskRunRecord) -> bool {
    matches!(
        record.event.as_ref().map(|e| &e.outcome),
        Some(crate::run::ExecOutcome::EngineLost { .. })
    )
}

/// True when an attempt failed in a way another attempt may fix (not a cancel).
fn retried(record: &crate::run::TaskRunRecord) -> bool {
    matches!(
        record.event.as_ref().map(|e| &e.outcome),
        Some(crate::run::ExecOutcome::Failed { .. })
    )
}

/// The PipelineRun and pipeline task a child TaskRun belongs to, from its owner and labels.
fn parent(object: &DynamicObject) -> Option<(RunIdentity, String)> {
    let owner = object
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == "PipelineRun" && o.controller == Some(true))?;
    let task = object
        .metadata
        .labels
        .as_ref()?
        .get("tekton.dev/pipelineTask")?
        .clone();
    Some((
        RunIdentity {
            name: owner.name.clone(),
            uid: Some(owner.uid.clone()),
        },
        task,
    ))
}

/// Tekton's reason for a TaskRun that cannot be resolved.
fn resolution_reason(error: &RunError) -> &'static str {
    match error {
        RunError::Plan(crate::plan::PlanError::NotFound(_)) => "TaskRunResolutionFailed",
        _ => "TaskRunValidationFailed",
    }
}
