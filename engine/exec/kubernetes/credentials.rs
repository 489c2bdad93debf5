//! The TaskRun's credential files (from its service account's Secrets, resolved by the
//! driver) as one Secret, `<taskrun>-credentials`.
//!
//! Steps see them read-only at `/tekton/creds` (`$(credentials.path)`); the entrypoint
//! copies them into the step's `$HOME` before the command runs, as the step's user, as
//! Tekton's does (private ssh keys 0600 in the copy), so they are found wherever the image
//! puts `$HOME` and a non-root step can use them. `HOME` is left as the image sets it; nothing
//! is placed under `/tekton/home` (Tekton does not either unless `HOME` is `/tekton/home`).
//! Keys are `credential-<i>` (a Secret key cannot hold `/`); the volume's items put each key
//! at its path.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{KeyToPath, Secret, SecretVolumeSource, Volume, VolumeMount};
use k8s_openapi::ByteString;

use super::metadata::{credentials_name, object_meta};
use super::PodOptions;
use crate::run::TaskRunRequest;

/// The Pod volume of the credentials Secret.
pub const CREDENTIALS_VOLUME: &str = "tekton-creds";
/// Where the whole set appears (`$(credentials.path)`).
pub const CREDENTIALS_DIR: &str = "/tekton/creds";

fn key(index: usize) -> String {
    format!("credential-{index}")
}

/// The credentials Secret; `None` when the TaskRun has no credential files.
pub fn secret(
    request: &TaskRunRequest,
    options: &PodOptions,
    labels: &BTreeMap<String, String>,
) -> Option<Secret> {
    if request.credentials.is_empty() {
        return None;
    }
    let data = request
        .credentials
        .iter()
        .enumerate()
        .map(|(i, (_, bytes))| (key(i), ByteString(bytes.clone())))
        .collect();
    Some(Secret {
        metadata: object_meta(
            credentials_name(&request.name, options.attempt),
            options,
            labels,
            options.task_run_owner.as_ref(),
        ),
        data: Some(data),
        type_: Some("Opaque".to_owned()),
        ..Secret::default()
    })
}

/// The Pod volume of the Secret, each key at its relative path, readable by any user: the
/// entrypoint of each step copies the files into its `$HOME` as the step's user (private
/// keys 0600 there), as Tekton's creds-init does from its readable secret volumes.
pub fn volume(request: &TaskRunRequest, options: &PodOptions) -> Volume {
    let items = request
        .credentials
        .iter()
        .enumerate()
        .map(|(i, (path, _))| KeyToPath {
            key: key(i),
            path: path.clone(),
            mode: None,
        })
        .collect();
    Volume {
        name: CREDENTIALS_VOLUME.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(credentials_name(&request.name, options.attempt)),
            items: Some(items),
            default_mode: Some(0o644),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// A step's mount of the credentials: the set at `/tekton/creds`, read-only.
pub fn mounts() -> Vec<VolumeMount> {
    vec![VolumeMount {
        name: CREDENTIALS_VOLUME.to_owned(),
        mount_path: CREDENTIALS_DIR.to_owned(),
        read_only: Some(true),
        ..VolumeMount::default()
    }]
}
