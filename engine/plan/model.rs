//! What a plan says: the resolved run, ready to render as text, YAML, JSON or a graph.

use serde::Serialize;

use crate::api::ParamValue;

/// A resolved TaskRun or PipelineRun.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// `TaskRun` or `PipelineRun`.
    pub kind: String,
    /// The run's name (generated names end in `-xxxxx`).
    pub name: String,
    /// The Pipeline or Task that runs (`(embedded)` for inline specs).
    pub target: String,
    /// Parameter values after defaults.
    pub params: Vec<NamedValue>,
    /// Workspace bindings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspacePlan>,
    /// Timeouts in Go form.
    pub timeouts: TimeoutsPlan,
    /// Tasks that can run in parallel, level by level (DAG tasks).
    pub levels: Vec<Vec<String>>,
    /// DAG tasks in level order.
    pub tasks: Vec<TaskPlan>,
    /// Finally tasks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub finally: Vec<TaskPlan>,
    /// Pipeline results with placeholders for task results.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<NamedValue>,
}

/// A name and a value.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NamedValue {
    /// Name.
    pub name: String,
    /// Value.
    pub value: ParamValue,
    /// Where the value came from (`run`, `default`, `--param`), when that matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// How a workspace is bound.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkspacePlan {
    /// Workspace name.
    pub name: String,
    /// `emptyDir`, `volumeClaimTemplate`, `configMap cm`, `dir /path`, `unbound (optional)`, ….
    pub binding: String,
    /// Sub-directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
}

/// Timeouts of the run.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TimeoutsPlan {
    /// Whole run (or the TaskRun's timeout).
    pub pipeline: String,
    /// DAG tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<String>,
    /// Finally tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finally: Option<String>,
}

/// What is known about a task before anything runs.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TaskPlan {
    /// PipelineTask name (the run's name for a TaskRun).
    pub name: String,
    /// The TaskRun name it would get.
    pub task_run: String,
    /// Referenced Task name or `(embedded)`.
    pub task: String,
    /// Execution level (0 = starts first); finally tasks share one level after the DAG.
    pub level: usize,
    /// Tasks it waits for, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Dependency>,
    /// `run`, `skip` or `conditional`.
    pub decision: Decision,
    /// Skip reason (Tekton's wording) or the condition decided at run time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When-expressions after substitution.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<WhenPlan>,
    /// Parameter values after substitution (results as `<task.result>`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<NamedValue>,
    /// Matrix fan-out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix: Option<MatrixPlan>,
    /// TaskRun timeout.
    pub timeout: String,
    /// Extra attempts.
    #[serde(skip_serializing_if = "is_zero")]
    pub retries: i64,
    /// `continue` when failures are ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_error: Option<String>,
    /// Workspace bindings (`task-ws <- pipeline-ws[/subPath]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspacePlan>,
    /// Declared results.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<String>,
    /// Sidecars, resolved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<StepPlan>,
    /// Steps, resolved.
    pub steps: Vec<StepPlan>,
    /// For a PipelineTask that runs a Pipeline (alpha): the child PipelineRun's plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child: Option<Box<Plan>>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A dependency edge.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dependency {
    /// The task waited for.
    pub task: String,
    /// `runAfter`, `result`, `when`, `matrix`.
    pub via: Vec<String>,
}

/// Whether a task would run.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Runs once its parents are done.
    Run,
    /// Skipped, whatever happens.
    Skip,
    /// Decided at run time (when-expressions on results, finally on statuses).
    Conditional,
}

/// A when-expression after substitution.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhenPlan {
    /// Input, operator and values, or the CEL text.
    pub expression: String,
    /// `Some(true|false)` when decided statically.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<bool>,
}

/// Matrix fan-out.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MatrixPlan {
    /// One entry per TaskRun: its params, sorted by name.
    pub combinations: Vec<Vec<NamedValue>>,
    /// Set when the fan-out depends on results and is only known at run time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at_run_time: Option<String>,
}

