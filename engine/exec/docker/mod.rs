//! An [`Executor`] that runs each TaskRun as a pod-like group of containers on a local Docker
//! engine (or Podman through its Docker-compatible socket).
//!
//! # Why
//!
//! `adze run` needs to execute real steps without a cluster. The Docker Engine API (spoken
//! by Docker and Podman) is the most widely available container runtime on a developer
//! machine; it is driven through `bollard`, so no `docker` binary is needed at run time, and
//! `DOCKER_HOST` chooses the engine.
//!
//! # How
//!
//! The executor owns a small multi-threaded tokio runtime. [`Executor::start`] spawns one
//! task per TaskRun and returns at once, so TaskRuns of a pipeline run side by side; each
//! task reports its [`ExecEvent`] on a channel that [`Executor::poll`] drains and
//! [`Executor::wait`] blocks on. [`Executor::cancel`] signals the TaskRun's task, which stops
//! its running container (SIGTERM, then SIGKILL after a grace period, or at once once
//! [`DockerExecutor::force_handle`] was triggered) and reports `Cancelled`.
//!
//! What one TaskRun does is in [`task_run`]; its step containers are all created and started
//! at once and ordered by the static step entrypoint in [`steps_at_once`] (one by one, as
//! before, when the entrypoint is not installed or a step would be refused; where the
//! binary is found in [`entrypoint_binary`]); how a step becomes a container in
//! [`container`]; log streaming in [`logs`]; `stdoutConfig`/`stderrConfig` files, written
//! by the entrypoint when steps start at once and otherwise from the host through the step's
//! mounts, in [`output_files`]; task and step results in
//! [`results`]; the
//! network holder and sidecars, and why the holder runs the TaskRun's own images, in
//! [`sidecars`]; image checks and pulls in [`images`], reference parsing and `imageID` in
//! [`image_ref`], naming what a registry served for a refused digest in [`served_digest`],
//! the Docker CLI's registry logins every pull sends in [`registry_auth`];
//! listing and removing what earlier invocations left (every container carries its owner's
//! labels, [`crate::run::ownership`]) in [`leftovers`]; retries of engine calls that failed on
//! the way (and creates and starts that must not happen twice) in [`retry`]. A daemon that
//! stops or restarts while a step runs is told apart from the step's own exit, waited for
//! (`--engine-grace`), and reported as
//! [`ExecOutcome::EngineLost`](crate::run::ExecOutcome::EngineLost) in [`engine_loss`].
//! Breakpoints (`--break-on-failure`, `--break-before`) open a shell in a container
//! that sees what the step saw, in [`breakpoint`].
//! Workspaces arrive resolved
//! ([`WorkspaceMount`](crate::run::WorkspaceMount)): directories are bind-mounted, ConfigMap
//! and Secret files are written into the TaskRun's directory and mounted read-only.
//!
//! Files written into the TaskRun's directory (scripts, ConfigMap and Secret items, exit
//! codes) go through [`host_file`](crate::run::host_file), so a failure names the file; one
//! that fails for lack of space is carried in
//! [`TaskRunReport::out_of_space`](crate::run::TaskRunReport::out_of_space), a fault of the
//! host rather than of the steps.
//!
//! # Not yet
//!
//! - Naming the digest an HTTPS registry served when the engine refuses it (plain HTTP
//!   only); what [`registry_auth`] lists under its own "Not yet".
//! - Sidecar `ports`, and step-level isolation of the network (everything shares the
//!   holder's namespace).
//! - Step results are reported as strings whatever their declared type; the ~12 KiB limit
//!   on the sum of all termination messages.
//! - `valueFrom.fieldRef`/`resourceFieldRef`: their plan placeholders are passed as-is
//!   (ConfigMap/Secret references are resolved by the driver).
//! - Volumes other than `emptyDir`, `configMap`, `secret`, `projected` and `hostPath`
//!   (refused by the driver).
//! - A `runAsGroup` without `runAsUser` (Docker cannot change only the group of the image's
//!   user).
//! - Faults: what [`engine_loss`] and [`retry`] list under their own "Not yet".
//!
//! # Pod settings
//!
//! [`PodSettings`](crate::run::PodSettings) (from `podTemplate`): `fsGroup` and
//! `supplementalGroups` become every container's `GroupAdd`, and the TaskRun's directory is
//! group-owned by `fsGroup` (set-group-ID directories); `hostAliases` and `dnsConfig` are
//! set on the container that owns the network namespace (the holder when there are sidecars
//! or steps start at once, else each step), since containers joining it share its
//! `/etc/hosts` and `resolv.conf`. `hostNetwork: true` puts that owner, and so every
//! container, on the host's network namespace: a step reaches a server listening on the
//! host's `127.0.0.1`, and sidecars' ports are the host's (two such TaskRuns contend for them,
//! as two such Pods on one node do).

