use std::sync::Arc;

use super::*;
use crate::triggers::Headers;

fn event(id: &str, delivery: Option<&str>, body: &[u8]) -> NewEvent {
    let mut headers = Headers::new();
    headers.append("x-github-event", "push");
    NewEvent {
        id: id.to_string(),
        listener: "gh".to_string(),
        delivery_id: delivery.map(str::to_string),
        received_ms: 1_000,
        request_uri: "/".to_string(),
        headers,
        body: body.to_vec(),
    }
}

fn run(name: &str) -> NewRun {
    NewRun {
        name: name.to_string(),
        kind: "PipelineRun".into(),
        namespace: "ci".into(),
        trigger: "on-push".into(),
        object: serde_json::json!({"kind": "PipelineRun", "metadata": {"name": name}}),
        created_ms: 2_000,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("nested/adze.db")).unwrap();
    (dir, store)
}

#[test]
fn an_admitted_event_is_unprocessed_until_its_outcomes_are_recorded() {
    let (_dir, store) = open();
    runtime().block_on(async {
        let a = store.admit(event("e1", None, b"{}")).await.unwrap();
        assert_eq!(a, Admission::Accepted);
        let pending = store.unprocessed_events().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].headers.first("X-GitHub-Event"), Some("push"));
        assert_eq!(pending[0].body, b"{}");
        assert_eq!(store.queue_depth().unwrap(), 1);

        store
            .record_outcomes(
                "e1",
                serde_json::json!([{"trigger": "on-push"}]),
                vec![run("r1")],
            )
            .await
            .unwrap();
        assert!(store.unprocessed_events().unwrap().is_empty());
        let runs = store.unfinished_runs().unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (runs[0].state, runs[0].event_id.as_str()),
            (RunState::Queued, "e1")
        );
        assert_eq!(store.queue_depth().unwrap(), 1, "the queued run");
        // Recording the same event twice is refused: outcomes are written once.
        let again = store
            .record_outcomes("e1", serde_json::json!([]), vec![run("r2")])
            .await;
        assert!(
            matches!(again, Err(StoreError::UnknownEvent(_))),
            "{again:?}"
        );
        assert!(
            store.run("r2").unwrap().is_none(),
            "nothing of a refused write stays"
        );
    });
}

#[test]
fn a_redelivery_of_the_same_body_is_a_duplicate_and_another_body_is_not() {
    let (_dir, store) = open();
    runtime().block_on(async {
        let first = store.admit(event("e1", Some("d-1"), b"{\"a\":1}")).await;
        assert_eq!(first.unwrap(), Admission::Accepted);
        let again = store.admit(event("e2", Some("d-1"), b"{\"a\":1}")).await;
        assert_eq!(
            again.unwrap(),
            Admission::Duplicate {
                original: "e1".into()
            }
        );
        // Same id, other body: someone claiming a delivery id does not block the real one.
        let other = store.admit(event("e3", Some("d-1"), b"{\"a\":2}")).await;
        assert_eq!(other.unwrap(), Admission::Accepted);
        let e2 = store.event("e2").unwrap().unwrap();
        assert_eq!(e2.state, EventState::Duplicate);
        assert_eq!(e2.duplicate_of.as_deref(), Some("e1"));
        let pending: Vec<String> = store
            .unprocessed_events()
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(pending, ["e1", "e3"]);
    });
}

#[test]
fn a_run_name_is_recorded_once_and_the_failed_write_leaves_the_event_unprocessed() {
    let (_dir, store) = open();
    runtime().block_on(async {
        store.admit(event("e1", None, b"{}")).await.unwrap();
        store.admit(event("e2", None, b"{}")).await.unwrap();
        store
            .record_outcomes("e1", serde_json::json!([]), vec![run("same")])
            .await
            .unwrap();
        let clash = store
            .record_outcomes("e2", serde_json::json!([]), vec![run("other"), run("same")])
            .await;
        assert!(matches!(clash, Err(StoreError::DuplicateRun(ref n)) if n == "same"));
        // The savepoint undid all of e2's write, and nothing of e1's.
        assert_eq!(
            store.event("e2").unwrap().unwrap().state,
            EventState::Accepted
        );
        assert!(store.run("other").unwrap().is_none());
        assert!(store.run("same").unwrap().is_some());
    });
}

