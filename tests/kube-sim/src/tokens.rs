//! ServiceAccount tokens: the TokenRequest API (`POST
//! /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`, what `kubectl create token` and the
//! kubelet's projected tokens use) and the lookup that turns a presented token back into
//! the ServiceAccount's [`User`].
//!
//! # Design
//!
//! - A token is 32 random hex characters kept in memory with what it was issued for, not a
//!   signed JWT: nothing outside kube-sim verifies it, and a lookup table makes revocation
//!   exact. A token works while it has not expired, one of its audiences is the API
//!   server's ([`API_AUDIENCE`]), its ServiceAccount exists with the uid it had at issue (a
//!   deleted, or deleted and re-created, account's tokens stop working) and, when bound to
//!   a Pod or Secret, that object exists with the uid it had.
//! - Requests are validated as the API server does: `expirationSeconds` between 10 minutes and
//!   2³² seconds (default one hour), a bound object that exists with the given uid.
//!
//! # Not yet
//!
//! - JWTs (`kubectl` never looks inside a token; tools that decode one would find none),
//!   the token controller's legacy `kubernetes.io/service-account-token` Secrets, binding to
//!   Nodes, and the issuer discovery endpoints.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::auth::User;
use crate::resources::{self, ResourceDef};
use crate::store::Store;

/// The audience the API server accepts (what kubeadm and kind clusters use).
pub const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// The lifetime of a token when the request names none.
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;

/// The shortest lifetime the API server issues.
const MIN_EXPIRATION_SECONDS: i64 = 600;

/// The longest lifetime the API server issues (2³² seconds).
const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;

/// What a token is asked for (`TokenRequestSpec`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenSpec {
    /// Who the token is for; empty means the API server.
    pub audiences: Vec<String>,
    /// Its lifetime; `None` is [`DEFAULT_EXPIRATION_SECONDS`].
    pub expiration_seconds: Option<i64>,
    /// The object whose deletion revokes it: kind, name and (optionally) uid.
    pub bound: Option<(String, String, Option<String>)>,
}

impl TokenSpec {
    /// Reads `spec` of a TokenRequest object.
    pub fn from_request(request: &Value) -> TokenSpec {
        let spec = &request["spec"];
        let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        let bound = &spec["boundObjectRef"];
        TokenSpec {
            audiences: spec["audiences"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            expiration_seconds: spec["expirationSeconds"].as_i64(),
            bound: text(&bound["kind"]).map(|kind| {
                (
                    kind,
                    text(&bound["name"]).unwrap_or_default(),
                    text(&bound["uid"]),
                )
            }),
        }
    }
}

/// A token and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The bearer token.
    pub token: String,
    /// Its expiry.
    pub expires: DateTime<Utc>,
    /// Its audiences (defaulted).
    pub audiences: Vec<String>,
    /// Its lifetime in seconds (defaulted).
    pub expiration_seconds: i64,
}

/// An object a token is bound to.
#[derive(Debug, Clone)]
struct BoundObject {
    resource: &'static ResourceDef,
    name: String,
    uid: String,
}

/// What one token was issued for.
#[derive(Debug, Clone)]
struct Grant {
    namespace: String,
    account: String,
    account_uid: String,
    bound: Option<BoundObject>,
    audiences: Vec<String>,
    expires: DateTime<Utc>,
}

/// Every token issued by this server.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: Mutex<HashMap<String, Grant>>,
}

fn service_accounts() -> Result<&'static ResourceDef, ApiError> {
    resources::find("", "v1", "serviceaccounts").ok_or(ApiError::NoRoute)
}

