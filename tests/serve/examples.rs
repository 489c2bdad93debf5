//! The worked examples of spec §7, each asserting the exact answer and what was created.

use crate::http::{self, github_signature};
use crate::server::{fixture, Server};
use crate::{event_id, outcome, scratch, E1_BODY, E1_SIGNATURE, GH_SECRET, PROCESSED};
use std::time::Duration;

/// Request headers with owned values.
type Headers = Vec<(&'static str, String)>;

fn is_uuid_v4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts[2].starts_with('4')
        && s.chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

#[test]
fn e1_signed_push_creates_the_pipeline_run_and_it_runs() {
    let dir = scratch();
    let server = Server::start(&[fixture("github.yaml")], &dir.path().join("s.db"), &[]);
    let reply = http::post(
        server.addr,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", E1_SIGNATURE),
            ("X-GitHub-Delivery", "e1-delivery"),
        ],
        E1_BODY,
    );
    assert_eq!(reply.status, 202);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("allow"), None);
    let id = event_id(&reply);
    assert!(is_uuid_v4(&id), "{id}");
    // Byte for byte: field order, no namespace omitted, a trailing newline.
    let uid = reply.json()["eventListenerUID"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        reply.body,
        format!(
            "{{\"eventListener\":\"gh-listener\",\"namespace\":\"ci\",\"eventListenerUID\":\"{uid}\",\"eventID\":\"{id}\"}}\n"
        )
    );
    let event = server.processed(&id, PROCESSED);
    let on_push = outcome(&event, "on-push");
    assert_eq!(on_push["verdict"], "created", "{event}");
    let name = on_push["runs"][0].as_str().expect("a run").to_string();
    assert!(
        name.starts_with("build-6113728-") && name.len() == "build-6113728-".len() + 5,
        "{name}"
    );
    let run = server.finished(&name, Duration::from_secs(120));
    let object = &run["object"];
    assert_eq!(object["metadata"]["generateName"], "build-6113728-");
    assert_eq!(object["metadata"]["namespace"], "ci");
    let labels = &object["metadata"]["labels"];
    assert_eq!(labels["triggers.tekton.dev/eventlistener"], "gh-listener");
    assert_eq!(labels["triggers.tekton.dev/trigger"], "on-push");
    assert_eq!(labels["triggers.tekton.dev/triggers-eventid"], id.as_str());
    let params: Vec<(String, String)> = object["spec"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    let param = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(
        param("revision"),
        Some("6113728f27ae82c7b1a177c8d03f9e96e0adf246")
    );
    assert_eq!(param("url"), Some("https://github.com/acme/app.git"));
    assert_eq!(param("branch"), Some("main"));
    assert_eq!(param("event"), Some("push"));
    assert_eq!(param("message"), Some("no message"));
    assert!(param("run-id").is_some_and(is_uuid_v4), "{params:?}");
    // It ran: both tasks, the result wired from one to the other, the logs recorded.
    assert_eq!(run["state"], "succeeded", "{run}");
    let logs = http::get(server.addr, &format!("/api/v1/runs/{name}/logs"), &[]).json();
    let lines: Vec<&str> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(lines.contains(&"testing 6113728 on main"), "{lines:?}");
    let status = &run["status"]["status"];
    assert_eq!(status["conditions"][0]["reason"], "Succeeded", "{run}");
    // The live stream of a finished run: its logs (each event's id its last line's sequence
    // number) and its final state, then the end; a browser reconnecting with the last id it
    // saw gets no line twice.
    let stream = format!("/api/v1/runs/{name}/stream");
    let all = http::get(server.addr, &stream, &[]);
    assert!(
        all.body.contains("event: log") && all.body.contains("\"final\":true"),
        "{}",
        all.body
    );
    let last = logs["lines"].as_array().unwrap().last().unwrap()["seq"].to_string();
    let resumed = http::get(server.addr, &stream, &[("Last-Event-ID", &last)]);
    assert!(!resumed.body.contains("event: log"), "{}", resumed.body);
    assert!(resumed.body.contains("event: run"), "{}", resumed.body);
}

