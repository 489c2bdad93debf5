//! One kube-sim per test binary, shared by its tests, and a `kubectl` runner against it.
//!
//! The kube-sim is started on first use and stops when the test process exits: it runs with
//! `--exit-with-stdin`, and the pipe to its stdin closes with this process however it ends.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running kube-sim.
pub struct Sim {
    /// Its kubeconfig.
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:N`.
    pub url: String,
    /// Its process id.
    pub pid: u32,
    /// kubectl's discovery cache, private to this kube-sim.
    pub cache: PathBuf,
    dir: tempfile::TempDir,
    child: Mutex<Child>,
    /// Held open for the life of the test process; closing it stops kube-sim.
    stdin: Mutex<Option<ChildStdin>>,
}

impl Sim {
    /// Starts a kube-sim with `extra` arguments and waits for "listening on".
    pub fn start(extra: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kube-sim"))
            .args(["--listen", "127.0.0.1:0", "--kubeconfig"])
            .arg(&kubeconfig)
            .arg("--exit-with-stdin")
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kube-sim starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("kube-sim prints a line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from kube-sim: {line:?}"))
            .to_owned();
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        assert!(
            kubeconfig.is_file(),
            "the kubeconfig is written before 'listening on'"
        );
        let stdin = child.stdin.take();
        Sim {
            cache: dir.path().join("kubectl-cache"),
            kubeconfig,
            url,
            pid: child.id(),
            dir,
            child: Mutex::new(child),
            stdin: Mutex::new(stdin),
        }
    }

    /// The shared kube-sim of this test binary (started with `extra` the first time).
    pub fn shared(extra: &[&str]) -> &'static Sim {
        static SIM: OnceLock<Sim> = OnceLock::new();
        SIM.get_or_init(|| Sim::start(extra))
    }

    /// A scratch directory that lives as long as the kube-sim.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `kubectl --kubeconfig ... ARGS`.
    pub fn kubectl_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .env_remove("KUBECONFIG");
        command
    }

    /// Runs kubectl with `stdin` as standard input.
    pub fn kubectl_with_input(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .kubectl_command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(stdin.as_bytes())
            .expect("kubectl reads its input");
        child.wait_with_output().expect("kubectl finishes")
    }

    /// Runs kubectl; panics with its output unless it succeeds; returns stdout.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let output = self.kubectl_command(args).output().expect("kubectl runs");
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs kubectl expecting failure; returns stderr.
    pub fn kubectl_fails(&self, args: &[&str]) -> String {
        let output = self.kubectl_command(args).output().expect("kubectl runs");
        assert!(
            !output.status.success(),
            "kubectl {args:?} succeeded: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// `kubectl create --validate=false -f -` with `yaml`.
    pub fn create(&self, yaml: &str) -> String {
        let output = self.kubectl_with_input(&["create", "--validate=false", "-f", "-"], yaml);
        assert!(
            output.status.success(),
            "kubectl create failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Starts a long-running kubectl (`get -w`) whose stdout lines arrive on the receiver.
    pub fn kubectl_lines(&self, args: &[&str]) -> (Child, std::sync::mpsc::Receiver<String>) {
        let mut child = self
            .kubectl_command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kubectl runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (child, rx)
    }

    /// A fresh namespace for one test (tests run concurrently against one server).
    pub fn namespace(&self, name: &str) -> String {
        self.create(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
        ));
        name.to_owned()
    }

    /// Sends SIGTERM and waits for the exit status (at most `limit`).
    pub fn terminate(&self, limit: Duration) -> Option<std::process::ExitStatus> {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + limit;
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().expect("waiting for kube-sim") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// Polls `condition` every 20 ms until it holds or `limit` passes.
pub fn eventually(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}
