//! References to other objects: `taskRef` and `pipelineRef` (spec §1.4, §2.10).
//!
//! Tekton checks a reference's shape at admission (a name, or a resolver with params, never
//! both) and resolves it only when a run starts, failing the run if the target is missing.
//! adze resolves names among the loaded documents and catalogs right away, so a misspelt Task
//! name is reported where it is written. References through a resolver are fetched by the
//! resolution pass (`crate::resolve`) before validation: a fetched target is checked like a
//! loaded one; a reference the pass could not fetch is reported by the pass; without a pass
//! (a library caller) it is a warning, never silently trusted. Custom tasks (`apiVersion` set) are run by other controllers: no lookup.

use super::names::{is_dns1123_subdomain, Compare};
use super::{names, ApiFields, Ctx};
use crate::api::{
    Kind, Object, Param, Pipeline, PipelineRef, PipelineTask, Task, TaskRef, TaskSpec,
};
use crate::diagnostic::{Anchor, Diagnostic};
use crate::load::Bundle;

/// What a reference says, whatever it points to.
struct Shape<'r> {
    /// `Task` or `Pipeline`.
    kind: Kind,
    name: &'r str,
    resolver: &'r str,
    params: &'r [Param],
    bundle: Option<&'r str>,
}

/// Validates a `taskRef` at `path` and returns the Task it names, if adze can find it.
pub fn check_task_ref<'a>(ctx: &mut Ctx<'a>, r: &TaskRef, path: &str) -> Option<&'a Task> {
    let shape = Shape {
        kind: Kind::Task,
        name: r.name.as_deref().unwrap_or(""),
        resolver: r.resolver.as_deref().unwrap_or(""),
        params: &r.params,
        bundle: r.bundle.as_deref(),
    };
    check_shape(ctx, &shape, path);
    if r.kind.as_deref() == Some("ClusterTask") {
        let d = ctx.error(
            "refs/cluster-task",
            format!("{path}.kind"),
            "ClusterTask was removed from Tekton: a taskRef can no longer name one",
        );
        d.hint = Some(
            "copy it into a Task, or use `resolver: cluster` with params `kind: task`, `name` and `namespace`".into(),
        );
        return None;
    }
    if !is_plain_task_ref(r) || r.bundle.is_some() {
        return None;
    }
    if let Some(found) = fetched(ctx.bundle, &shape) {
        return match &found.object {
            Object::Task(t) => Some(t),
            _ => None,
        };
    }
    let bundle = ctx.bundle;
    let loaded = resolve(ctx, bundle, &shape, path)?;
    match &loaded.object {
        Object::Task(t) => Some(t),
        _ => None,
    }
}

/// Validates a `pipelineRef` at `path` and returns the Pipeline it names, if adze can find it.
pub fn check_pipeline_ref<'a>(
    ctx: &mut Ctx<'a>,
    r: &PipelineRef,
    path: &str,
) -> Option<&'a Pipeline> {
    let shape = Shape {
        kind: Kind::Pipeline,
        name: r.name.as_deref().unwrap_or(""),
        resolver: r.resolver.as_deref().unwrap_or(""),
        params: &r.params,
        bundle: r.bundle.as_deref(),
    };
    check_shape(ctx, &shape, path);
    if r.api_version.as_deref().is_some_and(|v| !v.is_empty()) || r.bundle.is_some() {
        return None;
    }
    if let Some(found) = fetched(ctx.bundle, &shape) {
        return match &found.object {
            Object::Pipeline(p) => Some(p),
            _ => None,
        };
    }
    let bundle = ctx.bundle;
    let loaded = resolve(ctx, bundle, &shape, path)?;
    match &loaded.object {
        Object::Pipeline(p) => Some(p),
        _ => None,
    }
}

/// The object the resolution pass fetched for a reference whose params are literal (a
/// reference with `$(...)` in its params is only keyed once substituted, by plan and run).
fn fetched<'a>(bundle: &'a Bundle, s: &Shape<'_>) -> Option<&'a crate::load::Loaded> {
    if s.resolver.is_empty() {
        return None;
    }
    let scope = crate::plan::scope::Scope::default();
    let key = crate::resolve::substitution::ref_key(s.kind, s.resolver, s.params, &scope)?;
    bundle.find_remote(&key)
}

