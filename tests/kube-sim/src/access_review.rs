//! `SelfSubjectAccessReview` (`POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`):
//! "may I do this?", answered by the same [`rbac`] evaluation a real request gets, so that
//! `kubectl auth can-i` works against kube-sim.
//!
//! # Not yet
//!
//! - `SubjectAccessReview` (asking about another user), `LocalSubjectAccessReview`,
//!   `SelfSubjectRulesReview` (`kubectl auth can-i --list`), and discovery of the
//!   `authorization.k8s.io` group (kubectl does not need it to create a review).

use serde_json::{json, Value};

use crate::audit::RequestInfo;
use crate::auth::User;
use crate::rbac::{self, Decision, Policy};
use crate::store::Store;

/// Where reviews are created.
pub const PATH: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/// The attributes a review's `spec` asks about, and the path of a non-resource one.
fn attributes(spec: &Value) -> (RequestInfo, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let resource = &spec["resourceAttributes"];
    if resource.is_object() {
        let info = RequestInfo {
            is_resource_request: true,
            verb: text(&resource["verb"]),
            api_group: text(&resource["group"]),
            api_version: text(&resource["version"]),
            resource: text(&resource["resource"]),
            subresource: text(&resource["subresource"]),
            namespace: text(&resource["namespace"]),
            name: text(&resource["name"]),
        };
        return (info, String::new());
    }
    let other = &spec["nonResourceAttributes"];
    let info = RequestInfo {
        verb: text(&other["verb"]),
        ..RequestInfo::default()
    };
    (info, text(&other["path"]))
}

/// The review, answered for `user`: the request with `status.allowed` (and the denial's
/// reason, when RBAC gave one).
pub fn review(store: &Store, user: &User, request: &Value) -> Value {
    let spec = request["spec"].clone();
    let (info, path) = attributes(&spec);
    let decision = if user.is_master() {
        Decision::Allow
    } else {
        rbac::authorize(user, &info, &path, &Policy::load(store, &info.namespace))
    };
    let status = match decision {
        Decision::Allow => json!({ "allowed": true }),
        Decision::Deny(reason) if reason.is_empty() => json!({ "allowed": false }),
        Decision::Deny(reason) => json!({ "allowed": false, "reason": reason }),
    };
    json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": { "creationTimestamp": null },
        "spec": spec,
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_is_answered_as_the_request_would_be() {
        let (store, _) = Store::new(10, std::env::temp_dir());
        let ask = |user: &User, spec: Value| review(&store, user, &json!({ "spec": spec }));
        let account = User::service_account("ci", "upgrader");
        let pods = json!({ "resourceAttributes": { "namespace": "ci", "verb": "get", "resource": "pods" } });
        assert_eq!(ask(&account, pods.clone())["status"]["allowed"], false);
        assert_eq!(ask(&User::admin(), pods)["status"]["allowed"], true);
        let discovery = json!({ "nonResourceAttributes": { "path": "/apis", "verb": "get" } });
        assert_eq!(ask(&account, discovery)["status"]["allowed"], true);
    }
}
