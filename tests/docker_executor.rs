//! The Docker executor against the real local engine, driven through the `Executor` trait.
//!
//! These tests need a running Docker engine and the `adze-test/*` images; without them they
//! fail (they never skip) — run `bash tests/setup-docker.sh` first.

mod common;

use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use adze::api::ParamValue;
use adze::exec::docker::DockerExecutor;
use adze::plan::model::StepPlan;
use adze::reconcile::Timestamp;
use adze::run::{ExecEvent, ExecOutcome, Executor, TaskRunRequest};

const BUSYBOX: &str = "adze-test/busybox:latest";
const DEBIAN: &str = "adze-test/debian:bookworm";

/// Tests share the engine and check it is left clean, so they run one at a time.
static ENGINE: Mutex<()> = Mutex::new(());

/// Fails the test with a clear message when the engine is not usable, and serializes tests.
fn engine() -> MutexGuard<'static, ()> {
    let guard = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    common::require_docker();
    guard
}

/// Asserts that no container labelled `adze.dev/run` by these tests remains. Every TaskRun
/// here is named `adze-test-…`; containers of other runs sharing the engine (another
/// worktree's `adze run`) are not these tests' to judge.
fn assert_no_containers() {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=adze.dev/run",
            "--format",
            "{{.ID}} {{.Label \"adze.dev/run\"}}",
        ])
        .output()
        .expect("docker ps runs");
    assert!(out.status.success(), "docker ps failed");
    let listed = String::from_utf8_lossy(&out.stdout);
    let left: Vec<&str> = listed
        .lines()
        .filter(|l| {
            l.split_once(' ')
                .is_some_and(|(_, run)| run.starts_with("adze-test"))
        })
        .collect();
    assert!(left.is_empty(), "containers left behind: {left:?}");
}

fn image_present(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn step(name: &str, image: &str) -> StepPlan {
    StepPlan {
        name: name.into(),
        image: image.into(),
        ..StepPlan::default()
    }
}

fn script_step(name: &str, image: &str, script: &str) -> StepPlan {
    StepPlan {
        script: Some(script.into()),
        ..step(name, image)
    }
}

fn request(name: &str, steps: Vec<StepPlan>) -> TaskRunRequest {
    TaskRunRequest {
        name: name.into(),
        pipeline_task: "t".into(),
        parent_tasks: Vec::new(),
        finally: false,
        params: Vec::new(),
        steps,
        ..TaskRunRequest::default()
    }
}

/// Waits (up to a minute) for the next events the executor reports.
fn next_events(executor: &mut DockerExecutor) -> Vec<ExecEvent> {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        executor.wait(Duration::from_millis(100));
        let events = executor.poll(Timestamp(0));
        if !events.is_empty() {
            return events;
        }
    }
    panic!("no TaskRun finished within a minute");
}

/// Starts the TaskRun and returns the single event the next poll reports.
fn run(request: &TaskRunRequest) -> ExecEvent {
    let mut executor = DockerExecutor::new().expect("engine reachable");
    executor.start(request).expect("TaskRun starts");
    let mut events = next_events(&mut executor);
    assert_eq!(events.len(), 1, "one event: {events:?}");
    assert!(executor.poll(Timestamp(1)).is_empty(), "reported once");
    executor
        .cancel(&request.name, "late")
        .expect("cancel of a finished run is a no-op");
    events.remove(0)
}

#[test]
fn two_steps_pass_a_result_through_the_results_dir() {
    let _engine = engine();
    let event = run(&request(
        "adze-test-results",
        vec![
            script_step(
                "write",
                BUSYBOX,
                "#!/bin/sh\nset -e\nprintf 'hello' > /tekton/results/out\n",
            ),
            script_step(
                "read",
                BUSYBOX,
                "#!/bin/sh\nset -e\ntest \"$(cat /tekton/results/out)\" = hello\n\
                 printf '%s world' \"$(cat /tekton/results/out)\" > /tekton/results/both\n",
            ),
        ],
    ));
    assert_eq!(event.task_run, "adze-test-results");
    assert_eq!(event.outcome, ExecOutcome::Succeeded);
    assert_eq!(
        event.results,
        vec![
            ("both".to_owned(), ParamValue::String("hello world".into())),
            ("out".to_owned(), ParamValue::String("hello".into())),
        ]
    );
    assert_no_containers();
}

#[test]
fn command_and_args_run_as_given() {
    let _engine = engine();
    let event = run(&request(
        "adze-test-command",
        vec![StepPlan {
            command: vec!["sh".into(), "-c".into()],
            args: vec!["echo -n \"$GREETING\" > /tekton/results/greeting".into()],
            env: vec![adze::plan::model::EnvPlan {
                name: "GREETING".into(),
                value: "hi there\n".into(),
            }],
            ..step("cmd", BUSYBOX)
        }],
    ));
    assert_eq!(event.outcome, ExecOutcome::Succeeded);
    assert_eq!(
        event.results,
        vec![(
            "greeting".to_owned(),
            ParamValue::String("hi there\n".into())
        )]
    );
    assert_no_containers();
}

