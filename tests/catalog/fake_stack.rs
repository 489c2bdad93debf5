//! The observability stack's HTTP APIs, faked for the observability-rollout pipeline's tests:
//! Prometheus (targets), Grafana (datasources and their health), Loki (push and query_range),
//! the OpenTelemetry collector's OTLP/HTTP receiver, Tempo (trace by id) and Alertmanager (v2
//! alerts). One axum router serves them all, since their paths do not overlap.
//!
//! Design: read-only answers come from fixture files under `fixtures/observability/`; what the
//! pipeline writes is kept, so Loki returns the lines pushed to it, Tempo the spans the
//! collector received, and Alertmanager the alerts posted. Every request is recorded, in order,
//! in the shared [`Recorder`] as `<product> <what>` (e.g. `loki push probe=...`), which is what
//! the scenarios assert on.
//!
//! Invariants: a fault given in [`Faults`] changes only the behaviour it names (a dropped Loki
//! push still answers 204, as an ingester that loses data would).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::fake_server::Recorder;

/// Grafana's admin credentials the fake accepts (what the test's Secret holds).
pub const GRAFANA_USER: &str = "admin";
/// See [`GRAFANA_USER`].
pub const GRAFANA_PASSWORD: &str = "prom-operator";

/// Ways the fake stack misbehaves, one per failure scenario.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Loki answers 204 to pushes but keeps nothing, so queries never find the test line.
    pub loki_drops_pushes: bool,
}

/// The fixture folder of these tests.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/catalog/fixtures/observability")
}

fn fixture(name: &str) -> String {
    let path = fixtures().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// One log line as Loki stores it.
#[derive(Clone)]
struct LogLine {
    labels: BTreeMap<String, String>,
    timestamp: String,
    line: String,
}

#[derive(Default)]
struct Stored {
    logs: Vec<LogLine>,
    /// Trace id (lower-case hex) -> the resourceSpans that carried its spans.
    traces: HashMap<String, Vec<Value>>,
    alerts: Vec<Value>,
}

#[derive(Clone)]
struct Stack {
    recorder: Recorder,
    faults: Faults,
    stored: Arc<Mutex<Stored>>,
}

/// The router of every fake API, recording into `recorder`.
pub fn router(recorder: Recorder, faults: Faults) -> Router {
    let mut stored = Stored::default();
    // What the log agent (Alloy) would have shipped before the check runs.
    let agent = fixture_json("loki-agent-streams.json");
    for entry in agent.as_array().into_iter().flatten() {
        stored.logs.push(LogLine {
            labels: serde_json::from_value(entry["stream"].clone()).unwrap_or_default(),
            timestamp: now_ns(),
            line: entry["line"].as_str().unwrap_or_default().to_string(),
        });
    }
    let stack = Stack {
        recorder,
        faults,
        stored: Arc::new(Mutex::new(stored)),
    };
    Router::new()
        .route("/api/v1/targets", get(prometheus_targets))
        .route("/api/datasources", get(grafana_datasources))
        .route("/api/datasources/uid/{uid}/health", get(grafana_health))
        .route("/loki/api/v1/push", post(loki_push))
        .route("/loki/api/v1/query_range", get(loki_query_range))
        .route("/v1/traces", post(otlp_traces))
        .route("/api/traces/{id}", get(tempo_trace))
        .route(
            "/api/v2/alerts",
            post(alertmanager_post).get(alertmanager_get),
        )
        .with_state(stack)
}

fn now_ns() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.as_nanos().to_string()
}

