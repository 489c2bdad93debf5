//! What [`Driver::new`](super::Driver::new) refuses before anything starts: custom tasks,
//! Tasks and Pipelines that are not among the loaded documents, missing
//! ConfigMaps and Secrets the tasks' environment names, volumes and `podTemplate`s that
//! cannot be provided.
//!
//! # Why
//!
//! What is known up front fails the run before its first TaskRun, not halfway through.
//! A Task or Pipeline named by a param is only known when its task starts, and passes here;
//! Tasks are looked up as the request will look them up at start time.

use super::env;
use super::error::RunError;
use super::request::{no_task, task_spec_named};
use super::{pod_template, volumes};
use crate::api::pipeline::PipelineTask;
use crate::api::PipelineRun;
use crate::load::Bundle;
use crate::plan::lookup::find_pipeline;
use crate::plan::PlanError;

/// Refuses, before anything starts, what the driver cannot run yet.
pub(super) fn check_supported(bundle: &Bundle, pt: &PipelineTask) -> Result<(), PlanError> {
    let unsupported = |what: &str| {
        Err(PlanError::Unsupported(format!(
            "pipeline task \"{}\" uses {what}, which `adze run` does not support yet",
            pt.name
        )))
    };
    let custom = |api: &Option<String>| api.as_ref().is_some_and(|a| !a.is_empty());
    if pt.pipeline_spec.is_some() {
        return Ok(());
    }
    if let Some(r) = &pt.pipeline_ref {
        // A name built from params is only known at start time.
        if r.name.as_deref().is_some_and(|n| n.contains("$(")) {
            return Ok(());
        }
        return find_pipeline(bundle, r).map(|_| ());
    }
    match (&pt.task_spec, &pt.task_ref) {
        (Some(ts), _) if custom(&ts.api_version) => unsupported("a custom task"),
        (Some(_), _) => Ok(()),
        (None, Some(r)) if custom(&r.api_version) => unsupported("a custom task"),
        // Fetched by the resolution pass, which reported any reference it could not fetch;
        // the request looks it up with its params substituted when the task starts.
        (None, Some(r)) if r.resolver.as_deref().is_some_and(|r| !r.is_empty()) => Ok(()),
        (None, Some(r)) => match r.name.as_deref() {
            // A name built from params is only known at start time.
            Some(name) if name.contains("$(") => Ok(()),
            name => task_spec_named(bundle, name.unwrap_or_default()).map(|_| ()),
        },
        (None, None) => Err(no_task(pt)),
    }
}

/// Checks the ConfigMaps/Secrets the task's environment names literally, before anything starts.
pub(super) fn check_env(bundle: &Bundle, pt: &PipelineTask) -> Result<(), RunError> {
    let spec = match (&pt.task_spec, &pt.task_ref) {
        (Some(ts), _) => ts.clone(),
        (None, Some(r)) => match r.name.as_deref() {
            Some(name) if !name.contains("$(") => task_spec_named(bundle, name)?,
            _ => return Ok(()),
        },
        (None, None) => return Ok(()),
    };
    env::check_task(bundle, &spec, &pt.name)
}

/// Refuses, before anything starts, the volumes of the task (its Task's and its podTemplate's)
/// that cannot be provided, and checks its podTemplate; returns its `hostPath` volumes. On a
/// `cluster` every source can be provided and no host path is this host's.
pub(super) fn check_volumes(
    bundle: &Bundle,
    pr: &PipelineRun,
    pt: &PipelineTask,
    cluster: bool,
) -> Result<Vec<volumes::HostPathUse>, RunError> {
    let needed_by = format!("pipeline task \"{}\"", pt.name);
    let pod = pod_template::for_pipeline_task(pr, &pt.name).unwrap_or_default();
    pod_template::settings(&pod, &needed_by)?;
    if cluster {
        return Ok(Vec::new());
    }
    let task = match (&pt.task_spec, &pt.task_ref) {
        (Some(ts), _) => ts.volumes.clone(),
        (None, Some(r)) => match r.name.as_deref() {
            Some(name) if !name.contains("$(") && r.resolver.is_none() => {
                task_spec_named(bundle, name)?.volumes
            }
            _ => Vec::new(),
        },
        (None, None) => Vec::new(),
    };
    volumes::check(
        &volumes::merged(&task, &pod.volumes, &needed_by)?,
        &needed_by,
    )
}
