//! The Docker executor against the real local engine, driven through the `Executor` trait.
//!
//! These tests need a running Docker engine and the `adze-test/*` images; without them they
//! fail (they never skip) — run `bash tests/setup-docker.sh` first.

use std::process::Command;
use std::sync::{Mutex, MutexGuard};

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
    let ok = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`docker info` failed: these tests need a running Docker engine and the adze-test \
         images; run `bash tests/setup-docker.sh` first"
    );
    guard
}

/// Asserts that no container labelled `adze.dev/run` remains.
fn assert_no_containers() {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", "label=adze.dev/run"])
        .output()
        .expect("docker ps runs");
    assert!(out.status.success(), "docker ps failed");
    let left = String::from_utf8_lossy(&out.stdout);
    assert!(left.trim().is_empty(), "containers left behind: {left}");
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
        finally: false,
        params: Vec::new(),
        steps,
        sidecars: Vec::new(),
    }
}

/// Starts the TaskRun and returns the single event the next poll reports.
fn run(request: &TaskRunRequest) -> ExecEvent {
    let mut executor = DockerExecutor::new().expect("engine reachable");
    executor.start(request).expect("TaskRun starts");
    let mut events = executor.poll(Timestamp(0));
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
    assert_eq!(executor.poll(Timestamp(0)).len(), 1);
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
            assert!(message.contains("bash tests/setup-docker.sh"), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert_no_containers();
}
