//! HTTP: every request is parsed into a [`Target`] (discovery document, collection, object,
//! subresource) and dispatched to the [`Cluster`] verb its method names; every failure is a
//! `metav1.Status`.
//!
//! # Design
//!
//! One fallback handler parses the path itself instead of registering axum routes per
//! resource: the resource table decides what exists, so `/apis/tekton.dev/v1/namespaces/x/taskruns`
//! and an unknown `/apis/nope/v1/things` go through the same code, and the unknown one gets
//! Kubernetes' 404 Status rather than an empty body.
//!
//! # Invariants
//!
//! - No request panics: bodies over [`MAX_BODY`] are 413, malformed JSON/YAML, selectors and
//!   patches are 400, unknown paths are 404 and unserved verbs 405, each as a Status.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::audit;
use crate::auth::{self, User};
use crate::cluster::{Cluster, DeleteOptions, Part, Propagation};
use crate::kubelet::{KubeletError, LogOptions};
use crate::negotiate::{self, Representation};
use crate::protobuf;
use crate::rbac;
use crate::resources::{self, ResourceDef};
use crate::selector::{FieldSelector, LabelSelector};
use crate::table;
use crate::tokens::Tokens;
use crate::watch::{self, WatchRequest};

/// The largest request body accepted (the real API server's limit).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// What the HTTP layer needs.
pub struct AppState {
    /// The API server's state.
    pub cluster: Arc<Cluster>,
    /// `host:port` clients reach the server at (for `/api`).
    pub address: String,
    /// The admin bearer token (full access; the kubeconfig's).
    pub token: String,
    /// The ServiceAccount tokens issued through the TokenRequest API.
    pub tokens: Arc<Tokens>,
    /// What `/version` reports while the version ConfigMap ([`crate::version`]) is absent.
    pub version: resources::ServerVersion,
    /// Where every request is recorded (`--audit-log`), if anywhere.
    pub audit: Option<crate::audit::AuditLog>,
}

/// What a path names.
#[derive(Debug, PartialEq)]
enum Target {
    Root,
    Version,
    Health,
    Metrics,
    CoreVersions,
    GroupList,
    Group(String),
    ResourceList(String, String),
    Collection {
        resource: &'static ResourceDef,
        namespace: Option<String>,
    },
    Object {
        resource: &'static ResourceDef,
        namespace: String,
        name: String,
    },
    Sub {
        resource: &'static ResourceDef,
        namespace: String,
        name: String,
        sub: String,
    },
}

fn parse_resource_path(group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let find = |plural: &str| resources::find(group, version, plural).ok_or(ApiError::NoRoute);
    if let ["namespaces", namespace, plural, tail @ ..] = rest {
        if let Some(resource) = resources::find(group, version, plural).filter(|r| r.namespaced) {
            let namespace = (*namespace).to_owned();
            return match tail {
                [] => Ok(Target::Collection {
                    resource,
                    namespace: Some(namespace),
                }),
                [name] => Ok(Target::Object {
                    resource,
                    namespace,
                    name: (*name).to_owned(),
                }),
                [name, sub] => Ok(Target::Sub {
                    resource,
                    namespace,
                    name: (*name).to_owned(),
                    sub: (*sub).to_owned(),
                }),
                _ => Err(ApiError::NoRoute),
            };
        }
    }
    match rest {
        [plural] => Ok(Target::Collection {
            resource: find(plural)?,
            namespace: None,
        }),
        [plural, name] => {
            let resource = find(plural)?;
            if resource.namespaced {
                return Err(ApiError::NoRoute);
            }
            Ok(Target::Object {
                resource,
                namespace: String::new(),
                name: (*name).to_owned(),
            })
        }
        [plural, name, sub] => {
            let resource = find(plural)?;
            if resource.namespaced {
                return Err(ApiError::NoRoute);
            }
            Ok(Target::Sub {
                resource,
                namespace: String::new(),
                name: (*name).to_owned(),
                sub: (*sub).to_owned(),
            })
        }
        _ => Err(ApiError::NoRoute),
    }
}

