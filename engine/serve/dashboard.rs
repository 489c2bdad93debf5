//! The dashboard: the runs list at `/`, a run's page at `/runs/NAME`, and the server-sent
//! event streams their scripts follow.
//!
//! `GET /` stays the event endpoint for everything but a browser: a request that asks for
//! `text/html` gets the page, any other (a webhook sender) is an event, as spec §2.1 wants.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures_util::stream::{self, Stream};

use super::app::App;
use crate::report::html::{self, graph, Pages};
use crate::status::rfc3339;
use crate::store::{EventRecord, RunRecord};

/// How often a stream looks at the store.
const POLL: Duration = Duration::from_millis(300);

/// The runs list (or, for a non-browser, the event endpoint).
pub(super) async fn index(State(app): State<Arc<App>>, request: Request) -> Response {
    if !wants_html(request.headers()) {
        return event(app, request).await;
    }
    if !super::auth::authorized(&app, &request) {
        return super::auth::denied();
    }
    let runs = app.store.runs(200);
    let events = app.store.events(50);
    let (runs, events) = match (runs, events) {
        (Ok(r), Ok(e)) => (r, e),
        (Err(e), _) | (_, Err(e)) => return internal(&e.to_string()),
    };
    let data = serde_json::json!({
        "title": "Runs",
        "listener": listener_label(&app),
        "style": html::STYLE,
        "script": html::RUNS_SCRIPT,
        "runs": runs.iter().map(run_row).collect::<Vec<_>>(),
        "events": events.iter().map(event_row).collect::<Vec<_>>(),
    });
    page(&app, "runs", &data, &request)
}

/// A run's page (or, for a non-browser, the event endpoint).
pub(super) async fn run_page(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    if !wants_html(request.headers()) {
        return event(app, request).await;
    }
    if !super::auth::authorized(&app, &request) {
        return super::auth::denied();
    }
    let run = match app.store.run(&name) {
        Ok(Some(run)) => run,
        Ok(None) => {
            return (StatusCode::NOT_FOUND, format!("no run named {name}\n")).into_response()
        }
        Err(e) => return internal(&e.to_string()),
    };
    let logs = match app.store.logs(&name, 0) {
        Ok(l) => l,
        Err(e) => return internal(&e.to_string()),
    };
    let after = logs.last().map_or(0, |(seq, _)| *seq);
    let states = task_states(&run);
    let svg = run
        .graph
        .as_ref()
        .and_then(|g| graph::svg(g, &states))
        .unwrap_or_default();
    let data = serde_json::json!({
        "title": run.name,
        "listener": listener_label(&app),
        "style": html::STYLE,
        "script": html::RUN_SCRIPT,
        "name": run.name,
        "kind": run.kind,
        "state": run.state,
        "trigger": run.trigger,
        "event": run.event_id,
        "started": run.started_ms.map(when).unwrap_or_default(),
        "duration": duration_of(&run),
        "message": condition_message(&run),
        "graph": svg,
        "tasks": task_rows(&run),
        "logs": logs.iter().map(|(_, l)| l).collect::<Vec<_>>(),
        "after": after,
    });
    page(&app, "run", &data, &request)
}

/// `GET /api/v1/runs/NAME/logs?after=SEQ`: log lines with their sequence numbers.
pub(super) async fn logs(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let after = query.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    match app.store.logs(&name, after) {
        Ok(lines) => {
            let lines: Vec<serde_json::Value> = lines
                .into_iter()
                .map(|(seq, l)| {
                    let mut v = serde_json::to_value(l).unwrap_or_default();
                    v["seq"] = seq.into();
                    v
                })
                .collect();
            axum::Json(serde_json::json!({ "run": name, "lines": lines })).into_response()
        }
        Err(e) => internal(&e.to_string()),
    }
}

