//! The kubelet: runs each Pod bound to this node as Docker containers, in Kubernetes order,
//! and writes what it observes back as the Pod's status.
//!
//! # Not yet
//!
//! - Everything: [`PodHost`] and [`Kubelet`] are the interface the API server is written against.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::{ConfigMap, Pod, PodStatus, Secret};

/// The API server as the kubelet sees it: the objects a Pod refers to, and where its status goes.
pub trait PodHost: Send + Sync + 'static {
    /// The ConfigMap `namespace/name`, if it exists.
    fn config_map(&self, namespace: &str, name: &str) -> Option<ConfigMap>;
    /// The Secret `namespace/name`, if it exists.
    fn secret(&self, namespace: &str, name: &str) -> Option<Secret>;
    /// The host directory that backs PersistentVolumeClaim `namespace/claim`, if it exists.
    fn claim_dir(&self, namespace: &str, claim: &str) -> Option<PathBuf>;
    /// Replaces the status of Pod `namespace/name` (ignored when the Pod is gone).
    fn set_pod_status(&self, namespace: &str, name: &str, status: PodStatus);
}

/// Which part of a container's log to read (`pods/log` query parameters).
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// The container; `None` means the Pod's only container (an error when it has several).
    pub container: Option<String>,
    /// Keep streaming until the container exits.
    pub follow: bool,
    /// Only the last N lines.
    pub tail_lines: Option<i64>,
    /// Prefix each line with its RFC 3339 timestamp.
    pub timestamps: bool,
    /// The previous instance of the container (no restarts here: always empty).
    pub previous: bool,
}

/// Why the kubelet could not do what the API server asked.
#[derive(Debug, thiserror::Error)]
pub enum KubeletError {
    /// No such Pod runs here.
    #[error("pod {namespace}/{name} is not running on this node")]
    NoPod {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// The Pod has no container of that name (or several and none was named).
    #[error("{0}")]
    Container(String),
    /// The Docker engine failed.
    #[error("docker: {0}")]
    Docker(#[from] bollard::errors::Error),
}

/// Runs Pods in Docker. Cheap to clone; every clone drives the same set of Pods.
#[derive(Clone)]
pub struct Kubelet {
    _private: (),
}

/// A stream of log bytes.
pub type LogStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Vec<u8>, KubeletError>> + Send>>;

impl Kubelet {
    /// A kubelet on `docker`; containers are labelled with `instance` so that [`Kubelet::shutdown`]
    /// (and a later kube-sim) can find them; `state_dir` holds emptyDirs and projected files.
    pub fn new(
        docker: bollard::Docker,
        host: std::sync::Arc<dyn PodHost>,
        instance: String,
        state_dir: PathBuf,
    ) -> Kubelet {
        let _ = (docker, host, instance, state_dir);
        Kubelet { _private: () }
    }

    /// Starts running `pod` (already created and bound by the API server); returns at once.
    pub fn start_pod(&self, pod: Pod) {
        let _ = pod;
        unimplemented!("kubelet: start_pod")
    }

    /// Stops the Pod's containers (SIGTERM, SIGKILL after `grace`) and removes them.
    pub async fn delete_pod(
        &self,
        namespace: &str,
        name: &str,
        grace: std::time::Duration,
    ) -> Result<(), KubeletError> {
        let _ = (namespace, name, grace);
        unimplemented!("kubelet: delete_pod")
    }

    /// A container's log.
    pub async fn logs(
        &self,
        namespace: &str,
        pod: &str,
        options: LogOptions,
    ) -> Result<LogStream, KubeletError> {
        let _ = (namespace, pod, options);
        unimplemented!("kubelet: logs")
    }

    /// Removes every container this kubelet started.
    pub async fn shutdown(&self) {
        unimplemented!("kubelet: shutdown")
    }
}
