//! A PipelineRun's workspace bindings, resolved to what each TaskRun mounts (§4.11).
//!
//! # Why
//!
//! On a cluster a binding becomes a volume: one PVC per `volumeClaimTemplate` shared by every
//! TaskRun of the run, an `emptyDir` per pod, the kubelet's view of a ConfigMap. Locally the
//! executor needs host paths and file contents instead, decided once by the driver so every
//! executor mounts the same thing.
//!
//! # Decisions
//!
//! - `emptyDir`, `volumeClaimTemplate` and `persistentVolumeClaim` all become one directory
//!   per PipelineRun binding, shared by every TaskRun that binds it. Tekton gives each TaskRun
//!   of an `emptyDir` binding its own empty volume, which makes the binding useless for
//!   passing files between tasks; locally sharing it is what pipeline authors expect, and a
//!   claim is shared on a cluster too.
//! - A host directory (`-w name=DIR`, written as the claim `dir:<DIR>`) is mounted as it is;
//!   it and its `subPath` must exist: a typo in a path must not silently create a tree in
//!   the user's files.
//! - ConfigMap and Secret bindings become files read from the loaded documents, mounted
//!   read-only as Kubernetes does.
//!
//! # Invariants
//!
//! - The run directory and every binding's `subPath` in it exist before a TaskRun starts, and
//!   are writable by any container user (steps may run as non-root).
//! - The run directory is removed when the [`RunDirectory`] is dropped, unless kept.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::config_data::{self, ConfigKind};
use super::executor::{ClusterWorkspace, WorkspaceMount, WorkspaceSource};
use super::host_file::FileError;
use super::RunError;
use crate::api::pipeline::{PipelineTask, WorkspacePipelineTaskBinding};
use crate::api::task::WorkspaceDeclaration;
use crate::api::{TaskSpec, WorkspaceBinding};
use crate::load::Bundle;
use crate::plan::scope::Scope;
use crate::subst::{self, Var};

/// The claim-name prefix `-w name=DIR` writes for a host directory.
pub const HOST_DIR_PREFIX: &str = crate::plan::task::HOST_DIR_CLAIM_PREFIX;

/// Distinguishes the run directories of runs driven by this process.
static DIR_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The host directory holding a run's shared workspaces; removed on drop unless kept.
#[derive(Debug)]
pub struct RunDirectory {
    path: PathBuf,
    keep: bool,
}

impl RunDirectory {
    /// Creates `adze-<run>-<pid>-<n>` under `base`, marked as this process's (see
    /// [`ownership`](super::ownership)) so it is collected should adze die before removing it.
    pub fn create(base: &Path, run: &str, keep: bool) -> io::Result<RunDirectory> {
        let unique = DIR_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("adze-{run}-{}-{unique}", std::process::id()));
        fs::create_dir_all(&path)?;
        super::ownership::write_marker(&path, keep, &[(super::leftovers::RUN_NAME_LABEL, run)])?;
        Ok(RunDirectory { path, keep })
    }

    /// Its root.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the directories of the run bindings it backs, so a full disk shows before any
    /// TaskRun starts.
    pub fn prepare(&self, bindings: &[WorkspaceBinding]) -> io::Result<()> {
        for b in bindings.iter().filter(|b| needs_run_directory(b)) {
            self.binding(b)?;
        }
        Ok(())
    }

    /// The directory backing a run binding, created if needed. Bindings of the same
    /// `persistentVolumeClaim` share one directory, as they share one volume on a cluster
    /// (a read-only binding sees what a writable binding of the claim wrote).
    fn binding(&self, binding: &WorkspaceBinding) -> io::Result<PathBuf> {
        // A claim name that is not one path component cannot be a Kubernetes name; it must
        // not lead outside the run directory either.
        let dir = match &binding.persistent_volume_claim {
            Some(claim)
                if !claim.claim_name.contains('/')
                    && !matches!(claim.claim_name.as_str(), "" | "." | "..") =>
            {
                self.path.join("claims").join(&claim.claim_name)
            }
            _ => self.path.join("workspaces").join(&binding.name),
        };
        create_shared_dir(&dir)?;
        Ok(dir)
    }
}

