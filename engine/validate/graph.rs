//! How PipelineTasks and the Pipeline's results refer to tasks (spec §2.8, §2.10): the task
//! graph built from `runAfter` and result references, the finally section's access to results
//! and execution status, pipeline results, and whether a referenced result is one the producing
//! task declares.
//!
//! Every dependency keeps the place it was written, so an unknown task or a cycle is reported
//! at the `runAfter` entry or the `$(tasks.x.results.y)` that creates it, not at the pipeline.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::pipeline_texts::{tekton_expressions, value_strings, Field, Site};
use super::{references, Ctx};
use crate::api::pipeline::PipelineResult;
use crate::api::{ParamValue, PipelineSpec, PipelineTask, TaskSpec};
use crate::dag::{Dag, DagError, Dependency, EdgeKind, TaskNode};
use crate::diagnostic::Diagnostic;
use crate::load::catalog::suggest;
use crate::subst::{scan, Var};

/// Validates the graph of `spec` (at `base`) and the references between its tasks.
pub(crate) fn check(ctx: &mut Ctx<'_>, spec: &PipelineSpec, base: &str, all: &[Site<'_>]) {
    check_dag(ctx, spec, all);
    check_status_and_finally_refs(ctx, spec, all);
    check_results(ctx, spec, base);
    check_result_declarations(ctx, spec, base, all);
}

/// A dependency and where it is written.
#[derive(Debug, Clone)]
struct Written {
    on: String,
    kind: EdgeKind,
    path: String,
    span: Option<Range<usize>>,
}

/// Everything `pt` must wait for: `runAfter` and `$(tasks.x.results…)` in params, matrix, when
/// and embedded steps and sidecars.
fn dependencies(site: &Site<'_>) -> Vec<Written> {
    let (pt, path) = (site.pt, &site.path);
    let mut out: Vec<Written> = pt
        .run_after
        .iter()
        .enumerate()
        .map(|(i, on)| Written {
            on: on.clone(),
            kind: EdgeKind::RunAfter,
            path: format!("{path}.runAfter[{i}]"),
            span: None,
        })
        .collect();
    for t in &site.texts {
        let kind = match t.field {
            Field::Params | Field::Steps => EdgeKind::Result,
            Field::Matrix => EdgeKind::Matrix,
            Field::When => EdgeKind::When,
        };
        for r in &t.refs {
            if let Var::TaskResult { task, .. } | Var::FinallyResult { task, .. } = &r.var {
                out.push(Written {
                    on: task.clone(),
                    kind,
                    path: t.path.clone(),
                    span: Some(r.span.clone()),
                });
            }
        }
    }
    out
}

fn check_dag(ctx: &mut Ctx<'_>, spec: &PipelineSpec, all: &[Site<'_>]) {
    let all: Vec<&Site<'_>> = all.iter().filter(|s| !s.finally).collect();
    let deps: Vec<Vec<Written>> = all.iter().map(|s| dependencies(s)).collect();
    let nodes: Vec<TaskNode<'_>> = all
        .iter()
        .zip(&deps)
        .map(|(s, d)| TaskNode {
            name: &s.pt.name,
            deps: d
                .iter()
                .map(|w| Dependency {
                    on: w.on.clone(),
                    kind: w.kind,
                })
                .collect(),
        })
        .collect();
    let Err(errors) = Dag::build(&nodes) else {
        return;
    };
    let first: HashMap<&str, usize> = all
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.pt.name.as_str(), i))
        .collect();
    for e in &errors {
        let Some(found) = describe(e, spec) else {
            continue;
        };
        let Some(&i) = first.get(found.task) else {
            continue;
        };
        let written = deps[i]
            .iter()
            .find(|w| w.on == found.on && found.kind.is_none_or(|k| w.kind == k));
        let mut d = Diagnostic::error(found.code, e.to_string()).hint(found.hint);
        d = match written {
            Some(w) => d.at(w.path.clone()),
            None => d.at(all[i].path.clone()),
        };
        if let Some(span) = written.and_then(|w| w.span.clone()) {
            d = d.inside(span.start, span.len());
        }
        ctx.push(d);
    }
}

