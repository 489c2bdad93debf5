//! One Pod's life, in Kubernetes' order: volumes, the sandbox, init containers one by one
//! (native sidecars started and left running), the regular containers together, then the
//! sidecars stopped; `activeDeadlineSeconds` cuts it short.
//!
//! # Design
//!
//! A [`Worker`] is one task per Pod. Everything it learns goes through its [`Book`], which
//! publishes each change; cancelling it (`delete_pod`) drops the task, and the engine's labels
//! (not the worker's memory) say which containers to remove.
//!
//! Beside the containers the worker runs their probes ([`probes`]) and, for a Pod with
//! downward-API files, follows its labels and annotations; all of it ends with the Pod's life.
//!
//! What Kubernetes retries, this retries too, while the Pod stays Pending: a missing
//! ConfigMap, Secret or claim (every second), an image that cannot be pulled (`ErrImagePull`,
//! then `ImagePullBackOff` with a growing back-off up to 10 s), a container configuration
//! that cannot be built yet (`CreateContainerConfigError`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, RemoveContainerOptions,
};
use bollard::Docker;
use futures_util::future::join_all;
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Container, Pod};
use tokio::task::JoinHandle;

use super::container::{self, Inputs};
use super::naming::PodIdentity;
use super::replace::Replacements;
use super::sandbox::{self, Sandbox};
use super::status::{engine_time, now, Book, State, Which};
use super::volumes::{self, PodVolumes, VolumeError};
use super::{env, images, probes, removal, security, start_error, termination, PodHost};

/// The message of a Pod stopped by `activeDeadlineSeconds`, as the kubelet words it.
pub const DEADLINE_MESSAGE: &str = "Pod was active on the node longer than the specified deadline";

/// The longest wait between two attempts at something that keeps a Pod Pending.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Runs one Pod.
pub(super) struct Worker {
    /// The engine.
    pub docker: Docker,
    /// The API server.
    pub host: Arc<dyn PodHost>,
    /// The Pod as created.
    pub pod: Pod,
    /// Its names and labels.
    pub identity: PodIdentity,
    /// Its state directory (volumes, termination messages).
    pub dir: PathBuf,
    /// Its status.
    pub book: Arc<Book>,
    /// The sandbox holder's image.
    pub sandbox_image: String,
    /// The containers' probes running, stopped with the worker.
    pub probers: std::sync::Mutex<Vec<JoinHandle<()>>>,
    /// New images for running regular containers (a Pod update), see `replace.rs`.
    pub replacements: Arc<Replacements>,
}

/// The Pod's `terminationGracePeriodSeconds` (30 when unset).
pub(super) fn grace_of(pod: &Pod) -> Duration {
    let seconds = pod
        .spec
        .as_ref()
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30);
    Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

impl Drop for Worker {
    fn drop(&mut self) {
        let probers = self.probers.get_mut().unwrap_or_else(|p| p.into_inner());
        for prober in probers.drain(..) {
            prober.abort();
        }
    }
}

/// Tasks aborted when the Pod's worker is dropped (cancelled).
#[derive(Default)]
struct Watchers(Vec<JoinHandle<()>>);

impl Drop for Watchers {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

/// What every container of a started Pod shares.
struct Started {
    volumes: PodVolumes,
    sandbox: Sandbox,
}

impl Worker {
    fn spec_containers(&self) -> (Vec<Container>, Vec<Container>) {
        let spec = self.pod.spec.clone().unwrap_or_default();
        (spec.init_containers.unwrap_or_default(), spec.containers)
    }

    fn grace(&self) -> Duration {
        grace_of(&self.pod)
    }

