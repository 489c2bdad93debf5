//! TaskRun and PipelineRun rules (spec §2.7, §2.9), and the checks Tekton makes only when a run
//! starts (§2.10) that the files alone already decide.
//!
//! A run is where a Task or Pipeline meets its inputs, so besides the run's own shape (one of
//! ref/spec, statuses, timeouts, bindings) this module resolves what the run runs — the embedded
//! spec, or the referenced object when it is loaded — and hands both sides to
//! [`super::bindings`]. With a remote resolver, or an object adze does not have, only the run's
//! own shape is checked.

use k8s_openapi::api::core::v1::ResourceRequirements;

use super::bindings::{self, Call, Elsewhere};
use super::names::{check_unique, Compare};
use super::pipeline::{self, Scope};
use super::pipeline_texts::{json_strings, param_texts, sites, value_strings};
use super::spec_context::SpecContext;
use super::{params, references, task, ApiFields, Ctx};
use crate::api::run::{ContainerSpecOverride, PipelineTaskRunSpec, Timeouts};
use crate::api::{GoDuration, Param, PipelineRun, PipelineSpec, TaskRun, TaskSpec};
use crate::diagnostic::{Anchor, Diagnostic};
use crate::load::catalog::suggest;
use crate::subst::{scan, Var};

/// Tekton's `default-timeout-minutes`.
const DEFAULT_TIMEOUT_MINUTES: i64 = 60;

/// Validates a TaskRun (spec §2.7, §2.10).
pub fn validate_task_run(ctx: &mut Ctx<'_>, run: &TaskRun) {
    task::validate_metadata_name(ctx, &run.metadata);
    check_task_run_shape(ctx, run);
    if let Some(target) = task_run_target(ctx, run) {
        check_task_run_against(ctx, run, &target);
    }
}

/// The TaskRun's own fields (§2.7), whatever it runs.
fn check_task_run_shape(ctx: &mut Ctx<'_>, run: &TaskRun) {
    let spec = &run.spec;
    exactly_one(
        ctx,
        ("taskRef", spec.task_ref.is_some()),
        ("taskSpec", spec.task_spec.is_some()),
    );
    inline_spec(ctx, spec.task_spec.is_some(), "taskrun", "spec.taskSpec");
    params::validate_param_values(ctx, &spec.params, "spec.params", true);
    check_status(
        ctx,
        spec.status.as_deref(),
        &["TaskRunCancelled"],
        "TaskRunPending",
        run.status.as_ref(),
        "TaskRun",
    );
    check_status_message(ctx, spec.status.as_deref(), spec.status_message.as_deref());
    if let Some(n) = spec.retries.filter(|n| *n < 0) {
        ctx.error(
            "runs/retries",
            "spec.retries",
            format!("{n} should be >= 0"),
        )
        .hint = Some("use 0 for no retries".into());
    }
    parse_timeout(ctx, spec.timeout.as_deref(), "spec.timeout");
    bindings::check_run_bindings(ctx, &spec.workspaces, "spec.workspaces", false);
    check_container_specs(
        ctx,
        &spec.step_specs,
        "spec.stepSpecs",
        spec.compute_resources.as_ref(),
    );
    check_container_specs(ctx, &spec.sidecar_specs, "spec.sidecarSpecs", None);
    check_debug(ctx, spec.debug.as_ref());
}

/// Validates a PipelineRun (spec §2.9, §2.10).
pub fn validate_pipeline_run(ctx: &mut Ctx<'_>, run: &PipelineRun) {
    task::validate_metadata_name(ctx, &run.metadata);
    check_pipeline_run_shape(ctx, run);
    if let Some(target) = pipeline_run_target(ctx, run) {
        check_pipeline_run_against(ctx, run, &target);
    }
}

