//! Durable history and the webhook queue of `adze serve`: accepted events, what each trigger
//! made of them, the runs they created, their status and logs, in one embedded SQLite file.
//! The local runs of `adze run` are recorded in the same file (origin `local`, with their
//! events), so `adze runs`, `adze logs` and `adze show` read both alike.
//!
//! # Design
//!
//! - One writer thread owns the only writing connection. Writes are queued to it and it
//!   commits everything queued so far in one transaction (group commit), then answers each
//!   caller. Under load one `fsync` covers many webhooks, so durability costs little
//!   latency; each write runs under its own savepoint, so one failing write never undoes
//!   another.
//! - WAL journal with `synchronous=FULL`: a write is on disk when its caller is answered,
//!   through power loss, not only through a killed process. Readers use their own
//!   connection and never wait for the writer.
//! - Delivery ids (`X-GitHub-Delivery` and the like) are unique per listener *and body
//!   digest*: a redelivery of the same payload finds the event it repeats, but a forged
//!   request cannot claim a delivery id before the real one arrives.
//!
//! - Secret values never reach the file: a store given a [`Masker`] ([`Store::with_masker`])
//!   masks what it is asked to write about runs and outcomes (status objects, task states,
//!   log lines, trigger outcomes, refusal reasons and refused requests' headers). An event's
//!   headers are masked once it is processed: until then a restart may need them (a GitLab
//!   token header is the secret itself). Two things are kept as given, because they are read
//!   back to act on: an event's body (interceptors check its signature when a restart
//!   processes it) and the object of a run a trigger created (it is run from it).
//!
//! # Invariants
//!
//! - An event is [`EventState::Accepted`] from the moment [`Store::admit`] returns until
//!   [`Store::record_outcomes`] stores its outcomes and runs in the same transaction, so after
//!   a crash an event is either still to process or processed with all its runs: never half.
//! - Run ids are unique; recording a served run twice is an error, never a second run. A
//!   served run's id is its name; a local run's is `<name>@<seq>`, as the same file runs
//!   under the same name again and again.
//! - Retention ([`Store::prune_local_runs`]) deletes local runs only, each with its logs and
//!   events in the same transaction; served runs and webhook events are kept.
//!
//! # Not yet
//!
//! - Retention of served runs and webhook events: `adze serve` keeps everything it records.

mod error;
mod records;
mod schema;
mod writer;

pub use error::StoreError;
pub use records::{
    Admission, EventRecord, EventState, LogLine, NewEvent, NewLocalRun, NewRun, RunEvent,
    RunOrigin, RunRecord, RunState,
};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};

use writer::{Reply, Write, Writer};

use crate::mask::Masker;

