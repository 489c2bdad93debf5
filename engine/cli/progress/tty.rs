//! TTY mode: a live line per task under the scrolling output, drawn with `indicatif`.
//!
//! Everything happens on the render thread: events are applied in batches, lines meant for
//! the scrollback are collected and printed above the bars once per batch (a chatty step
//! then costs one redraw per batch, not one per line), and spinners are ticked from the same
//! loop instead of one ticker thread per bar.

use std::fmt;
use std::io::Write;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use console::measure_text_width;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::duration::format_duration;
use super::lines::{self, verdict, Verdict};
use super::palette::Paint;
use super::tasks::{LogLine, Tasks};
use super::RenderOptions;
use crate::reconcile::PipelineTaskState;
use crate::run::Progress;

/// How often spinners and elapsed times move.
const TICK: Duration = Duration::from_millis(100);
/// Events applied before the screen is redrawn.
const BATCH: usize = 512;
/// Spinner frames; the last is never shown, since a finished bar switches to its mark.
const SPINNER: [&str; 11] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "•"];

/// Where the bars are drawn and how many lines fit.
pub(super) struct Screen {
    target: ProgressDrawTarget,
    rows: usize,
}

impl Screen {
    /// The terminal on stderr.
    pub fn stderr() -> Screen {
        let rows = console::Term::stderr()
            .size_checked()
            .map_or(24, |(rows, _)| usize::from(rows));
        Screen {
            target: ProgressDrawTarget::stderr(),
            rows,
        }
    }
}

/// One task's line.
struct TaskBar {
    task: String,
    task_run: Option<String>,
    bar: ProgressBar,
    /// The plain finished line once the bar is frozen, printed if the bar must make room.
    frozen: Option<String>,
}

/// The bars and what is known about the run.
struct Board {
    multi: MultiProgress,
    paint: Paint,
    tasks: Tasks,
    bars: Vec<TaskBar>,
    pulls: Vec<(String, ProgressBar)>,
    /// Task names are padded to this width so the columns line up.
    name_width: usize,
    /// More bars than this and the oldest frozen ones move to the scrollback, so running
    /// tasks never fall below the bottom of the terminal.
    max_bars: usize,
    /// Lines for the scrollback, printed above the bars at the end of the batch.
    pending: Vec<String>,
    /// `Some(force)` once the run was interrupted.
    interrupt: Option<bool>,
}

