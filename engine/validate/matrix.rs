//! Matrix rules (spec §2.8, §4.17): a matrixed PipelineTask fans out into one TaskRun per
//! combination of its `matrix.params` (plus `include` entries), so admission bounds the count,
//! forbids a param in both `params` and `matrix`, and makes consumers read the task's results
//! only as whole arrays (`$(tasks.t.results.r[*])`), which requires string results.
//!
//! The count is Tekton's admission formula, not the real fan-out: it is what the cluster checks
//! against `default-max-matrix-combinations-count` and what `$(tasks.t.matrix.length)` reports.

use std::collections::HashMap;

use super::pipeline_texts::{Field, Site};
use super::{params, references, ApiFields, Ctx};
use crate::api::param::ParamValue;
use crate::api::pipeline::Matrix;
use crate::api::task::TaskResult;
use crate::api::{PipelineSpec, PipelineTask};
use crate::diagnostic::Diagnostic;
use crate::subst::{sole_reference, Access, Var};

/// Whether the task fans out: it has matrix params or include entries.
pub fn is_matrixed(pt: &PipelineTask) -> bool {
    pt.matrix
        .as_ref()
        .is_some_and(|m| !m.params.is_empty() || !m.include.is_empty())
}

/// Tekton's admission count of combinations (§4.17).
pub fn count_combinations(m: &Matrix) -> usize {
    if m.params.is_empty() {
        return m.include.len();
    }
    let from_params = m
        .params
        .iter()
        .map(|p| match &p.value {
            ParamValue::Array(items) => items.len(),
            _ => 0,
        })
        .fold(1usize, usize::saturating_mul);
    let values: HashMap<&str, &[String]> = m
        .params
        .iter()
        .map(|p| match &p.value {
            ParamValue::Array(items) => (p.name.as_str(), items.as_slice()),
            _ => (p.name.as_str(), &[][..]),
        })
        .collect();
    let from_include: usize = m
        .include
        .iter()
        .map(|inc| new_from_include(&inc.params, &values))
        .sum();
    from_params.saturating_add(from_include)
}

/// One per include param naming a matrix param with a value outside its list, up to the first
/// param whose value is inside it.
fn new_from_include(include: &[crate::api::Param], values: &HashMap<&str, &[String]>) -> usize {
    let mut count = 0;
    for p in include {
        let Some(list) = values.get(p.name.as_str()) else {
            continue;
        };
        let value = match &p.value {
            ParamValue::String(s) => s.as_str(),
            _ => "",
        };
        if list.iter().any(|v| v == value) {
            break;
        }
        count += 1;
    }
    count
}

/// Validates the matrix of the PipelineTask at `path`.
pub fn check(ctx: &mut Ctx<'_>, pt: &PipelineTask, path: &str) {
    let Some(m) = &pt.matrix else { return };
    check_not_in_both(ctx, pt, m, path);
    if !is_matrixed(pt) {
        return;
    }
    ctx.gate(ApiFields::Beta, "matrix", format!("{path}.matrix"));
    let count = count_combinations(m);
    let max = ctx.flags.max_matrix_combinations;
    if count > max {
        let d = ctx.error(
            "matrix/too-many-combinations",
            format!("{path}.matrix"),
            format!("expected 0 <= {count} <= {max}: matrix"),
        );
        d.hint = Some(format!(
            "this matrix makes {count} TaskRuns; split it, or raise default-max-matrix-combinations-count on the cluster"
        ));
        d.anchor = crate::diagnostic::Anchor::Key;
    }
    params::validate_param_values(ctx, &m.params, &format!("{path}.matrix.params"), false);
    for (i, inc) in m.include.iter().enumerate() {
        params::validate_param_values(
            ctx,
            &inc.params,
            &format!("{path}.matrix.include[{i}].params"),
            false,
        );
    }
    check_value_types(ctx, m, path);
}

