//! The loop against the fake executor and a fake clock: one test per behaviour a user sees.

use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::api::{Object, ParamValue, PipelineRun};
use crate::load::{Bundle, Origin};
use crate::plan::PlanError;
use crate::reconcile::{
    CancelCause, ConditionStatus, OnError, PipelineTaskState, RunReason, SkipReason, Timestamp,
};

const T0: Timestamp = Timestamp(1_700_000_000_000);

fn bundle(text: &str) -> Bundle {
    let mut b = Bundle::new();
    b.add_source("t.yaml", text.to_owned(), Origin::Input);
    assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
    b
}

fn pipeline_run(b: &Bundle) -> &PipelineRun {
    b.inputs()
        .find_map(|o| match &o.object {
            Object::PipelineRun(pr) => Some(pr),
            _ => None,
        })
        .expect("the input holds a PipelineRun")
}

/// Runs the bundle's PipelineRun with a one-second tick from `T0`.
fn run(text: &str, executor: &mut FakeExecutor) -> RunOutcome {
    let b = bundle(text);
    let driver = Driver::new(&b, pipeline_run(&b))
        .expect("the pipeline resolves")
        .with_tick(Duration::from_secs(1));
    driver
        .run(executor, &mut FakeClock::at(T0))
        .expect("the run finishes")
}

fn cond(outcome: &RunOutcome) -> (ConditionStatus, RunReason) {
    (outcome.condition.status, outcome.condition.reason)
}

fn state<'a>(outcome: &'a RunOutcome, task: &str) -> &'a PipelineTaskState {
    &outcome
        .task_states
        .iter()
        .find(|(name, _)| name == task)
        .expect("task exists")
        .1
}

fn param<'a>(request: &'a TaskRunRequest, name: &str) -> &'a ParamValue {
    &request
        .params
        .iter()
        .find(|p| p.name == name)
        .expect("param exists")
        .value
}

fn s(v: &str) -> ParamValue {
    ParamValue::String(v.to_owned())
}

const DIAMOND: &str = r#"
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: echo}
spec:
  params: [{name: v, default: none}]
  results: [{name: y}]
  steps: [{image: alpine, script: 'echo $(params.v) > $(results.y.path)'}]
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: greeting, value: hi}]
  pipelineSpec:
    params: [{name: greeting}]
    results:
    - {name: out, value: $(tasks.d.results.y)}
    - {name: both, value: '$(tasks.a.results.x)-$(tasks.b.results.y)'}
    tasks:
    - name: a
      taskSpec:
        results: [{name: x}]
        steps: [{image: alpine, script: 'echo $(params.greeting)'}]
    - name: b
      params: [{name: v, value: 'from-a=$(tasks.a.results.x)'}]
      taskRef: {name: echo}
    - name: c
      runAfter: [a]
      taskRef: {name: echo}
    - name: d
      params: [{name: v, value: '$(tasks.b.results.y)+$(tasks.c.results.y)'}]
      taskRef: {name: echo}
"#;

#[test]
fn a_diamond_succeeds_with_results_wired_into_params_and_steps() {
    let mut exec = FakeExecutor::new()
        .succeed("a", &[("x", "hello")])
        .succeed("b", &[("y", "B")])
        .succeed("c", &[("y", "C")])
        .succeed("d", &[("y", "D")]);
    let outcome = run(DIAMOND, &mut exec);

    assert_eq!(
        cond(&outcome),
        (ConditionStatus::True, RunReason::Succeeded)
    );
    let order: Vec<&str> = exec
        .started
        .iter()
        .map(|r| r.pipeline_task.as_str())
        .collect();
    assert_eq!(order, ["a", "b", "c", "d"]);
    let b = exec.request("b").expect("b started");
    assert_eq!(b.name, "pr-b");
    assert_eq!(param(b, "v"), &s("from-a=hello"));
    assert_eq!(
        b.steps[0].script.as_deref(),
        Some("#!/bin/sh\nset -e\necho from-a=hello > /tekton/results/y"),
        "the executor gets the step fully substituted"
    );
    assert_eq!(param(exec.request("d").expect("d started"), "v"), &s("B+C"));
    assert!(
        exec.request("a").expect("a started").steps[0]
            .script
            .as_deref()
            .is_some_and(|script| script.ends_with("echo hi")),
        "pipeline params propagate into embedded specs"
    );
    assert_eq!(
        outcome.child_references,
        ["a", "b", "c", "d"]
            .map(|t| ChildReference {
                name: format!("pr-{t}"),
                pipeline_task: t.to_owned(),
                kind: ChildKind::TaskRun,
            })
            .to_vec()
    );
    assert!(exec.cancelled.is_empty());
}

#[test]
fn pipeline_results_are_computed_from_produced_results() {
    let mut exec = FakeExecutor::new()
        .succeed("a", &[("x", "hello")])
        .succeed("b", &[("y", "B")])
        .succeed("c", &[("y", "C")])
        .succeed("d", &[("y", "D")]);
    let outcome = run(DIAMOND, &mut exec);
    assert_eq!(
        cond(&outcome),
        (ConditionStatus::True, RunReason::Succeeded)
    );

    let results: Vec<(&str, &ParamValue)> = outcome
        .pipeline_results
        .results
        .iter()
        .map(|r| (r.name.as_str(), &r.value))
        .collect();
    assert_eq!(results, [("out", &s("D")), ("both", &s("hello-B"))]);
    assert_eq!(outcome.pipeline_results.error, None);
}

