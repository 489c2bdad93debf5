//! Options every command that reads Tekton YAML shares: files, catalogs, feature flags.

use std::path::PathBuf;

use super::output::{self, Report};
use super::Outcome;
use crate::api::Object;
use crate::diagnostic::Diagnostic;
use crate::load::{Bundle, Origin};
use crate::plan::{self, Overrides};
use crate::report::diagnostics::{self, Summary};
use crate::report::grouping::SHOWN_PER_CODE;
use crate::resolve::{self, ResolveOptions};
use crate::validate::{self, ApiFields, Flags, ResultsFrom};

/// Where objects come from and which cluster flags apply.
#[derive(Debug, Clone, clap::Args)]
pub struct Input {
    /// YAML files or directories (recursive); `-` reads stdin.
    #[arg(required_unless_present = "filenames", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A YAML file or directory, as kubectl takes them (repeatable; adds to FILE…).
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR")]
    pub filenames: Vec<PathBuf>,
    /// Extra directory to resolve taskRef/pipelineRef names from (after the files given).
    #[arg(long = "catalog", value_name = "DIR")]
    pub catalogs: Vec<PathBuf>,
    /// A cluster feature flag, e.g. `enable-api-fields=alpha` or `enable-param-enum=true`.
    /// Giving any makes gated features errors, as on such a cluster.
    #[arg(long = "feature-flag", value_name = "NAME=VALUE")]
    pub feature_flags: Vec<String>,
    /// When to use colour: auto, always, never.
    #[arg(long, default_value = "auto", value_name = "WHEN", value_parser = ["auto", "always", "never"])]
    pub color: String,
    /// List every warning. Without it, after the first 3 warnings of a rule code the rest
    /// are counted on one line (`-o json` output always lists everything).
    #[arg(long)]
    pub all_warnings: bool,
    /// Resolve remote references (`resolver: git|http|…`) from the cache only; a reference
    /// not cached is an error naming it.
    #[arg(long)]
    pub offline: bool,
    /// The cache of resolved references (default: $ADZE_RESOLVE_CACHE, else
    /// $XDG_CACHE_HOME/adze/resolve, else ~/.cache/adze/resolve).
    #[arg(long = "resolve-cache", value_name = "DIR")]
    pub resolve_cache: Option<PathBuf>,
    /// Let resolvers read local paths and file:// URLs (refused by default: a reference in
    /// someone else's YAML must not read this machine's files).
    #[arg(long)]
    pub allow_local_resolution: bool,
    /// The hub API the `hub` resolver asks, for `type: artifact` and `type: tekton` alike
    /// (default: $ARTIFACT_HUB_API, else https://artifacthub.io; type tekton: $TEKTON_HUB_API).
    #[arg(long = "hub-url", value_name = "URL")]
    pub hub_url: Option<String>,
}

impl Input {
    /// Loads files, catalogs and the built-in catalog. Errors that stop loading are
    /// printed and returned as `Err`.
    pub fn load(&self) -> Result<Bundle, ()> {
        let mut bundle = Bundle::new();
        for f in self.paths() {
            if let Err(e) = bundle.load_path(f, Origin::Input) {
                eprintln!("error: {e}");
                eprintln!(
                    "  help: pass existing Tekton YAML files or directories, or `-` for stdin"
                );
                return Err(());
            }
        }
        for c in &self.catalogs {
            if let Err(e) = bundle.load_path(c, Origin::Catalog) {
                eprintln!("error: --catalog {}: {e}", c.display());
                return Err(());
            }
        }
        bundle.load_builtin();
        Ok(bundle)
    }

    /// The resolution settings of `--offline`, `--resolve-cache` and
    /// `--allow-local-resolution`.
    pub fn resolve_options(&self) -> ResolveOptions {
        let mut options = ResolveOptions::new(resolve::options::default_cache_dir(
            self.resolve_cache.clone(),
        ));
        options.offline = self.offline;
        options.allow_local = self.allow_local_resolution;
        options.hub_url = self.hub_url.clone();
        options
    }

