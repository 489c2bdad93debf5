//! The kubelet: runs each Pod bound to this node as Docker containers, in Kubernetes order,
//! and writes what it observes back as the Pod's status.
//!
//! # Design
//!
//! - A Pod is a sandbox ([`sandbox`]: one holder container owning the network and IPC
//!   namespaces) and its containers, all joined to it, named and labelled as dockershim did
//!   ([`naming`]). One worker task per Pod drives it ([`lifecycle`]): volumes ([`volumes`]),
//!   the sandbox, init containers one by one, native sidecars, then the containers together.
//! - A container is built from its spec in [`container`]: the image ([`images`]), the
//!   environment ([`env`], [`expansion`], [`downward`], [`objects`]), the security context
//!   ([`security`]), limits ([`resources`], [`quantity`]) and the termination-message file
//!   ([`termination`]); once running, its startup probe decides when it counts as started (a
//!   native sidecar holds the Pod until then) and its readiness probe its `ready`
//!   ([`probes`]); a command that could not be executed is told apart ([`start_error`]).
//! - Downward-API files follow the Pod's labels and annotations while it runs, read through
//!   [`PodHost::pod`] (Tekton releases its first step that way).
//! - The status is derived, never assembled ad hoc: [`status`] keeps one slot per container
//!   and computes the phase and conditions by Kubernetes' rules, publishing every change
//!   through [`PodHost::set_pod_status`].
//! - Without an engine ([`Kubelet::noop`], `kube-sim --kubelet noop`) Pods complete at once
//!   through the same [`Book`] ([`noop`]), for measuring controllers without Docker's cost.
//! - The engine's labels are the truth about what exists: [`Kubelet::delete_pod`] and
//!   [`Kubelet::shutdown`] remove what carries the Pod's uid or the instance ([`removal`]).
//!
//! # Invariants
//!
//! - `restartPolicy` is treated as `Never` (what Tekton uses): nothing is restarted, but a
//!   running container whose image a Pod update changed is started again from the new image,
//!   as a kubelet does ([`Kubelet::update_pod`], `replace.rs`; how Tekton stops sidecars
//!   without native sidecar support), `restartCount` then counting it. Containers of finished Pods are kept until the Pod is deleted.
//! - After [`Kubelet::delete_pod`] returns, that Pod's status is never written again.
//! - No Pod spec makes the kubelet panic; what it cannot do keeps the Pod Pending with a
//!   message, or fails it, as Kubernetes would.
//! - [`PodHost::set_pod_status`] is called with an internal lock held: it must not call back
//!   into the [`Kubelet`].
//!
//! # Not yet
//!
//! - Liveness and `grpc` probes (startup and readiness probes run, see [`probes`]);
//!   `lifecycle` hooks.
//! - Restarts (`restartPolicy: Always/OnFailure`, a sidecar that exits is not restarted).
//! - Pulling a present image again (`imagePullPolicy: Always` acts as `IfNotPresent`, see
//!   [`images`]), registry credentials (`imagePullSecrets`).
//! - Resource requests, `ephemeralContainers`, `overhead`, in-place resize, Events; see
//!   [`volumes`], [`env`] and [`probes`] for theirs.

mod container;
mod downward;
mod env;
mod expansion;
mod images;
mod lifecycle;
mod logs;
pub mod naming;
mod noop;
mod objects;
mod probes;
mod quantity;
mod removal;
mod replace;
mod resources;
mod sandbox;
mod security;
mod service_account;
mod start_error;
mod status;
mod termination;
mod volumes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use k8s_openapi::api::core::v1::{ConfigMap, Pod, PodStatus, Secret, ServiceAccount};
use tokio::task::JoinHandle;

pub use lifecycle::DEADLINE_MESSAGE;
pub use sandbox::DEFAULT_IMAGE as DEFAULT_SANDBOX_IMAGE;
pub use service_account::MOUNT_PATH as SERVICE_ACCOUNT_MOUNT_PATH;
pub use volumes::PLACEHOLDER_TOKEN;

