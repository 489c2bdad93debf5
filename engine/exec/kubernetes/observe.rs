//! What a TaskRun's Pod says, in the terms of [`crate::reconcile::task_run`]: the pod's phase,
//! each step's and sidecar's container state, and what the steps' termination messages hold.
//!
//! Pure: the executor fetches the Pod; this turns it into a [`PodView`] that
//! [`evaluate`](crate::reconcile::task_run::evaluate) reads, so the Kubernetes executor and the
//! local one reach the same Tekton status from the same kind of facts.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::termination::{self, StepMessage};
use crate::reconcile::task_run::{
    sidecar_container, step_container, ContainerObservation, PodObservation, PodPhase,
    SidecarObservation, StepObservation, TerminatedObservation,
};
use crate::reconcile::Timestamp;

/// Why a container that has not started yet is waiting, before the kubelet says anything.
const NOT_STARTED: &str = "PodInitializing";

/// One Pod, observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodView {
    /// The pod as [`evaluate`](crate::reconcile::task_run::evaluate) sees it.
    pub pod: PodObservation,
    /// Step containers, in the order of the step names given.
    pub steps: Vec<StepObservation>,
    /// Sidecar containers (ordinary or native), in the order of the sidecar names given.
    pub sidecars: Vec<SidecarObservation>,
    /// Each step's parsed termination message (default when it wrote none).
    pub messages: Vec<StepMessage>,
    /// Each step's `imageID`, empty until the kubelet reports one.
    pub image_ids: Vec<String>,
    /// Each sidecar's `imageID`.
    pub sidecar_image_ids: Vec<String>,
    /// The first container that cannot start because of its image: (container, image, message).
    pub image_pull_failure: Option<(String, String, String)>,
    /// The first container whose configuration the kubelet refused: (container, message).
    pub config_error: Option<(String, String)>,
}

impl PodView {
    /// True when every step container has terminated.
    pub fn steps_done(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s.state, ContainerObservation::Terminated(_)))
    }
}

/// Why a Pending Pod cannot be scheduled (its `PodScheduled` condition is False, e.g. a
/// claim, ConfigMap or Secret it mounts does not exist): the condition's message.
pub fn unschedulable(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    if status.phase.as_deref().is_some_and(|p| p != "Pending") {
        return None;
    }
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(|c| {
            c.message
                .clone()
                .or_else(|| c.reason.clone())
                .unwrap_or_else(|| "unschedulable".to_owned())
        })
}

/// Reads `pod` for the steps and sidecars named (without their `step-`/`sidecar-` prefixes).
pub fn observe(pod: &Pod, steps: &[String], sidecars: &[String]) -> PodView {
    let status = pod.status.clone().unwrap_or_default();
    let containers = status.container_statuses.clone().unwrap_or_default();
    let inits = status.init_container_statuses.clone().unwrap_or_default();
    let find = |name: &str| -> Option<&ContainerStatus> {
        containers
            .iter()
            .chain(inits.iter())
            .find(|c| c.name == name)
    };
    let phase = match status.phase.as_deref() {
        Some("Running") => PodPhase::Running,
        Some("Succeeded") => PodPhase::Succeeded,
        Some("Failed") => PodPhase::Failed,
        _ => PodPhase::Pending,
    };
    let evicted = (status.reason.as_deref() == Some("Evicted"))
        .then(|| status.message.clone().unwrap_or_default());
    let mut view = PodView {
        pod: PodObservation {
            name: pod.metadata.name.clone().unwrap_or_default(),
            phase,
            evicted,
        },
        steps: Vec::with_capacity(steps.len()),
        sidecars: Vec::with_capacity(sidecars.len()),
        messages: Vec::with_capacity(steps.len()),
        image_ids: Vec::with_capacity(steps.len()),
        sidecar_image_ids: Vec::with_capacity(sidecars.len()),
        image_pull_failure: None,
        config_error: None,
    };
    for step in steps {
        let status = find(&step_container(step));
        let message = status
            .and_then(terminated_message)
            .and_then(termination::parse)
            .unwrap_or_default();
        view.steps.push(StepObservation {
            name: step.clone(),
            state: container_state(status, &message),
        });
        view.messages.push(message);
        view.image_ids.push(image_id(status));
    }
    for sidecar in sidecars {
        let status = find(&sidecar_container(sidecar));
        view.sidecars.push(SidecarObservation {
            name: sidecar.clone(),
            state: container_state(status, &StepMessage::default()),
        });
        view.sidecar_image_ids.push(image_id(status));
    }
    for c in inits.iter().chain(containers.iter()) {
        let Some(waiting) = c.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
            continue;
        };
        let reason = waiting.reason.as_deref().unwrap_or_default();
        let message = waiting.message.clone().unwrap_or_default();
        match reason {
            "ErrImagePull" | "ImagePullBackOff" | "ErrImageNeverPull" | "InvalidImageName" => {
                view.image_pull_failure
                    .get_or_insert((c.name.clone(), c.image.clone(), message));
            }
            "CreateContainerConfigError" | "CreateContainerError" => {
                view.config_error.get_or_insert((c.name.clone(), message));
            }
            _ => {}
        }
    }
    view
}

