//! RBAC authorization: whether a user may make a request, decided from the stored Roles,
//! ClusterRoles, RoleBindings and ClusterRoleBindings as Kubernetes' RBAC authorizer
//! (`plugin/pkg/auth/authorizer/rbac`) decides it, and the 403 it answers otherwise.
//!
//! # Design
//!
//! - The request's attributes are the audit log's [`RequestInfo`] (verb from method and path,
//!   group, resource, subresource, namespace, name) plus the path for non-resource requests;
//!   one resolution serves both, so what the audit log shows is what was authorized.
//! - [`Policy`] is a snapshot of the RBAC objects that can apply to one request (every
//!   ClusterRole and ClusterRoleBinding, the Roles and RoleBindings of its namespace),
//!   loaded per request: the objects are few, and a change is in force at the next request,
//!   as with the API server's informers (which lag a little; this does not).
//! - Rules match as in `rbac/v1/evaluation_helpers.go`: `*` or the exact verb, API group,
//!   resource (`resource/subresource` combined, `*/subresource`), resourceNames (an empty
//!   list matches all, a non-empty one never matches a request without a name: list, watch
//!   and create), and nonResourceURLs (exact, `*`, or a `prefix*`). ClusterRoleBindings apply
//!   everywhere; RoleBindings in their namespace only, to a Role there or a ClusterRole;
//!   subjects are Users, Groups, and ServiceAccounts (namespace defaulting to the
//!   binding's).
//! - The bootstrap ClusterRoles every cluster has are built in, not stored: discovery
//!   (`system:discovery`), `system:basic-user` (self-subject reviews) and
//!   `system:public-info-viewer` for every authenticated user. `system:masters` is never
//!   asked (the admin token).
//! - A binding that applies to the user but names a role that does not exist adds
//!   `RBAC: role.rbac.authorization.k8s.io "x" not found` to the denial, as Kubernetes does.
//!
//! # Not yet
//!
//! - ClusterRole aggregation (`aggregationRule`: such a role has only the rules stored in
//!   it), privilege-escalation checks on writes of roles and bindings (`escalate`, `bind`),
//!   impersonation, and the default ClusterRoles (`admin`, `edit`, `view`, `cluster-admin`)
//!   as stored objects.

use std::collections::HashMap;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use serde_json::Value;

use crate::api_error::ApiError;
use crate::audit::RequestInfo;
use crate::auth::{User, AUTHENTICATED, UNAUTHENTICATED};
use crate::resources;
use crate::store::Store;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The outcome of authorizing one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Some rule allows it.
    Allow,
    /// Nothing allows it; the reason (possibly empty) follows the message after `: `.
    Deny(String),
}

/// A binding, cluster-wide (namespace empty) or in a namespace.
#[derive(Debug, Clone)]
struct Binding {
    namespace: String,
    role_ref: RoleRef,
    subjects: Vec<Subject>,
}

/// The RBAC objects that can apply to a request.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    cluster_roles: HashMap<String, Vec<PolicyRule>>,
    roles: HashMap<(String, String), Vec<PolicyRule>>,
    cluster_role_bindings: Vec<Binding>,
    role_bindings: Vec<Binding>,
}

impl Policy {
    /// A policy made of these objects (Roles, ClusterRoles and their bindings, by `kind`);
    /// anything else, or anything malformed, is ignored.
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Policy {
        let mut policy = Policy::default();
        for object in objects {
            policy.add(object["kind"].as_str().unwrap_or_default(), object);
        }
        policy
    }

    /// The policy for a request in `namespace` (empty: a cluster-scoped one).
    pub fn load(store: &Store, namespace: &str) -> Policy {
        let mut policy = Policy::default();
        let mut add_all = |plural: &str, namespace: Option<&str>| {
            if let Some(resource) = resources::find(RBAC_GROUP, "v1", plural) {
                for object in store.list(resource, namespace).0 {
                    policy.add(resource.kind, &object);
                }
            }
        };
        add_all("clusterroles", None);
        add_all("clusterrolebindings", None);
        if !namespace.is_empty() {
            add_all("roles", Some(namespace));
            add_all("rolebindings", Some(namespace));
        }
        policy
    }