use naming::PodIdentity;
use status::{Book, State};

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
    /// The Pod `namespace/name` as stored now, so that `downwardAPI` files follow its labels
    /// and annotations (Tekton's `tekton.dev/ready`); `None`, the default, leaves them as
    /// they were written when the Pod started.
    fn pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        let _ = (namespace, name);
        None
    }
    /// The ServiceAccount `namespace/name`, if it exists; `None`, the default, also when the
    /// host issues no tokens (then nothing is mounted for it).
    fn service_account(&self, namespace: &str, name: &str) -> Option<ServiceAccount> {
        let _ = (namespace, name);
        None
    }
    /// A token for `pod`'s ServiceAccount, bound to the Pod, as the kubelet gets one through
    /// the TokenRequest API: `Ok(None)`, the default, when the host issues no tokens (a
    /// `serviceAccountToken` projection then holds [`PLACEHOLDER_TOKEN`]); `Err` with the
    /// API server's refusal.
    fn service_account_token(
        &self,
        pod: &Pod,
        audience: Option<&str>,
        expiration_seconds: i64,
    ) -> Result<Option<String>, String> {
        let _ = (pod, audience, expiration_seconds);
        Ok(None)
    }
    /// Where a Pod's containers reach the API server (on the host's network, or not), and
    /// the CA that signs its certificate; `None`, the default, when they cannot.
    fn api_endpoint(&self, host_network: bool) -> Option<ApiEndpoint> {
        let _ = host_network;
        None
    }
}

/// The API server as a Pod's containers reach it (`KUBERNETES_SERVICE_HOST`/`_PORT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiEndpoint {
    /// The address (an IP).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The PEM CA certificate clients verify the server with (`ca.crt`).
    pub ca_pem: String,
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

/// One Pod this kubelet runs.
struct Running {
    identity: PodIdentity,
    book: Arc<Book>,
    replacements: Arc<replace::Replacements>,
    /// `terminationGracePeriodSeconds`: how long a replaced container gets to stop.
    grace: std::time::Duration,
    task: JoinHandle<()>,
    dir: PathBuf,
}

struct Shared {
    /// The client as given; [`Shared::engine`] negotiates its API version once. `None`: the
    /// no-op runner, Pods complete without containers.
    docker: Option<bollard::Docker>,
    /// The client speaking the engine's API version (Docker 20.10 refuses bollard's default).
    negotiated: tokio::sync::OnceCell<bollard::Docker>,
    host: Arc<dyn PodHost>,
    instance: String,
    state_dir: PathBuf,
    sandbox_image: Mutex<String>,
    pods: Mutex<HashMap<(String, String), Running>>,
    /// The runtime Pod workers run on, when `new` was called inside one.
    runtime: Option<tokio::runtime::Handle>,
}

/// Runs Pods in Docker. Cheap to clone; every clone drives the same set of Pods.
#[derive(Clone)]
pub struct Kubelet {
    shared: Arc<Shared>,
}

/// A stream of log bytes.
pub type LogStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Vec<u8>, KubeletError>> + Send>>;

impl Shared {
    /// The runtime Pod work runs on: the one `new` was called in, else the current one.
    fn runtime(&self) -> Option<tokio::runtime::Handle> {
        self.runtime
            .clone()
            .or_else(|| tokio::runtime::Handle::try_current().ok())
    }

    /// The engine client at the engine's API version (`None` for the no-op runner); a failed
    /// negotiation is tried again next time (the engine may be starting).
    async fn engine(&self) -> Option<bollard::Docker> {
        let docker = self.docker.as_ref()?;
        let negotiated = self
            .negotiated
            .get_or_try_init(|| docker.clone().negotiate_version())
            .await;
        Some(match negotiated {
            Ok(docker) => docker.clone(),
            Err(_) => docker.clone(),
        })
    }
}

/// Distinguishes the uids made up for Pods created without one.
static MADE_UP_UIDS: AtomicU64 = AtomicU64::new(0);

impl Kubelet {
    /// A kubelet on `docker`; containers are labelled with `instance` so that [`Kubelet::shutdown`]
    /// (and a later kube-sim) can find them; `state_dir` holds emptyDirs and projected files.
    pub fn new(
        docker: bollard::Docker,
        host: std::sync::Arc<dyn PodHost>,
        instance: String,
        state_dir: PathBuf,
    ) -> Kubelet {
        Kubelet::with_engine(Some(docker), host, instance, state_dir)
    }

    /// A kubelet without an engine: every Pod completes at once, each container exiting 0
    /// (see [`noop`]).
    pub fn noop(host: Arc<dyn PodHost>, instance: String, state_dir: PathBuf) -> Kubelet {
        Kubelet::with_engine(None, host, instance, state_dir)
    }

