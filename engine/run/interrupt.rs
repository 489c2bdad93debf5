//! Requests to stop a run from outside the loop: Ctrl-C and SIGTERM, counted, (for
//! `adze controller`) the run object's `spec.status` as it changes, and (for breakpoints,
//! [`super::breakpoints`]) holding or halting the start of new tasks.

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
    /// Sessions at a breakpoint under way: no task starts meanwhile.
    held: AtomicUsize,
    /// Why nothing more may start, once a breakpoint ended the run.
    halted: Mutex<Option<String>>,
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

    /// Holds the start of new tasks (and retries) until [`Interrupt::release`]; holds nest.
    pub fn hold(&self) {
        self.0.held.fetch_add(1, Ordering::SeqCst);
    }

    /// Ends one [`Interrupt::hold`].
    pub fn release(&self) {
        let _ = self
            .0
            .held
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    /// Whether starts are held now.
    pub fn held(&self) -> bool {
        self.0.held.load(Ordering::SeqCst) > 0
    }

    /// From now on nothing more starts (no task, no finally, no retry), and the run ends
    /// failed with `why` as soon as nothing runs; the first reason stays.
    pub fn halt(&self, why: &str) {
        if let Ok(mut slot) = self.0.halted.lock() {
            slot.get_or_insert_with(|| why.to_owned());
        }
    }

    /// Why the run was halted, once it was.
    pub fn halted(&self) -> Option<String> {
        self.0.halted.lock().ok().and_then(|s| s.clone())
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

    #[test]
    fn holds_nest_and_the_first_halt_reason_stays() {
        let interrupt = Interrupt::new();
        let seen = interrupt.clone();
        interrupt.hold();
        interrupt.hold();
        interrupt.release();
        assert!(seen.held());
        interrupt.release();
        interrupt.release();
        assert!(!seen.held());
        assert_eq!(seen.halted(), None);
        interrupt.halt("first");
        interrupt.halt("second");
        assert_eq!(seen.halted().as_deref(), Some("first"));
    }
}
