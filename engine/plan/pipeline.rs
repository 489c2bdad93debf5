//! Planning a PipelineRun: params, DAG levels, static skip decisions, matrix fan-out,
//! timeouts and resolved steps.

use std::collections::HashMap;

use super::dependencies::{dependencies, pipeline_dag};
use super::lookup::{find_pipeline, find_task};
use super::matrix::plan_matrix;
use super::model::{Decision, Dependency, NamedValue, Plan, TaskPlan, TimeoutsPlan, WorkspacePlan};
use super::naming::{child_name, namespace, run_name};
use super::scope::Scope;
use super::task::{resolve_task, workspace_claims, TaskInputs};
use super::task_run::{describe_binding, ordered_values, substituted_ref};
use super::timeouts::{canonical_timeout, default_timeout, task_timeout};
use super::when::evaluate_when;
use super::PlanError;
use crate::api::pipeline::PipelineTask;
use crate::api::{GoDuration, ParamSpec, ParamValue, PipelineRun, PipelineSpec, TaskSpec};
use crate::dag::EdgeKind;
use crate::load::Bundle;
use crate::subst::{self, Var};

/// Pipeline params: run values, then defaults whose string references to other params are
/// resolved recursively (§3.6 step 2).
pub(crate) fn pipeline_params(
    spec: &PipelineSpec,
    pr: &PipelineRun,
) -> (HashMap<String, ParamValue>, Vec<NamedValue>) {
    let mut values: HashMap<String, ParamValue> = HashMap::new();
    for p in &pr.spec.params {
        values.insert(p.name.clone(), p.value.clone());
    }
    let mut pending: Vec<&ParamSpec> = spec
        .params
        .iter()
        .filter(|p| !values.contains_key(&p.name) && p.default.is_some())
        .collect();
    for _ in 0..10 {
        if pending.is_empty() {
            break;
        }
        let scope = Scope {
            params: values.clone(),
            ..Scope::default()
        };
        pending.retain(|p| {
            let default = p.default.as_ref().expect("filtered above");
            let resolved = scope.subst_value(default);
            let unresolved = resolved.strings().iter().any(|s| {
                subst::scan(s)
                    .refs
                    .iter()
                    .any(|r| matches!(&r.var, Var::Param { name, .. } if spec.params.iter().any(|q| &q.name == name)))
            });
            if unresolved {
                return true;
            }
            values.insert(p.name.clone(), resolved);
            false
        });
    }
    let ordered = ordered_values(&spec.params, &values, &pr.spec.params);
    (values, ordered)
}

/// Why a task is skipped, for propagating to its dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// Its own when-expressions were false: dependents still run.
    When,
    /// Any other reason: dependents are skipped too.
    Other,
}

/// The Pipeline a run executes: its embedded spec (target `(embedded)`) or the referenced
/// Pipeline (target = its name).
pub(crate) fn resolve_pipeline<'b>(
    bundle: &'b Bundle,
    pr: &'b PipelineRun,
) -> Result<(&'b PipelineSpec, String), PlanError> {
    match (&pr.spec.pipeline_spec, &pr.spec.pipeline_ref) {
        (Some(s), _) => Ok((s, "(embedded)".to_string())),
        (None, Some(r)) => {
            let mut scope = crate::resolve::substitution::params_scope(&[], &pr.spec.params);
            if let Some(name) = pr.metadata.name.as_deref() {
                scope
                    .context
                    .insert("pipelineRun.name".into(), name.to_string());
            }
            let namespace = pr.metadata.namespace.as_deref().unwrap_or("default");
            scope
                .context
                .insert("pipelineRun.namespace".into(), namespace.to_string());
            let mut r = r.clone();
            for p in &mut r.params {
                p.value = scope.subst_value(&p.value);
            }
            find_pipeline(bundle, &r)
        }
        (None, None) => Err(PlanError::NotFound(
            "the PipelineRun has neither pipelineRef nor pipelineSpec".into(),
        )),
    }
}

