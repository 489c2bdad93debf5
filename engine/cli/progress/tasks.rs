//! What the renderers remember between events: which TaskRun is which task, when it started,
//! its current step, its colour, and the output `--logs failed` holds back.
//!
//! Events for a TaskRun may arrive before its `TaskStarted` (the executor starts steps while
//! the driver is still announcing the task), so every lookup creates the TaskRun on first
//! sight under its own name and `TaskStarted` fills in the rest.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::LogMode;
use crate::reconcile::{CancelCause, PipelineTaskState};
use crate::run::Stream;

/// At most this many lines are held back per TaskRun; older ones are dropped and counted, so
/// a chatty task that succeeds cannot exhaust memory.
const HELD_LINES: usize = 10_000;

/// One line of step output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LogLine {
    /// The TaskRun that printed it.
    pub task_run: String,
    /// The step (or `sidecar-<name>`).
    pub step: String,
    /// Where it was printed.
    pub stream: Stream,
    /// The text, without its newline.
    pub line: String,
}

impl LogLine {
    /// The line a [`Progress::Log`](crate::run::Progress::Log) event carries.
    pub(super) fn new(task_run: &str, step: &str, stream: Stream, line: &str) -> LogLine {
        LogLine {
            task_run: task_run.to_owned(),
            step: step.to_owned(),
            stream,
            line: line.to_owned(),
        }
    }
}

/// What a finished TaskRun leaves to show.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Finished {
    /// Time since its `TaskStarted`, when that was seen.
    pub elapsed: Option<Duration>,
    /// Output held back that is now to be shown, oldest first.
    pub held: Vec<LogLine>,
    /// Lines that were held back and dropped because there were too many.
    pub dropped: usize,
}

#[derive(Debug)]
struct Run {
    task: String,
    steps: Vec<String>,
    started: Option<Instant>,
    step: Option<String>,
    held: VecDeque<LogLine>,
    dropped: usize,
    /// `Some(failed)` once `TaskFinished` was seen.
    finished: Option<bool>,
}

impl Run {
    fn unknown(task_run: &str) -> Run {
        Run {
            task: task_run.to_string(),
            steps: Vec::new(),
            started: None,
            step: None,
            held: VecDeque::new(),
            dropped: 0,
            finished: None,
        }
    }
}

/// Per-TaskRun bookkeeping shared by both renderers.
#[derive(Debug)]
pub(super) struct Tasks {
    logs: LogMode,
    runs: HashMap<String, Run>,
    colours: HashMap<String, usize>,
}

/// Whether a finished task counts as failed for `--logs failed`: its output explains a failure.
pub(super) fn failed(state: &PipelineTaskState) -> bool {
    matches!(
        state,
        PipelineTaskState::Failed { .. }
            | PipelineTaskState::Cancelled {
                cause: CancelCause::TimedOut
            }
            | PipelineTaskState::ValidationFailed { .. }
    )
}

impl Tasks {
    /// Nothing seen yet.
    pub fn new(logs: LogMode) -> Tasks {
        Tasks {
            logs,
            runs: HashMap::new(),
            colours: HashMap::new(),
        }
    }

    fn run(&mut self, task_run: &str) -> &mut Run {
        self.runs
            .entry(task_run.to_string())
            .or_insert_with(|| Run::unknown(task_run))
    }

    /// Records a `TaskStarted`; output that arrived before it stays held.
    pub fn started(&mut self, task: &str, task_run: &str, steps: &[String], now: Instant) {
        let run = self.run(task_run);
        run.task = task.to_string();
        run.steps = steps.to_vec();
        run.started = Some(now);
        run.finished = None;
    }

    /// Records a `StepStarted`.
    pub fn step_started(&mut self, task_run: &str, step: &str) {
        self.run(task_run).step = Some(step.to_string());
    }

    /// The task a TaskRun belongs to, or the TaskRun's own name when it was never announced.
    pub fn task_of<'a>(&'a self, task_run: &'a str) -> &'a str {
        self.runs
            .get(task_run)
            .map_or(task_run, |r| r.task.as_str())
    }

    /// The step a TaskRun is running: its name, its 1-based position and the step count
    /// (position and count are 0 when the step list is unknown).
    pub fn step_of(&self, task_run: &str) -> Option<(&str, usize, usize)> {
        let run = self.runs.get(task_run)?;
        let step = run.step.as_deref()?;
        let position = run
            .steps
            .iter()
            .position(|s| s == step)
            .map_or(0, |i| i + 1);
        let count = if position == 0 { 0 } else { run.steps.len() };
        Some((step, position, count))
    }

    /// A task's colour index, handed out in order of first appearance.
    pub fn colour(&mut self, task: &str) -> usize {
        let next = self.colours.len();
        *self.colours.entry(task.to_string()).or_insert(next)
    }

    /// Takes a line of output; returns it when it is to be shown now.
    pub fn log(&mut self, line: LogLine) -> Option<LogLine> {
        match self.logs {
            LogMode::None => None,
            LogMode::All => Some(line),
            LogMode::Failed => {
                let run = self.run(&line.task_run);
                match run.finished {
                    // Output that trails a failed task's end still explains the failure.
                    Some(true) => Some(line),
                    Some(false) => None,
                    None => {
                        if run.held.len() == HELD_LINES {
                            run.held.pop_front();
                            run.dropped += 1;
                        }
                        run.held.push_back(line);
                        None
                    }
                }
            }
        }
    }

