//! The JSON Schema of the event stream (`adze schema events`), and a checker for the part of
//! JSON Schema it uses.
//!
//! # Design
//!
//! The schema is built from one table ([`TYPES`]): per event type its fields, their JSON
//! types and whether they are required. Each type becomes one closed object schema (no
//! undeclared field) under a top-level `oneOf`, told apart by the `const` of its `type`, so a
//! reader can generate code from it and a line that gains a field by mistake fails the tests.
//!
//! [`validate`] checks a value against a schema using the keywords this schema uses (`oneOf`,
//! `type`, `const`, `enum`, `properties`, `required`, `additionalProperties`, `items`,
//! `minimum`); it refuses any other keyword rather than ignore it, so the checker can never
//! pass a line for a keyword it does not understand.
//!
//! # Not yet
//!
//! - `format: date-time` is an annotation here: [`validate`] checks that `time` is a string,
//!   and the unit tests check its shape.

use serde_json::{json, Map, Value};

use super::SCHEMA;

/// A field's JSON type in the schema.
#[derive(Debug, Clone, Copy)]
enum Ty {
    /// A string.
    Str,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// An integer.
    Int,
    /// An integer not below this.
    IntFrom(u64),
    /// `true` or `false`.
    Bool,
    /// An array of strings.
    Strings,
    /// A Tekton param value: a string, an array of strings or an object of strings.
    ParamValue,
}

/// One field of an event type.
#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    ty: Ty,
    required: bool,
    doc: &'static str,
}

const fn req(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        name,
        ty,
        required: true,
        doc,
    }
}

const fn opt(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        name,
        ty,
        required: false,
        doc,
    }
}

/// One event type: its `type` tag, what it means, its own fields.
#[derive(Debug, Clone, Copy)]
struct EventType {
    tag: &'static str,
    doc: &'static str,
    fields: &'static [Field],
}

const TASK: Field = req(
    "task",
    Ty::Str,
    "The pipeline task (a bare TaskRun's own name).",
);
const TASK_RUN: Field = req("taskRun", Ty::Str, "The TaskRun's name.");
const STEP: Field = req("step", Ty::Str, "The step's name.");
const WHY: Field = req(
    "why",
    Ty::OneOf(&["failure", "before"]),
    "`failure`: the step failed (`--break-on-failure`); `before`: it is about to run \
     (`--break-before`).",
);

