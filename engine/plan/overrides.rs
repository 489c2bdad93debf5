//! Command-line overrides (`-p`, `-w`) and the runs adze makes up for files that hold
//! only a Pipeline or a Task.

use crate::api::{Object, Param, ParamValue};
use crate::load::Bundle;

/// Command-line overrides for a plan or a run.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `-p name=value`: replaces or adds run params.
    pub params: Vec<Param>,
    /// `-w name=emptyDir|DIR`: replaces or adds workspace bindings.
    pub workspaces: Vec<(String, WorkspaceOverride)>,
    /// The configuration's params: added where the run does not set them.
    pub default_params: Vec<Param>,
    /// The configuration's workspaces: bound where the run does not bind them.
    pub default_workspaces: Vec<(String, WorkspaceOverride)>,
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
        let binding = binding(name, w);
        match workspaces.iter_mut().find(|b| b.name == *name) {
            Some(b) => *b = binding,
            None => workspaces.push(binding),
        }
    }
    for p in &overrides.default_params {
        if !params.iter().any(|q| q.name == p.name) {
            params.push(p.clone());
        }
    }
    for (name, w) in &overrides.default_workspaces {
        if !workspaces.iter().any(|b| b.name == *name) {
            workspaces.push(binding(name, w));
        }
    }
}

/// The run's binding for a `-w` (or configured) workspace.
fn binding(name: &str, w: &WorkspaceOverride) -> crate::api::WorkspaceBinding {
    crate::api::WorkspaceBinding {
        name: name.to_owned(),
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
    }
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
    // A configured binding is used instead of scratch space (it is added by `apply_to`).
    let configured = |name: &String| overrides.default_workspaces.iter().any(|(n, _)| n == name);
    let workspaces = |names: Vec<String>| -> Vec<crate::api::WorkspaceBinding> {
        names
            .into_iter()
            .filter(|name| !configured(name))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn task_run(params: &[(&str, &str)], workspaces: &[&str]) -> crate::api::TaskRun {
        let mut tr = crate::api::TaskRun::default();
        for (name, value) in params {
            tr.spec.params.push(Param {
                name: (*name).into(),
                value: ParamValue::String((*value).into()),
            });
        }
        for name in workspaces {
            tr.spec
                .workspaces
                .push(binding(name, &WorkspaceOverride::EmptyDir));
        }
        tr
    }

    #[test]
    fn configured_defaults_fill_in_only_what_the_run_leaves_unset() {
        let overrides = Overrides {
            params: vec![parse_param("flag=f").unwrap()],
            default_params: vec![
                parse_param("own=config").unwrap(),
                parse_param("unset=config").unwrap(),
                parse_param("flag=config").unwrap(),
            ],
            default_workspaces: vec![
                parse_workspace("bound=/config").unwrap(),
                parse_workspace("free=/config").unwrap(),
            ],
            ..Overrides::default()
        };
        let mut tr = task_run(&[("own", "run"), ("flag", "run")], &["bound"]);
        apply_to(&mut tr.spec.params, &mut tr.spec.workspaces, &overrides);
        let values: Vec<(&str, &ParamValue)> = tr
            .spec
            .params
            .iter()
            .map(|p| (p.name.as_str(), &p.value))
            .collect();
        let s = |v: &str| ParamValue::String(v.into());
        assert_eq!(
            values,
            vec![
                ("own", &s("run")),
                ("flag", &s("f")),
                ("unset", &s("config"))
            ]
        );
        let bound: Vec<(&str, bool)> = tr
            .spec
            .workspaces
            .iter()
            .map(|w| (w.name.as_str(), w.empty_dir.is_some()))
            .collect();
        assert_eq!(bound, vec![("bound", true), ("free", false)]);
        assert_eq!(
            tr.spec.workspaces[1]
                .persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.as_str()),
            Some("dir:/config")
        );
    }

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
