//! The Kubernetes version the server reports at `/version`, and how a test changes it while
//! kube-sim runs (a fake `kubeadm upgrade apply v1.30.2` must leave the "control plane" at
//! v1.30.2).
//!
//! # Design
//!
//! The version lives in one well-known object, the ConfigMap `kube-system/kube-sim-version`
//! (key `gitVersion`, e.g. `v1.29.4`), created at start from `--server-version`. `/version`
//! reads it on every request, so a test changes the reported version with the ordinary API
//! (`kubectl -n kube-system patch configmap kube-sim-version --type merge -p
//! '{"data":{"gitVersion":"v1.30.2"}}'`): the change is visible with `kubectl get`, lands in
//! the audit log like any other write, and needs no hidden endpoint. A write that would put
//! an unparsable version there is refused (422), so `/version` never reports garbage; if the
//! ConfigMap is deleted, `/version` falls back to the start version.
//!
//! # Invariants
//!
//! - `gitVersion` is always `vMAJOR.MINOR.PATCH`; `major` and `minor` are its numbers.

use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::store::Store;

/// The namespace of the version ConfigMap.
pub const CONFIG_MAP_NAMESPACE: &str = "kube-system";

/// The name of the ConfigMap `/version` follows.
pub const CONFIG_MAP_NAME: &str = "kube-sim-version";

/// The key holding the version (`v1.29.4`).
pub const CONFIG_MAP_KEY: &str = "gitVersion";

/// A Kubernetes release: clients decide features from it (adze runs sidecars as native ones
/// from 1.29; kubectl warns beyond one minor of skew).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerVersion {
    /// The major version.
    pub major: u32,
    /// The minor version.
    pub minor: u32,
    /// The patch release.
    pub patch: u32,
}

impl Default for ServerVersion {
    /// v1.33.0: within kubectl v1.32's supported skew, so it does not warn.
    fn default() -> Self {
        ServerVersion {
            major: 1,
            minor: 33,
            patch: 0,
        }
    }
}

impl ServerVersion {
    /// `v1.29.4`, as `gitVersion` and a Node's `kubeletVersion` write it.
    pub fn git_version(&self) -> String {
        format!("v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl std::fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.git_version())
    }
}

impl std::str::FromStr for ServerVersion {
    type Err = String;

    /// `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`, with or without a leading `v` (`1.28`,
    /// `v1.29.4`); a missing patch is 0.
    fn from_str(text: &str) -> Result<Self, String> {
        let wrong = || format!("\"{text}\" is not a Kubernetes version; write it like 1.29.4");
        let parts: Vec<&str> = text.strip_prefix('v').unwrap_or(text).split('.').collect();
        let number = |n: &str| {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(wrong());
            }
            n.parse::<u32>().map_err(|_| wrong())
        };
        match parts.as_slice() {
            [major, minor] => Ok(ServerVersion {
                major: number(major)?,
                minor: number(minor)?,
                patch: 0,
            }),
            [major, minor, patch] => Ok(ServerVersion {
                major: number(major)?,
                minor: number(minor)?,
                patch: number(patch)?,
            }),
            _ => Err(wrong()),
        }
    }
}