/// The Task a `taskRef` names, if it is loaded or was fetched; reports nothing.
pub fn find_task<'a>(bundle: &'a Bundle, r: &TaskRef) -> Option<&'a Task> {
    if !is_plain_task_ref(r) {
        return None;
    }
    if let Some(resolver) = r.resolver.as_deref().filter(|s| !s.is_empty()) {
        let scope = crate::plan::scope::Scope::default();
        let key = crate::resolve::substitution::ref_key(Kind::Task, resolver, &r.params, &scope)?;
        return match &bundle.find_remote(&key)?.object {
            Object::Task(t) => Some(t),
            _ => None,
        };
    }
    let name = lookup_name(
        r.name.as_deref().unwrap_or(""),
        r.resolver.as_deref().unwrap_or(""),
    )?;
    match &bundle.find(Kind::Task, name).ok()?.object {
        Object::Task(t) => Some(t),
        _ => None,
    }
}

/// The Pipeline a `pipelineRef` names, if it is loaded; reports nothing.
pub fn find_pipeline<'a>(bundle: &'a Bundle, r: &PipelineRef) -> Option<&'a Pipeline> {
    let name = lookup_name(
        r.name.as_deref().unwrap_or(""),
        r.resolver.as_deref().unwrap_or(""),
    )?;
    match &bundle.find(Kind::Pipeline, name).ok()?.object {
        Object::Pipeline(p) => Some(p),
        _ => None,
    }
}

/// What a PipelineTask runs, when adze knows it: its embedded taskSpec or the loaded Task.
pub fn task_spec_of<'a>(bundle: &'a Bundle, pt: &'a PipelineTask) -> Option<&'a TaskSpec> {
    if is_custom_task(pt) || pt.pipeline_ref.is_some() || pt.pipeline_spec.is_some() {
        return None;
    }
    match (&pt.task_spec, &pt.task_ref) {
        (Some(ts), None) => Some(ts),
        (None, Some(r)) => find_task(bundle, r).map(|t| &t.spec),
        _ => None,
    }
}

/// A PipelineTask whose taskRef or taskSpec names a custom task (an `apiVersion`, or a kind
/// other than `Task`): another controller runs it.
pub fn is_custom_task(pt: &PipelineTask) -> bool {
    let custom_kind = |k: Option<&str>, extra: &str| {
        k.is_some_and(|k| !k.is_empty() && k != "Task" && k != extra)
    };
    let set = |v: Option<&str>| v.is_some_and(|v| !v.is_empty());
    pt.task_ref.as_ref().is_some_and(|r| {
        set(r.api_version.as_deref()) || custom_kind(r.kind.as_deref(), "ClusterTask")
    }) || pt
        .task_spec
        .as_ref()
        .is_some_and(|s| set(s.api_version.as_deref()) || custom_kind(s.kind.as_deref(), ""))
}

/// A taskRef adze may look up by name: kind Task (or unset), no apiVersion.
fn is_plain_task_ref(r: &TaskRef) -> bool {
    r.api_version.as_deref().unwrap_or("").is_empty()
        && matches!(r.kind.as_deref(), None | Some("" | "Task"))
}

/// The name to look up: set, no resolver, and not itself a variable or a URL.
fn lookup_name<'n>(name: &'n str, resolver: &str) -> Option<&'n str> {
    (!name.is_empty() && resolver.is_empty() && !name.contains("$(") && !is_url_like(name))
        .then_some(name)
}

fn resolve<'a>(
    ctx: &mut Ctx<'_>,
    bundle: &'a Bundle,
    shape: &Shape<'_>,
    path: &str,
) -> Option<&'a crate::load::Loaded> {
    let name = lookup_name(shape.name, shape.resolver)?;
    match bundle.find(shape.kind, name) {
        Ok(loaded) => Some(loaded),
        Err(nf) => {
            let hint = match &nf.suggestion {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => format!(
                    "pass the file that defines {} \"{name}\" to adze, or a directory of them with --catalog DIR",
                    shape.kind
                ),
            };
            ctx.error("refs/not-found", format!("{path}.name"), nf.to_string())
                .hint = Some(hint);
            None
        }
    }
}