    fn add(&mut self, kind: &str, object: &Value) {
        fn typed<T: serde::de::DeserializeOwned>(object: &Value) -> Option<T> {
            serde_json::from_value(object.clone()).ok()
        }
        match kind {
            "ClusterRole" => {
                if let Some(role) = typed::<ClusterRole>(object) {
                    let name = role.metadata.name.unwrap_or_default();
                    self.cluster_roles
                        .insert(name, role.rules.unwrap_or_default());
                }
            }
            "Role" => {
                if let Some(role) = typed::<Role>(object) {
                    let key = (
                        role.metadata.namespace.unwrap_or_default(),
                        role.metadata.name.unwrap_or_default(),
                    );
                    self.roles.insert(key, role.rules.unwrap_or_default());
                }
            }
            "ClusterRoleBinding" => {
                if let Some(binding) = typed::<ClusterRoleBinding>(object) {
                    self.cluster_role_bindings.push(Binding {
                        namespace: String::new(),
                        role_ref: binding.role_ref,
                        subjects: binding.subjects.unwrap_or_default(),
                    });
                }
            }
            "RoleBinding" => {
                if let Some(binding) = typed::<RoleBinding>(object) {
                    self.role_bindings.push(Binding {
                        namespace: binding.metadata.namespace.unwrap_or_default(),
                        role_ref: binding.role_ref,
                        subjects: binding.subjects.unwrap_or_default(),
                    });
                }
            }
            _ => {}
        }
    }

    /// The rules `binding` grants, or the error Kubernetes reports for its missing role.
    fn rules_of(&self, binding: &Binding) -> Result<&[PolicyRule], String> {
        let name = &binding.role_ref.name;
        match binding.role_ref.kind.as_str() {
            "ClusterRole" => self
                .cluster_roles
                .get(name)
                .map(Vec::as_slice)
                .ok_or_else(|| format!("clusterrole.{RBAC_GROUP} {} not found", go_quote(name))),
            "Role" if !binding.namespace.is_empty() => self
                .roles
                .get(&(binding.namespace.clone(), name.clone()))
                .map(Vec::as_slice)
                .ok_or_else(|| format!("role.{RBAC_GROUP} {} not found", go_quote(name))),
            other => Err(format!(
                "unsupported role reference kind: {}",
                go_quote(other)
            )),
        }
    }
}

/// Go's `%q` for the strings Kubernetes quotes (names are ASCII in practice).
pub fn go_quote(s: &str) -> String {
    let mut quoted = String::with_capacity(s.len() + 2);
    quoted.push('"');
    for c in s.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn has(list: &[String], wanted: &str) -> bool {
    list.iter().any(|item| item == "*" || item == wanted)
}

fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    rule.resources.iter().flatten().any(|r| {
        r == "*"
            || r == combined
            || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
    })
}

fn url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().flatten().any(|u| {
        u == "*"
            || u == path
            || u.strip_suffix('*')
                .is_some_and(|prefix| path.starts_with(prefix))
    })
}

/// Whether `rule` allows the request (`path` matters only to non-resource requests).
pub fn rule_allows(rule: &PolicyRule, request: &RequestInfo, path: &str) -> bool {
    if !has(&rule.verbs, &request.verb) {
        return false;
    }
    if !request.is_resource_request {
        return url_matches(rule, path);
    }
    let combined = if request.subresource.is_empty() {
        request.resource.clone()
    } else {
        format!("{}/{}", request.resource, request.subresource)
    };
    let names = rule.resource_names.as_deref().unwrap_or_default();
    has(
        rule.api_groups.as_deref().unwrap_or_default(),
        &request.api_group,
    ) && resource_matches(rule, &combined, &request.subresource)
        && (names.is_empty() || names.contains(&request.name))
}

/// Whether `subject` (of a binding in `namespace`, empty for a ClusterRoleBinding) is `user`.
fn applies_to(subject: &Subject, user: &User, namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => subject.name == user.name,
        "Group" => user.groups.contains(&subject.name),
        "ServiceAccount" => {
            let account_namespace = subject
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(namespace);
            !account_namespace.is_empty()
                && user.name == crate::auth::service_account_user(account_namespace, &subject.name)
        }
        _ => false,
    }
}

fn rule(groups: &[&str], resources: &[&str], urls: &[&str], verbs: &[&str]) -> PolicyRule {
    let list = |items: &[&str]| {
        (!items.is_empty()).then(|| items.iter().map(|s| (*s).to_owned()).collect())
    };
    PolicyRule {
        api_groups: list(groups),
        resources: list(resources),
        non_resource_urls: list(urls),
        verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
        resource_names: None,
    }
}

