//! The images the given files run: every step, sidecar, stepTemplate and StepAction image of
//! the objects loaded from them (embedded specs included), with `$(params.NAME)` replaced by
//! the default the same spec declares; and whether each is present on the engine or, when it
//! is not, whether its registry has it (asked through the engine, without pulling).
//!
//! Tasks reached only by name from the catalog are not followed: their images are checked
//! when they are loaded as files.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bollard::Docker;
use serde_json::Value;

use super::Check;
use crate::api::Object;
use crate::load::Bundle;

/// The images of the bundle's input objects: literal ones, and those still naming a param.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Images {
    /// Images known before the run, sorted.
    pub literal: BTreeSet<String>,
    /// Images that depend on a value given at run time, as written.
    pub parameterised: BTreeSet<String>,
}

impl Images {
    /// Collects from the objects loaded from the user's files.
    pub fn of_bundle(bundle: &Bundle) -> Images {
        let mut images = Images::default();
        for loaded in bundle.inputs() {
            let value = match &loaded.object {
                Object::Task(o) => serde_json::to_value(o),
                Object::Pipeline(o) => serde_json::to_value(o),
                Object::TaskRun(o) => serde_json::to_value(o),
                Object::PipelineRun(o) => serde_json::to_value(o),
                Object::StepAction(o) => serde_json::to_value(o),
            };
            let Ok(value) = value else { continue };
            if matches!(loaded.object, Object::StepAction(_)) {
                images.step_action(&value["spec"]);
            }
            images.walk(&value);
        }
        images
    }

    /// A StepAction's own image, with its params' defaults.
    fn step_action(&mut self, spec: &Value) {
        let defaults = defaults(spec);
        if let Some(image) = spec["image"].as_str() {
            self.add(image, &defaults);
        }
    }

    /// Every task spec under `value` (a value with `steps` or `sidecars`).
    fn walk(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                if map.contains_key("steps") || map.contains_key("sidecars") {
                    let defaults = defaults(value);
                    let containers = ["steps", "sidecars"]
                        .iter()
                        .filter_map(|k| value[k].as_array())
                        .flatten()
                        .chain(std::iter::once(&value["stepTemplate"]));
                    for c in containers {
                        if let Some(image) = c["image"].as_str() {
                            self.add(image, &defaults);
                        }
                    }
                }
                map.values().for_each(|v| self.walk(v));
            }
            Value::Array(items) => items.iter().for_each(|v| self.walk(v)),
            _ => {}
        }
    }

    fn add(&mut self, image: &str, defaults: &BTreeMap<String, String>) {
        let substituted = substitute(image, defaults);
        if substituted.contains("$(") {
            self.parameterised.insert(image.to_owned());
        } else if !substituted.is_empty() {
            self.literal.insert(substituted);
        }
    }
}

/// The string defaults of a spec's `params`.
fn defaults(spec: &Value) -> BTreeMap<String, String> {
    spec["params"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p["name"].as_str()?.to_owned(),
                p["default"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// `$(params.NAME)` and `$(params["NAME"])`/`$(params['NAME'])` replaced by their defaults.
fn substitute(image: &str, defaults: &BTreeMap<String, String>) -> String {
    let mut out = image.to_owned();
    for (name, value) in defaults {
        for form in [
            format!("$(params.{name})"),
            format!("$(params[\"{name}\"])"),
            format!("$(params['{name}'])"),
        ] {
            out = out.replace(&form, value);
        }
    }
    out
}

/// How long the registry of an absent image gets to describe it.
const REGISTRY_TIMEOUT: Duration = Duration::from_secs(15);

/// An absent image: asks its registry, through the engine, for its manifest as `adze run`
/// would pull it (anonymously), without pulling it.
async fn pullable(docker: &Docker, name: String, image: &str) -> Check {
    let asked =
        tokio::time::timeout(REGISTRY_TIMEOUT, docker.inspect_registry_image(image, None)).await;
    let reason = match asked {
        Ok(Ok(found)) => {
            let digest = found.descriptor.digest.unwrap_or_default();
            return Check::ok(
                name,
                format!("absent locally; its registry has it ({digest}): `adze run` pulls it"),
            );
        }
        Ok(Err(bollard::errors::Error::DockerResponseServerError { message, .. })) => message,
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("its registry did not answer within {REGISTRY_TIMEOUT:?}"),
    };
    Check::fail(
        name,
        format!("absent locally and cannot be pulled: {}", reason.trim()),
        "check the name and tag and that this machine reaches the registry; adze pulls \
         anonymously, so pull a private image first (`docker login`, then `docker pull IMAGE`)",
    )
}

/// One line per image: present, absent and pullable, absent and not pullable, or named
/// through a param.
pub async fn check(docker: Option<&Docker>, images: &Images) -> Vec<Check> {
    let mut checks = Vec::new();
    for image in &images.literal {
        let name = format!("image {image}");
        let Some(docker) = docker else {
            checks.push(Check::warn(name, "not checked: no engine answers", None));
            continue;
        };
        checks.push(match docker.inspect_image(image).await {
            Ok(_) => Check::ok(name, "present locally"),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => pullable(docker, name, image).await,
            Err(e) => Check::warn(name, format!("cannot inspect it: {e}"), None),
        });
    }
    for image in &images.parameterised {
        checks.push(Check::warn(
            format!("image {image}"),
            "named by a param without a default; not checked",
            Some(
                "run `adze doctor` on a file that sets the param, or check the image by hand"
                    .into(),
            ),
        ));
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images_of(yaml: &str) -> Images {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, yaml).unwrap();
        let mut bundle = Bundle::new();
        bundle.load_path(&path, crate::load::Origin::Input).unwrap();
        Images::of_bundle(&bundle)
    }

    #[test]
    fn steps_sidecars_and_defaults_are_collected() {
        let images = images_of(
            "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: r}\nspec:\n  taskSpec:\n    \
             params:\n    - {name: img, default: alpine:3}\n    - {name: free}\n    steps:\n    \
             - {name: a, image: busybox}\n    - {name: b, image: $(params.img)}\n    \
             - {name: c, image: $(params.free)}\n    sidecars:\n    - {name: s, image: redis:7}\n",
        );
        assert_eq!(
            images.literal.iter().collect::<Vec<_>>(),
            ["alpine:3", "busybox", "redis:7"]
        );
        assert_eq!(
            images.parameterised.iter().collect::<Vec<_>>(),
            ["$(params.free)"]
        );
    }

    #[test]
    fn bracketed_param_references_are_substituted() {
        let defaults = BTreeMap::from([("v".to_owned(), "1.2".to_owned())]);
        assert_eq!(substitute("x:$(params['v'])", &defaults), "x:1.2");
        assert_eq!(substitute("x:$(params[\"v\"])", &defaults), "x:1.2");
    }
}
