//! The environment of Tekton Triggers' CEL interceptor (spec §4.4): variables `body`,
//! `header`, `extensions`, `requestURL`; cel-go's extension libraries; Triggers' functions.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use cel::{extensions, Context, Env, ExecutionError, Value};

use super::error::CelError;
use super::expression::{from_json, Expression, Numbers};
use super::functions::{register, SecretSource};
use super::output::{overlay_json, type_name};

/// The variables a Triggers expression may name.
const VARIABLES: [&str; 4] = ["body", "header", "extensions", "requestURL"];

/// Namespaces of global functions (`base64.decode(…)`, `sets.contains(…)`).
const NAMESPACES: [&str; 5] = ["base64", "lists", "math", "sets", "strings"];

/// The standard library plus cel-go's strings, lists, math and encoders extensions, built once.
fn environment() -> Result<Arc<Env>, CelError> {
    static ENV: OnceLock<Result<Arc<Env>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        env.add_extension(extensions::strings)
            .and_then(|()| env.add_extension(extensions::lists))
            .and_then(|()| env.add_extension(extensions::math))
            .and_then(|()| env.add_extension(extensions::encoders))
            .map_err(|e| format!("building the CEL environment: {e}"))?;
        Ok(Arc::new(env))
    })
    .clone()
    .map_err(CelError::Evaluation)
}

/// One request as a Triggers CEL interceptor sees it.
pub struct TriggersRequest {
    /// The body: a JSON object (the caller turns an empty body into `{}`).
    pub body: serde_json::Map<String, serde_json::Value>,
    /// Canonical header name → values.
    pub header: BTreeMap<String, Vec<String>>,
    /// Extensions so far.
    pub extensions: serde_json::Map<String, serde_json::Value>,
    /// The request-URI (`/hook?x=1`).
    pub request_url: String,
}

