//! One test per scheduling rule, asserting Tekton's exact reason and message strings.

use super::*;
use crate::api::GoDuration;
use crate::dag::{Dag, Dependency, EdgeKind, TaskNode};

const T0: Timestamp = Timestamp(1_700_000_000_000);
const MINUTE_MS: u64 = 60_000;

/// `spec` is `name:dep,dep;…`; a dep is `result/name` (result reference) or `name` (runAfter).
fn dag(spec: &str) -> Dag {
    let nodes: Vec<TaskNode<'_>> = spec
        .split(';')
        .map(|task| {
            let (name, deps) = task.split_once(':').unwrap_or((task, ""));
            let deps = deps
                .split(',')
                .filter(|d| !d.is_empty())
                .map(|d| match d.strip_prefix("result/") {
                    Some(on) => Dependency {
                        on: on.to_owned(),
                        kind: EdgeKind::Result,
                    },
                    None => Dependency {
                        on: d.to_owned(),
                        kind: EdgeKind::RunAfter,
                    },
                })
                .collect();
            TaskNode { name, deps }
        })
        .collect();
    Dag::build(&nodes).expect("test DAG is valid")
}

/// One not-started view per name.
fn views(names: &[&'static str]) -> Vec<TaskView<'static>> {
    names.iter().map(|n| TaskView::new(n)).collect()
}

fn set(tasks: &mut [TaskView<'static>], name: &str, state: PipelineTaskState) {
    let task = tasks
        .iter_mut()
        .find(|t| t.name == name)
        .expect("task exists");
    task.state = state;
}

fn running() -> PipelineTaskState {
    PipelineTaskState::Running { started: T0 }
}

fn failed() -> PipelineTaskState {
    PipelineTaskState::Failed {
        reason: "StepFailed".into(),
        ignored: false,
    }
}

fn skipped(reason: SkipReason) -> PipelineTaskState {
    PipelineTaskState::Skipped { reason }
}

fn view<'a>(dag: &'a Dag, tasks: &'a [TaskView<'a>], finally: &'a [TaskView<'a>]) -> RunView<'a> {
    RunView::new("pr", dag, tasks, finally)
        .expect("views match the DAG")
        .with_start(T0)
}

fn start(task: &str) -> Action {
    Action::Start { task: task.into() }
}

fn start_finally(task: &str) -> Action {
    Action::StartFinally { task: task.into() }
}

fn skip(task: &str, reason: SkipReason) -> Action {
    Action::Skip {
        task: task.into(),
        reason,
    }
}

fn cancel(task: &str, cause: CancelCause) -> Action {
    Action::Cancel {
        task: task.into(),
        cause,
    }
}

/// The condition as the three strings a user sees.
fn cond(step: &Step) -> (&str, &str, &str) {
    (
        step.condition.status.as_str(),
        step.condition.reason.as_str(),
        step.condition.message.as_str(),
    )
}

fn at(minutes: u64, extra_ms: u64) -> Timestamp {
    Timestamp(T0.0 + minutes * MINUTE_MS + extra_ms)
}

#[test]
fn dag_scheduling_starts_every_ready_task_in_the_same_pass() {
    let dag = dag("a;b;c:a,b");
    let mut tasks = views(&["a", "b", "c"]);
    let first = RunView::new("pr", &dag, &tasks, &[]).expect("valid view");
    let step = reconcile(&first, T0);
    assert_eq!(step.actions, vec![start("a"), start("b")]);
    assert_eq!(step.start_time, Some(T0));
    assert_eq!(
        cond(&step),
        (
            "Unknown",
            "Running",
            "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 3, Skipped: 0"
        )
    );

    set(&mut tasks, "a", PipelineTaskState::Succeeded);
    set(&mut tasks, "b", running());
    let step = reconcile(&view(&dag, &tasks, &[]), at(1, 0));
    assert_eq!(step.actions, vec![], "c waits for b");
    assert_eq!(step.start_time, None, "startTime is recorded once");

    set(&mut tasks, "b", PipelineTaskState::Succeeded);
    let step = reconcile(&view(&dag, &tasks, &[]), at(2, 0));
    assert_eq!(step.actions, vec![start("c")]);
}