    fn with_engine(
        docker: Option<bollard::Docker>,
        host: Arc<dyn PodHost>,
        instance: String,
        state_dir: PathBuf,
    ) -> Kubelet {
        Kubelet {
            shared: Arc::new(Shared {
                docker,
                negotiated: tokio::sync::OnceCell::new(),
                host,
                instance,
                state_dir,
                sandbox_image: Mutex::new(sandbox::DEFAULT_IMAGE.to_owned()),
                pods: Mutex::new(HashMap::new()),
                runtime: tokio::runtime::Handle::try_current().ok(),
            }),
        }
    }

    /// Runs every later Pod's sandbox holder from `image` (it must be present and have
    /// `sleep`); the default is [`DEFAULT_SANDBOX_IMAGE`].
    pub fn set_sandbox_image(&self, image: &str) {
        *lock(&self.shared.sandbox_image) = image.to_owned();
    }

    /// The label selector (`key=value`) every container of this kubelet carries.
    pub fn instance_label(&self) -> String {
        format!("{}={}", naming::INSTANCE_LABEL, self.shared.instance)
    }

    /// Starts running `pod` (already created and bound by the API server); returns at once.
    /// Called again for a Pod already running with the same uid, it does nothing.
    pub fn start_pod(&self, pod: Pod) {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let uid = pod
            .metadata
            .uid
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| {
                format!(
                    "kube-sim-{}-{}",
                    std::process::id(),
                    MADE_UP_UIDS.fetch_add(1, Ordering::Relaxed)
                )
            });
        let identity = PodIdentity {
            instance: self.shared.instance.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
            uid: uid.clone(),
        };
        let key = (namespace, name);
        let mut pods = lock(&self.shared.pods);
        if let Some(existing) = pods.get(&key) {
            if existing.identity.uid == uid {
                return;
            }
        }
        let Some(runtime) = self.shared.runtime() else {
            eprintln!(
                "kube-sim kubelet: no async runtime to run pod {}/{} on",
                key.0, key.1
            );
            return;
        };
        if let Some(replaced) = pods.remove(&key) {
            let kubelet = self.clone();
            runtime.spawn(async move { kubelet.stop(replaced, std::time::Duration::ZERO).await });
        }
        let dir = self.shared.state_dir.join("pods").join(&uid);
        let book = Arc::new(Book::new(self.shared.host.clone(), &pod));
        let replacements = Arc::new(replace::Replacements::default());
        let grace = lifecycle::grace_of(&pod);
        let worker_replacements = replacements.clone();
        let shared = self.shared.clone();
        let (worker_identity, worker_dir, worker_book) =
            (identity.clone(), dir.clone(), book.clone());
        let sandbox_image = lock(&self.shared.sandbox_image).clone();
        let task = runtime.spawn(async move {
            let Some(docker) = shared.engine().await else {
                return noop::run(worker_book).await;
            };
            let worker = Arc::new(lifecycle::Worker {
                docker,
                host: shared.host.clone(),
                pod,
                identity: worker_identity,
                dir: worker_dir,
                book: worker_book,
                sandbox_image,
                probers: Mutex::new(Vec::new()),
                replacements: worker_replacements,
            });
            worker.run().await;
        });
        pods.insert(
            key,
            Running {
                identity,
                book,
                replacements,
                grace,
                task,
                dir,
            },
        );
    }

    /// Acts on an update of a Pod this kubelet runs: each running regular container whose
    /// image changed is killed and started again from the new image (`replace.rs`); returns
    /// at once. Other changes (labels, annotations) are read where they matter.
    pub fn update_pod(&self, pod: &Pod) {
        let key = (
            pod.metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            pod.metadata.name.clone().unwrap_or_default(),
        );
        let (ids, grace) = {
            let pods = lock(&self.shared.pods);
            let Some(running) = pods.get(&key) else {
                return;
            };
            if pod.metadata.uid.as_deref() != Some(running.identity.uid.as_str()) {
                return;
            }
            (
                replace::changed(pod, &running.book, &running.replacements),
                running.grace,
            )
        };
        if ids.is_empty() {
            return;
        }
        let Some(runtime) = self.shared.runtime() else {
            return;
        };
        let shared = self.shared.clone();
        runtime.spawn(async move {
            if let Some(docker) = shared.engine().await {
                removal::stop_all(&docker, &ids, grace).await;
            }
        });
    }

    /// Silences, cancels and removes one Pod: its containers (SIGTERM, SIGKILL after
    /// `grace`) and its state directory.
    async fn stop(&self, pod: Running, grace: std::time::Duration) -> Result<(), KubeletError> {
        pod.book.mark_deleted();
        pod.task.abort();
        let _ = pod.task.await;
        if let Some(docker) = &self.shared.engine().await {
            removal::stop_and_remove(docker, pod.identity.filter(), grace).await?;
            // A create the cancelled worker had in flight may land after the first sweep.
            removal::stop_and_remove(docker, pod.identity.filter(), std::time::Duration::ZERO)
                .await?;
        }
        let _ = std::fs::remove_dir_all(&pod.dir);
        Ok(())
    }

    /// Stops the Pod's containers (SIGTERM, SIGKILL after `grace`) and removes them.
    pub async fn delete_pod(
        &self,
        namespace: &str,
        name: &str,
        grace: std::time::Duration,
    ) -> Result<(), KubeletError> {
        let running = lock(&self.shared.pods).remove(&(namespace.to_owned(), name.to_owned()));
        let Some(running) = running else {
            return Err(KubeletError::NoPod {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            });
        };
        self.stop(running, grace).await
    }

    /// A container's log.
    pub async fn logs(
        &self,
        namespace: &str,
        pod: &str,
        options: LogOptions,
    ) -> Result<LogStream, KubeletError> {
        let book = lock(&self.shared.pods)
            .get(&(namespace.to_owned(), pod.to_owned()))
            .map(|r| r.book.clone())
            .ok_or_else(|| KubeletError::NoPod {
                namespace: namespace.to_owned(),
                name: pod.to_owned(),
            })?;
        let noop = self.shared.docker.is_none();
        let found = book.read(|r| {
            let name = match &options.container {
                Some(name) => name.clone(),
                None if r.main.len() == 1 => r.main[0].name.clone(),
                None => {
                    let names = |slots: &[status::Slot]| {
                        slots
                            .iter()
                            .map(|s| s.name.clone())
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    let mut message = format!(
                        "a container name must be specified for pod {pod}, choose one of: [{}]",
                        names(&r.main)
                    );
                    if !r.init.is_empty() {
                        message.push_str(&format!(
                            " or one of the init containers: [{}]",
                            names(&r.init)
                        ));
                    }
                    return Err(message);
                }
            };
            let slot = r
                .main
                .iter()
                .chain(&r.init)
                .find(|s| s.name == name)
                .ok_or_else(|| format!("container {name} is not valid for pod {pod}"))?;
            if options.previous {
                return Err(format!(
                    "previous terminated container \"{name}\" in pod \"{pod}\" not found"
                ));
            }
            match (&slot.container_id, &slot.state) {
                (Some(id), State::Running { .. } | State::Terminated { .. }) => {
                    Ok(Some(id.clone()))
                }
                // The no-op runner's containers ran nothing, so said nothing.
                (None, State::Running { .. } | State::Terminated { .. }) if noop => Ok(None),
                (_, State::Waiting { reason, .. }) => Err(format!(
                    "container \"{name}\" in pod \"{pod}\" is waiting to start: {reason}"
                )),
                (None, _) => Err(format!(
                    "container \"{name}\" in pod \"{pod}\" is waiting to start"
                )),
            }
        });
        let id = found.map_err(KubeletError::Container)?;
        match (self.shared.engine().await, id) {
            (Some(docker), Some(id)) => Ok(logs::stream(&docker, &id, &options)),
            _ => Ok(Box::pin(futures_util::stream::empty())),
        }
    }

    /// Removes every container this kubelet started.
    pub async fn shutdown(&self) {
        let pods: Vec<Running> = lock(&self.shared.pods).drain().map(|(_, r)| r).collect();
        for pod in &pods {
            pod.book.mark_deleted();
            pod.task.abort();
        }
        for pod in pods {
            let _ = pod.task.await;
            let _ = std::fs::remove_dir_all(&pod.dir);
        }
        let Some(docker) = &self.shared.engine().await else {
            return;
        };
        let label = vec![self.instance_label()];
        for _ in 0..2 {
            if let Ok(ids) = removal::labelled(docker, label.clone()).await {
                let _ = removal::remove_all(docker, &ids).await;
            }
        }
    }
}

/// Locks `mutex`, whether or not a panic elsewhere poisoned it (the data stays usable).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
