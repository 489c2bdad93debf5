//! The boundary between the driver and whatever runs containers: one trait, plain messages.

use std::path::PathBuf;
use std::time::Duration;

use crate::api::run::PodTemplate;
use crate::api::task::TaskResult;
use crate::api::{GoDuration, Param, ParamValue, WorkspaceBinding};
use crate::plan::model::StepPlan;
use crate::reconcile::task_run::{StepState, TaskRunCondition, TaskRunReason};
use crate::reconcile::ConditionStatus;
use crate::reconcile::{OnError, Timestamp};

/// A fully resolved TaskRun to start; executors never interpret `$(...)` in it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskRunRequest {
    /// The TaskRun's name (`<pipelinerun>-<pipeline task>`), the key of every later message.
    pub name: String,
    /// The pipeline task it runs.
    pub pipeline_task: String,
    /// In a pipeline in a pipeline: the pipeline tasks that run the PipelineRuns it is
    /// nested in, outermost first; empty otherwise.
    pub parent_tasks: Vec<String>,
    /// True for a finally task.
    pub finally: bool,
    /// Parameter values after defaults and pipeline-level substitution (results included).
    pub params: Vec<Param>,
    /// The steps exactly as they run.
    pub steps: Vec<StepPlan>,
    /// The sidecars exactly as they run.
    pub sidecars: Vec<StepPlan>,
    /// The TaskRun's own timeout (`None`: no limit); the executor enforces it.
    pub timeout: Option<GoDuration>,
    /// The bound workspaces, mounted into every step and sidecar (unbound optional ones absent).
    pub workspaces: Vec<WorkspaceMount>,
    /// The Task's declared results, which type what the steps write (§4.5).
    pub results: Vec<TaskResult>,
    /// The Task's `volumes`, mounted where steps and sidecars say (`volumeMounts`).
    pub volumes: Vec<TaskVolume>,
    /// Credential files from the service account's Secrets, relative to `$HOME`.
    pub credentials: Vec<(String, Vec<u8>)>,
    /// The PipelineTask's `onError`: with `continue` a failed TaskRun's reason is
    /// `FailureIgnored` (Tekton's `pipeline.tekton.dev/pipeline-task-on-error` annotation).
    pub on_error: OnError,
    /// The pod-level settings of the effective `podTemplate` that containers honour.
    pub pod: PodSettings,
    /// The TaskRun as a cluster sees it: what a Kubernetes executor needs and the local one
    /// ignores (the local one gets host paths and file contents in the fields above instead).
    pub cluster: ClusterSources,
}

/// The sources of a TaskRun as the API server knows them: workspace bindings and volumes as
/// written, the whole effective `podTemplate`, and the objects it belongs to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterSources {
    /// The bound workspaces with their Kubernetes sources, in the Task's declaration order
    /// (unbound optional ones absent).
    pub workspaces: Vec<ClusterWorkspace>,
    /// The Task's `volumes` merged with the `podTemplate`'s, as written.
    pub volumes: Vec<k8s_openapi::api::core::v1::Volume>,
    /// The effective `podTemplate` (its `env` and `runAsUser`/`runAsGroup` are already in
    /// the steps).
    pub pod_template: PodTemplate,
    /// The `serviceAccountName` the run names; `None` when it names none (Tekton's
    /// `default`), which keeps the API token out of the Pod.
    pub service_account_name: Option<String>,
    /// The PipelineRun the TaskRun belongs to; `None` for a standalone TaskRun.
    pub pipeline_run: Option<RunIdentity>,
    /// The Task's name when the TaskRun references one (`taskRef`), for `tekton.dev/task`.
    pub task: Option<String>,
    /// A remote `taskRef` (resolver and params, substituted), which a child TaskRun object
    /// carries as Tekton writes it; its reconcile fetches the Task again (from the cache).
    pub task_ref: Option<crate::api::TaskRef>,
    /// An embedded Task (`taskSpec`) with the pipeline's substitutions made and its own
    /// `$(params…)` left, as a child TaskRun object carries it (`adze controller`).
    pub task_spec: Option<crate::api::TaskSpec>,
    /// The PipelineRun's params an embedded Task sees without declaring them (propagation),
    /// which a child TaskRun object carries as params of its own.
    pub propagated: Vec<Param>,
    /// The pipeline task's `retries`, which a child TaskRun object carries as its own.
    pub retries: u32,
    /// The PipelineRun's `taskRunSpecs[].stepSpecs` for this pipeline task (already applied
    /// to [`TaskRunRequest::steps`]), which a child TaskRun object carries as its own.
    pub step_specs: Vec<crate::api::run::ContainerSpecOverride>,
    /// Likewise `sidecarSpecs`.
    pub sidecar_specs: Vec<crate::api::run::ContainerSpecOverride>,
}

