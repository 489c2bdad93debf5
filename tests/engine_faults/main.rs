//! `adze run` when the container engine fails under it: the real binary against a Docker
//! engine of the test's own, stopped, restarted or killed mid-run.
//!
//! Each test starts its own [`PrivateEngine`] (containerd + dockerd in a network namespace
//! of their own), so the tests run side by side and the shared daemon is never touched.
//! They need root and util-linux (`unshare`, `nsenter`); without them each test prints a loud
//! `SKIPPED` line with the reason and passes. CI runs as root, so they run there.

mod engine_lost;
mod private_engine;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

pub use private_engine::PrivateEngine;

/// The label adze puts on every container it creates (value: the TaskRun's name).
pub const RUN_LABEL: &str = "adze.dev/run";

/// A working directory holding one `run.yaml`, images replaced by the test image.
pub fn workdir(yaml: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("run.yaml"),
        yaml.replace("IMAGE", private_engine::BUSYBOX),
    )
    .expect("write run.yaml");
    dir
}

/// `adze run run.yaml -o json --pull never` against `engine`, plus `args`, started.
pub fn start_adze(engine: &PrivateEngine, dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_adze"))
        .current_dir(dir)
        .args(["run", "run.yaml", "-o", "json", "--pull", "never"])
        .args(args)
        .env("DOCKER_HOST", engine.host())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("adze runs")
}

/// Waits until `adze` runs a container carrying `label` on `engine`; fails at once, with what
/// adze printed, if adze ends first.
pub fn wait_step(engine: &PrivateEngine, adze: &mut Child, label: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while !engine
        .containers(label, true)
        .iter()
        .any(|id| engine.runs_its_command(id))
    {
        if let Ok(Some(status)) = adze.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = adze.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("adze ended ({status}) before a container labelled {label} ran:\n{stderr}");
        }
        assert!(
            Instant::now() < until,
            "no container labelled {label} ran within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until no container labelled `label` is left on `engine`, running or not.
pub fn wait_gone(engine: &PrivateEngine, label: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    while !engine.containers(label, false).is_empty() {
        assert!(
            Instant::now() < until,
            "a container labelled {label} is still there after 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A container of the test's own on the shared daemon, showing that stopping a private
/// engine never reaches the shared one (its containers, its `docker0`); removed on drop.
pub struct SharedSentinel {
    id: String,
}

impl SharedSentinel {
    /// Starts a sleeping container on the shared daemon.
    pub fn start() -> SharedSentinel {
        assert!(
            shared_bridge_exists(),
            "the shared daemon has no docker0 before the test"
        );
        let out = Command::new("docker")
            .env_remove("DOCKER_HOST")
            .args([
                "run",
                "-d",
                "--label",
                "adze.dev/engine-faults-sentinel=1",
                private_engine::BUSYBOX,
                "sleep",
                "600",
            ])
            .output()
            .expect("docker CLI runs");
        assert!(
            out.status.success(),
            "cannot start a sentinel on the shared daemon: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SharedSentinel {
            id: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        }
    }

    /// Fails unless the sentinel still runs and the shared `docker0` is still there.
    pub fn assert_untouched(&self) {
        let out = Command::new("docker")
            .env_remove("DOCKER_HOST")
            .args(["inspect", "-f", "{{.State.Running}}", &self.id])
            .output()
            .expect("docker CLI runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "true",
            "the shared daemon's container stopped when the private engine did"
        );
        assert!(
            shared_bridge_exists(),
            "the shared daemon's docker0 is gone"
        );
    }
}

impl Drop for SharedSentinel {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .env_remove("DOCKER_HOST")
            .args(["rm", "-f", &self.id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// True when the shared network namespace (ours) has the shared daemon's bridge.
fn shared_bridge_exists() -> bool {
    Path::new("/sys/class/net/docker0").exists()
}

/// What a finished `adze run` printed.
pub struct Ran {
    /// The exit status (-1 for a signal).
    pub status: i32,
    /// The final object, parsed.
    pub object: Value,
    /// Everything on stderr.
    pub stderr: String,
    /// How long it ran after [`finish`] was called.
    pub waited: Duration,
}

/// Waits for `child` (at most `timeout`) and collects what it printed.
pub fn finish(mut child: Child, timeout: Duration) -> Ran {
    let since = Instant::now();
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for adze") {
            break status;
        }
        if since.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            panic!("adze did not finish within {timeout:?}; stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let waited = since.elapsed();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let object = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not the final object ({e}):\n{stdout}\nstderr:\n{stderr}")
    });
    Ran {
        status: status.code().unwrap_or(-1),
        object,
        stderr,
        waited,
    }
}

/// The `Succeeded` condition's (reason, message) of a final object.
pub fn condition(object: &Value) -> (String, String) {
    let c = &object["status"]["conditions"][0];
    (
        c["reason"].as_str().unwrap_or_default().to_owned(),
        c["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// `status.steps[name].terminated` of a TaskRun object.
pub fn terminated<'v>(object: &'v Value, step: &str) -> &'v Value {
    let steps = object["status"]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no status.steps in {object:#}"));
    let entry = steps
        .iter()
        .find(|s| s["name"] == step)
        .unwrap_or_else(|| panic!("no step {step} in {object:#}"));
    &entry["terminated"]
}
