//! The store as the kubelet sees it ([`PodHost`]): the ConfigMaps, Secrets and claims a Pod
//! refers to, and the status it reports.
//!
//! # Invariants
//!
//! - A status write goes through [`Store::write`], so it bumps the resourceVersion and every
//!   watch of Pods sees it as MODIFIED; a write for a Pod that is gone is dropped.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::{ConfigMap, Pod, PodStatus, Secret};

use crate::kubelet::PodHost;
use crate::resources::find;
use crate::store::Store;

fn typed<T: serde::de::DeserializeOwned>(
    store: &Store,
    plural: &str,
    ns: &str,
    name: &str,
) -> Option<T> {
    let resource = find("", "v1", plural)?;
    let object = store.get(resource, ns, name).ok()?;
    serde_json::from_value((*object).clone()).ok()
}

impl PodHost for Store {
    fn config_map(&self, namespace: &str, name: &str) -> Option<ConfigMap> {
        typed(self, "configmaps", namespace, name)
    }

    fn secret(&self, namespace: &str, name: &str) -> Option<Secret> {
        typed(self, "secrets", namespace, name)
    }

    fn pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        typed(self, "pods", namespace, name)
    }

    fn claim_dir(&self, namespace: &str, claim: &str) -> Option<PathBuf> {
        let claims = find("", "v1", "persistentvolumeclaims")?;
        let object = self.get(claims, namespace, claim).ok()?;
        // The uid keeps a re-created claim of the same name from seeing old contents.
        let uid = object["metadata"]["uid"].as_str()?;
        let dir = self
            .state_dir
            .join("claims")
            .join(namespace)
            .join(format!("{claim}-{uid}"));
        std::fs::create_dir_all(&dir).ok()?;
        Some(dir)
    }

    fn set_pod_status(&self, namespace: &str, name: &str, status: PodStatus) {
        let Some(pods) = find("", "v1", "pods") else {
            return;
        };
        let Ok(status) = serde_json::to_value(status) else {
            return;
        };
        let _ = self.write(pods, namespace, name, |current| {
            let mut next = current.clone();
            next["status"] = status;
            Ok(next)
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claims_get_a_directory_and_status_writes_bump_the_version() {
        let state = std::env::temp_dir().join(format!("kube-sim-test-{}", uuid::Uuid::new_v4()));
        let (store, _) = Store::new(100, state.clone());
        let claims = find("", "v1", "persistentvolumeclaims").unwrap();
        store
            .create(claims, "default", json!({ "metadata": { "name": "data" } }))
            .unwrap();
        let dir = store.claim_dir("default", "data").unwrap();
        assert!(dir.is_dir() && dir.starts_with(&state));
        assert!(store.claim_dir("default", "missing").is_none());

        let pods = find("", "v1", "pods").unwrap();
        let pod = store
            .create(pods, "default", json!({ "metadata": { "name": "p" } }))
            .unwrap();
        store.set_pod_status(
            "default",
            "p",
            PodStatus {
                phase: Some("Running".into()),
                ..Default::default()
            },
        );
        let after = store.get(pods, "default", "p").unwrap();
        assert_eq!(after["status"]["phase"], "Running");
        assert_ne!(
            after["metadata"]["resourceVersion"],
            pod["metadata"]["resourceVersion"]
        );
        let _ = std::fs::remove_dir_all(state);
    }
}
