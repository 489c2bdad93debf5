//! The recorder on its own thread, fed a copy of every progress event.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use super::recorder::{now_ms, Recorder, RunEnd};
use crate::events::fan_out::Consumer;
use crate::run::Progress;
use crate::store::NewLocalRun;

enum Message {
    Begin(NewLocalRun),
    Event(Progress, i64),
    End(Option<RunEnd>),
}

/// A [`Recorder`] on its own thread: a slow or failing store never slows the run, and the
/// renderer never waits for a write.
pub struct RecorderThread {
    sender: Option<Sender<Message>>,
    thread: Option<JoinHandle<Option<String>>>,
}

impl RecorderThread {
    /// Starts the thread; the store is opened on it.
    pub fn spawn(open: impl FnOnce() -> Recorder + Send + 'static) -> RecorderThread {
        let (sender, messages) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("adze-history".into())
            .spawn(move || record(open(), &messages))
            .ok();
        RecorderThread {
            sender: Some(sender),
            thread,
        }
    }

    /// The recorder's place in the run's fan-out: each event is handed to it in the order
    /// the display sees them. Once the fan-out has finished, the recorder has every event.
    pub fn consumer(&self) -> HistoryFeed {
        HistoryFeed {
            sender: self.sender.clone(),
        }
    }

    /// Records the run's row.
    pub fn begin(&self, run: NewLocalRun) {
        self.send(Message::Begin(run));
    }

    /// Records the end, waits for the writes and prints the warning, if any. Call after the
    /// progress channel is closed and the renderer is done.
    pub fn finish(mut self, end: Option<RunEnd>) {
        self.end(end);
    }

    fn send(&self, message: Message) {
        if let Some(s) = &self.sender {
            let _ = s.send(message);
        }
    }

    fn end(&mut self, end: Option<RunEnd>) {
        self.send(Message::End(end));
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            if let Ok(Some(warning)) = thread.join() {
                eprintln!("warning: {warning}");
            }
        }
    }
}

/// A copy of each event of the run, for the [`RecorderThread`] (see
/// [`RecorderThread::consumer`]).
pub struct HistoryFeed {
    sender: Option<Sender<Message>>,
}

impl Consumer for HistoryFeed {
    fn event(&mut self, event: &Progress) {
        if let Some(s) = &self.sender {
            let _ = s.send(Message::Event(event.clone(), now_ms()));
        }
    }

    fn finish(&mut self) {
        // The end is sent by `RecorderThread::finish`, after the fan-out is done.
        self.sender = None;
    }
}

impl Drop for RecorderThread {
    /// A run that returns without a recorded end (an error before its status) is recorded
    /// as failed.
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.end(None);
        }
    }
}

fn record(mut recorder: Recorder, messages: &Receiver<Message>) -> Option<String> {
    for message in messages {
        match message {
            Message::Begin(run) => recorder.begin(run),
            Message::Event(event, at) => recorder.event(&event, at),
            Message::End(end) => return recorder.finish(end),
        }
    }
    recorder.finish(None)
}