mod breakpoint;
mod container;
mod engine_loss;
// Unused until the concurrent start is adopted (next step of issue 8, point 4).
#[allow(dead_code)]
mod entrypoint_binary;
pub(crate) mod image_ref;
mod images;
mod leftovers;
mod logs;
mod non_root;
mod output_files;
mod pod;
mod readiness;
pub mod registry_auth;
pub(crate) mod results;
mod retry;
mod served_digest;
mod sidecars;
mod steps_at_once;
mod task_run;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use bollard::errors::Error as DockerError;
use bollard::Docker;
use tokio::runtime::Runtime;
use tokio::sync::watch;

use crate::reconcile::Timestamp;
use crate::run::{ExecError, ExecEvent, Executor, ProgressSink, TaskRunRequest};
pub use images::PullPolicy;
pub use leftovers::Removal;
use task_run::{Stop, TaskRunJob};

/// The label put on every container adze creates; its value is the TaskRun's name. Beside
/// it, every container names its owner ([`crate::run::ownership`]).
pub const RUN_LABEL: &str = crate::run::leftovers::RUN_NAME_LABEL;

/// The label naming the step a container runs.
pub const STEP_LABEL: &str = "adze.dev/step";

/// How to get a Docker engine running, appended to every "unavailable" message.
pub const HOW_TO_START: &str = "start one: on Debian/Ubuntu `bash scripts/install-prerequisites.sh` \
     (installs docker.io and starts dockerd), or `sudo systemctl start docker`; for Podman, \
     `systemctl --user start podman.socket` and set DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock";

/// How the executor behaves; the defaults suit `adze run`.
#[derive(Debug, Clone)]
pub struct DockerOptions {
    /// Where progress and log lines go.
    pub progress: ProgressSink,
    /// Stream every container's output as [`Progress::Log`](crate::run::Progress::Log) lines.
    pub logs: bool,
    /// Leave containers and directories behind for debugging.
    pub keep: bool,
    /// How long a cancelled container gets between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// Fail a TaskRun whose result exceeds Tekton's 4096-byte limit
    /// (`TaskRunResultLargerThanAllowedLimit`) instead of only warning, so what passes
    /// locally also fits on a cluster.
    pub strict: bool,
    /// When images are pulled (`--pull`).
    pub pull: PullPolicy,
    /// How many TaskRuns may run at once (`--parallel`); `None`: no limit. Others wait
    /// for a slot before their first container is created.
    pub parallel: Option<usize>,
    /// How long a step waits for the engine to answer again once it stopped answering
    /// (`--engine-grace`); see [`engine_loss`].
    pub engine_grace: Duration,
    /// Where the run stops to open a shell (`--break-on-failure`, `--break-before`); see
    /// [`breakpoint`].
    pub breakpoints: Option<Arc<crate::run::breakpoints::Breakpoints>>,
    /// The Docker CLI's registry logins every pull sends; see [`registry_auth`].
    pub registry_auth: Arc<registry_auth::RegistryAuth>,
}

impl Default for DockerOptions {
    fn default() -> DockerOptions {
        DockerOptions {
            progress: ProgressSink::none(),
            logs: false,
            keep: false,
            grace: Duration::from_secs(10),
            strict: false,
            pull: PullPolicy::Missing,
            parallel: None,
            engine_grace: Duration::from_secs(10),
            breakpoints: None,
            registry_auth: Arc::new(registry_auth::RegistryAuth::from_environment()),
        }
    }
}

/// Makes every cancelled container be killed at once instead of after the grace period.
#[derive(Debug, Clone, Default)]
pub struct ForceHandle(Arc<AtomicBool>);

