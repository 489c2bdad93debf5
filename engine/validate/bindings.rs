//! What a caller binds against what it calls (spec §2.5, §2.10): workspace declarations and
//! bindings, and the params a run or a PipelineTask passes to the Task or Pipeline it runs.
//!
//! Admission only checks each side alone (a binding has exactly one volume source; a Pipeline's
//! task binds only declared pipeline workspaces). Whether the two sides fit — a required param
//! or workspace left out, a value of the wrong type, an array index past the end — Tekton finds
//! out when the run starts, and fails it. adze knows both sides whenever the callee is loaded or
//! embedded, so it reports those failures here, with Tekton's messages, before anything runs.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::names::{check_unique, Compare};
use super::Ctx;
use crate::api::param::ParamValue;
use crate::api::pipeline::PipelineWorkspaceDeclaration;
use crate::api::task::WorkspaceDeclaration;
use crate::api::{Param, ParamSpec, ParamType, PipelineTask, TaskSpec, WorkspaceBinding};
use crate::diagnostic::{Anchor, Diagnostic};
use crate::load::catalog::suggest;
use crate::subst::{scan, Access, Var};

/// Pipeline workspace declarations: named, and each name once.
pub fn check_pipeline_workspaces(
    ctx: &mut Ctx<'_>,
    decls: &[PipelineWorkspaceDeclaration],
    base: &str,
) {
    let mut seen = HashSet::new();
    for (i, ws) in decls.iter().enumerate() {
        let path = format!("{base}.workspaces[{i}]");
        if ws.name.is_empty() {
            ctx.error(
                "workspaces/empty-name",
                path.clone(),
                format!("invalid value: workspace {i} has empty name"),
            )
            .hint = Some("give the workspace a `name`".into());
        } else if !seen.insert(ws.name.as_str()) {
            let message = format!(
                "invalid value: workspace with name \"{}\" appears more than once",
                ws.name
            );
            ctx.error("names/duplicate", format!("{path}.name"), message)
                .hint = Some("declare each workspace once".into());
        }
    }
}

/// A PipelineTask's workspace bindings: unique names, and (for a standalone Pipeline, when
/// `declared` is given) only pipeline workspaces that are declared.
pub fn check_task_bindings(
    ctx: &mut Ctx<'_>,
    pt: &PipelineTask,
    path: &str,
    declared: Option<&[PipelineWorkspaceDeclaration]>,
) {
    let mut seen = HashSet::new();
    for (i, ws) in pt.workspaces.iter().enumerate() {
        let at = format!("{path}.workspaces[{i}]");
        if !seen.insert(ws.name.as_str()) {
            ctx.error(
                "names/duplicate",
                format!("{at}.name"),
                format!("workspace name \"{}\" must be unique", ws.name),
            )
            .hint = Some("bind each of the task's workspaces once".into());
        }
        let Some(decls) = declared else { continue };
        let (target, field) = match ws.workspace.as_deref().filter(|w| !w.is_empty()) {
            Some(w) => (w, "workspace"),
            None => (ws.name.as_str(), "name"),
        };
        if decls.iter().any(|d| d.name == target) {
            continue;
        }
        let message = format!(
            "invalid value: pipeline task \"{}\" expects workspace with name \"{target}\" but none exists in pipeline spec",
            pt.name
        );
        let hint = match suggest(target, decls.iter().map(|d| d.name.as_str())) {
            Some(s) => format!("did you mean \"{s}\"?"),
            None => format!("declare it under the Pipeline's `workspaces`: - name: {target}"),
        };
        ctx.error("workspaces/undeclared", format!("{at}.{field}"), message)
            .hint = Some(hint);
    }
}

/// A run's workspace bindings (§2.5): each with one well-formed volume source, names unique
/// (case-insensitively for a TaskRun; exactly, with Tekton's own message, for a PipelineRun).
pub fn check_run_bindings(
    ctx: &mut Ctx<'_>,
    bindings: &[WorkspaceBinding],
    path: &str,
    pipeline_run: bool,
) {
    for (i, b) in bindings.iter().enumerate() {
        check_binding(ctx, b, &format!("{path}[{i}]"));
    }
    if !pipeline_run {
        let items = bindings
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name.as_str(), format!("{path}[{i}].name")));
        check_unique(ctx, "workspace binding", items, Compare::CaseInsensitive);
        return;
    }
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, b) in bindings.iter().enumerate() {
        match first.get(b.name.as_str()) {
            Some(&j) => {
                let message = format!(
                    "workspace \"{}\" provided by pipelinerun more than once, at index {j} and {i}",
                    b.name
                );
                ctx.error("names/duplicate", format!("{path}[{i}].name"), message)
                    .hint = Some("bind each workspace once".into());
            }
            None => {
                first.insert(b.name.as_str(), i);
            }
        }
    }
}