/// The PipelineRun's own fields (§2.9), whatever it runs.
fn check_pipeline_run_shape(ctx: &mut Ctx<'_>, run: &PipelineRun) {
    let spec = &run.spec;
    exactly_one(
        ctx,
        ("pipelineRef", spec.pipeline_ref.is_some()),
        ("pipelineSpec", spec.pipeline_spec.is_some()),
    );
    inline_spec(
        ctx,
        spec.pipeline_spec.is_some(),
        "pipelinerun",
        "spec.pipelineSpec",
    );
    params::validate_param_values(ctx, &spec.params, "spec.params", true);
    check_no_result_refs(ctx, &spec.params);
    let statuses = ["Cancelled", "CancelledRunFinally", "StoppedRunFinally"];
    check_status(
        ctx,
        spec.status.as_deref(),
        &statuses,
        "PipelineRunPending",
        run.status.as_ref(),
        "PipelineRun",
    );
    let tasks_bound = spec
        .timeouts
        .as_ref()
        .map_or(default_timeout(), |t| check_timeouts(ctx, t));
    bindings::check_run_bindings(ctx, &spec.workspaces, "spec.workspaces", true);
    for (i, trs) in spec.task_run_specs.iter().enumerate() {
        check_task_run_spec(ctx, trs, &format!("spec.taskRunSpecs[{i}]"), tasks_bound);
    }
}

fn exactly_one(ctx: &mut Ctx<'_>, a: (&str, bool), b: (&str, bool)) {
    let fields = format!("{}, {}", a.0, b.0);
    match (a.1, b.1) {
        (false, false) => {
            ctx.error(
                "runs/ref-or-spec",
                "spec",
                format!("expected exactly one, got neither: {fields}"),
            )
            .hint = Some(format!(
                "add `{}: {{name: ...}}` or an inline `{}`",
                a.0, b.0
            ));
        }
        (true, true) => {
            let d = ctx.error(
                "runs/ref-or-spec",
                format!("spec.{}", b.0),
                format!("expected exactly one, got both: {fields}"),
            );
            d.hint = Some(format!("keep either `{}` or `{}`", a.0, b.0));
            d.anchor = Anchor::Key;
        }
        _ => {}
    }
}

fn inline_spec(ctx: &mut Ctx<'_>, present: bool, kind: &str, path: &str) {
    if !present || !ctx.flags.disable_inline_spec.iter().any(|s| s == kind) {
        return;
    }
    let field = path.rsplit('.').next().unwrap_or(path);
    let d = ctx.error(
        "runs/inline-spec-disabled",
        path,
        format!("must not set the field(s): {field}"),
    );
    d.hint = Some(format!(
        "disable-inline-spec contains \"{kind}\": reference the object by name instead"
    ));
    d.anchor = Anchor::Key;
}

/// `statusMessage` explains a `status`; alone it is rejected.
fn check_status_message(ctx: &mut Ctx<'_>, status: Option<&str>, message: Option<&str>) {
    let Some(m) = message.filter(|m| !m.is_empty()) else {
        return;
    };
    if status.unwrap_or("").is_empty() {
        let text = format!(
            "statusMessage should not be set if status is not set, but it is currently set to {m}"
        );
        ctx.error("runs/status-message", "spec.statusMessage", text)
            .hint =
            Some("set `status` (e.g. TaskRunCancelled) with it, or remove statusMessage".into());
    }
}

fn started(status: Option<&serde_json::Value>) -> bool {
    status
        .and_then(|s| s.get("startTime"))
        .is_some_and(|v| !v.is_null())
}

fn check_status(
    ctx: &mut Ctx<'_>,
    status: Option<&str>,
    valid: &[&str],
    pending: &str,
    observed: Option<&serde_json::Value>,
    kind: &str,
) {
    let Some(s) = status.filter(|s| !s.is_empty()) else {
        return;
    };
    if s == pending {
        if started(observed) {
            ctx.error(
                "runs/status",
                "spec.status",
                format!("{kind} cannot be Pending after it is started"),
            )
            .hint = Some("a run can only be held before it starts; remove `status`".into());
        }
        return;
    }
    if valid.contains(&s) {
        return;
    }
    let mut all: Vec<&str> = valid.to_vec();
    all.push(pending);
    let (last, rest) = all.split_last().expect("non-empty");
    let message = format!("{s} should be {} or {last}", rest.join(", "));
    ctx.error("runs/status", "spec.status", message).hint =
        Some(match suggest(s, all.iter().copied()) {
            Some(fix) => format!("did you mean \"{fix}\"?"),
            None => format!("use one of {}, or leave status unset", all.join(", ")),
        });
}

