//! Merging a referenced StepAction into the step that uses it (spec §1.7), and the values of
//! the StepAction's own params (spec §3.6 "StepAction params").
//!
//! # Design
//!
//! A StepAction's fields see only its own params; the step's `params` feed them. The values
//! are, in order: the step's values (with the TaskRun's and Task's params already substituted
//! into them), then the StepAction's defaults for what the step leaves out. An object value
//! is merged key by key over the object default: a key the step gives wins, a key it leaves
//! out keeps the default's. Defaults may reference other params of the StepAction; those
//! references are resolved until nothing changes, and a cycle is an error.
//!
//! # Invariants
//!
//! - Whatever a StepAction field still references after this (`$(params.T)` of a Task param
//!   the StepAction does not declare) is left verbatim for the Task's own substitution.
//! - A param fed from an earlier step's result becomes a reference to that result, which the
//!   executor substitutes when the step starts.

use std::collections::HashMap;

use k8s_openapi::api::core::v1 as corev1;

use super::scope::Scope;
use super::PlanError;
use crate::api::{Kind, Object, ParamSpec, ParamType, ParamValue, Step};
use crate::load::Bundle;
use crate::subst::{self, Access, Var};

/// Merges a referenced StepAction into the step and resolves its params; a step without
/// `ref` is returned as it is. Also returns the StepAction's name.
pub fn apply_step_action(
    bundle: &Bundle,
    step: &Step,
    step_name: &str,
    task_scope: &Scope,
) -> Result<(Step, Option<String>), PlanError> {
    let Some(reference) = &step.ref_ else {
        return Ok((step.clone(), None));
    };
    let remote;
    let (loaded, name) = match reference.resolver.as_deref().filter(|r| !r.is_empty()) {
        Some(resolver) => {
            let mut params = reference.params.clone();
            for p in &mut params {
                p.value = task_scope.subst_value(&p.value);
            }
            let loaded = super::lookup::find_remote(bundle, Kind::StepAction, resolver, &params)
                .map_err(|e| PlanError::NotFound(format!("step \"{step_name}\": {e}")))?;
            remote = loaded.object.display_name();
            (loaded, &remote)
        }
        None => {
            let Some(name) = &reference.name else {
                return Err(PlanError::NotFound(format!(
                    "step \"{step_name}\" has a ref with neither name nor resolver"
                )));
            };
            let loaded = bundle
                .find(Kind::StepAction, name)
                .map_err(|e| PlanError::NotFound(e.to_string()))?;
            (loaded, name)
        }
    };
    let Object::StepAction(action) = &loaded.object else {
        return Err(PlanError::NotFound(format!(
            "StepAction \"{name}\" not found"
        )));
    };
    let sa = &action.spec;
    let (values, forwarded) = action_params(&sa.params, step, step_name, name, task_scope)?;
    let sa_scope = Scope {
        params: values,
        result_placeholders: task_scope.result_placeholders,
        ..Scope::default()
    };
    let forward = |s: &str| forward_step_results(s, &forwarded);
    let subst = |s: &str| sa_scope.subst(&forward(s));
    let subst_list = |items: &[String]| {
        let items: Vec<String> = items.iter().map(|s| forward(s)).collect();
        sa_scope.subst_list(&items)
    };
    let mut merged = step.clone();
    merged.ref_ = None;
    merged.params = Vec::new();
    merged.image = sa.image.as_deref().map(subst);
    merged.security_context.clone_from(&sa.security_context);
    merged.working_dir = sa.working_dir.as_deref().map(subst);
    if !sa.command.is_empty() {
        merged.command = subst_list(&sa.command);
    }
    if !sa.args.is_empty() {
        merged.args = subst_list(&sa.args);
    }
    if let Some(script) = &sa.script {
        merged.script = Some(subst(script));
    }
    if !sa.env.is_empty() {
        merged.env = sa
            .env
            .iter()
            .map(|e| corev1::EnvVar {
                value: e.value.as_deref().map(subst),
                ..e.clone()
            })
            .collect();
    }
    if !sa.volume_mounts.is_empty() {
        merged.volume_mounts = sa
            .volume_mounts
            .iter()
            .map(|m| corev1::VolumeMount {
                name: subst(&m.name),
                mount_path: subst(&m.mount_path),
                sub_path: m.sub_path.as_deref().map(subst),
                ..m.clone()
            })
            .collect();
    }
    if !sa.results.is_empty() {
        merged.results.clone_from(&sa.results);
    }
    Ok((merged, Some(name.clone())))
}

/// A StepAction param fed from an earlier step's result: (step, result).
type Forwarded = HashMap<String, (String, String)>;

