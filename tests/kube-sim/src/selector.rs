//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) and field selectors
//! (`metadata.name`, `metadata.namespace`, and the fields each resource indexes), parsed from a
//! request's `labelSelector` and `fieldSelector` and matched against stored objects.
//!
//! # Invariants
//!
//! - Parsing never panics; any malformed selector is a [`SelectorError`] (400 BadRequest).
//! - A field selector on a field the resource does not index is rejected, as Kubernetes
//!   rejects it ("field label not supported"), rather than silently matching nothing.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::resources::ResourceDef;

/// A selector that could not be parsed or is not supported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The label selector's syntax is wrong.
    #[error("unable to parse requirement: {0}")]
    Label(String),
    /// The field selector's syntax is wrong.
    #[error("invalid field selector: {0}")]
    Field(String),
    /// The resource does not index that field.
    #[error("field label not supported: {0}")]
    UnsupportedField(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<LabelRequirement>);

/// Splits on commas that are not inside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 317
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(value: &str) -> bool {
    value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_set(key: &str, rest: &str, raw: &str) -> Result<BTreeSet<String>, SelectorError> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| SelectorError::Label(format!("{raw}: expected a (value, ...) set")))?;
    let values: BTreeSet<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
    if let Some(bad) = values.iter().find(|v| !valid_value(v)) {
        return Err(SelectorError::Label(format!(
            "{raw}: invalid label value {bad:?} for key {key:?}"
        )));
    }
    Ok(values)
}

impl LabelSelector {
    /// Parses a `labelSelector` query value; the empty string selects everything.
    pub fn parse(text: &str) -> Result<LabelSelector, SelectorError> {
        let mut requirements = Vec::new();
        if text.trim().is_empty() {
            return Ok(LabelSelector(requirements));
        }
        for raw in split_top_level(text) {
            let part = raw.trim();
            let requirement = if let Some(key) = part.strip_prefix('!') {
                let key = key.trim();
                if !valid_key(key) {
                    return Err(SelectorError::Label(format!("{part}: invalid label key")));
                }
                LabelRequirement::NotExists(key.to_owned())
            } else if let Some((key, value)) = part.split_once("!=") {
                LabelRequirement::NotEquals(key.trim().to_owned(), value.trim().to_owned())
            } else if let Some((key, value)) = part.split_once("==") {
                LabelRequirement::Equals(key.trim().to_owned(), value.trim().to_owned())
            } else if let Some((key, value)) = part.split_once('=') {
                LabelRequirement::Equals(key.trim().to_owned(), value.trim().to_owned())
            } else if let Some((key, rest)) = part.split_once(" notin ") {
                let key = key.trim();
                LabelRequirement::NotIn(key.to_owned(), parse_set(key, rest, part)?)
            } else if let Some((key, rest)) = part.split_once(" in ") {
                let key = key.trim();
                LabelRequirement::In(key.to_owned(), parse_set(key, rest, part)?)
            } else {
                LabelRequirement::Exists(part.to_owned())
            };
            let (key, value) = match &requirement {
                LabelRequirement::Equals(k, v) | LabelRequirement::NotEquals(k, v) => (k, Some(v)),
                LabelRequirement::In(k, _)
                | LabelRequirement::NotIn(k, _)
                | LabelRequirement::Exists(k)
                | LabelRequirement::NotExists(k) => (k, None),
            };
            if !valid_key(key) {
                return Err(SelectorError::Label(format!(
                    "{part}: invalid label key {key:?}"
                )));
            }
            if let Some(value) = value {
                if !valid_value(value) {
                    return Err(SelectorError::Label(format!(
                        "{part}: invalid label value {value:?}"
                    )));
                }
            }
            requirements.push(requirement);
        }
        Ok(LabelSelector(requirements))
    }

