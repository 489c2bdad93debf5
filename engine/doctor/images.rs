//! The images the given files run: every step, sidecar, stepTemplate and StepAction image of
//! the objects loaded from them (embedded specs included), with `$(params.NAME)` replaced by
//! the default the same spec declares; and whether each is present on the engine or, when it
//! is not, whether its registry has it (asked through the engine, without pulling, with the
//! login `adze run` would pull with).
//!
//! Objects the files name (`taskRef`, `pipelineRef`, a step's `ref`) are followed into
//! `--catalog` directories and the built-in catalog, as a run would find them. Remote
//! references (`resolver: …`) are not fetched: doctor does not reach the network for them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bollard::Docker;
use serde_json::Value;

use super::Check;
use crate::api::{Kind, Object};
use crate::config::ImageMap;
use crate::exec::docker::image_ref::ImageRef;
use crate::exec::docker::registry_auth::RegistryAuth;
use crate::load::{Bundle, Loaded, Origin};

/// The images of the bundle's input objects: literal ones, and those still naming a param.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Images {
    /// Images known before the run, sorted.
    pub literal: BTreeSet<String>,
    /// Images that depend on a value given at run time, as written.
    pub parameterised: BTreeSet<String>,
    /// Literal images an image map replaced: what it made of each, and the image as written.
    pub mapped_from: BTreeMap<String, String>,
}

impl Images {
    /// Collects from the objects loaded from the user's files, and from the catalog objects
    /// they name (`taskRef`, `pipelineRef`, a step's `ref`, without a resolver), as a run
    /// would use them.
    pub fn of_bundle(bundle: &Bundle) -> Images {
        let mut images = Images::default();
        let mut queue: Vec<&Loaded> = bundle.inputs().collect();
        let mut followed: BTreeSet<(Kind, String)> = BTreeSet::new();
        while let Some(loaded) = queue.pop() {
            let Some(value) = as_value(&loaded.object) else {
                continue;
            };
            if matches!(loaded.object, Object::StepAction(_)) {
                images.step_action(&value["spec"]);
            }
            images.walk(&value);
            let mut named = Vec::new();
            named_references(&value, &mut named);
            for key in named {
                if followed.contains(&key) {
                    continue;
                }
                if let Ok(found) = bundle.find(key.0, &key.1) {
                    // Inputs are walked anyway; a catalog object is walked once.
                    if found.origin != Origin::Input {
                        queue.push(found);
                    }
                }
                followed.insert(key);
            }
        }
        images
    }

