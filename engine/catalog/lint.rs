//! `adze catalog lint`: the catalog's conventions, checked with positions.
//!
//! # Rules (codes `catalog/*`)
//!
//! - `catalog/layout`: a folder holds `<name>/<name>.yaml` with exactly one Task (under
//!   `tasks/`) or Pipeline (under `pipelines/`) named like the folder; no other YAML but a
//!   pipeline's `rbac.yaml`.
//! - `catalog/docs`: `README.md` in every folder, `RUNBOOK.md` beside every pipeline.
//! - `catalog/rbac`: a pipeline's `rbac.yaml` exists, parses, and holds only ServiceAccount,
//!   Role, ClusterRole, RoleBinding and ClusterRoleBinding objects.
//! - `catalog/metadata`: label `app.kubernetes.io/version`, annotations
//!   `tekton.dev/pipelines.minVersion`, `tekton.dev/categories`, `tekton.dev/tags`,
//!   `tekton.dev/displayName`, `tekton.dev/platforms`.
//! - `catalog/description`: `spec.description`, and a description on every param, result
//!   and workspace.
//! - `catalog/step-image`: every step, sidecar and stepTemplate image is
//!   `$(params.<name>Image)`, a declared param with a default.
//! - `catalog/image-pin`: every `*Image` param's default is pinned by digest
//!   (`@sha256:<64 hex>`) with its tag in a comment on the same line; `adzeImage` may be
//!   `adze/adze:<tag>` (the image the repository's Dockerfile builds, pinned by the user's
//!   registry).
//! - `catalog/latest`: no image default or tag comment says `latest`.
//! - `catalog/pipeline-image`: a pipeline declares each image param of the tasks it refers
//!   to, with the task's default, and passes it down as `$(params.<name>)`.
//!
//! Every object also gets `adze validate`'s checks (their own codes).

use crate::api::{Kind, Object, ParamSpec, ParamValue, Pipeline, Task};
use crate::diagnostic::{Anchor, Diagnostic};
use crate::load::Loaded;
use crate::validate::Flags;

use super::{Catalog, Folder};

/// Annotations every Task and Pipeline carries.
pub const ANNOTATIONS: [&str; 5] = [
    "tekton.dev/pipelines.minVersion",
    "tekton.dev/categories",
    "tekton.dev/tags",
    "tekton.dev/displayName",
    "tekton.dev/platforms",
];

/// The label every Task and Pipeline carries.
pub const VERSION_LABEL: &str = "app.kubernetes.io/version";

/// The kinds a pipeline's `rbac.yaml` may hold.
pub const RBAC_KINDS: [&str; 5] = [
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
];

/// The one image param whose default need not be pinned by digest.
pub const ADZE_IMAGE_PARAM: &str = "adzeImage";

/// Lints every folder of `catalog`; diagnostics are located and sorted.
pub fn lint(catalog: &Catalog) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for i in 0..catalog.folders.len() {
        out.extend(folder(catalog, i));
    }
    let own_files: usize = catalog.yaml_files.iter().map(Vec::len).sum();
    let ours = |d: &Diagnostic| d.location.as_ref().is_none_or(|l| l.file < own_files);
    out.extend(
        catalog
            .bundle
            .diagnostics
            .iter()
            .filter(|d| ours(d))
            .cloned(),
    );
    out.extend(
        crate::validate::validate(&catalog.bundle, &Flags::default())
            .into_iter()
            .filter(|d| ours(d)),
    );
    crate::report::diagnostics::sort(&mut out);
    out
}

/// A diagnostic about a whole folder, with nothing to point at.
fn about_folder(folder: &Folder, code: &'static str, message: String, hint: &str) -> Diagnostic {
    let mut d = Diagnostic::error(code, message).hint(hint);
    d.object = Some(folder.display.clone());
    d
}

