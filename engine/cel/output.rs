//! CEL values written out as JSON the way Tekton Triggers (Go) writes them: overlay results
//! and `marshalJSON`.

use base64::Engine as _;
use cel::objects::Key;
use cel::Value;

/// Why a CEL value has no JSON form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NotJson(pub String);

/// The JSON form of a value inside a list or map (and of a whole list or map): bytes become
/// base64 strings, ints, uints and doubles numbers, `null` stays `null`.
pub(super) fn to_json(value: &Value) -> Result<serde_json::Value, NotJson> {
    Ok(match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::UInt(u) => serde_json::Value::from(*u),
        Value::Float(f) => double(*f)?,
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::Bytes(b) => {
            serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(&**b))
        }
        Value::List(items) => {
            serde_json::Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Value::Map(map) => {
            let mut out = serde_json::Map::new();
            let mut entries: Vec<_> = map.map.iter().collect();
            entries.sort_by_key(|(key, _)| key_text(key));
            for (key, item) in entries {
                let Key::String(name) = key else {
                    return Err(NotJson(format!(
                        "map key {} is not a string",
                        key_text(key)
                    )));
                };
                out.insert(name.to_string(), to_json(item)?);
            }
            serde_json::Value::Object(out)
        }
        other => return Err(NotJson(format!("a {} has no JSON form", type_name(other)))),
    })
}

/// The JSON form of an overlay's result (spec §4.4): a string, bytes (base64), an int or
/// double, a bool, a list or a map. `null`, uints and other types are refused, as Triggers
/// refuses them.
pub(super) fn overlay_json(value: &Value) -> Result<serde_json::Value, NotJson> {
    match value {
        Value::String(_)
        | Value::Bytes(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::Bool(_)
        | Value::List(_)
        | Value::Map(_) => to_json(value),
        other => Err(NotJson(format!(
            "a {} value cannot be written to extensions; convert it, e.g. with string(...)",
            type_name(other)
        ))),
    }
}

/// A double as JSON: integral values within 2^53 as integers (what Go's decoder gives back
/// for `3`), others as floats; NaN and infinities have no JSON form.
fn double(f: f64) -> Result<serde_json::Value, NotJson> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if f.fract() == 0.0 && f.abs() < EXACT {
        return Ok(serde_json::Value::from(f as i64));
    }
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .ok_or_else(|| NotJson(format!("the double {f} has no JSON form")))
}

/// Compact JSON text with keys sorted by bytes and `<`, `>`, `&`, U+2028, U+2029 escaped as
/// `\u003c`…, and numbers as Go's encoder writes float64s: Triggers' `marshalJSON`.
pub(super) fn go_json(value: &serde_json::Value) -> String {
    crate::go_json::to_string(value)
}

fn key_text(key: &Key) -> String {
    match key {
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
        Key::String(s) => s.to_string(),
    }
}

/// The CEL name of a value's type, as messages show it.
pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "list",
        Value::Map(_) => "map",
        Value::Function(..) => "function",
        Value::Int(_) => "int",
        Value::UInt(_) => "uint",
        Value::Float(_) => "double",
        Value::String(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Bool(_) => "bool",
        Value::Null => "null_type",
        Value::Opaque(_) | Value::Struct(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_json_sorts_keys_escapes_html_and_writes_go_numbers() {
        let v = json!({"b": "x<y>&z", "a": 1, "c": [1.5, 1e21, 1e-7, 0.000001, 100.0]});
        assert_eq!(
            go_json(&v),
            r#"{"a":1,"b":"x\u003cy\u003e\u0026z","c":[1.5,1e+21,1e-7,0.000001,100]}"#
        );
    }

    #[test]
    fn overlays_refuse_null_and_uint_but_lists_keep_them() {
        assert!(overlay_json(&Value::Null).is_err());
        assert!(overlay_json(&Value::UInt(1)).is_err());
        assert_eq!(
            overlay_json(&Value::from(vec![Value::Null, Value::UInt(2)])),
            Ok(json!([null, 2]))
        );
        assert_eq!(overlay_json(&Value::Float(3.0)), Ok(json!(3)));
        assert_eq!(overlay_json(&Value::Float(0.5)), Ok(json!(0.5)));
        assert!(overlay_json(&Value::Float(f64::NAN)).is_err());
        assert_eq!(
            overlay_json(&Value::Bytes(b"hi".to_vec().into())),
            Ok(json!("aGk="))
        );
    }
}
