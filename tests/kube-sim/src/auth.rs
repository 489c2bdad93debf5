//! Authentication: who a request is, from its bearer token, as the API server's token
//! authenticators tell it — kube-sim's admin token (the kubeconfig's user, in
//! `system:masters`), a ServiceAccount token issued by [`crate::tokens`], or nobody.
//!
//! # Design
//!
//! - The admin token is checked first and needs no lookup: every client kube-sim's own
//!   kubeconfig configures (adze's executor, `adze controller`, the tests' kubectl) keeps
//!   full access, so enabling RBAC changes nothing for them.
//! - A request without a token is anonymous and may read only `/version` and the health
//!   checks (the API server's `system:public-info-viewer`); anything else is 401 rather than
//!   the 403 an API server with anonymous authentication would give, as before RBAC.
//!
//! # Invariants
//!
//! - A wrong token is 401 everywhere, even on `/version`, as on a real server.
//!
//! # Not yet
//!
//! - Client certificates, OIDC, impersonation, the `uid` and `extra` of a user.

use axum::http::{header, HeaderMap};

use crate::api_error::ApiError;
use crate::store::Store;
use crate::tokens::Tokens;

/// The admin user: the kubeconfig's user name, as the audit log has always named it.
pub const ADMIN: &str = "kube-sim";

/// The group whose members RBAC never restricts (Kubernetes' superuser group).
pub const MASTERS: &str = "system:masters";

/// The group every authenticated user is in.
pub const AUTHENTICATED: &str = "system:authenticated";

/// The group of requests without credentials.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";

/// The user of a request without a token.
pub const ANONYMOUS: &str = "system:anonymous";

/// An authenticated identity, as the authorizer and the audit log see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name (`kube-sim`, `system:serviceaccount:ci:upgrader`).
    pub name: String,
    /// Its groups.
    pub groups: Vec<String>,
}

impl User {
    /// The holder of kube-sim's admin token.
    pub fn admin() -> User {
        User {
            name: ADMIN.to_owned(),
            groups: vec![MASTERS.to_owned(), AUTHENTICATED.to_owned()],
        }
    }

    /// A request without credentials.
    pub fn anonymous() -> User {
        User {
            name: ANONYMOUS.to_owned(),
            groups: vec![UNAUTHENTICATED.to_owned()],
        }
    }

    /// ServiceAccount `namespace/name`, with the groups the API server gives it.
    pub fn service_account(namespace: &str, name: &str) -> User {
        User {
            name: service_account_user(namespace, name),
            groups: vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
                AUTHENTICATED.to_owned(),
            ],
        }
    }

    /// Whether RBAC is bypassed for this user.
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }
}

/// `system:serviceaccount:<namespace>:<name>`.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// Where `SelfSubjectReview`s are created (`kubectl auth whoami`).
pub const SELF_SUBJECT_REVIEW_PATH: &str = "/apis/authentication.k8s.io/v1/selfsubjectreviews";

/// The `SelfSubjectReview` Kubernetes answers `user` with: who the request was.
pub fn self_subject_review(user: &User) -> serde_json::Value {
    serde_json::json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": { "creationTimestamp": null },
        "status": { "userInfo": { "username": user.name, "groups": user.groups } },
    })
}

/// Who sent the request: `Ok(None)` is anonymous (no `Authorization` header); a token nobody
/// issued, or whose ServiceAccount (or bound object) is gone, is 401.
pub fn authenticate(
    headers: &HeaderMap,
    admin_token: &str,
    tokens: &Tokens,
    store: &Store,
) -> Result<Option<User>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthorized)?;
    if token == admin_token {
        return Ok(Some(User::admin()));
    }
    tokens
        .user(store, token)
        .map(Some)
        .ok_or(ApiError::Unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_accounts_get_the_api_servers_groups() {
        let user = User::service_account("ci", "upgrader");
        assert_eq!(user.name, "system:serviceaccount:ci:upgrader");
        assert_eq!(
            user.groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:ci",
                "system:authenticated"
            ]
        );
        assert!(!user.is_master());
        assert!(User::admin().is_master());
        let review = self_subject_review(&user);
        assert_eq!(
            review["status"]["userInfo"]["username"],
            "system:serviceaccount:ci:upgrader"
        );
        assert_eq!(
            review["status"]["userInfo"]["groups"][1],
            "system:serviceaccounts:ci"
        );
    }

    #[test]
    fn tokens_are_checked_before_anything_else() {
        let (store, _) = Store::new(10, std::env::temp_dir());
        let tokens = Tokens::default();
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            headers
        };
        assert_eq!(
            authenticate(&with("Bearer admin"), "admin", &tokens, &store).unwrap(),
            Some(User::admin())
        );
        assert!(authenticate(&with("Bearer nope"), "admin", &tokens, &store).is_err());
        assert!(authenticate(&with("Basic YTpi"), "admin", &tokens, &store).is_err());
        assert_eq!(
            authenticate(&HeaderMap::new(), "admin", &tokens, &store).unwrap(),
            None
        );
    }
}