/// A graph error, as the dependency to point at and what to say.
struct Found<'e> {
    code: &'static str,
    /// The task that declares the dependency.
    task: &'e str,
    /// What it depends on.
    on: &'e str,
    kind: Option<EdgeKind>,
    hint: String,
}

fn describe<'e>(e: &'e DagError, spec: &PipelineSpec) -> Option<Found<'e>> {
    let cycle = |task, on, hint: &str| Found {
        code: "graph/cycle",
        task,
        on,
        kind: None,
        hint: hint.to_string(),
    };
    Some(match e {
        DagError::Duplicate { .. } => return None,
        DagError::UnknownTask { task, missing, kind } => Found {
            code: "graph/unknown-task",
            task,
            on: missing,
            kind: Some(*kind),
            hint: unknown_hint(spec, missing),
        },
        DagError::SelfDependency { task } => cycle(task, task, "a task cannot wait for itself; remove the dependency"),
        DagError::Cycle { path } => cycle(
            path.get(1)?,
            path.first()?,
            "tasks in a cycle wait for each other forever; remove one of these runAfter entries or result references",
        ),
    })
}

fn unknown_hint(spec: &PipelineSpec, missing: &str) -> String {
    if spec.finally.iter().any(|f| f.name == missing) {
        return format!(
            "\"{missing}\" is a finally task; tasks cannot wait for or read from finally tasks"
        );
    }
    match suggest(missing, spec.tasks.iter().map(|t| t.name.as_str())) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None => format!("add a task named \"{missing}\" under `tasks`, or remove the dependency"),
    }
}

/// Execution status (`$(tasks.x.status)`, `$(tasks.x.reason)`, `$(tasks.status)`) is for finally
/// tasks only, about tasks that exist; finally tasks read results of `tasks` only.
fn check_status_and_finally_refs(ctx: &mut Ctx<'_>, spec: &PipelineSpec, all: &[Site<'_>]) {
    let tasks: HashSet<&str> = spec.tasks.iter().map(|t| t.name.as_str()).collect();
    let finally: HashSet<&str> = spec.finally.iter().map(|t| t.name.as_str()).collect();
    for site in all {
        for t in &site.texts {
            if t.field == Field::Steps {
                continue;
            }
            for r in &t.refs {
                let found = match &r.var {
                    Var::TaskStatus { task } | Var::TaskReason { task } => {
                        status_problem(site.finally, Some(task), &tasks)
                    }
                    Var::TasksStatus => status_problem(site.finally, None, &tasks),
                    Var::TaskResult { task, .. } | Var::FinallyResult { task, .. }
                        if site.finally =>
                    {
                        finally_result_problem(task, &tasks, &finally)
                    }
                    _ => None,
                };
                if let Some((code, message, hint)) = found {
                    ctx.push(
                        Diagnostic::error(code, message)
                            .at(t.path.clone())
                            .inside(r.span.start, r.span.len())
                            .hint(hint),
                    );
                }
            }
        }
    }
}

type Problem = (&'static str, String, String);

fn status_problem(
    in_finally: bool,
    task: Option<&String>,
    tasks: &HashSet<&str>,
) -> Option<Problem> {
    if !in_finally {
        return Some((
            "finally/status-in-tasks",
            "pipeline tasks can not refer to execution status of any other pipeline task or aggregate status of tasks".into(),
            "only finally tasks can read $(tasks.<name>.status), $(tasks.<name>.reason) and $(tasks.status); move this task under `finally`".into(),
        ));
    }
    let task = task?;
    if tasks.contains(task.as_str()) {
        return None;
    }
    Some((
        "finally/unknown-task",
        format!("pipeline task {task} is not defined in the pipeline"),
        did_you_mean(task, tasks),
    ))
}

fn finally_result_problem(
    task: &str,
    tasks: &HashSet<&str>,
    finally: &HashSet<&str>,
) -> Option<Problem> {
    if finally.contains(task) {
        return Some((
            "finally/result-from-finally",
            format!("invalid task result reference, final task has task result reference from a final task {task}"),
            "finally tasks run side by side: a finally task can only read results of tasks under `tasks`".into(),
        ));
    }
    (!tasks.contains(task)).then(|| {
        (
            "finally/unknown-task",
            format!(
                "invalid task result reference, final task has task result reference from a task {task} which is not defined in the pipeline"
            ),
            did_you_mean(task, tasks),
        )
    })
}

fn did_you_mean(name: &str, among: &HashSet<&str>) -> String {
    match suggest(name, among.iter().copied()) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None => format!("no task named \"{name}\" under `tasks`"),
    }
}

