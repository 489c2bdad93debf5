//! The consumer of a local run's [`Progress`] events that writes them to the store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::events::Translator;
use crate::mask::Masker;
use crate::run::ownership::ProcHost;
use crate::run::Progress;
use crate::store::{LogLine, NewLocalRun, RunState, Store};

/// Buffered lines and events are written at least this often while a run runs, so a run
/// killed mid-way keeps most of what it printed.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Or as soon as this many events are waiting.
const FLUSH_AT: usize = 500;

/// How a recorded run ended.
#[derive(Debug, Clone)]
pub struct RunEnd {
    /// Succeeded or failed.
    pub state: RunState,
    /// The final object, as `adze run -o yaml` prints it, when one was made.
    pub object: Option<Value>,
    /// When it ended (ms since the epoch).
    pub at_ms: i64,
}

/// Records one local run: the row, then events and log lines in batches, then the end and
/// retention. Every store failure is kept as one warning and ends the recording; nothing
/// here fails the run.
pub struct Recorder {
    path: PathBuf,
    store: Option<Store>,
    id: Option<String>,
    keep_runs: usize,
    masker: Arc<Masker>,
    /// TaskRun name → pipeline task, from `TaskStarted`.
    tasks: HashMap<String, String>,
    /// Turns events into what `adze run --events json` writes, which is what is stored.
    translator: Translator,
    /// Events not written yet, with when they arrived and their stored form (none for what
    /// is not an event, such as image download ticks).
    pending: Vec<(i64, Progress, Option<Value>)>,
    flushed: Instant,
    warning: Option<String>,
}

impl Recorder {
    /// Opens the store at `path` (creating it); a store that cannot be opened becomes the
    /// warning and a recorder that records nothing. `masker` masks everything written.
    pub fn open(path: &Path, keep_runs: usize, masker: Arc<Masker>) -> Recorder {
        let mut recorder = Recorder {
            path: path.to_path_buf(),
            store: None,
            id: None,
            keep_runs,
            masker,
            tasks: HashMap::new(),
            translator: Translator::new(),
            pending: Vec::new(),
            flushed: Instant::now(),
            warning: None,
        };
        match Store::open(path) {
            Ok(store) => {
                // Best effort: the next open tries again, and this run is not concerned.
                let _ = super::interrupted::settle(&store, &ProcHost, now_ms());
                recorder.store = Some(store);
            }
            Err(e) => recorder.fail(&e.to_string()),
        }
        recorder
    }

    /// Records the run's row; events before it are kept and written after it.
    pub fn begin(&mut self, mut run: NewLocalRun) {
        let Some(store) = &self.store else { return };
        self.masker.mask_json(&mut run.object);
        self.masker.mask_json(&mut run.invocation);
        match store.begin_local_run(run) {
            Ok(id) => self.id = Some(id),
            Err(e) => self.fail(&e.to_string()),
        }
    }