/// Parses a duration field, reporting bad syntax and negative values.
fn parse_timeout(ctx: &mut Ctx<'_>, text: Option<&str>, path: &str) -> Option<GoDuration> {
    match GoDuration::parse(text?) {
        Err(e) => {
            ctx.error("runs/timeout", path, e.to_string()).hint =
                Some("write a Go duration such as 90s, 10m or 1h30m (0 means no timeout)".into());
            None
        }
        Ok(d) if d.is_negative() => {
            ctx.error("runs/timeout", path, format!("{d} should be >= 0"))
                .hint = Some("use 0 for no timeout".into());
            Some(d)
        }
        Ok(d) => Some(d),
    }
}

fn default_timeout() -> GoDuration {
    GoDuration::minutes(DEFAULT_TIMEOUT_MINUTES)
}

/// `timeouts` (§2.9): `tasks` and `finally` fit in `pipeline` (or the default). Returns the bound
/// a `taskRunSpecs` timeout must respect.
fn check_timeouts(ctx: &mut Ctx<'_>, t: &Timeouts) -> GoDuration {
    let tasks = parse_timeout(ctx, t.tasks.as_deref(), "spec.timeouts.tasks");
    let finally = parse_timeout(ctx, t.finally.as_deref(), "spec.timeouts.finally");
    let pipeline = parse_timeout(ctx, t.pipeline.as_deref(), "spec.timeouts.pipeline");
    let (bound, what) = match (&t.pipeline, pipeline) {
        (None, _) => (default_timeout(), "should be <= default timeout duration"),
        (Some(_), Some(p)) => (p, "should be <= pipeline duration"),
        (Some(_), None) => return tasks.unwrap_or(GoDuration(0)),
    };
    for (field, d) in [("tasks", tasks), ("finally", finally)] {
        let Some(d) = d else { continue };
        let problem = if !bound.is_zero() && d > bound {
            Some(format!("{d} {what}"))
        } else if d.is_zero() && !bound.is_zero() {
            Some(format!("{d} (no timeout) {what}"))
        } else {
            None
        };
        if let Some(message) = problem {
            ctx.error("runs/timeouts", format!("spec.timeouts.{field}"), message)
                .hint = Some(format!(
                "timeouts.{field} must fit in timeouts.pipeline ({bound}; 0 means no timeout)"
            ));
        }
    }
    if let (Some(a), Some(b)) = (tasks, finally) {
        if GoDuration(a.0 + b.0) > bound {
            for field in ["tasks", "finally"] {
                ctx.error(
                    "runs/timeouts",
                    format!("spec.timeouts.{field}"),
                    format!("{a} + {b} {what}"),
                )
                .hint = Some(format!(
                    "timeouts.tasks + timeouts.finally must fit in timeouts.pipeline ({bound})"
                ));
            }
        }
    }
    match (tasks, &t.pipeline) {
        (Some(d), _) => d,
        (None, Some(_)) => bound,
        (None, None) => default_timeout(),
    }
}

fn check_task_run_spec(
    ctx: &mut Ctx<'_>,
    trs: &PipelineTaskRunSpec,
    path: &str,
    bound: GoDuration,
) {
    if trs.pipeline_task_name.is_empty() {
        ctx.error(
            "runs/task-run-specs",
            path,
            "missing field(s): pipelineTaskName",
        )
        .hint = Some("name the pipeline task these settings are for".into());
    }
    check_container_specs(
        ctx,
        &trs.step_specs,
        &format!("{path}.stepSpecs"),
        trs.compute_resources.as_ref(),
    );
    check_container_specs(
        ctx,
        &trs.sidecar_specs,
        &format!("{path}.sidecarSpecs"),
        None,
    );
    let at = format!("{path}.timeout");
    if let Some(d) = parse_timeout(ctx, trs.timeout.as_deref(), &at) {
        if !bound.is_zero() && d > bound {
            ctx.error(
                "runs/timeouts",
                at,
                format!("taskRunSpecs timeout {d} should be <= tasks timeout {bound}"),
            )
            .hint = Some(
                "a pipeline task's TaskRun cannot outlive the PipelineRun's tasks timeout".into(),
            );
        }
    }
}

