//! The Pod's containers: `prepare` (adze's own, locked down), one per step running through
//! the entrypoint, and one per sidecar running its own command.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Capabilities, Container, SecurityContext, VolumeMount};

use super::env::{env, env_from};
use super::mounts::{container_mounts, Role};
use super::scripts::{sidecar_script_key, SCRIPTS_DIR};
use super::step_command::{step_args, ImageCommand, ENTRYPOINT_BIN, RUN_DIR, TERMINATION_PATH};
use super::volumes::{run_volume, Extras, BIN_VOLUME, WORKSPACE_VOLUME};
use super::{metadata::container_name, TranslateError};
use crate::plan::model::StepPlan;
use crate::run::TaskRunRequest;

/// The init container's name.
pub const PREPARE: &str = "prepare";
/// Where the entrypoint image keeps the binary.
pub const ENTRYPOINT_IN_IMAGE: &str = "/adze-entrypoint";
/// The uid adze's own containers run as (distroless' `nonroot`).
pub const NON_ROOT_UID: i64 = 65532;

/// `prepare`: copies the entrypoint into `/tekton/bin` and creates every step's directories
/// under `/tekton/run/<i>` (its own volume: status, results, artifacts; and the working directories under `/workspace` that the steps need),
/// mode 0777 so steps running as any user can write them.
pub fn prepare(request: &TaskRunRequest, entrypoint_image: &str) -> Container {
    let mut args = vec!["init".to_owned(), ENTRYPOINT_BIN.to_owned()];
    for i in 0..request.steps.len() {
        // Parents first: each directory is made writable by everyone as it is created.
        args.push(format!("{RUN_DIR}/{i}"));
        args.push(format!("{RUN_DIR}/{i}/status"));
        args.push(format!("{RUN_DIR}/{i}/status/results"));
        args.push(format!("{RUN_DIR}/{i}/status/artifacts"));
    }
    let working_dirs = working_dirs(request);
    let mut mounts = vec![VolumeMount {
        name: BIN_VOLUME.to_owned(),
        mount_path: "/tekton/bin".to_owned(),
        ..VolumeMount::default()
    }];
    mounts.extend((0..request.steps.len()).map(|i| VolumeMount {
        name: run_volume(i),
        mount_path: format!("{RUN_DIR}/{i}"),
        ..VolumeMount::default()
    }));
    if !working_dirs.is_empty() {
        mounts.push(VolumeMount {
            name: WORKSPACE_VOLUME.to_owned(),
            mount_path: "/workspace".to_owned(),
            ..VolumeMount::default()
        });
    }
    args.extend(working_dirs);
    own_container(PREPARE, entrypoint_image, args, mounts)
}

/// A container of adze's own: `/adze-entrypoint ARGS` from the entrypoint image, locked down.
pub fn own_container(
    name: &str,
    entrypoint_image: &str,
    args: Vec<String>,
    mounts: Vec<VolumeMount>,
) -> Container {
    Container {
        name: name.to_owned(),
        image: Some(entrypoint_image.to_owned()),
        // The image is adze's own and versioned; a tag such as `:latest` in tests must not
        // make the kubelet pull what is already there.
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: Some(vec![ENTRYPOINT_IN_IMAGE.to_owned()]),
        args: Some(args),
        volume_mounts: Some(mounts),
        security_context: Some(locked_down()),
        ..Container::default()
    }
}

/// The security context of adze's own containers: non-root, read-only root filesystem, no
/// privilege escalation, no capabilities.
fn locked_down() -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(NON_ROOT_UID),
        read_only_root_filesystem: Some(true),
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            add: None,
        }),
        ..SecurityContext::default()
    }
}

/// A working directory as the container sees it: relative ones are under `/workspace`.
fn absolute_working_dir(dir: &str) -> String {
    if dir.starts_with('/') {
        dir.to_owned()
    } else {
        format!("/workspace/{dir}")
    }
}

/// The steps' working directories that lie in `/workspace` itself (not in a workspace
/// mounted below it): `prepare` creates them, writable by any user, as Tekton's
/// `working-dir-initializer` does. Others are created by the container runtime.
fn working_dirs(request: &TaskRunRequest) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::new();
    for step in &request.steps {
        let Some(dir) = step.working_dir.as_deref() else {
            continue;
        };
        let dir = absolute_working_dir(dir);
        let below = |root: &str| dir.strip_prefix(root).is_some_and(|r| r.starts_with('/'));
        let in_workspace_volume = below("/workspace")
            && !request
                .cluster
                .workspaces
                .iter()
                .any(|w| dir == w.mount_path || below(&w.mount_path));
        if in_workspace_volume && !dir.split('/').any(|p| p == "..") && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// What steps and sidecars share: image, environment, working directory, resources and
/// security context, as resolved.
fn base(plan: &StepPlan, name: String) -> Container {
    Container {
        name,
        image: Some(plan.image.clone()),
        image_pull_policy: plan.image_pull_policy.clone(),
        env: env(plan),
        env_from: env_from(plan),
        working_dir: plan.working_dir.as_deref().map(absolute_working_dir),
        resources: plan.compute_resources.clone(),
        security_context: plan.security_context.clone(),
        volume_devices: nonempty(&plan.pod_only.volume_devices),
        ports: nonempty(&plan.pod_only.ports),
        liveness_probe: plan.pod_only.liveness_probe.clone(),
        lifecycle: plan.pod_only.lifecycle.clone(),
        ..Container::default()
    }
}

fn nonempty<T: Clone>(items: &[T]) -> Option<Vec<T>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// Step `index`'s container, `step-<name>`, running the entrypoint.
pub fn step(
    request: &TaskRunRequest,
    index: usize,
    images: &BTreeMap<String, ImageCommand>,
    extras: &Extras,
) -> Result<Container, TranslateError> {
    let plan = &request.steps[index];
    Ok(Container {
        command: Some(vec![ENTRYPOINT_BIN.to_owned()]),
        args: Some(step_args(request, index, images, extras)?),
        volume_mounts: Some(container_mounts(request, Role::Step(index), extras)),
        termination_message_path: Some(TERMINATION_PATH.to_owned()),
        termination_message_policy: Some("File".to_owned()),
        ..base(plan, container_name("step-", &plan.name))
    })
}

/// Sidecar `index`'s container, `sidecar-<name>`, running its own command (its script's
/// file when it has one); `native` makes it an init container that runs beside the steps.
pub fn sidecar(request: &TaskRunRequest, index: usize, native: bool, extras: &Extras) -> Container {
    let plan = &request.sidecars[index];
    let (command, args) = match &plan.script {
        Some(_) => (
            Some(vec![format!(
                "{SCRIPTS_DIR}/{}",
                sidecar_script_key(index, &plan.name)
            )]),
            plan.args.clone(),
        ),
        None => (
            (!plan.command.is_empty()).then(|| plan.command.clone()),
            plan.args.clone(),
        ),
    };
    Container {
        command,
        args: (!args.is_empty()).then_some(args),
        volume_mounts: Some(container_mounts(request, Role::Sidecar(index), extras)),
        readiness_probe: plan.readiness_probe.clone(),
        startup_probe: plan.startup_probe.clone(),
        restart_policy: native.then(|| "Always".to_owned()),
        ..base(plan, container_name("sidecar-", &plan.name))
    }
}
