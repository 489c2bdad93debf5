//! Pipeline rules (spec §2.8): the spec as a whole, the shape of each PipelineTask, and the
//! `$(...)` references a PipelineTask's params, matrix and when-expressions make.
//!
//! A spec is checked the same way wherever it is written (a `Pipeline`, a PipelineRun's
//! `pipelineSpec`, a PipelineTask's `pipelineSpec`), with one difference: an embedded spec may use
//! params and workspaces propagated from its run (§3.5), so "is it declared?" is asked here only
//! of a standalone Pipeline; a PipelineRun asks it itself, knowing its own params.
//!
//! How tasks and pipeline results refer to other tasks lives in [`super::graph`]; matrix rules
//! in [`super::matrix`]; when-expressions in [`super::when`]; workspaces and what a PipelineTask
//! passes to its Task in [`super::bindings`]; `taskRef`/`pipelineRef` in [`super::references`].

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use super::names::{check_label, check_unique, Compare};
use super::pipeline_texts::{sites, tekton_expressions, Field, Role, Site, Text};
use super::spec_context::SpecContext;
use super::{bindings, graph, matrix, params, references, task, when, ApiFields, Ctx};
use crate::api::param::ParamValue;
use crate::api::{GoDuration, ParamSpec, ParamType, Pipeline, PipelineSpec, PipelineTask};
use crate::diagnostic::{Anchor, Diagnostic};
use crate::load::catalog::suggest;
use crate::subst::{sole_reference, Access, Reference, Var};

/// Validates a Pipeline (spec §2.8).
pub fn validate_pipeline(ctx: &mut Ctx<'_>, pipeline: &Pipeline) {
    task::validate_metadata_name(ctx, &pipeline.metadata);
    validate_pipeline_spec(ctx, &pipeline.spec, "spec", false);
}

/// Validates a PipelineSpec at `path`; `embedded` for a PipelineRun's or PipelineTask's spec,
/// whose params and workspaces may come from the run instead of declarations.
pub fn validate_pipeline_spec(ctx: &mut Ctx<'_>, spec: &PipelineSpec, path: &str, embedded: bool) {
    let scope = Scope {
        embedded,
        outer_params: &[],
    };
    validate_pipeline_spec_in(ctx, spec, path, &scope);
}

/// Where a PipelineSpec sits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'s> {
    /// Embedded in a run or a PipelineTask: params and workspaces may be propagated.
    pub embedded: bool,
    /// Param names supplied from outside (the run's params), propagated into embedded taskSpecs.
    pub outer_params: &'s [String],
}

/// Validates a PipelineSpec at `path` within `scope`.
pub(crate) fn validate_pipeline_spec_in(
    ctx: &mut Ctx<'_>,
    spec: &PipelineSpec,
    path: &str,
    scope: &Scope<'_>,
) {
    check_not_empty(ctx, spec, path);
    params::validate_param_specs(ctx, &spec.params, &format!("{path}.params"), false);
    bindings::check_pipeline_workspaces(ctx, &spec.workspaces, path);
    let all = sites(spec, path);
    check_task_names(ctx, &all);
    check_finally_section(ctx, spec, path);
    for site in &all {
        validate_pipeline_task(ctx, spec, site, scope);
    }
    check_context_vars(ctx, &all);
    graph::check(ctx, spec, path, &all);
    matrix::check_consumption(ctx, spec, &all);
    if !scope.embedded {
        check_param_usage(ctx, &all, path, &known_params(&spec.params));
    }
}

fn check_not_empty(ctx: &mut Ctx<'_>, spec: &PipelineSpec, path: &str) {
    if *spec == PipelineSpec::default() {
        ctx.error(
            "pipeline/empty",
            path,
            "expected at least one, got none: description, params, resources, tasks, workspaces",
        )
        .hint = Some("add at least one task under `tasks`".into());
    }
}

fn check_task_names(ctx: &mut Ctx<'_>, all: &[Site<'_>]) {
    for site in all {
        check_label(ctx, &site.pt.name, &format!("{}.name", site.path));
    }
    let names = all
        .iter()
        .map(|s| (s.pt.name.as_str(), format!("{}.name", s.path)));
    check_unique(ctx, "pipeline task", names, Compare::Exact);
}

