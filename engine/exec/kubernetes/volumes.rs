//! The Pod's volumes: adze's internal `emptyDir`s, the scripts, the ready file and the
//! credentials, one volume per bound workspace, and the Task's and `podTemplate`'s volumes
//! as written. Names must be unique across all of them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, DownwardAPIVolumeFile, DownwardAPIVolumeSource, EmptyDirVolumeSource,
    ObjectFieldSelector, PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Volume,
};

use super::claims::{claim, claim_name, owner_key};
use super::metadata::scripts_name;
use super::scripts::{SCRIPTS_MODE, SCRIPTS_VOLUME};
use super::{credentials, PodOptions, TranslateError};
use crate::plan::task::workspace_volume_name;
use crate::run::workspaces::HOST_DIR_PREFIX;
use crate::run::{ClusterWorkspace, TaskRunRequest};

/// `/workspace`: the default parent of workspaces and relative working directories.
pub const WORKSPACE_VOLUME: &str = "tekton-internal-workspace";
/// `/tekton/home`: one home shared by all steps.
pub const HOME_VOLUME: &str = "tekton-internal-home";
/// `/tekton/results`: task result files.
pub const RESULTS_VOLUME: &str = "tekton-internal-results";
/// `/tekton/steps`: each step's status directory, by name and by index.
pub const STEPS_VOLUME: &str = "tekton-internal-steps";
/// `/tekton/artifacts`: the Task's `provenance.json` (`$(artifacts.path)`).
pub const ARTIFACTS_VOLUME: &str = "tekton-internal-artifacts";
/// `/tekton/bin`: the entrypoint, copied there by `prepare`.
pub const BIN_VOLUME: &str = "tekton-internal-bin";
/// `/tekton/run/<i>`: step `i`'s ordering handshake and status directory, one volume per
/// step (this prefix and the index) as Tekton has them, so only step `i` can write it.
pub const RUN_VOLUME_PREFIX: &str = "tekton-internal-run-";
/// `/tekton/downward`: the ready file, from the Pod's `tekton.dev/ready` annotation.
pub const DOWNWARD_VOLUME: &str = "tekton-internal-downward";
/// The annotation the executor sets to [`READY_VALUE`] once the sidecars are ready.
pub const READY_ANNOTATION: &str = "tekton.dev/ready";
/// The value of [`READY_ANNOTATION`] that releases the first step.
pub const READY_VALUE: &str = "READY";

/// Step `i`'s run volume, `tekton-internal-run-<i>`.
pub fn run_volume(index: usize) -> String {
    format!("{RUN_VOLUME_PREFIX}{index}")
}

/// The internal `emptyDir` volumes shared by every step and where they are mounted (besides
/// each step's [`run_volume`]).
pub const INTERNAL: [(&str, &str); 6] = [
    (WORKSPACE_VOLUME, "/workspace"),
    (HOME_VOLUME, "/tekton/home"),
    (RESULTS_VOLUME, "/tekton/results"),
    (STEPS_VOLUME, "/tekton/steps"),
    (ARTIFACTS_VOLUME, "/tekton/artifacts"),
    (BIN_VOLUME, "/tekton/bin"),
];

/// What the Pod mounts besides the internal directories.
pub struct Extras {
    /// The scripts ConfigMap exists.
    pub scripts: bool,
    /// The first step waits for the ready file.
    pub ready_file: bool,
}