/// `stepSpecs` / `sidecarSpecs` (beta): named, names unique case-insensitively; a stepSpec with
/// resources excludes task-level `computeResources`.
fn check_container_specs(
    ctx: &mut Ctx<'_>,
    specs: &[ContainerSpecOverride],
    path: &str,
    task_level: Option<&ResourceRequirements>,
) {
    if specs.is_empty() {
        return;
    }
    let field = path.rsplit('.').next().unwrap_or(path);
    ctx.gate(ApiFields::Beta, field, path);
    for (i, s) in specs.iter().enumerate() {
        if s.name.is_empty() {
            ctx.error(
                "runs/container-specs",
                format!("{path}[{i}]"),
                "missing field(s): name",
            )
            .hint = Some("name the step or sidecar to override".into());
        }
    }
    let items = specs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), format!("{path}[{i}].name")));
    check_unique(ctx, field, items, Compare::CaseInsensitive);
    let overrides = specs.iter().any(|s| {
        s.compute_resources
            .as_ref()
            .is_some_and(|r| *r != ResourceRequirements::default())
    });
    if task_level.is_some() && overrides {
        let at = format!(
            "{}.computeResources",
            path.rsplit_once('.').map_or("spec", |(p, _)| p)
        );
        let d = ctx.error(
            "runs/container-specs",
            at,
            "expected exactly one, got both: stepSpecs.resources, computeResources",
        );
        d.hint = Some("set resources per step in stepSpecs, or for the whole task in computeResources, not both".into());
        d.anchor = Anchor::Key;
    }
}

/// `debug` (alpha): `breakpoints.onFailure` is `enabled`; `beforeSteps` names each step once.
fn check_debug(ctx: &mut Ctx<'_>, debug: Option<&serde_json::Value>) {
    let Some(debug) = debug else { return };
    ctx.gate(ApiFields::Alpha, "debug", "spec.debug");
    let Some(bp) = debug.get("breakpoints") else {
        return;
    };
    if let Some(v) = bp
        .get("onFailure")
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty() && *v != "enabled")
    {
        ctx.error(
            "runs/debug",
            "spec.debug.breakpoints.onFailure",
            format!(
                "invalid value: {v}: onFailure breakpoint is only allowed to be set as enabled"
            ),
        )
        .hint = Some("use onFailure: enabled".into());
    }
    let steps: Vec<&str> = bp
        .get("beforeSteps")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    let items = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, format!("spec.debug.breakpoints.beforeSteps[{i}]")));
    check_unique(ctx, "before-step breakpoint", items, Compare::Exact);
}

/// PipelineRun params are values, not references to task results (nothing would substitute them).
fn check_no_result_refs(ctx: &mut Ctx<'_>, params: &[Param]) {
    for (i, p) in params.iter().enumerate() {
        for (at, s) in value_strings(&p.value, &format!("spec.params[{i}].value")) {
            let refs: Vec<_> = scan(s)
                .refs
                .into_iter()
                .filter(|r| matches!(r.var, Var::TaskResult { .. } | Var::FinallyResult { .. }))
                .collect();
            let Some(first) = refs.first() else { continue };
            let listed: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
            let message = format!(
                "cannot use result expressions in [{}] as PipelineRun parameter values",
                listed.join(" ")
            );
            ctx.push(
                Diagnostic::error("runs/result-in-param", message)
                    .at(at)
                    .inside(first.span.start, first.span.len())
                    .hint("a PipelineRun's params are not substituted; pass task results between tasks inside the Pipeline"),
            );
        }
    }
}

/// What a TaskRun runs, when adze knows it.
struct TaskTarget<'t> {
    spec: &'t TaskSpec,
    /// The Task's name as Tekton's messages show it.
    name: String,
    embedded: bool,
    anchor: &'static str,
}

fn task_run_target<'a: 't, 't>(ctx: &mut Ctx<'a>, run: &'t TaskRun) -> Option<TaskTarget<'t>> {
    let spec = &run.spec;
    if let Some(ts) = &spec.task_spec {
        let names: Vec<String> = spec.params.iter().map(|p| p.name.clone()).collect();
        let sc = SpecContext {
            embedded: true,
            propagated_params: &names,
            in_pipeline: false,
        };
        task::validate_task_spec(ctx, ts, "spec.taskSpec", &sc);
    }
    let found = spec
        .task_ref
        .as_ref()
        .and_then(|r| references::check_task_ref(ctx, r, "spec.taskRef"));
    match (&spec.task_ref, &spec.task_spec) {
        (None, Some(ts)) => Some(TaskTarget {
            spec: ts,
            name: run
                .metadata
                .name
                .clone()
                .or_else(|| run.metadata.generate_name.clone())
                .unwrap_or_default(),
            embedded: true,
            anchor: "spec.taskSpec",
        }),
        (Some(r), None) => found.map(|t| TaskTarget {
            spec: &t.spec,
            // A fetched Task is named by its own metadata, as Tekton names it once resolved.
            name: r
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .or_else(|| t.metadata.name.clone())
                .unwrap_or_default(),
            embedded: false,
            anchor: "spec.taskRef",
        }),
        _ => None,
    }
}

