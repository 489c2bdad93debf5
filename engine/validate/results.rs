//! Result rules (spec §2.4): TaskResult and StepResult declarations, a TaskResult's `value`,
//! and the result paths a script writes to.
//!
//! A script writes a result by path (`$(results.r.path)`); writing to an undeclared name
//! succeeds silently and the value is lost, so Tekton rejects the reference up front. Only
//! `script` is checked, as in Tekton: `command`/`args` may legitimately build paths in ways
//! admission cannot follow.

use std::collections::BTreeMap;

use super::names::is_dns1123_label;
use super::{ApiFields, Ctx};
use crate::api::param::PropertySpec;
use crate::api::task::{StepResult, TaskResult};
use crate::api::{ParamValue, TaskSpec};
use crate::diagnostic::Diagnostic;
use crate::subst::{scan, sole_reference, Access, Var};

/// Tekton's result name regex, for messages.
const RESULT_NAME_REGEX: &str = "^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$";

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`: the format of task and step result names.
pub fn is_result_name(name: &str) -> bool {
    let b = name.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Validates `results` of a TaskSpec at `path` (e.g. `spec.results`).
pub fn validate_task_results(ctx: &mut Ctx<'_>, results: &[TaskResult], path: &str) {
    for (i, r) in results.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let decl = Declared {
            name: &r.name,
            type_: r.type_.as_deref(),
            properties: r.properties.as_ref(),
        };
        if check_declaration(ctx, &decl, &at) {
            if let Some(value) = &r.value {
                check_value(ctx, value, &format!("{at}.value"));
            }
        }
    }
}

/// Validates a step's or StepAction's `results` at `path`.
pub fn validate_step_results(ctx: &mut Ctx<'_>, results: &[StepResult], path: &str) {
    for (i, r) in results.iter().enumerate() {
        let decl = Declared {
            name: &r.name,
            type_: r.type_.as_deref(),
            properties: r.properties.as_ref(),
        };
        check_declaration(ctx, &decl, &format!("{path}[{i}]"));
    }
}

/// The fields TaskResult and StepResult share.
struct Declared<'a> {
    name: &'a str,
    type_: Option<&'a str>,
    properties: Option<&'a BTreeMap<String, PropertySpec>>,
}

/// Checks name, type and properties; false when the name is invalid (Tekton stops there).
fn check_declaration(ctx: &mut Ctx<'_>, r: &Declared<'_>, at: &str) -> bool {
    if !is_result_name(r.name) {
        ctx.error(
            "results/name-format",
            format!("{at}.name"),
            format!("invalid key name \"{}\"", r.name),
        )
        .hint = Some(format!(
            "Name must consist of alphanumeric characters, '-', '_', and must start and end with an alphanumeric character (regex used for validation is '{RESULT_NAME_REGEX}')"
        ));
        return false;
    }
    // Tekton's defaulting: object when properties are set, else string.
    let ty = r.type_.unwrap_or(if r.properties.is_some() {
        "object"
    } else {
        "string"
    });
    match ty {
        "string" => {}
        "array" => ctx.gate(ApiFields::Beta, "array results", format!("{at}.type")),
        "object" => {
            ctx.gate(ApiFields::Beta, "object results", format!("{at}.type"));
            check_properties(ctx, r, at);
        }
        other => {
            ctx.error(
                "results/invalid-type",
                format!("{at}.type"),
                format!("invalid value: {other}"),
            )
            .hint = Some("a result's type is one of string, array or object".into());
        }
    }
    true
}

fn check_properties(ctx: &mut Ctx<'_>, r: &Declared<'_>, at: &str) {
    let Some(properties) = r.properties else {
        ctx.error(
            "results/object-properties",
            format!("{at}.properties"),
            format!("missing field(s): {}.properties", r.name),
        )
        .hint = Some("declare the object's keys: `properties: {key: {type: string}}`".into());
        return;
    };
    let invalid: Vec<&str> = properties
        .iter()
        .filter(|(_, p)| p.type_.as_deref().is_some_and(|t| t != "string"))
        .map(|(k, _)| k.as_str())
        .collect();
    if !invalid.is_empty() {
        ctx.error(
            "results/object-properties",
            format!("{at}.properties"),
            format!(
                "The value type specified for these keys [{}] is invalid, the type must be string",
                invalid.join(" ")
            ),
        )
        .hint = Some("object result properties can only be of type string".into());
    }
}

/// A TaskResult `value` lifts a step result: it must be exactly `$(steps.<step>.results.<r>)`.
fn check_value(ctx: &mut Ctx<'_>, value: &ParamValue, at: &str) {
    let text = match value {
        ParamValue::String(s) => s,
        other => {
            ctx.error(
                "results/value-format",
                at,
                format!(
                    "Invalid Type. Wanted string but got: \"{}\"",
                    other.param_type().as_str()
                ),
            )
            .hint = Some(
                "write the value as one string: `value: $(steps.<step>.results.<result>)`".into(),
            );
            return;
        }
    };
    if text.is_empty() {
        return;
    }
    let lifted = sole_reference(text).and_then(|r| match r.var {
        Var::StepResult {
            step,
            result,
            access: Access::Whole | Access::Star,
        } => Some((step, result)),
        _ => None,
    });
    let Some((step, result)) = lifted else {
        ctx.error(
            "results/value-format",
            at,
            format!("Could not extract step name and result name. Expected value to look like $(steps.<stepName>.results.<resultName>) but got \"{text}\""),
        )
        .hint = Some("a task result's `value` can only lift one step result, written as the whole value".into());
        return;
    };
    if !is_dns1123_label(&step) {
        ctx.error(
            "results/value-format",
            at,
            format!("invalid extracted step name \"{step}\""),
        )
        .hint = Some(
            "stepName in $(steps.<stepName>.results.<resultName>) must be a valid DNS label".into(),
        );
    }
    if !is_result_name(&result) {
        ctx.error("results/value-format", at, format!("invalid extracted result name \"{result}\""))
            .hint = Some(format!(
                "resultName in $(steps.<stepName>.results.<resultName>) must match '{RESULT_NAME_REGEX}'"
            ));
    }
}

/// Checks `$(results.x.path)` and `$(step.results.x.path)` in every step script of `spec`.
pub fn validate_script_result_paths(ctx: &mut Ctx<'_>, spec: &TaskSpec, path: &str) {
    let task_results: Vec<&str> = spec.results.iter().map(|r| r.name.as_str()).collect();
    for (i, step) in spec.steps.iter().enumerate() {
        let Some(script) = step.script.as_deref() else {
            continue;
        };
        let step_results: Vec<&str> = step.results.iter().map(|r| r.name.as_str()).collect();
        let at = format!("{path}.steps[{i}].script");
        check_script_paths(ctx, script, &at, Some(&task_results), &step_results);
    }
}

/// Checks the result paths of one script. `task_results` is `None` where there is no Task
/// (a StepAction); the `step.results` check runs only when the step declares results, as
/// in Tekton.
pub fn check_script_paths(
    ctx: &mut Ctx<'_>,
    script: &str,
    at: &str,
    task_results: Option<&[&str]>,
    step_results: &[&str],
) {
    for r in scan(script).refs {
        let (name, declared, what, fix) = match &r.var {
            Var::ResultPath { name } => match task_results {
                Some(declared) => (
                    name,
                    declared,
                    "the task declares no result",
                    "spec.results",
                ),
                None => continue,
            },
            Var::StepResultPath { name } if !step_results.is_empty() => (
                name,
                step_results,
                "the step declares no result",
                "the step's `results`",
            ),
            _ => continue,
        };
        if declared.contains(&name.as_str()) {
            continue;
        }
        let hint = match crate::load::catalog::suggest(name, declared.iter().copied()) {
            Some(s) => format!("did you mean \"{s}\"?"),
            None => format!("declare \"{name}\" under {fix}"),
        };
        let d = Diagnostic::error(
            "results/undeclared-path",
            format!(
                "non-existent variable in \"$({})\": {what} \"{name}\"",
                r.text
            ),
        )
        .at(at)
        .inside(r.span.start, r.span.len())
        .hint(hint);
        ctx.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::test_support::{check, task_with_spec};

    fn run(spec: &str) -> Vec<Diagnostic> {
        check(&task_with_spec(spec))
    }

    fn fields(ds: &[Diagnostic]) -> Vec<(&str, &str)> {
        ds.iter()
            .map(|d| (d.code, d.field.as_deref().unwrap_or("")))
            .collect()
    }

    #[test]
    fn names() {
        for ok in ["a", "A1", "a.b_c-d", "1"] {
            assert!(is_result_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "é", "_a"] {
            assert!(!is_result_name(bad), "{bad}");
        }
    }

    #[test]
    fn declarations() {
        let ds = run("  results:\n  - name: bad-\n  - name: t\n    type: int\n  - name: o\n    type: object\n  - name: p\n    properties: {k: {type: array}}\n  steps:\n  - image: alpine\n");
        assert_eq!(
            fields(&ds),
            [
                ("results/name-format", "spec.results[0].name"),
                ("results/invalid-type", "spec.results[1].type"),
                ("results/object-properties", "spec.results[2].properties"),
                ("results/object-properties", "spec.results[3].properties"),
            ]
        );
        let loc = ds[0].location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (6, 11));
    }

    #[test]
    fn values_lift_step_results() {
        let ds = run("  results:\n  - name: a\n    value: $(steps.build.results.digest)\n  - name: b\n    value: x$(steps.build.results.digest)\n  - name: c\n    value: $(steps.Build.results.d)\n  - name: d\n    type: array\n    value: [x]\n  steps:\n  - name: build\n    image: alpine\n");
        assert_eq!(
            fields(&ds),
            [
                ("results/value-format", "spec.results[1].value"),
                ("results/value-format", "spec.results[2].value"),
                ("results/value-format", "spec.results[3].value"),
            ]
        );
        assert_eq!(ds[1].message, "invalid extracted step name \"Build\"");
    }

    #[test]
    fn script_paths_must_be_declared() {
        let ds = run("  results:\n  - name: digest\n  steps:\n  - image: alpine\n    results: [{name: out}]\n    script: |\n      echo > $(results.digest.path)\n      echo > $(results.digset.path) $(step.results.out.path) $(step.results.nope.path)\n  - image: alpine\n    script: echo > $(step.results.any.path)\n");
        assert_eq!(
            fields(&ds),
            [
                ("results/undeclared-path", "spec.steps[0].script"),
                ("results/undeclared-path", "spec.steps[0].script"),
            ]
        );
        assert_eq!(ds[0].hint.as_deref(), Some("did you mean \"digest\"?"));
        let loc = ds[0].location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column, loc.len), (12, 14, 22));
        let loc = ds[1].location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (12, 62));
    }
}
