//! Requests to stop a run from outside the loop: Ctrl-C and SIGTERM, counted, and (for
//! `adze controller`) the run object's `spec.status` as it changes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A shared counter of stop requests: the first asks for a graceful cancel, the second for
/// an immediate one. Cloning shares the counter and the latest `spec.status`.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    count: AtomicUsize,
    /// The run object's `spec.status` as last seen, once someone has set it.
    spec_status: Mutex<Option<Option<String>>>,
    /// The run object's `spec.statusMessage` as last seen.
    status_message: Mutex<Option<String>>,
}

impl Interrupt {
    /// A counter at zero.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Records one more request and returns how many there were, this one included.
    pub fn trigger(&self) -> usize {
        self.0.count.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// How many requests were made.
    pub fn count(&self) -> usize {
        self.0.count.load(Ordering::SeqCst)
    }

    /// Records the run object's current `spec.status` (`None`: the field is absent), which
    /// replaces the one the run started with from the next pass on.
    pub fn set_spec_status(&self, status: Option<String>, message: Option<String>) {
        if let Ok(mut slot) = self.0.spec_status.lock() {
            *slot = Some(status);
        }
        if let Ok(mut slot) = self.0.status_message.lock() {
            *slot = message;
        }
    }

    /// The `spec.statusMessage` recorded with the last `spec.status`.
    pub fn status_message(&self) -> Option<String> {
        self.0.status_message.lock().ok().and_then(|s| s.clone())
    }

    /// The `spec.status` last recorded with [`Interrupt::set_spec_status`]; `None` when
    /// nobody recorded one.
    pub fn spec_status(&self) -> Option<Option<String>> {
        self.0.spec_status.lock().ok().and_then(|s| s.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_count_and_the_spec_status() {
        let interrupt = Interrupt::new();
        let seen = interrupt.clone();
        assert_eq!(seen.spec_status(), None);
        interrupt.set_spec_status(Some("Cancelled".into()), Some("by hand".into()));
        assert_eq!(interrupt.trigger(), 1);
        assert_eq!(seen.count(), 1);
        assert_eq!(seen.spec_status(), Some(Some("Cancelled".into())));
        assert_eq!(seen.status_message().as_deref(), Some("by hand"));
        interrupt.set_spec_status(None, None);
        assert_eq!(seen.spec_status(), Some(None));
    }
}