/// `GET /api/v1/stream`: a `changed` event whenever any run changes.
pub(super) async fn runs_stream(
    State(app): State<Arc<App>>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let events = stream::unfold((app, None), |(app, last)| async move {
        loop {
            let now = app.store.last_change().ok();
            if now != last {
                let (updated, count) = now.unwrap_or_default();
                let event = SseEvent::default()
                    .event("changed")
                    .data(format!("{{\"updated\":{updated},\"runs\":{count}}}"));
                return Some((Ok(event), (app, now)));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// `GET /api/v1/runs/NAME/stream?after=SEQ`: `run` events (state, task states) when the run
/// changes, `log` events with new lines; ends once the run is final and its logs are sent.
pub(super) async fn run_stream(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    // A browser that reconnects says what it saw last: log events carry their sequence number
    // as the event id, so nothing is sent twice.
    let seen: i64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let after: i64 = query
        .get("after")
        .and_then(|a| a.parse().ok())
        .unwrap_or(0)
        .max(seen);
    let state = Follow {
        app,
        name,
        after,
        updated: -1,
        done: false,
    };
    let events = stream::unfold(state, |mut s| async move {
        loop {
            if s.done {
                return None;
            }
            if let Ok(lines) = s.app.store.logs(&s.name, s.after) {
                if let Some((seq, _)) = lines.last() {
                    s.after = *seq;
                    let lines: Vec<_> = lines.into_iter().map(|(_, l)| l).collect();
                    let data = serde_json::to_string(&lines).unwrap_or_default();
                    let event = SseEvent::default()
                        .event("log")
                        .id(s.after.to_string())
                        .data(data);
                    return Some((Ok(event), s));
                }
            }
            match s.app.store.run(&s.name) {
                Ok(Some(run)) if run.updated_ms != s.updated => {
                    s.updated = run.updated_ms;
                    let final_ = run.state.is_final();
                    // Logs written just before the final state are sent before the stream ends.
                    s.done = final_
                        && s.app
                            .store
                            .logs(&s.name, s.after)
                            .is_ok_and(|l| l.is_empty());
                    let data = serde_json::json!({
                        "state": run.state,
                        "tasks": run.tasks,
                        "final": final_,
                    });
                    return Some((
                        Ok(SseEvent::default().event("run").data(data.to_string())),
                        s,
                    ));
                }
                Ok(None) | Err(_) => return None,
                Ok(Some(_)) => {}
            }
            tokio::time::sleep(POLL).await;
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

struct Follow {
    app: Arc<App>,
    name: String,
    after: i64,
    updated: i64,
    done: bool,
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

async fn event(app: Arc<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    super::accept::event(State(app), parts.uri, parts.headers, body).await
}

fn page(app: &App, name: &str, data: &serde_json::Value, request: &Request) -> Response {
    let pages = Pages::new();
    match pages.render(name, data) {
        Ok(body) => {
            let mut response = Html(body).into_response();
            if let Some(cookie) = super::auth::cookie_for(app, request) {
                if let Ok(v) = header::HeaderValue::from_str(&cookie) {
                    response.headers_mut().insert(header::SET_COOKIE, v);
                }
            }
            response
        }
        Err(e) => internal(&e),
    }
}

fn internal(message: &str) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, format!("{message}\n")).into_response()
}

fn listener_label(app: &App) -> String {
    format!(
        "EventListener {}/{}",
        app.listener.namespace, app.listener.name
    )
}

fn when(ms: i64) -> String {
    rfc3339(crate::reconcile::Timestamp(ms.max(0) as u64))
}

fn duration_of(run: &RunRecord) -> String {
    match (run.started_ms, run.finished_ms) {
        (Some(s), Some(f)) => html::duration(f - s),
        (Some(s), None) => html::duration(super::now_ms() - s),
        _ => String::new(),
    }
}

fn condition_message(run: &RunRecord) -> String {
    run.status
        .as_ref()
        .and_then(|s| s["status"]["conditions"][0]["message"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn run_row(run: &RunRecord) -> serde_json::Value {
    serde_json::json!({
        // The id, which the run's page is found by (a served run's id is its name).
        "name": run.id,
        "kind": run.kind,
        "state": run.state,
        "trigger": run.trigger,
        "started": run.started_ms.map(when).unwrap_or_default(),
        "duration": duration_of(run),
    })
}

fn event_row(event: &EventRecord) -> serde_json::Value {
    let outcomes: Vec<serde_json::Value> = event
        .outcomes
        .as_ref()
        .and_then(|o| o.as_array())
        .into_iter()
        .flatten()
        .map(|o| {
            serde_json::json!({
                "verdict": o["verdict"],
                "text": o["text"].as_str().unwrap_or_default(),
            })
        })
        .collect();
    let state = match (&event.duplicate_of, event.state) {
        (Some(original), _) => format!("redelivery of {original}: nothing run"),
        (None, crate::store::EventState::Refused) => {
            let o = event.outcomes.clone().unwrap_or_default();
            format!(
                "refused ({}): {}",
                o["status"],
                o["reason"].as_str().unwrap_or_default()
            )
        }
        (None, s) => serde_json::to_value(s)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    };
    serde_json::json!({
        "id": event.id,
        "received": when(event.received_ms),
        "delivery": event.delivery_id,
        "outcomes": outcomes,
        "state": state,
    })
}

/// Task → state word, from the run's recorded task states.
fn task_states(run: &RunRecord) -> HashMap<String, String> {
    run.tasks
        .as_ref()
        .and_then(|t| t.as_object())
        .map(|tasks| {
            tasks
                .iter()
                .map(|(name, t)| {
                    (
                        name.clone(),
                        t["state"].as_str().unwrap_or("waiting").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The tasks table: graph order first, then any task the graph does not name.
fn task_rows(run: &RunRecord) -> Vec<serde_json::Value> {
    let empty = serde_json::Map::new();
    let tasks = run
        .tasks
        .as_ref()
        .and_then(|t| t.as_object())
        .unwrap_or(&empty);
    let mut order: Vec<String> = run
        .graph
        .as_ref()
        .map(|g| {
            g["levels"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(std::iter::once(&g["finally"]))
                .flat_map(|level| level.as_array().cloned().unwrap_or_default())
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for name in tasks.keys() {
        if !order.contains(name) {
            order.push(name.clone());
        }
    }
    order
        .into_iter()
        .map(|name| {
            let t = tasks.get(&name).cloned().unwrap_or_default();
            let steps: Vec<serde_json::Value> = t["steps"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(step, s)| {
                    serde_json::json!({ "name": step, "state": s["state"], "exit": s["exitCode"] })
                })
                .collect();
            let results: Vec<serde_json::Value> = t["results"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(r, v)| {
                    let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    serde_json::json!({ "name": r, "value": value })
                })
                .collect();
            serde_json::json!({
                "name": name,
                "state": t["state"].as_str().unwrap_or("waiting"),
                "message": t["message"],
                "steps": steps,
                "results": results,
            })
        })
        .collect()
}