/// Draws `events` on `screen` until every sender is dropped.
pub(super) fn render(events: &Receiver<Progress>, options: RenderOptions, screen: Screen) {
    let mut board = Board::new(options, screen);
    let mut last_tick = Instant::now();
    loop {
        if super::pause::requested() {
            // What arrived before the terminal was taken is shown before it is.
            for event in events.try_iter() {
                board.apply(&event, Instant::now());
            }
            board.flush();
            board.multi.suspend(super::pause::step_aside);
        }
        match events.recv_timeout(TICK) {
            Ok(event) => {
                board.apply(&event, Instant::now());
                for event in events.try_iter().take(BATCH) {
                    board.apply(&event, Instant::now());
                }
                board.flush();
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_tick.elapsed() >= TICK {
            board.tick();
            last_tick = Instant::now();
        }
    }
    board.close();
}

fn style(template: &str, ticks: &[String]) -> ProgressStyle {
    let ticks: Vec<&str> = ticks.iter().map(String::as_str).collect();
    // The templates are constants; should one ever be rejected, a bare spinner still works.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .tick_strings(&ticks)
}

impl Board {
    fn new(options: RenderOptions, screen: Screen) -> Board {
        Board {
            multi: MultiProgress::with_draw_target(screen.target),
            paint: Paint {
                color: options.color,
            },
            tasks: Tasks::new(options.logs),
            bars: Vec::new(),
            pulls: Vec::new(),
            name_width: 0,
            max_bars: screen.rows.saturating_sub(2).max(4),
            pending: Vec::new(),
            interrupt: None,
        }
    }

    fn running_style(&self) -> ProgressStyle {
        let p = self.paint;
        let ticks: Vec<String> = SPINNER.iter().map(|s| p.task(0, s)).collect();
        let elapsed = move |state: &ProgressState, w: &mut dyn fmt::Write| {
            let text = format!("[{:>6}]", format_duration(state.elapsed()));
            let _ = w.write_str(&p.dim(&text));
        };
        style("{spinner} {prefix} {elapsed_short} {msg}", &ticks).with_key("elapsed_short", elapsed)
    }

    fn frozen_style(&self, verdict: &Verdict) -> ProgressStyle {
        let glyph = verdict.mark.glyph(self.paint);
        style("{spinner} {prefix} {msg}", &[glyph.clone(), glyph])
    }

    fn pull_style(&self, bytes: bool) -> ProgressStyle {
        let ticks: Vec<String> = SPINNER.iter().map(|s| self.paint.dim(s)).collect();
        let template = if bytes {
            "{spinner} {prefix} [{bar:20}] {bytes}/{total_bytes} {msg}"
        } else {
            "{spinner} {prefix} {msg}"
        };
        style(template, &ticks)
    }

    /// The task's name in its colour, padded to the name column.
    fn padded(&mut self, task: &str) -> String {
        let colour = self.tasks.colour(task);
        let fill = self.name_width.saturating_sub(measure_text_width(task));
        format!("{}{}", self.paint.task(colour, task), " ".repeat(fill))
    }

    /// Widens the name column for `task`, re-padding every bar when it grows.
    fn fit_name(&mut self, task: &str) {
        let width = measure_text_width(task);
        if width <= self.name_width {
            return;
        }
        self.name_width = width;
        for i in 0..self.bars.len() {
            let task = self.bars[i].task.clone();
            let prefix = self.padded(&task);
            self.bars[i].bar.set_prefix(prefix);
        }
    }

    /// What a running task is doing: `running compile (2/3)`.
    fn running_message(&self, task_run: &str) -> String {
        let step = self.tasks.step_of(task_run);
        let state = match (self.interrupt, step) {
            (Some(true), _) => "killing",
            (Some(false), _) => "cancelling",
            (None, Some(_)) => "running",
            (None, None) => "starting",
        };
        match step {
            Some((step, position, count)) if count > 0 => {
                format!("{state} {step} ({position}/{count})")
            }
            Some((step, ..)) => format!("{state} {step}"),
            None => state.to_string(),
        }
    }

    /// The running bar of a TaskRun, or else of its task.
    fn running_bar(&self, task: &str, task_run: &str) -> Option<usize> {
        let running = |b: &&TaskBar| b.frozen.is_none();
        self.bars
            .iter()
            .position(|b| running(&b) && b.task_run.as_deref() == Some(task_run))
            .or_else(|| self.bars.iter().position(|b| running(&b) && b.task == task))
    }

    fn add_bar(&mut self, task: &str, task_run: Option<&str>) -> usize {
        self.fit_name(task);
        let prefix = self.padded(task);
        let bar = ProgressBar::no_length()
            .with_style(self.running_style())
            .with_prefix(prefix);
        let bar = self.multi.add(bar);
        self.bars.push(TaskBar {
            task: task.to_string(),
            task_run: task_run.map(str::to_string),
            bar,
            frozen: None,
        });
        self.make_room();
        self.bars.len() - 1
    }

    fn freeze(&mut self, index: usize, verdict: &Verdict, elapsed: Option<Duration>) {
        let style = self.frozen_style(verdict);
        let task = self.bars[index].task.clone();
        let colour = self.tasks.colour(&task);
        let name = self.paint.task(colour, &task);
        let bar = &mut self.bars[index];
        bar.frozen = Some(lines::finished(self.paint, &name, verdict, elapsed));
        bar.bar.set_style(style);
        bar.bar
            .finish_with_message(lines::verdict_text(verdict, elapsed));
    }

    /// Moves the oldest frozen bars to the scrollback while there are too many bars.
    fn make_room(&mut self) {
        while self.bars.len() + self.pulls.len() > self.max_bars {
            let Some(oldest) = self.bars.iter().position(|b| b.frozen.is_some()) else {
                return;
            };
            let bar = self.bars.remove(oldest);
            self.multi.remove(&bar.bar);
            self.pending.extend(bar.frozen);
        }
    }

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

    fn apply(&mut self, event: &Progress, now: Instant) {
        let p = self.paint;
        match event {
            Progress::TaskStarted {
                task,
                task_run,
                steps,
                ..
            } => {
                self.tasks.started(task, task_run, steps, now);
                let index = match self.running_bar(task, task_run) {
                    // A retry announces the task again: same line, clock restarted.
                    Some(i) => {
                        self.bars[i].task_run = Some(task_run.clone());
                        self.bars[i].bar.reset_elapsed();
                        i
                    }
                    None => self.add_bar(task, Some(task_run)),
                };
                let message = self.running_message(task_run);
                self.bars[index].bar.set_message(message);
            }
            Progress::StepStarted { task_run, step } => {
                self.tasks.step_started(task_run, step);
                let task = self.tasks.task_of(task_run).to_string();
                if let Some(i) = self.running_bar(&task, task_run) {
                    let message = self.running_message(task_run);
                    self.bars[i].bar.set_message(message);
                }
            }
            // The task's verdict says whether a step failed; a line per step exit is noise.
            Progress::StepFinished { .. } => {}
            Progress::Log {
                task_run,
                step,
                stream,
                line,
            } => {
                let line = LogLine::new(task_run, step, *stream, line);
                if let Some(shown) = self.tasks.log(line) {
                    let text = self.log_line(&shown);
                    self.pending.push(text);
                }
            }
            Progress::TaskFinished {
                task,
                task_run,
                state,
                ..
            } => {
                let done = self.tasks.finished(task, task_run, state, now);
                if done.dropped > 0 {
                    let colour = self.tasks.colour(task);
                    self.pending
                        .push(lines::dropped(p, colour, task, done.dropped));
                }
                for line in &done.held {
                    let text = self.log_line(line);
                    self.pending.push(text);
                }
                let index = match self.running_bar(task, task_run) {
                    Some(i) => i,
                    None => self.add_bar(task, Some(task_run)),
                };
                self.freeze(index, &verdict(state), done.elapsed);
                self.make_room();
            }
            Progress::TaskSkipped { task, reason } => {
                let index = self.add_bar(task, None);
                let state = PipelineTaskState::Skipped { reason: *reason };
                self.freeze(index, &verdict(&state), None);
                self.make_room();
            }
            Progress::Pull {
                image,
                status,
                bytes,
            } => self.pull(image, status, *bytes),
            Progress::Warning { task_run, message } => {
                let task = task_run.as_deref().map(|r| self.tasks.task_of(r));
                let line = lines::warning(p, task, message);
                self.pending.push(line);
            }
            Progress::Interrupted { force } => {
                self.pending.push(lines::interrupted(p, *force));
                self.interrupt = Some(*force);
                for i in 0..self.bars.len() {
                    if self.bars[i].frozen.is_some() {
                        continue;
                    }
                    let task_run = self.bars[i].task_run.clone().unwrap_or_default();
                    let message = self.running_message(&task_run);
                    self.bars[i].bar.set_message(message);
                }
            }
            // What a controller writes to the object; the bars already show it.
            Progress::RunStatus { .. } => {}
            // The session prints the stop itself, while the bars are paused.
            Progress::Breakpoint { .. } | Progress::BreakpointEnded { .. } => {}
            // The run's start and verdict are printed by `adze run` itself, a retry shows as
            // the task starting again, and results are in the final object: for scripts
            // (`--events json`), not for the bars.
            Progress::RunStarted { .. }
            | Progress::RunFinished { .. }
            | Progress::TaskRetried { .. }
            | Progress::TaskResult { .. } => {}
        }
    }

    fn pull(&mut self, image: &str, status: &str, bytes: Option<(u64, u64)>) {
        let index = match self.pulls.iter().position(|(i, _)| i == image) {
            Some(i) => i,
            None => {
                let bar = ProgressBar::no_length()
                    .with_style(self.pull_style(false))
                    .with_prefix(format!("pulling {image}"));
                self.pulls.push((image.to_string(), self.multi.add(bar)));
                self.make_room();
                self.pulls.len() - 1
            }
        };
        if let Some(done) = lines::pull_done(status) {
            let (_, bar) = self.pulls.remove(index);
            bar.finish_and_clear();
            self.multi.remove(&bar);
            self.pending.push(lines::pulled(self.paint, done));
            return;
        }
        let bar = &self.pulls[index].1;
        if let Some((done, total)) = bytes.filter(|(_, total)| *total > 0) {
            if bar.length().is_none() {
                bar.set_style(self.pull_style(true));
            }
            bar.set_length(total);
            bar.set_position(done.min(total));
        }
        bar.set_message(lines::one_line(status));
    }

    /// Prints the collected scrollback lines above the bars.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let text = self.pending.join("\n");
        self.pending.clear();
        if self.multi.is_hidden() {
            // indicatif prints nothing to a hidden target (stderr not a terminal after all);
            // the lines still belong on stderr.
            let _ = writeln!(std::io::stderr(), "{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }

    fn tick(&self) {
        for b in self.bars.iter().filter(|b| b.frozen.is_none()) {
            b.bar.tick();
        }
        for (_, bar) in &self.pulls {
            bar.tick();
        }
    }

    /// Leaves frozen lines on screen, clears pull bars, stops running ones where they are.
    fn close(mut self) {
        self.flush();
        for (_, bar) in self.pulls.drain(..) {
            bar.finish_and_clear();
        }
        for b in self.bars.iter().filter(|b| b.frozen.is_none()) {
            b.bar.abandon();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex, PoisonError};

    use indicatif::TermLike;

    use super::*;
    use crate::cli::progress::{LogMode, Mode};
    use crate::reconcile::SkipReason;
    use crate::run::{ProgressSink, Stream};

    /// A terminal that records what was written, ignoring cursor movement.
    #[derive(Debug, Clone, Default)]
    struct Recorder(Arc<Mutex<String>>);

    impl Recorder {
        fn text(&self) -> String {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }
        fn push(&self, s: &str) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_str(s);
        }
    }

    impl TermLike for Recorder {
        fn width(&self) -> u16 {
            100
        }
        fn height(&self) -> u16 {
            50
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.push(s);
            self.push("\n");
            Ok(())
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.push(s);
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    fn draw(events: Vec<Progress>, logs: LogMode, rows: usize) -> String {
        let recorder = Recorder::default();
        let screen = Screen {
            target: ProgressDrawTarget::term_like(Box::new(recorder.clone())),
            rows,
        };
        let (sink, receiver) = ProgressSink::channel();
        for e in events {
            sink.send(e);
        }
        drop(sink);
        let options = RenderOptions {
            mode: Mode::Tty,
            logs,
            color: false,
        };
        render(&receiver, options, screen);
        recorder.text()
    }

    fn started(task: &str) -> Progress {
        Progress::TaskStarted {
            task: task.to_string(),
            task_run: format!("run-{task}"),
            finally: false,
            steps: vec!["a".to_string(), "b".to_string()],
        }
    }

    fn finished(task: &str, state: PipelineTaskState) -> Progress {
        Progress::TaskFinished {
            task: task.to_string(),
            task_run: format!("run-{task}"),
            state,
            message: String::new(),
        }
    }

    fn log(task: &str, line: &str) -> Progress {
        Progress::Log {
            task_run: format!("run-{task}"),
            step: "b".to_string(),
            stream: Stream::Stdout,
            line: line.to_string(),
        }
    }

    #[test]
    fn bars_freeze_with_their_verdict_and_logs_print_above() {
        let failed = PipelineTaskState::Failed {
            reason: "StepFailed".to_string(),
            ignored: true,
        };
        let text = draw(
            vec![
                started("build"),
                Progress::StepStarted {
                    task_run: "run-build".to_string(),
                    step: "b".to_string(),
                },
                log("build", "compiling"),
                finished("build", PipelineTaskState::Succeeded),
                started("lint"),
                log("lint", "bad style"),
                finished("lint", failed),
                Progress::TaskSkipped {
                    task: "deploy".to_string(),
                    reason: SkipReason::WhenFalse,
                },
                Progress::Interrupted { force: false },
                Progress::Warning {
                    task_run: None,
                    message: "slow".to_string(),
                },
            ],
            LogMode::Failed,
            50,
        );
        assert!(!text.contains("compiling"), "{text}");
        assert!(text.contains("[lint/b] bad style"), "{text}");
        assert!(text.contains("✓ build  succeeded in "), "{text}");
        assert!(text.contains("✗ lint   failed (ignored) in "), "{text}");
        assert!(
            text.contains("⊘ deploy skipped: When Expressions evaluated to false"),
            "{text}"
        );
        assert!(
            text.contains("interrupt: cancelling (press Ctrl-C again to force)"),
            "{text}"
        );
        assert!(text.contains("warning: slow"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }

    #[test]
    fn running_bars_show_the_step_and_pulls_show_bytes() {
        let board_text = {
            let recorder = Recorder::default();
            let screen = Screen {
                target: ProgressDrawTarget::term_like(Box::new(recorder.clone())),
                rows: 50,
            };
            let options = RenderOptions {
                mode: Mode::Tty,
                logs: LogMode::All,
                color: false,
            };
            let mut board = Board::new(options, screen);
            let now = Instant::now();
            board.apply(&started("build"), now);
            board.apply(
                &Progress::StepStarted {
                    task_run: "run-build".to_string(),
                    step: "b".to_string(),
                },
                now,
            );
            board.apply(
                &Progress::Pull {
                    image: "alpine".to_string(),
                    status: "Downloading".to_string(),
                    bytes: Some((512, 2048)),
                },
                now,
            );
            board.tick();
            let text = recorder.text();
            board.close();
            text
        };
        assert!(board_text.contains("running b (2/2)"), "{board_text}");
        assert!(board_text.contains("pulling alpine"), "{board_text}");
        assert!(board_text.contains("512 B/2.00 KiB"), "{board_text}");
    }

    #[test]
    fn old_frozen_bars_move_to_the_scrollback_when_the_screen_is_full() {
        let mut events = Vec::new();
        for i in 0..10 {
            let task = format!("t{i}");
            events.push(started(&task));
            events.push(finished(&task, PipelineTaskState::Succeeded));
        }
        let board = {
            let screen = Screen {
                target: ProgressDrawTarget::hidden(),
                rows: 6,
            };
            let options = RenderOptions {
                mode: Mode::Tty,
                logs: LogMode::All,
                color: false,
            };
            let mut board = Board::new(options, screen);
            for e in &events {
                board.apply(e, Instant::now());
            }
            board
        };
        assert_eq!(board.bars.len(), 4);
        assert_eq!(board.bars[0].task, "t6");
        assert_eq!(board.pending.len(), 6);
        assert!(board.pending[0].starts_with("✓ t0 succeeded in "));
    }

    #[test]
    fn odd_event_sequences_do_not_panic() {
        let events = vec![
            Progress::StepStarted {
                task_run: "ghost".to_string(),
                step: "s".to_string(),
            },
            log("ghost", "boo"),
            finished("never-started", PipelineTaskState::NotStarted),
            finished("never-started", PipelineTaskState::Succeeded),
            Progress::StepFinished {
                task_run: "nobody".to_string(),
                step: "s".to_string(),
                exit_code: -1,
                duration_ms: 0,
            },
            started("again"),
            started("again"),
            Progress::Pull {
                image: "x".to_string(),
                status: "Status: done".to_string(),
                bytes: Some((10, 0)),
            },
            Progress::Pull {
                image: "y".to_string(),
                status: "Downloading".to_string(),
                bytes: Some((u64::MAX, 1)),
            },
            Progress::Interrupted { force: true },
            Progress::Warning {
                task_run: Some("ghost".to_string()),
                message: "line\nbreak".to_string(),
            },
        ];
        let text = draw(events, LogMode::All, 0);
        assert!(text.contains("[run-ghost/b] boo"), "{text}");
        assert!(text.contains("interrupt: killing containers"), "{text}");
        assert!(text.contains("warning: [ghost] line break"), "{text}");
    }
}
