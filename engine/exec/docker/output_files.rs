//! A step's `stdoutConfig.path` and `stderrConfig.path` (alpha): its output streams copied
//! into files, as Tekton's entrypoint tees them.
//!
//! # Design
//!
//! Tekton's entrypoint runs inside the step's container and writes the files there, as adze's
//! does when steps start at once (`steps_at_once`). One by one, adze has no program inside
//! the container, and the image may have no shell, so the executor writes
//! the files from the host: the container path is mapped through the container's bind mounts
//! to the host directory behind it, and the attached output stream is copied there as it
//! arrives. The file is created (with its parent directories, truncated) before the step
//! starts, and is complete when the step's container has exited, so later steps, and result
//! collection, see it as they would on a cluster.
//!
//! # Invariants
//!
//! - A path works when it lies in a writable mount every later reader shares: `/workspace`,
//!   a workspace, `/tekton/results`, the step's own `/tekton/steps/step-<name>`, `/tekton/home`
//!   or a Task volume. Anything else would only exist in the step's own filesystem, which no
//!   one else ever sees; adze says so in a warning and writes nothing.
//! - The same path for both streams opens one file, so the streams interleave in it as they
//!   arrived.
//!
//! # Not yet
//!
//! - A full disk while copying a stream into its file is a warning naming the file, not a
//!   fault of the host (`TaskRunReport::out_of_space`, exit 3) even when the file lies in the
//!   TaskRun's own directory: the copy runs beside the TaskRun's job, which does not see it.
//! - A relative path when the step sets no `workingDir` (it is relative to the image's
//!   working directory, which adze does not read): warned about, not written.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use bollard::models::Mount;

use crate::plan::model::StepPlan;
use crate::run::Stream;

/// The open files behind one step's output paths.
#[derive(Debug, Default)]
pub(super) struct OutputFiles {
    /// Open files with the container path they stand for (for messages).
    files: Vec<(String, File)>,
    /// Index into `files` that stdout goes to.
    stdout: Option<usize>,
    /// Index into `files` that stderr goes to.
    stderr: Option<usize>,
    /// Write failures already reported, so a full disk warns once per file.
    failed: Vec<usize>,
}

impl OutputFiles {
    /// Creates the files a step's `stdoutConfig`/`stderrConfig` name, given the container's
    /// mounts and working directory; returns them and a warning for each path it cannot
    /// write.
    pub fn open(
        plan: &StepPlan,
        mounts: &[Mount],
        working_dir: Option<&str>,
    ) -> (OutputFiles, Vec<String>) {
        let mut out = OutputFiles::default();
        let mut warnings = Vec::new();
        for (stream, path) in [("stdout", &plan.stdout_path), ("stderr", &plan.stderr_path)] {
            let Some(path) = path else { continue };
            let index = match out.files.iter().position(|(p, _)| p == path) {
                Some(i) => Some(i),
                None => match create(path, mounts, working_dir) {
                    Ok(file) => {
                        out.files.push((path.clone(), file));
                        Some(out.files.len() - 1)
                    }
                    Err(why) => {
                        warnings.push(format!(
                            "step \"{}\": {stream}Config.path \"{path}\" is not written: {why}",
                            plan.name
                        ));
                        None
                    }
                },
            };
            match stream {
                "stdout" => out.stdout = index,
                _ => out.stderr = index,
            }
        }
        (out, warnings)
    }

    /// True when no stream goes to a file.
    pub fn is_empty(&self) -> bool {
        self.stdout.is_none() && self.stderr.is_none()
    }

    /// Appends a chunk of `stream` to its file, if it has one; returns a warning the first
    /// time writing a file fails.
    pub fn write(&mut self, stream: Stream, bytes: &[u8]) -> Option<String> {
        let index = match stream {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        }?;
        let (path, file) = &mut self.files[index];
        match file.write_all(bytes) {
            Ok(()) => None,
            Err(_) if self.failed.contains(&index) => None,
            Err(e) => {
                let message = format!("cannot write the output file \"{path}\": {e}");
                self.failed.push(index);
                Some(message)
            }
        }
    }
}

/// Creates (truncating) the host file behind a container path; the error says why it cannot.
fn create(path: &str, mounts: &[Mount], working_dir: Option<&str>) -> Result<File, String> {
    let absolute = if path.starts_with('/') {
        path.to_owned()
    } else {
        match working_dir {
            Some(dir) => format!("{}/{path}", dir.trim_end_matches('/')),
            None => {
                return Err(
                    "a relative path needs the step's `workingDir`; use an absolute \
                     path such as $(results.NAME.path) or /workspace/FILE"
                        .into(),
                )
            }
        }
    };
    let host = host_path(mounts, &absolute)?;
    if let Some(parent) = host.parent() {
        create_dirs(parent).map_err(|e| format!("cannot create its directory: {e}"))?;
    }
    let file = File::create(&host).map_err(|e| format!("cannot create it: {e}"))?;
    // The host writes as its own user; the step (any uid) may read or rewrite the file.
    fs::set_permissions(&host, fs::Permissions::from_mode(0o666))
        .map_err(|e| format!("cannot make it writable: {e}"))?;
    Ok(file)
}

