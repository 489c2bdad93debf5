//! A Pod's volumes as host paths under its state directory, bind-mounted into its containers.
//!
//! # Design
//!
//! - `emptyDir` (either medium) is a directory writable by every user; `configMap`, `secret`,
//!   `downwardAPI` and `projected` are written once as plain files with their modes;
//!   `persistentVolumeClaim` is the directory [`PodHost::claim_dir`] names; `hostPath` is
//!   checked (and created) as its `type` says.
//! - A ConfigMap, Secret or claim that does not exist (and is not optional) is a
//!   [`VolumeError`]: the Pod stays Pending and the kubelet tries again, as Kubernetes does.
//!
//! # Not yet
//!
//! - Updates of ConfigMap and Secret files (written once when the Pod starts; downward-API
//!   files follow the Pod's labels and annotations, see [`refresh_downward`]); no `..data`
//!   symlinks.
//! - `medium: Memory` is a host directory, not a tmpfs (Docker's tmpfs mounts cannot be shared
//!   between containers); `sizeLimit` is not enforced.
//! - `serviceAccountToken` projections hold a token issued by the API server for the Pod's
//!   ServiceAccount and bound to the Pod (a placeholder under a host that issues none, such
//!   as the tests' stand-ins); it is not refreshed.
//! - Every other volume type (csi, ephemeral, nfs, image, …) keeps the Pod Pending.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use k8s_openapi::api::core::v1::{DownwardAPIVolumeFile, KeyToPath, Pod, Volume};

use super::downward::{self, Addresses};
use super::objects::{self, Kind};
use super::service_account;
use super::PodHost;

/// What a service-account token file holds when the host issues no tokens.
pub const PLACEHOLDER_TOKEN: &str = "kube-sim-placeholder-service-account-token";

/// Why a Pod's volumes cannot be set up yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum VolumeError {
    /// A claim is missing: the Pod cannot be scheduled (`PodScheduled` False).
    Unschedulable(String),
    /// Anything else: the containers wait in `ContainerCreating` with this message.
    Mount(String),
}

/// One prepared volume.
#[derive(Debug, Clone)]
pub(super) struct HostVolume {
    /// Its host path.
    pub path: PathBuf,
    /// Mounted read-only whatever the mount says (ConfigMap, Secret, downward API files).
    pub read_only: bool,
}

/// The Pod's volumes by name.
pub(super) type PodVolumes = HashMap<String, HostVolume>;

/// Prepares every volume of `pod` under `root` (its state directory's `volumes`).
pub(super) fn prepare(
    pod: &Pod,
    root: &Path,
    host: &dyn PodHost,
) -> Result<PodVolumes, VolumeError> {
    let spec = pod.spec.as_ref();
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let fs_group = spec
        .and_then(|s| s.security_context.as_ref())
        .and_then(|s| s.fs_group)
        .and_then(|g| u32::try_from(g).ok());
    let mut volumes = PodVolumes::new();
    for volume in spec.and_then(|s| s.volumes.as_ref()).into_iter().flatten() {
        let dir = root.join(&volume.name);
        let io_error = |e: io::Error| {
            VolumeError::Mount(format!(
                "MountVolume.SetUp failed for volume \"{}\" : {e}",
                volume.name
            ))
        };
        let prepared = prepare_one(pod, namespace, volume, &dir, host)?;
        let prepared = match prepared {
            Prepared::Managed { read_only } => {
                if let Some(gid) = fs_group {
                    own_by_group(&dir, gid).map_err(io_error)?;
                }
                HostVolume {
                    path: dir,
                    read_only,
                }
            }
            Prepared::External(path) => HostVolume {
                path,
                read_only: false,
            },
        };
        volumes.insert(volume.name.clone(), prepared);
    }
    if let Some(access) = service_account::prepare(pod, root, host)? {
        volumes.insert(service_account::VOLUME.to_owned(), access);
    }
    Ok(volumes)
}

enum Prepared {
    /// Written under the Pod's directory.
    Managed { read_only: bool },
    /// A path the kubelet does not own (hostPath, claim).
    External(PathBuf),
}