fn check_finally_section(ctx: &mut Ctx<'_>, spec: &PipelineSpec, base: &str) {
    if !spec.finally.is_empty() && spec.tasks.is_empty() {
        let message = format!(
            "spec.tasks is empty but spec.finally has {} tasks",
            spec.finally.len()
        );
        ctx.error("finally/no-tasks", format!("{base}.finally"), message)
            .hint =
            Some("finally tasks run after `tasks`; add at least one task under `tasks`".into());
    }
    for (i, pt) in spec.finally.iter().enumerate() {
        if !pt.run_after.is_empty() {
            let message = format!(
                "no runAfter allowed under spec.finally, final task {} has runAfter specified",
                pt.name
            );
            let d = ctx.error(
                "finally/run-after",
                format!("{base}.finally[{i}].runAfter"),
                message,
            );
            d.hint =
                Some("finally tasks all start once `tasks` are done; remove `runAfter`".into());
            d.anchor = Anchor::Key;
        }
    }
}

fn validate_pipeline_task(
    ctx: &mut Ctx<'_>,
    spec: &PipelineSpec,
    site: &Site<'_>,
    scope: &Scope<'_>,
) {
    let (pt, path) = (site.pt, site.path.as_str());
    check_ref_or_spec(ctx, pt, path);
    check_embedded_type(ctx, pt, path);
    if references::is_custom_task(pt) {
        check_custom_task(ctx, pt, path);
    } else {
        check_task_target(ctx, spec, site, scope);
    }
    if let Some(r) = &pt.pipeline_ref {
        references::check_pipeline_ref(ctx, r, &format!("{path}.pipelineRef"));
    }
    if let Some(inner) = &pt.pipeline_spec {
        let outer = propagated_params(spec, pt, scope);
        let inner_scope = Scope {
            embedded: true,
            outer_params: &outer,
        };
        validate_pipeline_spec_in(ctx, inner, &format!("{path}.pipelineSpec"), &inner_scope);
    }
    check_on_error(ctx, pt, path);
    check_timeout(ctx, pt, path);
    params::validate_param_values(ctx, &pt.params, &format!("{path}.params"), false);
    when::check(ctx, &pt.when, path);
    matrix::check(ctx, pt, path);
    let declared = (!scope.embedded).then_some(spec.workspaces.as_slice());
    bindings::check_task_bindings(ctx, pt, path, declared);
    check_prefixes(ctx, &site.texts);
}

/// The embedded taskSpec or the referenced Task, and what the PipelineTask passes to it.
fn check_task_target(ctx: &mut Ctx<'_>, spec: &PipelineSpec, site: &Site<'_>, scope: &Scope<'_>) {
    let (pt, path) = (site.pt, site.path.as_str());
    if let Some(ts) = &pt.task_spec {
        let propagated = propagated_params(spec, pt, scope);
        let sc = SpecContext {
            embedded: true,
            propagated_params: &propagated,
            in_pipeline: true,
        };
        task::validate_task_spec(ctx, ts, &format!("{path}.taskSpec"), &sc);
        if pt.task_ref.is_none() {
            bindings::check_task_call_params(ctx, pt, path, &pt.name, ts);
        }
    }
    if let Some(r) = &pt.task_ref {
        let found = references::check_task_ref(ctx, r, &format!("{path}.taskRef"));
        if let (Some(t), None) = (found, &pt.task_spec) {
            // A fetched Task is named by its own metadata.
            let name = r
                .name
                .as_deref()
                .filter(|n| !n.is_empty())
                .or(t.metadata.name.as_deref())
                .unwrap_or_default();
            let decls = (!scope.embedded).then_some(spec.workspaces.as_slice());
            bindings::check_task_call_params(ctx, pt, path, name, &t.spec);
            bindings::check_task_call_workspaces(ctx, pt, path, &t.spec, decls);
        }
    }
}

/// Params an embedded spec under `pt` may use without declaring them (§3.5).
fn propagated_params(spec: &PipelineSpec, pt: &PipelineTask, scope: &Scope<'_>) -> Vec<String> {
    let mut names: Vec<String> = scope.outer_params.to_vec();
    names.extend(spec.params.iter().map(|p| p.name.clone()));
    names.extend(pt.params.iter().map(|p| p.name.clone()));
    if let Some(m) = &pt.matrix {
        names.extend(m.params.iter().map(|p| p.name.clone()));
        names.extend(
            m.include
                .iter()
                .flat_map(|i| i.params.iter().map(|p| p.name.clone())),
        );
    }
    names.sort();
    names.dedup();
    names
}

