//! How a step becomes a container: the TaskRun's host directory, the container's
//! configuration, and removal of what adze created.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::RemoveContainerOptions;
use bollard::Docker;

use super::{retry, RUN_LABEL, STEP_LABEL};
use crate::plan::model::StepPlan;
use crate::reconcile::task_run::sidecar_container;
use crate::run::ownership::{self, Owner};
use crate::run::{
    host_file, HostPathKind, PodSettings, TaskRunRequest, VolumeSource, WorkspaceSource,
};

/// Distinguishes the temporary directories of TaskRuns started by this process.
static DIR_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The host directory backing a TaskRun's reserved paths; removed on drop unless kept.
pub(super) struct RunDir {
    /// Its root, holding `workspace`, `results`, `home` and `scripts`.
    pub path: PathBuf,
    /// Leave it behind (`--keep`).
    pub keep: bool,
    /// The workspace mounts, with host paths resolved (ConfigMap/Secret files written here).
    workspaces: Vec<Mount>,
    /// The workspace names, parallel to `workspaces`.
    workspace_names: Vec<String>,
    /// Isolated workspaces: mounted only into the containers that list them (§4.11).
    isolated: Vec<String>,
    /// The Task volumes: name, host directory, and whether it is read-only by nature.
    volumes: Vec<(String, PathBuf, bool)>,
    /// The top-level entries of the credentials directory (`.ssh`, `.gitconfig`, …).
    credentials: Vec<String>,
    /// What could not be done as asked without failing the TaskRun, for warnings.
    pub notes: Vec<String>,
}