/// The container's termination message, when it has terminated and wrote one.
fn terminated_message(status: &ContainerStatus) -> Option<&str> {
    status
        .state
        .as_ref()?
        .terminated
        .as_ref()?
        .message
        .as_deref()
}

/// `imageID` without the runtime's `docker-pullable://`/`docker://` scheme, as Tekton shows it.
fn image_id(status: Option<&ContainerStatus>) -> String {
    let id = status.map(|s| s.image_id.as_str()).unwrap_or_default();
    id.split_once("://").map_or(id, |(_, rest)| rest).to_owned()
}

/// A container's state with the entrypoint's markers attached.
fn container_state(
    status: Option<&ContainerStatus>,
    message: &StepMessage,
) -> ContainerObservation {
    let waiting = |reason: &str, message: &str| ContainerObservation::Waiting {
        reason: reason.to_owned(),
        message: message.to_owned(),
    };
    let Some(state) = status.and_then(|s| s.state.as_ref()) else {
        return waiting(NOT_STARTED, "");
    };
    if let Some(t) = &state.terminated {
        let started = time(t.started_at.as_ref());
        let has_markers = message.markers != Default::default();
        return ContainerObservation::Terminated(TerminatedObservation {
            exit_code: t.exit_code,
            reason: t.reason.clone().unwrap_or_default(),
            started: message.markers.started_at.unwrap_or(started),
            finished: time(t.finished_at.as_ref()),
            markers: has_markers.then_some(message.markers),
        });
    }
    if let Some(r) = &state.running {
        return ContainerObservation::Running {
            started: time(r.started_at.as_ref()),
        };
    }
    match &state.waiting {
        Some(w) => waiting(
            w.reason.as_deref().unwrap_or(NOT_STARTED),
            w.message.as_deref().unwrap_or_default(),
        ),
        None => waiting(NOT_STARTED, ""),
    }
}