fn query_pairs(raw: &Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

async fn prometheus_targets(State(stack): State<Stack>, RawQuery(query): RawQuery) -> Response {
    stack
        .recorder
        .record(format!("prometheus targets {}", query.unwrap_or_default()));
    json_response(StatusCode::OK, fixture_json("prometheus-targets.json"))
}

/// Grafana answers 401 without the admin credentials, as it does with anonymous access off.
fn grafana_authorized(headers: &HeaderMap) -> bool {
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{GRAFANA_USER}:{GRAFANA_PASSWORD}"));
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Basic {expected}"))
}

async fn grafana_datasources(State(stack): State<Stack>, headers: HeaderMap) -> Response {
    let authorized = grafana_authorized(&headers);
    stack
        .recorder
        .record(format!("grafana datasources authorized={authorized}"));
    if !authorized {
        return json_response(StatusCode::UNAUTHORIZED, json!({"message": "Unauthorized"}));
    }
    json_response(StatusCode::OK, fixture_json("grafana-datasources.json"))
}

async fn grafana_health(
    State(stack): State<Stack>,
    Path(uid): Path<String>,
    headers: HeaderMap,
) -> Response {
    stack.recorder.record(format!("grafana health {uid}"));
    if !grafana_authorized(&headers) {
        return json_response(StatusCode::UNAUTHORIZED, json!({"message": "Unauthorized"}));
    }
    let path = fixtures()
        .join("grafana-health")
        .join(format!("{uid}.json"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({"message": "Data source not found"}),
        );
    };
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Grafana puts an error's HTTP status in the body too (statusCode); the fixture says which.
    let status = body["statusCode"]
        .as_u64()
        .and_then(|code| StatusCode::from_u16(code as u16).ok())
        .unwrap_or(StatusCode::OK);
    json_response(status, body)
}

async fn loki_push(State(stack): State<Stack>, body: String) -> Response {
    let Ok(push) = serde_json::from_str::<Value>(&body) else {
        stack.recorder.record("loki push (not JSON)");
        return (StatusCode::BAD_REQUEST, "loki: push body is not JSON\n").into_response();
    };
    let mut lines = Vec::new();
    for stream in push["streams"].as_array().into_iter().flatten() {
        let labels: BTreeMap<String, String> =
            serde_json::from_value(stream["stream"].clone()).unwrap_or_default();
        for value in stream["values"].as_array().into_iter().flatten() {
            lines.push(LogLine {
                labels: labels.clone(),
                timestamp: value[0].as_str().unwrap_or_default().to_string(),
                line: value[1].as_str().unwrap_or_default().to_string(),
            });
        }
    }
    let probe = lines
        .iter()
        .find_map(|l| l.labels.get("probe").cloned())
        .unwrap_or_default();
    stack
        .recorder
        .record(format!("loki push probe={probe} lines={}", lines.len()));
    if lines.is_empty() || lines.iter().any(|l| l.timestamp.parse::<u128>().is_err()) {
        return (
            StatusCode::BAD_REQUEST,
            "loki: each value must be [\"<ns timestamp>\", \"<line>\"]\n",
        )
            .into_response();
    }
    if !stack.faults.loki_drops_pushes {
        stack.stored.lock().unwrap().logs.extend(lines);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The label matchers of a LogQL stream selector `{a="b", c="d"}` (equality matchers only,
/// which is all the pipeline sends); `None` for anything else.
fn selector(query: &str) -> Option<Vec<(String, String)>> {
    let inner = query.trim().strip_prefix('{')?.strip_suffix('}')?;
    inner
        .split(',')
        .filter(|m| !m.trim().is_empty())
        .map(|m| {
            let (name, value) = m.split_once('=')?;
            let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
            Some((name.trim().to_string(), value.to_string()))
        })
        .collect()
}

async fn loki_query_range(State(stack): State<Stack>, RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(&raw);
    let query = pairs
        .iter()
        .find(|(k, _)| k == "query")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    stack.recorder.record(format!("loki query {query}"));
    let Some(matchers) = selector(&query) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("parse error: cannot parse {query}\n"),
        )
            .into_response();
    };
    let stored = stack.stored.lock().unwrap();
    let mut streams: BTreeMap<Vec<(String, String)>, Vec<Value>> = BTreeMap::new();
    for line in &stored.logs {
        if matchers.iter().all(|(k, v)| line.labels.get(k) == Some(v)) {
            let key: Vec<(String, String)> = line.labels.clone().into_iter().collect();
            streams
                .entry(key)
                .or_default()
                .push(json!([line.timestamp, line.line]));
        }
    }
    let result: Vec<Value> = streams
        .into_iter()
        .map(|(labels, values)| {
            json!({"stream": labels.into_iter().collect::<BTreeMap<_, _>>(), "values": values})
        })
        .collect();
    json_response(
        StatusCode::OK,
        json!({"status": "success", "data": {"resultType": "streams", "result": result, "stats": {}}}),
    )
}

async fn otlp_traces(State(stack): State<Stack>, body: String) -> Response {
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        stack.recorder.record("otlp traces (not JSON)");
        return (StatusCode::BAD_REQUEST, "otlp: body is not JSON\n").into_response();
    };
    let mut ids = Vec::new();
    let mut stored = stack.stored.lock().unwrap();
    for resource_spans in request["resourceSpans"].as_array().into_iter().flatten() {
        for scope in resource_spans["scopeSpans"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for span in scope["spans"].as_array().into_iter().flatten() {
                let id = span["traceId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                // OTLP/JSON trace ids are 32 hex digits (16 bytes), never base64.
                if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    drop(stored);
                    stack
                        .recorder
                        .record(format!("otlp traces bad traceId {id}"));
                    return (
                        StatusCode::BAD_REQUEST,
                        "otlp: traceId must be 32 hex digits\n",
                    )
                        .into_response();
                }
                ids.push(id.clone());
                stored
                    .traces
                    .entry(id)
                    .or_default()
                    .push(resource_spans.clone());
            }
        }
    }
    drop(stored);
    stack
        .recorder
        .record(format!("otlp traces {}", ids.join(",")));
    json_response(StatusCode::OK, json!({"partialSuccess": {}}))
}

async fn tempo_trace(State(stack): State<Stack>, Path(id): Path<String>) -> Response {
    let id = id.to_ascii_lowercase();
    let found = stack.stored.lock().unwrap().traces.get(&id).cloned();
    stack
        .recorder
        .record(format!("tempo trace {id} found={}", found.is_some()));
    match found {
        Some(batches) => json_response(StatusCode::OK, json!({"batches": batches})),
        None => (StatusCode::NOT_FOUND, "trace not found\n").into_response(),
    }
}

async fn alertmanager_post(State(stack): State<Stack>, body: String) -> Response {
    let Ok(Value::Array(alerts)) = serde_json::from_str::<Value>(&body) else {
        stack
            .recorder
            .record("alertmanager post (not a JSON array)");
        return (
            StatusCode::BAD_REQUEST,
            "body must be a JSON array of alerts\n",
        )
            .into_response();
    };
    let names: Vec<String> = alerts
        .iter()
        .map(|a| {
            format!(
                "{} probe={}",
                a["labels"]["alertname"].as_str().unwrap_or("?"),
                a["labels"]["probe"].as_str().unwrap_or("?")
            )
        })
        .collect();
    stack
        .recorder
        .record(format!("alertmanager post {}", names.join(",")));
    if alerts
        .iter()
        .any(|a| a["labels"]["alertname"].as_str().unwrap_or("").is_empty())
    {
        return (StatusCode::BAD_REQUEST, "alertname label is required\n").into_response();
    }
    let mut stored = stack.stored.lock().unwrap();
    for alert in alerts {
        let fingerprint = format!("{:016x}", stored.alerts.len() as u64 + 0x5eed);
        stored.alerts.push(json!({
            "labels": alert["labels"],
            "annotations": alert["annotations"],
            "startsAt": alert["startsAt"],
            "endsAt": alert["endsAt"],
            "updatedAt": alert["startsAt"],
            "generatorURL": "",
            "fingerprint": fingerprint,
            "receivers": [{"name": "null"}],
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        }));
    }
    StatusCode::OK.into_response()
}

async fn alertmanager_get(State(stack): State<Stack>, RawQuery(raw): RawQuery) -> Response {
    let filters: Vec<String> = query_pairs(&raw)
        .into_iter()
        .filter(|(k, _)| k == "filter")
        .map(|(_, v)| v)
        .collect();
    stack
        .recorder
        .record(format!("alertmanager get {}", filters.join(",")));
    let mut matchers = Vec::new();
    for filter in &filters {
        let Some((name, value)) = filter.split_once('=') else {
            return (StatusCode::BAD_REQUEST, format!("bad matcher {filter}\n")).into_response();
        };
        let value = value.trim_matches('"').to_string();
        matchers.push((name.to_string(), value));
    }
    let stored = stack.stored.lock().unwrap();
    let alerts: Vec<Value> = stored
        .alerts
        .iter()
        .filter(|a| {
            matchers
                .iter()
                .all(|(k, v)| a["labels"][k].as_str() == Some(v))
        })
        .cloned()
        .collect();
    json_response(StatusCode::OK, Value::Array(alerts))
}