fn check_task_run_against(ctx: &mut Ctx<'_>, run: &TaskRun, target: &TaskTarget<'_>) {
    let spec = &run.spec;
    let call = Call {
        task: &target.name,
        params: &spec.params,
        params_path: "spec.params".into(),
        matrix: Vec::new(),
        anchor: target.anchor.into(),
    };
    bindings::check_task_params(ctx, &call, &target.spec.params);
    let bound: Vec<(&str, String)> = spec
        .workspaces
        .iter()
        .enumerate()
        .map(|(i, w)| (w.name.as_str(), format!("spec.workspaces[{i}].name")))
        .collect();
    bindings::check_task_workspaces(
        ctx,
        &target.spec.workspaces,
        &bound,
        "spec.workspaces",
        target.anchor,
        target.embedded,
    );
    let lengths = bindings::array_lengths(&target.spec.params, &spec.params);
    let base = if target.embedded {
        "spec.taskSpec"
    } else {
        "spec"
    };
    let source = format!("Task \"{}\"", target.name);
    let elsewhere = (!target.embedded).then_some(Elsewhere {
        params: &spec.params,
        params_path: "spec.params",
        anchor: target.anchor,
        source: &source,
    });
    bindings::check_array_indexes(ctx, &lengths, &task_texts(target.spec, base), elsewhere);
    check_override_names(
        ctx,
        &spec.step_specs,
        "spec.stepSpecs",
        &step_names(target.spec),
        "step",
    );
    let sidecars: Vec<String> = target
        .spec
        .sidecars
        .iter()
        .map(|s| s.name.clone())
        .collect();
    check_override_names(
        ctx,
        &spec.sidecar_specs,
        "spec.sidecarSpecs",
        &sidecars,
        "sidecar",
    );
}

/// The strings of a TaskSpec Tekton substitutes params into (steps, stepTemplate, sidecars,
/// volumes, workspaces), with their paths under `base`.
fn task_texts(spec: &TaskSpec, base: &str) -> Vec<(String, String)> {
    let parts = [
        ("steps", serde_json::to_value(&spec.steps)),
        ("stepTemplate", serde_json::to_value(&spec.step_template)),
        ("sidecars", serde_json::to_value(&spec.sidecars)),
        ("volumes", serde_json::to_value(&spec.volumes)),
        ("workspaces", serde_json::to_value(&spec.workspaces)),
    ];
    parts
        .into_iter()
        .flat_map(|(key, value)| json_strings(&value.unwrap_or_default(), &format!("{base}.{key}")))
        .collect()
}

fn step_names(spec: &TaskSpec) -> Vec<String> {
    spec.steps
        .iter()
        .enumerate()
        .map(|(i, s)| crate::plan::task::step_name(&s.name, i))
        .collect()
}

fn check_override_names(
    ctx: &mut Ctx<'_>,
    specs: &[ContainerSpecOverride],
    path: &str,
    names: &[String],
    what: &str,
) {
    for (i, s) in specs.iter().enumerate().filter(|(_, s)| !s.name.is_empty()) {
        if names.iter().any(|n| n.eq_ignore_ascii_case(&s.name)) {
            continue;
        }
        let hint = match suggest(&s.name, names.iter().map(String::as_str)) {
            Some(fix) => format!("did you mean \"{fix}\"?"),
            None => format!("the Task's {what}s are {}", names.join(", ")),
        };
        ctx.error(
            "runs/container-specs",
            format!("{path}[{i}].name"),
            format!("{what} \"{}\" does not exist in the Task", s.name),
        )
        .hint = Some(hint);
    }
}

/// What a PipelineRun runs, when adze knows it.
struct PipelineTarget<'t> {
    spec: &'t PipelineSpec,
    name: String,
    embedded: bool,
    anchor: &'static str,
}

