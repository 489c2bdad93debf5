//! A flaky engine: the real `adze` binary runs TaskRuns against the real Docker engine through
//! a fault-injecting proxy ([`proxy`]) that drops connections, loses answers, delays and
//! answers 500 on chosen calls. The tests show which calls adze retries (idempotent ones,
//! within a stated bound), that a create or start whose answer was lost never happens
//! twice, and that a pull cut off mid-way fails the TaskRun and is redone by the next run.
//!
//! Needs Docker, the test images and the loopback registry (`bash tests/setup-docker.sh`).
//! Tests run concurrently: each has its own proxy and names its TaskRuns uniquely, and every
//! engine assertion is filtered by those names.

#[path = "../common/mod.rs"]
mod common;

mod creates;
mod idempotent;
mod proxy;
mod pulls;
mod wire;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{require_docker, run_adze_with, RUN_LABEL};
use proxy::Proxy;
use serde_json::Value;

/// How long one run may take before the test gives up.
const LIMIT: Duration = Duration::from_secs(120);

/// What one `adze run` through the proxy printed.
pub struct Ran {
    /// The process's exit status.
    pub code: Option<i32>,
    /// The final object (`Value::Null` when stdout was not JSON).
    pub run: Value,
    /// Everything written to stderr.
    pub stderr: String,
    /// How long the run took.
    pub took: Duration,
}

impl Ran {
    /// The `Succeeded` condition.
    pub fn condition(&self) -> &Value {
        &self.run["status"]["conditions"][0]
    }

    /// Asserts exit 0, `Succeeded=True`, and that the only step exited 0 having written
    /// result `out` = `ok`, from an image the status names.
    pub fn succeeded_with_ok(&self, proxy: &Proxy) {
        assert_eq!(
            self.code,
            Some(0),
            "adze run failed:\n{}\n{}\nrequests:\n{}",
            self.stderr,
            self.run,
            proxy.log()
        );
        assert_eq!(self.condition()["status"], "True", "{}", self.run);
        assert_eq!(self.condition()["reason"], "Succeeded", "{}", self.run);
        let status = &self.run["status"];
        assert_eq!(status["results"][0]["name"], "out", "{}", self.run);
        assert_eq!(status["results"][0]["value"], "ok", "{}", self.run);
        let step = &status["steps"][0];
        assert_eq!(step["terminated"]["exitCode"], 0, "{}", self.run);
        assert_eq!(step["terminated"]["reason"], "Completed", "{}", self.run);
        assert!(
            step["imageID"].as_str().is_some_and(|i| !i.is_empty()),
            "{}",
            self.run
        );
    }
}

/// A TaskRun name unique to this test and process (a DNS label).
pub fn unique(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("flaky-{test}-{}-{}", std::process::id(), nanos % 1_000_000)
}

/// A TaskRun with one step that writes result `out` = `ok`, after running `extra` (shell);
/// its optional workspace `out` is bound with `-w out=DIR` when a test needs it.
pub fn task_run(name: &str, image: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: {name}
spec:
  taskSpec:
    workspaces:
      - name: out
        optional: true
    results:
      - name: out
    steps:
      - name: only
        image: {image}
        script: |
          {extra}
          printf ok > $(results.out.path)
"#
    )
}

/// Runs `yaml` through `proxy` with `adze run -o json` plus `extra` args, in `dir`.
pub fn run_through(proxy: &Proxy, dir: &Path, yaml: &str, extra: &[&str]) -> Ran {
    run_through_with(proxy, dir, yaml, extra, &[])
}

/// [`run_through`] with extra environment variables for `adze`.
pub fn run_through_with(
    proxy: &Proxy,
    dir: &Path,
    yaml: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Ran {
    require_docker();
    std::fs::write(dir.join("run.yaml"), yaml).expect("write run.yaml");
    let mut args = vec!["run", "run.yaml", "-o", "json", "--color", "never"];
    args.extend_from_slice(extra);
    let host = proxy.docker_host();
    let start = Instant::now();
    let mut vars = vec![("DOCKER_HOST", host.as_str())];
    vars.extend_from_slice(env);
    let out = run_adze_with(dir, &args, &vars, LIMIT);
    let took = start.elapsed();
    assert!(!out.timed_out, "adze run hung:\n{}", out.stderr);
    assert!(
        !out.stderr.contains("panicked"),
        "adze panicked:\n{}",
        out.stderr
    );
    Ran {
        code: out.code,
        run: out.json().unwrap_or(Value::Null),
        stderr: out.stderr,
        took,
    }
}

/// Ids of the containers on the real engine labelled with TaskRun `name` (and step `step`).
pub fn containers_of(name: &str, step: Option<&str>) -> Vec<String> {
    let mut args = vec![
        "ps".to_owned(),
        "-aq".to_owned(),
        "--no-trunc".to_owned(),
        "--filter".to_owned(),
        format!("label={RUN_LABEL}={name}"),
    ];
    if let Some(step) = step {
        args.extend(["--filter".to_owned(), format!("label=adze.dev/step={step}")]);
    }
    let out = Command::new("docker")
        .args(&args)
        .output()
        .expect("docker ps runs");
    assert!(out.status.success(), "docker ps failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Removes the containers of TaskRun `name`, and its directory if it was kept, when dropped,
/// whatever the test's outcome.
pub struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let ids = containers_of(&self.0, None);
        if !ids.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f"])
                .args(&ids)
                .output();
        }
        // Runs kept with `--keep` also leave their TaskRun directory (`adze-<TaskRun>-…`).
        let prefix = format!("adze-{}-", self.0);
        if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
}
