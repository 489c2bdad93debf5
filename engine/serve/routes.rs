//! The server's routes: health, the API, adze's own pages, and every other request is an
//! event (spec §2.1).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{middleware, Json, Router};

use super::app::App;
use super::dashboard;

/// The routes: health, the API, and every other request is an event (spec §2.1).
pub(super) fn router(app: Arc<App>) -> Router {
    // adze's own pages answer GET; any other method on them is an event, as on every path.
    let event = super::accept::event;
    let guarded = Router::new()
        .route("/api/v1/runs", get(list_runs).fallback(event))
        .route("/api/v1/runs/{name}", get(show_run).fallback(event))
        .route(
            "/api/v1/runs/{name}/logs",
            get(dashboard::logs).fallback(event),
        )
        .route(
            "/api/v1/runs/{name}/stream",
            get(dashboard::run_stream).fallback(event),
        )
        .route(
            "/api/v1/stream",
            get(dashboard::runs_stream).fallback(event),
        )
        .route("/api/v1/events", get(list_events).fallback(event))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            super::auth::require_token,
        ));
    Router::new()
        // Pages check the token themselves: a non-browser GET there is an event.
        .route("/", get(dashboard::index).fallback(event))
        .route("/runs/{name}", get(dashboard::run_page).fallback(event))
        .route("/live", any(|| async { "ok" }))
        .route("/healthz", get(|| async { "ok" }).fallback(event))
        .route("/readyz", get(|| async { "ok" }).fallback(event))
        .route("/metrics", get(metrics).fallback(event))
        .merge(guarded)
        .fallback(event)
        .with_state(app)
}

/// Drops the `Allow` header axum adds when a GET-only route hands another method to the
/// event endpoint: the sink's answers carry only their content type (spec §2.9).
pub(super) fn without_allow(mut response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().remove(axum::http::header::ALLOW);
    }
    response
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let body = app.metrics.render(app.queue.depth());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::prometheus::CONTENT_TYPE,
        )],
        body,
    )
        .into_response()
}

/// Newest first, names and states only: the list a dashboard or script polls.
async fn list_runs(State(app): State<Arc<App>>) -> Response {
    match app.store.runs(500) {
        Ok(runs) => {
            let items: Vec<serde_json::Value> = runs
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "name": r.name,
                        "origin": r.origin,
                        "kind": r.kind,
                        "namespace": r.namespace,
                        "trigger": r.trigger,
                        "eventID": r.event_id,
                        "state": r.state,
                        "createdMs": r.created_ms,
                        "startedMs": r.started_ms,
                        "finishedMs": r.finished_ms,
                    })
                })
                .collect();
            Json(serde_json::json!({ "runs": items })).into_response()
        }
        Err(e) => internal(e),
    }
}

async fn show_run(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    match app.store.run(&name) {
        Ok(Some(run)) => {
            let logs = format!("/api/v1/runs/{name}/logs");
            let mut value = serde_json::to_value(&run).unwrap_or_default();
            value["logs"] = serde_json::Value::String(logs);
            Json(value).into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": format!("no run named {name}") })),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

async fn list_events(State(app): State<Arc<App>>) -> Response {
    match app.store.events(500) {
        Ok(events) => Json(serde_json::json!({ "events": events })).into_response(),
        Err(e) => internal(e),
    }
}

fn internal(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({ "error": e.to_string() })),
    )
        .into_response()
}
