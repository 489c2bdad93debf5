//! Tekton's defaulting of declared types (§1.8), applied to the specs a status stores: a
//! param or result without `type` gets the one Tekton's webhook infers, right after `name`.

use serde_json::{Map, Value};

/// Defaults the types of a `TaskSpec`'s params and results.
pub(super) fn task_spec(spec: &mut Value) {
    each(spec, "params", param_type);
    each(spec, "results", result_type);
}

/// Defaults the types of a `PipelineSpec`'s params and of every embedded `taskSpec`.
pub(super) fn pipeline_spec(spec: &mut Value) {
    each(spec, "params", param_type);
    for list in ["tasks", "finally"] {
        if let Some(tasks) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for task in tasks {
                if let Some(ts) = task.get_mut("taskSpec") {
                    task_spec(ts);
                }
            }
        }
    }
}

fn each(spec: &mut Value, list: &str, infer: fn(&Map<String, Value>) -> &'static str) {
    let Some(items) = spec.get_mut(list).and_then(Value::as_array_mut) else {
        return;
    };
    for item in items {
        if let Value::Object(m) = item {
            if !m.contains_key("type") {
                let t = infer(m);
                *m = with_type(std::mem::take(m), t);
            }
        }
    }
}

/// `properties` set ⇒ object; else the default's type; else string.
fn param_type(m: &Map<String, Value>) -> &'static str {
    match (m.get("properties"), m.get("default")) {
        (Some(_), _) | (None, Some(Value::Object(_))) => "object",
        (None, Some(Value::Array(_))) => "array",
        _ => "string",
    }
}

/// `properties` set ⇒ object; else string.
fn result_type(m: &Map<String, Value>) -> &'static str {
    if m.contains_key("properties") {
        "object"
    } else {
        "string"
    }
}

/// `m` with `type` inserted after `name`, as Tekton's JSON orders it.
fn with_type(m: Map<String, Value>, t: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in m {
        let is_name = k == "name";
        out.insert(k, v);
        if is_name {
            out.insert("type".into(), t.into());
        }
    }
    if !out.contains_key("type") {
        out.insert("type".into(), t.into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_are_inferred_as_tekton_defaults_them() {
        let mut spec = json!({
            "params": [
                {"name": "a", "description": "d"},
                {"name": "b", "default": ["x"]},
                {"name": "c", "properties": {"k": {}}},
                {"name": "d", "type": "array"},
            ],
            "results": [{"name": "r", "description": "d"}, {"name": "o", "properties": {"k": {}}}],
        });
        task_spec(&mut spec);
        assert_eq!(
            serde_json::to_string(&spec["params"]).unwrap_or_default(),
            r#"[{"name":"a","type":"string","description":"d"},{"name":"b","type":"array","default":["x"]},{"name":"c","type":"object","properties":{"k":{}}},{"name":"d","type":"array"}]"#
        );
        assert_eq!(
            spec["results"][0],
            json!({"name": "r", "type": "string", "description": "d"})
        );
        assert_eq!(spec["results"][1]["type"], "object");
        let mut p = json!({"params": [{"name": "p"}], "tasks": [{"name": "t", "taskSpec": {"results": [{"name": "r"}]}}]});
        pipeline_spec(&mut p);
        assert_eq!(p["params"][0]["type"], "string");
        assert_eq!(p["tasks"][0]["taskSpec"]["results"][0]["type"], "string");
    }
}
