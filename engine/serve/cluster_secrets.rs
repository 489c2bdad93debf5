//! Interceptor secrets read from the API server, for a listener running in the cluster: the
//! Secret documents loaded with `-f` first, then the namespace's Secrets, as Tekton's
//! interceptors read them.
//!
//! # Design
//!
//! Lookups are cached for [`CACHE_FOR`] (upstream caches up to 5 s), so a burst of webhooks
//! costs one API call per Secret, and a rotated Secret is used within seconds. A Secret that
//! does not exist is cached too. Values never leave this module except to the interceptor
//! that compares them, and each value read is added to the server's masker, should one ever
//! reach a message.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::mask::Masker;
use crate::triggers::interceptor::{SecretMap, Secrets};

/// How long a lookup is reused.
pub const CACHE_FOR: Duration = Duration::from_secs(5);

/// One Secret's data, or `None` when it does not exist.
type Data = Option<BTreeMap<String, Vec<u8>>>;

/// Secrets from the loaded files, then from the API server.
pub struct ClusterSecrets {
    loaded: Arc<SecretMap>,
    client: kube::Client,
    runtime: tokio::runtime::Handle,
    cache: Mutex<HashMap<(String, String), (Instant, Data)>>,
    masker: Arc<Masker>,
}

impl ClusterSecrets {
    /// Reads `loaded` first, then Secrets through `client` (driven by `runtime`).
    pub fn new(
        loaded: Arc<SecretMap>,
        client: kube::Client,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        ClusterSecrets {
            loaded,
            client,
            runtime,
            cache: Mutex::new(HashMap::new()),
            masker: Arc::new(Masker::new()),
        }
    }

    /// Adds every value read from the cluster to `masker` from now on.
    pub fn masking(mut self, masker: Arc<Masker>) -> Self {
        self.masker = masker;
        self
    }

    fn fetch(&self, namespace: &str, name: &str) -> Data {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        match self.runtime.block_on(api.get_opt(name)) {
            Ok(Some(secret)) => Some(
                secret
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.0))
                    .collect(),
            ),
            Ok(None) => None,
            Err(e) => {
                // Names only: the error of a failed read never holds a value.
                eprintln!("adze serve: cannot read Secret {namespace}/{name}: {e}");
                None
            }
        }
    }
}

impl Secrets for ClusterSecrets {
    fn get(&self, namespace: &str, name: &str, key: &str) -> Option<Vec<u8>> {
        if let Some(v) = self.loaded.get(namespace, name, key) {
            return Some(v);
        }
        let id = (namespace.to_string(), name.to_string());
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, data)) = cache.get(&id) {
                if at.elapsed() < CACHE_FOR {
                    return data.as_ref()?.get(key).cloned();
                }
            }
        }
        let data = self.fetch(namespace, name);
        for value in data.iter().flat_map(|d| d.values()) {
            // Too short to mask: nothing to add, and the Secret's name is not worth a
            // warning per webhook.
            let _ = self.masker.add(&String::from_utf8_lossy(value));
        }
        let value = data.as_ref().and_then(|d| d.get(key).cloned());
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, (Instant::now(), data));
        value
    }
}
