//! The event endpoint: from a request to a durable, queued event and the sink's answer.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::app::App;
use super::delivery::delivery_id;
use super::metrics::Webhook;
use super::process::Verdict;
use super::response::{accepted_body, cloud_event_headers, invalid_body, is_cloud_event};
use crate::store::{Admission, NewEvent};
use crate::triggers::payload::validate_object;
use crate::triggers::{Event, Headers};

/// Seconds a sender is asked to wait when the queue is full.
const RETRY_AFTER_SECONDS: u32 = 30;

/// Handles one request to the event endpoint.
pub(super) async fn event(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(clean) = cleaned(uri.path()) {
        let location = match uri.query() {
            Some(q) => format!("{clean}?{q}"),
            None => clean,
        };
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response();
    }
    let timeout = app.options.handler_timeout;
    match tokio::time::timeout(timeout, handle(app.clone(), uri, headers, body)).await {
        Ok(response) => response,
        Err(_) => {
            app.metrics.webhook(Webhook::Timeout);
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "EventListener Timeout!\n",
            )
                .into_response()
        }
    }
}

async fn handle(app: Arc<App>, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let header = canonical_headers(&headers);
    let request_uri = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let refused = Refused {
        app: &app,
        header: &header,
        request_uri: &request_uri,
    };
    let bytes = match read_body(body, app.options.body_limit).await {
        Ok(b) => b,
        Err(ReadError::TooLarge) => {
            app.metrics.webhook(Webhook::TooLarge);
            let message = format!(
                "the body is larger than the limit of {} bytes (--max-body); nothing was accepted",
                app.options.body_limit
            );
            refused
                .record(StatusCode::PAYLOAD_TOO_LARGE, &message)
                .await;
            return json_error(StatusCode::PAYLOAD_TOO_LARGE, &message);
        }
        Err(ReadError::Io) => {
            app.metrics.webhook(Webhook::Error);
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if app.options.payload_validation {
        if let Err(message) = validate_object(&bytes) {
            app.metrics.webhook(Webhook::Invalid);
            let reason = format!("Invalid event body format : {message}");
            refused.record(StatusCode::BAD_REQUEST, &reason).await;
            return (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "application/json")],
                invalid_body(&app.listener, &message),
            )
                .into_response();
        }
    }
    if !app.queue.try_reserve() {
        app.metrics.webhook(Webhook::QueueFull);
        let message = format!(
            "the queue is full ({} events and runs waiting); nothing was accepted, retry later",
            app.queue.capacity()
        );
        refused
            .record(StatusCode::SERVICE_UNAVAILABLE, &message)
            .await;
        let mut response = json_error(StatusCode::SERVICE_UNAVAILABLE, &message);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        return response;
    }
    let event = Event {
        id: crate::status::new_uid(),
        request_uri,
        header,
        body: bytes.to_vec(),
    };
    let admitted = app
        .store
        .admit(NewEvent {
            id: event.id.clone(),
            listener: app.listener.name.clone(),
            delivery_id: delivery_id(&event.header),
            received_ms: super::now_ms(),
            request_uri: event.request_uri.clone(),
            headers: event.header.clone(),
            body: event.body.clone(),
        })
        .await;
    let cloud = is_cloud_event(
        event.header.first("Content-Type"),
        event.header.first("Ce-Specversion"),
    );
    match admitted {
        Err(e) => {
            app.queue.release();
            app.metrics.webhook(Webhook::Error);
            eprintln!("adze serve: cannot record event {}: {e}", event.id);
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the event could not be recorded; nothing was accepted, retry later",
            )
        }
        Ok(Admission::Duplicate { original }) => {
            app.queue.release();
            app.metrics.webhook(Webhook::Duplicate);
            let mut response = accepted(&app, &original, cloud);
            if let Ok(v) = HeaderValue::from_str(&original) {
                response.headers_mut().insert("adze-duplicate-of", v);
            }
            response
        }
        Ok(Admission::Accepted) => {
            app.metrics.webhook(Webhook::Accepted);
            if app.options.respond_after_interceptors {
                return after_interceptors(&app, event, cloud).await;
            }
            let id = event.id.clone();
            // The worker only ends with the server; a send can fail only while shutting down,
            // and the stored event is processed at the next start.
            let _ = app.events.send(event);
            accepted(&app, &id, cloud)
        }
    }
}

