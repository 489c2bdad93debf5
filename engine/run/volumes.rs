//! The volumes of a TaskRun (the Task's own `volumes` and its `podTemplate.volumes`), resolved
//! to what the executor creates.
//!
//! # Design
//!
//! - A volume with no source is an `emptyDir`, Kubernetes' default; `emptyDir` becomes a
//!   directory private to the TaskRun.
//! - `configMap`, `secret` and `projected` (ConfigMap and Secret sources) become files read
//!   from the documents loaded beside the pipeline, as for workspaces.
//! - `hostPath` is a bind mount of that path of this machine. On a cluster it would be a path
//!   of whichever node runs the pod, so the drivers warn about every one before anything
//!   starts, and refuse them under `--strict` ([`host_path_policy`]).
//! - Every other source needs a cluster; it is refused before anything starts, naming the
//!   volume, its source and what to use instead ([`check`]).
//! - Task volumes and podTemplate volumes share one namespace: a name given by both is
//!   refused, as Tekton's pod builder refuses duplicate volumes.
//!
//! # Invariants
//!
//! - [`check`] and [`task_volumes`] refuse the same volumes, so what passed the up-front
//!   check never fails here for its source.

use k8s_openapi::api::core::v1 as corev1;

use super::config_data::{self, ConfigKind};
use super::workspaces::projected_files;
use super::{HostPathKind, Progress, ProgressSink, RunError, TaskVolume, VolumeSource};
use crate::load::Bundle;

/// A `hostPath` volume a run mounts: what the warning (or the `--strict` refusal) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPathUse {
    /// The volume's name.
    pub volume: String,
    /// The host path.
    pub path: String,
    /// The TaskRun or pipeline task it belongs to.
    pub needed_by: String,
}

impl HostPathUse {
    /// The warning printed when the run goes ahead.
    pub fn warning(&self) -> String {
        format!(
            "hostPath volume \"{}\" ({}) mounts host path {} into the containers; a cluster \
             would mount that path of whichever node runs the pod",
            self.volume, self.needed_by, self.path
        )
    }

    /// The error under `--strict`.
    pub fn refusal(&self) -> RunError {
        RunError::Volume {
            volume: self.volume.clone(),
            needed_by: self.needed_by.clone(),
            message: format!(
                "hostPath {} is refused under --strict (it depends on the machine that runs \
                 the pod); bind a workspace with `-w NAME=DIR` instead, or run without --strict",
                self.path
            ),
        }
    }
}

/// Before anything starts: refuses the first `hostPath` volume under `--strict`, otherwise
/// warns about each one.
pub fn host_path_policy(
    uses: &[HostPathUse],
    strict: bool,
    progress: &ProgressSink,
) -> Result<(), RunError> {
    if let (true, Some(first)) = (strict, uses.first()) {
        return Err(first.refusal());
    }
    for u in uses {
        progress.send(Progress::Warning {
            task_run: None,
            message: u.warning(),
        });
    }
    Ok(())
}

/// The name of the volume source `v` sets (`None`: no source, an `emptyDir` by default).
pub fn source_name(v: &corev1::Volume) -> Option<&'static str> {
    let sources: [(&'static str, bool); 30] = [
        ("awsElasticBlockStore", v.aws_elastic_block_store.is_some()),
        ("azureDisk", v.azure_disk.is_some()),
        ("azureFile", v.azure_file.is_some()),
        ("cephfs", v.cephfs.is_some()),
        ("cinder", v.cinder.is_some()),
        ("configMap", v.config_map.is_some()),
        ("csi", v.csi.is_some()),
        ("downwardAPI", v.downward_api.is_some()),
        ("emptyDir", v.empty_dir.is_some()),
        ("ephemeral", v.ephemeral.is_some()),
        ("fc", v.fc.is_some()),
        ("flexVolume", v.flex_volume.is_some()),
        ("flocker", v.flocker.is_some()),
        ("gcePersistentDisk", v.gce_persistent_disk.is_some()),
        ("gitRepo", v.git_repo.is_some()),
        ("glusterfs", v.glusterfs.is_some()),
        ("hostPath", v.host_path.is_some()),
        ("image", v.image.is_some()),
        ("iscsi", v.iscsi.is_some()),
        ("nfs", v.nfs.is_some()),
        ("persistentVolumeClaim", v.persistent_volume_claim.is_some()),
        ("photonPersistentDisk", v.photon_persistent_disk.is_some()),
        ("portworxVolume", v.portworx_volume.is_some()),
        ("projected", v.projected.is_some()),
        ("quobyte", v.quobyte.is_some()),
        ("rbd", v.rbd.is_some()),
        ("scaleIO", v.scale_io.is_some()),
        ("secret", v.secret.is_some()),
        ("storageos", v.storageos.is_some()),
        ("vsphereVolume", v.vsphere_volume.is_some()),
    ];
    sources.iter().find(|(_, set)| *set).map(|(name, _)| *name)
}

