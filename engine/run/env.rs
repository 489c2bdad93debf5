//! Environment variables from ConfigMaps and Secrets (`valueFrom`, `envFrom`), read when a
//! TaskRun starts.
//!
//! Plans show these as placeholders; the resolved steps carry
//! [`EnvSource`]s that this module turns into values from the loaded documents, so executors
//! receive plain variables. Kubernetes' rules are kept: `envFrom` variables come first and an
//! explicit `env` entry of the same name wins; an optional reference to a missing object or
//! key leaves the variable unset.

use super::config_data;
use super::RunError;
use crate::api::TaskSpec;
use crate::load::Bundle;
use crate::plan::model::{EnvPlan, EnvSource, StepPlan};
use crate::plan::scope::Scope;
use crate::plan::task::env_sources;

/// Replaces the step's placeholders with the referenced values.
pub fn resolve(bundle: &Bundle, step: &mut StepPlan, needed_by: &str) -> Result<(), RunError> {
    let mut from_all: Vec<EnvPlan> = Vec::new();
    for source in &step.env_sources {
        match source {
            EnvSource::All {
                kind,
                object,
                prefix,
                optional,
            } => match config_data::entries(bundle, *kind, object)? {
                Some(entries) => {
                    // `=` cannot be part of a variable name; Kubernetes skips such keys too.
                    for (key, bytes) in entries.into_iter().filter(|(k, _)| !k.contains('=')) {
                        let name = format!("{prefix}{key}");
                        from_all.retain(|e| e.name != name);
                        from_all.push(EnvPlan {
                            name,
                            value: String::from_utf8_lossy(&bytes).into_owned(),
                        });
                    }
                }
                None if *optional => {}
                None => return Err(config_data::missing(*kind, object, needed_by)),
            },
            EnvSource::Key {
                name,
                kind,
                object,
                key,
                optional,
            } => {
                let what = format!("variable {name} of {needed_by}");
                match config_data::key_value(bundle, *kind, object, key, *optional, &what)? {
                    Some(value) => {
                        for e in step.env.iter_mut().filter(|e| e.name == *name) {
                            e.value.clone_from(&value);
                        }
                    }
                    None => step.env.retain(|e| e.name != *name),
                }
            }
        }
    }
    from_all.retain(|e| !step.env.iter().any(|x| x.name == e.name));
    from_all.append(&mut step.env);
    step.env = from_all;
    Ok(())
}

/// Checks, before anything starts, the references whose object names are literal (names
/// built from params are checked when the TaskRun starts).
pub fn check_task(bundle: &Bundle, spec: &TaskSpec, task: &str) -> Result<(), RunError> {
    let literal = Scope::default();
    let template = spec.step_template.as_ref();
    let containers = spec
        .steps
        .iter()
        .map(|s| (format!("step \"{}\"", s.name), &s.env, &s.env_from))
        .chain(
            spec.sidecars
                .iter()
                .map(|s| (format!("sidecar \"{}\"", s.name), &s.env, &s.env_from)),
        )
        .chain(template.map(|t| ("the stepTemplate".to_owned(), &t.env, &t.env_from)));
    for (container, env, env_from) in containers {
        let needed_by = format!("{container} of pipeline task \"{task}\"");
        for source in env_sources(env, env_from, &literal) {
            match source {
                EnvSource::All {
                    kind,
                    object,
                    optional,
                    ..
                } if !optional
                    && !object.contains("$(")
                    && !config_data::exists(bundle, kind, &object) =>
                {
                    return Err(config_data::missing(kind, &object, &needed_by));
                }
                EnvSource::Key {
                    name,
                    kind,
                    object,
                    key,
                    optional,
                } if !optional && !object.contains("$(") && !key.contains("$(") => {
                    let what = format!("variable {name} of {needed_by}");
                    config_data::key_value(bundle, kind, &object, &key, false, &what)?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}