fn check_not_in_both(ctx: &mut Ctx<'_>, pt: &PipelineTask, m: &Matrix, path: &str) {
    let in_matrix: Vec<&str> = m
        .params
        .iter()
        .chain(m.include.iter().flat_map(|i| i.params.iter()))
        .map(|p| p.name.as_str())
        .collect();
    for (i, p) in pt.params.iter().enumerate() {
        if in_matrix.contains(&p.name.as_str()) {
            let name = &p.name;
            ctx.error(
                "matrix/param-in-both",
                format!("{path}.params[{i}].name"),
                format!("expected exactly one, got both: matrix[{name}], params[{name}]"),
            )
            .hint = Some(format!(
                "\"{name}\" is set by the matrix; remove it from `params`"
            ));
        }
    }
}

/// Matrix params fan out arrays; include params are single strings (§4.17).
fn check_value_types(ctx: &mut Ctx<'_>, m: &Matrix, path: &str) {
    for (i, p) in m.params.iter().enumerate() {
        let whole_ref = matches!(&p.value, ParamValue::String(s)
            if sole_reference(s).is_some_and(|r| r.var.is_whole_collection()));
        if !whole_ref && !matches!(p.value, ParamValue::Array(_)) {
            let message = format!(
                "parameters of type array only are allowed, but param \"{}\" has type \"{}\"",
                p.name,
                p.value.param_type().as_str()
            );
            ctx.error(
                "matrix/param-type",
                format!("{path}.matrix.params[{i}].value"),
                message,
            )
            .hint =
                Some("a matrix param lists the values to fan out over: write value: [a, b]".into());
        }
    }
    for (i, inc) in m.include.iter().enumerate() {
        for (j, p) in inc.params.iter().enumerate() {
            if !matches!(p.value, ParamValue::String(_)) {
                let message = format!(
                    "parameters of type string only are allowed in matrix.include, but param \"{}\" has type \"{}\"",
                    p.name,
                    p.value.param_type().as_str()
                );
                ctx.error(
                    "matrix/param-type",
                    format!("{path}.matrix.include[{i}].params[{j}].value"),
                    message,
                )
                .hint = Some("an include entry sets one value per param".into());
            }
        }
    }
}

/// Consumers of a matrixed task's results must take the whole array (`[*]`), and those results
/// must be declared `string`.
pub(crate) fn check_consumption(ctx: &mut Ctx<'_>, spec: &PipelineSpec, all: &[Site<'_>]) {
    let bundle = ctx.bundle;
    let matrixed: HashMap<&str, &PipelineTask> = spec
        .tasks
        .iter()
        .filter(|pt| is_matrixed(pt))
        .map(|pt| (pt.name.as_str(), pt))
        .collect();
    if matrixed.is_empty() {
        return;
    }
    for site in all {
        for t in &site.texts {
            if !matches!(t.field, Field::Params | Field::Matrix) {
                continue;
            }
            for r in &t.refs {
                let Var::TaskResult {
                    task,
                    result,
                    access,
                } = &r.var
                else {
                    continue;
                };
                let Some(producer) = matrixed.get(task.as_str()) else {
                    continue;
                };
                if *access != Access::Star {
                    let message = format!(
                        "A matrixed pipelineTask can only be consumed in aggregate using [*] notation, but is currently set to {}",
                        r.text
                    );
                    ctx.push(
                        Diagnostic::error("matrix/result-not-aggregated", message)
                            .at(t.path.clone())
                            .inside(r.span.start, r.span.len())
                            .hint(format!("\"{task}\" runs once per combination: use $(tasks.{task}.results.{result}[*])")),
                    );
                }
                let declared = references::task_spec_of(bundle, producer)
                    .and_then(|ts| ts.results.iter().find(|d| d.name == *result));
                if let Some(ty) = declared.map(result_type).filter(|ty| *ty != "string") {
                    let message = format!(
                        "Matrixed PipelineTasks emitting results must have an underlying type string, but result {result} has type {ty} in pipelineTask"
                    );
                    ctx.push(
                        Diagnostic::error("matrix/result-type", message)
                            .at(t.path.clone())
                            .inside(r.span.start, r.span.len())
                            .hint("each run's string result becomes one element of the aggregated array; declare it `type: string`"),
                    );
                }
            }
        }
    }
}

