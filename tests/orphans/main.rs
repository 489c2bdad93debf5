//! What adze leaves when it dies, and who removes it: the watchdog of a run killed with
//! SIGKILL, the next `adze run`, and `adze gc` (docs/faults-orphans.md).
//!
//! Needs Docker and the test images (`bash tests/setup-docker.sh`). Every assertion is
//! filtered by this binary's own run ids or names, so other tests on the same engine do not
//! matter; every case removes what it created.
//!
//! Collecting is engine-wide by design (an `adze run` removes every dead adze's containers),
//! so cases that need a dead run's containers to stay until they collect them, or that run
//! an unfiltered `adze gc --yes`, hold [`ENGINE`] exclusively; the others share it.

#[path = "../common/mod.rs"]
mod common;

mod collect;
mod gc;
mod sigkill;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub use common::docker;
use common::{require_docker, run_command, Outcome};

/// Cases that leave dead runs' containers on the engine on purpose take it exclusively.
pub static ENGINE: RwLock<()> = RwLock::new(());

/// The ownership labels adze writes (engine/run/ownership.rs).
pub const RUN_ID_LABEL: &str = "adze.dev/run-id";
/// The label naming the TaskRun.
pub const RUN_LABEL: &str = common::RUN_LABEL;

/// How long one quick `adze` invocation may take before the case fails.
const LIMIT: Duration = Duration::from_secs(120);

/// A case's scratch space: its own `TMPDIR` for adze (so its directories are its own), the
/// YAML files, and everything to remove at the end.
pub struct Case {
    /// Unique prefix of this case's run names.
    pub prefix: String,
    /// Holds `tmp/` (adze's TMPDIR) and the YAML files.
    pub root: tempfile::TempDir,
    /// Runs still going (killed at the end).
    children: Vec<Child>,
    /// Label filters whose containers are removed at the end.
    filters: Vec<String>,
}

impl Case {
    /// A fresh case; names start with `orphans-<name>-<pid>`.
    pub fn new(name: &str) -> Case {
        require_docker();
        let root = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir(root.path().join("tmp")).expect("mkdir tmp");
        Case {
            prefix: format!("orphans-{name}-{}", std::process::id()),
            root,
            children: Vec::new(),
            filters: Vec::new(),
        }
    }

    /// adze's `TMPDIR` in this case.
    pub fn tmp(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    /// The `adze-*` entries of the case's `TMPDIR`.
    pub fn adze_dirs(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.tmp())
            .expect("readable tmp")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("adze-"))
            .collect();
        names.sort();
        names
    }

    /// Writes a TaskRun named `<prefix>-<suffix>` whose one step runs `script`; returns its
    /// name and file.
    pub fn task_run(&mut self, suffix: &str, script: &str) -> (String, PathBuf) {
        self.task_run_with(suffix, script, "")
    }

    /// Like [`Case::task_run`], with `extra` appended to the `taskSpec` (e.g. sidecars).
    pub fn task_run_with(&mut self, suffix: &str, script: &str, extra: &str) -> (String, PathBuf) {
        let name = format!("{}-{suffix}", self.prefix);
        let file = self.root.path().join(format!("{name}.yaml"));
        std::fs::write(
            &file,
            format!(
                "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {{name: {name}}}\nspec:\n  \
                 taskSpec:\n    steps:\n    - name: nap\n      image: adze-test/busybox:latest\n      \
                 script: '{script}'\n{extra}"
            ),
        )
        .expect("write the TaskRun");
        self.filters.push(format!("{RUN_LABEL}={name}"));
        (name, file)
    }

    /// The `adze` command, in the case's directory, with its `TMPDIR`.
    pub fn adze(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_adze"));
        cmd.current_dir(self.root.path())
            .env("TMPDIR", self.tmp())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `adze ARGS` to its end.
    pub fn run(&self, args: &[&str]) -> Outcome {
        let mut command = self.adze();
        command.args(args);
        let outcome = run_command(command, LIMIT);
        assert!(
            !outcome.stderr.contains("panicked"),
            "adze panicked:\n{}",
            outcome.stderr
        );
        outcome
    }

    /// Runs `adze run FILE --pull never` plus `extra` to its end.
    pub fn run_file(&self, file: &Path, extra: &[&str]) -> Outcome {
        let file = file.to_str().expect("UTF-8 path");
        let mut args = vec!["run", file, "--pull", "never"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Starts `adze run FILE` in the background and waits until its step's container runs;
    /// returns the child's index and the run id on the container.
    pub fn start_sleeper(&mut self, name: &str, file: &Path) -> (usize, String) {
        let child = self
            .adze()
            .args(["run", file.to_str().expect("UTF-8"), "--pull", "never"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("adze starts");
        self.children.push(child);
        let run_id = poll(Duration::from_secs(60), || {
            let found = docker(&[
                "ps",
                "--filter",
                &format!("label={RUN_LABEL}={name}"),
                "--filter",
                "label=adze.dev/step",
                "--filter",
                "status=running",
                "--format",
                &format!("{{{{.Label \"{RUN_ID_LABEL}\"}}}}"),
            ]);
            found.lines().find(|l| !l.is_empty()).map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("the step container of {name} never ran"));
        (self.children.len() - 1, run_id)
    }

    /// The process of a background run.
    pub fn child(&mut self, index: usize) -> &mut Child {
        &mut self.children[index]
    }

    /// Removes, at the end, containers with this label filter (`key=value`).
    pub fn remove_at_end(&mut self, filter: String) {
        self.filters.push(filter);
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for filter in &self.filters {
            let ids = docker(&["ps", "-aq", "--filter", &format!("label={filter}")]);
            let ids: Vec<&str> = ids.lines().collect();
            if !ids.is_empty() {
                let _ = Command::new("docker")
                    .args(["rm", "-f"])
                    .args(&ids)
                    .output();
            }
        }
    }
}

/// Ids of the containers (in any state) with `RUN_ID_LABEL=run_id`.
pub fn containers_of_run(run_id: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label={RUN_ID_LABEL}={run_id}"),
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

/// Calls `probe` every 20 ms until it returns something or `limit` passes.
pub fn poll<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid of the watchdog of run `run_id`, found by its command line.
pub fn watchdog_pid(run_id: &str) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let e = e.ok()?;
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_it = args.get(1) == Some(&b"watchdog".as_slice())
            && args
                .windows(2)
                .any(|w| w[0] == b"--run-id" && w[1] == run_id.as_bytes());
        is_it.then_some(pid)
    })
}

/// Sends SIGKILL to a process.
pub fn kill9(pid: u32) {
    let ok = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -9 {pid} failed");
}