#[test]
fn stop_and_fail_failure_skips_unstarted_tasks_and_lets_running_ones_finish() {
    let dag = dag("a;b;c:a;d:b");
    let mut tasks = views(&["a", "b", "c", "d"]);
    set(&mut tasks, "a", failed());
    set(&mut tasks, "b", running());
    let step = reconcile(&view(&dag, &tasks, &[]), at(1, 0));
    assert_eq!(
        step.actions,
        vec![
            skip("c", SkipReason::Stopping),
            skip("d", SkipReason::Stopping)
        ],
        "b keeps running: stopping never cancels"
    );
    assert_eq!(SkipReason::Stopping.as_str(), "PipelineRun was stopping");
    assert_eq!(
        cond(&step),
        (
            "Unknown",
            "PipelineRunStopping",
            "Tasks Completed: 1 (Failed: 1, Cancelled 0), Incomplete: 1, Skipped: 2"
        )
    );

    set(&mut tasks, "b", PipelineTaskState::Succeeded);
    set(&mut tasks, "c", skipped(SkipReason::Stopping));
    set(&mut tasks, "d", skipped(SkipReason::Stopping));
    let step = reconcile(&view(&dag, &tasks, &[]), at(2, 0));
    assert_eq!(step.actions, vec![]);
    assert_eq!(
        cond(&step),
        (
            "False",
            "Failed",
            "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 2"
        )
    );
}

#[test]
fn on_error_continue_failure_does_not_stop_and_counts_as_ignored() {
    let dag = dag("a;b:a");
    let mut tasks = views(&["a", "b"]);
    tasks[0].on_error = OnError::Continue;
    set(
        &mut tasks,
        "a",
        PipelineTaskState::Failed {
            reason: "FailureIgnored".into(),
            ignored: true,
        },
    );
    let step = reconcile(&view(&dag, &tasks, &[]), at(1, 0));
    assert_eq!(step.actions, vec![start("b")]);
    assert_eq!(
        cond(&step),
        (
            "Unknown",
            "Running",
            "Tasks Completed: 1 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0"
        )
    );

    set(&mut tasks, "b", PipelineTaskState::Succeeded);
    let step = reconcile(&view(&dag, &tasks, &[]), at(2, 0));
    assert_eq!(
        cond(&step),
        (
            "True",
            "Succeeded",
            "Tasks Completed: 2 (Failed: 1 (Ignored: 1), Cancelled 0), Skipped: 0"
        )
    );
}

#[test]
fn when_false_skip_is_scoped_to_the_task_and_consumers_of_its_results() {
    // b runs after a; c reads a's result; d runs after c.
    let dag = dag("a;b:a;c:result/a;d:c");
    let mut tasks = views(&["a", "b", "c", "d"]);
    tasks[0].when = false;
    tasks[2].consumes = &[ResultRef {
        task: "a",
        result: "r",
    }];
    let step = reconcile(&view(&dag, &tasks, &[]), at(0, 1));
    assert_eq!(
        step.actions,
        vec![
            skip("a", SkipReason::WhenFalse),
            skip("c", SkipReason::ResultsMissing),
            skip("d", SkipReason::ParentSkipped),
            start("b"),
        ]
    );
    assert_eq!(
        [
            SkipReason::WhenFalse.as_str(),
            SkipReason::ResultsMissing.as_str(),
            SkipReason::ParentSkipped.as_str()
        ],
        [
            "When Expressions evaluated to false",
            "Results were missing",
            "Parent Tasks were skipped"
        ]
    );

    set(&mut tasks, "a", skipped(SkipReason::WhenFalse));
    set(&mut tasks, "b", PipelineTaskState::Succeeded);
    set(&mut tasks, "c", skipped(SkipReason::ResultsMissing));
    set(&mut tasks, "d", skipped(SkipReason::ParentSkipped));
    let step = reconcile(&view(&dag, &tasks, &[]), at(1, 0));
    assert_eq!(
        cond(&step),
        (
            "True",
            "Completed",
            "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 3"
        )
    );
}