fn check_shape(ctx: &mut Ctx<'_>, s: &Shape<'_>, path: &str) {
    if let Some(bundle) = s.bundle {
        check_bundle(ctx, s, bundle, path);
    }
    if !s.resolver.is_empty() || !s.params.is_empty() {
        check_resolver_shape(ctx, s, path);
    } else if s.name.is_empty() {
        if s.bundle.is_none() {
            ctx.error("refs/missing-name", path, "missing field(s): name")
                .hint = Some(format!(
                "name the {} to run, or use a `resolver` with `params`",
                s.kind
            ));
        }
    } else if is_url_like(s.name) {
        concise_gate(ctx, path);
        ctx.error("refs/missing-resolver", path, "missing field(s): resolver")
            .hint = Some("a URL in `name` needs the `resolver` that fetches it".into());
    } else if !s.name.contains("$(") {
        if let Some(problem) = qualified_name_problem(s.name) {
            ctx.error(
                "refs/name",
                format!("{path}.name"),
                format!("invalid value: {problem}: name"),
            )
            .hint = Some(format!(
                "{} names are Kubernetes names such as `build-image`",
                s.kind
            ));
        }
    }
}

fn check_bundle(ctx: &mut Ctx<'_>, s: &Shape<'_>, bundle: &str, path: &str) {
    let d = ctx.error(
        "refs/bundle",
        format!("{path}.bundle"),
        format!("bundle is not supported in tekton.dev/v1: a {} can no longer be fetched from an OCI bundle this way", s.kind),
    );
    d.hint = Some(format!(
        "use `resolver: bundles` with params `bundle: {bundle}`, `name: {}` and `kind: {}`",
        if s.name.is_empty() { "<name>" } else { s.name },
        s.kind.as_str().to_ascii_lowercase()
    ));
    d.anchor = Anchor::Key;
}

fn check_resolver_shape(ctx: &mut Ctx<'_>, s: &Shape<'_>, path: &str) {
    if !s.params.is_empty() {
        ctx.gate(ApiFields::Beta, "resolver params", format!("{path}.params"));
        if !s.name.is_empty() {
            ctx.error(
                "refs/name-and-params",
                format!("{path}.name"),
                "expected exactly one, got both: name, params",
            )
            .hint = Some("with a resolver, say what to fetch in `params` and drop `name`".into());
        }
        if s.resolver.is_empty() {
            ctx.error("refs/missing-resolver", path, "missing field(s): resolver")
                .hint =
                Some("add the resolver that reads these params, e.g. `resolver: git`".into());
        }
        let items = s
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), format!("{path}.params[{i}].name")));
        names::check_unique(ctx, "resolver param", items, Compare::CaseInsensitive);
    }
    if s.resolver.is_empty() {
        return;
    }
    ctx.gate(ApiFields::Beta, "resolver", format!("{path}.resolver"));
    if !s.name.is_empty() {
        if is_url_like(s.name) {
            concise_gate(ctx, path);
        } else if s.params.is_empty() {
            ctx.error(
                "refs/name",
                format!("{path}.name"),
                format!(
                    "invalid value: {}: with a resolver, name must be a URL (scheme://...)",
                    s.name
                ),
            )
            .hint = Some("pass what to fetch as resolver `params`, and drop `name`".into());
        }
    }
    if ctx.bundle.resolution_ran {
        // The pass fetched it, or reported at this reference why it could not.
        return;
    }
    let message = format!(
        "the {} from resolver \"{}\" was not fetched, so it is not checked",
        s.kind, s.resolver
    );
    ctx.push(
        Diagnostic::warning("refs/remote-resolver", message)
            .at(format!("{path}.resolver"))
            .hint(format!(
                "resolve references first (adze validate, plan and run do), or pass the {}'s YAML to adze and reference it by name",
                s.kind
            )),
    );
}

fn concise_gate(ctx: &mut Ctx<'_>, path: &str) {
    if !ctx.flags.enable_concise_resolver_syntax {
        ctx.flag_gate(
            "enable-concise-resolver-syntax: true",
            "a URL as a reference's name",
            format!("{path}.name"),
        );
    }
}

