//! When-expressions of PipelineTasks and steps (spec §2.8, §4.15): a guard is either a `cel`
//! expression alone (behind a feature flag) or `input`, `operator` (`in`/`notin`) and non-empty
//! `values`.
//!
//! Only the guard's shape is checked here, and that a `cel` text compiles as Tekton's webhook
//! compiles it (no variables declared: `$(...)` references must sit inside quotes, since they
//! are substituted as text before evaluation); what its strings may reference is checked with
//! the rest of the PipelineTask's variables in [`super::pipeline`] and [`super::graph`].

use super::Ctx;
use crate::api::WhenExpression;
use crate::cel::{CelError, Expression};
use crate::diagnostic::{Anchor, Diagnostic};

/// Validates the `when` list of the PipelineTask or step at `task_path`.
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
    let at = format!("{path}.cel");
    if !ctx.flags.enable_cel_in_when {
        ctx.flag_gate(
            "enable-cel-in-whenexpression: true",
            "a CEL when-expression",
            at.clone(),
        );
    } else if ctx.flags.warn_assumed_cel_in_when {
        let message = "a CEL when-expression is alpha: a cluster runs it only with \"enable-cel-in-whenexpression: true\" in the feature-flags ConfigMap";
        ctx.push(
            Diagnostic::warning("gate/assumed-flag", message)
                .at(at.clone())
                .at_key()
                .hint("adze run treats the flag as on; pass --feature-flag 'enable-cel-in-whenexpression=true' to state it, or use input/operator/values"),
        );
    }
    if with_input {
        let message =
            format!("cel and input+operator+values cannot be set in one WhenExpression: {cel}");
        ctx.error("when/cel-exclusive", at, message).hint = Some(
            "split it into two when-expressions: one with `cel`, one with input/operator/values"
                .into(),
        );
        return;
    }
    if let Err(e) = Expression::compile(cel, []) {
        // The snippet shows the expression; a very long one is cut in the message.
        let shown = match cel.char_indices().nth(120) {
            Some((end, _)) => format!("{}…", &cel[..end]),
            None => cel.to_owned(),
        };
        let message = format!("invalid cel expression: {shown} with err: {e}");
        let mut d = Diagnostic::error("when/cel-invalid", message)
            .at(at)
            .hint(cel_hint(cel, &e));
        if let Some(p) = e.position() {
            d = d.inside(p.offset, p.len);
        }
        ctx.push(d);
    }
}

/// How to fix a CEL text that does not compile.
fn cel_hint(cel: &str, e: &CelError) -> String {
    match e {
        CelError::Syntax { at, .. } if cel[at.offset..].starts_with("$(") => {
            "Tekton substitutes $(...) as text before evaluating: quote it, e.g. \"'$(params.branch)' == 'main'\"".into()
        }
        CelError::Undeclared { name, .. } => format!(
            "Tekton declares no CEL variables: write `{name}` as a quoted $(...) reference, e.g. \"'$({name}.x)' == 'y'\", or as a string literal"
        ),
        _ => "fix the expression (CEL language definition: github.com/google/cel-spec, doc/langdef.md)".into(),
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

    #[test]
    fn cel_must_compile_and_its_error_points_inside_the_string() {
        let flags = Flags {
            enable_cel_in_when: true,
            ..Flags::default()
        };
        let d = check_with(
            &with_when("    - cel: \"$(params.branch) == 'main'\"\n    - cel: \"'a' ==\"\n    - cel: \"branch == 'main'\"\n"),
            &flags,
        );
        let invalid: Vec<_> = d.iter().filter(|d| d.code == "when/cel-invalid").collect();
        assert_eq!(invalid.len(), 3, "{d:#?}");
        assert_eq!(at(invalid[0]), ("spec.tasks[0].when[0].cel", 9, 13));
        assert!(invalid[0].message.starts_with(
            "invalid cel expression: $(params.branch) == 'main' with err: ERROR: <input>:1:1:"
        ));
        assert!(invalid[0].hint.as_deref().unwrap().contains("quote it"));
        // Line 10 is `    - cel: "'a' =="`: the parser stops past the operator.
        let (_, line, col) = at(invalid[1]);
        assert_eq!(line, 10);
        assert!(col > 13, "column {col} points inside the expression");
        assert_eq!(at(invalid[2]), ("spec.tasks[0].when[2].cel", 11, 13));
        assert!(invalid[2]
            .message
            .ends_with("undeclared reference to 'branch'"));
    }

    #[test]
    fn steps_when_is_checked_too() {
        let yaml = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec:\n  steps:\n  - image: x\n    when: [{input: a, operator: eq, values: [a]}]\n";
        assert_eq!(
            only(&check(yaml), "when/operator").field.as_deref(),
            Some("spec.steps[0].when[0].operator")
        );
    }

    #[test]
    fn an_assumed_flag_warns_under_strict() {
        let flags = Flags {
            enable_cel_in_when: true,
            warn_assumed_cel_in_when: true,
            ..Flags::default()
        };
        let d = check_with(&with_when("    - {cel: \"'a' == 'a'\"}\n"), &flags);
        assert_no_errors(&d);
        let w = only(&d, "gate/assumed-flag");
        assert_eq!(w.severity, Severity::Warning);
        assert!(w.message.contains("enable-cel-in-whenexpression: true"));
    }
}
