//! The one reader of a run's progress channel, handing every event to each consumer in turn.
//!
//! # Design
//!
//! The driver and the executors send [`Progress`] into one channel
//! ([`ProgressSink`](crate::run::ProgressSink)); [`spawn`] starts the thread that reads it
//! and calls [`Consumer::event`] on every consumer, in the order they were given, then
//! [`Consumer::finish`] once the last sender is gone. The progress display is one consumer,
//! the JSON-lines writer another, the run history's recorder a third. Secrets are masked
//! before the channel (the sink masks each event as it is sent, see [`crate::mask`]), so no
//! consumer ever sees a raw value.
//!
//! # Invariants
//!
//! - Every consumer sees every event, in the order they were sent, and `finish` exactly
//!   once, after the last event.
//! - A consumer must not block for long: the next consumer waits for it. One that draws on a
//!   terminal at its own pace (the TTY display) forwards to its own thread instead.

use std::sync::mpsc::Receiver;
use std::thread::{self, JoinHandle};

use crate::run::Progress;

/// A reader of a run's events.
pub trait Consumer: Send {
    /// Takes one event.
    fn event(&mut self, event: &Progress);

    /// The run's senders are gone: flush and wait for anything still being written.
    fn finish(&mut self);
}

/// The thread reading the channel; [`FanOut::finish`] waits for it.
#[derive(Debug)]
pub struct FanOut {
    thread: Option<JoinHandle<()>>,
}

/// Starts a thread handing every event of `events` to each of `consumers`, until every sender
/// is dropped.
pub fn spawn(events: Receiver<Progress>, mut consumers: Vec<Box<dyn Consumer>>) -> FanOut {
    let thread = thread::Builder::new()
        .name("adze-events".to_owned())
        .spawn(move || {
            for event in events {
                for consumer in &mut consumers {
                    consumer.event(&event);
                }
            }
            for consumer in &mut consumers {
                consumer.finish();
            }
        });
    // If the thread cannot start, the receiver is dropped with the closure, so senders see a
    // closed channel and drop events instead of queueing them forever.
    FanOut {
        thread: thread.ok(),
    }
}

impl FanOut {
    /// Waits until every consumer has finished.
    ///
    /// Every [`ProgressSink`](crate::run::ProgressSink) must be dropped first, or this waits
    /// forever.
    pub fn finish(mut self) {
        if let Some(thread) = self.thread.take() {
            // A panicking consumer has been reported by the panic hook; the run's outcome
            // does not depend on it.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::run::ProgressSink;

    /// Writes what it sees into a shared log, under its own name.
    struct Recorder {
        name: &'static str,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Consumer for Recorder {
        fn event(&mut self, event: &Progress) {
            if let Progress::Warning { message, .. } = event {
                self.log
                    .lock()
                    .unwrap()
                    .push(format!("{} {message}", self.name));
            }
        }

        fn finish(&mut self) {
            self.log.lock().unwrap().push(format!("{} done", self.name));
        }
    }

    #[test]
    fn every_consumer_sees_every_event_in_order_then_finishes_once() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (sink, events) = ProgressSink::channel();
        let recorder = |name| -> Box<dyn Consumer> {
            Box::new(Recorder {
                name,
                log: log.clone(),
            })
        };
        let fan_out = spawn(events, vec![recorder("a"), recorder("b")]);
        for message in ["1", "2"] {
            sink.send(Progress::Warning {
                task_run: None,
                message: message.into(),
            });
        }
        drop(sink);
        fan_out.finish();
        assert_eq!(
            *log.lock().unwrap(),
            ["a 1", "b 1", "a 2", "b 2", "a done", "b done"]
        );
    }
}