impl RunDir {
    /// Creates the directory of `request` and its subdirectories, writable by any container
    /// user, writes the files of ConfigMap/Secret workspaces and volumes, and prepares its
    /// host paths.
    pub fn create(request: &TaskRunRequest, keep: bool) -> io::Result<RunDir> {
        let task_run = &request.name;
        let (workspaces, steps, volumes, credentials) = (
            &request.workspaces,
            &request.steps,
            &request.volumes,
            &request.credentials,
        );
        let isolated = request
            .steps
            .iter()
            .chain(&request.sidecars)
            .flat_map(|c| c.isolated_workspaces.iter().map(|(n, _)| n.clone()))
            .collect();
        let fs_group = request.pod.fs_group;
        let unique = DIR_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("adze-{task_run}-{}-{unique}", std::process::id()));
        fs::create_dir_all(&path)
            .map_err(|e| host_file::FileError::new("create the directory", &path, e))?;
        ownership::write_marker(&path, keep, &[(RUN_LABEL, task_run)])?;
        let mut dir = RunDir {
            path,
            keep,
            workspaces: Vec::new(),
            workspace_names: Vec::new(),
            isolated,
            volumes: Vec::new(),
            credentials: Vec::new(),
            notes: Vec::new(),
        };
        for sub in [
            "workspace",
            "results",
            "home",
            "scripts",
            "steps",
            "artifacts",
        ] {
            let sub = dir.path.join(sub);
            fs::create_dir_all(&sub)?;
            fs::set_permissions(&sub, fs::Permissions::from_mode(0o777))?;
        }
        // `/tekton/steps/step-<name>` holds a step's results and exit code; `/tekton/steps/<i>`
        // links to it, as Tekton's do.
        for (i, step) in steps.iter().enumerate() {
            let own = dir.step_dir(&step.name);
            fs::create_dir_all(own.join("results"))?;
            fs::create_dir_all(own.join("artifacts"))?;
            for d in [own.clone(), own.join("results"), own.join("artifacts")] {
                fs::set_permissions(&d, fs::Permissions::from_mode(0o777))?;
            }
            std::os::unix::fs::symlink(
                format!("step-{}", step.name),
                dir.steps_dir().join(i.to_string()),
            )?;
            // `/tekton/run/<i>`: the handshake between steps started at once.
            let run = dir.run_dir(i);
            fs::create_dir_all(&run)?;
            fs::set_permissions(&run, fs::Permissions::from_mode(0o777))?;
        }
        for w in workspaces {
            let root = match &w.source {
                WorkspaceSource::Dir(d) => d.clone(),
                WorkspaceSource::Files(files) => {
                    let root = dir.path.join("files").join(&w.name);
                    write_files(&root, files)?;
                    root
                }
            };
            let source = match &w.sub_path {
                Some(s) => root.join(s),
                None => root,
            };
            dir.workspaces
                .push(bind(&source, &w.mount_path, w.read_only));
            dir.workspace_names.push(w.name.clone());
        }
        for v in volumes {
            let root = dir.path.join("volumes").join(&v.name);
            let read_only = match &v.source {
                VolumeSource::EmptyDir => {
                    fs::create_dir_all(&root)?;
                    fs::set_permissions(&root, fs::Permissions::from_mode(0o777))?;
                    false
                }
                VolumeSource::Files(files) => {
                    write_files(&root, files)?;
                    true
                }
                VolumeSource::HostPath { path, kind } => {
                    prepare_host_path(&v.name, path, *kind)?;
                    dir.volumes.push((v.name.clone(), path.clone(), false));
                    continue;
                }
            };
            dir.volumes.push((v.name.clone(), root, read_only));
        }
        if !credentials.is_empty() {
            write_files(&dir.path.join("creds"), credentials)?;
            for (path, _) in credentials {
                let top = path.split('/').next().unwrap_or(path).to_owned();
                if !dir.credentials.contains(&top) {
                    dir.credentials.push(top);
                }
            }
            // The source stays readable (0644, as Kubernetes mounts Secrets) so a non-root step
            // can copy it; every copy in a home directory is made private, as ssh requires.
        }
        if let Some(gid) = fs_group {
            // What the kubelet does to the volumes it manages: group-owned by fsGroup, with
            // the set-group-ID bit so what the containers create there stays in the group.
            // The host paths of hostPath volumes and of `-w NAME=DIR` are the user's; left as is.
            let gid = u32::try_from(gid).map_err(|_| {
                io::Error::other(format!("securityContext.fsGroup {gid} is not a group id"))
            })?;
            // Only root may give files to a group it is not in (rootless engines run adze as
            // a user); the directories stay writable by all, so only the ownership is lost.
            if let Err(e) = own_by_group(&dir.path, gid) {
                dir.notes.push(format!(
                    "cannot give the TaskRun's volumes to fsGroup {gid}: {e}; they stay \
                     writable by every user but are not group-owned"
                ));
            }
        }
        Ok(dir)
    }

    /// Creates a working directory under `/workspace` or a writable workspace mount on the
    /// host, writable by any user (§4.10: Tekton's `working-dir-initializer`); other paths
    /// are left to the engine, which creates them.
    fn prepare_working_dir(&self, working_dir: &str) -> io::Result<()> {
        if working_dir.split('/').any(|p| p == "..") {
            return Ok(());
        }
        let under = |root: &str| -> Option<String> {
            let rest = working_dir.strip_prefix(root)?;
            (rest.is_empty() || rest.starts_with('/'))
                .then(|| rest.trim_start_matches('/').to_owned())
        };
        // The deepest mount containing the directory is where it must be created.
        let workspace = self
            .workspaces
            .iter()
            .filter(|m| m.read_only != Some(true))
            .filter_map(|m| {
                let target = m.target.as_deref()?;
                Some((
                    target.len(),
                    PathBuf::from(m.source.as_deref()?),
                    under(target)?,
                ))
            })
            .max_by_key(|(len, _, _)| *len)
            .map(|(_, source, rest)| (source, rest));
        let (root, rest) = match workspace {
            Some(found) => found,
            None => match under("/workspace") {
                Some(rest) => (self.path.join("workspace"), rest),
                None => return Ok(()),
            },
        };
        if rest.is_empty() {
            return Ok(());
        }
        let mut current = root;
        for part in rest.split('/').filter(|p| !p.is_empty()) {
            current.push(part);
            if !current.exists() {
                fs::create_dir(&current)?;
                fs::set_permissions(&current, fs::Permissions::from_mode(0o777))?;
            }
        }
        Ok(())
    }

    /// The host directory mounted at `/tekton/steps`.
    pub fn steps_dir(&self) -> PathBuf {
        self.path.join("steps")
    }

    /// The host directory of one step (`/tekton/steps/step-<name>`).
    pub fn step_dir(&self, step: &str) -> PathBuf {
        self.steps_dir().join(format!("step-{step}"))
    }

    /// The host directory of step `index`'s handshake files (`/tekton/run/<index>`): its
    /// post file and termination message when the steps start at once.
    pub fn run_dir(&self, index: usize) -> PathBuf {
        self.path.join("run").join(index.to_string())
    }

    /// The host directory mounted at `/tekton/results`.
    pub fn results_dir(&self) -> PathBuf {
        self.path.join("results")
    }

    /// The mounts of one container: the reserved paths, the workspaces, then its own
    /// `volumeMounts`, which replace an implicit mount at the same path (§4.2).
    fn mounts_for(
        &self,
        plan: &StepPlan,
        role: Role,
        launch: Option<&EntrypointLaunch>,
    ) -> io::Result<Vec<Mount>> {
        let mut own = Vec::new();
        for (name, path) in &plan.isolated_workspaces {
            let found = self
                .workspace_names
                .iter()
                .zip(&self.workspaces)
                .find(|(n, _)| *n == name);
            if let Some((_, mount)) = found {
                let mut mount = mount.clone();
                if let Some(p) = path {
                    mount.target = Some(p.clone());
                }
                own.push(mount);
            }
        }
        for m in &plan.volume_mounts {
            let Some((_, root, by_nature)) = self.volumes.iter().find(|(n, _, _)| *n == m.name)
            else {
                return Err(io::Error::other(format!(
                    "volumeMount \"{}\" names no volume of the Task",
                    m.name
                )));
            };
            let source = match &m.sub_path {
                Some(sub) if !sub.is_empty() => {
                    let path = root.join(sub);
                    fs::create_dir_all(&path)?;
                    path
                }
                _ => root.clone(),
            };
            own.push(bind(&source, &m.mount_path, m.read_only || *by_nature));
        }
        // Tekton copies `/tekton/creds` into `$HOME` when a step starts; without that
        // entrypoint the files are mounted there, for steps running as root (`/root`), whose
        // home is known without asking the image.
        // Tekton's entrypoint, which places credentials, runs in steps only. Each step gets
        // its own writable copy at `/tekton/creds`, as Tekton's per-step creds volume is.
        if !self.credentials.is_empty() && role == Role::Step {
            let root_user = plan.run_as_user.is_none_or(|uid| uid == 0);
            let copy = self.path.join("creds-copies").join(&plan.name);
            if !copy.exists() {
                copy_tree(&self.path.join("creds"), &copy)?;
                // ssh rejects a key its owner's group or others can read. A root step owns its
                // copy; a non-root step's copy stays readable (ssh does not check files it
                // does not own) until the step copies it into its home, made private there.
                let mode = if root_user { 0o600 } else { 0o644 };
                let keys = fs::read_dir(copy.join(".ssh"))
                    .into_iter()
                    .flatten()
                    .flatten();
                for entry in keys {
                    if entry.file_name().to_string_lossy().starts_with("id_") {
                        fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode))?;
                    }
                }
            }
            own.push(bind(&copy, "/tekton/creds", false));
            // Through the entrypoint the step copies them into its `$HOME` itself; a bind
            // there too would make it copy each file onto itself, emptying it.
            if root_user && launch.is_none() {
                for entry in &self.credentials {
                    own.push(bind(&copy.join(entry), &format!("/root/{entry}"), false));
                }
            }
        }
        let mut mounts: Vec<Mount> = self
            .mounts()
            .into_iter()
            .filter(|implicit| !own.iter().any(|o| o.target == implicit.target))
            .collect();
        mounts.extend(own);
        Ok(mounts)
    }

    /// The mounts every step and sidecar container gets: the reserved paths, then workspaces.
    fn mounts(&self) -> Vec<Mount> {
        let host = |sub: &str| self.path.join(sub);
        let mut mounts = vec![
            bind(&host("workspace"), "/workspace", false),
            bind(&host("results"), "/tekton/results", false),
            bind(&host("home"), "/tekton/home", false),
            bind(&host("scripts"), "/tekton/scripts", true),
            bind(&host("steps"), "/tekton/steps", true),
            bind(&host("artifacts"), "/tekton/artifacts", false),
        ];
        mounts.extend(
            self.workspace_names
                .iter()
                .zip(&self.workspaces)
                .filter(|(name, _)| !self.isolated.contains(name))
                .map(|(_, m)| m.clone()),
        );
        mounts
    }

    /// Writes a step's script as an executable file and returns its path in the container.
    fn write_script(&self, step: &str, script: &str) -> io::Result<String> {
        let file = self.path.join("scripts").join(step);
        host_file::write(&file, script)?;
        fs::set_permissions(&file, fs::Permissions::from_mode(0o755))?;
        Ok(format!("/tekton/scripts/{step}"))
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: a file a container made unremovable must not abort the run.
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Checks a `hostPath` volume's path as its `type` says, creating what `*OrCreate` (and an
/// unchecked missing path) asks for, as the kubelet and the container runtime do.
fn prepare_host_path(volume: &str, path: &Path, kind: HostPathKind) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let found = fs::metadata(path).ok().map(|m| m.file_type());
    let fail = |what: &str| {
        Err(io::Error::other(format!(
            "hostPath volume \"{volume}\": {} {what}",
            path.display()
        )))
    };
    match (kind, found) {
        (HostPathKind::Unchecked | HostPathKind::DirectoryOrCreate, None) => {
            fs::create_dir_all(path)?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        }
        (HostPathKind::FileOrCreate, None) => {
            // Like the kubelet, the parent directory is not created.
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| {
                    io::Error::other(format!(
                        "hostPath volume \"{volume}\": cannot create file {}: {e}",
                        path.display()
                    ))
                })?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o644))
        }
        (HostPathKind::Unchecked, Some(_)) => Ok(()),
        (HostPathKind::DirectoryOrCreate | HostPathKind::Directory, Some(t)) if t.is_dir() => {
            Ok(())
        }
        (HostPathKind::DirectoryOrCreate | HostPathKind::Directory, _) => {
            fail("is not a directory (hostPath type Directory)")
        }
        (HostPathKind::FileOrCreate | HostPathKind::File, Some(t)) if t.is_file() => Ok(()),
        (HostPathKind::FileOrCreate | HostPathKind::File, _) => {
            fail("is not a file (hostPath type File)")
        }
        (HostPathKind::Socket, Some(t)) if t.is_socket() => Ok(()),
        (HostPathKind::Socket, _) => fail("is not a UNIX socket (hostPath type Socket)"),
        (HostPathKind::CharDevice, Some(t)) if t.is_char_device() => Ok(()),
        (HostPathKind::CharDevice, _) => {
            fail("is not a character device (hostPath type CharDevice)")
        }
        (HostPathKind::BlockDevice, Some(t)) if t.is_block_device() => Ok(()),
        (HostPathKind::BlockDevice, _) => fail("is not a block device (hostPath type BlockDevice)"),
    }
}