#[test]
fn a_failing_step_fails_the_task_run_and_stops_later_steps() {
    let _engine = engine();
    let event = run(&request(
        "adze-test-fail",
        vec![
            script_step(
                "boom",
                BUSYBOX,
                "#!/bin/sh\nset -e\nprintf kept > /tekton/results/early\nexit 3\n",
            ),
            script_step(
                "never",
                BUSYBOX,
                "#!/bin/sh\nset -e\nprintf ran > /tekton/results/never\n",
            ),
        ],
    ));
    assert_eq!(
        event.outcome,
        ExecOutcome::Failed {
            reason: "StepFailed".into(),
            message: "\"step-boom\" exited with code 3: Error".into(),
        }
    );
    assert_eq!(
        event.results,
        vec![("early".to_owned(), ParamValue::String("kept".into()))],
        "the second step must not run"
    );
    assert_no_containers();
}

#[test]
fn a_script_with_a_shebang_runs_its_interpreter() {
    let _engine = engine();
    let (image, script, expected) = if image_present(DEBIAN) {
        (
            DEBIAN,
            "#!/usr/bin/env python3\nimport sys\n\
             open('/tekton/results/lang', 'w').write('python' + sys.argv[1])\n",
            "python!",
        )
    } else {
        (
            BUSYBOX,
            "#!/bin/sh\nprintf 'sh%s' \"$1\" > /tekton/results/lang\n",
            "sh!",
        )
    };
    let event = run(&request(
        "adze-test-shebang",
        vec![StepPlan {
            args: vec!["!".into()],
            ..script_step("lang", image, script)
        }],
    ));
    assert_eq!(event.outcome, ExecOutcome::Succeeded);
    assert_eq!(
        event.results,
        vec![("lang".to_owned(), ParamValue::String(expected.into()))]
    );
    assert_no_containers();
}

