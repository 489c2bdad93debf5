//! Secret masking in `adze serve`: interceptor tokens and the Secrets a run reads never
//! appear in the server's output, its API or its store, however the event ends.

use std::time::Duration;

use crate::http::{self, github_signature};
use crate::server::{fixture, Server};
use crate::{event_id, outcome, scratch, PROCESSED};

/// The interceptors' token (Secret `hook` of `fixtures/masking.yaml`).
const TOKEN: &str = "Hook-t0ken-31337";
/// The value the run's step prints (Secret `db`).
const PASSWORD: &str = "Db-pa55word-2718";

/// Every text and blob of every table of the store, as one string.
fn store_dump(path: &std::path::Path) -> String {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the store opens");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut q| {
            q.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .expect("tables");
    let mut dump = String::new();
    for table in tables {
        let mut q = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .expect("select");
        let columns = q.column_count();
        let mut rows = q.query([]).expect("rows");
        while let Some(row) = rows.next().expect("a row") {
            for i in 0..columns {
                use rusqlite::types::ValueRef;
                match row.get_ref(i).expect("a value") {
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        dump.push_str(&String::from_utf8_lossy(t));
                        dump.push('\n');
                    }
                    _ => {}
                }
            }
        }
    }
    dump
}

#[test]
fn interceptor_tokens_and_run_secrets_appear_nowhere_in_output_api_or_store() {
    let dir = scratch();
    let store = dir.path().join("s.db");
    let server = Server::start(&[fixture("masking.yaml")], &store, &[]);
    let body = br#"{"ref":"refs/heads/main"}"#;

    // A wrong signature: both triggers refuse it.
    let forged = github_signature(b"not-the-token", body);
    let wrong = server.processed(
        &event_id(&http::post(
            server.addr,
            &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &forged)],
            body,
        )),
        PROCESSED,
    );
    assert_eq!(
        outcome(&wrong, "on-github")["verdict"],
        "unauthenticated",
        "{wrong}"
    );

    // The right GitLab token (the secret itself, in a header) on an event no trigger wants.
    let declined = event_id(&http::post(
        server.addr,
        &[
            ("X-Gitlab-Event", "Tag Push Hook"),
            ("X-Gitlab-Token", TOKEN),
        ],
        body,
    ));
    let declined = server.processed(&declined, PROCESSED);
    assert_eq!(
        outcome(&declined, "on-gitlab")["verdict"],
        "declined",
        "{declined}"
    );

    // A signed push runs the TaskRun that prints the other Secret.
    let signature = github_signature(TOKEN.as_bytes(), body);
    let created = server.processed(
        &event_id(&http::post(
            server.addr,
            &[
                ("X-GitHub-Event", "push"),
                ("X-Hub-Signature-256", &signature),
            ],
            body,
        )),
        PROCESSED,
    );
    let on_github = outcome(&created, "on-github");
    assert_eq!(on_github["verdict"], "created", "{created}");
    let name = on_github["runs"][0].as_str().expect("a run").to_owned();
    let run = server.finished(&name, Duration::from_secs(120));
    assert_eq!(run["state"], "succeeded", "{run}");
    let logs = http::get(server.addr, &format!("/api/v1/runs/{name}/logs"), &[]).json();
    let lines: Vec<&str> = logs["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(lines.contains(&"whole: ***"), "{lines:?}");
    assert!(lines.contains(&"split: ***"), "{lines:?}");
    let results = run["status"]["status"]["results"].to_string();
    assert!(results.contains("***"), "{run}");

    let seen = [
        ("stderr", server.stderr()),
        (
            "events",
            serde_json::Value::from(server.events()).to_string(),
        ),
        ("run", run.to_string()),
        ("logs", logs.to_string()),
        ("store", store_dump(&store)),
    ];
    for (what, text) in &seen {
        for secret in [TOKEN, PASSWORD] {
            assert!(!text.contains(secret), "{secret} in {what}:\n{text}");
        }
    }
}
