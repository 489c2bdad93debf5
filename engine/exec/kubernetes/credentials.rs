//! The TaskRun's credential files (from its service account's Secrets, resolved by the
//! driver) as one Secret, `<taskrun>-credentials`.
//!
//! As in Tekton's Pod, each step has its own writable emptyDir at `/tekton/creds`
//! (`$(credentials.path)`, `tekton-creds-init-home-<i>`) and the Secret is mounted read-only
//! beside it at `/tekton/creds-secrets`; the entrypoint (`-creds_source`) copies the Secret
//! into `/tekton/creds` as the step's user, `.ssh/` files 0600, then into `$HOME`, as Tekton's
//! creds-init does. A Secret volume's files are root's and readable by all: ssh refuses such a
//! key to root (its owner), so mounting the Secret at `/tekton/creds` itself fails
//! `ssh-keygen -y -f $(credentials.path)/.ssh/id_x` in a root step. `HOME` is left as the image
//! sets it; nothing is placed under `/tekton/home` (Tekton does not either unless `HOME` is
//! `/tekton/home`). Keys are `credential-<i>` (a Secret key cannot hold `/`); the volume's
//! items put each key at its path.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, KeyToPath, Secret, SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::ByteString;

use super::metadata::{credentials_name, object_meta};
use super::PodOptions;
use crate::run::TaskRunRequest;

/// The Pod volume of the credentials Secret.
pub const CREDENTIALS_VOLUME: &str = "tekton-creds";
/// Where each step finds its own copy of the whole set (`$(credentials.path)`).
pub const CREDENTIALS_DIR: &str = "/tekton/creds";
/// Where the Secret itself is mounted, read-only: the entrypoint's `-creds_source`.
pub const CREDENTIALS_SOURCE_DIR: &str = "/tekton/creds-secrets";

/// Step `index`'s writable `/tekton/creds` (Tekton's name for it).
fn copy_volume(index: usize) -> String {
    format!("tekton-creds-init-home-{index}")
}

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

/// The Pod volumes: the Secret, each key at its relative path and readable by any user (the
/// entrypoint of each step copies the files as the step's user, private keys 0600 in the
/// copies), and each step's emptyDir for its copy at `/tekton/creds`.
pub fn volumes(request: &TaskRunRequest, options: &PodOptions) -> Vec<Volume> {
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
    let secret = Volume {
        name: CREDENTIALS_VOLUME.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(credentials_name(&request.name, options.attempt)),
            items: Some(items),
            default_mode: Some(0o644),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    };
    let copies = (0..request.steps.len()).map(|i| Volume {
        name: copy_volume(i),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    });
    std::iter::once(secret).chain(copies).collect()
}

/// Step `index`'s mounts: the Secret at `/tekton/creds-secrets`, read-only, and its own copy
/// at `/tekton/creds`, which the step may change (Tekton's example scripts do).
pub fn mounts(index: usize) -> Vec<VolumeMount> {
    vec![
        VolumeMount {
            name: CREDENTIALS_VOLUME.to_owned(),
            mount_path: CREDENTIALS_SOURCE_DIR.to_owned(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
        VolumeMount {
            name: copy_volume(index),
            mount_path: CREDENTIALS_DIR.to_owned(),
            ..VolumeMount::default()
        },
    ]
}
