//! A container's environment as the kubelet builds it: `envFrom` first (prefixed, later
//! sources win), then `env` in order, each `value` expanded from the variables before it;
//! `valueFrom` reads ConfigMaps, Secrets and the downward API. A reference that cannot be
//! resolved is the `CreateContainerConfigError` message Kubernetes gives.
//!
//! The `kubernetes` Service's variables (`KUBERNETES_SERVICE_HOST`, …) come first, from
//! [`super::service_account::env`].
//!
//! # Not yet
//!
//! - The service-link variables of other Services (`<SVC>_PORT`): there are no Services.

use k8s_openapi::api::core::v1::{Container, Pod};

use super::downward::{self, Addresses};
use super::expansion::expand;
use super::objects::{self, Kind};
use super::service_account;
use super::PodHost;

/// Ordered `NAME=value` pairs; a later definition replaces an earlier one in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Environment(pub Vec<(String, String)>);

impl Environment {
    fn set(&mut self, name: String, value: String) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// The value of `name`, if defined.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// `s` with `$(VAR)` references to this environment expanded.
    pub fn expand(&self, s: &str) -> String {
        expand(s, |name| self.get(name))
    }
}

/// Kubernetes' rule for names taken from `envFrom` keys: others are skipped.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// The value of `key` in object `namespace/name`; `Ok(None)` when the object or the key is
/// missing and the reference is optional.
fn key_value(
    host: &dyn PodHost,
    kind: Kind,
    namespace: &str,
    name: &str,
    key: &str,
    optional: bool,
) -> Result<Option<String>, String> {
    let Some(entries) = objects::entries(host, kind, namespace, name) else {
        return if optional {
            Ok(None)
        } else {
            Err(kind.not_found(name))
        };
    };
    match entries.into_iter().find(|(k, _)| k == key) {
        Some((_, value)) => Ok(Some(String::from_utf8_lossy(&value).into_owned())),
        None if optional => Ok(None),
        None => Err(format!(
            "couldn't find key {key} in {} {namespace}/{name}",
            kind.title()
        )),
    }
}

/// The environment of `container`, or the `CreateContainerConfigError` message.
pub(super) fn resolve(
    pod: &Pod,
    container: &Container,
    addresses: &Addresses,
    host: &dyn PodHost,
) -> Result<Environment, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut env = Environment::default();
    // The `kubernetes` Service's variables come first: the container's own override them.
    for (name, value) in service_account::env(pod, host) {
        env.set(name, value);
    }
    for source in container.env_from.iter().flatten() {
        let prefix = source.prefix.clone().unwrap_or_default();
        let (kind, name, optional) = if let Some(r) = &source.config_map_ref {
            (Kind::ConfigMap, &r.name, r.optional == Some(true))
        } else if let Some(r) = &source.secret_ref {
            (Kind::Secret, &r.name, r.optional == Some(true))
        } else {
            continue;
        };
        let entries = match objects::entries(host, kind, namespace, name) {
            Some(entries) => entries,
            None if optional => continue,
            None => return Err(kind.not_found(name)),
        };
        for (key, value) in entries {
            let name = format!("{prefix}{key}");
            if valid_name(&name) {
                env.set(name, String::from_utf8_lossy(&value).into_owned());
            }
        }
    }
    for var in container.env.iter().flatten() {
        let value = match &var.value_from {
            None => env.expand(var.value.as_deref().unwrap_or_default()),
            Some(from) => {
                let key_ref = match (&from.config_map_key_ref, &from.secret_key_ref) {
                    (Some(r), _) => Some((Kind::ConfigMap, &r.name, &r.key, r.optional)),
                    (None, Some(r)) => Some((Kind::Secret, &r.name, &r.key, r.optional)),
                    (None, None) => None,
                };
                if let Some((kind, name, key, optional)) = key_ref {
                    match key_value(host, kind, namespace, name, key, optional == Some(true))? {
                        Some(value) => value,
                        None => continue,
                    }
                } else if let Some(f) = &from.field_ref {
                    downward::field(pod, f, addresses, false)?
                } else if let Some(r) = &from.resource_field_ref {
                    downward::resource(pod, Some(container), r)?
                } else {
                    return Err(format!(
                        "env \"{}\": valueFrom names no source (configMapKeyRef, secretKeyRef, fieldRef or resourceFieldRef)",
                        var.name
                    ));
                }
            }
        };
        env.set(var.name.clone(), value);
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ConfigMap, ConfigMapEnvSource, ConfigMapKeySelector, EnvFromSource, EnvVar, EnvVarSource,
        Secret,
    };
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    struct Host;
    impl PodHost for Host {
        fn config_map(&self, _: &str, name: &str) -> Option<ConfigMap> {
            (name == "cm").then(|| ConfigMap {
                data: Some(BTreeMap::from([
                    ("greeting".into(), "hello".into()),
                    ("1bad".into(), "skipped".into()),
                ])),
                ..Default::default()
            })
        }
        fn secret(&self, _: &str, _: &str) -> Option<Secret> {
            None
        }
        fn claim_dir(&self, _: &str, _: &str) -> Option<PathBuf> {
            None
        }
        fn set_pod_status(&self, _: &str, _: &str, _: k8s_openapi::api::core::v1::PodStatus) {}
    }

    fn var(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Some(value.into()),
            ..Default::default()
        }
    }

    #[test]
    fn env_from_comes_first_and_values_expand_from_earlier_ones() {
        let container = Container {
            env_from: Some(vec![EnvFromSource {
                prefix: Some("CM_".into()),
                config_map_ref: Some(ConfigMapEnvSource {
                    name: "cm".into(),
                    optional: None,
                }),
                ..Default::default()
            }]),
            env: Some(vec![
                var("A", "a"),
                var("B", "$(A)-$(CM_greeting)-$(LATER)-$$(A)"),
                var("LATER", "x"),
            ]),
            ..Default::default()
        };
        let env = resolve(&Pod::default(), &container, &Addresses::default(), &Host).unwrap();
        assert_eq!(env.get("CM_greeting").as_deref(), Some("hello"));
        assert_eq!(env.get("CM_1bad").as_deref(), Some("skipped"));
        assert_eq!(env.get("B").as_deref(), Some("a-hello-$(LATER)-$(A)"));
    }

    #[test]
    fn missing_references_are_config_errors_unless_optional() {
        let from = |name: &str, optional| Container {
            env: Some(vec![EnvVar {
                name: "X".into(),
                value_from: Some(EnvVarSource {
                    config_map_key_ref: Some(ConfigMapKeySelector {
                        name: name.into(),
                        key: "nope".into(),
                        optional,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let run = |c: &Container| resolve(&Pod::default(), c, &Addresses::default(), &Host);
        assert_eq!(
            run(&from("gone", None)).unwrap_err(),
            "configmap \"gone\" not found"
        );
        assert_eq!(
            run(&from("cm", None)).unwrap_err(),
            "couldn't find key nope in ConfigMap default/cm"
        );
        assert_eq!(
            run(&from("gone", Some(true))).unwrap(),
            Environment::default()
        );
    }
}
