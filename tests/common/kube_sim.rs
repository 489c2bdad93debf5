//! A kube-sim for a test binary: the one shared by every case, and private ones for the
//! cases that kill theirs. Found beside the adze executable (`cargo test --workspace` builds
//! both into the same directory).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// A running kube-sim; it stops when dropped or when this process exits (`--exit-with-stdin`).
pub struct Sim {
    /// Its kubeconfig.
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:N`.
    pub url: String,
    dir: tempfile::TempDir,
    child: Mutex<Child>,
    stdin: Mutex<Option<ChildStdin>>,
}

/// The kube-sim executable: `$ADZE_KUBE_SIM` (the controller benchmark's, built in the
/// profile it measures), else the one built with this adze.
fn executable() -> PathBuf {
    if let Some(sim) = std::env::var_os("ADZE_KUBE_SIM") {
        return PathBuf::from(sim);
    }
    let adze = Path::new(env!("CARGO_BIN_EXE_adze"));
    let sim = adze.with_file_name("kube-sim");
    assert!(
        sim.is_file(),
        "{} is missing: build it with `cargo build --workspace` (cargo test --workspace does)",
        sim.display()
    );
    sim
}

impl Sim {
    /// Starts one and waits until it listens.
    pub fn start() -> Sim {
        Sim::start_with(&[])
    }

    /// Starts one with `extra` options (e.g. `--server-version 1.28`) and waits until it
    /// listens.
    pub fn start_with(extra: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(executable())
            .args(["--listen", "127.0.0.1:0", "--kubeconfig"])
            .arg(&kubeconfig)
            .arg("--exit-with-stdin")
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kube-sim starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("kube-sim prints a line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from kube-sim: {line:?}"))
            .to_owned();
        let stdin = child.stdin.take();
        Sim {
            kubeconfig,
            url,
            dir,
            child: Mutex::new(child),
            stdin: Mutex::new(stdin),
        }
    }

    /// The kube-sim every case of this binary shares.
    pub fn shared() -> &'static Sim {
        static SIM: OnceLock<Sim> = OnceLock::new();
        SIM.get_or_init(Sim::start)
    }

    /// A scratch directory that lives as long as the kube-sim.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs kubectl against it; its stdout (panics when kubectl fails).
    pub fn kubectl(&self, args: &[&str]) -> String {
        self.try_kubectl(args)
            .unwrap_or_else(|stderr| panic!("kubectl {args:?}: {stderr}"))
    }

    /// Runs kubectl against it: its stdout, or its stderr when it fails (for callers racing
    /// a client that may delete what they write, as a controller would).
    pub fn try_kubectl(&self, args: &[&str]) -> Result<String, String> {
        self.try_kubectl_with(&self.kubeconfig, args)
    }

    /// [`Sim::try_kubectl`] with another kubeconfig for it (another user's credentials).
    pub fn try_kubectl_with(&self, kubeconfig: &Path, args: &[&str]) -> Result<String, String> {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir().join("kubectl-cache"))
            .args(args)
            .output()
            .expect("kubectl runs");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// A namespace of its own for one case, so cases run side by side.
    pub fn namespace(&self, name: &str) -> String {
        // `kubectl create namespace` sends protobuf, which kube-sim does not read.
        let file = self.dir().join(format!("namespace-{name}.yaml"));
        std::fs::write(
            &file,
            format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n"),
        )
        .expect("write the namespace");
        self.kubectl(&[
            "create",
            "--validate=false",
            "-f",
            file.to_str().expect("UTF-8 path"),
        ]);
        name.to_owned()
    }

    /// Stops the API server under a running client (SIGTERM: kube-sim removes its
    /// containers and exits).
    pub fn stop(&self) {
        let mut child = self.child.lock().expect("child lock");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = child.wait();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Closing stdin makes kube-sim remove its containers and exit.
        self.stdin.lock().map(|mut s| s.take()).ok();
        if let Ok(mut child) = self.child.lock() {
            let _ = child.wait();
        }
    }
}
