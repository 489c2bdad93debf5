//! The functions Tekton Triggers adds to CEL (spec §4.4), and the cel-go `sets` library the
//! crate lacks.
//!
//! They are registered on each evaluation's context rather than on the shared environment:
//! `compareSecret` reads Secrets through whatever the caller hands in, and `match`/`canonical`
//! canonicalise header names with the caller's rule, so this module knows nothing of Triggers'
//! types.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::Key;
use cel::{Context, DeclarationError, ExecutionError, FunctionContext, Value};
use subtle::ConstantTimeEq;

use super::expression::{from_json, Numbers};
use super::output::{go_json, to_json, type_name};

/// Where `compareSecret` reads Secrets from: the trigger's namespace, fixed by the caller.
pub trait SecretSource: Send + Sync {
    /// The raw bytes of `data[key]` of Secret `name`, or `None` when either is missing.
    fn secret(&self, name: &str, key: &str) -> Option<Vec<u8>>;
}

/// Registers the Triggers functions on `context`.
pub(super) fn register(
    context: &mut Context<'_, '_>,
    secrets: Arc<dyn SecretSource>,
    canonical: fn(&str) -> String,
) -> Result<(), DeclarationError> {
    context.add_function("match", move |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (Value::Map(header), [Value::String(name), Value::String(value)]) => Ok(Value::Bool(
                first_header(ftx, &header, &canonical(name))? == value.as_str(),
            )),
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("canonical", move |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (Value::Map(header), [Value::String(name)]) => {
                Ok(Value::from(first_header(ftx, &header, &canonical(name))?))
            }
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("truncate", |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (Value::String(s), [Value::Int(n)]) => {
                let n = usize::try_from(*n)
                    .map_err(|_| ftx.error(format!("cannot truncate to {n} bytes")))?;
                let bytes = &s.as_bytes()[..n.min(s.len())];
                // Go slices bytes; a cut inside a character is invalid UTF-8 there and
                // becomes U+FFFD once written as JSON, as here.
                Ok(Value::from(String::from_utf8_lossy(bytes).into_owned()))
            }
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("compareSecret", move |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            // A third argument (a namespace) is accepted and ignored: Secrets come from the
            // trigger's namespace only.
            (Value::String(s), [Value::String(key), Value::String(name)])
            | (Value::String(s), [Value::String(key), Value::String(name), Value::String(_)]) => {
                let secret = secrets.secret(name, key).ok_or_else(|| {
                    ftx.error(format!(
                        "failed to find secret {name:?} with key {key:?} in the trigger's namespace"
                    ))
                })?;
                Ok(Value::Bool(bool::from(
                    secret.as_slice().ct_eq(s.as_bytes()),
                )))
            }
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("parseJSON", |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (Value::String(s), []) => {
                let parsed: serde_json::Value = serde_json::from_str(&s)
                    .map_err(|e| ftx.error(format!("failed to decode '{s}' in parseJSON: {e}")))?;
                object(ftx, parsed, "parseJSON")
            }
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("parseYAML", |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (Value::String(s), []) => {
                let parsed: serde_json::Value = serde_yaml_ng::from_str(&s)
                    .map_err(|e| ftx.error(format!("failed to decode '{s}' in parseYAML: {e}")))?;
                object(ftx, parsed, "parseYAML")
            }
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("parseURL", |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (Value::String(s), []) => parse_url(&s)
                .map(|parts| from_json(&parts, Numbers::Double))
                .map_err(|e| ftx.error(format!("failed to decode '{s}' in parseURL: {e}"))),
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("marshalJSON", |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (this @ (Value::Map(_) | Value::List(_)), []) => to_json(&this)
                .map(|json| Value::from(go_json(&json)))
                .map_err(|e| ftx.error(format!("failed to marshal to json: {}", e.0))),
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("first", |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (Value::List(items), []) => Ok(items.first().cloned().unwrap_or(Value::Null)),
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("last", |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (Value::List(items), []) => Ok(items.last().cloned().unwrap_or(Value::Null)),
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("translate", |ftx: &FunctionContext| {
        match (receiver(ftx)?, arguments(ftx)?.as_slice()) {
            (Value::String(s), [Value::String(pattern), Value::String(replacement)]) => {
                let regex = regex::Regex::new(pattern)
                    .map_err(|e| ftx.error(format!("failed to compile regex {pattern:?}: {e}")))?;
                Ok(Value::from(
                    regex.replace_all(&s, replacement.as_str()).into_owned(),
                ))
            }
            (this, args) => Err(no_overload(ftx, &this, args)),
        }
    })?;
    context.add_function("sets.contains", |ftx: &FunctionContext| {
        let (a, b) = two_lists(ftx)?;
        Ok(Value::Bool(b.iter().all(|x| a.contains(x))))
    })?;
    context.add_function("sets.equivalent", |ftx: &FunctionContext| {
        let (a, b) = two_lists(ftx)?;
        Ok(Value::Bool(
            b.iter().all(|x| a.contains(x)) && a.iter().all(|x| b.contains(x)),
        ))
    })?;
    context.add_function("sets.intersects", |ftx: &FunctionContext| {
        let (a, b) = two_lists(ftx)?;
        Ok(Value::Bool(b.iter().any(|x| a.contains(x))))
    })?;
    Ok(())
}

/// The value a method is called on.
fn receiver(ftx: &FunctionContext) -> Result<Value, ExecutionError> {
    let this = ftx
        .this
        .as_ref()
        .ok_or_else(|| ftx.error("must be called as a method, e.g. x.name(...)"))?;
    Value::try_from(this.as_ref())
}

/// The arguments of a call, evaluated.
fn arguments(ftx: &FunctionContext) -> Result<Vec<Value>, ExecutionError> {
    ftx.args
        .iter()
        .map(|a| Value::try_from(a.as_ref()))
        .collect()
}

/// A CEL list's elements.
type List = Arc<Vec<Value>>;

/// The two list arguments of a global `sets.*` call.
fn two_lists(ftx: &FunctionContext) -> Result<(List, List), ExecutionError> {
    match arguments(ftx)?.as_slice() {
        [Value::List(a), Value::List(b)] => Ok((a.clone(), b.clone())),
        args => Err(ExecutionError::no_such_overload(
            ftx.name,
            args.iter().map(|a| type_name(a).to_owned()).collect(),
        )),
    }
}

fn no_overload(ftx: &FunctionContext, this: &Value, args: &[Value]) -> ExecutionError {
    ExecutionError::no_such_overload(
        ftx.name,
        std::iter::once(this)
            .chain(args)
            .map(|a| type_name(a).to_owned())
            .collect(),
    )
}

/// The first value of header `name` (canonical already) in a `header` map, `""` if absent.
fn first_header(
    ftx: &FunctionContext,
    header: &cel::objects::Map,
    name: &str,
) -> Result<String, ExecutionError> {
    match header.map.get(&Key::String(Arc::new(name.to_owned()))) {
        None => Ok(String::new()),
        Some(Value::List(values)) => match values.first() {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(other) => Err(ftx.error(format!(
                "header {name} holds a {}, not strings",
                type_name(other)
            ))),
        },
        Some(other) => Err(ftx.error(format!(
            "header {name} holds a {}, not a list of strings",
            type_name(other)
        ))),
    }
}

/// A decoded document as the map `parseJSON`/`parseYAML` give: `null` is an empty map,
/// anything but an object an error (Go decodes into a map).
fn object(
    ftx: &FunctionContext,
    parsed: serde_json::Value,
    function: &str,
) -> Result<Value, ExecutionError> {
    match parsed {
        serde_json::Value::Null => Ok(Value::from(HashMap::<String, Value>::new())),
        serde_json::Value::Object(_) => Ok(from_json(&parsed, Numbers::Double)),
        other => Err(ftx.error(format!(
            "{function} needs an object, the text holds {}",
            json_kind(&other)
        ))),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a bool",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Splits a URL the way Go's `url.Parse` does (RFC 3986 reference, relative ones included)
/// into the map `parseURL` gives.
fn parse_url(text: &str) -> Result<serde_json::Value, String> {
    let (rest, fragment) = match text.split_once('#') {
        Some((r, f)) => (r, unescape(f)?),
        None => (text, String::new()),
    };
    let (mut scheme, mut rest) = (String::new(), rest);
    if let Some(colon) = rest.find(':') {
        let candidate = &rest[..colon];
        let valid = candidate
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && candidate
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if valid {
            scheme = candidate.to_ascii_lowercase();
            rest = &rest[colon + 1..];
        } else if colon == 0 {
            return Err("missing protocol scheme".into());
        }
    }
    let (rest, raw_query) = match rest.split_once('?') {
        Some((r, q)) => (r, q.to_owned()),
        None => (rest, String::new()),
    };
    let mut parts = serde_json::Map::new();
    let (mut host, mut path) = (String::new(), rest);
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        let authority = &after[..end];
        path = &after[end..];
        host = match authority.rsplit_once('@') {
            Some((userinfo, h)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                parts.insert(
                    "auth".into(),
                    serde_json::json!({"username": unescape(user)?, "password": unescape(password)?}),
                );
                h.to_owned()
            }
            None => authority.to_owned(),
        };
    } else if !scheme.is_empty() && !rest.starts_with('/') {
        // An opaque URL (`mailto:x`): Go keeps no path for it.
        path = "";
    }
    let mut query_strings: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    for (name, value) in form_urlencoded::parse(raw_query.as_bytes()) {
        if let serde_json::Value::Array(values) = query_strings
            .entry(name.into_owned())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()))
        {
            values.push(serde_json::Value::String(value.into_owned()));
        }
    }
    let query: serde_json::Map<String, serde_json::Value> = query_strings
        .iter()
        .map(|(name, values)| {
            let joined = values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join(",");
            (name.clone(), serde_json::Value::String(joined))
        })
        .collect();
    parts.insert("scheme".into(), scheme.into());
    parts.insert("host".into(), host.into());
    parts.insert("path".into(), unescape(path)?.into());
    parts.insert("rawQuery".into(), raw_query.into());
    parts.insert("fragment".into(), fragment.into());
    parts.insert("queryStrings".into(), query_strings.into());
    parts.insert("query".into(), query.into());
    Ok(serde_json::Value::Object(parts))
}

/// Percent-decoding; a `%` not followed by two hex digits is an error, as in Go.
fn unescape(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    let end = (i + 3).min(bytes.len());
                    format!(
                        "invalid URL escape {:?}",
                        String::from_utf8_lossy(&bytes[i..end])
                    )
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_split_like_go() {
        let parts =
            parse_url("https://user:p%40ss@example.com:8443/a%20b/c?x=1&x=2&y=z#frag").unwrap();
        assert_eq!(
            parts,
            json!({
                "auth": {"username": "user", "password": "p@ss"},
                "scheme": "https", "host": "example.com:8443", "path": "/a b/c",
                "rawQuery": "x=1&x=2&y=z", "fragment": "frag",
                "queryStrings": {"x": ["1", "2"], "y": ["z"]},
                "query": {"x": "1,2", "y": "z"},
            })
        );
        let relative = parse_url("/hook?a=b").unwrap();
        assert_eq!(relative["path"], "/hook");
        assert_eq!(relative["scheme"], "");
        assert_eq!(relative["query"], json!({"a": "b"}));
        assert!(parse_url("https://x/%zz").is_err());
        assert!(parse_url(":nope").is_err());
    }
}