/// Every event type, in the order a run reports them.
const TYPES: &[EventType] = &[
    EventType {
        tag: "runStarted",
        doc: "The run began; always the first line.",
        fields: &[req(
            "kind",
            Ty::OneOf(&["PipelineRun", "TaskRun"]),
            "What kind of run it is.",
        )],
    },
    EventType {
        tag: "taskStarted",
        doc: "A task's TaskRun, or one attempt of it, is started.",
        fields: &[
            TASK,
            TASK_RUN,
            req("finally", Ty::Bool, "True for a finally task."),
            req("steps", Ty::Strings, "The step names, in order."),
        ],
    },
    EventType {
        tag: "taskSkipped",
        doc: "A task will not run.",
        fields: &[
            TASK,
            req(
                "reason",
                Ty::Str,
                "Tekton's skipping reason, e.g. `When Expressions evaluated to false`.",
            ),
        ],
    },
    EventType {
        tag: "stepStarted",
        doc: "A step's container started.",
        fields: &[TASK, TASK_RUN, STEP],
    },
    EventType {
        tag: "log",
        doc: "One line a step (or a sidecar, `sidecar-<name>`) printed.",
        fields: &[
            TASK,
            TASK_RUN,
            req("step", Ty::Str, "The step or sidecar that printed it."),
            req("stream", Ty::OneOf(&["stdout", "stderr"]), "Where it was printed."),
            req("text", Ty::Str, "The line, without its newline."),
        ],
    },
    EventType {
        tag: "stepFinished",
        doc: "A step's container ended.",
        fields: &[
            TASK,
            TASK_RUN,
            STEP,
            req("exitCode", Ty::Int, "The exit code Tekton records for the step."),
            req(
                "durationMs",
                Ty::IntFrom(0),
                "How long its container ran, in milliseconds (0 for a step that never ran).",
            ),
        ],
    },
    EventType {
        tag: "result",
        doc: "A result a task emitted; before that task's `taskFinished`.",
        fields: &[
            TASK,
            TASK_RUN,
            req("name", Ty::Str, "The result's name."),
            req(
                "value",
                Ty::ParamValue,
                "A string, an array of strings or an object of strings.",
            ),
        ],
    },
    EventType {
        tag: "taskRetried",
        doc: "An attempt failed and the task starts again (`retries`); its `taskStarted` follows.",
        fields: &[
            TASK,
            TASK_RUN,
            req(
                "attempt",
                Ty::IntFrom(2),
                "The attempt that starts now: 2 for the first retry.",
            ),
            req("reason", Ty::Str, "The failed attempt's reason."),
            req("message", Ty::Str, "The failed attempt's message."),
        ],
    },
    EventType {
        tag: "taskFinished",
        doc: "A task ended.",
        fields: &[
            TASK,
            TASK_RUN,
            req(
                "state",
                Ty::OneOf(&[
                    "succeeded",
                    "failed",
                    "failureIgnored",
                    "cancelled",
                    "timedOut",
                    "validationFailed",
                    "skipped",
                    "running",
                ]),
                "How it ended.",
            ),
            req(
                "reason",
                Ty::Str,
                "The TaskRun's condition reason: `Succeeded`, `StepFailed`, `TaskRunCancelled`, ….",
            ),
            req(
                "message",
                Ty::Str,
                "The TaskRun's condition message (empty on success).",
            ),
        ],
    },
    EventType {
        tag: "breakpoint",
        doc: "The run stopped at a breakpoint (`--break-on-failure`, `--break-before`): a debug \
              container in the step's world (its image, mounts, environment and working \
              directory) runs and can be entered; written before the session starts.",
        fields: &[
            TASK,
            TASK_RUN,
            STEP,
            WHY,
            opt(
                "exitCode",
                Ty::Int,
                "The failed step's exit code; present when `why` is `failure`.",
            ),
            req("container", Ty::Str, "The debug container's name."),
            req(
                "image",
                Ty::Str,
                "The image it runs: the failed step's container committed (`adze-debug:…`), \
                 or the step's image.",
            ),
            opt(
                "command",
                Ty::Str,
                "The command that opens a shell in it (`docker exec -it CONTAINER SHELL`); \
                 absent when the image has no shell.",
            ),
            opt(
                "noShell",
                Ty::Str,
                "Why no shell runs in it, when none does: its files can still be read with \
                 `docker cp` and `docker export`.",
            ),
        ],
    },
    EventType {
        tag: "breakpointEnded",
        doc: "The session at a breakpoint is over and its debug container removed; after \
              `failure` the run stops failed, after `before` the step runs.",
        fields: &[
            TASK,
            TASK_RUN,
            STEP,
            WHY,
            req("container", Ty::Str, "The debug container, now removed."),
        ],
    },
    EventType {
        tag: "warning",
        doc: "Something worth knowing that does not fail the run.",
        fields: &[
            opt("task", Ty::Str, "The task concerned, when there is one."),
            opt("taskRun", Ty::Str, "The TaskRun concerned, when there is one."),
            req("message", Ty::Str, "What happened."),
        ],
    },
    EventType {
        tag: "runFinished",
        doc: "The run ended; always the last line.",
        fields: &[
            req(
                "status",
                Ty::OneOf(&["True", "False", "Unknown"]),
                "The `Succeeded` condition's status; `Unknown` when adze itself failed.",
            ),
            req(
                "reason",
                Ty::Str,
                "The condition's reason (`Succeeded`, `Failed`, `Cancelled`, …; `Error` when adze itself failed).",
            ),
            req("message", Ty::Str, "The condition's message."),
        ],
    },
];

/// The common fields every event carries, before its own.
fn common(tag: &str) -> Vec<(&'static str, Value, bool)> {
    vec![
        (
            "schema",
            json!({"const": SCHEMA, "description": "The stream's format and version."}),
            true,
        ),
        (
            "time",
            json!({"type": "string", "format": "date-time",
                "description": "When adze saw it happen: RFC 3339, UTC, milliseconds."}),
            true,
        ),
        (
            "run",
            json!({"type": "string", "description": "The PipelineRun's or TaskRun's name."}),
            true,
        ),
        (
            "type",
            json!({"const": tag, "description": "The event type."}),
            true,
        ),
    ]
}

fn field_schema(f: &Field) -> Value {
    let mut s = match f.ty {
        Ty::Str => json!({"type": "string"}),
        Ty::OneOf(words) => json!({"type": "string", "enum": words}),
        Ty::Int => json!({"type": "integer"}),
        Ty::IntFrom(min) => json!({"type": "integer", "minimum": min}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Strings => json!({"type": "array", "items": {"type": "string"}}),
        Ty::ParamValue => json!({
            "type": ["string", "array", "object"],
            "items": {"type": "string"},
            "additionalProperties": {"type": "string"}
        }),
    };
    if let Some(o) = s.as_object_mut() {
        o.insert("description".into(), Value::from(f.doc));
    }
    s
}

/// The JSON Schema (draft 2020-12) every line of `adze run --events json` is valid under.
pub fn schema() -> Value {
    let variants: Vec<Value> = TYPES
        .iter()
        .map(|t| {
            let mut properties = Map::new();
            let mut required = Vec::new();
            let own = t
                .fields
                .iter()
                .map(|f| (f.name, field_schema(f), f.required));
            for (name, s, is_required) in common(t.tag).into_iter().chain(own) {
                properties.insert(name.to_owned(), s);
                if is_required {
                    required.push(Value::from(name));
                }
            }
            json!({
                "title": t.tag,
                "description": t.doc,
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false
            })
        })
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://adze.dev/schemas/events/v1.json",
        "title": "adze run event",
        "description": "One line of `adze run --events json`: an object with the stream's \
            version (`schema`), a time, the run's name and a `type` telling which of these it is.",
        "oneOf": variants
    })
}