fn folder(catalog: &Catalog, i: usize) -> Vec<Diagnostic> {
    let folder = &catalog.folders[i];
    let own = format!("{}.yaml", folder.name);
    let mut out = Vec::new();
    let Some(loaded) = catalog.object(i) else {
        out.push(about_folder(
            folder,
            "catalog/layout",
            format!("{} holds no Task or Pipeline in {own}", folder.display),
            "put the folder's one Task or Pipeline in <folder>/<folder>.yaml, named like the folder",
        ));
        return out;
    };
    let mut own_diags = Vec::new();
    let expected = match folder.section.as_str() {
        "tasks" => Some(Kind::Task),
        "pipelines" => Some(Kind::Pipeline),
        _ => None,
    };
    if let Some(kind) = expected.filter(|k| *k != loaded.object.kind()) {
        own_diags.push(
            Diagnostic::error(
                "catalog/layout",
                format!(
                    "a {} in {}/: this folder holds {}s",
                    loaded.object.kind(),
                    folder.section,
                    kind
                ),
            )
            .at("kind")
            .hint("Tasks go under tasks/, Pipelines under pipelines/"),
        );
    }
    if loaded.object.display_name() != folder.name {
        own_diags.push(
            Diagnostic::error(
                "catalog/layout",
                format!(
                    "named \"{}\" in folder \"{}\": a catalog entry is named like its folder",
                    loaded.object.display_name(),
                    folder.name
                ),
            )
            .at("metadata.name")
            .hint("rename the folder and its YAML file, or the object, so the three agree"),
        );
    }
    let others = catalog.objects_in(i, &own).len();
    if others > 1 {
        own_diags.push(
            Diagnostic::error(
                "catalog/layout",
                format!("{own} holds {others} Tekton objects; a catalog file holds one"),
            )
            .at("metadata.name")
            .hint("move the other objects into folders of their own"),
        );
    }
    for file in folder
        .files
        .iter()
        .filter(|f| Folder::is_yaml(&f.name) && f.name != own)
    {
        let allowed = expected == Some(Kind::Pipeline) && file.name == "rbac.yaml";
        if !allowed {
            own_diags.push(
                Diagnostic::error(
                    "catalog/layout",
                    format!(
                        "{} is not part of a catalog folder's layout (only {own}{})",
                        file.name,
                        if expected == Some(Kind::Pipeline) {
                            " and rbac.yaml"
                        } else {
                            ""
                        }
                    ),
                )
                .at("metadata.name")
                .hint("examples go in the repository's examples/, test fixtures under tests/"),
            );
        }
    }
    let missing = |name: &str, why: &str| {
        Diagnostic::error("catalog/docs", format!("{} has no {name}", folder.display))
            .at("metadata.name")
            .hint(why.to_owned())
    };
    if folder.file("README.md").is_none() {
        own_diags.push(missing(
            "README.md",
            "add a README.md: what it does, its params, an example run",
        ));
    }
    if loaded.object.kind() == Kind::Pipeline {
        if folder.file("RUNBOOK.md").is_none() {
            own_diags.push(missing(
                "RUNBOOK.md",
                "add a RUNBOOK.md: for each way the pipeline fails, what the operator sees and does",
            ));
        }
        match catalog.file_index(i, "rbac.yaml") {
            None => own_diags.push(missing(
                "rbac.yaml",
                "add rbac.yaml with the ServiceAccount, Roles and bindings the pipeline needs",
            )),
            Some(file) => out.extend(rbac(catalog, file)),
        }
    }
    own_diags.extend(metadata(&loaded.object));
    match &loaded.object {
        Object::Task(task) => own_diags.extend(task_rules(catalog, loaded, task)),
        Object::Pipeline(pipeline) => {
            own_diags.extend(pipeline_rules(catalog, loaded, pipeline));
        }
        _ => {}
    }
    out.extend(catalog.bundle.place(loaded, own_diags));
    out
}

