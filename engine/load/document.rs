//! Turning one YAML document into a typed Tekton object: strict decoding with unknown
//! fields and type errors reported at their paths, Go's case-insensitive field names, and
//! the fields only an embedded spec may carry.

use super::catalog;
use super::decode::{self, Decoded};
use super::source;
use super::yaml::{Node, NodeKind};
use crate::api::{Kind, Object, Pipeline, PipelineRun, StepAction, Task, TaskRun};
use crate::diagnostic::Diagnostic;

/// Go's JSON decoder matches field names case-insensitively, so Tekton accepts
/// `mountpath` for `mountPath`; such keys are renamed to their canonical spelling (the
/// position still points at what the user wrote). Returns true if anything was renamed.
pub(super) fn fold_field_case(unknown: &[String], root: &mut Node) -> bool {
    let mut changed = false;
    for path in unknown {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path.as_str()));
        let Some(canonical) = catalog::FIELD_NAMES
            .iter()
            .find(|f| f.eq_ignore_ascii_case(key) && **f != key)
        else {
            continue;
        };
        let Some(Node {
            kind: NodeKind::Map(entries),
            ..
        }) = source::node_at_mut(root, parent)
        else {
            continue;
        };
        for (k, _) in entries.iter_mut() {
            if let NodeKind::Scalar(text, _) = &mut k.kind {
                if text == key {
                    *text = canonical.to_string();
                    changed = true;
                }
            }
        }
    }
    changed
}

pub(super) fn decode_kind(kind: Kind, value: &Node) -> Decoded<Object> {
    fn wrap<T>(d: decode::Decoded<T>, f: fn(T) -> Object) -> Decoded<Object> {
        decode::Decoded {
            value: d.value.map(f),
            unknown_fields: d.unknown_fields,
            type_error: d.type_error,
        }
    }
    match kind {
        Kind::Task => wrap(decode::decode::<Task>(value), Object::Task),
        Kind::Pipeline => wrap(decode::decode::<Pipeline>(value), Object::Pipeline),
        Kind::TaskRun => wrap(decode::decode::<TaskRun>(value), Object::TaskRun),
        Kind::PipelineRun => wrap(decode::decode::<PipelineRun>(value), Object::PipelineRun),
        Kind::StepAction => wrap(decode::decode::<StepAction>(value), Object::StepAction),
    }
}

/// `metadata.name` (or `generateName` + `*`) as written, for labels of objects that did
/// not decode.
pub(super) fn written_name(root: &Node) -> String {
    let meta = root.get("metadata");
    let get = |k: &str| meta.and_then(|m| m.get(k)).and_then(Node::as_str);
    match (get("name"), get("generateName")) {
        (Some(n), _) if !n.is_empty() => n.to_string(),
        (_, Some(g)) => format!("{g}*"),
        _ => "<unnamed>".to_string(),
    }
}

/// serde names Rust types (`i64`, `bool`); users write YAML.
pub(super) fn plain_type_names(message: &str) -> String {
    let mut out = message.to_string();
    for int in [
        "i64", "i32", "u64", "u32", "u16", "u8", "i16", "i8", "usize",
    ] {
        out = out.replace(&format!("expected {int}"), "expected an integer");
    }
    out.replace("expected bool", "expected a boolean")
}

pub(super) fn report_decoding(
    decoded: Decoded<Object>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Object> {
    for path in decoded.unknown_fields {
        diags.push(unknown_field(&path));
    }
    if let Some((path, message)) = decoded.type_error {
        let message = plain_type_names(&message);
        let hint = if message.contains("expected an integer") {
            "write a whole number without quotes, e.g. `retries: 2`"
        } else if message.contains("expected a boolean") {
            "write true or false without quotes"
        } else if message.contains("expected a sequence") {
            "this field is a list: write each element on its own `- ` line, or use [a, b]"
        } else if message.contains("expected a string") {
            "quote the value to make it a string"
        } else if message.contains("expected struct") || message.contains("expected a map") {
            "this field is a mapping of `key: value` pairs"
        } else {
            "check the field's type in the Tekton API reference"
        };
        diags.push(
            Diagnostic::error("schema/type", message)
                .at(path)
                .hint(hint),
        );
    }
    decoded.value
}

pub(super) fn unknown_field(path: &str) -> Diagnostic {
    let name = path.rsplit('.').next().unwrap_or(path);
    let name = name.split('[').next().unwrap_or(name);
    let mut d = Diagnostic::error(
        "schema/unknown-field",
        format!("json: unknown field \"{name}\""),
    )
    .at(path)
    .at_key();
    d.hint = Some(
        catalog::did_you_mean(name, catalog::FIELD_NAMES.iter().copied())
            .unwrap_or_else(|| "remove it: Tekton rejects fields it does not know".to_string()),
    );
    d
}

/// `metadata`, `apiVersion`, `kind` and `spec` are allowed in a Pipeline's embedded
/// `taskSpec` only; a Task's spec and a TaskRun's taskSpec reject them.
pub(super) fn embedded_only_fields(obj: &Object, diags: &mut Vec<Diagnostic>) {
    let (prefix, spec) = match obj {
        Object::Task(t) => ("spec", &t.spec),
        Object::TaskRun(tr) => match &tr.spec.task_spec {
            Some(ts) => ("spec.taskSpec", ts),
            None => return,
        },
        _ => return,
    };
    let present = [
        ("metadata", spec.metadata.is_some()),
        ("apiVersion", spec.api_version.is_some()),
        ("kind", spec.kind.is_some()),
        ("spec", spec.spec.is_some()),
    ];
    for (field, set) in present {
        if set {
            diags.push(unknown_field(&format!("{prefix}.{field}")));
        }
    }
}

pub(super) fn unsupported_kind(kind: &str) -> Diagnostic {
    let hint = match kind {
        "ClusterTask" => {
            "ClusterTask was removed from Tekton; use a Task (or `resolver: cluster`)".to_string()
        }
        "PipelineResource" => {
            "PipelineResources were removed from Tekton; use Tasks and workspaces".to_string()
        }
        "Condition" => "Conditions were removed from Tekton; use `when` expressions".to_string(),
        "Run" | "CustomRun" => {
            "custom task runs are created by a controller, not by adze".to_string()
        }
        other => match catalog::did_you_mean(
            other,
            ["Task", "Pipeline", "TaskRun", "PipelineRun", "StepAction"],
        ) {
            Some(hint) => hint,
            None => {
                "adze understands Task, Pipeline, TaskRun, PipelineRun and StepAction".to_string()
            }
        },
    };
    Diagnostic::error(
        "schema/unknown-kind",
        format!("unknown kind \"{kind}\" in tekton.dev"),
    )
    .hint(hint)
}