fn check_ref_or_spec(ctx: &mut Ctx<'_>, pt: &PipelineTask, path: &str) {
    let mut set = Vec::new();
    if pt.task_ref.is_some() {
        set.push("taskRef");
    }
    if pt.task_spec.is_some() {
        set.push("taskSpec");
    }
    if pt.pipeline_ref.is_some() {
        ctx.gate(
            ApiFields::Alpha,
            "pipelineRef",
            format!("{path}.pipelineRef"),
        );
        set.push("pipelineRef");
    }
    if pt.pipeline_spec.is_some() {
        ctx.gate(
            ApiFields::Alpha,
            "pipelineSpec",
            format!("{path}.pipelineSpec"),
        );
        set.push("pipelineSpec");
    }
    check_inline_disabled(ctx, &set, path);
    match set.as_slice() {
        [_] => {}
        [] => {
            let choices = if ctx.flags.api_fields == ApiFields::Alpha {
                "taskRef, taskSpec, pipelineRef, pipelineSpec"
            } else {
                "taskRef, taskSpec"
            };
            ctx.error(
                "pipeline/task-ref-or-spec",
                format!("{path}.name"),
                format!("expected exactly one, got neither: {choices}"),
            )
            .hint = Some("add `taskRef: {name: <task>}` or an inline `taskSpec` with steps".into());
        }
        [_, second, ..] => {
            let d = ctx.error(
                "pipeline/task-ref-or-spec",
                format!("{path}.{second}"),
                format!("expected exactly one, got multiple: {}", set.join(", ")),
            );
            d.hint = Some(format!(
                "keep one of {} and remove the others",
                set.join(", ")
            ));
            d.anchor = Anchor::Key;
        }
    }
}

/// `disable-inline-spec: pipeline` forbids embedded task and pipeline specs.
fn check_inline_disabled(ctx: &mut Ctx<'_>, set: &[&str], path: &str) {
    if !ctx
        .flags
        .disable_inline_spec
        .iter()
        .any(|s| s == "pipeline")
    {
        return;
    }
    for field in ["taskSpec", "pipelineSpec"]
        .into_iter()
        .filter(|f| set.contains(f))
    {
        let d = ctx.error(
            "pipeline/inline-spec-disabled",
            format!("{path}.{field}"),
            format!("must not set the field(s): {field}"),
        );
        d.hint = Some(
            "disable-inline-spec contains \"pipeline\": reference a Task with taskRef instead"
                .into(),
        );
        d.anchor = Anchor::Key;
    }
}

/// A taskSpec with steps is a Task: `apiVersion`/`kind` belong to custom tasks only.
fn check_embedded_type(ctx: &mut Ctx<'_>, pt: &PipelineTask, path: &str) {
    let Some(ts) = pt.task_spec.as_ref().filter(|ts| !ts.steps.is_empty()) else {
        return;
    };
    for (field, set) in [
        ("apiVersion", ts.api_version.as_deref()),
        ("kind", ts.kind.as_deref()),
    ] {
        if set.is_some_and(|v| !v.is_empty()) {
            let d = ctx.error(
                "pipeline/embedded-type",
                format!("{path}.taskSpec.{field}"),
                format!("taskSpec.{field} cannot be specified when using taskSpec.steps"),
            );
            d.hint = Some(format!(
                "remove `{field}`: it is only for custom tasks, which have no steps"
            ));
            d.anchor = Anchor::Key;
        }
    }
}

fn check_custom_task(ctx: &mut Ctx<'_>, pt: &PipelineTask, path: &str) {
    let refs = [
        (
            "taskRef",
            "ref",
            pt.task_ref
                .as_ref()
                .map(|r| (r.kind.as_deref(), r.api_version.as_deref())),
        ),
        (
            "taskSpec",
            "spec",
            pt.task_spec
                .as_ref()
                .map(|s| (s.kind.as_deref(), s.api_version.as_deref())),
        ),
    ];
    for (field, word, parts) in refs {
        let Some((kind, api_version)) = parts else {
            continue;
        };
        if kind.unwrap_or("").is_empty() {
            ctx.error(
                "pipeline/custom-task",
                format!("{path}.{field}"),
                format!("invalid value: custom task {word} must specify kind: {field}.kind"),
            )
            .hint = Some(format!(
                "a {field} with an apiVersion is a custom task: add its `kind`"
            ));
        }
        match api_version.unwrap_or("") {
            "" => {
                ctx.error(
                    "pipeline/custom-task",
                    format!("{path}.{field}"),
                    format!("invalid value: custom task {word} must specify apiVersion: {field}.apiVersion"),
                )
                .hint = Some("add the custom task's `apiVersion` (group/version), or use `kind: Task`".into());
            }
            v if !is_group_version(v) => {
                ctx.error(
                    "pipeline/custom-task",
                    format!("{path}.{field}.apiVersion"),
                    format!("invalid apiVersion format \"{v}\", must be in the format \"group/version\""),
                )
                .hint = Some("write it as group/version, e.g. example.dev/v1alpha1".into());
            }
            _ => {}
        }
    }
}