#[test]
fn run_states_keep_their_first_start_and_logs_read_back_in_order() {
    let (_dir, store) = open();
    runtime().block_on(async {
        store.admit(event("e1", None, b"{}")).await.unwrap();
        store
            .record_outcomes("e1", serde_json::json!([]), vec![run("r1")])
            .await
            .unwrap();
        store
            .set_run_state("r1", RunState::Running, None, 10)
            .await
            .unwrap();
        store
            .set_run_state("r1", RunState::Running, None, 20)
            .await
            .unwrap();
        let line = |text: &str| LogLine {
            task: "build".into(),
            step: "compile".into(),
            stream: "stdout".into(),
            text: text.into(),
        };
        store
            .append_logs("r1", vec![line("one"), line("two")])
            .await
            .unwrap();
        store
            .set_run_state(
                "r1",
                RunState::Succeeded,
                Some(serde_json::json!({"ok": true})),
                30,
            )
            .await
            .unwrap();
        let r = store.run("r1").unwrap().unwrap();
        assert_eq!((r.started_ms, r.finished_ms), (Some(10), Some(30)));
        assert_eq!(r.status, Some(serde_json::json!({"ok": true})));
        assert!(store.unfinished_runs().unwrap().is_empty());
        let logs = store.logs("r1", 0).unwrap();
        let texts: Vec<&str> = logs.iter().map(|(_, l)| l.text.as_str()).collect();
        assert_eq!(texts, ["one", "two"]);
        let after_first = store.logs("r1", logs[0].0).unwrap();
        assert_eq!(after_first.len(), 1);
    });
}

#[test]
fn concurrent_admissions_are_all_durable_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adze.db");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    {
        let store = Arc::new(Store::open(&path).unwrap());
        rt.block_on(async {
            let tasks: Vec<_> = (0..200)
                .map(|i| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .admit(event(&format!("e{i}"), Some(&format!("d{i}")), b"{}"))
                            .await
                    })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap().unwrap(), Admission::Accepted);
            }
            store.admit(event("last", None, b"{}")).await.unwrap();
        });
    }
    let reopened = Store::open(&path).unwrap();
    assert_eq!(reopened.unprocessed_events().unwrap().len(), 201);
    assert_eq!(reopened.events(5).unwrap()[0].id, "last", "newest first");
}

#[test]
fn a_store_from_a_newer_adze_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adze.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err().to_string();
    assert!(err.contains("schema version 99"), "{err}");
    assert!(err.contains("help:"), "{err}");
}

fn local(name: &str, at: i64) -> NewLocalRun {
    NewLocalRun {
        name: name.to_string(),
        kind: "PipelineRun".into(),
        namespace: "default".into(),
        invocation: serde_json::json!({"files": ["p.yaml"]}),
        object: serde_json::json!({"kind": "PipelineRun", "metadata": {"name": name}}),
        started_ms: at,
        owner: Default::default(),
    }
}

fn line(text: &str) -> LogLine {
    LogLine {
        task: "build".into(),
        step: "compile".into(),
        stream: "stdout".into(),
        text: text.into(),
    }
}