const FAILING: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: build, taskSpec: {steps: [{image: alpine, script: 'exit 1'}]}}
    - {name: test, runAfter: [build], taskSpec: {steps: [{image: alpine, script: 'true'}]}}
    - {name: deploy, runAfter: [test], taskSpec: {steps: [{image: alpine, script: 'true'}]}}
    finally:
    - {name: cleanup, taskSpec: {steps: [{image: alpine, script: 'true'}]}}
"#;

#[test]
fn a_failing_task_stops_the_run_and_finally_still_runs() {
    let mut exec = FakeExecutor::new().fail("build");
    let outcome = run(FAILING, &mut exec);

    assert_eq!(cond(&outcome), (ConditionStatus::False, RunReason::Failed));
    assert!(matches!(
        state(&outcome, "build"),
        PipelineTaskState::Failed { ignored: false, .. }
    ));
    for dependent in ["test", "deploy"] {
        assert_eq!(
            state(&outcome, dependent),
            &PipelineTaskState::Skipped {
                reason: SkipReason::Stopping
            }
        );
    }
    assert_eq!(SkipReason::Stopping.as_str(), "PipelineRun was stopping");
    assert_eq!(state(&outcome, "cleanup"), &PipelineTaskState::Succeeded);
    let cleanup = exec.request("cleanup").expect("finally started");
    assert!(cleanup.finally);
    let started: Vec<&str> = exec
        .started
        .iter()
        .map(|r| r.pipeline_task.as_str())
        .collect();
    assert_eq!(started, ["build", "cleanup"]);
}

#[test]
fn a_lost_engine_ends_the_run_without_finally_or_retries() {
    let text = FAILING.replace("{name: build, ", "{name: build, retries: 2, ");
    let mut exec = FakeExecutor::new().lose_engine("build");
    let outcome = run(&text, &mut exec);

    assert_eq!(cond(&outcome), (ConditionStatus::False, RunReason::Failed));
    assert!(
        outcome.condition.message.starts_with(
            "the container engine stopped during the run: gone; Tasks Completed: 1 (Failed: 1"
        ),
        "{}",
        outcome.condition.message
    );
    assert_eq!(
        outcome.engine_lost.as_deref(),
        Some("the container engine stopped during the run: gone")
    );
    assert_eq!(
        state(&outcome, "build"),
        &PipelineTaskState::Failed {
            reason: "PodEvicted".into(),
            ignored: false
        }
    );
    assert_eq!(state(&outcome, "cleanup"), &PipelineTaskState::NotStarted);
    let started: Vec<&str> = exec
        .started
        .iter()
        .map(|r| r.pipeline_task.as_str())
        .collect();
    assert_eq!(started, ["build"], "no retry, no finally");
}

#[test]
fn a_task_whose_when_expressions_are_false_is_skipped_and_its_dependents_run() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: branch, value: dev}]
  pipelineSpec:
    params: [{name: branch}]
    tasks:
    - name: check
      taskSpec:
        results: [{name: env}]
        steps: [{image: alpine, script: 'true'}]
    - name: release
      when: [{input: $(tasks.check.results.env), operator: in, values: [prod]}]
      taskSpec: {steps: [{image: alpine, script: 'true'}]}
    - name: guarded
      when: [{input: $(params.branch), operator: notin, values: [main]}]
      taskSpec: {steps: [{image: alpine, script: 'true'}]}
    - {name: notify, runAfter: [release], taskSpec: {steps: [{image: alpine, script: 'true'}]}}
"#;
    let mut exec = FakeExecutor::new().succeed("check", &[("env", "staging")]);
    let outcome = run(text, &mut exec);

    assert_eq!(
        cond(&outcome),
        (ConditionStatus::True, RunReason::Completed)
    );
    assert_eq!(
        state(&outcome, "release"),
        &PipelineTaskState::Skipped {
            reason: SkipReason::WhenFalse
        }
    );
    assert_eq!(state(&outcome, "guarded"), &PipelineTaskState::Succeeded);
    assert_eq!(state(&outcome, "notify"), &PipelineTaskState::Succeeded);
    assert!(exec.request("release").is_none());
}

#[test]
fn a_pipeline_timeout_cancels_a_task_that_never_finishes() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  timeouts: {pipeline: 1m}
  pipelineSpec:
    tasks:
    - {name: slow, taskSpec: {steps: [{image: alpine, script: 'sleep 600'}]}}
    - {name: after, runAfter: [slow], taskSpec: {steps: [{image: alpine, script: 'true'}]}}
    finally:
    - {name: cleanup, taskSpec: {steps: [{image: alpine, script: 'true'}]}}