#[test]
fn missing_result_fails_validation_and_starts_none_of_the_batch() {
    let dag = dag("a;b:result/a;c:a");
    let mut tasks = views(&["a", "b", "c"]);
    tasks[1].consumes = &[ResultRef {
        task: "a",
        result: "r",
    }];
    set(&mut tasks, "a", PipelineTaskState::Succeeded);
    let step = reconcile(&view(&dag, &tasks, &[]), at(1, 0));
    let message = "task \"a\" completed successfully but did not emit the result \"r\", \
                   which is referenced by task \"b\"";
    assert_eq!(
        step.actions,
        vec![
            Action::FailValidation {
                task: "b".into(),
                message: message.into()
            },
            skip("c", SkipReason::Stopping),
        ]
    );
    assert_eq!(
        cond(&step),
        (
            "False",
            "PipelineValidationFailed",
            "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 1, Failed Validation: 1 \
             (task \"a\" completed successfully but did not emit the result \"r\", which is \
             referenced by task \"b\")"
        )
    );

    // A consumer with onError: continue is skipped instead.
    tasks[1].on_error = OnError::Continue;
    let step = reconcile(&view(&dag, &tasks, &[]), at(1, 0));
    assert_eq!(
        step.actions,
        vec![skip("b", SkipReason::ResultsMissing), start("c")]
    );
}

#[test]
fn finally_starts_once_every_dag_task_is_done_and_records_its_start_once() {
    let dag = dag("a;b");
    let mut tasks = views(&["a", "b"]);
    let mut finally = views(&["f", "g"]);
    set(&mut tasks, "a", PipelineTaskState::Succeeded);
    set(&mut tasks, "b", running());
    let step = reconcile(&view(&dag, &tasks, &finally), at(1, 0));
    assert_eq!(step.actions, vec![]);
    assert_eq!(step.finally_start, None);

    set(&mut tasks, "b", failed());
    let now = at(2, 0);
    let step = reconcile(&view(&dag, &tasks, &finally), now);
    assert_eq!(step.actions, vec![start_finally("f"), start_finally("g")]);
    assert_eq!(step.finally_start, Some(now));
    assert_eq!(
        cond(&step),
        (
            "Unknown",
            "Running",
            "Tasks Completed: 2 (Failed: 1, Cancelled 0), Incomplete: 2, Skipped: 0"
        )
    );

    set(&mut finally, "f", running());
    set(&mut finally, "g", PipelineTaskState::Succeeded);
    let again = view(&dag, &tasks, &finally).with_finally_start(now);
    let step = reconcile(&again, at(3, 0));
    assert_eq!(step.actions, vec![]);
    assert_eq!(step.finally_start, None, "finallyStartTime is set once");

    set(&mut finally, "f", PipelineTaskState::Succeeded);
    let done = view(&dag, &tasks, &finally).with_finally_start(now);
    let step = reconcile(&done, at(4, 0));
    assert_eq!(
        cond(&step),
        (
            "False",
            "Failed",
            "Tasks Completed: 4 (Failed: 1, Cancelled 0), Skipped: 0"
        )
    );
}

#[test]
fn finally_is_skipped_when_a_dag_result_is_missing_or_its_when_is_false() {
    let dag = dag("a");
    let mut tasks = views(&["a"]);
    set(&mut tasks, "a", failed());
    let mut finally = views(&["f", "g"]);
    finally[0].consumes = &[ResultRef {
        task: "a",
        result: "r",
    }];
    finally[1].when = false;
    let now = at(1, 0);
    let step = reconcile(&view(&dag, &tasks, &finally), now);
    assert_eq!(
        step.actions,
        vec![
            skip("f", SkipReason::ResultsMissing),
            skip("g", SkipReason::WhenFalse)
        ]
    );
    assert_eq!(step.finally_start, Some(now), "set even when finally skips");
    assert_eq!(
        cond(&step),
        (
            "False",
            "Failed",
            "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 2"
        )
    );
}

