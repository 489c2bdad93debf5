//! `status.taskSpec`: the Task as it actually ran, rebuilt from the resolved request.
//!
//! The request holds steps after StepActions, stepTemplate and substitution, which is what
//! Tekton records (§5.2). Parameters appear as declarations (`{name, type}`) because that is
//! the shape of `TaskSpec.params`; their values are already substituted into the steps.

use serde_json::{json, Map, Value};

use super::MapExt;
use crate::plan::model::StepPlan;
use crate::plan::task::SCRIPT_PREAMBLE;
use crate::run::TaskRunRequest;

/// `{params, steps, sidecars, workspaces, results}` of the TaskRun that ran.
pub(super) fn render(request: &TaskRunRequest) -> Value {
    let mut m = Map::new();
    m.put_list(
        "params",
        request
            .params
            .iter()
            .map(|p| json!({"name": p.name, "type": p.value.param_type().as_str()}))
            .collect(),
    );
    m.put_list("steps", request.steps.iter().map(step).collect());
    m.put_list("sidecars", request.sidecars.iter().map(sidecar).collect());
    m.put_list(
        "workspaces",
        request
            .workspaces
            .iter()
            .map(|w| {
                let mut d = Map::new();
                d.put_str("name", &w.name);
                d.put_str("mountPath", &w.mount_path);
                if w.read_only {
                    d.insert("readOnly".into(), true.into());
                }
                Value::Object(d)
            })
            .collect(),
    );
    m.put_list(
        "results",
        request
            .results
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok())
            .collect(),
    );
    Value::Object(m)
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

    fn request(steps: Vec<StepPlan>, sidecars: Vec<StepPlan>) -> TaskRunRequest {
        TaskRunRequest {
            name: "pr-build".into(),
            pipeline_task: "build".into(),
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
            on_error: Default::default(),
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
        let spec = render(&request(vec![step], Vec::new()));
        assert_eq!(
            serde_json::to_string(&spec).unwrap_or_default(),
            concat!(
                r#"{"params":[{"name":"version","type":"string"},{"name":"flags","type":"array"}],"#,
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
        let spec = render(&request(vec![step], Vec::new()));
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
        let mut r = request(Vec::new(), vec![sidecar]);
        r.params.clear();
        let spec = render(&r);
        assert_eq!(
            spec,
            json!({"sidecars": [{"name": "registry", "image": "registry:2"}]})
        );
    }

    #[test]
    fn declared_results_and_bound_workspaces_are_part_of_the_spec_that_ran() {
        let mut r = request(Vec::new(), Vec::new());
        r.results = vec![crate::api::task::TaskResult {
            name: "digest".into(),
            ..Default::default()
        }];
        r.workspaces = vec![crate::run::WorkspaceMount {
            name: "src".into(),
            source: crate::run::WorkspaceSource::Dir("/tmp".into()),
            mount_path: "/workspace/src".into(),
            sub_path: None,
            read_only: true,
        }];
        let spec = render(&r);
        assert_eq!(spec["results"][0]["name"], "digest");
        assert_eq!(
            spec["workspaces"][0],
            json!({"name": "src", "mountPath": "/workspace/src", "readOnly": true})
        );
    }
}
