//! Task workspace rules (spec §2.5, §2.3): declarations and their use by steps and sidecars.
//!
//! A workspace becomes a volume mounted into every container, so its effective mount path
//! (cleaned like Go's `filepath.Clean`) must not collide with another workspace or with a
//! volumeMount a step or the stepTemplate already declares: Kubernetes rejects a pod whose
//! container mounts two volumes at one path.

use std::collections::HashMap;

use super::names::{check_unique, Compare};
use super::{ApiFields, Ctx};
use crate::api::task::WorkspaceUsage;
use crate::api::TaskSpec;

/// Validates `spec.workspaces`: unique names and unique effective mount paths.
pub fn validate_workspace_declarations(ctx: &mut Ctx<'_>, spec: &TaskSpec, path: &str) {
    let names = spec
        .workspaces
        .iter()
        .enumerate()
        .map(|(i, w)| (w.name.as_str(), format!("{path}.workspaces[{i}].name")));
    check_unique(ctx, "workspace", names, Compare::Exact);

    let mut taken: HashMap<String, String> = HashMap::new();
    for (i, step) in spec.steps.iter().enumerate() {
        for (j, vm) in step.volume_mounts.iter().enumerate() {
            taken
                .entry(clean_path(&vm.mount_path))
                .or_insert_with(|| format!("{path}.steps[{i}].volumeMounts[{j}]"));
        }
    }
    for (j, vm) in spec
        .step_template
        .iter()
        .flat_map(|t| t.volume_mounts.iter())
        .enumerate()
    {
        taken
            .entry(clean_path(&vm.mount_path))
            .or_insert_with(|| format!("{path}.stepTemplate.volumeMounts[{j}]"));
    }
    for (i, w) in spec.workspaces.iter().enumerate() {
        let mount = clean_path(&w.effective_mount_path());
        let at = format!("{path}.workspaces[{i}]");
        if let Some(first) = taken.get(&mount) {
            let field = if w.mount_path.as_deref().is_some_and(|p| !p.is_empty()) {
                format!("{at}.mountPath")
            } else {
                format!("{at}.name")
            };
            ctx.error(
                "workspaces/duplicate-mount-path",
                field,
                format!("workspace mount path \"{mount}\" must be unique"),
            )
            .hint = Some(format!(
                "{first} already uses that path; give workspace \"{}\" a different `mountPath`",
                w.name
            ));
        } else {
            taken.insert(mount, at);
        }
    }
}

/// Validates `steps[].workspaces` and `sidecars[].workspaces`: beta, and only declared names.
pub fn validate_workspace_usages(ctx: &mut Ctx<'_>, spec: &TaskSpec, path: &str) {
    let declared: Vec<&str> = spec.workspaces.iter().map(|w| w.name.as_str()).collect();
    for (i, step) in spec.steps.iter().enumerate() {
        let at = format!("{path}.steps[{i}]");
        check_usages(ctx, &step.workspaces, &declared, &at, "step workspaces");
    }
    for (i, sidecar) in spec.sidecars.iter().enumerate() {
        let at = format!("{path}.sidecars[{i}]");
        check_usages(
            ctx,
            &sidecar.workspaces,
            &declared,
            &at,
            "sidecar workspaces",
        );
    }
}

fn check_usages(
    ctx: &mut Ctx<'_>,
    usages: &[WorkspaceUsage],
    declared: &[&str],
    at: &str,
    feature: &str,
) {
    if usages.is_empty() {
        return;
    }
    ctx.gate(ApiFields::Beta, feature, format!("{at}.workspaces"));
    for (k, usage) in usages.iter().enumerate() {
        if declared.contains(&usage.name.as_str()) {
            continue;
        }
        let hint = match crate::load::catalog::suggest(&usage.name, declared.iter().copied()) {
            Some(s) => format!("did you mean \"{s}\"?"),
            None => "declare it under the task's `workspaces:`".to_string(),
        };
        ctx.error(
            "workspaces/undeclared",
            format!("{at}.workspaces[{k}].name"),
            format!("undefined workspace \"{}\"", usage.name),
        )
        .hint = Some(hint);
    }
}

/// Go's `filepath.Clean` for slash-separated paths: no `.`, no `..` after a name, no
/// repeated or trailing slashes.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::validate::test_support::{check, task_with_spec};

    fn run(spec: &str) -> Vec<Diagnostic> {
        check(&task_with_spec(spec))
    }

    #[test]
    fn cleans_like_go() {
        for (raw, clean) in [
            ("/a/b/", "/a/b"),
            ("/a//b/./c/..", "/a/b"),
            ("/../a", "/a"),
            ("a/../..", ".."),
            ("", "."),
            ("/", "/"),
            ("./", "."),
        ] {
            assert_eq!(clean_path(raw), clean, "{raw}");
        }
    }

    #[test]
    fn mount_paths_must_be_unique() {
        let ds = run("  workspaces:\n  - name: src\n  - name: out\n    mountPath: /workspace/src/\n  - name: cache\n    mountPath: /data\n  steps:\n  - image: alpine\n    volumeMounts:\n    - {name: v, mountPath: /data}\n  volumes:\n  - {name: v, emptyDir: {}}\n");
        let got: Vec<_> = ds
            .iter()
            .map(|d| (d.code, d.field.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "workspaces/duplicate-mount-path",
                    "spec.workspaces[1].mountPath"
                ),
                (
                    "workspaces/duplicate-mount-path",
                    "spec.workspaces[2].mountPath"
                ),
            ]
        );
        let loc = ds[0].location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (8, 16));
        assert!(ds[1]
            .hint
            .as_deref()
            .unwrap()
            .contains("spec.steps[0].volumeMounts[0]"));
    }

    #[test]
    fn duplicate_names_and_undeclared_usage() {
        let ds = run("  workspaces:\n  - name: src\n  - name: src\n    mountPath: /other\n  steps:\n  - image: alpine\n    workspaces:\n    - name: scr\n  sidecars:\n  - name: s\n    image: alpine\n    workspaces:\n    - name: src\n");
        let got: Vec<_> = ds
            .iter()
            .map(|d| (d.code, d.field.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                ("names/duplicate", "spec.workspaces[1].name"),
                ("workspaces/undeclared", "spec.steps[0].workspaces[0].name"),
            ]
        );
        assert_eq!(ds[1].hint.as_deref(), Some("did you mean \"src\"?"));
    }

    #[test]
    fn valid_workspaces_are_quiet() {
        let ds = run("  workspaces:\n  - name: a\n  - name: b\n    mountPath: /b\n  steps:\n  - image: alpine\n    workspaces: [{name: a}]\n    volumeMounts: [{name: v, mountPath: /c}]\n  volumes: [{name: v, emptyDir: {}}]\n");
        assert_eq!(ds, []);
    }
}