#[test]
fn a_missing_image_fails_with_image_pull_failed() {
    let _engine = engine();
    let event = run(&request(
        "adze-test-no-image",
        vec![
            script_step("first", BUSYBOX, "#!/bin/sh\ntouch /tekton/results/ran\n"),
            step("second", "adze-test/does-not-exist:nope"),
        ],
    ));
    match &event.outcome {
        ExecOutcome::Failed { reason, message } => {
            assert_eq!(reason, "TaskRunImagePullFailed");
            assert!(
                message.contains("adze-test/does-not-exist:nope"),
                "names the image: {message}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(
        event.results.is_empty(),
        "no step runs: {:?}",
        event.results
    );
    assert_no_containers();
}

#[test]
fn starting_the_same_task_run_twice_is_refused() {
    let _engine = engine();
    let mut executor = DockerExecutor::new().expect("engine reachable");
    let request = request(
        "adze-test-twice",
        vec![script_step("ok", BUSYBOX, "#!/bin/sh\ntrue\n")],
    );
    executor.start(&request).expect("first start");
    assert!(executor.start(&request).is_err());
    assert_eq!(next_events(&mut executor).len(), 1);
    assert_no_containers();
}

#[test]
fn an_unreachable_engine_is_unavailable_and_says_how_to_start_docker() {
    let _engine = engine();
    let previous = std::env::var_os("DOCKER_HOST");
    // Safe here: every test touching the engine holds the `ENGINE` lock.
    std::env::set_var("DOCKER_HOST", "unix:///nonexistent/adze-test-docker.sock");
    let result = DockerExecutor::new();
    match previous {
        Some(value) => std::env::set_var("DOCKER_HOST", value),
        None => std::env::remove_var("DOCKER_HOST"),
    }
    match result {
        Err(adze::run::ExecError::Unavailable(message)) => {
            assert!(
                message.contains("bash scripts/install-prerequisites.sh"),
                "{message}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert_no_containers();
}

/// The `status.steps` entry of step `name`: (exit code, reason, terminationReason).
fn step_summary(event: &ExecEvent, name: &str) -> (i32, String, String) {
    use adze::reconcile::task_run::StepContainerState;
    let step = event
        .report
        .steps
        .iter()
        .find(|s| s.state.name == name)
        .unwrap_or_else(|| panic!("no step {name} in {:?}", event.report.steps));
    match &step.state.state {
        StepContainerState::Terminated(t) => (
            t.exit_code,
            t.reason.clone(),
            step.state.termination_reason.clone(),
        ),
        other => panic!("step {name} not terminated: {other:?}"),
    }
}

#[test]
fn steps_report_tekton_exit_codes_and_termination_reasons() {
    let _engine = engine();
    let event = run(&request(
        "adze-test-states",
        vec![
            StepPlan {
                on_error: Some("continue".into()),
                ..script_step("tolerated", BUSYBOX, "#!/bin/sh\nexit 4\n")
            },
            script_step("fails", BUSYBOX, "#!/bin/sh\nexit 2\n"),
            script_step("after", BUSYBOX, "#!/bin/sh\ntrue\n"),
        ],
    ));
    assert_eq!(
        event.outcome,
        ExecOutcome::Failed {
            reason: "StepFailed".into(),
            message: "\"step-fails\" exited with code 2: Error".into(),
        }
    );
    assert_eq!(
        step_summary(&event, "tolerated"),
        (4, "Completed".into(), "Continued".into())
    );
    assert_eq!(
        step_summary(&event, "fails"),
        (2, "Error".into(), "Error".into())
    );
    assert_eq!(
        step_summary(&event, "after"),
        (1, "Error".into(), "Skipped".into())
    );
    assert!(
        !event.report.steps[0].image_id.is_empty(),
        "image id recorded"
    );
    assert_no_containers();
}

#[test]
fn cancelling_stops_the_running_container_and_reports_cancelled() {
    let _engine = engine();
    let mut executor = DockerExecutor::new().expect("engine reachable");
    let request = request(
        "adze-test-cancel",
        vec![script_step("sleepy", BUSYBOX, "#!/bin/sh\nsleep 60\n")],
    );
    executor.start(&request).expect("starts");
    std::thread::sleep(Duration::from_millis(1500));
    let asked = Instant::now();
    executor
        .cancel(
            &request.name,
            "TaskRun cancelled as the PipelineRun it belongs to has been cancelled.",
        )
        .expect("cancel");
    let events = next_events(&mut executor);
    assert!(
        asked.elapsed() < Duration::from_secs(12),
        "stopped within the grace period: {:?}",
        asked.elapsed()
    );
    assert_eq!(events[0].outcome, ExecOutcome::Cancelled);
    assert_eq!(
        step_summary(&events[0], "sleepy"),
        (1, "TaskRunCancelled".into(), "TaskRunCancelled".into())
    );
    assert_no_containers();
}

#[test]
fn a_task_run_timeout_ends_the_run_at_it_not_at_the_steps_end() {
    let _engine = engine();
    let mut executor = DockerExecutor::new().expect("engine reachable");
    let mut request = request(
        "adze-test-timeout",
        vec![
            script_step("slow", BUSYBOX, "#!/bin/sh\nsleep 60\n"),
            script_step("never", BUSYBOX, "#!/bin/sh\ntrue\n"),
        ],
    );
    request.timeout = Some(adze::api::GoDuration::parse("2s").expect("duration"));
    let started = Instant::now();
    executor.start(&request).expect("starts");
    let events = next_events(&mut executor);
    let took = started.elapsed();
    // Not before the timeout, and long before the 60 s step or a 10 s stop grace would end
    // it; how soon after is a benchmark's question, not this loaded machine's.
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "ended {took:?} after start"
    );
    assert_eq!(
        events[0].outcome,
        ExecOutcome::Failed {
            reason: "TaskRunTimeout".into(),
            message: "TaskRun \"adze-test-timeout\" failed to finish within \"2s\"".into(),
        }
    );
    assert_eq!(
        step_summary(&events[0], "slow"),
        (1, "TaskRunTimeout".into(), "TaskRunTimeout".into())
    );
    assert_no_containers();
}

#[test]
fn a_step_timeout_fails_the_step_with_timeout_exceeded() {
    let _engine = engine();
    let event = run(&request(
        "adze-test-step-timeout",
        vec![StepPlan {
            timeout: Some("1s".into()),
            ..script_step("slow", BUSYBOX, "#!/bin/sh\nsleep 60\n")
        }],
    ));
    assert_eq!(
        event.outcome,
        ExecOutcome::Failed {
            reason: "StepFailed".into(),
            message: "\"step-slow\" exited because the step exceeded the specified timeout limit"
                .into(),
        }
    );
    assert_eq!(
        step_summary(&event, "slow"),
        (1, "Error".into(), "TimeoutExceeded".into())
    );
    assert_no_containers();
}

#[test]
fn a_container_killed_mid_step_fails_the_step_and_task_run() {
    let _engine = engine();
    let mut executor = DockerExecutor::new().expect("engine reachable");
    let request = request(
        "adze-test-killed",
        vec![script_step("victim", BUSYBOX, "#!/bin/sh\nsleep 60\n")],
    );
    executor.start(&request).expect("starts");
    let until = Instant::now() + Duration::from_secs(20);
    let id = loop {
        let out = Command::new("docker")
            .args([
                "ps",
                "-q",
                "--filter",
                "label=adze.dev/run=adze-test-killed",
            ])
            .output()
            .expect("docker ps");
        let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !id.is_empty() {
            break id;
        }
        assert!(Instant::now() < until, "the step container never started");
        std::thread::sleep(Duration::from_millis(100));
    };
    let killed = Command::new("docker")
        .args(["kill", &id])
        .output()
        .expect("docker kill");
    assert!(killed.status.success());
    let events = next_events(&mut executor);
    assert_eq!(
        events[0].outcome,
        ExecOutcome::Failed {
            reason: "StepFailed".into(),
            message: "\"step-victim\" exited with code 137: Error".into(),
        }
    );
    assert_no_containers();
}

#[test]
fn logs_and_step_progress_reach_the_sink() {
    use adze::exec::docker::DockerOptions;
    use adze::run::{Progress, ProgressSink, Stream};
    let _engine = engine();
    let (sink, events) = ProgressSink::channel();
    let mut executor = DockerExecutor::with_options(DockerOptions {
        progress: sink,
        logs: true,
        ..DockerOptions::default()
    })
    .expect("engine reachable");
    let request = request(
        "adze-test-logs",
        vec![script_step(
            "talk",
            BUSYBOX,
            "#!/bin/sh\necho one\necho two >&2\nprintf three\n",
        )],
    );
    executor.start(&request).expect("starts");
    next_events(&mut executor);
    drop(executor);
    let got: Vec<Progress> = events.try_iter().collect();
    let lines: Vec<(Stream, String)> = got
        .iter()
        .filter_map(|p| match p {
            Progress::Log {
                step, stream, line, ..
            } if step == "talk" => Some((*stream, line.clone())),
            _ => None,
        })
        .collect();
    assert!(lines.contains(&(Stream::Stdout, "one".into())), "{lines:?}");
    assert!(lines.contains(&(Stream::Stderr, "two".into())), "{lines:?}");
    assert!(
        lines.contains(&(Stream::Stdout, "three".into())),
        "{lines:?}"
    );
    assert!(got
        .iter()
        .any(|p| matches!(p, Progress::StepStarted { step, .. } if step == "talk")));
    assert!(got
        .iter()
        .any(|p| matches!(p, Progress::StepFinished { step, exit_code: 0, .. } if step == "talk")));
    assert_no_containers();
}

/// Runs the PipelineRun in `yaml` through the driver on the real engine.
fn run_pipeline(yaml: &str) -> Result<adze::run::RunOutcome, adze::run::RunError> {
    let mut bundle = adze::load::Bundle::new();
    bundle.add_source("t.yaml", yaml.to_owned(), adze::load::Origin::Input);
    assert!(bundle.diagnostics.is_empty(), "{:?}", bundle.diagnostics);
    let pr = bundle
        .inputs()
        .find_map(|o| match &o.object {
            adze::api::Object::PipelineRun(pr) => Some(pr),
            _ => None,
        })
        .expect("a PipelineRun");
    let mut executor = DockerExecutor::new().expect("engine reachable");
    adze::run::Driver::new(&bundle, pr)?
        .with_tick(Duration::from_millis(100))
        .run(&mut executor, &mut adze::run::SystemClock)
}

/// The results each TaskRun of the outcome produced, by pipeline task.
fn task_results(outcome: &adze::run::RunOutcome, task: &str) -> Vec<(String, ParamValue)> {
    outcome
        .task_runs
        .iter()
        .find(|r| r.request.pipeline_task == task)
        .and_then(|r| r.event.as_ref())
        .map(|e| e.results.clone())
        .unwrap_or_default()
}

fn succeeded(outcome: &adze::run::RunOutcome) -> bool {
    outcome.condition.status == adze::reconcile::ConditionStatus::True
}

#[test]
fn two_task_runs_share_an_empty_dir_workspace_and_see_config_map_files() {
    let _engine = engine();
    let outcome = run_pipeline(
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data:
  greeting: hello from a ConfigMap
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: adze-test-ws}
spec:
  workspaces:
    - name: shared
      emptyDir: {}
    - name: config
      configMap: {name: settings}
  pipelineSpec:
    workspaces: [{name: shared}, {name: config}]
    tasks:
      - name: write
        workspaces: [{name: out, workspace: shared, subPath: sub}]
        taskSpec:
          workspaces: [{name: out}]
          steps:
            - name: write
              image: adze-test/busybox:latest
              script: |
                printf 'from write' > $(workspaces.out.path)/file
      - name: read
        runAfter: [write]
        workspaces:
          - {name: src, workspace: shared}
          - {name: cfg, workspace: config}
        taskSpec:
          workspaces:
            - {name: src, mountPath: /src, readOnly: true}
            - {name: cfg}
            - {name: unused, optional: true}
          results: [{name: seen}, {name: cfg}, {name: unused}]
          steps:
            - name: read
              image: adze-test/busybox:latest
              script: |
                cat /src/sub/file > $(results.seen.path)
                cat $(workspaces.cfg.path)/greeting > $(results.cfg.path)
                printf '[%s]' "$(workspaces.unused.path)" > $(results.unused.path)
                if touch /src/readonly 2>/dev/null; then exit 7; fi
                if touch $(workspaces.cfg.path)/x 2>/dev/null; then exit 8; fi
"#,
    )
    .expect("the run finishes");
    assert!(succeeded(&outcome), "{:?}", outcome.condition);
    assert_eq!(
        task_results(&outcome, "read"),
        vec![
            (
                "cfg".to_owned(),
                ParamValue::String("hello from a ConfigMap".into())
            ),
            ("seen".to_owned(), ParamValue::String("from write".into())),
            ("unused".to_owned(), ParamValue::String("[]".into())),
        ]
    );
    assert_no_containers();
}

#[test]
fn a_secret_workspace_is_decoded_and_a_missing_config_map_fails_before_anything_runs() {
    let _engine = engine();
    let outcome = run_pipeline(
        r#"
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {token: czNjcjN0}
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: adze-test-secret-ws}
spec:
  workspaces: [{name: creds, secret: {secretName: creds, items: [{key: token, path: auth/token}]}}]
  pipelineSpec:
    workspaces: [{name: creds}]
    tasks:
      - name: use
        workspaces: [{name: creds}]
        taskSpec:
          workspaces: [{name: creds, mountPath: /creds}]
          results: [{name: token}]
          steps:
            - image: adze-test/busybox:latest
              script: cat /creds/auth/token > $(results.token.path)
"#,
    )
    .expect("the run finishes");
    assert!(succeeded(&outcome), "{:?}", outcome.condition);
    assert_eq!(
        task_results(&outcome, "use"),
        vec![("token".to_owned(), ParamValue::String("s3cr3t".into()))]
    );

    let error = run_pipeline(
        r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: adze-test-missing-cm}
spec:
  workspaces: [{name: cfg, configMap: {name: absent}}]
  pipelineSpec:
    workspaces: [{name: cfg}]
    tasks:
      - name: use
        workspaces: [{name: cfg}]
        taskSpec:
          workspaces: [{name: cfg}]
          steps: [{image: adze-test/busybox:latest, script: "true"}]
"#,
    )
    .expect_err("a missing ConfigMap is refused");
    let text = error.to_string();
    assert!(text.contains("ConfigMap \"absent\""), "{text}");
    assert!(text.contains("pass the YAML file"), "{text}");
    assert_no_containers();
}

#[test]
fn env_comes_from_secrets_and_config_maps_and_a_missing_one_is_refused_up_front() {
    let _engine = engine();
    let outcome = run_pipeline(
        r#"
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {password: aHVudGVyMg==}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {MODE: fast, LEVEL: "3"}
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: adze-test-env}
spec:
  pipelineSpec:
    tasks:
      - name: show
        taskSpec:
          results: [{name: env}]
          stepTemplate:
            envFrom: [{configMapRef: {name: settings}, prefix: CFG_}]
          steps:
            - image: adze-test/busybox:latest
              env:
                - name: PASSWORD
                  valueFrom: {secretKeyRef: {name: creds, key: password}}
                - name: CFG_LEVEL
                  value: explicit
                - name: ABSENT
                  valueFrom: {configMapKeyRef: {name: nowhere, key: k, optional: true}}
              script: |
                printf '%s %s %s %s' "$PASSWORD" "$CFG_MODE" "$CFG_LEVEL" "${ABSENT-unset}" \
                  > $(results.env.path)
"#,
    )
    .expect("the run finishes");
    assert!(succeeded(&outcome), "{:?}", outcome.condition);
    assert_eq!(
        task_results(&outcome, "show"),
        vec![(
            "env".to_owned(),
            ParamValue::String("hunter2 fast explicit unset".into())
        )]
    );

    let error = run_pipeline(
        r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: adze-test-env-missing}
spec:
  pipelineSpec:
    tasks:
      - name: first
        taskSpec:
          steps: [{image: adze-test/busybox:latest, script: "true"}]
      - name: show
        taskSpec:
          steps:
            - name: use
              image: adze-test/busybox:latest
              env:
                - name: TOKEN
                  valueFrom: {secretKeyRef: {name: api-token, key: token}}
              script: "true"
"#,
    )
    .expect_err("a missing Secret is refused");
    let text = error.to_string();
    assert!(
        text.contains("Secret \"api-token\"") && text.contains("step \"use\""),
        "{text}"
    );
    assert_no_containers();
}

