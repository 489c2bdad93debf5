//! `status.taskSpec`: the Task as it actually ran, as Tekton stores it (§5.2).
//!
//! Everything the Task declares is kept (`displayName`, `description`, param and result
//! declarations with their descriptions, `stepTemplate`, `volumes`, workspace declarations),
//! with param and result types defaulted as Tekton's webhook does ([`defaults`]). Steps and sidecars come from the
//! resolved request: StepActions resolved and every substitution stage applied, which is what
//! Tekton records.
//!
//! # Not yet
//!
//! - Steps are shown with the `stepTemplate` merged in (Tekton merges it only when it builds
//!   the pod); `stepTemplate` and `volumes` are shown as declared, without substitution.

use serde_json::{json, Map, Value};

use super::{defaults, MapExt};
use crate::api::TaskSpec;
use crate::plan::model::StepPlan;
use crate::plan::task::SCRIPT_PREAMBLE;
use crate::run::TaskRunRequest;

/// Tekton's `TaskSpec` fields, in its JSON order.
const FIELDS: &[&str] = &[
    "params",
    "displayName",
    "description",
    "steps",
    "volumes",
    "stepTemplate",
    "sidecars",
    "workspaces",
    "results",
];

/// The `TaskSpec` of the TaskRun that ran: `spec` is the Task as resolved (before
/// substitution), `request` what ran.
pub(super) fn render(request: &TaskRunRequest, spec: &TaskSpec) -> Value {
    let declared = match serde_json::to_value(spec) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut m = Map::new();
    for &field in FIELDS {
        let value = match field {
            "steps" => Value::Array(request.steps.iter().map(step).collect()),
            "sidecars" => Value::Array(request.sidecars.iter().map(sidecar).collect()),
            "workspaces" => workspaces(request, &declared),
            other => declared.get(other).cloned().unwrap_or(Value::Null),
        };
        match value {
            Value::Null => {}
            Value::Array(items) => m.put_list(field, items),
            v => {
                m.insert(field.into(), v);
            }
        }
    }
    let mut spec = Value::Object(m);
    defaults::task_spec(&mut spec);
    spec
}

/// The declared workspaces as written, then any the run bound without a declaration (Tekton
/// declares those for an embedded spec), with where they were mounted.
fn workspaces(request: &TaskRunRequest, declared: &Map<String, Value>) -> Value {
    let mut items: Vec<Value> = declared
        .get("workspaces")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for w in &request.workspaces {
        if items.iter().any(|d| d["name"] == w.name.as_str()) {
            continue;
        }
        let mut d = Map::new();
        d.put_str("name", &w.name);
        d.put_str("mountPath", &w.mount_path);
        if w.read_only {
            d.insert("readOnly".into(), true.into());
        }
        items.push(Value::Object(d));
    }
    Value::Array(items)
}

/// A step in `Step` field order; `timeout` and `onError` explain the step states
/// (`TimeoutExceeded`, `Continued`).
fn step(plan: &StepPlan) -> Value {
    let mut m = container(plan);
    m.put_opt("timeout", plan.timeout.as_deref().map(Into::into));
    m.put_opt("onError", plan.on_error.as_deref().map(Into::into));
    Value::Object(m)
}

fn sidecar(plan: &StepPlan) -> Value {
    Value::Object(container(plan))
}

/// The fields steps and sidecars share, in Tekton's order.
fn container(plan: &StepPlan) -> Map<String, Value> {
    let mut m = Map::new();
    m.put_str("name", &plan.name);
    m.put_str("image", &plan.image);
    m.put_list(
        "command",
        plan.command.iter().map(|c| c.as_str().into()).collect(),
    );
    m.put_list(
        "args",
        plan.args.iter().map(|a| a.as_str().into()).collect(),
    );
    m.put_opt("workingDir", plan.working_dir.as_deref().map(Into::into));
    m.put_list(
        "env",
        plan.env
            .iter()
            .map(|e| json!({"name": e.name, "value": e.value}))
            .collect(),
    );
    m.put_opt(
        "script",
        plan.script.as_deref().map(|s| as_written(s).into()),
    );
    m
}

