//! Tekton's conformance checklist (spec/pipelines.md §6), row by row, against the real binary:
//! each test writes a small run, executes it with `adze run -o json` in local containers and
//! asserts on the TaskRun or PipelineRun printed.
//!
//! Only rows adze implements today are here; rows whose feature is still being built
//! (sidecars, `securityContext.privileged`, workspaces, `spec.status: TaskRunCancelled`,
//! array/object result values, `$(tasks.X.status)` in finally) are left out rather than
//! skipped, so every test here passes and can fail. Needs Docker and `adze-test/busybox:latest`
//! (`bash tests/setup-docker.sh`).

mod common;

use std::time::Duration;

use common::{is_rfc3339, require_docker, run_adze};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(120);

/// What one `adze run` printed: exit status, the run as JSON, and stderr.
struct Ran {
    code: Option<i32>,
    run: Value,
    stderr: String,
}

impl Ran {
    fn status(&self) -> &Value {
        &self.run["status"]
    }

    fn condition(&self) -> &Value {
        &self.run["status"]["conditions"][0]
    }

    /// Asserts the run succeeded: exit 0 and `Succeeded=True`.
    fn succeeded(self) -> Self {
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
    fn result(&self, name: &str) -> &Value {
        let results = self.status()["results"]
            .as_array()
            .unwrap_or_else(|| panic!("no status.results in {}", self.run));
        &results
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no result {name} in {}", self.run))["value"]
    }
}

/// Runs `yaml` with `adze run -o json` and parses what it printed.
fn run(yaml: &str) -> Ran {
    require_docker();
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("run.yaml"), yaml).expect("write run.yaml");
    let out = run_adze(
        dir.path(),
        &[
            "run", "run.yaml", "-o", "json", "--color", "never", "--pull", "never",
        ],
        LIMIT,
    );
    assert!(
        !out.stderr.contains("panicked"),
        "adze panicked:\n{}",
        out.stderr
    );
    let run = out
        .json()
        .unwrap_or_else(|| panic!("stdout is not JSON:\n{}\n{}", out.stdout, out.stderr));
    Ran {
        code: out.code,
        run,
        stderr: out.stderr,
    }
}

fn assert_rfc3339(value: &Value, what: &str) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"));
    assert!(is_rfc3339(text), "{what} is not RFC 3339: {text}");
}

/// A TaskRun named `name` with the given steps (YAML, indented for `steps:`).
fn task_run(name: &str, steps: &str) -> String {
    format!(
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: {name}\nspec:\n  taskSpec:\n    steps:\n{steps}"
    )
}

// --- ObjectMeta -------------------------------------------------------------------------

#[test]
fn object_meta_name_uid_and_creation_timestamp() {
    let ran = run(&task_run(
        "meta",
        "      - name: s\n        image: adze-test/busybox:latest\n        script: \"true\"\n",
    ))
    .succeeded();
    let meta = &ran.run["metadata"];
    assert_eq!(meta["name"], "meta");
    assert_rfc3339(&meta["creationTimestamp"], "metadata.creationTimestamp");
    let uid = meta["uid"].as_str().expect("metadata.uid");
    assert_eq!(uid.len(), 36, "uid is not a UUID: {uid}");
    assert_eq!(ran.run["kind"], "TaskRun");
    assert_eq!(ran.run["apiVersion"], "tekton.dev/v1");
}

