//! `--executor create`: a trigger's objects are created in the cluster, as Tekton's
//! EventListener does, for `adze controller` (or Tekton) to run.
//!
//! # Design
//!
//! The object's name was recorded before this is called, so creating is idempotent: after a
//! restart the same object is created again and "already exists" counts as created. The
//! resource is found by discovery (any namespaced kind a template names, spec §2.8). A
//! server that does not answer is retried with backoff; a refusal (validation, 401/403) is
//! final and recorded with the server's message.

use std::time::Duration;

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::pinned_kind;

use super::launch::{Launched, Launcher, Report};
use crate::exec::kubernetes::connect::Cluster;
use crate::store::{RunRecord, RunState};

/// Attempts at reaching the server before a create is given up.
const ATTEMPTS: u32 = 6;

/// Creates triggered objects through the API server.
pub struct CreateInCluster {
    cluster: Cluster,
    runtime: tokio::runtime::Handle,
}

impl CreateInCluster {
    /// Creates with `cluster`'s client, driven by `runtime`.
    pub fn new(cluster: Cluster, runtime: tokio::runtime::Handle) -> CreateInCluster {
        CreateInCluster { cluster, runtime }
    }

    async fn create(&self, run: &RunRecord) -> Result<serde_json::Value, Refusal> {
        let api_version = run.object["apiVersion"].as_str().unwrap_or_default();
        let kind = run.object["kind"].as_str().unwrap_or_default();
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, _) = retrying(|| pinned_kind(&self.cluster.client, &gvk))
            .await
            .map_err(|e| Refusal::from_error(&format!("cannot find {kind} in {api_version}"), e))?;
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.cluster.client.clone(), &run.namespace, &resource);
        let object: DynamicObject = serde_json::from_value(run.object.clone()).map_err(|e| {
            Refusal::final_(format!(
                "the rendered object is not a Kubernetes object: {e}"
            ))
        })?;
        let params = PostParams::default();
        let created = retrying(|| api.create(&params, &object)).await;
        match created {
            Ok(o) => Ok(serde_json::to_value(o).unwrap_or_default()),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                // Created by an earlier attempt of this very run (a restart in between).
                match api.get(&run.name).await {
                    Ok(o) => Ok(serde_json::to_value(o).unwrap_or_default()),
                    Err(_) => Ok(run.object.clone()),
                }
            }
            Err(e) => Err(Refusal::from_error(
                &format!("cannot create {kind} {}", run.name),
                e,
            )),
        }
    }
}

impl Launcher for CreateInCluster {
    fn launch(&self, run: &RunRecord, _report: &Report) -> Launched {
        match self.runtime.block_on(self.create(run)) {
            Ok(object) => Launched {
                state: RunState::Created,
                status: Some(object),
            },
            Err(refusal) => Launched::refused(run, "CreateFailed", &refusal.0),
        }
    }
}

/// Why an object was not created.
struct Refusal(String);

impl Refusal {
    fn final_(message: String) -> Refusal {
        Refusal(message)
    }

    fn from_error(what: &str, e: kube::Error) -> Refusal {
        match e {
            kube::Error::Api(status) if matches!(status.code, 401 | 403) => Refusal(format!(
                "{what}: the API server refused the listener's identity ({}); grant its service \
                 account `create` on this resource in the namespace (deploy/eventlistener.yaml)",
                status.message
            )),
            kube::Error::Api(status) => Refusal(format!("{what}: {}", status.message)),
            other => Refusal(format!("{what}: {other}")),
        }
    }
}

/// Calls `f` until it succeeds, the server refuses, or the attempts run out; only transport
/// failures and 5xx answers are retried.
async fn retrying<T, F, Fut>(mut f: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut delay = Duration::from_millis(500);
    let mut attempt = 1;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(kube::Error::Api(status)) if status.code < 500 => {
                return Err(kube::Error::Api(status))
            }
            Err(e) if attempt >= ATTEMPTS => return Err(e),
            Err(_) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
                attempt += 1;
            }
        }
    }
}