/// Gives `root` and everything under it to group `gid`, directories with the set-group-ID bit.
fn own_by_group(root: &Path, gid: u32) -> io::Result<()> {
    let meta = fs::symlink_metadata(root)?;
    std::os::unix::fs::lchown(root, None, Some(gid))?;
    if meta.is_dir() {
        let mode = meta.permissions().mode() | 0o2000;
        fs::set_permissions(root, fs::Permissions::from_mode(mode))?;
        for entry in fs::read_dir(root)? {
            own_by_group(&entry?.path(), gid)?;
        }
    }
    Ok(())
}

/// A bind mount of a host path.
pub(super) fn bind(source: &Path, target: &str, read_only: bool) -> Mount {
    Mount {
        target: Some(target.to_owned()),
        source: Some(source.display().to_string()),
        typ: Some(MountType::BIND),
        read_only: Some(read_only),
        ..Default::default()
    }
}

/// Copies a directory tree, keeping file modes (a private key stays 0600).
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    fs::set_permissions(to, fs::metadata(from)?.permissions())?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .map_err(|e| host_file::FileError::new("copy a credential to", &target, e))?;
        }
    }
    Ok(())
}

/// Writes a ConfigMap's or Secret's files under `root`, readable by any container user.
fn write_files(root: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
    fs::create_dir_all(root)?;
    fs::set_permissions(root, fs::Permissions::from_mode(0o755))?;
    for (name, bytes) in files {
        let file = root.join(name);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent)?;
        }
        host_file::write(&file, bytes)?;
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

