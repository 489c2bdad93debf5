//! `tekton.dev/v1beta1` → `v1` conversion (spec §1.9), applied to the position-carrying
//! tree before typed decoding, so converted fields still point at what the user wrote.

use super::yaml::{Node, NodeKind, Pos, Style};

/// Something the conversion did or refused, with the v1beta1 path it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionNote {
    /// Object path (v1beta1 spelling).
    pub path: String,
    /// What happened.
    pub message: String,
    /// How to migrate.
    pub hint: Option<String>,
    /// True when Tekton would reject the object.
    pub is_error: bool,
}

/// Step fields that v1 dropped (the reference keeps them in an annotation).
const DEPRECATED_STEP_FIELDS: &[&str] = &[
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "stdin",
    "stdinOnce",
    "tty",
];

/// Converts a v1beta1 document of `kind` in place; returns what changed or was refused.
pub fn v1beta1_to_v1(kind: &str, root: &mut Node) -> Vec<ConversionNote> {
    let mut notes = Vec::new();
    let Some(spec) = child_mut(root, "spec") else {
        return notes;
    };
    match kind {
        "Task" => task_spec(spec, "spec", &mut notes),
        "TaskRun" => task_run_spec(spec, &mut notes),
        "Pipeline" => pipeline_spec(spec, "spec", &mut notes),
        "PipelineRun" => pipeline_run_spec(spec, &mut notes),
        _ => {}
    }
    notes
}

fn task_spec(spec: &mut Node, path: &str, notes: &mut Vec<ConversionNote>) {
    pipeline_resources(spec, path, notes);
    for_each_item(spec, "steps", path, |step, p| {
        rename(step, "resources", "computeResources");
        for field in DEPRECATED_STEP_FIELDS {
            if remove(step, field).is_some() {
                notes.push(ConversionNote {
                    path: format!("{p}.{field}"),
                    message: format!(
                        "step field `{field}` was removed in tekton.dev/v1 and is ignored"
                    ),
                    hint: Some("use a sidecar for ports and probes".into()),
                    is_error: false,
                });
            }
        }
    });
    if let Some(template) = child_mut(spec, "stepTemplate") {
        rename(template, "resources", "computeResources");
        for field in DEPRECATED_STEP_FIELDS.iter().chain(&["name"]) {
            if remove(template, field).is_some() {
                notes.push(ConversionNote {
                    path: format!("{path}.stepTemplate.{field}"),
                    message: format!(
                        "stepTemplate field `{field}` was removed in tekton.dev/v1 and is ignored"
                    ),
                    hint: None,
                    is_error: false,
                });
            }
        }
    }
    for_each_item(spec, "sidecars", path, |sidecar, _| {
        rename(sidecar, "resources", "computeResources");
    });
}

fn task_run_spec(spec: &mut Node, notes: &mut Vec<ConversionNote>) {
    pipeline_resources(spec, "spec", notes);
    overrides(spec, "spec");
    if let Some(embedded) = child_mut(spec, "taskSpec") {
        task_spec(embedded, "spec.taskSpec", notes);
    }
}

fn overrides(spec: &mut Node, path: &str) {
    for (old, new) in [
        ("stepOverrides", "stepSpecs"),
        ("sidecarOverrides", "sidecarSpecs"),
    ] {
        rename(spec, old, new);
        for_each_item(spec, new, path, |o, _| {
            rename(o, "resources", "computeResources")
        });
    }
}

fn pipeline_spec(spec: &mut Node, path: &str, notes: &mut Vec<ConversionNote>) {
    pipeline_resources(spec, path, notes);
    for list in ["tasks", "finally"] {
        for_each_item(spec, list, path, |task, p| {
            pipeline_resources(task, &p, notes);
            if let Some(ts) = child_mut(task, "taskSpec") {
                task_spec(ts, &format!("{p}.taskSpec"), notes);
            }
            if let Some(ps) = child_mut(task, "pipelineSpec") {
                pipeline_spec(ps, &format!("{p}.pipelineSpec"), notes);
            }
        });
    }
}

