//! The bound on work waiting: events not processed yet plus runs not started yet.
//!
//! A request reserves its place *before* the event is written, so a full queue answers `503`
//! without accepting anything; the place is given back when the event is processed (its runs
//! take places of their own) or when the write fails.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts queued work against a capacity; shared by the handler and the workers.
#[derive(Debug)]
pub struct Queue {
    depth: AtomicUsize,
    capacity: usize,
}

impl Queue {
    /// An empty queue holding at most `capacity` items.
    pub fn new(capacity: usize) -> Queue {
        Queue {
            depth: AtomicUsize::new(0),
            capacity,
        }
    }

    /// Takes one place, or says the queue is full.
    pub fn try_reserve(&self) -> bool {
        self.depth
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| {
                (d < self.capacity).then_some(d + 1)
            })
            .is_ok()
    }

    /// Takes `n` places whatever the capacity: work already accepted (recovered at start,
    /// or runs of an accepted event) is never refused.
    pub fn force(&self, n: usize) {
        self.depth.fetch_add(n, Ordering::AcqRel);
    }

    /// Gives one place back.
    pub fn release(&self) {
        let _ = self
            .depth
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1));
    }

    /// Places taken.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Acquire)
    }

    /// The capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_stop_at_capacity_and_forced_work_goes_past_it() {
        let q = Queue::new(2);
        assert!(q.try_reserve() && q.try_reserve());
        assert!(!q.try_reserve());
        q.force(3);
        assert_eq!(q.depth(), 5);
        for _ in 0..10 {
            q.release();
        }
        assert_eq!(q.depth(), 0, "never below zero");
        assert!(q.try_reserve());
    }
}