/// Which of a TaskRun's containers a configuration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// A step: writes its own `/tekton/steps/step-<name>`.
    Step,
    /// A sidecar.
    Sidecar,
}

/// The label naming the sidecar a container runs.
pub(super) const SIDECAR_LABEL: &str = "adze.dev/sidecar";

/// The label marking the container that holds a TaskRun's network namespace.
pub(super) const HOLDER_LABEL: &str = "adze.dev/network-holder";

/// Copies `/tekton/creds` into the user's home, then runs the step (`"$@"`).
const CREDS_COPY: &str = r#"mkdir -p "$HOME" && cp -R /tekton/creds/. "$HOME"/ 2>/dev/null; chmod 600 "$HOME"/.ssh/id_* 2>/dev/null; exec "$@""#;

/// What the network holder runs: any POSIX shell idles this way, and the loop ends on SIGTERM.
const HOLDER_SCRIPT: &str = "trap 'exit 0' TERM; while :; do sleep 1; done";

/// Docker's `user` for `securityContext.runAsUser`/`runAsGroup`; `None` keeps the image's.
fn user(plan: &StepPlan) -> Option<String> {
    match (plan.run_as_user, plan.run_as_group) {
        (Some(uid), Some(gid)) => Some(format!("{uid}:{gid}")),
        (Some(uid), None) => Some(uid.to_string()),
        // Docker cannot keep the image's user while changing only its group; the group
        // alone is not applied (documented in the module's "Not yet").
        (None, _) => None,
    }
}