fn prepare_one(
    pod: &Pod,
    namespace: &str,
    volume: &Volume,
    dir: &Path,
    host: &dyn PodHost,
) -> Result<Prepared, VolumeError> {
    let name = &volume.name;
    let fail = |why: String| {
        VolumeError::Mount(format!(
            "MountVolume.SetUp failed for volume \"{name}\" : {why}"
        ))
    };
    let io = |e: io::Error| fail(e.to_string());
    if volume.empty_dir.is_some() {
        fs::create_dir_all(dir).map_err(io)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).map_err(io)?;
        return Ok(Prepared::Managed { read_only: false });
    }
    if let Some(claim) = &volume.persistent_volume_claim {
        return match host.claim_dir(namespace, &claim.claim_name) {
            Some(path) => Ok(Prepared::External(path)),
            None => Err(VolumeError::Unschedulable(format!(
                "persistentvolumeclaim \"{}\" not found",
                claim.claim_name
            ))),
        };
    }
    if let Some(host_path) = &volume.host_path {
        let path = PathBuf::from(&host_path.path);
        check_host_path(&path, host_path.type_.as_deref().unwrap_or("")).map_err(fail)?;
        return Ok(Prepared::External(path));
    }
    let mut files: Vec<(String, Vec<u8>, i32)> = Vec::new();
    let object = |kind, name: &str, items: Option<&[KeyToPath]>, mode, optional: Option<bool>| {
        object_files(
            host,
            kind,
            namespace,
            name,
            items,
            mode,
            optional == Some(true),
        )
        .map_err(fail)
    };
    if let Some(source) = &volume.config_map {
        let mode = source.default_mode.unwrap_or(0o644);
        files = object(
            Kind::ConfigMap,
            &source.name,
            source.items.as_deref(),
            mode,
            source.optional,
        )?;
    } else if let Some(source) = &volume.secret {
        let mode = source.default_mode.unwrap_or(0o644);
        let name = source.secret_name.clone().unwrap_or_default();
        files = object(
            Kind::Secret,
            &name,
            source.items.as_deref(),
            mode,
            source.optional,
        )?;
    } else if let Some(source) = &volume.downward_api {
        let mode = source.default_mode.unwrap_or(0o644);
        files =
            downward_files(pod, source.items.as_deref().unwrap_or_default(), mode).map_err(fail)?;
    } else if let Some(source) = &volume.projected {
        let mode = source.default_mode.unwrap_or(0o644);
        for projection in source.sources.iter().flatten() {
            if let Some(p) = &projection.config_map {
                files.extend(object(
                    Kind::ConfigMap,
                    &p.name,
                    p.items.as_deref(),
                    mode,
                    p.optional,
                )?);
            } else if let Some(p) = &projection.secret {
                files.extend(object(
                    Kind::Secret,
                    &p.name,
                    p.items.as_deref(),
                    mode,
                    p.optional,
                )?);
            } else if let Some(p) = &projection.downward_api {
                files.extend(
                    downward_files(pod, p.items.as_deref().unwrap_or_default(), mode)
                        .map_err(fail)?,
                );
            } else if let Some(p) = &projection.service_account_token {
                let token = host
                    .service_account_token(
                        pod,
                        p.audience.as_deref().filter(|a| !a.is_empty()),
                        p.expiration_seconds.unwrap_or(3600),
                    )
                    .map_err(|e| fail(format!("failed to fetch token: {e}")))?
                    .unwrap_or_else(|| PLACEHOLDER_TOKEN.to_owned());
                files.push((p.path.clone(), token.into_bytes(), mode));
            } else {
                return Err(fail(
                    "only configMap, secret, downwardAPI and serviceAccountToken projections are supported by kube-sim".into(),
                ));
            }
        }
    } else {
        return Err(fail(format!(
            "the volume type is not supported by kube-sim's kubelet ({}); use emptyDir, configMap, \
             secret, projected, downwardAPI, persistentVolumeClaim or hostPath",
            volume_type(volume)
        )));
    }
    write_files(dir, &files).map_err(io)?;
    Ok(Prepared::Managed { read_only: true })
}

/// The JSON name of the volume's source, for the refusal message.
fn volume_type(volume: &Volume) -> String {
    let value = serde_json::to_value(volume).unwrap_or_default();
    value
        .as_object()
        .and_then(|o| o.keys().find(|k| *k != "name").cloned())
        .unwrap_or_else(|| "no source".into())
}

