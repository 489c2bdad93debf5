//! One compiled expression: parse, check its names against what the caller declares,
//! evaluate against JSON variables.

use std::collections::{BTreeMap, HashSet};

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::{Context, Program, Value};

use super::error::{CelError, Position};

/// Names CEL's standard environment defines: type denotations usable as values.
const TYPE_NAMES: &[&str] = &[
    "bool",
    "bytes",
    "double",
    "dyn",
    "int",
    "list",
    "map",
    "null_type",
    "string",
    "type",
    "uint",
];

/// Variables an expression is evaluated with, as JSON values (objects become CEL maps,
/// arrays lists, integral numbers ints).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Variables {
    values: BTreeMap<String, serde_json::Value>,
}

impl Variables {
    /// No variables (Tekton's when-expressions).
    pub fn new() -> Variables {
        Variables::default()
    }

    /// Adds or replaces variable `name`.
    pub fn with(mut self, name: impl Into<String>, value: serde_json::Value) -> Variables {
        self.values.insert(name.into(), value);
        self
    }

    /// The declared names, for [`Expression::compile`].
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

/// A parsed CEL expression whose free names are all declared.
#[derive(Debug)]
pub struct Expression {
    source: String,
    pub(super) program: Program,
}

impl Expression {
    /// Parses `source`; any identifier that is not one of `declared`, a CEL type name or a
    /// macro's own variable is an error, as in an environment that declares only those.
    pub fn compile<'d>(
        source: &str,
        declared: impl IntoIterator<Item = &'d str>,
    ) -> Result<Expression, CelError> {
        Expression::compile_with(Program::compile(source), source, declared, &[])
    }

    /// Checks a parse result like [`Expression::compile`] does; a call on an identifier
    /// in `namespaces` (`base64.decode(…)`) names a function, not a variable.
    pub(super) fn compile_with<'d>(
        parsed: Result<Program, cel::ParseErrors>,
        source: &str,
        declared: impl IntoIterator<Item = &'d str>,
        namespaces: &[&str],
    ) -> Result<Expression, CelError> {
        let program = parsed.map_err(|errors| {
            let first = errors.errors.first();
            let (line, column) = first.map_or((1, 1), |e| (e.pos.0, e.pos.1));
            CelError::Syntax {
                message: first.map_or_else(|| errors.to_string(), |e| e.msg.clone()),
                at: position_at(source, line, column),
            }
        })?;
        let declared: HashSet<&str> = declared.into_iter().collect();
        let mut bound = Vec::new();
        let scope = Scope {
            declared: &declared,
            namespaces,
        };
        if let Some((name, id)) = first_free(program.expression(), &scope, &mut bound) {
            let at = program
                .source_info()
                .offset_for(id)
                .map_or_else(|| position_at(source, 1, 1), |(s, e)| span(source, s, e));
            return Err(CelError::Undeclared {
                name: name.to_owned(),
                at,
            });
        }
        Ok(Expression {
            source: source.to_owned(),
            program,
        })
    }

    /// The text it was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates to a JSON value (for overlays and other computed values).
    pub fn evaluate(&self, variables: &Variables) -> Result<serde_json::Value, CelError> {
        let value = self.value(variables)?;
        value.json().map_err(|e| CelError::Output(e.to_string()))
    }

    /// Evaluates a guard: the value must be a bool.
    pub fn evaluate_bool(&self, variables: &Variables) -> Result<bool, CelError> {
        match self.value(variables)? {
            Value::Bool(b) => Ok(b),
            other => Err(CelError::NotBool {
                expression: self.source.clone(),
                got: other.type_of().to_string(),
            }),
        }
    }

    fn value(&self, variables: &Variables) -> Result<Value, CelError> {
        let mut context = Context::default();
        for (name, json) in &variables.values {
            context.add_variable_from_value(name.clone(), from_json(json, Numbers::Integral));
        }
        self.program
            .execute(&context)
            .map_err(|e| CelError::Evaluation(e.to_string()))
    }
}