#[test]
fn a_later_step_reads_an_earlier_steps_result() {
    let _engine = engine();
    let event = run(&request(
        "adze-test-step-results",
        vec![
            StepPlan {
                results: vec!["word".into()],
                ..script_step(
                    "first",
                    BUSYBOX,
                    "#!/bin/sh\nprintf 'hello' > /tekton/steps/step-first/results/word\n\
                     printf '[\"a\",\"b\"]' > /tekton/steps/step-first/results/list\n",
                )
            },
            StepPlan {
                command: vec!["sh".into(), "-c".into()],
                args: vec![
                    "set -e; printf '%s %s %s' \"$WORD\" \"$(steps.first.results.list[1])\" \
                     \"$(cat /tekton/steps/0/exitCode)\" > /tekton/results/seen; \
                     if touch /tekton/steps/step-first/results/x 2>/dev/null; then exit 9; fi; \
                     printf mine > /tekton/steps/step-second/results/own"
                        .into(),
                ],
                env: vec![adze::plan::model::EnvPlan {
                    name: "WORD".into(),
                    value: "$(steps.first.results.word)".into(),
                }],
                ..step("second", BUSYBOX)
            },
        ],
    ));
    assert_eq!(event.outcome, ExecOutcome::Succeeded, "{event:?}");
    assert_eq!(
        event.results,
        vec![("seen".to_owned(), ParamValue::String("hello b 0".into()))]
    );
    let s = |v: &str| ParamValue::String(v.into());
    assert_eq!(
        event.report.steps[0].results,
        vec![
            ("word".to_owned(), s("hello")),
            ("list".to_owned(), s("[\"a\",\"b\"]"))
        ]
    );
    assert_eq!(
        event.report.steps[1].results,
        vec![("own".to_owned(), s("mine"))]
    );
    assert_no_containers();
}

