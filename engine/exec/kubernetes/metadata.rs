//! Names, labels and owner references of the objects a TaskRun becomes.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::{PodOptions, TranslateError};
use crate::plan::child_name;
use crate::run::TaskRunRequest;

/// `app.kubernetes.io/managed-by`: who created the object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`] on everything adze creates.
pub const MANAGED_BY: &str = "adze";
/// The TaskRun's name.
pub const TASK_RUN_LABEL: &str = "tekton.dev/taskRun";
/// The TaskRun's uid, when the TaskRun exists as an object.
pub const TASK_RUN_UID_LABEL: &str = "tekton.dev/taskRunUID";
/// The PipelineRun's name.
pub const PIPELINE_RUN_LABEL: &str = "tekton.dev/pipelineRun";
/// The pipeline task's name.
pub const PIPELINE_TASK_LABEL: &str = "tekton.dev/pipelineTask";
/// The referenced Task's name.
pub const TASK_LABEL: &str = "tekton.dev/task";
/// The id of the `adze run` invocation, which finds what it created (and what it left).
pub const RUN_ID_LABEL: &str = "adze.dev/run-id";

/// The Pod's name: `<taskrun>-pod`, and `<taskrun>-pod-retry<N>` for retry `N` (`attempt`
/// counts from 0) as Tekton names it, shortened with a hash past 63 characters as Tekton's
/// `kmeta.ChildName` does.
pub fn pod_name(task_run: &str, attempt: u32) -> String {
    child_name(task_run, &attempt_suffix("-pod", attempt))
}

/// The scripts ConfigMap's name: `<taskrun>-scripts` (`-scripts-retry<N>` for retry `N`, so
/// an attempt never meets the earlier one's while that is still being deleted).
pub fn scripts_name(task_run: &str, attempt: u32) -> String {
    child_name(task_run, &attempt_suffix("-scripts", attempt))
}

/// The credentials Secret's name: `<taskrun>-credentials` (`-credentials-retry<N>` for
/// retry `N`).
pub fn credentials_name(task_run: &str, attempt: u32) -> String {
    child_name(task_run, &attempt_suffix("-credentials", attempt))
}

/// `suffix` for the first attempt, `suffix-retry<N>` for retry `N`.
fn attempt_suffix(suffix: &str, attempt: u32) -> String {
    match attempt {
        0 => suffix.to_owned(),
        n => format!("{suffix}-retry{n}"),
    }
}

/// A container's name: `prefix` + `name`, at most 63 characters, no trailing non-alphanumeric
/// (Tekton's rule for `step-<name>` and `sidecar-<name>`).
pub fn container_name(prefix: &str, name: &str) -> String {
    let mut full = format!("{prefix}{name}");
    full.truncate(63);
    full.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// The labels of every object of the TaskRun: the contract's and Tekton's.
pub fn labels(
    request: &TaskRunRequest,
    options: &PodOptions,
) -> Result<BTreeMap<String, String>, TranslateError> {
    let mut labels = BTreeMap::new();
    labels.insert(MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned());
    labels.insert(TASK_RUN_LABEL.to_owned(), request.name.clone());
    if let Some(owner) = &options.task_run_owner {
        labels.insert(TASK_RUN_UID_LABEL.to_owned(), owner.uid.clone());
    }
    if let Some(pr) = &request.cluster.pipeline_run {
        labels.insert(PIPELINE_RUN_LABEL.to_owned(), pr.name.clone());
        labels.insert(
            PIPELINE_TASK_LABEL.to_owned(),
            request.pipeline_task.clone(),
        );
    }
    if let Some(task) = &request.cluster.task {
        labels.insert(TASK_LABEL.to_owned(), task.clone());
    }
    if !options.run_id.is_empty() {
        labels.insert(RUN_ID_LABEL.to_owned(), options.run_id.clone());
    }
    for (key, value) in &labels {
        if !valid_label_value(value) {
            return Err(TranslateError::InvalidLabel {
                key: key.clone(),
                value: value.clone(),
            });
        }
    }
    Ok(labels)
}

/// Kubernetes' label value rule: empty, or at most 63 of `[A-Za-z0-9-_.]` with alphanumeric
/// ends.
fn valid_label_value(value: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    value.is_empty()
        || (value.len() <= 63
            && alnum(value.chars().next())
            && alnum(value.chars().last())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
}

/// An owner reference that makes `owner` the controller of the object, and holds the owner's
/// deletion until the object is gone (foreground deletion).
pub fn controlled_by(owner: &OwnerReference) -> OwnerReference {
    OwnerReference {
        controller: Some(true),
        block_owner_deletion: Some(true),
        ..owner.clone()
    }
}

/// Metadata for one of the TaskRun's objects, owned by `owner` when there is one.
pub fn object_meta(
    name: String,
    options: &PodOptions,
    labels: &BTreeMap<String, String>,
    owner: Option<&OwnerReference>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(options.namespace.clone()),
        labels: Some(labels.clone()),
        owner_references: owner.map(|o| vec![controlled_by(o)]),
        ..ObjectMeta::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_names_are_cut_to_63_without_a_trailing_dash() {
        let name = format!("{}-x", "a".repeat(57));
        assert_eq!(
            container_name("step-", &name),
            format!("step-{}", "a".repeat(57))
        );
        assert_eq!(container_name("sidecar-", "db"), "sidecar-db");
    }

    #[test]
    fn a_retry_names_its_objects_after_the_attempt() {
        assert_eq!(pod_name("build", 0), "build-pod");
        assert_eq!(pod_name("build", 2), "build-pod-retry2");
        assert_eq!(scripts_name("build", 1), "build-scripts-retry1");
        assert_eq!(credentials_name("build", 1), "build-credentials-retry1");
    }

    #[test]
    fn label_values_follow_kubernetes() {
        assert!(valid_label_value("build-1.x_y"));
        assert!(valid_label_value(""));
        assert!(!valid_label_value("-a"));
        assert!(!valid_label_value(&"a".repeat(64)));
        assert!(!valid_label_value("a/b"));
    }
}