#[test]
fn object_meta_generate_name_appends_a_random_suffix() {
    let yaml = "\
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  generateName: gen-
  labels: {team: a}
  annotations: {note: b}
spec:
  taskSpec:
    steps:
      - name: s
        image: adze-test/busybox:latest
        script: \"true\"
";
    let first = run(yaml).succeeded();
    let second = run(yaml).succeeded();
    let name = |r: &Ran| r.run["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let (a, b) = (name(&first), name(&second));
    assert!(a.starts_with("gen-") && a.len() > 4, "name {a:?}");
    assert_ne!(a, b, "two runs got the same generated name");
    assert_ne!(
        first.run["metadata"]["uid"], second.run["metadata"]["uid"],
        "two runs got the same uid"
    );
    assert_eq!(first.run["metadata"]["labels"]["team"], "a");
    assert_eq!(first.run["metadata"]["annotations"]["note"], "b");
}

// --- TaskSpec, ParamSpec, Step, TaskResult -----------------------------------------------

#[test]
fn task_spec_params_of_every_type_reach_the_steps() {
    let yaml = "\
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: params
spec:
  params:
    - name: str
      value: hello
    - name: arr
      value: [x, y, z]
    - name: obj
      value: {k: v}
  taskSpec:
    description: params of every type
    params:
      - name: str
        type: string
        description: a string
      - name: arr
        type: array
      - name: obj
        type: object
        properties: {k: {type: string}}
      - name: dflt
        default: fallback
    results:
      - name: out
    steps:
      - name: s
        image: adze-test/busybox:latest
        args: [\"$(params.arr[*])\"]
        env:
          - name: STR
            value: $(params.str)
          - name: KEY
            value: $(params.obj.k)
          - name: DFLT
            value: $(params.dflt)
        script: |
          echo -n \"$STR $# $1 $3 $KEY $DFLT $(params.arr[1])\" > $(results.out.path)
";
    let ran = run(yaml).succeeded();
    assert_eq!(ran.result("out"), "hello 3 x z v fallback y");
}

#[test]
fn step_command_args_working_dir_env_and_script() {
    let yaml = "\
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: step-fields
spec:
  taskSpec:
    results:
      - name: cmd
      - name: script
    steps:
      - name: with-command
        image: adze-test/busybox:latest
        command: [sh, -c]
        args: ['echo -n \"$0:$(pwd):$GREETING\" > $(results.cmd.path)', first-arg]
        workingDir: /tmp
        env:
          - name: GREETING
            value: hi
      - name: with-script
        image: adze-test/busybox:latest
        workingDir: /etc
        script: |
          #!/bin/sh
          echo -n \"$(pwd)\" > $(results.script.path)
";
    let ran = run(yaml).succeeded();
    assert_eq!(ran.result("cmd"), "first-arg:/tmp:hi");
    assert_eq!(ran.result("script"), "/etc");
}

/// Only `type: string` is asserted: adze reports array and object results as `type: string`
/// with JSON text as the value today, where Tekton reports their type and a JSON
/// array/object (reported bug), so those are left out.
#[test]
fn task_result_string_is_reported_with_name_type_and_value() {
    let yaml = "\
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: results
spec:
  taskSpec:
    results:
      - name: str
        type: string
        description: a string
      - name: other
    steps:
      - name: s
        image: adze-test/busybox:latest
        script: |
          echo -n text > $(results.str.path)
          printf 'two\\nlines' > $(results.other.path)
";
    let ran = run(yaml).succeeded();
    assert_eq!(ran.result("str"), "text");
    assert_eq!(ran.result("other"), "two\nlines");
    for result in ran.status()["results"].as_array().expect("results") {
        assert_eq!(result["type"], "string", "{result}");
    }
}

// --- TaskRunSpec, TaskRunStatus, Condition, StepState ------------------------------------

#[test]
fn task_run_status_has_times_task_spec_steps_and_results() {
    let yaml = "\
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: status
spec:
  params:
    - name: word
      value: resolved
  taskSpec:
    params:
      - name: word
    results:
      - name: r
    steps:
      - name: first
        image: adze-test/busybox:latest
        script: echo -n $(params.word) > $(results.r.path)
      - name: second
        image: adze-test/busybox:latest
        args: [\"$(params.word)\"]
        command: [echo]
";
    let ran = run(yaml).succeeded();
    let status = ran.status();
    assert_rfc3339(&status["startTime"], "status.startTime");
    assert_rfc3339(&status["completionTime"], "status.completionTime");
    assert!(status["startTime"].as_str() <= status["completionTime"].as_str());
    // status.taskSpec is the spec as run: params substituted.
    assert_eq!(status["taskSpec"]["steps"][1]["args"][0], "resolved");
    let steps = status["steps"].as_array().expect("status.steps");
    let names: Vec<&str> = steps
        .iter()
        .map(|s| s["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["first", "second"]);
    assert_eq!(ran.result("r"), "resolved");
    let result = &status["results"][0];
    assert_eq!(result["type"], "string");
}

#[test]
fn condition_fields_on_success_and_failure() {
    let ok = run(&task_run(
        "cond-ok",
        "      - name: s\n        image: adze-test/busybox:latest\n        script: \"true\"\n",
    ))
    .succeeded();
    let c = ok.condition();
    assert_eq!(c["type"], "Succeeded");
    assert_eq!(c["reason"], "Succeeded");
    assert!(c["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_rfc3339(&c["lastTransitionTime"], "lastTransitionTime");

    let failed = run(&task_run(
        "cond-fail",
        "      - name: boom\n        image: adze-test/busybox:latest\n        script: exit 3\n",
    ));
    assert_eq!(failed.code, Some(1), "a failed run exits 1");
    let c = failed.condition();
    assert_eq!(c["type"], "Succeeded");
    assert_eq!(c["status"], "False");
    assert_eq!(c["reason"], "StepFailed");
    let message = c["message"].as_str().unwrap_or("");
    assert!(
        message.contains("step-boom") && message.contains('3'),
        "the message names the step and its exit code: {message}"
    );
}

#[test]
fn step_state_has_image_id_and_exactly_one_state() {
    let yaml = task_run(
        "step-state",
        "      - name: ok\n        image: adze-test/busybox:latest\n        script: \"true\"\n\
         \x20     - name: fails\n        image: adze-test/busybox:latest\n        script: exit 7\n",
    );
    let ran = run(&yaml);
    assert_eq!(ran.code, Some(1));
    let steps = ran.status()["steps"].as_array().expect("status.steps");
    for step in steps {
        assert!(
            step["imageID"].as_str().is_some_and(|i| !i.is_empty()),
            "{step}"
        );
        let states = ["waiting", "running", "terminated"]
            .iter()
            .filter(|s| step.get(**s).is_some())
            .count();
        assert_eq!(states, 1, "exactly one state: {step}");
        let t = &step["terminated"];
        assert_rfc3339(&t["startedAt"], "terminated.startedAt");
        assert_rfc3339(&t["finishedAt"], "terminated.finishedAt");
    }
    assert_eq!(steps[0]["terminated"]["exitCode"], 0);
    assert_eq!(steps[0]["terminated"]["reason"], "Completed");
    assert_eq!(steps[1]["name"], "fails");
    assert_eq!(steps[1]["terminated"]["exitCode"], 7);
    assert_eq!(steps[1]["terminated"]["reason"], "Error");
}

#[test]
fn task_run_timeout_stops_the_run() {
    let yaml = "\
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: slow
spec:
  timeout: 2s
  taskSpec:
    steps:
      - name: s
        image: adze-test/busybox:latest
        script: sleep 60
";
    let started = std::time::Instant::now();
    let ran = run(yaml);
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "timeout not honoured"
    );
    assert_eq!(ran.code, Some(1));
    assert_eq!(ran.condition()["status"], "False");
    assert_eq!(ran.condition()["reason"], "TaskRunTimeout");
}

// --- PipelineSpec, PipelineTask, PipelineRunSpec, PipelineRunStatus ----------------------

const PIPELINE_RUN: &str = "\
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: conf-pr
spec:
  params:
    - name: greeting
      value: hello
    - name: words
      value: [one, two]
    - name: obj
      value: {k: v}
  timeouts:
    pipeline: 10m
    tasks: 8m
    finally: 2m
  pipelineSpec:
    params:
      - name: greeting
      - name: words
        type: array
      - name: obj
        type: object
        properties: {k: {type: string}}
    results:
      - name: joined
        type: string
        value: $(tasks.second.results.joined)
    tasks:
      - name: first
        timeout: \"0\"
        params:
          - name: g
            value: $(params.greeting)
          - name: k
            value: $(params.obj.k)
        taskSpec:
          params:
            - name: g
            - name: k
          results:
            - name: out
          steps:
            - name: s
              image: adze-test/busybox:latest
              script: echo -n \"$(params.g)-$(params.k)\" > $(results.out.path)
      - name: second
        runAfter: [first]
        params:
          - name: words
            value: [\"$(params.words[*])\"]
          - name: prev
            value: $(tasks.first.results.out)
        taskSpec:
          params:
            - name: words
              type: array
            - name: prev
          results:
            - name: joined
          steps:
            - name: s
              image: adze-test/busybox:latest
              args: [\"$(params.words[*])\"]
              script: echo -n \"$(params.prev) $1 $2\" > $(results.joined.path)
    finally:
      - name: cleanup
        taskSpec:
          steps:
            - name: s
              image: adze-test/busybox:latest
              script: \"true\"
";

#[test]
fn pipeline_params_tasks_results_and_finally() {
    let ran = run(PIPELINE_RUN).succeeded();
    assert_eq!(ran.run["kind"], "PipelineRun");
    assert_eq!(ran.result("joined"), "hello-v one two");
    let children = ran.status()["childReferences"]
        .as_array()
        .expect("status.childReferences");
    let tasks: Vec<&str> = children
        .iter()
        .map(|c| c["pipelineTaskName"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(tasks, ["first", "second", "cleanup"], "finally runs last");
    for child in children {
        assert_eq!(child["kind"], "TaskRun");
        assert!(child["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("conf-pr-")));
    }
}

#[test]
fn pipeline_run_status_has_times_and_the_pipeline_spec() {
    let ran = run(PIPELINE_RUN).succeeded();
    let status = ran.status();
    assert_rfc3339(&status["startTime"], "status.startTime");
    assert_rfc3339(&status["completionTime"], "status.completionTime");
    assert!(status["startTime"].as_str() <= status["completionTime"].as_str());
    assert_eq!(ran.condition()["type"], "Succeeded");
    assert_eq!(ran.condition()["reason"], "Succeeded");
    assert_rfc3339(&ran.condition()["lastTransitionTime"], "lastTransitionTime");
    let spec = &status["pipelineSpec"];
    assert_eq!(spec["tasks"].as_array().map(Vec::len), Some(2), "{spec}");
    assert_eq!(spec["finally"][0]["name"], "cleanup");
}

#[test]
fn run_after_orders_tasks() {
    let ran = run(PIPELINE_RUN).succeeded();
    let done_first = ran
        .stderr
        .find("first succeeded")
        .expect("progress reports first");
    let start_second = ran
        .stderr
        .find("second started")
        .expect("progress reports second");
    assert!(
        done_first < start_second,
        "second started before first finished:\n{}",
        ran.stderr
    );
}

#[test]
fn pipeline_task_timeout_fails_the_task_and_the_run() {
    let yaml = "\
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: task-timeout
spec:
  pipelineSpec:
    tasks:
      - name: slow
        timeout: 2s
        taskSpec:
          steps:
            - name: s
              image: adze-test/busybox:latest
              script: sleep 60
";
    let started = std::time::Instant::now();
    let ran = run(yaml);
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "timeout not honoured"
    );
    assert_eq!(ran.code, Some(1));
    assert_eq!(ran.condition()["status"], "False");
    assert_eq!(ran.condition()["reason"], "Failed");
}

#[test]
fn pipeline_run_timeout_stops_the_run() {
    let yaml = "\
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: pr-timeout
spec:
  timeouts:
    pipeline: 3s
  pipelineSpec:
    tasks:
      - name: slow
        taskSpec:
          steps:
            - name: s
              image: adze-test/busybox:latest
              script: sleep 60
";
    let started = std::time::Instant::now();
    let ran = run(yaml);
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "timeout not honoured"
    );
    assert_eq!(ran.code, Some(1));
    assert_eq!(ran.condition()["status"], "False");
    assert_eq!(ran.condition()["reason"], "PipelineRunTimeout");
}
