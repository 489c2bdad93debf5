//! A step's `when` guard (§4.3 step 3), decided when the step starts, once its
//! `$(steps.…)` references are filled in: every expression must hold (`in`: the input is
//! one of the values; `notin`: it is none of them; `cel`: the expression gives `true`).

use crate::api::param::operator_holds;
use crate::api::WhenExpression;
use crate::cel::{self, CelError};

/// A CEL expression of a step's guard that fails or gives no bool; worded as the step
/// entrypoint words it, so both executors report it alike.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("CEL expression {expression:?}: {why}")]
pub struct GuardError {
    /// The expression.
    pub expression: String,
    /// Why it has no bool value.
    pub why: CelError,
}

/// Whether the step runs; `Err` when a CEL expression fails or gives no bool.
pub fn step_runs(when: &[WhenExpression]) -> Result<bool, GuardError> {
    for w in when {
        let holds = match &w.cel {
            Some(expression) => cel::guard(expression).map_err(|why| GuardError {
                expression: expression.clone(),
                why,
            })?,
            None => operator_holds(
                w.operator.as_deref(),
                w.input.as_deref().unwrap_or(""),
                w.values.as_deref().unwrap_or(&[]),
            ),
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when(input: &str, operator: &str, values: &[&str]) -> WhenExpression {
        WhenExpression {
            input: Some(input.into()),
            operator: Some(operator.into()),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
            cel: None,
        }
    }

    #[test]
    fn every_expression_must_hold() {
        assert_eq!(step_runs(&[]), Ok(true));
        assert_eq!(step_runs(&[when("true", "in", &["true"])]), Ok(true));
        assert_eq!(step_runs(&[when("foo", "in", &["bar"])]), Ok(false));
        assert_eq!(step_runs(&[when("foo", "notin", &["bar"])]), Ok(true));
        assert_eq!(
            step_runs(&[when("a", "in", &["a"]), when("a", "notin", &["a"])]),
            Ok(false)
        );
        let cel = |c: &str| WhenExpression {
            cel: Some(c.into()),
            ..WhenExpression::default()
        };
        assert_eq!(step_runs(&[cel("'foo' == 'foo'")]), Ok(true));
        assert_eq!(step_runs(&[cel("'foo' == 'bar'")]), Ok(false));
        assert!(step_runs(&[cel("'a' + 'b'")]).is_err(), "not a bool");
    }
}