    /// Takes one event (at `at_ms`).
    pub fn event(&mut self, event: &Progress, at_ms: i64) {
        if self.store.is_none() {
            return;
        }
        if let Progress::TaskStarted { task, task_run, .. } = event {
            self.tasks.insert(task_run.clone(), task.clone());
        }
        // Translated as they arrive: the translator follows the run's order of events.
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at_ms).unwrap_or(0));
        let stored = self
            .translator
            .event(event, at)
            .and_then(|e| serde_json::to_value(e).ok());
        self.pending.push((at_ms, event.clone(), stored));
        if self.pending.len() >= FLUSH_AT || self.flushed.elapsed() >= FLUSH_EVERY {
            self.flush();
        }
    }

    /// The pipeline task of the TaskRun `event` names. Resolved when written rather than
    /// when received: a step's lines can arrive before the driver's `TaskStarted` names its
    /// task. A bare TaskRun's task is its own name, as the live output shows it.
    fn task_of<'a>(&'a self, event: &'a Progress) -> Option<&'a str> {
        let task_run = match event {
            Progress::TaskStarted { task, .. } | Progress::TaskFinished { task, .. } => {
                return Some(task)
            }
            Progress::StepStarted { task_run, .. }
            | Progress::StepFinished { task_run, .. }
            | Progress::Log { task_run, .. } => task_run.as_str(),
            Progress::Warning { task_run, .. } => task_run.as_deref()?,
            _ => return None,
        };
        Some(self.tasks.get(task_run).map_or(task_run, String::as_str))
    }

    /// Writes what is buffered, once the run's row exists.
    fn flush(&mut self) {
        self.flushed = Instant::now();
        let (Some(store), Some(id)) = (&self.store, &self.id) else {
            return;
        };
        let pending = std::mem::take(&mut self.pending);
        let mut lines = Vec::new();
        let mut events = Vec::with_capacity(pending.len());
        for (at_ms, event, stored) in pending {
            if let Progress::Log {
                step, stream, line, ..
            } = &event
            {
                lines.push(LogLine {
                    task: self.task_of(&event).unwrap_or_default().to_string(),
                    step: step.clone(),
                    stream: stream.as_str().to_string(),
                    text: self.masker.mask(line).into_owned(),
                });
            }
            if let Some(mut json) = stored {
                self.masker.mask_json(&mut json);
                events.push((at_ms, json));
            }
        }
        if let Err(e) = store.append_local(id, lines, events) {
            self.fail(&e.to_string());
        }
    }

    /// Writes the rest, the end and applies retention; returns the warning, if recording
    /// failed anywhere.
    pub fn finish(mut self, end: Option<RunEnd>) -> Option<String> {
        self.flush();
        if let (Some(store), Some(id)) = (&self.store, &self.id) {
            let end = end.unwrap_or_else(|| RunEnd {
                state: RunState::Failed,
                object: None,
                at_ms: now_ms(),
            });
            let object = end.object.map(|mut o| {
                self.masker.mask_json(&mut o);
                o
            });
            let written = store
                .set_run_state_blocking(id, end.state, object, end.at_ms)
                .and_then(|()| store.prune_local_runs(self.keep_runs));
            if let Err(e) = written {
                self.fail(&e.to_string());
            }
        }
        self.warning
    }

    /// Keeps the first failure as the warning and stops recording.
    fn fail(&mut self, message: &str) {
        self.store = None;
        if self.warning.is_none() {
            let path = self.path.display().to_string();
            // An error opening the store names the file already.
            let at = if message.contains(&path) {
                String::new()
            } else {
                format!(" {path}")
            };
            self.warning = Some(format!(
                "cannot record this run in the history{at}: {message}\n  note: the run itself \
                 is unaffected; `adze runs`, `adze logs` and `adze show` will not know it"
            ));
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Stream;

    fn started(task: &str, task_run: &str) -> Progress {
        Progress::TaskStarted {
            task: task.into(),
            task_run: task_run.into(),
            finally: false,
            steps: vec!["s".into()],
        }
    }

    fn log(task_run: &str, line: &str) -> Progress {
        Progress::Log {
            task_run: task_run.into(),
            step: "s".into(),
            stream: Stream::Stdout,
            line: line.into(),
        }
    }

    fn new_run() -> NewLocalRun {
        NewLocalRun {
            name: "p".into(),
            kind: "PipelineRun".into(),
            namespace: "default".into(),
            invocation: serde_json::json!({"params": ["token=hunter22-token"]}),
            object: serde_json::json!({"metadata": {"name": "p"}}),
            started_ms: 1,
            owner: Default::default(),
        }
    }

    #[test]
    fn lines_are_stored_under_their_pipeline_task_with_secrets_masked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let masker = Masker::new();
        masker.add("hunter22-token").unwrap();
        let mut recorder = Recorder::open(&path, 10, Arc::new(masker));
        // Before the row exists: kept, then written after it.
        recorder.event(&log("bare", "early"), 2);
        recorder.begin(new_run());
        recorder.event(&started("build", "p-build"), 3);
        recorder.event(&log("p-build", "token is hunter22-token"), 4);
        // A line before its task's `TaskStarted` still lands under the task.
        recorder.event(&log("p-test", "before"), 5);
        recorder.event(&started("test", "p-test"), 6);
        let warning = recorder.finish(Some(RunEnd {
            state: RunState::Succeeded,
            object: Some(serde_json::json!({"status": "hunter22-token"})),
            at_ms: 9,
        }));
        assert_eq!(warning, None);
        let store = Store::open(&path).unwrap();
        let run = store.find_run("p").unwrap().unwrap();
        assert_eq!(run.state, RunState::Succeeded);
        assert_eq!(run.status, Some(serde_json::json!({"status": "***"})));
        assert_eq!(
            run.invocation,
            Some(serde_json::json!({"params": ["token=***"]}))
        );
        let lines: Vec<(String, String)> = store
            .logs(&run.id, 0)
            .unwrap()
            .into_iter()
            .map(|(_, l)| (l.task, l.text))
            .collect();
        assert_eq!(
            lines,
            [
                ("bare".to_string(), "early".to_string()),
                ("build".to_string(), "token is ***".to_string()),
                ("test".to_string(), "before".to_string()),
            ]
        );
        assert_eq!(store.run_events(&run.id).unwrap().len(), 5);
    }

    #[test]
    fn a_store_that_cannot_be_opened_is_one_warning() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: opening it fails.
        let path = dir.path().join("h.db");
        std::fs::create_dir(&path).unwrap();
        let mut recorder = Recorder::open(&path, 10, Arc::new(Masker::new()));
        recorder.begin(new_run());
        recorder.event(&log("x", "line"), 2);
        let warning = recorder.finish(None).expect("a warning");
        assert!(warning.contains("cannot record this run"), "{warning}");
        assert_eq!(warning.matches("cannot record").count(), 1, "{warning}");
    }
}