#[test]
fn pipeline_timeout_cancels_children_skips_the_rest_and_never_runs_finally() {
    let dag = dag("a;b:a");
    let mut tasks = views(&["a", "b"]);
    set(&mut tasks, "a", running());
    let finally = views(&["f"]);
    let timeouts = Timeouts {
        pipeline: Some(GoDuration::minutes(60)),
        ..Timeouts::default()
    };
    let exactly = view(&dag, &tasks, &finally).with_timeouts(timeouts);
    assert_eq!(
        reconcile(&exactly, at(60, 0)).actions,
        vec![],
        "the limit itself is not exceeded"
    );

    let step = reconcile(&exactly, at(60, 1));
    assert_eq!(
        step.actions,
        vec![
            cancel("a", CancelCause::TimedOut),
            skip("b", SkipReason::PipelineTimeout),
            skip("f", SkipReason::PipelineTimeout),
        ]
    );
    assert_eq!(
        CancelCause::TimedOut.message(),
        "TaskRun cancelled as the PipelineRun it belongs to has timed out."
    );
    assert_eq!(
        SkipReason::PipelineTimeout.as_str(),
        "PipelineRun timeout has been reached"
    );
    assert_eq!(step.finally_start, None);
    assert_eq!(
        cond(&step),
        (
            "False",
            "PipelineRunTimeout",
            "PipelineRun \"pr\" failed to finish within \"1h0m0s\""
        )
    );
}

#[test]
fn tasks_timeout_cancels_dag_children_then_runs_finally() {
    let dag = dag("a;b:a");
    let mut tasks = views(&["a", "b"]);
    set(&mut tasks, "a", running());
    let mut finally = views(&["f"]);
    let timeouts = Timeouts {
        pipeline: Some(GoDuration::minutes(60)),
        tasks: Some(GoDuration::minutes(30)),
        finally: None,
    };
    let now = at(31, 0);
    let step = reconcile(&view(&dag, &tasks, &finally).with_timeouts(timeouts), now);
    assert_eq!(
        step.actions,
        vec![
            skip("b", SkipReason::TasksTimeout),
            cancel("a", CancelCause::TimedOut)
        ]
    );
    assert_eq!(
        SkipReason::TasksTimeout.as_str(),
        "PipelineRun Tasks timeout has been reached"
    );
    assert_eq!(
        cond(&step),
        (
            "Unknown",
            "PipelineRunTimeoutRunningFinally",
            "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 2, Skipped: 1"
        )
    );

    set(
        &mut tasks,
        "a",
        PipelineTaskState::Cancelled {
            cause: CancelCause::TimedOut,
        },
    );
    set(&mut tasks, "b", skipped(SkipReason::TasksTimeout));
    let step = reconcile(&view(&dag, &tasks, &finally).with_timeouts(timeouts), now);
    assert_eq!(step.actions, vec![start_finally("f")]);
    assert_eq!(
        cond(&step),
        (
            "Unknown",
            "PipelineRunTimeoutRunningFinally",
            "Tasks Completed: 1 (Failed: 1, Cancelled 0), Incomplete: 1, Skipped: 1"
        )
    );

    set(&mut finally, "f", PipelineTaskState::Succeeded);
    let done = view(&dag, &tasks, &finally)
        .with_timeouts(timeouts)
        .with_finally_start(now);
    let step = reconcile(&done, at(32, 0));
    assert_eq!(
        cond(&step),
        (
            "False",
            "PipelineRunTimeout",
            "PipelineRun \"pr\" failed due to tasks failed to finish within \"30m0s\""
        )
    );
}