fn parse_path(path: &str) -> Result<Target, ApiError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => Ok(Target::Root),
        ["version"] => Ok(Target::Version),
        ["healthz" | "livez" | "readyz"] => Ok(Target::Health),
        ["metrics"] => Ok(Target::Metrics),
        ["api"] => Ok(Target::CoreVersions),
        ["api", "v1"] => Ok(Target::ResourceList(String::new(), "v1".into())),
        ["api", "v1", rest @ ..] => parse_resource_path("", "v1", rest),
        ["apis"] => Ok(Target::GroupList),
        ["apis", group] => Ok(Target::Group((*group).to_owned())),
        ["apis", group, version] => Ok(Target::ResourceList(
            (*group).to_owned(),
            (*version).to_owned(),
        )),
        ["apis", group, version, rest @ ..] => parse_resource_path(group, version, rest),
        _ => Err(ApiError::NoRoute),
    }
}

/// The router: everything goes through one handler.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

fn json_response(code: StatusCode, value: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

async fn handle(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let received = chrono::Utc::now();
    let caller = authenticate(&state, &uri, &headers);
    let user = match &caller {
        Ok(user) => user.clone(),
        Err(_) => User::anonymous(),
    };
    let allowed = caller.and_then(|user| {
        let info = audit::RequestInfo::resolve(&method, uri.path(), uri.query().unwrap_or(""));
        rbac::check(&state.cluster.store, &user, &info, uri.path())
    });
    // The API server names a created object in its audit event from the request's body.
    let (body, created) = match (&state.audit, &method, &allowed) {
        (Some(_), &Method::POST, Ok(())) => match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(bytes) => {
                let yaml = is_yaml(content_type(&headers));
                let named = decode(&bytes, yaml)
                    .ok()
                    .and_then(|o| o["metadata"]["name"].as_str().map(str::to_owned));
                (Body::from(bytes), named)
            }
            Err(_) => (Body::empty(), None),
        },
        _ => (body, None),
    };
    let response = match allowed {
        Err(error) => error.into_response(),
        Ok(()) => match dispatch(&state, &user, &method, &uri, &headers, body).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        },
    };
    if let Some(log) = &state.audit {
        let request = audit::Request {
            created_name: created.as_deref(),
            method: &method,
            uri: &uri,
            user: &user.name,
            groups: &user.groups,
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok()),
            received,
        };
        log.record(&request, response.status().as_u16());
    }
    response
}

/// Who sent the request ([`auth::authenticate`]): a wrong token is 401 everywhere; no token
/// at all is anonymous, which may read only `/version` and the health checks.
fn authenticate(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Result<User, ApiError> {
    match auth::authenticate(headers, &state.token, &state.tokens, &state.cluster.store)? {
        Some(user) => Ok(user),
        None if matches!(parse_path(uri.path()), Ok(Target::Version | Target::Health)) => {
            Ok(User::anonymous())
        }
        None => Err(ApiError::Unauthorized),
    }
}

/// What every verb handler reads from the request besides its body.
#[derive(Clone, Copy)]
struct Call<'a> {
    state: &'a AppState,
    method: &'a Method,
    headers: &'a HeaderMap,
    query: &'a Query,
    representation: Representation,
}

/// The request's query parameters (the last value of a repeated key wins).
struct Query(HashMap<String, String>);

impl Query {
    fn parse(uri: &Uri) -> Result<Query, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|e| ApiError::BadRequest(format!("malformed query: {e}")))?;
        Ok(Query(pairs.into_iter().collect()))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    fn number(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::BadRequest(format!("{key}: {v:?} is not an integer")))
            })
            .transpose()
    }
}

async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    check_body_format(headers)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(ApiError::TooLarge(MAX_BODY));
    }
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::TooLarge(MAX_BODY))
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
}

/// Rejects bodies in a format this server cannot read (protobuf, which `kubectl create
/// configmap` and other typed clients send).
fn check_body_format(headers: &HeaderMap) -> Result<(), ApiError> {
    let base = content_type(headers)
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if base.contains("protobuf") {
        return Err(ApiError::UnsupportedMediaType(
            "application/json, application/yaml (kube-sim does not read protobuf)".into(),
        ));
    }
    Ok(())
}