#[test]
fn e2_wrong_or_legacy_signatures_and_other_events_are_accepted_but_run_nothing() {
    let dir = scratch();
    let server = Server::start(&[fixture("github.yaml")], &dir.path().join("s.db"), &[]);
    let mut changed = E1_BODY.to_vec();
    // Still valid JSON: one digit of the sha changed.
    let at = changed.iter().position(|&b| b == b'6').unwrap();
    changed[at] = b'7';
    let cases: Vec<(Headers, Vec<u8>, &str)> = vec![
        (
            vec![
                ("X-GitHub-Event", "push".into()),
                ("X-Hub-Signature-256", format!("sha256={}", "0".repeat(64))),
            ],
            E1_BODY.to_vec(),
            "payload signature check failed",
        ),
        (
            vec![
                ("X-GitHub-Event", "push".into()),
                ("X-Hub-Signature-256", E1_SIGNATURE.into()),
            ],
            changed,
            "payload signature check failed",
        ),
        (
            vec![
                ("X-GitHub-Event", "push".into()),
                (
                    "X-Hub-Signature",
                    "sha1=247446ecb30d218ec73080e384c09d32f1be8bd1".into(),
                ),
            ],
            E1_BODY.to_vec(),
            "no X-Hub-Signature-256 header set",
        ),
        (
            vec![
                ("X-GitHub-Event", "ping".into()),
                ("X-Hub-Signature-256", E1_SIGNATURE.into()),
            ],
            E1_BODY.to_vec(),
            "event type ping is not allowed",
        ),
    ];
    for (headers, body, message) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = http::post(server.addr, &headers, &body);
        let id = event_id(&reply);
        let event = server.processed(&id, PROCESSED);
        let on_push = outcome(&event, "on-push");
        assert_eq!(on_push["result"]["result"], "rejected", "{event}");
        assert_eq!(on_push["result"]["interceptor"], "github");
        assert_eq!(on_push["result"]["message"], message);
        let verdict = if message.starts_with("event type") {
            "declined"
        } else {
            "unauthenticated"
        };
        assert_eq!(on_push["verdict"], verdict);
        assert_eq!(on_push["runs"], serde_json::json!([]));
    }
    assert!(server.runs().is_empty(), "{:?}", server.runs());
}

#[test]
fn e3_cel_filter_rejects_closed_pull_requests_and_passes_opened_ones() {
    let dir = scratch();
    let server = Server::start(&[fixture("filter.yaml")], &dir.path().join("s.db"), &[]);
    let closed = http::post(
        server.addr,
        &[("X-GitHub-Event", "pull_request")],
        br#"{"action":"closed","number":7}"#,
    );
    let event = server.processed(&event_id(&closed), PROCESSED);
    let pr = outcome(&event, "pr-open");
    assert_eq!(pr["result"]["interceptor"], "cel");
    assert_eq!(pr["result"]["code"], "FailedPrecondition");
    assert_eq!(
        pr["result"]["message"],
        "expression body.action in ['opened', 'synchronize'] did not return true"
    );
    let opened = http::post(
        server.addr,
        &[("X-GitHub-Event", "pull_request")],
        br#"{"action":"opened","number":7}"#,
    );
    let event = server.processed(&event_id(&opened), PROCESSED);
    let pr = outcome(&event, "pr-open");
    assert_eq!(pr["verdict"], "created", "{event}");
    assert!(pr["runs"][0].as_str().unwrap().starts_with("pr-7-"));
    assert_eq!(server.runs().len(), 1);
}

