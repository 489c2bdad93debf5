//! Task and step results as files in the TaskRun's directory: reading them, typing them
//! against the declarations (§4.5), and the `$(steps.S.results.R)` values a step sees when it
//! starts (§4.3 step 2).
//!
//! Tekton's entrypoint does this inside each container; adze reads the same files from the
//! host, which is equivalent because every later step starts after the earlier one exited.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use crate::api::task::TaskResult;
use crate::api::{ParamType, ParamValue};
use crate::plan::model::StepPlan;
use crate::subst::{self, Access, Var};

/// The size Tekton allows a result (the termination message limit).
pub const MAX_RESULT_BYTES: usize = 4096;

/// Every file of a results directory as text, sorted by name; a missing directory is empty.
pub fn read_dir(dir: &Path) -> io::Result<Vec<(String, String)>> {
    let mut results = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(results),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let bytes = fs::read(entry.path())?;
        results.push((
            entry.file_name().to_string_lossy().into_owned(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(results)
}

/// A step's results in declaration order, then undeclared ones by name.
pub fn step_results(step: &StepPlan, raw: Vec<(String, String)>) -> Vec<(String, ParamValue)> {
    let mut raw: BTreeMap<String, String> = raw.into_iter().collect();
    let mut out = Vec::new();
    for name in &step.results {
        if let Some(text) = raw.remove(name) {
            out.push((name.clone(), ParamValue::String(text)));
        }
    }
    out.extend(raw.into_iter().map(|(n, t)| (n, ParamValue::String(t))));
    out
}

/// The step with `$(steps.S.results.R)` replaced in env values, command and args from the
/// files earlier steps wrote under `steps_dir` (an array's `[*]` alone in a command or args
/// item spliced in); also the references that found no file.
/// `$(steps.S.outputs.A)` and `$(steps.S.inputs.A)` replaced in a step's script, env,
/// command and args from earlier steps' `provenance.json` (artifacts, alpha); the script is
/// included because the values only exist once those steps ran.
pub fn substitute_step_artifacts(step: &StepPlan, steps_dir: &Path) -> StepPlan {
    use crate::run::artifacts::{values_json, ArtifactList};
    let read = |s: &str| -> Option<serde_json::Value> {
        let file = steps_dir
            .join(format!("step-{s}"))
            .join("artifacts")
            .join("provenance.json");
        serde_json::from_str(&fs::read_to_string(file).ok()?).ok()
    };
    let lookup = |var: &Var| -> Option<String> {
        let (s, list, name) = match var {
            Var::StepOutputs { step, name } => (step, ArtifactList::Outputs, name),
            Var::StepInputs { step, name } => (step, ArtifactList::Inputs, name),
            _ => return None,
        };
        values_json(&read(s)?, list, name)
    };
    let sub = |s: &str| {
        if s.contains("$(steps.") {
            subst::substitute(s, lookup)
        } else {
            s.to_owned()
        }
    };
    let mut out = step.clone();
    out.script = step.script.as_deref().map(sub);
    out.command = step.command.iter().map(|c| sub(c)).collect();
    out.args = step.args.iter().map(|a| sub(a)).collect();
    for e in &mut out.env {
        e.value = sub(&e.value);
    }
    out
}

pub fn substitute_step_results(step: &StepPlan, steps_dir: &Path) -> (StepPlan, Vec<String>) {
    let mut missing = Vec::new();
    let read = |step: &str, result: &str| {
        let file = steps_dir
            .join(format!("step-{step}"))
            .join("results")
            .join(result);
        fs::read_to_string(file).ok()
    };
    // Both lookups need the list of missing references; a cell lets them share it.
    let missing_cell = std::cell::RefCell::new(&mut missing);
    let lookup = |var: &Var| -> Option<String> {
        let Var::StepResult {
            step,
            result,
            access,
        } = var
        else {
            return None;
        };
        let Some(text) = read(step, result) else {
            missing_cell
                .borrow_mut()
                .push(format!("steps.{step}.results.{result}"));
            return None;
        };
        element(&text, access)
    };
    // `$(steps.S.results.R[*])` alone in a command or args item becomes the array's items.
    let lookup_array = |var: &Var| -> Option<Vec<String>> {
        let Var::StepResult {
            step,
            result,
            access: Access::Star,
        } = var
        else {
            return None;
        };
        match serde_json::from_str::<serde_json::Value>(&read(step, result)?).ok()? {
            serde_json::Value::Array(items) => Some(items.iter().map(json_text).collect()),
            _ => None,
        }
    };
    let mut out = step.clone();
    out.command = subst::splice_array(&step.command, lookup_array, lookup);
    out.args = subst::splice_array(&step.args, lookup_array, lookup);
    for e in &mut out.env {
        e.value = subst::substitute(&e.value, lookup);
    }
    for w in &mut out.when {
        w.input = w.input.as_deref().map(|i| subst::substitute(i, lookup));
        w.values = w
            .values
            .as_deref()
            .map(|v| subst::splice_array(v, lookup_array, lookup));
        w.cel = w.cel.as_deref().map(|c| subst::substitute(c, lookup));
    }
    missing.dedup();
    (out, missing)
}

/// The part of a result's text that `access` selects (the entrypoint JSON-decodes it).
fn element(text: &str, access: &Access) -> Option<String> {
    match access {
        Access::Whole | Access::Star => Some(text.to_owned()),
        Access::Index(i) => match serde_json::from_str::<serde_json::Value>(text).ok()? {
            serde_json::Value::Array(items) => items.get(*i).map(json_text),
            _ => None,
        },
        Access::Key(k) => match serde_json::from_str::<serde_json::Value>(text).ok()? {
            serde_json::Value::Object(map) => map.get(k).map(json_text),
            _ => None,
        },
    }
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A declared result whose `value` lifts a step result (`$(steps.S.results.R)`), filled in
/// when the steps did not write the file themselves.
pub fn lift_step_results(
    declared: &[TaskResult],
    raw: &mut Vec<(String, String)>,
    steps_dir: &Path,
) {
    for d in declared {
        let Some(ParamValue::String(value)) = &d.value else {
            continue;
        };
        if raw.iter().any(|(n, _)| *n == d.name) {
            continue;
        }
        let mut found = true;
        let text = subst::substitute(value.as_str(), |var| match var {
            Var::StepResult {
                step,
                result,
                access,
            } => {
                let file = steps_dir
                    .join(format!("step-{step}"))
                    .join("results")
                    .join(result);
                let text = fs::read_to_string(file)
                    .ok()
                    .and_then(|t| element(&t, access));
                found &= text.is_some();
                text
            }
            _ => None,
        });
        if found {
            raw.push((d.name.clone(), text));
        }
    }
    raw.sort_by(|a, b| a.0.cmp(&b.0));
}

/// Task results typed by their declarations (§4.5): mismatched ones are dropped and the
/// `TaskRunValidationFailed` message is returned with the rest.
pub fn typed(
    declared: &[TaskResult],
    raw: Vec<(String, String)>,
) -> (Vec<(String, ParamValue)>, Option<String>) {
    let mut out = Vec::with_capacity(raw.len());
    let mut mismatched = Vec::new();
    let mut missing_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, text) in raw {
        let decl = declared.iter().find(|d| d.name == name);
        let want = decl
            .and_then(|d| d.type_.as_deref())
            .and_then(ParamType::parse)
            .unwrap_or(ParamType::String);
        let value = match want {
            ParamType::String => ParamValue::String(text),
            _ => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(json) => ParamValue::from_json(&json),
                Err(_) => ParamValue::String(text),
            },
        };
        let got = value.param_type();
        if got != want {
            mismatched.push(format!(
                " \"{name}\": task result is expected to be \"{}\" type but was initialized to \
                 a different type \"{}\"",
                want.as_str(),
                got.as_str()
            ));
            continue;
        }
        if let (ParamValue::Object(map), Some(props)) =
            (&value, decl.and_then(|d| d.properties.as_ref()))
        {
            let missing: Vec<String> = props
                .keys()
                .filter(|k| !map.contains_key(*k))
                .cloned()
                .collect();
            if !missing.is_empty() {
                missing_keys.insert(name.clone(), missing);
            }
        }
        out.push((name, value));
    }
    if !mismatched.is_empty() {
        mismatched.sort();
        let message = format!(
            "Provided results don't match declared results; may be invalid JSON or missing \
             result declaration: {}",
            mismatched.join(",")
        );
        return (out, Some(message));
    }
    if !missing_keys.is_empty() {
        // Go's `%v` of a map[string][]string, which Tekton prints.
        let entries: Vec<String> = missing_keys
            .iter()
            .map(|(k, v)| format!("{k}:[{}]", v.join(" ")))
            .collect();
        let message = format!(
            "missing keys for these results which are required in TaskResult's properties \
             map[{}]",
            entries.join(" ")
        );
        return (out, Some(message));
    }
    (out, None)
}

/// The results larger than [`MAX_RESULT_BYTES`], with their sizes.
pub fn oversized<'a>(
    results: impl IntoIterator<Item = &'a (String, String)>,
) -> Vec<(String, usize)> {
    results
        .into_iter()
        .filter(|(_, text)| text.len() > MAX_RESULT_BYTES)
        .map(|(name, text)| (name.clone(), text.len()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(name: &str, type_: &str) -> TaskResult {
        TaskResult {
            name: name.into(),
            type_: Some(type_.into()),
            ..TaskResult::default()
        }
    }

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn array_and_object_results_are_parsed() {
        let (values, error) = typed(
            &[declared("a", "array"), declared("o", "object")],
            raw(&[("a", r#"["x","y"]"#), ("o", r#"{"k":"v"}"#), ("s", "[1]")]),
        );
        assert_eq!(error, None);
        assert_eq!(values[0].1, ParamValue::Array(vec!["x".into(), "y".into()]));
        assert!(matches!(values[1].1, ParamValue::Object(_)));
        assert_eq!(values[2].1, ParamValue::String("[1]".into()));
    }

    #[test]
    fn a_type_mismatch_gives_tektons_message_and_drops_the_result() {
        let (values, error) = typed(
            &[declared("r", "array"), declared("b", "object")],
            raw(&[("b", "nope"), ("r", "plain"), ("ok", "fine")]),
        );
        assert_eq!(
            values,
            vec![("ok".into(), ParamValue::String("fine".into()))]
        );
        assert_eq!(
            error.as_deref(),
            Some(
                "Provided results don't match declared results; may be invalid JSON or missing \
                 result declaration:  \"b\": task result is expected to be \"object\" type but \
                 was initialized to a different type \"string\", \"r\": task result is expected \
                 to be \"array\" type but was initialized to a different type \"string\""
            )
        );
    }

    #[test]
    fn missing_object_keys_are_reported() {
        let mut d = declared("o", "object");
        d.properties = Some(
            [
                ("a".to_owned(), Default::default()),
                ("b".to_owned(), Default::default()),
            ]
            .into_iter()
            .collect(),
        );
        let (_, error) = typed(&[d], raw(&[("o", r#"{"a":"1"}"#)]));
        assert_eq!(
            error.as_deref(),
            Some(
                "missing keys for these results which are required in TaskResult's properties \
                 map[o:[b]]"
            )
        );
    }

    #[test]
    fn step_result_references_read_earlier_steps_files() {
        let dir = std::env::temp_dir().join(format!("adze-results-test-{}", std::process::id()));
        let results = dir.join("step-first").join("results");
        fs::create_dir_all(&results).unwrap();
        fs::write(results.join("list"), r#"["a","b"]"#).unwrap();
        fs::write(results.join("word"), "hi").unwrap();
        let step = StepPlan {
            args: vec![
                "$(steps.first.results.word)".into(),
                "$(steps.first.results.list[1])".into(),
                "$(steps.first.results.none)".into(),
            ],
            ..StepPlan::default()
        };
        let (out, missing) = substitute_step_results(&step, &dir);
        assert_eq!(out.args, ["hi", "b", "$(steps.first.results.none)"]);
        // An array result alone in an args item is spliced in, one item per element.
        let spliced = StepPlan {
            args: vec![
                "$(steps.first.results.list[*])".into(),
                "x".into(),
                "$(steps.first.results.word[*])".into(),
            ],
            ..StepPlan::default()
        };
        let (out, _) = substitute_step_results(&spliced, &dir);
        assert_eq!(out.args, ["a", "b", "x", "hi"]);
        assert_eq!(missing, ["steps.first.results.none"]);
        fs::remove_dir_all(dir).unwrap();
    }
}