/// The Pod's volumes, and the claims its `volumeClaimTemplate` bindings need.
pub fn pod_volumes(
    request: &TaskRunRequest,
    options: &PodOptions,
    labels: &BTreeMap<String, String>,
    extras: &Extras,
) -> Result<(Vec<Volume>, Vec<PersistentVolumeClaim>), TranslateError> {
    let mut volumes: Vec<Volume> = INTERNAL
        .iter()
        .map(|(name, _)| Volume {
            name: (*name).to_owned(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        })
        .chain((0..request.steps.len()).map(|i| Volume {
            name: run_volume(i),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        }))
        .collect();
    if extras.scripts {
        volumes.push(Volume {
            name: SCRIPTS_VOLUME.to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: scripts_name(&request.name, options.attempt),
                default_mode: Some(SCRIPTS_MODE),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        });
    }
    if extras.ready_file {
        volumes.push(ready_volume());
    }
    if !request.credentials.is_empty() {
        volumes.extend(credentials::volumes(request, options));
    }
    let mut claims: Vec<PersistentVolumeClaim> = Vec::new();
    for ws in &request.cluster.workspaces {
        let (volume, claim) = workspace_volume(ws, request, options, labels)?;
        volumes.push(volume);
        // Two Task workspaces bound to one PipelineRun binding share its one claim.
        claims.extend(claim.filter(|c| !claims.iter().any(|o| o.metadata.name == c.metadata.name)));
    }
    let internal = volumes.len();
    for v in &request.cluster.volumes {
        if let Some(clash) = volumes.iter().position(|o| o.name == v.name) {
            let other = if clash < internal {
                "a volume adze adds (internal or workspace)"
            } else {
                "another Task or podTemplate volume"
            };
            return Err(TranslateError::DuplicateVolume {
                name: v.name.clone(),
                other: other.to_owned(),
            });
        }
        volumes.push(v.clone());
    }
    Ok((volumes, claims))
}

/// The downward-API volume holding `ready`, empty until the annotation is set.
fn ready_volume() -> Volume {
    Volume {
        name: DOWNWARD_VOLUME.to_owned(),
        downward_api: Some(DownwardAPIVolumeSource {
            items: Some(vec![DownwardAPIVolumeFile {
                path: "ready".to_owned(),
                field_ref: Some(ObjectFieldSelector {
                    field_path: format!("metadata.annotations['{READY_ANNOTATION}']"),
                    ..ObjectFieldSelector::default()
                }),
                ..DownwardAPIVolumeFile::default()
            }]),
            ..DownwardAPIVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// The Pod volume of one bound workspace (`ws-<hash of its name>`, Tekton's
/// `$(workspaces.W.volume)`), and the claim to create first for a `volumeClaimTemplate`.
fn workspace_volume(
    ws: &ClusterWorkspace,
    request: &TaskRunRequest,
    options: &PodOptions,
    labels: &BTreeMap<String, String>,
) -> Result<(Volume, Option<PersistentVolumeClaim>), TranslateError> {
    let b = &ws.binding;
    let mut volume = Volume {
        name: workspace_volume_name(&ws.name),
        ..Volume::default()
    };
    let unsupported = |message: String| TranslateError::UnsupportedWorkspace {
        workspace: ws.name.clone(),
        message,
    };
    let sources = b.sources();
    if sources.len() != 1 {
        return Err(unsupported(if sources.is_empty() {
            "its binding has no volume source".to_owned()
        } else {
            format!("its binding has several sources ({})", sources.join(", "))
        }));
    }
    let mut claim_out = None;
    if let Some(empty_dir) = &b.empty_dir {
        volume.empty_dir = Some(empty_dir.clone());
    } else if let Some(pvc) = &b.persistent_volume_claim {
        if let Some(dir) = pvc.claim_name.strip_prefix(HOST_DIR_PREFIX) {
            return Err(unsupported(format!(
                "it is bound to the host directory \"{dir}\" (`-w NAME=DIR`), which a Pod on a \
                 cluster cannot see"
            )));
        }
        volume.persistent_volume_claim = Some(pvc.clone());
    } else if let Some(template) = &b.volume_claim_template {
        let name = claim_name(template, &b.name, &owner_key(request, options));
        volume.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
            claim_name: name.clone(),
            read_only: None,
        });
        claim_out = Some(claim(template, name, request, options, labels));
    } else if let Some(config_map) = &b.config_map {
        volume.config_map = Some(config_map.clone());
    } else if let Some(secret) = &b.secret {
        volume.secret = Some(secret.clone());
    } else if let Some(projected) = &b.projected {
        volume.projected = Some(projected.clone());
    } else if let Some(csi) = &b.csi {
        volume.csi = Some(csi.clone());
    }
    Ok((volume, claim_out))
}