/// A Kubernetes time as a [`Timestamp`]; the epoch when absent.
fn time(t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Timestamp {
    t.and_then(|t| u64::try_from(t.0.timestamp_millis()).ok())
        .map_or(Timestamp(0), Timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::task_run::MarkerReason;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_finished_pod_gives_steps_in_spec_order_with_markers_and_results() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "tr-pod"},
            "status": {
                "phase": "Failed",
                "containerStatuses": [
                    {"name": "step-second", "image": "busybox", "imageID": "docker://sha256:bb",
                     "ready": false, "restartCount": 0,
                     "state": {"terminated": {"exitCode": 1, "reason": "Error",
                        "startedAt": "2025-03-02T09:00:10Z", "finishedAt": "2025-03-02T09:00:11Z",
                        "message": "[{\"key\":\"StartedAt\",\"value\":\"2025-03-02T09:00:10.500Z\",\"type\":3},{\"key\":\"Reason\",\"value\":\"Skipped\",\"type\":3}]"}}},
                    {"name": "step-first", "image": "busybox",
                     "imageID": "docker-pullable://busybox@sha256:aa",
                     "ready": false, "restartCount": 0,
                     "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                        "startedAt": "2025-03-02T09:00:00Z", "finishedAt": "2025-03-02T09:00:09Z",
                        "message": "[{\"key\":\"out\",\"value\":\"hi\",\"type\":1}]"}}}
                ]
            }
        }));
        let v = observe(&p, &["first".into(), "second".into()], &[]);
        assert_eq!(v.pod.phase, PodPhase::Failed);
        assert_eq!(v.steps[0].name, "first");
        assert_eq!(v.messages[0].task_results, [("out".into(), "hi".into())]);
        assert_eq!(v.image_ids, ["busybox@sha256:aa", "sha256:bb"]);
        let ContainerObservation::Terminated(t) = &v.steps[1].state else {
            panic!("{:?}", v.steps[1]);
        };
        assert_eq!(t.started, Timestamp(1_740_906_010_500));
        assert_eq!(t.markers.unwrap().reason, Some(MarkerReason::Skipped));
        assert!(v.steps_done());
    }

    #[test]
    fn a_missing_image_is_named_and_nothing_has_started() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "tr-pod"},
            "status": {
                "phase": "Pending",
                "containerStatuses": [
                    {"name": "step-build", "image": "nope:1", "imageID": "", "ready": false,
                     "restartCount": 0,
                     "state": {"waiting": {"reason": "ImagePullBackOff",
                        "message": "Back-off pulling image \"nope:1\""}}}
                ]
            }
        }));
        let v = observe(&p, &["build".into(), "test".into()], &[]);
        assert_eq!(
            v.image_pull_failure,
            Some((
                "step-build".into(),
                "nope:1".into(),
                "Back-off pulling image \"nope:1\"".into()
            ))
        );
        assert!(!v.steps_done());
        assert!(matches!(
            &v.steps[1].state,
            ContainerObservation::Waiting { reason, .. } if reason == "PodInitializing"
        ));
    }

    #[test]
    fn native_sidecars_are_read_from_init_container_statuses_and_evictions_are_seen() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "tr-pod"},
            "status": {
                "phase": "Failed", "reason": "Evicted", "message": "node went away",
                "initContainerStatuses": [
                    {"name": "sidecar-db", "image": "db", "imageID": "", "ready": true,
                     "restartCount": 0,
                     "state": {"running": {"startedAt": "2025-03-02T09:00:00Z"}}}
                ]
            }
        }));
        let v = observe(&p, &[], &["db".into()]);
        assert_eq!(v.pod.evicted.as_deref(), Some("node went away"));
        assert_eq!(
            v.sidecars[0].state,
            ContainerObservation::Running {
                started: Timestamp(1_740_906_000_000)
            }
        );
    }

    #[test]
    fn an_unschedulable_pending_pod_says_why() {
        let waiting = pod(serde_json::json!({
            "metadata": {"name": "tr-pod"},
            "status": {
                "phase": "Pending",
                "conditions": [{"type": "PodScheduled", "status": "False",
                                "reason": "Unschedulable",
                                "message": "persistentvolumeclaim \"c\" not found"}]
            }
        }));
        assert_eq!(
            unschedulable(&waiting).as_deref(),
            Some("persistentvolumeclaim \"c\" not found")
        );
        let running = pod(serde_json::json!({
            "metadata": {"name": "tr-pod"},
            "status": {"phase": "Running",
                       "conditions": [{"type": "PodScheduled", "status": "True"}]}
        }));
        assert_eq!(unschedulable(&running), None);
    }
}
