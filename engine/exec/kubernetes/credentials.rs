//! The TaskRun's credential files (from its service account's Secrets, resolved by the
//! driver) as one Secret, `<taskrun>-credentials`.
//!
//! Steps see them twice, read-only: the whole set at `/tekton/creds`
//! (`$(credentials.path)`), and each file at its place under `/tekton/home` (`.docker/`,
//! `.gitconfig`, `.ssh/`, …) through a `subPath` mount, so `/tekton/home` itself stays a
//! writable `emptyDir`. Tekton copies the files into `$HOME` from its entrypoint instead;
//! adze's entrypoint does not, and `HOME` is left as the image sets it. Keys are
//! `credential-<i>` (a Secret key cannot hold `/`); the volume's items put each key at its
//! path. Private ssh keys (`.ssh/id_*`) get mode 0600, which ssh demands, so only a step
//! running as root (or as the Pod's `fsGroup`) can read them.

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
/// Where each file is also placed, at its relative path.
pub const HOME_DIR: &str = "/tekton/home";

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
            credentials_name(&request.name),
            options,
            labels,
            options.task_run_owner.as_ref(),
        ),
        data: Some(data),
        type_: Some("Opaque".to_owned()),
        ..Secret::default()
    })
}

/// The Pod volume of the Secret, each key at its relative path.
pub fn volume(request: &TaskRunRequest) -> Volume {
    let items = request
        .credentials
        .iter()
        .enumerate()
        .map(|(i, (path, _))| KeyToPath {
            key: key(i),
            path: path.clone(),
            mode: private_key(path).then_some(0o600),
        })
        .collect();
    Volume {
        name: CREDENTIALS_VOLUME.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(credentials_name(&request.name)),
            items: Some(items),
            default_mode: Some(0o644),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// A step's mounts of the credentials: the set, then each file under `/tekton/home`.
pub fn mounts(request: &TaskRunRequest) -> Vec<VolumeMount> {
    let set = VolumeMount {
        name: CREDENTIALS_VOLUME.to_owned(),
        mount_path: CREDENTIALS_DIR.to_owned(),
        read_only: Some(true),
        ..VolumeMount::default()
    };
    let files = request.credentials.iter().map(|(path, _)| VolumeMount {
        name: CREDENTIALS_VOLUME.to_owned(),
        mount_path: format!("{HOME_DIR}/{path}"),
        sub_path: Some(path.clone()),
        read_only: Some(true),
        ..VolumeMount::default()
    });
    std::iter::once(set).chain(files).collect()
}

/// ssh refuses a private key others can read.
fn private_key(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|f| f.starts_with("id_") && !f.ends_with(".pub"))
}