/// The store of one `adze serve` (or of `adze runs` reading it).
pub struct Store {
    path: PathBuf,
    writer: Writer,
    reader: Mutex<Connection>,
    masker: Arc<Masker>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let open = |what| schema::connect(path).map_err(|e| StoreError::open(path, what, e));
        let mut conn = open("open")?;
        let found = schema::version(&conn).map_err(|e| StoreError::open(path, "read", e))?;
        if found > schema::LATEST {
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found,
                known: schema::LATEST,
            });
        }
        schema::migrate(&mut conn).map_err(|e| StoreError::open(path, "migrate", e))?;
        let reader = open("open a reader on")?;
        Ok(Store {
            path: path.to_path_buf(),
            writer: Writer::spawn(conn),
            reader: Mutex::new(reader),
            masker: Arc::new(Masker::new()),
        })
    }

    /// This store, masking secret values with `masker` in everything it writes after.
    pub fn with_masker(mut self, masker: Arc<Masker>) -> Store {
        self.masker = masker;
        self
    }

    /// The masker of this store: what else writes about its runs (logs on stderr) masks
    /// with it too.
    pub fn masker(&self) -> &Arc<Masker> {
        &self.masker
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes an accepted event, or finds the event it repeats (same listener, delivery id
    /// and body). Returns once the event is on disk.
    pub async fn admit(&self, event: NewEvent) -> Result<Admission, StoreError> {
        match self.writer.submit(Write::Admit(event)).await? {
            Reply::Admitted(a) => Ok(a),
            other => Err(StoreError::unexpected(other)),
        }
    }

    /// Records a request answered with an error before it was accepted (its body is dropped):
    /// what was refused, with which status and why.
    pub async fn refuse(
        &self,
        event: NewEvent,
        status: u16,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut event = event;
        if !self.masker.is_empty() {
            let names: Vec<String> = event.headers.iter().map(|(n, _)| n.to_owned()).collect();
            for name in names {
                let masked = event
                    .headers
                    .values(&name)
                    .iter()
                    .map(|v| self.masker.mask(v).into_owned())
                    .collect();
                event.headers.set(&name, masked);
            }
        }
        self.writer
            .submit(Write::Refuse {
                event,
                status,
                reason: self.masker.mask(reason).into_owned(),
            })
            .await
            .map(drop)
    }

    /// Marks an event processed with its per-trigger outcomes (JSON) and records the runs it
    /// created, queued, in one transaction.
    pub async fn record_outcomes(
        &self,
        event_id: &str,
        mut outcomes: serde_json::Value,
        runs: Vec<NewRun>,
    ) -> Result<(), StoreError> {
        self.masker.mask_json(&mut outcomes);
        self.writer
            .submit(Write::Outcomes {
                event_id: event_id.to_string(),
                outcomes,
                runs,
                masker: (!self.masker.is_empty()).then(|| self.masker.clone()),
            })
            .await
            .map(drop)
    }

    /// Moves a run to `state`, with its status object when there is one.
    pub async fn set_run_state(
        &self,
        name: &str,
        state: RunState,
        mut status: Option<serde_json::Value>,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        if let Some(s) = &mut status {
            self.masker.mask_json(s);
        }
        self.writer
            .submit(Write::RunState {
                name: name.to_string(),
                state,
                status,
                at_ms,
            })
            .await
            .map(drop)
    }

    /// Records a run's task states and task graph (either may be left as it is).
    pub async fn set_run_progress(
        &self,
        name: &str,
        mut tasks: Option<serde_json::Value>,
        graph: Option<serde_json::Value>,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        if let Some(t) = &mut tasks {
            self.masker.mask_json(t);
        }
        self.writer
            .submit(Write::Progress {
                name: name.to_string(),
                tasks,
                graph,
                at_ms,
            })
            .await
            .map(drop)
    }

    /// The newest change to any run: what a live view polls to know it must refresh.
    pub fn last_change(&self) -> Result<(i64, i64), StoreError> {
        self.read("read the last change", |c| {
            c.query_row(
                "SELECT coalesce(max(updated_ms), 0), count(*) FROM runs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    /// Appends log lines of a run.
    pub async fn append_logs(&self, run: &str, mut lines: Vec<LogLine>) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        if !self.masker.is_empty() {
            for line in &mut lines {
                self.masker.mask_string(&mut line.text);
            }
        }
        self.writer
            .submit(Write::Logs {
                run: run.to_string(),
                lines,
            })
            .await
            .map(drop)
    }

    /// Records a local run (`adze run`) as running; returns its id. Blocks: for a thread
    /// outside any async runtime.
    pub fn begin_local_run(&self, run: NewLocalRun) -> Result<String, StoreError> {
        match self.writer.submit_blocking(Write::BeginLocal(run))? {
            Reply::Recorded(id) => Ok(id),
            other => Err(StoreError::unexpected(other)),
        }
    }

    /// Appends log lines and events (`(at_ms, event)`) of a run in one write. Blocks.
    pub fn append_local(
        &self,
        run: &str,
        lines: Vec<LogLine>,
        events: Vec<(i64, serde_json::Value)>,
    ) -> Result<(), StoreError> {
        if lines.is_empty() && events.is_empty() {
            return Ok(());
        }
        self.writer
            .submit_blocking(Write::Append {
                run: run.to_string(),
                lines,
                events,
            })
            .map(drop)
    }

    /// [`Store::set_run_state`], blocking.
    pub fn set_run_state_blocking(
        &self,
        id: &str,
        state: RunState,
        status: Option<serde_json::Value>,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        self.writer
            .submit_blocking(Write::RunState {
                name: id.to_string(),
                state,
                status,
                at_ms,
            })
            .map(drop)
    }

    /// Deletes the local runs beyond the `keep` newest (0 keeps all), with their logs and
    /// events; returns how many runs went. Blocks.
    pub fn prune_local_runs(&self, keep: usize) -> Result<usize, StoreError> {
        match self.writer.submit_blocking(Write::Prune { keep })? {
            Reply::Pruned(n) => Ok(n),
            other => Err(StoreError::unexpected(other)),
        }
    }

    fn read<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|source| StoreError::Sql { what, source })
    }

    /// Local runs recorded as running, oldest first: running now, or left so by an `adze run`
    /// that was killed (see [`crate::history::interrupted`]).
    pub fn running_local_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.read("list running local runs", |c| {
            let mut q = c.prepare(&format!(
                "{} WHERE state = 'running' AND origin = 'local' ORDER BY seq",
                records::RUN_SELECT
            ))?;
            let rows = q.query_map([], records::run_row)?;
            rows.collect()
        })
    }

    /// Records local run `id`, still running, as [`RunState::Interrupted`] with `status` as
    /// its final object; its end is its last event. False when it was not running any more
    /// (it ended meanwhile). Blocks.
    pub fn interrupt_local_run(
        &self,
        id: &str,
        mut status: serde_json::Value,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        self.masker.mask_json(&mut status);
        match self.writer.submit_blocking(Write::Interrupt {
            id: id.to_string(),
            status,
            at_ms,
        })? {
            Reply::Updated(n) => Ok(n > 0),
            other => Err(StoreError::unexpected(other)),
        }
    }

    /// Events accepted but not processed yet, oldest first: what a restart resumes.
    pub fn unprocessed_events(&self) -> Result<Vec<EventRecord>, StoreError> {
        self.read("list unprocessed events", |c| {
            let mut q = c.prepare(&format!(
                "{} WHERE state = 'accepted' ORDER BY seq",
                records::EVENT_SELECT
            ))?;
            let rows = q.query_map([], records::event_row)?;
            rows.collect()
        })
    }

    /// The `limit` newest events.
    pub fn events(&self, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        self.read("list events", |c| {
            let mut q = c.prepare(&format!(
                "{} ORDER BY seq DESC LIMIT ?1",
                records::EVENT_SELECT
            ))?;
            let rows = q.query_map([limit as i64], records::event_row)?;
            rows.collect()
        })
    }

    /// One event by id.
    pub fn event(&self, id: &str) -> Result<Option<EventRecord>, StoreError> {
        self.read("read an event", |c| {
            c.query_row(
                &format!("{} WHERE id = ?1", records::EVENT_SELECT),
                [id],
                records::event_row,
            )
            .optional()
        })
    }

    /// Served runs not finished yet (queued or running), oldest first: what a restart of
    /// `adze serve` re-runs. A local run is never one: its `adze run` runs it, or is gone.
    pub fn unfinished_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.read("list unfinished runs", |c| {
            let mut q = c.prepare(&format!(
                "{} WHERE state IN ('queued', 'running') AND origin = 'serve' ORDER BY seq",
                records::RUN_SELECT
            ))?;
            let rows = q.query_map([], records::run_row)?;
            rows.collect()
        })
    }

    /// The `limit` newest runs.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.read("list runs", |c| {
            let mut q = c.prepare(&format!(
                "{} ORDER BY seq DESC LIMIT ?1",
                records::RUN_SELECT
            ))?;
            let rows = q.query_map([limit as i64], records::run_row)?;
            rows.collect()
        })
    }

    /// One run by id (a served run's id is its name).
    pub fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.read("read a run", |c| {
            c.query_row(
                &format!("{} WHERE id = ?1", records::RUN_SELECT),
                [id],
                records::run_row,
            )
            .optional()
        })
    }

    /// The run with id `key`, else the newest run named `key`.
    pub fn find_run(&self, key: &str) -> Result<Option<RunRecord>, StoreError> {
        if let Some(run) = self.run(key)? {
            return Ok(Some(run));
        }
        self.read("find a run", |c| {
            c.query_row(
                &format!(
                    "{} WHERE name = ?1 ORDER BY seq DESC LIMIT 1",
                    records::RUN_SELECT
                ),
                [key],
                records::run_row,
            )
            .optional()
        })
    }

    /// A run's events, in order.
    pub fn run_events(&self, id: &str) -> Result<Vec<RunEvent>, StoreError> {
        self.read("read a run's events", |c| {
            let mut q =
                c.prepare("SELECT at_ms, event FROM run_events WHERE run = ?1 ORDER BY seq")?;
            let rows = q.query_map([id], |r| {
                let text: String = r.get(1)?;
                Ok(RunEvent {
                    at_ms: r.get(0)?,
                    event: serde_json::from_str(&text).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            1,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })?,
                })
            })?;
            rows.collect()
        })
    }

    /// A run's log lines after sequence number `after` (0 for all), in order.
    pub fn logs(&self, run: &str, after: i64) -> Result<Vec<(i64, LogLine)>, StoreError> {
        self.read("read logs", |c| {
            let mut q = c.prepare(
                "SELECT seq, task, step, stream, text FROM logs \
                 WHERE run = ?1 AND seq > ?2 ORDER BY seq",
            )?;
            let rows = q.query_map(params![run, after], |r| {
                Ok((
                    r.get(0)?,
                    LogLine {
                        task: r.get(1)?,
                        step: r.get(2)?,
                        stream: r.get(3)?,
                        text: r.get(4)?,
                    },
                ))
            })?;
            rows.collect()
        })
    }

    /// Events waiting to be processed plus runs waiting to start: the queue's depth.
    pub fn queue_depth(&self) -> Result<usize, StoreError> {
        self.read("count the queue", |c| {
            c.query_row(
                "SELECT (SELECT count(*) FROM events WHERE state = 'accepted') + \
                        (SELECT count(*) FROM runs WHERE state = 'queued')",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n as usize)
    }
}

#[cfg(test)]
mod tests;
