//! Plain mode: one line per event, for CI logs and tests that grep stderr.

use std::collections::HashSet;
use std::io::Write;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::lines::{self, verdict};
use super::palette::Paint;
use super::tasks::{Finished, LogLine, Tasks};
use super::RenderOptions;
use crate::reconcile::PipelineTaskState;
use crate::run::Progress;

/// How often an idle renderer looks whether the terminal was asked for ([`super::pause`]).
const PAUSE_POLL: Duration = Duration::from_millis(50);

/// The plain lines of a run, event by event; pure apart from the times it is given.
#[derive(Debug)]
pub(super) struct Transcript {
    tasks: Tasks,
    paint: Paint,
    /// Images whose pull was announced.
    pulls: HashSet<String>,
}

impl Transcript {
    /// A transcript with nothing seen yet.
    pub fn new(options: RenderOptions) -> Transcript {
        Transcript {
            tasks: Tasks::new(options.logs),
            paint: Paint {
                color: options.color,
            },
            pulls: HashSet::new(),
        }
    }

    /// A task's name in its colour.
    fn name(&mut self, task: &str) -> String {
        let colour = self.tasks.colour(task);
        self.paint.task(colour, task)
    }

    /// A line of output with its `[task/step]` prefix.
    fn log_line(&mut self, line: &LogLine) -> String {
        let task = self.tasks.task_of(&line.task_run).to_string();
        let colour = self.tasks.colour(&task);
        lines::log(
            self.paint,
            colour,
            &task,
            &line.step,
            line.stream,
            &line.line,
        )
    }

    /// The lines to print for `event`, which arrived at `now` (possibly none).
    pub fn lines(&mut self, event: &Progress, now: Instant) -> Vec<String> {
        let p = self.paint;
        match event {
            Progress::TaskStarted {
                task,
                task_run,
                finally,
                steps,
            } => {
                self.tasks.started(task, task_run, steps, now);
                let name = self.name(task);
                vec![lines::started(p, &name, *finally, steps.len())]
            }
            Progress::TaskFinished {
                task,
                task_run,
                state,
                message,
            } => {
                let done = self.tasks.finished(task, task_run, state, now);
                let mut out = self.released(task, &done);
                let name = self.name(task);
                out.push(lines::finished(p, &name, &verdict(state), done.elapsed));
                if *state != PipelineTaskState::Succeeded {
                    out.extend(lines::message(p, message));
                }
                out
            }
            Progress::TaskSkipped { task, reason } => {
                let name = self.name(task);
                let state = PipelineTaskState::Skipped { reason: *reason };
                vec![lines::finished(p, &name, &verdict(&state), None)]
            }
            Progress::StepStarted { task_run, step } => {
                self.tasks.step_started(task_run, step);
                let task = self.tasks.task_of(task_run).to_string();
                let name = self.name(&task);
                vec![lines::step_started(p, &name, step)]
            }
            Progress::StepFinished {
                task_run,
                step,
                exit_code,
                ..
            } => {
                // A zero exit is implied by what follows; only a failure is worth a line.
                if *exit_code == 0 {
                    return Vec::new();
                }
                let task = self.tasks.task_of(task_run).to_string();
                let name = self.name(&task);
                vec![lines::step_failed(p, &name, step, *exit_code)]
            }
            Progress::Log {
                task_run,
                step,
                stream,
                line,
            } => {
                let line = LogLine::new(task_run, step, *stream, line);
                match self.tasks.log(line) {
                    Some(shown) => vec![self.log_line(&shown)],
                    None => Vec::new(),
                }
            }
            Progress::Pull { image, status, .. } => {
                // Per-layer progress would flood a log; the start and the engine's verdict
                // are what a reader of CI output needs.
                let mut out = Vec::new();
                if self.pulls.insert(image.clone()) {
                    out.push(lines::pulling(p, image));
                }
                if let Some(done) = lines::pull_done(status) {
                    out.push(lines::pulled(p, done));
                    self.pulls.remove(image);
                }
                out
            }
            Progress::Warning { task_run, message } => {
                let task = task_run.as_deref().map(|r| self.tasks.task_of(r));
                vec![lines::warning(p, task, message)]
            }
            Progress::Interrupted { force } => vec![lines::interrupted(p, *force)],
            // The session prints the stop itself, while this display is paused.
            Progress::Breakpoint { .. } | Progress::BreakpointEnded { .. } => Vec::new(),
            // What a controller writes to the object; the lines above already say it.
            Progress::RunStatus { .. } => Vec::new(),
            // The run's start and verdict are printed by `adze run` itself, a retry shows as
            // the task starting again, and results are in the final object: for scripts
            // (`--events json`), not for this transcript.
            Progress::RunStarted { .. }
            | Progress::RunFinished { .. }
            | Progress::TaskRetried { .. }
            | Progress::TaskResult { .. } => Vec::new(),
        }
    }

