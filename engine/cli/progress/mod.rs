//! What `adze run` shows on stderr while a run runs, and the table it prints at the end.
//!
//! # Why
//!
//! The driver and the executors report [`Progress`] events into a channel and never wait on a
//! terminal; this module is one consumer of that channel ([`consumer`], handed every event by
//! [`crate::events::fan_out`], beside the `--events json` writer). It draws on its own
//! thread, only reads, and turns events into either live `indicatif` bars ([`Mode::Tty`]) or one plain line
//! per event ([`Mode::Plain`], for CI logs and integration tests that grep stderr).
//!
//! # Invariants
//!
//! - Nothing here panics on any event sequence: events may name TaskRuns never announced by
//!   `TaskStarted` (a bare TaskRun's task is its own name, and other senders than the local
//!   driver make no promise of order); such a TaskRun is shown under its own name.
//! - Plain output is a pure function of the events and the times they arrived
//!   ([`plain::Transcript`]), so its exact text is snapshot-tested.
//! - Both modes share the bookkeeping in [`tasks::Tasks`], so `--logs failed` buffers and
//!   releases the same lines whichever way they are drawn.

// The consumer, `cli/run.rs`, is written in parallel against this API; until it lands the
// public items look unused to the compiler.

mod duration;
mod lines;
mod palette;
pub(crate) mod pause;
mod plain;
mod summary;
mod tasks;
mod tty;

use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::{self, JoinHandle};

use crate::events::fan_out::Consumer;
use crate::run::Progress;

pub(crate) use summary::{summary_table, SummaryRow};

/// How progress is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Live `indicatif` bars on stderr, one line per task.
    Tty,
    /// One line per event on stderr, for when stderr is not a terminal.
    Plain,
}

/// Which step output is shown (`--logs none|failed|all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogMode {
    /// No step output.
    None,
    /// A TaskRun's output, held back and shown only if that task fails.
    Failed,
    /// Every line as it arrives.
    All,
}

/// How the renderer draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RenderOptions {
    /// Bars or plain lines.
    pub mode: Mode,
    /// Which step output to show.
    pub logs: LogMode,
    /// Whether to emit colour escape codes.
    pub color: bool,
}

/// The thread drawing progress; [`Renderer::finish`] waits for it.
#[derive(Debug)]
pub(crate) struct Renderer {
    thread: Option<JoinHandle<()>>,
}

/// Starts a thread that renders events from `events` until every sender is dropped.
pub(crate) fn spawn(events: Receiver<Progress>, options: RenderOptions) -> Renderer {
    let thread = thread::Builder::new()
        .name("adze-progress".to_string())
        .spawn(move || match options.mode {
            Mode::Plain => plain::render(&events, options, &mut std::io::stderr()),
            Mode::Tty => tty::render(&events, options, tty::Screen::stderr()),
        });
    // If the thread cannot start, the closure (and with it the receiver) is dropped, so
    // senders see a closed channel and drop events instead of queueing them forever.
    Renderer {
        thread: thread.ok(),
    }
}

/// The display as one consumer of the run's events: it forwards them to the render thread,
/// which draws at its own pace (the TTY bars tick between events).
#[derive(Debug)]
struct Display {
    sender: Option<Sender<Progress>>,
    renderer: Option<Renderer>,
}

impl Consumer for Display {
    fn event(&mut self, event: &Progress) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(event.clone());
        }
    }

    fn finish(&mut self) {
        self.sender = None;
        if let Some(renderer) = self.renderer.take() {
            renderer.finish();
        }
    }
}

/// The progress display as a [`Consumer`] of the run's events (see [`crate::events::fan_out`]).
pub(crate) fn consumer(options: RenderOptions) -> Box<dyn Consumer> {
    let (sender, events) = channel();
    Box::new(Display {
        sender: Some(sender),
        renderer: Some(spawn(events, options)),
    })
}

impl Renderer {
    /// Waits for the channel to close and the screen to be cleaned up (bars finished/cleared).
    ///
    /// Every [`ProgressSink`](crate::run::ProgressSink) must be dropped first, or this waits
    /// forever.
    pub(crate) fn finish(mut self) {
        if let Some(thread) = self.thread.take() {
            // A panic on the render thread has already been reported by the panic hook; the
            // run's outcome does not depend on it.
            let _ = thread.join();
        }
    }
}

/// The width of the terminal on stderr, or 80 columns when stderr is not one.
pub(crate) fn terminal_width() -> usize {
    console::Term::stderr()
        .size_checked()
        .map_or(80, |(_, cols)| usize::from(cols))
}

/// A stored log line as the live output printed it, without colour: `[task/step] text`.
pub(crate) fn stored_log_line(task: &str, step: &str, stderr: bool, text: &str) -> String {
    let stream = if stderr {
        crate::run::Stream::Stderr
    } else {
        crate::run::Stream::Stdout
    };
    lines::log(palette::Paint { color: false }, 0, task, step, stream, text)
}
