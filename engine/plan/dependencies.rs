//! A pipeline task's dependencies: `runAfter` and every result it consumes.

use crate::api::pipeline::PipelineTask;
use crate::api::PipelineSpec;
use crate::dag::{Dag, Dependency, EdgeKind, TaskNode};

use super::PlanError;
use crate::subst::{self, Var};

use super::when::when_strings;

fn collect_producers(s: &str, out: &mut Vec<String>) {
    if !s.contains("$(") {
        return;
    }
    for r in subst::scan(s).refs {
        if let Var::TaskResult { task, .. }
        | Var::MatrixResultLength { task, .. }
        | Var::MatrixLength { task } = r.var
        {
            out.push(task);
        }
    }
}

/// Dependencies of one pipeline task, with their kinds.
pub(crate) fn dependencies(pt: &PipelineTask) -> Vec<Dependency> {
    let mut deps: Vec<Dependency> = pt
        .run_after
        .iter()
        .map(|t| Dependency {
            on: t.clone(),
            kind: EdgeKind::RunAfter,
        })
        .collect();
    let mut push = |names: Vec<String>, kind: EdgeKind| {
        for on in names {
            deps.push(Dependency { on, kind });
        }
    };
    let mut from_params = Vec::new();
    for p in &pt.params {
        for s in p.value.strings() {
            collect_producers(s, &mut from_params);
        }
    }
    if let Some(ts) = &pt.task_spec {
        ts.for_each_string(&mut |s| collect_producers(s, &mut from_params));
    }
    push(from_params, EdgeKind::Result);
    let mut from_when = Vec::new();
    for s in when_strings(&pt.when) {
        collect_producers(s, &mut from_when);
    }
    push(from_when, EdgeKind::When);
    let mut from_matrix = Vec::new();
    if let Some(m) = &pt.matrix {
        for p in m
            .params
            .iter()
            .chain(m.include.iter().flat_map(|i| i.params.iter()))
        {
            for s in p.value.strings() {
                collect_producers(s, &mut from_matrix);
            }
        }
    }
    push(from_matrix, EdgeKind::Matrix);
    deps
}

/// The DAG of a pipeline's `tasks`, and each task's dependencies (in `tasks` order).
pub(crate) fn pipeline_dag(spec: &PipelineSpec) -> Result<(Dag, Vec<Vec<Dependency>>), PlanError> {
    let deps: Vec<Vec<Dependency>> = spec.tasks.iter().map(dependencies).collect();
    let nodes: Vec<TaskNode<'_>> = spec
        .tasks
        .iter()
        .zip(&deps)
        .map(|(t, d)| TaskNode {
            name: &t.name,
            deps: d.clone(),
        })
        .collect();
    let dag = Dag::build(&nodes).map_err(|errs| {
        let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
        PlanError::Graph(all.join("; "))
    })?;
    Ok((dag, deps))
}
