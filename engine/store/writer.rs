//! The writer thread: the only connection that writes, committing in groups.

use std::sync::{mpsc, Arc};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::records::{Admission, EventState, LogLine, NewEvent, NewLocalRun, NewRun, RunState};
use super::StoreError;
use crate::mask::Masker;

/// Most writes committed by one transaction; bounds how long the first caller waits.
const MAX_GROUP: usize = 512;

/// A write queued to the writer.
#[derive(Debug)]
pub(super) enum Write {
    Admit(NewEvent),
    Refuse {
        event: NewEvent,
        status: u16,
        reason: String,
    },
    Outcomes {
        event_id: String,
        outcomes: serde_json::Value,
        runs: Vec<NewRun>,
        /// Masks the event's stored headers once it is processed (a GitLab token header is
        /// the secret itself; nothing reads the headers of a processed event).
        masker: Option<Arc<Masker>>,
    },
    RunState {
        name: String,
        state: RunState,
        status: Option<serde_json::Value>,
        at_ms: i64,
    },
    Logs {
        run: String,
        lines: Vec<LogLine>,
    },
    Progress {
        name: String,
        tasks: Option<serde_json::Value>,
        graph: Option<serde_json::Value>,
        at_ms: i64,
    },
    BeginLocal(NewLocalRun),
    Append {
        run: String,
        lines: Vec<LogLine>,
        events: Vec<(i64, serde_json::Value)>,
    },
    Prune {
        keep: usize,
    },
    /// A local run still `running` becomes `interrupted` with this status object.
    Interrupt {
        id: String,
        status: serde_json::Value,
        at_ms: i64,
    },
}

/// The writer's answer to one write.
#[derive(Debug)]
pub(super) enum Reply {
    Admitted(Admission),
    /// The id of a local run just recorded.
    Recorded(String),
    /// How many local runs retention deleted.
    Pruned(usize),
    /// How many runs a conditional update changed.
    Updated(usize),
    Done,
}

type Job = (Write, oneshot::Sender<Result<Reply, StoreError>>);

/// Handle to the writer thread.
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the thread that owns `conn`.
    pub(super) fn spawn(conn: Connection) -> Writer {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("adze-store-writer".into())
            .spawn(move || run(conn, queue))
            .expect("spawning a thread only fails when the process is out of resources");
        Writer { jobs }
    }

    /// Queues `write` and waits until it is committed (or failed).
    pub(super) async fn submit(&self, write: Write) -> Result<Reply, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send((write, tx))
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// [`Writer::submit`] for a thread outside any async runtime (`adze run`'s recorder).
    pub(super) fn submit_blocking(&self, write: Write) -> Result<Reply, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send((write, tx))
            .map_err(|_| StoreError::WriterGone)?;
        rx.blocking_recv().map_err(|_| StoreError::WriterGone)?
    }
}

fn run(mut conn: Connection, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, group);
    }
}