fn rbac(catalog: &Catalog, file: usize) -> Vec<Diagnostic> {
    let bundle = &catalog.bundle;
    let mut out = Vec::new();
    let resources: Vec<_> = bundle.resources.iter().filter(|r| r.file == file).collect();
    let objects: Vec<&Loaded> = bundle.objects.iter().filter(|o| o.file == file).collect();
    for r in &resources {
        if !RBAC_KINDS.contains(&r.kind.as_str()) {
            let mut d = Diagnostic::error(
                "catalog/rbac",
                format!("a {} in rbac.yaml, which holds only {}", r.kind, RBAC_KINDS.join(", ")),
            )
            .hint("move it elsewhere: rbac.yaml is applied by people granting the pipeline its rights");
            d.location = Some(bundle.locate(file, &r.root, "kind", Anchor::Value));
            out.push(d);
        }
    }
    for o in objects {
        let d = Diagnostic::error(
            "catalog/rbac",
            format!(
                "a {} in rbac.yaml, which holds only {}",
                o.object.kind(),
                RBAC_KINDS.join(", ")
            ),
        )
        .at("kind");
        out.extend(bundle.place(o, vec![d]));
    }
    let parsed_nothing = resources.is_empty()
        && !bundle
            .diagnostics
            .iter()
            .any(|d| d.location.as_ref().is_some_and(|l| l.file == file));
    if parsed_nothing {
        let mut d = Diagnostic::error("catalog/rbac", "rbac.yaml holds no object")
            .hint("list the ServiceAccount, Roles and bindings the pipeline needs");
        d.object = Some(bundle.files[file].name.clone());
        out.push(d);
    }
    out
}

fn metadata(object: &Object) -> Vec<Diagnostic> {
    let meta = object.metadata();
    let mut out = Vec::new();
    let label = meta.labels.as_ref().and_then(|l| l.get(VERSION_LABEL));
    if label.is_none_or(|v| v.trim().is_empty()) {
        out.push(
            Diagnostic::error("catalog/metadata", format!("no label {VERSION_LABEL}"))
                .at(if meta.labels.is_some() {
                    "metadata.labels"
                } else {
                    "metadata"
                })
                .hint(format!(
                    "add `{VERSION_LABEL}: \"0.1\"` under metadata.labels"
                )),
        );
    }
    let annotations = meta.annotations.as_ref();
    let absent: Vec<&str> = ANNOTATIONS
        .iter()
        .copied()
        .filter(|a| {
            annotations
                .and_then(|m| m.get(*a))
                .is_none_or(|v| v.trim().is_empty())
        })
        .collect();
    if !absent.is_empty() {
        out.push(
            Diagnostic::error(
                "catalog/metadata",
                format!("missing annotation{}: {}", if absent.len() == 1 { "" } else { "s" }, absent.join(", ")),
            )
            .at(if annotations.is_some() { "metadata.annotations" } else { "metadata" })
            .hint("Tekton Hub shows these: minVersion \"0.56.0\", categories, tags, displayName, platforms \"linux/amd64\""),
        );
    }
    out
}

fn described(
    out: &mut Vec<Diagnostic>,
    what: &str,
    field: String,
    name: &str,
    description: Option<&str>,
) {
    if description.is_none_or(|d| d.trim().is_empty()) {
        out.push(
            Diagnostic::error(
                "catalog/description",
                format!("{what} \"{name}\" has no description"),
            )
            .at(field)
            .at_key()
            .hint(format!(
                "say what the {what} is for (users read it in `adze catalog show`)"
            )),
        );
    }
}