    /// The held output a finished task releases, with a note when some was dropped.
    fn released(&mut self, task: &str, done: &Finished) -> Vec<String> {
        let mut out = Vec::new();
        if done.dropped > 0 {
            let colour = self.tasks.colour(task);
            out.push(lines::dropped(self.paint, colour, task, done.dropped));
        }
        for line in &done.held {
            out.push(self.log_line(line));
        }
        out
    }
}

/// Writes the transcript of `events` to `out` until every sender is dropped.
pub(super) fn render(events: &Receiver<Progress>, options: RenderOptions, out: &mut dyn Write) {
    let mut transcript = Transcript::new(options);
    loop {
        match events.recv_timeout(PAUSE_POLL) {
            Ok(event) => write_event(&mut transcript, &event, out),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if super::pause::requested() {
            // What arrived before the terminal was taken is shown before it is.
            for event in events.try_iter() {
                write_event(&mut transcript, &event, out);
            }
            let _ = out.flush();
            super::pause::step_aside();
        }
    }
    let _ = out.flush();
}

/// Writes the lines of one event.
fn write_event(transcript: &mut Transcript, event: &Progress, out: &mut dyn Write) {
    let lines = transcript.lines(event, Instant::now());
    if lines.is_empty() {
        return;
    }
    let mut text = lines.join("\n");
    text.push('\n');
    // A closed stderr is no reason to stop reading: the run goes on either way.
    let _ = out.write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::progress::{LogMode, Mode};
    use crate::reconcile::{CancelCause, SkipReason};
    use crate::run::Stream;

    fn options(logs: LogMode) -> RenderOptions {
        RenderOptions {
            mode: Mode::Plain,
            logs,
            color: false,
        }
    }

    fn started(task: &str, steps: &[&str], finally: bool) -> Progress {
        Progress::TaskStarted {
            task: task.to_string(),
            task_run: format!("run-{task}"),
            finally,
            steps: steps.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn step(task: &str, step: &str) -> Progress {
        Progress::StepStarted {
            task_run: format!("run-{task}"),
            step: step.to_string(),
        }
    }

    fn exited(task: &str, step: &str, exit_code: i32) -> Progress {
        Progress::StepFinished {
            task_run: format!("run-{task}"),
            step: step.to_string(),
            exit_code,
            duration_ms: 0,
        }
    }

    fn log(task: &str, step: &str, stream: Stream, line: &str) -> Progress {
        Progress::Log {
            task_run: format!("run-{task}"),
            step: step.to_string(),
            stream,
            line: line.to_string(),
        }
    }

    fn finished(task: &str, state: PipelineTaskState, message: &str) -> Progress {
        Progress::TaskFinished {
            task: task.to_string(),
            task_run: format!("run-{task}"),
            state,
            message: message.to_string(),
        }
    }

    fn step_failed() -> PipelineTaskState {
        PipelineTaskState::Failed {
            reason: "StepFailed".to_string(),
            ignored: false,
        }
    }

    /// A run with a success, a failure, a skip, a finally task and the odd events around them;
    /// each event arrives 100ms after the previous one.
    fn run() -> Vec<Progress> {
        vec![
            Progress::Pull {
                image: "alpine:3.20".to_string(),
                status: "Pulling from library/alpine".to_string(),
                bytes: None,
            },
            Progress::Pull {
                image: "alpine:3.20".to_string(),
                status: "Downloading".to_string(),
                bytes: Some((1_024, 3_500_000)),
            },
            Progress::Pull {
                image: "alpine:3.20".to_string(),
                status: "Status: Downloaded newer image for alpine:3.20".to_string(),
                bytes: None,
            },
            started("build", &["fetch", "compile"], false),
            step("build", "fetch"),
            log("build", "fetch", Stream::Stdout, "fetched 3 files"),
            step("build", "compile"),
            log(
                "build",
                "compile",
                Stream::Stderr,
                "warning: unused variable",
            ),
            log("build", "compile", Stream::Stdout, "built\r"),
            finished("build", PipelineTaskState::Succeeded, ""),
            started("test", &["unit"], false),
            step("test", "unit"),
            log("test", "unit", Stream::Stdout, "running 2 tests"),
            log("test", "unit", Stream::Stderr, "assertion failed: 1 == 2"),
            exited("test", "unit", 1),
            Progress::Warning {
                task_run: Some("run-test".to_string()),
                message: "cannot read the results: not a directory".to_string(),
            },
            finished("test", step_failed(), "\"step-unit\" exited with code 1"),
            Progress::TaskSkipped {
                task: "deploy".to_string(),
                reason: SkipReason::WhenFalse,
            },
            started("cleanup", &["rm"], true),
            Progress::Interrupted { force: false },
            Progress::Interrupted { force: true },
            finished(
                "cleanup",
                PipelineTaskState::Cancelled {
                    cause: CancelCause::Cancelled,
                },
                "TaskRun cancelled as the PipelineRun it belongs to has been cancelled.",
            ),
        ]
    }

    fn transcript(events: &[Progress], logs: LogMode) -> String {
        let mut t = Transcript::new(options(logs));
        let start = Instant::now();
        let mut out = String::new();
        for (i, e) in events.iter().enumerate() {
            let now = start + Duration::from_millis(100 * i as u64);
            for line in t.lines(e, now) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn transcript_with_all_logs() {
        insta::assert_snapshot!("plain_logs_all", transcript(&run(), LogMode::All));
    }

    #[test]
    fn transcript_with_failed_logs_shows_only_the_failed_tasks_output() {
        let text = transcript(&run(), LogMode::Failed);
        insta::assert_snapshot!("plain_logs_failed", text);
        assert!(!text.contains("[build/"), "{text}");
        // The failed task's output comes right before its verdict.
        assert!(
            text.contains(
                "[test/unit] running 2 tests\n[test/unit] assertion failed: 1 == 2\n✗ test failed"
            ),
            "{text}"
        );
    }

    #[test]
    fn transcript_without_logs_has_no_output_lines() {
        let text = transcript(&run(), LogMode::None);
        assert!(!text.contains("/unit]"), "{text}");
        assert!(!text.contains("/compile]"), "{text}");
        assert!(
            text.contains("✗ test failed in 600ms: StepFailed"),
            "{text}"
        );
    }

    #[test]
    fn no_escape_codes_without_colour_even_from_steps() {
        let events = [log("x", "s", Stream::Stdout, "\u{1b}[1mbold\u{1b}[0m")];
        assert_eq!(transcript(&events, LogMode::All), "[run-x/s] bold\n");
    }

    #[test]
    fn colour_paints_marks_and_prefixes() {
        let mut t = Transcript::new(RenderOptions {
            color: true,
            ..options(LogMode::All)
        });
        let now = Instant::now();
        t.lines(&started("a", &["s"], false), now);
        let done = t.lines(&finished("a", PipelineTaskState::Succeeded, ""), now);
        assert!(done[0].starts_with("\u{1b}[32m✓\u{1b}[0m"), "{done:?}");
    }

    #[test]
    fn events_for_unknown_task_runs_use_the_task_run_name() {
        let events = [
            step("ghost", "s"),
            log("ghost", "s", Stream::Stdout, "boo"),
            exited("ghost", "s", 2),
            Progress::Warning {
                task_run: Some("run-nobody".to_string()),
                message: "odd".to_string(),
            },
            Progress::Warning {
                task_run: None,
                message: "global".to_string(),
            },
            finished("ghost", step_failed(), ""),
            finished("never", PipelineTaskState::NotStarted, ""),
        ];
        insta::assert_snapshot!("plain_unknown", transcript(&events, LogMode::All));
    }

    #[test]
    fn a_bare_task_run_is_its_own_task() {
        let events = [
            Progress::TaskStarted {
                task: "hello-run".to_string(),
                task_run: "hello-run".to_string(),
                finally: false,
                steps: vec!["echo".to_string()],
            },
            Progress::Log {
                task_run: "hello-run".to_string(),
                step: "echo".to_string(),
                stream: Stream::Stdout,
                line: "hello".to_string(),
            },
            Progress::TaskFinished {
                task: "hello-run".to_string(),
                task_run: "hello-run".to_string(),
                state: PipelineTaskState::Succeeded,
                message: String::new(),
            },
        ];
        assert_eq!(
            transcript(&events, LogMode::All),
            "▸ hello-run started (1 step)\n[hello-run/echo] hello\n✓ hello-run succeeded in 200ms\n"
        );
    }

    #[test]
    fn render_writes_every_line_until_the_channel_closes() {
        let (sink, events) = crate::run::ProgressSink::channel();
        sink.send(started("a", &[], false));
        sink.send(finished("a", PipelineTaskState::Succeeded, ""));
        drop(sink);
        let mut out = Vec::new();
        render(&events, options(LogMode::All), &mut out);
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(
            text.starts_with("▸ a started (0 steps)\n✓ a succeeded in "),
            "{text}"
        );
        assert_eq!(text.lines().count(), 2);
    }
}