#[test]
fn e4_a_missing_field_falls_back_to_the_template_default_or_fails_the_trigger() {
    let dir = scratch();
    let server = Server::start(
        &[fixture("missing-field.yaml")],
        &dir.path().join("s.db"),
        &[],
    );
    let reply = http::post(server.addr, &[], br#"{"action":"opened"}"#);
    let event = server.processed(&event_id(&reply), PROCESSED);
    let with = outcome(&event, "with-default");
    let name = with["runs"][0].as_str().expect("created").to_string();
    let run = server.run(&name);
    assert_eq!(run["object"]["spec"]["params"][0]["value"], "refs-main");
    let without = outcome(&event, "without-default");
    assert_eq!(without["result"]["result"], "failed");
    assert_eq!(without["result"]["stage"], "binding");
    assert!(
        without["result"]["message"].as_str().unwrap().contains(
            "failed to replace JSONPath value for param branch: refs-$(body.pull_request.head.ref): pull_request is not found"
        ),
        "{without}"
    );
    // A present null is a value.
    let reply = http::post(
        server.addr,
        &[],
        br#"{"pull_request":{"head":{"ref":null}}}"#,
    );
    let event = server.processed(&event_id(&reply), PROCESSED);
    let name = outcome(&event, "without-default")["runs"][0]
        .as_str()
        .expect("created")
        .to_string();
    assert_eq!(
        server.run(&name)["object"]["spec"]["params"][0]["value"],
        "refs-null"
    );
}

#[test]
fn e5_overlays_nest_and_rendered_values_land_in_templates_as_text() {
    let dir = scratch();
    let server = Server::start(&[fixture("overlays.yaml")], &dir.path().join("s.db"), &[]);
    let body = br#"{"title":"fix \"quotes\"\nnow","labels":[{"name":"bug"},{"name":"ci"}],"n":3,"ok":true,"meta":{"z":1,"k":"<v>"}}"#;
    let reply = http::post(server.addr, &[], body);
    let event = server.processed(&event_id(&reply), PROCESSED);
    let title = outcome(&event, "title");
    let name = title["runs"][0].as_str().expect("created").to_string();
    let params = &server.run(&name)["object"]["spec"]["params"];
    assert_eq!(params[0]["value"], "FIX \"QUOTES\"\nNOW");
    assert_eq!(params[1]["value"], "ci");
    assert_eq!(params[2]["value"], "n=3,ok=true");
    // An array pasted into a JSON string is not JSON: that trigger creates nothing (HTTP
    // still 202, as upstream).
    let labels = outcome(&event, "labels");
    assert_eq!(labels["result"]["result"], "failed", "{labels}");
    assert_eq!(labels["result"]["stage"], "render");
    assert_eq!(server.runs().len(), 1);
}

#[test]
fn e6_bodies_that_are_not_json_objects_get_400_with_gos_message_and_are_recorded() {
    let dir = scratch();
    let server = Server::start(&[fixture("github.yaml")], &dir.path().join("s.db"), &[]);
    let cases: [(&[u8], &str); 3] = [
        (b"{\"ref\": ", "unexpected end of JSON input"),
        (
            b"[1,2]",
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        ),
        (
            b"<x>",
            "invalid character '\\u003c' looking for beginning of value",
        ),
    ];
    for (body, message) in cases {
        let reply = http::post(server.addr, &[], body);
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            format!(
                "{{\"eventListener\":\"gh-listener\",\"namespace\":\"ci\",\"eventListenerUID\":\"\",\"errorMessage\":\"Invalid event body format : {message}\"}}\n"
            )
        );
    }
    let refused: Vec<_> = server
        .events()
        .into_iter()
        .filter(|e| e["state"] == "refused")
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert_eq!(refused[0]["outcomes"]["status"], 400);
    assert!(server.runs().is_empty());
}

#[test]
fn e7_a_trigger_group_shares_its_filter_and_extensions_with_the_triggers_it_selects() {
    let dir = scratch();
    let server = Server::start(&[fixture("groups.yaml")], &dir.path().join("s.db"), &[]);
    let pr = br#"{"pull_request":{"head":{"sha":"28911bbb5a3e8a1fa3d0e7bdc1c3bbbe5af7b2c9"}}}"#;
    let reply = http::post(server.addr, &[("X-GitHub-Event", "pull_request")], pr);
    let id = event_id(&reply);
    let event = server.processed(&id, PROCESSED);
    let names: Vec<String> = ["web-lint", "web-test"]
        .iter()
        .map(|t| {
            let o = outcome(&event, t);
            assert_eq!(o["group"], "prs");
            o["runs"][0].as_str().expect("created").to_string()
        })
        .collect();
    for (name, trigger) in names.iter().zip(["web-lint", "web-test"]) {
        assert!(name.starts_with("28911bb-"), "{name}");
        let labels = &server.run(name)["object"]["metadata"]["labels"];
        assert_eq!(labels["triggers.tekton.dev/trigger"], trigger);
        assert_eq!(labels["triggers.tekton.dev/triggers-eventid"], id.as_str());
    }
    assert_eq!(server.runs().len(), 2, "api-test is not selected");
    let push = http::post(server.addr, &[("X-GitHub-Event", "push")], pr);
    let event = server.processed(&event_id(&push), PROCESSED);
    assert_eq!(outcome(&event, "prs")["result"]["result"], "rejected");
    assert_eq!(server.runs().len(), 2);
}

