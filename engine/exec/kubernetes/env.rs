//! A container's environment as the kubelet builds it: plain values, and references to
//! ConfigMap and Secret keys (`valueFrom`, `envFrom`) that stay references, so no secret value
//! is ever written into the Pod.

use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, ConfigMapKeySelector, EnvFromSource, EnvVar, EnvVarSource, SecretEnvSource,
    SecretKeySelector,
};

use crate::plan::model::{ConfigKind, EnvSource, StepPlan};

/// `env`: the plan's variables in order; those read from a ConfigMap or Secret key, or filled
/// by the downward API, become `valueFrom` references again.
pub fn env(plan: &StepPlan) -> Option<Vec<EnvVar>> {
    let vars: Vec<EnvVar> = plan
        .env
        .iter()
        .map(|e| {
            let downward = plan
                .downward_env
                .iter()
                .rev()
                .find(|(name, _)| *name == e.name)
                .map(|(_, from)| from.clone());
            let reference = downward.or_else(|| {
                plan.env_sources.iter().rev().find_map(|s| match s {
                    EnvSource::Key {
                        name,
                        kind,
                        object,
                        key,
                        optional,
                    } if *name == e.name => Some(value_from(*kind, object, key, *optional)),
                    _ => None,
                })
            });
            match reference {
                Some(from) => EnvVar {
                    name: e.name.clone(),
                    value: None,
                    value_from: Some(from),
                },
                None => EnvVar {
                    name: e.name.clone(),
                    value: Some(e.value.clone()),
                    value_from: None,
                },
            }
        })
        .collect();
    (!vars.is_empty()).then_some(vars)
}

fn value_from(kind: ConfigKind, object: &str, key: &str, optional: bool) -> EnvVarSource {
    let optional = optional.then_some(true);
    match kind {
        ConfigKind::ConfigMap => EnvVarSource {
            config_map_key_ref: Some(ConfigMapKeySelector {
                name: object.to_owned(),
                key: key.to_owned(),
                optional,
            }),
            ..EnvVarSource::default()
        },
        ConfigKind::Secret => EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: object.to_owned(),
                key: key.to_owned(),
                optional,
            }),
            ..EnvVarSource::default()
        },
    }
}

/// `envFrom`: every ConfigMap or Secret whose keys all become variables.
pub fn env_from(plan: &StepPlan) -> Option<Vec<EnvFromSource>> {
    let sources: Vec<EnvFromSource> = plan
        .env_sources
        .iter()
        .filter_map(|s| match s {
            EnvSource::All {
                kind,
                object,
                prefix,
                optional,
            } => {
                let optional = optional.then_some(true);
                let mut source = EnvFromSource {
                    prefix: (!prefix.is_empty()).then(|| prefix.clone()),
                    ..EnvFromSource::default()
                };
                match kind {
                    ConfigKind::ConfigMap => {
                        source.config_map_ref = Some(ConfigMapEnvSource {
                            name: object.clone(),
                            optional,
                        })
                    }
                    ConfigKind::Secret => {
                        source.secret_ref = Some(SecretEnvSource {
                            name: object.clone(),
                            optional,
                        })
                    }
                }
                Some(source)
            }
            EnvSource::Key { .. } => None,
        })
        .collect();
    (!sources.is_empty()).then_some(sources)
}
