//! Replacing references with values, the way one stage of Tekton's substitution does.

use super::scan::{items, sole_reference};
use super::Var;

/// One-pass literal substitution (no re-scan of inserted text); `lookup` returns the replacement or None to keep the reference verbatim.
pub fn substitute(s: &str, mut lookup: impl FnMut(&Var) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for reference in items(s).flatten() {
        if let Some(value) = lookup(&reference.var) {
            out.push_str(&s[copied..reference.span.start]);
            out.push_str(&value);
            copied = reference.span.end;
        }
    }
    out.push_str(&s[copied..]);
    out
}

/// Array splice: an element that is exactly one whole-collection reference with an array value becomes its elements; others get string substitution.
pub fn splice_array(
    items: &[String],
    mut lookup_array: impl FnMut(&Var) -> Option<Vec<String>>,
    mut lookup_str: impl FnMut(&Var) -> Option<String>,
) -> Vec<String> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let elements = sole_reference(item)
            .filter(|reference| reference.var.is_whole_collection())
            .and_then(|reference| lookup_array(&reference.var));
        match elements {
            Some(elements) => out.extend(elements),
            None => out.push(substitute(item, &mut lookup_str)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Access;
    use super::*;

    /// A lookup that knows `params.<name>` as `value`.
    fn params<'a>(known: &'a [(&str, &str)]) -> impl FnMut(&Var) -> Option<String> + 'a {
        move |var| match var {
            Var::Param {
                name,
                access: Access::Whole,
            } => known
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, value)| value.to_string()),
            _ => None,
        }
    }

    /// An array lookup that knows param `a` as `elements`.
    fn array_a<'a>(elements: &'a [&'a str]) -> impl FnMut(&Var) -> Option<Vec<String>> + 'a {
        move |var| match var {
            Var::Param { name, .. } if name == "a" => {
                Some(elements.iter().map(ToString::to_string).collect())
            }
            _ => None,
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn replaces_every_known_reference() {
        let known = [("x", "1"), ("y", "2")];
        let out = substitute("a $(params.x)$(params['y']) b", params(&known));
        assert_eq!(out, "a 12 b");
    }

    #[test]
    fn unknown_and_malformed_stay_verbatim() {
        let text = "$(params.z) $(params.) $(date) $$(params.x)";
        assert_eq!(substitute(text, params(&[("x", "1")])), text);
    }

    #[test]
    fn inserted_text_is_not_rescanned() {
        let known = [("x", "$(params.y)"), ("y", "no")];
        assert_eq!(substitute("$(params.x)", params(&known)), "$(params.y)");
    }

    #[test]
    fn references_inside_shell_are_replaced() {
        let out = substitute("v=$(cat $(results.x.path))", |var| match var {
            Var::ResultPath { name } => Some(format!("/tekton/results/{name}")),
            _ => None,
        });
        assert_eq!(out, "v=$(cat /tekton/results/x)");
    }

    #[test]
    fn multibyte_text_survives() {
        let out = substitute(
            "é$(params.x)€$(params.y)😀",
            params(&[("x", "ü"), ("y", "")]),
        );
        assert_eq!(out, "éü€😀");
    }

    #[test]
    fn splice_replaces_isolated_whole_arrays() {
        let items = strings(&["$(params.a[*])", "x", "$(params.a)"]);
        let out = splice_array(&items, array_a(&["1", "2"]), params(&[]));
        assert_eq!(out, strings(&["1", "2", "x", "1", "2"]));
    }

    #[test]
    fn splice_of_empty_array_removes_the_element() {
        let items = strings(&["before", "$(params.a[*])", "after"]);
        let out = splice_array(&items, array_a(&[]), params(&[]));
        assert_eq!(out, strings(&["before", "after"]));
    }

    #[test]
    fn splice_leaves_embedded_and_indexed_references_to_strings() {
        let items = strings(&[
            "-f=$(params.a[*])",
            "$(params.a[0])",
            " $(params.a)",
            "$(params.s)",
        ]);
        let mut asked = Vec::new();
        let out = splice_array(&items, array_a(&["1"]), |var| {
            asked.push(var.to_string());
            (var.to_string() == "params.s").then(|| "S".to_string())
        });
        assert_eq!(
            out,
            strings(&["-f=$(params.a[*])", "$(params.a[0])", " $(params.a)", "S"])
        );
        assert_eq!(
            asked,
            ["params.a[*]", "params.a[0]", "params.a", "params.s"]
        );
    }

    #[test]
    fn splice_task_result_arrays() {
        let items = strings(&["$(tasks.t.results.r[*])", "$(tasks.t.results.r)"]);
        let out = splice_array(
            &items,
            |var| match var {
                Var::TaskResult { result, .. } if result == "r" => Some(strings(&["a", "b"])),
                _ => None,
            },
            |_| None,
        );
        assert_eq!(out, strings(&["a", "b", "a", "b"]));
    }

    #[test]
    fn splice_falls_back_to_string_for_non_arrays() {
        let items = strings(&["$(params.s)", "$(params.a)"]);
        let out = splice_array(&items, |_| None, params(&[("s", "str"), ("a", "A")]));
        assert_eq!(out, strings(&["str", "A"]));
    }
}