/// A run object's identity: its name, and its uid when it exists on a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunIdentity {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`, when known.
    pub uid: Option<String>,
}

/// One bound workspace of a TaskRun with the Kubernetes source that backs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterWorkspace {
    /// The Task's workspace name.
    pub name: String,
    /// The run's binding it resolves to: the PipelineRun's (or standalone TaskRun's) own
    /// binding, with its name and exactly one source.
    pub binding: WorkspaceBinding,
    /// Where it appears in the containers (the declaration's `mountPath` or `/workspace/<name>`).
    pub mount_path: String,
    /// The PipelineRun's and pipeline task's `subPath`s joined, substituted.
    pub sub_path: Option<String>,
    /// The declaration's `readOnly`.
    pub read_only: bool,
}

/// What the executor applies from a TaskRun's effective `podTemplate` (`env`, `volumes` and
/// `runAsUser`/`runAsGroup` are already in the steps, sidecars and [`TaskRunRequest::volumes`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodSettings {
    /// `securityContext.fsGroup`: owns the TaskRun's volumes and joins every container's groups.
    pub fs_group: Option<i64>,
    /// `securityContext.supplementalGroups`: further groups of every container's process.
    pub supplemental_groups: Vec<i64>,
    /// `hostAliases`: `(hostname, ip)` lines added to every container's `/etc/hosts`.
    pub host_aliases: Vec<(String, String)>,
    /// The nameservers, search domains and options of `dnsConfig` (per `dnsPolicy`).
    pub dns: DnsSettings,
    /// `hostNetwork`: every container shares the host's network namespace.
    pub host_network: bool,
}

/// The resolver configuration every container of a TaskRun gets; empty fields keep the engine's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsSettings {
    /// Nameserver addresses (Docker `Dns`).
    pub nameservers: Vec<String>,
    /// Search domains (Docker `DnsSearch`).
    pub searches: Vec<String>,
    /// Resolver options, `name` or `name:value` (Docker `DnsOptions`).
    pub options: Vec<String>,
}

impl DnsSettings {
    /// True when nothing changes the engine's resolver configuration.
    pub fn is_empty(&self) -> bool {
        self.nameservers.is_empty() && self.searches.is_empty() && self.options.is_empty()
    }
}

/// One of the Task's `volumes`, resolved to what the executor creates for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskVolume {
    /// The volume's name, as steps' `volumeMounts` refer to it.
    pub name: String,
    /// What it holds.
    pub source: VolumeSource,
}

/// What a Task volume holds when the TaskRun starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSource {
    /// An empty directory, private to the TaskRun.
    EmptyDir,
    /// Files (`(relative path, bytes)`) from a ConfigMap or Secret, read-only.
    Files(Vec<(String, Vec<u8>)>),
    /// A path of this host, bind-mounted as is (`hostPath`).
    HostPath {
        /// The host path.
        path: PathBuf,
        /// What must be there before the containers start (`hostPath.type`).
        kind: HostPathKind,
    },
}

