//! Time as an input: the driver never reads the system clock directly, so tests control it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::reconcile::Timestamp;

/// Where the driver gets the time, and how it waits between passes.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Timestamp;
    /// Waits `duration` (or pretends to).
    fn sleep(&mut self, duration: Duration);
}

/// The system clock; `sleep` blocks the thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock that only moves when the driver sleeps, by exactly the time asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FakeClock {
    /// The time `now` returns.
    pub now: Timestamp,
}

impl FakeClock {
    /// A clock stopped at `now`.
    pub fn at(now: Timestamp) -> FakeClock {
        FakeClock { now }
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        self.now
    }

    fn sleep(&mut self, duration: Duration) {
        let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        self.now = Timestamp(self.now.0.saturating_add(ms));
    }
}