/// How JSON numbers become CEL values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Numbers {
    /// Integral numbers are ints (uints past `i64`), others doubles: Tekton's parameters.
    Integral,
    /// Every number is a double, as cel-go sees a decoded JSON document (Triggers).
    Double,
}

/// A JSON value as CEL sees it.
pub(super) fn from_json(json: &serde_json::Value, numbers: Numbers) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (numbers, n.as_i64(), n.as_u64()) {
            (Numbers::Integral, Some(i), _) => Value::Int(i),
            (Numbers::Integral, None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::from(s.clone()),
        serde_json::Value::Array(items) => Value::from(
            items
                .iter()
                .map(|item| from_json(item, numbers))
                .collect::<Vec<Value>>(),
        ),
        serde_json::Value::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (k.clone(), from_json(v, numbers)))
                .collect::<std::collections::HashMap<String, Value>>(),
        ),
    }
}

/// Compiles and evaluates a guard with no variables, as Tekton does for a `cel` when-expression
/// once its `$(...)` references are substituted.
pub fn guard(source: &str) -> Result<bool, CelError> {
    Expression::compile(source, [])?.evaluate_bool(&Variables::new())
}

/// The names an expression may use freely.
struct Scope<'s> {
    /// Variables.
    declared: &'s HashSet<&'s str>,
    /// Function namespaces (`base64` of `base64.decode(…)`).
    namespaces: &'s [&'s str],
}

/// The first identifier (and its node id) that is neither declared, a type name, nor bound by
/// an enclosing macro; `bound` is the stack of macro variables in scope.
fn first_free<'e>(
    e: &'e IdedExpr,
    scope: &Scope<'_>,
    bound: &mut Vec<&'e str>,
) -> Option<(&'e str, u64)> {
    match &e.expr {
        Expr::Ident(name) => {
            let known = scope.declared.contains(name.as_str())
                || TYPE_NAMES.contains(&name.as_str())
                || bound.contains(&name.as_str())
                || name.starts_with('@');
            (!known).then_some((name.as_str(), e.id))
        }
        Expr::Call(call) => call
            .target
            .iter()
            .map(|t| &**t)
            .filter(
                |t| !matches!(&t.expr, Expr::Ident(ns) if scope.namespaces.contains(&ns.as_str())),
            )
            .chain(&call.args)
            .find_map(|a| first_free(a, scope, bound)),
        Expr::Comprehension(c) => {
            if let Some(found) = first_free(&c.iter_range, scope, bound)
                .or_else(|| first_free(&c.accu_init, scope, bound))
            {
                return Some(found);
            }
            let depth = bound.len();
            bound.push(&c.iter_var);
            bound.extend(c.iter_var2.as_deref());
            bound.push(&c.accu_var);
            let found = [&c.loop_cond, &c.loop_step, &c.result]
                .into_iter()
                .find_map(|x| first_free(x, scope, bound));
            bound.truncate(depth);
            found
        }
        Expr::List(list) => list
            .elements
            .iter()
            .find_map(|x| first_free(x, scope, bound)),
        Expr::Map(map) => map.entries.iter().find_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(m) => {
                first_free(&m.key, scope, bound).or_else(|| first_free(&m.value, scope, bound))
            }
            EntryExpr::StructField(f) => first_free(&f.value, scope, bound),
        }),
        Expr::Struct(s) => s.entries.iter().find_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(m) => first_free(&m.value, scope, bound),
            EntryExpr::StructField(f) => first_free(&f.value, scope, bound),
        }),
        Expr::Select(select) => first_free(&select.operand, scope, bound),
        Expr::Literal(_) | Expr::Unspecified => None,
    }
}

/// The position of character offsets `start..=stop` in `source` (the parser's node range).
fn span(source: &str, start: u32, stop: u32) -> Position {
    let byte = |chars: u32| {
        source
            .char_indices()
            .nth(chars as usize)
            .map_or(source.len(), |(b, _)| b)
    };
    let (from, to) = (byte(start), byte(stop.max(start) + 1));
    let before = &source[..from];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Position {
        line: line as u32,
        column: column as u32,
        offset: from,
        len: (to - from).max(1),
    }
}

