//! Resource templates → objects to create (spec §2.7, §2.8).
//!
//! # Design
//!
//! Substitution is textual over the template's compact JSON, in one pass over the original
//! text (upstream replaces param by param in map order, which can re-expand a placeholder
//! found inside an earlier value; only pathological inputs see the difference). The object
//! is then completed as the API server would: Triggers labels, namespace, and `metadata.name`
//! from `generateName`, so objects are identical with and without Kubernetes.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Label naming the EventListener.
pub const LABEL_LISTENER: &str = "triggers.tekton.dev/eventlistener";
/// Label naming the trigger.
pub const LABEL_TRIGGER: &str = "triggers.tekton.dev/trigger";
/// Label holding the event id.
pub const LABEL_EVENT_ID: &str = "triggers.tekton.dev/triggers-eventid";
/// TriggerTemplate annotation (presence only) that escapes quotes in param values.
pub const OLD_ESCAPE_QUOTES: &str = "triggers.tekton.dev/old-escape-quotes";

/// Where uids and generated-name suffixes come from: random in production, counted in tests.
pub trait Ids {
    /// A UUIDv4 for `$(uid)`, one per trigger run.
    fn uid(&mut self) -> String;
    /// 5 characters of `bcdfghjklmnpqrstvwxz2456789`, as the API server appends to `generateName`.
    fn name_suffix(&mut self) -> String;
}

/// The API server's alphabet for generated names (no vowels, no look-alikes).
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Random ids, as the API server and Triggers make them.
#[derive(Debug, Default)]
pub struct RandomIds;

impl Ids for RandomIds {
    fn uid(&mut self) -> String {
        crate::status::new_uid()
    }

    fn name_suffix(&mut self) -> String {
        let seed = crate::status::new_uid().replace('-', "");
        let mut n = u128::from_str_radix(&seed, 16).unwrap_or_default();
        (0..5)
            .map(|_| {
                let c = ALPHABET[(n % ALPHABET.len() as u128) as usize] as char;
                n /= ALPHABET.len() as u128;
                c
            })
            .collect()
    }
}

/// Counted ids for tests: uids `00000000-0000-4000-8000-00000000000N`, suffixes `bbbbN`-style.
#[derive(Debug, Default)]
pub struct SequentialIds {
    uids: u64,
    names: usize,
}

impl Ids for SequentialIds {
    fn uid(&mut self) -> String {
        self.uids += 1;
        format!("00000000-0000-4000-8000-{:012}", self.uids)
    }