/// Applies every write of `group` in one transaction, each under its own savepoint, then
/// answers them: after the commit, so an answer means "on disk".
fn commit_group(conn: &mut Connection, group: Vec<Job>) {
    let tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(source) => {
            for (_, answer) in group {
                let _ = answer.send(Err(StoreError::Group {
                    what: "begin a transaction",
                    message: source.to_string(),
                }));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(group.len());
    let mut answers = Vec::with_capacity(group.len());
    for (write, answer) in group {
        results.push(apply_isolated(&tx, write));
        answers.push(answer);
    }
    if let Err(source) = tx.commit() {
        for answer in answers {
            let _ = answer.send(Err(StoreError::Group {
                what: "commit",
                message: source.to_string(),
            }));
        }
        return;
    }
    for (answer, result) in answers.into_iter().zip(results) {
        // A caller that gave up waiting is fine: the write is committed either way.
        let _ = answer.send(result);
    }
}

fn apply_isolated(tx: &Transaction<'_>, write: Write) -> Result<Reply, StoreError> {
    let sql = |what| move |source| StoreError::Sql { what, source };
    // Cached statements: parsing the SQL again for every write was a large share of the
    // writer's time per webhook, and the writer is the one thread every `202` waits for.
    tx.prepare_cached("SAVEPOINT one")
        .and_then(|mut s| s.execute([]))
        .map_err(sql("open a savepoint"))?;
    let result = apply(tx, write);
    let end = match result {
        Ok(_) => tx
            .prepare_cached("RELEASE one")
            .and_then(|mut s| s.execute([])),
        Err(_) => tx.execute_batch("ROLLBACK TO one; RELEASE one").map(|()| 0),
    };
    end.map_err(sql("close a savepoint"))?;
    result
}

fn apply(tx: &Transaction<'_>, write: Write) -> Result<Reply, StoreError> {
    match write {
        Write::Admit(event) => admit(tx, event).map(Reply::Admitted),
        Write::Refuse {
            event,
            status,
            reason,
        } => tx
            .execute(
                "INSERT INTO events (id, listener, delivery_id, received_ms, request_uri, \
                 headers, body, state, outcomes) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, x'', 'refused', ?7)",
                params![
                    event.id,
                    event.listener,
                    event.delivery_id,
                    event.received_ms,
                    event.request_uri,
                    serde_json::to_string(&event.headers).unwrap_or_else(|_| "{}".into()),
                    serde_json::json!({ "status": status, "reason": reason }).to_string(),
                ],
            )
            .map(|_| Reply::Done)
            .map_err(|source| StoreError::Sql {
                what: "record a refused request",
                source,
            }),
        Write::Outcomes {
            event_id,
            outcomes,
            runs,
            masker,
        } => {
            record_outcomes(tx, &event_id, &outcomes, &runs)?;
            if let Some(m) = masker {
                mask_headers(tx, &event_id, &m)?;
            }
            Ok(Reply::Done)
        }
        Write::RunState {
            name,
            state,
            status,
            at_ms,
        } => set_run_state(tx, &name, state, status.as_ref(), at_ms).map(|()| Reply::Done),
        Write::Logs { run, lines } => append_logs(tx, &run, &lines).map(|()| Reply::Done),
        Write::Progress {
            name,
            tasks,
            graph,
            at_ms,
        } => tx
            .execute(
                "UPDATE runs SET tasks = coalesce(?2, tasks), graph = coalesce(?3, graph), \
                 updated_ms = ?4 WHERE id = ?1",
                params![
                    name,
                    tasks.map(|t| t.to_string()),
                    graph.map(|g| g.to_string()),
                    at_ms
                ],
            )
            .map(|_| Reply::Done)
            .map_err(|source| StoreError::Sql {
                what: "record a run's progress",
                source,
            }),
        Write::BeginLocal(run) => begin_local(tx, &run).map(Reply::Recorded),
        Write::Append { run, lines, events } => append_logs(tx, &run, &lines)
            .and_then(|()| append_events(tx, &run, &events))
            .map(|()| Reply::Done),
        Write::Prune { keep } => prune_local(tx, keep).map(Reply::Pruned),
        Write::Interrupt { id, status, at_ms } => tx
            .execute(
                // Only while still running: the run may have ended between the read that
                // found it running and this write. It ended when it last wrote an event.
                "UPDATE runs SET state = 'interrupted', status = ?2, updated_ms = ?3, \
                 finished_ms = coalesce((SELECT max(at_ms) FROM run_events WHERE run = ?1), \
                 started_ms) \
                 WHERE id = ?1 AND state = 'running' AND origin = 'local'",
                params![id, status.to_string(), at_ms],
            )
            .map(Reply::Updated)
            .map_err(|source| StoreError::Sql {
                what: "record an interrupted run",
                source,
            }),
    }
}

fn admit(tx: &Transaction<'_>, event: NewEvent) -> Result<Admission, StoreError> {
    let sql = |what| move |source| StoreError::Sql { what, source };
    let digest = hex(&Sha256::digest(&event.body));
    let original: Option<String> = match &event.delivery_id {
        Some(delivery) => tx
            .prepare_cached(
                "SELECT event_id FROM deliveries \
                 WHERE listener = ?1 AND delivery_id = ?2 AND body_sha256 = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![event.listener, delivery, digest], |r| r.get(0))
                    .optional()
            })
            .map_err(sql("look up a delivery id"))?,
        None => None,
    };
    let state = if original.is_some() {
        EventState::Duplicate
    } else {
        EventState::Accepted
    };
    let headers = serde_json::to_string(&event.headers).unwrap_or_else(|_| "{}".into());
    tx.prepare_cached(
        "INSERT INTO events (id, listener, delivery_id, received_ms, request_uri, headers, \
         body, state, duplicate_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            event.id,
            event.listener,
            event.delivery_id,
            event.received_ms,
            event.request_uri,
            headers,
            event.body,
            state.as_str(),
            original,
        ])
    })
    .map_err(sql("write an event"))?;
    if let Some(original) = original {
        return Ok(Admission::Duplicate { original });
    }
    if let Some(delivery) = &event.delivery_id {
        tx.prepare_cached(
            "INSERT INTO deliveries (listener, delivery_id, body_sha256, event_id) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![event.listener, delivery, digest, event.id]))
        .map_err(sql("write a delivery id"))?;
    }
    Ok(Admission::Accepted)
}

