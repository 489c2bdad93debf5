//! The rows of the store, as Rust values.

use std::collections::BTreeMap;

use crate::triggers::Headers;

/// An event to admit.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The event id (also the 202 body's `eventID`).
    pub id: String,
    /// The EventListener that received it.
    pub listener: String,
    /// The sender's delivery id (`X-GitHub-Delivery`, …), when it sent one.
    pub delivery_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub received_ms: i64,
    /// Path and query.
    pub request_uri: String,
    /// Canonical headers.
    pub headers: Headers,
    /// The exact bytes received.
    pub body: Vec<u8>,
}

/// What [`super::Store::admit`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Written; it is to be processed.
    Accepted,
    /// A redelivery of an event already accepted: recorded as such, not to be processed.
    Duplicate {
        /// The id of the event it repeats.
        original: String,
    },
}

/// Where an event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventState {
    /// Accepted, interceptors not run yet.
    Accepted,
    /// Every trigger's outcome is recorded.
    Processed,
    /// A redelivery; see [`EventRecord::duplicate_of`].
    Duplicate,
    /// Answered with an error before it was accepted (bad body, too large, queue full);
    /// [`EventRecord::outcomes`] holds the status code and why. Its body is not kept.
    Refused,
}

impl EventState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            EventState::Accepted => "accepted",
            EventState::Processed => "processed",
            EventState::Duplicate => "duplicate",
            EventState::Refused => "refused",
        }
    }

    fn parse(s: &str) -> EventState {
        match s {
            "processed" => EventState::Processed,
            "duplicate" => EventState::Duplicate,
            "refused" => EventState::Refused,
            _ => EventState::Accepted,
        }
    }
}

/// A stored event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRecord {
    /// The event id.
    pub id: String,
    /// The listener.
    pub listener: String,
    /// The sender's delivery id.
    pub delivery_id: Option<String>,
    /// When it was received (ms since the epoch).
    pub received_ms: i64,
    /// Path and query.
    pub request_uri: String,
    /// Canonical headers.
    #[serde(skip)]
    pub headers: Headers,
    /// The exact bytes received.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Where it is.
    pub state: EventState,
    /// For a duplicate, the event it repeats.
    pub duplicate_of: Option<String>,
    /// Per-trigger outcomes once processed.
    pub outcomes: Option<serde_json::Value>,
}

/// A run to record, created by a trigger.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// `metadata.name` (unique).
    pub name: String,
    /// `PipelineRun` or `TaskRun`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// The trigger that created it.
    pub trigger: String,
    /// The object as the trigger rendered it.
    pub object: serde_json::Value,
    /// When it was recorded (ms since the epoch).
    pub created_ms: i64,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Recorded, not started.
    Queued,
    /// Started by this server.
    Running,
    /// Handed to a cluster (`--executor create`): the cluster runs it.
    Created,
    /// Finished, `Succeeded=True`.
    Succeeded,
    /// Finished otherwise.
    Failed,
    /// Never finished: the `adze run` running it ended first (killed, crashed).
    Interrupted,
}

impl RunState {
    /// The stored (and shown) word.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Created => "created",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Interrupted => "interrupted",
        }
    }

    /// Whether nothing more will happen to the run here.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunState::Created | RunState::Succeeded | RunState::Failed | RunState::Interrupted
        )
    }

    fn parse(s: &str) -> RunState {
        match s {
            "running" => RunState::Running,
            "created" => RunState::Created,
            "succeeded" => RunState::Succeeded,
            "failed" => RunState::Failed,
            "interrupted" => RunState::Interrupted,
            _ => RunState::Queued,
        }
    }
}

/// A run of `adze run` to record, before it starts.
#[derive(Debug, Clone)]
pub struct NewLocalRun {
    /// `metadata.name` (repeats across runs of the same file).
    pub name: String,
    /// `PipelineRun` or `TaskRun`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// What it was given: files, params, executor (never the raw command line).
    pub invocation: serde_json::Value,
    /// The object as loaded.
    pub object: serde_json::Value,
    /// When it started (ms since the epoch).
    pub started_ms: i64,
    /// The `adze` process running it: its ownership labels
    /// ([`Owner::labels`](crate::run::ownership::Owner::labels)).
    pub owner: BTreeMap<String, String>,
}

/// Where a stored run came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOrigin {
    /// `adze run` in this directory.
    Local,
    /// A trigger of `adze serve`.
    Serve,
}

