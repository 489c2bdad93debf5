//! The TaskRun: its status from what the executor reported (§5.2), and the whole object for a
//! bare TaskRun run.

use serde_json::{json, Map, Value};

use super::results::typed;
use super::time::rfc3339;
use super::{condition, metadata, steps, task_spec, to_json, MapExt, RunIdentity, API_VERSION};
use crate::api::TaskRun;
use crate::reconcile::task_run::{is_listed_sidecar, TaskRunReason};
use crate::reconcile::ConditionStatus;
use crate::run::{ExecOutcome, TaskRunRecord};

/// Tekton's message of a successful TaskRun (§4.7).
const SUCCEEDED_MESSAGE: &str = "All Steps have completed executing";
/// Tekton's message while steps are still running.
const RUNNING_MESSAGE: &str = "Not all Steps in the Task have finished executing";

/// The final TaskRun for a bare TaskRun run: input metadata/spec plus status from the record.
pub fn task_run_object(tr: &TaskRun, id: &RunIdentity, record: &TaskRunRecord) -> Value {
    let task = tr
        .spec
        .task_ref
        .as_ref()
        .and_then(|r| r.name.as_deref())
        .filter(|n| !n.is_empty());
    json!({
        "apiVersion": API_VERSION,
        "kind": "TaskRun",
        "metadata": metadata::render(&tr.metadata, id, task.map(|t| ("tekton.dev/task", t))),
        "spec": to_json(&tr.spec),
        "status": task_run_status(record),
    })
}