/// The values of a StepAction's params for one step: the step's values over the defaults,
/// objects merged key by key, defaults' references to other params resolved; and the params
/// fed from earlier steps' results.
fn action_params(
    declared: &[ParamSpec],
    step: &Step,
    step_name: &str,
    action: &str,
    task_scope: &Scope,
) -> Result<(HashMap<String, ParamValue>, Forwarded), PlanError> {
    let error = |message: String| PlanError::StepAction {
        step: step_name.to_owned(),
        action: action.to_owned(),
        message,
    };
    let mut given: HashMap<String, ParamValue> = HashMap::new();
    // A param fed from an earlier step's result is only known when this step starts: its
    // references become references to that result, which the executor substitutes then.
    let mut forwarded = Forwarded::new();
    for p in &step.params {
        let value = task_scope.subst_value(&p.value);
        if let ParamValue::String(text) = &value {
            if let Some(Var::StepResult {
                step,
                result,
                access: Access::Whole | Access::Star,
            }) = subst::sole_reference(text).map(|r| r.var)
            {
                forwarded.insert(p.name.clone(), (step, result));
                continue;
            }
        }
        // A lone reference not resolved yet (a result known only at run time) is
        // type-corrected when it is; only values known now can clash.
        let pending = matches!(&value, ParamValue::String(v)
            if v.contains("$(") || v.starts_with('<'))
            && matches!(&p.value, ParamValue::String(t) if subst::sole_reference(t).is_some());
        let spec = declared.iter().find(|d| d.name == p.name);
        if let Some(expected) = spec
            .and_then(ParamSpec::effective_type)
            .filter(|_| !pending)
        {
            let got = value.param_type();
            if got != expected {
                return Err(error(format!(
                    "param \"{}\" is declared as {} but the step passes {} {}; pass {} {} \
                     value",
                    p.name,
                    expected.as_str(),
                    article(got),
                    got.as_str(),
                    article(expected),
                    expected.as_str()
                )));
            }
        }
        given.insert(p.name.clone(), value);
    }
    let mut defaults: HashMap<String, ParamValue> = declared
        .iter()
        .filter(|p| !forwarded.contains_key(&p.name))
        .filter_map(|p| Some((p.name.clone(), p.default.clone()?)))
        .collect();
    resolve_default_references(&mut defaults, &given).map_err(error)?;
    let mut values = defaults;
    for (name, value) in given {
        match (values.get_mut(&name), value) {
            (Some(ParamValue::Object(default)), ParamValue::Object(keys)) => default.extend(keys),
            (_, value) => {
                values.insert(name, value);
            }
        }
    }
    Ok((values, forwarded))
}

/// "a" or "an" before a type name.
fn article(t: ParamType) -> &'static str {
    match t {
        ParamType::Array | ParamType::Object => "an",
        ParamType::String => "a",
    }
}

