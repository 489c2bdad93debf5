//! What the history replaces before it stores anything: secret values become `***`.

use std::sync::Arc;

use serde_json::Value;

/// What replaces a secret.
pub const MASK: &str = "***";

/// The filter itself.
type Filter = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// A text filter applied to every string the history stores (log lines, events, the
/// object, the params). Cheap to clone.
#[derive(Clone, Default)]
pub struct Redact {
    filter: Option<Filter>,
}

impl std::fmt::Debug for Redact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redact")
            .field("active", &self.filter.is_some())
            .finish()
    }
}

impl Redact {
    /// Stores everything as it is.
    pub fn none() -> Redact {
        Redact::default()
    }

    /// Replaces each of `secrets` (empty ones ignored) with [`MASK`].
    pub fn values(mut secrets: Vec<String>) -> Redact {
        secrets.retain(|s| !s.is_empty());
        if secrets.is_empty() {
            return Redact::none();
        }
        // Longest first, so a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redact::with(move |text| {
            secrets
                .iter()
                .fold(text.to_string(), |t, s| t.replace(s.as_str(), MASK))
        })
    }

    /// Applies `filter` (e.g. the run's masker) to every stored string.
    pub fn with(filter: impl Fn(&str) -> String + Send + Sync + 'static) -> Redact {
        Redact {
            filter: Some(Arc::new(filter)),
        }
    }

    /// `text`, redacted.
    pub fn text(&self, text: &str) -> String {
        match &self.filter {
            Some(f) => f(text),
            None => text.to_string(),
        }
    }

    /// `value` with every string in it (keys too) redacted.
    pub fn value(&self, value: &Value) -> Value {
        if self.filter.is_none() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text(k), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_text_and_nested_values_longest_first() {
        let r = Redact::values(vec!["abc".into(), "abcdef".into(), String::new()]);
        assert_eq!(r.text("x abcdef y abc"), "x *** y ***");
        assert_eq!(
            r.value(&serde_json::json!({"k": ["abc", 1, {"abc": "z"}]})),
            serde_json::json!({"k": ["***", 1, {"***": "z"}]})
        );
        assert_eq!(Redact::none().text("abc"), "abc");
    }
}
