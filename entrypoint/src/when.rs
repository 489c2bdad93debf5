//! A step's `when` guard (§4.3 step 3), given as Tekton passes it: `-when_expressions` holding
//! the JSON list `[{"input":…,"operator":"in"|"notin","values":[…]},…]`. It is decided after
//! the step's turn comes, once `$(steps.S.results.R)` in inputs, values and CEL text can be
//! filled in; every expression must hold. A CEL expression declares no variables (as in
//! Tekton and adze's engine, engine/cel): references sit inside its quotes and are replaced
//! as text, then it must give a bool.

use crate::step_results::StepResults;

/// One `input operator values` expression, or a CEL one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    /// The left side.
    pub input: String,
    /// `true` for `notin`.
    pub negated: bool,
    /// The right side.
    pub values: Vec<String>,
    /// A CEL expression instead of the three fields above.
    pub cel: Option<String>,
}

/// Why the guard could not be read or decided.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WhenError {
    /// The flag's value is not Tekton's JSON list of expressions.
    #[error("expected a JSON list of {{\"input\",\"operator\",\"values\"}} objects: {0}")]
    Malformed(String),
    /// The operator is neither `in` nor `notin`.
    #[error("operator {0:?} is not one of in, notin")]
    Operator(String),
    /// A CEL expression that does not parse, fails, or gives something other than a bool.
    #[error("CEL expression {expression:?}: {why}")]
    Cel {
        /// The expression after substitution.
        expression: String,
        /// What went wrong.
        why: String,
    },
}

/// Parse `-when_expressions`.
pub fn parse(json: &str) -> Result<Vec<When>, WhenError> {
    let malformed = |why: &str| WhenError::Malformed(why.to_string());
    let list: Vec<serde_json::Value> =
        serde_json::from_str(json).map_err(|e| malformed(&e.to_string()))?;
    list.iter()
        .map(|item| {
            let object = item
                .as_object()
                .ok_or_else(|| malformed("an item is not an object"))?;
            let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(String::from);
            let values = match object.get("values") {
                None | Some(serde_json::Value::Null) => Vec::new(),
                Some(serde_json::Value::Array(values)) => values
                    .iter()
                    .map(|v| v.as_str().map(String::from))
                    .collect::<Option<_>>()
                    .ok_or_else(|| malformed("values must be strings"))?,
                Some(_) => return Err(malformed("values must be a list")),
            };
            let negated = match text("operator").as_deref() {
                None | Some("in") => false,
                Some("notin") => true,
                Some(other) => return Err(WhenError::Operator(other.to_string())),
            };
            Ok(When {
                input: text("input").unwrap_or_default(),
                negated,
                values,
                cel: text("cel").filter(|c| !c.is_empty()),
            })
        })
        .collect()
}

/// Whether every expression holds once earlier steps' results are substituted.
pub fn holds(when: &[When], results: &mut StepResults<'_>) -> Result<bool, WhenError> {
    for expression in when {
        if let Some(cel) = &expression.cel {
            if !cel_holds(&results.substitute(cel))? {
                return Ok(false);
            }
            continue;
        }
        let input = results.substitute(&expression.input);
        let listed = results.splice(&expression.values).contains(&input);
        if listed == expression.negated {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Evaluate a CEL guard with no variables.
fn cel_holds(expression: &str) -> Result<bool, WhenError> {
    let error = |why: String| WhenError::Cel {
        expression: expression.to_string(),
        why,
    };
    let program = cel::Program::compile(expression).map_err(|e| error(e.to_string()))?;
    match program.execute(&cel::Context::default()) {
        Ok(cel::Value::Bool(holds)) => Ok(holds),
        Ok(other) => Err(error(format!("gives a {}, not a bool", other.type_of()))),
        Err(e) => Err(error(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(json: &str, dir: &std::path::Path) -> Result<bool, WhenError> {
        holds(&parse(json).unwrap(), &mut StepResults::new(dir))
    }

    #[test]
    fn in_and_notin_all_must_hold() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(decide("[]", dir.path()), Ok(true));
        let yes = r#"[{"input":"a","operator":"in","values":["b","a"]}]"#;
        assert_eq!(decide(yes, dir.path()), Ok(true));
        let no = r#"[{"input":"a","operator":"notin","values":["a"]}]"#;
        assert_eq!(decide(no, dir.path()), Ok(false));
        let both = r#"[{"input":"a","operator":"in","values":["a"]},{"input":"a","operator":"notin","values":["a"]}]"#;
        assert_eq!(decide(both, dir.path()), Ok(false));
    }

    #[test]
    fn step_results_are_substituted_first() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("step-check/results");
        std::fs::create_dir_all(&results).unwrap();
        std::fs::write(results.join("answer"), "yes").unwrap();
        std::fs::write(results.join("allowed"), r#"["maybe","yes"]"#).unwrap();
        let json = r#"[{"input":"$(steps.check.results.answer)","operator":"in","values":["$(steps.check.results.allowed[*])"]}]"#;
        assert_eq!(decide(json, dir.path()), Ok(true));
    }

    #[test]
    fn bad_input_is_an_error_not_a_decision() {
        assert!(matches!(parse("{"), Err(WhenError::Malformed(_))));
        assert!(matches!(
            parse(r#"[{"values":"a"}]"#),
            Err(WhenError::Malformed(_))
        ));
        assert_eq!(
            parse(r#"[{"input":"a","operator":"exists"}]"#),
            Err(WhenError::Operator("exists".into()))
        );
        let dir = tempfile::tempdir().unwrap();
        for (cel, why) in [
            ("'a' +", "Syntax error"),
            ("x == 1", "x"),
            ("'a'", "string"),
        ] {
            let json = serde_json::json!([{ "cel": cel }]).to_string();
            let error = decide(&json, dir.path()).unwrap_err().to_string();
            assert!(error.contains(cel) && error.contains(why), "{cel}: {error}");
        }
    }

    #[test]
    fn cel_guards_see_step_results_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("step-check/results");
        std::fs::create_dir_all(&results).unwrap();
        std::fs::write(results.join("answer"), "yes").unwrap();
        let guard = |cel: &str| {
            let json = serde_json::json!([{ "cel": cel }]).to_string();
            decide(&json, dir.path())
        };
        assert_eq!(guard("'$(steps.check.results.answer)' == 'yes'"), Ok(true));
        assert_eq!(
            guard("'$(steps.check.results.answer)' in ['no']"),
            Ok(false)
        );
        assert_eq!(
            guard("'$(steps.check.results.answer)'.matches('^y')"),
            Ok(true)
        );
    }
}
