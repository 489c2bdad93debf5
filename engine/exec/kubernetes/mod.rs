//! The Kubernetes executor: a resolved TaskRun as Kubernetes objects (the Pod that runs it,
//! the ConfigMap of its scripts, the Secret of its credentials, the claims its
//! `volumeClaimTemplate` bindings need), and [`KubernetesExecutor`], which creates them through
//! the API server, follows the Pod and reports what it did. [`translate`] and everything it
//! uses are pure; only [`connect`], the executor and [`image_command`] do I/O.
//! # Design
//!
//! [`translate`] turns a [`TaskRunRequest`] (the driver's, the same the Docker executor runs)
//! and [`PodOptions`] (what only the caller knows: namespace, owners, images) into
//! [`PodObjects`]. The executor creates them in the order claims, ConfigMap, Secret, Pod,
//! every object but the claims owned by the TaskRun object when there is one, so deleting
//! the run deletes them; a claim is owned by the PipelineRun (names in `claims.rs`).
//!
//! The Pod follows Tekton's (§4.2 of the spec; names in the contract the kubelet of
//! `kube-sim` and the executor share):
//!
//! - Init container `prepare` runs the entrypoint image as uid 65532 with a read-only root
//!   filesystem, no privilege escalation and no capabilities:
//!   `/adze-entrypoint init /tekton/bin/entrypoint /tekton/run/<i> /tekton/run/<i>/status
//!   /tekton/run/<i>/status/results /tekton/run/<i>/status/artifacts …` copies the static entrypoint into the shared
//!   `emptyDir` and creates each step's directories (and the steps' working directories
//!   inside `/workspace`), writable by any user.
//! - Step `i` is container `step-<name>` running `/tekton/bin/entrypoint` with Tekton's flags
//!   (`step_command.rs`): it waits for `/tekton/run/<i-1>/out`, runs the script
//!   (`/tekton/scripts/script-<i>-<name>` from the ConfigMap, mode 0755), the command, or the
//!   image's ENTRYPOINT/CMD resolved by the caller ([`PodOptions::image_commands`]), and
//!   writes its post file, exit code, results and termination message
//!   (`/tekton/termination`). The kubelet starts the step containers together; the
//!   entrypoint orders them.
//! - Sidecars are `sidecar-<name>`. With [`PodOptions::native_sidecars`] they are init
//!   containers with `restartPolicy: Always` after `prepare` (Kubernetes ≥ 1.29), which the
//!   kubelet stops once the steps end. Otherwise they are ordinary containers after the
//!   steps; the Pod would then run until they exit, so the executor stops them Tekton's way:
//!   when every step has terminated it replaces each running sidecar's image with a no-op
//!   image (a Pod update may change only images), whose container exits at once.
//!   With `results-from: sidecar-logs` ([`PodOptions::results_sidecar`]) the last sidecar is
//!   `tekton-log-results`, which prints the results for the executor to read from its log
//!   (`results_sidecar.rs`).
//!   With sidecars the first step also waits for `/tekton/downward/ready` to be non-empty: a
//!   downward-API file of the `tekton.dev/ready` annotation, which the executor sets to
//!   `READY` once every sidecar is ready (§4.9). Without sidecars, or with
//!   [`PodOptions::sidecars_ready_at_start`], the first step starts at once.
//! - Volumes: `emptyDir`s `tekton-internal-{workspace,home,results,steps,artifacts,bin}`, one
//!   `tekton-internal-run-<i>` per step at `/tekton/run/<i>` (read-write in step `i` only,
//!   as Tekton mounts them), the scripts, the ready file, the credentials (the Secret and one
//!   `tekton-creds-init-home-<i>` per step, as Tekton names them), one `ws-<hash>`
//!   volume per bound workspace (Tekton's `$(workspaces.W.volume)` names) and the Task's and
//!   `podTemplate`'s own. Step `i`'s status directory is also mounted at
//!   `/tekton/steps/step-<name>` and `/tekton/steps/<i>` (read-only in the other steps),
//!   where `$(step.results.R.path)`, `$(step.artifacts.path)` and
//!   `$(steps.step-S.exitCode.path)` point.
//! - Workspaces: emptyDir, persistentVolumeClaim, volumeClaimTemplate (a claim per
//!   PipelineRun binding), configMap, secret, projected and csi, mounted at the
//!   declaration's path with the binding's `subPath` and the declaration's `readOnly`;
//!   isolated workspaces only into the containers that list them. A host directory
//!   (`-w NAME=DIR`) or a binding without a source is a [`TranslateError`].
//! - Pod: `restartPolicy: Never`, `activeDeadlineSeconds` = 1.5 × the TaskRun timeout as
//!   Tekton sets it (none without a timeout), the effective `podTemplate`'s fields, the
//!   run's `serviceAccountName`, and `automountServiceAccountToken: false` unless the run
//!   names a service account (then as the `podTemplate` says).
//! - Credentials: see `credentials.rs`.
//! - Masking: before a Pod is created, the executor reads the Secrets it references into the
//!   run's masker (`cluster_secrets.rs`).
//!
//! # Invariants
//!
//! - Deterministic: the same request and options give byte-identical objects (maps are
//!   ordered, names are hashes of names, nothing reads the clock).
//! - No value of a ConfigMap or Secret is copied into the Pod: `valueFrom`/`envFrom` stay
//!   references, as do downward-API values (`env.rs`); the steps must come from the driver without its local resolution
//!   of those values.
//! - Every object deserialises back into its `k8s-openapi` type and passes
//!   `kubernetes-validate --strict` (tests/pod_translation.rs).
//!
//! # Not yet
//!
//! - `#!win` scripts, task-level `computeResources`,
//!   hermetic mode, step `when` in the Pod (the entrypoint does not evaluate it), debug
//!   breakpoints.
//! - Label values longer than 63 characters (long TaskRun names) are refused
//!   ([`TranslateError::InvalidLabel`]) rather than shortened.
//! - The executor: see `executor.rs`'s own list (polling rather than watching, image
//!   commands from the local engine only, no retries of API calls, no `keep-pod-on-cancel`);
//!   `adze controller` (owners, resuming after a restart) is the next issue.

