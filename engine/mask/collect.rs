//! The secret values of a run: the Secrets loaded with it, `--secret` and `--mask`, and
//! the names of the Secrets a Pod reads, whose values the Kubernetes executor reads from the
//! cluster ([`pod_secret_names`], [`cluster_secret_values`]).
//!
//! `--secret SECRET/KEY=VALUE` supplies key `KEY` of Secret `SECRET` without a file: the
//! Secret loaded with the run gets that key (over `data` and `stringData`), or a Secret of
//! that name is added to the run's documents when none was loaded.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{PodSpec, Secret};

use super::Masker;
use crate::load::{Bundle, Origin};
use crate::run::config_data::{self, ConfigKind};

/// One `--secret SECRET/KEY=VALUE`.
#[derive(Clone, PartialEq, Eq)]
pub struct GivenSecret {
    /// The Secret's name.
    pub secret: String,
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

impl std::fmt::Debug for GivenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GivenSecret({}/{})", self.secret, self.key)
    }
}

/// A malformed `--secret`; its text never includes the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GivenSecretError {
    /// No `=`, or nothing before it.
    #[error(
        "--secret expects SECRET/KEY=VALUE (the argument is not shown: it may hold the value)"
    )]
    Shape,
    /// `SECRET/KEY` is not a Secret name and a key.
    #[error(
        "--secret {target}=…: give the Secret's name and the key as SECRET/KEY; a name is \
         lowercase letters, digits, '-' and '.', a key letters, digits, '-', '_' and '.'"
    )]
    Target {
        /// What came before `=`.
        target: String,
    },
}

impl std::str::FromStr for GivenSecret {
    type Err = GivenSecretError;

    fn from_str(text: &str) -> Result<GivenSecret, GivenSecretError> {
        let (target, value) = text.split_once('=').ok_or(GivenSecretError::Shape)?;
        if target.is_empty() {
            return Err(GivenSecretError::Shape);
        }
        let bad = || GivenSecretError::Target {
            target: target.to_owned(),
        };
        let (secret, key) = target.split_once('/').ok_or_else(bad)?;
        let name_ok = !secret.is_empty()
            && secret.len() <= 253
            && secret
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        let key_ok = !key.is_empty()
            && key.len() <= 253
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !name_ok || !key_ok {
            return Err(bad());
        }
        Ok(GivenSecret {
            secret: secret.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// Puts each `--secret` into the run's documents: into `stringData` of the Secret of that
/// name (which wins over `data`, as on the API server), or as a new Secret.
pub fn apply(bundle: &mut Bundle, given: &[GivenSecret]) {
    for g in given {
        let mut found = false;
        for r in bundle
            .resources
            .iter_mut()
            .filter(|r| r.kind == ConfigKind::Secret.as_str() && r.name == g.secret)
        {
            found = true;
            let data = &mut r.value["stringData"];
            if !data.is_object() {
                *data = serde_json::json!({});
            }
            data[&g.key] = serde_json::Value::String(g.value.clone());
        }
        if !found {
            let mut data = serde_json::Map::new();
            data.insert(g.key.clone(), g.value.clone().into());
            let doc = serde_json::json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": g.secret},
                "type": "Opaque",
                "stringData": data,
            });
            // JSON is YAML: the document is loaded like any file's.
            bundle.add_source(
                &format!("--secret {}", g.secret),
                doc.to_string(),
                Origin::Input,
            );
        }
    }
}

/// Where a value to mask came from, for a warning that must not show the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A key of a loaded Secret.
    Secret {
        /// The Secret.
        name: String,
        /// The key.
        key: String,
    },
    /// The n-th `--mask` (from 1).
    Flag(usize),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Secret { name, key } => write!(f, "key \"{key}\" of Secret \"{name}\""),
            Source::Flag(n) => write!(f, "--mask number {n}"),
        }
    }
}