/// The bootstrap ClusterRoles bound to every authenticated user (`system:discovery`,
/// `system:basic-user`, `system:public-info-viewer`) and, for the last, to anonymous ones.
fn bootstrap_rules(user: &User) -> Vec<PolicyRule> {
    let public = ["/healthz", "/livez", "/readyz", "/version", "/version/"];
    let mut rules = Vec::new();
    let in_group = |g: &str| user.groups.iter().any(|mine| mine == g);
    if in_group(AUTHENTICATED) || in_group(UNAUTHENTICATED) {
        rules.push(rule(&[], &[], &public, &["get"]));
    }
    if in_group(AUTHENTICATED) {
        rules.push(rule(
            &[],
            &[],
            &[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ],
            &["get"],
        ));
        rules.push(rule(
            &["authorization.k8s.io"],
            &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            &[],
            &["create"],
        ));
        rules.push(rule(
            &["authentication.k8s.io"],
            &["selfsubjectreviews"],
            &[],
            &["create"],
        ));
    }
    rules
}

/// Whether `user` may make `request` (at `path`) under `policy`.
pub fn authorize(user: &User, request: &RequestInfo, path: &str, policy: &Policy) -> Decision {
    if user.is_master() {
        return Decision::Allow;
    }
    if bootstrap_rules(user)
        .iter()
        .any(|r| rule_allows(r, request, path))
    {
        return Decision::Allow;
    }
    let mut errors = Vec::new();
    let namespaced = policy
        .role_bindings
        .iter()
        .filter(|b| !request.namespace.is_empty() && b.namespace == request.namespace);
    for binding in policy.cluster_role_bindings.iter().chain(namespaced) {
        if !binding
            .subjects
            .iter()
            .any(|s| applies_to(s, user, &binding.namespace))
        {
            continue;
        }
        match policy.rules_of(binding) {
            Ok(rules) if rules.iter().any(|r| rule_allows(r, request, path)) => {
                return Decision::Allow
            }
            Ok(_) => {}
            Err(error) => errors.push(error),
        }
    }
    Decision::Deny(match errors.as_slice() {
        [] => String::new(),
        [one] => format!("RBAC: {one}"),
        many => format!("RBAC: [{}]", many.join(", ")),
    })
}

/// The 403 Kubernetes answers when `user` may not make `request`, with the authorizer's
/// `reason` appended when there is one.
pub fn forbidden(user: &User, request: &RequestInfo, path: &str, reason: &str) -> ApiError {
    let who = go_quote(&user.name);
    let what = if !request.is_resource_request {
        format!("User {who} cannot {} path {}", request.verb, go_quote(path))
    } else {
        let resource = if request.subresource.is_empty() {
            request.resource.clone()
        } else {
            format!("{}/{}", request.resource, request.subresource)
        };
        let scope = if request.namespace.is_empty() {
            "at the cluster scope".to_owned()
        } else {
            format!("in the namespace {}", go_quote(&request.namespace))
        };
        format!(
            "User {who} cannot {} resource {} in API group {} {scope}",
            request.verb,
            go_quote(&resource),
            go_quote(&request.api_group)
        )
    };
    let what = if reason.is_empty() {
        what
    } else {
        format!("{what}: {reason}")
    };
    // `schema.GroupResource.String()`: the resource, qualified by its group.
    let qualified = match (request.resource.as_str(), request.api_group.as_str()) {
        ("", "") => String::new(),
        (resource, "") => resource.to_owned(),
        (resource, group) => format!("{resource}.{group}"),
    };
    let message = match (qualified.is_empty(), request.name.is_empty()) {
        (true, _) => format!("forbidden: {what}"),
        (false, true) => format!("{qualified} is forbidden: {what}"),
        (false, false) => format!(
            "{qualified} {} is forbidden: {what}",
            go_quote(&request.name)
        ),
    };
    ApiError::Denied {
        group: request.api_group.clone(),
        resource: request.resource.clone(),
        name: request.name.clone(),
        message,
    }
}