fn declared(name: &str, type_: &str) -> adze::api::task::TaskResult {
    adze::api::task::TaskResult {
        name: name.into(),
        type_: Some(type_.into()),
        ..Default::default()
    }
}

#[test]
fn declared_array_results_are_typed_and_a_mismatch_fails_validation() {
    let _engine = engine();
    let mut ok = request(
        "adze-test-typed-results",
        vec![script_step(
            "write",
            BUSYBOX,
            "#!/bin/sh\nprintf '[\"x\",\"y\"]' > /tekton/results/list\n",
        )],
    );
    ok.results = vec![declared("list", "array")];
    let event = run(&ok);
    assert_eq!(event.outcome, ExecOutcome::Succeeded);
    assert_eq!(
        event.results,
        vec![(
            "list".to_owned(),
            ParamValue::Array(vec!["x".into(), "y".into()])
        )]
    );

    let mut bad = request(
        "adze-test-typed-mismatch",
        vec![script_step(
            "write",
            BUSYBOX,
            "#!/bin/sh\nprintf 'not json' > /tekton/results/list\n",
        )],
    );
    bad.results = vec![declared("list", "array")];
    let event = run(&bad);
    assert_eq!(
        event.outcome,
        ExecOutcome::Failed {
            reason: "TaskRunValidationFailed".into(),
            message: "Provided results don't match declared results; may be invalid JSON or \
                      missing result declaration:  \"list\": task result is expected to be \
                      \"array\" type but was initialized to a different type \"string\""
                .into(),
        }
    );
    assert!(event.results.is_empty(), "the mismatched result is dropped");
    assert_no_containers();
}