impl Drop for RunDirectory {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: a file a container made unremovable must not fail the run.
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Creates a directory (and its parents) that any container user can write.
fn create_shared_dir(dir: &Path) -> io::Result<()> {
    let named = |e| io::Error::from(FileError::new("create the directory", dir, e));
    fs::create_dir_all(dir).map_err(named)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).map_err(named)
}

/// True when a PipelineRun binding is backed by the run directory.
pub fn needs_run_directory(binding: &WorkspaceBinding) -> bool {
    host_dir(binding).is_none()
        && (binding.empty_dir.is_some()
            || binding.volume_claim_template.is_some()
            || binding.persistent_volume_claim.is_some())
}

/// The host directory of a `-w name=DIR` binding.
fn host_dir(binding: &WorkspaceBinding) -> Option<&str> {
    binding
        .persistent_volume_claim
        .as_ref()
        .and_then(|c| c.claim_name.strip_prefix(HOST_DIR_PREFIX))
}

/// Checks, before anything starts, that every ConfigMap/Secret a binding names was loaded.
pub fn check_bindings(bundle: &Bundle, bindings: &[WorkspaceBinding]) -> Result<(), RunError> {
    for b in bindings {
        let needed_by = format!("workspace \"{}\" of the PipelineRun", b.name);
        if let Some(cm) = &b.config_map {
            if cm.optional != Some(true)
                && !config_data::exists(bundle, ConfigKind::ConfigMap, &cm.name)
            {
                return Err(config_data::missing(
                    ConfigKind::ConfigMap,
                    &cm.name,
                    &needed_by,
                ));
            }
        }
        if let Some(s) = &b.secret {
            let name = s.secret_name.as_deref().unwrap_or_default();
            if s.optional != Some(true) && !config_data::exists(bundle, ConfigKind::Secret, name) {
                return Err(config_data::missing(ConfigKind::Secret, name, &needed_by));
            }
        }
    }
    Ok(())
}

/// Workspace propagation into an embedded taskSpec (§3.5): every workspace its strings
/// reference becomes a pipeline task binding `W→W` unless the task already binds `W`, and every
/// binding the PipelineRun satisfies but the spec does not declare becomes a declaration
/// `{name: W}`. Tekton lets an embedded spec use the run's workspaces without declaring them;
/// a referenced Task (`taskRef`) never gets this.
pub fn propagate(
    pt: &PipelineTask,
    spec: &mut TaskSpec,
    bindings: &[WorkspaceBinding],
) -> PipelineTask {
    let mut pt = pt.clone();
    let mut referenced: Vec<String> = Vec::new();
    spec.for_each_string(&mut |s: &str| {
        if !s.contains("$(workspaces.") {
            return;
        }
        for r in subst::scan(s).refs {
            if let Var::Workspace { name, .. } = r.var {
                if !referenced.contains(&name) {
                    referenced.push(name);
                }
            }
        }
    });
    for name in referenced {
        if !pt.workspaces.iter().any(|b| b.name == name) {
            pt.workspaces.push(WorkspacePipelineTaskBinding {
                name,
                ..WorkspacePipelineTaskBinding::default()
            });
        }
    }
    for b in &pt.workspaces {
        let pipeline_name = b.workspace.as_deref().unwrap_or(&b.name);
        let bound = bindings.iter().any(|rb| rb.name == pipeline_name);
        if bound && !spec.workspaces.iter().any(|d| d.name == b.name) {
            spec.workspaces.push(WorkspaceDeclaration {
                name: b.name.clone(),
                ..WorkspaceDeclaration::default()
            });
        }
    }
    pt
}