fn pipeline_run_target<'a: 't, 't>(
    ctx: &mut Ctx<'a>,
    run: &'t PipelineRun,
) -> Option<PipelineTarget<'t>> {
    let spec = &run.spec;
    if let Some(ps) = &spec.pipeline_spec {
        validate_embedded_pipeline(ctx, run, ps);
    }
    let found = spec
        .pipeline_ref
        .as_ref()
        .and_then(|r| references::check_pipeline_ref(ctx, r, "spec.pipelineRef"));
    match (&spec.pipeline_ref, &spec.pipeline_spec) {
        (None, Some(ps)) => Some(PipelineTarget {
            spec: ps,
            name: String::new(),
            embedded: true,
            anchor: "spec.pipelineSpec",
        }),
        (Some(r), None) => found.map(|p| PipelineTarget {
            spec: &p.spec,
            name: r
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .or_else(|| p.metadata.name.clone())
                .unwrap_or_default(),
            embedded: false,
            anchor: "spec.pipelineRef",
        }),
        _ => None,
    }
}

/// An embedded pipelineSpec may use the run's params and any PipelineTask's or taskSpec's
/// param names without declaring them (Tekton's `validateInlineParameters`).
fn validate_embedded_pipeline(ctx: &mut Ctx<'_>, run: &PipelineRun, ps: &PipelineSpec) {
    let base = "spec.pipelineSpec";
    let outer: Vec<String> = run.spec.params.iter().map(|p| p.name.clone()).collect();
    let scope = Scope {
        embedded: true,
        outer_params: &outer,
    };
    pipeline::validate_pipeline_spec_in(ctx, ps, base, &scope);
    let mut known: pipeline::KnownParams = run
        .spec
        .params
        .iter()
        .map(|p| (p.name.clone(), pipeline::known_from_value(&p.value)))
        .collect();
    known.extend(pipeline::known_params(&ps.params));
    let all = sites(ps, base);
    for site in &all {
        for p in &site.pt.params {
            known
                .entry(p.name.clone())
                .or_insert_with(|| pipeline::known_from_value(&p.value));
        }
        if let Some(ts) = &site.pt.task_spec {
            for (name, k) in pipeline::known_params(&ts.params) {
                known.entry(name).or_insert(k);
            }
        }
    }
    pipeline::check_param_usage(ctx, &all, base, &known);
}

fn check_pipeline_run_against(ctx: &mut Ctx<'_>, run: &PipelineRun, target: &PipelineTarget<'_>) {
    let spec = &run.spec;
    bindings::check_pipeline_run_params(ctx, &target.spec.params, &spec.params, target.anchor);
    bindings::check_pipeline_run_workspaces(
        ctx,
        &target.spec.workspaces,
        &spec.workspaces,
        target.anchor,
    );
    let names: Vec<&str> = target
        .spec
        .tasks
        .iter()
        .chain(&target.spec.finally)
        .map(|t| t.name.as_str())
        .collect();
    for (i, trs) in spec.task_run_specs.iter().enumerate() {
        let name = trs.pipeline_task_name.as_str();
        if name.is_empty() || names.contains(&name) {
            continue;
        }
        let message = format!("pipelineRun's taskrunSpecs defined wrong taskName: \"{name}\", does not exist in Pipeline");
        ctx.error(
            "runs/task-run-specs",
            format!("spec.taskRunSpecs[{i}].pipelineTaskName"),
            message,
        )
        .hint = Some(match suggest(name, names.iter().copied()) {
            Some(s) => format!("did you mean \"{s}\"?"),
            None => format!("the Pipeline's tasks are {}", names.join(", ")),
        });
    }
    let base = if target.embedded {
        "spec.pipelineSpec"
    } else {
        "spec"
    };
    let lengths = bindings::array_lengths(&target.spec.params, &spec.params);
    let source = format!("Pipeline \"{}\"", target.name);
    let elsewhere = (!target.embedded).then_some(Elsewhere {
        params: &spec.params,
        params_path: "spec.params",
        anchor: target.anchor,
        source: &source,
    });
    bindings::check_array_indexes(ctx, &lengths, &pipeline_texts(target.spec, base), elsewhere);
}

