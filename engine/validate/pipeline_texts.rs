//! The PipelineTasks of a spec with where each is written ([`Site`]), and the strings Tekton
//! substitutes in them ([`Text`]): what the pipeline, graph, matrix and run rules all read.
//!
//! # Design
//!
//! The strings of a PipelineTask are collected once per site, with their object paths and the
//! part they come from ([`Field`]) and what they become ([`Role`]), so each rule only filters
//! them. `$(...)` expressions are found the way Tekton's admission regex finds them
//! ([`tekton_expressions`]), which is narrower than what substitution accepts.

use std::ops::Range;

use super::references;
use crate::api::param::ParamValue;
use crate::api::{PipelineSpec, PipelineTask};
use crate::subst::{scan, Reference};

/// One PipelineTask and where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Site<'p> {
    /// The task.
    pub pt: &'p PipelineTask,
    /// Its object path, e.g. `spec.finally[1]`.
    pub path: String,
    /// In `finally` rather than `tasks`.
    pub finally: bool,
    /// Its strings that Tekton substitutes, computed once: most checks read them.
    pub texts: Vec<Text>,
}

/// Every PipelineTask of `spec` (tasks, then finally) with its path.
pub(crate) fn sites<'p>(spec: &'p PipelineSpec, base: &str) -> Vec<Site<'p>> {
    let site = |pt: &'p PipelineTask, path: String, finally: bool| Site {
        texts: texts(pt, &path),
        pt,
        path,
        finally,
    };
    let tasks = spec
        .tasks
        .iter()
        .enumerate()
        .map(|(i, pt)| site(pt, format!("{base}.tasks[{i}]"), false));
    let finally = spec
        .finally
        .iter()
        .enumerate()
        .map(|(i, pt)| site(pt, format!("{base}.finally[{i}]"), true));
    tasks.chain(finally).collect()
}

/// Which part of a PipelineTask a string comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// `params`.
    Params,
    /// `matrix.params` and `matrix.include[].params`.
    Matrix,
    /// `when` (input, values, cel).
    When,
    /// An embedded taskSpec's steps and sidecars.
    Steps,
}

/// What a string becomes after substitution, which decides where a whole array or object may
/// be referenced in it (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A whole string param value: it may be exactly one reference to a whole array or object.
    Value,
    /// An element of an array value: a whole-array reference must be the entire element.
    Element,
    /// A when-expression value: may be exactly `$(params.a[*])` of an array param.
    WhenValue,
    /// Anything else: stays a string.
    Text,
}

/// A string written in a PipelineTask, with where it is and what it may reference.
#[derive(Debug, Clone)]
pub(crate) struct Text {
    /// The part of the task.
    pub field: Field,
    /// Its role.
    pub role: Role,
    /// Object path of the string.
    pub path: String,
    /// The string.
    pub text: String,
    /// The well-formed references in it, scanned once: several checks read them.
    pub refs: Vec<Reference>,
}

impl Text {
    fn new(field: Field, role: Role, path: String, text: String) -> Text {
        Text {
            refs: scan(&text).refs,
            field,
            role,
            path,
            text,
        }
    }
}

/// Every string of `pt` that Tekton substitutes at pipeline level, in source order; of its
/// embedded steps and sidecars, only the strings that hold a reference.
pub(crate) fn texts(pt: &PipelineTask, path: &str) -> Vec<Text> {
    let mut out = param_texts(pt, path);
    if let Some(ts) = pt
        .task_spec
        .as_ref()
        .filter(|_| !references::is_custom_task(pt))
    {
        for (key, items) in [
            ("steps", to_json(&ts.steps)),
            ("sidecars", to_json(&ts.sidecars)),
        ] {
            // Checks read embedded steps only for the references they hold (a dependency, a
            // result used); most of their strings hold none and are not kept.
            let strings = json_strings(&items, &format!("{path}.taskSpec.{key}"));
            out.extend(
                strings
                    .into_iter()
                    .filter(|(_, text)| text.contains("$("))
                    .map(|(at, text)| Text::new(Field::Steps, Role::Text, at, text))
                    .filter(|t| !t.refs.is_empty()),
            );
        }
    }
    out
}

