//! Binding params evaluated against an event (spec §3.2, §3.6).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::api::{Param, ParamSpec};
use super::expression::{expressions, to_path};
use super::jsonpath::{render, Root};
use super::Headers;

/// A binding value that could not be evaluated and had no template default to fall back on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to replace JSONPath value for param {param}: {value}: {error}")]
pub struct BindingError {
    /// The param.
    pub param: String,
    /// Its value as written.
    pub value: String,
    /// The path error.
    pub error: String,
}

/// The event body did not parse as JSON (validation off, or a legacy webhook returned it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event body is not valid JSON: {0}")]
pub struct BodyError(pub String);

/// The object paths are evaluated against: the body parsed (`null` when empty), headers
/// joined with `,`, the chain's extensions and the event id.
pub fn event_root(
    body: &[u8],
    header: &Headers,
    extensions: &Map<String, Value>,
    event_id: &str,
) -> Result<Root, BodyError> {
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).map_err(|e| BodyError(e.to_string()))?
    };
    let header = header
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.join(","))))
        .collect();
    Ok(Root::new(body, header, extensions.clone(), event_id))
}

/// Params for a template: every default, overridden by each binding param in order, each
/// expression falling back to the same-named default when its path fails (spec §3.6).
pub fn resolve_params(
    bindings: &[Param],
    declared: &[ParamSpec],
    root: &Root,
) -> Result<BTreeMap<String, String>, BindingError> {
    let mut params: BTreeMap<String, String> = declared
        .iter()
        .filter_map(|d| Some((d.name.clone(), d.default.clone()?)))
        .collect();
    for b in bindings {
        let mut value = b.value.clone();
        for e in expressions(&b.value) {
            let rendered = to_path(e.inner)
                .and_then(|p| p.eval(root))
                .map(|items| render(&items));
            let text = match (rendered, params.get(&b.name)) {
                (Ok(text), _) => text,
                (Err(_), Some(default)) => default.clone(),
                (Err(error), None) => {
                    return Err(BindingError {
                        param: b.name.clone(),
                        value: b.value.clone(),
                        error: error.0,
                    })
                }
            };
            value = value.replace(e.original, &text);
        }
        params.insert(b.name.clone(), value);
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param(name: &str, value: &str) -> Param {
        Param {
            name: name.into(),
            value: value.into(),
        }
    }

    fn spec(name: &str, default: Option<&str>) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            description: None,
            default: default.map(str::to_string),
        }
    }

    fn root(body: &str, extensions: Value) -> Root {
        let mut h = Headers::new();
        h.append("x-github-event", "push");
        h.append("Accept", "a");
        h.append("accept", "b");
        let Value::Object(ext) = extensions else {
            panic!()
        };
        event_root(body.as_bytes(), &h, &ext, "E").unwrap()
    }

    /// Spec §7 E4: per-expression fallback to the template default; a present null is a value.
    #[test]
    fn e4_missing_body_field() {
        let b = [param("branch", "refs-$(body.pull_request.head.ref)")];
        let r = root(r#"{"action":"opened"}"#, json!({}));
        let p = resolve_params(&b, &[spec("branch", Some("main"))], &r).unwrap();
        assert_eq!(p["branch"], "refs-main");
        let e = resolve_params(&b, &[spec("branch", None)], &r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to replace JSONPath value for param branch: refs-$(body.pull_request.head.ref): pull_request is not found"
        );
        let r = root(r#"{"pull_request":{"head":{"ref":null}}}"#, json!({}));
        let p = resolve_params(&b, &[spec("branch", None)], &r).unwrap();
        assert_eq!(p["branch"], "refs-null");
        let r = root(r#"{"pull_request":{"head":{"ref":""}}}"#, json!({}));
        let p = resolve_params(&b, &[spec("branch", Some("main"))], &r).unwrap();
        assert_eq!(p["branch"], "refs-");
    }

    /// Spec §7 E5: the param texts of the table, backslashes literal.
    #[test]
    fn e5_rendering_and_escaping() {
        let body = r#"{"title":"fix \"quotes\"\nnow","labels":[{"name":"bug"},{"name":"ci"}],"n":3,"ok":true,"meta":{"z":1,"k":"<v>"}}"#;
        let ext = json!({"pr":{"labels":["bug","ci"],"title":"FIX \"QUOTES\"\nNOW"}});
        let r = root(body, ext);
        let table = [
            ("$(extensions.pr.title)", r#"FIX \"QUOTES\"\nNOW"#),
            ("$(extensions.pr.labels)", r#"["bug","ci"]"#),
            ("$(body.labels[*].name)", r#"["bug","ci"]"#),
            ("$(extensions.pr.labels[-1])", "ci"),
            ("n=$(body.n),ok=$(body.ok)", "n=3,ok=true"),
            ("$(body.meta)", r#"{"k":"\u003cv\u003e","z":1}"#),
        ];
        for (value, text) in table {
            let p = resolve_params(&[param("x", value)], &[], &r).unwrap();
            assert_eq!(p["x"], text, "{value}");
        }
    }

    #[test]
    fn headers_canonical_and_joined_context_and_defaults() {
        let r = root("", json!({}));
        let b = [
            param("event", "$(header.X-GitHub-Event)"),
            param("accept", "$(header.accept)"),
            param("id", "$(context.eventID)"),
            param("body", "$(body)"),
        ];
        let p = resolve_params(&b, &[spec("unbound", Some("$(x)"))], &r).unwrap();
        assert_eq!(p["event"], "push");
        assert_eq!(p["accept"], "a,b");
        assert_eq!(p["id"], "E");
        assert_eq!(p["body"], "null");
        // Defaults of params no binding mentions are kept verbatim.
        assert_eq!(p["unbound"], "$(x)");
        assert!(event_root(b"{", &Headers::new(), &Map::new(), "E").is_err());
    }

    /// Arbitrary binding values and the templates they land in never panic.
    #[test]
    fn random_values_never_panic() {
        use crate::triggers::template::{instantiate, SequentialIds, Stamp};
        const PIECES: &[&str] = &[
            "$(",
            ")",
            "(",
            "body",
            "header.",
            ".",
            "a",
            "[0]",
            "[*]",
            "[-1]",
            "..",
            "{",
            "}",
            "extensions.x",
            "context.eventID",
            "'",
            "\\",
            "\"",
            "é",
            " ",
            "$(tt.params.",
            "p",
        ];
        let mut state = 0x1234_5678_9ABC_DEF1_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let r = root(
            r#"{"a":[1,"x",{"b":null}],"body":{"a":2}}"#,
            json!({"x": [true]}),
        );
        let stamp = Stamp {
            listener: "l",
            trigger: "t",
            event_id: "E",
            namespace: "ns",
        };
        let mut ids = SequentialIds::default();
        for _ in 0..5_000 {
            let mut text = || -> String {
                let len = next() % 10;
                (0..len)
                    .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                    .collect()
            };
            let (value, template_text) = (text(), text());
            let declared = [spec("p", Some("d"))];
            if let Ok(params) = resolve_params(&[param("p", &value)], &declared, &r) {
                let template = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": template_text.clone()}, "data": {"k": template_text}});
                let _ = instantiate(&[template], &params, next() % 2 == 0, stamp, &mut ids);
            }
        }
    }
}
