//! The public, versioned events of a run: what `adze run --events json` writes, one JSON
//! object per line.
//!
//! # Why
//!
//! [`Progress`](crate::run::Progress) is the engine's internal report: it changes when the
//! engine needs it to, names TaskRuns rather than tasks in places, and carries values only a
//! renderer wants (pull byte counts). Scripts need a contract instead: a stable `type` tag,
//! camelCase fields as Tekton names them, a timestamp and the run's name on every line, and a
//! schema version they can check. This module is that contract ([`Event`]), the translation
//! from the internal events ([`Translator`]), the JSON Schema that describes it
//! ([`schema::schema`]), and the seam that hands every internal event to each of its readers
//! ([`fan_out`]): the progress display, the JSON-lines writer ([`json_lines`]), and whatever
//! comes next.
//!
//! # Design
//!
//! - [`Event`] is a plain serde type: the common fields (`schema`, `time`, `run`) and a body
//!   whose variant is the `type` tag. Serialising an [`Event`] is the only way a line is
//!   written, so the schema and the stream cannot drift apart unnoticed: a unit test checks an
//!   event of every type against the schema, which forbids undeclared fields.
//! - The schema is written out by hand in [`schema`], from one table of fields per type, so
//!   it stays small, reviewable and pinned by a snapshot test; its `$id` carries the version.
//! - [`Translator`] keeps the little state the translation needs: the run's name (from
//!   [`Progress::RunStarted`](crate::run::Progress::RunStarted)) and which task each TaskRun
//!   belongs to (from `TaskStarted`), so every step, log and warning line names its task.
//!
//! # Invariants
//!
//! - Every line carries `schema: "adze.dev/events/v1"`. Adding an event type or an optional
//!   field keeps v1; renaming or removing a field, or changing its type, makes v2.
//! - `runStarted` is the first line and `runFinished` the last of a run adze ran; a run adze
//!   refuses before it starts (invalid input, no engine) writes no line at all.
//! - A `taskRetried` line precedes the retry's `taskStarted`, which precedes the
//!   `taskFinished` of that task; `result` lines precede their task's `taskFinished`.
//! - A `breakpoint` line is written once its debug container runs, before the session
//!   starts (a script can read the container and command from it and go in); its
//!   `breakpointEnded` follows once the session is over and the container removed.
//!
//! # Not yet
//!
//! - Image pulls and interrupts (Ctrl-C) are not events; the final `runFinished` says
//!   `Cancelled` after an interrupt.
//! - `adze serve` and `adze controller` drive the same events but do not write them as JSON
//!   lines; `adze run` is the only writer (and its history stores them).

pub mod fan_out;
pub mod json_lines;
pub mod schema;
mod translate;

use serde::Serialize;

pub use translate::Translator;

/// The value of every event's `schema` field: this stream's format and version.
pub const SCHEMA: &str = "adze.dev/events/v1";

/// One line of the event stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// When adze saw it happen: RFC 3339, UTC, milliseconds.
    pub time: String,
    /// The PipelineRun's or TaskRun's name.
    pub run: String,
    /// The `type` tag and the fields of that type.
    #[serde(flatten)]
    pub body: Body,
}

/// What happened: the `type` tag and its fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Body {
    /// The run began.
    RunStarted {
        /// `PipelineRun` or `TaskRun`.
        kind: String,
    },
    /// The run ended: its `Succeeded` condition.
    RunFinished {
        /// `True`, `False`, or `Unknown` when adze itself failed (reason `Error`).
        status: String,
        /// The condition's reason (`Succeeded`, `Failed`, `Cancelled`, …).
        reason: String,
        /// The condition's message.
        message: String,
    },
    /// A task's TaskRun (or one attempt of it) is started.
    TaskStarted {
        /// The pipeline task (the TaskRun's name for a bare TaskRun).
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// True for a finally task.
        finally: bool,
        /// The step names, in order.
        steps: Vec<String>,
    },
    /// A task will not run.
    TaskSkipped {
        /// The pipeline task.
        task: String,
        /// Tekton's skipping reason (`When Expressions evaluated to false`, …).
        reason: String,
    },
    /// An attempt failed and the task starts again.
    TaskRetried {
        /// The pipeline task.
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// The attempt that starts now: 2 for the first retry.
        attempt: u32,
        /// The failed attempt's reason.
        reason: String,
        /// The failed attempt's message.
        message: String,
    },
    /// A task ended.
    TaskFinished {
        /// The pipeline task.
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// `succeeded`, `failed`, `failureIgnored`, `cancelled`, `timedOut` or
        /// `validationFailed`.
        state: String,
        /// The TaskRun's condition reason (`Succeeded`, `StepFailed`, `TaskRunCancelled`, …).
        reason: String,
        /// The TaskRun's condition message (empty on success).
        message: String,
    },
    /// A step's container started.
    StepStarted {
        /// The pipeline task.
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// The step's name.
        step: String,
    },
    /// A step's container ended.
    StepFinished {
        /// The pipeline task.
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// The step's name.
        step: String,
        /// The exit code Tekton records for it.
        exit_code: i32,
        /// How long its container ran, in milliseconds (0 for a step that never ran).
        duration_ms: u64,
    },
    /// A line a step (or a sidecar, `sidecar-<name>`) printed.
    Log {
        /// The pipeline task.
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// The step.
        step: String,
        /// `stdout` or `stderr`.
        stream: String,
        /// The line, without its newline.
        text: String,
    },
    /// A result a task emitted.
    Result {
        /// The pipeline task.
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// The result's name.
        name: String,
        /// A string, an array of strings or an object of strings.
        value: serde_json::Value,
    },
    /// The run stopped at a breakpoint (`--break-on-failure`, `--break-before`): a debug
    /// container in the step's world is ready to be entered.
    Breakpoint {
        /// The pipeline task.
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// The step.
        step: String,
        /// `failure` (the step failed) or `before` (it is about to run).
        why: String,
        /// The failed step's exit code (`failure` only).
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        /// The debug container's name.
        container: String,
        /// The image it runs.
        image: String,
        /// The command that opens a shell in it; absent when the image has no shell.
        #[serde(skip_serializing_if = "Option::is_none")]
        command: Option<String>,
        /// Why no shell runs in it, when none does.
        #[serde(skip_serializing_if = "Option::is_none")]
        no_shell: Option<String>,
    },
    /// The session at a breakpoint is over: its debug container is removed.
    BreakpointEnded {
        /// The pipeline task.
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// The step.
        step: String,
        /// `failure` or `before`, as in the `breakpoint` it ends.
        why: String,
        /// The debug container, now removed.
        container: String,
    },
    /// Something worth knowing that does not fail the run.
    Warning {
        /// The task concerned, when there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        task: Option<String>,
        /// The TaskRun concerned, when there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        task_run: Option<String>,
        /// What happened.
        message: String,
    },
}

impl Event {
    /// The event as one line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        // Strings, numbers and JSON values only: serialisation cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