/// The body of a request that typed clients send as protobuf (TokenRequest,
/// SelfSubjectAccessReview), or as JSON/YAML.
async fn typed_body(
    headers: &HeaderMap,
    body: Body,
    kind: protobuf::Kind,
) -> Result<Value, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::TooLarge(MAX_BODY))?;
    let content_type = content_type(headers);
    if protobuf::is_protobuf(content_type) {
        return protobuf::decode(&bytes, kind);
    }
    decode(&bytes, is_yaml(content_type))
}

/// Decodes a JSON body, or YAML when the request says so (or for apply patches).
fn decode(bytes: &[u8], yaml: bool) -> Result<Value, ApiError> {
    if yaml {
        return serde_yaml_ng::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadRequest(format!("couldn't get version/kind; json parse error: {e}"))
    })
}

fn is_yaml(content_type: &str) -> bool {
    let base = content_type.split(';').next().unwrap_or_default().trim();
    matches!(base, "application/yaml" | "application/apply-patch+yaml")
}

fn selectors(
    resource: &ResourceDef,
    query: &Query,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or(""), resource)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((labels, fields))
}

fn render_one(
    representation: Representation,
    resource: &ResourceDef,
    object: &Value,
    query: &Query,
) -> Value {
    match representation {
        Representation::Json => object.clone(),
        Representation::Metadata => table::partial_metadata(object),
        Representation::Table => {
            let rv = crate::store::resource_version(object)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            table::table(
                resource,
                &[object],
                rv,
                negotiate::include_object(query.get("includeObject")),
            )
        }
    }
}

