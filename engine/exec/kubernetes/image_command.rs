//! The ENTRYPOINT and CMD of the images whose steps name no `command` and no `script`: the
//! entrypoint wraps what the step runs, so it must be told, as Tekton's controller tells it.
//!
//! Read from the local Docker engine's copy of the image, which is where a workstation (and
//! `kube-sim`, whose kubelet runs Pods there) has it. A registry lookup is not built yet.

use std::collections::BTreeMap;

use super::ImageCommand;
use crate::run::TaskRunRequest;

/// The commands of every image a command-less step or sidecar of `request` uses.
pub fn resolve(
    runtime: &tokio::runtime::Handle,
    request: &TaskRunRequest,
) -> Result<BTreeMap<String, ImageCommand>, String> {
    let wanted: Vec<(&str, &str)> = request
        .steps
        .iter()
        .chain(&request.sidecars)
        .filter(|s| s.command.is_empty() && s.script.is_none())
        .map(|s| (s.name.as_str(), s.image.as_str()))
        .collect();
    let mut out = BTreeMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let docker = bollard::Docker::connect_with_defaults().map_err(|e| {
        format!("cannot read image configurations from the local Docker engine: {e}")
    })?;
    for (step, image) in wanted {
        if out.contains_key(image) {
            continue;
        }
        let inspected = runtime.block_on(docker.inspect_image(image)).map_err(|e| {
            format!(
                "step \"{step}\" has no command, and the ENTRYPOINT/CMD of its image \
                     \"{image}\" cannot be read from the local Docker engine ({e}); give the \
                     step a `command`, or pull the image locally (`docker pull {image}`)"
            )
        })?;
        let config = inspected.config.unwrap_or_default();
        out.insert(
            image.to_owned(),
            ImageCommand {
                entrypoint: config.entrypoint.unwrap_or_default(),
                cmd: config.cmd.unwrap_or_default(),
            },
        );
    }
    Ok(out)
}