/// What adze knows about a task that produces results.
#[derive(Clone, Copy)]
enum Producer<'a> {
    /// Its spec (embedded or a loaded Task).
    Task(&'a TaskSpec),
    /// It runs a Pipeline (alpha): its results cannot be referenced.
    Pipeline,
}

fn producers<'a>(
    bundle: &'a crate::load::Bundle,
    list: &'a [PipelineTask],
) -> HashMap<&'a str, Producer<'a>> {
    let mut out = HashMap::new();
    for pt in list {
        let producer = if pt.pipeline_ref.is_some() || pt.pipeline_spec.is_some() {
            Some(Producer::Pipeline)
        } else {
            references::task_spec_of(bundle, pt).map(Producer::Task)
        };
        if let Some(p) = producer {
            out.entry(pt.name.as_str()).or_insert(p);
        }
    }
    out
}

/// `$(tasks.t.results.r)` must name a result `t` declares (Tekton checks this when the run
/// starts: `InvalidTaskResultReference`, `InvalidPipelineResultReference`).
fn check_result_declarations(ctx: &mut Ctx<'_>, spec: &PipelineSpec, base: &str, all: &[Site<'_>]) {
    let bundle = ctx.bundle;
    let tasks = producers(bundle, &spec.tasks);
    let finally = producers(bundle, &spec.finally);
    for site in all {
        for t in &site.texts {
            for r in &t.refs {
                let Var::TaskResult { task, result, .. } = &r.var else {
                    continue;
                };
                let Some(producer) = tasks.get(task.as_str()) else {
                    continue;
                };
                let context = format!(
                    "invalid result reference in pipeline task \"{}\"",
                    site.pt.name
                );
                if let Some((code, message, hint)) = undeclared(
                    *producer,
                    task,
                    result,
                    &context,
                    "results/invalid-task-result-reference",
                ) {
                    ctx.push(
                        Diagnostic::error(code, message)
                            .at(t.path.clone())
                            .inside(r.span.start, r.span.len())
                            .hint(hint),
                    );
                }
            }
        }
    }
    for (i, res) in spec.results.iter().enumerate() {
        for (at, s) in value_strings(&res.value, &format!("{base}.results[{i}].value")) {
            for r in scan(s).refs {
                let (task, result, list) = match &r.var {
                    Var::TaskResult { task, result, .. } => (task, result, &tasks),
                    Var::FinallyResult { task, result, .. } => (task, result, &finally),
                    _ => continue,
                };
                let Some(producer) = list.get(task.as_str()) else {
                    continue;
                };
                let context = format!("invalid pipeline result \"{}\"", res.name);
                if let Some((code, message, hint)) = undeclared(
                    *producer,
                    task,
                    result,
                    &context,
                    "results/invalid-pipeline-result-reference",
                ) {
                    ctx.push(
                        Diagnostic::error(code, message)
                            .at(at.clone())
                            .inside(r.span.start, r.span.len())
                            .hint(hint),
                    );
                }
            }
        }
    }
}

fn undeclared(
    producer: Producer<'_>,
    task: &str,
    result: &str,
    context: &str,
    code: &'static str,
) -> Option<Problem> {
    let spec = match producer {
        Producer::Pipeline => {
            return Some((
                "results/pipeline-task-result",
                format!("{context}: pipeline task \"{task}\" runs a Pipeline, whose results cannot be referenced"),
                "results of pipelines-in-pipelines are not supported yet (alpha); pass the value another way".into(),
            ))
        }
        Producer::Task(spec) => spec,
    };
    if spec.results.iter().any(|r| r.name == result) {
        return None;
    }
    let declared: Vec<&str> = spec.results.iter().map(|r| r.name.as_str()).collect();
    let hint = match suggest(result, declared.iter().copied()) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None if declared.is_empty() => format!("\"{task}\" declares no results"),
        None => format!("\"{task}\" declares {}", declared.join(", ")),
    };
    Some((
        code,
        format!(
            "{context}: \"{result}\" is not a named result returned by pipeline task \"{task}\""
        ),
        hint,
    ))
}