fn is_group_version(v: &str) -> bool {
    matches!(v.split('/').collect::<Vec<_>>().as_slice(), [g, ver] if !g.is_empty() && !ver.is_empty())
}

fn check_on_error(ctx: &mut Ctx<'_>, pt: &PipelineTask, path: &str) {
    let Some(value) = pt
        .on_error
        .as_deref()
        .filter(|v| !v.is_empty() && !v.starts_with("$(params"))
    else {
        return;
    };
    let at = format!("{path}.onError");
    ctx.gate(ApiFields::Beta, "onError", at.clone());
    if value != "continue" && value != "stopAndFail" {
        let d = ctx.error(
            "pipeline/on-error",
            at.clone(),
            format!("invalid value: {value}: PipelineTask OnError must be either \"continue\" or \"stopAndFail\""),
        );
        d.hint = Some(match suggest(value, ["continue", "stopAndFail"]) {
            Some(s) => format!("did you mean \"{s}\"?"),
            None => "use \"continue\" or \"stopAndFail\"".into(),
        });
    }
    if value == "continue" && pt.retries.unwrap_or(0) > 0 {
        ctx.error(
            "pipeline/on-error",
            at,
            "PipelineTask OnError cannot be set to \"continue\" when Retries is greater than 0",
        )
        .hint = Some("remove `retries`, or use onError: stopAndFail".into());
    }
}

fn check_timeout(ctx: &mut Ctx<'_>, pt: &PipelineTask, path: &str) {
    let Some(text) = pt.timeout.as_deref() else {
        return;
    };
    match GoDuration::parse(text) {
        Err(e) => {
            ctx.error("pipeline/timeout", format!("{path}.timeout"), e.to_string())
                .hint =
                Some("write a Go duration such as 90s, 10m or 1h30m (0 means no timeout)".into());
        }
        Ok(d) if d.is_negative() => {
            ctx.error(
                "pipeline/timeout",
                format!("{path}.timeout"),
                format!("{d} should be >= 0"),
            )
            .hint = Some("use 0 for no timeout".into());
        }
        Ok(_) => {}
    }
}

/// The first dot segments Tekton accepts in a PipelineTask's `$(...)`.
const PREFIXES: &[&str] = &[
    "params",
    "tasks",
    "finally",
    "context",
    "workspaces",
    "results",
];

/// `$(date)` in a PipelineTask param is shell, not a Tekton variable: Tekton rejects it.
fn check_prefixes(ctx: &mut Ctx<'_>, texts: &[Text]) {
    for t in texts.iter().filter(|t| t.field != Field::Steps) {
        for (span, expr) in tekton_expressions(&t.text) {
            let prefix = expr.split('.').next().unwrap_or(expr);
            if PREFIXES.contains(&prefix) {
                continue;
            }
            let written = &t.text[span.clone()];
            let message = format!(
                "invalid variable reference \"{written}\", must start with a valid prefix: params, tasks, finally, context, workspaces or results"
            );
            let hint = match suggest(prefix, PREFIXES.iter().copied()) {
                Some(s) if prefix.len() > 2 => format!("did you mean $({s}{})?", &expr[prefix.len()..]),
                _ => "Tekton reads $(...) as one of its variables here; for a shell variable write ${VAR}, and move shell commands into the Task's script".into(),
            };
            ctx.push(
                Diagnostic::error("variables/invalid-prefix", message)
                    .at(t.path.clone())
                    .inside(span.start, span.len())
                    .hint(hint),
            );
        }
    }
}

/// The context variables a Pipeline offers: `context.<object>.<field>`.
const PIPELINE_CONTEXT: &[(&str, &[&str])] = &[
    ("pipelineRun", &["name", "namespace", "uid"]),
    ("pipeline", &["name"]),
    ("pipelineTask", &["retries"]),
];

/// `$(context.pipelineRun.x)` and friends in params must exist. Tekton checks only the last
/// task of `tasks` and of `finally` (a known bug): there it is an error, elsewhere a warning,
/// since the reference is never substituted either way.
fn check_context_vars(ctx: &mut Ctx<'_>, all: &[Site<'_>]) {
    let last_task = all.iter().rposition(|s| !s.finally);
    let last_finally = all.iter().rposition(|s| s.finally);
    for (i, site) in all.iter().enumerate() {
        let rejected = Some(i) == last_task || Some(i) == last_finally;
        for t in &site.texts {
            if !matches!(t.field, Field::Params | Field::Matrix) {
                continue;
            }
            for r in &t.refs {
                check_context_ref(ctx, t, r, rejected);
            }
        }
    }
}

