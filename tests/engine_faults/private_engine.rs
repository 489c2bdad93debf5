//! A Docker engine of the test's own, which the test may stop, kill and restart.
//!
//! The shared daemon (`/var/run/docker.sock`) runs every other test, so it is never touched.
//! Each [`PrivateEngine`] is a `containerd` and a `dockerd` of its own, in a network namespace
//! of its own (a second dockerd in the shared namespace would delete the first one's
//! `docker0` bridge), with its own sockets, data and exec roots, pid file and cgroup parent,
//! all under one short directory in `/tmp` (Unix socket paths are limited to 108 bytes).
//! Giving dockerd its own containerd (`--containerd`) keeps its containers out of the system
//! containerd that the shared daemon uses, so stopping this one can never touch them.
//!
//! The namespace is held by a `sleep` started with `unshare --net`; both daemons join it with
//! `nsenter`, so a restarted dockerd finds the same `docker0` and the containers that
//! `--live-restore` kept running. Dropping the engine removes its containers, stops both
//! daemons, kills whatever of it is left (shims, container processes in its cgroup), and
//! removes its directories and cgroups, also when the test panicked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The image every test runs, loaded from the shared daemon.
pub const BUSYBOX: &str = "adze-test/busybox:latest";

/// How long a daemon may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Distinguishes the engines of one test process.
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Why these tests cannot run here, if they cannot: they need root (daemons, namespaces)
/// and `unshare`/`nsenter` (util-linux).
pub fn unsupported() -> Option<String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if uid != "0" {
        return Some(format!(
            "not root (uid {uid}): a private dockerd and a network namespace need root"
        ));
    }
    for tool in ["unshare", "nsenter"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            return Some(format!("`{tool}` is missing (Debian package util-linux)"));
        }
    }
    None
}

/// Skips the calling test, loudly, when [`unsupported`] says so.
macro_rules! require_private_engine {
    () => {
        if let Some(why) = crate::private_engine::unsupported() {
            crate::private_engine::announce_skip(&why);
            return;
        }
    };
}

/// Prints why the current test is skipped, past the test harness's output capture (which
/// would hide it for a passing test).
pub fn announce_skip(why: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("engine_faults")
        .to_owned();
    let _ = writeln!(std::io::stderr(), "\n!!! SKIPPED {test}: {why} !!!\n");
}
pub(crate) use require_private_engine;

/// A containerd and a dockerd of the test's own; see the module documentation.
pub struct PrivateEngine {
    /// Everything of this engine lives here.
    dir: PathBuf,
    /// Started with `--live-restore`: containers outlive a daemon restart.
    live_restore: bool,
    /// The process holding the network namespace.
    holder: Child,
    containerd: Option<Child>,
    dockerd: Option<Child>,
}