mod claims;
mod cluster_secrets;
pub mod connect;
mod containers;
mod credentials;
mod env;
mod error;
mod executor;
pub mod image_command;
mod loaded_objects;
mod metadata;
mod mounts;
pub mod observe;
mod pod;
pub mod results_sidecar;
mod scripts;
mod step_command;
pub mod termination;
mod volumes;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use crate::run::TaskRunRequest;

pub use claims::claim_name;
pub use containers::{ENTRYPOINT_IN_IMAGE, NON_ROOT_UID, PREPARE};
pub use credentials::{CREDENTIALS_DIR, CREDENTIALS_SOURCE_DIR, CREDENTIALS_VOLUME};
pub use error::TranslateError;
pub use executor::{Created, KubernetesExecutor, KubernetesOptions};
pub use loaded_objects::LoadedObjectError;
pub use metadata::{
    container_name, credentials_name, pod_name, scripts_name, MANAGED_BY, MANAGED_BY_LABEL,
    PIPELINE_RUN_LABEL, PIPELINE_TASK_LABEL, RUN_ID_LABEL, TASK_LABEL, TASK_RUN_LABEL,
    TASK_RUN_UID_LABEL,
};
pub use pod::deadline_seconds;
pub use scripts::{sidecar_script_key, step_script_key, SCRIPTS_DIR};
pub use step_command::{ImageCommand, ENTRYPOINT_BIN, READY_FILE, RUN_DIR, TERMINATION_PATH};
pub use volumes::{READY_ANNOTATION, READY_VALUE};

/// What the caller knows that the request does not: where and for whom the objects are made.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodOptions {
    /// The image holding `/adze-entrypoint` (`--entrypoint-image`).
    pub entrypoint_image: String,
    /// The namespace of every object.
    pub namespace: String,
    /// The TaskRun object, when it exists on the cluster: it owns the Pod, ConfigMap and
    /// Secret (and the claims of a standalone TaskRun).
    pub task_run_owner: Option<OwnerReference>,
    /// The PipelineRun object, when it exists on the cluster: it owns the claims of its
    /// `volumeClaimTemplate` bindings.
    pub pipeline_run_owner: Option<OwnerReference>,
    /// The `adze run` invocation's id, the `adze.dev/run-id` label (none when empty).
    pub run_id: String,
    /// Run sidecars as native sidecars (init containers with `restartPolicy: Always`; the API
    /// server is Kubernetes ≥ 1.29).
    pub native_sidecars: bool,
    /// The ENTRYPOINT and CMD of each image a step without `command` or `script` uses, keyed
    /// by the image exactly as the step names it.
    pub image_commands: BTreeMap<String, ImageCommand>,
    /// Start the first step without waiting for the sidecars to be ready (Tekton's
    /// `await-sidecar-readiness: false`): no ready file, nothing for the executor to annotate.
    pub sidecars_ready_at_start: bool,
    /// `imagePullPolicy` for every step and sidecar, replacing their own (`adze run --pull`:
    /// `Always`, `IfNotPresent` or `Never`); `None` keeps what each container says.
    pub image_pull_policy: Option<String>,
    /// Which attempt of the TaskRun this is (0 first, `N` retry `N`): a retry's objects are
    /// named `…-retry<N>` as Tekton names its Pods, beside the earlier attempt's.
    pub attempt: u32,
    /// `results-from: sidecar-logs`: add the `tekton-log-results` sidecar
    /// (`results_sidecar.rs`) and keep results out of the termination messages.
    pub results_sidecar: bool,
}

/// The objects one TaskRun becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct PodObjects {
    /// The Pod.
    pub pod: Pod,
    /// The scripts ConfigMap, when a step or sidecar has a script.
    pub scripts: Option<ConfigMap>,
    /// The credentials Secret, when the run's service account brings credential files.
    pub credentials: Option<Secret>,
    /// The claims of `volumeClaimTemplate` bindings, to create before the Pod unless they
    /// exist (one per PipelineRun binding, shared by its TaskRuns).
    pub claims: Vec<PersistentVolumeClaim>,
}

/// The Kubernetes objects of `request`; the service account and `podTemplate` come from
/// [`TaskRunRequest::cluster`].
pub fn translate(
    request: &TaskRunRequest,
    options: &PodOptions,
) -> Result<PodObjects, TranslateError> {
    let labels = metadata::labels(request, options)?;
    let scripts = scripts::config_map(request, options, &labels)?;
    let extras = volumes::Extras {
        scripts: scripts.is_some(),
        // The results sidecar is a sidecar like any other: the steps wait for it too.
        ready_file: (!request.sidecars.is_empty() || options.results_sidecar)
            && !options.sidecars_ready_at_start,
        results_sidecar: options.results_sidecar,
    };
    let (volumes, claims) = volumes::pod_volumes(request, options, &labels, &extras)?;
    let pod = pod::pod(request, options, &labels, volumes, &extras)?;
    Ok(PodObjects {
        pod,
        scripts,
        credentials: credentials::secret(request, options, &labels),
        claims,
    })
}
