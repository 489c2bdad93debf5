//! `status.steps[]` and `status.sidecars[]`: container states with Tekton's overrides (§4.6),
//! the container state inlined at the top level as Tekton's JSON does (§5.2).

use serde_json::{Map, Value};

use super::results::typed;
use super::time::rfc3339;
use super::MapExt;
use crate::reconcile::task_run::{StepContainerState, StepState};
use crate::run::StepReport;

/// One `StepState`: `name, container, imageID, waiting|running|terminated,
/// terminationReason, results`.
pub(super) fn step(report: &StepReport) -> Value {
    let mut m = container(&report.state, &report.image_id);
    m.put_str("terminationReason", &report.state.termination_reason);
    m.put_list("results", typed(&report.results));
    Value::Object(m)
}

/// One `SidecarState`: like a step, without `terminationReason` or results, which Tekton's
/// sidecar state does not have.
pub(super) fn sidecar(report: &StepReport) -> Value {
    Value::Object(container(&report.state, &report.image_id))
}

fn container(state: &StepState, image_id: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.put_str("name", &state.name);
    m.put_str("container", &state.container);
    m.put_str("imageID", image_id);
    let (key, value) = container_state(&state.state);
    m.insert(key.into(), value);
    m
}

/// The Kubernetes `ContainerState` member that is set, and its fields.
fn container_state(state: &StepContainerState) -> (&'static str, Value) {
    let mut m = Map::new();
    let key = match state {
        StepContainerState::Waiting { reason, message } => {
            m.put_str("reason", reason);
            m.put_str("message", message);
            "waiting"
        }
        StepContainerState::Running { started_at } => {
            m.insert("startedAt".into(), rfc3339(*started_at).into());
            "running"
        }
        StepContainerState::Terminated(t) => {
            m.insert("exitCode".into(), t.exit_code.into());
            m.put_str("reason", &t.reason);
            m.put_str("message", &t.message);
            m.insert("startedAt".into(), rfc3339(t.started_at).into());
            m.insert("finishedAt".into(), rfc3339(t.finished_at).into());
            "terminated"
        }
    };
    (key, Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ParamValue;
    use crate::reconcile::task_run::StepTerminated;
    use crate::reconcile::Timestamp;
    use serde_json::json;

    const T: u64 = 1_740_906_000_000;

    fn report(state: StepContainerState, termination_reason: &str) -> StepReport {
        StepReport {
            state: StepState {
                name: "lint".into(),
                container: "step-lint".into(),
                state,
                termination_reason: termination_reason.into(),
            },
            image_id: "sha256:4a1e".into(),
            results: Vec::new(),
        }
    }

    fn terminated(exit_code: i32, reason: &str, message: &str) -> StepContainerState {
        StepContainerState::Terminated(StepTerminated {
            exit_code,
            reason: reason.into(),
            message: message.into(),
            started_at: Timestamp(T + 12_000),
            finished_at: Timestamp(T + 30_000),
        })
    }

    #[test]
    fn a_terminated_state_is_inlined_with_its_termination_reason() {
        let s = step(&report(terminated(1, "Completed", ""), "Continued"));
        assert_eq!(
            s,
            json!({
                "name": "lint",
                "container": "step-lint",
                "imageID": "sha256:4a1e",
                "terminated": {
                    "exitCode": 1,
                    "reason": "Completed",
                    "startedAt": "2025-03-02T09:00:12Z",
                    "finishedAt": "2025-03-02T09:00:30Z",
                },
                "terminationReason": "Continued",
            })
        );
    }

    #[test]
    fn a_controller_message_is_kept() {
        let message = "Step lint terminated as pod p is terminated";
        let s = step(&report(
            terminated(1, "TaskRunCancelled", message),
            "TaskRunCancelled",
        ));
        assert_eq!(s["terminated"]["message"], message);
    }

    #[test]
    fn running_and_waiting_states_have_their_own_keys() {
        let running = step(&report(
            StepContainerState::Running {
                started_at: Timestamp(T),
            },
            "",
        ));
        assert_eq!(
            running["running"],
            json!({"startedAt": "2025-03-02T09:00:00Z"})
        );
        assert!(running.get("terminated").is_none());
        assert!(running.get("terminationReason").is_none());

        let waiting = step(&report(
            StepContainerState::Waiting {
                reason: "PodInitializing".into(),
                message: String::new(),
            },
            "",
        ));
        assert_eq!(waiting["waiting"], json!({"reason": "PodInitializing"}));
    }

    #[test]
    fn step_results_are_typed_and_empty_image_ids_left_out() {
        let mut r = report(terminated(0, "Completed", ""), "Completed");
        r.image_id.clear();
        r.results = vec![("digest".into(), ParamValue::String("abc".into()))];
        let s = step(&r);
        assert!(s.get("imageID").is_none());
        assert_eq!(
            s["results"],
            json!([{"name": "digest", "type": "string", "value": "abc"}])
        );
    }

    #[test]
    fn sidecars_have_no_termination_reason_or_results() {
        let mut r = report(terminated(0, "Completed", ""), "Completed");
        r.state.name = "registry".into();
        r.state.container = "sidecar-registry".into();
        r.results = vec![("x".into(), ParamValue::String("y".into()))];
        let s = sidecar(&r);
        assert_eq!(s["container"], "sidecar-registry");
        assert!(s.get("terminationReason").is_none());
        assert!(s.get("results").is_none());
        assert_eq!(s["terminated"]["exitCode"], 0);
    }
}
