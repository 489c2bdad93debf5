//! An `adze` run in the background whose stderr is collected as it arrives, for the tests
//! that act while it runs (interrupt it as Ctrl-C does, kill a container, stop the API
//! server).

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Outcome;

/// How long [`Running::start`] and [`Running::wait_for`] wait for a marker.
const MARKER_LIMIT: Duration = Duration::from_secs(60);

/// A running `adze`.
pub struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts `command` and waits (up to 60 s) until its stderr shows `marker`.
    pub fn start(mut command: Command, marker: &str) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("adze starts");
        let mut pipe = child.stderr.take().expect("stderr piped");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        // Draining continuously also keeps the child from blocking on a full pipe.
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                sink.lock().expect("stderr lock").push_str(&text);
            }
        });
        let mut running = Running {
            child,
            stderr,
            reader: Some(reader),
        };
        // Like `wait_for`, but a process that exits first fails at once, with what it said.
        let until = Instant::now() + MARKER_LIMIT;
        loop {
            let seen = running.stderr();
            if seen.contains(marker) {
                return running;
            }
            if let Ok(Some(status)) = running.child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                panic!("exited ({status}) before {marker:?}:\n{}", running.stderr());
            }
            assert!(Instant::now() < until, "never saw {marker:?}:\n{seen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to 60 s) until stderr shows `marker`.
    pub fn wait_for(&self, marker: &str) {
        let until = Instant::now() + MARKER_LIMIT;
        loop {
            let seen = self.stderr.lock().expect("stderr lock").clone();
            if seen.contains(marker) {
                return;
            }
            assert!(Instant::now() < until, "never saw {marker:?}:\n{seen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first whole line of stderr holding `marker`, once its end has arrived (a line may
    /// be written in pieces); waits up to 60 s.
    pub fn line_with(&self, marker: &str) -> String {
        let until = Instant::now() + MARKER_LIMIT;
        loop {
            let seen = self.stderr();
            if let Some(at) = seen.find(marker) {
                let start = seen[..at].rfind('\n').map_or(0, |i| i + 1);
                if let Some(len) = seen[start..].find('\n') {
                    return seen[start..start + len].to_string();
                }
            }
            assert!(
                Instant::now() < until,
                "never saw a whole line with {marker:?}:\n{seen}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The address `adze serve` listens on, from its ready line.
    pub fn serve_address(&self) -> std::net::SocketAddr {
        let line = self.line_with("adze serve: EventListener");
        line.split("://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line}"))
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args(["-INT", &pid]).status();
        assert!(kill.is_ok_and(|s| s.success()));
    }

    /// Closes its stdin (when it was started with a piped stdin), as Ctrl-D at a terminal.
    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Kills it at once (SIGKILL): no handler runs, nothing is cleaned up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Everything it wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// Waits for the exit (killing it after `limit`); stdout, and all of stderr.
    pub fn finish(mut self, limit: Duration) -> Outcome {
        let until = Instant::now() + limit;
        let mut timed_out = false;
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > until {
                timed_out = true;
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // stderr has its own reader, so reading stdout to its end cannot block on a full pipe.
        let mut stdout = Vec::new();
        if let Some(mut pipe) = self.child.stdout.take() {
            let _ = pipe.read_to_end(&mut stdout);
        }
        let status = self.child.wait().expect("adze exits");
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let stderr = self.stderr.lock().expect("stderr lock").clone();
        Outcome {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr,
            timed_out,
        }
    }
}

impl Drop for Running {
    /// A test that ends (or panics) without `finish` leaves no adze behind: a controller or
    /// server would otherwise outlive the test binary and load every later one.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
