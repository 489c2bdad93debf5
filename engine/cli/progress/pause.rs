//! Taking the terminal from the progress display for a while: a breakpoint's shell owns it
//! until the session ends.
//!
//! # Design
//!
//! The terminal is one per process, so the gate is too (a static): the session asks for it
//! ([`take_terminal`]), the render thread notices between two batches, prints what it has
//! already received (so the failed step's last lines come before the stop), clears its
//! bars, says so, and waits; dropping the [`Terminal`] lets it draw again.
//!
//! # Invariants
//!
//! - [`take_terminal`] never waits more than [`ACK_LIMIT`]: without a render thread (or
//!   one stuck on a closed stderr) the session goes on anyway.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// How long [`take_terminal`] waits for the render thread to step aside.
pub(crate) const ACK_LIMIT: Duration = Duration::from_secs(2);

/// Who draws on the terminal now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The render thread.
    Drawing,
    /// Someone asked for the terminal; the render thread has not yet stepped aside.
    Requested,
    /// The render thread waits until the terminal is given back.
    Paused,
}

static STATE: Mutex<State> = Mutex::new(State::Drawing);
static CHANGED: Condvar = Condvar::new();

/// The terminal, taken from the progress display until dropped.
#[derive(Debug)]
pub(crate) struct Terminal(());

/// Asks the render thread to stop drawing and waits (at most [`ACK_LIMIT`]) until it has.
pub(crate) fn take_terminal() -> Terminal {
    let mut state = STATE.lock().unwrap_or_else(PoisonError::into_inner);
    *state = State::Requested;
    CHANGED.notify_all();
    drop(
        CHANGED
            .wait_timeout_while(state, ACK_LIMIT, |s| *s == State::Requested)
            .unwrap_or_else(PoisonError::into_inner),
    );
    Terminal(())
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let mut state = STATE.lock().unwrap_or_else(PoisonError::into_inner);
        *state = State::Drawing;
        CHANGED.notify_all();
    }
}

/// Whether someone asked for the terminal (checked by the render thread between batches).
pub(super) fn requested() -> bool {
    *STATE.lock().unwrap_or_else(PoisonError::into_inner) == State::Requested
}

/// Steps aside: tells the one asking that the terminal is theirs, and waits until it is
/// given back.
pub(super) fn step_aside() {
    let mut state = STATE.lock().unwrap_or_else(PoisonError::into_inner);
    if *state != State::Requested {
        return;
    }
    *state = State::Paused;
    CHANGED.notify_all();
    drop(
        CHANGED
            .wait_while(state, |s| *s == State::Paused)
            .unwrap_or_else(PoisonError::into_inner),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn the_renderer_waits_while_the_terminal_is_taken() {
        let resumed = Arc::new(AtomicBool::new(false));
        let seen = resumed.clone();
        let renderer = std::thread::spawn(move || {
            while !requested() {
                std::thread::sleep(Duration::from_millis(5));
            }
            step_aside();
            seen.store(true, Ordering::SeqCst);
        });
        let taken = take_terminal();
        assert_eq!(*STATE.lock().expect("state"), State::Paused);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!resumed.load(Ordering::SeqCst), "the renderer waits");
        drop(taken);
        renderer.join().expect("renderer");
        assert!(resumed.load(Ordering::SeqCst));
        assert!(!requested());
    }
}