"#;
    let b = bundle(text);
    let mut exec = FakeExecutor::new().hang("slow");
    let mut clock = FakeClock::at(T0);
    let outcome = Driver::new(&b, pipeline_run(&b))
        .expect("the pipeline resolves")
        .with_tick(Duration::from_secs(10))
        .run(&mut exec, &mut clock)
        .expect("the run finishes");

    assert_eq!(
        cond(&outcome),
        (ConditionStatus::False, RunReason::PipelineRunTimeout)
    );
    assert_eq!(
        exec.cancelled,
        [(
            "pr-slow".to_owned(),
            CancelCause::TimedOut.message().to_owned()
        )],
        "cancelled once, although reconcile repeats the cancel"
    );
    assert_eq!(
        state(&outcome, "slow"),
        &PipelineTaskState::Cancelled {
            cause: CancelCause::TimedOut
        }
    );
    for never in ["after", "cleanup"] {
        assert_eq!(
            state(&outcome, never),
            &PipelineTaskState::Skipped {
                reason: SkipReason::PipelineTimeout
            }
        );
    }
    assert!(exec.request("cleanup").is_none(), "finally never runs");
    // Tekton compares with `>`: the first pass after 60 s, on a 10 s tick, is at 70 s.
    assert_eq!(clock.now, Timestamp(T0.0 + 70_000));
}

#[test]
fn unsupported_features_are_refused_before_anything_starts() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: custom
      taskRef: {apiVersion: example.dev/v1, kind: Wait, name: w}
"#;
    let b = bundle(text);
    let err = Driver::new(&b, pipeline_run(&b)).expect_err("not supported yet");
    assert!(
        matches!(err, RunError::Plan(PlanError::Unsupported(_))),
        "{err}"
    );
}

#[test]
fn a_missing_task_reference_is_reported_before_anything_starts() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks: [{name: a, taskRef: {name: nowhere}}]
"#;
    let b = bundle(text);
    let err = Driver::new(&b, pipeline_run(&b)).expect_err("the Task does not exist");
    assert!(
        matches!(err, RunError::Plan(PlanError::NotFound(_))),
        "{err}"
    );
}

/// Fails to start one pipeline task, delegating everything else to a [`FakeExecutor`].
struct BrokenStart {
    inner: FakeExecutor,
    broken: &'static str,
}

impl Executor for BrokenStart {
    fn start(&mut self, task_run: &TaskRunRequest) -> Result<(), ExecError> {
        if task_run.pipeline_task == self.broken {
            return Err(ExecError::Unavailable("no container engine".into()));
        }
        self.inner.start(task_run)
    }

    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError> {
        self.inner.cancel(name, message)
    }

    fn poll(&mut self, now: Timestamp) -> Vec<ExecEvent> {
        self.inner.poll(now)
    }
}

#[test]
fn an_executor_error_cancels_running_children_before_it_is_returned() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: a, taskSpec: {steps: [{image: alpine, script: 'sleep 600'}]}}
    - {name: b, taskSpec: {steps: [{image: alpine, script: 'true'}]}}
"#;
    let b = bundle(text);
    let mut exec = BrokenStart {
        inner: FakeExecutor::new().hang("a"),
        broken: "b",
    };
    let err = Driver::new(&b, pipeline_run(&b))
        .expect("the pipeline resolves")
        .run(&mut exec, &mut FakeClock::at(T0))
        .expect_err("b cannot start");
    assert_eq!(
        err,
        RunError::Exec(ExecError::Unavailable("no container engine".into()))
    );
    assert_eq!(
        exec.inner.cancelled,
        [(
            "pr-a".to_owned(),
            CancelCause::Cancelled.message().to_owned()
        )]
    );
}

const HANGING: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: slow, taskSpec: {steps: [{image: alpine, script: sleep 1000}]}}
    - {name: later, runAfter: [slow], taskSpec: {steps: [{image: alpine, script: 'true'}]}}
    finally:
    - {name: cleanup, taskSpec: {steps: [{image: alpine, script: 'true'}]}}
"#;

/// Triggers `interrupt` `times` times once the executor has been polled twice.
struct Interrupting {
    inner: FakeExecutor,
    interrupt: Interrupt,
    times: usize,
    polls: usize,
}

impl Executor for Interrupting {
    fn start(&mut self, task_run: &TaskRunRequest) -> Result<(), ExecError> {
        self.inner.start(task_run)
    }
    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError> {
        self.inner.cancel(name, message)
    }
    fn poll(&mut self, now: Timestamp) -> Vec<ExecEvent> {
        self.polls += 1;
        if self.polls == 2 {
            for _ in 0..self.times {
                self.interrupt.trigger();
            }
        }
        self.inner.poll(now)
    }
}

fn interrupted(times: usize) -> (RunOutcome, FakeExecutor) {
    let b = bundle(HANGING);
    let interrupt = Interrupt::new();
    let mut exec = Interrupting {
        inner: FakeExecutor::new().hang("slow"),
        interrupt: interrupt.clone(),
        times,
        polls: 0,
    };
    let outcome = Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .with_tick(Duration::from_secs(1))
        .with_interrupt(interrupt)
        .run(&mut exec, &mut FakeClock::at(T0))
        .expect("finishes");
    (outcome, exec.inner)
}

#[test]
fn a_first_interrupt_cancels_running_tasks_and_still_runs_finally() {
    let (outcome, exec) = interrupted(1);
    assert_eq!(
        cond(&outcome),
        (ConditionStatus::False, RunReason::Cancelled)
    );
    assert_eq!(
        outcome.condition.message,
        "PipelineRun \"pr\" was cancelled"
    );
    assert!(matches!(
        state(&outcome, "slow"),
        PipelineTaskState::Cancelled { .. }
    ));
    assert_eq!(
        state(&outcome, "later"),
        &PipelineTaskState::Skipped {
            reason: SkipReason::GracefullyCancelled
        }
    );
    assert_eq!(state(&outcome, "cleanup"), &PipelineTaskState::Succeeded);
    assert_eq!(exec.cancelled.len(), 1);
}