/// The files of a `projected` binding: its ConfigMap and Secret sources, merged in order
/// (a later source's file replaces an earlier one at the same path, as the kubelet does).
/// Other projections (downward API, service account tokens) need a cluster and are refused.
pub(super) fn projected_files(
    bundle: &Bundle,
    projected: &k8s_openapi::api::core::v1::ProjectedVolumeSource,
    needed_by: &str,
) -> Result<Vec<(String, Vec<u8>)>, RunError> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for source in projected.sources.as_deref().unwrap_or_default() {
        let more = if let Some(cm) = &source.config_map {
            config_data::volume_files(
                bundle,
                ConfigKind::ConfigMap,
                &cm.name,
                cm.items.as_deref().unwrap_or_default(),
                cm.optional == Some(true),
                needed_by,
            )?
        } else if let Some(secret) = &source.secret {
            config_data::volume_files(
                bundle,
                ConfigKind::Secret,
                &secret.name,
                secret.items.as_deref().unwrap_or_default(),
                secret.optional == Some(true),
                needed_by,
            )?
        } else {
            return Err(RunError::InvalidObject {
                kind: "projected",
                name: needed_by.to_owned(),
                message: "only configMap and secret projections can be provided without a \
                          cluster (no downwardAPI, serviceAccountToken or clusterTrustBundle)"
                    .into(),
            });
        };
        for (path, bytes) in more {
            files.retain(|(p, _)| *p != path);
            files.push((path, bytes));
        }
    }
    Ok(files)
}

/// A Task workspace with the run binding it resolves to.
struct Bound<'a> {
    /// The Task's declaration.
    decl: &'a WorkspaceDeclaration,
    /// The (Pipeline)Run's binding.
    run_binding: &'a WorkspaceBinding,
    /// The run's and the pipeline task's `subPath`s joined, substituted.
    sub_path: Option<String>,
}

/// The run binding of each of the Task's workspaces, in declaration order; unbound optional
/// workspaces are left out, an unbound required one or an escaping `subPath` is an error.
fn bound<'a>(
    pt: &PipelineTask,
    spec: &'a TaskSpec,
    bindings: &'a [WorkspaceBinding],
    scope: &Scope,
) -> Result<Vec<Bound<'a>>, RunError> {
    let mut out = Vec::new();
    for decl in &spec.workspaces {
        let error = |message: String| RunError::Workspace {
            workspace: decl.name.clone(),
            task: pt.name.clone(),
            message,
        };
        let task_binding = pt.workspaces.iter().find(|b| b.name == decl.name);
        let run_binding = task_binding.and_then(|tb| {
            let name = tb.workspace.as_deref().unwrap_or(&tb.name);
            bindings.iter().find(|b| b.name == name)
        });
        let (Some(task_binding), Some(run_binding)) = (task_binding, run_binding) else {
            if decl.optional == Some(true) {
                continue;
            }
            return Err(error(
                "the Task requires it but the PipelineRun does not bind it; bind it in the \
                 PipelineRun (or with `-w name=DIR`) and map it in the pipeline task's `workspaces`"
                    .into(),
            ));
        };
        let sub_path = join_sub_paths(
            run_binding.sub_path.as_deref().map(|s| scope.subst(s)),
            task_binding.sub_path.as_deref().map(|s| scope.subst(s)),
        );
        if sub_path
            .as_deref()
            .is_some_and(|s| s.starts_with('/') || s.split('/').any(|p| p == ".."))
        {
            return Err(error(format!(
                "subPath \"{}\" must be relative and stay inside the volume",
                sub_path.unwrap_or_default()
            )));
        }
        out.push(Bound {
            decl,
            run_binding,
            sub_path,
        });
    }
    Ok(out)
}