fn pipeline_run_spec(spec: &mut Node, notes: &mut Vec<ConversionNote>) {
    pipeline_resources(spec, "spec", notes);
    if let Some(timeout) = remove(spec, "timeout") {
        let timeouts = ensure_map(spec, "timeouts", timeout.0.pos);
        if timeouts.get("pipeline").is_some() {
            notes.push(ConversionNote {
                path: "spec.timeout".into(),
                message: "spec.timeout and spec.timeouts.pipeline cannot both be set".into(),
                hint: Some("keep only timeouts.pipeline".into()),
                is_error: true,
            });
        } else {
            insert(timeouts, timeout.0, "pipeline", timeout.1);
        }
    }
    for field in ["serviceAccountName", "podTemplate"] {
        if let Some((key, value)) = remove(spec, field) {
            let template = ensure_map(spec, "taskRunTemplate", key.pos);
            insert(template, key, field, value);
        }
    }
    for_each_item(spec, "taskRunSpecs", "spec", |trs, p| {
        rename(trs, "taskServiceAccountName", "serviceAccountName");
        rename(trs, "taskPodTemplate", "podTemplate");
        overrides(trs, &p);
    });
    if let Some(ps) = child_mut(spec, "pipelineSpec") {
        pipeline_spec(ps, "spec.pipelineSpec", notes);
    }
}

fn pipeline_resources(node: &mut Node, path: &str, notes: &mut Vec<ConversionNote>) {
    if node.get("resources").is_some() {
        notes.push(ConversionNote {
            path: format!("{path}.resources"),
            message: "PipelineResources were removed from Tekton; tekton.dev/v1 has no `resources`".into(),
            hint: Some("replace them with Tasks that fetch or publish the artifact (e.g. git-clone), and workspaces to pass files".into()),
            is_error: true,
        });
        remove(node, "resources");
    }
}

fn child_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut node.kind {
        NodeKind::Map(entries) => entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn for_each_item(node: &mut Node, key: &str, path: &str, mut f: impl FnMut(&mut Node, String)) {
    if let Some(Node {
        kind: NodeKind::Seq(items),
        ..
    }) = child_mut(node, key)
    {
        for (i, item) in items.iter_mut().enumerate() {
            f(item, format!("{path}.{key}[{i}]"));
        }
    }
}

fn rename(node: &mut Node, old: &str, new: &str) {
    if let NodeKind::Map(entries) = &mut node.kind {
        if entries.iter().any(|(k, _)| k.as_str() == Some(new)) {
            return;
        }
        for (k, _) in entries.iter_mut() {
            if let NodeKind::Scalar(s, _) = &mut k.kind {
                if s == old {
                    *s = new.to_string();
                }
            }
        }
    }
}

fn remove(node: &mut Node, key: &str) -> Option<(Node, Node)> {
    match &mut node.kind {
        NodeKind::Map(entries) => {
            let i = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
            Some(entries.remove(i))
        }
        _ => None,
    }
}

fn ensure_map<'a>(node: &'a mut Node, key: &str, pos: Pos) -> &'a mut Node {
    if node.get(key).is_none() {
        let key_node = Node {
            pos,
            kind: NodeKind::Scalar(key.to_string(), Style::Plain),
        };
        let value = Node {
            pos,
            kind: NodeKind::Map(Vec::new()),
        };
        if let NodeKind::Map(entries) = &mut node.kind {
            entries.push((key_node, value));
        }
    }
    child_mut(node, key).expect("inserted above")
}