#[test]
fn a_second_interrupt_cancels_finally_too() {
    let (outcome, exec) = interrupted(2);
    assert_eq!(
        cond(&outcome),
        (ConditionStatus::False, RunReason::Cancelled)
    );
    assert!(matches!(
        state(&outcome, "slow"),
        PipelineTaskState::Cancelled { .. }
    ));
    assert!(
        exec.request("cleanup").is_none(),
        "finally does not start once the run is cancelled outright"
    );
}

fn recorded(entries: &[(&str, &str, &str)]) -> Recorded {
    let mut r = Recorded::new();
    for (task, name, value) in entries {
        r.entry((*task).to_owned())
            .or_default()
            .push(((*name).to_owned(), s(value)));
    }
    r
}

fn run_selected(selection: Selection, previous: &Recorded, exec: &mut FakeExecutor) -> RunOutcome {
    let b = bundle(DIAMOND);
    Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .with_selection(&selection, previous)
        .expect("selection is valid")
        .with_tick(Duration::from_secs(1))
        .run(exec, &mut FakeClock::at(T0))
        .expect("finishes")
}

#[test]
fn only_runs_one_task_with_the_recorded_results_of_its_parents() {
    let previous = recorded(&[("b", "y", "oldB"), ("c", "y", "oldC"), ("a", "x", "oldA")]);
    let mut exec = FakeExecutor::new().succeed("d", &[("y", "D")]);
    let outcome = run_selected(Selection::Only("d".into()), &previous, &mut exec);
    assert_eq!(cond(&outcome).0, ConditionStatus::True);
    let started: Vec<&str> = exec
        .started
        .iter()
        .map(|r| r.pipeline_task.as_str())
        .collect();
    assert_eq!(started, ["d"]);
    assert_eq!(param(exec.request("d").expect("d"), "v"), &s("oldB+oldC"));
}

#[test]
fn from_runs_a_task_and_everything_downstream_of_it() {
    let previous = recorded(&[("a", "x", "oldA"), ("b", "y", "oldB")]);
    let mut exec = FakeExecutor::new()
        .succeed("c", &[("y", "C")])
        .succeed("d", &[("y", "D")]);
    run_selected(Selection::From("c".into()), &previous, &mut exec);
    let started: Vec<&str> = exec
        .started
        .iter()
        .map(|r| r.pipeline_task.as_str())
        .collect();
    assert_eq!(started, ["c", "d"]);
    assert_eq!(param(exec.request("d").expect("d"), "v"), &s("oldB+C"));
}

#[test]
fn a_selection_without_recorded_parents_or_with_an_unknown_task_is_refused() {
    let b = bundle(DIAMOND);
    let err = Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .with_selection(&Selection::Only("d".into()), &Recorded::new())
        .expect_err("nothing recorded");
    assert!(
        err.to_string()
            .contains("run the whole pipeline once first"),
        "{err}"
    );
    let err = Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .with_selection(&Selection::From("D".into()), &Recorded::new())
        .expect_err("unknown");
    assert!(err.to_string().contains("did you mean \"d\""), "{err}");
}

const MATRIX: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: fan
      matrix:
        params: [{name: os, value: [linux, mac]}, {name: arch, value: [amd, arm]}]
      taskSpec:
        params: [{name: os}, {name: arch}]
        results: [{name: out}]
        steps: [{image: alpine, script: 'echo $(params.os)-$(params.arch)'}]
    - name: after
      params:
      - {name: all, value: '$(tasks.fan.results.out[*])'}
      - {name: count, value: $(tasks.fan.matrix.length)}
      - {name: outs, value: $(tasks.fan.matrix.out.length)}
      taskSpec:
        params: [{name: all, type: array}, {name: count}, {name: outs}]
        steps: [{image: alpine, args: ['$(params.all[*])']}]
"#;

/// Succeeds every TaskRun with result `out` = its own name.
struct EchoName {
    inner: FakeExecutor,
}

impl Executor for EchoName {
    fn start(&mut self, task_run: &TaskRunRequest) -> Result<(), ExecError> {
        self.inner.start(task_run)
    }
    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError> {
        self.inner.cancel(name, message)
    }
    fn poll(&mut self, now: Timestamp) -> Vec<ExecEvent> {
        let mut events = self.inner.poll(now);
        for e in &mut events {
            e.results = vec![("out".into(), s(&e.task_run))];
        }
        events
    }
}