/// Pipeline results (§2.8): task/finally result references only, to tasks that exist.
fn check_results(ctx: &mut Ctx<'_>, spec: &PipelineSpec, base: &str) {
    let tasks: HashSet<&str> = spec.tasks.iter().map(|t| t.name.as_str()).collect();
    let finally: HashSet<&str> = spec.finally.iter().map(|t| t.name.as_str()).collect();
    for (i, result) in spec.results.iter().enumerate() {
        check_result(
            ctx,
            result,
            &format!("{base}.results[{i}]"),
            &tasks,
            &finally,
        );
    }
}

fn check_result(
    ctx: &mut Ctx<'_>,
    result: &PipelineResult,
    path: &str,
    tasks: &HashSet<&str>,
    finally: &HashSet<&str>,
) {
    let value_path = format!("{path}.value");
    let strings = value_strings(&result.value, &value_path);
    let any_ref = strings
        .iter()
        .any(|(_, s)| !tekton_expressions(s).is_empty() || !scan(s).refs.is_empty());
    if !any_ref {
        ctx.error(
            "results/no-expression",
            value_path,
            "expected pipeline results to be task result expressions but no expressions were found",
        )
        .hint = Some(
            "a pipeline result's value is made of $(tasks.<task>.results.<result>) references"
                .into(),
        );
        return;
    }
    let before = ctx.out.len();
    for (at, s) in &strings {
        check_result_string(ctx, at, s, tasks, finally);
    }
    let clean = ctx.out.len() == before;
    if let (true, ParamValue::String(s)) = (clean, &result.value) {
        if !tekton_accepts_result_text(s, tasks, finally) {
            ctx.error("results/pipeline-result-reference", value_path, "referencing a nonexistent task").hint = Some(
                "Tekton rejects text before the first $( in a pipeline result, and `$` or extra dots after a reference; make the value only references, e.g. \"$(tasks.build.results.digest)\"".into(),
            );
        }
    }
}

fn check_result_string(
    ctx: &mut Ctx<'_>,
    at: &str,
    s: &str,
    tasks: &HashSet<&str>,
    finally: &HashSet<&str>,
) {
    let refs = scan(s).refs;
    for r in &refs {
        let (task, own, other, own_word, other_word) = match &r.var {
            Var::TaskResult { task, .. } => (task, tasks, finally, "tasks", "finally"),
            Var::FinallyResult { task, .. } => (task, finally, tasks, "finally", "tasks"),
            _ => {
                invalid_result_expression(ctx, at, &r.span);
                continue;
            }
        };
        if own.contains(task.as_str()) {
            continue;
        }
        let hint = if other.contains(task.as_str()) {
            format!("\"{task}\" is in `{other_word}`: write $({other_word}.{task}.results.…)")
        } else {
            match suggest(task, own.iter().copied()) {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => format!("no task named \"{task}\" in `{own_word}`"),
            }
        };
        ctx.push(
            Diagnostic::error(
                "results/pipeline-result-reference",
                "referencing a nonexistent task",
            )
            .at(at)
            .inside(r.span.start, r.span.len())
            .hint(hint),
        );
    }
    for (span, _) in tekton_expressions(s) {
        if !refs
            .iter()
            .any(|r| r.span.start <= span.start && span.end <= r.span.end)
        {
            invalid_result_expression(ctx, at, &span);
        }
    }
}

fn invalid_result_expression(ctx: &mut Ctx<'_>, at: &str, span: &Range<usize>) {
    ctx.push(
        Diagnostic::error(
            "results/not-a-result-reference",
            "expected pipeline results to be task result expressions but an invalid expressions was found",
        )
        .at(at)
        .inside(span.start, span.len())
        .hint("a pipeline result may only hold $(tasks.<task>.results.<result>) and $(finally.<task>.results.<result>)"),
    );
}