/// What a pipeline task's TaskRun mounts on a cluster: each bound Task workspace with the
/// run binding's own source, nothing read or created on this host.
pub fn cluster_workspaces(
    pt: &PipelineTask,
    spec: &TaskSpec,
    bindings: &[WorkspaceBinding],
    scope: &Scope,
) -> Result<Vec<ClusterWorkspace>, RunError> {
    Ok(bound(pt, spec, bindings, scope)?
        .into_iter()
        .map(|b| ClusterWorkspace {
            name: b.decl.name.clone(),
            binding: b.run_binding.clone(),
            mount_path: b.decl.effective_mount_path(),
            sub_path: b.sub_path,
            read_only: b.decl.read_only == Some(true),
        })
        .collect())
}

/// What a pipeline task's TaskRun mounts: one entry per bound Task workspace, in declaration
/// order. Unbound optional workspaces are left out (their `path` is empty).
pub fn task_run_mounts(
    bundle: &Bundle,
    pt: &PipelineTask,
    spec: &TaskSpec,
    bindings: &[WorkspaceBinding],
    run_dir: Option<&RunDirectory>,
    scope: &Scope,
) -> Result<Vec<WorkspaceMount>, RunError> {
    let mut mounts = Vec::new();
    for Bound {
        decl,
        run_binding,
        sub_path,
    } in bound(pt, spec, bindings, scope)?
    {
        let error = |message: String| RunError::Workspace {
            workspace: decl.name.clone(),
            task: pt.name.clone(),
            message,
        };
        let needed_by = format!(
            "workspace \"{}\" of pipeline task \"{}\"",
            decl.name, pt.name
        );
        let mut read_only = decl.read_only == Some(true);
        let source = if let Some(dir) = host_dir(run_binding) {
            let dir = std::path::absolute(dir)
                .map_err(|e| error(format!("cannot resolve the directory \"{dir}\": {e}")))?;
            let mounted = sub_path.as_deref().map_or(dir.clone(), |s| dir.join(s));
            if !mounted.is_dir() {
                return Err(error(format!(
                    "the host directory \"{}\" does not exist; create it first",
                    mounted.display()
                )));
            }
            WorkspaceSource::Dir(dir)
        } else if needs_run_directory(run_binding) {
            let Some(run_dir) = run_dir else {
                return Err(error(
                    "the run has no directory for shared workspaces".into(),
                ));
            };
            let dir = run_dir
                .binding(run_binding)
                .and_then(|d| {
                    if let Some(s) = &sub_path {
                        create_shared_dir(&d.join(s))?;
                    }
                    Ok(d)
                })
                .map_err(|e| error(format!("cannot create its directory: {e}")))?;
            WorkspaceSource::Dir(dir)
        } else if let Some(cm) = &run_binding.config_map {
            read_only = true;
            WorkspaceSource::Files(config_data::volume_files(
                bundle,
                ConfigKind::ConfigMap,
                &cm.name,
                cm.items.as_deref().unwrap_or_default(),
                cm.optional == Some(true),
                &needed_by,
            )?)
        } else if let Some(secret) = &run_binding.secret {
            read_only = true;
            WorkspaceSource::Files(config_data::volume_files(
                bundle,
                ConfigKind::Secret,
                secret.secret_name.as_deref().unwrap_or_default(),
                secret.items.as_deref().unwrap_or_default(),
                secret.optional == Some(true),
                &needed_by,
            )?)
        } else if let Some(projected) = &run_binding.projected {
            read_only = true;
            WorkspaceSource::Files(projected_files(bundle, projected, &needed_by)?)
        } else {
            let sources = run_binding.sources().join(", ");
            return Err(error(format!(
                "its binding ({}) is not supported by `adze run`; use emptyDir, \
                 volumeClaimTemplate, persistentVolumeClaim, configMap, secret or `-w name=DIR`",
                if sources.is_empty() {
                    "no source"
                } else {
                    &sources
                }
            )));
        };
        mounts.push(WorkspaceMount {
            name: decl.name.clone(),
            source,
            mount_path: decl.effective_mount_path(),
            sub_path,
            read_only,
        });
    }
    Ok(mounts)
}