/// Plans a PipelineRun.
pub fn plan_pipeline_run(bundle: &Bundle, pr: &PipelineRun) -> Result<Plan, PlanError> {
    let name = run_name(&pr.metadata);
    let (spec, target) = resolve_pipeline(bundle, pr)?;
    let (param_values, params) = pipeline_params(spec, pr);
    let mut scope = Scope {
        params: param_values.clone(),
        result_placeholders: true,
        ..Scope::default()
    };
    let pipeline_name = if target == "(embedded)" {
        name.clone()
    } else {
        target.clone()
    };
    for (k, v) in [
        ("pipelineRun.name", name.clone()),
        ("pipelineRun.namespace", namespace(&pr.metadata)),
        ("pipelineRun.uid", "<uid>".to_string()),
        ("pipeline.name", pipeline_name),
    ] {
        scope.context.insert(k.into(), v);
    }
    for w in &spec.workspaces {
        let bound = pr.spec.workspaces.iter().any(|b| b.name == w.name);
        scope
            .workspaces
            .insert((w.name.clone(), "bound".into()), bound.to_string());
    }

    let (dag, deps) = pipeline_dag(spec)?;
    let levels = dag.levels();
    let timeouts = pr.spec.timeouts.clone().unwrap_or_default();
    let tasks_timeout = timeouts
        .tasks
        .as_deref()
        .and_then(|t| GoDuration::parse(t).ok());
    let finally_timeout = timeouts
        .finally
        .as_deref()
        .and_then(|t| GoDuration::parse(t).ok());

    let mut skipped: HashMap<String, Skip> = HashMap::new();
    let mut tasks = Vec::with_capacity(spec.tasks.len());
    for (level, members) in levels.iter().enumerate() {
        for &i in members {
            let pt = &spec.tasks[i];
            let depends_on = dag
                .parents(i)
                .iter()
                .map(|&p| Dependency {
                    task: dag.name(p).to_string(),
                    via: dag
                        .edge_kinds(i, p)
                        .iter()
                        .map(|k| k.as_str().to_string())
                        .collect(),
                })
                .collect::<Vec<_>>();
            let (when, when_value) = evaluate_when(&pt.when, &scope);
            let consumes: Vec<String> = deps[i]
                .iter()
                .filter(|d| d.kind != EdgeKind::RunAfter)
                .map(|d| d.on.clone())
                .collect();
            let parent_skipped = dag
                .parents(i)
                .iter()
                .any(|&p| skipped.get(dag.name(p)) == Some(&Skip::Other));
            let (decision, reason) = if when_value == Some(false) {
                skipped.insert(pt.name.clone(), Skip::When);
                (
                    Decision::Skip,
                    Some("When Expressions evaluated to false".to_string()),
                )
            } else if parent_skipped {
                skipped.insert(pt.name.clone(), Skip::Other);
                (
                    Decision::Skip,
                    Some("Parent Tasks were skipped".to_string()),
                )
            } else if consumes.iter().any(|c| skipped.contains_key(c)) {
                skipped.insert(pt.name.clone(), Skip::Other);
                (Decision::Skip, Some("Results were missing".to_string()))
            } else if when_value.is_none() {
                (
                    Decision::Conditional,
                    Some("when-expressions are decided at run time".to_string()),
                )
            } else {
                (Decision::Run, None)
            };
            let timeout = task_timeout(pr, pt, tasks_timeout);
            let mut plan =
                plan_pipeline_task(bundle, pr, &name, pt, &scope, &param_values, level, timeout)?;
            plan.depends_on = depends_on;
            plan.when = when;
            if plan.decision == Decision::Skip {
                skipped.insert(pt.name.clone(), Skip::Other);
            } else {
                plan.decision = decision;
                plan.reason = reason;
            }
            tasks.push(plan);
        }
    }

    let mut final_scope = scope.clone();
    final_scope.result_placeholders = true;
    let finally_level = levels.len();
    let mut finally = Vec::with_capacity(spec.finally.len());
    for pt in &spec.finally {
        let (when, when_value) = evaluate_when(&pt.when, &final_scope);
        let timeout = task_timeout(pr, pt, finally_timeout);
        let mut plan = plan_pipeline_task(
            bundle,
            pr,
            &name,
            pt,
            &final_scope,
            &param_values,
            finally_level,
            timeout,
        )?;
        plan.when = when;
        let consumes_skipped = dependencies(pt)
            .iter()
            .any(|d| d.kind != EdgeKind::RunAfter && skipped.contains_key(&d.on));
        if plan.decision != Decision::Skip {
            (plan.decision, plan.reason) = match when_value {
                Some(false) => (
                    Decision::Skip,
                    Some("When Expressions evaluated to false".into()),
                ),
                _ if consumes_skipped => (Decision::Skip, Some("Results were missing".into())),
                None => (
                    Decision::Conditional,
                    Some("when-expressions are decided at run time".into()),
                ),
                Some(true) => (Decision::Run, Some("runs after all tasks are done".into())),
            };
        }
        finally.push(plan);
    }

    let results = spec
        .results
        .iter()
        .map(|r| NamedValue {
            name: r.name.clone(),
            value: final_scope.subst_value(&r.value),
            source: None,
        })
        .collect();
    let mut workspaces: Vec<WorkspacePlan> =
        pr.spec.workspaces.iter().map(describe_binding).collect();
    for w in &spec.workspaces {
        if !workspaces.iter().any(|b| b.name == w.name) {
            workspaces.push(WorkspacePlan {
                name: w.name.clone(),
                binding: if w.optional == Some(true) {
                    "unbound (optional)"
                } else {
                    "unbound"
                }
                .into(),
                sub_path: None,
            });
        }
    }
    Ok(Plan {
        kind: "PipelineRun".into(),
        name,
        target,
        params,
        workspaces,
        timeouts: TimeoutsPlan {
            pipeline: canonical_timeout(timeouts.pipeline.as_deref())
                .unwrap_or_else(default_timeout),
            tasks: canonical_timeout(timeouts.tasks.as_deref()),
            finally: canonical_timeout(timeouts.finally.as_deref()),
        },
        levels: levels
            .iter()
            .map(|l| l.iter().map(|&i| dag.name(i).to_string()).collect())
            .collect(),
        tasks,
        finally,
        results,
    })
}

