//! The engine stops while a step runs (issue 14, point 1): adze says so, fails the
//! interrupted TaskRun with `PodEvicted` (never `StepFailed`), keeps what finished, starts
//! nothing more and exits 3, unless the engine is back within `--engine-grace` with the
//! step's container still running (`--live-restore`), in which case the run goes on.
//!
//! The steps that get interrupted trap SIGTERM, as most real programs do, so a daemon's
//! shutdown stops them at once (exit 143) instead of after its 10 s kill delay.

use std::time::{Duration, Instant};

use crate::private_engine::require_private_engine;
use crate::{
    condition, finish, start_adze, terminated, wait_gone, wait_step, workdir, PrivateEngine,
    SharedSentinel, RUN_LABEL,
};

/// The message adze prints, and the TaskRun's condition message begins with.
const LOST: &str = "the container engine stopped during the run: ";

const THREE_STEPS: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: lost-a
spec:
  taskSpec:
    steps:
      - name: first
        image: IMAGE
        script: echo first done
      - name: nap
        image: IMAGE
        script: |
          trap 'exit 143' TERM
          sleep 30 &
          wait
      - name: after
        image: IMAGE
        script: echo never
"#;

#[test]
fn a_stopped_daemon_fails_the_task_run_as_evicted_and_exits_3() {
    require_private_engine!();
    let sentinel = SharedSentinel::start();
    let mut engine = PrivateEngine::start(false);
    let dir = workdir(THREE_STEPS);
    let mut adze = start_adze(&engine, dir.path(), &["--engine-grace", "2s"]);
    wait_step(&engine, &mut adze, "adze.dev/step=nap");
    // adze removes a finished step's container while the next one runs; the count of
    // containers the next run collects below is only fixed once that removal is done.
    wait_gone(&engine, "adze.dev/step=first");
    let stopped = Instant::now();
    engine.stop_dockerd();
    let ran = finish(adze, Duration::from_secs(60));
    let after_stop = stopped.elapsed();

    assert_eq!(ran.status, 3, "exit status; stderr:\n{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("error: {LOST}")),
        "stderr:\n{}",
        ran.stderr
    );
    assert!(
        !ran.stderr.contains("StepFailed"),
        "stderr:\n{}",
        ran.stderr
    );
    let (reason, message) = condition(&ran.object);
    assert_eq!(reason, "PodEvicted", "{:#}", ran.object);
    assert!(message.starts_with(LOST), "{message}");
    // What finished is recorded as it was.
    let first = terminated(&ran.object, "first");
    assert_eq!(first["exitCode"], 0, "{:#}", ran.object);
    assert_eq!(first["reason"], "Completed");
    // The interrupted step is not its own failure: not 143, not `Error`.
    let nap = terminated(&ran.object, "nap");
    assert_eq!(nap["reason"], "PodEvicted", "{:#}", ran.object);
    assert_eq!(nap["exitCode"], 1);
    assert_eq!(terminated(&ran.object, "after")["reason"], "PodEvicted");
    assert!(
        after_stop < Duration::from_secs(30),
        "adze took {after_stop:?} after the daemon stopped, with a 2 s grace"
    );

    // The daemon comes back; the next run works and leaves nothing of its own.
    engine.restart_dockerd();
    sentinel.assert_untouched();
    assert!(
        engine.containers(RUN_LABEL, true).is_empty(),
        "a container of adze runs unattended after the restart"
    );
    let again = workdir(&THREE_STEPS.replace("lost-a", "again").replace(
        "trap 'exit 143' TERM\n          sleep 30 &\n          wait",
        "echo rested",
    ));
    let next = finish(
        start_adze(&engine, again.path(), &[]),
        Duration::from_secs(60),
    );
    assert_eq!(next.status, 0, "stderr:\n{}", next.stderr);
    // The interrupted run's containers (the network holder and the two steps not yet done),
    // which adze could not remove while the engine was gone, belong to an adze that has
    // exited: this run collects them and says so.
    assert!(
        next.stderr.contains("collected 3 containers"),
        "stderr:\n{}",
        next.stderr
    );
    let left = engine.containers(RUN_LABEL, false);
    assert!(left.is_empty(), "labelled containers left: {left:?}");
}

