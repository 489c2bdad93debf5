//! Where a TaskSpec sits (a Task, or embedded in a TaskRun or a Pipeline), which changes a
//! few of the Task rules: the task and variable rules both read it.

/// Where a TaskSpec sits, which changes a few rules.
#[derive(Debug, Clone, Default)]
pub struct SpecContext<'a> {
    /// An embedded spec (TaskRun `taskSpec` or PipelineTask `taskSpec`) rather than a Task.
    pub embedded: bool,
    /// Param names supplied from outside by propagation (§3.5) that the spec may reference
    /// without declaring them.
    pub propagated_params: &'a [String],
    /// Inside a Pipeline: `$(tasks.…)`, `$(context.pipelineRun.…)` and friends are resolved
    /// before the TaskRun exists and must not be reported as unknown.
    pub in_pipeline: bool,
}
