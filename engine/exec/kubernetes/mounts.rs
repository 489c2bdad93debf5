//! Each container's volume mounts: its own (`volumeMounts` of Task volumes), its workspaces,
//! then the internal paths it does not mount itself (§4.2: an implicit mount is skipped when
//! the container mounts the same path).
//!
//! Step `i`'s `/tekton/run/<i>` is its own volume (`tekton-internal-run-<i>`), mounted
//! read-write in step `i` only and read-only in the others, as Tekton mounts it: no step can
//! write another's post file, exit code or results. `/tekton/steps/step-<name>` (and
//! `/tekton/steps/<i>`) are `subPath` mounts of its `status` directory: Tekton links them
//! with symlinks made by a shell, a Pod can do it with mounts alone, with the same access.

use k8s_openapi::api::core::v1::VolumeMount;

use super::scripts::{SCRIPTS_DIR, SCRIPTS_VOLUME};
use super::step_command::RUN_DIR;
use super::volumes::{
    run_volume, BIN_VOLUME, DOWNWARD_VOLUME, HOME_VOLUME, INTERNAL, WORKSPACE_VOLUME,
};
use super::{credentials, volumes::Extras};
use crate::plan::model::StepPlan;
use crate::plan::task::workspace_volume_name;
use crate::run::TaskRunRequest;

/// Which container the mounts are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Step `i`.
    Step(usize),
    /// Sidecar `i`.
    Sidecar(usize),
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}

/// The mounts of one step or sidecar.
pub fn container_mounts(request: &TaskRunRequest, role: Role, extras: &Extras) -> Vec<VolumeMount> {
    let plan = match role {
        Role::Step(i) => &request.steps[i],
        Role::Sidecar(i) => &request.sidecars[i],
    };
    let mut own: Vec<VolumeMount> = plan
        .volume_mounts
        .iter()
        .map(|m| VolumeMount {
            name: m.name.clone(),
            mount_path: m.mount_path.clone(),
            read_only: m.read_only.then_some(true),
            sub_path: m.sub_path.clone(),
            ..VolumeMount::default()
        })
        .collect();
    own.extend(workspace_mounts(request, plan));
    let mut implicit: Vec<VolumeMount> = Vec::new();
    match role {
        Role::Step(index) => {
            for (name, path) in INTERNAL {
                implicit.push(mount(name, path, name == BIN_VOLUME));
            }
            for (j, step) in request.steps.iter().enumerate() {
                implicit.push(mount(&run_volume(j), &format!("{RUN_DIR}/{j}"), j != index));
                let status = VolumeMount {
                    name: run_volume(j),
                    sub_path: Some("status".to_owned()),
                    read_only: (j != index).then_some(true),
                    ..VolumeMount::default()
                };
                implicit.push(VolumeMount {
                    mount_path: format!("/tekton/steps/step-{}", step.name),
                    ..status.clone()
                });
                implicit.push(VolumeMount {
                    mount_path: format!("/tekton/steps/{j}"),
                    ..status
                });
            }
            if extras.ready_file {
                implicit.push(mount(DOWNWARD_VOLUME, "/tekton/downward", true));
            }
            if !request.credentials.is_empty() {
                implicit.extend(credentials::mounts(index));
            }
        }
        Role::Sidecar(_) => {
            implicit.push(mount(WORKSPACE_VOLUME, "/workspace", false));
            implicit.push(mount(HOME_VOLUME, "/tekton/home", false));
        }
    }
    if extras.scripts && plan.script.is_some() {
        implicit.push(mount(SCRIPTS_VOLUME, SCRIPTS_DIR, true));
    }
    implicit.retain(|i| !own.iter().any(|o| o.mount_path == i.mount_path));
    own.extend(implicit);
    own
}

/// The workspaces a container mounts: all bound ones, except that a workspace some container
/// lists in its `workspaces` (isolated, §4.11) goes only to those, at their own path if
/// they give one.
fn workspace_mounts<'a>(
    request: &'a TaskRunRequest,
    plan: &'a StepPlan,
) -> impl Iterator<Item = VolumeMount> + 'a {
    request.cluster.workspaces.iter().filter_map(move |ws| {
        let isolated = request
            .steps
            .iter()
            .chain(&request.sidecars)
            .any(|c| c.isolated_workspaces.iter().any(|(n, _)| *n == ws.name));
        let listed = plan.isolated_workspaces.iter().find(|(n, _)| *n == ws.name);
        let path = match (isolated, listed) {
            (false, _) => ws.mount_path.clone(),
            (true, None) => return None,
            (true, Some((_, own))) => own.clone().unwrap_or_else(|| ws.mount_path.clone()),
        };
        Some(VolumeMount {
            name: workspace_volume_name(&ws.name),
            mount_path: path,
            sub_path: ws.sub_path.clone(),
            read_only: ws.read_only.then_some(true),
            ..VolumeMount::default()
        })
    })
}