/// `hostPath.type`: what the path must be, and what is created when it is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostPathKind {
    /// `""`: no check; a missing path is created as a directory, as the container runtime does.
    #[default]
    Unchecked,
    /// A directory, created (0755) when missing.
    DirectoryOrCreate,
    /// An existing directory.
    Directory,
    /// A file, created empty (0644) when missing; its parent directory must exist.
    FileOrCreate,
    /// An existing file.
    File,
    /// An existing UNIX socket.
    Socket,
    /// An existing character device.
    CharDevice,
    /// An existing block device.
    BlockDevice,
}

impl HostPathKind {
    /// The kind Kubernetes names `value`, if any.
    pub fn parse(value: &str) -> Option<HostPathKind> {
        Some(match value {
            "" => HostPathKind::Unchecked,
            "DirectoryOrCreate" => HostPathKind::DirectoryOrCreate,
            "Directory" => HostPathKind::Directory,
            "FileOrCreate" => HostPathKind::FileOrCreate,
            "File" => HostPathKind::File,
            "Socket" => HostPathKind::Socket,
            "CharDevice" => HostPathKind::CharDevice,
            "BlockDevice" => HostPathKind::BlockDevice,
            _ => return None,
        })
    }
}

/// One bound workspace of a TaskRun, resolved to something on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceMount {
    /// The Task's workspace name.
    pub name: String,
    /// What backs it.
    pub source: WorkspaceSource,
    /// Where it appears in the containers (the declaration's `mountPath` or `/workspace/<name>`).
    pub mount_path: String,
    /// The sub-directory of the source that is mounted; it exists when the request is made.
    pub sub_path: Option<String>,
    /// Mount read-only (declared `readOnly`, and always for ConfigMap/Secret files).
    pub read_only: bool,
}

/// What backs a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkspaceSource {
    /// A host directory: the run's shared directory for `emptyDir`/claims, or the user's own.
    Dir(PathBuf),
    /// Files to materialize (a ConfigMap's or Secret's items): relative path and content.
    Files(Vec<(String, Vec<u8>)>),
}

/// How a TaskRun finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutcome {
    /// Every step succeeded.
    Succeeded,
    /// A step failed, or the TaskRun timed out.
    Failed {
        /// The TaskRun's condition reason (`Failed`, `TaskRunTimeout`, …).
        reason: String,
        /// The TaskRun's condition message.
        message: String,
    },
    /// The TaskRun stopped because it was cancelled.
    Cancelled,
    /// The container engine (or API server) stopped answering while the TaskRun ran: an
    /// infrastructure fault, never the steps' doing. The status shows it as a failure with
    /// `reason`; the driver starts nothing more and the CLI exits 3.
    EngineLost {
        /// The TaskRun's condition reason (`PodEvicted` for the Docker executor).
        reason: String,
        /// The TaskRun's condition message, naming the cause.
        message: String,
    },
}

impl ExecOutcome {
    /// What a TaskRun's final `Succeeded` condition (as `evaluate` decides it) stands for.
    pub fn of_condition(condition: &TaskRunCondition) -> ExecOutcome {
        match (condition.status, condition.reason) {
            (ConditionStatus::True, _) => ExecOutcome::Succeeded,
            (_, TaskRunReason::TaskRunCancelled) => ExecOutcome::Cancelled,
            (_, reason) => ExecOutcome::Failed {
                reason: reason.as_str().to_owned(),
                message: condition.message.clone(),
            },
        }
    }
}

/// A child PipelineRun for an executor that runs it elsewhere
/// ([`Executor::start_pipeline_run`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ChildPipelineRun {
    /// The run as its driver would run it: name, namespace, params, workspaces (named as the
    /// child's Pipeline names them), timeouts, and its `pipelineRef` or `pipelineSpec`.
    pub run: crate::api::PipelineRun,
    /// The pipeline task it runs.
    pub pipeline_task: String,
    /// For each of its workspaces, the parent's binding it maps to (as the parent wrote it):
    /// a `volumeClaimTemplate` of the parent must become the parent's claim.
    pub parent_bindings: Vec<(String, WorkspaceBinding)>,
}

