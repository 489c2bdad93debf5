//! What Tekton substitutes into resolver params, and the scopes it substitutes from.
//!
//! A PipelineRun's params (and `context.pipelineRun.*`) reach its `pipelineRef` params; a
//! Pipeline's params (run values over defaults) reach its tasks' `taskRef` params; a
//! TaskRun's params reach its `taskRef` params; a Task's params reach its steps' `ref`
//! params. The pass and the core (plan, run) both key remote objects with [`ref_key`], so
//! they agree on what a reference names.

use std::collections::HashMap;

use crate::api::{Kind, Param, ParamSpec, ParamValue};
use crate::load::remote::{resolver_params, RemoteKey};
use crate::plan::scope::Scope;

/// The key of a remote reference after substitution, or `None` when a param still holds a
/// `$(...)` the scope cannot give (a result, an unknown param): such a reference is only
/// known at run time.
pub fn ref_key(kind: Kind, resolver: &str, params: &[Param], scope: &Scope) -> Option<RemoteKey> {
    let substituted: Vec<Param> = params
        .iter()
        .map(|p| Param {
            name: p.name.clone(),
            value: scope.subst_value(&p.value),
        })
        .collect();
    let params = resolver_params(&substituted);
    if params.iter().any(|p| p.value.contains("$(")) {
        return None;
    }
    Some(RemoteKey::new(kind, resolver, &params))
}

/// A scope holding `given` params over the `declared` defaults.
pub fn params_scope(declared: &[ParamSpec], given: &[Param]) -> Scope {
    let mut params: HashMap<String, ParamValue> = declared
        .iter()
        .filter_map(|d| Some((d.name.clone(), d.default.clone()?)))
        .collect();
    for p in given {
        params.insert(p.name.clone(), p.value.clone());
    }
    Scope {
        params,
        ..Scope::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, value: &str) -> Param {
        Param {
            name: name.into(),
            value: ParamValue::String(value.into()),
        }
    }

    fn spec(name: &str, default: Option<&str>) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            default: default.map(|d| ParamValue::String(d.into())),
            ..ParamSpec::default()
        }
    }

    #[test]
    fn run_values_win_over_defaults_and_reach_the_params() {
        let scope = params_scope(
            &[spec("rev", Some("main")), spec("repo", Some("r"))],
            &[param("rev", "v1")],
        );
        let key = ref_key(
            Kind::Task,
            "git",
            &[
                param("url", "https://h/$(params.repo).git"),
                param("revision", "$(params.rev)"),
            ],
            &scope,
        )
        .unwrap();
        let values: Vec<_> = key.params.iter().map(|p| p.value.as_str()).collect();
        assert_eq!(values, ["v1", "https://h/r.git"]);
    }

    #[test]
    fn unresolvable_references_give_no_key() {
        let scope = params_scope(&[spec("rev", None)], &[]);
        assert!(ref_key(
            Kind::Task,
            "git",
            &[param("revision", "$(params.rev)")],
            &scope
        )
        .is_none());
        assert!(ref_key(
            Kind::Task,
            "git",
            &[param("revision", "$(tasks.a.results.sha)")],
            &scope
        )
        .is_none());
    }

    #[test]
    fn keys_compare_params_as_a_set() {
        let scope = Scope::default();
        let a = ref_key(
            Kind::Task,
            "http",
            &[param("a", "1"), param("b", "2")],
            &scope,
        );
        let b = ref_key(
            Kind::Task,
            "http",
            &[param("b", "2"), param("a", "1")],
            &scope,
        );
        let c = ref_key(
            Kind::Pipeline,
            "http",
            &[param("b", "2"), param("a", "1")],
            &scope,
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
