//! An `adze serve` started for one test: its own store, an ephemeral port on loopback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::running::Running;
use crate::http;

/// A running server.
pub struct Server {
    running: Running,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its store.
    pub store: PathBuf,
    files: Vec<PathBuf>,
    extra: Vec<String>,
}

/// The marker `adze serve` prints once it listens.
pub const READY: &str = "adze serve: EventListener";

impl Server {
    /// Serves `files` with `extra` arguments, storing into `store`.
    pub fn start(files: &[PathBuf], store: &Path, extra: &[&str]) -> Server {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let running = Running::start(command(files, store, &extra), READY);
        let addr = running.serve_address();
        Server {
            running,
            addr,
            store: store.to_path_buf(),
            files: files.to_vec(),
            extra,
        }
    }

    /// Like [`Server::start`], with `dir` as the working directory (where the search for
    /// `.adze.yaml` begins). A restart starts it in the test's own working directory.
    pub fn start_in(dir: &Path, files: &[PathBuf], store: &Path, extra: &[&str]) -> Server {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let mut command = command(files, store, &extra);
        command.current_dir(dir);
        let running = Running::start(command, READY);
        let addr = running.serve_address();
        Server {
            running,
            addr,
            store: store.to_path_buf(),
            files: files.to_vec(),
            extra,
        }
    }

    /// Kills it with SIGKILL: nothing is flushed or cleaned up.
    pub fn kill(&mut self) {
        self.running.kill();
    }

    /// Starts it again on the same store (a new port).
    pub fn restart(&mut self) {
        self.running.kill();
        self.running = Running::start(command(&self.files, &self.store, &self.extra), READY);
        self.addr = self.running.serve_address();
    }

    /// Everything it printed.
    pub fn stderr(&self) -> String {
        self.running.stderr()
    }

    /// `GET /api/v1/runs`: names and states, newest first.
    pub fn runs(&self) -> Vec<serde_json::Value> {
        let reply = http::get(self.addr, "/api/v1/runs", &[]);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["runs"].as_array().cloned().unwrap_or_default()
    }

    /// `GET /api/v1/events`, newest first.
    pub fn events(&self) -> Vec<serde_json::Value> {
        let reply = http::get(self.addr, "/api/v1/events", &[]);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The stored event `id` (its per-trigger outcomes once processed).
    pub fn event(&self, id: &str) -> serde_json::Value {
        self.events()
            .into_iter()
            .find(|e| e["id"] == id)
            .unwrap_or_else(|| panic!("no event {id} in {:?}", self.events()))
    }

    /// Waits (up to `limit`) until event `id` is processed; returns it.
    pub fn processed(&self, id: &str, limit: Duration) -> serde_json::Value {
        let until = Instant::now() + limit;
        loop {
            let e = self.event(id);
            if e["state"] != "accepted" {
                return e;
            }
            assert!(Instant::now() < until, "event {id} never processed: {e}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET /api/v1/runs/NAME`.
    pub fn run(&self, name: &str) -> serde_json::Value {
        let reply = http::get(self.addr, &format!("/api/v1/runs/{name}"), &[]);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// Waits (up to `limit`) until run `name` reaches a final state; returns it.
    pub fn finished(&self, name: &str, limit: Duration) -> serde_json::Value {
        let until = Instant::now() + limit;
        loop {
            let run = self.run(name);
            let state = run["state"].as_str().unwrap_or_default();
            if ["succeeded", "failed", "created"].contains(&state) {
                return run;
            }
            assert!(Instant::now() < until, "run {name} never finished: {run}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A test that ends, or fails, leaves no server behind.
        self.running.kill();
    }
}

/// The command line of `adze serve` for `files`.
pub fn command(files: &[PathBuf], store: &Path, extra: &[String]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
    command.arg("serve");
    for f in files {
        command.arg("-f").arg(f);
    }
    if !extra.iter().any(|a| a == "--listen") {
        command.args(["--listen", "127.0.0.1:0"]);
    }
    command
        .args(["--pull", "never", "--store"])
        .arg(store)
        .args(extra);
    command
}

/// A fixture of `tests/serve/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/serve/fixtures")
        .join(name)
}