/// `--respond-after-interceptors`: process now and answer with what it came to.
///
/// | outcome of the triggers | answer |
/// | --- | --- |
/// | at least one created its runs | `202`, the sink's body |
/// | none created; a signature or token check failed | `403` |
/// | none created; every trigger declined or failed | `422` |
/// | the listener has no trigger for it at all | `422` |
async fn after_interceptors(app: &Arc<App>, event: Event, cloud: bool) -> Response {
    let id = event.id.clone();
    let verdicts = match super::worker::process_event(app, event).await {
        Ok(v) => v,
        Err(e) => {
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
    };
    let best = verdicts.iter().copied().max();
    match best {
        Some(Verdict::Created) => accepted(app, &id, cloud),
        Some(Verdict::Unauthenticated) => json_event_error(
            StatusCode::FORBIDDEN,
            &id,
            "a signature or token check failed; nothing was run",
        ),
        _ => json_event_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &id,
            "no trigger ran for this event (declined by an interceptor, or failed); see the event in the dashboard",
        ),
    }
}

fn accepted(app: &App, event_id: &str, cloud: bool) -> Response {
    let body = accepted_body(&app.listener, event_id, !cloud);
    let mut response = (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if cloud {
        for (name, value) in cloud_event_headers(&app.listener, event_id) {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, v);
            }
        }
    }
    response
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "errorMessage": message })),
    )
        .into_response()
}

fn json_event_error(status: StatusCode, event_id: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "eventID": event_id, "errorMessage": message })),
    )
        .into_response()
}

/// Records requests answered with an error before anything was accepted.
struct Refused<'a> {
    app: &'a App,
    header: &'a Headers,
    request_uri: &'a str,
}

impl Refused<'_> {
    /// Writes the refusal (best effort: a store that cannot write does not change the answer).
    async fn record(&self, status: StatusCode, reason: &str) {
        let event = NewEvent {
            id: crate::status::new_uid(),
            listener: self.app.listener.name.clone(),
            delivery_id: delivery_id(self.header),
            received_ms: super::now_ms(),
            request_uri: self.request_uri.to_string(),
            headers: self.header.clone(),
            body: Vec::new(),
        };
        if let Err(e) = self.app.store.refuse(event, status.as_u16(), reason).await {
            eprintln!("adze serve: cannot record a refused request: {e}");
        }
    }
}

enum ReadError {
    TooLarge,
    Io,
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, ReadError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ReadError::TooLarge),
        Err(_) => Err(ReadError::Io),
    }
}

/// Request headers as Go's server hands them to the sink: canonical names, every value, no
/// `Host` (and no `Transfer-Encoding`, which Go moves out of the map).
fn canonical_headers(headers: &HeaderMap) -> Headers {
    let mut out = Headers::new();
    for (name, value) in headers {
        if name == header::HOST || name == header::TRANSFER_ENCODING {
            continue;
        }
        out.append(
            name.as_str(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    out
}

/// The cleaned form of a path with `//`, `.` or `..` segments (Go's mux redirects those),
/// or `None` when it is clean.
fn cleaned(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut clean = format!("/{}", parts.join("/"));
    if path.ends_with('/') && clean != "/" {
        clean.push('/');
    }
    (clean != path).then_some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unclean_paths_redirect() {
        assert_eq!(cleaned("/"), None);
        assert_eq!(cleaned("/hooks/github"), None);
        assert_eq!(cleaned("/hooks/"), None);
        assert_eq!(cleaned("//x").as_deref(), Some("/x"));
        assert_eq!(cleaned("/a/../b").as_deref(), Some("/b"));
        assert_eq!(cleaned("/a/./b/").as_deref(), Some("/a/b/"));
        assert_eq!(cleaned("/../../etc/passwd").as_deref(), Some("/etc/passwd"));
    }
}