/// A task result's type after defaulting: explicit, else `object` with properties, else `string`.
fn result_type(r: &TaskResult) -> &str {
    match (&r.type_, &r.properties) {
        (Some(t), _) => t,
        (None, Some(_)) => "object",
        (None, None) => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::{count_combinations, Matrix, ParamValue};
    use crate::api::Param;
    use crate::validate::test_support::{at, check, only};

    fn param(name: &str, values: &[&str]) -> Param {
        Param {
            name: name.into(),
            value: ParamValue::Array(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn include(pairs: &[(&str, &str)]) -> crate::api::pipeline::MatrixInclude {
        crate::api::pipeline::MatrixInclude {
            name: None,
            params: pairs
                .iter()
                .map(|(n, v)| Param {
                    name: n.to_string(),
                    value: ParamValue::String(v.to_string()),
                })
                .collect(),
        }
    }

    #[test]
    fn counts_like_tekton_admission() {
        let m = Matrix {
            params: vec![
                param("os", &["linux", "mac"]),
                param("arch", &["amd64", "arm64", "s390x"]),
            ],
            include: vec![
                include(&[("os", "windows"), ("arch", "amd64")]),
                include(&[("os", "linux"), ("arch", "riscv")]),
                include(&[("extra", "x")]),
            ],
        };
        assert_eq!(count_combinations(&m), 6 + 1);
        let only_include = Matrix {
            params: vec![],
            include: vec![include(&[("a", "1")]), include(&[("a", "2")])],
        };
        assert_eq!(count_combinations(&only_include), 2);
        let two_new = Matrix {
            params: vec![param("os", &["linux"]), param("arch", &["amd64"])],
            include: vec![include(&[("os", "bsd"), ("arch", "mips")])],
        };
        assert_eq!(count_combinations(&two_new), 3);
    }

    #[test]
    fn too_many_combinations_and_param_types() {
        let values: Vec<String> = (0..17).map(|i| format!("\"v{i}\"")).collect();
        let list = values.join(", ");
        let yaml = format!(
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {{name: p}}\nspec:\n  tasks:\n  - name: a\n    params: [{{name: x, value: \"1\"}}]\n    matrix:\n      params:\n      - {{name: x, value: [{list}]}}\n      - {{name: y, value: [{list}]}}\n    taskSpec: {{steps: [{{image: x}}]}}\n  - name: b\n    matrix: {{params: [{{name: z, value: plain}}]}}\n    taskSpec: {{steps: [{{image: x}}]}}\n"
        );
        let d = check(&yaml);
        let e = only(&d, "matrix/too-many-combinations");
        assert_eq!(e.message, "expected 0 <= 289 <= 256: matrix");
        assert_eq!(at(e), ("spec.tasks[0].matrix", 8, 5));
        assert_eq!(
            at(only(&d, "matrix/param-in-both")),
            ("spec.tasks[0].params[0].name", 7, 21)
        );
        assert_eq!(
            only(&d, "matrix/param-type").field.as_deref(),
            Some("spec.tasks[1].matrix.params[0].value")
        );
    }

    #[test]
    fn results_of_matrixed_tasks_are_consumed_whole() {
        let d = check(
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  tasks:\n  - name: m\n    matrix: {params: [{name: v, value: [a, b]}]}\n    taskSpec:\n      params: [{name: v}]\n      results: [{name: r}, {name: arr, type: array}]\n      steps: [{image: x}]\n  - name: c\n    params:\n    - {name: one, value: $(tasks.m.results.r)}\n    - {name: all, value: \"$(tasks.m.results.r[*])\"}\n    - {name: arr, value: \"$(tasks.m.results.arr[*])\"}\n    taskSpec: {steps: [{image: x}]}\n",
        );
        let e = only(&d, "matrix/result-not-aggregated");
        assert_eq!(at(e), ("spec.tasks[1].params[0].value", 14, 26));
        assert_eq!(
            only(&d, "matrix/result-type").field.as_deref(),
            Some("spec.tasks[1].params[2].value")
        );
    }
}