/// Tekton's `taskContainsResult`: each `$`-separated piece must parse as a result reference
/// (`tasks.T.results.R` with 4 or 5 dot parts) to an existing task.
fn tekton_accepts_result_text(value: &str, tasks: &HashSet<&str>, finally: &HashSet<&str>) -> bool {
    value
        .split('$')
        .filter(|piece| !piece.is_empty())
        .all(|piece| {
            let whole = format!("${piece}");
            let expr = whole.strip_prefix("$(").unwrap_or(&whole);
            let expr = expr.strip_suffix(')').unwrap_or(expr);
            let parts: Vec<&str> = expr.split('.').collect();
            let looks = parts.len() >= 4
                && matches!(parts[0], "tasks" | "finally")
                && parts[2] == "results";
            if !looks || parts.len() > 5 {
                return false;
            }
            let names = if expr.starts_with("tasks") {
                tasks
            } else {
                finally
            };
            names.contains(parts[1])
        })
}

#[cfg(test)]
mod tests {
    use super::tekton_accepts_result_text;
    use crate::validate::test_support::{at, check, only};
    use std::collections::HashSet;

    fn pipeline(body: &str) -> Vec<crate::diagnostic::Diagnostic> {
        check(&format!("{HEAD}{body}"))
    }

    const HEAD: &str = "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n";

    #[test]
    fn unknown_tasks_are_reported_where_they_are_named() {
        let d = check(&format!(
            "{HEAD}  tasks:\n  - name: a\n    runAfter: [b]\n    taskSpec: {{steps: [{{image: x}}]}}\n  - name: c\n    params: [{{name: p, value: \"$(tasks.zz.results.r)\"}}]\n    taskSpec: {{steps: [{{image: x}}]}}\n"
        ));
        let found: Vec<_> = d
            .iter()
            .filter(|d| d.code == "graph/unknown-task")
            .collect();
        assert_eq!(found.len(), 2, "{d:#?}");
        assert_eq!(
            found[0].message,
            "couldn't add link between a and b: task a depends on b but b wasn't present in Pipeline"
        );
        assert_eq!(at(found[0]), ("spec.tasks[0].runAfter[0]", 7, 16));
        assert_eq!(at(found[1]), ("spec.tasks[1].params[0].value", 10, 32));
    }

    #[test]
    fn cycles_show_their_path() {
        let d = check(&format!(
            "{HEAD}  tasks:\n  - name: a\n    runAfter: [c]\n    taskSpec: {{steps: [{{image: x}}]}}\n  - name: b\n    runAfter: [a]\n    taskSpec: {{steps: [{{image: x}}]}}\n  - name: c\n    when: [{{input: \"$(tasks.b.results.r)\", operator: in, values: [x]}}]\n    taskSpec: {{steps: [{{image: x}}]}}\n"
        ));
        let e = only(&d, "graph/cycle");
        assert_eq!(e.message, "cycle detected: a -> b -> c -> a");
        assert_eq!(at(e), ("spec.tasks[1].runAfter[0]", 10, 16));
    }

    #[test]
    fn dependencies_in_embedded_steps_count() {
        let d = check(&format!(
            "{HEAD}  tasks:\n  - name: a\n    taskSpec: {{steps: [{{image: x, script: \"echo $(tasks.a.results.r)\"}}]}}\n"
        ));
        let e = only(&d, "graph/cycle");
        assert_eq!(e.message, "cycle detected; task \"a\" depends on \"a\"");
        assert_eq!(at(e), ("spec.tasks[0].taskSpec.steps[0].script", 7, 49));
    }

