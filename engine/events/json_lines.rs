//! The consumer behind `adze run --events json`: one [`Event`](super::Event) per line.

use std::io::Write;
use std::time::SystemTime;

use super::fan_out::Consumer;
use super::Translator;
use crate::run::Progress;

/// Writes each event as one line of JSON, flushed at once so a reader sees it as it happens.
pub struct JsonLines {
    translator: Translator,
    out: Box<dyn Write + Send>,
    /// The first write error; nothing more is written after one (a closed pipe, a full disk).
    failed: Option<std::io::Error>,
}

impl std::fmt::Debug for JsonLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLines")
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl JsonLines {
    /// A writer of events to `out` (stdout, or the `--events-file`).
    pub fn new(out: Box<dyn Write + Send>) -> JsonLines {
        JsonLines {
            translator: Translator::new(),
            out,
            failed: None,
        }
    }
}

impl Consumer for JsonLines {
    fn event(&mut self, event: &Progress) {
        if self.failed.is_some() {
            return;
        }
        let Some(event) = self.translator.event(event, SystemTime::now()) else {
            return;
        };
        let mut line = event.to_line();
        line.push('\n');
        if let Err(e) = self
            .out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.flush())
        {
            // The run goes on without its events; the reader of stderr learns why once.
            eprintln!("warning: cannot write the run's events any more: {e}");
            self.failed = Some(e);
        }
    }

    fn finish(&mut self) {
        if self.failed.is_none() {
            let _ = self.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::run::RunKind;

    /// A `Write` whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_line_per_event_and_none_for_what_is_not_one() {
        let out = Shared::default();
        let mut w = JsonLines::new(Box::new(out.clone()));
        w.event(&Progress::RunStarted {
            run: "r".into(),
            kind: RunKind::TaskRun,
        });
        w.event(&Progress::Interrupted { force: false });
        w.event(&Progress::Warning {
            task_run: Some("r".into()),
            message: "m".into(),
        });
        w.finish();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let types: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["type"].to_string())
            .collect();
        assert_eq!(types, ["\"runStarted\"", "\"warning\""]);
        assert!(text.ends_with('\n'));
    }
}
