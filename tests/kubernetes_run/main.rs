//! `adze run --executor kubernetes` across the process boundary, against kube-sim (a
//! Kubernetes API stand-in whose kubelet runs Pods in the local Docker engine; nothing here
//! has run on a real cluster): a run's status and logs, a missing image, cancellation,
//! `--keep`, an API server that is not there and one that dies mid-run; results read from the
//! `tekton-log-results` sidecar, and sidecars stopped with the no-op image on a server
//! without native sidecars (`sidecars.rs`).

#[path = "../common/mod.rs"]
mod common;
mod masking;
mod sidecars;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::kube_sim::Sim;
use common::running::Running;

/// The entrypoint image tests/setup-docker.sh builds from the static entrypoint, or
/// `ADZE_TEST_ENTRYPOINT_IMAGE` (an image of a worktree's own static entrypoint, without
/// retagging the shared one).
fn entrypoint_image() -> String {
    std::env::var("ADZE_TEST_ENTRYPOINT_IMAGE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "adze-test/entrypoint:latest".to_owned())
}

/// `adze run FILE --executor kubernetes` against `sim` in `namespace`, with `extra` flags.
fn adze(sim: &Sim, dir: &Path, namespace: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
    command
        .current_dir(dir)
        .args([
            "run",
            "run.yaml",
            "--executor",
            "kubernetes",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig)
        .args([
            "--namespace",
            namespace,
            "--entrypoint-image",
            &entrypoint_image(),
        ])
        .args(["--pull", "never", "--color", "never"])
        .args(extra)
        .stdin(Stdio::null());
    command
}

/// A directory holding `run.yaml`.
fn workdir(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("run.yaml"), yaml).expect("write run.yaml");
    dir
}

/// What a finished `adze run` left.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

fn run(mut command: Command) -> Ran {
    let out = command.output().expect("adze runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The names of the objects of `kinds` in `namespace`.
fn objects(sim: &Sim, namespace: &str, kinds: &str) -> Vec<String> {
    sim.kubectl(&["-n", namespace, "get", kinds, "-o", "name"])
        .lines()
        .map(str::to_owned)
        .collect()
}

const TWO_STEPS: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: two-steps}
spec:
  taskSpec:
    results: [{name: greeting}]
    steps:
    - name: write
      image: adze-test/busybox:latest
      script: |
        echo writing the greeting
        printf hello > $(results.greeting.path)
    - name: read
      image: adze-test/busybox:latest
      command: [sh, -c, 'echo second step sees $(cat /tekton/results/greeting)']
"#;

#[test]
fn a_task_run_runs_as_a_pod_with_logs_results_and_steps_in_tektons_shape() {
    let sim = Sim::shared();
    let ns = sim.namespace("two-steps");
    let dir = workdir(TWO_STEPS);
    let out = run(adze(
        sim,
        dir.path(),
        &ns,
        &["-o", "json", "--events-file", "events.jsonl"],
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_events(&std::fs::read_to_string(dir.path().join("events.jsonl")).expect("events"));
    assert!(
        out.stderr.contains("writing the greeting"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("second step sees hello"),
        "{}",
        out.stderr
    );
    let json = out.json();
    let status = &json["status"];
    assert_eq!(status["conditions"][0]["reason"], "Succeeded");
    assert_eq!(status["podName"], "two-steps-pod");
    assert_eq!(status["results"][0]["value"], "hello");
    let steps: Vec<(&str, i64)> = status["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or(""),
                s["terminated"]["exitCode"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(steps, [("write", 0), ("read", 0)]);
    // The steps ran one after the other although their containers started together: the
    // read step saw the result (above), and it started once the write step was done. The
    // kubelet records a container's finish after its process has handed over to the next
    // step, and Kubernetes keeps whole seconds, so the two may straddle a second by a hair.
    let at = |step: usize, field: &str| {
        let text = status["steps"][step]["terminated"][field]
            .as_str()
            .unwrap_or_default();
        adze::status::parse_rfc3339(text)
            .unwrap_or_else(|| panic!("steps[{step}].{field} is not RFC 3339: {text:?}"))
            .0
    };
    let (write_start, write_end, read_start) =
        (at(0, "startedAt"), at(0, "finishedAt"), at(1, "startedAt"));
    assert!(
        read_start >= write_start && read_start + 1000 >= write_end,
        "write ran {write_start}..{write_end} ms, read started at {read_start} ms"
    );
    // Recorded in the history as a local run is: its logs and the object printed.
    let history = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
        command.current_dir(dir.path()).args(args);
        run(command)
    };
    let logs = history(&["logs", "two-steps", "two-steps/write"]);
    assert_eq!(
        (logs.code, logs.stdout.as_str()),
        (0, "[two-steps/write] writing the greeting\n"),
        "{}",
        logs.stderr
    );
    assert_eq!(history(&["show", "two-steps", "-o", "json"]).json(), json);
    assert!(
        objects(sim, &ns, "pods,configmaps")
            .iter()
            .all(|o| o == "configmap/kube-root-ca.crt"),
        "the run's objects were not removed: {:?}",
        objects(sim, &ns, "pods,configmaps")
    );
}

/// The `--events-file` of [`TWO_STEPS`]: the same events as the Docker executor's, valid
/// under the schema, with the Pod's steps, their output and the result.
fn assert_events(text: &str) {
    let schema = adze::events::schema::schema();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|line| {
            let event = serde_json::from_str(line).expect("a JSON line");
            if let Err(e) = adze::events::schema::validate(&schema, &event) {
                panic!("not valid under the schema ({e}): {line}");
            }
            assert_eq!(event["run"], "two-steps", "{line}");
            event
        })
        .collect();
    let of_type = |kind: &str| -> Vec<&serde_json::Value> {
        events.iter().filter(|e| e["type"] == kind).collect()
    };
    assert_eq!(
        events.first().map(|e| &e["type"]),
        Some(&"runStarted".into()),
        "{text}"
    );
    assert_eq!(
        events.last().map(|e| &e["type"]),
        Some(&"runFinished".into()),
        "{text}"
    );
    assert_eq!(
        events.last().map(|e| &e["status"]),
        Some(&"True".into()),
        "{text}"
    );
    let steps: Vec<(&str, i64, bool)> = of_type("stepFinished")
        .iter()
        .map(|e| {
            (
                e["step"].as_str().unwrap_or_default(),
                e["exitCode"].as_i64().unwrap_or(-1),
                e["durationMs"].is_u64(),
            )
        })
        .collect();
    assert_eq!(steps, [("write", 0, true), ("read", 0, true)], "{text}");
    assert!(
        of_type("log").iter().any(|e| e["task"] == "two-steps"
            && e["step"] == "write"
            && e["text"] == "writing the greeting"),
        "{text}"
    );
    let results = of_type("result");
    assert_eq!(
        results
            .iter()
            .map(|e| (&e["name"], &e["value"]))
            .collect::<Vec<_>>(),
        [(&"greeting".into(), &"hello".into())],
        "{text}"
    );
}

/// A step's `when` is decided by the entrypoint in the Pod (the Pod must carry it), and a
/// reference no earlier step wrote is a warning, as in the local run.
#[test]
fn step_guards_reach_the_pod_and_unwritten_references_are_warnings() {
    let sim = Sim::shared();
    let ns = sim.namespace("step-when");
    let dir = workdir(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: step-when}
spec:
  taskSpec:
    steps:
    - name: produce
      image: adze-test/busybox:latest
      results: [{name: verdict}]
      script: printf go > $(step.results.verdict.path)
    - name: guarded
      image: adze-test/busybox:latest
      when: [{input: $(steps.produce.results.verdict), operator: notin, values: [go]}]
      script: exit 7
    - name: echo
      image: adze-test/busybox:latest
      command: [echo, "$(steps.produce.results.missing)"]
"#,
    );
    let out = run(adze(sim, dir.path(), &ns, &["-o", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    let guarded = &json["status"]["steps"][1];
    assert_eq!(guarded["terminationReason"], "Skipped", "{json:#}");
    assert_eq!(guarded["terminated"]["exitCode"], 0, "{json:#}");
    assert!(
        out.stderr.contains(
            "warning: [step-when] step \"echo\": $(steps.produce.results.missing) was not \
             written by an earlier step; left as is"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_image_fails_the_task_run_with_tektons_reason() {
    let sim = Sim::shared();
    let ns = sim.namespace("missing-image");
    let dir = workdir(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: no-image}
spec:
  taskSpec:
    steps:
    - {name: build, image: adze-test/does-not-exist:1, command: ["true"]}
"#,
    );
    let out = run(adze(sim, dir.path(), &ns, &["-o", "json"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let condition = &out.json()["status"]["conditions"][0];
    assert_eq!(condition["reason"], "TaskRunImagePullFailed", "{condition}");
    let message = condition["message"].as_str().unwrap_or("");
    assert!(
        message.contains("the step \"build\" in TaskRun \"no-image\" failed to pull the image \"adze-test/does-not-exist:1\""),
        "{message}"
    );
}

const SLOW: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: slow}
spec:
  taskSpec:
    steps:
    - {name: nap, image: adze-test/busybox:latest, script: 'echo napping; sleep 60'}
    - {name: never, image: adze-test/busybox:latest, script: 'echo should-not-run'}
"#;

#[test]
fn ctrl_c_cancels_the_run_and_deletes_what_it_created() {
    let sim = Sim::shared();
    let ns = sim.namespace("cancel");
    let dir = workdir(SLOW);
    let running = Running::start(adze(sim, dir.path(), &ns, &["-o", "json"]), "napping");
    assert!(
        objects(sim, &ns, "pods").contains(&"pod/slow-pod".to_owned()),
        "the Pod exists while it runs"
    );
    running.interrupt();
    let out = running.finish(Duration::from_secs(30));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON status");
    assert_eq!(
        json["status"]["conditions"][0]["reason"],
        "TaskRunCancelled"
    );
    assert!(!out.stderr.contains("should-not-run"), "{}", out.stderr);
    let left: Vec<String> = objects(sim, &ns, "pods,configmaps")
        .into_iter()
        .filter(|o| o != "configmap/kube-root-ca.crt")
        .collect();
    assert!(left.is_empty(), "left after Ctrl-C: {left:?}");
}

#[test]
fn keep_leaves_the_objects_and_says_how_to_inspect_and_delete_them() {
    let sim = Sim::shared();
    let ns = sim.namespace("keep");
    let dir = workdir(TWO_STEPS);
    let out = run(adze(sim, dir.path(), &ns, &["--keep"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pods = objects(sim, &ns, "pods");
    assert_eq!(pods, ["pod/two-steps-pod"]);
    assert!(out.stderr.contains("pod/two-steps-pod"), "{}", out.stderr);
    assert!(
        out.stderr.contains("configmap/two-steps-scripts"),
        "{}",
        out.stderr
    );
    let delete = out
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("remove:"))
        .unwrap_or_else(|| panic!("no remove hint:\n{}", out.stderr))
        .trim()
        .to_owned();
    // The printed command, run as printed, removes everything the run made.
    let args: Vec<&str> = delete.split_whitespace().skip(1).collect();
    let mut with_config = vec!["--kubeconfig", sim.kubeconfig.to_str().unwrap()];
    with_config.extend(args);
    let status = Command::new("kubectl")
        .args(&with_config)
        .output()
        .expect("kubectl runs");
    assert!(
        status.status.success(),
        "{delete}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let left: Vec<String> = objects(sim, &ns, "pods,configmaps")
        .into_iter()
        .filter(|o| o != "configmap/kube-root-ca.crt")
        .collect();
    assert!(left.is_empty(), "left after the printed delete: {left:?}");
}

#[test]
fn an_unreachable_api_server_is_exit_3_naming_it() {
    let sim = Sim::shared();
    let dir = workdir(TWO_STEPS);
    let kubeconfig = dir.path().join("kubeconfig");
    // The shared kube-sim's kubeconfig, pointed at a port nobody listens on.
    let text = std::fs::read_to_string(&sim.kubeconfig).expect("kubeconfig");
    std::fs::write(&kubeconfig, text.replace(&sim.url, "https://127.0.0.1:9")).unwrap();
    let out = run({
        let mut c = Command::new(env!("CARGO_BIN_EXE_adze"));
        c.current_dir(dir.path())
            .args([
                "run",
                "run.yaml",
                "--executor",
                "kubernetes",
                "--kubeconfig",
            ])
            .arg(&kubeconfig);
        c
    });
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("https://127.0.0.1:9") && out.stderr.contains("unreachable"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("help:"), "{}", out.stderr);
}

#[test]
fn an_api_server_that_dies_mid_run_is_exit_3_and_what_was_created_is_listed() {
    let sim = Sim::start();
    let dir = workdir(SLOW);
    let running = Running::start(adze(&sim, dir.path(), "default", &[]), "napping");
    sim.stop();
    let out = running.finish(Duration::from_secs(60));
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(out.stderr.contains(&sim.url), "{}", out.stderr);
    assert!(out.stderr.contains("pod/slow-pod"), "{}", out.stderr);
    assert!(
        out.stderr.contains("kubectl -n default delete"),
        "{}",
        out.stderr
    );
}

/// A `cluster` reference read from the API server (a Task in another namespace), where a
/// local run reads the loaded documents.
#[test]
fn cluster_references_read_the_api_server() {
    let sim = Sim::shared();
    let ns = sim.namespace("cluster-ref");
    let shared = sim.namespace("cluster-ref-tasks");
    let task = r#"apiVersion: tekton.dev/v1
kind: Task
metadata: {name: shared-greeting}
spec:
  results: [{name: greeting}]
  steps:
  - {name: greet, image: adze-test/busybox:latest, script: printf "from the cluster" > $(results.greeting.path)}
"#;
    let file = sim.dir().join("cluster-ref-task.yaml");
    std::fs::write(&file, task).expect("write the Task");
    sim.kubectl(&[
        "create",
        "--validate=false",
        "-n",
        &shared,
        "-f",
        file.to_str().expect("UTF-8"),
    ]);
    let dir = workdir(&cluster_ref_run(
        "by-cluster-ref",
        "shared-greeting",
        &shared,
    ));
    let out = run(adze(sim, dir.path(), &ns, &["-o", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json()["status"]["results"][0]["value"],
        "from the cluster"
    );

    // A Task the API server does not have is named, and nothing is created.
    let dir = workdir(&cluster_ref_run("by-missing-ref", "no-such-task", &shared));
    let out = run(adze(sim, dir.path(), &ns, &[]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "no Task \"no-such-task\" in namespace \"{shared}\" on the API server"
        )),
        "{}",
        out.stderr
    );
    assert!(objects(sim, &ns, "pods").is_empty());
}

/// A TaskRun `name` whose `taskRef` asks the cluster resolver for Task `task` in `namespace`.
fn cluster_ref_run(name: &str, task: &str, namespace: &str) -> String {
    format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: {name}}}
spec:
  taskRef:
    resolver: cluster
    params:
    - {{name: kind, value: task}}
    - {{name: name, value: {task}}}
    - {{name: namespace, value: {namespace}}}
"#
    )
}
