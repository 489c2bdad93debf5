//! When-expressions of PipelineTasks (spec §2.8, §4.15): a guard is either a `cel` expression
//! alone (behind a feature flag) or `input`, `operator` (`in`/`notin`) and non-empty `values`.
//!
//! Only the guard's shape is checked here; what its strings may reference is checked with the
//! rest of the PipelineTask's variables in [`super::pipeline`] and [`super::graph`].

use super::Ctx;
use crate::api::WhenExpression;
use crate::diagnostic::Anchor;

/// Validates the `when` list of the PipelineTask at `task_path`.
pub fn check(ctx: &mut Ctx<'_>, when: &[WhenExpression], task_path: &str) {
    for (i, w) in when.iter().enumerate() {
        check_one(ctx, w, &format!("{task_path}.when[{i}]"));
    }
}

fn check_one(ctx: &mut Ctx<'_>, w: &WhenExpression, path: &str) {
    let input = w.input.as_deref().unwrap_or("");
    let operator = w.operator.as_deref().unwrap_or("");
    let values = w.values.as_deref().unwrap_or(&[]);
    if let Some(cel) = w.cel.as_deref().filter(|c| !c.is_empty()) {
        check_cel(
            ctx,
            cel,
            !input.is_empty() || !operator.is_empty() || !values.is_empty(),
            path,
        );
        return;
    }
    if input.is_empty() && operator.is_empty() && values.is_empty() {
        ctx.error(
            "when/empty",
            path,
            "missing field(s): input, operator, values",
        )
        .hint = Some(
            "write `{input: ..., operator: in, values: [...]}`, or remove the empty entry".into(),
        );
        return;
    }
    if operator != "in" && operator != "notin" {
        let at = if w.operator.is_some() {
            format!("{path}.operator")
        } else {
            path.to_string()
        };
        let message =
            format!("operator \"{operator}\" is not recognized. valid operators: in,notin");
        ctx.error("when/operator", at, message).hint = Some(operator_hint(operator).into());
    }
    if values.is_empty() {
        let d = ctx.error(
            "when/values-empty",
            format!("{path}.values"),
            "expecting non-empty values field",
        );
        d.hint = Some("list the values `input` is compared with, e.g. values: [\"main\"]".into());
        if w.values.is_some() {
            d.anchor = Anchor::Key;
        }
    }
}

fn check_cel(ctx: &mut Ctx<'_>, cel: &str, with_input: bool, path: &str) {
    if !ctx.flags.enable_cel_in_when {
        ctx.flag_gate(
            "enable-cel-in-whenexpression: true",
            "a CEL when-expression",
            format!("{path}.cel"),
        );
    }
    if with_input {
        let message =
            format!("cel and input+operator+values cannot be set in one WhenExpression: {cel}");
        ctx.error("when/cel-exclusive", format!("{path}.cel"), message)
            .hint = Some(
            "split it into two when-expressions: one with `cel`, one with input/operator/values"
                .into(),
        );
    }
}

fn operator_hint(operator: &str) -> &'static str {
    match operator {
        "" => "add `operator: in` or `operator: notin`",
        "=" | "==" | "In" | "IN" | "eq" => "did you mean `in`?",
        "!=" | "NotIn" | "not in" | "not_in" | "ne" => "did you mean `notin`?",
        _ => "use `in` or `notin`",
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::validate::test_support::*;
    use crate::validate::Flags;

    fn with_when(when: &str) -> String {
        format!(
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {{name: p}}\nspec:\n  tasks:\n  - name: a\n    taskSpec: {{steps: [{{image: x}}]}}\n    when:\n{when}"
        )
    }

    #[test]
    fn operator_and_values() {
        let d = check(&with_when(
            "    - {input: a, operator: ==, values: [a]}\n    - {input: a, operator: in, values: []}\n    - {}\n",
        ));
        let op = only(&d, "when/operator");
        assert_eq!(
            op.message,
            "operator \"==\" is not recognized. valid operators: in,notin"
        );
        assert_eq!(at(op), ("spec.tasks[0].when[0].operator", 9, 28));
        assert_eq!(op.hint.as_deref(), Some("did you mean `in`?"));
        assert_eq!(
            at(only(&d, "when/values-empty")),
            ("spec.tasks[0].when[1].values", 10, 32)
        );
        assert_eq!(
            only(&d, "when/empty").field.as_deref(),
            Some("spec.tasks[0].when[2]")
        );
    }

    #[test]
    fn cel_needs_its_flag_and_stands_alone() {
        let yaml = with_when("    - {cel: \"'a' == 'a'\", input: a}\n");
        let d = check(&yaml);
        assert_eq!(only(&d, "gate/feature-flag").severity, Severity::Warning);
        assert_eq!(
            at(only(&d, "when/cel-exclusive")),
            ("spec.tasks[0].when[0].cel", 9, 13)
        );
        let flags = Flags {
            enable_cel_in_when: true,
            ..Flags::default()
        };
        let d = check_with(&with_when("    - {cel: \"'a' == 'a'\"}\n"), &flags);
        assert_no_errors(&d);
        assert_none(&d, "gate/feature-flag");
    }
}