fn check_binding(ctx: &mut Ctx<'_>, b: &WorkspaceBinding, path: &str) {
    if *b == WorkspaceBinding::default() {
        ctx.error(
            "workspaces/binding-source",
            path,
            "missing field(s): name, and a volume source",
        )
        .hint = Some("write e.g. `- {name: source, emptyDir: {}}`".into());
        return;
    }
    if b.name.is_empty() {
        ctx.error("workspaces/missing-name", path, "missing field(s): name")
            .hint = Some("name the workspace this binding is for".into());
    }
    let sources = b.sources();
    match sources.as_slice() {
        [] => {
            ctx.error(
                "workspaces/binding-source",
                path,
                "expected exactly one, got neither: configMap, csi, emptyDir, persistentVolumeClaim, projected, secret, volumeClaimTemplate",
            )
            .hint = Some("add a volume source, e.g. `emptyDir: {}` or `persistentVolumeClaim: {claimName: ...}`".into());
        }
        [_] => check_source_fields(ctx, b, path),
        [_, second, ..] => {
            let d = ctx.error(
                "workspaces/binding-source",
                format!("{path}.{second}"),
                format!("expected exactly one, got both: {}", sources.join(", ")),
            );
            d.hint = Some("a binding has exactly one volume source; keep one".into());
            d.anchor = Anchor::Key;
        }
    }
}

fn check_source_fields(ctx: &mut Ctx<'_>, b: &WorkspaceBinding, path: &str) {
    let missing = [
        (
            "persistentVolumeClaim",
            "claimName",
            b.persistent_volume_claim
                .as_ref()
                .is_some_and(|s| s.claim_name.is_empty()),
        ),
        (
            "configMap",
            "name",
            b.config_map.as_ref().is_some_and(|s| s.name.is_empty()),
        ),
        (
            "secret",
            "secretName",
            b.secret
                .as_ref()
                .is_some_and(|s| s.secret_name.as_deref().unwrap_or("").is_empty()),
        ),
        (
            "projected",
            "sources",
            b.projected
                .as_ref()
                .is_some_and(|s| s.sources.as_ref().is_none_or(Vec::is_empty)),
        ),
        (
            "csi",
            "driver",
            b.csi.as_ref().is_some_and(|s| s.driver.is_empty()),
        ),
    ];
    for (source, field, absent) in missing {
        if absent {
            let d = ctx.error(
                "workspaces/binding-source",
                format!("{path}.{source}"),
                format!("missing field(s): {source}.{field}"),
            );
            d.hint = Some(format!("`{source}` needs `{field}`"));
            d.anchor = Anchor::Key;
        }
    }
}

/// Who passes params to a Task, and where its values are written.
#[derive(Debug, Clone)]
pub(crate) struct Call<'c> {
    /// The Task's name as Tekton's messages show it.
    pub task: &'c str,
    /// The values passed.
    pub params: &'c [Param],
    /// Path of `params`.
    pub params_path: String,
    /// Matrix and include params, with the path of each.
    pub matrix: Vec<(&'c Param, String)>,
    /// Where to point when `params` is absent.
    pub anchor: String,
}

/// The PipelineTask at `path` passes what `spec` (the Task called `task`) needs.
pub fn check_task_call_params(
    ctx: &mut Ctx<'_>,
    pt: &PipelineTask,
    path: &str,
    task: &str,
    spec: &TaskSpec,
) {
    let mut matrix = Vec::new();
    if let Some(m) = &pt.matrix {
        for (i, p) in m.params.iter().enumerate() {
            matrix.push((p, format!("{path}.matrix.params[{i}].name")));
        }
        for (i, inc) in m.include.iter().enumerate() {
            for (j, p) in inc.params.iter().enumerate() {
                matrix.push((p, format!("{path}.matrix.include[{i}].params[{j}].name")));
            }
        }
    }
    let anchor = if pt.task_ref.is_some() {
        format!("{path}.taskRef")
    } else {
        format!("{path}.taskSpec")
    };
    let call = Call {
        task,
        params: &pt.params,
        params_path: format!("{path}.params"),
        matrix,
        anchor,
    };
    check_task_params(ctx, &call, &spec.params);
}