impl ForceHandle {
    /// From now on, cancels kill without waiting.
    pub fn force(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once [`ForceHandle::force`] was called.
    pub fn is_forced(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs TaskRuns as containers on the local Docker engine; see the module documentation.
pub struct DockerExecutor {
    /// The runtime the TaskRun tasks run on (the trait is synchronous).
    runtime: Runtime,
    /// The connected client.
    docker: Docker,
    options: DockerOptions,
    force: ForceHandle,
    /// Finished TaskRuns' events, sent by their tasks.
    events: mpsc::Receiver<ExecEvent>,
    sender: mpsc::Sender<ExecEvent>,
    /// Events received by `wait` and not yet returned by `poll`.
    buffered: Vec<ExecEvent>,
    /// The stop signal of every TaskRun started, by name.
    stops: HashMap<String, watch::Sender<Option<Stop>>>,
    /// TaskRuns whose event was not yet received.
    running: HashSet<String>,
    /// `--parallel` slots, shared by every TaskRun job.
    slots: Option<Arc<tokio::sync::Semaphore>>,
}

impl std::fmt::Debug for DockerExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerExecutor")
            .field("options", &self.options)
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

impl DockerExecutor {
    /// Connects to the local engine (`DOCKER_HOST` or the default socket) with default options.
    pub fn new() -> Result<DockerExecutor, ExecError> {
        DockerExecutor::with_options(DockerOptions::default())
    }

    /// Connects to the local engine and checks it answers.
    pub fn with_options(options: DockerOptions) -> Result<DockerExecutor, ExecError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("adze-docker")
            .enable_all()
            .build()
            .map_err(|e| ExecError::Unavailable(format!("cannot start the async runtime: {e}")))?;
        let docker = runtime.block_on(async {
            let docker = Docker::connect_with_defaults().map_err(unavailable)?;
            let docker = retry::idempotent(|| docker.clone().negotiate_version())
                .await
                .map_err(unavailable)?;
            retry::idempotent(|| docker.ping())
                .await
                .map_err(unavailable)?;
            Ok::<Docker, ExecError>(docker)
        })?;
        let (sender, events) = mpsc::channel();
        let slots = options
            .parallel
            .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1))));
        Ok(DockerExecutor {
            runtime,
            docker,
            options,
            force: ForceHandle::default(),
            events,
            sender,
            buffered: Vec::new(),
            stops: HashMap::new(),
            running: HashSet::new(),
            slots,
        })
    }

    /// A handle that makes cancels kill at once; safe to trigger from a signal handler thread.
    pub fn force_handle(&self) -> ForceHandle {
        self.force.clone()
    }

    /// The runtime, for callers that need to run async work beside the TaskRuns (signals).
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }
}

impl Executor for DockerExecutor {
    fn start(&mut self, request: &TaskRunRequest) -> Result<(), ExecError> {
        if self.stops.contains_key(&request.name) {
            return Err(ExecError::Start {
                task_run: request.name.clone(),
                message: "already started".into(),
            });
        }
        let (stop_tx, stop_rx) = watch::channel(None);
        self.stops.insert(request.name.clone(), stop_tx);
        self.running.insert(request.name.clone());
        let job = TaskRunJob {
            docker: self.docker.clone(),
            request: request.clone(),
            options: self.options.clone(),
            force: self.force.clone(),
            stop: stop_rx,
            slots: self.slots.clone(),
            images: HashMap::new(),
            out_of_space: std::sync::OnceLock::new(),
            failed_container: None,
        };
        let sender = self.sender.clone();
        self.runtime.spawn(async move {
            let event = job.run().await;
            // The executor may be gone (the run ended); nobody is left to tell.
            let _ = sender.send(event);
        });
        Ok(())
    }

    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError> {
        if let Some(stop) = self.stops.get(name) {
            stop.send_if_modified(|s| {
                if s.is_some() {
                    return false;
                }
                *s = Some(Stop::Cancel(message.to_owned()));
                true
            });
        }
        Ok(())
    }

    fn poll(&mut self, _now: Timestamp) -> Vec<ExecEvent> {
        let mut events = std::mem::take(&mut self.buffered);
        events.extend(self.events.try_iter());
        for e in &events {
            self.running.remove(&e.task_run);
            // A finished TaskRun may be started again: a retry reuses its name.
            self.stops.remove(&e.task_run);
        }
        events
    }

    fn wait(&mut self, timeout: Duration) -> bool {
        if self.buffered.is_empty() && !self.running.is_empty() {
            if let Ok(event) = self.events.recv_timeout(timeout) {
                self.buffered.push(event);
            }
        } else if self.running.is_empty() {
            std::thread::sleep(timeout);
        }
        true
    }
}

impl Drop for DockerExecutor {
    fn drop(&mut self) {
        // TaskRuns still running when the run ends (an error, a second Ctrl-C) are stopped
        // and their containers removed before the process exits.
        if self.running.is_empty() {
            return;
        }
        self.force.force();
        for stop in self.stops.values() {
            let _ = stop.send(Some(Stop::Cancel(String::new())));
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while !self.running.is_empty() && std::time::Instant::now() < deadline {
            if let Ok(event) = self.events.recv_timeout(Duration::from_millis(100)) {
                self.running.remove(&event.task_run);
            }
        }
    }
}

/// The Docker engine could not be reached.
pub(crate) fn unavailable(e: DockerError) -> ExecError {
    ExecError::Unavailable(format!(
        "cannot reach the Docker engine ({e}); {HOW_TO_START}; {ASK_DOCTOR}"
    ))
}

/// Where to look when no engine answers: `adze doctor` says which check fails and its fix.
pub const ASK_DOCTOR: &str =
    "`adze doctor` checks the engine (socket, permissions, version, disk) and says what to fix";
