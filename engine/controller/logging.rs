//! The controller's structured log: one line per event on stderr, as text for people or as
//! one JSON object per line (`--log-format json`) for log collectors.
//!
//! # Design
//!
//! A [`Record`] is built where the event happens (level, message, the run it is about,
//! extra fields) and handed to a [`Logger`], which stamps the time and renders it in its
//! [`LogFormat`]:
//!
//! - JSON: `{"ts":"2026-01-02T03:04:05.678Z","level":"info","msg":"…","kind":"PipelineRun",
//!   "namespace":"ci","name":"build-1",…extra}`; `ts` is RFC 3339 UTC with milliseconds.
//! - Text: `2026-01-02T03:04:05.678Z info PipelineRun/ci/build-1: msg key=value …`.
//!
//! The logger is cheap to clone (one shared writer behind a mutex), so every task of the
//! controller holds its own; a whole line is written under the lock, so lines of concurrent
//! tasks never interleave. The writer is injectable for tests.
//!
//! # Invariants
//!
//! - Every event is exactly one line: newlines in text-format values are escaped, and JSON
//!   escapes its own.
//! - Extra fields never replace the fixed keys: one named like a fixed key is written as
//!   `field.<key>`.
//! - Logging never fails the caller: a write error (stderr closed) is dropped.
//!
//! # Not yet
//!
//! - No level filter (`--v`/`RUST_LOG`): every record is written.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};

use k8s_openapi::chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// How log lines look (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// `ts level kind/namespace/name: msg key=value`.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// How serious an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Detail for debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something went wrong and is retried.
    Warn,
    /// Something failed for good.
    Error,
}