fn check_context_ref(ctx: &mut Ctx<'_>, t: &Text, r: &Reference, rejected: bool) {
    let Var::Context { path } = &r.var else {
        return;
    };
    let Some((object, fields)) = PIPELINE_CONTEXT
        .iter()
        .find(|(o, _)| path.first().is_some_and(|p| p == o))
    else {
        return;
    };
    if path.len() < 2 || (path.len() == 2 && fields.contains(&path[1].as_str())) {
        return;
    }
    let valid: Vec<String> = fields
        .iter()
        .map(|f| format!("$(context.{object}.{f})"))
        .collect();
    let message = format!("non-existent variable in \"$({})\"", r.text);
    let mut d = Diagnostic::error("variables/unknown-context", message)
        .at(t.path.clone())
        .inside(r.span.start, r.span.len())
        .hint(format!("a Pipeline offers {}", valid.join(", ")));
    if !rejected {
        d.severity = crate::diagnostic::Severity::Warning;
        d.hint = Some(format!(
            "Tekton's admission misses this (it checks only the last task), but it is never substituted; a Pipeline offers {}",
            valid.join(", ")
        ));
    }
    ctx.push(d);
}

/// A param a PipelineTask may reference: its type and, for objects, its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownParam {
    /// Declared (or passed) type.
    pub ty: ParamType,
    /// Object keys, when known.
    pub keys: Option<BTreeSet<String>>,
}

/// Params by name.
pub(crate) type KnownParams = HashMap<String, KnownParam>;

/// The params declared by `specs`.
pub(crate) fn known_params(specs: &[ParamSpec]) -> KnownParams {
    specs
        .iter()
        .map(|p| {
            let ty = p.effective_type().unwrap_or(ParamType::String);
            let keys = p
                .properties
                .as_ref()
                .map(|props| props.keys().cloned().collect());
            (p.name.clone(), KnownParam { ty, keys })
        })
        .collect()
}

/// The param a value stands for (its type; an object's keys), for params known by value only.
pub(crate) fn known_from_value(value: &ParamValue) -> KnownParam {
    KnownParam {
        ty: value.param_type(),
        keys: match value {
            ParamValue::Object(map) => Some(map.keys().cloned().collect()),
            _ => None,
        },
    }
}

/// Pipeline-level `$(params.X)` in PipelineTask params, matrix and when must be declared, and
/// arrays and objects used only where they fit (§2.8).
pub(crate) fn check_param_usage(
    ctx: &mut Ctx<'_>,
    all: &[Site<'_>],
    base: &str,
    known: &KnownParams,
) {
    for site in all {
        for t in site.texts.iter().filter(|t| t.field != Field::Steps) {
            check_text_params(ctx, t, known, base);
        }
    }
}

fn check_text_params(ctx: &mut Ctx<'_>, t: &Text, known: &KnownParams, base: &str) {
    if let Some(Reference {
        var: Var::Param { name, access },
        span,
        text,
    }) = sole_reference(&t.text)
    {
        let whole = matches!(access, Access::Whole | Access::Star);
        let is_array = known.get(&name).is_some_and(|k| k.ty == ParamType::Array);
        let fits = (t.role == Role::Value && whole)
            || (t.role == Role::WhenValue && access == Access::Star && is_array);
        if fits {
            if !known.contains_key(&name) {
                undeclared(ctx, t, &span, &text, &name, known, base);
            }
            return;
        }
    }
    for r in &t.refs {
        if let Var::Param { name, access } = &r.var {
            check_param_ref(ctx, t, r, name, access, known, base);
        }
    }
}

fn check_param_ref(
    ctx: &mut Ctx<'_>,
    t: &Text,
    r: &Reference,
    name: &str,
    access: &Access,
    known: &KnownParams,
    base: &str,
) {
    let Some(param) = known.get(name) else {
        undeclared(ctx, t, &r.span, &r.text, name, known, base);
        return;
    };
    let whole = matches!(access, Access::Whole | Access::Star);
    let isolated = r.span == (0..t.text.len());
    let (code, message, hint) = match (param.ty, access) {
        (ParamType::Array, _) if whole && t.role == Role::Element && isolated => return,
        (ParamType::Array, _) if whole && t.role == Role::Element => (
            "variables/array-not-isolated",
            format!("variable is not properly isolated in \"{}\"", t.text),
            format!("an array param must be an array element on its own: \"$({})\"", r.text),
        ),
        (ParamType::Array, _) if whole => (
            "variables/array-type-invalid",
            format!("variable type invalid in \"{}\"", t.text),
            format!(
                "\"{name}\" is an array: pass it whole as the entire value (\"$(params.{name}[*])\"), or one element with $(params.{name}[0])"
            ),
        ),
        (ParamType::Object, Access::Key(key)) => match &param.keys {
            Some(keys) if !keys.contains(key) => (
                "variables/undeclared-key",
                format!("non-existent variable in \"$({})\": object param \"{name}\" has no key \"{key}\"", r.text),
                match suggest(key, keys.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean \"{s}\"?"),
                    None => format!("declare \"{key}\" under the param's `properties`"),
                },
            ),
            _ => return,
        },
        (ParamType::Object, _) if whole => (
            "variables/object-whole",
            format!("variable type invalid in \"{}\"", t.text),
            format!(
                "\"{name}\" is an object: pass it whole as the entire value (\"$(params.{name}[*])\"), or one key with $(params.{name}.<key>)"
            ),
        ),
        _ => return,
    };
    ctx.push(
        Diagnostic::error(code, message)
            .at(t.path.clone())
            .inside(r.span.start, r.span.len())
            .hint(hint),
    );
}