/// The script without the shell preamble `plan` adds to scripts that have no `#!` line.
///
/// Tekton adds the same preamble when it builds the pod, and shows the script without it.
/// When the preamble cannot be told from a script that began with those lines itself, the
/// stripped script still runs identically, since the preamble would be added back.
fn as_written(script: &str) -> &str {
    match script.strip_prefix(SCRIPT_PREAMBLE) {
        Some(rest) if !rest.trim().starts_with("#!") => rest,
        _ => script,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Param, ParamValue};
    use crate::plan::model::EnvPlan;

    /// Declares `version` (a string) and `flags` (an array, by its default).
    fn spec() -> TaskSpec {
        serde_json::from_value(json!({"params": [
            {"name": "version"},
            {"name": "flags", "default": ["-v"]},
        ]}))
        .expect("a TaskSpec")
    }

    fn request(steps: Vec<StepPlan>, sidecars: Vec<StepPlan>) -> TaskRunRequest {
        TaskRunRequest {
            name: "pr-build".into(),
            pipeline_task: "build".into(),
            parent_tasks: Vec::new(),
            finally: false,
            params: vec![
                Param {
                    name: "version".into(),
                    value: ParamValue::String("1.2".into()),
                },
                Param {
                    name: "flags".into(),
                    value: ParamValue::Array(vec!["-v".into()]),
                },
            ],
            steps,
            sidecars,
            timeout: None,
            workspaces: Vec::new(),
            results: Vec::new(),
            volumes: Vec::new(),
            credentials: Vec::new(),
            pod: Default::default(),
            on_error: Default::default(),
            cluster: Default::default(),
        }
    }

    #[test]
    fn steps_are_rendered_as_they_ran_in_tekton_field_order() {
        let step = StepPlan {
            name: "compile".into(),
            image: "golang:1.23".into(),
            command: vec!["go".into()],
            args: vec!["build".into(), "-v".into()],
            working_dir: Some("/workspace/source".into()),
            env: vec![EnvPlan {
                name: "GOFLAGS".into(),
                value: "-mod=vendor".into(),
            }],
            timeout: Some("5m".into()),
            on_error: Some("continue".into()),
            ..StepPlan::default()
        };
        let spec = render(&request(vec![step], Vec::new()), &spec());
        assert_eq!(
            serde_json::to_string(&spec).unwrap_or_default(),
            concat!(
                r#"{"params":[{"name":"version","type":"string"},{"name":"flags","type":"array","default":["-v"]}],"#,
                r#""steps":[{"name":"compile","image":"golang:1.23","command":["go"],"#,
                r#""args":["build","-v"],"workingDir":"/workspace/source","#,
                r#""env":[{"name":"GOFLAGS","value":"-mod=vendor"}],"#,
                r#""timeout":"5m","onError":"continue"}]}"#
            )
        );
    }

    #[test]
    fn the_shell_preamble_adze_added_is_not_shown() {
        let step = StepPlan {
            name: "s".into(),
            image: "alpine".into(),
            script: Some(format!("{SCRIPT_PREAMBLE}echo hi\n")),
            ..StepPlan::default()
        };
        let spec = render(&request(vec![step], Vec::new()), &spec());
        assert_eq!(spec["steps"][0]["script"], "echo hi\n");
    }

    #[test]
    fn a_script_with_its_own_interpreter_line_is_kept_whole() {
        let own = format!("{SCRIPT_PREAMBLE}#!/usr/bin/env python3\nprint(1)\n");
        assert_eq!(as_written(&own), own);
        assert_eq!(as_written("#!/bin/bash\necho\n"), "#!/bin/bash\necho\n");
    }

    #[test]
    fn sidecars_are_listed_after_steps_and_empty_lists_are_left_out() {
        let sidecar = StepPlan {
            name: "registry".into(),
            image: "registry:2".into(),
            timeout: Some("ignored-for-sidecars".into()),
            ..StepPlan::default()
        };
        let r = request(Vec::new(), vec![sidecar]);
        let spec = render(&r, &TaskSpec::default());
        assert_eq!(
            spec,
            json!({"sidecars": [{"name": "registry", "image": "registry:2"}]})
        );
    }

    #[test]
    fn declared_results_and_bound_workspaces_are_part_of_the_spec_that_ran() {
        let mut r = request(Vec::new(), Vec::new());
        let declared: TaskSpec =
            serde_json::from_value(json!({"results": [{"name": "digest"}]})).expect("a TaskSpec");
        r.workspaces = vec![crate::run::WorkspaceMount {
            name: "src".into(),
            source: crate::run::WorkspaceSource::Dir("/tmp".into()),
            mount_path: "/workspace/src".into(),
            sub_path: None,
            read_only: true,
        }];
        let spec = render(&r, &declared);
        assert_eq!(spec["results"][0]["name"], "digest");
        assert_eq!(
            spec["workspaces"][0],
            json!({"name": "src", "mountPath": "/workspace/src", "readOnly": true})
        );
    }

    #[test]
    fn every_declared_field_is_kept() {
        let declared: TaskSpec = serde_json::from_value(json!({
            "displayName": "Build it",
            "description": "Compiles the sources.",
            "params": [{"name": "version", "description": "Release to build", "default": "1.0"}],
            "stepTemplate": {"env": [{"name": "CI", "value": "true"}]},
            "volumes": [{"name": "cache", "emptyDir": {}}],
            "workspaces": [{"name": "source", "description": "The checkout", "readOnly": true}],
            "results": [{"name": "digest", "description": "Image digest"}],
            "steps": [{"name": "compile", "image": "golang"}],
        }))
        .expect("a TaskSpec");
        let step = StepPlan {
            name: "compile".into(),
            image: "golang".into(),
            ..StepPlan::default()
        };
        let mut r = request(vec![step], Vec::new());
        r.workspaces.push(crate::run::WorkspaceMount {
            name: "extra".into(),
            source: crate::run::WorkspaceSource::Dir("/tmp/extra".into()),
            mount_path: "/workspace/extra".into(),
            sub_path: None,
            read_only: false,
        });
        let spec = render(&r, &declared);
        let keys: Vec<&str> = spec
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "params",
                "displayName",
                "description",
                "steps",
                "volumes",
                "stepTemplate",
                "workspaces",
                "results"
            ]
        );
        assert_eq!(
            spec["params"],
            json!([{"name": "version", "type": "string", "description": "Release to build", "default": "1.0"}])
        );
        assert_eq!(spec["displayName"], "Build it");
        assert_eq!(
            spec["stepTemplate"],
            json!({"env": [{"name": "CI", "value": "true"}]})
        );
        assert_eq!(
            spec["workspaces"],
            json!([
                {"name": "source", "description": "The checkout", "readOnly": true},
                {"name": "extra", "mountPath": "/workspace/extra"}
            ])
        );
    }
}