#[test]
fn finally_timeout_cancels_running_finally_and_fails_the_run() {
    let dag = dag("a");
    let mut tasks = views(&["a"]);
    set(&mut tasks, "a", PipelineTaskState::Succeeded);
    let mut finally = views(&["f", "g"]);
    set(&mut finally, "f", running());
    let timeouts = Timeouts {
        finally: Some(GoDuration::minutes(10)),
        ..Timeouts::default()
    };
    let begun = at(5, 0);
    let run = view(&dag, &tasks, &finally)
        .with_timeouts(timeouts)
        .with_finally_start(begun);
    let step = reconcile(&run, at(15, 1));
    assert_eq!(
        step.actions,
        vec![
            cancel("f", CancelCause::TimedOut),
            skip("g", SkipReason::FinallyTimeout)
        ]
    );

    set(
        &mut finally,
        "f",
        PipelineTaskState::Cancelled {
            cause: CancelCause::TimedOut,
        },
    );
    set(&mut finally, "g", skipped(SkipReason::FinallyTimeout));
    let run = view(&dag, &tasks, &finally)
        .with_timeouts(timeouts)
        .with_finally_start(begun);
    let step = reconcile(&run, at(16, 0));
    assert_eq!(
        cond(&step),
        (
            "False",
            "Failed",
            "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1"
        )
    );
}

#[test]
fn cancelled_cancels_everything_and_fails_immediately_without_finally() {
    let dag = dag("a;b;c:a");
    let mut tasks = views(&["a", "b", "c"]);
    set(&mut tasks, "a", running());
    set(&mut tasks, "b", PipelineTaskState::Succeeded);
    let finally = views(&["f"]);
    let run = view(&dag, &tasks, &finally).with_spec_status(SpecStatus::Cancelled);
    let step = reconcile(&run, at(1, 0));
    assert_eq!(step.actions, vec![cancel("a", CancelCause::Cancelled)]);
    assert_eq!(
        CancelCause::Cancelled.message(),
        "TaskRun cancelled as the PipelineRun it belongs to has been cancelled."
    );
    assert_eq!(
        cond(&step),
        ("False", "Cancelled", "PipelineRun \"pr\" was cancelled")
    );

    set(
        &mut tasks,
        "a",
        PipelineTaskState::Cancelled {
            cause: CancelCause::Cancelled,
        },
    );
    let run = view(&dag, &tasks, &finally).with_spec_status(SpecStatus::Cancelled);
    let step = reconcile(&run, at(2, 0));
    assert_eq!(
        step.actions,
        vec![],
        "finally never runs after a hard cancel"
    );
    assert_eq!(step.finally_start, None);
}

#[test]
fn cancelled_run_finally_cancels_dag_children_then_runs_finally() {
    let dag = dag("a;b:a");
    let mut tasks = views(&["a", "b"]);
    set(&mut tasks, "a", running());
    let mut finally = views(&["f"]);
    let status = SpecStatus::CancelledRunFinally;
    let step = reconcile(
        &view(&dag, &tasks, &finally).with_spec_status(status),
        at(1, 0),
    );
    assert_eq!(
        step.actions,
        vec![
            skip("b", SkipReason::GracefullyCancelled),
            cancel("a", CancelCause::Cancelled)
        ]
    );
    assert_eq!(
        SkipReason::GracefullyCancelled.as_str(),
        "PipelineRun was gracefully cancelled"
    );
    assert_eq!(
        cond(&step),
        (
            "Unknown",
            "CancelledRunningFinally",
            "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 2, Skipped: 1"
        )
    );

    set(
        &mut tasks,
        "a",
        PipelineTaskState::Cancelled {
            cause: CancelCause::Cancelled,
        },
    );
    set(&mut tasks, "b", skipped(SkipReason::GracefullyCancelled));
    let step = reconcile(
        &view(&dag, &tasks, &finally).with_spec_status(status),
        at(2, 0),
    );
    assert_eq!(step.actions, vec![start_finally("f")]);
    assert_eq!(step.condition.reason, RunReason::CancelledRunningFinally);

    set(&mut finally, "f", PipelineTaskState::Succeeded);
    let step = reconcile(
        &view(&dag, &tasks, &finally)
            .with_spec_status(status)
            .with_finally_start(at(2, 0)),
        at(3, 0),
    );
    assert_eq!(
        cond(&step),
        ("False", "Cancelled", "PipelineRun \"pr\" was cancelled")
    );
}

