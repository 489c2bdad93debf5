//! When-expressions decided before anything runs, where they depend only on params.

use super::model::WhenPlan;
use super::scope::Scope;
use crate::api::WhenExpression;
use crate::subst;

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
            plans.push(WhenPlan {
                expression: format!("cel: {}", scope.subst(cel)),
                value: None,
            });
            all_known = false;
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
        let value = known.then(|| {
            let contains = values.contains(&input);
            if op == "notin" {
                !contains
            } else {
                contains
            }
        });
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