fn insert(map: &mut Node, mut key: Node, name: &str, value: Node) {
    key.kind = NodeKind::Scalar(name.to_string(), Style::Plain);
    if let NodeKind::Map(entries) = &mut map.kind {
        entries.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml::parse_stream;

    fn convert(kind: &str, text: &str) -> (serde_json::Value, Vec<ConversionNote>) {
        let mut root = parse_stream(text).remove(0).unwrap().root.unwrap();
        let notes = v1beta1_to_v1(kind, &mut root);
        (root.to_json(), notes)
    }

    #[test]
    fn step_resources_become_compute_resources() {
        let (v, notes) = convert(
            "Task",
            "spec:\n  steps:\n  - image: x\n    resources: {limits: {cpu: 1}}\n  stepTemplate:\n    resources: {}\n  sidecars:\n  - name: s\n    resources: {}\n",
        );
        assert!(v["spec"]["steps"][0]["computeResources"].is_object());
        assert!(v["spec"]["stepTemplate"]["computeResources"].is_object());
        assert!(v["spec"]["sidecars"][0]["computeResources"].is_object());
        assert!(notes.is_empty());
    }

    #[test]
    fn deprecated_step_fields_are_dropped_with_a_warning() {
        let (v, notes) = convert("Task", "spec:\n  steps:\n  - image: x\n    ports: []\n    tty: true\n  stepTemplate:\n    name: t\n");
        assert!(v["spec"]["steps"][0].get("ports").is_none());
        assert!(v["spec"]["stepTemplate"].get("name").is_none());
        assert_eq!(notes.len(), 3);
        assert!(notes.iter().all(|n| !n.is_error));
    }

    #[test]
    fn pipeline_resources_are_refused() {
        let (_, notes) = convert(
            "Pipeline",
            "spec:\n  resources: []\n  tasks:\n  - name: a\n    resources: {}\n",
        );
        assert_eq!(notes.len(), 2);
        assert!(notes.iter().all(|n| n.is_error));
        assert_eq!(notes[1].path, "spec.tasks[0].resources");
    }

    #[test]
    fn step_overrides_become_step_specs() {
        let (v, _) = convert(
            "TaskRun",
            "spec:\n  stepOverrides:\n  - name: a\n    resources: {}\n  sidecarOverrides: []\n",
        );
        assert!(v["spec"]["stepSpecs"][0]["computeResources"].is_object());
        assert!(v["spec"]["sidecarSpecs"].is_array());
    }

    #[test]
    fn pipeline_run_timeout_and_service_account_move() {
        let (v, notes) = convert("PipelineRun", "spec:\n  timeout: 1h\n  serviceAccountName: sa\n  podTemplate: {nodeSelector: {a: b}}\n");
        assert_eq!(v["spec"]["timeouts"]["pipeline"], "1h");
        assert_eq!(v["spec"]["taskRunTemplate"]["serviceAccountName"], "sa");
        assert_eq!(
            v["spec"]["taskRunTemplate"]["podTemplate"]["nodeSelector"]["a"],
            "b"
        );
        assert!(notes.is_empty());
    }

    #[test]
    fn pipeline_run_timeout_with_timeouts_is_an_error() {
        let (_, notes) = convert(
            "PipelineRun",
            "spec:\n  timeout: 1h\n  timeouts: {pipeline: 2h}\n",
        );
        assert!(notes[0].is_error);
    }

    #[test]
    fn task_run_specs_fields_are_renamed() {
        let (v, _) = convert("PipelineRun", "spec:\n  taskRunSpecs:\n  - pipelineTaskName: a\n    taskServiceAccountName: sa\n    taskPodTemplate: {}\n    stepOverrides: []\n");
        let t = &v["spec"]["taskRunSpecs"][0];
        assert_eq!(t["serviceAccountName"], "sa");
        assert!(t["podTemplate"].is_object());
        assert!(t["stepSpecs"].is_array());
    }

    #[test]
    fn embedded_specs_are_converted_too() {
        let (v, _) = convert("PipelineRun", "spec:\n  pipelineSpec:\n    tasks:\n    - name: a\n      taskSpec:\n        steps:\n        - image: x\n          resources: {}\n");
        assert!(
            v["spec"]["pipelineSpec"]["tasks"][0]["taskSpec"]["steps"][0]["computeResources"]
                .is_object()
        );
    }
}