/// A step or sidecar after StepAction, stepTemplate and substitution.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct StepPlan {
    /// Name (`unnamed-<i>` when unnamed).
    pub name: String,
    /// Image.
    pub image: String,
    /// Command (the script path when `script` is used).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Arguments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// The script as the container runs it (shell preamble added when there is no `#!`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// Working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Environment (`valueFrom` shown as `<from secret s/k>`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvPlan>,
    /// Step timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `continue` or `stopAndFail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_error: Option<String>,
    /// Step results.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<String>,
    /// `stdoutConfig.path`: the file the step's standard output is also written to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout_path: Option<String>,
    /// `stderrConfig.path`: the file its standard error is also written to (the same file as
    /// `stdout_path` gets both streams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_path: Option<String>,
    /// Where it came from when a StepAction was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_action: Option<String>,
    /// Values a run reads from ConfigMaps/Secrets (`valueFrom`, `envFrom`); plans show
    /// placeholders in `env` instead.
    #[serde(skip)]
    pub env_sources: Vec<EnvSource>,
    /// `env[].valueFrom.fieldRef`/`resourceFieldRef` as written, by variable: the kubelet
    /// fills them on a cluster ([`StepPlan::env`] holds a placeholder).
    #[serde(skip)]
    pub downward_env: Vec<(String, k8s_openapi::api::core::v1::EnvVarSource)>,
    /// `securityContext.runAsUser`: the uid the container runs as (not shown in plans).
    #[serde(skip)]
    pub run_as_user: Option<i64>,
    /// `securityContext.runAsGroup`: the gid the container runs as (not shown in plans).
    #[serde(skip)]
    pub run_as_group: Option<i64>,
    /// `securityContext.privileged`.
    #[serde(skip)]
    pub privileged: bool,
    /// The step's `when` guard, substituted except for `$(steps.…)` results, which the
    /// executor fills in when the step starts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<crate::api::WhenExpression>,
    /// `imagePullPolicy` (`Always`, `IfNotPresent`, `Never`), after stepTemplate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    /// The securityContext fields and limits the engine enforces (not shown in plans).
    #[serde(skip)]
    pub confinement: crate::plan::confinement::Confinement,
    /// Isolated workspaces this container lists (`workspaces`): name and its own mount path.
    #[serde(skip)]
    pub isolated_workspaces: Vec<(String, Option<String>)>,
    /// The Task volumes this step mounts (`volumeMounts`), substituted.
    #[serde(skip)]
    pub volume_mounts: Vec<VolumeMountPlan>,
    /// A sidecar's `readinessProbe`, which holds the first step (not shown in plans).
    #[serde(skip)]
    pub readiness_probe: Option<k8s_openapi::api::core::v1::Probe>,
    /// A sidecar's `startupProbe`, used when it has no readiness probe (not shown in plans).
    #[serde(skip)]
    pub startup_probe: Option<k8s_openapi::api::core::v1::Probe>,
    /// `securityContext` as written, for a Kubernetes container (not shown in plans).
    #[serde(skip)]
    pub security_context: Option<k8s_openapi::api::core::v1::SecurityContext>,
    /// `computeResources` after `stepSpecs`/`sidecarSpecs`, for a Kubernetes container (not
    /// shown in plans; [`StepPlan::confinement`] holds the limits Docker enforces).
    #[serde(skip)]
    pub compute_resources: Option<k8s_openapi::api::core::v1::ResourceRequirements>,
    /// What only a Kubernetes container honours (not shown in plans).
    #[serde(skip)]
    pub pod_only: PodOnly,
}

/// Container fields a Pod honours and the local executor does not.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodOnly {
    /// `volumeDevices`.
    pub volume_devices: Vec<k8s_openapi::api::core::v1::VolumeDevice>,
    /// A sidecar's `ports`.
    pub ports: Vec<k8s_openapi::api::core::v1::ContainerPort>,
    /// A sidecar's `livenessProbe`.
    pub liveness_probe: Option<k8s_openapi::api::core::v1::Probe>,
    /// A sidecar's `lifecycle` hooks.
    pub lifecycle: Option<k8s_openapi::api::core::v1::Lifecycle>,
}

/// An environment value that comes from a ConfigMap or Secret when the step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// `env[].valueFrom.configMapKeyRef`/`secretKeyRef`: one key, into the variable `name`.
    Key {
        /// The variable (an entry of [`StepPlan::env`] holding a placeholder).
        name: String,
        /// The object's kind.
        kind: ConfigKind,
        /// The object's name.
        object: String,
        /// The key read.
        key: String,
        /// A missing object or key leaves the variable unset instead of failing.
        optional: bool,
    },
    /// `envFrom[]`: every key of the object as a variable, with `prefix` prepended.
    All {
        /// The object's kind.
        kind: ConfigKind,
        /// The object's name.
        object: String,
        /// Prepended to every key.
        prefix: String,
        /// A missing object adds nothing instead of failing.
        optional: bool,
    },
}

/// The two kinds of object a run reads data from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    /// `v1/ConfigMap`: `data` is text, `binaryData` base64.
    ConfigMap,
    /// `v1/Secret`: `data` is base64, `stringData` text.
    Secret,
}

impl ConfigKind {
    /// The Kubernetes kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKind::ConfigMap => "ConfigMap",
            ConfigKind::Secret => "Secret",
        }
    }
}

/// One `volumeMounts` entry of a step or sidecar: a Task volume at a path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeMountPlan {
    /// The Task volume's name.
    pub name: String,
    /// Where it appears in the container.
    pub mount_path: String,
    /// Mounted read-only.
    pub read_only: bool,
    /// A directory inside the volume to mount instead of its root.
    pub sub_path: Option<String>,
}

/// One environment variable.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EnvPlan {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}