/// `join(PipelineRun subPath, PipelineTask subPath)` (§4.11), empty parts dropped.
fn join_sub_paths(outer: Option<String>, inner: Option<String>) -> Option<String> {
    let parts: Vec<String> = [outer, inner]
        .into_iter()
        .flatten()
        .map(|s| s.trim_matches('/').to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_projected_binding_merges_its_config_map_and_secret_files() {
        let mut bundle = Bundle::new();
        bundle.add_source(
            "data.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: from-cm, b: cm-b}\n---\n\
             apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {b: from-secret}\n"
                .into(),
            crate::load::Origin::Input,
        );
        let projected: k8s_openapi::api::core::v1::ProjectedVolumeSource =
            serde_yaml_ng::from_str("sources: [{configMap: {name: cm}}, {secret: {name: s}}]")
                .unwrap();
        let files = projected_files(&bundle, &projected, "workspace w").expect("resolves");
        assert_eq!(
            files,
            vec![
                ("a".to_owned(), b"from-cm".to_vec()),
                ("b".to_owned(), b"from-secret".to_vec())
            ]
        );
        let token: k8s_openapi::api::core::v1::ProjectedVolumeSource =
            serde_yaml_ng::from_str("sources: [{serviceAccountToken: {path: t}}]").unwrap();
        assert!(projected_files(&bundle, &token, "workspace w").is_err());
    }

    #[test]
    fn an_embedded_spec_gets_the_bound_workspaces_it_references() {
        let pt: PipelineTask = serde_yaml_ng::from_str(
            "name: t\nworkspaces: [{name: mine, workspace: shared}]\ntaskSpec: {steps: []}\n",
        )
        .unwrap();
        let mut spec: TaskSpec = serde_yaml_ng::from_str(
            "workspaces: [{name: declared}]\nsteps:\n- image: x\n  script: cat $(workspaces.vault.path)/p $(workspaces.declared.path) $(workspaces.unbound.path)\n",
        )
        .unwrap();
        let bindings: Vec<WorkspaceBinding> = serde_yaml_ng::from_str(
            "[{name: vault, emptyDir: {}}, {name: shared, emptyDir: {}}, {name: declared, emptyDir: {}}]",
        )
        .unwrap();
        let pt = propagate(&pt, &mut spec, &bindings);
        let bound: Vec<&str> = pt.workspaces.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(bound, ["mine", "vault", "declared", "unbound"]);
        let declared: Vec<&str> = spec.workspaces.iter().map(|d| d.name.as_str()).collect();
        // `unbound` is not bound by the run, so it stays undeclared and its reference verbatim.
        assert_eq!(declared, ["declared", "mine", "vault"]);
    }

    #[test]
    fn sub_paths_join_like_filepath_join() {
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(join_sub_paths(s("a"), s("b/")), s("a/b"));
        assert_eq!(join_sub_paths(None, s("b")), s("b"));
        assert_eq!(join_sub_paths(s(""), None), None);
    }

    #[test]
    fn the_run_directory_is_removed_unless_kept() {
        let base = std::env::temp_dir();
        let dir = RunDirectory::create(&base, "t", false).unwrap();
        let binding = |yaml: &str| -> WorkspaceBinding { serde_yaml_ng::from_str(yaml).unwrap() };
        let shared = dir.binding(&binding("{name: ws, emptyDir: {}}")).unwrap();
        assert!(shared.is_dir());
        let a = dir
            .binding(&binding("{name: a, persistentVolumeClaim: {claimName: c}}"))
            .unwrap();
        let b = dir
            .binding(&binding("{name: b, persistentVolumeClaim: {claimName: c}}"))
            .unwrap();
        assert_eq!(a, b, "bindings of one claim share a directory");
        assert_ne!(a, shared);
        let root = dir.path().to_owned();
        drop(dir);
        assert!(!root.exists());
        let kept = RunDirectory::create(&base, "t", true).unwrap();
        let root = kept.path().to_owned();
        drop(kept);
        assert!(root.exists());
        fs::remove_dir_all(root).unwrap();
    }
}
