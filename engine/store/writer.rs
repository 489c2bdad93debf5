//! The writer thread: the only connection that writes, committing in groups.

use std::sync::{mpsc, Arc};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::records::{Admission, EventState, LogLine, NewEvent, NewRun, RunState};
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
}

/// The writer's answer to one write.
#[derive(Debug)]
pub(super) enum Reply {
    Admitted(Admission),
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
                 updated_ms = ?4 WHERE name = ?1",
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
            "INSERT INTO runs (name, kind, namespace, event_id, trigger, object, state, \
             created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?7)",
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
         updated_ms = ?6 WHERE name = ?1",
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
