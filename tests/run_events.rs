//! `adze run --events json` end to end: the real binary against the real Docker engine.
//!
//! Every line the run writes must parse as JSON and be valid under the schema
//! `adze schema events` prints, and the events a script relies on must come in order: a retry
//! before the retried task's end, a step's exit code and duration, the text a step printed,
//! results before their task's end, `runFinished` last. Without a Docker engine these tests
//! fail (they never skip): run `bash tests/setup-docker.sh`.

mod common;

use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

const BUSYBOX: &str = "adze-test/busybox:latest";

/// A PipelineRun with a task that succeeds with a result, one skipped by its when-expression,
/// one that fails its first attempt and succeeds its retry, and one that fails.
const PIPELINE: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: events-e2e-pipeline}
spec:
  pipelineSpec:
    tasks:
      - name: hello
        taskSpec:
          results: [{name: greeting}]
          steps:
            - name: say
              image: IMAGE
              script: |
                echo hello-from-step
                printf hi > $(results.greeting.path)
      - name: skipped
        when: [{input: a, operator: in, values: [b]}]
        taskSpec:
          steps: [{name: never, image: IMAGE, script: echo never}]
      - name: flaky
        retries: 1
        taskSpec:
          steps:
            - name: try
              image: IMAGE
              script: |
                if [ "$(context.task.retry-count)" = "0" ]; then echo first-attempt; exit 3; fi
                echo second-attempt
      - name: broken
        taskSpec:
          steps: [{name: fail, image: IMAGE, script: 'echo failing; exit 7'}]
"#;

/// A bare TaskRun that succeeds with a result.
const TASK_RUN: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: events-e2e-taskrun}
spec:
  taskSpec:
    results: [{name: word}]
    steps:
      - name: write
        image: IMAGE
        script: printf done > $(results.word.path)
"#;

fn workdir(yaml: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("run.yaml"), yaml.replace("IMAGE", BUSYBOX)).expect("write");
    dir
}

fn adze(dir: &TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_adze"))
        .current_dir(dir.path())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("adze runs")
}

/// The schema as `adze schema events` prints it.
fn printed_schema() -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_adze"))
        .current_dir(dir.path())
        .args(["schema", "events"])
        .output()
        .expect("adze runs");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("the schema is JSON")
}

/// Every line of `text` as JSON, each checked against the schema and naming `run`.
fn events(text: &str, run: &str) -> Vec<Value> {
    let schema = printed_schema();
    let events: Vec<Value> = text
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            if let Err(e) = adze::events::schema::validate(&schema, &event) {
                panic!("not valid under the schema ({e}): {line}");
            }
            assert_eq!(event["run"], run, "{line}");
            let time = event["time"].as_str().unwrap_or_default();
            assert!(
                k8s_openapi::chrono::DateTime::parse_from_rfc3339(time).is_ok()
                    && time.ends_with('Z'),
                "not an RFC 3339 UTC time: {line}"
            );
            event
        })
        .collect();
    assert!(!events.is_empty(), "no events at all");
    events
}

/// The index of the first event after `from` for which `matches` holds.
fn find(events: &[Value], from: usize, matches: impl Fn(&Value) -> bool) -> Option<usize> {
    events
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, e)| matches(e))
        .map(|(i, _)| i)
}

fn is(event: &Value, kind: &str, task: &str) -> bool {
    event["type"] == kind && event["task"] == task
}

