//! A Task's own `volumes`, resolved to what the executor creates for a TaskRun.
//!
//! `emptyDir` becomes a directory private to the TaskRun; `configMap` and `secret` become
//! files read from the ConfigMap/Secret documents loaded beside the pipeline, as for
//! workspaces. Other volume types need a cluster; they are refused before anything starts,
//! naming the volume.

use k8s_openapi::api::core::v1 as corev1;

use super::config_data::{self, ConfigKind};
use super::{RunError, TaskVolume, VolumeSource};
use crate::load::Bundle;

/// Resolves the volumes of one TaskRun; `needed_by` names it in errors.
pub fn task_volumes(
    bundle: &Bundle,
    volumes: &[corev1::Volume],
    needed_by: &str,
) -> Result<Vec<TaskVolume>, RunError> {
    volumes
        .iter()
        .map(|v| {
            let what = format!("volume \"{}\" of {needed_by}", v.name);
            let source = if v.empty_dir.is_some() {
                VolumeSource::EmptyDir
            } else if let Some(cm) = &v.config_map {
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
            } else {
                return Err(RunError::Volume {
                    volume: v.name.clone(),
                    needed_by: needed_by.to_owned(),
                    message: "only emptyDir, configMap and secret volumes can be provided \
                              without a cluster; use a workspace bound with `-w NAME=DIR` for \
                              host files"
                        .into(),
                });
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
    fn empty_dirs_and_config_maps_resolve_and_host_paths_are_refused() {
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
            ],
            "TaskRun \"t\"",
        )
        .expect("resolves");
        assert_eq!(got[0].source, VolumeSource::EmptyDir);
        assert_eq!(
            got[1].source,
            VolumeSource::Files(vec![("k".into(), b"v".to_vec())])
        );
        let err = task_volumes(
            &bundle,
            &[volume("{name: host, hostPath: {path: /etc}}")],
            "TaskRun \"t\"",
        )
        .expect_err("refused");
        assert!(err.to_string().contains("volume \"host\""), "{err}");
        let err = task_volumes(
            &bundle,
            &[volume("{name: s, secret: {secretName: nope}}")],
            "TaskRun \"t\"",
        )
        .expect_err("missing secret");
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