/// The Task's volumes followed by the podTemplate's; a name used twice is refused.
pub fn merged(
    task: &[corev1::Volume],
    pod: &[corev1::Volume],
    needed_by: &str,
) -> Result<Vec<corev1::Volume>, RunError> {
    let mut all: Vec<corev1::Volume> = Vec::with_capacity(task.len() + pod.len());
    for (v, from) in task
        .iter()
        .map(|v| (v, "the Task"))
        .chain(pod.iter().map(|v| (v, "the podTemplate")))
    {
        if all.iter().any(|seen| seen.name == v.name) {
            return Err(RunError::Volume {
                volume: v.name.clone(),
                needed_by: needed_by.to_owned(),
                message: format!(
                    "{from} declares a volume of this name again; Tekton refuses a pod with \
                     two volumes of one name: rename one of them"
                ),
            });
        }
        all.push(v.clone());
    }
    Ok(all)
}

/// Refuses, before anything starts, every volume whose source needs a cluster, and returns
/// the `hostPath` volumes (to warn about, or to refuse under `--strict`).
pub fn check(volumes: &[corev1::Volume], needed_by: &str) -> Result<Vec<HostPathUse>, RunError> {
    let mut host_paths = Vec::new();
    for v in volumes {
        match source_name(v) {
            None | Some("emptyDir" | "configMap" | "secret" | "projected") => {}
            Some("hostPath") => {
                let source = v
                    .host_path
                    .as_ref()
                    .map(|h| (h.path.as_str(), h.type_.as_deref()));
                let (path, kind) = source.unwrap_or_default();
                if HostPathKind::parse(kind.unwrap_or_default()).is_none() {
                    return Err(RunError::Volume {
                        volume: v.name.clone(),
                        needed_by: needed_by.to_owned(),
                        message: format!(
                            "hostPath type \"{}\" is not a Kubernetes hostPath type; use one of \
                             DirectoryOrCreate, Directory, FileOrCreate, File, Socket, \
                             CharDevice, BlockDevice, or leave it empty",
                            kind.unwrap_or_default()
                        ),
                    });
                }
                if !path.starts_with('/') {
                    return Err(RunError::Volume {
                        volume: v.name.clone(),
                        needed_by: needed_by.to_owned(),
                        message: format!(
                            "hostPath path \"{path}\" is not absolute; give the full path"
                        ),
                    });
                }
                host_paths.push(HostPathUse {
                    volume: v.name.clone(),
                    path: path.to_owned(),
                    needed_by: needed_by.to_owned(),
                });
            }
            Some(other) => return Err(unsupported(v, other, needed_by)),
        }
    }
    Ok(host_paths)
}

/// The refusal of a volume source that needs a cluster.
fn unsupported(v: &corev1::Volume, source: &str, needed_by: &str) -> RunError {
    let instead = match source {
        "persistentVolumeClaim" | "ephemeral" => {
            "declare a workspace instead and bind it with `-w NAME=DIR` or `-w NAME=emptyDir`"
        }
        _ => "use an emptyDir volume, or a workspace bound with `-w NAME=DIR` for host files",
    };
    RunError::Volume {
        volume: v.name.clone(),
        needed_by: needed_by.to_owned(),
        message: format!(
            "{source} volumes need a Kubernetes cluster and cannot be provided by `adze run` \
             (it provides emptyDir, configMap, secret, projected and hostPath volumes); {instead}"
        ),
    }
}

