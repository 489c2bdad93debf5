//! Tekton's resource types (`tekton.dev/v1`), read from YAML.
//!
//! Container-like fields reuse `k8s-openapi` types. `v1beta1` documents are converted to
//! this shape by the loader before they are decoded, so the rest of adze sees only v1.

pub mod duration;
pub mod param;
pub mod pipeline;
pub mod quantity;
pub mod reference;
pub mod run;
pub mod step_action;
pub mod task;

pub use duration::GoDuration;
pub use param::{Param, ParamSpec, ParamType, ParamValue, WhenExpression};
pub use pipeline::{Pipeline, PipelineSpec, PipelineTask};
pub use reference::{PipelineRef, StepActionRef, TaskRef};
pub use run::{PipelineRun, TaskRun, WorkspaceBinding};
pub use step_action::StepAction;
pub use task::{Sidecar, Step, Task, TaskSpec};

/// The kinds adze understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `Task`.
    Task,
    /// `Pipeline`.
    Pipeline,
    /// `TaskRun`.
    TaskRun,
    /// `PipelineRun`.
    PipelineRun,
    /// `StepAction`.
    StepAction,
}

impl Kind {
    /// Parses a `kind:` value.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "Task" => Some(Kind::Task),
            "Pipeline" => Some(Kind::Pipeline),
            "TaskRun" => Some(Kind::TaskRun),
            "PipelineRun" => Some(Kind::PipelineRun),
            "StepAction" => Some(Kind::StepAction),
            _ => None,
        }
    }

    /// The `kind:` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Task => "Task",
            Kind::Pipeline => "Pipeline",
            Kind::TaskRun => "TaskRun",
            Kind::PipelineRun => "PipelineRun",
            Kind::StepAction => "StepAction",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decoded Tekton object.
// Objects are few per command and moved rarely; boxing every variant would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A Task.
    Task(Task),
    /// A Pipeline.
    Pipeline(Pipeline),
    /// A TaskRun.
    TaskRun(TaskRun),
    /// A PipelineRun.
    PipelineRun(PipelineRun),
    /// A StepAction.
    StepAction(StepAction),
}

impl Object {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Object::Task(_) => Kind::Task,
            Object::Pipeline(_) => Kind::Pipeline,
            Object::TaskRun(_) => Kind::TaskRun,
            Object::PipelineRun(_) => Kind::PipelineRun,
            Object::StepAction(_) => Kind::StepAction,
        }
    }

    /// The object's metadata.
    pub fn metadata(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Object::Task(o) => &o.metadata,
            Object::Pipeline(o) => &o.metadata,
            Object::TaskRun(o) => &o.metadata,
            Object::PipelineRun(o) => &o.metadata,
            Object::StepAction(o) => &o.metadata,
        }
    }

    /// `metadata.name`, or `generateName` followed by `*` when only that is set.
    pub fn display_name(&self) -> String {
        let meta = self.metadata();
        match (&meta.name, &meta.generate_name) {
            (Some(n), _) if !n.is_empty() => n.clone(),
            (_, Some(g)) => format!("{g}*"),
            _ => String::from("<unnamed>"),
        }
    }
}