/// The uid of a stored object.
fn uid_of(object: &Value) -> String {
    object["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

impl Tokens {
    /// Issues a token for ServiceAccount `namespace/account`.
    pub fn issue(
        &self,
        store: &Store,
        namespace: &str,
        account: &str,
        spec: &TokenSpec,
    ) -> Result<Issued, ApiError> {
        let seconds = spec
            .expiration_seconds
            .unwrap_or(DEFAULT_EXPIRATION_SECONDS);
        let invalid = |detail: String| {
            ApiError::invalid(
                "TokenRequest.authentication.k8s.io",
                account,
                "spec.expirationSeconds",
                detail,
            )
        };
        if seconds < MIN_EXPIRATION_SECONDS {
            return Err(invalid(format!(
                "Invalid value: {seconds}: may not specify a duration less than 10 minutes"
            )));
        }
        if seconds > MAX_EXPIRATION_SECONDS {
            return Err(invalid(format!(
                "Invalid value: {seconds}: may not specify a duration larger than 2^32 seconds"
            )));
        }
        let account_object = store.get(service_accounts()?, namespace, account)?;
        let bound = spec
            .bound
            .as_ref()
            .map(|(kind, name, uid)| bind(store, namespace, kind, name, uid.as_deref()))
            .transpose()?;
        let audiences = if spec.audiences.is_empty() {
            vec![API_AUDIENCE.to_owned()]
        } else {
            spec.audiences.clone()
        };
        let expires = Utc::now() + chrono::Duration::seconds(seconds);
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut issued = self.lock();
        let now = Utc::now();
        issued.retain(|_, grant| grant.expires > now);
        issued.insert(
            token.clone(),
            Grant {
                namespace: namespace.to_owned(),
                account: account.to_owned(),
                account_uid: uid_of(&account_object),
                bound,
                audiences: audiences.clone(),
                expires,
            },
        );
        Ok(Issued {
            token,
            expires,
            audiences,
            expiration_seconds: seconds,
        })
    }

    /// Answers a TokenRequest for `namespace/account` with the TokenRequest Kubernetes
    /// returns (the spec defaulted, the token in `status`).
    pub fn request(
        &self,
        store: &Store,
        namespace: &str,
        account: &str,
        request: &Value,
    ) -> Result<Value, ApiError> {
        let spec = TokenSpec::from_request(request);
        let issued = self.issue(store, namespace, account, &spec)?;
        let bound = match &spec.bound {
            Some((kind, name, uid)) => json!({
                "kind": kind,
                "apiVersion": "v1",
                "name": name,
                "uid": uid.clone().unwrap_or_default(),
            }),
            None => Value::Null,
        };
        Ok(json!({
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {
                "name": account,
                "namespace": namespace,
                "creationTimestamp": null,
            },
            "spec": {
                "audiences": issued.audiences,
                "expirationSeconds": issued.expiration_seconds,
                "boundObjectRef": bound,
            },
            "status": {
                "token": issued.token,
                "expirationTimestamp": issued
                    .expires
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
        }))
    }

    /// The ServiceAccount a presented token authenticates as, if it still works.
    pub fn user(&self, store: &Store, token: &str) -> Option<User> {
        let grant = self.lock().get(token).cloned()?;
        if grant.expires <= Utc::now() || !grant.audiences.iter().any(|a| a == API_AUDIENCE) {
            return None;
        }
        let account = store
            .get(service_accounts().ok()?, &grant.namespace, &grant.account)
            .ok()?;
        if uid_of(&account) != grant.account_uid {
            return None;
        }
        if let Some(bound) = &grant.bound {
            let namespace = if bound.resource.namespaced {
                grant.namespace.as_str()
            } else {
                ""
            };
            let object = store.get(bound.resource, namespace, &bound.name).ok()?;
            if uid_of(&object) != bound.uid {
                return None;
            }
        }
        Some(User::service_account(&grant.namespace, &grant.account))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Grant>> {
        self.issued
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The object a token is to be bound to, as it is stored now.
fn bind(
    store: &Store,
    namespace: &str,
    kind: &str,
    name: &str,
    uid: Option<&str>,
) -> Result<BoundObject, ApiError> {
    let plural = match kind {
        "Pod" => "pods",
        "Secret" => "secrets",
        other => {
            return Err(ApiError::BadRequest(format!(
                "cannot bind token for object of kind {other:?}: kube-sim binds tokens to Pods \
                 and Secrets only"
            )))
        }
    };
    let resource = resources::find("", "v1", plural).ok_or(ApiError::NoRoute)?;
    let object = store.get(resource, namespace, name)?;
    let stored = uid_of(&object);
    if let Some(uid) = uid.filter(|u| *u != stored) {
        return Err(ApiError::Conflict {
            resource: plural.to_owned(),
            name: name.to_owned(),
            detail: format!(
                "the UID in the bound object reference ({uid}) does not match the UID in \
                 record. The object might have been deleted and then recreated"
            ),
        });
    }
    Ok(BoundObject {
        resource,
        name: name.to_owned(),
        uid: stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(objects: &[(&str, &str, &str)]) -> Store {
        let (store, _) = Store::new(100, std::env::temp_dir());
        for (plural, namespace, name) in objects {
            let resource = resources::find("", "v1", plural).unwrap();
            store
                .create(resource, namespace, json!({ "metadata": { "name": name } }))
                .unwrap();
        }
        store
    }

    fn remove(store: &Store, plural: &str, namespace: &str, name: &str) {
        let resource = resources::find("", "v1", plural).unwrap();
        store.remove(resource, namespace, name).unwrap();
    }

    #[test]
    fn a_token_is_its_service_account_until_the_account_is_deleted() {
        let store = store_with(&[("serviceaccounts", "ci", "upgrader")]);
        let tokens = Tokens::default();
        let issued = tokens
            .issue(&store, "ci", "upgrader", &TokenSpec::default())
            .unwrap();
        assert_eq!(issued.audiences, [API_AUDIENCE]);
        assert_eq!(issued.expiration_seconds, 3600);
        assert_eq!(
            tokens.user(&store, &issued.token),
            Some(User::service_account("ci", "upgrader"))
        );
        assert_eq!(tokens.user(&store, "other"), None);
        remove(&store, "serviceaccounts", "ci", "upgrader");
        assert_eq!(tokens.user(&store, &issued.token), None);
        // Re-created under the same name, it is another account: old tokens stay dead.
        let accounts = resources::find("", "v1", "serviceaccounts").unwrap();
        store
            .create(
                accounts,
                "ci",
                json!({ "metadata": { "name": "upgrader" } }),
            )
            .unwrap();
        assert_eq!(tokens.user(&store, &issued.token), None);
    }

    #[test]
    fn requests_are_validated_as_the_api_server_does() {
        let store = store_with(&[("serviceaccounts", "ci", "sa"), ("pods", "ci", "p")]);
        let tokens = Tokens::default();
        let short = TokenSpec {
            expiration_seconds: Some(60),
            ..TokenSpec::default()
        };
        assert_eq!(
            tokens
                .issue(&store, "ci", "sa", &short)
                .unwrap_err()
                .to_string(),
            "TokenRequest.authentication.k8s.io \"sa\" is invalid: spec.expirationSeconds: \
             Invalid value: 60: may not specify a duration less than 10 minutes"
        );
        assert_eq!(
            tokens
                .issue(&store, "ci", "missing", &TokenSpec::default())
                .unwrap_err()
                .to_string(),
            "serviceaccounts \"missing\" not found"
        );
        let bound = |name: &str, uid: Option<&str>| TokenSpec {
            bound: Some(("Pod".into(), name.into(), uid.map(str::to_owned))),
            ..TokenSpec::default()
        };
        assert!(tokens
            .issue(&store, "ci", "sa", &bound("gone", None))
            .is_err());
        assert!(matches!(
            tokens.issue(&store, "ci", "sa", &bound("p", Some("other-uid"))),
            Err(ApiError::Conflict { .. })
        ));
        let other_audience = TokenSpec {
            audiences: vec!["vault".into()],
            ..TokenSpec::default()
        };
        let vault = tokens.issue(&store, "ci", "sa", &other_audience).unwrap();
        assert_eq!(tokens.user(&store, &vault.token), None);
    }

    #[test]
    fn a_token_bound_to_a_pod_dies_with_the_pod() {
        let store = store_with(&[("serviceaccounts", "ci", "sa"), ("pods", "ci", "p")]);
        let tokens = Tokens::default();
        let request = json!({
            "spec": { "boundObjectRef": { "kind": "Pod", "name": "p" }, "expirationSeconds": 3607 }
        });
        let answer = tokens.request(&store, "ci", "sa", &request).unwrap();
        assert_eq!(answer["kind"], "TokenRequest");
        assert_eq!(answer["spec"]["expirationSeconds"], 3607);
        let token = answer["status"]["token"].as_str().unwrap();
        assert!(tokens.user(&store, token).is_some());
        remove(&store, "pods", "ci", "p");
        assert_eq!(tokens.user(&store, token), None);
    }
}
