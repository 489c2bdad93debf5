//! A TaskRun's containers in the engine, as a pod's: the network holder, the sidecars and
//! the step containers started at once, and their removal together.
//!
//! Starting and stopping them is [`sidecars`](super::sidecars)' and
//! [`steps_at_once`](super::steps_at_once)' work; this is the record they share with
//! [`task_run`](super::task_run), kept apart so none of them imports another's.

use bollard::Docker;
use futures_util::future::join_all;
use tokio::task::JoinHandle;

use super::container;
use crate::plan::model::StepPlan;
use crate::reconcile::Timestamp;

/// A TaskRun's long-lived containers.
#[derive(Default)]
pub(super) struct Pod {
    /// The network holder's id, once started.
    pub holder: Option<String>,
    /// The sidecars, in `spec.sidecars` order.
    pub sidecars: Vec<Sidecar>,
    /// The step containers, when they were started at once (see
    /// [`steps_at_once`](super::steps_at_once)).
    pub steps: Vec<String>,
}

/// One sidecar container.
pub(super) struct Sidecar {
    /// The resolved sidecar.
    pub plan: StepPlan,
    /// The container, once created.
    pub id: Option<String>,
    /// When it started.
    pub started: Option<Timestamp>,
    /// The image the engine ran.
    pub image_id: String,
    /// Set when adze stopped it after the steps.
    pub stopped: bool,
    /// The task forwarding its output, if logs are on.
    pub log_task: Option<JoinHandle<()>>,
}

/// Why the pod could not start.
pub(super) enum PodFailure {
    /// The TaskRun fails with this reason and message.
    Refused(String, String),
}

impl Pod {
    /// Removes the holder, every sidecar and step container; failures only leave labelled
    /// containers that `adze run` removes before exiting.
    pub async fn remove(&self, docker: &Docker) {
        // Steps (some may still wait for an earlier one) and sidecars go together; the
        // holder, whose network they share, last.
        let ids = self
            .steps
            .iter()
            .map(String::as_str)
            .chain(self.sidecars.iter().filter_map(|s| s.id.as_deref()));
        join_all(ids.map(|id| container::remove(docker, id))).await;
        if let Some(id) = &self.holder {
            let _ = container::remove(docker, id).await;
        }
    }
}
