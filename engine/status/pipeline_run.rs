//! The PipelineRun: the input object with the status of §5.3, from the driver's outcome.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::results::untyped;
use super::time::rfc3339;
use super::{condition, defaults, metadata, to_json, MapExt, RunIdentity, API_VERSION};
use crate::api::pipeline::PipelineTask;
use crate::api::{PipelineRun, PipelineSpec};
use crate::reconcile::{Condition, ConditionStatus, PipelineTaskState, SkipReason, Timestamp};
use crate::run::{ChildReference, RunOutcome};

/// The final PipelineRun: the input object's metadata/spec plus `status` from the outcome.
///
/// `spec` is the Pipeline that ran (embedded or referenced); it orders `childReferences` and
/// `skippedTasks` and supplies their when-expressions.
pub fn pipeline_run_object(
    pr: &PipelineRun,
    id: &RunIdentity,
    spec: &PipelineSpec,
    outcome: &RunOutcome,
) -> Value {
    // An embedded spec has no name of its own; Tekton uses the run's (§3.3 `context.pipeline.name`).
    let pipeline = pr
        .spec
        .pipeline_ref
        .as_ref()
        .and_then(|r| r.name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or(&id.name);
    json!({
        "apiVersion": API_VERSION,
        "kind": "PipelineRun",
        "metadata": metadata::render(&pr.metadata, id, Some(("tekton.dev/pipeline", pipeline))),
        "spec": to_json(&pr.spec),
        "status": status(id, spec, outcome),
    })
}

/// `status` in the order of §5.6.
fn status(id: &RunIdentity, spec: &PipelineSpec, outcome: &RunOutcome) -> Value {
    let c = &outcome.condition;
    let done = c.is_done();
    let (status, reason, message) = match &outcome.pipeline_results.error {
        // Tekton checks results once the run is done and then fails it, whatever the
        // condition was; the driver leaves that step to its caller.
        Some(e) if done => (ConditionStatus::False, e.reason, e.message.as_str()),
        _ => (c.status, c.reason.as_str(), c.message.as_str()),
    };
    let transition = if done {
        outcome.completion_time
    } else {
        outcome.start_time
    };
    let mut s = Map::new();
    s.insert(
        "conditions".into(),
        json!([condition::succeeded(
            status.as_str(),
            reason,
            message,
            // A run that never started (pending) changed its condition when it was created.
            transition.or(Some(id.created)),
        )]),
    );
    s.put_opt("startTime", outcome.start_time.map(|t| rfc3339(t).into()));
    if done {
        s.put_opt(
            "completionTime",
            outcome.completion_time.map(|t| rfc3339(t).into()),
        );
    }
    s.put_opt(
        "finallyStartTime",
        outcome.finally_start_time.map(|t| rfc3339(t).into()),
    );
    s.put_list(
        "childReferences",
        child_references(spec, &outcome.child_references, Some(outcome)),
    );
    s.put_list("skippedTasks", skipped_tasks(spec, outcome));
    s.put_list("results", untyped(&outcome.pipeline_results.results));
    let mut pipeline_spec = to_json(spec);
    defaults::pipeline_spec(&mut pipeline_spec);
    s.insert("pipelineSpec".into(), pipeline_spec);
    Value::Object(s)
}

/// Every TaskRun created, in pipeline task order (DAG then finally), not start order.
///
/// A child whose pipeline task the spec does not name is still listed, last, so no TaskRun
/// the run created goes missing from the status.
/// The status of a PipelineRun still running: its `Unknown` condition, `startTime` and the
/// children started so far (`adze controller` writes it as the run goes; the final status is
/// [`pipeline_run_object`]'s).
pub fn pipeline_run_progress(
    spec: &PipelineSpec,
    condition: &Condition,
    start_time: Option<Timestamp>,
    finally_start_time: Option<Timestamp>,
    children: &[ChildReference],
) -> Value {
    let mut s = Map::new();
    s.insert(
        "conditions".into(),
        json!([condition::succeeded(
            condition.status.as_str(),
            condition.reason.as_str(),
            &condition.message,
            start_time,
        )]),
    );
    s.put_opt("startTime", start_time.map(|t| rfc3339(t).into()));
    s.put_opt(
        "finallyStartTime",
        finally_start_time.map(|t| rfc3339(t).into()),
    );
    s.put_list("childReferences", child_references(spec, children, None));
    Value::Object(s)
}

/// `childReferences` in pipeline-task order; with the outcome, each with the
/// when-expressions its task ran under.
fn child_references(
    spec: &PipelineSpec,
    children: &[ChildReference],
    outcome: Option<&RunOutcome>,
) -> Vec<Value> {
    let mut listed = vec![false; children.len()];
    let mut out = Vec::new();
    for pt in spec.tasks.iter().chain(&spec.finally) {
        for (i, child) in children.iter().enumerate() {
            if child.pipeline_task == pt.name && !listed[i] {
                listed[i] = true;
                out.push(child_reference(child, Some(pt), outcome));
            }
        }
    }
    for (i, child) in children.iter().enumerate() {
        if !listed[i] {
            out.push(child_reference(child, None, outcome));
        }
    }
    out
}

/// `{apiVersion, kind, name, pipelineTaskName, displayName, whenExpressions}`.
fn child_reference(
    child: &ChildReference,
    pt: Option<&PipelineTask>,
    outcome: Option<&RunOutcome>,
) -> Value {
    let mut m = Map::new();
    m.insert("apiVersion".into(), API_VERSION.into());
    m.insert("kind".into(), child.kind.as_str().into());
    m.insert("name".into(), child.name.as_str().into());
    m.insert(
        "pipelineTaskName".into(),
        child.pipeline_task.as_str().into(),
    );
    if let Some(pt) = pt {
        m.put_str("displayName", pt.display_name.as_deref().unwrap_or(""));
        // Tekton records the when-expressions a task ran under (they held).
        if let Some(outcome) = outcome {
            m.put_list("whenExpressions", when_of(outcome, pt));
        }
    }
    Value::Object(m)
}

/// A task's when-expressions as the run evaluated them (substituted), else as written.
fn when_of(outcome: &RunOutcome, pt: &PipelineTask) -> Vec<Value> {
    outcome
        .when_expressions
        .get(&pt.name)
        .unwrap_or(&pt.when)
        .iter()
        .map(to_json)
        .collect()
}

/// `{name, reason, whenExpressions}` for each skipped task, DAG then finally.
///
/// DAG skips always carry the task's when-expressions; finally skips only when they were the
/// reason (§5.3).
fn skipped_tasks(spec: &PipelineSpec, outcome: &RunOutcome) -> Vec<Value> {
    let states: HashMap<&str, &PipelineTaskState> = outcome
        .task_states
        .iter()
        .map(|(name, state)| (name.as_str(), state))
        .collect();
    let skip_reason = |pt: &PipelineTask| states.get(pt.name.as_str())?.skip_reason();
    let dag = spec
        .tasks
        .iter()
        .filter_map(|pt| Some((pt, skip_reason(pt)?, true)));
    let finally = spec
        .finally
        .iter()
        .filter_map(|pt| Some((pt, skip_reason(pt)?, false)));
    dag.chain(finally)
        .map(|(pt, reason, is_dag)| {
            let mut m = Map::new();
            m.insert("name".into(), pt.name.as_str().into());
            m.insert("reason".into(), reason.as_str().into());
            if is_dag || reason == SkipReason::WhenFalse {
                m.put_list("whenExpressions", when_of(outcome, pt));
            }
            Value::Object(m)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::api::{Object, ParamValue, PipelineRef};
    use crate::load::{Bundle, Origin};
    use crate::plan::pipeline::resolve_pipeline;
    use crate::reconcile::results::{PipelineRunResult, ResultsError, COULDNT_GET_PIPELINE_RESULT};
    use crate::reconcile::{CancelCause, Condition, RunReason, Timestamp};
    use crate::run::{Driver, FakeClock, FakeExecutor};

    /// 2025-03-02T10:00:00Z.
    const T0: Timestamp = Timestamp(1_740_909_600_000);

    fn id(name: &str) -> RunIdentity {
        RunIdentity {
            name: name.into(),
            namespace: "ci".into(),
            uid: "5d2f0c88-77a1-4a5e-8a4e-2b9f5c3e7d10".into(),
            created: T0,
        }
    }

    fn bundle(text: &str) -> Bundle {
        let mut b = Bundle::new();
        b.add_source("pr.yaml", text.to_owned(), Origin::Input);
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

    /// Runs the bundle's PipelineRun on the fake executor and renders it.
    fn run_and_render(text: &str, executor: &mut FakeExecutor) -> Value {
        let b = bundle(text);
        let pr = pipeline_run(&b);
        let (spec, _) = resolve_pipeline(&b, pr).expect("the pipeline resolves");
        let outcome = Driver::new(&b, pr)
            .expect("the driver accepts the run")
            .with_tick(Duration::from_secs(20))
            .run(executor, &mut FakeClock::at(T0))
            .expect("the run finishes");
        let name = pr.metadata.name.clone().unwrap_or_default();
        pipeline_run_object(pr, &id(&name), spec, &outcome)
    }

    /// The §5.6 example: one task skipped by `when`, one finally task, one result.
    const RELEASE: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: release-9qz4m
  namespace: ci
spec:
  params: [{name: branch, value: feature-x}]
  timeouts: {pipeline: 1h0m0s}
  taskRunTemplate: {serviceAccountName: default}
  workspaces:
  - name: shared
    volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}
  pipelineSpec:
    params: [{name: branch, type: string}]
    workspaces: [{name: shared}]
    results: [{name: commit, value: $(tasks.clone.results.commit)}]
    tasks:
    - name: clone
      workspaces: [{name: out, workspace: shared}]
      taskSpec:
        workspaces: [{name: out}]
        results: [{name: commit}]
        steps: [{name: clone, image: alpine/git, script: 'printf abc123 > $(results.commit.path)'}]
    - name: test
      runAfter: [clone]
      taskSpec: {steps: [{name: test, image: alpine, script: 'echo ok'}]}
    - name: publish
      runAfter: [test]
      when: [{input: $(params.branch), operator: in, values: [main]}]
      taskSpec: {steps: [{name: publish, image: alpine, script: 'echo publish'}]}
    finally:
    - name: report
      when: [{input: $(tasks.clone.results.commit), operator: notin, values: [""]}]
      taskSpec:
        steps: [{name: report, image: alpine, script: 'echo done'}]
"#;

    fn release() -> Value {
        let mut executor = FakeExecutor::new().succeed("clone", &[("commit", "abc123")]);
        run_and_render(RELEASE, &mut executor)
    }

    #[test]
    fn a_finished_pipeline_run_in_tekton_v1_shape() {
        insta::assert_json_snapshot!(release());
    }

    fn walk_for_nulls(v: &Value, path: &str, found: &mut Vec<String>) {
        match v {
            Value::Null => found.push(path.to_owned()),
            Value::Array(items) => {
                if items.is_empty() {
                    found.push(format!("{path} (empty list)"));
                }
                for (i, item) in items.iter().enumerate() {
                    walk_for_nulls(item, &format!("{path}[{i}]"), found);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    walk_for_nulls(item, &format!("{path}.{k}"), found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn nothing_is_null_and_no_list_is_empty() {
        let mut found = Vec::new();
        walk_for_nulls(&release(), "", &mut found);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn top_level_and_status_keys_keep_tekton_order() {
        let o = release();
        let keys = |v: &Value| -> Vec<String> {
            v.as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(
            keys(&o),
            ["apiVersion", "kind", "metadata", "spec", "status"]
        );
        assert_eq!(
            keys(&o["status"]),
            [
                "conditions",
                "startTime",
                "completionTime",
                "finallyStartTime",
                "childReferences",
                "skippedTasks",
                "results",
                "pipelineSpec"
            ]
        );
    }

    #[test]
    fn skipped_when_expressions_are_substituted_and_run_ones_kept_on_the_child() {
        let o = release();
        assert_eq!(
            o["status"]["skippedTasks"],
            json!([{
                "name": "publish",
                "reason": "When Expressions evaluated to false",
                "whenExpressions": [{"input": "feature-x", "operator": "in", "values": ["main"]}],
            }])
        );
        let report = &o["status"]["childReferences"][2];
        assert_eq!(report["pipelineTaskName"], "report");
        assert_eq!(
            report["whenExpressions"],
            json!([{"input": "abc123", "operator": "notin", "values": [""]}])
        );
    }

    #[test]
    fn an_embedded_pipeline_is_labelled_with_the_run_name() {
        let o = release();
        assert_eq!(
            o["metadata"]["labels"],
            json!({"tekton.dev/pipeline": "release-9qz4m"})
        );
    }

    fn task(name: &str, when: &[(&str, &str)]) -> PipelineTask {
        PipelineTask {
            name: name.into(),
            when: when
                .iter()
                .map(|(input, value)| crate::api::WhenExpression {
                    input: Some((*input).into()),
                    operator: Some("in".into()),
                    values: Some(vec![(*value).into()]),
                    cel: None,
                })
                .collect(),
            ..PipelineTask::default()
        }
    }

    fn finished(reason: RunReason, status: ConditionStatus) -> Condition {
        Condition {
            status,
            reason,
            message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0".into(),
        }
    }

    fn outcome(
        condition: Condition,
        states: Vec<(&str, PipelineTaskState)>,
        children: &[(&str, &str)],
    ) -> RunOutcome {
        RunOutcome {
            condition,
            task_states: states.into_iter().map(|(n, s)| (n.to_owned(), s)).collect(),
            pipeline_results: Default::default(),
            child_references: children
                .iter()
                .map(|(name, task)| ChildReference {
                    name: (*name).into(),
                    pipeline_task: (*task).into(),
                    kind: Default::default(),
                })
                .collect(),
            task_runs: Vec::new(),
            start_time: Some(T0),
            completion_time: Some(Timestamp(T0.0 + 60_000)),
            finally_start_time: None,
            when_expressions: Default::default(),
            engine_lost: None,
        }
    }

    fn render(spec: &PipelineSpec, outcome: &RunOutcome) -> Value {
        let pr = PipelineRun {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                generate_name: Some("pr-".into()),
                ..Default::default()
            },
            ..PipelineRun::default()
        };
        pipeline_run_object(&pr, &id("pr-abcde"), spec, outcome)
    }

    #[test]
    fn child_references_follow_pipeline_task_order_not_start_order() {
        let spec = PipelineSpec {
            tasks: vec![task("a", &[]), task("b", &[])],
            finally: vec![task("f", &[])],
            ..PipelineSpec::default()
        };
        let states = vec![
            ("a", PipelineTaskState::Succeeded),
            ("b", PipelineTaskState::Succeeded),
            ("f", PipelineTaskState::Succeeded),
        ];
        // Started f, b, a; plus a child the spec does not name, which is kept, last.
        let children = [("pr-f", "f"), ("pr-x", "x"), ("pr-b", "b"), ("pr-a", "a")];
        let o = render(
            &spec,
            &outcome(
                finished(RunReason::Succeeded, ConditionStatus::True),
                states,
                &children,
            ),
        );
        let names: Vec<&str> = o["status"]["childReferences"]
            .as_array()
            .map(|refs| refs.iter().filter_map(|r| r["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["pr-a", "pr-b", "pr-f", "pr-x"]);
        assert_eq!(
            o["status"]["childReferences"][0],
            json!({
                "apiVersion": "tekton.dev/v1",
                "kind": "TaskRun",
                "name": "pr-a",
                "pipelineTaskName": "a",
            })
        );
    }

    #[test]
    fn dag_skips_always_carry_their_when_list_finally_skips_only_for_when() {
        let spec = PipelineSpec {
            tasks: vec![
                task("build", &[]),
                task("deploy", &[("$(params.env)", "prod")]),
            ],
            finally: vec![
                task("notify", &[("a", "b")]),
                task("cleanup", &[("x", "x")]),
            ],
            ..PipelineSpec::default()
        };
        let skipped = |reason| PipelineTaskState::Skipped { reason };
        let states = vec![
            (
                "build",
                PipelineTaskState::Cancelled {
                    cause: CancelCause::TimedOut,
                },
            ),
            ("deploy", skipped(SkipReason::TasksTimeout)),
            ("notify", skipped(SkipReason::WhenFalse)),
            ("cleanup", skipped(SkipReason::FinallyTimeout)),
        ];
        let o = render(
            &spec,
            &outcome(
                finished(RunReason::Failed, ConditionStatus::False),
                states,
                &[("pr-build", "build")],
            ),
        );
        assert_eq!(
            o["status"]["skippedTasks"],
            json!([
                {
                    "name": "deploy",
                    "reason": "PipelineRun Tasks timeout has been reached",
                    // No such param: the reference stays verbatim.
                    "whenExpressions": [{"input": "$(params.env)", "operator": "in", "values": ["prod"]}],
                },
                {
                    "name": "notify",
                    "reason": "When Expressions evaluated to false",
                    "whenExpressions": [{"input": "a", "operator": "in", "values": ["b"]}],
                },
                {
                    "name": "cleanup",
                    "reason": "PipelineRun Finally timeout has been reached",
                },
            ])
        );
    }

    #[test]
    fn a_run_that_is_not_done_has_no_completion_time() {
        let spec = PipelineSpec {
            tasks: vec![task("a", &[])],
            ..PipelineSpec::default()
        };
        let mut pending = outcome(
            Condition::pending("pr-abcde"),
            vec![("a", PipelineTaskState::NotStarted)],
            &[],
        );
        pending.start_time = None;
        pending.completion_time = None;
        let o = render(&spec, &pending);
        let status = &o["status"];
        assert_eq!(status["conditions"][0]["status"], "Unknown");
        assert_eq!(status["conditions"][0]["reason"], "PipelineRunPending");
        assert_eq!(
            status["conditions"][0]["lastTransitionTime"],
            "2025-03-02T10:00:00Z"
        );
        assert!(status.get("startTime").is_none());
        assert!(status.get("completionTime").is_none());
        assert!(status.get("childReferences").is_none());
    }

    #[test]
    fn a_finished_run_reports_its_condition_and_times() {
        let spec = PipelineSpec {
            tasks: vec![task("a", &[])],
            ..PipelineSpec::default()
        };
        let o = render(
            &spec,
            &outcome(
                finished(RunReason::Succeeded, ConditionStatus::True),
                vec![("a", PipelineTaskState::Succeeded)],
                &[("pr-a", "a")],
            ),
        );
        assert_eq!(
            o["status"]["conditions"],
            json!([{
                "type": "Succeeded",
                "status": "True",
                "reason": "Succeeded",
                "message": "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0",
                "lastTransitionTime": "2025-03-02T10:01:00Z",
            }])
        );
        assert_eq!(o["status"]["startTime"], "2025-03-02T10:00:00Z");
        assert_eq!(o["status"]["completionTime"], "2025-03-02T10:01:00Z");
        assert_eq!(o["metadata"]["name"], "pr-abcde");
        assert_eq!(o["metadata"]["generateName"], "pr-");
    }

    #[test]
    fn an_invalid_result_reference_fails_a_finished_run() {
        let spec = PipelineSpec {
            tasks: vec![task("a", &[])],
            ..PipelineSpec::default()
        };
        let mut o = outcome(
            finished(RunReason::Succeeded, ConditionStatus::True),
            vec![("a", PipelineTaskState::Succeeded)],
            &[("pr-a", "a")],
        );
        o.pipeline_results.results = vec![PipelineRunResult {
            name: "ok".into(),
            value: ParamValue::String("v".into()),
        }];
        o.pipeline_results.error = Some(ResultsError {
            reason: COULDNT_GET_PIPELINE_RESULT,
            message: "invalid pipelineresults [bad]".into(),
        });
        let status = render(&spec, &o)["status"].clone();
        assert_eq!(status["conditions"][0]["status"], "False");
        assert_eq!(
            status["conditions"][0]["reason"],
            "CouldntGetPipelineResult"
        );
        assert_eq!(
            status["conditions"][0]["message"],
            "invalid pipelineresults [bad]"
        );
        // The results that could be computed are still shown, as Tekton does.
        assert_eq!(status["results"], json!([{"name": "ok", "value": "v"}]));
    }

    #[test]
    fn a_referenced_pipeline_names_the_label() {
        let pr = PipelineRun {
            spec: crate::api::run::PipelineRunSpec {
                pipeline_ref: Some(PipelineRef {
                    name: Some("release".into()),
                    ..PipelineRef::default()
                }),
                ..Default::default()
            },
            ..PipelineRun::default()
        };
        let spec = PipelineSpec::default();
        let o = pipeline_run_object(
            &pr,
            &id("release-run-1"),
            &spec,
            &outcome(
                finished(RunReason::Succeeded, ConditionStatus::True),
                Vec::new(),
                &[],
            ),
        );
        assert_eq!(o["metadata"]["labels"]["tekton.dev/pipeline"], "release");
        assert_eq!(o["spec"], json!({"pipelineRef": {"name": "release"}}));
    }
}