/// Every value of every Secret loaded in `bundle`, with its source. A Secret that cannot
/// be decoded gives nothing here: the run refuses it where it is used.
pub fn secret_values(bundle: &Bundle) -> Vec<(Source, String)> {
    let mut names: Vec<&str> = bundle
        .resources
        .iter()
        .filter(|r| r.kind == ConfigKind::Secret.as_str())
        .map(|r| r.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        // Every resource of that name, not only the first the run reads: a duplicate could
        // still be shown by a diagnostic or created in a cluster.
        for r in bundle
            .resources
            .iter()
            .filter(|r| r.kind == ConfigKind::Secret.as_str() && r.name == name)
        {
            for (key, bytes) in resource_entries(&r.value) {
                out.push((
                    Source::Secret {
                        name: name.to_owned(),
                        key,
                    },
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
    out
}

/// The keys and decoded values of one Secret document (undecodable ones left out).
fn resource_entries(value: &serde_json::Value) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (field, encoded) in [("data", true), ("stringData", false)] {
        let Some(map) = value.get(field).and_then(|m| m.as_object()) else {
            continue;
        };
        for (key, v) in map {
            let Some(text) = v.as_str() else { continue };
            let bytes = if encoded {
                match config_data::base64_decode(text) {
                    Some(b) => b,
                    None => continue,
                }
            } else {
                text.as_bytes().to_vec()
            };
            out.push((key.clone(), bytes));
        }
    }
    out
}

/// A masker of every Secret value of `bundle` and every `--mask` value, and a warning for
/// each value too short to mask (naming its source, never the value).
pub fn masker_of(bundle: &Bundle, masks: &[String]) -> (Arc<Masker>, Vec<String>) {
    let masker = Masker::new();
    let flags = masks
        .iter()
        .enumerate()
        .map(|(i, v)| (Source::Flag(i + 1), v.clone()));
    let warnings = add_values(&masker, secret_values(bundle).into_iter().chain(flags));
    (Arc::new(masker), warnings)
}

/// Adds each value to `masker`; returns a warning for each value too short to mask, naming
/// its source, never the value.
pub fn add_values(
    masker: &Masker,
    values: impl IntoIterator<Item = (Source, String)>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    for (source, value) in values {
        if let Err(e) = masker.add(&value) {
            warnings.push(format!("{source}: {e}"));
        }
    }
    warnings
}

/// Every value of a Secret read from a cluster, decoded as those loaded with the run are.
pub fn cluster_secret_values(secret: &Secret) -> Vec<(Source, String)> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    // Through its JSON form, so a Secret from the cluster is decoded by the same code as one
    // from a file (`data` base64, `stringData` text).
    let Ok(value) = serde_json::to_value(secret) else {
        return Vec::new();
    };
    resource_entries(&value)
        .into_iter()
        .map(|(key, bytes)| {
            (
                Source::Secret {
                    name: name.clone(),
                    key,
                },
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect()
}

/// The names of the Secrets a Pod reads: `env[].valueFrom.secretKeyRef` and
/// `envFrom[].secretRef` of every container and init container (native sidecars are init
/// containers), `secret` volumes and the `secret` sources of projected volumes (workspaces
/// bound to a Secret reach the Pod as these volumes).
pub fn pod_secret_names(pod: &PodSpec) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let containers = pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten());
    for c in containers {
        for from in c.env.iter().flatten().filter_map(|e| e.value_from.as_ref()) {
            if let Some(r) = &from.secret_key_ref {
                names.insert(r.name.clone());
            }
        }
        for from in c.env_from.iter().flatten() {
            if let Some(r) = &from.secret_ref {
                names.insert(r.name.clone());
            }
        }
    }
    for v in pod.volumes.iter().flatten() {
        if let Some(name) = v.secret.as_ref().and_then(|s| s.secret_name.as_ref()) {
            names.insert(name.clone());
        }
        let sources = v.projected.iter().flat_map(|p| p.sources.iter().flatten());
        for source in sources {
            if let Some(r) = &source.secret {
                names.insert(r.name.clone());
            }
        }
    }
    names.remove("");
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(yaml: &str) -> Bundle {
        let mut b = Bundle::new();
        b.add_source("t.yaml", yaml.to_owned(), Origin::Input);
        b
    }

    #[test]
    fn every_key_of_every_secret_is_collected_and_config_maps_are_not() {
        let b = bundle(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: aGVsbG8td29ybGQ=, bad: '!!'}\n\
             stringData: {b: plain-value}\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {x: not-a-secret}\n",
        );
        let values = secret_values(&b);
        assert_eq!(
            values,
            vec![
                (
                    Source::Secret {
                        name: "s".into(),
                        key: "a".into()
                    },
                    "hello-world".to_owned()
                ),
                (
                    Source::Secret {
                        name: "s".into(),
                        key: "b".into()
                    },
                    "plain-value".to_owned()
                ),
            ]
        );
        let (m, warnings) = masker_of(&b, &["flag-value".into(), "ab".into(), String::new()]);
        assert_eq!(
            m.mask("hello-world plain-value flag-value not-a-secret ab"),
            "*** *** *** not-a-secret ab"
        );
        assert_eq!(
            warnings,
            [
                "--mask number 2: a value of 2 character(s) is too short to mask (at least 4 are \
              needed) and will be shown as is"
            ]
        );
    }

    #[test]
    fn a_pods_secrets_are_named_from_env_env_from_volumes_and_projections() {
        let pod: PodSpec = serde_json::from_value(serde_json::json!({
            "initContainers": [{"name": "sidecar-s", "envFrom": [{"secretRef": {"name": "from-sidecar"}}]}],
            "containers": [
                {"name": "step-a", "env": [
                    {"name": "A", "valueFrom": {"secretKeyRef": {"name": "key-ref", "key": "k"}}},
                    {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "a-config-map", "key": "k"}}},
                    {"name": "C", "value": "plain"}
                ]},
                {"name": "step-b", "envFrom": [
                    {"secretRef": {"name": "env-from", "optional": true}},
                    {"configMapRef": {"name": "another-config-map"}}
                ]}
            ],
            "volumes": [
                {"name": "ws-1", "secret": {"secretName": "workspace"}},
                {"name": "v", "projected": {"sources": [
                    {"secret": {"name": "projected"}},
                    {"configMap": {"name": "projected-config-map"}}
                ]}},
                {"name": "e", "emptyDir": {}},
                {"name": "c", "configMap": {"name": "volume-config-map"}},
                {"name": "again", "secret": {"secretName": "key-ref"}}
            ]
        }))
        .unwrap();
        assert_eq!(
            pod_secret_names(&pod).into_iter().collect::<Vec<_>>(),
            [
                "env-from",
                "from-sidecar",
                "key-ref",
                "projected",
                "workspace"
            ]
        );
        assert!(pod_secret_names(&PodSpec::default()).is_empty());
    }

    #[test]
    fn a_cluster_secret_is_decoded_like_a_loaded_one() {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "in-cluster"},
            "data": {"token": "Y2x1c3Rlci12YWx1ZQ==", "pin": "MTI="},
            "stringData": {"extra": "string-value"}
        }))
        .unwrap();
        let values = cluster_secret_values(&secret);
        let shown: Vec<(String, &str)> = values
            .iter()
            .map(|(s, v)| (s.to_string(), v.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("key \"pin\" of Secret \"in-cluster\"".to_owned(), "12"),
                (
                    "key \"token\" of Secret \"in-cluster\"".to_owned(),
                    "cluster-value"
                ),
                (
                    "key \"extra\" of Secret \"in-cluster\"".to_owned(),
                    "string-value"
                ),
            ]
        );
        let masker = Masker::new();
        let warnings = add_values(&masker, values);
        assert_eq!(masker.mask("cluster-value string-value 12"), "*** *** 12");
        assert_eq!(
            warnings,
            [
                "key \"pin\" of Secret \"in-cluster\": a value of 2 character(s) is too short to \
              mask (at least 4 are needed) and will be shown as is"
            ]
        );
    }

    #[test]
    fn given_secrets_are_parsed_without_showing_values() {
        let g: GivenSecret = "db/password=pa=ss".parse().unwrap();
        assert_eq!(
            (g.secret.as_str(), g.key.as_str(), g.value.as_str()),
            ("db", "password", "pa=ss")
        );
        assert_eq!(format!("{g:?}"), "GivenSecret(db/password)");
        assert_eq!(
            "hunter22".parse::<GivenSecret>().unwrap_err(),
            GivenSecretError::Shape
        );
        let e = "token=hunter22".parse::<GivenSecret>().unwrap_err();
        assert!(!e.to_string().contains("hunter22"), "{e}");
        insta::assert_snapshot!(e.to_string());
        assert!("Db/key=v".parse::<GivenSecret>().is_err());
        assert!("db/=v".parse::<GivenSecret>().is_err());
        assert!("db/k y=v".parse::<GivenSecret>().is_err());
        assert_eq!(
            "db/.dockerconfigjson="
                .parse::<GivenSecret>()
                .unwrap()
                .value,
            ""
        );
    }

    #[test]
    fn given_secrets_override_loaded_keys_or_add_a_secret() {
        let mut b =
            bundle("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: b2xkLXZhbHVl}\n");
        apply(
            &mut b,
            &[
                "s/a=new-value".parse().unwrap(),
                "t/k=added-value".parse().unwrap(),
                "t/l=second-key".parse().unwrap(),
            ],
        );
        let read = |name: &str, key: &str| {
            config_data::key_value(&b, ConfigKind::Secret, name, key, false, "x").unwrap()
        };
        assert_eq!(read("s", "a").as_deref(), Some("new-value"));
        assert_eq!(read("t", "k").as_deref(), Some("added-value"));
        assert_eq!(read("t", "l").as_deref(), Some("second-key"));
        assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
        let (m, _) = masker_of(&b, &[]);
        assert_eq!(
            m.mask("old-value new-value added-value second-key"),
            "*** *** *** ***"
        );
    }
}
