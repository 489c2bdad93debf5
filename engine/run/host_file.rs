//! Files adze writes on the host: its own state (`.adze/runs/*`) written whole or not at
//! all, files it hands to containers (scripts, exit codes, ConfigMap and Secret items) with
//! failures that name the file, a full disk told apart from other failures, and unusable
//! state files moved aside.
//!
//! # Design
//!
//! - [`write_atomic`] is for files adze reads back later: it writes a temporary file in the
//!   target's directory (the same filesystem, so the rename cannot copy), flushes it to the
//!   disk, renames it over the target and flushes the directory. A crash, a `kill -9` or a
//!   full disk at any point leaves the old file or the new one, never a mix.
//! - [`write()`] is for files handed to a container that reads them once, in a directory adze
//!   creates for the TaskRun: nobody reads an older version, so a failed write only has to
//!   be reported, naming the file.
//! - [`move_aside`] is what a reader does with a state file it cannot use: renamed to
//!   `<name>.corrupt-<unix seconds>` beside it, so the next write starts clean and the bad
//!   content stays for a bug report.
//!
//! # Invariants
//!
//! - Every failure is a [`FileError`] naming the file and the action; it keeps the
//!   [`io::ErrorKind`], so [`out_of_space`] recognises a full disk (or an exhausted quota) even
//!   after the error went through an [`io::Error`].
//! - A failed [`write_atomic`] removes its temporary file and leaves the target untouched.
//!
//! # Not yet
//!
//! - The temporary file of a process killed between its write and its rename
//!   (`.<name>.tmp-<pid>-<n>`) stays behind; nothing collects it.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinguishes the temporary files of concurrent writes by this process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file adze could not write, create or rename: which, what it was doing, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}{}", path.display(), hint(source))]
pub struct FileError {
    /// What adze was doing: `write`, `create the directory`, …
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The operating system's error.
    #[source]
    pub source: io::Error,
}

impl FileError {
    /// An error of `action` on `path`.
    pub fn new(action: &'static str, path: &Path, source: io::Error) -> FileError {
        FileError {
            action,
            path: path.to_owned(),
            source,
        }
    }

    /// True when the filesystem holding the file is full (or the user's quota is spent).
    pub fn out_of_space(&self) -> bool {
        out_of_space(&self.source)
    }
}

impl From<FileError> for io::Error {
    /// Keeps the kind, so [`out_of_space`] still recognises a full disk.
    fn from(e: FileError) -> io::Error {
        io::Error::new(e.source.kind(), e)
    }
}

/// True when `e` says the filesystem is full or the disk quota is spent (`ENOSPC`, `EDQUOT`).
pub fn out_of_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

fn hint(e: &io::Error) -> &'static str {
    if out_of_space(e) {
        " (the filesystem holding it is full: free space there and run again)"
    } else {
        ""
    }
}

/// Writes `bytes` to `path` (created or truncated); the error names the file.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), FileError> {
    fs::write(path, bytes).map_err(|e| FileError::new("write", path, e))
}

/// Replaces `path` with `bytes` atomically: readers see the old content or the new, never
/// a part; creates the parent directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_atomic_with(path, bytes, |_| Ok(()))
}

/// [`write_atomic`], calling `before_rename` with the temporary file once it is complete:
/// tests fail there to show an interrupted write leaves the old file.
fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce(&Path) -> io::Result<()>,
) -> Result<(), FileError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|e| FileError::new("create the directory", dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = write_synced(&tmp, bytes)
        .and_then(|()| before_rename(&tmp))
        .map_err(|e| FileError::new("write", path, e))
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| FileError::new("replace", path, e)));
    if let Err(e) = written {
        // Nothing else refers to it; a failure to remove it changes nothing for the caller.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // Without this the rename itself may not survive a power loss; the content is safe either
    // way, so a filesystem that cannot sync a directory is not an error.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates `path` with `bytes`, flushed to the disk before it returns.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Renames an unusable state file to `<name>.corrupt-<unix seconds>` beside it and returns
/// the new path.
pub fn move_aside(path: &Path) -> Result<PathBuf, FileError> {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".corrupt-{seconds}"));
    let aside = path.with_file_name(name);
    fs::rename(path, &aside).map_err(|e| FileError::new("move aside", path, e))?;
    Ok(aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("readable")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_atomic_write_creates_the_directory_and_replaces_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("runs/a.json");
        write_atomic(&file, b"one").expect("first write");
        write_atomic(&file, b"two").expect("second write");
        assert_eq!(fs::read_to_string(&file).expect("read"), "two");
        assert_eq!(entries(&dir.path().join("runs")), ["a.json"]);
    }

    #[test]
    fn an_interrupted_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.json");
        write_atomic(&file, b"old").expect("first write");
        let err = write_atomic_with(&file, b"new, longer content", |tmp| {
            assert_eq!(fs::read(tmp).expect("complete"), b"new, longer content");
            Err(io::Error::other("killed before the rename"))
        })
        .expect_err("interrupted");
        assert!(
            err.to_string().contains(&file.display().to_string()),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&file).expect("read"), "old");
        assert_eq!(entries(dir.path()), ["a.json"]);
    }

    #[test]
    fn a_full_disk_is_recognised_through_an_io_error_and_named_with_a_hint() {
        let path = Path::new("/state/.adze/runs/a.json");
        let full = FileError::new("write", path, io::Error::from_raw_os_error(28));
        assert!(full.out_of_space());
        let text = full.to_string();
        assert!(
            text.starts_with("cannot write /state/.adze/runs/a.json: "),
            "{text}"
        );
        assert!(text.contains("free space there"), "{text}");
        assert!(out_of_space(&io::Error::from(full)));
        let denied = FileError::new("write", path, io::Error::from_raw_os_error(13));
        assert!(!denied.out_of_space());
        assert!(!denied.to_string().contains("free space"), "{denied}");
    }

    #[test]
    fn a_file_moved_aside_keeps_its_content_under_a_corrupt_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.json");
        fs::write(&file, "{trunc").expect("write");
        let aside = move_aside(&file).expect("moved");
        assert!(!file.exists());
        let name = aside
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("a.json.corrupt-"), "{name}");
        assert_eq!(fs::read_to_string(&aside).expect("read"), "{trunc");
    }
}