/// The host file behind a container path: through the deepest bind mount holding it.
fn host_path(mounts: &[Mount], path: &str) -> Result<PathBuf, String> {
    let path = Path::new(path);
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err("the path must not contain `..`".into());
    }
    let holding = mounts
        .iter()
        .filter_map(|m| {
            let target = Path::new(m.target.as_deref()?);
            let rest = path.strip_prefix(target).ok()?;
            Some((target.components().count(), m, rest))
        })
        .max_by_key(|(depth, _, _)| *depth);
    let Some((_, mount, rest)) = holding else {
        return Err(
            "it is not under a volume the TaskRun's containers share, so it would \
                    only exist inside the step's own container; write it under /workspace, \
                    a workspace, /tekton/results or a Task volume"
                .into(),
        );
    };
    if rest.as_os_str().is_empty() {
        return Err("it names a mounted directory, not a file".into());
    }
    if mount.read_only == Some(true) {
        return Err(format!(
            "it is under \"{}\", which the step mounts read-only",
            mount.target.as_deref().unwrap_or_default()
        ));
    }
    let source = mount
        .source
        .as_deref()
        .ok_or_else(|| "its volume has no host directory".to_owned())?;
    Ok(Path::new(source).join(rest))
}

/// Creates a directory and its missing parents, writable by any container user.
fn create_dirs(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    fs::create_dir(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o777))
}

#[cfg(test)]
mod tests {
    use super::super::container::bind;
    use super::*;

    fn plan(stdout: Option<&str>, stderr: Option<&str>) -> StepPlan {
        StepPlan {
            name: "build".into(),
            stdout_path: stdout.map(str::to_owned),
            stderr_path: stderr.map(str::to_owned),
            ..StepPlan::default()
        }
    }

    #[test]
    fn paths_map_through_the_deepest_mount() {
        let root = tempfile::tempdir().unwrap();
        let steps = root.path().join("steps");
        let own = root.path().join("own");
        let mounts = [
            bind(&steps, "/tekton/steps", true),
            bind(&own, "/tekton/steps/step-build", false),
        ];
        assert_eq!(
            host_path(&mounts, "/tekton/steps/step-build/results/r").unwrap(),
            own.join("results/r")
        );
        let err = host_path(&mounts, "/tekton/steps/step-other/results/r").unwrap_err();
        assert!(err.contains("read-only"), "{err}");
        let err = host_path(&mounts, "/tmp/out").unwrap_err();
        assert!(
            err.contains("only exist inside the step's own container"),
            "{err}"
        );
        let err = host_path(&mounts, "/tekton/steps/step-build/../x").unwrap_err();
        assert!(err.contains(".."), "{err}");
    }

    #[test]
    fn one_path_for_both_streams_interleaves_them_in_one_file() {
        let root = tempfile::tempdir().unwrap();
        let mounts = [bind(root.path(), "/workspace", false)];
        let both = "/workspace/logs/all.txt";
        let (mut files, warnings) = OutputFiles::open(&plan(Some(both), Some(both)), &mounts, None);
        assert!(warnings.is_empty(), "{warnings:?}");
        files.write(Stream::Stdout, b"out 1\n");
        files.write(Stream::Stderr, b"err 1\n");
        files.write(Stream::Stdout, b"out 2\n");
        drop(files);
        let text = fs::read_to_string(root.path().join("logs/all.txt")).unwrap();
        assert_eq!(text, "out 1\nerr 1\nout 2\n");
    }

    #[test]
    fn separate_paths_and_relative_paths_under_the_working_dir() {
        let root = tempfile::tempdir().unwrap();
        let mounts = [bind(root.path(), "/workspace", false)];
        let (mut files, warnings) = OutputFiles::open(
            &plan(Some("out.txt"), Some("/workspace/err.txt")),
            &mounts,
            Some("/workspace/src"),
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        files.write(Stream::Stdout, b"o");
        files.write(Stream::Stderr, b"e");
        drop(files);
        assert_eq!(
            fs::read_to_string(root.path().join("src/out.txt")).unwrap(),
            "o"
        );
        assert_eq!(
            fs::read_to_string(root.path().join("err.txt")).unwrap(),
            "e"
        );

        let (files, warnings) = OutputFiles::open(&plan(Some("out.txt"), None), &mounts, None);
        assert!(files.is_empty());
        assert!(
            warnings[0].contains("stdoutConfig.path \"out.txt\""),
            "{warnings:?}"
        );
    }
}
