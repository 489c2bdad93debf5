//! The values of the cluster's Secrets that a TaskRun's Pod reads, added to the run's masker
//! before the Pod is created, so no log line, result, message or status of the run shows
//! them (see [`crate::mask`]).
//!
//! # Design
//!
//! The names come from the Pod as built ([`pod_secret_names`]): every step, sidecar and
//! stepTemplate variable, `envFrom`, Task and `podTemplate` volume, projected source and
//! workspace binding is there, with names built from params or results already substituted,
//! for every TaskRun of a PipelineRun (finally tasks, retries and matrix fan-outs included)
//! as it starts. The masker is the one of the executor's progress sink (the run's): a sink
//! without one (`adze controller`, which writes statuses unmasked as Tekton does) reads
//! nothing.
//!
//! Each Secret is read once per executor, in the namespace the run uses, after the loaded
//! Secrets were created there; a loaded Secret is read back too, since a Secret of that name
//! that was already in the namespace is the one the Pod gets. The Secret the executor creates
//! for the TaskRun's credentials is left out: it does not exist yet and holds values of
//! loaded Secrets, which are masked already.
//!
//! # Invariants
//!
//! - Reading never fails the TaskRun: a Secret that is absent or forbidden gets a warning
//!   naming it (once per run), and the kubelet reports the Pod's own failure if it needs it.
//!   Such a Secret is read again for a later Pod, as an earlier task may have created it.
//! - Warnings name Secrets and keys, never a value.

use std::collections::BTreeSet;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{PodSpec, Secret};
use kube::Api;

use super::connect::Cluster;
use crate::mask::collect::{add_values, cluster_secret_values, pod_secret_names};
use crate::mask::Masker;

/// Which cluster Secrets a run's masker already has, and which were warned about.
#[derive(Debug, Default)]
pub struct ClusterSecrets {
    read: Mutex<BTreeSet<String>>,
    warned: Mutex<BTreeSet<String>>,
}

impl ClusterSecrets {
    /// Reads the Secrets `pod` references (except `own`, the TaskRun's credentials) that
    /// the masker does not have yet, and adds their values to `masker`. Returns the
    /// warnings to show: Secrets that could not be read, values too short to mask.
    pub async fn learn(
        &self,
        cluster: &Cluster,
        pod: &PodSpec,
        own: Option<&str>,
        masker: &Masker,
    ) -> Vec<String> {
        let wanted: Vec<String> = {
            let read = self.read.lock().unwrap_or_else(|p| p.into_inner());
            pod_secret_names(pod)
                .into_iter()
                .filter(|n| Some(n.as_str()) != own && !read.contains(n))
                .collect()
        };
        let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
        let mut warnings = Vec::new();
        for name in wanted {
            match super::executor::with_retries(|| api.get(&name)).await {
                Ok(secret) => {
                    self.read
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(name);
                    warnings.extend(add_values(masker, cluster_secret_values(&secret)));
                }
                Err(e) => {
                    let first = self
                        .warned
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(name.clone());
                    if first {
                        warnings.push(unreadable(&name, &cluster.namespace, &e));
                    }
                }
            }
        }
        warnings
    }
}

/// The warning for a Secret that could not be read.
fn unreadable(name: &str, namespace: &str, error: &kube::Error) -> String {
    let why = match error {
        kube::Error::Api(s) if s.code == 404 => "it does not exist".to_owned(),
        kube::Error::Api(s) if s.code == 403 => "forbidden to the kubeconfig's user".to_owned(),
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    };
    format!(
        "cannot read Secret \"{name}\" in namespace \"{namespace}\" ({why}): its values \
         cannot be masked"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: u16, reason: &str) -> kube::Error {
        kube::Error::Api(kube::core::ErrorResponse {
            status: "Failure".to_owned(),
            message: format!("secrets \"db\" is {reason}"),
            reason: reason.to_owned(),
            code,
        })
    }

    #[test]
    fn an_unreadable_secret_is_named_with_why() {
        let warnings = [
            unreadable("db", "ci", &refused(404, "NotFound")),
            unreadable("db", "ci", &refused(403, "Forbidden")),
            unreadable("db", "ci", &refused(422, "Invalid")),
        ];
        insta::assert_snapshot!(warnings.join("\n"));
    }
}