#[test]
fn a_pipeline_with_a_skip_a_retry_and_a_failure_reports_them_in_order() {
    common::require_docker();
    let dir = workdir(PIPELINE);
    let out = adze(&dir, &["run", "run.yaml", "--events", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr:\n{stderr}\nstdout:\n{stdout}"
    );
    let events = events(&stdout, "events-e2e-pipeline");
    let all = || stdout.to_string();

    let first = &events[0];
    assert_eq!(first["type"], "runStarted", "{}", all());
    assert_eq!(first["kind"], "PipelineRun");
    let last = events.last().expect("events");
    assert_eq!(last["type"], "runFinished", "{}", all());
    assert_eq!(
        (&last["status"], &last["reason"]),
        (&"False".into(), &"Failed".into())
    );
    assert_eq!(
        events.iter().filter(|e| e["type"] == "runFinished").count(),
        1,
        "{}",
        all()
    );

    // The skipped task: skipped with Tekton's reason, and never started.
    let skip = find(&events, 0, |e| is(e, "taskSkipped", "skipped")).expect("taskSkipped");
    assert_eq!(
        events[skip]["reason"],
        "When Expressions evaluated to false"
    );
    assert!(find(&events, 0, |e| is(e, "taskStarted", "skipped")).is_none());

    // The flaky task: started, its first attempt's step exits 3, retried as attempt 2,
    // started again, and only then finished, as succeeded.
    let started = find(&events, 0, |e| is(e, "taskStarted", "flaky")).expect("taskStarted");
    let exited = find(&events, started, |e| {
        is(e, "stepFinished", "flaky") && e["exitCode"] == 3
    })
    .expect("the first attempt's stepFinished");
    let retried = find(&events, exited, |e| is(e, "taskRetried", "flaky")).expect("taskRetried");
    assert_eq!(events[retried]["attempt"], 2);
    assert_eq!(events[retried]["taskRun"], events[started]["taskRun"]);
    let again = find(&events, retried, |e| is(e, "taskStarted", "flaky")).expect("a retry");
    let second = find(&events, again, |e| {
        is(e, "log", "flaky") && e["text"] == "second-attempt"
    })
    .expect("the retry's log");
    let finished = find(&events, 0, |e| is(e, "taskFinished", "flaky")).expect("taskFinished");
    assert!(second < finished, "{}", all());
    assert_eq!(events[finished]["state"], "succeeded");
    assert_eq!(events[finished]["reason"], "Succeeded");

    // The broken task: its step's exit code and duration, and the task failed for it.
    let step = find(&events, 0, |e| is(e, "stepFinished", "broken")).expect("stepFinished");
    assert_eq!(events[step]["step"], "fail");
    assert_eq!(events[step]["exitCode"], 7);
    assert!(events[step]["durationMs"].is_u64(), "{}", events[step]);
    let failed = find(&events, step, |e| is(e, "taskFinished", "broken")).expect("taskFinished");
    assert_eq!(events[failed]["state"], "failed");
    assert_eq!(events[failed]["reason"], "StepFailed");
    assert!(
        events[failed]["message"]
            .as_str()
            .is_some_and(|m| m.contains("exited with code 7")),
        "{}",
        events[failed]
    );

    // The successful task: its step's line, between its step's start and end, and its
    // result before it finished.
    let step_started = find(&events, 0, |e| is(e, "stepStarted", "hello")).expect("stepStarted");
    let line = find(&events, step_started, |e| is(e, "log", "hello")).expect("a log line");
    assert_eq!(
        (
            &events[line]["step"],
            &events[line]["stream"],
            &events[line]["text"]
        ),
        (&"say".into(), &"stdout".into(), &"hello-from-step".into())
    );
    let step_done = find(&events, line, |e| is(e, "stepFinished", "hello")).expect("stepFinished");
    assert_eq!(events[step_done]["exitCode"], 0);
    let result = find(&events, step_done, |e| is(e, "result", "hello")).expect("a result");
    assert_eq!(
        (&events[result]["name"], &events[result]["value"]),
        (&"greeting".into(), &"hi".into())
    );
    let done = find(&events, result, |e| is(e, "taskFinished", "hello")).expect("taskFinished");
    assert_eq!(events[done]["state"], "succeeded");

    // The display still shows the run on stderr.
    assert!(stderr.contains("hello-from-step"), "stderr:\n{stderr}");
}

#[test]
fn events_file_with_output_yaml_keeps_stdout_for_the_object() {
    common::require_docker();
    let dir = workdir(TASK_RUN);
    let out = adze(
        &dir,
        &[
            "run",
            "run.yaml",
            "-o",
            "yaml",
            "--events-file",
            "events.jsonl",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    let object: Value = serde_yaml_ng::from_str(&stdout).expect("stdout is only the YAML object");
    assert_eq!(object["kind"], "TaskRun");
    assert!(
        !stdout.contains("\"schema\""),
        "events on stdout:\n{stdout}"
    );

    let text = std::fs::read_to_string(dir.path().join("events.jsonl")).expect("events file");
    let events = events(&text, "events-e2e-taskrun");
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "runStarted",
            "taskStarted",
            "stepStarted",
            "stepFinished",
            "result",
            "taskFinished",
            "runFinished"
        ],
        "{text}"
    );
    assert_eq!(events[0]["kind"], "TaskRun");
    assert_eq!(events[1]["task"], "events-e2e-taskrun");
    assert_eq!(events[4]["value"], "done");
    assert_eq!(events[6]["status"], "True");
    assert_eq!(events[6]["reason"], "Succeeded");
}

#[test]
fn events_on_stdout_and_output_on_stdout_are_refused_before_anything_runs() {
    let dir = workdir(TASK_RUN);
    let out = adze(&dir, &["run", "run.yaml", "-o", "yaml", "--events", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("add --events-file PATH"),
        "stderr:\n{stderr}"
    );
}