#[test]
fn a_matrix_fans_out_in_tekton_order_and_aggregates_results_into_arrays() {
    let b = bundle(MATRIX);
    let mut exec = EchoName {
        inner: FakeExecutor::new(),
    };
    let outcome = Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .with_tick(Duration::from_secs(1))
        .run(&mut exec, &mut FakeClock::at(T0))
        .expect("runs");
    assert_eq!(
        cond(&outcome),
        (ConditionStatus::True, RunReason::Succeeded)
    );
    let fan: Vec<(&str, String)> = exec
        .inner
        .started
        .iter()
        .filter(|r| r.pipeline_task == "fan")
        .map(|r| {
            (
                r.name.as_str(),
                r.steps[0].script.clone().unwrap_or_default(),
            )
        })
        .collect();
    let names: Vec<&str> = fan.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["pr-fan-0", "pr-fan-1", "pr-fan-2", "pr-fan-3"]);
    // The first matrix param varies fastest.
    assert!(fan[0].1.ends_with("echo linux-amd"), "{}", fan[0].1);
    assert!(fan[1].1.ends_with("echo mac-amd"), "{}", fan[1].1);
    assert!(fan[3].1.ends_with("echo mac-arm"), "{}", fan[3].1);
    let after = exec.inner.request("after").expect("after started");
    assert_eq!(param(after, "count"), &s("4"));
    assert_eq!(param(after, "outs"), &s("4"));
    assert_eq!(
        after.steps[0].args,
        ["pr-fan-0", "pr-fan-1", "pr-fan-2", "pr-fan-3"],
        "results of a matrixed task are arrays over its TaskRuns"
    );
}

#[test]
fn an_empty_matrix_skips_the_task() {
    let b = bundle(&MATRIX.replace("value: [linux, mac]", "value: []"));
    let mut exec = FakeExecutor::new();
    let outcome = Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .with_tick(Duration::from_secs(1))
        .run(&mut exec, &mut FakeClock::at(T0))
        .expect("runs");
    assert_eq!(
        state(&outcome, "fan"),
        &PipelineTaskState::Skipped {
            reason: SkipReason::EmptyMatrix
        }
    );
    assert_eq!(
        SkipReason::EmptyMatrix.as_str(),
        "Matrix Parameters have an empty array"
    );
}

const RETRIED: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: flaky
      retries: 2
      taskSpec:
        steps: [{image: alpine, script: 'echo attempt $(context.task.retry-count)'}]
"#;

/// Fails the first `failures` attempts of every TaskRun, then succeeds.
struct Flaky {
    inner: FakeExecutor,
    failures: usize,
    attempts: HashMap<String, usize>,
}

impl Executor for Flaky {
    fn start(&mut self, task_run: &TaskRunRequest) -> Result<(), ExecError> {
        *self.attempts.entry(task_run.name.clone()).or_default() += 1;
        self.inner.start(task_run)
    }
    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError> {
        self.inner.cancel(name, message)
    }
    fn poll(&mut self, now: Timestamp) -> Vec<ExecEvent> {
        let mut events = self.inner.poll(now);
        for e in &mut events {
            if self.attempts[&e.task_run] <= self.failures {
                e.outcome = ExecOutcome::Failed {
                    reason: "StepFailed".into(),
                    message: "flaked".into(),
                };
            }
        }
        events
    }
}

fn flaky(failures: usize) -> (RunOutcome, Flaky) {
    let b = bundle(RETRIED);
    let mut exec = Flaky {
        inner: FakeExecutor::new(),
        failures,
        attempts: HashMap::new(),
    };
    let outcome = Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .with_tick(Duration::from_secs(1))
        .run(&mut exec, &mut FakeClock::at(T0))
        .expect("runs");
    (outcome, exec)
}

#[test]
fn a_failed_attempt_is_retried_with_the_retry_count_in_context() {
    let (outcome, exec) = flaky(2);
    assert_eq!(
        cond(&outcome),
        (ConditionStatus::True, RunReason::Succeeded)
    );
    let scripts: Vec<String> = exec
        .inner
        .started
        .iter()
        .map(|r| r.steps[0].script.clone().unwrap_or_default())
        .collect();
    assert_eq!(scripts.len(), 3);
    for (i, script) in scripts.iter().enumerate() {
        assert!(script.ends_with(&format!("echo attempt {i}")), "{script}");
    }
    assert_eq!(outcome.task_runs.len(), 1, "one TaskRun, three attempts");
    assert_eq!(outcome.task_runs[0].retries.len(), 2);
}

#[test]
fn the_pipeline_task_retries_reach_params_and_the_embedded_spec() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: a
      retries: 3
      params: [{name: n, value: $(context.pipelineTask.retries)}]
      matrix: {params: [{name: v, value: ["1"]}]}
      taskSpec:
        params: [{name: n}, {name: v}]
        steps: [{image: alpine, script: 'echo $(context.pipelineTask.retries) $(context.task.retry-count)'}]
    - name: b
      params: [{name: n, value: $(context.pipelineTask.retries)}]
      taskSpec:
        params: [{name: n}]
        steps: [{image: alpine, script: 'true'}]
"#;
    let mut exec = FakeExecutor::new();
    let outcome = run(text, &mut exec);
    assert_eq!(
        cond(&outcome),
        (ConditionStatus::True, RunReason::Succeeded)
    );
    let a = exec
        .started
        .iter()
        .find(|r| r.pipeline_task == "a")
        .expect("a ran");
    assert_eq!(param(a, "n"), &s("3"));
    let script = a.steps[0].script.clone().unwrap_or_default();
    assert!(script.ends_with("echo 3 0"), "{script}");
    let b = exec
        .started
        .iter()
        .find(|r| r.pipeline_task == "b")
        .expect("b ran");
    assert_eq!(param(b, "n"), &s("0"), "no retries is 0");
}

#[test]
fn a_task_fails_once_its_retries_are_used_up() {
    let (outcome, exec) = flaky(5);
    assert_eq!(cond(&outcome), (ConditionStatus::False, RunReason::Failed));
    assert_eq!(exec.inner.started.len(), 3, "1 attempt + 2 retries");
}

