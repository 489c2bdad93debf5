//! The four patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge
//! patch, and server-side apply (simplified to a merge).
//!
//! # Design
//!
//! Every function here is pure: the current object in, the patched object (or a
//! [`PatchError`]) out. The caller re-validates the result and applies the status-subresource
//! rules, exactly as for an update.
//!
//! Strategic merge knows the merge keys of the built-in lists kubectl patches (`containers`,
//! `volumes`, `env`, `volumeMounts`, `ports`, ...) by field name rather than by schema: no two
//! built-in kinds this server serves use one list name with different keys. It honours the
//! `$patch: delete|replace|merge` directive and `$deleteFromPrimitiveList/<field>`, and drops
//! `$setElementOrder/` and `$retainKeys` (ordering and pruning hints).
//!
//! Server-side apply is a merge: a strategic merge for built-in kinds, a JSON merge for custom
//! ones (whose lists are atomic in Kubernetes too). Field ownership is recorded in
//! `managedFields` (manager and operation) but never used to detect conflicts.
//!
//! # Not yet
//!
//! - Apply conflicts between field managers, and removal of fields a manager stopped applying.

use serde_json::{Map, Value};

/// A patch that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch body is not valid JSON (or YAML) of the right shape.
    #[error("the patch is malformed: {0}")]
    Malformed(String),
    /// A JSON patch operation failed (missing path, failed `test`).
    #[error("the JSON patch operation {index} ({op}) failed: {reason}")]
    Operation {
        /// Its position in the patch.
        index: usize,
        /// Its `op`.
        op: String,
        /// Why.
        reason: String,
    },
}

/// RFC 7386: objects merge recursively, `null` deletes, everything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Unescapes one JSON pointer token (`~1` is `/`, `~0` is `~`).
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn pointer_tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("path {path:?} does not start with /"))?;
    Ok(rest.split('/').map(unescape).collect())
}

/// The JSON pointer of `tokens` (escaping `~` and `/` again).
fn pointer(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Adds `value` at `path` (RFC 6902 `add`: insert into arrays, set in objects).
fn pointer_add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let tokens = pointer_tokens(path)?;
    let Some((last, parents)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    let parent_path = pointer(parents);
    let parent = doc
        .pointer_mut(&parent_path)
        .ok_or_else(|| format!("path {parent_path:?} does not exist"))?;
    match parent {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .map_err(|_| format!("{last:?} is not an array index"))?
            };
            if index > items.len() {
                return Err(format!("index {index} is out of bounds"));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!("path {parent_path:?} is not a container")),
    }
}

/// Removes and returns the value at `path`.
fn pointer_remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let tokens = pointer_tokens(path)?;
    let Some((last, parents)) = tokens.split_last() else {
        return Err("cannot remove the whole document".to_owned());
    };
    let parent_path = pointer(parents);
    let parent = doc
        .pointer_mut(&parent_path)
        .ok_or_else(|| format!("path {path:?} does not exist"))?;
    match parent {
        Value::Object(map) => map
            .remove(last)
            .ok_or_else(|| format!("path {path:?} does not exist")),
        Value::Array(items) => {
            let index = last
                .parse::<usize>()
                .map_err(|_| format!("{last:?} is not an array index"))?;
            if index >= items.len() {
                return Err(format!("path {path:?} does not exist"));
            }
            Ok(items.remove(index))
        }
        _ => Err(format!("path {path:?} does not exist")),
    }
}