fn descriptions(
    out: &mut Vec<Diagnostic>,
    description: Option<&str>,
    params: &[ParamSpec],
    results: impl Iterator<Item = (String, Option<String>)>,
    workspaces: impl Iterator<Item = (String, Option<String>)>,
) {
    if description.is_none_or(|d| d.trim().is_empty()) {
        out.push(
            Diagnostic::error("catalog/description", "no spec.description")
                .at("spec")
                .hint("add spec.description; its first line is the one-sentence summary `adze catalog list` shows"),
        );
    }
    for (i, p) in params.iter().enumerate() {
        described(
            out,
            "param",
            format!("spec.params[{i}]"),
            &p.name,
            p.description.as_deref(),
        );
    }
    for (i, (name, d)) in results.enumerate() {
        described(
            out,
            "result",
            format!("spec.results[{i}]"),
            &name,
            d.as_deref(),
        );
    }
    for (i, (name, d)) in workspaces.enumerate() {
        described(
            out,
            "workspace",
            format!("spec.workspaces[{i}]"),
            &name,
            d.as_deref(),
        );
    }
}

/// The param name in an image written `$(params.<name>)`.
fn image_param(image: &str) -> Option<&str> {
    let name = image.strip_prefix("$(params.")?.strip_suffix(')')?;
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        .then_some(name)
}