/// Authorizes `request` against the RBAC objects in `store`: `Ok` or the 403.
pub fn check(
    store: &Store,
    user: &User,
    request: &RequestInfo,
    path: &str,
) -> Result<(), ApiError> {
    if user.is_master() {
        return Ok(());
    }
    let policy = Policy::load(store, &request.namespace);
    match authorize(user, request, path, &policy) {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => Err(forbidden(user, request, path, &reason)),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Method;
    use serde_json::json;

    use super::*;

    fn request(method: Method, uri: &str) -> (RequestInfo, String) {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        (RequestInfo::resolve(&method, path, query), path.to_owned())
    }

    fn upgrader() -> User {
        User::service_account("ci", "upgrader")
    }

    /// A Role `ci/upgrader` with `rules`, bound to ServiceAccount `ci/upgrader`.
    fn policy_with(rules: Value) -> Policy {
        let objects = [
            json!({
                "kind": "Role", "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": { "name": "upgrader", "namespace": "ci" },
                "rules": rules,
            }),
            json!({
                "kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": { "name": "upgrader", "namespace": "ci" },
                "roleRef": { "apiGroup": RBAC_GROUP, "kind": "Role", "name": "upgrader" },
                "subjects": [{ "kind": "ServiceAccount", "name": "upgrader" }],
            }),
        ];
        Policy::from_objects(&objects)
    }

    fn allowed(policy: &Policy, user: &User, method: Method, uri: &str) -> bool {
        let (info, path) = request(method, uri);
        authorize(user, &info, &path, policy) == Decision::Allow
    }

    #[test]
    fn rules_match_groups_resources_subresources_verbs_and_names() {
        let policy = policy_with(json!([
            { "apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"] },
            { "apiGroups": ["policy"], "resources": ["pods/eviction"], "verbs": ["create"] },
            { "apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"] },
            { "apiGroups": ["apps"], "resources": ["*/status"], "verbs": ["get"] },
            { "apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "update"],
              "resourceNames": ["settings"] },
            { "apiGroups": ["*"], "resources": ["leases"], "verbs": ["watch"] },
        ]));
        let user = upgrader();
        let ci = "/api/v1/namespaces/ci";
        let apps = "/apis/apps/v1/namespaces/ci";
        let cases = [
            (Method::GET, format!("{ci}/pods/p"), true),
            (Method::GET, format!("{ci}/pods"), true),
            (Method::GET, format!("{ci}/pods?watch=true"), false),
            (Method::DELETE, format!("{ci}/pods/p"), false),
            (Method::GET, format!("{ci}/pods/p/log"), true),
            // `pods` does not grant its subresources, nor `pods/log` another one.
            (Method::GET, format!("{ci}/pods/p/status"), false),
            // Evictions are posted to the core group's path: a rule for `policy` misses.
            (Method::POST, format!("{ci}/pods/p/eviction"), false),
            (Method::PATCH, format!("{apps}/deployments/web"), true),
            (Method::DELETE, format!("{apps}/deployments"), true),
            (Method::GET, format!("{apps}/deployments/web/status"), true),
            (
                Method::PATCH,
                format!("{apps}/deployments/web/status"),
                false,
            ),
            (Method::GET, format!("{ci}/configmaps/settings"), true),
            (Method::PUT, format!("{ci}/configmaps/settings"), true),
            (Method::GET, format!("{ci}/configmaps/other"), false),
            // resourceNames never match a request without a name.
            (Method::GET, format!("{ci}/configmaps"), false),
            (
                Method::GET,
                format!("{ci}/configmaps?fieldSelector=metadata.name%3Dsettings"),
                true,
            ),
            (
                Method::GET,
                "/apis/coordination.k8s.io/v1/namespaces/ci/leases?watch=1".to_owned(),
                true,
            ),
            // The Role is in `ci`: nothing elsewhere, nothing cluster-wide.
            (
                Method::GET,
                "/api/v1/namespaces/prod/pods/p".to_owned(),
                false,
            ),
            (Method::GET, "/api/v1/pods".to_owned(), false),
            (Method::GET, "/api/v1/namespaces/ci".to_owned(), false),
        ];
        for (method, uri, expected) in cases {
            assert_eq!(
                allowed(&policy, &user, method.clone(), &uri),
                expected,
                "{method} {uri}"
            );
        }
        let evict = policy_with(json!([
            { "apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"] },
        ]));
        assert!(allowed(
            &evict,
            &user,
            Method::POST,
            &format!("{ci}/pods/p/eviction")
        ));
    }

    #[test]
    fn role_bindings_may_grant_cluster_roles_in_their_namespace_only() {
        let objects = [
            json!({
                "kind": "ClusterRole", "metadata": { "name": "node-reader" },
                "rules": [
                    { "apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list"] },
                    { "nonResourceURLs": ["/metrics", "/logs/*"], "verbs": ["get"] },
                ],
            }),
            json!({
                "kind": "RoleBinding", "metadata": { "name": "read", "namespace": "ci" },
                "roleRef": { "apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "node-reader" },
                "subjects": [{ "kind": "ServiceAccount", "name": "upgrader", "namespace": "ci" }],
            }),
            json!({
                "kind": "ClusterRoleBinding", "metadata": { "name": "ops" },
                "roleRef": { "apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "node-reader" },
                "subjects": [
                    { "kind": "Group", "apiGroup": RBAC_GROUP, "name": "ops" },
                    { "kind": "User", "apiGroup": RBAC_GROUP, "name": "jane" },
                ],
            }),
        ];
        let policy = Policy::from_objects(&objects);
        let upgrader = upgrader();
        assert!(allowed(
            &policy,
            &upgrader,
            Method::GET,
            "/api/v1/namespaces/ci/pods"
        ));
        assert!(!allowed(
            &policy,
            &upgrader,
            Method::GET,
            "/api/v1/namespaces/x/pods"
        ));
        assert!(!allowed(&policy, &upgrader, Method::GET, "/api/v1/nodes"));
        assert!(!allowed(&policy, &upgrader, Method::GET, "/metrics"));
        let ops = User {
            name: "bob".into(),
            groups: vec!["ops".into(), AUTHENTICATED.into()],
        };
        let jane = User {
            name: "jane".into(),
            groups: vec![AUTHENTICATED.into()],
        };
        for user in [&ops, &jane] {
            assert!(allowed(&policy, user, Method::GET, "/api/v1/nodes/n1"));
            assert!(allowed(&policy, user, Method::GET, "/api/v1/pods"));
            assert!(allowed(&policy, user, Method::GET, "/metrics"));
            assert!(allowed(&policy, user, Method::GET, "/logs/kubelet.log"));
            assert!(!allowed(&policy, user, Method::POST, "/metrics"));
            assert!(!allowed(&policy, user, Method::DELETE, "/api/v1/nodes/n1"));
        }
        // A ServiceAccount subject without a namespace in a ClusterRoleBinding names nobody.
        let nameless = Policy::from_objects(&[
            objects[0].clone(),
            json!({
                "kind": "ClusterRoleBinding", "metadata": { "name": "x" },
                "roleRef": { "apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "node-reader" },
                "subjects": [{ "kind": "ServiceAccount", "name": "upgrader" }],
            }),
        ]);
        assert!(!allowed(&nameless, &upgrader, Method::GET, "/api/v1/nodes"));
        // Group subjects match the ServiceAccount groups too.
        let all_accounts = Policy::from_objects(&[
            objects[0].clone(),
            json!({
                "kind": "ClusterRoleBinding", "metadata": { "name": "sa" },
                "roleRef": { "apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "node-reader" },
                "subjects": [{ "kind": "Group", "name": "system:serviceaccounts:ci" }],
            }),
        ]);
        assert!(allowed(
            &all_accounts,
            &upgrader,
            Method::GET,
            "/api/v1/nodes"
        ));
        assert!(!allowed(
            &all_accounts,
            &User::service_account("prod", "upgrader"),
            Method::GET,
            "/api/v1/nodes"
        ));
    }

    #[test]
    fn discovery_and_self_reviews_are_allowed_to_everyone_authenticated() {
        let nobody = Policy::default();
        let user = upgrader();
        for uri in [
            "/api",
            "/api/v1",
            "/apis",
            "/apis/apps/v1",
            "/version",
            "/openapi/v2",
            "/healthz",
        ] {
            assert!(allowed(&nobody, &user, Method::GET, uri), "{uri}");
        }
        assert!(allowed(
            &nobody,
            &user,
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
        ));
        assert!(!allowed(&nobody, &user, Method::POST, "/api"));
        assert!(!allowed(&nobody, &user, Method::GET, "/metrics"));
        assert!(!allowed(&nobody, &User::anonymous(), Method::GET, "/api"));
        assert!(allowed(
            &nobody,
            &User::anonymous(),
            Method::GET,
            "/version"
        ));
        assert!(allowed(
            &nobody,
            &User::admin(),
            Method::DELETE,
            "/api/v1/nodes/n"
        ));
    }

    fn denial(policy: &Policy, method: Method, uri: &str) -> Value {
        let user = upgrader();
        let (info, path) = request(method, uri);
        let Decision::Deny(reason) = authorize(&user, &info, &path, policy) else {
            panic!("{uri} was allowed");
        };
        forbidden(&user, &info, &path, &reason).to_status()
    }

    #[test]
    fn denials_are_worded_as_kubernetes_words_them() {
        let policy = policy_with(json!([]));
        let who = "User \"system:serviceaccount:ci:upgrader\"";
        let cases = [
            (
                Method::GET,
                "/api/v1/namespaces/ci/pods/x",
                format!("pods \"x\" is forbidden: {who} cannot get resource \"pods\" in API group \"\" in the namespace \"ci\""),
            ),
            (
                Method::GET,
                "/api/v1/namespaces/ci/pods",
                format!("pods is forbidden: {who} cannot list resource \"pods\" in API group \"\" in the namespace \"ci\""),
            ),
            (
                Method::GET,
                "/api/v1/nodes?watch=true",
                format!("nodes is forbidden: {who} cannot watch resource \"nodes\" in API group \"\" at the cluster scope"),
            ),
            (
                Method::PATCH,
                "/apis/apps/v1/namespaces/ci/deployments/web/status",
                format!("deployments.apps \"web\" is forbidden: {who} cannot patch resource \"deployments/status\" in API group \"apps\" in the namespace \"ci\""),
            ),
            (
                Method::POST,
                "/api/v1/namespaces/ci/pods/p/eviction",
                format!("pods \"p\" is forbidden: {who} cannot create resource \"pods/eviction\" in API group \"\" in the namespace \"ci\""),
            ),
            (
                Method::DELETE,
                "/api/v1/namespaces/ci/configmaps",
                format!("configmaps is forbidden: {who} cannot deletecollection resource \"configmaps\" in API group \"\" in the namespace \"ci\""),
            ),
            (
                Method::GET,
                "/metrics",
                format!("forbidden: {who} cannot get path \"/metrics\""),
            ),
        ];
        for (method, uri, message) in cases {
            let status = denial(&policy, method, uri);
            assert_eq!(status["message"], message.as_str(), "{uri}");
            assert_eq!(status["code"], 403);
            assert_eq!(status["reason"], "Forbidden");
        }
        let status = denial(
            &policy,
            Method::GET,
            "/apis/apps/v1/namespaces/ci/deployments/web",
        );
        assert_eq!(
            status["details"],
            json!({ "name": "web", "group": "apps", "kind": "deployments" })
        );
        assert_eq!(
            denial(&policy, Method::GET, "/metrics")["details"],
            json!({})
        );
    }

    #[test]
    fn a_binding_to_a_missing_role_says_so_in_the_denial() {
        let objects = [
            json!({
                "kind": "RoleBinding", "metadata": { "name": "a", "namespace": "ci" },
                "roleRef": { "apiGroup": RBAC_GROUP, "kind": "Role", "name": "gone" },
                "subjects": [{ "kind": "ServiceAccount", "name": "upgrader" }],
            }),
            json!({
                "kind": "RoleBinding", "metadata": { "name": "b", "namespace": "ci" },
                "roleRef": { "apiGroup": RBAC_GROUP, "kind": "Role", "name": "elsewhere" },
                "subjects": [{ "kind": "ServiceAccount", "name": "someone-else" }],
            }),
        ];
        let status = denial(
            &Policy::from_objects(&objects),
            Method::GET,
            "/api/v1/namespaces/ci/pods",
        );
        assert_eq!(
            status["message"],
            "pods is forbidden: User \"system:serviceaccount:ci:upgrader\" cannot list resource \
             \"pods\" in API group \"\" in the namespace \"ci\": RBAC: \
             role.rbac.authorization.k8s.io \"gone\" not found"
        );
    }

    #[test]
    fn the_policy_is_read_from_the_store() {
        let (store, _) = Store::new(100, std::env::temp_dir());
        let find = |plural| resources::find(RBAC_GROUP, "v1", plural).unwrap();
        store
            .create(
                find("roles"),
                "ci",
                json!({
                    "kind": "Role", "apiVersion": "rbac.authorization.k8s.io/v1",
                    "metadata": { "name": "r" },
                    "rules": [{ "apiGroups": [""], "resources": ["pods"], "verbs": ["list"] }],
                }),
            )
            .unwrap();
        store
            .create(
                find("rolebindings"),
                "ci",
                json!({
                    "kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
                    "metadata": { "name": "r" },
                    "roleRef": { "apiGroup": RBAC_GROUP, "kind": "Role", "name": "r" },
                    "subjects": [{ "kind": "ServiceAccount", "name": "upgrader" }],
                }),
            )
            .unwrap();
        let (list, path) = request(Method::GET, "/api/v1/namespaces/ci/pods");
        assert!(check(&store, &upgrader(), &list, &path).is_ok());
        let (get, path) = request(Method::GET, "/api/v1/namespaces/ci/pods/p");
        assert!(check(&store, &upgrader(), &get, &path).is_err());
    }
}
