//! `--audit-log FILE`: one line per API request, in the shape of Kubernetes' audit events
//! (`audit.k8s.io/v1` `Event`, level `Metadata`), so that a test can count what a client
//! asked for — which verbs on which resources (the RBAC rules a controller needs), how many
//! requests a run costs — with the same tools one would point at a real API server's log.
//!
//! # Design
//!
//! - The request's attributes come from [`RequestInfo::resolve`], a port of the API server's
//!   `RequestInfoFactory` (k8s.io/apiserver, `endpoints/request/requestinfo.go`): the verb is
//!   the HTTP method read with the path — GET on a collection is `list`, with `watch=true`
//!   `watch`, DELETE on a collection `deletecollection` — and the resource, subresource,
//!   namespace and name come from the path alone. It does not consult kube-sim's resource
//!   table: a request for a resource kube-sim does not serve is logged as the API server's
//!   authorizer would see it, then answered 404. A create is named after the object sent,
//!   as the API server completes `objectRef` from the request object.
//! - One event per request at the stage the response is decided: `ResponseComplete` for
//!   ordinary requests, `ResponseStarted` for watches and followed logs (their bodies stream
//!   on; the API server logs both stages, this logs the first).
//! - Each event is one `write` of one line to a file opened for appending, unbuffered, so a
//!   reader sees whole lines as soon as the response is sent, and nothing is lost when
//!   kube-sim is killed.
//!
//! # Invariants
//!
//! - Timestamps are UTC with microseconds, as the API server writes them.
//! - Logging never fails a request: a failed write is reported on stderr once and the log
//!   is then left alone.
//!
//! # Not yet
//!
//! - `sourceIPs`, `impersonatedUser`, request and response bodies (levels `Request` and
//!   `RequestResponse`), audit policies, and the `ResponseComplete` event of a watch.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use axum::http::Method;
use serde_json::{json, Map, Value};

/// The user every request with kube-sim's admin token is (the kubeconfig's user).
pub const USER: &str = crate::auth::ADMIN;

/// The user of a request without a token.
pub const ANONYMOUS: &str = crate::auth::ANONYMOUS;

/// What the API server's authorizer sees of one request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestInfo {
    /// Whether the path names API resources (`/api/...`, `/apis/...`), as opposed to
    /// `/version`, `/healthz` or discovery documents.
    pub is_resource_request: bool,
    /// A Kubernetes verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, `proxy`); for a non-resource request, the lower-case method.
    pub verb: String,
    /// The API group (empty for the core group).
    pub api_group: String,
    /// The API version.
    pub api_version: String,
    /// The resource's plural name.
    pub resource: String,
    /// `status`, `log`, `scale`, …; empty for the resource itself.
    pub subresource: String,
    /// The namespace, empty for cluster-scoped requests.
    pub namespace: String,
    /// The object's name, empty for collections (and for `create`).
    pub name: String,
}