#[test]
fn finally_tasks_see_the_execution_status_of_the_dag_tasks() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: ok, taskSpec: {steps: [{image: alpine, script: 'true'}]}}
    - {name: bad, onError: continue, taskSpec: {steps: [{image: alpine, script: 'false'}]}}
    - name: never
      when: [{input: a, operator: in, values: [b]}]
      taskSpec: {steps: [{image: alpine, script: 'true'}]}
    finally:
    - name: report
      params:
      - {name: all, value: $(tasks.status)}
      - {name: ok, value: $(tasks.ok.status)}
      - {name: bad, value: '$(tasks.bad.status)/$(tasks.bad.reason)'}
      - {name: never, value: $(tasks.never.status)}
      taskSpec:
        params: [{name: all}, {name: ok}, {name: bad}, {name: never}]
        steps: [{image: alpine, script: 'true'}]
"#;
    let mut exec = FakeExecutor::new().script(
        "bad",
        Script::Fail {
            reason: "StepFailed".into(),
            message: "boom".into(),
        },
    );
    run(text, &mut exec);
    let report = exec.request("report").expect("finally ran");
    assert_eq!(param(report, "all"), &s("Failed"));
    assert_eq!(param(report, "ok"), &s("Succeeded"));
    assert_eq!(param(report, "bad"), &s("Failed/StepFailed"));
    assert_eq!(param(report, "never"), &s("None"));
}

const WORKSPACES: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: "1", b: "2"}
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: ws}
spec:
  params: [{name: dir, value: nested}]
  workspaces:
    - {name: shared, emptyDir: {}, subPath: top}
    - {name: cfg, configMap: {name: cm, items: [{key: b, path: sub/b.txt}]}}
  pipelineSpec:
    params: [{name: dir}]
    workspaces: [{name: shared}, {name: cfg}, {name: maybe, optional: true}]
    tasks:
      - name: t
        workspaces:
          - {name: src, workspace: shared, subPath: $(params.dir)}
          - {name: conf, workspace: cfg}
          - {name: opt, workspace: maybe}
        taskSpec:
          workspaces:
            - {name: src, readOnly: true}
            - {name: conf, mountPath: /etc/conf}
            - {name: opt, optional: true}
          steps:
            - image: img
              script: echo $(workspaces.src.path) "$(workspaces.opt.path)"
"#;

#[test]
fn workspaces_reach_the_request_resolved() {
    let mut executor = FakeExecutor::new();
    let outcome = run(WORKSPACES, &mut executor);
    assert_eq!(cond(&outcome).0, ConditionStatus::True);
    let request = &outcome.task_runs[0].request;
    let names: Vec<_> = request.workspaces.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(
        names,
        ["src", "conf"],
        "the unbound optional one is left out"
    );
    let src = &request.workspaces[0];
    assert_eq!(src.mount_path, "/workspace/src");
    assert_eq!(src.sub_path.as_deref(), Some("top/nested"));
    assert!(src.read_only);
    let WorkspaceSource::Dir(dir) = &src.source else {
        panic!("emptyDir is a directory: {src:?}");
    };
    assert!(dir.ends_with("workspaces/shared"), "{}", dir.display());
    let conf = &request.workspaces[1];
    assert_eq!(conf.mount_path, "/etc/conf");
    assert!(conf.read_only, "ConfigMaps are read-only");
    assert_eq!(
        conf.source,
        WorkspaceSource::Files(vec![("sub/b.txt".into(), b"2".to_vec())])
    );
    let script = request.steps[0].script.as_deref().unwrap_or_default();
    assert!(script.contains("echo /workspace/src \"\""), "{script}");
    assert!(
        !dir.exists(),
        "the run directory is removed when the run ends"
    );
}

#[test]
fn a_missing_host_directory_or_unsupported_binding_is_a_run_error() {
    let b = bundle(&WORKSPACES.replace(
        "{name: shared, emptyDir: {}, subPath: top}",
        "{name: shared, persistentVolumeClaim: {claimName: \"dir:/nonexistent/adze\"}}",
    ));
    let err = Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .run(&mut FakeExecutor::new(), &mut FakeClock::at(T0))
        .expect_err("the directory is missing");
    assert!(err.to_string().contains("/nonexistent/adze"), "{err}");

    let b = bundle(&WORKSPACES.replace(
        "{name: shared, emptyDir: {}, subPath: top}",
        "{name: shared, csi: {driver: x}}",
    ));
    let err = Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .run(&mut FakeExecutor::new(), &mut FakeClock::at(T0))
        .expect_err("csi is not supported");
    assert!(
        err.to_string().contains("not supported by `adze run`"),
        "{err}"
    );
}

#[test]
fn a_run_directory_that_cannot_be_created_ends_the_run_before_any_task_starts() {
    let b = bundle(WORKSPACES);
    // A file where the base directory should be: creating anything under it fails, as it
    // does on a full disk.
    let base = tempfile::NamedTempFile::new().expect("temporary file");
    let mut executor = FakeExecutor::new();
    let outcome = Driver::new(&b, pipeline_run(&b))
        .expect("resolves")
        .with_workspace_base(base.path().to_owned())
        .run(&mut executor, &mut FakeClock::at(T0))
        .expect("the run ends with a status");
    assert_eq!(
        cond(&outcome),
        (ConditionStatus::False, RunReason::CouldntCreateWorkspacePVC)
    );
    let base = base.path().display().to_string();
    assert!(
        outcome.condition.message.contains(&base),
        "{}",
        outcome.condition.message
    );
    assert!(outcome.task_runs.is_empty(), "nothing started");
    assert_eq!(state(&outcome, "t"), &PipelineTaskState::NotStarted);
    assert_eq!(outcome.start_time, Some(T0));
    assert_eq!(outcome.completion_time, Some(T0));
}