/// The PipelineTask at `path` binds the workspaces the referenced Task `spec` declares, and no
/// others; with `pipeline` declarations known, no optional pipeline workspace feeds a required one.
pub fn check_task_call_workspaces(
    ctx: &mut Ctx<'_>,
    pt: &PipelineTask,
    path: &str,
    spec: &TaskSpec,
    pipeline: Option<&[PipelineWorkspaceDeclaration]>,
) {
    let bound: Vec<(&str, String)> = pt
        .workspaces
        .iter()
        .enumerate()
        .map(|(i, w)| (w.name.as_str(), format!("{path}.workspaces[{i}].name")))
        .collect();
    check_task_workspaces(
        ctx,
        &spec.workspaces,
        &bound,
        &format!("{path}.workspaces"),
        &format!("{path}.taskRef"),
        false,
    );
    let Some(pipeline) = pipeline else { return };
    for (i, w) in pt.workspaces.iter().enumerate() {
        let Some(target) = w.workspace.as_deref().filter(|t| !t.is_empty()) else {
            continue;
        };
        let optional_in_pipeline = pipeline
            .iter()
            .any(|d| d.name == target && d.optional == Some(true));
        let required_in_task = spec
            .workspaces
            .iter()
            .any(|d| d.name == w.name && d.optional != Some(true));
        if optional_in_pipeline && required_in_task {
            let message = format!(
                "pipeline workspace \"{target}\" is optional but pipeline task \"{}\" binds it to its required workspace \"{}\"",
                pt.name, w.name
            );
            ctx.error(
                "workspaces/optional-mismatch",
                format!("{path}.workspaces[{i}].workspace"),
                message,
            )
            .hint = Some(
                "make the Pipeline's workspace required, or the Task's workspace optional".into(),
            );
        }
    }
}

/// The params `call` passes satisfy the Task's declarations `decls` (Tekton's run-time
/// `invalid input params for task …` checks).
pub(crate) fn check_task_params(ctx: &mut Ctx<'_>, call: &Call<'_>, decls: &[ParamSpec]) {
    check_missing_task_params(ctx, call, decls);
    let by_name = first_by_name(decls);
    for (i, p) in call.params.iter().enumerate() {
        let Some(decl) = by_name.get(p.name.as_str()) else {
            continue;
        };
        let at = format!("{}[{i}].value", call.params_path);
        check_value_type(ctx, call.task, p, decl, &at);
        check_enum(ctx, p, decl, &at);
    }
    for (p, at) in &call.matrix {
        let declared = by_name
            .get(p.name.as_str())
            .and_then(|d| d.effective_type());
        if let Some(ty) = declared.filter(|t| *t != ParamType::String) {
            let message = format!(
                "invalid input params for task {}: param types don't match the user-specified type: [{}]",
                call.task, p.name
            );
            ctx.error("runs/param-type", at.clone(), message).hint = Some(format!(
                "each matrix combination passes one string, but the Task declares \"{}\" as {}",
                p.name,
                ty.as_str()
            ));
        }
    }
    check_object_keys(ctx, call, decls);
}

/// Declared params without a default that `call` does not pass (params or matrix).
fn check_missing_task_params(ctx: &mut Ctx<'_>, call: &Call<'_>, decls: &[ParamSpec]) {
    let supplied: HashSet<&str> = call
        .params
        .iter()
        .chain(call.matrix.iter().map(|(p, _)| *p))
        .map(|p| p.name.as_str())
        .collect();
    let missing: Vec<&str> = decls
        .iter()
        .filter(|d| d.default.is_none() && !supplied.contains(d.name.as_str()))
        .map(|d| d.name.as_str())
        .collect();
    if missing.is_empty() {
        return;
    }
    let message = format!(
        "invalid input params for task {}: missing values for these params which have no default values: [{}]",
        call.task,
        missing.join(" ")
    );
    let (at, anchor) = if call.params.is_empty() {
        (call.anchor.clone(), Anchor::Value)
    } else {
        (call.params_path.clone(), Anchor::Key)
    };
    let d = ctx.error("runs/missing-param", at, message);
    d.hint = Some(format!(
        "pass {} under `params`, or give the declaration a default",
        quoted(&missing)
    ));
    d.anchor = anchor;
}