/// `items` (or every key) of `data` as files; a missing key is an error unless optional.
fn key_files(
    data: &[(String, Vec<u8>)],
    items: Option<&[KeyToPath]>,
    mode: i32,
    optional: bool,
    kind: Kind,
) -> Result<Vec<(String, Vec<u8>, i32)>, String> {
    match items {
        None => Ok(data
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), mode))
            .collect()),
        Some(items) => {
            let mut files = Vec::new();
            for item in items {
                match data.iter().find(|(k, _)| *k == item.key) {
                    Some((_, v)) => {
                        files.push((item.path.clone(), v.clone(), item.mode.unwrap_or(mode)))
                    }
                    None if optional => {}
                    None => {
                        return Err(format!(
                            "{} references non-existent config key: {}",
                            kind.volume_name(),
                            item.key
                        ))
                    }
                }
            }
            Ok(files)
        }
    }
}

/// The files of a ConfigMap or Secret volume (or projection); a missing object is an error
/// unless optional.
fn object_files(
    host: &dyn PodHost,
    kind: Kind,
    namespace: &str,
    name: &str,
    items: Option<&[KeyToPath]>,
    mode: i32,
    optional: bool,
) -> Result<Vec<(String, Vec<u8>, i32)>, String> {
    match objects::entries(host, kind, namespace, name) {
        Some(data) => key_files(&data, items, mode, optional, kind),
        None if optional => Ok(Vec::new()),
        None => Err(kind.not_found(name)),
    }
}

fn downward_files(
    pod: &Pod,
    items: &[DownwardAPIVolumeFile],
    mode: i32,
) -> Result<Vec<(String, Vec<u8>, i32)>, String> {
    let mut files = Vec::new();
    for item in items {
        let value = if let Some(f) = &item.field_ref {
            downward::field(pod, f, &Addresses::default(), true)?
        } else if let Some(r) = &item.resource_field_ref {
            downward::resource(pod, None, r)?
        } else {
            return Err(format!(
                "downwardAPI item \"{}\" names neither fieldRef nor resourceFieldRef",
                item.path
            ));
        };
        files.push((
            item.path.clone(),
            value.into_bytes(),
            item.mode.unwrap_or(mode),
        ));
    }
    Ok(files)
}

/// A relative path that stays inside its volume.
fn inside(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Writes the files afresh (a retry starts from an empty directory).
fn write_files(dir: &Path, files: &[(String, Vec<u8>, i32)]) -> io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    for (path, bytes, mode) in files {
        write_file(dir, path, bytes, *mode)?;
    }
    Ok(())
}