/// Whether `image` is `REPOSITORY@sha256:<64 lowercase hex>`.
fn pinned_by_digest(image: &str) -> bool {
    image.split_once("@sha256:").is_some_and(|(repo, digest)| {
        !repo.is_empty()
            && !repo.contains(char::is_whitespace)
            && digest.len() == 64
            && digest
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// The comment on the line where `field` is written, if any.
fn same_line_comment(catalog: &Catalog, loaded: &Loaded, field: &str) -> Option<String> {
    let bundle = &catalog.bundle;
    let at = bundle.locate(loaded.file, &loaded.root, field, Anchor::Value);
    let line = bundle.files[loaded.file].line(at.line)?;
    let from = line
        .char_indices()
        .nth((at.column as usize).saturating_sub(1))
        .map_or(0, |(b, _)| b);
    let rest = &line[from..];
    // A `#` starts a comment only after whitespace (YAML); a digest holds none.
    let start = rest
        .find(" #")
        .map(|i| i + 2)
        .or_else(|| rest.starts_with('#').then_some(1))?;
    Some(rest[start..].trim().to_owned())
}

/// The `*Image` params' defaults: pinned, commented with the tag, never `latest`.
fn image_defaults(catalog: &Catalog, loaded: &Loaded, params: &[ParamSpec]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, p) in params.iter().enumerate() {
        if !p.name.ends_with("Image") {
            continue;
        }
        let field = format!("spec.params[{i}].default");
        let Some(ParamValue::String(default)) = &p.default else {
            out.push(
                Diagnostic::error(
                    "catalog/image-pin",
                    format!("image param \"{}\" has no default image", p.name),
                )
                .at(format!("spec.params[{i}]"))
                .at_key()
                .hint("give it a default pinned by digest, with the tag in a comment: `default: docker.io/alpine/k8s@sha256:<digest> # 1.31.4`"),
            );
            continue;
        };
        let comment = same_line_comment(catalog, loaded, &field);
        let says_latest = default.ends_with(":latest")
            || default.contains(":latest@")
            || comment
                .as_deref()
                .and_then(|c| c.split_whitespace().next())
                .is_some_and(|t| t.eq_ignore_ascii_case("latest"));
        if says_latest {
            out.push(
                Diagnostic::error(
                    "catalog/latest",
                    format!("image param \"{}\" uses `latest`", p.name),
                )
                .at(&field)
                .hint("pin a released version's digest and name that version in the comment"),
            );
            continue;
        }
        if p.name == ADZE_IMAGE_PARAM && default.starts_with("adze/adze:") {
            continue;
        }
        if !pinned_by_digest(default) {
            out.push(
                Diagnostic::error(
                    "catalog/image-pin",
                    format!("image \"{default}\" is not pinned by digest"),
                )
                .at(&field)
                .hint("write REPOSITORY@sha256:<64 hex digits> with the tag in a comment on the same line; a tag can move, a digest cannot"),
            );
        } else if comment.as_deref().is_none_or(str::is_empty) {
            out.push(
                Diagnostic::error(
                    "catalog/image-pin",
                    format!("image param \"{}\": no tag comment beside the digest", p.name),
                )
                .at(&field)
                .hint("say which tag the digest is on the same line, e.g. `# 1.31.4`, so people can tell what runs"),
            );
        }
    }
    out
}

fn task_rules(catalog: &Catalog, loaded: &Loaded, task: &Task) -> Vec<Diagnostic> {
    let spec = &task.spec;
    let mut out = Vec::new();
    descriptions(
        &mut out,
        spec.description.as_deref(),
        &spec.params,
        spec.results
            .iter()
            .map(|r| (r.name.clone(), r.description.clone())),
        spec.workspaces
            .iter()
            .map(|w| (w.name.clone(), w.description.clone())),
    );
    let mut images: Vec<(String, &str)> = Vec::new();
    for (i, s) in spec.steps.iter().enumerate() {
        if let Some(image) = &s.image {
            images.push((format!("spec.steps[{i}].image"), image));
        } else if spec
            .step_template
            .as_ref()
            .and_then(|t| t.image.as_ref())
            .is_none()
        {
            out.push(
                Diagnostic::error(
                    "catalog/step-image",
                    format!("step \"{}\" has no image", s.name),
                )
                .at(format!("spec.steps[{i}]"))
                .hint("set `image: $(params.<name>Image)`"),
            );
        }
    }
    for (i, s) in spec.sidecars.iter().enumerate() {
        if let Some(image) = &s.image {
            images.push((format!("spec.sidecars[{i}].image"), image));
        }
    }
    if let Some(image) = spec.step_template.as_ref().and_then(|t| t.image.as_ref()) {
        images.push(("spec.stepTemplate.image".to_owned(), image));
    }
    for (field, image) in images {
        match image_param(image) {
            Some(name) if name.ends_with("Image") => {
                let declared = spec.params.iter().find(|p| p.name == name);
                if declared.is_none_or(|p| p.default.is_none()) {
                    out.push(
                        Diagnostic::error(
                            "catalog/step-image",
                            format!("image param \"{name}\" is not declared with a default"),
                        )
                        .at(&field)
                        .hint(format!("declare param {name} with a default pinned by digest")),
                    );
                }
            }
            Some(name) => out.push(
                Diagnostic::error(
                    "catalog/step-image",
                    format!("the image comes from param \"{name}\", whose name does not end in `Image`"),
                )
                .at(&field)
                .hint("name image params `<tool>Image` (toolsImage, adzeImage): the lint and pipelines find them by that name"),
            ),
            None => out.push(
                Diagnostic::error(
                    "catalog/step-image",
                    format!("image \"{image}\" is written in the step"),
                )
                .at(&field)
                .hint("use `$(params.<name>Image)` and declare the image as that param's default, so users can swap or mirror it"),
            ),
        }
    }
    out.extend(image_defaults(catalog, loaded, &spec.params));
    out
}

fn pipeline_rules(catalog: &Catalog, loaded: &Loaded, pipeline: &Pipeline) -> Vec<Diagnostic> {
    let spec = &pipeline.spec;
    let mut out = Vec::new();
    descriptions(
        &mut out,
        spec.description.as_deref(),
        &spec.params,
        spec.results
            .iter()
            .map(|r| (r.name.clone(), r.description.clone())),
        spec.workspaces
            .iter()
            .map(|w| (w.name.clone(), w.description.clone())),
    );
    out.extend(image_defaults(catalog, loaded, &spec.params));
    let tasks = spec
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("spec.tasks[{i}]"), t))
        .chain(
            spec.finally
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("spec.finally[{i}]"), t)),
        );
    for (at, pt) in tasks {
        let Some(name) = pt.task_ref.as_ref().and_then(|r| r.name.as_deref()) else {
            continue;
        };
        let Ok(found) = catalog.bundle.find(Kind::Task, name) else {
            continue;
        };
        let Object::Task(task) = &found.object else {
            continue;
        };
        for tp in task
            .spec
            .params
            .iter()
            .filter(|p| p.name.ends_with("Image"))
        {
            let own = spec
                .params
                .iter()
                .enumerate()
                .find(|(_, p)| p.name == tp.name);
            match own {
                None => out.push(
                    Diagnostic::error(
                        "catalog/pipeline-image",
                        format!(
                            "task \"{name}\" takes image param \"{}\", which the pipeline does not declare",
                            tp.name
                        ),
                    )
                    .at(format!("{at}.taskRef"))
                    .hint(format!(
                        "declare param {} in the pipeline with the task's default and pass it down: `{}: $(params.{})`",
                        tp.name, tp.name, tp.name
                    )),
                ),
                Some((i, p)) if p.default != tp.default => out.push(
                    Diagnostic::error(
                        "catalog/pipeline-image",
                        format!(
                            "param \"{}\" defaults to {} here but to {} in task \"{name}\"",
                            p.name,
                            show(p.default.as_ref()),
                            show(tp.default.as_ref())
                        ),
                    )
                    .at(format!("spec.params[{i}].default"))
                    .hint("use the same pinned image in both, so a run of the task alone and the pipeline run the same thing"),
                ),
                Some(_) => {}
            }
            let wanted = format!("$(params.{})", tp.name);
            let passed = pt.params.iter().any(|p| {
                p.name == tp.name && matches!(&p.value, ParamValue::String(v) if *v == wanted)
            });
            if own.is_some() && !passed {
                out.push(
                    Diagnostic::error(
                        "catalog/pipeline-image",
                        format!(
                            "pipeline task \"{}\" does not pass image param \"{}\" down",
                            pt.name, tp.name
                        ),
                    )
                    .at(format!("{at}.name"))
                    .hint(format!(
                        "add `- {{name: {}, value: \"{wanted}\"}}` to its params",
                        tp.name
                    )),
                );
            }
        }
    }
    out
}