    /// Runs the Pod to its end, or until its deadline.
    pub async fn run(self: Arc<Self>) {
        self.book.edit(|_| {});
        let deadline = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.active_deadline_seconds)
            .map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0)));
        let life = self.clone().live();
        match deadline {
            None => life.await,
            Some(deadline) => {
                tokio::select! {
                    () = life => {}
                    () = tokio::time::sleep(deadline) => self.deadline_exceeded().await,
                }
            }
        }
        for prober in self
            .probers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            prober.abort();
        }
        // A finished Pod's sandbox is stopped, as the kubelet kills it; its containers stay
        // (and their logs readable) until the Pod is deleted.
        if let Ok(ids) = removal::labelled(&self.docker, self.identity.sandbox_filter()).await {
            removal::stop_all(&self.docker, &ids, Duration::ZERO).await;
        }
    }

    async fn live(self: Arc<Self>) {
        let volumes = self.volumes().await;
        let sandbox = self.sandbox().await;
        self.book
            .edit(|r| r.addresses = Some(sandbox.addresses.clone()));
        let started = Arc::new(Started { volumes, sandbox });
        let (init, main) = self.spec_containers();
        let mut sidecars = Vec::new();
        let mut watchers = Watchers::default();
        // Never awaited (it does not end): aborted when the Pod's life ends.
        let mut metadata = Watchers::default();
        if volumes::has_downward(&self.pod) {
            let worker = self.clone();
            metadata
                .0
                .push(tokio::spawn(async move { worker.follow_metadata().await }));
        }
        for (i, c) in init.iter().enumerate() {
            let which = Which::Init(i);
            if c.restart_policy.as_deref() == Some("Always") {
                let Some(id) = self.start(which, c, &started).await else {
                    // Kubernetes would restart it and start nothing after it meanwhile; with
                    // no restarts the Pod stays Pending, its StartError in the status.
                    self.stop_sidecars(&sidecars, watchers).await;
                    return;
                };
                let (worker, c, watched) = (self.clone(), c.clone(), id.clone());
                watchers.0.push(tokio::spawn(async move {
                    worker.finish(which, &c, &watched).await;
                }));
                sidecars.push(id);
            } else if self.run_to_end(which, c, &started).await != 0 {
                self.stop_sidecars(&sidecars, watchers).await;
                return;
            }
        }
        join_all(
            main.iter()
                .enumerate()
                .map(|(i, c)| self.run_replaceable(i, c, &started)),
        )
        .await;
        self.stop_sidecars(&sidecars, watchers).await;
    }

    /// Rewrites the downward-API files whenever the Pod's labels or annotations change, for
    /// as long as the Pod runs (every half second, as the API server is asked).
    async fn follow_metadata(&self) {
        let labels_and_annotations =
            |p: &Pod| (p.metadata.labels.clone(), p.metadata.annotations.clone());
        let mut seen = labels_and_annotations(&self.pod);
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let Some(now) = self.host.pod(&self.identity.namespace, &self.identity.name) else {
                continue;
            };
            if now.metadata.uid.as_deref() != Some(self.identity.uid.as_str()) {
                continue;
            }
            let current = labels_and_annotations(&now);
            if current != seen && volumes::refresh_downward(&now, &self.dir.join("volumes")).is_ok()
            {
                seen = current;
            }
        }
    }

    /// Stops the sidecars, last started first, and waits until their exits are recorded.
    async fn stop_sidecars(&self, ids: &[String], mut watchers: Watchers) {
        for id in ids.iter().rev() {
            removal::stop_all(&self.docker, std::slice::from_ref(id), self.grace()).await;
        }
        for handle in std::mem::take(&mut watchers.0) {
            let _ = handle.await;
        }
    }

    /// Prepares the volumes, retrying while something they refer to is missing.
    async fn volumes(&self) -> PodVolumes {
        let root = self.dir.join("volumes");
        loop {
            match volumes::prepare(&self.pod, &root, self.host.as_ref()) {
                Ok(v) => {
                    self.book.edit(|r| {
                        r.unschedulable = None;
                        r.waiting_message(None);
                    });
                    return v;
                }
                Err(VolumeError::Unschedulable(m)) => self.book.edit(|r| r.unschedulable = Some(m)),
                Err(VolumeError::Mount(m)) => self.book.edit(|r| {
                    r.unschedulable = None;
                    r.waiting_message(Some(m));
                }),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Starts the sandbox, retrying (with the reason in the containers' waiting message).
    async fn sandbox(&self) -> Sandbox {
        let mut backoff = Duration::from_secs(1);
        loop {
            let started =
                match images::ensure(&self.docker, &self.sandbox_image, Some("IfNotPresent")).await
                {
                    Ok(_) => {
                        sandbox::start(&self.docker, &self.pod, &self.identity, &self.sandbox_image)
                            .await
                    }
                    Err(f) => Err(format!(
                        "Failed to create pod sandbox: the sandbox image: {}",
                        f.message
                    )),
                };
            match started {
                Ok(sandbox) => {
                    self.book.edit(|r| r.waiting_message(None));
                    return sandbox;
                }
                Err(message) => self.book.edit(|r| r.waiting_message(Some(message))),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn wait(&self, which: Which, reason: &str, message: Option<String>) {
        self.book.edit(|r| {
            if let Some(slot) = r.slot(which) {
                slot.state = State::Waiting {
                    reason: reason.to_owned(),
                    message,
                };
            }
        });
    }

    /// Creates and starts the container, retrying what Kubernetes retries; `None` when it
    /// could not start (recorded as terminated with `StartError`).
    async fn start(&self, which: Which, c: &Container, started: &Started) -> Option<String> {
        let mut backoff = Duration::from_secs(1);
        let image_name = c.image.clone().unwrap_or_default();
        let termination_file = termination::host_file(&self.dir, &c.name);
        let mut first = true;
        loop {
            if !first {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            first = false;
            let image =
                match images::ensure(&self.docker, &image_name, c.image_pull_policy.as_deref())
                    .await
                {
                    Ok(image) => image,
                    Err(failure) => {
                        self.wait(which, failure.reason, Some(failure.message.clone()));
                        if failure.reason == "ErrImagePull" {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            self.wait(
                                which,
                                "ImagePullBackOff",
                                Some(format!(
                                    "Back-off pulling image \"{image_name}\": ErrImagePull: {}",
                                    failure.message
                                )),
                            );
                        }
                        continue;
                    }
                };
            let spec = self.pod.spec.as_ref();
            let configured =
                env::resolve(&self.pod, c, &started.sandbox.addresses, self.host.as_ref())
                    .and_then(|env| {
                        let confinement = security::confine(
                            spec.and_then(|s| s.security_context.as_ref()),
                            c,
                            &image.user,
                            &self.identity.describe(),
                        )?;
                        termination::prepare(&termination_file).map_err(|e| {
                            format!("cannot create the termination-message file: {e}")
                        })?;
                        container::config(&Inputs {
                            container: c,
                            identity: &self.identity,
                            image: &image,
                            env: &env,
                            confinement: &confinement,
                            volumes: &started.volumes,
                            sandbox: &started.sandbox,
                            termination_file: &termination_file,
                        })
                    });
            let config = match configured {
                Ok(config) => config,
                Err(message) => {
                    self.wait(which, "CreateContainerConfigError", Some(message));
                    continue;
                }
            };
            let name = self.identity.container_name(&c.name);
            // What an earlier attempt created under this name.
            let _ = self
                .docker
                .remove_container(
                    &name,
                    Some(RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    }),
                )
                .await;
            let options = CreateContainerOptions {
                name: Some(name),
                ..Default::default()
            };
            let id = match self.docker.create_container(Some(options), config).await {
                Ok(created) => created.id,
                Err(e) => {
                    self.wait(which, "CreateContainerError", Some(e.to_string()));
                    continue;
                }
            };
            self.book.edit(|r| {
                if let Some(slot) = r.slot(which) {
                    slot.container_id = Some(id.clone());
                    slot.image_id.clone_from(&image.status_id);
                }
            });
            let state = match self.docker.start_container(&id, None).await {
                Ok(()) => {
                    let inspected = self
                        .docker
                        .inspect_container(&id, None::<InspectContainerOptions>)
                        .await
                        .ok();
                    let started_at = inspected
                        .and_then(|i| i.state?.started_at)
                        .and_then(|t| engine_time(&t))
                        .unwrap_or_else(now);
                    State::Running { started_at }
                }
                Err(e) => State::Terminated {
                    exit_code: 128,
                    reason: "StartError".into(),
                    message: Some(e.to_string()),
                    started_at: None,
                    finished_at: now(),
                },
            };
            let running = matches!(state, State::Running { .. });
            self.book.edit(|r| {
                if let Some(slot) = r.slot(which) {
                    slot.state = state;
                    slot.starting = running && c.startup_probe.is_some();
                }
            });
            if !running {
                return None;
            }
            let pod_ip = started.sandbox.addresses.pod_ip.clone();
            // An init container (a native sidecar) holds the Pod until its startup probe
            // passes; a regular container is probed beside the others.
            if matches!(which, Which::Init(_)) && c.startup_probe.is_some() {
                if !probes::until_started(&self.docker, c, &id, &pod_ip).await {
                    removal::stop_all(&self.docker, std::slice::from_ref(&id), self.grace()).await;
                    self.finish(which, c, &id).await;
                    return None;
                }
                self.book.edit(|r| {
                    if let Some(slot) = r.slot(which) {
                        slot.starting = false;
                    }
                });
            }
            let probing = self.probe(which, c.clone(), id.clone(), pod_ip);
            self.probers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(tokio::spawn(probing));
            return Some(id);
        }
    }

    /// The probes of a started container: the startup probe, if not passed yet (a failure
    /// stops the container: nothing is restarted), then the readiness probe.
    fn probe(
        &self,
        which: Which,
        c: Container,
        id: String,
        pod_ip: String,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (docker, book, grace) = (self.docker.clone(), self.book.clone(), self.grace());
        let starting = self
            .book
            .read(|r| r.slot_ref(which).is_some_and(|s| s.starting));
        async move {
            if starting {
                if !probes::until_started(&docker, &c, &id, &pod_ip).await {
                    removal::stop_all(&docker, std::slice::from_ref(&id), grace).await;
                    return;
                }
                book.edit(|r| {
                    if let Some(slot) = r.slot(which) {
                        slot.starting = false;
                    }
                });
            }
            let report = move |ready| {
                book.edit(|r| {
                    if let Some(slot) = r.slot(which) {
                        slot.probed = Some(ready);
                    }
                });
            };
            probes::watch_readiness(docker, c, id, pod_ip, report).await;
        }
    }

    /// Starts the container and waits for its exit; its exit code (128 if it never ran).
    async fn run_to_end(&self, which: Which, c: &Container, started: &Started) -> i32 {
        match self.start(which, c, started).await {
            Some(id) => self.finish(which, c, &id).await,
            None => 128,
        }
    }

    /// Runs regular container `index` to its end, starting it again from a new image each
    /// time a Pod update replaced its image while it ran; the last exit code.
    async fn run_replaceable(&self, index: usize, c: &Container, started: &Started) -> i32 {
        let which = Which::Main(index);
        let mut c = c.clone();
        loop {
            let code = self.run_to_end(which, &c, started).await;
            let Some(image) = self.replacements.take(&c.name) else {
                return code;
            };
            c.image = Some(image.clone());
            self.book.edit(|r| {
                if let Some(slot) = r.slot(which) {
                    slot.image = image;
                    slot.restarts += 1;
                    slot.container_id = None;
                    slot.image_id.clear();
                    slot.state = State::Waiting {
                        reason: "ContainerCreating".into(),
                        message: None,
                    };
                }
            });
        }
    }

    /// Whether the engine flags the container as OOM-killed within a second of its exit.
    ///
    /// Docker learns of an OOM kill from a containerd event separate from the exit, and on a
    /// loaded machine it can arrive after the exit, so an inspect right after the wait may
    /// not show the flag yet (seen in CI: exit 137 with `OOMKilled: false`).
    async fn late_oom_flag(&self, id: &str) -> bool {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let inspected = self
                .docker
                .inspect_container(id, None::<InspectContainerOptions>)
                .await;
            match inspected {
                Ok(i) if i.state.as_ref().and_then(|s| s.oom_killed) == Some(true) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    /// Waits for the container to exit and records how; its exit code.
    async fn finish(&self, which: Which, c: &Container, id: &str) -> i32 {
        // The wait answers when the container exits (a non-zero code is an `Err` in bollard);
        // a broken connection falls back to polling the container's state.
        let _ = self.docker.wait_container(id, None).next().await;
        let state = loop {
            match self
                .docker
                .inspect_container(id, None::<InspectContainerOptions>)
                .await
            {
                Ok(i) => {
                    let state = i.state.unwrap_or_default();
                    if state.running != Some(true) {
                        break Some(state);
                    }
                }
                Err(_) => break None,
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let state = state.unwrap_or_default();
        let exit_code = i32::try_from(state.exit_code.unwrap_or(137)).unwrap_or(1);
        if let Some(message) = start_error::start_error(&self.docker, id, exit_code).await {
            self.book.edit(|r| {
                if let Some(slot) = r.slot(which) {
                    slot.state = State::Terminated {
                        exit_code: 128,
                        reason: "StartError".into(),
                        message: Some(message),
                        started_at: None,
                        finished_at: now(),
                    };
                }
            });
            return 128;
        }
        let oom_killed = state.oom_killed == Some(true)
            || (exit_code == 137
                && super::resources::limits(c).0.is_some()
                && self.late_oom_flag(id).await);
        let reason = if oom_killed {
            "OOMKilled"
        } else if exit_code == 0 {
            "Completed"
        } else {
            "Error"
        };
        let containers = self.pod.spec.as_ref().map_or(1, |s| {
            s.containers.len() + s.init_containers.as_ref().map_or(0, Vec::len)
        });
        let message = termination::read(
            &self.docker,
            id,
            &termination::host_file(&self.dir, &c.name),
            termination::budget(containers),
            c.termination_message_policy.as_deref() == Some("FallbackToLogsOnError"),
            exit_code,
        )
        .await;
        let started_at = state.started_at.as_deref().and_then(engine_time);
        let finished_at = state
            .finished_at
            .as_deref()
            .and_then(engine_time)
            .unwrap_or_else(now);
        self.book.edit(|r| {
            if let Some(slot) = r.slot(which) {
                slot.state = State::Terminated {
                    exit_code,
                    reason: reason.to_owned(),
                    message,
                    started_at,
                    finished_at,
                };
            }
        });
        exit_code
    }

    /// `activeDeadlineSeconds` passed: the Pod fails and every container is stopped.
    async fn deadline_exceeded(&self) {
        self.book
            .edit(|r| r.failure = Some(("DeadlineExceeded".into(), DEADLINE_MESSAGE.into())));
        if let Ok(ids) = removal::labelled(&self.docker, self.identity.filter()).await {
            removal::stop_all(&self.docker, &ids, self.grace()).await;
        }
        let (init, main) = self.spec_containers();
        let running: Vec<(Which, Container, String)> = self.book.read(|r| {
            let pick = |which: Which, slot: &super::status::Slot, c: &Container| match (
                &slot.state,
                &slot.container_id,
            ) {
                (State::Running { .. }, Some(id)) => Some((which, c.clone(), id.clone())),
                _ => None,
            };
            let init = r
                .init
                .iter()
                .zip(&init)
                .enumerate()
                .filter_map(|(i, (s, c))| pick(Which::Init(i), s, c));
            let main = r
                .main
                .iter()
                .zip(&main)
                .enumerate()
                .filter_map(|(i, (s, c))| pick(Which::Main(i), s, c));
            init.chain(main).collect()
        });
        join_all(
            running
                .iter()
                .map(|(which, c, id)| self.finish(*which, c, id)),
        )
        .await;
    }
}