fn undeclared(
    ctx: &mut Ctx<'_>,
    t: &Text,
    span: &Range<usize>,
    text: &str,
    name: &str,
    known: &KnownParams,
    base: &str,
) {
    let hint = match suggest(name, known.keys().map(String::as_str)) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None => format!("declare \"{name}\" under {base}.params"),
    };
    ctx.push(
        Diagnostic::error(
            "variables/undeclared-param",
            format!("non-existent variable in \"$({text})\""),
        )
        .at(t.path.clone())
        .inside(span.start, span.len())
        .hint(hint),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::validate::test_support::*;

    const HEAD: &str = "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n";

    fn pipeline(body: &str) -> Vec<Diagnostic> {
        check(&format!("{HEAD}{body}"))
    }

    #[test]
    fn upstream_examples_have_no_errors() {
        let Some(dir) = examples_dir() else { return };
        let mut rejected = Vec::new();
        for file in yaml_files(&dir) {
            let mut b = crate::load::Bundle::new();
            let text = std::fs::read_to_string(&file).expect("readable example");
            b.add_source(
                &file.display().to_string(),
                text,
                crate::load::Origin::Input,
            );
            let diags = crate::validate::validate(&b, &crate::validate::Flags::default());
            for d in diags.iter().filter(|d| d.is_error()) {
                rejected.push(format!(
                    "{}: {} {:?} {}",
                    file.display(),
                    d.code,
                    d.field,
                    d.message
                ));
            }
        }
        assert!(
            rejected.is_empty(),
            "upstream examples rejected:\n{}",
            rejected.join("\n")
        );
    }

    #[test]
    fn hostile_values_do_not_panic() {
        let odd = [
            "",
            "$(",
            "$()",
            "$(😀)",
            "é$(params.é)",
            "$(tasks..results.)",
            "$(params.a[99999999999999999999])",
            "$$(date)",
            "$(tasks.t.results.r[*]",
            "\u{0}",
        ];
        for v in odd {
            let q = serde_json::to_string(v).unwrap();
            let yaml = format!(
                "{HEAD}  params: [{{name: {q}}}]\n  workspaces: [{{name: {q}}}]\n  results: [{{name: r, value: {q}}}, {{name: s, value: [{q}]}}]\n  tasks:\n  - name: {q}\n    runAfter: [{q}]\n    onError: {q}\n    timeout: {q}\n    params: [{{name: {q}, value: {q}}}, {{name: o, value: {{k: {q}}}}}]\n    matrix: {{params: [{{name: {q}, value: [{q}]}}], include: [{{params: [{{name: {q}, value: {q}}}]}}]}}\n    when: [{{input: {q}, operator: {q}, values: [{q}], cel: {q}}}]\n    workspaces: [{{name: {q}, workspace: {q}}}]\n    taskRef: {{name: {q}, kind: {q}, apiVersion: {q}, resolver: {q}, params: [{{name: {q}, value: {q}}}]}}\n  finally:\n  - name: {q}\n    params: [{{name: {q}, value: {q}}}]\n    taskSpec: {{steps: [{{image: {q}, script: {q}}}]}}\n"
            );
            let _ = check(&yaml);
        }
    }

    #[test]
    fn an_empty_spec_is_rejected() {
        let d = pipeline("  {}\n");
        assert_eq!(at(only(&d, "pipeline/empty")), ("spec", 4, 1));
    }

    #[test]
    fn exactly_one_of_task_ref_and_task_spec() {
        let d = pipeline(
            "  tasks:\n  - name: a\n  - name: b\n    taskRef: {name: t}\n    taskSpec: {steps: [{image: x}]}\n---\napiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec: {steps: [{image: x}]}\n",
        );
        let found: Vec<_> = d
            .iter()
            .filter(|d| d.code == "pipeline/task-ref-or-spec")
            .collect();
        assert_eq!(found.len(), 2, "{d:#?}");
        assert_eq!(
            found[0].message,
            "expected exactly one, got neither: taskRef, taskSpec"
        );
        assert_eq!(at(found[0]), ("spec.tasks[0].name", 6, 11));
        assert_eq!(
            found[1].message,
            "expected exactly one, got multiple: taskRef, taskSpec"
        );
        assert_eq!(at(found[1]), ("spec.tasks[1].taskSpec", 9, 5));
    }

    #[test]
    fn pipelines_in_pipelines_need_alpha() {
        let d = pipeline("  tasks:\n  - name: a\n    pipelineSpec:\n      tasks: [{name: b, taskSpec: {steps: [{image: x}]}}]\n");
        let g = only(&d, "gate/feature-flag");
        assert_eq!(g.severity, Severity::Warning);
        assert_eq!(at(g), ("spec.tasks[0].pipelineSpec", 7, 5));
        assert_no_errors(&d);
    }

    #[test]
    fn embedded_task_with_steps_cannot_set_kind() {
        let d = pipeline(
            "  tasks:\n  - name: a\n    taskSpec:\n      kind: Task\n      steps: [{image: x}]\n",
        );
        let e = only(&d, "pipeline/embedded-type");
        assert_eq!(
            e.message,
            "taskSpec.kind cannot be specified when using taskSpec.steps"
        );
        assert_eq!(at(e), ("spec.tasks[0].taskSpec.kind", 8, 7));
    }

    #[test]
    fn custom_tasks_need_kind_and_group_version() {
        let d = pipeline(
            "  tasks:\n  - name: a\n    taskRef: {apiVersion: v1, name: wait}\n  - name: b\n    taskRef: {apiVersion: example.dev/v1, kind: Wait, name: w}\n",
        );
        let found: Vec<_> = d
            .iter()
            .filter(|d| d.code == "pipeline/custom-task")
            .collect();
        assert_eq!(found.len(), 2, "{d:#?}");
        assert!(found[0].message.contains("must specify kind"));
        assert_eq!(
            found[1].message,
            "invalid apiVersion format \"v1\", must be in the format \"group/version\""
        );
        assert_none(&d, "refs/not-found");
    }

    #[test]
    fn task_names_are_labels_unique_across_finally() {
        let d = pipeline(
            "  tasks:\n  - name: Build\n    taskSpec: {steps: [{image: x}]}\n  finally:\n  - name: Build\n    taskSpec: {steps: [{image: x}]}\n",
        );
        assert_eq!(d.iter().filter(|d| d.code == "names/dns-label").count(), 2);
        assert_eq!(
            at(only(&d, "names/duplicate")),
            ("spec.finally[0].name", 9, 11)
        );
    }

    #[test]
    fn on_error_values() {
        let d = pipeline(
            "  tasks:\n  - name: a\n    onError: contnue\n    taskSpec: {steps: [{image: x}]}\n  - name: b\n    onError: continue\n    retries: 2\n    taskSpec: {steps: [{image: x}]}\n  - name: c\n    onError: $(params.e)\n    taskSpec: {steps: [{image: x}]}\n",
        );
        let found: Vec<_> = d.iter().filter(|d| d.code == "pipeline/on-error").collect();
        assert_eq!(found.len(), 2, "{d:#?}");
        assert_eq!(at(found[0]), ("spec.tasks[0].onError", 7, 14));
        assert_eq!(found[0].hint.as_deref(), Some("did you mean \"continue\"?"));
        assert!(found[1].message.contains("Retries is greater than 0"));
    }

    #[test]
    fn disable_inline_spec_pipeline() {
        let flags = crate::validate::Flags {
            disable_inline_spec: vec!["pipeline".into()],
            ..Default::default()
        };
        let d = check_with(
            &format!("{HEAD}  tasks:\n  - name: a\n    taskSpec: {{steps: [{{image: x}}]}}\n"),
            &flags,
        );
        assert_eq!(
            at(only(&d, "pipeline/inline-spec-disabled")),
            ("spec.tasks[0].taskSpec", 7, 5)
        );
    }

    #[test]
    fn shell_substitution_in_a_task_param_is_rejected() {
        let d = pipeline(
            "  tasks:\n  - name: a\n    params:\n    - {name: when, value: \"at $(date) or $(ls -l)\"}\n    taskSpec: {steps: [{image: x}]}\n",
        );
        let e = only(&d, "variables/invalid-prefix");
        assert!(
            e.message
                .starts_with("invalid variable reference \"$(date)\""),
            "{}",
            e.message
        );
        assert_eq!(at(e), ("spec.tasks[0].params[0].value", 8, 31));
        assert!(e.hint.as_deref().unwrap().contains("${VAR}"));
    }

    #[test]
    fn tekton_expression_regex() {
        let found: Vec<_> = tekton_expressions("$(a) $(b.c[1]) $(d[*]) $(e f) $(g[x]) $$(h)")
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        assert_eq!(found, ["a", "b.c[1]", "d[*]", "h"]);
    }

    #[test]
    fn pipeline_params_must_be_declared_and_fit() {
        let d = pipeline(
            "  params:\n  - {name: arr, type: array}\n  - {name: obj, properties: {k: {}}}\n  - {name: s}\n  tasks:\n  - name: a\n    params:\n    - {name: p1, value: $(params.nope)}\n    - {name: p2, value: \"x $(params.arr[*])\"}\n    - {name: p3, value: [\"x $(params.arr)\"]}\n    - {name: p4, value: $(params.obj.q)}\n    - {name: p5, value: \"$(params.obj[*])\"}\n    - {name: p6, value: \"$(params.arr[*])\"}\n    - {name: p7, value: [\"$(params.arr[*])\", \"$(params.arr[0])\"]}\n    - {name: p8, value: \"$(params.obj.k) $(params.s)\"}\n    when:\n    - {input: $(params.s), operator: in, values: [\"$(params.arr[*])\"]}\n    taskSpec: {steps: [{image: x}]}\n",
        );
        let e = only(&d, "variables/undeclared-param");
        assert_eq!(at(e), ("spec.tasks[0].params[0].value", 12, 25));
        let arr: Vec<_> = d
            .iter()
            .filter(|d| d.code == "variables/array-not-isolated")
            .map(|d| d.field.as_deref().unwrap())
            .collect();
        assert_eq!(arr, ["spec.tasks[0].params[2].value[0]"]);
        let invalid = only(&d, "variables/array-type-invalid");
        assert_eq!(at(invalid), ("spec.tasks[0].params[1].value", 13, 28));
        assert_eq!(
            only(&d, "variables/undeclared-key").field.as_deref(),
            Some("spec.tasks[0].params[3].value")
        );
        assert_none(&d, "variables/object-whole");
    }

    #[test]
    fn embedded_specs_may_use_propagated_params() {
        let d = check(
            "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata: {name: r}\nspec:\n  params: [{name: x, value: v}]\n  pipelineSpec:\n    tasks:\n    - name: a\n      params: [{name: y, value: $(params.x)}]\n      taskSpec: {steps: [{image: x}]}\n",
        );
        assert_none(&d, "variables/undeclared-param");
    }

    #[test]
    fn pipeline_context_variables() {
        let d = pipeline(
            "  tasks:\n  - name: a\n    params: [{name: p, value: $(context.pipelineRun.nme)}]\n    taskSpec: {steps: [{image: x}]}\n  - name: b\n    params: [{name: p, value: \"$(context.pipeline.name) $(context.pipelineTask.retry)\"}]\n    taskSpec: {steps: [{image: x}]}\n",
        );
        let found: Vec<_> = d
            .iter()
            .filter(|d| d.code == "variables/unknown-context")
            .collect();
        assert_eq!(found.len(), 2, "{d:#?}");
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[1].severity, Severity::Error);
        assert_eq!(at(found[1]), ("spec.tasks[1].params[0].value", 10, 57));
    }

    #[test]
    fn finally_section_shape() {
        let d = pipeline(
            "  finally:\n  - name: f\n    runAfter: [x]\n    taskSpec: {steps: [{image: x}]}\n",
        );
        assert_eq!(at(only(&d, "finally/no-tasks")), ("spec.finally", 5, 3));
        assert_eq!(
            at(only(&d, "finally/run-after")),
            ("spec.finally[0].runAfter", 7, 5)
        );
    }

    #[test]
    fn invalid_timeouts() {
        let d = pipeline(
            "  tasks:\n  - name: a\n    timeout: 5 minutes\n    taskSpec: {steps: [{image: x}]}\n",
        );
        assert_eq!(
            at(only(&d, "pipeline/timeout")),
            ("spec.tasks[0].timeout", 7, 14)
        );
    }
}
