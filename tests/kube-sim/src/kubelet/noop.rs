//! The no-op Pod runner (`kube-sim --kubelet noop`): a Pod "runs" without a container
//! engine. Each init container goes Running then Terminated (exit 0) in turn, native sidecars
//! start, the regular containers all go Running then Terminated (exit 0) with the termination
//! message adze's entrypoint writes for a step that ran, and the Pod ends `Succeeded`.
//!
//! # Design
//!
//! It drives the same [`Book`] as the Docker worker, so the phase, conditions and container
//! statuses are derived by the same rules and published as the same sequence of writes a
//! real kubelet makes (Pending → Running → Succeeded): what a controller sees differs from a
//! Docker run only in timing. That is what it is for: measuring a controller and the API
//! server without the engine's seconds per container.
//!
//! # Invariants
//!
//! - Every regular container's termination message is a JSON array holding the entrypoint's
//!   `StartedAt` entry (type 3, internal) and nothing else: no results, no step results.
//! - A deleted Pod is never written again ([`Book::mark_deleted`] before the task is
//!   aborted, as for the Docker worker).
//!
//! # Not yet
//!
//! - Failing containers, results, logs (a log request gets an empty stream), probes and
//!   `activeDeadlineSeconds`: nothing runs, so nothing can fail or take time.

use std::sync::Arc;

use k8s_openapi::chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::status::{now, Book, State, Which};

/// The termination message of a step that ran: the entrypoint's `StartedAt`, in its format
/// (RFC 3339 UTC, milliseconds).
pub(super) fn step_message() -> String {
    let started = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    json!([{ "key": "StartedAt", "value": started, "type": 3 }]).to_string()
}

/// A container that exited 0 after running since `started_at`.
fn completed(
    started_at: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    message: Option<String>,
) -> State {
    State::Terminated {
        exit_code: 0,
        reason: "Completed".into(),
        message,
        started_at: Some(started_at),
        finished_at: now(),
    }
}

/// Runs the Pod of `book` to completion, publishing each step.
pub(super) async fn run(book: Arc<Book>) {
    let (init, main) = book.read(|r| (r.init.len(), r.main.len()));
    let mut sidecars = Vec::new();
    for i in 0..init {
        let started_at = now();
        let sidecar = book.edit(|r| {
            let slot = r.slot(Which::Init(i))?;
            slot.state = State::Running {
                started_at: started_at.clone(),
            };
            Some(slot.sidecar)
        });
        if sidecar == Some(true) {
            sidecars.push((i, started_at));
            continue;
        }
        book.edit(|r| {
            if let Some(slot) = r.slot(Which::Init(i)) {
                slot.state = completed(started_at, None);
            }
        });
        // Let the status writes interleave with other Pods', as separate kubelet syncs do.
        tokio::task::yield_now().await;
    }
    let started_at = now();
    book.edit(|r| {
        for slot in &mut r.main {
            slot.state = State::Running {
                started_at: started_at.clone(),
            };
        }
    });
    tokio::task::yield_now().await;
    book.edit(|r| {
        for i in 0..main {
            if let Some(slot) = r.slot(Which::Main(i)) {
                slot.state = completed(started_at.clone(), Some(step_message()));
            }
        }
        for (i, started_at) in &sidecars {
            if let Some(slot) = r.slot(Which::Init(*i)) {
                slot.state = completed(started_at.clone(), None);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::status::tests::Host;
    use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};

    #[tokio::test]
    async fn init_containers_run_first_then_the_pod_succeeds() {
        let c = |name: &str, always: bool| Container {
            name: name.into(),
            restart_policy: always.then(|| "Always".into()),
            ..Default::default()
        };
        let pod = Pod {
            spec: Some(PodSpec {
                init_containers: Some(vec![c("prepare", false), c("sidecar", true)]),
                containers: vec![c("step-a", false), c("step-b", false)],
                ..Default::default()
            }),
            ..Default::default()
        };
        let host = Arc::new(Host::default());
        run(Arc::new(Book::new(host.clone(), &pod))).await;
        let published = host.0.lock().unwrap();
        let phases: Vec<&str> = published
            .iter()
            .filter_map(|s| s.phase.as_deref())
            .collect();
        assert_eq!(phases.first(), Some(&"Pending"));
        assert!(phases.contains(&"Running"), "{phases:?}");
        assert_eq!(phases.last(), Some(&"Succeeded"));
        // The first publication already shows `prepare` running, nothing else started.
        let first = &published[0];
        let init = first.init_container_statuses.as_ref().unwrap();
        assert!(init[0].state.as_ref().unwrap().running.is_some());
        assert!(first.container_statuses.as_ref().unwrap()[0]
            .state
            .as_ref()
            .unwrap()
            .waiting
            .is_some());
        let last = published.last().unwrap();
        for status in last.container_statuses.as_ref().unwrap() {
            let ended = status.state.as_ref().unwrap().terminated.as_ref().unwrap();
            assert_eq!(ended.exit_code, 0);
            assert!(ended.message.as_deref().unwrap().contains("StartedAt"));
        }
    }

    #[test]
    fn the_step_message_is_what_the_entrypoint_writes_for_a_step_that_ran() {
        let message: serde_json::Value = serde_json::from_str(&step_message()).unwrap();
        let entries = message.as_array().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["key"], "StartedAt");
        assert_eq!(entries[0]["type"], 3);
        let started = entries[0]["value"].as_str().unwrap();
        assert!(
            k8s_openapi::chrono::DateTime::parse_from_rfc3339(started).is_ok(),
            "{started}"
        );
    }
}