impl PrivateEngine {
    /// Starts a fresh engine (with `--live-restore` if asked) and loads the test image.
    pub fn start(live_restore: bool) -> PrivateEngine {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = PathBuf::from(format!("/tmp/adze-ef-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the engine's directory");
        let holder = Command::new("unshare")
            .args(["--net", "--fork", "--kill-child", "sleep", "infinity"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare runs");
        wait_new_namespace(holder.id());
        let mut engine = PrivateEngine {
            dir,
            live_restore,
            holder,
            containerd: None,
            dockerd: None,
        };
        engine.start_containerd();
        engine.start_dockerd();
        engine.load_test_image();
        engine
    }

    /// Copies the test image from the shared daemon (read only: `docker save`).
    fn load_test_image(&self) {
        let archive = self.dir.join("busybox.tar");
        let saved = Command::new("docker")
            .env_remove("DOCKER_HOST")
            .args(["save", BUSYBOX, "-o"])
            .arg(&archive)
            .status()
            .expect("docker CLI runs");
        assert!(
            saved.success(),
            "cannot save {BUSYBOX} from the shared daemon: run `bash tests/setup-docker.sh`"
        );
        let loaded = self
            .docker()
            .args(["load", "-q", "-i"])
            .arg(&archive)
            .stdout(Stdio::null())
            .status()
            .expect("docker CLI runs");
        assert!(
            loaded.success(),
            "cannot load {BUSYBOX} into the private engine"
        );
    }

    /// `DOCKER_HOST` for this engine.
    pub fn host(&self) -> String {
        format!("unix://{}", self.dir.join("d.sock").display())
    }

    /// A `docker` command talking to this engine.
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new("docker");
        cmd.env("DOCKER_HOST", self.host());
        cmd
    }

    /// The ids of containers carrying `label` (`key` or `key=value`), running only if asked.
    pub fn containers(&self, label: &str, running_only: bool) -> Vec<String> {
        let mut cmd = self.docker();
        cmd.args(["ps", "-q", "--no-trunc", "--filter"])
            .arg(format!("label={label}"));
        if !running_only {
            cmd.arg("-a");
        }
        let out = cmd.output().expect("docker CLI runs");
        assert!(
            out.status.success(),
            "docker ps on the private engine failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    /// Whether step container `id` runs its step's command: steps started at once wait in
    /// the entrypoint (under the engine's init) until the previous step is done.
    pub fn runs_its_command(&self, id: &str) -> bool {
        let out = self
            .docker()
            .args(["top", id])
            .output()
            .expect("docker CLI runs");
        // A container that exited meanwhile has no processes to show.
        out.status.success()
            && String::from_utf8_lossy(&out.stdout)
                .lines()
                .skip(1)
                .any(|p| !p.contains("docker-init") && !p.contains("/tekton/bin/entrypoint"))
    }

    /// Stops dockerd with SIGTERM, as a package upgrade or `systemctl stop` does, and waits
    /// until it has exited. containerd (and with `--live-restore`, the containers) stay.
    pub fn stop_dockerd(&mut self) {
        let Some(mut dockerd) = self.dockerd.take() else {
            return;
        };
        signal(dockerd.id(), "TERM");
        if !wait_exit(&mut dockerd, Duration::from_secs(30)) {
            signal(dockerd.id(), "KILL");
            let _ = dockerd.wait();
            panic!("dockerd did not stop within 30 s of SIGTERM");
        }
    }

    /// Starts dockerd again with the same settings, and waits until it answers.
    pub fn restart_dockerd(&mut self) {
        self.restart_dockerd_after(Duration::ZERO);
    }

    /// Stops dockerd, leaves it down for `down`, then starts it as [`Self::restart_dockerd`].
    pub fn restart_dockerd_after(&mut self, down: Duration) {
        self.stop_dockerd();
        std::thread::sleep(down);
        self.start_dockerd();
    }

    fn start_containerd(&mut self) {
        let d = &self.dir;
        let config = d.join("containerd.toml");
        let text = format!(
            "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{sock}\"\n[ttrpc]\n  address = \"{sock}.ttrpc\"\n",
            root = d.join("ctd-root").display(),
            state = d.join("ctd-state").display(),
            sock = d.join("ctd.sock").display(),
        );
        std::fs::write(&config, text).expect("write containerd's config");
        let log = log_file(&d.join("containerd.log"));
        let child = self
            .in_namespace("containerd")
            .arg("--config")
            .arg(&config)
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("containerd runs (Debian package containerd)");
        self.containerd = Some(child);
        let sock = d.join("ctd.sock");
        let until = Instant::now() + START_TIMEOUT;
        while !sock.exists() {
            assert!(
                Instant::now() < until,
                "containerd did not create {} (see {})",
                sock.display(),
                d.join("containerd.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn start_dockerd(&mut self) {
        let d = self.dir.clone();
        let log = log_file(&d.join("dockerd.log"));
        let mut cmd = self.in_namespace("dockerd");
        cmd.arg("--host")
            .arg(self.host())
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("dockerd.pid"))
            .arg("--containerd")
            .arg(d.join("ctd.sock"))
            .arg("--cgroup-parent")
            .arg(self.cgroup_parent())
            .args(["--shutdown-timeout", "5"])
            // A cgroup path, not a systemd slice, whatever the host's default driver.
            .args(["--exec-opt", "native.cgroupdriver=cgroupfs"]);
        if self.live_restore {
            cmd.arg("--live-restore");
        }
        let child = cmd
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("dockerd runs");
        self.dockerd = Some(child);
        let until = Instant::now() + START_TIMEOUT;
        loop {
            let answered = self
                .docker()
                .args(["version", "--format", "{{.Server.Version}}"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if answered {
                return;
            }
            if let Some(status) = self
                .dockerd
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "dockerd exited with {status}; see {}",
                    d.join("dockerd.log").display()
                );
            }
            assert!(
                Instant::now() < until,
                "dockerd did not answer within {START_TIMEOUT:?}; see {}",
                d.join("dockerd.log").display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A command run inside the engine's network namespace.
    fn in_namespace(&self, program: &str) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net=/proc/{}/ns/net", self.holder.id()))
            .arg("--")
            .arg(program)
            .stdin(Stdio::null());
        cmd
    }

    /// The cgroup every container of this engine is placed under.
    fn cgroup_parent(&self) -> String {
        format!(
            "/{}",
            self.dir.file_name().unwrap_or_default().to_string_lossy()
        )
    }
}

impl Drop for PrivateEngine {
    fn drop(&mut self) {
        // Containers first, while the daemon can still remove them (--live-restore keeps
        // them running without it).
        if self.dockerd.is_some() {
            let ids = self.containers_quietly();
            if !ids.is_empty() {
                let _ = self
                    .docker()
                    .args(["rm", "-f"])
                    .args(&ids)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        if let Some(mut dockerd) = self.dockerd.take() {
            signal(dockerd.id(), "TERM");
            if !wait_exit(&mut dockerd, Duration::from_secs(20)) {
                signal(dockerd.id(), "KILL");
                let _ = dockerd.wait();
            }
        }
        // Whatever still runs in this engine's cgroup (a container the daemon left behind).
        for pid in cgroup_pids(&self.cgroup_parent()) {
            signal(pid, "KILL");
        }
        if let Some(mut containerd) = self.containerd.take() {
            signal(containerd.id(), "TERM");
            if !wait_exit(&mut containerd, Duration::from_secs(10)) {
                signal(containerd.id(), "KILL");
                let _ = containerd.wait();
            }
        }
        // Shims outlive containerd; they name this engine's directory in their arguments.
        for pid in processes_naming(&self.dir) {
            signal(pid, "KILL");
        }
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        unmount_under(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
        remove_cgroups(&self.cgroup_parent());
    }
}

impl PrivateEngine {
    fn containers_quietly(&self) -> Vec<String> {
        self.docker()
            .args(["ps", "-aq"])
            .stderr(Stdio::null())
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Waits until process `pid` is in a network namespace other than ours (`unshare` has
/// unshared), so the daemons never join the shared one.
fn wait_new_namespace(pid: u32) {
    let ours = std::fs::read_link("/proc/self/ns/net").expect("our network namespace");
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(theirs) = std::fs::read_link(format!("/proc/{pid}/ns/net")) {
            if theirs != ours {
                return;
            }
        }
        assert!(
            Instant::now() < until,
            "unshare --net did not create a network namespace"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn log_file(path: &Path) -> std::fs::File {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open a log file");
    let _ = writeln!(f, "--- started by tests/engine_faults");
    f
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Waits for `child` to exit; false if it still runs after `timeout`.
fn wait_exit(child: &mut Child, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if child.try_wait().ok().flatten().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Pids of processes whose command line names `dir` (this engine's shims).
fn processes_naming(dir: &Path) -> Vec<u32> {
    let needle = format!("{}/", dir.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Pids in the cgroup `parent` and below, in any hierarchy (v1 or v2).
fn cgroup_pids(parent: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for root in cgroup_roots(parent) {
        let mut todo = vec![root];
        while let Some(dir) = todo.pop() {
            if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
                pids.extend(text.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
            }
            if let Ok(entries) = std::fs::read_dir(&dir) {
                todo.extend(
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.is_dir()),
                );
            }
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// `parent` in every mounted cgroup hierarchy where it exists.
fn cgroup_roots(parent: &str) -> Vec<PathBuf> {
    let base = Path::new("/sys/fs/cgroup");
    let relative = parent.trim_start_matches('/');
    let mut roots = vec![base.join(relative)];
    if let Ok(entries) = std::fs::read_dir(base) {
        roots.extend(
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join(relative)),
        );
    }
    roots.retain(|p| p.is_dir());
    roots
}

/// Removes the (empty once its processes are gone) cgroups of `parent`, deepest first.
fn remove_cgroups(parent: &str) {
    for root in cgroup_roots(parent) {
        let mut dirs = vec![root.clone()];
        let mut i = 0;
        while i < dirs.len() {
            if let Ok(entries) = std::fs::read_dir(&dirs[i]) {
                dirs.extend(
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.is_dir()),
                );
            }
            i += 1;
        }
        for dir in dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Lazily unmounts what the daemons left mounted under `dir` (overlay layers, shm, netns).
fn unmount_under(dir: &Path) {
    let prefix = format!("{}/", dir.display());
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<&str> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with(&prefix))
        .collect();
    // Deepest first.
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let _ = Command::new("umount")
            .args(["-l", point])
            .stderr(Stdio::null())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_engine_leaves_nothing_even_when_its_test_panics() {
        require_private_engine!();
        let mut seen = None;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut engine = PrivateEngine::start(true);
            let started = engine
                .docker()
                .args(["run", "-d", BUSYBOX, "sleep", "300"])
                .stdout(Stdio::null())
                .status()
                .expect("docker CLI runs");
            assert!(started.success());
            // With --live-restore the container outlives its daemon: the worst case to clean.
            engine.stop_dockerd();
            seen = Some((engine.dir.clone(), engine.cgroup_parent()));
            assert!(!cgroup_pids(&engine.cgroup_parent()).is_empty());
            panic!("on purpose, to drop the engine while unwinding");
        }));
        assert!(outcome.is_err(), "the closure panics");
        let (dir, cgroup) = seen.expect("the engine started");
        assert!(!dir.exists(), "{} is left", dir.display());
        assert!(processes_naming(&dir).is_empty(), "processes of it run on");
        assert!(cgroup_pids(&cgroup).is_empty(), "its container runs on");
        assert!(cgroup_roots(&cgroup).is_empty(), "its cgroups are left");
    }
}