/// The variables and functions Triggers expressions are evaluated with; JSON numbers are
/// doubles, as cel-go sees a decoded document.
pub struct TriggersScope {
    variables: [(&'static str, Value); 4],
    secrets: Arc<dyn SecretSource>,
    canonical: fn(&str) -> String,
}

impl TriggersScope {
    /// A scope over `request`; `compareSecret` reads `secrets`, `header.match`/`canonical`
    /// look names up in the form `canonical` gives them.
    pub fn new(
        request: &TriggersRequest,
        secrets: Arc<dyn SecretSource>,
        canonical: fn(&str) -> String,
    ) -> TriggersScope {
        let header = request
            .header
            .iter()
            .map(|(name, values)| {
                let values: Vec<Value> = values.iter().map(|v| Value::from(v.clone())).collect();
                (name.clone(), Value::from(values))
            })
            .collect::<std::collections::HashMap<String, Value>>();
        TriggersScope {
            variables: [
                (
                    "body",
                    from_json(&request.body.clone().into(), Numbers::Double),
                ),
                ("header", Value::from(header)),
                (
                    "extensions",
                    from_json(&request.extensions.clone().into(), Numbers::Double),
                ),
                ("requestURL", Value::from(request.request_url.clone())),
            ],
            secrets,
            canonical,
        }
    }

    /// Parses `source` and checks its names against the Triggers variables.
    pub fn compile(&self, source: &str) -> Result<Expression, CelError> {
        let env = environment()?;
        Expression::compile_with(env.compile(source), source, VARIABLES, &NAMESPACES)
    }

    /// Whether a filter holds: only the bool `true` does.
    pub fn filter(&self, expression: &Expression) -> Result<bool, CelError> {
        Ok(matches!(self.value(expression)?, Value::Bool(true)))
    }

    /// An overlay's value as JSON (spec §4.4): bytes become base64; `null`, uints and
    /// other values without a JSON form are [`CelError::Output`].
    pub fn overlay(&self, expression: &Expression) -> Result<serde_json::Value, CelError> {
        let value = self.value(expression)?;
        overlay_json(&value).map_err(|e| CelError::Output(e.0))
    }

    fn value(&self, expression: &Expression) -> Result<Value, CelError> {
        let mut context = Context::with_env(environment()?);
        for (name, value) in &self.variables {
            context.add_variable_from_value(*name, value.clone());
        }
        register(&mut context, self.secrets.clone(), self.canonical)
            .map_err(|e| CelError::Evaluation(format!("registering Triggers functions: {e}")))?;
        expression
            .program
            .execute(&context)
            .map_err(|e| CelError::Evaluation(describe(&e)))
    }
}

/// An evaluation error as a message; arithmetic across number types, the usual surprise
/// with JSON doubles, says how to write it instead.
fn describe(error: &ExecutionError) -> String {
    match error {
        ExecutionError::UnsupportedBinaryOperator(op, left, right) => {
            let (l, r) = (type_name(left), type_name(right));
            let hint = if l != r && [l, r].iter().all(|t| ["int", "uint", "double"].contains(t)) {
                " (JSON numbers are doubles: write 1.0 for a double literal, or convert with \
                 int(...) or double(...))"
            } else {
                ""
            };
            let op = match *op {
                "add" => "+",
                "sub" => "-",
                "mul" => "*",
                "div" => "/",
                "rem" => "%",
                other => other,
            };
            format!("no such overload: {l} {op} {r}{hint}")
        }
        other => other.to_string(),
    }
}

impl std::fmt::Debug for TriggersScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of debug output; the variables are the request's own.
        f.debug_struct("TriggersScope")
            .field(
                "variables",
                &self
                    .variables
                    .iter()
                    .map(|(n, v)| (n, type_name(v)))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct OneSecret;

    impl SecretSource for OneSecret {
        fn secret(&self, name: &str, key: &str) -> Option<Vec<u8>> {
            (name == "gh" && key == "token").then(|| b"s3cr3t".to_vec())
        }
    }

    fn canonical(name: &str) -> String {
        // Enough of Go's rule for these tests: the caller passes the real one.
        name.split('-')
            .map(|part| {
                let mut c = part.chars();
                c.next().map_or(String::new(), |f| {
                    f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase()
                })
            })
            .collect::<Vec<_>>()
            .join("-")
    }

    fn scope(body: serde_json::Value) -> TriggersScope {
        let serde_json::Value::Object(body) = body else {
            panic!("test bodies are objects")
        };
        TriggersScope::new(
            &TriggersRequest {
                body,
                header: BTreeMap::from([
                    ("X-Github-Event".into(), vec!["push".into(), "other".into()]),
                    ("X-Token".into(), vec!["s3cr3t".into()]),
                ]),
                extensions: json!({"short": "abc", "n": 2})
                    .as_object()
                    .cloned()
                    .unwrap(),
                request_url: "/hook?x=1".into(),
            },
            Arc::new(OneSecret),
            canonical,
        )
    }

    fn eval(scope: &TriggersScope, source: &str) -> Result<serde_json::Value, CelError> {
        scope.overlay(&scope.compile(source)?)
    }

    fn holds(scope: &TriggersScope, source: &str) -> bool {
        let expression = scope.compile(source).unwrap();
        scope.filter(&expression).unwrap()
    }

    #[test]
    fn json_numbers_are_doubles_that_compare_with_ints_but_do_not_add() {
        let s = scope(json!({"n": 1, "number": 7}));
        assert!(holds(&s, "body.n == 1"));
        assert!(holds(&s, "body.n < 3u && body.number > 2"));
        assert!(holds(&s, "1 == body.n && body.n in [1, 2] && body.n != 2"));
        assert!(holds(&s, "type(body.n) == double"));
        assert!(holds(
            &s,
            "body.number + 1.0 > 2.0 && int(body.number) + 1 == 8"
        ));
        let e = eval(&s, "body.number + 1 > 2").unwrap_err();
        assert_eq!(
            e.to_string(),
            "no such overload: double + int (JSON numbers are doubles: write 1.0 for a \
             double literal, or convert with int(...) or double(...))"
        );
        assert_eq!(eval(&s, "extensions.n * 2.0"), Ok(json!(4)));
    }

    #[test]
    fn filters_hold_only_for_true() {
        let s = scope(json!({"action": "closed"}));
        assert!(!holds(&s, "body.action in ['opened', 'synchronize']"));
        assert!(holds(&s, "body.action == 'closed'"));
        assert!(!holds(&s, "'true'"));
        assert!(!holds(&s, "1"));
    }

    #[test]
    fn header_functions_canonicalise_and_read_the_first_value() {
        let s = scope(json!({}));
        assert!(holds(&s, "header.match('x-github-event', 'push')"));
        assert!(!holds(&s, "header.match('x-github-event', 'Push')"));
        assert!(!holds(&s, "header.match('missing', 'push')"));
        assert!(holds(&s, "header.match('missing', '')"));
        assert_eq!(
            eval(&s, "header.canonical('X-GITHUB-EVENT')"),
            Ok(json!("push"))
        );
        assert_eq!(
            eval(&s, "header['X-Github-Event']"),
            Ok(json!(["push", "other"]))
        );
        assert_eq!(eval(&s, "requestURL"), Ok(json!("/hook?x=1")));
    }

    #[test]
    fn triggers_functions() {
        let s = scope(json!({
            "sha": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
            "j": "{\"a\": {\"b\": 1}, \"l\": [1, 2]}",
            "y": "a:\n  b: [x, y]\n",
            "u": "é",
        }));
        assert_eq!(eval(&s, "body.sha.truncate(7)"), Ok(json!("6113728")));
        assert_eq!(eval(&s, "'abc'.truncate(10)"), Ok(json!("abc")));
        assert_eq!(eval(&s, "body.u.truncate(1)"), Ok(json!("\u{fffd}")));
        assert!(eval(&s, "'abc'.truncate(-1)").is_err());
        assert_eq!(eval(&s, "body.j.parseJSON().a.b"), Ok(json!(1)));
        assert!(holds(&s, "type(body.j.parseJSON().a.b) == double"));
        assert_eq!(eval(&s, "'null'.parseJSON()"), Ok(json!({})));
        assert!(eval(&s, "'[1]'.parseJSON()").is_err());
        assert_eq!(eval(&s, "body.y.parseYAML().a.b"), Ok(json!(["x", "y"])));
        assert!(eval(&s, "'- a'.parseYAML()").is_err());
        assert_eq!(
            eval(&s, "'https://example.com:80/x?a=1'.parseURL().host"),
            Ok(json!("example.com:80"))
        );
        assert_eq!(
            eval(&s, "{'b': 'x<', 'a': 1}.marshalJSON()"),
            Ok(json!(r#"{"a":1,"b":"x\u003c"}"#))
        );
        assert_eq!(
            eval(&s, "body.j.parseJSON().l.marshalJSON()"),
            Ok(json!("[1,2]"))
        );
        assert!(eval(&s, "'x'.marshalJSON()").is_err());
        assert_eq!(eval(&s, "[1, 2].first()"), Ok(json!(1)));
        assert_eq!(eval(&s, "[1, 2].last()"), Ok(json!(2)));
        assert!(holds(&s, "[].first() == null && [].last() == null"));
        assert_eq!(
            eval(
                &s,
                "'refs/heads/main'.translate('^refs/heads/(.*)$', 'branch-$1')"
            ),
            Ok(json!("branch-main"))
        );
        assert!(eval(&s, "'x'.translate('(', '')").is_err());
    }

    #[test]
    fn compare_secret_reads_the_trigger_namespace_and_ignores_a_third_argument() {
        let s = scope(json!({}));
        assert!(holds(
            &s,
            "header.canonical('X-Token').compareSecret('token', 'gh')"
        ));
        assert!(holds(
            &s,
            "header.canonical('X-Token').compareSecret('token', 'gh', 'elsewhere')"
        ));
        assert!(!holds(&s, "'s3cr3t\\n'.compareSecret('token', 'gh')"));
        assert!(!holds(&s, "''.compareSecret('token', 'gh')"));
        let e = eval(&s, "'x'.compareSecret('nope', 'gh')").unwrap_err();
        assert!(e.to_string().contains("\"gh\""), "{e}");
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }

    #[test]
    fn extension_libraries() {
        let s = scope(json!({"ref": "refs/heads/main", "labels": ["b", "a", "b"]}));
        assert_eq!(eval(&s, "body.ref.split('/')[2]"), Ok(json!("main")));
        assert_eq!(eval(&s, "['a', 'b'].join('-')"), Ok(json!("a-b")));
        assert_eq!(eval(&s, "'a.b.c'.replace('.', '/')"), Ok(json!("a/b/c")));
        assert_eq!(eval(&s, "'tacocat'.substring(0, 4)"), Ok(json!("taco")));
        assert_eq!(eval(&s, "'tacocat'.indexOf('c')"), Ok(json!(2)));
        assert_eq!(eval(&s, "'tacocat'.lastIndexOf('c')"), Ok(json!(4)));
        assert_eq!(eval(&s, "'  x '.trim()"), Ok(json!("x")));
        assert_eq!(
            eval(&s, "'Ab'.lowerAscii() + 'Ab'.upperAscii()"),
            Ok(json!("abAB"))
        );
        assert_eq!(eval(&s, "'abc'.charAt(1)"), Ok(json!("b")));
        assert_eq!(eval(&s, "base64.encode(b'hi')"), Ok(json!("aGk=")));
        assert!(holds(&s, "base64.decode('aGk=') == b'hi'"));
        assert_eq!(eval(&s, "base64.decode('aGk=')"), Ok(json!("aGk=")));
        assert_eq!(eval(&s, "string(base64.decode('aGk='))"), Ok(json!("hi")));
        assert_eq!(
            eval(&s, "body.labels.distinct().sort()"),
            Ok(json!(["a", "b"]))
        );
        assert_eq!(eval(&s, "lists.range(3)"), Ok(json!([0, 1, 2])));
        assert_eq!(eval(&s, "math.greatest(1, 5, 3)"), Ok(json!(5)));
        assert!(holds(&s, "sets.contains([1, 2, 3], [2, 3])"));
        assert!(!holds(&s, "sets.contains([1], [2])"));
        assert!(holds(&s, "sets.equivalent([1, 2], [2, 1, 1])"));
        assert!(holds(&s, "sets.intersects([1, 2], [2, 5])"));
        assert!(holds(&s, "sets.contains([1.0, 2u], [1, 2])"));
        assert!(holds(&s, "'%s-%d'.format(['a', 1]) == 'a-1'"));
    }

    #[test]
    fn names_are_checked_and_overlays_map_types() {
        let s = scope(json!({"title": "fix \"quotes\"\nnow", "labels": [{"name": "bug"}]}));
        let e = s.compile("params.x == 1").unwrap_err();
        assert!(
            matches!(e, CelError::Undeclared { ref name, .. } if name == "params"),
            "{e:?}"
        );
        assert!(matches!(s.compile("body.("), Err(CelError::Syntax { .. })));
        // A namespace names functions only, never a value.
        let e = s.compile("base64 == 1").unwrap_err();
        assert!(
            matches!(e, CelError::Undeclared { ref name, .. } if name == "base64"),
            "{e:?}"
        );
        assert_eq!(
            eval(&s, "body.title.upperAscii()"),
            Ok(json!("FIX \"QUOTES\"\nNOW"))
        );
        assert_eq!(eval(&s, "body.labels.map(l, l.name)"), Ok(json!(["bug"])));
        assert_eq!(
            eval(&s, "{'a': [1, 2.5, true]}"),
            Ok(json!({"a": [1, 2.5, true]}))
        );
        assert!(matches!(eval(&s, "null"), Err(CelError::Output(_))));
        assert!(matches!(eval(&s, "1u"), Err(CelError::Output(_))));
        assert!(matches!(
            eval(&s, "body.missing"),
            Err(CelError::Evaluation(_))
        ));
    }
}
