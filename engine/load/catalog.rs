//! Name lookup for `taskRef`, `pipelineRef` and step `ref`: loaded documents first, then
//! `--catalog` directories, then the catalog built into adze.

/// Task and Pipeline YAML shipped inside the binary: `(file name, text)`.
pub const BUILTIN: &[(&str, &str)] = &[];

/// The closest candidate to a misspelt name, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let d = if c.to_ascii_lowercase() == lower {
                0
            } else {
                strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase())
            };
            (d, c)
        })
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d < c.len())
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Field names Tekton objects use, for "did you mean" on unknown fields.
pub const FIELD_NAMES: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "params",
    "steps",
    "script",
    "image",
    "command",
    "args",
    "workingDir",
    "env",
    "envFrom",
    "value",
    "valueFrom",
    "computeResources",
    "volumeMounts",
    "volumeDevices",
    "securityContext",
    "imagePullPolicy",
    "timeout",
    "onError",
    "results",
    "when",
    "ref",
    "sidecars",
    "volumes",
    "stepTemplate",
    "workspaces",
    "description",
    "displayName",
    "default",
    "type",
    "properties",
    "enum",
    "mountPath",
    "readOnly",
    "optional",
    "subPath",
    "tasks",
    "finally",
    "runAfter",
    "taskRef",
    "taskSpec",
    "retries",
    "matrix",
    "include",
    "pipelineRef",
    "pipelineSpec",
    "workspace",
    "input",
    "operator",
    "values",
    "cel",
    "resolver",
    "timeouts",
    "pipeline",
    "taskRunTemplate",
    "taskRunSpecs",
    "pipelineTaskName",
    "serviceAccountName",
    "podTemplate",
    "status",
    "statusMessage",
    "stepSpecs",
    "sidecarSpecs",
    "emptyDir",
    "persistentVolumeClaim",
    "volumeClaimTemplate",
    "configMap",
    "secret",
    "projected",
    "csi",
    "claimName",
    "secretName",
    "items",
    "key",
    "path",
    "managedBy",
    "stdoutConfig",
    "stderrConfig",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["build", "test", "deploy-prod"];
        assert_eq!(suggest("biuld", names), Some("build"));
        assert_eq!(suggest("deploy-prd", names), Some("deploy-prod"));
        assert_eq!(suggest("xyz", names), None);
        assert_eq!(
            suggest("scirpt", FIELD_NAMES.iter().copied()),
            Some("script")
        );
        assert_eq!(
            suggest("runafter", FIELD_NAMES.iter().copied()),
            Some("runAfter")
        );
    }
}
