//! When-expressions decided before anything runs, where they depend only on params.

use super::model::WhenPlan;
use super::scope::Scope;
use crate::api::param::operator_holds;
use crate::api::WhenExpression;
use crate::subst::{self, Var};

/// Every string of the when-expressions (inputs, values, CEL).
pub(super) fn when_strings(when: &[WhenExpression]) -> impl Iterator<Item = &str> {
    when.iter().flat_map(|w| {
        w.input
            .iter()
            .chain(w.values.iter().flatten())
            .chain(w.cel.iter())
            .map(String::as_str)
    })
}

/// Substitutes the expressions; `Some(value)` when all are decided statically, `Some(false)`
/// as soon as one is statically false, `None` when some depend on run-time values.
pub(super) fn evaluate_when(
    when: &[WhenExpression],
    scope: &Scope,
) -> (Vec<WhenPlan>, Option<bool>) {
    let mut plans = Vec::new();
    let mut all_known = true;
    let mut all_true = true;
    for w in when {
        if let Some(cel) = &w.cel {
            let text = scope.subst(cel);
            // Decided now when only params and context are involved; result placeholders
            // (`<a.r>`) and unknown references wait for the run.
            let static_refs = subst::scan(cel).refs.iter().all(|r| {
                matches!(
                    r.var,
                    Var::Param { .. } | Var::Context { .. } | Var::Workspace { .. }
                )
            });
            let value = if static_refs && subst::scan(&text).refs.is_empty() {
                crate::cel::guard(&text).map_err(|e| e.to_string())
            } else {
                Err(String::new())
            };
            let expression = match &value {
                Err(e) if !e.is_empty() => format!("cel: {text} (fails: {e})"),
                _ => format!("cel: {text}"),
            };
            let value = value.ok();
            plans.push(WhenPlan { expression, value });
            match value {
                Some(v) => all_true &= v,
                None => all_known = false,
            }
            continue;
        }
        let input = w
            .input
            .as_deref()
            .map(|i| when_input(i, scope))
            .unwrap_or_default();
        let values = scope.subst_list(w.values.as_deref().unwrap_or(&[]));
        let op = w.operator.clone().unwrap_or_default();
        let dynamic =
            |s: &str| s.contains('<') && s.contains('>') || !subst::scan(s).refs.is_empty();
        let known = !dynamic(&input) && !values.iter().any(|v| dynamic(v));
        let value = known.then(|| operator_holds(Some(op.as_str()), &input, &values));
        plans.push(WhenPlan {
            expression: format!("{input:?} {op} {values:?}"),
            value,
        });
        match value {
            Some(v) => all_true &= v,
            None => all_known = false,
        }
    }
    let decided = if !all_true {
        Some(false)
    } else if all_known {
        Some(true)
    } else {
        None
    };
    (plans, decided)
}

/// A when input that is a whole-array reference becomes the JSON of the array.
fn when_input(input: &str, scope: &Scope) -> String {
    if let Some(r) = subst::sole_reference(input) {
        if let Some(items) = scope.array(&r.var) {
            return serde_json::to_string(&items).unwrap_or_default();
        }
    }
    scope.subst(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ParamValue;

    fn cel(text: &str) -> WhenExpression {
        WhenExpression {
            cel: Some(text.to_owned()),
            ..WhenExpression::default()
        }
    }

    #[test]
    fn cel_on_params_is_decided_and_on_results_waits() {
        let mut scope = Scope {
            result_placeholders: true,
            ..Scope::default()
        };
        scope
            .params
            .insert("branch".into(), ParamValue::String("main".into()));
        let (plans, decided) = evaluate_when(&[cel("'$(params.branch)' == 'main'")], &scope);
        assert_eq!((plans[0].value, decided), (Some(true), Some(true)));
        assert_eq!(plans[0].expression, "cel: 'main' == 'main'");
        let (_, decided) = evaluate_when(&[cel("'$(params.branch)' != 'main'")], &scope);
        assert_eq!(decided, Some(false));
        let (plans, decided) = evaluate_when(&[cel("'$(tasks.a.results.r)' == 'x'")], &scope);
        assert_eq!((plans[0].value, decided), (None, None));
        let (plans, decided) = evaluate_when(&[cel("'$(params.branch)' + 'x'")], &scope);
        assert_eq!((plans[0].value, decided), (None, None));
        assert!(plans[0]
            .expression
            .contains("is not evaluated to a boolean"));
    }
}