fn show(value: Option<&ParamValue>) -> String {
    match value {
        None => "nothing".to_owned(),
        Some(ParamValue::String(s)) => format!("\"{s}\""),
        Some(other) => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::folder::{self, CatalogFile};
    use super::*;

    const DIGEST: &str = "docker.io/alpine/k8s@sha256:9c4976d47656d78cf53a92b0203fc54ac45eae18a2b45001ac221c27da4c8036";

    fn task(name: &str, params: &str, steps: &str) -> String {
        format!(
            r#"apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: {name}
  labels:
    app.kubernetes.io/version: "0.1"
  annotations:
    tekton.dev/pipelines.minVersion: "0.56.0"
    tekton.dev/categories: Kubernetes
    tekton.dev/tags: k8s
    tekton.dev/displayName: A task
    tekton.dev/platforms: "linux/amd64"
spec:
  description: Does one thing.
  params:
{params}  results:
    - name: out
      description: What it found.
  steps:
{steps}"#
        )
    }

    fn tools_param() -> String {
        format!("    - name: toolsImage\n      description: The toolbox.\n      default: {DIGEST} # 1.31.4\n")
    }

    fn good_steps() -> &'static str {
        "    - name: run\n      image: $(params.toolsImage)\n      script: echo hi\n"
    }

    fn folder_of(section: &str, name: &str, files: &[(&str, &str)]) -> Folder {
        Folder {
            section: section.to_owned(),
            name: name.to_owned(),
            display: format!("{section}/{name}"),
            files: files
                .iter()
                .map(|(n, text)| CatalogFile {
                    name: (*n).to_owned(),
                    display: format!("{section}/{name}/{n}"),
                    text: (*text).to_owned(),
                })
                .collect(),
        }
    }

    /// `(code, message)` of each error and warning.
    fn findings(folders: Vec<Folder>) -> Vec<(&'static str, String)> {
        lint(&Catalog::load(folders, false))
            .into_iter()
            .map(|d| (d.code, d.message))
            .collect()
    }

    fn codes(folders: Vec<Folder>) -> Vec<&'static str> {
        findings(folders).into_iter().map(|(c, _)| c).collect()
    }

    fn a_task(yaml: &str) -> Vec<Folder> {
        vec![folder_of(
            "tasks",
            "t",
            &[("t.yaml", yaml), ("README.md", "# t\n")],
        )]
    }

    #[test]
    fn a_task_that_follows_the_conventions_has_no_finding() {
        assert_eq!(
            findings(a_task(&task("t", &tools_param(), good_steps()))),
            []
        );
    }

    #[test]
    fn each_convention_is_reported_by_its_code() {
        let cases: Vec<(&str, String, &[&str])> = vec![
            (
                "no description on a param",
                task("t", &tools_param().replace("      description: The toolbox.\n", ""), good_steps()),
                &["catalog/description"],
            ),
            (
                "no spec.description",
                task("t", &tools_param(), good_steps()).replace("  description: Does one thing.\n", ""),
                &["catalog/description"],
            ),
            (
                "no version label",
                task("t", &tools_param(), good_steps()).replace("    app.kubernetes.io/version: \"0.1\"\n", "    other: x\n"),
                &["catalog/metadata"],
            ),
            (
                "an annotation missing",
                task("t", &tools_param(), good_steps()).replace("    tekton.dev/tags: k8s\n", ""),
                &["catalog/metadata"],
            ),
            (
                "an image written in the step",
                task("t", &tools_param(), "    - name: run\n      image: alpine:3.20\n      script: echo hi\n"),
                &["catalog/step-image"],
            ),
            (
                "a tag, not a digest",
                task("t", &tools_param().replace(DIGEST, "docker.io/alpine/k8s:1.31.4"), good_steps()),
                &["catalog/image-pin"],
            ),
            (
                "a digest without its tag",
                task("t", &tools_param().replace(" # 1.31.4", ""), good_steps()),
                &["catalog/image-pin"],
            ),
            (
                "a short digest",
                task("t", &tools_param().replace("8036", ""), good_steps()),
                &["catalog/image-pin"],
            ),
            (
                "latest",
                task("t", &tools_param().replace(DIGEST, "docker.io/alpine/k8s:latest"), good_steps()),
                &["catalog/latest"],
            ),
            (
                "a digest commented latest",
                task("t", &tools_param().replace("# 1.31.4", "# latest"), good_steps()),
                &["catalog/latest"],
            ),
            (
                "the adze image by tag is allowed",
                task(
                    "t",
                    "    - name: adzeImage\n      description: adze.\n      default: adze/adze:0.1.0\n",
                    "    - name: run\n      image: $(params.adzeImage)\n      command: [adze]\n",
                ),
                &[],
            ),
            (
                "a name unlike the folder's",
                task("other", &tools_param(), good_steps()),
                &["catalog/layout"],
            ),
        ];
        for (what, yaml, want) in cases {
            assert_eq!(codes(a_task(&yaml)), want, "{what}");
        }
    }

    #[test]
    fn folders_need_their_documents_and_only_their_own_yaml() {
        let yaml = task("t", &tools_param(), good_steps());
        assert_eq!(
            codes(vec![folder_of("tasks", "t", &[("t.yaml", &yaml)])]),
            ["catalog/docs"]
        );
        assert_eq!(
            codes(vec![folder_of(
                "tasks",
                "t",
                &[
                    ("t.yaml", &yaml),
                    ("README.md", "#"),
                    (
                        "example.yaml",
                        "kind: ConfigMap\napiVersion: v1\nmetadata: {name: c}\n"
                    )
                ]
            )]),
            ["catalog/layout"]
        );
        assert_eq!(
            codes(vec![folder_of("tasks", "t", &[("README.md", "#")])]),
            ["catalog/layout"]
        );
    }

    fn pipeline(param_default: &str, passed: bool) -> String {
        format!(
            r#"apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: p
  labels:
    app.kubernetes.io/version: "0.1"
  annotations:
    tekton.dev/pipelines.minVersion: "0.56.0"
    tekton.dev/categories: Kubernetes
    tekton.dev/tags: k8s
    tekton.dev/displayName: A pipeline
    tekton.dev/platforms: "linux/amd64"
spec:
  description: Runs t.
  params:
    - name: toolsImage
      description: The toolbox.
      default: {param_default}
  tasks:
    - name: first
      taskRef: {{name: t}}
      params:{}
"#,
            if passed {
                "\n        - {name: toolsImage, value: $(params.toolsImage)}"
            } else {
                " []"
            }
        )
    }

    const RBAC: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: p}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: p}\nrules: []\n";

    fn with_pipeline(yaml: &str, rbac: &str, runbook: bool) -> Vec<(&'static str, String)> {
        let task = task("t", &tools_param(), good_steps());
        let mut files = vec![("p.yaml", yaml), ("README.md", "#"), ("rbac.yaml", rbac)];
        if runbook {
            files.push(("RUNBOOK.md", "#"));
        }
        findings(vec![
            folder_of("tasks", "t", &[("t.yaml", &task), ("README.md", "#")]),
            folder_of("pipelines", "p", &files),
        ])
    }

    #[test]
    fn pipelines_declare_and_pass_down_their_tasks_images_and_ship_rbac_and_a_runbook() {
        let good = format!("{DIGEST} # 1.31.4");
        assert_eq!(with_pipeline(&pipeline(&good, true), RBAC, true), []);
        let codes =
            |f: Vec<(&'static str, String)>| f.into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        assert_eq!(
            codes(with_pipeline(&pipeline(&good, false), RBAC, true)),
            ["catalog/pipeline-image"]
        );
        let other = good.replace("8036", "8037");
        assert_eq!(
            codes(with_pipeline(&pipeline(&other, true), RBAC, true)),
            ["catalog/pipeline-image"]
        );
        assert_eq!(
            codes(with_pipeline(&pipeline(&good, true), RBAC, false)),
            ["catalog/docs"]
        );
        let with_secret =
            format!("{RBAC}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\n");
        assert_eq!(
            codes(with_pipeline(&pipeline(&good, true), &with_secret, true)),
            ["catalog/rbac"]
        );
    }

    #[test]
    fn findings_point_at_the_line_and_say_what_to_do() {
        let yaml = task(
            "t",
            &tools_param().replace(DIGEST, "docker.io/alpine/k8s:1.31.4"),
            "    - name: run\n      image: alpine:3.20\n      script: echo hi\n",
        );
        let catalog = Catalog::load(a_task(&yaml), false);
        let text = crate::report::diagnostics::to_text(&catalog.bundle, &lint(&catalog));
        insta::assert_snapshot!(text);
    }

    /// The repository's own catalog: every folder holds its object and passes the lint
    /// (an empty catalog passes trivially; each folder added is checked here).
    #[test]
    fn the_repositorys_tasks_and_pipelines_pass_the_lint() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let folders = folder::on_disk(root).expect("the repository's catalog folders");
        let names: Vec<String> = folders.iter().map(Folder::relative).collect();
        let catalog = Catalog::load(folders, false);
        assert_eq!(
            catalog.entries().len(),
            names.len(),
            "every folder has its object: {names:?}"
        );
        let errors: Vec<Diagnostic> = lint(&catalog)
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect();
        assert!(
            errors.is_empty(),
            "{}",
            crate::report::diagnostics::to_text(&catalog.bundle, &errors)
        );
        // What the binary embeds is what the folders hold.
        let embedded: Vec<String> = folder::builtin().iter().map(Folder::relative).collect();
        let mut on_disk = names.clone();
        on_disk.sort();
        let mut embedded_sorted = embedded;
        embedded_sorted.sort();
        assert_eq!(embedded_sorted, on_disk);
    }
}