/// `scheme://...`, the concise resolver syntax.
fn is_url_like(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

const NAME_RULE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// Why `s` is not a Kubernetes qualified name (`[prefix/]name`), in Kubernetes' words.
fn qualified_name_problem(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let (prefix, name) = match parts.as_slice() {
        [name] => (None, *name),
        [prefix, name] => (Some(*prefix), *name),
        _ => {
            return Some(format!(
                "a qualified name {NAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ))
        }
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("prefix part must be non-empty".into());
        }
        if !is_dns1123_subdomain(p) {
            return Some("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character".into());
        }
    }
    let b = name.as_bytes();
    if b.is_empty() {
        return Some("name part must be non-empty".into());
    }
    if b.len() > 63 {
        return Some("name part must be no more than 63 characters".into());
    }
    let inner_ok = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    let ends_ok = b[0].is_ascii_alphanumeric() && b[b.len() - 1].is_ascii_alphanumeric();
    (!inner_ok || !ends_ok).then(|| format!("name part {NAME_RULE}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::validate::test_support::*;

    const TASK: &str = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: build}\nspec: {steps: [{image: x}]}\n---\n";

    #[test]
    fn unknown_task_names_get_a_suggestion() {
        let d = check(&format!(
            "{TASK}apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {{name: p}}\nspec:\n  tasks:\n  - name: a\n    taskRef: {{name: biuld}}\n  - name: b\n    taskRef: {{name: nothing-like-it}}\n"
        ));
        let found: Vec<_> = d.iter().filter(|d| d.code == "refs/not-found").collect();
        assert_eq!(found.len(), 2, "{d:#?}");
        assert_eq!(found[0].message, "Task \"biuld\" not found");
        assert_eq!(found[0].hint.as_deref(), Some("did you mean \"build\"?"));
        assert_eq!(at(found[0]), ("spec.tasks[0].taskRef.name", 12, 21));
        assert!(found[1].hint.as_deref().unwrap().contains("--catalog DIR"));
    }

    #[test]
    fn remote_resolvers_are_a_warning() {
        let d = check(
            "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: r}\nspec:\n  taskRef:\n    resolver: git\n    params:\n    - {name: url, value: u}\n    - {name: URL, value: v}\n",
        );
        let w = only(&d, "refs/remote-resolver");
        assert_eq!(w.severity, Severity::Warning);
        assert_eq!(at(w), ("spec.taskRef.resolver", 6, 15));
        assert_eq!(
            only(&d, "names/duplicate").field.as_deref(),
            Some("spec.taskRef.params[1].name")
        );
        assert_none(&d, "refs/not-found");
    }

    #[test]
    fn bundles_and_cluster_tasks_point_to_resolvers() {
        let d = check(
            "apiVersion: tekton.dev/v1beta1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  tasks:\n  - name: a\n    taskRef: {name: t, bundle: reg.io/b:1}\n  - name: b\n    taskRef: {name: t, kind: ClusterTask}\n",
        );
        let b = only(&d, "refs/bundle");
        assert!(b.hint.as_deref().unwrap().contains("resolver: bundles"));
        assert_eq!(
            at(only(&d, "refs/cluster-task")),
            ("spec.tasks[1].taskRef.kind", 9, 30)
        );
        assert_none(&d, "pipeline/custom-task");
    }

    #[test]
    fn name_and_params_are_exclusive() {
        let d = check(
            "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata: {name: r}\nspec:\n  pipelineRef:\n    name: p\n    params: [{name: a, value: b}]\n",
        );
        assert_eq!(
            at(only(&d, "refs/name-and-params")),
            ("spec.pipelineRef.name", 6, 11)
        );
        assert_eq!(
            only(&d, "refs/missing-resolver").field.as_deref(),
            Some("spec.pipelineRef")
        );
    }

    #[test]
    fn qualified_names() {
        assert_eq!(qualified_name_problem("build-image"), None);
        assert_eq!(qualified_name_problem("example.com/My.Name"), None);
        assert!(qualified_name_problem("-bad").is_some());
        assert!(qualified_name_problem("a/b/c").is_some());
        assert!(qualified_name_problem(&"a".repeat(64)).is_some());
        assert!(is_url_like("git://github.com/a/b"));
        assert!(!is_url_like("build"));
    }
}