async fn dispatch(
    state: &AppState,
    user: &User,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if uri.path() == crate::access_review::PATH {
        if method != Method::POST {
            return Err(ApiError::MethodNotAllowed);
        }
        let request = typed_body(headers, body, protobuf::Kind::SelfSubjectAccessReview).await?;
        let review = crate::access_review::review(&state.cluster.store, user, &request);
        return Ok(json_response(StatusCode::CREATED, &review));
    }
    if uri.path() == auth::SELF_SUBJECT_REVIEW_PATH {
        if method != Method::POST {
            return Err(ApiError::MethodNotAllowed);
        }
        let review = auth::self_subject_review(user);
        return Ok(json_response(StatusCode::CREATED, &review));
    }
    let target = parse_path(uri.path())?;
    let query = Query::parse(uri)?;
    // Refusing beats writing for real what the client meant as a rehearsal.
    if query.get("dryRun").is_some() && *method != Method::GET {
        return Err(ApiError::BadRequest(
            "dryRun is not supported by kube-sim; send the request without it".into(),
        ));
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let representation = negotiate::representation(accept);
    let call = Call {
        state,
        method,
        headers,
        query: &query,
        representation,
    };
    let cluster = &state.cluster;
    let read_only = |document: Option<Value>| -> Result<Response, ApiError> {
        if method != Method::GET {
            return Err(ApiError::MethodNotAllowed);
        }
        document
            .map(|d| json_response(StatusCode::OK, &d))
            .ok_or(ApiError::NoRoute)
    };
    match target {
        Target::Root => read_only(Some(
            json!({ "paths": ["/api", "/api/v1", "/apis", "/version"] }),
        )),
        Target::Version => read_only(Some(resources::version_info(crate::version::current(
            &cluster.store,
            state.version,
        )))),
        Target::Health => {
            if method != Method::GET {
                return Err(ApiError::MethodNotAllowed);
            }
            Ok((StatusCode::OK, "ok").into_response())
        }
        Target::Metrics => {
            if method != Method::GET {
                return Err(ApiError::MethodNotAllowed);
            }
            Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
                crate::metrics::document(&cluster.store),
            )
                .into_response())
        }
        Target::CoreVersions => read_only(Some(resources::core_versions(&state.address))),
        Target::GroupList => read_only(Some(resources::group_list())),
        Target::Group(group) => read_only(resources::group(&group)),
        Target::ResourceList(group, version) => {
            read_only(resources::resource_list(&group, &version))
        }
        Target::Collection {
            resource,
            namespace,
        } => match *method {
            Method::GET if query.flag("watch") => {
                watch(state, resource, namespace, &query, representation)
            }
            Method::GET => list(
                state,
                resource,
                namespace.as_deref(),
                &query,
                representation,
            ),
            Method::POST => {
                let namespace = match (resource.namespaced, namespace) {
                    (true, Some(ns)) => ns,
                    (true, None) => return Err(ApiError::MethodNotAllowed),
                    (false, _) => String::new(),
                };
                let bytes = read_body(headers, body).await?;
                let object = decode(&bytes, is_yaml(content_type(headers)))?;
                let created = cluster.create(resource, &namespace, object)?;
                Ok(json_response(StatusCode::CREATED, &created))
            }
            Method::DELETE => {
                let bytes = read_body(headers, body).await?;
                let options = delete_options(&bytes, &query)?;
                let (labels, fields) = selectors(resource, &query)?;
                let (items, _) = cluster.store.list(resource, namespace.as_deref());
                let mut deleted = Vec::new();
                for object in items
                    .iter()
                    .filter(|o| labels.matches(o) && fields.matches(o))
                {
                    let ns = object["metadata"]["namespace"].as_str().unwrap_or_default();
                    let name = object["metadata"]["name"].as_str().unwrap_or_default();
                    match cluster.delete(resource, ns, name, &options) {
                        Ok((object, _)) => deleted.push((*object).clone()),
                        Err(ApiError::NotFound { .. }) => {}
                        Err(other) => return Err(other),
                    }
                }
                Ok(json_response(
                    StatusCode::OK,
                    &json!({
                        "kind": format!("{}List", resource.kind),
                        "apiVersion": resource.api_version(),
                        "metadata": { "resourceVersion": cluster.store.current_rv().to_string() },
                        "items": deleted,
                    }),
                ))
            }
            _ => Err(ApiError::MethodNotAllowed),
        },
        Target::Object {
            resource,
            namespace,
            name,
        } => object(&call, body, resource, &namespace, &name, Part::Main).await,
        Target::Sub {
            resource,
            namespace,
            name,
            sub,
        } => match sub.as_str() {
            "status" if resource.status_subresource => {
                object(&call, body, resource, &namespace, &name, Part::Status).await
            }
            "token" if resource.is("", "serviceaccounts") => {
                if method != Method::POST {
                    return Err(ApiError::MethodNotAllowed);
                }
                let request = typed_body(headers, body, protobuf::Kind::TokenRequest).await?;
                let answer =
                    state
                        .tokens
                        .request(&state.cluster.store, &namespace, &name, &request)?;
                Ok(json_response(StatusCode::CREATED, &answer))
            }
            "log" if resource.is("", "pods") => {
                if method != Method::GET {
                    return Err(ApiError::MethodNotAllowed);
                }
                pod_log(state, &namespace, &name, &query).await
            }
            "eviction" if resource.is("", "pods") => {
                if method != Method::POST {
                    return Err(ApiError::MethodNotAllowed);
                }
                // Not read_body: kubectl sends this one as protobuf, which eviction reads.
                let bytes = axum::body::to_bytes(body, MAX_BODY)
                    .await
                    .map_err(|_| ApiError::TooLarge(MAX_BODY))?;
                let eviction = crate::eviction::parse_body(content_type(headers), &bytes)?;
                let status = crate::eviction::evict(cluster, &namespace, &name, &eviction)?;
                Ok(json_response(StatusCode::CREATED, &status))
            }
            _ => Err(ApiError::NoRoute),
        },
    }
}

fn list(
    state: &AppState,
    resource: &'static ResourceDef,
    namespace: Option<&str>,
    query: &Query,
    representation: Representation,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(resource, query)?;
    let (items, rv) = state.cluster.store.list(resource, namespace);
    let selected: Vec<&Value> = items
        .iter()
        .map(|o| o.as_ref())
        .filter(|o| labels.matches(o) && fields.matches(o))
        .collect();
    let document = match representation {
        Representation::Json => json!({
            "kind": format!("{}List", resource.kind),
            "apiVersion": resource.api_version(),
            "metadata": { "resourceVersion": rv.to_string() },
            "items": selected,
        }),
        Representation::Metadata => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": { "resourceVersion": rv.to_string() },
            "items": selected.iter().map(|o| table::partial_metadata(o)).collect::<Vec<_>>(),
        }),
        Representation::Table => table::table(
            resource,
            &selected,
            rv,
            negotiate::include_object(query.get("includeObject")),
        ),
    };
    Ok(json_response(StatusCode::OK, &document))
}

