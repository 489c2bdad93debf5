//! The recorder on its own thread, fed a copy of every progress event.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use super::recorder::{now_ms, Recorder, RunEnd};
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

    /// Passes `events` on through the returned receiver, giving the recorder a copy of each
    /// first. The copy is taken before the event goes on, so once the returned receiver is
    /// closed and drained, the recorder has every event.
    pub fn tap(&self, events: Receiver<Progress>) -> Receiver<Progress> {
        let (forward, out) = mpsc::channel();
        let copies = self.sender.clone();
        let spawned = std::thread::Builder::new()
            .name("adze-history-tap".into())
            .spawn(move || {
                for event in events {
                    if let Some(copies) = &copies {
                        let _ = copies.send(Message::Event(event.clone(), now_ms()));
                    }
                    if forward.send(event).is_err() {
                        break;
                    }
                }
            });
        // Without the thread the closure (and `events`) is gone: senders see a closed
        // channel and the renderer draws nothing rather than hang, as when it cannot start.
        drop(spawned);
        out
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
