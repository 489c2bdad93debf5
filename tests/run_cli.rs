//! `adze run` end to end: the real binary against the real Docker engine.
//!
//! Each test writes YAML into a fresh working directory, runs the binary (stderr is not a
//! terminal, so progress comes as plain lines), and checks the exit status, the final object
//! on stdout, the lines on stderr, and that no container labelled `adze.dev/run` remains.
//! Without a Docker engine these tests fail (they never skip): run `bash tests/setup-docker.sh`.

mod common;

use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use common::running::Running;
use common::Outcome;

const BUSYBOX: &str = "adze-test/busybox:latest";

/// How long a run interrupted or failed on purpose may take to exit before it is killed.
const FINISH_LIMIT: Duration = Duration::from_secs(120);

/// Runs share the engine and check it is left clean, so they go one at a time.
static ENGINE: Mutex<()> = Mutex::new(());

fn engine() -> MutexGuard<'static, ()> {
    let guard = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    common::require_docker();
    guard
}

fn assert_no_containers() {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", "label=adze.dev/run"])
        .output()
        .expect("docker ps runs");
    let left = String::from_utf8_lossy(&out.stdout);
    assert!(left.trim().is_empty(), "containers left behind: {left}");
}

/// A working directory holding one `run.yaml`.
fn workdir(yaml: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("run.yaml"), yaml.replace("IMAGE", BUSYBOX)).expect("write");
    dir
}

fn adze(dir: &TempDir, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adze"));
    cmd.current_dir(dir.path()).args(args).env("NO_COLOR", "1");
    cmd
}

struct Ran {
    status: i32,
    stdout: String,
    stderr: String,
}

