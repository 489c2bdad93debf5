//! What a `$(...)` expression names, independent of how it was spelt.
//!
//! `params.a`, `params["a"]` and `params['a']` are one variable; callers match on [`Var`] and
//! never on source text. [`Var`]'s `Display` is the canonical spelling, which parses back to
//! the same `Var`.

use std::fmt;

/// How a reference selects inside a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Access {
    /// The value as it is: `x`.
    Whole,
    /// The whole array or object, explicitly: `x[*]`.
    Star,
    /// One array element, counted from 0: `x[2]`.
    Index(usize),
    /// One object key: `x.key`, `x['key']` or `x["key"]`.
    Key(String),
}

/// A parsed `$(...)` variable.
// Variant fields are the names written in the variable (`task`, `result`, …); each
// variant's doc shows the spelling they come from.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Var {
    /// `params.N` and its bracket and `inputs.params` spellings.
    Param { name: String, access: Access },
    /// `tasks.T.results.R`, with optional access.
    TaskResult {
        task: String,
        result: String,
        access: Access,
    },
    /// `finally.T.results.R`, with optional access.
    FinallyResult {
        task: String,
        result: String,
        access: Access,
    },
    /// `tasks.T.status`.
    TaskStatus { task: String },
    /// `tasks.T.reason`.
    TaskReason { task: String },
    /// `tasks.status`.
    TasksStatus,
    /// `tasks.T.matrix.length`.
    MatrixLength { task: String },
    /// `tasks.T.matrix.R.length`.
    MatrixResultLength { task: String, result: String },
    /// `context.…`, any dotted path; which paths exist is decided by validation.
    Context { path: Vec<String> },
    /// `workspaces.W.attr`, with `attr` as written.
    Workspace { name: String, attr: String },
    /// `results.R.path`.
    ResultPath { name: String },
    /// `step.results.R.path`.
    StepResultPath { name: String },
    /// `steps.S.results.R`, with optional access; resolved inside the container at run time.
    StepResult {
        step: String,
        result: String,
        access: Access,
    },
    /// `steps.S.exitCode.path`, with `S` as written (it carries the `step-` prefix).
    StepExitCodePath { step: String },
    /// `credentials.path`.
    CredentialsPath,
    /// `artifacts.path`.
    ArtifactsPath,
    /// `step.artifacts.path`.
    StepArtifactsPath,
    /// `tasks.T.outputs.A`.
    TaskOutputs { task: String, name: String },
    /// `tasks.T.inputs.A`.
    TaskInputs { task: String, name: String },
    /// `steps.S.outputs.A` (step artifacts).
    StepOutputs { step: String, name: String },
    /// `steps.S.inputs.A` (step artifacts).
    StepInputs { step: String, name: String },
}

impl Var {
    /// The access of a param or result reference; `None` for every other variable.
    pub fn access(&self) -> Option<&Access> {
        match self {
            Var::Param { access, .. }
            | Var::TaskResult { access, .. }
            | Var::FinallyResult { access, .. }
            | Var::StepResult { access, .. } => Some(access),
            _ => None,
        }
    }

    /// Whether this names a whole param or result (`x` or `x[*]`), the only form that can stand for an array or object.
    pub fn is_whole_collection(&self) -> bool {
        matches!(self.access(), Some(Access::Whole | Access::Star))
    }
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Var::Param { name, access } => write!(f, "params{}{access}", Segment(name)),
            Var::TaskResult {
                task,
                result,
                access,
            } => write!(f, "tasks.{task}.results{}{access}", Segment(result)),
            Var::FinallyResult {
                task,
                result,
                access,
            } => write!(f, "finally.{task}.results{}{access}", Segment(result)),
            Var::TaskStatus { task } => write!(f, "tasks.{task}.status"),
            Var::TaskReason { task } => write!(f, "tasks.{task}.reason"),
            Var::TasksStatus => f.write_str("tasks.status"),
            Var::MatrixLength { task } => write!(f, "tasks.{task}.matrix.length"),
            Var::MatrixResultLength { task, result } => {
                write!(f, "tasks.{task}.matrix.{result}.length")
            }
            Var::Context { path } => {
                f.write_str("context")?;
                path.iter().try_for_each(|part| write!(f, ".{part}"))
            }
            Var::Workspace { name, attr } => write!(f, "workspaces.{name}.{attr}"),
            Var::ResultPath { name } => write!(f, "results{}.path", Segment(name)),
            Var::StepResultPath { name } => write!(f, "step.results{}.path", Segment(name)),
            Var::StepResult {
                step,
                result,
                access,
            } => write!(f, "steps.{step}.results{}{access}", Segment(result)),
            Var::StepExitCodePath { step } => write!(f, "steps.{step}.exitCode.path"),
            Var::CredentialsPath => f.write_str("credentials.path"),
            Var::ArtifactsPath => f.write_str("artifacts.path"),
            Var::StepArtifactsPath => f.write_str("step.artifacts.path"),
            Var::TaskOutputs { task, name } => write!(f, "tasks.{task}.outputs.{name}"),
            Var::TaskInputs { task, name } => write!(f, "tasks.{task}.inputs.{name}"),
            Var::StepOutputs { step, name } => write!(f, "steps.{step}.outputs.{name}"),
            Var::StepInputs { step, name } => write!(f, "steps.{step}.inputs.{name}"),
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Whole => Ok(()),
            Access::Star => f.write_str("[*]"),
            Access::Index(i) => write!(f, "[{i}]"),
            Access::Key(key) => Segment(key).fmt(f),
        }
    }
}