#[allow(clippy::too_many_arguments)]
fn plan_pipeline_task(
    bundle: &Bundle,
    pr: &PipelineRun,
    run: &str,
    pt: &PipelineTask,
    scope: &Scope,
    pipeline_params: &HashMap<String, ParamValue>,
    level: usize,
    timeout: String,
) -> Result<TaskPlan, PlanError> {
    let params: Vec<crate::api::Param> = pt
        .params
        .iter()
        .map(|p| crate::api::Param {
            name: p.name.clone(),
            value: scope.subst_value(&p.value),
        })
        .collect();
    let (matrix_plan, matrix_params) = plan_matrix(pt, scope);
    let mut plan = TaskPlan {
        name: pt.name.clone(),
        task_run: child_name(run, &format!("-{}", pt.name)),
        task: String::new(),
        level,
        depends_on: Vec::new(),
        decision: Decision::Run,
        reason: None,
        when: Vec::new(),
        params: params
            .iter()
            .map(|p| NamedValue {
                name: p.name.clone(),
                value: p.value.clone(),
                source: None,
            })
            .collect(),
        matrix: None,
        timeout,
        retries: pt.retries.unwrap_or(0),
        on_error: pt.on_error.as_deref().map(|s| scope.subst(s)),
        workspaces: pt
            .workspaces
            .iter()
            .map(|w| WorkspacePlan {
                name: w.name.clone(),
                binding: format!("<- {}", w.workspace.as_deref().unwrap_or(&w.name)),
                sub_path: w.sub_path.as_deref().map(|s| scope.subst(s)),
            })
            .collect(),
        results: Vec::new(),
        sidecars: Vec::new(),
        steps: Vec::new(),
        child: None,
    };
    if let Some(m) = &matrix_plan {
        if m.decided_at_run_time.is_none() && m.combinations.is_empty() {
            plan.decision = Decision::Skip;
            plan.reason = Some("Matrix Parameters have an empty array".into());
        }
    }
    plan.matrix = matrix_plan;
    if pt.pipeline_spec.is_some() || pt.pipeline_ref.is_some() {
        plan.task = match &pt.pipeline_ref {
            Some(r) => format!("pipeline {}", r.name.as_deref().unwrap_or("(resolver)")),
            None => "pipeline (embedded)".into(),
        };
        plan.child = Some(Box::new(plan_child_pipeline(bundle, pr, &plan, pt)?));
        return Ok(plan);
    }
    let custom = |api: &Option<String>| api.as_ref().is_some_and(|a| !a.is_empty());
    let (spec, target, embedded) = match (&pt.task_spec, &pt.task_ref) {
        (Some(ts), _) if custom(&ts.api_version) => {
            plan.task = format!("custom task {}", ts.kind.as_deref().unwrap_or(""));
            return Ok(plan);
        }
        (Some(ts), _) => (ts.clone(), "(embedded)".to_string(), true),
        (None, Some(r)) if custom(&r.api_version) => {
            plan.task = format!("custom task {}", r.kind.as_deref().unwrap_or(""));
            return Ok(plan);
        }
        (None, Some(r)) => {
            let r = substituted_ref(r, scope);
            let (spec, name) = find_task(bundle, &r)?;
            (spec, name, false)
        }
        (None, None) => {
            return Err(PlanError::NotFound(format!(
                "pipeline task \"{}\" has neither taskRef nor taskSpec",
                pt.name
            )))
        }
    };
    let mut task_params = params;
    for (n, v) in matrix_params {
        task_params.retain(|p| p.name != n);
        task_params.push(crate::api::Param {
            name: n,
            value: ParamValue::String(v),
        });
    }
    let inputs = TaskInputs {
        params: task_params,
        propagated: if embedded {
            pipeline_params.clone()
        } else {
            HashMap::new()
        },
        task_run_name: plan.task_run.clone(),
        task_name: if embedded {
            plan.task_run.clone()
        } else {
            target.clone()
        },
        namespace: namespace(&pr.metadata),
        bound_workspaces: pt.workspaces.iter().map(|w| w.name.clone()).collect(),
        claims: workspace_claims(
            pt.workspaces.iter().filter_map(|tb| {
                let name = tb.workspace.as_deref().unwrap_or(&tb.name);
                let binding = pr.spec.workspaces.iter().find(|b| b.name == name)?;
                Some((tb.name.as_str(), binding))
            }),
            &run_name(&pr.metadata),
        ),
        result_placeholders: true,
        retry_count: 0,
    };
    // An embedded spec first gets the pipeline-level stage (results, context) written into it.
    let spec = if embedded {
        pipeline_stage(&spec, scope)
    } else {
        spec
    };
    let resolved = resolve_task(bundle, &spec, &inputs)?;
    plan.task = target;
    plan.results = spec.results.iter().map(|r| r.name.clone()).collect();
    plan.steps = resolved.steps;
    plan.sidecars = resolved.sidecars;
    Ok(plan)
}