impl RunOrigin {
    /// The stored (and shown) word.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOrigin::Local => "local",
            RunOrigin::Serve => "serve",
        }
    }

    fn parse(s: &str) -> RunOrigin {
        match s {
            "local" => RunOrigin::Local,
            _ => RunOrigin::Serve,
        }
    }
}

/// One event of a run, as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunEvent {
    /// When it happened (ms since the epoch).
    pub at_ms: i64,
    /// The event.
    pub event: serde_json::Value,
}

/// A stored run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunRecord {
    /// How the run is found: a served run's name, `<name>@<seq>` for a local run.
    pub id: String,
    /// `metadata.name`.
    pub name: String,
    /// Local or served.
    pub origin: RunOrigin,
    /// What a local run was given (files, params, executor).
    pub invocation: Option<serde_json::Value>,
    /// `PipelineRun` or `TaskRun`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// The event that created it.
    pub event_id: String,
    /// The trigger that created it.
    pub trigger: String,
    /// The object as created.
    pub object: serde_json::Value,
    /// Where it is.
    pub state: RunState,
    /// The last status object recorded.
    pub status: Option<serde_json::Value>,
    /// Each task's state while it runs: task name → `{state, message}`.
    pub tasks: Option<serde_json::Value>,
    /// The task graph: `{levels: [[task…]…], edges: [[parent, child]…], finally: [task…]}`.
    pub graph: Option<serde_json::Value>,
    /// When anything about it last changed (ms since the epoch).
    pub updated_ms: i64,
    /// When it was recorded (ms since the epoch).
    pub created_ms: i64,
    /// When it started.
    pub started_ms: Option<i64>,
    /// When it finished.
    pub finished_ms: Option<i64>,
    /// The `adze` process that ran a local run (its ownership labels); `None` for a served
    /// run, or a local run recorded before adze stored it.
    pub owner: Option<BTreeMap<String, String>>,
}

/// One line a step wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// Pipeline task (or the TaskRun's name).
    pub task: String,
    /// Step name.
    pub step: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// The line, without its newline.
    pub text: String,
}

pub(super) const EVENT_SELECT: &str = "SELECT id, listener, delivery_id, received_ms, \
     request_uri, headers, body, state, duplicate_of, outcomes FROM events";

pub(super) fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRecord> {
    let headers: String = r.get(5)?;
    let state: String = r.get(7)?;
    let outcomes: Option<String> = r.get(9)?;
    Ok(EventRecord {
        id: r.get(0)?,
        listener: r.get(1)?,
        delivery_id: r.get(2)?,
        received_ms: r.get(3)?,
        request_uri: r.get(4)?,
        headers: serde_json::from_str(&headers).map_err(|e| json_error(5, e))?,
        body: r.get(6)?,
        state: EventState::parse(&state),
        duplicate_of: r.get(8)?,
        outcomes: outcomes
            .map(|o| serde_json::from_str(&o))
            .transpose()
            .map_err(|e| json_error(9, e))?,
    })
}

pub(super) const RUN_SELECT: &str = "SELECT name, kind, namespace, event_id, trigger, object, \
     state, status, created_ms, started_ms, finished_ms, tasks, graph, updated_ms, id, origin, \
     invocation, owner FROM runs";

pub(super) fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let object: String = r.get(5)?;
    let state: String = r.get(6)?;
    let status: Option<String> = r.get(7)?;
    Ok(RunRecord {
        name: r.get(0)?,
        kind: r.get(1)?,
        namespace: r.get(2)?,
        event_id: r.get(3)?,
        trigger: r.get(4)?,
        object: serde_json::from_str(&object).map_err(|e| json_error(5, e))?,
        state: RunState::parse(&state),
        status: status
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| json_error(7, e))?,
        created_ms: r.get(8)?,
        started_ms: r.get(9)?,
        finished_ms: r.get(10)?,
        tasks: json_column(r, 11)?,
        graph: json_column(r, 12)?,
        updated_ms: r.get(13)?,
        id: r.get(14)?,
        origin: RunOrigin::parse(&r.get::<_, String>(15)?),
        invocation: json_column(r, 16)?,
        owner: json_column(r, 17)?.and_then(|owner| serde_json::from_value(owner).ok()),
    })
}

fn json_column(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<serde_json::Value>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| json_error(i, e))
}

fn json_error(column: usize, e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
}
