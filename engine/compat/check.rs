//! The run-time side of the table: what a run's documents set that `adze run` refuses, or
//! that has no effect locally, reported at the field before anything starts.

use std::collections::BTreeSet;

use super::schema::{Shape, TypeGraph};
use super::{support, Support};
use crate::api::{Kind, Object, PipelineSpec, TaskSpec};
use crate::diagnostic::Diagnostic;
use crate::load::yaml::{Node, NodeKind};
use crate::load::{Bundle, Loaded};

/// Code of an error for a field `adze run` refuses.
pub const REFUSED: &str = "run/unsupported-field";
/// Code of a warning for a field that has no effect locally.
pub const NO_EFFECT: &str = "run/no-effect-locally";
/// Code of the error `--strict` gives for a field honoured with a local caveat.
pub const LOCAL_CAVEAT: &str = "run/local-caveat";

/// Reports the fields set in `run` and in every object it refers to by name that `adze run`
/// refuses (errors) or cannot give their effect (warnings), located and labelled.
pub fn check_run(bundle: &Bundle, run: &Object, strict: bool) -> Vec<Diagnostic> {
    let graph = TypeGraph::build();
    let mut out = Vec::new();
    for loaded in objects_used_by(bundle, run) {
        let mut found = Vec::new();
        walk_object(
            &graph,
            loaded.object.kind().as_str(),
            &loaded.root,
            "",
            strict,
            &mut found,
        );
        out.extend(bundle.place(loaded, found));
    }
    out
}

/// The loaded documents a run uses: itself (when it was loaded rather than made from `-p`)
/// and whatever it names, transitively: its Pipeline, Tasks, child Pipelines, StepActions.
fn objects_used_by<'b>(bundle: &'b Bundle, run: &Object) -> Vec<&'b Loaded> {
    let mut out: Vec<&Loaded> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<(Kind, String)> = Vec::new();
    if let Some(loaded) = bundle.objects.iter().find(|l| same_object(&l.object, run)) {
        out.push(loaded);
    }
    names_in(run, &mut todo);
    while let Some((kind, name)) = todo.pop() {
        if !seen.insert((kind, name.clone())) {
            continue;
        }
        if let Ok(loaded) = bundle.find(kind, &name) {
            names_in(&loaded.object, &mut todo);
            out.push(loaded);
        }
    }
    out
}

fn same_object(a: &Object, b: &Object) -> bool {
    let (ma, mb) = (a.metadata(), b.metadata());
    a.kind() == b.kind() && ma.name == mb.name && ma.generate_name == mb.generate_name
}

/// The objects `object` refers to by name.
fn names_in(object: &Object, out: &mut Vec<(Kind, String)>) {
    match object {
        Object::PipelineRun(pr) => {
            if let Some(name) = pr.spec.pipeline_ref.as_ref().and_then(|r| r.name.clone()) {
                out.push((Kind::Pipeline, name));
            }
            if let Some(spec) = &pr.spec.pipeline_spec {
                pipeline_names(spec, out);
            }
        }
        Object::Pipeline(p) => pipeline_names(&p.spec, out),
        Object::TaskRun(tr) => {
            if let Some(name) = tr.spec.task_ref.as_ref().and_then(|r| r.name.clone()) {
                out.push((Kind::Task, name));
            }
            if let Some(spec) = &tr.spec.task_spec {
                task_names(spec, out);
            }
        }
        Object::Task(t) => task_names(&t.spec, out),
        Object::StepAction(_) => {}
    }
}

fn pipeline_names(spec: &PipelineSpec, out: &mut Vec<(Kind, String)>) {
    for task in spec.tasks.iter().chain(&spec.finally) {
        if let Some(name) = task.task_ref.as_ref().and_then(|r| r.name.clone()) {
            out.push((Kind::Task, name));
        }
        if let Some(name) = task.pipeline_ref.as_ref().and_then(|r| r.name.clone()) {
            out.push((Kind::Pipeline, name));
        }
        if let Some(spec) = &task.task_spec {
            task_names(spec, out);
        }
        if let Some(spec) = &task.pipeline_spec {
            pipeline_names(spec, out);
        }
    }
}

fn task_names(spec: &TaskSpec, out: &mut Vec<(Kind, String)>) {
    for step in &spec.steps {
        if let Some(name) = step.ref_.as_ref().and_then(|r| r.name.clone()) {
            out.push((Kind::StepAction, name));
        }
    }
}

