//! Matrix fan-out (spec §4.17): which combinations of params a matrixed task runs with.

use super::model::{MatrixPlan, NamedValue};
use super::scope::Scope;
use crate::api::pipeline::PipelineTask;
use crate::api::ParamValue;

/// One combination: (name, value) pairs.
pub type Combination = Vec<(String, String)>;

/// Expands matrix params and includes into combinations, in Tekton's order: the first
/// param varies fastest, includes merge into agreeing combinations or are appended.
pub fn combinations(
    params: &[(String, Vec<String>)],
    include: &[Vec<(String, String)>],
) -> Vec<Combination> {
    let mut combos: Vec<Combination> = Vec::new();
    if !params.is_empty() {
        combos.push(Vec::new());
    }
    for (name, values) in params {
        let mut next = Vec::with_capacity(combos.len() * values.len());
        for value in values {
            for combo in &combos {
                let mut c = combo.clone();
                c.push((name.clone(), value.clone()));
                next.push(c);
            }
        }
        combos = next;
    }
    let matrix_names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    for inc in include {
        if params.is_empty() {
            combos.push(inc.clone());
            continue;
        }
        let mut merged = false;
        for combo in &mut combos {
            let agrees = inc.iter().all(|(n, v)| {
                !matrix_names.contains(&n.as_str())
                    || combo.iter().all(|(cn, cv)| cn != n || cv == v)
            });
            if agrees {
                for (n, v) in inc {
                    match combo.iter_mut().find(|(cn, _)| cn == n) {
                        Some(slot) => slot.1.clone_from(v),
                        None => combo.push((n.clone(), v.clone())),
                    }
                }
                merged = true;
            }
        }
        if !merged && !inc.is_empty() {
            combos.push(inc.clone());
        }
    }
    for c in &mut combos {
        c.sort();
    }
    combos
}

/// Matrix combinations, or why they are only known at run time; also the placeholder
/// params that steps show for matrixed values.
pub(super) fn plan_matrix(
    pt: &PipelineTask,
    scope: &Scope,
) -> (Option<MatrixPlan>, Vec<(String, String)>) {
    let Some(m) = &pt.matrix else {
        return (None, Vec::new());
    };
    let mut axes = Vec::new();
    let mut dynamic = None;
    for p in &m.params {
        match scope.subst_value(&p.value) {
            ParamValue::Array(items)
                if !items.iter().any(|i| i.starts_with('<') && i.ends_with('>')) =>
            {
                axes.push((p.name.clone(), items));
            }
            other => {
                dynamic = Some(format!("{} from {}", p.name, other.strings().join(", ")));
            }
        }
    }
    let include: Vec<Vec<(String, String)>> = m
        .include
        .iter()
        .map(|inc| {
            inc.params
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        scope.subst_value(&p.value).strings().join(","),
                    )
                })
                .collect()
        })
        .collect();
    let names: Vec<(String, String)> = m
        .params
        .iter()
        .chain(m.include.iter().flat_map(|i| i.params.iter()))
        .map(|p| (p.name.clone(), format!("<matrix {}>", p.name)))
        .collect();
    let combinations = if dynamic.is_some() {
        Vec::new()
    } else {
        combinations(&axes, &include)
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|(name, v)| NamedValue {
                        name,
                        value: ParamValue::String(v),
                        source: None,
                    })
                    .collect()
            })
            .collect()
    };
    (
        Some(MatrixPlan {
            combinations,
            decided_at_run_time: dynamic,
        }),
        names,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, values: &[&str]) -> (String, Vec<String>) {
        (name.into(), values.iter().map(|v| v.to_string()).collect())
    }

    fn render(c: &[Combination]) -> Vec<String> {
        c.iter()
            .map(|c| {
                c.iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    }

    #[test]
    fn first_param_varies_fastest() {
        let c = combinations(&[p("os", &["linux", "mac"]), p("br", &["a", "b"])], &[]);
        assert_eq!(
            render(&c),
            [
                "br=a,os=linux",
                "br=a,os=mac",
                "br=b,os=linux",
                "br=b,os=mac"
            ]
        );
    }

    #[test]
    fn includes_merge_or_append() {
        let inc = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let c = combinations(
            &[p("go", &["1.21", "1.22"])],
            &[
                inc(&[("go", "1.21"), ("flags", "-race")]),
                inc(&[("go", "1.23")]),
            ],
        );
        assert_eq!(render(&c), ["flags=-race,go=1.21", "go=1.22", "go=1.23"]);
    }

    #[test]
    fn include_only_gives_exactly_the_includes() {
        let c = combinations(
            &[],
            &[
                vec![("a".into(), "1".into())],
                vec![("a".into(), "2".into())],
            ],
        );
        assert_eq!(render(&c), ["a=1", "a=2"]);
    }
}
