//! How one container of a Pod becomes a Docker container: Kubernetes' `command`/`args`
//! meaning, the environment, the mounts (volumes, `subPath`, the termination-message file),
//! the security context and limits, all joined to the sandbox's namespaces.

use std::fs;
use std::path::{Component, Path, PathBuf};

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use k8s_openapi::api::core::v1::Container;

use super::env::Environment;
use super::images::ResolvedImage;
use super::naming::PodIdentity;
use super::resources;
use super::sandbox::Sandbox;
use super::security::Confinement;
use super::service_account;
use super::termination;
use super::volumes::PodVolumes;

/// Everything a container's configuration is made from.
pub(super) struct Inputs<'a> {
    /// The container's spec.
    pub container: &'a Container,
    /// Whose it is.
    pub identity: &'a PodIdentity,
    /// Its image, present in the engine.
    pub image: &'a ResolvedImage,
    /// Its environment.
    pub env: &'a Environment,
    /// Its security settings.
    pub confinement: &'a Confinement,
    /// The Pod's volumes.
    pub volumes: &'a PodVolumes,
    /// The sandbox it joins.
    pub sandbox: &'a Sandbox,
    /// The host file bound at its termination-message path.
    pub termination_file: &'a Path,
}

fn bind(source: &Path, target: &str, read_only: bool) -> Mount {
    Mount {
        target: Some(target.to_owned()),
        source: Some(source.display().to_string()),
        typ: Some(MountType::BIND),
        read_only: Some(read_only),
        ..Default::default()
    }
}

/// `root/sub`, its missing directories created with `root`'s mode, as the kubelet does so
/// that a subPath of an emptyDir stays writable by every user (Tekton's `/tekton/steps/<i>`).
fn make_sub_path(root: &Path, sub: &str) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(root)?.permissions().mode() & 0o7777;
    let mut path = root.to_path_buf();
    for part in Path::new(sub).components() {
        path.push(part);
        if !path.exists() {
            fs::create_dir(&path)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
        }
    }
    Ok(path)
}

/// The mounts of the container; `Err` is the `CreateContainerConfigError` message.
fn mounts(inputs: &Inputs<'_>) -> Result<Vec<Mount>, String> {
    let container = inputs.container;
    let mut mounts = Vec::new();
    for m in container.volume_mounts.iter().flatten() {
        let volume = inputs.volumes.get(&m.name).ok_or_else(|| {
            format!(
                "cannot find volume \"{}\" to mount into container \"{}\"",
                m.name, container.name
            )
        })?;
        let sub_path = match (&m.sub_path, &m.sub_path_expr) {
            (Some(p), _) if !p.is_empty() => Some(p.clone()),
            (_, Some(e)) if !e.is_empty() => Some(inputs.env.expand(e)),
            _ => None,
        };
        let source = match sub_path {
            Some(sub) => {
                if !Path::new(&sub)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)))
                {
                    return Err(format!(
                        "failed to prepare subPath for volumeMount \"{}\" of container \"{}\": subPath \"{sub}\" must be a relative path without '..'",
                        m.name, container.name
                    ));
                }
                make_sub_path(&volume.path, &sub).map_err(|e| {
                    format!("failed to create subPath directory for volumeMount \"{}\" of container \"{}\": {e}", m.name, container.name)
                })?
            }
            None => volume.path.clone(),
        };
        let target = if m.mount_path.starts_with('/') {
            m.mount_path.clone()
        } else {
            format!("/{}", m.mount_path)
        };
        mounts.push(bind(
            &source,
            &target,
            m.read_only == Some(true) || volume.read_only,
        ));
    }
    // The ServiceAccount files, unless the container mounts something of its own there.
    if let Some(access) = inputs.volumes.get(service_account::VOLUME) {
        if !mounts
            .iter()
            .any(|m| m.target.as_deref() == Some(service_account::MOUNT_PATH))
        {
            mounts.push(bind(&access.path, service_account::MOUNT_PATH, true));
        }
    }
    let message_path = container
        .termination_message_path
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| termination::DEFAULT_PATH.to_owned());
    if !mounts
        .iter()
        .any(|m| m.target.as_deref() == Some(message_path.as_str()))
    {
        mounts.push(bind(inputs.termination_file, &message_path, false));
    }
    Ok(mounts)
}

/// The engine's configuration for the container.
pub(super) fn config(inputs: &Inputs<'_>) -> Result<ContainerCreateBody, String> {
    let container = inputs.container;
    let env = inputs.env;
    let expand = |v: &Option<Vec<String>>| {
        v.as_ref()
            .map(|v| v.iter().map(|s| env.expand(s)).collect::<Vec<_>>())
    };
    // `command` replaces ENTRYPOINT and then the image's CMD is not used, as the engine does
    // when an entrypoint is given; `args` alone replaces CMD only.
    let entrypoint = expand(&container.command).filter(|c| !c.is_empty());
    let cmd = match (&entrypoint, expand(&container.args)) {
        (_, Some(args)) if !args.is_empty() => Some(args),
        (Some(_), _) => Some(Vec::new()),
        (None, _) => None,
    };
    let (memory, nano_cpus) = resources::limits(container);
    let c = inputs.confinement;
    let holder = format!("container:{}", inputs.sandbox.id);
    let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    Ok(ContainerCreateBody {
        image: Some(inputs.image.id.clone()),
        entrypoint,
        cmd,
        env: Some(env.0.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: container.working_dir.clone().filter(|w| !w.is_empty()),
        user: c.user.clone(),
        tty: container.tty,
        open_stdin: container.stdin,
        stdin_once: container.stdin_once,
        labels: Some(inputs.identity.labels(&container.name)),
        host_config: Some(HostConfig {
            mounts: Some(mounts(inputs)?),
            network_mode: Some(holder.clone()),
            ipc_mode: Some(holder.clone()),
            pid_mode: inputs.sandbox.share_pids.then_some(holder),
            group_add: list(&c.group_add),
            privileged: Some(c.privileged),
            readonly_rootfs: Some(c.read_only_root),
            cap_add: list(&c.cap_add),
            cap_drop: list(&c.cap_drop),
            security_opt: c
                .no_new_privileges
                .then(|| vec!["no-new-privileges".to_owned()]),
            memory,
            // No swap beyond the limit, so exceeding it is an OOM kill as on a node.
            memory_swap: memory,
            nano_cpus,
            // A tiny init as PID 1 forwards SIGTERM, so a shell step stops when asked instead
            // of ignoring the signal for the whole grace period as a PID 1 shell does.
            init: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    })
}