/// Pipelines in pipelines (alpha): the child PipelineRun a PipelineTask creates, planned
/// with the PipelineTask's params.
fn plan_child_pipeline(
    bundle: &Bundle,
    parent: &PipelineRun,
    plan: &TaskPlan,
    pt: &PipelineTask,
) -> Result<Plan, PlanError> {
    let mut child = PipelineRun {
        api_version: "tekton.dev/v1".into(),
        kind: "PipelineRun".into(),
        ..PipelineRun::default()
    };
    child.metadata.name = Some(plan.task_run.clone());
    child
        .metadata
        .namespace
        .clone_from(&parent.metadata.namespace);
    child.spec.pipeline_spec = pt.pipeline_spec.as_deref().cloned();
    child.spec.pipeline_ref.clone_from(&pt.pipeline_ref);
    child.spec.params = plan
        .params
        .iter()
        .map(|p| crate::api::Param {
            name: p.name.clone(),
            value: p.value.clone(),
        })
        .collect();
    // The child binds its workspaces to the parent's, as the PipelineTask maps them.
    for w in &pt.workspaces {
        let from = w.workspace.as_deref().unwrap_or(&w.name);
        if let Some(b) = parent.spec.workspaces.iter().find(|b| b.name == from) {
            let mut binding = b.clone();
            binding.name.clone_from(&w.name);
            child.spec.workspaces.push(binding);
        }
    }
    plan_pipeline_run(bundle, &child)
}