#[test]
fn an_oversized_result_warns_and_fails_only_when_strict() {
    let _engine = engine();
    let big = request(
        "adze-test-big-result",
        vec![script_step(
            "write",
            BUSYBOX,
            "#!/bin/sh\nhead -c 5000 /dev/zero | tr '\\0' a > /tekton/results/big\n",
        )],
    );
    let (sink, progress) = adze::run::ProgressSink::channel();
    let mut executor = DockerExecutor::with_options(adze::exec::docker::DockerOptions {
        progress: sink,
        ..Default::default()
    })
    .expect("engine reachable");
    executor.start(&big).expect("starts");
    let event = next_events(&mut executor).remove(0);
    assert_eq!(event.outcome, ExecOutcome::Succeeded);
    let warned = progress.try_iter().any(|p| {
        matches!(p, adze::run::Progress::Warning { message, .. }
            if message.contains("\"big\" is 5000 bytes"))
    });
    assert!(warned, "a warning names the result");

    let mut strict = DockerExecutor::with_options(adze::exec::docker::DockerOptions {
        strict: true,
        ..Default::default()
    })
    .expect("engine reachable");
    strict.start(&big).expect("starts");
    let event = next_events(&mut strict).remove(0);
    match event.outcome {
        ExecOutcome::Failed { reason, message } => {
            assert_eq!(reason, "TaskRunResultLargerThanAllowedLimit");
            assert!(message.contains("\"big\""), "{message}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_no_containers();
}

#[test]
fn a_step_reaches_its_sidecar_on_localhost_and_the_sidecar_is_stopped_after() {
    let _engine = engine();
    let mut req = request(
        "adze-test-sidecar",
        vec![script_step(
            "fetch",
            BUSYBOX,
            "#!/bin/sh\nfor i in $(seq 1 100); do\n\
             if wget -q -O /tekton/results/page http://localhost:8080/; then exit 0; fi\n\
             sleep 0.1\ndone\nexit 1\n",
        )],
    );
    req.sidecars = vec![script_step(
        "web",
        BUSYBOX,
        "#!/bin/sh\nmkdir -p /tmp/www\nprintf 'served' > /tmp/www/index.html\n\
         exec httpd -f -p 8080 -h /tmp/www\n",
    )];
    let event = run(&req);
    assert_eq!(event.outcome, ExecOutcome::Succeeded, "{event:?}");
    assert_eq!(
        event.results,
        vec![("page".to_owned(), ParamValue::String("served".into()))]
    );
    assert_eq!(event.report.sidecars.len(), 1);
    let sidecar = &event.report.sidecars[0].state;
    assert_eq!(sidecar.name, "web");
    assert_eq!(sidecar.container, "sidecar-web");
    match &sidecar.state {
        adze::reconcile::task_run::StepContainerState::Terminated(t) => {
            assert_eq!(t.reason, "Completed");
            assert!(t.message.contains("stopped by adze"), "{}", t.message);
        }
        other => panic!("the sidecar is reported terminated, got {other:?}"),
    }
    assert_no_containers();
}

/// A busybox sidecar that serves on `port` only after `delay` seconds.
fn slow_server(name: &str, port: u16, delay: u32, probe: &str) -> StepPlan {
    let mut sidecar = script_step(
        name,
        BUSYBOX,
        &format!(
            "#!/bin/sh\nmkdir -p /tmp/www\nprintf '{name}' > /tmp/www/index.html\n\
             sleep {delay}\nexec httpd -f -p {port} -h /tmp/www\n"
        ),
    );
    sidecar.readiness_probe = Some(serde_yaml_ng::from_str(probe).expect("a probe"));
    sidecar
}

#[test]
fn the_first_step_waits_for_the_sidecars_readiness_probes() {
    let _engine = engine();
    // The step fetches each page once: it only succeeds if every server is already up.
    let mut req = request(
        "adze-test-sidecar-ready",
        vec![script_step(
            "fetch",
            BUSYBOX,
            "#!/bin/sh\nset -e\nfor p in 8081 8082 8083; do wget -q -O - http://localhost:$p/; done \
             > /tekton/results/pages\n",
        )],
    );
    req.sidecars = vec![
        slow_server(
            "exec",
            8081,
            2,
            "{exec: {command: [wget, -q, -O, /dev/null, 'http://localhost:8081/']}, periodSeconds: 1}",
        ),
        slow_server("tcp", 8082, 1, "{tcpSocket: {port: 8082}, periodSeconds: 1}"),
        slow_server(
            "http",
            8083,
            1,
            "{httpGet: {port: 8083, path: /index.html}, periodSeconds: 1}",
        ),
    ];
    let event = run(&req);
    assert_eq!(event.outcome, ExecOutcome::Succeeded, "{event:?}");
    assert_eq!(
        event.results,
        vec![("pages".to_owned(), ParamValue::String("exectcphttp".into()))]
    );
    assert_no_containers();
}

#[test]
fn a_sidecar_that_fails_alone_does_not_fail_the_task_run() {
    let _engine = engine();
    let mut req = request(
        "adze-test-sidecar-fails",
        vec![script_step("wait", BUSYBOX, "#!/bin/sh\nsleep 0.5\n")],
    );
    req.sidecars = vec![script_step("broken", BUSYBOX, "#!/bin/sh\nexit 4\n")];
    let event = run(&req);
    assert_eq!(event.outcome, ExecOutcome::Succeeded, "{event:?}");
    match &event.report.sidecars[0].state.state {
        adze::reconcile::task_run::StepContainerState::Terminated(t) => {
            assert_eq!((t.exit_code, t.reason.as_str()), (4, "Error"));
        }
        other => panic!("terminated, got {other:?}"),
    }

    // Once a step fails too, the failed sidecar picks the reason (§4.7: sidecars first); the
    // message is the first failed container's, steps before sidecars as in the pod spec.
    let mut both = request(
        "adze-test-sidecar-and-step-fail",
        vec![script_step(
            "fail",
            BUSYBOX,
            "#!/bin/sh
sleep 0.5
exit 2
",
        )],
    );
    both.sidecars = req.sidecars.clone();
    let event = run(&both);
    assert_eq!(
        event.outcome,
        ExecOutcome::Failed {
            reason: "SidecarFailed".into(),
            message: "\"step-fail\" exited with code 2: Error".into(),
        }
    );
    assert_no_containers();
}

#[test]
fn cancelling_a_task_run_with_a_sidecar_removes_the_sidecar_and_the_holder() {
    let _engine = engine();
    let mut executor = DockerExecutor::new().expect("engine reachable");
    let mut req = request(
        "adze-test-cancel-sidecar",
        vec![script_step("sleepy", BUSYBOX, "#!/bin/sh\nsleep 60\n")],
    );
    req.sidecars = vec![script_step("idle", BUSYBOX, "#!/bin/sh\nsleep 60\n")];
    executor.start(&req).expect("starts");
    std::thread::sleep(Duration::from_millis(1500));
    executor.cancel(&req.name, "").expect("cancel");
    let events = next_events(&mut executor);
    assert_eq!(events[0].outcome, ExecOutcome::Cancelled);
    assert_eq!(events[0].report.sidecars.len(), 1);
    assert_no_containers();
}

/// Runs one request on an executor with these options and returns its event.
fn run_with(options: adze::exec::docker::DockerOptions, request: &TaskRunRequest) -> ExecEvent {
    let mut executor = DockerExecutor::with_options(options).expect("engine reachable");
    executor.start(request).expect("TaskRun starts");
    next_events(&mut executor).remove(0)
}

#[test]
fn pull_never_fails_a_missing_image_and_pull_always_pulls_even_a_local_one() {
    let _engine = engine();
    use adze::exec::docker::{DockerOptions, PullPolicy};
    let missing = request(
        "adze-test-pull-never",
        vec![step("gone", "adze-test/does-not-exist:nope")],
    );
    let event = run_with(
        DockerOptions {
            pull: PullPolicy::Never,
            ..Default::default()
        },
        &missing,
    );
    match &event.outcome {
        ExecOutcome::Failed { reason, message } => {
            assert_eq!(reason, "TaskRunImagePullFailed");
            assert!(
                message.contains("adze-test/does-not-exist:nope")
                    && message.contains("--pull never"),
                "{message}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }

    // No registry is reachable here, so an `always` pull of a local-only image fails, which
    // shows it was attempted; with `missing` the same image runs.
    let local = request(
        "adze-test-pull-always",
        vec![script_step("ok", BUSYBOX, "#!/bin/sh\ntrue\n")],
    );
    let event = run_with(
        DockerOptions {
            pull: PullPolicy::Always,
            ..Default::default()
        },
        &local,
    );
    match &event.outcome {
        ExecOutcome::Failed { reason, message } => {
            assert_eq!(reason, "TaskRunImagePullFailed");
            assert!(message.contains(BUSYBOX), "{message}");
        }
        other => panic!("expected a pull failure, got {other:?}"),
    }
    assert_eq!(run(&local).outcome, ExecOutcome::Succeeded);
    assert_no_containers();
}

#[test]
fn run_as_user_and_group_apply_and_working_dirs_are_created_writable() {
    let _engine = engine();
    let host = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(
        host.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let mut req = request(
        "adze-test-user",
        vec![
            StepPlan {
                run_as_user: Some(1234),
                run_as_group: Some(5678),
                working_dir: Some("build/out".into()),
                ..script_step(
                    "ids",
                    BUSYBOX,
                    "#!/bin/sh\nset -e\nprintf '%s:%s %s' \"$(id -u)\" \"$(id -g)\" \"$PWD\" \
                     > /tekton/results/ids\ntouch here\n",
                )
            },
            StepPlan {
                run_as_user: Some(1234),
                working_dir: Some("/src/deep/er".into()),
                ..script_step("in-workspace", BUSYBOX, "#!/bin/sh\nset -e\ntouch made\n")
            },
        ],
    );
    req.workspaces = vec![adze::run::WorkspaceMount {
        name: "src".into(),
        source: adze::run::WorkspaceSource::Dir(host.path().to_owned()),
        mount_path: "/src".into(),
        sub_path: None,
        read_only: false,
    }];
    let event = run(&req);
    assert_eq!(event.outcome, ExecOutcome::Succeeded, "{event:?}");
    assert_eq!(
        event.results,
        vec![(
            "ids".to_owned(),
            ParamValue::String("1234:5678 /workspace/build/out".into())
        )]
    );
    assert!(host.path().join("deep/er/made").is_file());
    assert_no_containers();
}