/// Resolves the volumes of one TaskRun; `needed_by` names it in errors.
pub fn task_volumes(
    bundle: &Bundle,
    volumes: &[corev1::Volume],
    needed_by: &str,
) -> Result<Vec<TaskVolume>, RunError> {
    check(volumes, needed_by)?;
    volumes
        .iter()
        .map(|v| {
            let what = format!("volume \"{}\" of {needed_by}", v.name);
            let source = if let Some(cm) = &v.config_map {
                VolumeSource::Files(config_data::volume_files(
                    bundle,
                    ConfigKind::ConfigMap,
                    &cm.name,
                    cm.items.as_deref().unwrap_or_default(),
                    cm.optional == Some(true),
                    &what,
                )?)
            } else if let Some(secret) = &v.secret {
                VolumeSource::Files(config_data::volume_files(
                    bundle,
                    ConfigKind::Secret,
                    secret.secret_name.as_deref().unwrap_or_default(),
                    secret.items.as_deref().unwrap_or_default(),
                    secret.optional == Some(true),
                    &what,
                )?)
            } else if let Some(projected) = &v.projected {
                VolumeSource::Files(projected_files(bundle, projected, &what)?)
            } else if let Some(host) = &v.host_path {
                VolumeSource::HostPath {
                    path: host.path.clone().into(),
                    // `check` refused unknown types.
                    kind: HostPathKind::parse(host.type_.as_deref().unwrap_or_default())
                        .unwrap_or_default(),
                }
            } else {
                // `emptyDir`, or no source at all: Kubernetes' default.
                VolumeSource::EmptyDir
            };
            Ok(TaskVolume {
                name: v.name.clone(),
                source,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;

    fn volume(yaml: &str) -> corev1::Volume {
        serde_yaml_ng::from_str(yaml).expect("a volume")
    }

    #[test]
    fn empty_dirs_config_maps_and_sourceless_volumes_resolve() {
        let mut bundle = Bundle::new();
        bundle.add_source(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}\n".into(),
            Origin::Input,
        );
        let got = task_volumes(
            &bundle,
            &[
                volume("{name: scratch, emptyDir: {}}"),
                volume("{name: conf, configMap: {name: cm}}"),
                volume("{name: bare}"),
                volume("{name: p, projected: {sources: [{configMap: {name: cm}}]}}"),
            ],
            "TaskRun \"t\"",
        )
        .expect("resolves");
        assert_eq!(got[0].source, VolumeSource::EmptyDir);
        assert_eq!(
            got[1].source,
            VolumeSource::Files(vec![("k".into(), b"v".to_vec())])
        );
        assert_eq!(got[2].source, VolumeSource::EmptyDir);
        assert_eq!(got[3].source, got[1].source);
        let err = task_volumes(
            &bundle,
            &[volume("{name: s, secret: {secretName: nope}}")],
            "TaskRun \"t\"",
        )
        .expect_err("missing secret");
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn host_paths_resolve_with_their_type_and_are_reported() {
        let v = [volume(
            "{name: host, hostPath: {path: /srv/data, type: DirectoryOrCreate}}",
        )];
        let got = task_volumes(&Bundle::new(), &v, "TaskRun \"t\"").expect("resolves");
        assert_eq!(
            got[0].source,
            VolumeSource::HostPath {
                path: "/srv/data".into(),
                kind: HostPathKind::DirectoryOrCreate
            }
        );
        let uses = check(&v, "TaskRun \"t\"").expect("accepted");
        assert_eq!(
            uses[0].warning(),
            "hostPath volume \"host\" (TaskRun \"t\") mounts host path /srv/data into the \
             containers; a cluster would mount that path of whichever node runs the pod"
        );
        assert!(uses[0].refusal().to_string().contains("--strict"));
        let err = check(
            &[volume("{name: h, hostPath: {path: /x, type: Pipe}}")],
            "TaskRun \"t\"",
        )
        .expect_err("unknown type");
        assert!(err.to_string().contains("\"Pipe\""), "{err}");
        let err = check(&[volume("{name: h, hostPath: {path: x}}")], "TaskRun \"t\"")
            .expect_err("relative");
        assert!(err.to_string().contains("not absolute"), "{err}");
    }

    #[test]
    fn cluster_volumes_are_refused_by_name_and_source() {
        let err = check(
            &[volume("{name: shared, nfs: {server: nas, path: /export}}")],
            "pipeline task \"build\"",
        )
        .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "volume \"shared\" (pipeline task \"build\"): nfs volumes need a Kubernetes \
             cluster and cannot be provided by `adze run` (it provides emptyDir, configMap, \
             secret, projected and hostPath volumes); use an emptyDir volume, or a workspace \
             bound with `-w NAME=DIR` for host files"
        );
        let err = task_volumes(
            &Bundle::new(),
            &[volume("{name: c, persistentVolumeClaim: {claimName: x}}")],
            "TaskRun \"t\"",
        )
        .expect_err("refused");
        assert!(err.to_string().contains("declare a workspace"), "{err}");
    }

    #[test]
    fn a_name_in_both_the_task_and_the_pod_template_is_refused() {
        let task = [volume("{name: a}"), volume("{name: b}")];
        let pod = [volume("{name: c}")];
        let all = merged(&task, &pod, "TaskRun \"t\"").expect("distinct");
        let names: Vec<&str> = all.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let err = merged(&task, &[volume("{name: b}")], "TaskRun \"t\"").expect_err("twice");
        assert!(
            err.to_string()
                .starts_with("volume \"b\" (TaskRun \"t\"): the podTemplate declares"),
            "{err}"
        );
    }
}