/// A name after its parent: `.name` when that parses back to the same name, `["name"]` otherwise.
struct Segment<'a>(&'a str);

impl fmt::Display for Segment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.is_empty() && self.0.chars().all(is_name_char) {
            write!(f, ".{}", self.0)
        } else {
            write!(f, "[\"{}\"]", self.0)
        }
    }
}

/// Whether `c` may appear in a name written after a `.` (where a `.` would end the name).
pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Whether `c` may appear in a quoted name, where `.` and `/` are unambiguous.
pub(super) fn is_quoted_name_char(c: char) -> bool {
    is_name_char(c) || c == '.' || c == '/'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, access: Access) -> Var {
        Var::Param {
            name: name.into(),
            access,
        }
    }

    #[test]
    fn display_uses_dots_when_possible() {
        assert_eq!(param("foo", Access::Star).to_string(), "params.foo[*]");
        assert_eq!(param("foo", Access::Index(3)).to_string(), "params.foo[3]");
        assert_eq!(param("foo", Access::Whole).to_string(), "params.foo");
        let result = Var::TaskResult {
            task: "a".into(),
            result: "b".into(),
            access: Access::Key("key".into()),
        };
        assert_eq!(result.to_string(), "tasks.a.results.b.key");
    }

    #[test]
    fn display_uses_brackets_for_dotted_names() {
        assert_eq!(param("a.b", Access::Whole).to_string(), r#"params["a.b"]"#);
        assert_eq!(
            param("o", Access::Key("k/x".into())).to_string(),
            r#"params.o["k/x"]"#
        );
        let path = Var::ResultPath { name: "a.b".into() };
        assert_eq!(path.to_string(), r#"results["a.b"].path"#);
    }

    #[test]
    fn display_fixed_forms() {
        let cases = [
            (Var::TasksStatus, "tasks.status"),
            (Var::CredentialsPath, "credentials.path"),
            (Var::ArtifactsPath, "artifacts.path"),
            (Var::StepArtifactsPath, "step.artifacts.path"),
            (
                Var::Context {
                    path: vec!["task".into(), "retry-count".into()],
                },
                "context.task.retry-count",
            ),
            (
                Var::StepExitCodePath {
                    step: "step-x".into(),
                },
                "steps.step-x.exitCode.path",
            ),
            (
                Var::MatrixResultLength {
                    task: "t".into(),
                    result: "r".into(),
                },
                "tasks.t.matrix.r.length",
            ),
        ];
        for (var, text) in cases {
            assert_eq!(var.to_string(), text);
        }
    }

    #[test]
    fn whole_collection() {
        assert!(param("a", Access::Whole).is_whole_collection());
        assert!(param("a", Access::Star).is_whole_collection());
        assert!(!param("a", Access::Index(0)).is_whole_collection());
        assert!(!param("a", Access::Key("k".into())).is_whole_collection());
        assert!(!Var::TasksStatus.is_whole_collection());
        let result = Var::TaskResult {
            task: "t".into(),
            result: "r".into(),
            access: Access::Star,
        };
        assert!(result.is_whole_collection());
    }
}