/// The `type` tags of every event, in the order a run reports them.
pub fn types() -> Vec<&'static str> {
    TYPES.iter().map(|t| t.tag).collect()
}

/// Checks `value` against `schema`, for the keywords [`schema`] uses; the error says where
/// and why it is not valid.
pub fn validate(schema: &Value, value: &Value) -> Result<(), String> {
    check(schema, value, "")
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let Some(keywords) = schema.as_object() else {
        return match schema {
            Value::Bool(true) => Ok(()),
            _ => Err(format!("{at}: not allowed")),
        };
    };
    let here = if at.is_empty() { "the event" } else { at };
    for (keyword, expected) in keywords {
        match keyword.as_str() {
            "$schema" | "$id" | "title" | "description" | "format" => {}
            "type" => {
                let actual = type_name(value);
                let allowed: Vec<&str> = match expected {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => return Err(format!("{at}: `type` is neither a string nor an array")),
                };
                if !allowed.contains(&actual) {
                    return Err(format!("{here}: is {actual}, not {}", allowed.join(" or ")));
                }
            }
            "const" => {
                if value != expected {
                    return Err(format!("{here}: is {value}, not {expected}"));
                }
            }
            "enum" => {
                let words = expected.as_array().map(Vec::as_slice).unwrap_or_default();
                if !words.contains(value) {
                    return Err(format!("{here}: {value} is not one of {expected}"));
                }
            }
            "minimum" => {
                let (Some(v), Some(min)) = (value.as_f64(), expected.as_f64()) else {
                    continue;
                };
                if v < min {
                    return Err(format!("{here}: {v} is below the minimum {min}"));
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    check(expected, item, &format!("{at}[{i}]"))?;
                }
            }
            "required" => {
                let Some(object) = value.as_object() else {
                    continue;
                };
                for name in expected.as_array().into_iter().flatten() {
                    let name = name.as_str().unwrap_or_default();
                    if !object.contains_key(name) {
                        return Err(format!("{here}: lacks the required field `{name}`"));
                    }
                }
            }
            "properties" | "additionalProperties" => {
                let Some(object) = value.as_object() else {
                    continue;
                };
                let properties = keywords.get("properties").and_then(Value::as_object);
                for (name, v) in object {
                    let declared = properties.and_then(|p| p.get(name));
                    let field = format!("{at}.{name}");
                    match (keyword.as_str(), declared) {
                        ("properties", Some(s)) => check(s, v, &field)?,
                        ("additionalProperties", None) => check(expected, v, &field)
                            .map_err(|_| format!("{field}: is not a declared field"))?,
                        _ => {}
                    }
                }
            }
            "oneOf" => {
                let variants = expected.as_array().map(Vec::as_slice).unwrap_or_default();
                let errors: Vec<String> = variants
                    .iter()
                    .filter_map(|v| check(v, value, at).err())
                    .collect();
                match variants.len() - errors.len() {
                    1 => {}
                    0 => {
                        // The error of the variant whose `type` matched says the most.
                        let tag = value.get("type").cloned().unwrap_or(Value::Null);
                        let own = variants
                            .iter()
                            .position(|v| v["properties"]["type"]["const"] == tag);
                        return Err(match own {
                            Some(i) => check(&variants[i], value, at).err().unwrap_or_default(),
                            None => format!("{here}: `type` {tag} is not an event type"),
                        });
                    }
                    n => return Err(format!("{here}: matches {n} variants of oneOf")),
                }
            }
            other => {
                return Err(format!(
                    "the schema uses `{other}`, which this checker does not know"
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::api::ParamValue;
    use crate::events::{Event, Translator};
    use crate::reconcile::{CancelCause, ConditionStatus, PipelineTaskState, SkipReason};
    use crate::run::breakpoints::{Break, BreakCause, Entry};
    use crate::run::{Progress, RunKind, Stream};

    /// One progress event for every event type (and more than one shape where a type has
    /// optional fields or varied values).
    fn every_kind() -> Vec<Progress> {
        let tr = || "r-build".to_owned();
        vec![
            Progress::RunStarted {
                run: "r".into(),
                kind: RunKind::PipelineRun,
            },
            Progress::TaskStarted {
                task: "build".into(),
                task_run: tr(),
                finally: false,
                steps: vec!["a".into(), "b".into()],
            },
            Progress::TaskSkipped {
                task: "deploy".into(),
                reason: SkipReason::WhenFalse,
            },
            Progress::StepStarted {
                task_run: tr(),
                step: "a".into(),
            },
            Progress::Log {
                task_run: tr(),
                step: "a".into(),
                stream: Stream::Stdout,
                line: "hello \"world\"\t\u{1b}[1m".into(),
            },
            Progress::StepFinished {
                task_run: tr(),
                step: "a".into(),
                exit_code: -1,
                duration_ms: 1234,
            },
            Progress::TaskResult {
                task: "build".into(),
                task_run: tr(),
                name: "digest".into(),
                value: ParamValue::String("sha256:0".into()),
            },
            Progress::TaskResult {
                task: "build".into(),
                task_run: tr(),
                name: "meta".into(),
                value: ParamValue::Object([("k".to_owned(), "v".to_owned())].into()),
            },
            Progress::TaskRetried {
                task: "build".into(),
                task_run: tr(),
                attempt: 2,
                reason: "Failed".into(),
                message: "\"step-a\" exited with code 1".into(),
            },
            Progress::TaskFinished {
                task: "build".into(),
                task_run: tr(),
                state: PipelineTaskState::Cancelled {
                    cause: CancelCause::Cancelled,
                },
                message: "cancelled".into(),
            },
            Progress::Breakpoint {
                stop: stop(BreakCause::Failed { exit_code: 3 }, true),
            },
            Progress::Breakpoint {
                stop: stop(BreakCause::Before, false),
            },
            Progress::BreakpointEnded {
                stop: stop(BreakCause::Before, false),
            },
            Progress::Warning {
                task_run: Some(tr()),
                message: "w".into(),
            },
            Progress::Warning {
                task_run: None,
                message: "w".into(),
            },
            Progress::RunFinished {
                run: "r".into(),
                status: ConditionStatus::Unknown,
                reason: "Error".into(),
                message: "the engine went away".into(),
            },
        ]
    }

    /// A stop at step `a` of `r-build`, with a shell or without one.
    fn stop(cause: BreakCause, shell: bool) -> Break {
        let container = "adze-debug-r-build-a-x1".to_owned();
        Break {
            task: "build".into(),
            task_run: "r-build".into(),
            step: "a".into(),
            cause,
            entry: if shell {
                Entry::Shell {
                    container,
                    program: "sh".into(),
                }
            } else {
                Entry::NoShell {
                    container,
                    why: "exec: \"sh\": executable file not found in $PATH".into(),
                }
            },
            image: "busybox".into(),
            working_dir: None,
            mounts: Vec::new(),
            env: Vec::new(),
        }
    }

    fn lines() -> Vec<Value> {
        let mut t = Translator::new();
        every_kind()
            .iter()
            .filter_map(|p| t.event(p, UNIX_EPOCH + Duration::from_millis(1)))
            .map(|e: Event| serde_json::from_str(&e.to_line()).expect("JSON"))
            .collect()
    }

    #[test]
    fn every_event_type_is_valid_under_the_schema() {
        let schema = schema();
        let lines = lines();
        for line in &lines {
            if let Err(e) = validate(&schema, line) {
                panic!("{line}\n  is not valid: {e}");
            }
            assert_eq!(line["time"], "1970-01-01T00:00:00.001Z");
        }
        let mut seen: Vec<&str> = lines.iter().filter_map(|l| l["type"].as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        let mut all = types();
        all.sort_unstable();
        assert_eq!(seen, all, "one test event per type");
    }

    #[test]
    fn the_checker_refuses_what_the_schema_does_not_allow() {
        let schema = schema();
        let mut line = lines().remove(5);
        assert_eq!(line["type"], "stepFinished");
        let refused = |line: &Value| validate(&schema, line).unwrap_err();
        let mut extra = line.clone();
        extra["exit_code"] = json!(1);
        assert_eq!(refused(&extra), ".exit_code: is not a declared field");
        let mut negative = line.clone();
        negative["durationMs"] = json!(-5);
        assert_eq!(refused(&negative), ".durationMs: -5 is below the minimum 0");
        let mut unknown = line.clone();
        unknown["type"] = json!("stepPaused");
        assert_eq!(
            refused(&unknown),
            "the event: `type` \"stepPaused\" is not an event type"
        );
        line.as_object_mut().map(|o| o.remove("exitCode"));
        assert_eq!(
            refused(&line),
            "the event: lacks the required field `exitCode`"
        );
    }

    #[test]
    fn the_schema_is_pinned() {
        insta::assert_json_snapshot!("events_schema", schema());
    }
}
