//! Task rules: steps, sidecars, volumes, results, workspaces and variable usage
//! (spec §2.1–2.6), plus StepActions (§1.7).
//!
//! This module only decides which rule families apply to which spec; each family lives in
//! its own module (`steps`, `params`, `results`, `workspaces`, `variables`). A TaskSpec is
//! checked the same way whether it is a Task's or embedded in a TaskRun or Pipeline, except
//! that an embedded spec may reference params it receives by propagation (§3.5), described
//! by [`SpecContext`](super::spec_context::SpecContext).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::names::{is_dns1123_subdomain, suggest_label, MAX_LABEL};
use super::params::validate_param_specs;
use super::results::{validate_script_result_paths, validate_task_results};
use super::spec_context::SpecContext;
use super::steps::{
    validate_sidecars, validate_step_action_spec, validate_steps, validate_volumes,
};
use super::variables::{validate_step_action_variables, validate_task_variables};
use super::workspaces::{validate_workspace_declarations, validate_workspace_usages};
use super::Ctx;
use crate::api::{StepAction, Task, TaskSpec};

/// Validates a Task (spec §2.1–2.6).
pub fn validate_task(ctx: &mut Ctx<'_>, task: &Task) {
    validate_metadata_name(ctx, &task.metadata);
    validate_task_spec(ctx, &task.spec, "spec", &SpecContext::default());
}

/// Validates a TaskSpec found at `path`.
pub fn validate_task_spec(ctx: &mut Ctx<'_>, spec: &TaskSpec, path: &str, sc: &SpecContext<'_>) {
    if is_custom_task(spec) {
        // A custom task's spec belongs to its controller; the Pipeline rules cover its envelope.
        return;
    }
    if spec.steps.is_empty() {
        ctx.error("steps/missing", format!("{path}.steps"), "missing field(s): steps")
            .hint = Some("a task needs at least one step: `steps: [{name: run, image: alpine, script: echo hi}]`".into());
    }
    validate_param_specs(ctx, &spec.params, &format!("{path}.params"), true);
    validate_steps(ctx, spec, path);
    validate_sidecars(ctx, &spec.sidecars, &format!("{path}.sidecars"));
    validate_volumes(ctx, &spec.volumes, &format!("{path}.volumes"));
    validate_workspace_declarations(ctx, spec, path);
    validate_workspace_usages(ctx, spec, path);
    validate_task_results(ctx, &spec.results, &format!("{path}.results"));
    validate_script_result_paths(ctx, spec, path);
    validate_task_variables(ctx, spec, path, sc);
}

/// An embedded spec of a custom task (`apiVersion`/`kind` other than a Task, no steps).
fn is_custom_task(spec: &TaskSpec) -> bool {
    let custom_kind = spec
        .kind
        .as_deref()
        .is_some_and(|k| !k.is_empty() && k != "Task");
    let custom_api = spec.api_version.as_deref().is_some_and(|v| !v.is_empty());
    spec.steps.is_empty() && (custom_kind || custom_api || spec.spec.is_some())
}

/// Validates a StepAction (spec §1.7).
pub fn validate_step_action(ctx: &mut Ctx<'_>, action: &StepAction) {
    validate_metadata_name(ctx, &action.metadata);
    validate_step_action_spec(ctx, &action.spec, "spec");
    validate_step_action_variables(ctx, &action.spec, "spec");
}