#[test]
fn a_live_restored_daemon_back_within_the_grace_lets_the_step_finish() {
    require_private_engine!();
    let mut engine = PrivateEngine::start(true);
    let dir = workdir(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: resumed
spec:
  taskSpec:
    steps:
      - name: nap
        image: IMAGE
        script: sleep 14
      - name: after
        image: IMAGE
        script: echo after the restart
"#,
    );
    let mut adze = start_adze(&engine, dir.path(), &["--engine-grace", "40s"]);
    wait_step(&engine, &mut adze, "adze.dev/step=nap");
    // Down longer than the engine calls' own retries (3.1 s), so only the grace bridges it.
    engine.restart_dockerd_after(Duration::from_secs(4));
    let ran = finish(adze, Duration::from_secs(90));

    assert_eq!(ran.status, 0, "exit status; stderr:\n{}", ran.stderr);
    assert!(
        ran.stderr.contains("watching it again"),
        "stderr:\n{}",
        ran.stderr
    );
    let (reason, _) = condition(&ran.object);
    assert_eq!(reason, "Succeeded", "{:#}", ran.object);
    assert_eq!(terminated(&ran.object, "nap")["exitCode"], 0);
    assert_eq!(terminated(&ran.object, "after")["exitCode"], 0);
    assert!(
        engine.containers(RUN_LABEL, false).is_empty(),
        "adze left containers on the restarted engine"
    );
}

#[test]
fn a_daemon_restarted_without_live_restore_within_the_grace_is_given_up() {
    require_private_engine!();
    let mut engine = PrivateEngine::start(false);
    let dir = workdir(&THREE_STEPS.replace("lost-a", "restarted"));
    let mut adze = start_adze(&engine, dir.path(), &["--engine-grace", "40s"]);
    wait_step(&engine, &mut adze, "adze.dev/step=nap");
    engine.restart_dockerd();
    let ran = finish(adze, Duration::from_secs(90));

    assert_eq!(ran.status, 3, "exit status; stderr:\n{}", ran.stderr);
    let (reason, message) = condition(&ran.object);
    assert_eq!(reason, "PodEvicted", "{:#}", ran.object);
    assert!(message.starts_with(LOST), "{message}");
    assert!(
        message.contains("shutdown had stopped the step's container (exit code 143)"),
        "{message}"
    );
    assert_eq!(terminated(&ran.object, "first")["exitCode"], 0);
    assert_eq!(terminated(&ran.object, "nap")["reason"], "PodEvicted");
    // The engine answered again, so adze removed what it had created.
    assert!(
        engine.containers(RUN_LABEL, false).is_empty(),
        "adze left containers on the restarted engine"
    );
}

#[test]
fn an_engine_gone_for_good_ends_the_pipeline_after_the_grace_starting_nothing_more() {
    require_private_engine!();
    let mut engine = PrivateEngine::start(false);
    let dir = workdir(
        r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: gone
spec:
  pipelineSpec:
    tasks:
      - name: first
        taskSpec:
          steps:
            - name: hello
              image: IMAGE
              script: echo hello
      - name: nap
        runAfter: [first]
        taskSpec:
          steps:
            - name: nap
              image: IMAGE
              script: |
                trap 'exit 143' TERM
                sleep 30 &
                wait
      - name: later
        runAfter: [nap]
        taskSpec:
          steps:
            - name: later
              image: IMAGE
              script: echo never
    finally:
      - name: report
        taskSpec:
          steps:
            - name: report
              image: IMAGE
              script: echo never
"#,
    );
    let mut adze = start_adze(&engine, dir.path(), &["--engine-grace", "3s"]);
    wait_step(&engine, &mut adze, "adze.dev/step=nap");
    let stopped = Instant::now();
    engine.stop_dockerd();
    let ran = finish(adze, Duration::from_secs(60));
    let after_stop = stopped.elapsed();

    assert_eq!(ran.status, 3, "exit status; stderr:\n{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("did not answer again within 3s (--engine-grace)"),
        "stderr:\n{}",
        ran.stderr
    );
    assert!(
        after_stop >= Duration::from_secs(3) && after_stop < Duration::from_secs(30),
        "adze gave up {after_stop:?} after the daemon stopped, with a 3 s grace"
    );
    let (reason, message) = condition(&ran.object);
    assert_eq!(reason, "Failed", "{:#}", ran.object);
    assert!(message.starts_with(LOST), "{message}");
    // The tally counts the interrupted task as failed, the two never started as not done.
    assert!(
        message.contains("; Tasks Completed: 2 (Failed: 1, Cancelled 0)"),
        "{message}"
    );
    let children: Vec<&str> = ran.object["status"]["childReferences"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|r| r["pipelineTaskName"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(children, ["first", "nap"], "{:#}", ran.object);
}
