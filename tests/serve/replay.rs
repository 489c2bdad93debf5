//! `adze trigger` (a saved payload through the whole chain) and `adze runs` (the history).

use std::time::Duration;

use crate::common::run_adze;
use crate::http;
use crate::server::{fixture, Server};
use crate::{event_id, scratch, E1_BODY, E1_SIGNATURE, PROCESSED};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn a_saved_push_shows_the_pipeline_run_it_would_create() {
    let dir = scratch();
    std::fs::write(dir.path().join("push.json"), E1_BODY).unwrap();
    let files = fixture("github.yaml");
    let signed = format!("X-Hub-Signature-256: {E1_SIGNATURE}");
    let args = [
        "trigger",
        "-f",
        files.to_str().unwrap(),
        "--event",
        "push.json",
        "-H",
        "X-GitHub-Event: push",
        "-H",
        &signed,
        "--dry-run",
        "-o",
        "json",
    ];
    let out = run_adze(dir.path(), &args, LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("on-push: created PipelineRun build-6113728-"),
        "{}",
        out.stderr
    );
    let object: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    assert_eq!(object["metadata"]["generateName"], "build-6113728-");
    assert_eq!(
        object["metadata"]["labels"]["triggers.tekton.dev/trigger"],
        "on-push"
    );
    assert_eq!(object["spec"]["params"][2]["value"], "main");

    // A wrong signature: the reason, and exit 1 since nothing would be created.
    let mut forged = args.to_vec();
    forged[8] = "X-Hub-Signature-256: sha256=00";
    let out = run_adze(dir.path(), &forged, LIMIT);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("on-push: rejected by github (FailedPrecondition): error decoding signature")
            || out.stderr.contains(
                "on-push: rejected by github (FailedPrecondition): payload signature check failed"
            ),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn runs_lists_what_the_server_recorded_newest_first() {
    let dir = scratch();
    let store = dir.path().join("s.db");
    let server = Server::start(&[fixture("filter.yaml")], &store, &[]);
    for n in [1, 2] {
        let body = format!("{{\"action\":\"opened\",\"number\":{n}}}");
        let reply = http::post(server.addr, &[], body.as_bytes());
        server.processed(&event_id(&reply), PROCESSED);
    }
    let newest = server.runs()[0]["name"].as_str().unwrap().to_string();
    server.finished(&newest, PROCESSED);
    let out = run_adze(
        dir.path(),
        &["runs", "--store", store.to_str().unwrap()],
        LIMIT,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("RUN") && lines[0].contains("STATE") && lines[0].contains("ORIGIN"),
        "{}",
        out.stdout
    );
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines[1].starts_with("pr-2-")
            && lines[2].starts_with("pr-1-")
            && lines[1].contains("trigger pr-open"),
        "{}",
        out.stdout
    );
    let json = run_adze(
        dir.path(),
        &["runs", "--store", store.to_str().unwrap(), "-o", "json"],
        LIMIT,
    );
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["runs"][0]["name"], newest.as_str());
    let missing = run_adze(dir.path(), &["runs", "--store", "nowhere.db"], LIMIT);
    assert_eq!(missing.code, Some(2));
    assert!(
        missing.stderr.contains("no history at nowhere.db"),
        "{}",
        missing.stderr
    );
}