/// Walks a mapping of type `type_name` at object path `path`.
fn walk_object(
    graph: &TypeGraph,
    type_name: &str,
    node: &Node,
    path: &str,
    strict: bool,
    out: &mut Vec<Diagnostic>,
) {
    let NodeKind::Map(entries) = &node.kind else {
        return;
    };
    for (key, value) in entries {
        let NodeKind::Scalar(key, _) = &key.kind else {
            continue;
        };
        // Unknown fields are the loader's to report; rows exist for every known one.
        let (Some(field), Some(row)) = (graph.field(type_name, key), support(type_name, key))
        else {
            continue;
        };
        if is_empty(value) {
            continue;
        }
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match row {
            Support::PerField => walk_shape(graph, &field.shape, value, &here, strict, out),
            Support::Refused(why) => out.push(
                Diagnostic::error(REFUSED, format!("{type_name}.{key} is not supported by adze run: {why}"))
                    .at(here)
                    .hint("remove the field to run locally; docs/compatibility.md lists what adze run supports"),
            ),
            Support::NoEffect(why) => out.push(
                Diagnostic::warning(NO_EFFECT, format!("{type_name}.{key} has no effect when adze runs locally: {why}"))
                    .at(here),
            ),
            Support::Warned(how) if strict => out.push(
                Diagnostic::error(LOCAL_CAVEAT, format!("{type_name}.{key} is refused under --strict: locally it is {how}"))
                    .at(here)
                    .hint("run without --strict to accept it"),
            ),
            // Without --strict the run itself warns when it uses the field, naming what it
            // does with the values substituted (the host path a hostPath volume mounts).
            Support::Warned(_) => {}
            Support::Honoured | Support::Differs(_) => {}
        }
    }
}

fn walk_shape(
    graph: &TypeGraph,
    shape: &Shape,
    node: &Node,
    path: &str,
    strict: bool,
    out: &mut Vec<Diagnostic>,
) {
    match (shape, &node.kind) {
        (Shape::Object(name), _) => walk_object(graph, name, node, path, strict, out),
        (Shape::List(inner), NodeKind::Seq(items)) => {
            for (i, item) in items.iter().enumerate() {
                walk_shape(graph, inner, item, &format!("{path}[{i}]"), strict, out);
            }
        }
        (Shape::Map(inner), NodeKind::Map(entries)) => {
            for (key, value) in entries {
                if let NodeKind::Scalar(key, _) = &key.kind {
                    walk_shape(graph, inner, value, &format!("{path}.{key}"), strict, out);
                }
            }
        }
        _ => {}
    }
}

/// `null`, `~`, `[]`, `{}` and `""`: written, but asking for nothing.
fn is_empty(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Scalar(text, _) => matches!(text.as_str(), "" | "null" | "~" | "Null" | "NULL"),
        NodeKind::Seq(items) => items.is_empty(),
        NodeKind::Map(entries) => entries.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::load::Origin;

    fn findings(yaml: &str, strict: bool) -> Vec<(Severity, &'static str, String)> {
        let mut bundle = Bundle::new();
        bundle.add_source("run.yaml", yaml.to_owned(), Origin::Input);
        assert!(!bundle.has_errors(), "{:?}", bundle.diagnostics);
        let run = bundle
            .objects
            .iter()
            .find(|l| matches!(l.object.kind(), Kind::TaskRun | Kind::PipelineRun))
            .expect("a run")
            .object
            .clone();
        check_run(&bundle, &run, strict)
            .into_iter()
            .map(|d| (d.severity, d.code, d.field.unwrap_or_default()))
            .collect()
    }

    const TASK: &str = "apiVersion: tekton.dev/v1
kind: Task
metadata: {name: t}
spec:
  volumes:
  - name: cache
    nfs: {server: nas, path: /x}
  - name: host
    hostPath: {path: /tmp}
  steps:
  - image: busybox
    volumeDevices: []
    script: echo hi
";

    #[test]
    fn refused_and_local_fields_are_reported_where_they_are_set_in_referenced_tasks() {
        let yaml = format!(
            "{TASK}---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {{name: pr}}
spec:
  taskRunTemplate:
    podTemplate:
      nodeSelector: {{disk: ssd}}
      securityContext: {{runAsUser: 1000}}
  pipelineSpec:
    tasks:
    - name: a
      taskRef: {{name: t}}
"
        );
        let got = findings(&yaml, false);
        assert_eq!(
            got,
            vec![
                (
                    Severity::Warning,
                    NO_EFFECT,
                    "spec.taskRunTemplate.podTemplate.nodeSelector".into()
                ),
                (Severity::Error, REFUSED, "spec.volumes[0].nfs".into()),
            ]
        );
    }

    #[test]
    fn strict_turns_local_caveats_into_errors() {
        let yaml = format!(
            "{TASK}---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: tr}}
spec:
  taskRef: {{name: t}}
"
        );
        let got = findings(&yaml, true);
        assert!(got.contains(&(
            Severity::Error,
            LOCAL_CAVEAT,
            "spec.volumes[1].hostPath".into()
        )));
    }

    #[test]
    fn objects_the_run_does_not_use_are_not_checked() {
        let yaml = format!(
            "{TASK}---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: tr}}
spec:
  taskSpec:
    steps:
    - image: busybox
      script: echo hi
"
        );
        assert_eq!(findings(&yaml, false), vec![]);
    }
}
