//! Tekton fidelity, feature by feature: each module writes small TaskRuns or PipelineRuns
//! that exercise one field or behaviour, runs them with `adze run -o json` against the real
//! engine, and asserts on the status object printed (not only the exit code).
//!
//! Needs Docker and the test images (`bash tests/setup-docker.sh`). Tests run concurrently;
//! each names its runs uniquely so their containers never collide.

#[path = "../common/mod.rs"]
mod common;

mod cel;
mod compat;
mod confinement;
mod diagnostics;
mod finally_status;
mod images;
mod status_spec;
mod step_when;
mod steps;
mod volumes;

use std::path::Path;
use std::time::Duration;

use common::{require_docker, run_adze};
use serde_json::Value;

/// How long one run may take before the test gives up.
const LIMIT: Duration = Duration::from_secs(180);

/// What one `adze run` printed: exit status, the run as JSON (if any), and stderr.
pub struct Ran {
    /// The process's exit status.
    pub code: Option<i32>,
    /// The final object (`Value::Null` when stdout was not JSON).
    pub run: Value,
    /// Everything written to stderr: progress, logs, warnings, errors.
    pub stderr: String,
}

impl Ran {
    /// `status` of the run.
    pub fn status(&self) -> &Value {
        &self.run["status"]
    }

    /// The `Succeeded` condition.
    pub fn condition(&self) -> &Value {
        &self.run["status"]["conditions"][0]
    }

    /// Asserts exit 0 and `Succeeded=True`.
    pub fn succeeded(self) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "adze run failed:\n{}\n{}",
            self.stderr,
            self.run
        );
        assert_eq!(self.condition()["status"], "True", "{}", self.run);
        self
    }

    /// The value of result `name` in `status.results`.
    pub fn result(&self, name: &str) -> &Value {
        let results = self.status()["results"]
            .as_array()
            .unwrap_or_else(|| panic!("no status.results in {}", self.run));
        &results
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no result {name} in {}", self.run))["value"]
    }
}

/// Runs `yaml` with `adze run -o json` plus `extra` args, in a fresh directory.
pub fn run_with(yaml: &str, extra: &[&str]) -> Ran {
    let dir = tempfile::tempdir().expect("temporary directory");
    run_in(dir.path(), yaml, extra)
}

/// Runs `yaml` with `adze run -o json`.
pub fn run(yaml: &str) -> Ran {
    run_with(yaml, &[])
}

/// Runs `yaml` (written to `run.yaml` in `dir`) with `adze run -o json` plus `extra` args.
pub fn run_in(dir: &Path, yaml: &str, extra: &[&str]) -> Ran {
    require_docker();
    std::fs::write(dir.join("run.yaml"), yaml).expect("write run.yaml");
    let mut args = vec![
        "run", "run.yaml", "-o", "json", "--color", "never", "--pull", "never",
    ];
    args.extend_from_slice(extra);
    let out = run_adze(dir, &args, LIMIT);
    assert!(
        !out.stderr.contains("panicked"),
        "adze panicked:\n{}",
        out.stderr
    );
    Ran {
        code: out.code,
        run: out.json().unwrap_or(Value::Null),
        stderr: out.stderr,
    }
}
