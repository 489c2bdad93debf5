//! What the listener refuses, and how: each case with its status code, its recorded outcome,
//! and nothing run.

use std::time::Duration;

use crate::common::{run_adze, Outcome};
use crate::http;
use crate::server::{command, fixture, Server};
use crate::{event_id, outcome, scratch, E1_BODY, E1_SIGNATURE, PROCESSED};

/// `adze serve` of one fixture that must not start; what it said.
fn refused_start(dir: &std::path::Path, file: &str, store: &std::path::Path) -> Outcome {
    let files = fixture(file);
    let args = [
        "serve",
        "-f",
        files.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--store",
    ];
    let mut args = args.to_vec();
    args.push(store.to_str().unwrap());
    run_adze(dir, &args, Duration::from_secs(30))
}

#[test]
fn a_redelivery_returns_the_first_event_and_starts_nothing_new() {
    let dir = scratch();
    let server = Server::start(&[fixture("filter.yaml")], &dir.path().join("s.db"), &[]);
    let body = br#"{"action":"opened","number":3}"#;
    let first = http::post(server.addr, &[("X-GitHub-Delivery", "d-42")], body);
    let id = event_id(&first);
    let again = http::post(server.addr, &[("X-GitHub-Delivery", "d-42")], body);
    assert_eq!(again.status, 202);
    assert_eq!(again.body, first.body, "the same answer, the same event id");
    assert_eq!(again.header("adze-duplicate-of"), Some(id.as_str()));
    server.processed(&id, PROCESSED);
    // The same delivery id with another body is not a redelivery (nor can a forger claim an
    // id before the real sender uses it).
    let other = http::post(
        server.addr,
        &[("X-GitHub-Delivery", "d-42")],
        br#"{"action":"opened","number":4}"#,
    );
    let other_id = event_id(&other);
    assert_ne!(other_id, id);
    server.processed(&other_id, PROCESSED);
    let runs = server.runs();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let duplicate = server
        .events()
        .into_iter()
        .find(|e| e["state"] == "duplicate")
        .expect("the redelivery is recorded");
    assert_eq!(duplicate["duplicate_of"], id.as_str());
}

#[test]
fn an_oversized_body_gets_413_is_recorded_and_runs_nothing() {
    let dir = scratch();
    let server = Server::start(
        &[fixture("filter.yaml")],
        &dir.path().join("s.db"),
        &["--max-body", "1Ki"],
    );
    let big = format!(
        "{{\"action\":\"opened\",\"number\":1,\"pad\":\"{}\"}}",
        "x".repeat(2048)
    );
    let reply = http::post(server.addr, &[], big.as_bytes());
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(reply.json()["errorMessage"]
        .as_str()
        .unwrap()
        .contains("1024 bytes"));
    let events = server.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["state"], "refused");
    assert_eq!(events[0]["outcomes"]["status"], 413);
    // Just under the limit is fine.
    let small = http::post(server.addr, &[], br#"{"action":"opened","number":2}"#);
    server.processed(&event_id(&small), PROCESSED);
    assert_eq!(server.runs().len(), 1);
}

#[test]
fn a_full_queue_answers_503_with_retry_after_before_accepting() {
    let dir = scratch();
    let server = Server::start(
        &[fixture("filter.yaml")],
        &dir.path().join("s.db"),
        &["--queue-size", "0"],
    );
    let reply = http::post(server.addr, &[], br#"{"action":"opened","number":1}"#);
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.header("retry-after"), Some("30"));
    std::thread::sleep(Duration::from_millis(300));
    let events = server.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["state"], "refused", "{events:?}");
    assert!(server.runs().is_empty());
    let metrics = http::get(server.addr, "/metrics", &[]).body;
    assert!(
        metrics.contains("adze_serve_webhook_requests_total{outcome=\"queue_full\"} 1"),
        "{metrics}"
    );
}