/// Replaces one file under `dir` at once (a reader sees the old content or the new one).
fn write_file(dir: &Path, path: &str, bytes: &[u8], mode: i32) -> io::Result<()> {
    if !inside(path) {
        return Err(io::Error::other(format!(
            "file path \"{path}\" must be relative and may not contain '..'"
        )));
    }
    let file = dir.join(path);
    if let Some(parent) = file.parent() {
        fs::create_dir_all(parent)?;
    }
    let staged = file.with_file_name(format!(
        "..{}.tmp",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    fs::write(&staged, bytes)?;
    let mode = u32::try_from(mode).unwrap_or(0o644) & 0o7777;
    fs::set_permissions(&staged, fs::Permissions::from_mode(mode))?;
    fs::rename(&staged, &file)
}

/// True when a volume of `pod` holds downward-API files, which follow its metadata.
pub(super) fn has_downward(pod: &Pod) -> bool {
    downward_volumes(pod).next().is_some()
}

/// `(volume name, default mode, items)` of every downward-API source of `pod`.
fn downward_volumes(pod: &Pod) -> impl Iterator<Item = (&str, i32, &[DownwardAPIVolumeFile])> {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .flat_map(|v| {
            let plain = v.downward_api.as_ref().map(|d| {
                (
                    v.name.as_str(),
                    d.default_mode.unwrap_or(0o644),
                    d.items.as_deref().unwrap_or_default(),
                )
            });
            let projected = v.projected.iter().flat_map(move |p| {
                let mode = p.default_mode.unwrap_or(0o644);
                p.sources
                    .iter()
                    .flatten()
                    .filter_map(move |s| s.downward_api.as_ref())
                    .map(move |d| {
                        (
                            v.name.as_str(),
                            mode,
                            d.items.as_deref().unwrap_or_default(),
                        )
                    })
            });
            plain.into_iter().chain(projected)
        })
}

/// Rewrites the downward-API files under `root` from `pod` as it is now (its labels and
/// annotations changed), as the kubelet refreshes them; other files stay as they are.
pub(super) fn refresh_downward(pod: &Pod, root: &Path) -> io::Result<()> {
    for (volume, mode, items) in downward_volumes(pod) {
        let files = downward_files(pod, items, mode).map_err(io::Error::other)?;
        for (path, bytes, mode) in files {
            write_file(&root.join(volume), &path, &bytes, mode)?;
        }
    }
    Ok(())
}

/// Gives the tree to group `gid` with the set-group-ID bit on directories, as the kubelet
/// does for `fsGroup`.
fn own_by_group(root: &Path, gid: u32) -> io::Result<()> {
    let meta = fs::symlink_metadata(root)?;
    std::os::unix::fs::lchown(root, None, Some(gid))?;
    let mode = meta.permissions().mode();
    if meta.is_dir() {
        fs::set_permissions(root, fs::Permissions::from_mode(mode | 0o2070))?;
        for entry in fs::read_dir(root)? {
            own_by_group(&entry?.path(), gid)?;
        }
    } else {
        fs::set_permissions(root, fs::Permissions::from_mode(mode | 0o040))?;
    }
    Ok(())
}

/// Checks a `hostPath` as its `type` says, creating what `*OrCreate` (and no type) asks for.
fn check_host_path(path: &Path, kind: &str) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    let found = fs::metadata(path).ok().map(|m| m.file_type());
    let shown = path.display();
    match (kind, found) {
        ("" | "DirectoryOrCreate", None) => {
            fs::create_dir_all(path)
                .map_err(|e| format!("cannot create directory {shown}: {e}"))?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())
        }
        ("FileOrCreate", None) => fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map(drop)
            .map_err(|e| format!("cannot create file {shown}: {e}")),
        ("", Some(_)) => Ok(()),
        ("Directory" | "DirectoryOrCreate", Some(t)) if t.is_dir() => Ok(()),
        ("File" | "FileOrCreate", Some(t)) if t.is_file() => Ok(()),
        ("Socket", Some(t)) if t.is_socket() => Ok(()),
        ("CharDevice", Some(t)) if t.is_char_device() => Ok(()),
        ("BlockDevice", Some(t)) if t.is_block_device() => Ok(()),
        (
            "Directory" | "DirectoryOrCreate" | "File" | "FileOrCreate" | "Socket" | "CharDevice"
            | "BlockDevice",
            _,
        ) => Err(format!(
            "hostPath type check failed: {shown} is not a {kind}"
        )),
        (other, _) => Err(format!("hostPath type \"{other}\" is not a known type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_select_keys_and_a_missing_key_fails_unless_optional() {
        let data = vec![
            ("a".to_owned(), b"1".to_vec()),
            ("b".to_owned(), b"2".to_vec()),
        ];
        let items = [KeyToPath {
            key: "b".into(),
            path: "dir/b.txt".into(),
            mode: Some(0o600),
        }];
        assert_eq!(
            key_files(&data, Some(&items), 0o644, false, Kind::ConfigMap).unwrap(),
            vec![("dir/b.txt".to_owned(), b"2".to_vec(), 0o600)]
        );
        assert_eq!(
            key_files(&data, None, 0o644, false, Kind::ConfigMap)
                .unwrap()
                .len(),
            2
        );
        let missing = [KeyToPath {
            key: "z".into(),
            path: "z".into(),
            mode: None,
        }];
        assert_eq!(
            key_files(&data, Some(&missing), 0o644, false, Kind::ConfigMap).unwrap_err(),
            "configMap references non-existent config key: z"
        );
        assert!(
            key_files(&data, Some(&missing), 0o644, true, Kind::ConfigMap)
                .unwrap()
                .is_empty()
        );
        assert!(!inside("../x"));
        assert!(!inside("/etc/x"));
        assert!(inside("a/b"));
    }
}