fn record_outcomes(
    tx: &Transaction<'_>,
    event_id: &str,
    outcomes: &serde_json::Value,
    runs: &[NewRun],
) -> Result<(), StoreError> {
    let sql = |what| move |source| StoreError::Sql { what, source };
    let now = runs.first().map(|r| r.created_ms).unwrap_or_default();
    let updated = tx
        .execute(
            "UPDATE events SET state = 'processed', outcomes = ?2, processed_ms = ?3 \
             WHERE id = ?1 AND state = 'accepted'",
            params![event_id, outcomes.to_string(), now],
        )
        .map_err(sql("record outcomes"))?;
    if updated == 0 {
        return Err(StoreError::UnknownEvent(event_id.to_string()));
    }
    for run in runs {
        let inserted = tx.execute(
            "INSERT INTO runs (id, name, kind, namespace, origin, event_id, trigger, object, \
             state, created_ms, updated_ms) \
             VALUES (?1, ?1, ?2, ?3, 'serve', ?4, ?5, ?6, 'queued', ?7, ?7)",
            params![
                run.name,
                run.kind,
                run.namespace,
                event_id,
                run.trigger,
                run.object.to_string(),
                run.created_ms,
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(StoreError::DuplicateRun(run.name.clone()));
            }
            Err(source) => {
                return Err(StoreError::Sql {
                    what: "record a run",
                    source,
                })
            }
        }
    }
    Ok(())
}

/// Replaces the stored headers of an event with their masked values.
fn mask_headers(tx: &Transaction<'_>, event_id: &str, masker: &Masker) -> Result<(), StoreError> {
    let sql = |what| move |source| StoreError::Sql { what, source };
    let text: String = tx
        .query_row(
            "SELECT headers FROM events WHERE id = ?1",
            [event_id],
            |r| r.get(0),
        )
        .map_err(sql("read an event's headers"))?;
    let Ok(mut headers) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Ok(());
    };
    let before = headers.clone();
    masker.mask_json(&mut headers);
    if headers != before {
        tx.execute(
            "UPDATE events SET headers = ?2 WHERE id = ?1",
            params![event_id, headers.to_string()],
        )
        .map_err(sql("mask an event's headers"))?;
    }
    Ok(())
}

