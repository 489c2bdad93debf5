//! Parameters: declarations (`ParamSpec`), values (`Param`, `ParamValue`) and when-expressions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The three parameter (and result) types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// A string.
    String,
    /// A list of strings.
    Array,
    /// A map of string to string.
    Object,
}

impl ParamType {
    /// Parses a type name as written in YAML.
    pub fn parse(s: &str) -> Option<ParamType> {
        match s {
            "string" => Some(ParamType::String),
            "array" => Some(ParamType::Array),
            "object" => Some(ParamType::Object),
            _ => None,
        }
    }

    /// The name Tekton uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Array => "array",
            ParamType::Object => "object",
        }
    }
}

/// A parameter value: string, array of strings or string map (Tekton's `ParamValue`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ParamValue {
    /// A string (numbers and booleans in YAML become their text).
    String(String),
    /// A list of strings.
    Array(Vec<String>),
    /// A map of strings.
    Object(BTreeMap<String, String>),
}

impl ParamValue {
    /// The value's type.
    pub fn param_type(&self) -> ParamType {
        match self {
            ParamValue::String(_) => ParamType::String,
            ParamValue::Array(_) => ParamType::Array,
            ParamValue::Object(_) => ParamType::Object,
        }
    }

    /// Every string inside the value, in order.
    pub fn strings(&self) -> Vec<&str> {
        match self {
            ParamValue::String(s) => vec![s.as_str()],
            ParamValue::Array(a) => a.iter().map(String::as_str).collect(),
            ParamValue::Object(o) => o.values().map(String::as_str).collect(),
        }
    }

    /// Decodes a JSON value with Tekton's rules (§1.2): lists of strings are arrays, string
    /// maps are objects, strings stay strings, anything else becomes its JSON text.
    pub fn from_json(v: &serde_json::Value) -> ParamValue {
        use serde_json::Value;
        match v {
            Value::Null => ParamValue::String(String::new()),
            Value::String(s) => ParamValue::String(s.clone()),
            Value::Array(items) if items.iter().all(Value::is_string) => ParamValue::Array(
                items
                    .iter()
                    .map(|i| i.as_str().unwrap_or_default().to_string())
                    .collect(),
            ),
            Value::Object(map) if map.values().all(Value::is_string) => ParamValue::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect(),
            ),
            other => ParamValue::String(other.to_string()),
        }
    }

    /// Encodes the value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ParamValue::String(s) => serde_json::Value::String(s.clone()),
            ParamValue::Array(a) => serde_json::json!(a),
            ParamValue::Object(o) => serde_json::json!(o),
        }
    }
}

impl Default for ParamValue {
    fn default() -> Self {
        ParamValue::String(String::new())
    }
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(ParamValue::from_json(&v))
    }
}

/// A string, an array of strings or a map of strings: a leaf for the field-coverage walk.
impl JsonSchema for ParamValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ParamValue".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["string", "array", "object"] })
    }
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ParamValue::String(v) => v.serialize(s),
            ParamValue::Array(v) => v.serialize(s),
            ParamValue::Object(v) => v.serialize(s),
        }
    }
}

/// Schema of one object property.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropertySpec {
    /// Only `string` is allowed.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// A parameter declaration (`ParamSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParamSpec {
    /// The parameter's name.
    #[serde(default)]
    pub name: String,
    /// `string`, `array` or `object`, as written (see [`ParamSpec::effective_type`]).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Object keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, PropertySpec>>,
    /// Makes the parameter optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<ParamValue>,
    /// Allowed values (flag `enable-param-enum`).
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub enum_: Vec<String>,
}

impl ParamSpec {
    /// The type after Tekton's defaulting (§1.2): explicit type, else `object` when
    /// properties are set, else the default's type, else `string`.
    pub fn effective_type(&self) -> Option<ParamType> {
        match &self.type_ {
            Some(t) => ParamType::parse(t),
            None if self.properties.is_some() => Some(ParamType::Object),
            None => Some(
                self.default
                    .as_ref()
                    .map_or(ParamType::String, ParamValue::param_type),
            ),
        }
    }
}

/// A named parameter value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Param {
    /// The parameter's name.
    #[serde(default)]
    pub name: String,
    /// Its value.
    #[serde(default)]
    pub value: ParamValue,
}

/// Tekton's `in`/`notin` decision on substituted text: `in` holds when `input` is one of
/// `values`, `notin` when it is none of them.
pub fn operator_holds(operator: Option<&str>, input: &str, values: &[String]) -> bool {
    let listed = values.iter().any(|v| v == input);
    if operator == Some("notin") {
        !listed
    } else {
        listed
    }
}

/// A guard: `input operator values`, or a CEL expression.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhenExpression {
    /// Left side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `in` or `notin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Right side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// A CEL expression (flag `enable-cel-in-whenexpression`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cel: Option<String>,
}