    /// Fetches every remote reference of the loaded runs, Pipelines and Tasks into the
    /// bundle; failures become diagnostics of the bundle, at the reference. References
    /// with params and no resolver first get `default-resolver-type`, as Tekton defaults them.
    pub fn resolve(&self, bundle: &mut Bundle, flags: &Flags) {
        self.resolve_with(bundle, flags, &resolve::Resolvers::standard());
    }

    /// [`Input::resolve`] with `resolvers` (a `cluster` resolver reading the API server
    /// under `--executor kubernetes`).
    pub fn resolve_with(&self, bundle: &mut Bundle, flags: &Flags, resolvers: &resolve::Resolvers) {
        if let Some(default) = &flags.default_resolver_type {
            resolve::defaults::apply_default_resolver(bundle, default);
        }
        let diags = resolve::resolve_references(bundle, resolvers, &self.resolve_options());
        bundle.diagnostics.extend(diags);
    }

    /// Loads the files and checks them with the feature flags, printing what is found;
    /// `Err` when something is invalid (`doing` ends the closing line: "before serving").
    pub fn load_checked(&self, doing: &str) -> Result<(Bundle, Flags), Outcome> {
        let flags = self.flags_or_report()?;
        let mut bundle = self.load().map_err(|()| Outcome::Invalid)?;
        self.resolve(&mut bundle, &flags);
        let diags = check(&bundle, &flags);
        let summary = Summary::of(bundle.inputs().count(), &diags);
        let mut report = self.report();
        self.write_diagnostics(&mut report, &bundle, &diags);
        if summary.errors > 0 {
            report.line(&format!(
                "invalid: fix the {} error(s) above before {doing}",
                summary.errors
            ));
            return Err(Outcome::Invalid);
        }
        Ok((bundle, flags))
    }

    /// Every file and directory named, positional ones first.
    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.files.iter().chain(&self.filenames)
    }

    /// The feature flags; an invalid `--feature-flag` is printed and ends the command.
    pub fn flags_or_report(&self) -> Result<Flags, Outcome> {
        self.flags().map_err(|e| {
            eprintln!("error: {e}");
            Outcome::Invalid
        })
    }

    /// The feature flags `adze run` applies: those given, with `enable-cel-in-whenexpression`
    /// on unless given (a warning where used under `--strict`, as a cluster may refuse it).
    pub fn run_flags_or_report(&self, strict: bool) -> Result<Flags, Outcome> {
        let mut flags = self.flags_or_report()?;
        let given = self
            .feature_flags
            .iter()
            .any(|f| f.starts_with("enable-cel-in-whenexpression="));
        if !given {
            flags.enable_cel_in_when = true;
            flags.warn_assumed_cel_in_when = strict;
        }
        Ok(flags)
    }

    /// The feature flags, from `--feature-flag`.
    pub fn flags(&self) -> Result<Flags, String> {
        parse_flags(&self.feature_flags)
    }

    /// A buffered report on stderr honouring `--color`.
    pub fn report(&self) -> Report {
        Report::stderr(output::color(&self.color))
    }

    /// Writes diagnostics as snippets to `report`, warnings grouped unless `--all-warnings`;
    /// returns how many warnings were left out.
    pub fn write_diagnostics(
        &self,
        report: &mut Report,
        bundle: &Bundle,
        diags: &[Diagnostic],
    ) -> usize {
        let per_code = if self.all_warnings {
            usize::MAX
        } else {
            SHOWN_PER_CODE
        };
        // A closed stderr is no reason to fail: the outcome is in the exit status.
        diagnostics::emit(bundle, diags, per_code, report).unwrap_or(0)
    }
}