fn set_run_state(
    tx: &Transaction<'_>,
    name: &str,
    state: RunState,
    status: Option<&serde_json::Value>,
    at_ms: i64,
) -> Result<(), StoreError> {
    let started = (state == RunState::Running).then_some(at_ms);
    let finished = state.is_final().then_some(at_ms);
    tx.execute(
        "UPDATE runs SET state = ?2, status = coalesce(?3, status), \
         started_ms = coalesce(started_ms, ?4), finished_ms = coalesce(?5, finished_ms), \
         updated_ms = ?6 WHERE id = ?1",
        params![
            name,
            state.as_str(),
            status.map(|s| s.to_string()),
            started,
            finished,
            at_ms
        ],
    )
    .map_err(|source| StoreError::Sql {
        what: "record a run's state",
        source,
    })
    .map(drop)
}

fn append_logs(tx: &Transaction<'_>, run: &str, lines: &[LogLine]) -> Result<(), StoreError> {
    let sql = |what| move |source| StoreError::Sql { what, source };
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO logs (run, task, step, stream, text) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(sql("prepare a log insert"))?;
    for line in lines {
        insert
            .execute(params![run, line.task, line.step, line.stream, line.text])
            .map_err(sql("write a log line"))?;
    }
    Ok(())
}

/// Records a local run as running and returns its id, `<name>@<seq>`: unique because `seq`
/// is, and never a served run's name (`@` is not allowed in Kubernetes names).
fn begin_local(tx: &Transaction<'_>, run: &NewLocalRun) -> Result<String, StoreError> {
    let sql = |what| move |source| StoreError::Sql { what, source };
    // The row needs a unique id before its seq is known: a placeholder no name can equal.
    tx.execute(
        "INSERT INTO runs (id, name, kind, namespace, origin, event_id, trigger, invocation, \
         object, state, created_ms, started_ms, updated_ms, owner) \
         VALUES ('@pending', ?1, ?2, ?3, 'local', '', '', ?4, ?5, 'running', ?6, ?6, ?6, ?7)",
        params![
            run.name,
            run.kind,
            run.namespace,
            run.invocation.to_string(),
            run.object.to_string(),
            run.started_ms,
            serde_json::to_string(&run.owner).unwrap_or_default(),
        ],
    )
    .map_err(sql("record a local run"))?;
    let seq = tx.last_insert_rowid();
    let id = format!("{}@{seq}", run.name);
    tx.execute("UPDATE runs SET id = ?1 WHERE seq = ?2", params![id, seq])
        .map_err(sql("name a local run"))?;
    Ok(id)
}

fn append_events(
    tx: &Transaction<'_>,
    run: &str,
    events: &[(i64, serde_json::Value)],
) -> Result<(), StoreError> {
    let sql = |what| move |source| StoreError::Sql { what, source };
    let mut insert = tx
        .prepare_cached("INSERT INTO run_events (run, at_ms, event) VALUES (?1, ?2, ?3)")
        .map_err(sql("prepare an event insert"))?;
    for (at_ms, event) in events {
        insert
            .execute(params![run, at_ms, event.to_string()])
            .map_err(sql("write a run event"))?;
    }
    Ok(())
}

/// Deletes the local runs older than the `keep` newest (0: none), with their logs and
/// events; served runs are left alone.
fn prune_local(tx: &Transaction<'_>, keep: usize) -> Result<usize, StoreError> {
    let sql = |what| move |source| StoreError::Sql { what, source };
    if keep == 0 {
        return Ok(0);
    }
    let doomed = "SELECT id FROM runs WHERE origin = 'local' ORDER BY seq DESC LIMIT -1 OFFSET ?1";
    let keep = keep as i64;
    tx.execute(&format!("DELETE FROM logs WHERE run IN ({doomed})"), [keep])
        .map_err(sql("delete old logs"))?;
    tx.execute(
        &format!("DELETE FROM run_events WHERE run IN ({doomed})"),
        [keep],
    )
    .map_err(sql("delete old events"))?;
    tx.execute(&format!("DELETE FROM runs WHERE id IN ({doomed})"), [keep])
        .map_err(sql("delete old runs"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