/// Where the entrypoint binary is mounted in a step container started at once.
pub(super) const ENTRYPOINT_IN_CONTAINER: &str = "/tekton/bin/entrypoint";

/// How a step runs through the entrypoint when every step starts at once.
#[derive(Debug, Clone)]
pub(super) struct EntrypointLaunch {
    /// The step's position in the TaskRun.
    pub index: usize,
    /// The static entrypoint on the host, bind-mounted read-only.
    pub binary: PathBuf,
    /// The entrypoint's flags, before `-entrypoint PROGRAM -- ARGS`.
    pub flags: Vec<String>,
}

/// The container for one step or sidecar; writes its script first when it has one.
/// `network` names the container whose network namespace it joins; `launch`, when given,
/// wraps a step in the entrypoint, which then needs its program resolved in `plan`.
pub(super) fn container_config(
    task_run: &str,
    plan: &StepPlan,
    role: Role,
    dir: &RunDir,
    network: Option<&str>,
    pod: &PodSettings,
    launch: Option<&EntrypointLaunch>,
) -> io::Result<ContainerCreateBody> {
    let (script_file, label) = match role {
        Role::Step => (plan.name.clone(), STEP_LABEL),
        Role::Sidecar => (sidecar_container(&plan.name), SIDECAR_LABEL),
    };
    let entrypoint = match &plan.script {
        Some(script) => Some(vec![dir.write_script(&script_file, script)?]),
        None if !plan.command.is_empty() => Some(plan.command.clone()),
        None => None,
    };
    let mut cmd = (!plan.args.is_empty()).then(|| plan.args.clone());
    let mut entrypoint = entrypoint;
    if let Some(launch) = launch {
        // The step's program becomes the entrypoint's `-entrypoint PROGRAM -- ARGS`.
        let mut program = entrypoint.take().unwrap_or_default();
        program.extend(cmd.take().unwrap_or_default());
        if program.is_empty() {
            return Err(io::Error::other(format!(
                "step \"{}\" has no command to hand to the entrypoint",
                plan.name
            )));
        }
        let mut args = launch.flags.clone();
        args.extend(["-entrypoint".to_owned(), program.remove(0), "--".to_owned()]);
        args.extend(program);
        entrypoint = Some(vec![ENTRYPOINT_IN_CONTAINER.to_owned()]);
        cmd = Some(args);
    }
    // A non-root step's home is only known inside the container: like Tekton's entrypoint,
    // a shell copies the credentials into `$HOME` (which the engine sets from the image's
    // passwd) and then runs the step's own program. Through the entrypoint, it does that.
    if !dir.credentials.is_empty()
        && role == Role::Step
        && launch.is_none()
        && plan.run_as_user.is_some_and(|uid| uid != 0)
    {
        if let Some(program) = entrypoint.take() {
            let mut args = program;
            args.extend(cmd.take().unwrap_or_default());
            entrypoint = Some(vec![
                "/bin/sh".into(),
                "-c".into(),
                CREDS_COPY.into(),
                "adze-creds".into(),
            ]);
            cmd = Some(args);
        }
    }
    let working_dir = plan.working_dir.as_ref().map(|w| {
        if w.starts_with('/') {
            w.clone()
        } else {
            format!("/workspace/{w}")
        }
    });
    if let Some(w) = &working_dir {
        dir.prepare_working_dir(w)?;
    }
    let labels: HashMap<String, String> = [
        (RUN_LABEL.to_owned(), task_run.to_owned()),
        (label.to_owned(), plan.name.clone()),
    ]
    .into_iter()
    .chain(Owner::current().labels(dir.keep))
    .collect();
    let mut mounts = dir.mounts_for(plan, role, launch)?;
    if role == Role::Step {
        // Only the step itself may write its results; earlier steps' stay read-only (§4.2).
        mounts.push(bind(
            &dir.step_dir(&plan.name),
            &format!("/tekton/steps/step-{}", plan.name),
            false,
        ));
    }
    if let Some(launch) = launch {
        // Every step sees the others' handshake files and writes only its own; its status
        // directory is its `/tekton/steps/step-<name>` (the engine mounts parents first).
        let i = launch.index;
        mounts.extend([
            bind(&launch.binary, ENTRYPOINT_IN_CONTAINER, true),
            bind(&dir.path.join("run"), "/tekton/run", true),
            bind(&dir.run_dir(i), &format!("/tekton/run/{i}"), false),
            bind(
                &dir.step_dir(&plan.name),
                &format!("/tekton/run/{i}/status"),
                false,
            ),
        ]);
    }
    Ok(ContainerCreateBody {
        image: Some(plan.image.clone()),
        entrypoint,
        cmd,
        env: Some(
            plan.env
                .iter()
                .map(|e| format!("{}={}", e.name, e.value))
                .collect(),
        ),
        working_dir,
        user: user(plan),
        labels: Some(labels),
        host_config: Some(HostConfig {
            mounts: Some(mounts),
            network_mode: match network {
                Some(id) => Some(format!("container:{id}")),
                None => own_network(pod).network_mode,
            },
            group_add: group_add(pod),
            privileged: Some(plan.privileged),
            readonly_rootfs: Some(plan.confinement.read_only_root_filesystem),
            security_opt: plan
                .confinement
                .no_new_privileges
                .then(|| vec!["no-new-privileges".to_owned()]),
            cap_add: (!plan.confinement.cap_add.is_empty())
                .then(|| plan.confinement.cap_add.clone()),
            cap_drop: (!plan.confinement.cap_drop.is_empty())
                .then(|| plan.confinement.cap_drop.clone()),
            memory: plan.confinement.memory_bytes,
            nano_cpus: plan.confinement.nano_cpus,
            // A tiny init as PID 1 forwards SIGTERM, so a cancelled script step stops at once
            // instead of ignoring the signal for the whole grace period, as PID 1 shells do.
            // The step entrypoint is such an init itself (it forwards signals and reaps).
            init: Some(launch.is_none()),
            // A container joining the holder's network shares its /etc/hosts and resolver
            // configuration (the engine refuses them there); otherwise each gets its own.
            ..match network {
                Some(_) => HostConfig::default(),
                None => own_network(pod),
            }
        }),
        ..Default::default()
    })
}

