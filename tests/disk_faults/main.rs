//! Disk faults: a step that fills its workspace, adze's own files on a full filesystem, and
//! a corrupt last-run record. Each test runs the real `adze` against the real engine and
//! asserts on the exit status, the messages and the `-o json` status object.
//!
//! Full filesystems are small tmpfs mounts, so the tests that need one run only as root
//! (CI runs as root); otherwise they say loudly why they did nothing. Needs Docker and the
//! test images (`bash tests/setup-docker.sh`). Tests run concurrently; each names its runs
//! uniquely so their containers never collide.

#[path = "../common/mod.rs"]
mod common;

mod corrupt_state;
mod state_full;
mod workspace_full;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::require_docker;
use serde_json::Value;

/// Seconds one run may take before `timeout` interrupts it like Ctrl-C.
const LIMIT_SECONDS: &str = "120";

/// What one `adze run` printed.
pub struct Ran {
    /// The process's exit status.
    pub code: Option<i32>,
    /// The final object (`Value::Null` when stdout was not JSON).
    pub run: Value,
    /// Progress, logs, warnings and errors.
    pub stderr: String,
}

impl Ran {
    /// The `Succeeded` condition.
    pub fn condition(&self) -> &Value {
        &self.run["status"]["conditions"][0]
    }
}

/// Writes `yaml` to `run.yaml` in `dir` and runs `adze run run.yaml -o json --pull never`
/// there, with `extra` args and `env` set.
pub fn run_in(dir: &Path, yaml: &str, extra: &[&str], env: &[(&str, &Path)]) -> Ran {
    std::fs::write(dir.join("run.yaml"), yaml).expect("write run.yaml");
    run_file(dir, extra, env)
}

/// Runs `adze run run.yaml -o json --pull never` in `dir`, which holds `run.yaml`.
pub fn run_file(dir: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Ran {
    require_docker();
    let mut command = Command::new("timeout");
    command
        .args(["--signal=INT", "--kill-after=30", LIMIT_SECONDS])
        .arg(env!("CARGO_BIN_EXE_adze"))
        .args([
            "run", "run.yaml", "-o", "json", "--color", "never", "--pull", "never",
        ])
        .args(extra)
        .current_dir(dir)
        .env("NO_COLOR", "1");
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().expect("adze starts");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "adze panicked:\n{stderr}");
    Ran {
        code: out.status.code(),
        run: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr,
    }
}

/// A name no other test (or concurrent test process) uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", std::process::id())
}

/// True when running as root; otherwise prints why `test` does nothing.
pub fn root_or_skip(test: &str) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        eprintln!(
            "\n!!! SKIPPED {test}: mounting a small tmpfs needs root; run the tests as root \
             (CI does) to check disk-full handling !!!\n"
        );
    }
    root
}

/// A small tmpfs mounted on a fresh directory; unmounted and removed on drop.
pub struct Tmpfs {
    /// The mount point.
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs with `options` (as `mount -o` takes them, e.g. `size=2m`).
    pub fn mount(options: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("mount point");
        let path = dir.path().to_owned();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("{options},mode=1777"),
                "tmpfs",
            ])
            .arg(&path)
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mount -t tmpfs on {} failed",
            path.display()
        );
        Tmpfs { path, _dir: dir }
    }

    /// Fills what space is left with one file, so the next write fails with ENOSPC.
    pub fn fill(&self) {
        let out = Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", self.path.join("filler").display()))
            .arg("bs=64k")
            .output()
            .expect("dd runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("No space left on device"),
            "dd did not fill {}: {stderr}",
            self.path.display()
        );
    }
}

impl Tmpfs {
    /// Creates empty files until no inode is left, so the next `mkdir` fails with ENOSPC
    /// (as it does on a full ext4 or xfs, where a directory needs a block).
    pub fn exhaust_inodes(&self) {
        for i in 0.. {
            if let Err(e) = std::fs::write(self.path.join(format!("inode-{i}")), "") {
                assert_eq!(e.raw_os_error(), Some(28), "not ENOSPC: {e}");
                return;
            }
            assert!(i < 10_000, "{} has no inode limit", self.path.display());
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a container still holding a bind mount of it must not leave it mounted.
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}