#[test]
fn a_version_1_store_keeps_its_runs_and_logs_and_takes_local_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adze.db");
    {
        let mut conn = schema::connect(&path).unwrap();
        schema::migrate_to(&mut conn, 1).unwrap();
        conn.execute_batch(
            "INSERT INTO runs (name, kind, namespace, event_id, trigger, object, state, status, \
             created_ms, started_ms, finished_ms, updated_ms) VALUES ('served-1', 'PipelineRun', \
             'ci', 'e1', 'on-push', '{\"kind\":\"PipelineRun\"}', 'succeeded', '{\"ok\":true}', \
             5, 6, 9, 9);
             INSERT INTO logs (run, task, step, stream, text) \
             VALUES ('served-1', 'build', 'compile', 'stdout', 'old line');",
        )
        .unwrap();
        assert_eq!(schema::version(&conn).unwrap(), 1);
    }
    let store = Store::open(&path).unwrap();
    let served = store
        .run("served-1")
        .unwrap()
        .expect("the served run survives");
    assert_eq!(
        (served.id.as_str(), served.origin, served.state),
        ("served-1", RunOrigin::Serve, RunState::Succeeded)
    );
    assert_eq!(served.status, Some(serde_json::json!({"ok": true})));
    assert_eq!(
        (
            served.started_ms,
            served.finished_ms,
            served.trigger.as_str()
        ),
        (Some(6), Some(9), "on-push")
    );
    assert_eq!(store.logs("served-1", 0).unwrap()[0].1.text, "old line");
    // A served run recorded after the migration still finds its name taken by the old one.
    runtime().block_on(async {
        store.admit(event("e2", None, b"{}")).await.unwrap();
        let clash = store
            .record_outcomes("e2", serde_json::json!([]), vec![run("served-1")])
            .await;
        assert!(
            matches!(clash, Err(StoreError::DuplicateRun(_))),
            "{clash:?}"
        );
    });
    let id = store.begin_local_run(local("hello", 10)).unwrap();
    let seq_after_old = format!("hello@{}", 2);
    assert_eq!(id, seq_after_old, "seq continues after the migrated rows");
    let runs = store.runs(10).unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["hello@2", "served-1"], "newest first, both origins");
}

#[test]
fn local_runs_of_one_name_get_distinct_ids_and_find_run_takes_the_newest() {
    let (_dir, store) = open();
    let first = store.begin_local_run(local("hello", 10)).unwrap();
    let second = store.begin_local_run(local("hello", 20)).unwrap();
    assert_ne!(first, second);
    assert_eq!(store.find_run("hello").unwrap().unwrap().id, second);
    assert_eq!(store.find_run(&first).unwrap().unwrap().id, first);
    assert!(store.find_run("nope").unwrap().is_none());
    store
        .append_local(
            &first,
            vec![line("one")],
            vec![(11, serde_json::json!({"event": "runStarted"}))],
        )
        .unwrap();
    store
        .set_run_state_blocking(
            &first,
            RunState::Failed,
            Some(serde_json::json!({"s": 1})),
            15,
        )
        .unwrap();
    let r = store.run(&first).unwrap().unwrap();
    assert_eq!(
        (r.state, r.origin, r.started_ms, r.finished_ms),
        (RunState::Failed, RunOrigin::Local, Some(10), Some(15))
    );
    assert_eq!(r.invocation, Some(serde_json::json!({"files": ["p.yaml"]})));
    let events = store.run_events(&first).unwrap();
    assert_eq!(
        events,
        [RunEvent {
            at_ms: 11,
            event: serde_json::json!({"event": "runStarted"})
        }]
    );
    assert!(store.run_events(&second).unwrap().is_empty());
}