/// Replaces, in the defaults, references to other params of the StepAction by their values
/// (the step's value when it gives one, else that param's own resolved default) until
/// nothing changes; fails on a cycle.
fn resolve_default_references(
    defaults: &mut HashMap<String, ParamValue>,
    given: &HashMap<String, ParamValue>,
) -> Result<(), String> {
    // Each pass resolves at least one more level of a chain, so a chain as long as the
    // param list is done in that many passes; anything left after is a cycle.
    for _ in 0..=defaults.len() {
        let known = Scope {
            params: defaults
                .iter()
                .chain(given)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ..Scope::default()
        };
        let mut changed = false;
        for value in defaults.values_mut() {
            let next = known.subst_value(value);
            if next != *value {
                *value = next;
                changed = true;
            }
        }
        if !changed {
            return Ok(());
        }
    }
    let mut cyclic: Vec<&String> = defaults
        .iter()
        .filter(|(_, v)| references_any(v, defaults))
        .map(|(k, _)| k)
        .collect();
    cyclic.sort();
    Err(format!(
        "circular dependency detected in parameter references between the defaults of {}; \
         give one of them a value that does not reference the others",
        cyclic
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// True when `value` references one of `params` by name.
fn references_any(value: &ParamValue, params: &HashMap<String, ParamValue>) -> bool {
    let texts: Vec<&String> = match value {
        ParamValue::String(s) => vec![s],
        ParamValue::Array(items) => items.iter().collect(),
        ParamValue::Object(map) => map.values().collect(),
    };
    texts.iter().any(|t| {
        subst::scan(t)
            .refs
            .iter()
            .any(|r| matches!(&r.var, Var::Param { name, .. } if params.contains_key(name)))
    })
}

/// Rewrites `$(params.P…)` of a StepAction param fed from a step result into
/// `$(steps.S.results.R…)`, keeping the reference's `[*]`, `[i]` or `.key`.
fn forward_step_results(s: &str, forwarded: &Forwarded) -> String {
    if forwarded.is_empty() || !s.contains("$(params") {
        return s.to_owned();
    }
    subst::substitute(s, |var| match var {
        Var::Param { name, access } => forwarded.get(name).map(|(step, result)| {
            let to = Var::StepResult {
                step: step.clone(),
                result: result.clone(),
                access: access.clone(),
            };
            format!("$({to})")
        }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Param, TaskSpec};
    use crate::plan::task::{resolve_task, TaskInputs};

    fn bundle(action: &str) -> Bundle {
        let mut bundle = Bundle::new();
        bundle.add_source(
            "sa.yaml",
            format!(
                "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata: {{name: act}}\nspec:\n{action}"
            ),
            crate::load::Origin::Input,
        );
        bundle
    }

    fn args(
        bundle: &Bundle,
        task: &str,
        params: &[(&str, &str)],
    ) -> Result<Vec<String>, PlanError> {
        let spec: TaskSpec = serde_yaml_ng::from_str(task).unwrap();
        let inputs = TaskInputs {
            params: params
                .iter()
                .map(|(n, v)| Param {
                    name: (*n).to_owned(),
                    value: ParamValue::String((*v).to_owned()),
                })
                .collect(),
            ..TaskInputs::default()
        };
        Ok(resolve_task(bundle, &spec, &inputs)?.steps[0].args.clone())
    }

    const ACTION: &str = r#"
  params:
  - {name: who, type: object, properties: {first: {}, last: {}}, default: {first: Ada, last: Lovelace}}
  - {name: greeting, default: "hello $(params.title)"}
  - {name: title, default: "$(params.rank)"}
  - {name: rank, default: dr}
  - {name: items, type: array, default: [a, b]}
  image: alpine
  args: ["$(params.who.first)", "$(params.who.last)", "$(params.greeting)", "$(params.items[*])"]
"#;

    #[test]
    fn object_values_merge_key_by_key_over_the_default() {
        let task = r#"
params: [{name: first}]
steps:
- ref: {name: act}
  params:
  - {name: who, value: {first: $(params.first)}}
"#;
        let args = args(&bundle(ACTION), task, &[("first", "Grace")]).unwrap();
        assert_eq!(args, ["Grace", "Lovelace", "hello dr", "a", "b"]);
    }

    #[test]
    fn a_whole_task_object_is_merged_and_arrays_splice() {
        let task = r#"
params:
- {name: person, type: object, properties: {last: {}}, default: {last: Hopper}}
- {name: list, type: array, default: [x, y]}
steps:
- ref: {name: act}
  params:
  - {name: who, value: "$(params.person[*])"}
  - {name: items, value: ["$(params.list[*])", z]}
  - {name: title, value: prof}
"#;
        let args = args(&bundle(ACTION), task, &[]).unwrap();
        assert_eq!(args, ["Ada", "Hopper", "hello prof", "x", "y", "z"]);
    }

    #[test]
    fn a_default_cycle_is_an_error_naming_the_params() {
        let action = r#"
  params:
  - {name: a, default: "$(params.b)"}
  - {name: b, default: "x$(params.a)"}
  image: alpine
  args: ["$(params.a)"]
"#;
        let task = "steps:\n- name: s\n  ref: {name: act}\n";
        let err = args(&bundle(action), task, &[]).unwrap_err().to_string();
        assert!(err.contains("circular dependency"), "{err}");
        assert!(err.contains("\"a\", \"b\""), "{err}");
        assert!(err.contains("step \"s\""), "{err}");
    }

    #[test]
    fn a_result_known_only_at_run_time_is_no_type_clash() {
        let spec: TaskSpec = serde_yaml_ng::from_str(
            "steps:\n- ref: {name: act}\n  params:\n  - {name: items, value: \"$(tasks.a.results.list[*])\"}\n",
        )
        .unwrap();
        let inputs = TaskInputs {
            result_placeholders: true,
            ..TaskInputs::default()
        };
        assert!(resolve_task(&bundle(ACTION), &spec, &inputs).is_ok());
    }

    #[test]
    fn a_type_clash_between_declaration_and_value_is_an_error() {
        let task = "steps:\n- ref: {name: act}\n  params:\n  - {name: items, value: one}\n";
        let err = args(&bundle(ACTION), task, &[]).unwrap_err().to_string();
        assert!(
            err.contains("\"items\" is declared as array but the step passes a string"),
            "{err}"
        );
    }
}
