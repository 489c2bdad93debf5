//! Idempotent engine calls (inspect, wait, remove, image inspect) that fail on the way are
//! repeated: a couple of failures cost nothing, a persistent one fails the run within the
//! stated bound (6 attempts, 3.1 s of waiting) with the engine's answer, never as the step's
//! own failure.

use std::time::Duration;

use crate::proxy::{Fault, Proxy, Rule};
use crate::{containers_of, run_through, run_through_with, task_run, unique, Cleanup};

const IMAGE: &str = "adze-test/busybox:latest";

const INSPECT: &str = "/containers/*/json";
const WAIT: &str = "/containers/*/wait";
const REMOVE: &str = "/containers/*";
const IMAGE_INSPECT: &str = "/images/**/json";

/// Runs a one-step TaskRun (`extra` before its result) through a proxy applying `rules`,
/// asserts it succeeded and left no container, and returns the proxy and the run's duration.
fn succeeds_through(test: &str, rules: Vec<Rule>, extra: &str) -> (Proxy, Duration) {
    let name = unique(test);
    let _cleanup = Cleanup(name.clone());
    let proxy = Proxy::start(rules);
    let dir = tempfile::tempdir().expect("temporary directory");
    let yaml = task_run(&name, IMAGE, extra);
    let ran = run_through(&proxy, dir.path(), &yaml, &["--pull", "never"]);
    ran.succeeded_with_ok(&proxy);
    assert!(
        containers_of(&name, None).is_empty(),
        "the step's container was removed\n{}",
        proxy.log()
    );
    (proxy, ran.took)
}

#[test]
fn calls_answering_500_twice_are_retried_and_the_run_succeeds() {
    let (proxy, _) = succeeds_through(
        "500s",
        vec![
            Rule::new("GET", INSPECT, Fault::Status500).times(2),
            Rule::new("POST", WAIT, Fault::Status500).times(2),
            Rule::new("DELETE", REMOVE, Fault::Status500).times(2),
            Rule::new("GET", IMAGE_INSPECT, Fault::Status500).times(2),
        ],
        "",
    );
    for (method, path) in [("GET", INSPECT), ("POST", WAIT), ("DELETE", REMOVE)] {
        assert_eq!(
            proxy.seen(method, path),
            3,
            "{method} {path}: two 500s then the answer\n{}",
            proxy.log()
        );
    }
}

#[test]
fn calls_whose_connection_drops_twice_are_retried_and_the_run_succeeds() {
    let (proxy, _) = succeeds_through(
        "drops",
        vec![
            Rule::new("GET", INSPECT, Fault::DropRequest).times(2),
            Rule::new("POST", WAIT, Fault::DropRequest).times(2),
            // The engine removes it, the answer is lost: the repeat finds it gone, which is done.
            Rule::new("DELETE", REMOVE, Fault::DropAnswer).times(2),
            Rule::new("GET", IMAGE_INSPECT, Fault::DropRequest).times(2),
        ],
        "",
    );
    // After the wait, a dropped inspect looks like an engine gone: a ping finds it there, the
    // inspect is retried (dropped again, then answered); the step's status inspect follows.
    assert_eq!(proxy.seen("GET", INSPECT), 4, "{}", proxy.log());
    assert_eq!(proxy.seen("GET", "/_ping"), 2, "{}", proxy.log());
    assert_eq!(proxy.seen("POST", WAIT), 3, "{}", proxy.log());
    // Removed by the first, 404 to the second (lost too), 404 to the third: done.
    assert_eq!(proxy.reached("DELETE", REMOVE), 3, "{}", proxy.log());
}

#[test]
fn a_wait_cut_off_while_the_step_runs_waits_again() {
    // The engine answers the wait's head at once; losing it while the step still sleeps
    // must not be taken for the step's exit.
    let (proxy, took) = succeeds_through(
        "wait",
        vec![Rule::new("POST", WAIT, Fault::DropAnswer)],
        "sleep 2",
    );
    assert_eq!(proxy.reached("POST", WAIT), 2, "{}", proxy.log());
    assert!(took >= Duration::from_secs(2), "the step ran to its end");
}

#[test]
fn a_persistent_500_fails_the_run_after_six_attempts_not_as_the_steps_failure() {
    let name = unique("persistent");
    let _cleanup = Cleanup(name.clone());
    let proxy = Proxy::start(vec![Rule::new("GET", INSPECT, Fault::Status500).always()]);
    let dir = tempfile::tempdir().expect("temporary directory");
    // Steps one by one: each is inspected once it exits. Started at once they are not (the
    // wait's answer and the resolved image say all), so no inspect would be refused.
    let ran = run_through_with(
        &proxy,
        dir.path(),
        &task_run(&name, IMAGE, ""),
        &["--pull", "never"],
        &[("ADZE_STEPS_AT_ONCE", "0")],
    );
    assert_eq!(ran.code, Some(1), "{}\n{}", ran.stderr, ran.run);
    let condition = ran.condition();
    assert_eq!(condition["status"], "False", "{}", ran.run);
    assert_ne!(condition["reason"], "StepFailed", "{}", ran.run);
    let message = condition["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("status code 500: injected by the proxy")
            && message.contains("still so after 6 attempts over 3.1 s"),
        "{message}"
    );
    assert!(
        !message.contains("start one"),
        "the engine is running: {message}"
    );
    // One inspect asks whether the wait ended because the engine went away (an answer, even a
    // 500, says it did not); then the step's status inspect makes its 6 attempts.
    assert_eq!(proxy.seen("GET", INSPECT), 1 + 6, "{}", proxy.log());
    // 3.1 s of waiting, plus the run itself; far from a hang.
    assert!(ran.took < Duration::from_secs(60), "took {:?}", ran.took);
    assert!(containers_of(&name, None).is_empty());
}