    fn name_suffix(&mut self) -> String {
        self.names += 1;
        let mut n = self.names;
        let mut out = [b'b'; 5];
        for slot in out.iter_mut().rev() {
            *slot = ALPHABET[n % ALPHABET.len()];
            n /= ALPHABET.len();
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Why a resource template did not become an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The substituted text is not JSON (an array or object param pasted into a string).
    #[error("resource template {index} is not valid JSON after substitution: {message}")]
    InvalidJson {
        /// Position in `resourcetemplates`.
        index: usize,
        /// The parser's message.
        message: String,
    },
    /// The object cannot be created as it is.
    #[error("resource template {index}: {message}")]
    Invalid {
        /// Position in `resourcetemplates`.
        index: usize,
        /// What is wrong.
        message: String,
    },
}

/// Substitutes `$(tt.params.NAME)` and `$(uid)` in the compact JSON of `template`, in one
/// pass; each value has `$(` neutralised as `$$(` (and `"` as `\"` with `old_escape`).
pub fn substitute(
    template: &Value,
    params: &BTreeMap<String, String>,
    uid: &str,
    old_escape: bool,
) -> String {
    let text = serde_json::to_string(template).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("$(") {
        out.push_str(&rest[..i]);
        let at = &rest[i..];
        if let Some(after) = at.strip_prefix("$(uid)") {
            out.push_str(uid);
            rest = after;
            continue;
        }
        let param = at.strip_prefix("$(tt.params.").and_then(|p| {
            let end = p.find(')')?;
            let value = params.get(&p[..end])?;
            Some((value, &p[end + 1..]))
        });
        match param {
            Some((value, after)) => {
                let value = if old_escape {
                    value.replace('"', "\\\"")
                } else {
                    value.clone()
                };
                out.push_str(&value.replace("$(", "$$("));
                rest = after;
            }
            None => {
                out.push_str("$(");
                rest = &at[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// What the created objects are stamped with.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// The EventListener name.
    pub listener: &'a str,
    /// The trigger name (`""` for an unnamed inline trigger).
    pub trigger: &'a str,
    /// The event id.
    pub event_id: &'a str,
    /// The trigger namespace: the default namespace of created objects.
    pub namespace: &'a str,
}

/// Renders every resource template of one trigger run with one shared `$(uid)`. Objects
/// before the first failure are returned with it: upstream creates them.
pub fn instantiate(
    templates: &[Value],
    params: &BTreeMap<String, String>,
    old_escape: bool,
    stamp: Stamp<'_>,
    ids: &mut dyn Ids,
) -> (Vec<Value>, Option<RenderError>) {
    let uid = ids.uid();
    let mut objects = Vec::new();
    for (index, template) in templates.iter().enumerate() {
        let text = substitute(template, params, &uid, old_escape);
        let result = serde_json::from_str::<Value>(&text)
            .map_err(|e| RenderError::InvalidJson {
                index,
                message: e.to_string(),
            })
            .and_then(|object| {
                complete(object, stamp, ids)
                    .map_err(|message| RenderError::Invalid { index, message })
            });
        match result {
            Ok(object) => objects.push(object),
            Err(e) => return (objects, Some(e)),
        }
    }
    (objects, None)
}

/// Labels, namespace and generated name, as Triggers and the API server set them (§2.8).
fn complete(mut object: Value, stamp: Stamp<'_>, ids: &mut dyn Ids) -> Result<Value, String> {
    let Value::Object(map) = &mut object else {
        return Err("a resource template must be a JSON object".into());
    };
    for field in ["apiVersion", "kind"] {
        if map
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!("missing {field}"));
        }
    }
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(meta) = meta else {
        return Err("metadata must be an object".into());
    };
    let labels = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if labels.is_null() {
        *labels = Value::Object(Map::new());
    }
    let Value::Object(labels) = labels else {
        return Err("metadata.labels must be a map of strings".into());
    };
    if labels.values().any(|v| !v.is_string()) {
        return Err("metadata.labels must be a map of strings".into());
    }
    for (k, v) in [
        (LABEL_LISTENER, stamp.listener),
        (LABEL_TRIGGER, stamp.trigger),
        (LABEL_EVENT_ID, stamp.event_id),
    ] {
        labels.insert(k.into(), Value::String(v.into()));
    }
    if meta
        .get("namespace")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        meta.insert("namespace".into(), Value::String(stamp.namespace.into()));
    }
    let named = meta
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !named {
        let prefix = meta
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if prefix.is_empty() {
            return Err("metadata.name or metadata.generateName is required".into());
        }
        let mut cut = prefix.len().min(58);
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        let name = format!("{}{}", &prefix[..cut], ids.name_suffix());
        meta.insert("name".into(), Value::String(name));
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const STAMP: Stamp<'static> = Stamp {
        listener: "gh-listener",
        trigger: "on-push",
        event_id: "E",
        namespace: "ci",
    };

    #[test]
    fn textual_one_pass_substitution() {
        let t = json!({"a": "$(tt.params.x)", "$(tt.params.x)": "k", "b": "$(tt.params.undeclared)", "u": "$(uid)"});
        // A value holding another placeholder is not re-expanded; `$(` is neutralised.
        let p = params(&[("x", "$(tt.params.y) $(params.z)"), ("y", "Y")]);
        assert_eq!(
            substitute(&t, &p, "U", false),
            r#"{"a":"$$(tt.params.y) $$(params.z)","$$(tt.params.y) $$(params.z)":"k","b":"$(tt.params.undeclared)","u":"U"}"#
        );
    }

    /// Spec §7 E5: strings land, string arrays break JSON unless old-escape-quotes is set.
    #[test]
    fn e5_template_escaping() {
        let t = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"title": "$(tt.params.title)", "labels": "$(tt.params.labels)"}});
        let p = params(&[("title", r#"FIX \"QUOTES\"\nNOW"#)]);
        let mut ids = SequentialIds::default();
        let (objs, err) = instantiate(std::slice::from_ref(&t), &p, false, STAMP, &mut ids);
        assert!(err.is_none());
        assert_eq!(objs[0]["data"]["title"], "FIX \"QUOTES\"\nNOW");
        let p = params(&[("labels", r#"["bug","ci"]"#)]);
        let (objs, err) = instantiate(std::slice::from_ref(&t), &p, false, STAMP, &mut ids);
        assert!(objs.is_empty());
        assert!(
            matches!(err, Some(RenderError::InvalidJson { index: 0, .. })),
            "{err:?}"
        );
        let (objs, err) = instantiate(std::slice::from_ref(&t), &p, true, STAMP, &mut ids);
        assert!(err.is_none());
        assert_eq!(objs[0]["data"]["labels"], r#"["bug","ci"]"#);
        let p = params(&[("title", r#"FIX \"QUOTES\"\nNOW"#)]);
        let (_, err) = instantiate(&[t], &p, true, STAMP, &mut ids);
        assert!(
            err.is_some(),
            "old-escape breaks values already holding \\\""
        );
    }

    /// C31-C33: one uid per run, labels overwritten, namespace and generated names.
    #[test]
    fn labels_namespace_names_and_shared_uid() {
        let t1 = json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"generateName": "build-$(tt.params.short)-", "labels": {"triggers.tekton.dev/trigger": "mine", "team": "web"}}, "spec": {"params": [{"name": "run-id", "value": "$(uid)"}]}});
        let t2 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "other"}, "data": {"id": "$(uid)"}});
        let long = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x".repeat(70)}});
        let mut ids = SequentialIds::default();
        let (objs, err) = instantiate(
            &[t1, t2, long],
            &params(&[("short", "6113728")]),
            false,
            STAMP,
            &mut ids,
        );
        assert!(err.is_none());
        assert_eq!(objs[0]["metadata"]["name"], "build-6113728-bbbbc");
        assert_eq!(objs[0]["metadata"]["namespace"], "ci");
        assert_eq!(
            objs[0]["metadata"]["labels"],
            json!({"triggers.tekton.dev/trigger": "on-push", "team": "web", "triggers.tekton.dev/eventlistener": "gh-listener", "triggers.tekton.dev/triggers-eventid": "E"})
        );
        assert_eq!(objs[1]["metadata"]["namespace"], "other");
        assert_eq!(objs[0]["spec"]["params"][0]["value"], objs[1]["data"]["id"]);
        assert_eq!(objs[2]["metadata"]["name"].as_str().unwrap().len(), 63);
        let mut r = RandomIds;
        let s = r.name_suffix();
        assert_eq!(s.len(), 5);
        assert!(s.bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn objects_before_a_failure_are_kept() {
        let good = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
        let bad = json!({"kind": "ConfigMap", "metadata": {"name": "b"}});
        let labels = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"n": 1}}});
        let mut ids = SequentialIds::default();
        let (objs, err) = instantiate(
            &[good.clone(), bad, good.clone()],
            &params(&[]),
            false,
            STAMP,
            &mut ids,
        );
        assert_eq!(objs.len(), 1);
        assert_eq!(
            err.unwrap().to_string(),
            "resource template 1: missing apiVersion"
        );
        let (_, err) = instantiate(&[labels], &params(&[]), false, STAMP, &mut ids);
        assert_eq!(
            err.unwrap().to_string(),
            "resource template 0: metadata.labels must be a map of strings"
        );
    }
}
