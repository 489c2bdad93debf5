//! Plans as a readable tree, or as Mermaid and Graphviz graphs.

use std::fmt::Write;

use crate::api::ParamValue;
use crate::plan::model::{Decision, NamedValue, Plan, StepPlan, TaskPlan};

fn value(v: &ParamValue) -> String {
    match v {
        ParamValue::String(s) => format!("{s:?}"),
        other => serde_json::to_string(&other.to_json()).unwrap_or_default(),
    }
}

fn values_line(values: &[NamedValue]) -> String {
    values
        .iter()
        .map(|p| format!("{}={}", p.name, value(&p.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The default `-o text` rendering: a tree a person reads top to bottom.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let target = match (plan.target.as_str(), plan.kind.as_str()) {
        ("(embedded)", "PipelineRun") => "embedded pipelineSpec".to_string(),
        ("(embedded)", _) => "embedded taskSpec".to_string(),
        (t, "PipelineRun") => format!("Pipeline {t}"),
        (t, _) => format!("Task {t}"),
    };
    let _ = writeln!(out, "{} {}  →  {target}", plan.kind, plan.name);
    if !plan.params.is_empty() {
        let _ = writeln!(out, "params:");
        for p in &plan.params {
            let source = p
                .source
                .as_deref()
                .map(|s| format!("  ({s})"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {} = {}{source}", p.name, value(&p.value));
        }
    }
    if !plan.workspaces.is_empty() {
        let _ = writeln!(out, "workspaces:");
        for w in &plan.workspaces {
            let sub = w
                .sub_path
                .as_deref()
                .map(|s| format!(" subPath {s}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}: {}{sub}", w.name, w.binding);
        }
    }
    let t = &plan.timeouts;
    let mut timeouts = format!("timeout {}", t.pipeline);
    if let Some(x) = &t.tasks {
        let _ = write!(timeouts, ", tasks {x}");
    }
    if let Some(x) = &t.finally {
        let _ = write!(timeouts, ", finally {x}");
    }
    let _ = writeln!(out, "{timeouts}");
    if plan.kind == "PipelineRun" {
        let _ = writeln!(out, "execution levels:");
        for (i, level) in plan.levels.iter().enumerate() {
            let parallel = if level.len() > 1 { "   (parallel)" } else { "" };
            let _ = writeln!(out, "  {}. {}{parallel}", i + 1, level.join(", "));
        }
        if !plan.finally.is_empty() {
            let names: Vec<_> = plan.finally.iter().map(|t| t.name.as_str()).collect();
            let _ = writeln!(out, "  finally: {}", names.join(", "));
        }
    }
    for task in &plan.tasks {
        out.push('\n');
        task_text(&mut out, task);
    }
    if !plan.finally.is_empty() {
        let _ = writeln!(out, "\nfinally:");
        for task in &plan.finally {
            out.push('\n');
            task_text(&mut out, task);
        }
    }
    if !plan.results.is_empty() {
        let _ = writeln!(out, "\nresults:");
        for r in &plan.results {
            let _ = writeln!(out, "  {} = {}", r.name, value(&r.value));
        }
    }
    out
}

fn task_text(out: &mut String, task: &TaskPlan) {
    let mark = match task.decision {
        Decision::Run => "●",
        Decision::Conditional => "◐",
        Decision::Skip => "○",
    };
    let child_kind = if task.child.is_some() {
        "PipelineRun"
    } else {
        "TaskRun"
    };
    let _ = writeln!(
        out,
        "{mark} {}  [{}]  {child_kind} {}",
        task.name, task.task, task.task_run
    );
    let pad = "│ ";
    match (task.decision, &task.reason) {
        (Decision::Skip, Some(r)) => {
            let _ = writeln!(out, "{pad} would skip: {r}");
        }
        (_, Some(r)) => {
            let _ = writeln!(out, "{pad} {r}");
        }
        _ => {}
    }
    if !task.depends_on.is_empty() {
        let deps: Vec<_> = task
            .depends_on
            .iter()
            .map(|d| format!("{} ({})", d.task, d.via.join(", ")))
            .collect();
        let _ = writeln!(out, "{pad} after: {}", deps.join(", "));
    }
    for w in &task.when {
        let verdict = match w.value {
            Some(true) => "true",
            Some(false) => "false",
            None => "decided at run time",
        };
        let _ = writeln!(out, "{pad} when {}  → {verdict}", w.expression);
    }
    if !task.params.is_empty() {
        let _ = writeln!(out, "{pad} params: {}", values_line(&task.params));
    }
    if let Some(m) = &task.matrix {
        match &m.decided_at_run_time {
            Some(why) => {
                let _ = writeln!(out, "{pad} matrix: fan-out decided at run time ({why})");
            }
            None => {
                let _ = writeln!(out, "{pad} matrix: {} TaskRuns", m.combinations.len());
                for (i, c) in m.combinations.iter().enumerate() {
                    let _ = writeln!(out, "{pad}   {i}: {}", values_line(c));
                }
            }
        }
    }
    let mut extras = vec![format!("timeout {}", task.timeout)];
    if task.retries > 0 {
        extras.push(format!("retries {}", task.retries));
    }
    if let Some(e) = &task.on_error {
        extras.push(format!("onError {e}"));
    }
    let _ = writeln!(out, "{pad} {}", extras.join(", "));
    for w in &task.workspaces {
        let sub = w
            .sub_path
            .as_deref()
            .map(|s| format!("/{s}"))
            .unwrap_or_default();
        let _ = writeln!(out, "{pad} workspace {} {}{sub}", w.name, w.binding);
    }
    if !task.results.is_empty() {
        let _ = writeln!(out, "{pad} results: {}", task.results.join(", "));
    }
    if let Some(child) = &task.child {
        let _ = writeln!(out, "{pad} child pipeline:");
        for line in text(child).lines() {
            let _ = writeln!(out, "{}", format!("│   {line}").trim_end());
        }
    }
    for s in &task.sidecars {
        container_text(out, "sidecar", s);
    }
    for s in &task.steps {
        container_text(out, "step", s);
    }
}

fn container_text(out: &mut String, what: &str, s: &StepPlan) {
    let from = s
        .step_action
        .as_deref()
        .map(|a| format!(" (StepAction {a})"))
        .unwrap_or_default();
    let _ = writeln!(out, "│   {what} {}  image {}{from}", s.name, s.image);
    let pad = "│     ";
    if let Some(d) = &s.working_dir {
        let _ = writeln!(out, "{pad}workingDir {d}");
    }
    for e in &s.env {
        let _ = writeln!(out, "{pad}env {}={}", e.name, e.value);
    }
    if !s.command.is_empty() {
        let _ = writeln!(out, "{pad}command {:?}", s.command);
    }
    if !s.args.is_empty() {
        let _ = writeln!(out, "{pad}args {:?}", s.args);
    }
    if let Some(t) = &s.timeout {
        let _ = writeln!(out, "{pad}timeout {t}");
    }
    if let Some(e) = &s.on_error {
        let _ = writeln!(out, "{pad}onError {e}");
    }
    if let Some(script) = &s.script {
        for line in script.lines() {
            let _ = writeln!(out, "{pad}│ {line}");
        }
    }
}

fn node_id(name: &str) -> String {
    format!(
        "t_{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    )
}

/// `-o mermaid`: a flowchart of the DAG and finally tasks.
pub fn mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart TD\n");
    let all = plan.tasks.iter().chain(plan.finally.iter());
    for t in all {
        let note = match t.decision {
            Decision::Skip => " (skip)",
            Decision::Conditional => " (when)",
            Decision::Run => "",
        };
        let _ = writeln!(
            out,
            "  {}[\"{}{note}\"]",
            node_id(&t.name),
            t.name.replace('"', "'")
        );
    }
    for t in &plan.tasks {
        for d in &t.depends_on {
            let _ = writeln!(
                out,
                "  {} -->|{}| {}",
                node_id(&d.task),
                d.via.join(","),
                node_id(&t.name)
            );
        }
    }
    if !plan.finally.is_empty() {
        let leaves: Vec<&TaskPlan> = plan
            .tasks
            .iter()
            .filter(|t| {
                !plan
                    .tasks
                    .iter()
                    .any(|o| o.depends_on.iter().any(|d| d.task == t.name))
            })
            .collect();
        for f in &plan.finally {
            for l in &leaves {
                let _ = writeln!(
                    out,
                    "  {} -.->|finally| {}",
                    node_id(&l.name),
                    node_id(&f.name)
                );
            }
        }
    }
    out
}

/// `-o dot`: a Graphviz digraph of the DAG and finally tasks.
pub fn dot(plan: &Plan) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];\n",
        plan.name
    );
    for t in plan.tasks.iter().chain(plan.finally.iter()) {
        let style = match t.decision {
            Decision::Skip => ", style=dashed",
            Decision::Conditional => ", style=rounded",
            Decision::Run => "",
        };
        let _ = writeln!(out, "  \"{}\" [label=\"{}\"{style}];", t.name, t.name);
    }
    for t in &plan.tasks {
        for d in &t.depends_on {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\" [label=\"{}\"];",
                d.task,
                t.name,
                d.via.join(",")
            );
        }
    }
    for f in &plan.finally {
        let _ = writeln!(out, "  \"{}\" [peripheries=2];", f.name);
    }
    out.push_str("}\n");
    out
}