/// The position of a 1-based line and column (the parser's), one character long.
fn position_at(source: &str, line: isize, column: isize) -> Position {
    let line = line.max(1) as usize;
    let column = column.max(1) as usize;
    let mut offset = 0;
    for (i, text) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            offset += text
                .char_indices()
                .nth(column - 1)
                .map_or(text.trim_end_matches('\n').len(), |(b, _)| b);
            break;
        }
        offset += text.len();
    }
    let offset = offset.min(source.len());
    let len = source[offset..].chars().next().map_or(1, char::len_utf8);
    Position {
        line: line as u32,
        column: column as u32,
        offset,
        len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn guards_give_bools() {
        assert_eq!(guard("'main' == 'main'"), Ok(true));
        assert_eq!(guard("'feature-x' in ['main', 'release']"), Ok(false));
        assert_eq!(guard("size('abc') > 2 && 'a'.startsWith('a')"), Ok(true));
        assert_eq!(guard("[1, 2, 3].all(x, x > 0)"), Ok(true));
        assert_eq!(guard("'v1.2.3'.matches('^v[0-9]+')"), Ok(true));
    }

    #[test]
    fn a_non_bool_guard_names_the_expression() {
        let e = guard("'a' + 'b'").unwrap_err();
        assert_eq!(
            e.to_string(),
            "The CEL expression 'a' + 'b' is not evaluated to a boolean"
        );
        assert!(matches!(e, CelError::NotBool { got, .. } if got == "string"));
    }

    #[test]
    fn syntax_errors_carry_their_position() {
        let e = guard("'a' == ").unwrap_err();
        let at = e.position().expect("a syntax error is located");
        assert_eq!((at.line, at.offset), (1, at.column as usize - 1));
        assert!(e.to_string().starts_with("ERROR: <input>:1:"), "{e}");
        let e = guard("$(params.branch) == 'main'").unwrap_err();
        let at = e.position().unwrap();
        assert_eq!((at.line, at.column, at.offset), (1, 1, 0), "{e}");
    }

    #[test]
    fn undeclared_names_are_compile_errors_except_macro_variables() {
        let e = guard("params.branch == 'main'").unwrap_err();
        assert_eq!(
            e,
            CelError::Undeclared {
                name: "params".into(),
                at: Position {
                    line: 1,
                    column: 1,
                    offset: 0,
                    len: 6
                }
            }
        );
        let e = guard("[1].exists(x, x == y)").unwrap_err();
        assert!(
            matches!(&e, CelError::Undeclared { name, at } if name == "y" && at.column == 20),
            "{e:?}"
        );
        assert!(Expression::compile("type(1) == int", []).is_ok());
        assert!(Expression::compile("body.ref == 'main'", ["body"]).is_ok());
    }

    #[test]
    fn evaluation_errors_are_reported() {
        assert!(matches!(guard("1 / 0 == 1"), Err(CelError::Evaluation(_))));
    }

    #[test]
    fn variables_come_from_json_and_values_go_back_to_json() {
        let vars = Variables::new().with(
            "body",
            json!({"ref": "refs/heads/main", "commits": [{"id": "a"}, {"id": "b"}], "n": 3}),
        );
        let filter = Expression::compile(
            "body.ref.startsWith('refs/heads/') && size(body.commits) == body.n - 1",
            vars.names(),
        )
        .unwrap();
        assert_eq!(filter.evaluate_bool(&vars), Ok(true));
        let overlay = Expression::compile("body.commits.map(c, c.id)", vars.names()).unwrap();
        assert_eq!(overlay.evaluate(&vars), Ok(json!(["a", "b"])));
        assert_eq!(overlay.source(), "body.commits.map(c, c.id)");
    }
}