/// The strings of `pt` that receive pipeline params: params, matrix and when-expressions
/// (not its embedded steps), in source order.
pub(crate) fn param_texts(pt: &PipelineTask, path: &str) -> Vec<Text> {
    let mut out = Vec::new();
    for (i, p) in pt.params.iter().enumerate() {
        value_texts(
            &p.value,
            Field::Params,
            Role::Value,
            &format!("{path}.params[{i}].value"),
            &mut out,
        );
    }
    if let Some(m) = &pt.matrix {
        for (i, p) in m.params.iter().enumerate() {
            let at = format!("{path}.matrix.params[{i}].value");
            value_texts(&p.value, Field::Matrix, Role::Value, &at, &mut out);
        }
        for (i, inc) in m.include.iter().enumerate() {
            for (j, p) in inc.params.iter().enumerate() {
                let at = format!("{path}.matrix.include[{i}].params[{j}].value");
                value_texts(&p.value, Field::Matrix, Role::Text, &at, &mut out);
            }
        }
    }
    for (i, w) in pt.when.iter().enumerate() {
        let at = format!("{path}.when[{i}]");
        let mut push = |role, path: String, text: &str| {
            out.push(Text::new(Field::When, role, path, text.into()))
        };
        if let Some(input) = &w.input {
            push(Role::Text, format!("{at}.input"), input);
        }
        for (j, v) in w.values.iter().flatten().enumerate() {
            push(Role::WhenValue, format!("{at}.values[{j}]"), v);
        }
        if let Some(cel) = &w.cel {
            push(Role::Text, format!("{at}.cel"), cel);
        }
    }
    out
}

fn value_texts(
    value: &ParamValue,
    field: Field,
    string_role: Role,
    path: &str,
    out: &mut Vec<Text>,
) {
    let mut push =
        |role, path: String, text: &str| out.push(Text::new(field, role, path, text.into()));
    match value {
        ParamValue::String(s) => push(string_role, path.to_string(), s),
        ParamValue::Array(items) => {
            for (j, s) in items.iter().enumerate() {
                push(Role::Element, format!("{path}[{j}]"), s);
            }
        }
        ParamValue::Object(map) => {
            for (k, s) in map {
                push(Role::Text, format!("{path}.{k}"), s);
            }
        }
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// Every string inside a JSON value, with its object path under `path`.
pub(crate) fn json_strings(value: &serde_json::Value, path: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![(path.to_string(), value)];
    while let Some((at, v)) = todo.pop() {
        match v {
            serde_json::Value::String(s) => out.push((at, s.clone())),
            serde_json::Value::Array(items) => {
                todo.extend(
                    items
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(i, x)| (format!("{at}[{i}]"), x)),
                );
            }
            serde_json::Value::Object(map) => {
                let entries: Vec<_> = map.iter().collect();
                todo.extend(
                    entries
                        .into_iter()
                        .rev()
                        .map(|(k, x)| (format!("{at}.{k}"), x)),
                );
            }
            _ => {}
        }
    }
    out
}

/// The `$(...)` expressions Tekton's admission regex finds:
/// `\$\([_a-zA-Z0-9.-]+(\[([0-9]+|\*)\])?\)`, as byte spans and inner text.
pub(crate) fn tekton_expressions(s: &str) -> Vec<(Range<usize>, &str)> {
    let b = s.as_bytes();
    let name_byte = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-');
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(off) = s.get(from..).and_then(|rest| rest.find("$(")) {
        let start = from + off;
        let name_start = start + 2;
        let mut end = name_start;
        while end < b.len() && name_byte(b[end]) {
            end += 1;
        }
        from = start + 1;
        if end == name_start {
            continue;
        }
        let close = if b.get(end) == Some(&b')') {
            Some(end)
        } else {
            index_suffix_end(b, end).filter(|&e| b.get(e) == Some(&b')'))
        };
        if let Some(close) = close {
            out.push((start..close + 1, &s[name_start..close]));
            from = close + 1;
        }
    }
    out
}

/// The end of a `[digits]` or `[*]` starting at `at`, if there is one.
fn index_suffix_end(b: &[u8], at: usize) -> Option<usize> {
    if b.get(at) != Some(&b'[') {
        return None;
    }
    let mut i = at + 1;
    if b.get(i) == Some(&b'*') {
        i += 1;
    } else {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    (i > at + 1 && b.get(i) == Some(&b']')).then_some(i + 1)
}

/// The strings of a value with their paths.
pub(crate) fn value_strings<'v>(value: &'v ParamValue, path: &str) -> Vec<(String, &'v str)> {
    match value {
        ParamValue::String(s) => vec![(path.to_string(), s.as_str())],
        ParamValue::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{path}[{i}]"), s.as_str()))
            .collect(),
        ParamValue::Object(map) => map
            .iter()
            .map(|(k, s)| (format!("{path}.{k}"), s.as_str()))
            .collect(),
    }
}