fn first_by_name(decls: &[ParamSpec]) -> HashMap<&str, &ParamSpec> {
    let mut out = HashMap::new();
    for d in decls {
        out.entry(d.name.as_str()).or_insert(d);
    }
    out
}

fn check_value_type(ctx: &mut Ctx<'_>, task: &str, p: &Param, decl: &ParamSpec, at: &str) {
    let Some(declared) = decl.effective_type() else {
        return;
    };
    let passed = p.value.param_type();
    let substituted_later = matches!(&p.value, ParamValue::String(s) if s.contains("$("))
        && declared != ParamType::String;
    if passed == declared || substituted_later {
        return;
    }
    let message = format!("invalid input params for task {task}: param types don't match the user-specified type: [{}]", p.name);
    ctx.error("runs/param-type", at, message).hint = Some(format!(
        "\"{}\" is declared {} but the value is {} {}",
        p.name,
        declared.as_str(),
        article(passed),
        passed.as_str()
    ));
}

fn article(t: ParamType) -> &'static str {
    if t == ParamType::Array {
        "an"
    } else {
        "a"
    }
}

fn check_enum(ctx: &mut Ctx<'_>, p: &Param, decl: &ParamSpec, at: &str) {
    if !ctx.flags.enable_param_enum || decl.enum_.is_empty() {
        return;
    }
    let ParamValue::String(v) = &p.value else {
        return;
    };
    if v.contains("$(") || decl.enum_.contains(v) {
        return;
    }
    let message = format!("param `{}` value: {v} is not in the enum list", p.name);
    ctx.error("runs/param-enum", at, message).hint =
        Some(format!("allowed values: {}", decl.enum_.join(", ")));
}

fn check_object_keys(ctx: &mut Ctx<'_>, call: &Call<'_>, decls: &[ParamSpec]) {
    let Some((missing, at)) = missing_object_keys(decls, call.params, &call.params_path) else {
        return;
    };
    let message = format!(
        "invalid input params for task {}: missing keys for these params which are required in ParamSpec's properties {}",
        call.task,
        go_map(&missing)
    );
    ctx.error(
        "runs/object-keys",
        at.unwrap_or_else(|| call.anchor.clone()),
        message,
    )
    .hint = Some("pass every key the param's `properties` declare".into());
}

/// Keys declared in object params' `properties` that neither the default nor the value passed
/// provides, by param, with the path of the first such value (Tekton's
/// `MissingKeysObjectParamNames`: params for which no key is provided at all are skipped).
type MissingKeys<'d> = (BTreeMap<&'d str, Vec<&'d str>>, Option<String>);

fn missing_object_keys<'d>(
    decls: &'d [ParamSpec],
    params: &'d [Param],
    params_path: &str,
) -> Option<MissingKeys<'d>> {
    let mut missing = BTreeMap::new();
    let mut first_at: Option<Option<String>> = None;
    for d in decls
        .iter()
        .filter(|d| d.effective_type() == Some(ParamType::Object))
    {
        let Some(props) = &d.properties else { continue };
        let passed = params.iter().position(|p| p.name == d.name);
        let mut provided: BTreeSet<&str> = BTreeSet::new();
        if let Some(ParamValue::Object(m)) = &d.default {
            provided.extend(m.keys().map(String::as_str));
        }
        if let Some(ParamValue::Object(m)) = passed.map(|i| &params[i].value) {
            provided.extend(m.keys().map(String::as_str));
        }
        let lacking: Vec<&str> = props
            .keys()
            .map(String::as_str)
            .filter(|k| !provided.contains(k))
            .collect();
        if provided.is_empty() || lacking.is_empty() {
            continue;
        }
        missing.insert(d.name.as_str(), lacking);
        first_at.get_or_insert(passed.map(|i| format!("{params_path}[{i}].value")));
    }
    first_at.map(|at| (missing, at))
}