/// Applies pipeline-level context and result placeholders to an embedded spec's strings
/// (params are left for the TaskRun stage, where PipelineTask values take precedence).
fn pipeline_stage(spec: &TaskSpec, scope: &Scope) -> TaskSpec {
    let stage = Scope {
        context: scope.context.clone(),
        workspaces: HashMap::new(),
        result_placeholders: true,
        ..Scope::default()
    };
    stage_embedded_spec(spec, &|var| stage.string(var))
}

/// Substitutes pipeline-level variables (task results, context) into every string of an
/// embedded spec; `lookup` decides each variable, `None` leaves it verbatim. Specs without
/// such references are returned as they are, without the JSON round trip.
pub(crate) fn stage_embedded_spec(
    spec: &TaskSpec,
    lookup: &dyn Fn(&Var) -> Option<String>,
) -> TaskSpec {
    let mut needed = false;
    spec.for_each_string(&mut |s| {
        needed |= s.contains("$(tasks.") || s.contains("$(context.") || s.contains("$(finally.")
    });
    if !needed {
        return spec.clone();
    }
    let Ok(mut value) = serde_json::to_value(spec) else {
        return spec.clone();
    };
    map_strings(&mut value, &|s| subst::substitute(s, lookup));
    serde_json::from_value(value).unwrap_or_else(|_| spec.clone())
}

fn map_strings(value: &mut serde_json::Value, f: &dyn Fn(&str) -> String) {
    match value {
        serde_json::Value::String(s) if s.contains("$(") => *s = f(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| map_strings(v, f)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| map_strings(v, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;

    fn plan_of(text: &str) -> Plan {
        let mut b = Bundle::new();
        b.add_source("t.yaml", text.to_string(), Origin::Input);
        assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
        let run = crate::plan::runs(&b)[0];
        crate::plan::plan(&b, run).unwrap()
    }

    fn task<'p>(plan: &'p Plan, name: &str) -> &'p TaskPlan {
        plan.tasks
            .iter()
            .chain(&plan.finally)
            .find(|t| t.name == name)
            .unwrap()
    }

    const SKIPS: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: branch, value: dev}]
  pipelineSpec:
    params: [{name: branch}]
    tasks:
    - name: guarded
      when: [{input: $(params.branch), operator: in, values: [main]}]
      taskSpec:
        results: [{name: out}]
        steps: [{image: x, script: 'printf a > $(results.out.path)'}]
    - name: after-guarded
      runAfter: [guarded]
      taskSpec: {steps: [{image: x, script: echo}]}
    - name: consumer
      params: [{name: v, value: $(tasks.guarded.results.out)}]
      taskSpec:
        params: [{name: v}]
        steps: [{image: x, env: [{name: V, value: $(params.v)}], script: echo}]
    - name: grandchild
      runAfter: [consumer]
      taskSpec: {steps: [{image: x, script: echo}]}
    finally:
    - name: report
      params: [{name: s, value: $(tasks.status)}]
      taskSpec:
        params: [{name: s}]
        steps: [{image: x, script: echo}]
"#;

    #[test]
    fn when_skips_do_not_skip_run_after_dependents_but_do_skip_consumers() {
        let plan = plan_of(SKIPS);
        let g = task(&plan, "guarded");
        assert_eq!(g.decision, Decision::Skip);
        assert_eq!(
            g.reason.as_deref(),
            Some("When Expressions evaluated to false")
        );
        assert_eq!(task(&plan, "after-guarded").decision, Decision::Run);
        let c = task(&plan, "consumer");
        assert_eq!(
            (c.decision, c.reason.as_deref()),
            (Decision::Skip, Some("Results were missing"))
        );
        let gc = task(&plan, "grandchild");
        assert_eq!(gc.reason.as_deref(), Some("Parent Tasks were skipped"));
        assert_eq!(
            task(&plan, "report").params[0].value,
            ParamValue::String("<tasks.status>".into())
        );
    }

    #[test]
    fn levels_and_result_placeholders() {
        let plan = plan_of(SKIPS);
        assert_eq!(
            plan.levels,
            vec![
                vec!["guarded"],
                vec!["after-guarded", "consumer"],
                vec!["grandchild"]
            ]
        );
        let c = task(&plan, "consumer");
        assert_eq!(c.depends_on[0].via, ["result"]);
        assert_eq!(c.steps[0].env[0].value, "<guarded.out>");
        assert_eq!(
            task(&plan, "guarded").steps[0].script.as_deref(),
            Some("#!/bin/sh\nset -e\nprintf a > /tekton/results/out")
        );
    }

    #[test]
    fn param_defaults_may_reference_other_params() {
        let plan = plan_of(
            r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: repo, value: adze}]
  pipelineSpec:
    params:
    - {name: url, default: "https://example.com/$(params.repo).git"}
    - {name: repo}
    tasks:
    - name: clone
      params: [{name: u, value: $(params.url)}]
      taskSpec:
        params: [{name: u}]
        steps: [{image: x, args: ["$(params.u)", "$(context.pipelineRun.name)", "$(context.taskRun.name)"]}]