    /// Records a `TaskFinished`: releases the held output if the task failed, drops it
    /// otherwise.
    pub fn finished(
        &mut self,
        task: &str,
        task_run: &str,
        state: &PipelineTaskState,
        now: Instant,
    ) -> Finished {
        let failed = failed(state);
        let run = self.run(task_run);
        run.task = task.to_string();
        run.finished = Some(failed);
        run.step = None;
        let held = std::mem::take(&mut run.held);
        let dropped = std::mem::take(&mut run.dropped);
        Finished {
            elapsed: run.started.map(|s| now.saturating_duration_since(s)),
            held: if failed { held.into() } else { Vec::new() },
            dropped: if failed { dropped } else { 0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(task_run: &str, text: &str) -> LogLine {
        LogLine {
            task_run: task_run.to_string(),
            step: "s".to_string(),
            stream: Stream::Stdout,
            line: text.to_string(),
        }
    }

    fn failed_state() -> PipelineTaskState {
        PipelineTaskState::Failed {
            reason: "StepFailed".to_string(),
            ignored: false,
        }
    }

    #[test]
    fn all_shows_every_line_and_none_shows_nothing() {
        let mut all = Tasks::new(LogMode::All);
        assert_eq!(all.log(line("r", "a")), Some(line("r", "a")));
        let mut none = Tasks::new(LogMode::None);
        assert_eq!(none.log(line("r", "a")), None);
        let now = Instant::now();
        assert_eq!(none.finished("t", "r", &failed_state(), now).held, vec![]);
    }

    #[test]
    fn failed_holds_lines_and_releases_them_only_on_failure() {
        let now = Instant::now();
        let mut tasks = Tasks::new(LogMode::Failed);
        tasks.started("ok", "run-ok", &[], now);
        tasks.started("bad", "run-bad", &[], now);
        assert_eq!(tasks.log(line("run-ok", "fine")), None);
        assert_eq!(tasks.log(line("run-bad", "one")), None);
        assert_eq!(tasks.log(line("run-bad", "two")), None);

        let ok = tasks.finished("ok", "run-ok", &PipelineTaskState::Succeeded, now);
        assert!(ok.held.is_empty());
        let bad = tasks.finished("bad", "run-bad", &failed_state(), now);
        assert_eq!(
            bad.held,
            vec![line("run-bad", "one"), line("run-bad", "two")]
        );

        // After the end: a failed task's stragglers show, a successful one's do not.
        assert_eq!(
            tasks.log(line("run-bad", "late")),
            Some(line("run-bad", "late"))
        );
        assert_eq!(tasks.log(line("run-ok", "late")), None);
        // The buffer was dropped: a second finish releases nothing.
        assert!(tasks
            .finished("bad", "run-bad", &failed_state(), now)
            .held
            .is_empty());
    }

    #[test]
    fn failed_counts_ignored_failures_and_timeouts_but_not_user_cancels() {
        let ignored = PipelineTaskState::Failed {
            reason: "StepFailed".to_string(),
            ignored: true,
        };
        assert!(failed(&ignored));
        assert!(failed(&PipelineTaskState::Cancelled {
            cause: CancelCause::TimedOut
        }));
        assert!(!failed(&PipelineTaskState::Cancelled {
            cause: CancelCause::Cancelled
        }));
        assert!(!failed(&PipelineTaskState::Succeeded));
    }

    #[test]
    fn output_before_task_started_is_held_under_the_task_run() {
        let now = Instant::now();
        let mut tasks = Tasks::new(LogMode::Failed);
        assert_eq!(tasks.log(line("run-x", "early")), None);
        assert_eq!(tasks.task_of("run-x"), "run-x");
        tasks.started("x", "run-x", &[], now);
        assert_eq!(tasks.task_of("run-x"), "x");
        let done = tasks.finished("x", "run-x", &failed_state(), now);
        assert_eq!(done.held, vec![line("run-x", "early")]);
    }

    #[test]
    fn held_output_is_capped_keeping_the_newest_lines() {
        let now = Instant::now();
        let mut tasks = Tasks::new(LogMode::Failed);
        for i in 0..HELD_LINES + 3 {
            tasks.log(line("r", &i.to_string()));
        }
        let done = tasks.finished("t", "r", &failed_state(), now);
        assert_eq!(done.dropped, 3);
        assert_eq!(done.held.len(), HELD_LINES);
        assert_eq!(done.held[0].line, "3");
    }

    #[test]
    fn unknown_task_runs_have_no_duration_and_their_own_name() {
        let mut tasks = Tasks::new(LogMode::All);
        assert_eq!(tasks.task_of("nobody"), "nobody");
        assert_eq!(tasks.step_of("nobody"), None);
        let done = tasks.finished("t", "nobody", &failed_state(), Instant::now());
        assert_eq!(done.elapsed, None);
    }

    #[test]
    fn steps_are_numbered_when_the_list_is_known() {
        let mut tasks = Tasks::new(LogMode::All);
        let steps = ["a".to_string(), "b".to_string()];
        tasks.started("t", "r", &steps, Instant::now());
        tasks.step_started("r", "b");
        assert_eq!(tasks.step_of("r"), Some(("b", 2, 2)));
        tasks.step_started("r", "sidecar-db");
        assert_eq!(tasks.step_of("r"), Some(("sidecar-db", 0, 0)));
    }

    #[test]
    fn colours_follow_first_appearance() {
        let mut tasks = Tasks::new(LogMode::All);
        assert_eq!(tasks.colour("a"), 0);
        assert_eq!(tasks.colour("b"), 1);
        assert_eq!(tasks.colour("a"), 0);
    }
}