/// Feature flags from `--feature-flag NAME=VALUE` options.
pub fn parse_flags(given: &[String]) -> Result<Flags, String> {
    let mut flags = Flags::default();
    for f in given {
        let (name, value) = f
            .split_once('=')
            .ok_or_else(|| format!("--feature-flag expects NAME=VALUE, got \"{f}\""))?;
        let on = || match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{name} must be true or false, got \"{value}\"")),
        };
        match name {
            "enable-api-fields" => {
                flags.api_fields = ApiFields::parse(value).ok_or_else(|| {
                    format!("enable-api-fields must be stable, beta or alpha, got \"{value}\"")
                })?;
            }
            "enable-param-enum" => flags.enable_param_enum = on()?,
            "enable-cel-in-whenexpression" => flags.enable_cel_in_when = on()?,
            "enable-concise-resolver-syntax" => flags.enable_concise_resolver_syntax = on()?,
            "default-resolver-type" => {
                flags.default_resolver_type = Some(value.to_string()).filter(|v| !v.is_empty());
            }
            "default-max-matrix-combinations-count" => {
                flags.max_matrix_combinations = value
                    .parse()
                    .map_err(|_| format!("{name} must be a number, got \"{value}\""))?;
            }
            "disable-inline-spec" => {
                flags.disable_inline_spec =
                    value.split(',').map(|s| s.trim().to_string()).collect();
            }
            "results-from" => {
                flags.results_from = match value {
                    "termination-message" => ResultsFrom::TerminationMessage,
                    "sidecar-logs" => ResultsFrom::SidecarLogs,
                    _ => {
                        return Err(format!(
                        "results-from must be termination-message or sidecar-logs, got \"{value}\""
                    ))
                    }
                };
            }
            "max-result-size" => {
                flags.max_result_size =
                    value
                        .parse()
                        .ok()
                        .filter(|&n: &usize| n > 0)
                        .ok_or_else(|| {
                            format!("{name} must be a positive number of bytes, got \"{value}\"")
                        })?;
            }
            other => return Err(format!("unknown feature flag \"{other}\"")),
        }
        flags.strict_gates = true;
    }
    Ok(flags)
}

/// Load-time diagnostics plus validation, sorted.
pub fn check(bundle: &Bundle, flags: &Flags) -> Vec<Diagnostic> {
    let mut all = bundle.diagnostics.clone();
    all.extend(crate::validate::validate(bundle, flags));
    // Objects without a namespace go where `kubectl apply` without `-n` would put them.
    all.extend(crate::triggers::Catalog::load(bundle, "default").1);
    diagnostics::sort(&mut all);
    all
}

/// Parses `-p NAME=VALUE` and `-w NAME=emptyDir|DIR` options; errors are printed.
pub fn parse_overrides(params: &[String], workspaces: &[String]) -> Result<Overrides, Outcome> {
    let mut overrides = Overrides::default();
    for p in params {
        match plan::parse_param(p) {
            Ok(p) => overrides.params.push(p),
            Err(e) => {
                eprintln!("error: -p {e}");
                return Err(Outcome::Invalid);
            }
        }
    }
    for w in workspaces {
        match plan::parse_workspace(w) {
            Ok(w) => overrides.workspaces.push(w),
            Err(e) => {
                eprintln!("error: -w {e}");
                return Err(Outcome::Invalid);
            }
        }
    }
    Ok(overrides)
}

/// Everything `plan` and `run` do before acting with `flags`: `-p`/`-w` over the run's own
/// values over the configuration's `defaults`, loading, validation and picking the runs (see
/// [`prepare`]). Problems are printed.
#[allow(clippy::too_many_arguments)]
pub fn load_runs(
    input: &Input,
    flags: &Flags,
    params: &[String],
    workspaces: &[String],
    defaults: &crate::config::RunDefaults,
    run: Option<&str>,
    doing: &str,
    resolvers: &resolve::Resolvers,
) -> Result<(Bundle, Vec<Object>), Outcome> {
    let mut overrides = parse_overrides(params, workspaces)?;
    overrides.default_params = defaults.params.clone();
    overrides.default_workspaces = defaults.workspaces.clone();
    let mut bundle = input.load().map_err(|()| Outcome::Invalid)?;
    bundle.image_map = defaults.image_map.clone();
    let objects = prepare(input, &mut bundle, flags, &overrides, run, doing, resolvers)?;
    Ok((bundle, objects))
}