#[test]
fn stopped_run_finally_lets_dag_children_finish_then_runs_finally() {
    let dag = dag("a;b:a");
    let mut tasks = views(&["a", "b"]);
    set(&mut tasks, "a", running());
    let mut finally = views(&["f"]);
    let status = SpecStatus::StoppedRunFinally;
    let step = reconcile(
        &view(&dag, &tasks, &finally).with_spec_status(status),
        at(1, 0),
    );
    assert_eq!(
        step.actions,
        vec![skip("b", SkipReason::GracefullyStopped)],
        "a is not cancelled"
    );
    assert_eq!(
        SkipReason::GracefullyStopped.as_str(),
        "PipelineRun was gracefully stopped"
    );
    assert_eq!(
        cond(&step),
        (
            "Unknown",
            "StoppedRunningFinally",
            "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 2, Skipped: 1"
        )
    );

    set(&mut tasks, "a", PipelineTaskState::Succeeded);
    set(&mut tasks, "b", skipped(SkipReason::GracefullyStopped));
    let step = reconcile(
        &view(&dag, &tasks, &finally).with_spec_status(status),
        at(2, 0),
    );
    assert_eq!(step.actions, vec![start_finally("f")]);

    set(&mut finally, "f", PipelineTaskState::Succeeded);
    let finished = view(&dag, &tasks, &finally)
        .with_spec_status(status)
        .with_finally_start(at(2, 0));
    assert_eq!(
        cond(&reconcile(&finished, at(3, 0))),
        ("False", "Cancelled", "PipelineRun \"pr\" was cancelled")
    );

    // A failure wins over the graceful stop.
    set(&mut finally, "f", failed());
    let finished = view(&dag, &tasks, &finally)
        .with_spec_status(status)
        .with_finally_start(at(2, 0));
    assert_eq!(
        cond(&reconcile(&finished, at(3, 0))),
        (
            "False",
            "Failed",
            "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1"
        )
    );
}

#[test]
fn pending_run_starts_nothing_and_records_no_start_time() {
    let dag = dag("a");
    let tasks = views(&["a"]);
    let run = RunView::new("pr", &dag, &tasks, &[])
        .expect("valid view")
        .with_spec_status(SpecStatus::Pending);
    let step = reconcile(&run, T0);
    assert_eq!(step.actions, vec![]);
    assert_eq!(step.start_time, None);
    assert_eq!(
        cond(&step),
        (
            "Unknown",
            "PipelineRunPending",
            "PipelineRun \"pr\" is pending"
        )
    );
}

#[test]
fn finished_run_is_succeeded_unless_something_was_skipped() {
    let dag = dag("a;b");
    let mut tasks = views(&["a", "b"]);
    set(&mut tasks, "a", PipelineTaskState::Succeeded);
    set(&mut tasks, "b", PipelineTaskState::Succeeded);
    let step = reconcile(&view(&dag, &tasks, &[]), at(1, 0));
    assert_eq!(step.actions, vec![]);
    assert!(step.is_done());
    assert_eq!(
        cond(&step),
        (
            "True",
            "Succeeded",
            "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0"
        )
    );

    set(&mut tasks, "b", skipped(SkipReason::WhenFalse));
    let step = reconcile(&view(&dag, &tasks, &[]), at(1, 0));
    assert_eq!(
        cond(&step),
        (
            "True",
            "Completed",
            "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 1"
        )
    );
}

#[test]
fn views_out_of_dag_order_are_rejected() {
    let dag = dag("a;b");
    let tasks = views(&["b", "a"]);
    let err = RunView::new("pr", &dag, &tasks, &[]).expect_err("order mismatch");
    assert_eq!(
        err.to_string(),
        "task view 0 is \"b\" but the DAG's task 0 is \"a\""
    );
    let short = views(&["a"]);
    assert!(matches!(
        RunView::new("pr", &dag, &short, &[]),
        Err(ViewError::Length { dag: 2, tasks: 1 })
    ));
}