#[test]
fn an_interceptor_without_a_secret_refuses_to_start_unless_allowed() {
    let dir = scratch();
    let store = dir.path().join("s.db");
    let out = refused_start(dir.path(), "unsigned.yaml", &store);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "EventListener open-listener trigger anyone: github interceptor without secretRef"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--allow-unsigned"), "{}", out.stderr);
    let server = Server::start(&[fixture("unsigned.yaml")], &store, &["--allow-unsigned"]);
    assert!(server
        .stderr()
        .contains("warning: these interceptors check no signature"));
}

#[test]
fn a_template_reference_that_climbs_out_is_refused_at_start() {
    let dir = scratch();
    let store = dir.path().join("s.db");
    let out = refused_start(dir.path(), "traversal.yaml", &store);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("TriggerTemplate \"../../etc/passwd\" not found"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("traversal.yaml:8:21"), "{}", out.stderr);
    assert!(!store.exists(), "nothing was served, so no store was made");
}

#[test]
fn beyond_loopback_the_dashboard_and_api_need_the_token_and_webhooks_do_not() {
    let dir = scratch();
    let store = dir.path().join("s.db");
    let mut refused = command(
        &[fixture("filter.yaml")],
        &store,
        &["--listen".into(), "0.0.0.0:0".into()],
    );
    let out = refused
        .env_remove("ADZE_SERVE_TOKEN")
        .output()
        .expect("adze runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--token-file FILE or $ADZE_SERVE_TOKEN"),
        "{stderr}"
    );

    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "t0ps3cret\n").unwrap();
    let server = Server::start(
        &[fixture("filter.yaml")],
        &store,
        &[
            "--listen",
            "0.0.0.0:0",
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    );
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], server.addr.port()));
    let denied = http::get(addr, "/api/v1/runs", &[]);
    assert_eq!(denied.status, 401, "{}", denied.body);
    let wrong = http::get(addr, "/api/v1/runs", &[("Authorization", "Bearer nope")]);
    assert_eq!(wrong.status, 401);
    let page = http::get(addr, "/", &[("Accept", "text/html")]);
    assert_eq!(page.status, 401, "the dashboard too");
    let ok = http::get(
        addr,
        "/api/v1/runs",
        &[("Authorization", "Bearer t0ps3cret")],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let browser = http::get(addr, "/?token=t0ps3cret", &[("Accept", "text/html")]);
    assert_eq!(browser.status, 200);
    assert!(browser
        .header("set-cookie")
        .is_some_and(|c| c.starts_with("adze_token=t0ps3cret;") && c.contains("HttpOnly")));
    let webhook = http::post(addr, &[], br#"{"action":"opened","number":1}"#);
    assert_eq!(
        webhook.status, 202,
        "webhooks authenticate through interceptors"
    );
}

#[test]
fn answering_after_the_interceptors_tells_forged_from_filtered() {
    let dir = scratch();
    let server = Server::start(
        &[fixture("github.yaml")],
        &dir.path().join("s.db"),
        &["--respond-after-interceptors"],
    );
    let forged = http::post(
        server.addr,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", "sha256=00"),
        ],
        E1_BODY,
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    let missing = http::post(server.addr, &[("X-GitHub-Event", "push")], E1_BODY);
    assert_eq!(missing.status, 403, "{}", missing.body);
    let event = server.event(missing.json()["eventID"].as_str().unwrap());
    assert_eq!(
        outcome(&event, "on-push")["result"]["message"],
        "no X-Hub-Signature-256 header set"
    );
    let ping = http::post(
        server.addr,
        &[
            ("X-GitHub-Event", "ping"),
            ("X-Hub-Signature-256", E1_SIGNATURE),
        ],
        E1_BODY,
    );
    assert_eq!(ping.status, 422, "{}", ping.body);
    assert!(server.runs().is_empty());
    let good = http::post(
        server.addr,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", E1_SIGNATURE),
        ],
        E1_BODY,
    );
    assert_eq!(good.status, 202, "{}", good.body);
    assert_eq!(
        server.runs().len(),
        1,
        "the run was recorded before the answer"
    );
}
