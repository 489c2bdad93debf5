//! Admission validation (spec §2): every rule Tekton's webhook applies, reported all at
//! once as located diagnostics with stable rule codes.
//!
//! Rules are grouped by the object part they check; each group pushes diagnostics into a
//! [`Ctx`] with Tekton-style object paths (`spec.tasks[0].name`), and [`validate`] turns the
//! paths into file positions. Checks that need other objects (a `taskRef` target, a
//! Pipeline's declared params) look them up through the bundle, like Tekton's runtime
//! validation (§2.10) does, so authors see those errors before anything runs.

pub mod bindings;
pub mod graph;
pub mod matrix;
pub mod names;
pub mod params;
pub mod pipeline;
pub mod pipeline_texts;
pub mod references;
pub mod results;
pub mod runs;
pub mod spec_context;
pub mod steps;
pub mod task;
#[cfg(test)]
pub(crate) mod test_support;
pub mod variables;
pub mod when;
pub mod workspaces;

use crate::api::Object;
use crate::diagnostic::{Diagnostic, Severity};
use crate::load::Bundle;

/// Tekton's `enable-api-fields` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApiFields {
    /// Stable fields only.
    Stable,
    /// Stable and beta (Tekton's default).
    Beta,
    /// Everything.
    Alpha,
}

impl ApiFields {
    /// Parses `stable`, `beta` or `alpha`.
    pub fn parse(s: &str) -> Option<ApiFields> {
        match s {
            "stable" => Some(ApiFields::Stable),
            "beta" => Some(ApiFields::Beta),
            "alpha" => Some(ApiFields::Alpha),
            _ => None,
        }
    }

    /// The flag value.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiFields::Stable => "stable",
            ApiFields::Beta => "beta",
            ApiFields::Alpha => "alpha",
        }
    }
}

/// Where a TaskRun's results are read from (the `results-from` feature flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultsFrom {
    /// The steps' termination messages, 4096 bytes per step (Tekton's default).
    #[default]
    TerminationMessage,
    /// The log of an injected `tekton-log-results` sidecar, `max-result-size` per result.
    SidecarLogs,
}

/// Tekton's default `max-result-size`, in bytes.
pub const DEFAULT_MAX_RESULT_SIZE: usize = 4096;

/// The cluster's feature flags that change what admission accepts, and the two that change
/// how results are read (`results-from`, `max-result-size`: only the Kubernetes executor
/// reads them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    /// `enable-api-fields`.
    pub api_fields: ApiFields,
    /// True when the user stated the flags: gated features are then errors, as on a
    /// cluster; otherwise they are warnings, since adze cannot know the cluster's setting.
    pub strict_gates: bool,
    /// `enable-param-enum`.
    pub enable_param_enum: bool,
    /// `enable-cel-in-whenexpression`.
    pub enable_cel_in_when: bool,
    /// `enable-cel-in-whenexpression` is on only because `adze run` assumes it (under
    /// `--strict`): each CEL when-expression is then a warning naming the flag.
    pub warn_assumed_cel_in_when: bool,
    /// `enable-concise-resolver-syntax`.
    pub enable_concise_resolver_syntax: bool,
    /// `default-max-matrix-combinations-count`.
    pub max_matrix_combinations: usize,
    /// `disable-inline-spec` entries (`taskrun`, `pipeline`, `pipelinerun`).
    pub disable_inline_spec: Vec<String>,
    /// `results-from`.
    pub results_from: ResultsFrom,
    /// `max-result-size`: the largest result line, in bytes, under `results-from:
    /// sidecar-logs`.
    pub max_result_size: usize,
    /// `default-resolver-type`: the resolver of references with params and no resolver.
    pub default_resolver_type: Option<String>,
}

impl Default for Flags {
    fn default() -> Self {
        Flags {
            api_fields: ApiFields::Beta,
            strict_gates: false,
            enable_param_enum: false,
            enable_cel_in_when: false,
            warn_assumed_cel_in_when: false,
            enable_concise_resolver_syntax: false,
            max_matrix_combinations: 256,
            disable_inline_spec: Vec::new(),
            results_from: ResultsFrom::TerminationMessage,
            max_result_size: DEFAULT_MAX_RESULT_SIZE,
            default_resolver_type: None,
        }
    }
}

/// Collects diagnostics for one object.
pub struct Ctx<'a> {
    /// Everything loaded (for reference lookups).
    pub bundle: &'a Bundle,
    /// Feature flags.
    pub flags: &'a Flags,
    /// Findings so far.
    pub out: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    /// A context for validating one object.
    pub fn new(bundle: &'a Bundle, flags: &'a Flags) -> Self {
        Ctx {
            bundle,
            flags,
            out: Vec::new(),
        }
    }

    /// Records a finding.
    pub fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    /// Records an error at `path`.
    pub fn error(
        &mut self,
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.out.push(Diagnostic::error(code, message).at(path));
        self.out.last_mut().expect("just pushed")
    }

    /// Checks that a feature at `path` is enabled by `enable-api-fields >= level`.
    pub fn gate(&mut self, level: ApiFields, feature: &str, path: impl Into<String>) {
        if self.flags.api_fields >= level {
            return;
        }
        self.flag_gate(
            &format!("enable-api-fields: {}", level.as_str()),
            feature,
            path,
        );
    }

    /// Reports a feature that needs a cluster feature flag (`flag` as `name: value`).
    pub fn flag_gate(&mut self, flag: &str, feature: &str, path: impl Into<String>) {
        let message = format!("{feature} requires \"{flag}\" in the feature-flags ConfigMap");
        let mut d = Diagnostic::error("gate/feature-flag", message)
            .at(path)
            .at_key();
        if self.flags.strict_gates {
            d.hint = Some(format!("enable it on the cluster with {flag}"));
        } else {
            d.severity = Severity::Warning;
            d.hint = Some(format!(
                "a cluster with default flags rejects this; pass --feature-flag '{flag}' to check as such a cluster would"
            ));
        }
        self.out.push(d);
    }
}

/// Validates every input object of the bundle; load-time diagnostics are not repeated.
pub fn validate(bundle: &Bundle, flags: &Flags) -> Vec<Diagnostic> {
    let mut all = Vec::new();
    // Fetched objects are checked too: their diagnostics point into the fetched text.
    for loaded in bundle.inputs().chain(bundle.remotes()) {
        all.extend(bundle.place(loaded, validate_object(bundle, flags, &loaded.object)));
    }
    all
}

/// Validates one object against the bundle; diagnostics carry object paths, not positions
/// (an object adze made up itself has none).
pub fn validate_object(bundle: &Bundle, flags: &Flags, object: &Object) -> Vec<Diagnostic> {
    let mut ctx = Ctx::new(bundle, flags);
    match object {
        Object::Task(t) => task::validate_task(&mut ctx, t),
        Object::Pipeline(p) => pipeline::validate_pipeline(&mut ctx, p),
        Object::TaskRun(tr) => runs::validate_task_run(&mut ctx, tr),
        Object::PipelineRun(pr) => runs::validate_pipeline_run(&mut ctx, pr),
        Object::StepAction(sa) => task::validate_step_action(&mut ctx, sa),
    }
    ctx.out
}