/// RFC 6902: applies each operation in order; any failure leaves `target` untouched.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let operations = patch
        .as_array()
        .ok_or_else(|| PatchError::Malformed("a JSON patch is an array of operations".into()))?;
    let mut doc = target.clone();
    for (index, operation) in operations.iter().enumerate() {
        let op = operation["op"].as_str().unwrap_or_default().to_owned();
        let fail = |reason: String| PatchError::Operation {
            index,
            op: op.clone(),
            reason,
        };
        let path = operation["path"]
            .as_str()
            .ok_or_else(|| fail("no \"path\"".into()))?;
        let value = || {
            operation
                .get("value")
                .cloned()
                .ok_or_else(|| fail("no \"value\"".into()))
        };
        let from = || {
            operation["from"]
                .as_str()
                .ok_or_else(|| fail("no \"from\"".into()))
        };
        match op.as_str() {
            "add" => pointer_add(&mut doc, path, value()?).map_err(fail)?,
            "remove" => {
                pointer_remove(&mut doc, path).map_err(fail)?;
            }
            "replace" => {
                let slot = doc
                    .pointer_mut(path)
                    .ok_or_else(|| fail(format!("path {path:?} does not exist")))?;
                *slot = value()?;
            }
            "move" => {
                let moved = pointer_remove(&mut doc, from()?).map_err(fail)?;
                pointer_add(&mut doc, path, moved).map_err(fail)?;
            }
            "copy" => {
                let copied = doc
                    .pointer(from()?)
                    .cloned()
                    .ok_or_else(|| fail("\"from\" does not exist".into()))?;
                pointer_add(&mut doc, path, copied).map_err(fail)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(fail(format!("the value at {path:?} differs")));
                }
            }
            other => return Err(fail(format!("unknown op {other:?}"))),
        }
    }
    *target = doc;
    Ok(())
}

/// The merge key of a built-in list, by field name; `None` for atomic lists.
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "readinessGates" => "name",
        "ports" => "containerPort",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ownerReferences" => "uid",
        // A Node's taints are atomic (kubectl taint sends the whole list).
        "conditions" | "addresses" => "type",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        _ => return None,
    })
}

/// Built-in primitive lists merged as sets rather than replaced.
fn merges_as_set(field: &str) -> bool {
    field == "finalizers"
}

/// Strategic merge patch on a built-in object.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::Malformed(
            "a strategic merge patch is a JSON object".into(),
        ));
    };
    merge_map(target, patch)
}

fn merge_map(target: &mut Value, patch: &Map<String, Value>) -> Result<(), PatchError> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut replacement = patch.clone();
            replacement.remove("$patch");
            strip_directives(&mut replacement);
            *target = Value::Object(replacement);
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        Some("merge") | None => {}
        Some(other) => {
            return Err(PatchError::Malformed(format!(
                "unknown $patch directive {other:?}"
            )))
        }
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target_map) = target else {
        return Ok(());
    };
    for (key, value) in patch {
        if key == "$patch" || key == "$retainKeys" || key.starts_with("$setElementOrder/") {
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Value::Array(remove)) =
                (target_map.get_mut(field), value)
            {
                items.retain(|item| !remove.contains(item));
            }
            continue;
        }
        match value {
            Value::Null => {
                target_map.remove(key);
            }
            Value::Object(inner) => {
                let slot = target_map.entry(key.clone()).or_insert(Value::Null);
                merge_map(slot, inner)?;
                if slot.is_null() {
                    target_map.remove(key);
                }
            }
            Value::Array(items) => {
                let slot = target_map
                    .entry(key.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                merge_list(key, slot, items)?;
            }
            scalar => {
                target_map.insert(key.clone(), scalar.clone());
            }
        }
    }
    Ok(())
}

fn merge_list(field: &str, target: &mut Value, patch: &[Value]) -> Result<(), PatchError> {
    if patch
        .iter()
        .any(|item| item.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        let mut items: Vec<Value> = patch
            .iter()
            .filter(|item| item.get("$patch").is_none())
            .cloned()
            .collect();
        items.iter_mut().for_each(strip_value_directives);
        *target = Value::Array(items);
        return Ok(());
    }
    if merges_as_set(field) {
        let Value::Array(existing) = target else {
            *target = Value::Array(patch.to_vec());
            return Ok(());
        };
        for item in patch {
            if !existing.contains(item) {
                existing.push(item.clone());
            }
        }
        return Ok(());
    }
    let Some(key) = merge_key(field) else {
        let mut items = patch.to_vec();
        items.iter_mut().for_each(strip_value_directives);
        *target = Value::Array(items);
        return Ok(());
    };
    if !target.is_array() {
        *target = Value::Array(Vec::new());
    }
    let Value::Array(existing) = target else {
        return Ok(());
    };
    for item in patch {
        let Value::Object(item_map) = item else {
            return Err(PatchError::Malformed(format!(
                "{field}: items of a merged list are objects with {key:?}"
            )));
        };
        let Some(id) = item_map.get(key) else {
            return Err(PatchError::Malformed(format!(
                "{field}: an item has no merge key {key:?}"
            )));
        };
        let position = existing.iter().position(|e| e.get(key) == Some(id));
        let deleting = item_map.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, deleting) {
            (Some(i), true) => {
                existing.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => merge_map(&mut existing[i], item_map)?,
            (None, false) => {
                let mut fresh = Value::Null;
                merge_map(&mut fresh, item_map)?;
                existing.push(fresh);
            }
        }
    }
    Ok(())
}

