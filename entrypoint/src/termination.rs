//! The termination message: a JSON array of `{"key","value","type"}` entries that the kubelet
//! (or adze's Docker executor) reads back as the step's outcome and results.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Kubernetes' limit on one container's termination message, which Tekton enforces itself.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// What an entry is (Tekton's `ResultType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    /// A task result (`/tekton/results/<name>`).
    TaskResult = 1,
    /// Tekton's own bookkeeping: `StartedAt`, `ExitCode`, `Reason`.
    Internal = 3,
    /// A step result (`<step dir>/results/<name>`).
    StepResult = 4,
    /// The step's `provenance.json` (`<step dir>/artifacts/`).
    StepArtifacts = 5,
    /// The Task's `provenance.json` (`/tekton/artifacts/`).
    TaskRunArtifacts = 6,
}

/// One `{"key","value","type"}` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Result or bookkeeping name.
    pub key: String,
    /// The value, verbatim.
    pub value: String,
    /// What kind of entry it is.
    pub kind: EntryType,
}

impl Entry {
    /// An internal entry (`StartedAt`, `ExitCode`, `Reason`).
    pub fn internal(key: &str, value: impl Into<String>) -> Self {
        Entry {
            key: key.to_string(),
            value: value.into(),
            kind: EntryType::Internal,
        }
    }
}

/// Why the termination message could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The message would exceed [`MAX_MESSAGE_BYTES`]; the text is Tekton's, word for word.
    #[error("Termination message is above max allowed size 4096, caused by large task result.")]
    TooLarge,
    /// The file exists but is not a JSON array of entries (another writer's format?).
    #[error("existing termination message {path} is not a JSON array of entries: {source}; remove it or point -termination_path elsewhere")]
    Corrupt {
        /// The message file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// Reading or writing the file failed.
    #[error("cannot write termination message {path}: {source}; check that the directory exists and is writable")]
    Io {
        /// The message file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// Read the named result files that exist under `dir`, in the order given, values verbatim.
pub fn read_results(dir: &Path, names: &[String], kind: EntryType) -> Vec<Entry> {
    names
        .iter()
        .filter_map(|name| {
            // A result the step never wrote is not an error (§4.5); unreadable bytes are kept lossily.
            let bytes = fs::read(dir.join(name)).ok()?;
            Some(Entry {
                key: name.clone(),
                value: String::from_utf8_lossy(&bytes).into_owned(),
                kind,
            })
        })
        .collect()
}

/// Append `entries` to the message at `path` (later writes append, §4.3) and write it back,
/// unless the result would exceed [`MAX_MESSAGE_BYTES`], in which case the file is left as it was.
pub fn append(path: &Path, entries: &[Entry]) -> Result<(), MessageError> {
    let io_error = |source| MessageError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut array = match fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Vec::new(),
        Ok(bytes) => {
            serde_json::from_slice::<Vec<serde_json::Value>>(&bytes).map_err(|source| {
                MessageError::Corrupt {
                    path: path.to_path_buf(),
                    source,
                }
            })?
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(io_error(error)),
    };
    array.extend(entries.iter().map(|entry| {
        serde_json::json!({ "key": entry.key, "value": entry.value, "type": entry.kind as u8 })
    }));
    let text = serde_json::Value::Array(array).to_string();
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(MessageError::TooLarge);
    }
    fs::write(path, text).map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_to_an_existing_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("termination");
        append(
            &path,
            &[Entry::internal("StartedAt", "2024-01-01T00:00:00.000Z")],
        )
        .unwrap();
        let result = Entry {
            key: "digest".into(),
            value: "abc\n".into(),
            kind: EntryType::TaskResult,
        };
        append(&path, &[result]).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            r#"[{"key":"StartedAt","value":"2024-01-01T00:00:00.000Z","type":3},{"key":"digest","value":"abc\n","type":1}]"#
        );
    }

    #[test]
    fn refuses_more_than_4096_bytes_and_keeps_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("termination");
        append(&path, &[Entry::internal("StartedAt", "t")]).unwrap();
        let before = fs::read_to_string(&path).unwrap();
        let big = Entry {
            key: "big".into(),
            value: "x".repeat(4096),
            kind: EntryType::TaskResult,
        };
        let error = append(&path, &[big]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Termination message is above max allowed size 4096, caused by large task result."
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn reads_only_results_that_exist_in_declared_order() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b"), "2").unwrap();
        fs::write(dir.path().join("a"), "1").unwrap();
        let names = ["a".to_string(), "missing".to_string(), "b".to_string()];
        let entries = read_results(dir.path(), &names, EntryType::StepResult);
        let keys: Vec<_> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(keys, [("a", "1"), ("b", "2")]);
        assert!(entries.iter().all(|e| e.kind == EntryType::StepResult));
    }

    #[test]
    fn a_foreign_message_is_an_error_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("termination");
        fs::write(&path, "not json").unwrap();
        assert!(matches!(
            append(&path, &[]),
            Err(MessageError::Corrupt { .. })
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), "not json");
    }
}
