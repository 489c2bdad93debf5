//! The history of local runs: every `adze run` is recorded in the store `adze serve` uses
//! (its object, state, final status object, per-step logs and events), so `adze runs`,
//! `adze logs` and `adze show` can look back at it.
//!
//! # Design
//!
//! - [`Recorder`] is one more consumer of the run's [`Progress`](crate::run::Progress)
//!   events in the run's fan-out ([`crate::events::fan_out`]), beside the display and the
//!   `--events` writer; [`RecorderThread`] runs it on its own thread, fed by
//!   [`RecorderThread::consumer`].
//! - Lines and events are buffered and written in batches (each batch one transaction) at
//!   most a second apart, as the store commits with `fsync`.
//! - One file for local and served runs: `.adze/history.db` in the working directory, or
//!   `.adze/serve.db` when only that one exists (where `adze serve` wrote before local runs
//!   were recorded) — see [`store_path`].
//! - Retention runs after each recording: the local runs beyond `--keep-runs` newest are
//!   deleted with their logs and events; 0 keeps everything, like `--parallel 0`.
//!
//! # Invariants
//!
//! - Recording never fails or slows the run: a store that cannot be opened or written is
//!   one warning after the run, and the run's outcome and exit status are unchanged.
//! - Nothing is stored unmasked: events arrive masked from the run's sink, and the recorder
//!   masks what else it writes (the object, params, status) with the same
//!   [`Masker`](crate::mask::Masker). The raw command line is never stored (`--mask` and
//!   `--secret` values are on it), only the file names, `-p` params and executor.
//! - Events are stored exactly as `adze run --events json` writes them (the
//!   [`crate::events`] schema, translated by the same [`Translator`](crate::events::Translator)).
//!
//! - A run whose adze was killed (SIGKILL, power loss) cannot record its end: each run
//!   stores its adze process's identity, and whoever opens the history next records such
//!   a run as `interrupted` ([`interrupted`]). Its lines and events up to the last batch
//!   are kept.
//!
//! # Not yet
//!
//! - The task states and graph the dashboard shows for served runs are not recorded for
//!   local runs (the events hold the same facts).

pub mod interrupted;
mod recorder;
mod thread;

pub use recorder::{now_ms, Recorder, RunEnd};
pub use thread::{HistoryFeed, RecorderThread};

use std::path::{Path, PathBuf};

/// The history file, relative to the working directory.
pub const DEFAULT_STORE: &str = ".adze/history.db";

/// Where `adze serve` kept its store before local runs were recorded; still used when it
/// is the only one there, so served and local runs stay in one file.
pub const LEGACY_STORE: &str = ".adze/serve.db";

/// The store to use under `base` when none is named: [`DEFAULT_STORE`], or [`LEGACY_STORE`]
/// when only that one exists.
pub fn store_path(base: &Path) -> PathBuf {
    let current = base.join(DEFAULT_STORE);
    let legacy = base.join(LEGACY_STORE);
    if !current.exists() && legacy.exists() {
        legacy
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legacy_store_is_used_only_when_it_is_the_only_one() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        assert_eq!(store_path(base), base.join(DEFAULT_STORE));
        std::fs::create_dir_all(base.join(".adze")).unwrap();
        std::fs::write(base.join(LEGACY_STORE), b"").unwrap();
        assert_eq!(store_path(base), base.join(LEGACY_STORE));
        std::fs::write(base.join(DEFAULT_STORE), b"").unwrap();
        assert_eq!(store_path(base), base.join(DEFAULT_STORE));
    }
}