impl Level {
    /// The level as written: `debug`, `info`, `warn`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// The run an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    /// `PipelineRun` or `TaskRun`.
    pub kind: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl RunRef {
    /// The run `kind` `namespace/name`.
    pub fn new(
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> RunRef {
        RunRef {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// One event, before it is stamped and rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    level: Level,
    msg: String,
    run: Option<RunRef>,
    fields: Vec<(String, Value)>,
}

/// Keys every line may carry; extra fields must not take them.
const FIXED_KEYS: [&str; 6] = ["ts", "level", "msg", "kind", "namespace", "name"];

impl Record {
    /// An event at `level`.
    pub fn new(level: Level, msg: impl Into<String>) -> Record {
        Record {
            level,
            msg: msg.into(),
            run: None,
            fields: Vec::new(),
        }
    }

    /// A debug event.
    pub fn debug(msg: impl Into<String>) -> Record {
        Record::new(Level::Debug, msg)
    }

    /// An info event.
    pub fn info(msg: impl Into<String>) -> Record {
        Record::new(Level::Info, msg)
    }

    /// A warning.
    pub fn warn(msg: impl Into<String>) -> Record {
        Record::new(Level::Warn, msg)
    }

    /// An error.
    pub fn error(msg: impl Into<String>) -> Record {
        Record::new(Level::Error, msg)
    }

    /// About `run`.
    pub fn run(mut self, run: &RunRef) -> Record {
        self.run = Some(run.clone());
        self
    }

    /// With an extra field (anything serializable; `null` if it cannot be).
    pub fn field(mut self, key: impl Into<String>, value: impl serde::Serialize) -> Record {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.fields.push((key.into(), value));
        self
    }

    /// The line for this event at time `ts`, without the newline.
    pub fn render(&self, format: LogFormat, ts: DateTime<Utc>) -> String {
        let ts = ts.to_rfc3339_opts(SecondsFormat::Millis, true);
        match format {
            LogFormat::Json => self.render_json(ts),
            LogFormat::Text => self.render_text(ts),
        }
    }

    fn extra_key(key: &str) -> String {
        if FIXED_KEYS.contains(&key) {
            format!("field.{key}")
        } else {
            key.to_owned()
        }
    }

    fn render_json(&self, ts: String) -> String {
        let mut object = Map::new();
        object.insert("ts".into(), ts.into());
        object.insert("level".into(), self.level.as_str().into());
        object.insert("msg".into(), self.msg.clone().into());
        if let Some(run) = &self.run {
            object.insert("kind".into(), run.kind.clone().into());
            object.insert("namespace".into(), run.namespace.clone().into());
            object.insert("name".into(), run.name.clone().into());
        }
        for (key, value) in &self.fields {
            object.insert(Record::extra_key(key), value.clone());
        }
        Value::Object(object).to_string()
    }

    fn render_text(&self, ts: String) -> String {
        let mut line = format!("{ts} {}", self.level.as_str());
        if let Some(run) = &self.run {
            let _ = write!(
                line,
                " {}/{}/{}:",
                one_line(&run.kind),
                one_line(&run.namespace),
                one_line(&run.name)
            );
        }
        let _ = write!(line, " {}", one_line(&self.msg));
        for (key, value) in &self.fields {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let needs_quotes = text.is_empty()
                || text.contains(|c: char| c.is_whitespace() || c == '"' || c == '=');
            let text = if needs_quotes {
                Value::String(text).to_string()
            } else {
                text
            };
            let _ = write!(line, " {}={text}", one_line(&Record::extra_key(key)));
        }
        line
    }
}

/// `text` with line breaks escaped, so it stays on its line.
fn one_line(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// Writes records, one line each; clones share the writer.
#[derive(Clone)]
pub struct Logger {
    format: LogFormat,
    sink: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl Logger {
    /// A logger writing to stderr.
    pub fn stderr(format: LogFormat) -> Logger {
        Logger::to_writer(format, std::io::stderr())
    }

    /// A logger writing to `writer` (tests give it a buffer).
    pub fn to_writer(format: LogFormat, writer: impl Write + Send + 'static) -> Logger {
        Logger {
            format,
            sink: Arc::new(Mutex::new(Box::new(writer))),
        }
    }

    /// The format lines are written in.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Writes `record`, stamped now.
    pub fn log(&self, record: Record) {
        let mut line = record.render(self.format, Utc::now());
        line.push('\n');
        // A poisoned lock only means another thread panicked mid-write; the sink is still usable.
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        let _ = sink.write_all(line.as_bytes());
        let _ = sink.flush();
    }
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose bytes the test reads back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    fn fixed_time() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678901Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn run() -> RunRef {
        RunRef::new("PipelineRun", "ci", "build-1")
    }

    #[test]
    fn json_lines_parse_back_with_every_key() {
        let buffer = Buffer::default();
        let logger = Logger::to_writer(LogFormat::Json, buffer.clone());
        logger.log(
            Record::info("started TaskRun build-1-compile")
                .run(&run())
                .field("taskRun", "build-1-compile")
                .field("attempt", 2),
        );
        logger.clone().log(Record::warn("a line\nwith a break"));
        let lines = buffer.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["level"], "info");
        assert_eq!(first["msg"], "started TaskRun build-1-compile");
        assert_eq!(
            (&first["kind"], &first["namespace"], &first["name"]),
            (&"PipelineRun".into(), &"ci".into(), &"build-1".into())
        );
        assert_eq!(first["taskRun"], "build-1-compile");
        assert_eq!(first["attempt"], 2);
        let ts = first["ts"].as_str().unwrap();
        assert!(DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");
        assert!(
            ts.ends_with('Z') && ts.len() == "2026-01-02T03:04:05.678Z".len(),
            "{ts}"
        );
        let second: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(second["msg"], "a line\nwith a break");
        assert!(second.get("kind").is_none());
    }

    #[test]
    fn json_is_stamped_in_utc_with_milliseconds() {
        let line = Record::error("failed").render(LogFormat::Json, fixed_time());
        assert_eq!(
            line,
            r#"{"ts":"2026-01-02T03:04:05.678Z","level":"error","msg":"failed"}"#
        );
    }

    #[test]
    fn text_names_the_run_then_the_message_then_fields() {
        let line = Record::info("reconciled")
            .run(&run())
            .field("outcome", "success")
            .field("reason", "two words")
            .field("took", 0.25)
            .render(LogFormat::Text, fixed_time());
        assert_eq!(
            line,
            r#"2026-01-02T03:04:05.678Z info PipelineRun/ci/build-1: reconciled outcome=success reason="two words" took=0.25"#
        );
        let buffer = Buffer::default();
        Logger::to_writer(LogFormat::Text, buffer.clone())
            .log(Record::debug("multi\nline").field("k", "v\nw"));
        let lines = buffer.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].ends_with(r#" debug multi\nline k="v\nw""#),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn extra_fields_never_replace_fixed_keys() {
        let line = Record::info("m")
            .run(&run())
            .field("name", "other")
            .render(LogFormat::Json, fixed_time());
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["name"], "build-1");
        assert_eq!(value["field.name"], "other");
    }

    #[test]
    fn formats_are_named_as_on_the_command_line() {
        use clap::ValueEnum;
        assert_eq!(LogFormat::from_str("json", false), Ok(LogFormat::Json));
        assert_eq!(LogFormat::from_str("text", false), Ok(LogFormat::Text));
        assert!(LogFormat::from_str("yaml", false).is_err());
    }
}
