//! Helpers shared by the integration tests that run the real `adze` binary against the
//! upstream Tekton examples, the local Docker engine or kube-sim ([`kube_sim`]).
//!
//! Each test crate compiles this module on its own and uses only part of it, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

pub mod http;
pub mod kube_sim;
pub mod pki;
pub mod rbac_rules;
pub mod registry;
pub mod resolve_servers;
pub mod running;
pub mod shape;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The label adze puts on every container it creates (value: the TaskRun's name).
pub const RUN_LABEL: &str = "adze.dev/run";

/// The tag `tests/setup-docker.sh` gives the stand-ins for digest-pinned images.
pub const PINNED_TAG: &str = "adze-pinned";

/// The upstream examples folder: `ADZE_TEKTON_EXAMPLES`, default `../shared/examples/tekton`.
///
/// `None` (with a note) when it is missing, except under CI (`CI=true`), where that fails.
pub fn examples_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ADZE_TEKTON_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/examples/tekton"));
    if dir.is_dir() {
        return Some(dir);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !in_ci,
        "examples folder {} is missing (set ADZE_TEKTON_EXAMPLES)",
        dir.display()
    );
    eprintln!(
        "note: {} not found; set ADZE_TEKTON_EXAMPLES to run this test",
        dir.display()
    );
    None
}

/// Every `*.yaml`/`*.yml` file under `dir`, recursively, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("readable examples folder") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Replaces every `image: repo@sha256:<hex>` digest with `repo:adze-pinned`, the tag of the
/// local stand-in. Only `image:` lines change: digests in scripts or values are data.
pub fn unpin_digests(yaml: &str) -> String {
    const MARK: &str = "@sha256:";
    yaml.split_inclusive('\n')
        .map(|line| {
            let key = line.trim_start().trim_start_matches("- ");
            let Some(at) = line.find(MARK) else {
                return line.to_owned();
            };
            let after = &line[at + MARK.len()..];
            let hex = after
                .find(|c: char| !c.is_ascii_hexdigit())
                .unwrap_or(after.len());
            if !key.starts_with("image:") || hex != 64 {
                return line.to_owned();
            }
            format!("{}:{PINNED_TAG}{}", &line[..at], &after[hex..])
        })
        .collect()
}

/// The newest Kubernetes version the offline schemas of `kubernetes-validate` cover.
pub const KUBERNETES_VERSION: &str = "1.37.0";

/// Runs `kubernetes-validate --strict` (PyPI; `ADZE_KUBERNETES_VALIDATE` overrides the
/// command) on `files` against [`KUBERNETES_VERSION`]; panics with how to install it when it
/// cannot run.
pub fn kubernetes_validate(files: &[PathBuf]) -> std::process::Output {
    let validator =
        std::env::var("ADZE_KUBERNETES_VALIDATE").unwrap_or_else(|_| "kubernetes-validate".into());
    Command::new(&validator)
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {validator}: {e}; install it with `bash tests/setup-validator.sh` \
                 (pip install kubernetes-validate)"
            )
        })
}

/// Runs [`kubernetes_validate`] on `files` and asserts that it passed with a verdict on each
/// one (none skipped); returns its report.
pub fn assert_kubernetes_valid(files: &[PathBuf]) -> String {
    let out = kubernetes_validate(files);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "kubernetes-validate failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for file in files {
        assert!(
            stdout.contains(&*file.to_string_lossy()),
            "no verdict on {}:\n{stdout}",
            file.display()
        );
    }
    stdout
}

/// Fails clearly when no Docker engine answers.
pub fn require_docker() {
    let ok = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`docker info` failed: these tests need a running Docker engine and the test images; \
         run `bash tests/setup-docker.sh` first"
    );
}

/// Runs `docker args…` and returns its stdout, trimmed; panics with its stderr when it fails.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Ids of the containers labelled [`RUN_LABEL`], with the label's value.
pub fn labelled_containers() -> BTreeSet<String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("label={RUN_LABEL}"),
            "--format",
            &format!("{{{{.ID}}}} {{{{.Label \"{RUN_LABEL}\"}}}}"),
        ])
        .output()
        .expect("docker ps runs");
    assert!(out.status.success(), "docker ps failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Force-removes containers by id (as listed by [`labelled_containers`]).
pub fn remove_containers<'a>(containers: impl IntoIterator<Item = &'a String>) {
    let ids: Vec<&str> = containers
        .into_iter()
        .filter_map(|c| c.split_whitespace().next())
        .collect();
    if !ids.is_empty() {
        let _ = Command::new("docker")
            .args(["rm", "-f"])
            .args(&ids)
            .output();
    }
}

/// What one `adze` invocation did.
pub struct Outcome {
    /// Exit status; `None` when killed by a signal (e.g. after the time limit).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Whether the time limit was reached and the process was interrupted.
    pub timed_out: bool,
}

impl Outcome {
    /// The JSON object printed on stdout (`-o json`), if any.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.stdout).ok()
    }

    /// The last `n` lines of stderr.
    pub fn stderr_tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// Runs the `adze` binary with `args` in `dir`; after `limit` it is interrupted like Ctrl-C
/// (adze then cancels and cleans up) and killed 30 s later.
pub fn run_adze(dir: &Path, args: &[&str], limit: Duration) -> Outcome {
    run_adze_with(dir, args, &[], limit)
}

/// [`run_adze`] with extra environment variables (`DOCKER_HOST`, …).
pub fn run_adze_with(dir: &Path, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Outcome {
    let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
    command
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1");
    run_command(command, limit)
}

/// Runs `command` (an `adze` invocation set up by the caller: arguments, directory,
/// environment) with stdin empty and both outputs captured; after `limit` it is interrupted
/// like Ctrl-C and killed 30 s later.
pub fn run_command(mut command: Command, limit: Duration) -> Outcome {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("adze starts");
    // Drain both pipes on threads so a chatty run cannot block on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let err = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for adze") {
            break status;
        }
        let elapsed = start.elapsed();
        if elapsed > limit && !timed_out {
            timed_out = true;
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
        }
        if elapsed > limit + Duration::from_secs(30) {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Outcome {
        code: status.code(),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
        timed_out,
    }
}

/// Whether `text` is an RFC 3339 UTC timestamp as Kubernetes writes them (`2024-01-02T03:04:05Z`).
pub fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (text.ends_with('Z') || text[19..].contains(['+', '-']))
}

/// The TaskRuns and PipelineRuns of a file: their `name`, else their `generateName`.
pub fn runs_in(yaml: &str) -> Vec<String> {
    let mut runs = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(yaml) {
        let Ok(value) = <serde_yaml_ng::Value as serde::Deserialize>::deserialize(doc) else {
            continue;
        };
        let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        if kind != "TaskRun" && kind != "PipelineRun" {
            continue;
        }
        let meta = value.get("metadata");
        let name = ["name", "generateName"]
            .iter()
            .find_map(|k| meta.and_then(|m| m.get(k)).and_then(|n| n.as_str()));
        runs.push(name.unwrap_or("").to_owned());
    }
    runs
}