const NESTED: &str = r#"
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: inner}
spec:
  params: [{name: word}]
  results: [{name: echoed, value: $(tasks.say.results.out)}]
  tasks:
  - name: say
    params: [{name: w, value: $(params.word)}]
    taskSpec:
      params: [{name: w}]
      results: [{name: out}]
      steps: [{image: alpine, script: 'echo $(params.w)'}]
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - name: child
      pipelineRef: {name: inner}
      params: [{name: word, value: hello}]
    - name: after
      params: [{name: got, value: $(tasks.child.results.echoed)}]
      taskSpec:
        params: [{name: got}]
        steps: [{image: alpine, script: 'echo $(params.got)'}]
"#;

#[test]
fn a_pipeline_in_a_pipeline_runs_as_a_child_pipeline_run_and_passes_its_results_on() {
    let mut exec = FakeExecutor::new().succeed("say", &[("out", "HELLO")]);
    let outcome = run(NESTED, &mut exec);
    assert_eq!(
        cond(&outcome),
        (ConditionStatus::True, RunReason::Succeeded)
    );
    let say = exec.request("say").expect("the child's task ran");
    assert_eq!(
        say.name, "pr-child-say",
        "named after the child PipelineRun"
    );
    assert_eq!(param(say, "w"), &s("hello"));
    let after = exec.request("after").expect("after ran");
    assert_eq!(param(after, "got"), &s("HELLO"));
    assert_eq!(
        outcome.child_references[0],
        ChildReference {
            name: "pr-child".into(),
            pipeline_task: "child".into(),
            kind: ChildKind::PipelineRun,
        }
    );
}

#[test]
fn a_failing_child_pipeline_fails_its_pipeline_task() {
    let mut exec = FakeExecutor::new().fail("say");
    let outcome = run(NESTED, &mut exec);
    assert_eq!(cond(&outcome), (ConditionStatus::False, RunReason::Failed));
    assert!(matches!(
        state(&outcome, "child"),
        PipelineTaskState::Failed { .. }
    ));
    assert!(exec.request("after").is_none());
}

const POD_TEMPLATE: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  taskRunTemplate:
    podTemplate:
      volumes: [{name: cache}]
      securityContext: {runAsUser: 1000, fsGroup: 2000}
  taskRunSpecs:
  - pipelineTaskName: b
    podTemplate:
      hostAliases: [{ip: 10.0.0.1, hostnames: [db.test]}]
  pipelineSpec:
    tasks:
    - name: a
      taskSpec:
        steps: [{name: s, image: alpine, script: 'true'}]
    - name: b
      runAfter: [a]
      taskSpec:
        volumes: [{name: extra, nfs: {server: nas, path: /x}}]
        steps: [{name: s, image: alpine, script: 'true'}]
"#;

#[test]
fn cluster_volumes_of_any_task_are_refused_before_the_run_starts() {
    let b = bundle(POD_TEMPLATE);
    let err = Driver::new(&b, pipeline_run(&b)).expect_err("nfs refused");
    assert!(
        err.to_string()
            .starts_with("volume \"extra\" (pipeline task \"b\"): nfs volumes need"),
        "{err}"
    );
}

#[test]
fn each_task_run_gets_its_effective_pod_template() {
    let text = POD_TEMPLATE.replace(
        "volumes: [{name: extra, nfs: {server: nas, path: /x}}]",
        "volumes: [{name: extra}]",
    );
    let mut exec = FakeExecutor::new()
        .succeed("pr-a", &[])
        .succeed("pr-b", &[]);
    let outcome = run(&text, &mut exec);
    assert_eq!(cond(&outcome).0, ConditionStatus::True);
    let a = &exec.started[0];
    assert_eq!(a.volumes.len(), 1, "the template's volume");
    assert_eq!(a.steps[0].run_as_user, Some(1000));
    assert_eq!(a.pod.fs_group, Some(2000));
    assert!(a.pod.host_aliases.is_empty());
    let b = &exec.started[1];
    let names: Vec<&str> = b.volumes.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["extra", "cache"]);
    assert_eq!(
        b.pod.host_aliases,
        [("db.test".to_owned(), "10.0.0.1".to_owned())]
    );
    // taskRunSpecs' template sets no securityContext: the run's applies.
    assert_eq!(b.pod.fs_group, Some(2000));
}

#[test]
fn cel_when_expressions_are_evaluated_after_substitution() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: branch, value: main}]
  pipelineSpec:
    params: [{name: branch}]
    tasks:
    - name: check
      taskSpec:
        results: [{name: env}]
        steps: [{image: alpine, script: 'true'}]
    - name: release
      when: [{cel: "'$(tasks.check.results.env)' == 'prod'"}]
      taskSpec: {steps: [{image: alpine, script: 'true'}]}
    - name: deploy
      when: [{cel: "'$(params.branch)' in ['main', 'release'] && '$(tasks.check.results.env)'.startsWith('st')"}]
      taskSpec: {steps: [{image: alpine, script: 'true'}]}