/// `GroupAdd`: `fsGroup` then `supplementalGroups`, the process's extra groups as in a pod.
fn group_add(pod: &PodSettings) -> Option<Vec<String>> {
    let groups: Vec<String> = pod
        .fs_group
        .iter()
        .chain(&pod.supplemental_groups)
        .map(i64::to_string)
        .collect();
    (!groups.is_empty()).then_some(groups)
}

/// The network of a container that owns its network namespace: the host's under
/// `hostNetwork`, and `hostAliases` and `dnsConfig` as the engine writes them into its
/// `/etc/hosts` and `/etc/resolv.conf`.
fn own_network(pod: &PodSettings) -> HostConfig {
    let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    HostConfig {
        network_mode: pod.host_network.then(|| "host".to_owned()),
        extra_hosts: list(
            &pod.host_aliases
                .iter()
                .map(|(host, ip)| format!("{host}:{ip}"))
                .collect(),
        ),
        dns: list(&pod.dns.nameservers),
        dns_search: list(&pod.dns.searches),
        dns_options: list(&pod.dns.options),
        ..HostConfig::default()
    }
}

/// The container that owns a TaskRun's network namespace, so sidecars and steps share
/// `localhost` as a pod's containers do; it runs `image`'s shell.
pub(super) fn holder_config(
    task_run: &str,
    image: &str,
    pod: &PodSettings,
    keep: bool,
) -> ContainerCreateBody {
    let labels: HashMap<String, String> = [
        (RUN_LABEL.to_owned(), task_run.to_owned()),
        (HOLDER_LABEL.to_owned(), "true".to_owned()),
    ]
    .into_iter()
    .chain(Owner::current().labels(keep))
    .collect();
    ContainerCreateBody {
        image: Some(image.to_owned()),
        entrypoint: Some(vec!["sh".into(), "-c".into(), HOLDER_SCRIPT.into()]),
        cmd: Some(Vec::new()),
        labels: Some(labels),
        host_config: Some(own_network(pod)),
        ..Default::default()
    }
}