/// A TaskRun finished, with the results it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecEvent {
    /// The TaskRun's name, as given in [`TaskRunRequest::name`].
    pub task_run: String,
    /// How it finished.
    pub outcome: ExecOutcome,
    /// The results it emitted, failed runs included (Tekton keeps them).
    pub results: Vec<(String, ParamValue)>,
    /// What the executor observed, for the TaskRun's status.
    pub report: TaskRunReport,
}

/// The observed facts of a finished TaskRun that go into its `status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskRunReport {
    /// The TaskRun's `Succeeded` condition message (the cancel message included).
    pub message: String,
    /// `status.podName`: the sandbox's name.
    pub pod_name: String,
    /// When the first container started (or the TaskRun was created, if none did).
    pub start_time: Option<Timestamp>,
    /// When the TaskRun finished.
    pub completion_time: Option<Timestamp>,
    /// `status.steps`, in spec order.
    pub steps: Vec<StepReport>,
    /// `status.sidecars`, in spec order.
    pub sidecars: Vec<StepReport>,
    /// The TaskRun's artifacts (`$(artifacts.path)`): `{inputs, outputs}` as the steps wrote
    /// them, when they wrote any.
    pub artifacts: Option<serde_json::Value>,
    /// Set when adze could not write its own files for this TaskRun because the host's disk
    /// is full: the error, naming the file. A fault of the host, not of the steps: `adze run`
    /// exits 3.
    pub out_of_space: Option<String>,
}

/// One entry of `status.steps` or `status.sidecars`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The container state with Tekton's overrides.
    pub state: StepState,
    /// `imageID`: the image the container ran, `repo@sha256:…` as the kubelet reports it, or
    /// the engine's `sha256:…` id for an image without a repository digest.
    pub image_id: String,
    /// Step results (`status.steps[].results`), in emission order.
    pub results: Vec<(String, ParamValue)>,
}

/// Why an executor could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The TaskRun could not be created.
    #[error("cannot start TaskRun \"{task_run}\": {message}")]
    Start {
        /// The TaskRun.
        task_run: String,
        /// What went wrong.
        message: String,
    },
    /// The TaskRun could not be cancelled.
    #[error("cannot cancel TaskRun \"{task_run}\": {message}")]
    Cancel {
        /// The TaskRun.
        task_run: String,
        /// What went wrong.
        message: String,
    },
    /// The container engine or API server is unreachable.
    #[error("executor unavailable: {0}")]
    Unavailable(String),
}

/// Runs TaskRuns: the only code that touches containers or an API server.
///
/// Calls are synchronous and must return promptly; progress is observed through [`poll`].
///
/// [`poll`]: Executor::poll
pub trait Executor {
    /// Creates the TaskRun; it finishes later, reported by [`Executor::poll`].
    fn start(&mut self, task_run: &TaskRunRequest) -> Result<(), ExecError>;
    /// Asks a running TaskRun to stop, with the `statusMessage` to record; idempotent.
    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError>;
    /// The TaskRuns that finished since the last call, each reported once.
    fn poll(&mut self, now: Timestamp) -> Vec<ExecEvent>;
    /// Creates a child PipelineRun (pipelines in pipelines) that something else runs (`adze
    /// controller`: an object its PipelineRun side reconciles); it finishes later as an
    /// [`ExecEvent`] named after it, whose results are its pipeline results, and is
    /// cancelled with [`Executor::cancel`]. `None` when this executor does not, and the
    /// driver runs the child in its own loop.
    fn start_pipeline_run(&mut self, child: &ChildPipelineRun) -> Option<Result<(), ExecError>> {
        let _ = child;
        None
    }
    /// Blocks until something may have finished, or `timeout` passed.
    ///
    /// Returns false without waiting when the executor cannot wait (the driver then sleeps on
    /// its [`Clock`](super::Clock) instead, which is what lets tests run on a fake clock).
    fn wait(&mut self, timeout: Duration) -> bool {
        let _ = timeout;
        false
    }
}