/// The `/version` document for `version`.
pub fn version_info(version: ServerVersion) -> Value {
    json!({
        "major": version.major.to_string(),
        "minor": version.minor.to_string(),
        "gitVersion": version.git_version(),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// The ConfigMap that holds `version`, as created at start.
pub fn config_map(version: ServerVersion) -> Value {
    json!({
        "metadata": {
            "name": CONFIG_MAP_NAME,
            "namespace": CONFIG_MAP_NAMESPACE,
            "labels": { "app.kubernetes.io/managed-by": "kube-sim" },
            "annotations": {
                "kube-sim/purpose": "/version reports data.gitVersion; change it to upgrade the control plane",
            },
        },
        "data": { CONFIG_MAP_KEY: version.git_version() },
    })
}

/// Whether `namespace/name` is the version ConfigMap.
pub fn is_version_config_map(namespace: &str, name: &str) -> bool {
    namespace == CONFIG_MAP_NAMESPACE && name == CONFIG_MAP_NAME
}

/// Refuses a version ConfigMap whose `gitVersion` does not parse (other ConfigMaps pass).
pub fn validate_config_map(object: &Value) -> Result<(), ApiError> {
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    if !is_version_config_map(namespace, name) {
        return Ok(());
    }
    let field = format!("data.{CONFIG_MAP_KEY}");
    let Some(text) = object["data"][CONFIG_MAP_KEY].as_str() else {
        return Err(ApiError::invalid(
            "ConfigMap",
            name,
            &field,
            "Required value: kube-sim's /version reads it (e.g. v1.30.2)",
        ));
    };
    text.parse::<ServerVersion>()
        .map(|_| ())
        .map_err(|e| ApiError::invalid("ConfigMap", name, &field, format!("Invalid value: {e}")))
}

/// Creates the version ConfigMap at start.
pub fn publish(cluster: &crate::cluster::Cluster, version: ServerVersion) {
    if let Some(config_maps) = crate::resources::find("", "v1", "configmaps") {
        // kube-system exists from the start and holds no such ConfigMap yet.
        let _ = cluster.create(config_maps, CONFIG_MAP_NAMESPACE, config_map(version));
    }
}

/// The version `/version` reports now: the ConfigMap's, or `fallback` without one.
pub fn current(store: &Store, fallback: ServerVersion) -> ServerVersion {
    let Some(config_maps) = crate::resources::find("", "v1", "configmaps") else {
        return fallback;
    };
    store
        .get(config_maps, CONFIG_MAP_NAMESPACE, CONFIG_MAP_NAME)
        .ok()
        .and_then(|cm| cm["data"][CONFIG_MAP_KEY].as_str().map(str::to_owned))
        .and_then(|text| text.parse().ok())
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_or_without_patch_and_v() {
        let old: ServerVersion = "1.28".parse().unwrap();
        assert_eq!(
            old,
            ServerVersion {
                major: 1,
                minor: 28,
                patch: 0
            }
        );
        assert_eq!(old.git_version(), "v1.28.0");
        let full: ServerVersion = "v1.29.4".parse().unwrap();
        assert_eq!((full.minor, full.patch), (29, 4));
        assert_eq!(
            "1.30.2".parse::<ServerVersion>().unwrap().to_string(),
            "v1.30.2"
        );
        for bad in ["1", "1.x", "1.2.3.4", "", "v", "1..2", "1.-2", "1.29.4-eks"] {
            assert!(bad.parse::<ServerVersion>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_version_document_reports_numbers_and_a_full_git_version() {
        let info = version_info("1.29.4".parse().unwrap());
        assert_eq!(info["major"], "1");
        assert_eq!(info["minor"], "29");
        assert_eq!(info["gitVersion"], "v1.29.4");
        assert_eq!(version_info(ServerVersion::default())["minor"], "33");
    }

    #[test]
    fn only_the_version_config_map_is_checked() {
        let good = config_map("1.30.2".parse().unwrap());
        validate_config_map(&good).unwrap();
        let mut bad = good.clone();
        bad["data"][CONFIG_MAP_KEY] = json!("next week");
        let error = validate_config_map(&bad).unwrap_err();
        assert!(matches!(error, ApiError::Invalid { .. }), "{error}");
        bad["data"] = json!({});
        assert!(validate_config_map(&bad).is_err());
        bad["metadata"]["name"] = json!("something-else");
        validate_config_map(&bad).unwrap();
    }

    #[test]
    fn the_current_version_follows_the_config_map() {
        let (store, _) = Store::new(100, std::env::temp_dir());
        let fallback: ServerVersion = "1.29.4".parse().unwrap();
        assert_eq!(current(&store, fallback), fallback);
        let config_maps = crate::resources::find("", "v1", "configmaps").unwrap();
        store
            .create(
                config_maps,
                CONFIG_MAP_NAMESPACE,
                config_map("1.30.2".parse().unwrap()),
            )
            .unwrap();
        assert_eq!(current(&store, fallback).git_version(), "v1.30.2");
    }
}