/// Applies the overrides, validates, and returns the runs to act on: the runs in the files
/// (only the one named `run`, if given), or runs made from `-p`/`-w` for files holding only
/// a Pipeline or Task. Problems are printed; `doing` names the command in messages.
pub fn prepare(
    input: &Input,
    bundle: &mut Bundle,
    flags: &Flags,
    overrides: &Overrides,
    run: Option<&str>,
    doing: &str,
    resolvers: &resolve::Resolvers,
) -> Result<Vec<Object>, Outcome> {
    plan::apply_overrides(bundle, overrides);
    input.resolve_with(bundle, flags, resolvers);
    let diags = check(bundle, flags);
    let summary = Summary::of(bundle.inputs().count(), &diags);
    let mut report = input.report();
    let hidden = input.write_diagnostics(&mut report, bundle, &diags);
    if summary.errors > 0 {
        report.line(&format!(
            "invalid: fix the {} error(s) above before {doing}",
            summary.errors
        ));
        return Err(Outcome::Invalid);
    }
    if summary.warnings > 0 {
        report.line(&format!("ok: {}", summary.with_hidden(hidden).line()));
    }
    // Flushed before anything else writes to stderr (the run's progress thread).
    drop(report);
    let runs: Vec<Object> = plan::runs(bundle)
        .into_iter()
        .filter(|r| {
            // A run with only `generateName` is chosen by that prefix.
            let meta = r.object.metadata();
            run.is_none_or(|n| {
                meta.name.as_deref() == Some(n)
                    || (meta.name.is_none() && meta.generate_name.as_deref() == Some(n))
            })
        })
        .map(|r| r.object.clone())
        .collect();
    if !runs.is_empty() {
        return Ok(runs);
    }
    if let Some(name) = run {
        eprintln!("error: no TaskRun or PipelineRun named \"{name}\" in the files given");
        return Err(Outcome::Invalid);
    }
    let synthetic = plan::synthesize_runs(bundle, overrides);
    if synthetic.is_empty() {
        eprintln!(
            "error: no TaskRun, PipelineRun, Pipeline or Task in the files given\n  help: pass the file that defines what to run"
        );
        return Err(Outcome::Invalid);
    }
    // The Pipeline's remote refs were fetched with its defaults; `-p` values may name others.
    let mut problems =
        resolve::resolve_references_of(bundle, &synthetic, resolvers, &input.resolve_options());
    problems.extend(synthetic_problems(bundle, flags, &synthetic));
    if !problems.is_empty() {
        let mut report = input.report();
        input.write_diagnostics(&mut report, bundle, &problems);
        report.line("invalid: the files hold no run, and the run adze made for them is incomplete");
        return Err(Outcome::Invalid);
    }
    Ok(synthetic)
}

/// Errors of runs adze made up for files without one, with a hint to pass `-p`/`-w`.
fn synthetic_problems(bundle: &Bundle, flags: &Flags, runs: &[Object]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for run in runs {
        for mut d in validate::validate_object(bundle, flags, run) {
            if !d.is_error() {
                continue;
            }
            d.object = Some(format!(
                "{}/{} (made by adze)",
                run.kind(),
                run.display_name()
            ));
            d.hint = Some(
                "the files hold no run: pass params with -p NAME=VALUE and workspaces with -w NAME=emptyDir|DIR"
                    .into(),
            );
            out.push(d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(given: &[&str]) -> Result<Flags, String> {
        Input {
            files: Vec::new(),
            filenames: Vec::new(),
            catalogs: Vec::new(),
            feature_flags: given.iter().map(|f| (*f).to_owned()).collect(),
            color: "never".into(),
            all_warnings: false,
            offline: false,
            resolve_cache: None,
            allow_local_resolution: false,
            hub_url: None,
        }
        .flags()
    }

    #[test]
    fn results_from_and_max_result_size_are_known_flags() {
        let default = flags(&[]).unwrap();
        assert_eq!(default.results_from, ResultsFrom::TerminationMessage);
        assert_eq!(default.max_result_size, 4096);
        let given = flags(&["results-from=sidecar-logs", "max-result-size=8192"]).unwrap();
        assert_eq!(given.results_from, ResultsFrom::SidecarLogs);
        assert_eq!(given.max_result_size, 8192);
        assert_eq!(
            flags(&["results-from=logs"]).unwrap_err(),
            "results-from must be termination-message or sidecar-logs, got \"logs\""
        );
        assert!(flags(&["max-result-size=0"]).is_err());
        assert!(flags(&["max-result-size=big"]).is_err());
    }
}