/// Removes a container and its anonymous volumes, whatever its state; one already gone
/// (a retry after the first answer was lost) counts as removed.
pub(super) async fn remove(docker: &Docker, id: &str) -> Result<(), DockerError> {
    let options = || RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    match retry::idempotent(|| docker.remove_container(id, Some(options()))).await {
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        removed => removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_paths_are_checked_and_created_as_their_type_says() {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let dir = tmp.path().join("made/dir");
        prepare_host_path("v", &dir, HostPathKind::DirectoryOrCreate).expect("created");
        assert!(dir.is_dir());
        prepare_host_path("v", &dir, HostPathKind::Directory).expect("exists");
        let file = tmp.path().join("file");
        prepare_host_path("v", &file, HostPathKind::FileOrCreate).expect("created");
        assert!(file.is_file());
        prepare_host_path("v", &file, HostPathKind::File).expect("exists");
        let missing = tmp.path().join("nope");
        let err = prepare_host_path("v", &missing, HostPathKind::Directory).expect_err("absent");
        assert_eq!(
            err.to_string(),
            format!(
                "hostPath volume \"v\": {} is not a directory (hostPath type Directory)",
                missing.display()
            )
        );
        prepare_host_path("v", &dir, HostPathKind::File).expect_err("a directory");
        prepare_host_path("v", &file, HostPathKind::Socket).expect_err("a file");
        prepare_host_path(
            "v",
            &tmp.path().join("no/parent"),
            HostPathKind::FileOrCreate,
        )
        .expect_err("the parent is not created");
        let unchecked = tmp.path().join("plain");
        prepare_host_path("v", &unchecked, HostPathKind::Unchecked).expect("created");
        assert!(unchecked.is_dir());
    }

    #[test]
    fn every_container_names_its_owner_and_whether_it_is_kept() {
        use crate::run::ownership::{Claim, RUN_ID_LABEL};
        let labels = |keep| -> std::collections::BTreeMap<String, String> {
            holder_config("nap", "busybox", &PodSettings::default(), keep)
                .labels
                .expect("labels")
                .into_iter()
                .collect()
        };
        let plain = labels(false);
        assert_eq!(plain[RUN_LABEL], "nap");
        assert_eq!(plain[RUN_ID_LABEL], Owner::current().run_id);
        assert_eq!(
            Claim::from_labels(&plain),
            Claim::Owned {
                owner: Owner::current().clone(),
                kept: false
            }
        );
        assert!(matches!(
            Claim::from_labels(&labels(true)),
            Claim::Owned { kept: true, .. }
        ));
    }

    #[test]
    fn pod_settings_become_groups_hosts_and_dns() {
        let pod = PodSettings {
            fs_group: Some(10),
            supplemental_groups: vec![20],
            host_aliases: vec![("db.test".into(), "10.0.0.1".into())],
            dns: crate::run::DnsSettings {
                nameservers: vec!["192.0.2.1".into()],
                ..Default::default()
            },
            host_network: false,
        };
        assert_eq!(group_add(&pod), Some(vec!["10".into(), "20".into()]));
        assert_eq!(group_add(&PodSettings::default()), None);
        let files = own_network(&pod);
        assert_eq!(files.extra_hosts, Some(vec!["db.test:10.0.0.1".into()]));
        assert_eq!(files.dns, Some(vec!["192.0.2.1".into()]));
        assert_eq!(files.dns_search, None);
        assert_eq!(files.network_mode, None, "a network namespace of its own");
    }

    #[test]
    fn host_network_puts_whatever_owns_the_namespace_on_the_hosts() {
        let pod = PodSettings {
            host_network: true,
            ..PodSettings::default()
        };
        let holder = holder_config("tr", "busybox", &pod, false);
        assert_eq!(
            holder.host_config.and_then(|h| h.network_mode).as_deref(),
            Some("host")
        );
        // A step without a holder owns its namespace, so it takes the host's too.
        assert_eq!(own_network(&pod).network_mode.as_deref(), Some("host"));
    }
}