"#,
        );
        assert_eq!(
            plan.params[0].value,
            ParamValue::String("https://example.com/adze.git".into())
        );
        assert_eq!(
            task(&plan, "clone").steps[0].args,
            ["https://example.com/adze.git", "pr", "pr-clone"]
        );
    }

    #[test]
    fn timeouts_follow_tektons_precedence() {
        let plan = plan_of(
            r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  timeouts: {pipeline: 3h, tasks: 2h}
  taskRunSpecs: [{pipelineTaskName: b, timeout: 5m}]
  pipelineSpec:
    tasks:
    - {name: a, taskSpec: {steps: [{image: x}]}}
    - {name: b, timeout: 1m, taskSpec: {steps: [{image: x}]}}
    - {name: c, timeout: 90s, taskSpec: {steps: [{image: x}]}}
"#,
        );
        assert_eq!(plan.timeouts.pipeline, "3h0m0s");
        assert_eq!(
            task(&plan, "a").timeout,
            "2h0m0s",
            "tasks timeout above the default applies"
        );
        assert_eq!(task(&plan, "b").timeout, "5m0s", "taskRunSpecs wins");
        assert_eq!(task(&plan, "c").timeout, "1m30s");
    }

    #[test]
    fn step_actions_are_merged_and_their_params_resolved() {
        let plan = plan_of(
            r#"
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata: {name: greet}
spec:
  params: [{name: who, default: world}]
  image: alpine
  env: [{name: WHO, value: $(params.who)}]
  script: echo "hello $WHO"
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: name, value: adze}]
  taskSpec:
    params: [{name: name}]
    steps:
    - name: hi
      ref: {name: greet}
      params: [{name: who, value: $(params.name)}]
"#,
        );
        let step = &plan.tasks[0].steps[0];
        assert_eq!(step.image, "alpine");
        assert_eq!(step.step_action.as_deref(), Some("greet"));
        assert_eq!(step.env[0].value, "adze");
    }

    #[test]
    fn array_params_splice_into_args() {
        let plan = plan_of(
            r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  params: [{name: flags, value: [-a, -b]}]
  taskSpec:
    params: [{name: flags, type: array}]
    steps: [{image: x, command: [ls], args: ["$(params.flags[*])", "/", "$(params.flags[1])"]}]
"#,
        );
        assert_eq!(plan.tasks[0].steps[0].args, ["-a", "-b", "/", "-b"]);
    }

    #[test]
    fn child_pipelines_are_planned_with_their_params_and_workspaces() {
        let plan = plan_of(
            r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: pr}
spec:
  params: [{name: who, value: adze}]
  workspaces: [{name: src, emptyDir: {}}]
  pipelineSpec:
    params: [{name: who}]
    workspaces: [{name: src}]
    tasks:
    - name: inner
      params: [{name: name, value: $(params.who)}]
      workspaces: [{name: code, workspace: src}]
      pipelineSpec:
        params: [{name: name}]
        workspaces: [{name: code}]
        tasks:
        - name: hello
          params: [{name: n, value: $(params.name)}]
          taskSpec:
            params: [{name: n}]
            steps: [{image: x, args: ["$(params.n)"]}]
"#,
        );
        let child = task(&plan, "inner").child.as_ref().expect("child plan");
        assert_eq!(child.name, "pr-inner");
        assert_eq!(child.workspaces[0].name, "code");
        assert_eq!(child.workspaces[0].binding, "emptyDir");
        assert_eq!(child.tasks[0].steps[0].args, ["adze"]);
        assert_eq!(child.tasks[0].task_run, "pr-inner-hello");
    }
}