/// Go's `%v` of a `map[string][]string`: `map[a:[x y] b:[z]]`.
pub(crate) fn go_map(m: &BTreeMap<&str, Vec<&str>>) -> String {
    let entries: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}:[{}]", v.join(" ")))
        .collect();
    format!("map[{}]", entries.join(" "))
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The workspaces `bound` (name and path) cover `decls`' required ones; unless `extra_allowed`,
/// each binding matches a declaration.
pub(crate) fn check_task_workspaces(
    ctx: &mut Ctx<'_>,
    decls: &[WorkspaceDeclaration],
    bound: &[(&str, String)],
    list_path: &str,
    anchor: &str,
    extra_allowed: bool,
) {
    for decl in decls.iter().filter(|d| d.optional != Some(true)) {
        if bound.iter().any(|(n, _)| *n == decl.name) {
            continue;
        }
        let (at, key) = if bound.is_empty() {
            (anchor, Anchor::Value)
        } else {
            (list_path, Anchor::Key)
        };
        let d = ctx.error(
            "workspaces/unbound",
            at,
            format!(
                "declared workspace \"{}\" is required but has not been bound",
                decl.name
            ),
        );
        d.hint = Some(format!("bind it under `workspaces`: - name: {}", decl.name));
        d.anchor = key;
    }
    if extra_allowed {
        return;
    }
    for (name, path) in bound {
        if decls.iter().any(|d| d.name == *name) {
            continue;
        }
        let hint = match suggest(name, decls.iter().map(|d| d.name.as_str())) {
            Some(s) => format!("did you mean \"{s}\"?"),
            None if decls.is_empty() => {
                "the Task declares no workspaces; remove the binding".into()
            }
            None => format!(
                "the Task declares {}",
                decls
                    .iter()
                    .map(|d| format!("\"{}\"", d.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        ctx.error(
            "workspaces/unknown-binding",
            path.clone(),
            format!("workspace binding \"{name}\" does not match any declared workspace"),
        )
        .hint = Some(hint);
    }
}

/// A PipelineRun binds every required workspace its Pipeline declares (extra bindings are fine).
pub(crate) fn check_pipeline_run_workspaces(
    ctx: &mut Ctx<'_>,
    decls: &[PipelineWorkspaceDeclaration],
    bindings: &[WorkspaceBinding],
    anchor: &str,
) {
    for decl in decls.iter().filter(|d| d.optional != Some(true)) {
        if bindings.iter().any(|b| b.name == decl.name) {
            continue;
        }
        let (at, key) = if bindings.is_empty() {
            (anchor, Anchor::Value)
        } else {
            ("spec.workspaces", Anchor::Key)
        };
        let d = ctx.error(
            "workspaces/unbound",
            at,
            format!(
                "pipeline requires workspace with name \"{}\" be provided by pipelinerun",
                decl.name
            ),
        );
        d.hint = Some(format!(
            "bind it under spec.workspaces, e.g. - {{name: {}, emptyDir: {{}}}}",
            decl.name
        ));
        d.anchor = key;
    }
}

/// A PipelineRun passes every param its Pipeline requires, with the declared types and keys.
pub(crate) fn check_pipeline_run_params(
    ctx: &mut Ctx<'_>,
    decls: &[ParamSpec],
    params: &[Param],
    anchor: &str,
) {
    let missing: Vec<&str> = decls
        .iter()
        .filter(|d| d.default.is_none() && !params.iter().any(|p| p.name == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !missing.is_empty() {
        let (at, key) = if params.is_empty() {
            (anchor, Anchor::Value)
        } else {
            ("spec.params", Anchor::Key)
        };
        let d = ctx.error(
            "runs/missing-param",
            at,
            format!("pipelineRun missing parameters: [{}]", missing.join(" ")),
        );
        d.hint = Some(format!(
            "pass {} under spec.params, or give the declaration a default",
            quoted(&missing)
        ));
        d.anchor = key;
    }
    let by_name = first_by_name(decls);
    for (i, p) in params.iter().enumerate() {
        let Some(decl) = by_name.get(p.name.as_str()) else {
            continue;
        };
        let at = format!("spec.params[{i}].value");
        check_run_param_type(ctx, p, decl, &at);
        check_enum(ctx, p, decl, &at);
    }
    if let Some((missing, at)) = missing_object_keys(decls, params, "spec.params") {
        let message = format!(
            "PipelineRun missing object keys for parameters: {}",
            go_map(&missing)
        );
        ctx.error(
            "runs/object-keys",
            at.unwrap_or_else(|| anchor.to_string()),
            message,
        )
        .hint = Some("pass every key the param's `properties` declare".into());
    }
}

/// A PipelineRun's value must have exactly the declared type (`ParameterTypeMismatch`).
fn check_run_param_type(ctx: &mut Ctx<'_>, p: &Param, decl: &ParamSpec, at: &str) {
    let passed = p.value.param_type();
    let Some(declared) = decl.effective_type().filter(|t| *t != passed) else {
        return;
    };
    ctx.error(
        "runs/param-type",
        at,
        format!("parameters have inconsistent types : [{}]", p.name),
    )
    .hint = Some(format!(
        "the Pipeline declares \"{}\" as {} but the PipelineRun passes {} {}",
        p.name,
        declared.as_str(),
        article(passed),
        passed.as_str()
    ));
}

/// Known lengths of array params: declared array defaults, overridden by the values passed.
pub(crate) fn array_lengths(decls: &[ParamSpec], values: &[Param]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for d in decls {
        if let Some(ParamValue::Array(items)) = &d.default {
            out.insert(d.name.clone(), items.len());
        }
    }
    for p in values {
        match &p.value {
            ParamValue::Array(items) => out.insert(p.name.clone(), items.len()),
            _ => out.remove(&p.name),
        };
    }
    out
}

/// Where to report an index found in another object (a referenced Task or Pipeline).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Elsewhere<'e> {
    /// The run's params.
    pub params: &'e [Param],
    /// Path of the run's `params`.
    pub params_path: &'e str,
    /// Where to point when the param is not passed.
    pub anchor: &'e str,
    /// The object holding the references, e.g. `Task "build"`.
    pub source: &'e str,
}

/// `$(params.a[i])` must stay inside `a`'s known length (`texts` are path and string).
pub(crate) fn check_array_indexes(
    ctx: &mut Ctx<'_>,
    lengths: &HashMap<String, usize>,
    texts: &[(String, String)],
    elsewhere: Option<Elsewhere<'_>>,
) {
    for (path, text) in texts {
        for r in scan(text).refs {
            let Var::Param {
                name,
                access: Access::Index(i),
            } = &r.var
            else {
                continue;
            };
            let Some(&len) = lengths.get(name) else {
                continue;
            };
            if *i < len {
                continue;
            }
            let message = format!("non-existent param references:[$({})]", r.text);
            let hint = format!("\"{name}\" has {len} element(s); indexes count from 0");
            let d = match elsewhere {
                None => Diagnostic::error("runs/array-index", message)
                    .at(path.clone())
                    .inside(r.span.start, r.span.len())
                    .hint(hint),
                Some(e) => {
                    let at = match e.params.iter().position(|p| p.name == *name) {
                        Some(j) => format!("{}[{j}].value", e.params_path),
                        None => e.anchor.to_string(),
                    };
                    Diagnostic::error("runs/array-index", message)
                        .at(at)
                        .hint(format!("{hint} (used at {path} of {})", e.source))
                }
            };
            ctx.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::test_support::*;

    const TASK: &str = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: build}\nspec:\n  params:\n  - {name: url}\n  - {name: flags, type: array}\n  - {name: repo, properties: {url: {}, rev: {}}, default: {url: u}}\n  workspaces:\n  - {name: src}\n  - {name: cache, optional: true}\n  steps: [{image: x}]\n---\n";

    #[test]
    fn pipeline_workspaces_declared_once_and_bound_by_name() {
        let d = check(
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  workspaces: [{name: ws}, {name: ws}, {name: \"\"}]\n  tasks:\n  - name: a\n    workspaces: [{name: src, workspace: wss}, {name: src, workspace: ws}]\n    taskSpec: {workspaces: [{name: src}], steps: [{image: x}]}\n",
        );
        assert_eq!(
            only(&d, "workspaces/empty-name").field.as_deref(),
            Some("spec.workspaces[2]")
        );
        let dups: Vec<_> = d
            .iter()
            .filter(|d| d.code == "names/duplicate")
            .map(|d| d.field.as_deref().unwrap())
            .collect();
        assert_eq!(
            dups,
            [
                "spec.workspaces[1].name",
                "spec.tasks[0].workspaces[1].name"
            ]
        );
        let e = only(&d, "workspaces/undeclared");
        assert_eq!(at(e), ("spec.tasks[0].workspaces[0].workspace", 8, 41));
        assert_eq!(e.hint.as_deref(), Some("did you mean \"ws\"?"));
    }

    #[test]
    fn run_bindings_need_exactly_one_source() {
        let d = check(
            "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: r}\nspec:\n  taskSpec: {steps: [{image: x}]}\n  workspaces:\n  - {name: a}\n  - {name: b, emptyDir: {}, secret: {secretName: s}}\n  - {name: c, persistentVolumeClaim: {claimName: \"\"}}\n  - {name: A, emptyDir: {}}\n",
        );
        let found: Vec<_> = d
            .iter()
            .filter(|d| d.code == "workspaces/binding-source")
            .collect();
        assert_eq!(found.len(), 3, "{d:#?}");
        assert!(found[0]
            .message
            .starts_with("expected exactly one, got neither"));
        assert_eq!(at(found[1]), ("spec.workspaces[1].secret", 8, 29));
        assert_eq!(
            found[2].message,
            "missing field(s): persistentVolumeClaim.claimName"
        );
        assert_eq!(
            only(&d, "names/duplicate").field.as_deref(),
            Some("spec.workspaces[3].name")
        );
    }

    #[test]
    fn pipeline_task_passes_what_the_task_needs() {
        let d = check(&format!(
            "{TASK}apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {{name: p}}\nspec:\n  workspaces: [{{name: w, optional: true}}]\n  tasks:\n  - name: a\n    taskRef: {{name: build}}\n    params:\n    - {{name: flags, value: one}}\n    - {{name: repo, value: {{rev: main}}}}\n    workspaces: [{{name: src, workspace: w}}, {{name: other, workspace: w}}]\n"
        ));
        let missing = only(&d, "runs/missing-param");
        assert_eq!(
            missing.message,
            "invalid input params for task build: missing values for these params which have no default values: [url]"
        );
        assert_eq!(at(missing), ("spec.tasks[0].params", 22, 5));
        assert_eq!(
            at(only(&d, "runs/param-type")),
            ("spec.tasks[0].params[0].value", 23, 28)
        );
        assert_none(&d, "runs/object-keys");
        assert_eq!(
            only(&d, "workspaces/unknown-binding").field.as_deref(),
            Some("spec.tasks[0].workspaces[1].name")
        );
        assert_eq!(
            only(&d, "workspaces/optional-mismatch").field.as_deref(),
            Some("spec.tasks[0].workspaces[0].workspace")
        );
    }

    #[test]
    fn task_run_against_its_task() {
        let d = check(&format!(
            "{TASK}apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {{name: r}}\nspec:\n  taskRef: {{name: build}}\n  params:\n  - {{name: url, value: [a]}}\n  - {{name: flags, value: \"$(params.x)\"}}\n  - {{name: repo, value: {{url: x}}}}\n  workspaces: [{{name: cache, emptyDir: {{}}}}, {{name: extra, emptyDir: {{}}}}]\n"
        ));
        assert_none(&d, "runs/missing-param");
        assert_eq!(
            only(&d, "runs/param-type").field.as_deref(),
            Some("spec.params[0].value")
        );
        let keys = only(&d, "runs/object-keys");
        assert!(
            keys.message
                .ends_with("ParamSpec's properties map[repo:[rev]]"),
            "{}",
            keys.message
        );
        assert_eq!(
            only(&d, "workspaces/unbound").message,
            "declared workspace \"src\" is required but has not been bound"
        );
        assert_eq!(
            at(only(&d, "workspaces/unknown-binding")),
            ("spec.workspaces[1].name", 23, 52)
        );
    }

    #[test]
    fn go_maps_print_like_go() {
        let m: BTreeMap<&str, Vec<&str>> = [("b", vec!["x", "y"]), ("a", vec!["z"])].into();
        assert_eq!(go_map(&m), "map[a:[z] b:[x y]]");
    }
}