/// Subresources of a namespace: `/api/v1/namespaces/x/status` is the `status` of namespace
/// `x`, not a resource called `status` inside it.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// Whether a query flag is set, as Go's `strconv.ParseBool` reads it.
fn parse_bool(value: &str) -> bool {
    matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

/// The value of query parameter `key` (the first, as Go's `url.Values.Get`).
fn query_value(query: &str, key: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The name a field selector pins with `metadata.name=X` (or `==`), as the API server lifts
/// it into the request's name for a list or watch.
fn selected_name(selector: &str) -> Option<String> {
    selector.split(',').find_map(|term| {
        let (key, value) = term
            .split_once("==")
            .or_else(|| term.split_once('='))
            .filter(|(k, _)| !k.ends_with('!'))?;
        (key.trim() == "metadata.name" && !value.is_empty() && !value.contains('/'))
            .then(|| value.trim().to_owned())
    })
}

impl RequestInfo {
    /// Resolves a request as the API server's `RequestInfoFactory` does.
    pub fn resolve(method: &Method, path: &str, query: &str) -> RequestInfo {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let non_resource = || RequestInfo {
            verb: method.as_str().to_ascii_lowercase(),
            ..RequestInfo::default()
        };
        let (api_group, api_version, mut rest) = match parts.as_slice() {
            ["api", version, rest @ ..] if !rest.is_empty() => ("", *version, rest),
            ["apis", group, version, rest @ ..] if !rest.is_empty() => (*group, *version, rest),
            _ => return non_resource(),
        };
        let mut info = RequestInfo {
            is_resource_request: true,
            api_group: api_group.to_owned(),
            api_version: api_version.to_owned(),
            ..RequestInfo::default()
        };
        // `/api/v1/watch/...` and `/api/v1/proxy/...`: the deprecated verb-in-path forms.
        if let [special @ ("watch" | "proxy"), tail @ ..] = rest {
            if !tail.is_empty() {
                info.verb = (*special).to_owned();
                rest = tail;
            }
        }
        if info.verb.is_empty() {
            info.verb = match *method {
                Method::POST => "create",
                Method::GET | Method::HEAD => "get",
                Method::PUT => "update",
                Method::PATCH => "patch",
                Method::DELETE => "delete",
                _ => "",
            }
            .to_owned();
        }
        if let ["namespaces", namespace, tail @ ..] = rest {
            info.namespace = (*namespace).to_owned();
            if let [first, ..] = tail {
                if !NAMESPACE_SUBRESOURCES.contains(first) {
                    rest = tail;
                }
            }
        }
        info.resource = rest.first().copied().unwrap_or_default().to_owned();
        info.name = rest.get(1).copied().unwrap_or_default().to_owned();
        info.subresource = rest.get(2).copied().unwrap_or_default().to_owned();
        if info.name.is_empty() && info.verb == "get" {
            let watch = query_value(query, "watch").is_some_and(|v| parse_bool(&v));
            info.verb = if watch { "watch" } else { "list" }.to_owned();
            if let Some(name) = query_value(query, "fieldSelector").and_then(|s| selected_name(&s))
            {
                info.name = name;
            }
        }
        if info.name.is_empty() && info.verb == "delete" {
            info.verb = "deletecollection".to_owned();
        }
        info
    }
}

/// The API server's timestamp format: RFC 3339, UTC, microseconds.
fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// One request, as logged.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The method.
    pub method: &'a Method,
    /// The path and query as sent.
    pub uri: &'a axum::http::Uri,
    /// Who sent it: [`USER`], a ServiceAccount, or [`ANONYMOUS`].
    pub user: &'a str,
    /// The user's groups.
    pub groups: &'a [String],
    /// The `User-Agent` header, if any.
    pub user_agent: Option<&'a str>,
    /// When it arrived.
    pub received: chrono::DateTime<chrono::Utc>,
    /// For a create, `metadata.name` of the object sent (none with `generateName`).
    pub created_name: Option<&'a str>,
}

/// The event's `user`: name and groups, as the API server logs them.
fn user(request: &Request<'_>) -> Value {
    let mut user = json!({ "username": request.user });
    if !request.groups.is_empty() {
        user["groups"] = json!(request.groups);
    }
    user
}

/// The audit event of `request`, answered with HTTP `code`.
pub fn event(request: &Request<'_>, code: u16) -> Value {
    let query = request.uri.query().unwrap_or("");
    let mut info = RequestInfo::resolve(request.method, request.uri.path(), query);
    if info.name.is_empty() && info.verb == "create" {
        info.name = request.created_name.unwrap_or_default().to_owned();
    }
    let follows =
        info.subresource == "log" && query_value(query, "follow").is_some_and(|v| parse_bool(&v));
    let streaming = (200..300).contains(&code) && (info.verb == "watch" || follows);
    let mut event = json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": uuid::Uuid::new_v4().to_string(),
        "stage": if streaming { "ResponseStarted" } else { "ResponseComplete" },
        // Path and query only, as the API server logs it (HTTP/2 requests carry the authority).
        "requestURI": request.uri.path_and_query().map_or("/", |p| p.as_str()),
        "verb": info.verb,
        "user": user(request),
        "responseStatus": { "metadata": {}, "code": code },
        "requestReceivedTimestamp": timestamp(request.received),
        "stageTimestamp": timestamp(chrono::Utc::now()),
    });
    if let Some(agent) = request.user_agent {
        event["userAgent"] = json!(agent);
    }
    if info.is_resource_request {
        // Empty fields are left out, as the API server's `omitempty` does.
        let mut object = Map::new();
        for (key, value) in [
            ("resource", &info.resource),
            ("namespace", &info.namespace),
            ("name", &info.name),
            ("apiGroup", &info.api_group),
            ("apiVersion", &info.api_version),
            ("subresource", &info.subresource),
        ] {
            if !value.is_empty() {
                object.insert(key.to_owned(), json!(value));
            }
        }
        event["objectRef"] = Value::Object(object);
    }
    event
}