/// The strings of a PipelineSpec that receive pipeline params (§3.4) and may index arrays.
fn pipeline_texts(spec: &PipelineSpec, base: &str) -> Vec<(String, String)> {
    let tasks = spec
        .tasks
        .iter()
        .enumerate()
        .map(|(i, pt)| (pt, format!("{base}.tasks[{i}]")));
    let finally =
        (spec.finally.iter().enumerate()).map(|(i, pt)| (pt, format!("{base}.finally[{i}]")));
    let mut out = Vec::new();
    for (pt, path) in tasks.chain(finally) {
        out.extend(param_texts(pt, &path).into_iter().map(|t| (t.path, t.text)));
        for (i, w) in pt.workspaces.iter().enumerate() {
            if let Some(sub) = &w.sub_path {
                out.push((format!("{path}.workspaces[{i}].subPath"), sub.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::*;
    use crate::validate::Flags;

    const TR: &str = "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: r}\nspec:\n";
    const PR: &str = "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata: {name: r}\nspec:\n";

    #[test]
    fn exactly_one_ref_or_spec() {
        let d = check(&format!("{TR}  params: [{{name: a, value: b}}]\n"));
        let e = only(&d, "runs/ref-or-spec");
        assert_eq!(
            e.message,
            "expected exactly one, got neither: taskRef, taskSpec"
        );
        assert_eq!(at(e), ("spec", 4, 1));
        let d = check(&format!("{PR}  pipelineRef: {{name: p}}\n  pipelineSpec: {{tasks: [{{name: a, taskSpec: {{steps: [{{image: x}}]}}}}]}}\n---\napiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {{name: p}}\nspec: {{tasks: [{{name: a, taskSpec: {{steps: [{{image: x}}]}}}}]}}\n"));
        let e = only(&d, "runs/ref-or-spec");
        assert_eq!(
            e.message,
            "expected exactly one, got both: pipelineRef, pipelineSpec"
        );
        assert_eq!(at(e), ("spec.pipelineSpec", 6, 3));
    }

    #[test]
    fn metadata_needs_a_name() {
        let d = check("apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {labels: {a: b}}\nspec: {taskSpec: {steps: [{image: x}]}}\n");
        assert_eq!(at(only(&d, "names/required")), ("metadata.name", 3, 1));
        let d = check("apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: My_Run}\nspec: {taskSpec: {steps: [{image: x}]}}\n");
        assert_eq!(
            at(only(&d, "names/dns-subdomain")),
            ("metadata.name", 3, 18)
        );
    }

    #[test]
    fn task_run_status_retries_timeout() {
        let d = check(&format!(
            "{TR}  taskSpec: {{steps: [{{image: x}}]}}\n  status: Cancelled\n  retries: -1\n  timeout: -5m\n---\napiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {{name: r2}}\nspec:\n  taskSpec: {{steps: [{{image: x}}]}}\n  statusMessage: why\n"
        ));
        let s = only(&d, "runs/status");
        assert_eq!(
            s.message,
            "Cancelled should be TaskRunCancelled or TaskRunPending"
        );
        assert_eq!(at(s), ("spec.status", 6, 11));
        assert_eq!(only(&d, "runs/retries").message, "-1 should be >= 0");
        assert_eq!(only(&d, "runs/timeout").message, "-5m0s should be >= 0");
        assert_eq!(
            only(&d, "runs/status-message").field.as_deref(),
            Some("spec.statusMessage")
        );
    }

    #[test]
    fn pipeline_run_timeouts_arithmetic() {
        let d = check(&format!(
            "{PR}  pipelineSpec: {{tasks: [{{name: a, taskSpec: {{steps: [{{image: x}}]}}}}]}}\n  timeouts: {{pipeline: 1h, tasks: 50m, finally: 20m}}\n  taskRunSpecs:\n  - {{pipelineTaskName: a, timeout: 55m}}\n  - {{pipelineTaskName: nope}}\n"
        ));
        let t: Vec<_> = d.iter().filter(|d| d.code == "runs/timeouts").collect();
        assert_eq!(t.len(), 3, "{d:#?}");
        assert_eq!(t[0].message, "50m0s + 20m0s should be <= pipeline duration");
        assert_eq!(at(t[0]), ("spec.timeouts.tasks", 6, 35));
        assert_eq!(
            t[2].message,
            "taskRunSpecs timeout 55m0s should be <= tasks timeout 50m0s"
        );
        let s = only(&d, "runs/task-run-specs");
        assert_eq!(s.message, "pipelineRun's taskrunSpecs defined wrong taskName: \"nope\", does not exist in Pipeline");
        let d = check(&format!(
            "{PR}  pipelineSpec: {{tasks: [{{name: a, taskSpec: {{steps: [{{image: x}}]}}}}]}}\n  timeouts: {{tasks: \"0\"}}\n"
        ));
        assert_eq!(
            only(&d, "runs/timeouts").message,
            "0s (no timeout) should be <= default timeout duration"
        );
        let d = check(&format!(
            "{PR}  pipelineSpec: {{tasks: [{{name: a, taskSpec: {{steps: [{{image: x}}]}}}}]}}\n  timeouts: {{pipeline: \"0\", tasks: \"0\"}}\n"
        ));
        assert_none(&d, "runs/timeouts");
    }

    #[test]
    fn pipeline_run_params_against_pipeline() {
        let d = check(&format!(
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {{name: p}}\nspec:\n  params:\n  - {{name: need}}\n  - {{name: list, type: array, default: [a]}}\n  - {{name: obj, properties: {{k: {{}}, l: {{}}}}}}\n  - {{name: arr, type: array}}\n  workspaces: [{{name: src}}, {{name: opt, optional: true}}]\n  tasks:\n  - name: t\n    params: [{{name: x, value: \"$(params.list[2])\"}}, {{name: y, value: \"$(params.arr[1])\"}}]\n    taskSpec: {{steps: [{{image: x}}]}}\n---\n{PR}  pipelineRef: {{name: p}}\n  params:\n  - {{name: list, value: one}}\n  - {{name: obj, value: {{k: v}}}}\n  - {{name: extra, value: \"$(tasks.t.results.r)\"}}\n  - {{name: arr, value: [z]}}\n"
        ));
        let m = only(&d, "runs/missing-param");
        assert_eq!(m.message, "pipelineRun missing parameters: [need]");
        assert_eq!(at(m), ("spec.params", 21, 3));
        assert_eq!(
            only(&d, "runs/param-type").message,
            "parameters have inconsistent types : [list]"
        );
        assert_eq!(
            only(&d, "runs/object-keys").message,
            "PipelineRun missing object keys for parameters: map[obj:[l]]"
        );
        assert_eq!(
            only(&d, "workspaces/unbound").message,
            "pipeline requires workspace with name \"src\" be provided by pipelinerun"
        );
        assert_eq!(
            at(only(&d, "runs/result-in-param")),
            ("spec.params[2].value", 24, 27)
        );
        let index = only(&d, "runs/array-index");
        assert_eq!(
            index.message,
            "non-existent param references:[$(params.arr[1])]"
        );
        assert_eq!(at(index), ("spec.params[3].value", 25, 17));
        assert!(index
            .hint
            .as_deref()
            .unwrap()
            .contains("spec.tasks[0].params[1].value of Pipeline \"p\""));
    }

    #[test]
    fn array_indexes_past_the_end() {
        let d = check(&format!(
            "{TR}  params: [{{name: a, value: [x, y]}}]\n  taskSpec:\n    params: [{{name: a, type: array}}]\n    steps:\n    - image: x\n      args: [\"$(params.a[1])\", \"$(params.a[2])\"]\n"
        ));
        let e = only(&d, "runs/array-index");
        assert_eq!(e.message, "non-existent param references:[$(params.a[2])]");
        assert_eq!(at(e), ("spec.taskSpec.steps[0].args[1]", 10, 33));
    }

    #[test]
    fn inline_specs_can_be_disabled() {
        let flags = Flags {
            disable_inline_spec: vec!["taskrun".into()],
            ..Flags::default()
        };
        let d = check_with(
            &format!("{TR}  taskSpec: {{steps: [{{image: x}}]}}\n"),
            &flags,
        );
        assert_eq!(
            at(only(&d, "runs/inline-spec-disabled")),
            ("spec.taskSpec", 5, 3)
        );
    }

    #[test]
    fn step_specs_name_real_steps() {
        let d = check(&format!(
            "{TR}  taskSpec: {{steps: [{{name: build, image: x}}]}}\n  stepSpecs: [{{name: biuld}}, {{name: BUILD}}, {{name: build}}]\n"
        ));
        assert_eq!(
            only(&d, "runs/container-specs").hint.as_deref(),
            Some("did you mean \"build\"?")
        );
        assert_eq!(
            only(&d, "names/duplicate").field.as_deref(),
            Some("spec.stepSpecs[2].name")
        );
    }
}
