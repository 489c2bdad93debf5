//! Plan (dry-run): resolve a TaskRun or PipelineRun without running anything.
//!
//! The plan shows what `adze run` would do: execution levels, params after substitution,
//! result wiring as placeholders, when-expressions decided where they only depend on
//! params, matrix combinations, timeouts and each step's final command or script.
//! It assumes the input validated cleanly; what still cannot be resolved is a [`PlanError`].

pub mod matrix;
pub mod model;
pub mod pipeline;
pub mod scope;
pub mod task;

pub use model::Plan;

use crate::api::{Object, Param, ParamValue};
use crate::load::{Bundle, Loaded};

/// Why a run cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A referenced object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Something adze cannot resolve yet (remote resolvers, custom tasks).
    #[error("{0}")]
    Unsupported(String),
    /// The pipeline graph is invalid.
    #[error("{0}")]
    Graph(String),
}

/// Command-line overrides for a plan or a run.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `-p name=value`: replaces or adds run params.
    pub params: Vec<Param>,
    /// `-w name=emptyDir|DIR`: replaces or adds workspace bindings.
    pub workspaces: Vec<(String, WorkspaceOverride)>,
}

/// A `-w` binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkspaceOverride {
    /// A fresh scratch directory.
    EmptyDir,
    /// A host directory.
    Dir(String),
}

/// Parses `-p name=value`: JSON arrays/objects become array/object values.
pub fn parse_param(text: &str) -> Result<Param, String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected name=value, got \"{text}\""))?;
    let trimmed = value.trim_start();
    let value = if trimmed.starts_with('[') || trimmed.starts_with('{') {
        match serde_json::from_str::<serde_json::Value>(value) {
            Ok(v) => ParamValue::from_json(&v),
            Err(e) => {
                return Err(format!(
                    "value of {name} looks like JSON but does not parse: {e}"
                ))
            }
        }
    } else {
        ParamValue::String(value.to_string())
    };
    Ok(Param {
        name: name.to_string(),
        value,
    })
}

/// Parses `-w name=emptyDir` or `-w name=DIR`.
pub fn parse_workspace(text: &str) -> Result<(String, WorkspaceOverride), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected name=emptyDir or name=DIR, got \"{text}\""))?;
    let binding = if value == "emptyDir" {
        WorkspaceOverride::EmptyDir
    } else {
        WorkspaceOverride::Dir(value.to_string())
    };
    Ok((name.to_string(), binding))
}

/// Applies `-p`/`-w` to every input run of the bundle (before validation, so a
/// required param given on the command line satisfies it).
pub fn apply_overrides(bundle: &mut Bundle, overrides: &Overrides) {
    for loaded in &mut bundle.objects {
        match &mut loaded.object {
            Object::TaskRun(tr) => {
                apply_to(&mut tr.spec.params, &mut tr.spec.workspaces, overrides)
            }
            Object::PipelineRun(pr) => {
                apply_to(&mut pr.spec.params, &mut pr.spec.workspaces, overrides)
            }
            _ => {}
        }
    }
}

fn apply_to(
    params: &mut Vec<Param>,
    workspaces: &mut Vec<crate::api::WorkspaceBinding>,
    overrides: &Overrides,
) {
    for p in &overrides.params {
        match params.iter_mut().find(|q| q.name == p.name) {
            Some(q) => q.value = p.value.clone(),
            None => params.push(p.clone()),
        }
    }
    for (name, w) in &overrides.workspaces {
        let binding = crate::api::WorkspaceBinding {
            name: name.clone(),
            empty_dir: matches!(w, WorkspaceOverride::EmptyDir).then(Default::default),
            persistent_volume_claim: match w {
                // A host directory is shown as a claim named after the path in plans;
                // the local executor mounts the directory itself.
                WorkspaceOverride::Dir(d) => Some(
                    k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                        claim_name: format!("dir:{d}"),
                        read_only: None,
                    },
                ),
                WorkspaceOverride::EmptyDir => None,
            },
            ..Default::default()
        };
        match workspaces.iter_mut().find(|b| b.name == *name) {
            Some(b) => *b = binding,
            None => workspaces.push(binding),
        }
    }
}

/// The runs among the input objects, in file order.
pub fn runs(bundle: &Bundle) -> Vec<&Loaded> {
    bundle
        .inputs()
        .filter(|o| matches!(o.object, Object::TaskRun(_) | Object::PipelineRun(_)))
        .collect()
}

