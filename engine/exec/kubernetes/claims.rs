//! The PersistentVolumeClaims of `volumeClaimTemplate` bindings: one per PipelineRun binding,
//! shared by every TaskRun of the run that binds it, deleted with the PipelineRun.
//!
//! The name is Tekton's: `<template name or "pvc">-<first 10 hex digits of
//! sha256(binding name + owner key)>`, where the owner key is the PipelineRun's uid (its name
//! when it has none, as for a run that exists only in adze's memory); a standalone TaskRun is
//! its own owner. So every TaskRun of one run computes the same name, and the executor
//! creates the claim once (a second create answers 409, which it ignores).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimSpec};
use sha2::{Digest, Sha256};

use super::metadata::object_meta;
use super::PodOptions;
use crate::run::TaskRunRequest;

/// The name of the claim a `volumeClaimTemplate` binding named `binding` gets.
pub fn claim_name(template: &PersistentVolumeClaim, binding: &str, owner_key: &str) -> String {
    let digest = Sha256::digest(format!("{binding}{owner_key}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let prefix = template
        .metadata
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or("pvc");
    format!("{prefix}-{}", &hex[..10])
}

/// The key claim names are derived from: the owning run's uid, or its name.
pub fn owner_key(request: &TaskRunRequest, options: &PodOptions) -> String {
    match &request.cluster.pipeline_run {
        Some(pr) => options
            .pipeline_run_owner
            .as_ref()
            .map(|o| o.uid.clone())
            .or_else(|| pr.uid.clone())
            .unwrap_or_else(|| pr.name.clone()),
        None => options
            .task_run_owner
            .as_ref()
            .map_or_else(|| request.name.clone(), |o| o.uid.clone()),
    }
}

/// The claim for `template` under `name`: the template's spec, labels and annotations, owned
/// by the PipelineRun (or the standalone TaskRun) when that object exists.
pub fn claim(
    template: &PersistentVolumeClaim,
    name: String,
    request: &TaskRunRequest,
    options: &PodOptions,
    labels: &BTreeMap<String, String>,
) -> PersistentVolumeClaim {
    let owner = match &request.cluster.pipeline_run {
        Some(_) => options.pipeline_run_owner.as_ref(),
        None => options.task_run_owner.as_ref(),
    };
    // The claim outlives this TaskRun: only the labels that hold for the whole run.
    let mut run_labels: BTreeMap<String, String> = labels
        .iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                super::metadata::MANAGED_BY_LABEL
                    | super::metadata::PIPELINE_RUN_LABEL
                    | super::metadata::RUN_ID_LABEL
            ) || request.cluster.pipeline_run.is_none()
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in template.metadata.labels.iter().flatten() {
        run_labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut metadata = object_meta(name, options, &run_labels, owner);
    metadata.annotations = template.metadata.annotations.clone();
    PersistentVolumeClaim {
        metadata,
        spec: Some(
            template
                .spec
                .clone()
                .unwrap_or_else(|| PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
                    ..PersistentVolumeClaimSpec::default()
                }),
        ),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_names_follow_tekton() {
        let mut template = PersistentVolumeClaim::default();
        let a = claim_name(&template, "shared", "uid-1");
        assert!(a.starts_with("pvc-") && a.len() == 14, "{a}");
        assert_eq!(a, claim_name(&template, "shared", "uid-1"));
        assert_ne!(a, claim_name(&template, "shared", "uid-2"));
        template.metadata.name = Some("cache".into());
        assert!(claim_name(&template, "shared", "uid-1").starts_with("cache-"));
    }
}