#[test]
fn retention_deletes_the_oldest_local_runs_with_their_logs_and_events_only() {
    let (_dir, store) = open();
    runtime().block_on(async {
        store.admit(event("e1", None, b"{}")).await.unwrap();
        store
            .record_outcomes("e1", serde_json::json!([]), vec![run("served")])
            .await
            .unwrap();
        store
            .append_logs("served", vec![line("served line")])
            .await
            .unwrap();
    });
    let ids: Vec<String> = (0..4)
        .map(|i| {
            let id = store.begin_local_run(local("hello", i)).unwrap();
            store
                .append_local(
                    &id,
                    vec![line(&format!("line {i}"))],
                    vec![(i, serde_json::json!({"n": i}))],
                )
                .unwrap();
            id
        })
        .collect();
    assert_eq!(store.prune_local_runs(0).unwrap(), 0, "0 keeps everything");
    assert_eq!(store.prune_local_runs(2).unwrap(), 2);
    let left: Vec<String> = store.runs(10).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(left, [ids[3].clone(), ids[2].clone(), "served".to_string()]);
    for gone in &ids[..2] {
        assert!(store.logs(gone, 0).unwrap().is_empty(), "{gone}'s logs");
        assert!(
            store.run_events(gone).unwrap().is_empty(),
            "{gone}'s events"
        );
    }
    for kept in &ids[2..] {
        assert_eq!(store.logs(kept, 0).unwrap().len(), 1, "{kept}'s logs");
        assert_eq!(store.run_events(kept).unwrap().len(), 1, "{kept}'s events");
    }
    assert_eq!(store.logs("served", 0).unwrap()[0].1.text, "served line");
    assert_eq!(
        store.prune_local_runs(2).unwrap(),
        0,
        "nothing more to delete"
    );
}

#[test]
fn a_local_run_left_running_is_never_resumed_by_serve() {
    let (_dir, store) = open();
    store.begin_local_run(local("killed", 1)).unwrap();
    assert!(store.unfinished_runs().unwrap().is_empty());
    assert_eq!(store.queue_depth().unwrap(), 0);
}

#[test]
fn a_masked_store_keeps_no_secret_value_outside_unprocessed_events() {
    let (_dir, store) = open();
    let masker = crate::mask::Masker::new();
    masker.add("hunter22-token").unwrap();
    let store = store.with_masker(Arc::new(masker));
    let secret = "hunter22-token";
    runtime().block_on(async {
        let mut e = event("e1", None, b"{\"token\": \"hunter22-token\"}");
        e.headers.append("x-gitlab-token", secret);
        store.admit(e).await.unwrap();
        // Until processed, the headers are kept as received: a restart checks them.
        let pending = store.unprocessed_events().unwrap();
        assert_eq!(pending[0].headers.first("X-Gitlab-Token"), Some(secret));
        store
            .record_outcomes(
                "e1",
                serde_json::json!([{"message": format!("token {secret} refused")}]),
                vec![run("r1")],
            )
            .await
            .unwrap();
        store
            .set_run_state(
                "r1",
                RunState::Failed,
                Some(serde_json::json!({"status": {"results": [secret]}})),
                3_000,
            )
            .await
            .unwrap();
        store
            .set_run_progress(
                "r1",
                Some(serde_json::json!({"t": {"message": secret}})),
                None,
                3_000,
            )
            .await
            .unwrap();
        store
            .append_logs(
                "r1",
                vec![LogLine {
                    task: "t".into(),
                    step: "s".into(),
                    stream: "stdout".into(),
                    text: format!("echo {secret}"),
                }],
            )
            .await
            .unwrap();
        let mut refused = event("e2", None, b"");
        refused.headers.append("x-gitlab-token", secret);
        store
            .refuse(refused, 503, &format!("full {secret}"))
            .await
            .unwrap();
    });
    let processed = store.event("e1").unwrap().unwrap();
    assert_eq!(
        processed.headers.first("X-Gitlab-Token"),
        Some(crate::mask::MASK)
    );
    // The body is what a signature is computed over: kept as received.
    assert_eq!(processed.body, b"{\"token\": \"hunter22-token\"}");
    let outcomes = processed.outcomes.unwrap().to_string();
    assert!(outcomes.contains("token *** refused"), "{outcomes}");
    let refused = store.event("e2").unwrap().unwrap();
    assert!(!format!("{refused:?}").contains(secret), "{refused:?}");
    let run = store.run("r1").unwrap().unwrap();
    let run_text = format!("{:?} {:?}", run.status, run.tasks);
    assert!(!run_text.contains(secret), "{run_text}");
    assert!(run_text.contains("***"), "{run_text}");
    let logs = store.logs("r1", 0).unwrap();
    assert_eq!(logs[0].1.text, "echo ***");
}
