//! Requests to stop a run from outside the loop (Ctrl-C, SIGTERM), counted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A shared counter of stop requests: the first asks for a graceful cancel, the second for
/// an immediate one. Cloning shares the counter.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicUsize>);

impl Interrupt {
    /// A counter at zero.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Records one more request and returns how many there were, this one included.
    pub fn trigger(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// How many requests were made.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}