fn watch(
    state: &AppState,
    resource: &'static ResourceDef,
    namespace: Option<String>,
    query: &Query,
    representation: Representation,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(resource, query)?;
    let from = query
        .get("resourceVersion")
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::BadRequest(format!("resourceVersion {v:?} is not valid")))
        })
        .transpose()?;
    let timeout = query
        .number("timeoutSeconds")?
        .map(|s| std::time::Duration::from_secs(s.max(0).unsigned_abs()));
    let request = WatchRequest {
        resource,
        namespace,
        labels,
        fields,
        from,
        bookmarks: query.flag("allowWatchBookmarks"),
        initial_events: query.flag("sendInitialEvents"),
        timeout,
        representation,
        include: negotiate::include_object(query.get("includeObject")),
    };
    let stream = watch::start(&state.cluster.store, request);
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}

fn delete_options(bytes: &[u8], query: &Query) -> Result<DeleteOptions, ApiError> {
    let body: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        decode(bytes, false)?
    };
    let policy = query
        .get("propagationPolicy")
        .map(str::to_owned)
        .or_else(|| body["propagationPolicy"].as_str().map(str::to_owned));
    let mut propagation = match policy.as_deref() {
        None | Some("Background") => Propagation::Background,
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "propagationPolicy {other:?} is not one of Orphan, Background, Foreground"
            )))
        }
    };
    if body["orphanDependents"] == true || query.flag("orphanDependents") {
        propagation = Propagation::Orphan;
    }
    let grace_seconds = match query.number("gracePeriodSeconds")? {
        Some(seconds) => Some(seconds),
        None => body["gracePeriodSeconds"].as_i64(),
    };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Ok(DeleteOptions {
        grace_seconds,
        propagation,
        precondition_uid: text(&body["preconditions"]["uid"]),
        precondition_rv: text(&body["preconditions"]["resourceVersion"]),
    })
}