    /// The images after `map` (`--image-map`, `.adze.yaml`'s `imageMap`), as a run uses them.
    pub fn mapped(self, map: &ImageMap) -> Images {
        let mut out = Images {
            parameterised: self.parameterised,
            ..Images::default()
        };
        for image in self.literal {
            match map.map(&image) {
                Some(to) => {
                    out.mapped_from.insert(to.clone(), image);
                    out.literal.insert(to);
                }
                None => {
                    out.literal.insert(image);
                }
            }
        }
        out
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

/// An object as JSON, to walk.
fn as_value(object: &Object) -> Option<Value> {
    match object {
        Object::Task(o) => serde_json::to_value(o),
        Object::Pipeline(o) => serde_json::to_value(o),
        Object::TaskRun(o) => serde_json::to_value(o),
        Object::PipelineRun(o) => serde_json::to_value(o),
        Object::StepAction(o) => serde_json::to_value(o),
    }
    .ok()
}

/// The objects `value` names without a resolver: `taskRef` (a Task unless another kind is
/// given), `pipelineRef`, and a step's `ref` (a StepAction).
fn named_references(value: &Value, out: &mut Vec<(Kind, String)>) {
    match value {
        Value::Object(map) => {
            for (key, kind) in [
                ("taskRef", Kind::Task),
                ("pipelineRef", Kind::Pipeline),
                ("ref", Kind::StepAction),
            ] {
                let reference = &value[key];
                let (Some(name), None) = (reference["name"].as_str(), reference.get("resolver"))
                else {
                    continue;
                };
                let kind = match reference["kind"].as_str() {
                    None | Some("") => kind,
                    Some(other) => match Kind::parse(other) {
                        Some(k) => k,
                        None => continue,
                    },
                };
                out.push((kind, name.to_owned()));
            }
            map.values().for_each(|v| named_references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| named_references(v, out)),
        _ => {}
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
/// would pull it (with the Docker CLI's login for that registry), without pulling it.
async fn pullable(docker: &Docker, auth: &RegistryAuth, name: String, image: &str) -> Vec<Check> {
    let login = match ImageRef::parse(image) {
        Ok(reference) => Some(auth.lookup(reference.domain()).await),
        Err(_) => None,
    };
    let mut checks: Vec<Check> = login
        .iter()
        .flat_map(|l| &l.warnings)
        .map(|w| Check::warn("registry logins", w.clone(), None))
        .collect();
    let credentials = login.as_ref().and_then(|l| l.docker_credentials());
    let asked = tokio::time::timeout(
        REGISTRY_TIMEOUT,
        docker.inspect_registry_image(image, credentials),
    )
    .await;
    let reason = match asked {
        Ok(Ok(found)) => {
            let digest = found.descriptor.digest.unwrap_or_default();
            let with = match login.as_ref().and_then(|l| l.source.as_deref()) {
                Some(source) => format!(" with the login from {source}"),
                None => String::new(),
            };
            checks.push(Check::ok(
                name,
                format!(
                    "absent locally; its registry has it ({digest}){with}: `adze run` pulls it"
                ),
            ));
            return checks;
        }
        Ok(Err(bollard::errors::Error::DockerResponseServerError { message, .. })) => message,
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("its registry did not answer within {REGISTRY_TIMEOUT:?}"),
    };
    let reason = reason.trim();
    let fix = match login.as_ref().and_then(|l| l.hint(reason)) {
        Some(hint) => hint,
        None => format!(
            "check the name and tag and that this machine reaches the registry; for a private \
             image, log in first (`{}`): adze pulls with the Docker CLI's logins",
            login
                .as_ref()
                .map_or_else(|| "docker login".to_owned(), |l| l.login_command())
        ),
    };
    checks.push(Check::fail(
        name,
        format!("absent locally and cannot be pulled: {reason}"),
        fix,
    ));
    checks
}

/// One line per image: present, absent and pullable, absent and not pullable, or named
/// through a param.
pub async fn check(docker: Option<&Docker>, auth: &RegistryAuth, images: &Images) -> Vec<Check> {
    let mut checks = Vec::new();
    for image in &images.literal {
        let name = match images.mapped_from.get(image) {
            Some(written) => format!("image {image} (mapped from {written})"),
            None => format!("image {image}"),
        };
        let Some(docker) = docker else {
            checks.push(Check::warn(name, "not checked: no engine answers", None));
            continue;
        };
        match docker.inspect_image(image).await {
            Ok(_) => checks.push(Check::ok(name, "present locally")),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => checks.extend(pullable(docker, auth, name, image).await),
            Err(e) => checks.push(Check::warn(name, format!("cannot inspect it: {e}"), None)),
        }
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
    fn catalog_objects_named_by_the_files_are_followed_once() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("catalog");
        std::fs::create_dir(&catalog).unwrap();
        std::fs::write(
            catalog.join("tasks.yaml"),
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: build}\nspec:\n  \
             params: [{name: img, default: 'golang:1.23'}]\n  steps:\n  \
             - {name: a, image: $(params.img)}\n  - {name: b, ref: {name: lint}}\n\
             ---\napiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata: {name: lint}\n\
             spec: {image: 'golangci/golangci-lint:v1'}\n\
             ---\napiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: unused}\nspec:\n  \
             steps: [{name: a, image: 'never/named:1'}]\n",
        )
        .unwrap();
        let input = dir.path().join("p.yaml");
        std::fs::write(
            &input,
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  tasks:\n  \
             - {name: one, taskRef: {name: build}}\n  - {name: two, taskRef: {name: build}}\n  \
             - {name: far, taskRef: {resolver: git, params: [{name: url, value: x}]}}\n  \
             - {name: skew, taskRef: {name: kube-skew-check}}\n",
        )
        .unwrap();
        let mut bundle = Bundle::new();
        bundle.load_path(&input, Origin::Input).unwrap();
        bundle.load_path(&catalog, Origin::Catalog).unwrap();
        bundle.load_builtin();
        let images = Images::of_bundle(&bundle);
        assert!(images.literal.contains("golang:1.23"), "{images:?}");
        assert!(
            images.literal.contains("golangci/golangci-lint:v1"),
            "{images:?}"
        );
        assert!(!images.literal.contains("never/named:1"), "{images:?}");
        // The built-in catalog's task, with its pinned defaults.
        assert!(
            images.literal.iter().any(|i| i.contains("@sha256:")),
            "{images:?}"
        );
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
