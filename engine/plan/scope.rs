//! The values one substitution stage knows, and how they answer a [`Var`].
//!
//! Results of tasks that have not run are rendered as placeholders (`<build.digest>`) so a
//! plan shows the wiring; everything a scope does not know stays verbatim, as in Tekton.

use std::collections::HashMap;

use crate::api::ParamValue;
use crate::subst::{self, Access, Var};

/// Values for one substitution stage.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Parameter values by name.
    pub params: HashMap<String, ParamValue>,
    /// `context.*` values by dotted path (`pipelineRun.name`).
    pub context: HashMap<String, String>,
    /// `workspaces.<name>.<attr>` values by (name, attr).
    pub workspaces: HashMap<(String, String), String>,
    /// Other path-like variables (`results.R.path`, `credentials.path`, …) by canonical text.
    pub paths: HashMap<String, String>,
    /// Render `$(tasks.T.results.R)` and finally-only variables as `<...>` placeholders.
    pub result_placeholders: bool,
}

/// The placeholder shown for a value only known at run time.
pub fn placeholder(var: &Var) -> String {
    let access = |a: &Access| match a {
        Access::Whole => String::new(),
        Access::Star => "[*]".to_string(),
        Access::Index(i) => format!("[{i}]"),
        Access::Key(k) => format!(".{k}"),
    };
    match var {
        Var::TaskResult {
            task,
            result,
            access: a,
        }
        | Var::FinallyResult {
            task,
            result,
            access: a,
        } => {
            format!("<{task}.{result}{}>", access(a))
        }
        Var::TaskStatus { task } => format!("<{task}.status>"),
        Var::TaskReason { task } => format!("<{task}.reason>"),
        Var::TasksStatus => "<tasks.status>".to_string(),
        Var::MatrixLength { task } => format!("<{task}.matrix.length>"),
        Var::MatrixResultLength { task, result } => format!("<{task}.matrix.{result}.length>"),
        other => format!("<{other}>"),
    }
}

impl Scope {
    /// The string a reference becomes, or `None` to leave it verbatim.
    pub fn string(&self, var: &Var) -> Option<String> {
        match var {
            Var::Param { name, access } => self.param_string(name, access),
            Var::Context { path } => self.context.get(&path.join(".")).cloned(),
            Var::Workspace { name, attr } => {
                self.workspaces.get(&(name.clone(), attr.clone())).cloned()
            }
            Var::TaskResult { .. }
            | Var::FinallyResult { .. }
            | Var::TaskStatus { .. }
            | Var::TaskReason { .. }
            | Var::TasksStatus
            | Var::MatrixLength { .. }
            | Var::MatrixResultLength { .. }
                if self.result_placeholders =>
            {
                Some(placeholder(var))
            }
            Var::ResultPath { .. }
            | Var::StepResultPath { .. }
            | Var::StepExitCodePath { .. }
            | Var::CredentialsPath
            | Var::ArtifactsPath
            | Var::StepArtifactsPath => self.paths.get(&var.to_string()).cloned(),
            _ => None,
        }
    }

    fn param_string(&self, name: &str, access: &Access) -> Option<String> {
        match (self.params.get(name), access) {
            (Some(ParamValue::String(s)), Access::Whole) => Some(s.clone()),
            (Some(ParamValue::Array(a)), Access::Index(i)) => a.get(*i).cloned(),
            (Some(ParamValue::Object(o)), Access::Key(k)) => o.get(k).cloned(),
            // `$(params.a.b)` also names a string param called `a.b`.
            (_, Access::Key(k)) => match self.params.get(&format!("{name}.{k}")) {
                Some(ParamValue::String(s)) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The array a whole-collection reference becomes, for splicing.
    pub fn array(&self, var: &Var) -> Option<Vec<String>> {
        match var {
            Var::Param {
                name,
                access: Access::Whole | Access::Star,
            } => match self.params.get(name) {
                Some(ParamValue::Array(a)) => Some(a.clone()),
                _ => None,
            },
            Var::TaskResult {
                access: Access::Star,
                ..
            } if self.result_placeholders => Some(vec![placeholder(var)]),
            _ => None,
        }
    }

    /// Substitutes a string.
    pub fn subst(&self, s: &str) -> String {
        subst::substitute(s, |v| self.string(v))
    }

    /// Substitutes a list with array splicing (command, args, array values).
    pub fn subst_list(&self, items: &[String]) -> Vec<String> {
        subst::splice_array(items, |v| self.array(v), |v| self.string(v))
    }

    /// Substitutes a parameter value, turning a lone whole-array/object reference into
    /// that array/object (Tekton's type correction).
    pub fn subst_value(&self, value: &ParamValue) -> ParamValue {
        match value {
            ParamValue::String(s) => {
                if let Some(r) = subst::sole_reference(s) {
                    if let Var::Param {
                        name,
                        access: Access::Whole | Access::Star,
                    } = &r.var
                    {
                        if let Some(v @ (ParamValue::Array(_) | ParamValue::Object(_))) =
                            self.params.get(name)
                        {
                            return v.clone();
                        }
                    }
                }
                ParamValue::String(self.subst(s))
            }
            ParamValue::Array(items) => ParamValue::Array(self.subst_list(items)),
            ParamValue::Object(map) => ParamValue::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.subst(v)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        let mut s = Scope {
            result_placeholders: true,
            ..Scope::default()
        };
        s.params.insert("s".into(), ParamValue::String("v".into()));
        s.params
            .insert("a".into(), ParamValue::Array(vec!["1".into(), "2".into()]));
        s.params.insert(
            "o".into(),
            ParamValue::Object([("k".to_string(), "x".to_string())].into()),
        );
        s.params
            .insert("dotted.name".into(), ParamValue::String("d".into()));
        s
    }

    #[test]
    fn strings_indexes_keys_and_placeholders() {
        let s = scope();
        assert_eq!(
            s.subst("$(params.s) $(params.a[1]) $(params.o.k) $(params.dotted.name) $(tasks.b.results.d) $(date)"),
            "v 2 x d <b.d> $(date)"
        );
    }

    #[test]
    fn arrays_splice_and_values_are_type_corrected() {
        let s = scope();
        assert_eq!(
            s.subst_list(&["$(params.a[*])".into(), "z".into()]),
            ["1", "2", "z"]
        );
        assert_eq!(
            s.subst_value(&ParamValue::String("$(params.a)".into())),
            s.params["a"]
        );
        assert_eq!(
            s.subst("$(params.a)"),
            "$(params.a)",
            "arrays are never substituted into strings"
        );
    }
}