async fn object(
    call: &Call<'_>,
    body: Body,
    resource: &'static ResourceDef,
    namespace: &str,
    name: &str,
    part: Part,
) -> Result<Response, ApiError> {
    let Call {
        state,
        method,
        headers,
        query,
        representation,
    } = *call;
    let cluster = &state.cluster;
    match *method {
        Method::GET => {
            let object = cluster.store.get(resource, namespace, name)?;
            Ok(json_response(
                StatusCode::OK,
                &render_one(representation, resource, &object, query),
            ))
        }
        Method::PUT => {
            let bytes = read_body(headers, body).await?;
            let object = decode(&bytes, is_yaml(content_type(headers)))?;
            let updated = cluster.update(resource, namespace, name, object, part)?;
            Ok(json_response(StatusCode::OK, &updated))
        }
        Method::PATCH => {
            let content_type = content_type(headers);
            let kind = negotiate::patch_kind(content_type).ok_or_else(|| {
                ApiError::UnsupportedMediaType(
                    "application/json-patch+json, application/merge-patch+json, \
                     application/strategic-merge-patch+json, application/apply-patch+yaml"
                        .into(),
                )
            })?;
            let bytes = read_body(headers, body).await?;
            let patch = decode(&bytes, is_yaml(content_type))?;
            let patched = cluster.patch(
                resource,
                namespace,
                name,
                kind,
                patch,
                part,
                query.get("fieldManager"),
            )?;
            Ok(json_response(StatusCode::OK, &patched))
        }
        Method::DELETE if part == Part::Main => {
            let bytes = read_body(headers, body).await?;
            let options = delete_options(&bytes, query)?;
            let (object, gone) = cluster.delete(resource, namespace, name, &options)?;
            if gone && !resource.custom {
                return Ok(json_response(
                    StatusCode::OK,
                    &json!({
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Success",
                        "details": {
                            "name": name,
                            "group": resource.group,
                            "kind": resource.plural,
                            "uid": object["metadata"]["uid"],
                        },
                    }),
                ));
            }
            Ok(json_response(StatusCode::OK, &object))
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// `pods/<name>/log`, streamed from the kubelet.
async fn pod_log(
    state: &AppState,
    namespace: &str,
    name: &str,
    query: &Query,
) -> Result<Response, ApiError> {
    let pods = resources::find("", "v1", "pods").ok_or(ApiError::NoRoute)?;
    let pod = state.cluster.store.get(pods, namespace, name)?;
    let names: Vec<&str> = pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(pod["spec"]["containers"].as_array().into_iter().flatten())
        .filter_map(|c| c["name"].as_str())
        .collect();
    let container = match query.get("container") {
        Some(c) if names.contains(&c) => c.to_owned(),
        Some(c) => {
            return Err(ApiError::BadRequest(format!(
                "container {c} is not valid for pod {name}"
            )))
        }
        None => {
            let main: Vec<&str> = pod["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["name"].as_str())
                .collect();
            match main.as_slice() {
                [only] => (*only).to_owned(),
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "a container name must be specified for pod {name}, choose one of: [{}]",
                        main.join(" ")
                    )))
                }
            }
        }
    };
    let waiting = || {
        ApiError::BadRequest(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
        ))
    };
    let Some(kubelet) = &state.cluster.kubelet else {
        return Err(waiting());
    };
    let options = LogOptions {
        container: Some(container.clone()),
        follow: query.flag("follow"),
        tail_lines: query.number("tailLines")?,
        timestamps: query.flag("timestamps"),
        previous: query.flag("previous"),
    };
    let stream = match kubelet.logs(namespace, name, options).await {
        Ok(stream) => stream,
        Err(KubeletError::NoPod { .. }) => return Err(waiting()),
        Err(KubeletError::Container(message)) => return Err(ApiError::BadRequest(message)),
        Err(other) => return Err(ApiError::Internal(other.to_string())),
    };
    let body = stream
        .take_while(|chunk| std::future::ready(chunk.is_ok()))
        .filter_map(|chunk| {
            std::future::ready(
                chunk
                    .ok()
                    .map(|b| Ok::<_, std::convert::Infallible>(Bytes::from(b))),
            )
        });
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(body),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    use super::*;
    use crate::store::Store;

    const TOKEN: &str = "test-token";

    fn app() -> Router {
        let (store, _) = Store::new(100, std::env::temp_dir());
        let cluster = Cluster::new(Arc::new(store), None);
        router(Arc::new(AppState {
            cluster,
            address: "127.0.0.1:6443".into(),
            token: TOKEN.into(),
            tokens: Arc::default(),
            version: resources::ServerVersion::default(),
            audit: None,
        }))
    }

    async fn send(
        app: &Router,
        method: &str,
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let code = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn malformed_requests_get_a_status_never_a_panic() {
        let app = app();
        let cms = "/api/v1/namespaces/default/configmaps";
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let cases: Vec<(&str, String, &str, Vec<u8>, u16)> = vec![
            ("POST", cms.into(), "application/json", b"{".to_vec(), 400),
            (
                "POST",
                cms.into(),
                "application/json",
                b"[1,2]".to_vec(),
                400,
            ),
            (
                "POST",
                cms.into(),
                "application/json",
                b"\"text\"".to_vec(),
                400,
            ),
            (
                "POST",
                cms.into(),
                "application/json",
                deep.clone().into_bytes(),
                400,
            ),
            (
                "POST",
                cms.into(),
                "application/yaml",
                b"a: [".to_vec(),
                400,
            ),
            (
                "POST",
                cms.into(),
                "application/json",
                br#"{"metadata":{"name":7}}"#.to_vec(),
                400,
            ),
            (
                "POST",
                cms.into(),
                "application/json",
                br#"{"metadata":{"name":"x"},"data":{"k":1}}"#.to_vec(),
                400,
            ),
            (
                "POST",
                cms.into(),
                "application/vnd.kubernetes.protobuf",
                vec![0, 1, 2],
                415,
            ),
            (
                "POST",
                cms.into(),
                "application/json",
                vec![b' '; MAX_BODY + 1],
                413,
            ),
            (
                "GET",
                format!("{cms}?labelSelector=a%20in%20b"),
                "",
                vec![],
                400,
            ),
            (
                "GET",
                format!("{cms}?fieldSelector=spec.x=1"),
                "",
                vec![],
                400,
            ),
            (
                "GET",
                format!("{cms}?watch=true&resourceVersion=abc"),
                "",
                vec![],
                400,
            ),
            (
                "GET",
                format!("{cms}?watch=true&timeoutSeconds=soon"),
                "",
                vec![],
                400,
            ),
            (
                "DELETE",
                format!("{cms}/c?gracePeriodSeconds=soon"),
                "",
                vec![],
                400,
            ),
            ("PUT", cms.into(), "application/json", b"{}".to_vec(), 405),
            (
                "PATCH",
                format!("{cms}/missing"),
                "application/merge-patch+json",
                b"{}".to_vec(),
                404,
            ),
            (
                "PATCH",
                format!("{cms}/missing"),
                "text/plain",
                b"{}".to_vec(),
                415,
            ),
            (
                "DELETE",
                format!("{cms}/missing"),
                "application/json",
                b"{".to_vec(),
                400,
            ),
            (
                "GET",
                "/api/v1/namespaces/default/pods/p/log".into(),
                "",
                vec![],
                404,
            ),
            (
                "GET",
                "/api/v1/namespaces/default/configmaps/x/status".into(),
                "",
                vec![],
                404,
            ),
            ("GET", "/apis/tekton.dev/v2/tasks".into(), "", vec![], 404),
            (
                "GET",
                "/api/v1/namespaces/default/pods/p/eviction".into(),
                "",
                vec![],
                405,
            ),
            (
                "POST",
                "/api/v1/namespaces/default/pods/p/eviction".into(),
                "application/json",
                br#"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p"}}"#.to_vec(),
                404,
            ),
            (
                "POST",
                "/api/v1/namespaces/default/pods/p/eviction".into(),
                "application/vnd.kubernetes.protobuf",
                vec![1, 2, 3],
                400,
            ),
            ("GET", "/nothing/here".into(), "", vec![], 404),
            ("POST", "/version".into(), "", vec![], 405),
        ];
        for (method, uri, content_type, body, expected) in cases {
            let (code, status) = send(&app, method, &uri, content_type, body).await;
            assert_eq!(code, expected, "{method} {uri}: {status}");
            assert_eq!(status["kind"], "Status", "{method} {uri}");
            assert_eq!(status["code"], expected, "{method} {uri}");
        }
        // Patches that cannot apply to what is stored.
        let (code, _) = send(
            &app,
            "POST",
            cms,
            "application/json",
            br#"{"metadata":{"name":"c"}}"#.to_vec(),
        )
        .await;
        assert_eq!(code, 201);
        let object = format!("{cms}/c");
        let run = "/apis/tekton.dev/v1/namespaces/default/taskruns";
        let (code, _) = send(
            &app,
            "POST",
            run,
            "application/json",
            br#"{"metadata":{"name":"r"}}"#.to_vec(),
        )
        .await;
        assert_eq!(code, 201);
        for (uri, content_type, body) in [
            (format!("{run}/r"), "application/merge-patch+json", "[1]"),
            (
                format!("{run}/r/status"),
                "application/merge-patch+json",
                "[1]",
            ),
            (format!("{run}/r"), "application/apply-patch+yaml", "[1]"),
            (
                format!("{run}/absent?fieldManager=m"),
                "application/apply-patch+yaml",
                "[1]",
            ),
            (
                format!("{run}/absent?fieldManager=m"),
                "application/apply-patch+yaml",
                "metadata: 3",
            ),
            (
                format!("{run}/r?fieldManager=m"),
                "application/apply-patch+yaml",
                "metadata: 3",
            ),
            (
                "/api/v1/namespaces/default/secrets/s".to_owned(),
                "application/merge-patch+json",
                "[1]",
            ),
        ] {
            let (code, status) =
                send(&app, "PATCH", &uri, content_type, body.as_bytes().to_vec()).await;
            assert!(matches!(code, 400 | 404), "{uri} {body}: {code} {status}");
        }
        let (code, _) = send(
            &app,
            "PUT",
            &format!("{run}/r"),
            "application/json",
            b"[1]".to_vec(),
        )
        .await;
        assert_eq!(code, 400);
        for (content_type, body, expected) in [
            ("application/json-patch+json", r#"{"op":"add"}"#, 400),
            (
                "application/json-patch+json",
                r#"[{"op":"remove","path":"/data/none"}]"#,
                422,
            ),
            (
                "application/json-patch+json",
                r#"[{"op":"replace","path":"/metadata","value":3}]"#,
                400,
            ),
            ("application/strategic-merge-patch+json", "[]", 400),
            (
                "application/merge-patch+json",
                r#"{"metadata":{"resourceVersion":"1"}}"#,
                409,
            ),
            (
                "application/merge-patch+json",
                r#"{"data":{"k":{"nested":true}}}"#,
                400,
            ),
            ("application/apply-patch+yaml", "data: {k: v}", 400),
            ("application/merge-patch+json", "[1]", 400),
            ("application/merge-patch+json", r#"{"metadata":3}"#, 400),
            (
                "application/json-patch+json",
                r#"[{"op":"replace","path":"","value":[1]}]"#,
                400,
            ),
        ] {
            let (code, status) = send(
                &app,
                "PATCH",
                &object,
                content_type,
                body.as_bytes().to_vec(),
            )
            .await;
            assert_eq!(code, expected, "{content_type} {body}: {status}");
        }
    }

    #[tokio::test]
    async fn requests_without_the_token_are_unauthorized() {
        let app = app();
        let request = |uri: &str, token: Option<&str>| {
            let mut builder = axum::http::Request::builder().uri(uri);
            if let Some(token) = token {
                builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            builder.body(Body::empty()).unwrap()
        };
        for (uri, token, expected) in [
            ("/api/v1/namespaces", None, 401),
            ("/api/v1/namespaces", Some("wrong"), 401),
            ("/api/v1/namespaces", Some(TOKEN), 200),
            ("/version", None, 200),
            ("/healthz", None, 200),
            ("/version", Some("wrong"), 401),
        ] {
            let response = app.clone().oneshot(request(uri, token)).await.unwrap();
            assert_eq!(response.status().as_u16(), expected, "{uri} {token:?}");
        }
    }

    #[test]
    fn paths() {
        let pods = resources::find("", "v1", "pods").unwrap();
        assert_eq!(
            parse_path("/api/v1/namespaces/default/pods/p/log").unwrap(),
            Target::Sub {
                resource: pods,
                namespace: "default".into(),
                name: "p".into(),
                sub: "log".into()
            }
        );
        assert_eq!(
            parse_path("/api/v1/pods").unwrap(),
            Target::Collection {
                resource: pods,
                namespace: None
            }
        );
        let namespaces = resources::namespaces();
        assert_eq!(
            parse_path("/api/v1/namespaces/x/status").unwrap(),
            Target::Sub {
                resource: namespaces,
                namespace: String::new(),
                name: "x".into(),
                sub: "status".into()
            }
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/x").unwrap(),
            Target::Object {
                resource: namespaces,
                namespace: String::new(),
                name: "x".into()
            }
        );
        let runs = resources::find("tekton.dev", "v1", "taskruns").unwrap();
        assert_eq!(
            parse_path("/apis/tekton.dev/v1/namespaces/d/taskruns").unwrap(),
            Target::Collection {
                resource: runs,
                namespace: Some("d".into())
            }
        );
        assert!(parse_path("/apis/nope/v1/things").is_err());
        assert!(parse_path("/api/v1/pods/p").is_err());
        assert!(parse_path("/api/v2").is_err());
        assert_eq!(
            parse_path("/apis/tekton.dev").unwrap(),
            Target::Group("tekton.dev".into())
        );
    }

    #[test]
    fn delete_options_come_from_body_and_query() {
        let query = Query(
            [("gracePeriodSeconds".to_owned(), "0".to_owned())]
                .into_iter()
                .collect(),
        );
        let options = delete_options(
            br#"{"propagationPolicy":"Orphan","gracePeriodSeconds":5,"preconditions":{"uid":"u"}}"#,
            &query,
        )
        .unwrap();
        assert_eq!(options.grace_seconds, Some(0));
        assert_eq!(options.propagation, Propagation::Orphan);
        assert_eq!(options.precondition_uid.as_deref(), Some("u"));
        assert!(delete_options(b"{", &Query(HashMap::new())).is_err());
        assert!(delete_options(
            br#"{"propagationPolicy":"Sideways"}"#,
            &Query(HashMap::new())
        )
        .is_err());
    }
}
