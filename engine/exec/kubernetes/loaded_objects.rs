//! The plain Kubernetes objects loaded beside a run (ConfigMaps, Secrets,
//! PersistentVolumeClaims), as the executor creates them in the run's namespace.
//!
//! # Design
//!
//! The local driver reads these documents from the [`Bundle`] (`engine/run/config_data.rs`);
//! on a cluster the kubelet reads them from the API server, so `adze run --executor
//! kubernetes` creates each one before the first Pod. An object that already exists is the
//! user's and is left as it is (never overwritten, never deleted); one adze creates is
//! labelled with the run id and recorded, so it goes with the run unless `--keep`.
//!
//! # Invariants
//!
//! - Only the fields a user may set travel: `uid`, `resourceVersion`, `creationTimestamp`,
//!   `managedFields` and `status` are dropped, and the namespace is the run's.
//!
//! # Not yet
//!
//! - Other kinds (ServiceAccounts, Roles) loaded beside a run are not created.

use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret};
use kube::api::PostParams;
use kube::Api;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::connect::Cluster;
use super::metadata::RUN_ID_LABEL;
use super::Created;
use crate::load::{Bundle, Resource};

/// Why a loaded object could not be created.
#[derive(Debug, thiserror::Error)]
pub enum LoadedObjectError {
    /// The document does not read as its kind.
    #[error(
        "{kind} \"{name}\" in the run's files is not a valid {kind}: {message}; fix the document"
    )]
    Invalid {
        /// `ConfigMap`, `Secret` or `PersistentVolumeClaim`.
        kind: String,
        /// Its name.
        name: String,
        /// What does not parse.
        message: String,
    },
    /// The API server refused it.
    #[error(
        "the API server refused {kind} \"{name}\" from the run's files: {message}; fix the \
         document, or create the object in the namespace yourself before the run"
    )]
    Refused {
        /// Its kind.
        kind: String,
        /// Its name.
        name: String,
        /// The server's message.
        message: String,
    },
    /// The API server did not answer.
    #[error("cannot create {kind} \"{name}\" on {server}: {message}")]
    Unreachable {
        /// Its kind.
        kind: String,
        /// Its name.
        name: String,
        /// The server's URL.
        server: String,
        /// What the client said.
        message: String,
    },
}

impl LoadedObjectError {
    /// True when the server, not the document, is at fault (exit 3).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, LoadedObjectError::Unreachable { .. })
    }
}

/// The kinds created for a run, in creation order.
pub const KINDS: [&str; 3] = ["ConfigMap", "Secret", "PersistentVolumeClaim"];

/// The loaded objects of [`KINDS`], in the order they are created.
pub fn loaded(bundle: &Bundle) -> Vec<&Resource> {
    KINDS
        .iter()
        .flat_map(|kind| bundle.resources.iter().filter(move |r| r.kind == *kind))
        .collect()
}

/// The object as it is sent: the loaded document without server-set fields, in
/// `namespace`, labelled with `run_id`.
pub fn prepared(resource: &Resource, namespace: &str, run_id: &str) -> Value {
    let mut value = resource.value.clone();
    if let Some(object) = value.as_object_mut() {
        object.remove("status");
        let metadata = object
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(meta) = metadata.as_object_mut() {
            for field in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "managedFields",
                "generation",
                "selfLink",
            ] {
                meta.remove(field);
            }
            meta.insert("namespace".to_owned(), Value::from(namespace));
            let labels = meta
                .entry("labels")
                .or_insert_with(|| Value::Object(Default::default()));
            if !labels.is_object() {
                *labels = Value::Object(Default::default());
            }
            if let Some(labels) = labels.as_object_mut() {
                labels.insert(RUN_ID_LABEL.to_owned(), Value::from(run_id));
            }
        }
    }
    value
}

/// Creates every loaded object of [`KINDS`] that does not exist yet; `on_created` hears of
/// each one created (an existing one is the user's and is left alone).
pub async fn create_loaded(
    cluster: &Cluster,
    bundle: &Bundle,
    run_id: &str,
    mut on_created: impl FnMut(Created),
) -> Result<(), LoadedObjectError> {
    for resource in loaded(bundle) {
        let value = prepared(resource, &cluster.namespace, run_id);
        let created = match resource.kind.as_str() {
            "ConfigMap" => create_one::<ConfigMap>(cluster, resource, value).await?,
            "Secret" => create_one::<Secret>(cluster, resource, value).await?,
            _ => create_one::<PersistentVolumeClaim>(cluster, resource, value).await?,
        };
        if created {
            let kind = KINDS
                .iter()
                .find(|k| **k == resource.kind)
                .copied()
                .unwrap_or("PersistentVolumeClaim");
            on_created(Created {
                kind,
                name: resource.name.clone(),
            });
        }
    }
    Ok(())
}

/// Creates one object; `false` when it already exists.
async fn create_one<K>(
    cluster: &Cluster,
    resource: &Resource,
    value: Value,
) -> Result<bool, LoadedObjectError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + kube::Resource<DynamicType = ()>
        + DeserializeOwned
        + Serialize
        + Clone
        + std::fmt::Debug,
{
    let (kind, name) = (resource.kind.clone(), resource.name.clone());
    let object: K = serde_json::from_value(value).map_err(|e| LoadedObjectError::Invalid {
        kind: kind.clone(),
        name: name.clone(),
        message: e.to_string(),
    })?;
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    match api.create(&PostParams::default(), &object).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(kube::Error::Api(s)) => Err(LoadedObjectError::Refused {
            kind,
            name,
            message: format!("{} ({})", s.message, s.reason),
        }),
        Err(e) => Err(LoadedObjectError::Unreachable {
            kind,
            name,
            server: cluster.server.clone(),
            message: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(kind: &str, value: Value) -> Resource {
        Resource {
            file: 0,
            api_version: "v1".to_owned(),
            kind: kind.to_owned(),
            name: value["metadata"]["name"].as_str().unwrap_or("").to_owned(),
            value,
            root: crate::load::yaml::Node {
                pos: Default::default(),
                kind: crate::load::yaml::NodeKind::Map(Vec::new()),
            },
        }
    }

    #[test]
    fn server_fields_go_and_the_run_label_and_namespace_come() {
        let r = resource(
            "Secret",
            serde_json::json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "s", "namespace": "elsewhere", "uid": "u",
                             "resourceVersion": "7", "labels": {"team": "a"}},
                "stringData": {"k": "v"},
                "status": {}
            }),
        );
        let v = prepared(&r, "ns1", "run-1");
        assert_eq!(v["metadata"]["namespace"], "ns1");
        assert_eq!(v["metadata"]["labels"]["team"], "a");
        assert_eq!(v["metadata"]["labels"][RUN_ID_LABEL], "run-1");
        assert!(v["metadata"].get("uid").is_none());
        assert!(v["metadata"].get("resourceVersion").is_none());
        assert!(v.get("status").is_none());
        assert_eq!(v["stringData"]["k"], "v");
    }

    #[test]
    fn a_null_labels_field_becomes_a_mapping() {
        let r = resource(
            "ConfigMap",
            serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "c", "labels": null}}),
        );
        let v = prepared(&r, "ns", "id");
        assert_eq!(v["metadata"]["labels"][RUN_ID_LABEL], "id");
    }
}