    #[test]
    fn execution_status_is_for_finally() {
        let d = check(&format!(
            "{HEAD}  tasks:\n  - name: a\n    params: [{{name: s, value: $(tasks.status)}}]\n    taskSpec: {{steps: [{{image: x}}]}}\n  finally:\n  - name: f\n    params:\n    - {{name: s, value: $(tasks.nope.status)}}\n    - {{name: t, value: $(tasks.a.reason)}}\n    - {{name: u, value: $(tasks.status)}}\n    - {{name: v, value: $(tasks.g.results.r)}}\n    taskSpec: {{steps: [{{image: x}}]}}\n  - name: g\n    taskSpec: {{steps: [{{image: x}}]}}\n"
        ));
        assert_eq!(
            at(only(&d, "finally/status-in-tasks")),
            ("spec.tasks[0].params[0].value", 7, 31)
        );
        let unknown = only(&d, "finally/unknown-task");
        assert_eq!(
            unknown.message,
            "pipeline task nope is not defined in the pipeline"
        );
        assert_eq!(
            unknown.field.as_deref(),
            Some("spec.finally[0].params[0].value")
        );
        assert_eq!(
            only(&d, "finally/result-from-finally").field.as_deref(),
            Some("spec.finally[0].params[3].value")
        );
    }

    #[test]
    fn referenced_results_must_be_declared() {
        let d = check(&format!(
            "{HEAD}  results:\n  - {{name: out, value: $(tasks.a.results.digets)}}\n  tasks:\n  - name: a\n    taskSpec: {{results: [{{name: digest}}], steps: [{{image: x}}]}}\n  - name: b\n    params: [{{name: d, value: $(tasks.a.results.dgst)}}]\n    taskSpec: {{steps: [{{image: x}}]}}\n"
        ));
        let e = only(&d, "results/invalid-task-result-reference");
        assert_eq!(
            e.message,
            "invalid result reference in pipeline task \"b\": \"dgst\" is not a named result returned by pipeline task \"a\""
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean \"digest\"?"));
        assert_eq!(at(e), ("spec.tasks[1].params[0].value", 11, 31));
        let p = only(&d, "results/invalid-pipeline-result-reference");
        assert_eq!(p.field.as_deref(), Some("spec.results[0].value"));
    }

    #[test]
    fn pipeline_results_reference_existing_tasks() {
        let d = pipeline(
            "  results:\n  - {name: a, value: $(tasks.nope.results.r)}\n  - {name: b, value: plain}\n  - {name: c, value: \"v-$(tasks.t.results.r)\"}\n  - {name: d, value: $(params.x)}\n  - {name: e, value: \"$(tasks.t.results.r)-$(finally.f.results.r)\"}\n  tasks:\n  - name: t\n    taskSpec: {results: [{name: r}], steps: [{image: x}]}\n  finally:\n  - name: f\n    taskSpec: {results: [{name: r}], steps: [{image: x}]}\n",
        );
        let refs: Vec<_> = d
            .iter()
            .filter(|d| d.code == "results/pipeline-result-reference")
            .collect();
        assert_eq!(refs.len(), 2, "{d:#?}");
        assert_eq!(at(refs[0]), ("spec.results[0].value", 6, 22));
        assert_eq!(refs[1].field.as_deref(), Some("spec.results[2].value"));
        assert!(refs[1]
            .hint
            .as_deref()
            .unwrap()
            .contains("text before the first $("));
        assert_eq!(
            at(only(&d, "results/no-expression")),
            ("spec.results[1].value", 7, 22)
        );
        assert_eq!(
            only(&d, "results/not-a-result-reference").field.as_deref(),
            Some("spec.results[3].value")
        );
    }

    #[test]
    fn result_text_quirk_matches_tekton() {
        let tasks: HashSet<&str> = ["t"].into();
        let finally = HashSet::new();
        assert!(tekton_accepts_result_text(
            "$(tasks.t.results.r)",
            &tasks,
            &finally
        ));
        assert!(tekton_accepts_result_text(
            "$(tasks.t.results.r) and more",
            &tasks,
            &finally
        ));
        assert!(tekton_accepts_result_text(
            "$(tasks.t.results.r) v1.2",
            &tasks,
            &finally
        ));
        assert!(!tekton_accepts_result_text(
            "$(tasks.t.results.r) v1.2.3",
            &tasks,
            &finally
        ));
        assert!(!tekton_accepts_result_text(
            "x$(tasks.t.results.r)",
            &tasks,
            &finally
        ));
        assert!(!tekton_accepts_result_text(
            "$(tasks.t.results.r) costs $5",
            &tasks,
            &finally
        ));
    }
}
