//! The kubelet's view of the API server ([`PodHost`]) with identities: the store's objects
//! (through its own [`PodHost`] implementation) plus ServiceAccounts, tokens from
//! [`Tokens`] bound to the Pod, and where Pods reach this server.
//!
//! # Design
//!
//! A wrapper rather than more methods on the store: tokens and the server's address and CA
//! are not objects, and the store knows nothing of them.
//!
//! # Invariants
//!
//! - Every [`PodHost`] method the store implements is delegated, those with a default too
//!   (`pod`): a method added to the trait later must be added here, or the kubelet silently
//!   gets the default.

use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Pod, PodStatus, Secret, ServiceAccount};

use crate::kubelet::{ApiEndpoint, PodHost};
use crate::resources;
use crate::store::Store;
use crate::tokens::{TokenSpec, Tokens};

/// Where Pods reach the API server.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// For Pods on the host's network.
    pub host_network: ApiEndpoint,
    /// For Pods on Docker's bridge network, when the server listens where they reach it.
    pub bridge: Option<ApiEndpoint>,
}

/// The store, tokens and endpoints, as the kubelet sees them.
pub struct IdentityHost {
    store: Arc<Store>,
    tokens: Arc<Tokens>,
    endpoints: Endpoints,
}

impl IdentityHost {
    /// A host issuing tokens from `tokens` for the accounts in `store`.
    pub fn new(store: Arc<Store>, tokens: Arc<Tokens>, endpoints: Endpoints) -> IdentityHost {
        IdentityHost {
            store,
            tokens,
            endpoints,
        }
    }
}

impl PodHost for IdentityHost {
    fn config_map(&self, namespace: &str, name: &str) -> Option<ConfigMap> {
        self.store.config_map(namespace, name)
    }

    fn secret(&self, namespace: &str, name: &str) -> Option<Secret> {
        self.store.secret(namespace, name)
    }

    fn claim_dir(&self, namespace: &str, claim: &str) -> Option<PathBuf> {
        self.store.claim_dir(namespace, claim)
    }

    fn set_pod_status(&self, namespace: &str, name: &str, status: PodStatus) {
        self.store.set_pod_status(namespace, name, status);
    }

    fn pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        self.store.pod(namespace, name)
    }

    fn service_account(&self, namespace: &str, name: &str) -> Option<ServiceAccount> {
        let accounts = resources::find("", "v1", "serviceaccounts")?;
        let object = self.store.get(accounts, namespace, name).ok()?;
        serde_json::from_value((*object).clone()).ok()
    }

    fn service_account_token(
        &self,
        pod: &Pod,
        audience: Option<&str>,
        expiration_seconds: i64,
    ) -> Result<Option<String>, String> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let spec = pod.spec.as_ref();
        let account = spec
            .and_then(|s| s.service_account_name.as_deref())
            .filter(|n| !n.is_empty())
            .unwrap_or("default");
        let request = TokenSpec {
            audiences: audience.map(str::to_owned).into_iter().collect(),
            expiration_seconds: Some(expiration_seconds),
            bound: Some((
                "Pod".to_owned(),
                pod.metadata.name.clone().unwrap_or_default(),
                pod.metadata.uid.clone(),
            )),
        };
        self.tokens
            .issue(&self.store, namespace, account, &request)
            .map(|issued| Some(issued.token))
            .map_err(|e| e.to_string())
    }

    fn api_endpoint(&self, host_network: bool) -> Option<ApiEndpoint> {
        if host_network {
            Some(self.endpoints.host_network.clone())
        } else {
            self.endpoints.bridge.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pods_get_tokens_of_their_account_bound_to_them() {
        let (store, _) = Store::new(100, std::env::temp_dir());
        let store = Arc::new(store);
        let find = |plural| resources::find("", "v1", plural).unwrap();
        store
            .create(
                find("serviceaccounts"),
                "ci",
                json!({ "metadata": { "name": "builder" } }),
            )
            .unwrap();
        let stored = store
            .create(
                find("pods"),
                "ci",
                json!({ "metadata": { "name": "p" }, "spec": { "serviceAccountName": "builder" } }),
            )
            .unwrap();
        let tokens = Arc::new(Tokens::default());
        let endpoint = ApiEndpoint {
            host: "127.0.0.1".into(),
            port: 1,
            ca_pem: "CA".into(),
        };
        let host = IdentityHost::new(
            store.clone(),
            tokens.clone(),
            Endpoints {
                host_network: endpoint.clone(),
                bridge: None,
            },
        );
        assert_eq!(host.api_endpoint(true), Some(endpoint));
        assert_eq!(host.api_endpoint(false), None);
        assert!(host.service_account("ci", "builder").is_some());
        let pod: Pod = serde_json::from_value((*stored).clone()).unwrap();
        let token = host
            .service_account_token(&pod, None, 3607)
            .unwrap()
            .unwrap();
        let user = tokens.user(&store, &token).unwrap();
        assert_eq!(user.name, "system:serviceaccount:ci:builder");
        store.remove(find("pods"), "ci", "p").unwrap();
        assert!(tokens.user(&store, &token).is_none());
        let mut stray = pod.clone();
        stray.spec.as_mut().unwrap().service_account_name = Some("ghost".into());
        assert_eq!(
            host.service_account_token(&stray, None, 3607).unwrap_err(),
            "serviceaccounts \"ghost\" not found"
        );
    }
}
