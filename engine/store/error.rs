//! What can go wrong with the store.

use std::path::PathBuf;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's directory could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("cannot {what} the store {path}: {source}\n  help: is another `adze serve` using it, or is the file damaged? Move it aside to start a new history")]
    Open {
        /// The file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// Why.
        source: rusqlite::Error,
    },
    /// The file was written by a newer adze.
    #[error("the store {path} has schema version {found}; this adze knows up to {known}\n  help: use the adze that wrote it, or point --store at a new file")]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The newest this adze writes.
        known: i64,
    },
    /// A query failed.
    #[error("store: cannot {what}: {source}")]
    Sql {
        /// What was being done.
        what: &'static str,
        /// Why.
        source: rusqlite::Error,
    },
    /// A transaction holding several callers' writes failed; each caller gets this.
    #[error("store: cannot {what}: {message}")]
    Group {
        /// What was being done.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// A run with that name is already recorded.
    #[error("a run named {0} is already recorded")]
    DuplicateRun(String),
    /// The event to record outcomes for is not in the store.
    #[error("event {0} is not in the store")]
    UnknownEvent(String),
    /// The writer thread is gone (it only stops when the process does).
    #[error("the store's writer has stopped")]
    WriterGone,
    /// The writer answered with the wrong kind of reply (a bug).
    #[error("the store's writer answered {0}")]
    Unexpected(String),
}

impl StoreError {
    pub(super) fn open(path: &std::path::Path, what: &'static str, e: rusqlite::Error) -> Self {
        StoreError::Open {
            path: path.to_path_buf(),
            what,
            source: e,
        }
    }

    pub(super) fn unexpected(reply: impl std::fmt::Debug) -> Self {
        StoreError::Unexpected(format!("{reply:?}"))
    }
}