/// The TaskRun status of one child of a PipelineRun; [`task_run_object`] renders a bare
/// TaskRun's status with it too, and `adze serve` will show children with it.
///
/// A v1 PipelineRun does not embed its children's statuses (only `childReferences`), so
/// [`pipeline_run_object`](super::pipeline_run_object) does not call it.
///
/// A record without an event is a TaskRun still running when the run ended: `Unknown/Running`
/// with no times or steps, since nothing was reported for it.
pub fn task_run_status(record: &TaskRunRecord) -> Value {
    let mut s = Map::new();
    let Some(event) = &record.event else {
        s.insert(
            "conditions".into(),
            json!([condition::succeeded(
                ConditionStatus::Unknown.as_str(),
                TaskRunReason::Running.as_str(),
                RUNNING_MESSAGE,
                None,
            )]),
        );
        s.insert("podName".into(), "".into());
        s.insert(
            "taskSpec".into(),
            task_spec::render(&record.request, &record.spec),
        );
        return Value::Object(s);
    };
    let report = &event.report;
    let (status, reason, message) = match &event.outcome {
        ExecOutcome::Succeeded => (
            ConditionStatus::True,
            TaskRunReason::Succeeded.as_str(),
            SUCCEEDED_MESSAGE.to_owned(),
        ),
        ExecOutcome::Failed { reason, message } | ExecOutcome::EngineLost { reason, message } => {
            (ConditionStatus::False, reason.as_str(), message.clone())
        }
        ExecOutcome::Cancelled => (
            ConditionStatus::False,
            TaskRunReason::TaskRunCancelled.as_str(),
            if report.message.is_empty() {
                // Tekton's text with no `statusMessage`; executors normally send their own.
                format!("TaskRun \"{}\" was cancelled. ", record.request.name)
            } else {
                report.message.clone()
            },
        ),
    };
    s.insert(
        "conditions".into(),
        json!([condition::succeeded(
            status.as_str(),
            reason,
            &message,
            report.completion_time,
        )]),
    );
    // Tekton's `podName` has no `omitempty`: it is printed even when no pod was created.
    s.insert("podName".into(), report.pod_name.as_str().into());
    s.put_opt("startTime", report.start_time.map(|t| rfc3339(t).into()));
    s.put_opt(
        "completionTime",
        report.completion_time.map(|t| rfc3339(t).into()),
    );
    s.put_list("steps", report.steps.iter().map(steps::step).collect());
    s.put_list(
        "sidecars",
        report
            .sidecars
            .iter()
            .filter(|s| is_listed_sidecar(&s.state.container))
            .map(steps::sidecar)
            .collect(),
    );
    s.put_list("results", typed(&event.results));
    s.put_opt("artifacts", report.artifacts.clone());
    s.put_list(
        "retriesStatus",
        record
            .retries
            .iter()
            .map(|retry| {
                // An earlier attempt: its own status, without the spec every attempt shares.
                let attempt = TaskRunRecord {
                    request: record.request.clone(),
                    spec: record.spec.clone(),
                    event: Some(retry.clone()),
                    retries: Vec::new(),
                };
                let mut status = task_run_status(&attempt);
                if let Some(map) = status.as_object_mut() {
                    map.remove("taskSpec");
                }
                status
            })
            .collect(),
    );
    s.insert(
        "taskSpec".into(),
        task_spec::render(&record.request, &record.spec),
    );
    Value::Object(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Object, Param, ParamValue, TaskSpec};
    use crate::load::{Bundle, Origin};
    use crate::plan::model::StepPlan;
    use crate::reconcile::task_run::{StepContainerState, StepState, StepTerminated};
    use crate::reconcile::Timestamp;
    use crate::run::{ExecEvent, StepReport, TaskRunReport, TaskRunRequest};

    /// 2025-03-02T09:00:00Z.
    const T0: u64 = 1_740_906_000_000;

    fn at(secs: u64) -> Timestamp {
        Timestamp(T0 + secs * 1000)
    }

    fn request() -> TaskRunRequest {
        TaskRunRequest {
            name: "build-x7k2p".into(),
            pipeline_task: "build-x7k2p".into(),
            parent_tasks: Vec::new(),
            finally: false,
            params: Vec::new(),
            steps: vec![StepPlan {
                name: "compile".into(),
                image: "golang:1.23".into(),
                ..StepPlan::default()
            }],
            sidecars: Vec::new(),
            timeout: None,
            workspaces: Vec::new(),
            results: Vec::new(),
            volumes: Vec::new(),
            credentials: Vec::new(),
            pod: Default::default(),
            on_error: Default::default(),
            cluster: Default::default(),
        }
    }

    fn finished(outcome: ExecOutcome, message: &str) -> TaskRunRecord {
        TaskRunRecord {
            retries: Vec::new(),
            request: request(),
            spec: TaskSpec::default(),
            event: Some(ExecEvent {
                task_run: "build-x7k2p".into(),
                outcome,
                results: Vec::new(),
                report: TaskRunReport {
                    message: message.into(),
                    pod_name: "build-x7k2p-pod".into(),
                    start_time: Some(at(0)),
                    completion_time: Some(at(70)),
                    steps: Vec::new(),
                    sidecars: Vec::new(),
                    artifacts: None,
                    out_of_space: None,
                },
            }),
        }
    }

    fn condition_of(status: &Value) -> &Value {
        &status["conditions"][0]
    }

    #[test]
    fn a_succeeded_task_run_says_all_steps_completed() {
        let s = task_run_status(&finished(ExecOutcome::Succeeded, ""));
        assert_eq!(
            condition_of(&s),
            &json!({
                "type": "Succeeded",
                "status": "True",
                "reason": "Succeeded",
                "message": "All Steps have completed executing",
                "lastTransitionTime": "2025-03-02T09:01:10Z",
            })
        );
        assert_eq!(s["completionTime"], "2025-03-02T09:01:10Z");
    }

    #[test]
    fn a_failed_task_run_keeps_the_executor_reason_and_message() {
        let outcome = ExecOutcome::Failed {
            reason: "TaskRunTimeout".into(),
            message: "TaskRun \"build-x7k2p\" failed to finish within \"1m0s\"".into(),
        };
        let s = task_run_status(&finished(outcome, ""));
        assert_eq!(condition_of(&s)["status"], "False");
        assert_eq!(condition_of(&s)["reason"], "TaskRunTimeout");
        assert_eq!(
            condition_of(&s)["message"],
            "TaskRun \"build-x7k2p\" failed to finish within \"1m0s\""
        );
    }

    #[test]
    fn a_task_run_lost_with_its_engine_is_failed_with_the_executor_reason() {
        let outcome = ExecOutcome::EngineLost {
            reason: "PodEvicted".into(),
            message: "the container engine stopped during the run: gone".into(),
        };
        let s = task_run_status(&finished(outcome, ""));
        assert_eq!(condition_of(&s)["status"], "False");
        assert_eq!(condition_of(&s)["reason"], "PodEvicted");
        assert_eq!(
            condition_of(&s)["message"],
            "the container engine stopped during the run: gone"
        );
    }

    #[test]
    fn a_cancelled_task_run_carries_the_reported_message() {
        let message = "TaskRun \"build-x7k2p\" was cancelled. TaskRun cancelled as the \
                       PipelineRun it belongs to has been cancelled.";
        let s = task_run_status(&finished(ExecOutcome::Cancelled, message));
        assert_eq!(condition_of(&s)["status"], "False");
        assert_eq!(condition_of(&s)["reason"], "TaskRunCancelled");
        assert_eq!(condition_of(&s)["message"], message);

        let s = task_run_status(&finished(ExecOutcome::Cancelled, ""));
        assert_eq!(
            condition_of(&s)["message"],
            "TaskRun \"build-x7k2p\" was cancelled. "
        );
    }

    #[test]
    fn a_task_run_without_an_event_is_still_running() {
        let record = TaskRunRecord {
            retries: Vec::new(),
            request: request(),
            spec: TaskSpec::default(),
            event: None,
        };
        let s = task_run_status(&record);
        assert_eq!(
            condition_of(&s),
            &json!({
                "type": "Succeeded",
                "status": "Unknown",
                "reason": "Running",
                "message": "Not all Steps in the Task have finished executing",
            })
        );
        assert_eq!(s["podName"], "");
        for absent in ["startTime", "completionTime", "steps", "results"] {
            assert!(s.get(absent).is_none(), "{absent}");
        }
        assert_eq!(s["taskSpec"]["steps"][0]["name"], "compile");
    }

    #[test]
    fn task_results_are_typed() {
        let mut record = finished(ExecOutcome::Succeeded, "");
        if let Some(e) = record.event.as_mut() {
            e.results = vec![(
                "tags".into(),
                ParamValue::Array(vec!["v1".into(), "latest".into()]),
            )];
        }
        let s = task_run_status(&record);
        assert_eq!(
            s["results"],
            json!([{"name": "tags", "type": "array", "value": ["v1", "latest"]}])
        );
    }

    const TASK_RUN: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  generateName: build-
  namespace: ci
  labels: {app.kubernetes.io/part-of: shop}
  annotations: {owner: team-a}
spec:
  serviceAccountName: default
  timeout: 1h0m0s
  taskRef: {kind: Task, name: go-build}
  params: [{name: lint-flags, value: [--fast]}]
  workspaces:
  - {name: source, emptyDir: {}}
"#;

    fn task_run() -> TaskRun {
        let mut b = Bundle::new();
        b.add_source("tr.yaml", TASK_RUN.to_owned(), Origin::Input);
        assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
        let tr = b
            .inputs()
            .find_map(|o| match &o.object {
                Object::TaskRun(tr) => Some(tr.clone()),
                _ => None,
            })
            .expect("the input holds a TaskRun");
        tr
    }

    fn terminated(
        name: &str,
        exit_code: i32,
        message: &str,
        span: (u64, u64),
        termination_reason: &str,
    ) -> StepReport {
        StepReport {
            state: StepState {
                name: name.into(),
                container: format!("step-{name}"),
                state: StepContainerState::Terminated(StepTerminated {
                    exit_code,
                    reason: "Completed".into(),
                    message: message.into(),
                    started_at: at(span.0),
                    finished_at: at(span.1),
                }),
                termination_reason: termination_reason.into(),
            },
            image_id: format!("sha256:{name}"),
            results: Vec::new(),
        }
    }

    /// The §5.5 example: the first step's failure ignored, one sidecar, one result.
    #[test]
    fn a_finished_task_run_in_tekton_v1_shape() {
        let tr = task_run();
        let id = RunIdentity {
            name: "build-x7k2p".into(),
            namespace: "ci".into(),
            uid: "0b7e6c1e-2f44-4c8e-9d55-1f0a2a6a9c01".into(),
            created: at(0),
        };
        let mut sidecar = terminated("registry", 0, "", (5, 69), "");
        sidecar.state.container = "sidecar-registry".into();
        let record = TaskRunRecord {
            retries: Vec::new(),
            request: TaskRunRequest {
                name: "build-x7k2p".into(),
                pipeline_task: "build-x7k2p".into(),
                parent_tasks: Vec::new(),
                finally: false,
                params: vec![Param {
                    name: "lint-flags".into(),
                    value: ParamValue::Array(vec!["--fast".into()]),
                }],
                steps: vec![
                    StepPlan {
                        name: "lint".into(),
                        image: "golangci/golangci-lint:v1.61".into(),
                        command: vec!["golangci-lint".into(), "run".into()],
                        args: vec!["--fast".into()],
                        working_dir: Some("/workspace/source".into()),
                        on_error: Some("continue".into()),
                        ..StepPlan::default()
                    },
                    StepPlan {
                        name: "compile".into(),
                        image: "golang:1.23".into(),
                        working_dir: Some("/workspace/source".into()),
                        script: Some(format!(
                            "{}go build ./...\nprintf '%s' sha256:5e8f > /tekton/results/digest\n",
                            crate::plan::task::SCRIPT_PREAMBLE
                        )),
                        ..StepPlan::default()
                    },
                ],
                sidecars: vec![StepPlan {
                    name: "registry".into(),
                    image: "registry:2".into(),
                    ..StepPlan::default()
                }],
                timeout: None,
                workspaces: Vec::new(),
                results: Vec::new(),
                volumes: Vec::new(),
                credentials: Vec::new(),
                pod: Default::default(),
                on_error: Default::default(),
                cluster: Default::default(),
            },
            spec: serde_json::from_value(json!({
                "displayName": "Lint and build",
                "params": [{"name": "lint-flags", "type": "array", "description": "Extra linter flags"}],
                "results": [{"name": "digest", "description": "Digest of the built image"}],
            }))
            .expect("a TaskSpec"),
            event: Some(ExecEvent {
                task_run: "build-x7k2p".into(),
                outcome: ExecOutcome::Succeeded,
                results: vec![("digest".into(), ParamValue::String("sha256:5e8f".into()))],
                report: TaskRunReport {
                    message: String::new(),
                    pod_name: "build-x7k2p-pod".into(),
                    start_time: Some(at(0)),
                    completion_time: Some(at(70)),
                    steps: vec![
                        terminated("lint", 1, "", (12, 30), "Continued"),
                        terminated("compile", 0, "", (31, 68), "Completed"),
                    ],
                    sidecars: vec![sidecar],
                    artifacts: None,
                    out_of_space: None,
                },
            }),
        };
        insta::assert_json_snapshot!(task_run_object(&tr, &id, &record));
    }

    #[test]
    fn an_embedded_task_gets_no_task_label() {
        let mut tr = task_run();
        tr.spec.task_ref = None;
        tr.metadata.labels = None;
        let id = RunIdentity {
            name: "x".into(),
            namespace: "default".into(),
            uid: "u".into(),
            created: at(0),
        };
        let o = task_run_object(&tr, &id, &finished(ExecOutcome::Succeeded, ""));
        assert!(o["metadata"].get("labels").is_none());
        assert_eq!(o["apiVersion"], "tekton.dev/v1");
        assert_eq!(o["kind"], "TaskRun");
    }
}
