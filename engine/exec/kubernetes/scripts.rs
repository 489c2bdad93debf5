//! The ConfigMap holding the TaskRun's scripts, mounted executable at `/tekton/scripts`.
//!
//! Tekton writes scripts from an init container (`place-scripts`) with a shell; a ConfigMap
//! needs no shell in any image and lets the kubelet place the files, mode 0755, before the
//! first container starts.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::metadata::{object_meta, scripts_name};
use super::{PodOptions, TranslateError};
use crate::run::TaskRunRequest;

/// Where the scripts appear in every container that runs one.
pub const SCRIPTS_DIR: &str = "/tekton/scripts";
/// The Pod volume of the scripts ConfigMap.
pub const SCRIPTS_VOLUME: &str = "tekton-internal-scripts";
/// The scripts' file mode: executable by any user.
pub const SCRIPTS_MODE: i32 = 0o755;
/// What one ConfigMap may hold (the API server's 1 MiB object limit, less room for metadata).
const CONFIG_MAP_LIMIT: usize = 1024 * 1024 - 4096;

/// The key (and file name) of step `index`'s script.
pub fn step_script_key(index: usize, step: &str) -> String {
    format!("script-{index}-{step}")
}

/// The key (and file name) of sidecar `index`'s script.
pub fn sidecar_script_key(index: usize, sidecar: &str) -> String {
    format!("sidecar-script-{index}-{sidecar}")
}

/// The ConfigMap of every step's and sidecar's script; `None` when no container has one.
pub fn config_map(
    request: &TaskRunRequest,
    options: &PodOptions,
    labels: &BTreeMap<String, String>,
) -> Result<Option<ConfigMap>, TranslateError> {
    let steps = request
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((step_script_key(i, &s.name), s.script.clone()?)));
    let sidecars = request
        .sidecars
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((sidecar_script_key(i, &s.name), s.script.clone()?)));
    let data: BTreeMap<String, String> = steps.chain(sidecars).collect();
    if data.is_empty() {
        return Ok(None);
    }
    let bytes = data.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > CONFIG_MAP_LIMIT {
        return Err(TranslateError::ScriptsTooLarge {
            task_run: request.name.clone(),
            bytes,
            limit: CONFIG_MAP_LIMIT,
        });
    }
    Ok(Some(ConfigMap {
        metadata: object_meta(
            scripts_name(&request.name, options.attempt),
            options,
            labels,
            options.task_run_owner.as_ref(),
        ),
        data: Some(data),
        ..ConfigMap::default()
    }))
}