    /// Whether `object`'s `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        let get = |key: &str| labels.get(key).and_then(Value::as_str);
        self.0.iter().all(|requirement| match requirement {
            LabelRequirement::Equals(k, v) => get(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            LabelRequirement::In(k, set) => get(k).is_some_and(|v| set.contains(v)),
            LabelRequirement::NotIn(k, set) => get(k).is_none_or(|v| !set.contains(v)),
            LabelRequirement::Exists(k) => get(k).is_some(),
            LabelRequirement::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed `fieldSelector`: `path=value`, `path==value` or `path!=value`, comma-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

/// The fields beyond `metadata.name` and `metadata.namespace` that `resource` can be selected by.
fn indexed_fields(resource: &ResourceDef) -> &'static [&'static str] {
    match (resource.group, resource.plural) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("events.k8s.io", "events") => &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "type",
        ],
        ("", "secrets") => &["type"],
        ("", "namespaces") => &["status.phase"],
        _ => &[],
    }
}

/// The value of a dotted field path as a selector compares it (absent is the empty string).
fn field_value(object: &Value, path: &str) -> String {
    let value = path
        .split('.')
        .try_fold(object, |value, segment| value.get(segment));
    match value {
        Some(Value::String(s)) => s.clone(),
        // Core events select on `source` as the component that reported it.
        Some(Value::Object(map)) if path == "source" => map
            .get("component")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

impl FieldSelector {
    /// Parses a `fieldSelector` query value for `resource`.
    pub fn parse(text: &str, resource: &ResourceDef) -> Result<FieldSelector, SelectorError> {
        let mut terms = Vec::new();
        if text.trim().is_empty() {
            return Ok(FieldSelector(terms));
        }
        for raw in text.split(',') {
            let part = raw.trim();
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(SelectorError::Field(format!(
                    "{part:?}: expected field=value, field==value or field!=value"
                )));
            };
            let field = field.trim();
            let supported = matches!(field, "metadata.name" | "metadata.namespace")
                || indexed_fields(resource).contains(&field);
            if !supported {
                return Err(SelectorError::UnsupportedField(field.to_owned()));
            }
            terms.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(FieldSelector(terms))
    }

    /// Whether `object` satisfies every term.
    pub fn matches(&self, object: &Value) -> bool {
        self.0
            .iter()
            .all(|(field, equal, value)| (field_value(object, field) == *value) == *equal)
    }
}

/// A structured `metav1.LabelSelector` (`matchLabels`, `matchExpressions`) written as the
/// selector string Kubernetes prints for it (`metav1.FormatLabelSelector`: requirements
/// sorted by key, `""` for the empty selector that selects everything). A null selector is
/// `None` (it selects nothing, where the caller follows Kubernetes in that).
pub fn label_selector_text(value: &Value) -> Result<Option<String>, SelectorError> {
    if value.is_null() {
        return Ok(None);
    }
    let wrong = |why: &str| SelectorError::Label(format!("{value}: {why}"));
    let mut terms: Vec<(String, String)> = Vec::new();
    if let Some(labels) = value["matchLabels"].as_object() {
        for (key, v) in labels {
            let v = v
                .as_str()
                .ok_or_else(|| wrong("matchLabels values are strings"))?;
            terms.push((key.clone(), format!("{key}={v}")));
        }
    }
    for expression in value["matchExpressions"].as_array().into_iter().flatten() {
        let key = expression["key"]
            .as_str()
            .ok_or_else(|| wrong("a matchExpression needs a key"))?;
        let mut values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        values.dedup();
        let term = match expression["operator"].as_str() {
            Some("In" | "NotIn") if values.is_empty() => {
                return Err(wrong(
                    "values set can't be empty for 'in', 'notin' operators",
                ))
            }
            Some("In") => format!("{key} in ({})", values.join(",")),
            Some("NotIn") => format!("{key} notin ({})", values.join(",")),
            Some("Exists" | "DoesNotExist") if !values.is_empty() => {
                return Err(wrong(
                    "values set must be empty for exists and does not exist",
                ))
            }
            Some("Exists") => key.to_owned(),
            Some("DoesNotExist") => format!("!{key}"),
            other => {
                return Err(wrong(&format!(
                    "{other:?} is not a valid label selector operator"
                )))
            }
        };
        terms.push((key.to_owned(), term));
    }
    terms.sort_by(|a, b| a.0.cmp(&b.0));
    let text: Vec<String> = terms.into_iter().map(|(_, term)| term).collect();
    let text = text.join(",");
    // Checks keys and values as a query selector would be checked.
    LabelSelector::parse(&text)?;
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resources::find;

    fn labelled(labels: Value) -> Value {
        json!({ "metadata": { "name": "x", "labels": labels } })
    }

    #[test]
    fn label_operators() {
        let obj = labelled(json!({ "app": "web", "tier": "front" }));
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("app in (web, db)", true),
            ("app notin (web)", false),
            ("missing notin (web)", true),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("app=web,tier in (front)", true),
            ("app=web,tier=back", false),
            ("", true),
        ];
        for (selector, expected) in cases {
            let parsed = LabelSelector::parse(selector).unwrap();
            assert_eq!(parsed.matches(&obj), expected, "{selector}");
        }
    }

    #[test]
    fn malformed_label_selectors_are_errors() {
        for bad in ["app in web", "a b", "app=(x", "=x", "app in (a b)"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn structured_selectors_print_as_kubernetes_prints_them() {
        let text = |v: Value| label_selector_text(&v).map(|t| t.unwrap_or("<nil>".into()));
        assert_eq!(text(Value::Null).unwrap(), "<nil>");
        assert_eq!(text(json!({})).unwrap(), "");
        assert_eq!(
            text(json!({ "matchLabels": { "tier": "web", "app": "shop" },
                "matchExpressions": [{ "key": "env", "operator": "In", "values": ["b", "a"] },
                                     { "key": "zz", "operator": "DoesNotExist" }] }))
            .unwrap(),
            "app=shop,env in (a,b),tier=web,!zz"
        );
        assert!(text(json!({ "matchExpressions": [{ "key": "a", "operator": "In" }] })).is_err());
        assert!(text(json!({ "matchExpressions": [{ "key": "a", "operator": "Near" }] })).is_err());
        assert!(text(json!({ "matchLabels": { "a": 1 } })).is_err());
        let selector =
            LabelSelector::parse(&text(json!({ "matchLabels": { "app": "shop" } })).unwrap())
                .unwrap();
        assert!(selector.matches(&labelled(json!({ "app": "shop" }))));
    }

    #[test]
    fn field_selectors_follow_the_resource() {
        let pods = find("", "v1", "pods").unwrap();
        let pod = json!({ "metadata": { "name": "p", "namespace": "default" },
                          "spec": { "nodeName": "kube-sim" }, "status": { "phase": "Running" } });
        let selector = FieldSelector::parse("status.phase=Running,spec.nodeName=kube-sim", pods);
        assert!(selector.unwrap().matches(&pod));
        assert!(!FieldSelector::parse("metadata.name!=p", pods)
            .unwrap()
            .matches(&pod));
        let config_maps = find("", "v1", "configmaps").unwrap();
        assert_eq!(
            FieldSelector::parse("status.phase=Running", config_maps),
            Err(SelectorError::UnsupportedField("status.phase".into()))
        );
        assert!(FieldSelector::parse("metadata.name", pods).is_err());
    }

    #[test]
    fn event_fields() {
        let events = find("", "v1", "events").unwrap();
        let event = json!({ "metadata": { "name": "e" }, "involvedObject": { "kind": "Pod", "name": "p" } });
        assert!(
            FieldSelector::parse("involvedObject.kind=Pod,involvedObject.name=p", events)
                .unwrap()
                .matches(&event)
        );
    }
}