impl From<Outcome> for Ran {
    fn from(out: Outcome) -> Ran {
        Ran {
            status: out.code.unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }
}

fn ran(out: Output) -> Ran {
    Ran {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(dir: &TempDir, args: &[&str]) -> Ran {
    ran(adze(dir, args).output().expect("adze runs"))
}

fn json(ran: &Ran) -> Value {
    serde_json::from_str(&ran.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            ran.stdout, ran.stderr
        )
    })
}

fn condition(object: &Value) -> (String, String) {
    let c = &object["status"]["conditions"][0];
    (
        c["status"].as_str().unwrap_or_default().to_owned(),
        c["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

const PIPELINE: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: demo}
spec:
  params: [{name: who, value: world}]
  pipelineSpec:
    params: [{name: who}]
    results: [{name: greeting, value: $(tasks.hello.results.msg)}]
    tasks:
    - name: hello
      taskSpec:
        results: [{name: msg}]
        steps:
        - name: say
          image: IMAGE
          env: [{name: WHO, value: $(params.who)}]
          script: |
            echo "hello $WHO"
            printf "hi $WHO" > $(results.msg.path)
    - name: shout
      params: [{name: m, value: $(tasks.hello.results.msg)}]
      taskSpec:
        params: [{name: m}]
        results: [{name: loud}]
        steps:
        - name: up
          image: IMAGE
          env: [{name: M, value: $(params.m)}]
          script: |
            echo "$M" | tr a-z A-Z | tr -d '\n' > $(results.loud.path)
    finally:
    - name: report
      taskSpec:
        steps: [{name: r, image: IMAGE, script: 'echo report-ran'}]
"#;

#[test]
fn a_pipeline_run_succeeds_prints_its_status_and_streams_prefixed_logs() {
    let _engine = engine();
    let dir = workdir(PIPELINE);
    let out = run(&dir, &["run", "run.yaml", "-o", "json"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let pr = json(&out);
    assert_eq!(pr["kind"], "PipelineRun");
    assert_eq!(pr["apiVersion"], "tekton.dev/v1");
    assert_eq!(condition(&pr), ("True".into(), "Succeeded".into()));
    assert_eq!(pr["status"]["results"][0]["value"], "hi world");
    let children: Vec<&str> = pr["status"]["childReferences"]
        .as_array()
        .expect("childReferences")
        .iter()
        .filter_map(|c| c["pipelineTaskName"].as_str())
        .collect();
    assert_eq!(children, ["hello", "shout", "report"]);
    for line in [
        "[hello/say] hello world",
        "[report/r] report-ran",
        "✓ shout succeeded",
    ] {
        assert!(
            out.stderr.contains(line),
            "missing {line:?} in:\n{}",
            out.stderr
        );
    }
    assert!(
        out.stderr.contains("TASK"),
        "summary table:\n{}",
        out.stderr
    );
    assert_no_containers();
}

#[test]
fn a_failing_step_exits_1_runs_finally_and_says_why() {
    let _engine = engine();
    let dir = workdir(&PIPELINE.replace("tr a-z A-Z", "exit 7; tr a-z A-Z"));
    let out = run(&dir, &["run", "run.yaml", "-o", "yaml"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stdout.contains("reason: Failed"), "{}", out.stdout);
    assert!(
        out.stderr.contains("\"step-up\" exited with code 7: Error"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("[report/r] report-ran"),
        "{}",
        out.stderr
    );
    assert_no_containers();
}

#[test]
fn a_task_run_prints_a_task_run_with_its_steps() {
    let _engine = engine();
    let dir = workdir(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {generateName: single-}
spec:
  taskSpec:
    results: [{name: out}]
    steps:
    - {name: one, image: IMAGE, script: 'printf 42 > $(results.out.path)'}
    - {name: two, image: IMAGE, command: [sh, -c, 'exit 0']}
"#,
    );
    let out = run(&dir, &["run", "run.yaml", "-o", "json"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let tr = json(&out);
    assert_eq!(tr["kind"], "TaskRun");
    let name = tr["metadata"]["name"].as_str().expect("name");
    assert!(
        name.starts_with("single-") && name.len() == "single-".len() + 5,
        "generateName gets a 5-character suffix: {name}"
    );
    assert_eq!(condition(&tr), ("True".into(), "Succeeded".into()));
    assert_eq!(tr["status"]["results"][0]["value"], "42");
    let steps: Vec<&str> = tr["status"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(steps, ["one", "two"]);
    assert_eq!(tr["status"]["steps"][1]["terminated"]["exitCode"], 0);
    assert_no_containers();
}

#[test]
fn an_unreachable_engine_exits_3_and_says_how_to_get_one() {
    let dir = workdir(PIPELINE);
    let out = ran(adze(&dir, &["run", "run.yaml"])
        .env("DOCKER_HOST", "unix:///nonexistent/adze-test.sock")
        .output()
        .expect("adze runs"));
    assert_eq!(out.status, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot reach the Docker engine")
            && out.stderr.contains("scripts/install-prerequisites.sh"),
        "{}",
        out.stderr
    );
}

#[test]
fn several_runs_in_the_files_need_run_to_choose() {
    let dir = workdir(&format!(
        "{PIPELINE}\n---\n{}",
        PIPELINE.replace("name: demo", "name: other")
    ));
    let out = run(&dir, &["run", "run.yaml"]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--run NAME"), "{}", out.stderr);
}

const SLOW: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: slow}
spec:
  pipelineSpec:
    tasks:
    - name: sleepy
      taskSpec:
        steps: [{name: nap, image: IMAGE, script: 'echo napping; sleep 60'}]
    - name: after
      runAfter: [sleepy]
      taskSpec:
        steps: [{name: never, image: IMAGE, script: 'echo should-not-run'}]
    finally:
    - name: cleanup
      taskSpec:
        steps: [{name: c, image: IMAGE, script: 'echo cleanup-ran'}]
"#;

#[test]
fn ctrl_c_cancels_the_run_runs_finally_and_leaves_no_container() {
    let _engine = engine();
    let dir = workdir(SLOW);
    let running = Running::start(
        adze(&dir, &["run", "run.yaml", "-o", "json"]),
        "[sleepy/nap] napping",
    );
    let sent = Instant::now();
    running.interrupt();
    let out = Ran::from(running.finish(FINISH_LIMIT));
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "cancelled in {:?}",
        sent.elapsed()
    );
    assert_eq!(out.status, 1);
    let pr = json(&out);
    assert_eq!(condition(&pr), ("False".into(), "Cancelled".into()));
    let children: Vec<&str> = pr["status"]["childReferences"]
        .as_array()
        .expect("childReferences")
        .iter()
        .filter_map(|c| c["pipelineTaskName"].as_str())
        .collect();
    assert_eq!(
        children,
        ["sleepy", "cleanup"],
        "finally ran, `after` did not"
    );
    let skipped = &pr["status"]["skippedTasks"][0];
    assert_eq!(skipped["name"], "after");
    assert_eq!(skipped["reason"], "PipelineRun was gracefully cancelled");
    assert_no_containers();
}

#[test]
fn a_pipeline_timeout_ends_the_run_at_it_not_at_the_steps_end() {
    let _engine = engine();
    let dir = workdir(&SLOW.replace(
        "spec:\n  pipelineSpec:",
        "spec:\n  timeouts: {pipeline: 3s}\n  pipelineSpec:",
    ));
    let started = Instant::now();
    let out = run(&dir, &["run", "run.yaml", "-o", "json"]);
    let took = started.elapsed();
    // Not before the timeout, and long before the 60 s step or a 10 s stop grace would end
    // it; how soon after is a benchmark's question, not this loaded machine's.
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(9),
        "the run took {took:?} for a 3s timeout"
    );
    assert_eq!(out.status, 1, "{}", out.stderr);
    let pr = json(&out);
    assert_eq!(
        condition(&pr),
        ("False".into(), "PipelineRunTimeout".into())
    );
    assert_no_containers();
}

#[test]
fn only_and_from_rerun_part_of_a_pipeline_with_the_last_results() {
    let _engine = engine();
    let dir = workdir(PIPELINE);
    let first = run(&dir, &["run", "run.yaml"]);
    assert_eq!(first.status, 0, "{}", first.stderr);
    assert!(dir.path().join(".adze/runs/demo.json").is_file());

    let only = run(&dir, &["run", "run.yaml", "--only", "shout", "-o", "json"]);
    assert_eq!(only.status, 0, "{}", only.stderr);
    assert!(
        !only.stderr.contains("[hello/say]"),
        "hello re-ran:\n{}",
        only.stderr
    );
    assert!(
        !only.stderr.contains("report-ran"),
        "--only skips finally:\n{}",
        only.stderr
    );
    assert!(only.stderr.contains("Reused"), "{}", only.stderr);
    let pr = json(&only);
    assert_eq!(pr["status"]["results"][0]["value"], "hi world");

    let from = run(&dir, &["run", "run.yaml", "--from", "shout"]);
    assert_eq!(from.status, 0, "{}", from.stderr);
    assert!(
        from.stderr.contains("report-ran"),
        "--from runs finally:\n{}",
        from.stderr
    );
    assert!(!from.stderr.contains("[hello/say]"), "{}", from.stderr);

    let unknown = run(&dir, &["run", "run.yaml", "--only", "shoutt"]);
    assert_eq!(unknown.status, 2);
    assert!(
        unknown.stderr.contains("did you mean \"shout\""),
        "{}",
        unknown.stderr
    );
    assert_no_containers();
}

#[test]
fn a_container_killed_mid_step_fails_the_step_and_the_run_with_a_clear_reason() {
    let _engine = engine();
    let dir = workdir(SLOW);
    let running = Running::start(
        adze(&dir, &["run", "run.yaml", "-o", "json"]),
        "[sleepy/nap] napping",
    );
    let out = Command::new("docker")
        .args(["ps", "-q", "--filter", "label=adze.dev/step=nap"])
        .output()
        .expect("docker ps");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(!id.is_empty(), "the step's container is running");
    let killed = Command::new("docker")
        .args(["kill", &id])
        .output()
        .expect("docker kill");
    assert!(killed.status.success());
    let out = Ran::from(running.finish(FINISH_LIMIT));
    assert!(
        out.stderr.contains("\"step-nap\" exited with code 137"),
        "the reason names the step and the kill:\n{}",
        out.stderr
    );
    assert_eq!(out.status, 1);
    let pr = json(&out);
    assert_eq!(condition(&pr), ("False".into(), "Failed".into()));
    let children: Vec<&str> = pr["status"]["childReferences"]
        .as_array()
        .expect("childReferences")
        .iter()
        .filter_map(|c| c["pipelineTaskName"].as_str())
        .collect();
    assert_eq!(children, ["sleepy", "cleanup"], "finally still runs");
    assert_no_containers();
}

/// `securityContext.privileged` reaches the engine. Whether the engine can grant it depends
/// on the host (an engine inside an unprivileged container cannot), so the test inspects
/// the kept containers rather than mounting something.
#[test]
fn a_privileged_step_asks_the_engine_for_a_privileged_container() {
    let _engine = engine();
    let dir = workdir(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: privileged}
spec:
  taskSpec:
    steps:
    - {name: plain, image: IMAGE, script: 'true'}
    - {name: raised, image: IMAGE, securityContext: {privileged: true}, script: 'true'}
"#,
    );
    let out = run(&dir, &["run", "run.yaml", "--keep"]);
    assert!(out.stderr.contains("kept:"), "{}", out.stderr);
    let privileged = |step: &str| {
        let ids = Command::new("docker")
            .args([
                "ps",
                "-aq",
                "--filter",
                &format!("label=adze.dev/step={step}"),
            ])
            .output()
            .expect("docker ps");
        let id = String::from_utf8_lossy(&ids.stdout).trim().to_owned();
        assert!(!id.is_empty(), "step {step} was kept:\n{}", out.stderr);
        let inspect = Command::new("docker")
            .args(["inspect", "-f", "{{.HostConfig.Privileged}}", &id])
            .output()
            .expect("docker inspect");
        let value = String::from_utf8_lossy(&inspect.stdout).trim().to_owned();
        let removed = Command::new("docker").args(["rm", "-f", &id]).output();
        assert!(removed.is_ok_and(|o| o.status.success()));
        value
    };
    assert_eq!(privileged("plain"), "false");
    assert_eq!(privileged("raised"), "true");
    // The kept TaskRun directory goes the way the hint says.
    let run_id = out
        .stderr
        .split("--run-id ")
        .nth(1)
        .and_then(|rest| rest.split(['`', ' ', '\n']).next())
        .unwrap_or_else(|| panic!("the kept hint names the run id:\n{}", out.stderr));
    let gc = run(&dir, &["gc", "--yes", "--include-kept", "--run-id", run_id]);
    assert_eq!(gc.status, 0, "{}", gc.stderr);
    assert!(gc.stdout.contains("removed"), "{}", gc.stdout);
    assert_no_containers();
}

#[test]
fn a_task_run_created_cancelled_is_cancelled_without_running() {
    let _engine = engine();
    let dir = workdir(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: never}
spec:
  status: TaskRunCancelled
  taskSpec:
    steps: [{name: s, image: IMAGE, script: 'echo should-not-run'}]
"#,
    );
    let out = run(&dir, &["run", "run.yaml", "-o", "json"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(!out.stderr.contains("should-not-run"), "{}", out.stderr);
    let tr = json(&out);
    assert_eq!(condition(&tr), ("False".into(), "TaskRunCancelled".into()));
    assert_no_containers();
}

#[test]
fn a_second_ctrl_c_kills_finally_too() {
    let _engine = engine();
    let dir = workdir(&SLOW.replace(
        "script: 'echo cleanup-ran'",
        "script: 'echo cleanup-started; sleep 60'",
    ));
    let running = Running::start(
        adze(&dir, &["run", "run.yaml", "-o", "json"]),
        "[sleepy/nap] napping",
    );
    running.interrupt();
    running.wait_for("[cleanup/c] cleanup-started");
    let sent = Instant::now();
    running.interrupt();
    let out = Ran::from(running.finish(FINISH_LIMIT));
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "the second interrupt kills at once, took {:?}",
        sent.elapsed()
    );
    assert!(
        out.stderr.contains("interrupt: killing containers"),
        "{}",
        out.stderr
    );
    let pr = json(&out);
    assert_eq!(condition(&pr), ("False".into(), "Cancelled".into()));
    assert_no_containers();
}