#[test]
fn e8_a_cloud_event_is_answered_with_a_binary_mode_cloud_event() {
    let dir = scratch();
    let server = Server::start(&[fixture("cloudevent.yaml")], &dir.path().join("s.db"), &[]);
    let reply = http::post(
        server.addr,
        &[
            ("Ce-Specversion", "1.0"),
            ("Ce-Type", "com.example.build"),
            ("Ce-Source", "/ci"),
            ("Ce-Id", "42"),
        ],
        br#"{"repo":"acme/app"}"#,
    );
    assert_eq!(reply.status, 202);
    let id = reply.json()["eventID"].as_str().unwrap().to_string();
    assert_eq!(reply.header("ce-specversion"), Some("1.0"));
    assert_eq!(reply.header("ce-id"), Some(id.as_str()));
    assert_eq!(
        reply.header("ce-type"),
        Some("dev.tekton.event.triggers.accepted.v1")
    );
    assert_eq!(reply.header("ce-source"), Some("gh-listener"));
    assert_eq!(
        reply.header("ce-subject").map(str::to_owned),
        Some(format!("ci.gh-listener accepted {id}"))
    );
    assert!(!reply.body.ends_with('\n'), "no newline in CloudEvent mode");
    let event = server.processed(&id, PROCESSED);
    let name = outcome(&event, "ce")["runs"][0]
        .as_str()
        .unwrap()
        .to_string();
    let params = &server.run(&name)["object"]["spec"]["params"];
    assert_eq!(params[0]["value"], "com.example.build");
    assert_eq!(params[1]["value"], "acme/app");
}

#[test]
fn gitlab_tokens_are_compared_byte_for_byte() {
    let dir = scratch();
    let server = Server::start(&[fixture("gitlab.yaml")], &dir.path().join("s.db"), &[]);
    let body = br#"{"checkout_sha":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7"}"#;
    let cases = [
        (Some("gl-t0ken"), "created"),
        (Some("GL-T0KEN"), "unauthenticated"),
        (None, "unauthenticated"),
    ];
    for (token, verdict) in cases {
        let mut headers = vec![("X-Gitlab-Event", "Push Hook")];
        if let Some(t) = token {
            headers.push(("X-Gitlab-Token", t));
        }
        let event = server.processed(
            &event_id(&http::post(server.addr, &headers, body)),
            PROCESSED,
        );
        assert_eq!(
            outcome(&event, "on-push")["verdict"],
            verdict,
            "{token:?}: {event}"
        );
    }
    let runs = server.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["kind"], "TaskRun");
    // A signed GitHub request means nothing to the gitlab interceptor.
    let sig = github_signature(GH_SECRET, body);
    let reply = http::post(server.addr, &[("X-Hub-Signature-256", &sig)], body);
    let event = server.processed(&event_id(&reply), PROCESSED);
    assert_eq!(outcome(&event, "on-push")["verdict"], "declined", "{event}");
}

#[test]
fn every_path_and_method_is_the_event_endpoint_except_live() {
    let dir = scratch();
    let server = Server::start(&[fixture("filter.yaml")], &dir.path().join("s.db"), &[]);
    for method in ["GET", "PUT", "POST", "DELETE"] {
        let live = http::send(server.addr, method, "/live", &[], b"").unwrap();
        assert_eq!(
            (live.status, live.body.as_str()),
            (200, "ok"),
            "{method} /live"
        );
    }
    let put = http::send(
        server.addr,
        "PUT",
        "/x/y?z=1",
        &[],
        br#"{"action":"opened","number":1}"#,
    )
    .unwrap();
    let event = server.processed(&event_id(&put), PROCESSED);
    assert_eq!(event["request_uri"], "/x/y?z=1");
    // A GET to / from a webhook sender (no text/html) is an event too.
    let get = http::send(server.addr, "GET", "/", &[], br#"{"action":"closed"}"#).unwrap();
    assert_eq!(get.status, 202, "{}", get.body);
    // POST to adze's own GET pages is an event, as on any path.
    let post = http::send(server.addr, "POST", "/metrics", &[], b"{}").unwrap();
    assert_eq!(post.status, 202, "{}", post.body);
    // A path with `..` is redirected to its clean form, as Go's mux does.
    let dots = http::send(server.addr, "POST", "/a/../b", &[], b"{}").unwrap();
    assert_eq!((dots.status, dots.header("location")), (301, Some("/b")));
}