/// Runs for input Pipelines (or, when there are none, input Tasks) when the files hold no
/// run of their own: `adze plan pipeline.yaml -p x=1` plans the Pipeline as a PipelineRun
/// with those params would run it.
pub fn synthesize_runs(bundle: &Bundle, overrides: &Overrides) -> Vec<Object> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let meta = |name: &str| ObjectMeta {
        name: Some(format!("{name}-run")),
        ..ObjectMeta::default()
    };
    let workspaces = |names: Vec<String>| -> Vec<crate::api::WorkspaceBinding> {
        names
            .into_iter()
            .map(|name| crate::api::WorkspaceBinding {
                name,
                empty_dir: Some(Default::default()),
                ..Default::default()
            })
            .collect()
    };
    let pipelines: Vec<Object> = bundle
        .inputs()
        .filter_map(|o| match &o.object {
            Object::Pipeline(p) => {
                let name = p.metadata.name.clone().unwrap_or_default();
                let mut pr = crate::api::PipelineRun {
                    api_version: "tekton.dev/v1".into(),
                    kind: "PipelineRun".into(),
                    metadata: meta(&name),
                    ..Default::default()
                };
                pr.spec.pipeline_ref = Some(crate::api::PipelineRef {
                    name: Some(name),
                    ..Default::default()
                });
                // Unbound required workspaces get scratch space, as `-w name=emptyDir` would.
                pr.spec.workspaces = workspaces(
                    p.spec
                        .workspaces
                        .iter()
                        .filter(|w| w.optional != Some(true))
                        .map(|w| w.name.clone())
                        .collect(),
                );
                Some(Object::PipelineRun(pr))
            }
            _ => None,
        })
        .collect();
    let mut runs = if pipelines.is_empty() {
        bundle
            .inputs()
            .filter_map(|o| match &o.object {
                Object::Task(t) => {
                    let name = t.metadata.name.clone().unwrap_or_default();
                    let mut tr = crate::api::TaskRun {
                        api_version: "tekton.dev/v1".into(),
                        kind: "TaskRun".into(),
                        metadata: meta(&name),
                        ..Default::default()
                    };
                    tr.spec.task_ref = Some(crate::api::TaskRef {
                        name: Some(name),
                        ..Default::default()
                    });
                    tr.spec.workspaces = workspaces(
                        t.spec
                            .workspaces
                            .iter()
                            .filter(|w| w.optional != Some(true))
                            .map(|w| w.name.clone())
                            .collect(),
                    );
                    Some(Object::TaskRun(tr))
                }
                _ => None,
            })
            .collect()
    } else {
        pipelines
    };
    for run in &mut runs {
        let (params, bindings) = match run {
            Object::TaskRun(tr) => (&mut tr.spec.params, &mut tr.spec.workspaces),
            Object::PipelineRun(pr) => (&mut pr.spec.params, &mut pr.spec.workspaces),
            _ => continue,
        };
        apply_to(params, bindings, overrides);
    }
    runs
}

/// Plans one run.
pub fn plan(bundle: &Bundle, run: &Loaded) -> Result<Plan, PlanError> {
    plan_object(bundle, &run.object)
}

/// Plans a run object (loaded or synthesized).
pub fn plan_object(bundle: &Bundle, run: &Object) -> Result<Plan, PlanError> {
    match run {
        Object::PipelineRun(pr) => pipeline::plan_pipeline_run(bundle, pr),
        Object::TaskRun(tr) => pipeline::plan_task_run(bundle, tr),
        other => Err(PlanError::Unsupported(format!(
            "{} is not a run; plan a TaskRun or PipelineRun",
            other.kind()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_strings_arrays_and_objects() {
        assert_eq!(
            parse_param("a=b=c").unwrap().value,
            ParamValue::String("b=c".into())
        );
        assert_eq!(
            parse_param("a=[\"x\",\"y\"]").unwrap().value,
            ParamValue::Array(vec!["x".into(), "y".into()])
        );
        assert!(parse_param("a=[x").is_err());
        assert!(parse_param("novalue").is_err());
        assert_eq!(
            parse_workspace("src=emptyDir").unwrap().1,
            WorkspaceOverride::EmptyDir
        );
    }
}
