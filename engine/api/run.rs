//! `TaskRun` and `PipelineRun`: the runtime kinds, and what they bind.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::param::Param;
use super::pipeline::PipelineSpec;
use super::reference::{PipelineRef, TaskRef};
use super::task::{EmbeddedMetadata, TaskSpec};

/// A TaskRun: one execution of a Task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskRun {
    /// `tekton.dev/v1`.
    #[serde(default)]
    pub api_version: String,
    /// `TaskRun`.
    #[serde(default)]
    pub kind: String,
    /// Name or generateName.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What to run.
    #[serde(default)]
    pub spec: TaskRunSpec,
    /// Status, ignored on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

/// What a TaskRun runs, with which inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskRunSpec {
    /// Values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    /// Task by reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_ref: Option<TaskRef>,
    /// Embedded Task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_spec: Option<TaskSpec>,
    /// Workspace bindings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceBinding>,
    /// Per attempt (Go duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `TaskRunCancelled` or `TaskRunPending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Message for `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Extra attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    /// Pod settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<PodTemplate>,
    /// Per-step resource overrides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_specs: Vec<ContainerSpecOverride>,
    /// Per-sidecar resource overrides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sidecar_specs: Vec<ContainerSpecOverride>,
    /// Task-level resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_resources: Option<corev1::ResourceRequirements>,
    /// Breakpoints (alpha).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<serde_json::Value>,
    /// The controller that owns the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
}

/// `stepSpecs[]` / `sidecarSpecs[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSpecOverride {
    /// Step or sidecar name.
    #[serde(default)]
    pub name: String,
    /// Resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_resources: Option<corev1::ResourceRequirements>,
}

/// Binds a workspace to a volume source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceBinding {
    /// Workspace name.
    #[serde(default)]
    pub name: String,
    /// Sub-directory of the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    /// Scratch volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<corev1::EmptyDirVolumeSource>,
    /// Existing claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<corev1::PersistentVolumeClaimVolumeSource>,
    /// Claim created per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claim_template: Option<corev1::PersistentVolumeClaim>,
    /// ConfigMap files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<corev1::ConfigMapVolumeSource>,
    /// Secret files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<corev1::SecretVolumeSource>,
    /// Projected sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected: Option<corev1::ProjectedVolumeSource>,
    /// CSI volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi: Option<corev1::CSIVolumeSource>,
}

impl WorkspaceBinding {
    /// Names of the volume sources that are set.
    pub fn sources(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.empty_dir.is_some() {
            out.push("emptyDir");
        }
        if self.persistent_volume_claim.is_some() {
            out.push("persistentVolumeClaim");
        }
        if self.volume_claim_template.is_some() {
            out.push("volumeClaimTemplate");
        }
        if self.config_map.is_some() {
            out.push("configMap");
        }
        if self.secret.is_some() {
            out.push("secret");
        }
        if self.projected.is_some() {
            out.push("projected");
        }
        if self.csi.is_some() {
            out.push("csi");
        }
        out
    }
}

/// Tekton's pod template: the pod-level settings a run may override.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplate {
    /// Node selector.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Extra environment for every container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<corev1::EnvVar>,
    /// Tolerations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<corev1::Toleration>,
    /// Affinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<corev1::Affinity>,
    /// Pod security context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<corev1::PodSecurityContext>,
    /// Extra volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<corev1::Volume>,
    /// Runtime class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_class_name: Option<String>,
    /// Mount the service account token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
    /// DNS policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_policy: Option<String>,
    /// DNS config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<corev1::PodDNSConfig>,
    /// Service links in env.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_service_links: Option<bool>,
    /// Priority class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// Scheduler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    /// Pull secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<corev1::LocalObjectReference>,
    /// /etc/hosts entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_aliases: Vec<corev1::HostAlias>,
    /// Host network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_network: Option<bool>,
    /// Host user namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_users: Option<bool>,
    /// Spread constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<corev1::TopologySpreadConstraint>,
}

/// A PipelineRun: one execution of a Pipeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineRun {
    /// `tekton.dev/v1`.
    #[serde(default)]
    pub api_version: String,
    /// `PipelineRun`.
    #[serde(default)]
    pub kind: String,
    /// Name or generateName.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What to run.
    #[serde(default)]
    pub spec: PipelineRunSpec,
    /// Status, ignored on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

/// What a PipelineRun runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineRunSpec {
    /// Pipeline by reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_ref: Option<PipelineRef>,
    /// Embedded Pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_spec: Option<PipelineSpec>,
    /// Values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    /// `Cancelled`, `CancelledRunFinally`, `StoppedRunFinally`, `PipelineRunPending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,
    /// Applied to every TaskRun.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_run_template: Option<TaskRunTemplate>,
    /// Workspace bindings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceBinding>,
    /// Per-task overrides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_run_specs: Vec<PipelineTaskRunSpec>,
    /// The controller that owns the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
}

/// `timeouts` of a PipelineRun (Go durations).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timeouts {
    /// Whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// DAG tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<String>,
    /// Finally tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finally: Option<String>,
}

/// `taskRunTemplate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskRunTemplate {
    /// Service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Pod settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<PodTemplate>,
}

/// `taskRunSpecs[]`: overrides for one PipelineTask's TaskRuns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineTaskRunSpec {
    /// The PipelineTask.
    #[serde(default)]
    pub pipeline_task_name: String,
    /// Service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Pod settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<PodTemplate>,
    /// Step resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_specs: Vec<ContainerSpecOverride>,
    /// Sidecar resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sidecar_specs: Vec<ContainerSpecOverride>,
    /// Labels and annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<EmbeddedMetadata>,
    /// Task-level resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_resources: Option<corev1::ResourceRequirements>,
    /// TaskRun timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}