"#;
    let mut exec = FakeExecutor::new().succeed("check", &[("env", "staging")]);
    let outcome = run(text, &mut exec);

    assert_eq!(
        cond(&outcome),
        (ConditionStatus::True, RunReason::Completed)
    );
    assert_eq!(
        state(&outcome, "release"),
        &PipelineTaskState::Skipped {
            reason: SkipReason::WhenFalse
        }
    );
    assert_eq!(state(&outcome, "deploy"), &PipelineTaskState::Succeeded);
    // The result reference orders `release` after `check`, as Tekton's DAG does.
    assert!(exec.request("release").is_none());
    let recorded = outcome
        .when_expressions
        .iter()
        .find(|(task, _)| *task == "release")
        .map(|(_, w)| w[0].cel.clone());
    assert_eq!(recorded, Some(Some("'staging' == 'prod'".to_owned())));
}

#[test]
fn a_cel_when_expression_that_is_not_a_bool_fails_the_run() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  pipelineSpec:
    tasks:
    - {name: first, taskSpec: {steps: [{image: alpine, script: 'true'}]}}
    - name: second
      when: [{cel: "'a' + 'b'"}]
      taskSpec: {steps: [{image: alpine, script: 'true'}]}
"#;
    let mut exec = FakeExecutor::new();
    let outcome = run(text, &mut exec);

    assert_eq!(
        cond(&outcome),
        (ConditionStatus::False, RunReason::CelEvaluationFailed)
    );
    assert_eq!(
        outcome.condition.message,
        "Error evaluating CEL pr: [User error] The CEL expression 'a' + 'b' is not evaluated to a boolean"
    );
    assert!(exec.request("first").is_none(), "nothing starts");
}

#[test]
fn the_pipeline_task_on_error_reaches_the_executor() {
    let text = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: mode, value: continue}]
  pipelineSpec:
    params: [{name: mode}]
    tasks:
    - {name: lenient, onError: $(params.mode), taskSpec: {steps: [{image: alpine, script: 'exit 1'}]}}
    - {name: strict, taskSpec: {steps: [{image: alpine, script: 'true'}]}}
"#;
    let mut exec = FakeExecutor::new();
    run(text, &mut exec);
    let on_error = |task: &str| exec.request(task).map(|r| r.on_error);
    assert_eq!(on_error("lenient"), Some(OnError::Continue));
    assert_eq!(on_error("strict"), Some(OnError::StopAndFail));
}

#[test]
fn a_cluster_run_passes_sources_through_without_reading_them_here() {
    // Neither the ConfigMap, the Secret nor a csi driver exists here: on a cluster they need
    // not, and the requests carry the bindings and references as written.
    let text = r#"
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: use}
spec:
  workspaces: [{name: conf}, {name: data, readOnly: true}, {name: shared}]
  volumes: [{name: claim, persistentVolumeClaim: {claimName: c}}]
  steps:
  - image: alpine
    script: cat $(workspaces.conf.path)/x
    env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: missing, key: t}}}]
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr, uid: pr-uid}
spec:
  taskRunTemplate: {serviceAccountName: builder}
  workspaces:
  - {name: conf, configMap: {name: not-loaded}}
  - {name: data, csi: {driver: example.com/csi}}
  - {name: shared, volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce]}}, subPath: a}
  pipelineSpec:
    workspaces: [{name: conf}, {name: data}, {name: shared}]
    tasks:
    - name: t
      taskRef: {name: use}
      workspaces: [{name: conf}, {name: data}, {name: shared, subPath: b}]
"#;
    let b = bundle(text);
    assert!(
        Driver::new(&b, pipeline_run(&b)).is_err(),
        "the local driver refuses what it cannot provide"
    );
    let mut exec = FakeExecutor::new();
    Driver::for_cluster(&b, pipeline_run(&b))
        .expect("resolves without the objects")
        .with_tick(Duration::from_secs(1))
        .run(&mut exec, &mut FakeClock::at(T0))
        .expect("the run finishes");
    let request = exec.request("t").expect("started");
    assert!(request.workspaces.is_empty() && request.volumes.is_empty());
    let cluster = &request.cluster;
    let ws: Vec<(&str, Vec<&str>, Option<&str>, bool)> = cluster
        .workspaces
        .iter()
        .map(|w| {
            (
                w.name.as_str(),
                w.binding.sources(),
                w.sub_path.as_deref(),
                w.read_only,
            )
        })
        .collect();
    assert_eq!(
        ws,
        [
            ("conf", vec!["configMap"], None, false),
            ("data", vec!["csi"], None, true),
            ("shared", vec!["volumeClaimTemplate"], Some("a/b"), false),
        ]
    );
    assert_eq!(cluster.volumes[0].name, "claim");
    assert_eq!(cluster.service_account_name.as_deref(), Some("builder"));
    assert_eq!(
        cluster.pipeline_run,
        Some(RunIdentity {
            name: "pr".into(),
            uid: Some("pr-uid".into())
        })
    );
    assert_eq!(cluster.task.as_deref(), Some("use"));
    let env = &request.steps[0].env;
    assert!(
        env.iter().all(|e| e.value != "t"),
        "the Secret is not read: {env:?}"
    );
}
