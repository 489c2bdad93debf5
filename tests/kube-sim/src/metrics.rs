//! `GET /metrics`: the API server's Prometheus metrics, as a test wants them to read. kube-sim
//! measures nothing; a test that checks what a client makes of the metrics (the catalog's
//! upgrade preflight reads `apiserver_requested_deprecated_apis` to find clients of APIs the
//! next release removes) writes the exposition text into one well-known object, the ConfigMap
//! `kube-system/kube-sim-metrics` (key `metrics`), and `/metrics` serves it as it is.
//!
//! # Design
//!
//! Like `/version` (the ConfigMap `kube-system/kube-sim-version`), the metrics live in an
//! ordinary object, so a test sets them with `kubectl apply`, the change is visible with
//! `kubectl get`, and no hidden endpoint or option exists. Reading `/metrics` needs a token
//! (a non-resource URL that RBAC grants with `nonResourceURLs: ["/metrics"]`), as on a real
//! API server.
//!
//! # Not yet
//!
//! - Metrics of kube-sim's own (request counts, latencies): without the ConfigMap the
//!   document is empty.

use crate::store::Store;

/// The namespace of the metrics ConfigMap.
pub const CONFIG_MAP_NAMESPACE: &str = "kube-system";

/// The name of the ConfigMap `/metrics` serves.
pub const CONFIG_MAP_NAME: &str = "kube-sim-metrics";

/// The key holding the exposition text.
pub const CONFIG_MAP_KEY: &str = "metrics";

/// The `Content-Type` of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What `/metrics` serves now: the ConfigMap's text, or nothing without one.
pub fn document(store: &Store) -> String {
    let Some(config_maps) = crate::resources::find("", "v1", "configmaps") else {
        return String::new();
    };
    store
        .get(config_maps, CONFIG_MAP_NAMESPACE, CONFIG_MAP_NAME)
        .ok()
        .and_then(|cm| cm["data"][CONFIG_MAP_KEY].as_str().map(str::to_owned))
        .unwrap_or_default()
}