fn strip_value_directives(value: &mut Value) {
    if let Value::Object(map) = value {
        strip_directives(map);
    }
}

fn strip_directives(map: &mut Map<String, Value>) {
    map.retain(|key, _| !key.starts_with('$'));
    for value in map.values_mut() {
        match value {
            Value::Object(inner) => strip_directives(inner),
            Value::Array(items) => items.iter_mut().for_each(strip_value_directives),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_deletes_with_null_and_replaces_lists() {
        let mut doc = json!({ "a": { "b": 1, "c": 2 }, "l": [1, 2] });
        merge_patch(&mut doc, &json!({ "a": { "b": null, "d": 3 }, "l": [3] }));
        assert_eq!(doc, json!({ "a": { "c": 2, "d": 3 }, "l": [3] }));
    }

    #[test]
    fn json_patch_operations() {
        let mut doc = json!({ "metadata": { "labels": { "a": "1" } }, "list": [1, 2] });
        let patch = json!([
            { "op": "add", "path": "/metadata/labels/b~1c", "value": "2" },
            { "op": "remove", "path": "/metadata/labels/a" },
            { "op": "add", "path": "/list/-", "value": 3 },
            { "op": "replace", "path": "/list/0", "value": 0 },
            { "op": "test", "path": "/list/1", "value": 2 },
            { "op": "copy", "from": "/list", "path": "/copy" },
            { "op": "move", "from": "/copy", "path": "/moved" },
        ]);
        json_patch(&mut doc, &patch).unwrap();
        assert_eq!(
            doc,
            json!({ "metadata": { "labels": { "b/c": "2" } }, "list": [0, 2, 3], "moved": [0, 2, 3] })
        );
    }

    #[test]
    fn a_failed_json_patch_changes_nothing() {
        let mut doc = json!({ "a": 1 });
        let patch = json!([{ "op": "replace", "path": "/a", "value": 2 },
                           { "op": "test", "path": "/a", "value": 3 }]);
        assert!(matches!(
            json_patch(&mut doc, &patch),
            Err(PatchError::Operation { index: 1, .. })
        ));
        assert_eq!(doc, json!({ "a": 1 }));
        assert!(json_patch(&mut doc, &json!({ "op": "add" })).is_err());
        assert!(json_patch(&mut doc, &json!([{ "op": "remove", "path": "/nope" }])).is_err());
    }

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let mut pod = json!({ "spec": { "containers": [
            { "name": "a", "image": "busybox", "env": [{ "name": "X", "value": "1" }] },
            { "name": "b", "image": "busybox" },
        ] } });
        let patch = json!({ "spec": { "containers": [
            { "name": "a", "env": [{ "name": "Y", "value": "2" }] },
            { "name": "b", "$patch": "delete" },
            { "name": "c", "image": "debian" },
        ] } });
        strategic_merge(&mut pod, &patch).unwrap();
        assert_eq!(
            pod,
            json!({ "spec": { "containers": [
                { "name": "a", "image": "busybox",
                  "env": [{ "name": "X", "value": "1" }, { "name": "Y", "value": "2" }] },
                { "name": "c", "image": "debian" },
            ] } })
        );
    }

    #[test]
    fn strategic_merge_directives() {
        let mut obj = json!({ "metadata": { "finalizers": ["a"], "labels": { "x": "1" } },
                              "data": { "k": "v", "j": "w" } });
        let patch = json!({
            "metadata": { "finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["a"],
                          "$setElementOrder/finalizers": ["b"], "labels": { "x": null } },
            "data": { "$patch": "replace", "only": "this" },
        });
        strategic_merge(&mut obj, &patch).unwrap();
        assert_eq!(
            obj,
            json!({ "metadata": { "finalizers": ["b"], "labels": {} }, "data": { "only": "this" } })
        );
        assert!(strategic_merge(&mut obj, &json!([1])).is_err());
        assert!(strategic_merge(&mut obj, &json!({ "spec": { "containers": [1] } })).is_err());
    }
}