/// Why the audit log could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the audit log {path}: {source} (is its directory there and writable?)")]
pub struct AuditLogError {
    /// The file asked for.
    pub path: String,
    /// The I/O error.
    pub source: std::io::Error,
}

/// An open audit log.
#[derive(Debug)]
pub struct AuditLog {
    file: Mutex<File>,
    failed: AtomicBool,
}

impl AuditLog {
    /// Opens (creates, or appends to) `path`.
    pub fn open(path: &Path) -> Result<AuditLog, AuditLogError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| AuditLogError {
                path: path.display().to_string(),
                source,
            })?;
        Ok(AuditLog {
            file: Mutex::new(file),
            failed: AtomicBool::new(false),
        })
    }

    /// Appends the event of `request`, answered with `code`.
    pub fn record(&self, request: &Request<'_>, code: u16) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        let mut line = event(request, code).to_string();
        line.push('\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = file.write_all(line.as_bytes()) {
            if !self.failed.swap(true, Ordering::Relaxed) {
                eprintln!("kube-sim: writing the audit log failed, no more events: {error}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(method: Method, uri: &str) -> RequestInfo {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        RequestInfo::resolve(&method, path, query)
    }

    /// (verb, apiGroup, resource, subresource, namespace, name)
    fn attrs(info: &RequestInfo) -> (&str, &str, &str, &str, &str, &str) {
        (
            &info.verb,
            &info.api_group,
            &info.resource,
            &info.subresource,
            &info.namespace,
            &info.name,
        )
    }

    #[test]
    fn verbs_follow_the_method_and_whether_a_name_is_given() {
        let cases = [
            (Method::GET, "/api/v1/namespaces/ns/pods/p", "get"),
            (Method::HEAD, "/api/v1/namespaces/ns/pods/p", "get"),
            (Method::GET, "/api/v1/namespaces/ns/pods", "list"),
            (Method::GET, "/api/v1/pods?watch=true", "watch"),
            (
                Method::GET,
                "/api/v1/pods?watch=1&resourceVersion=5",
                "watch",
            ),
            (Method::GET, "/api/v1/pods?watch=false", "list"),
            (Method::GET, "/api/v1/watch/namespaces/ns/pods", "watch"),
            (Method::POST, "/api/v1/namespaces/ns/pods", "create"),
            (Method::PUT, "/api/v1/namespaces/ns/pods/p", "update"),
            (Method::PATCH, "/api/v1/namespaces/ns/pods/p", "patch"),
            (Method::DELETE, "/api/v1/namespaces/ns/pods/p", "delete"),
            (
                Method::DELETE,
                "/api/v1/namespaces/ns/pods",
                "deletecollection",
            ),
            (Method::OPTIONS, "/api/v1/namespaces/ns/pods/p", ""),
        ];
        for (method, uri, verb) in cases {
            assert_eq!(resolve(method.clone(), uri).verb, verb, "{method} {uri}");
        }
    }

    #[test]
    fn resources_subresources_and_namespaces_come_from_the_path() {
        let status = resolve(
            Method::PATCH,
            "/apis/tekton.dev/v1/namespaces/ci/pipelineruns/build/status",
        );
        assert_eq!(
            attrs(&status),
            (
                "patch",
                "tekton.dev",
                "pipelineruns",
                "status",
                "ci",
                "build"
            )
        );
        assert_eq!(status.api_version, "v1");
        let log = resolve(Method::GET, "/api/v1/namespaces/ci/pods/p/log?follow=true");
        assert_eq!(attrs(&log), ("get", "", "pods", "log", "ci", "p"));
        let leases = resolve(
            Method::PUT,
            "/apis/coordination.k8s.io/v1/namespaces/adze/leases/adze-controller",
        );
        assert_eq!(
            attrs(&leases),
            (
                "update",
                "coordination.k8s.io",
                "leases",
                "",
                "adze",
                "adze-controller"
            )
        );
        let all = resolve(Method::GET, "/apis/tekton.dev/v1/taskruns?watch=true");
        assert_eq!(attrs(&all), ("watch", "tekton.dev", "taskruns", "", "", ""));
    }

    #[test]
    fn a_namespace_is_itself_a_resource_with_its_own_subresources() {
        let ns = resolve(Method::GET, "/api/v1/namespaces/ci");
        assert_eq!(attrs(&ns), ("get", "", "namespaces", "", "ci", "ci"));
        let finalize = resolve(Method::PUT, "/api/v1/namespaces/ci/finalize");
        assert_eq!(
            attrs(&finalize),
            ("update", "", "namespaces", "finalize", "ci", "ci")
        );
        let list = resolve(Method::GET, "/api/v1/namespaces");
        assert_eq!(attrs(&list), ("list", "", "namespaces", "", "", ""));
    }

    #[test]
    fn a_field_selector_on_the_name_names_the_object_of_a_list_or_watch() {
        let watch = resolve(
            Method::GET,
            "/apis/coordination.k8s.io/v1/namespaces/adze/leases?watch=true&fieldSelector=metadata.name%3Dlead",
        );
        assert_eq!(watch.verb, "watch");
        assert_eq!(watch.name, "lead");
        let other = resolve(
            Method::GET,
            "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode,metadata.name!%3Dx",
        );
        assert_eq!((other.verb.as_str(), other.name.as_str()), ("list", ""));
    }

    #[test]
    fn discovery_and_health_are_non_resource_requests() {
        for uri in [
            "/version",
            "/healthz",
            "/api",
            "/apis",
            "/api/v1",
            "/apis/tekton.dev/v1",
        ] {
            let info = resolve(Method::GET, uri);
            assert!(!info.is_resource_request, "{uri}");
            assert_eq!(info.verb, "get", "{uri}");
            assert_eq!(info.resource, "", "{uri}");
        }
    }

    #[test]
    fn events_have_the_audit_shape_and_leave_empty_fields_out() {
        let uri: axum::http::Uri = "/api/v1/namespaces/ci/pods?labelSelector=a%3Db"
            .parse()
            .unwrap();
        let request = Request {
            method: &Method::GET,
            uri: &uri,
            user: USER,
            groups: &[],
            user_agent: Some("adze/0.1.0"),
            received: chrono::Utc::now(),
            created_name: None,
        };
        let event = event(&request, 200);
        assert_eq!(event["kind"], "Event");
        assert_eq!(event["apiVersion"], "audit.k8s.io/v1");
        assert_eq!(event["stage"], "ResponseComplete");
        assert_eq!(event["verb"], "list");
        assert_eq!(event["userAgent"], "adze/0.1.0");
        assert_eq!(event["user"]["username"], USER);
        assert_eq!(event["responseStatus"]["code"], 200);
        assert_eq!(
            event["requestURI"],
            "/api/v1/namespaces/ci/pods?labelSelector=a%3Db"
        );
        assert_eq!(
            event["objectRef"],
            json!({"resource": "pods", "namespace": "ci", "apiVersion": "v1"})
        );
        // 2026-12-05T01:02:03.456789Z
        let received = event["requestReceivedTimestamp"].as_str().unwrap();
        assert_eq!(received.len(), 27, "{received}");
        assert!(received.ends_with('Z'), "{received}");

        let version: axum::http::Uri = "/version".parse().unwrap();
        let anonymous = Request {
            uri: &version,
            user: ANONYMOUS,
            groups: &[],
            user_agent: None,
            ..request
        };
        let event = super::event(&anonymous, 200);
        assert!(event.get("objectRef").is_none());
        assert!(event.get("userAgent").is_none());
    }

    #[test]
    fn the_log_gets_one_line_per_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path).unwrap();
        let uri: axum::http::Uri = "/api/v1/pods?watch=true".parse().unwrap();
        let request = Request {
            method: &Method::GET,
            uri: &uri,
            user: USER,
            groups: &[],
            user_agent: None,
            received: chrono::Utc::now(),
            created_name: None,
        };
        log.record(&request, 200);
        log.record(&request, 410);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["stage"], "ResponseStarted");
        assert_eq!(lines[1]["responseStatus"]["code"], 410);
        let missing = AuditLog::open(&dir.path().join("no/such/dir/audit.log"));
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("cannot open the audit log"));
    }
}