/// `metadata.name` of a Task or StepAction: a DNS-1123 subdomain of at most 63 characters
/// (Tekton's cap, stricter than Kubernetes' 253, because the name ends up in labels).
pub fn validate_metadata_name(ctx: &mut Ctx<'_>, meta: &ObjectMeta) {
    let name = meta.name.as_deref().unwrap_or_default();
    if name.is_empty() {
        if meta.generate_name.as_deref().unwrap_or_default().is_empty() {
            ctx.error(
                "names/required",
                "metadata.name",
                "missing field(s): metadata.name",
            )
            .hint = Some("give the object a `metadata: {name: ...}`".into());
        }
        return;
    }
    let fix = suggest_label(name);
    let hint = if fix.is_empty() || fix == name {
        "use lowercase letters, digits, '-' and '.', at most 63 characters".to_string()
    } else {
        format!("try \"{fix}\"")
    };
    if !is_dns1123_subdomain(name) {
        ctx.error(
            "names/dns-subdomain",
            "metadata.name",
            format!("invalid resource name \"{name}\": must be a valid DNS label"),
        )
        .hint = Some(hint);
    } else if name.len() > MAX_LABEL {
        ctx.error(
            "names/dns-subdomain",
            "metadata.name",
            "Invalid resource name: length must be no more than 63 characters",
        )
        .hint = Some(hint);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::diagnostic::{Diagnostic, Severity};
    use crate::load::{Bundle, Origin};
    use crate::validate::{validate, Flags};

    /// Every rule code this module's families report; the example sweep looks for these.
    const OWN_CODES: &[&str] = &[
        "names/",
        "steps/",
        "params/",
        "results/",
        "workspaces/",
        "variables/",
        "security/",
    ];

    fn run(text: &str) -> Vec<Diagnostic> {
        let mut b = Bundle::new();
        b.add_source("t.yaml", text.to_string(), Origin::Input);
        assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
        validate(&b, &Flags::default())
    }

    #[test]
    fn task_needs_steps_and_a_good_name() {
        let ds = run("apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: Build_Image\nspec:\n  description: nothing\n");
        let got: Vec<_> = ds
            .iter()
            .map(|d| {
                let l = d.location.as_ref().unwrap();
                (d.code, d.field.as_deref().unwrap_or(""), l.line, l.column)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("names/dns-subdomain", "metadata.name", 4, 9),
                ("steps/missing", "spec.steps", 5, 1),
            ]
        );
        assert_eq!(ds[1].message, "missing field(s): steps");
        assert_eq!(ds[0].hint.as_deref(), Some("try \"build-image\""));
    }

    #[test]
    fn long_names() {
        let long = "a".repeat(64);
        let ds = run(&format!("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {{name: {long}}}\nspec: {{steps: [{{image: x}}]}}\n"));
        assert_eq!(ds.len(), 1);
        assert_eq!(
            ds[0].message,
            "Invalid resource name: length must be no more than 63 characters"
        );
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let texts = [
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {}\nspec: {}\n",
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: \"é\"}\nspec:\n  params: [{name: \"\"}, {name: \"é\", type: object, properties: {\"\": {}, \"a.b\": {type: x}}}]\n  results: [{name: \"\"}, {name: \"😀\", value: \"$(steps.é.results.😀)\"}]\n  workspaces: [{name: \"\"}, {name: \"\"}]\n  sidecars: [{name: \"\"}]\n  steps:\n  - {name: \"\", image: \"\", script: \"$(\", timeout: \"\", onError: \"\", args: [\"$(params.é\", \"$(params['😀'])\"]}\n  - ref: {}\n    params: [{name: \"\", value: {\"a.b\": \"$(params.x.y.z)\"}}]\n",
            "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata: {name: \"\"}\nspec:\n  volumeMounts: [{name: \"\", mountPath: \"\"}]\n  params: [{name: a, default: \"$(params.a)\"}]\n",
        ];
        for text in texts {
            let mut b = Bundle::new();
            b.add_source("t.yaml", text.to_string(), Origin::Input);
            let _ = validate(&b, &Flags::default());
        }
    }

    /// Strings glued from these pieces hit most edge cases of names, paths and references.
    const PIECES: &[&str] = &[
        "",
        "a",
        "-",
        ".",
        "/",
        "é",
        "😀",
        "$(",
        ")",
        "params",
        ".a",
        "[*]",
        "[0]",
        "['k']",
        "results",
        "step",
        "steps",
        ".path",
        "context",
        ".taskRun",
        "tekton-internal-",
        "/tekton/",
        "..",
        "#!win",
        "$$",
        "[",
        "\n",
    ];

    #[test]
    fn random_specs_do_not_panic() {
        // xorshift: deterministic, so a failure reproduces.
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut b = Bundle::new();
        b.add_source("t.yaml", "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec: {steps: [{image: x}]}\n".into(), Origin::Input);
        let flags = Flags::default();
        let propagated = vec!["a".to_string()];
        for round in 0..2_000 {
            let mut word = || -> String {
                (0..next() % 5)
                    .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                    .collect()
            };
            let spec = serde_json::json!({
                "params": [{"name": word(), "type": word(), "default": word(), "properties": {word(): {"type": word()}}, "enum": [word(), word()]}],
                "results": [{"name": word(), "type": word(), "value": word()}],
                "workspaces": [{"name": word(), "mountPath": word()}],
                "stepTemplate": {"image": word(), "command": [word()], "volumeMounts": [{"name": word(), "mountPath": word()}]},
                "steps": [{"name": word(), "image": word(), "script": word(), "args": [word(), word()], "timeout": word(),
                           "onError": word(), "workingDir": word(), "env": [{"name": "X", "value": word()}],
                           "volumeMounts": [{"name": word(), "mountPath": word()}], "workspaces": [{"name": word()}],
                           "results": [{"name": word()}], "params": [{"name": word(), "value": {word(): word()}}]}],
                "sidecars": [{"name": word(), "image": word(), "script": word(), "command": [word()]}],
            });
            let spec: TaskSpec = serde_json::from_value(spec).expect("decodes");
            let sc = SpecContext {
                embedded: round % 2 == 0,
                propagated_params: &propagated,
                in_pipeline: round % 3 == 0,
            };
            let mut ctx = Ctx::new(&b, &flags);
            validate_task_spec(&mut ctx, &spec, "spec", &sc);
            let located = b.place(&b.objects[0], ctx.out);
            assert!(located.iter().all(|d| d.location.is_some()));
        }
    }

    /// An embedded spec found in an example: its path, the spec, the param names it receives
    /// by propagation, and whether it sits in a Pipeline.
    type Embedded = (String, TaskSpec, Vec<String>, bool);

    fn param_names(ps: &[crate::api::Param]) -> Vec<String> {
        ps.iter().map(|p| p.name.clone()).collect()
    }

    /// The embedded specs of a pipeline spec (recursing into pipelines-in-pipelines); each
    /// sees the enclosing run's params, the Pipeline's, and its PipelineTask's (matrix too).
    fn pipeline_specs(
        spec: &crate::api::PipelineSpec,
        prefix: &str,
        outer: &[String],
        out: &mut Vec<Embedded>,
    ) {
        for (list, tasks) in [("tasks", &spec.tasks), ("finally", &spec.finally)] {
            for (i, pt) in tasks.iter().enumerate() {
                let mut visible = outer.to_vec();
                visible.extend(spec.params.iter().map(|p| p.name.clone()));
                visible.extend(param_names(&pt.params));
                if let Some(m) = &pt.matrix {
                    visible.extend(param_names(&m.params));
                    for inc in &m.include {
                        visible.extend(param_names(&inc.params));
                    }
                }
                let at = format!("{prefix}.{list}[{i}]");
                if let Some(ts) = &pt.task_spec {
                    out.push((format!("{at}.taskSpec"), ts.clone(), visible.clone(), true));
                }
                if let Some(ps) = &pt.pipeline_spec {
                    pipeline_specs(ps, &format!("{at}.pipelineSpec"), &visible, out);
                }
            }
        }
    }

    fn embedded_specs(object: &Object) -> Vec<Embedded> {
        let mut out = Vec::new();
        match object {
            Object::Pipeline(p) => pipeline_specs(&p.spec, "spec", &[], &mut out),
            Object::PipelineRun(pr) => {
                if let Some(ps) = &pr.spec.pipeline_spec {
                    pipeline_specs(
                        ps,
                        "spec.pipelineSpec",
                        &param_names(&pr.spec.params),
                        &mut out,
                    );
                }
            }
            Object::TaskRun(tr) => {
                if let Some(ts) = &tr.spec.task_spec {
                    out.push((
                        "spec.taskSpec".into(),
                        ts.clone(),
                        param_names(&tr.spec.params),
                        false,
                    ));
                }
            }
            _ => {}
        }
        out
    }

    #[test]
    fn examples_are_not_falsely_rejected() {
        let root = std::path::Path::new("/work/shared/examples/tekton");
        if !root.is_dir() {
            println!(
                "note: {} is absent; skipping the example sweep",
                root.display()
            );
            return;
        }
        let mut files = Vec::new();
        let mut todo = vec![root.to_path_buf()];
        while let Some(dir) = todo.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    todo.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.push(path);
                }
            }
        }
        files.sort();
        assert!(!files.is_empty());
        let flags = Flags {
            api_fields: crate::validate::ApiFields::Alpha,
            ..Flags::default()
        };
        let mut bad = Vec::new();
        let mut checked = 0;
        for file in &files {
            let mut b = Bundle::new();
            b.load_path(file, Origin::Input).unwrap();
            // Other engineers' rules (Pipelines, runs) are not this test's business: keep
            // only findings about Tasks and StepActions, plus the embedded specs checked below.
            let mut found: Vec<Diagnostic> = validate(&b, &flags)
                .into_iter()
                .filter(|d| {
                    d.object
                        .as_deref()
                        .is_some_and(|o| o.starts_with("Task/") || o.starts_with("StepAction/"))
                })
                .collect();
            for loaded in b.inputs() {
                for (path, spec, visible, in_pipeline) in embedded_specs(&loaded.object) {
                    let mut ctx = Ctx::new(&b, &flags);
                    let sc = SpecContext {
                        embedded: true,
                        propagated_params: &visible,
                        in_pipeline,
                    };
                    validate_task_spec(&mut ctx, &spec, &path, &sc);
                    checked += 1;
                    found.extend(b.place(loaded, ctx.out));
                }
            }
            for d in found {
                if d.severity == Severity::Error && OWN_CODES.iter().any(|c| d.code.starts_with(c))
                {
                    bad.push(format!(
                        "{}: {} {:?} {}",
                        file.display(),
                        d.code,
                        d.field,
                        d.message
                    ));
                }
            }
        }
        assert!(checked > 40, "only {checked} embedded specs found");
        assert!(bad.is_empty(), "falsely rejected:\n{}", bad.join("\n"));
    }
}
