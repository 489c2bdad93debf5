//! Step, sidecar, volume and StepAction container rules (spec §2.1, §2.3, §1.7).
//!
//! Steps are checked as Tekton checks them: merged with `stepTemplate` first (so an image or
//! command inherited from the template counts), except steps with `ref`, whose container comes
//! from a StepAction at run time. Rules about one container's fields live here; rules about
//! what `$(...)` may appear in those fields live in `variables`.

use k8s_openapi::api::core::v1 as corev1;

use super::names::{check_label, check_unique, Compare};
use super::params::{validate_default_references, validate_param_specs, validate_param_values};
use super::results::{check_script_paths, validate_step_results};
use super::workspaces::clean_path;
use super::{ApiFields, Ctx};
use crate::api::quantity::quantity;
use crate::api::step_action::StepActionSpec;
use crate::api::task::StepTemplate;
use crate::api::{GoDuration, Kind, Object, Sidecar, Step, StepAction, TaskSpec};
use crate::diagnostic::{Anchor, Diagnostic};
use crate::load::catalog::suggest;
use crate::subst::{sole_reference, Access, Var};

/// The sidecar name Tekton reserves for its results-collecting sidecar.
pub const RESERVED_SIDECAR_NAME: &str = "tekton-log-results";

/// Validates `steps` (merged with `stepTemplate`) and the template's own mounts.
pub fn validate_steps(ctx: &mut Ctx<'_>, spec: &TaskSpec, path: &str) {
    let template = spec.step_template.as_ref();
    for (i, step) in spec.steps.iter().enumerate() {
        check_step(ctx, step, template, &format!("{path}.steps[{i}]"));
    }
    let names = spec
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), format!("{path}.steps[{i}].name")));
    check_unique(ctx, "step", names, Compare::Exact);
    if let Some(t) = template {
        let at = format!("{path}.stepTemplate.volumeMounts");
        check_volume_mounts(ctx, &t.volume_mounts, &at);
        let at = format!("{path}.stepTemplate.computeResources");
        check_resources(ctx, t.compute_resources.as_ref(), &at);
    }
}

/// Every rule about one step at `at`.
fn check_step(ctx: &mut Ctx<'_>, step: &Step, template: Option<&StepTemplate>, at: &str) {
    if !step.name.is_empty() {
        check_label(ctx, &step.name, &format!("{at}.name"));
    }
    match &step.ref_ {
        Some(_) => check_ref_step(ctx, step, at),
        None => check_inline_step(ctx, step, template, at),
    }
    check_timeout(ctx, step.timeout.as_deref(), at);
    check_on_error(ctx, step.on_error.as_deref(), at);
    check_volume_mounts(ctx, &step.volume_mounts, &format!("{at}.volumeMounts"));
    check_resources(
        ctx,
        step.compute_resources.as_ref(),
        &format!("{at}.computeResources"),
    );
    check_windows_script(ctx, step.script.as_deref(), at);
    if step.stdout_config.is_some() {
        let feature = "step stdout stream support";
        ctx.gate(ApiFields::Alpha, feature, format!("{at}.stdoutConfig"));
    }
    if step.stderr_config.is_some() {
        let feature = "step stderr stream support";
        ctx.gate(ApiFields::Alpha, feature, format!("{at}.stderrConfig"));
    }
    validate_step_results(ctx, &step.results, &format!("{at}.results"));
    super::when::check(ctx, &step.when, at);
}

/// A step that runs its own container: checked after merging with the template.
fn check_inline_step(ctx: &mut Ctx<'_>, step: &Step, template: Option<&StepTemplate>, at: &str) {
    if !step.params.is_empty() {
        forbidden(
            ctx,
            "steps/params-without-ref",
            at,
            "params",
            "params cannot be used without Ref",
        )
        .hint = Some("`params` pass values to a StepAction; set `ref:` or remove them".into());
    }
    let inherited_image = template
        .and_then(|t| t.image.as_deref())
        .is_some_and(|i| !i.is_empty());
    if step.image.as_deref().unwrap_or_default().is_empty() && !inherited_image {
        ctx.error(
            "steps/image-required",
            format!("{at}.image"),
            "missing field(s): image",
        )
        .hint = Some("set `image:` on the step, or once for all steps in `stepTemplate`".into());
    }
    let from_template = step.command.is_empty() && template.is_some_and(|t| !t.command.is_empty());
    let has_script = step.script.as_deref().is_some_and(|s| !s.is_empty());
    if has_script && (!step.command.is_empty() || from_template) {
        let hint = if from_template {
            "this step inherits `command` from stepTemplate; move `command` from the template to the steps that need it"
        } else {
            "remove `command`: the script is the command, and `args` are passed to it"
        };
        // Point at the `command` to remove, unless it only comes from the template.
        let field = if from_template { "script" } else { "command" };
        ctx.error(
            "steps/script-and-command",
            format!("{at}.{field}"),
            "script cannot be used with command",
        )
        .hint = Some(hint.into());
    }
}

/// A step with `ref`: its container comes from the StepAction, so container fields are
/// rejected (Tekton would silently replace them).
fn check_ref_step(ctx: &mut Ctx<'_>, step: &Step, at: &str) {
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    let present = [
        ("image", set(&step.image)),
        ("command", !step.command.is_empty()),
        ("args", !step.args.is_empty()),
        ("script", set(&step.script)),
        ("workingDir", set(&step.working_dir)),
        ("env", !step.env.is_empty()),
        ("volumeMounts", !step.volume_mounts.is_empty()),
        ("results", !step.results.is_empty()),
    ];
    for (field, _) in present.into_iter().filter(|(_, set)| *set) {
        // Tekton's wording, which spells this one field out.
        let label = if field == "workingDir" {
            "working dir"
        } else {
            field
        };
        let message = format!("{label} cannot be used with Ref");
        forbidden(ctx, "steps/field-with-ref", at, field, &message).hint = Some(format!(
            "the StepAction defines `{field}`; remove it here, or drop `ref` and write the step inline"
        ));
    }
    validate_param_values(ctx, &step.params, &format!("{at}.params"), false);
    check_ref(ctx, step, at);
}

/// An error pointing at the key `field` of the object at `at`.
fn forbidden<'c>(
    ctx: &'c mut Ctx<'_>,
    code: &'static str,
    at: &str,
    field: &str,
    message: &str,
) -> &'c mut Diagnostic {
    let d = ctx.error(code, format!("{at}.{field}"), message);
    d.anchor = Anchor::Key;
    d
}

/// The `ref` itself, and the referenced StepAction when it was loaded.
fn check_ref(ctx: &mut Ctx<'_>, step: &Step, at: &str) {
    let Some(r) = &step.ref_ else { return };
    let name = r.name.as_deref().unwrap_or_default();
    let resolver = r.resolver.as_deref().unwrap_or_default();
    if !resolver.is_empty() {
        ctx.gate(ApiFields::Beta, "resolver", format!("{at}.ref.resolver"));
        return;
    }
    if !r.params.is_empty() {
        ctx.error(
            "steps/ref-name",
            format!("{at}.ref.resolver"),
            "missing field(s): resolver",
        )
        .hint =
            Some("resolver `params` need a `resolver:` (git, bundles, hub, http, cluster)".into());
        return;
    }
    if name.is_empty() {
        ctx.error(
            "steps/ref-name",
            format!("{at}.ref.name"),
            "missing field(s): name",
        )
        .hint = Some("name the StepAction to run: `ref: {name: my-action}`".into());
        return;
    }
    match ctx.bundle.find(Kind::StepAction, name) {
        Ok(loaded) => {
            if let Object::StepAction(action) = &loaded.object {
                check_step_action_params(ctx, step, action, at);
            }
        }
        Err(not_found) => {
            let hint = match &not_found.suggestion {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => "it must exist on the cluster; pass its file to adze to check the step against it".into(),
            };
            let d = Diagnostic::warning(
                "steps/step-action-not-found",
                format!("StepAction \"{name}\" not found"),
            )
            .at(format!("{at}.ref.name"))
            .hint(hint);
            ctx.push(d);
        }
    }
}

/// The values a step passes must match the StepAction's declarations (checked by Tekton
/// when the TaskRun starts; adze can see both now).
fn check_step_action_params(ctx: &mut Ctx<'_>, step: &Step, action: &StepAction, at: &str) {
    let declared = &action.spec.params;
    let action_name = action.metadata.name.as_deref().unwrap_or_default();
    for (i, p) in step.params.iter().enumerate() {
        if p.name.is_empty() || declared.iter().any(|d| d.name == p.name) {
            continue;
        }
        let hint = match suggest(&p.name, declared.iter().map(|d| d.name.as_str())) {
            Some(s) => format!("did you mean \"{s}\"?"),
            None => format!(
                "StepAction \"{action_name}\" declares no param \"{}\"; remove it",
                p.name
            ),
        };
        ctx.error(
            "params/extra-step-param",
            format!("{at}.params[{i}].name"),
            format!("extra params passed by Step to StepAction: [{}]", p.name),
        )
        .hint = Some(hint);
    }
    let missing: Vec<&str> = declared
        .iter()
        .filter(|d| d.default.is_none() && !step.params.iter().any(|p| p.name == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !missing.is_empty() {
        let field = if step.params.is_empty() {
            format!("{at}.ref")
        } else {
            format!("{at}.params")
        };
        let d = ctx.error(
            "params/missing-step-param",
            field,
            format!("non-existent params in Step: [{}]", missing.join(" ")),
        );
        d.anchor = Anchor::Key;
        d.hint = Some(format!(
            "StepAction \"{action_name}\" has no default for them; pass each under the step's `params:`"
        ));
    }
}

fn check_timeout(ctx: &mut Ctx<'_>, timeout: Option<&str>, at: &str) {
    let Some(text) = timeout else { return };
    let path = format!("{at}.timeout");
    match GoDuration::parse(text) {
        Err(e) => {
            ctx.error("steps/timeout", path, e.to_string()).hint =
                Some("write a Go duration such as 90s, 10m or 1h30m (0 means no timeout)".into());
        }
        Ok(d) if d.is_negative() => {
            ctx.error(
                "steps/timeout",
                path,
                format!("invalid value: {d}: negative timeout"),
            )
            .hint = Some("a timeout cannot be negative; use 0 for no timeout".into());
        }
        Ok(_) => {}
    }
}

/// Quantities the API server would fail to decode (Kubernetes rejects the object).
fn check_resources(ctx: &mut Ctx<'_>, resources: Option<&corev1::ResourceRequirements>, at: &str) {
    let Some(r) = resources else { return };
    for (kind, map) in [("limits", &r.limits), ("requests", &r.requests)] {
        for (name, q) in map.iter().flatten() {
            if quantity(&q.0, 1).is_none() {
                ctx.error(
                    "schema/quantity",
                    format!("{at}.{kind}.{name}"),
                    format!(
                        "quantities must match the regular expression \
                         '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': \"{}\"",
                        q.0
                    ),
                )
                .hint = Some("write a Kubernetes quantity such as 500m, 2, 64Mi or 1G".into());
            }
        }
    }
}

fn check_on_error(ctx: &mut Ctx<'_>, on_error: Option<&str>, at: &str) {
    const ALLOWED: &[&str] = &["continue", "stopAndFail"];
    let Some(value) = on_error else { return };
    // A param reference is resolved and checked when the TaskRun starts.
    if value.is_empty() || ALLOWED.contains(&value) || value.starts_with("$(params") {
        return;
    }
    let hint = match suggest(value, ALLOWED.iter().copied()) {
        Some(s) => format!("did you mean \"{s}\"?"),
        None => "Task step onError must be either \"continue\" or \"stopAndFail\"".into(),
    };
    ctx.error(
        "steps/on-error",
        format!("{at}.onError"),
        format!("invalid value: \"{value}\""),
    )
    .hint = Some(hint);
}

/// `/tekton/` holds Tekton's own files (scripts, results, entrypoint), which a user mount
/// would hide; only `/tekton/home` may be replaced.
fn check_volume_mounts(ctx: &mut Ctx<'_>, mounts: &[corev1::VolumeMount], at: &str) {
    for (j, vm) in mounts.iter().enumerate() {
        let cleaned = clean_path(&vm.mount_path);
        if cleaned.starts_with("/tekton/") && !cleaned.starts_with("/tekton/home") {
            ctx.error(
                "steps/reserved-mount-path",
                format!("{at}[{j}].mountPath"),
                format!(
                    "volumeMount cannot be mounted under /tekton/ (volumeMount \"{}\" mounted at \"{}\")",
                    vm.name, vm.mount_path
                ),
            )
            .hint = Some("/tekton/ is reserved for Tekton's own files; mount somewhere else (only /tekton/home may be replaced)".into());
        }
        if vm.name.starts_with("tekton-internal-") {
            ctx.error(
                "steps/reserved-volume-name",
                format!("{at}[{j}].name"),
                format!(
                    "volumeMount name \"{}\" cannot start with \"tekton-internal-\"",
                    vm.name
                ),
            )
            .hint =
                Some("volumes named tekton-internal-* belong to Tekton; rename the volume".into());
        }
    }
}

fn check_windows_script(ctx: &mut Ctx<'_>, script: Option<&str>, at: &str) {
    if script.is_some_and(|s| s.trim().starts_with("#!win")) {
        ctx.gate(
            ApiFields::Alpha,
            "windows script support",
            format!("{at}.script"),
        );
    }
}

/// Validates `sidecars`: names, image, script/command.
pub fn validate_sidecars(ctx: &mut Ctx<'_>, sidecars: &[Sidecar], path: &str) {
    for (i, sidecar) in sidecars.iter().enumerate() {
        let at = format!("{path}[{i}]");
        check_sidecar(ctx, sidecar, &at);
    }
    let names = sidecars
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), format!("{path}[{i}].name")));
    check_unique(ctx, "sidecar", names, Compare::Exact);
}

fn check_sidecar(ctx: &mut Ctx<'_>, sidecar: &Sidecar, at: &str) {
    if sidecar.name == RESERVED_SIDECAR_NAME {
        ctx.error(
            "names/reserved",
            format!("{at}.name"),
            format!("Invalid: cannot use reserved sidecar name {RESERVED_SIDECAR_NAME}"),
        )
        .hint =
            Some("Tekton adds a sidecar with this name to collect results; rename yours".into());
    } else if !sidecar.name.is_empty() {
        check_label(ctx, &sidecar.name, &format!("{at}.name"));
    }
    if sidecar.image.as_deref().unwrap_or_default().is_empty() {
        ctx.error(
            "steps/image-required",
            format!("{at}.image"),
            "missing field(s): image",
        )
        .hint = Some(
            "a sidecar needs its own `image:` (stepTemplate does not apply to sidecars)".into(),
        );
    }
    if sidecar.script.as_deref().is_some_and(|s| !s.is_empty()) && !sidecar.command.is_empty() {
        ctx.error(
            "steps/script-and-command",
            format!("{at}.command"),
            "script cannot be used with command",
        )
        .hint =
            Some("remove `command`: the script is the command, and `args` are passed to it".into());
    }
    let at = format!("{at}.computeResources");
    check_resources(ctx, sidecar.compute_resources.as_ref(), &at);
}

/// Validates `volumes`: names are unique.
pub fn validate_volumes(ctx: &mut Ctx<'_>, volumes: &[corev1::Volume], path: &str) {
    let names = volumes
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.as_str(), format!("{path}[{i}].name")));
    check_unique(ctx, "volume", names, Compare::Exact);
}

/// Validates a StepAction's spec at `path` (§1.7), except variable usage.
pub fn validate_step_action_spec(ctx: &mut Ctx<'_>, spec: &StepActionSpec, path: &str) {
    if spec.image.as_deref().unwrap_or_default().is_empty() {
        ctx.error(
            "steps/image-required",
            format!("{path}.image"),
            "missing field(s): image",
        )
        .hint = Some("a StepAction must name the image it runs".into());
    }
    let script = spec.script.as_deref().unwrap_or_default();
    if !script.is_empty() && !spec.command.is_empty() {
        ctx.error(
            "steps/script-and-command",
            format!("{path}.command"),
            "script cannot be used with command",
        )
        .hint =
            Some("remove `command`: the script is the command, and `args` are passed to it".into());
    }
    check_windows_script(ctx, spec.script.as_deref(), path);
    check_volume_mounts(ctx, &spec.volume_mounts, &format!("{path}.volumeMounts"));
    for (j, vm) in spec.volume_mounts.iter().enumerate() {
        check_param_mount_name(ctx, &vm.name, &format!("{path}.volumeMounts[{j}].name"));
    }
    let params_path = format!("{path}.params");
    validate_param_specs(ctx, &spec.params, &params_path, true);
    validate_default_references(ctx, &spec.params, &params_path);
    validate_step_results(ctx, &spec.results, &format!("{path}.results"));
    let results: Vec<&str> = spec.results.iter().map(|r| r.name.as_str()).collect();
    check_script_paths(ctx, script, &format!("{path}.script"), None, &results);
}

/// A StepAction cannot know the Task's volumes, so each mount names its volume through a param.
fn check_param_mount_name(ctx: &mut Ctx<'_>, name: &str, at: &str) {
    let single = sole_reference(name).is_some_and(|r| {
        matches!(
            r.var,
            Var::Param {
                access: Access::Whole,
                ..
            }
        )
    });
    if !single {
        ctx.error(
            "steps/volume-mount-name",
            at,
            format!("invalid value: {name}"),
        )
        .hint = Some(
            "expect the Name to be a single param reference, e.g. `name: $(params.volume)`".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Diagnostic;
    use crate::load::{Bundle, Origin};
    use crate::validate::{validate, ApiFields, Flags};

    fn run_with(text: &str, flags: &Flags) -> Vec<Diagnostic> {
        let mut b = Bundle::new();
        b.add_source("t.yaml", text.to_string(), Origin::Input);
        assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
        validate(&b, flags)
    }

    fn run(spec: &str) -> Vec<Diagnostic> {
        let text =
            format!("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {{name: t}}\nspec:\n{spec}");
        run_with(&text, &Flags::default())
    }

    fn found(ds: &[Diagnostic]) -> Vec<(&str, &str, u32, u32)> {
        ds.iter()
            .map(|d| {
                let l = d.location.as_ref().unwrap();
                (d.code, d.field.as_deref().unwrap_or(""), l.line, l.column)
            })
            .collect()
    }

    #[test]
    fn image_and_script_rules() {
        let ds = run("  steps:\n  - name: a\n    script: echo\n  - name: b\n    image: alpine\n    command: [sh]\n    script: echo\n  - name: c\n    image: alpine\n    params: [{name: x, value: y}]\n");
        assert_eq!(
            found(&ds),
            [
                ("steps/image-required", "spec.steps[0].image", 6, 5),
                ("steps/script-and-command", "spec.steps[1].command", 10, 5),
                ("steps/params-without-ref", "spec.steps[2].params", 14, 5),
            ]
        );
        assert_eq!(ds[0].message, "missing field(s): image");
    }

    #[test]
    fn step_template_is_merged() {
        let ds = run("  stepTemplate:\n    image: alpine\n    command: [bash]\n  steps:\n  - script: echo\n  - args: [x]\n");
        assert_eq!(
            found(&ds),
            [("steps/script-and-command", "spec.steps[0].script", 9, 13)]
        );
        assert!(ds[0].hint.as_deref().unwrap().contains("stepTemplate"));
    }

    #[test]
    fn names_timeouts_on_error_mounts() {
        let ds = run("  steps:\n  - name: Build\n    image: a\n    timeout: -1s\n    onError: contine\n    volumeMounts:\n    - {name: tekton-internal-x, mountPath: /tekton//results}\n    - {name: home, mountPath: /tekton/home}\n  - name: Build\n    image: a\n    timeout: 5x\n  sidecars:\n  - name: tekton-log-results\n    image: a\n  - name: s\n    script: echo\n    command: [sh]\n  volumes:\n  - {name: v, emptyDir: {}}\n  - {name: v, emptyDir: {}}\n");
        let codes: Vec<_> = found(&ds).iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(
            codes,
            [
                ("names/dns-label", "spec.steps[0].name"),
                ("steps/timeout", "spec.steps[0].timeout"),
                ("steps/on-error", "spec.steps[0].onError"),
                (
                    "steps/reserved-mount-path",
                    "spec.steps[0].volumeMounts[0].mountPath"
                ),
                (
                    "steps/reserved-volume-name",
                    "spec.steps[0].volumeMounts[0].name"
                ),
                ("names/dns-label", "spec.steps[1].name"),
                ("steps/timeout", "spec.steps[1].timeout"),
                ("names/duplicate", "spec.steps[1].name"),
                ("names/reserved", "spec.sidecars[0].name"),
                ("steps/image-required", "spec.sidecars[1].image"),
                ("steps/script-and-command", "spec.sidecars[1].command"),
                ("names/duplicate", "spec.volumes[1].name"),
            ]
        );
        assert_eq!(ds[2].hint.as_deref(), Some("did you mean \"continue\"?"));
        assert_eq!(ds[1].message, "invalid value: -1s: negative timeout");
    }

    #[test]
    fn ref_steps_and_step_actions() {
        let text = "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata: {name: act}\nspec:\n  image: alpine\n  params:\n  - name: need\n  - name: opt\n    default: x\n  script: echo\n---\napiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec:\n  steps:\n  - ref: {name: act}\n    image: alpine\n    params: [{name: opt, value: y}, {name: extra, value: z}]\n  - ref: {name: nope}\n";
        let ds = run_with(text, &Flags::default());
        let codes: Vec<_> = found(&ds).iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(
            codes,
            [
                ("steps/field-with-ref", "spec.steps[0].image"),
                ("params/extra-step-param", "spec.steps[0].params[1].name"),
                ("params/missing-step-param", "spec.steps[0].params"),
                ("steps/step-action-not-found", "spec.steps[1].ref.name"),
            ]
        );
        assert!(!ds[3].is_error());
    }

    #[test]
    fn gates() {
        let text = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec:\n  steps:\n  - image: a\n    script: \"#!win pwsh\\necho\"\n    stdoutConfig: {path: /o}\n";
        let ds = run_with(text, &Flags::default());
        let codes: Vec<_> = found(&ds).iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(
            codes,
            [
                ("gate/feature-flag", "spec.steps[0].script"),
                ("gate/feature-flag", "spec.steps[0].stdoutConfig"),
            ]
        );
        let alpha = Flags {
            api_fields: ApiFields::Alpha,
            ..Flags::default()
        };
        assert_eq!(run_with(text, &alpha), []);
    }

    #[test]
    fn step_action_rules() {
        let text = "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata: {name: Act}\nspec:\n  command: [sh]\n  script: echo $(params.p)\n  params: [{name: p}]\n  volumeMounts:\n  - {name: vol, mountPath: /data}\n  - {name: $(params.missing), mountPath: /x}\n";
        let ds = run_with(text, &Flags::default());
        let codes: Vec<_> = found(&ds).iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(
            codes,
            [
                ("names/dns-subdomain", "metadata.name"),
                ("steps/image-required", "spec.image"),
                ("steps/script-and-command", "spec.command"),
                ("steps/volume-mount-name", "spec.volumeMounts[0].name"),
                ("variables/param-in-script", "spec.script"),
                ("variables/undeclared-param", "spec.volumeMounts[1].name"),
            ]
        );
    }

    #[test]
    fn valid_step_action_is_quiet() {
        let text = "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata: {name: git-clone}\nspec:\n  image: alpine/git\n  params:\n  - {name: url}\n  - {name: flags, type: array, default: []}\n  - {name: vol, default: source}\n  - {name: dir, default: \"/ws/$(params.vol)\"}\n  results: [{name: commit}]\n  env: [{name: URL, value: $(params.url)}]\n  args: [\"$(params.flags[*])\"]\n  volumeMounts: [{name: $(params.vol), mountPath: /ws}]\n  script: git clone \"$URL\" \"$@\" && git rev-parse HEAD > $(step.results.commit.path)\n";
        assert_eq!(run_with(text, &Flags::default()), []);
    }

    #[test]
    fn step_workspaces_need_beta() {
        let text = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec:\n  workspaces: [{name: w}]\n  steps:\n  - image: a\n    workspaces: [{name: w}]\n";
        let stable = Flags {
            api_fields: ApiFields::Stable,
            ..Flags::default()
        };
        let ds = run_with(text, &stable);
        let codes: Vec<_> = found(&ds).iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(codes, [("gate/feature-flag", "spec.steps[0].workspaces")]);
        assert_eq!(run_with(text, &Flags::default()), []);
    }

    #[test]
    fn valid_steps_are_quiet() {
        let ds = run("  stepTemplate:\n    image: alpine\n  steps:\n  - name: a\n    script: echo\n    timeout: 1h30m\n    onError: continue\n    volumeMounts: [{name: v, mountPath: /tekton/home}]\n  - name: b\n    image: busybox\n    command: [ls]\n    onError: $(params.mode)\n  params: [{name: mode}]\n  volumes: [{name: v, emptyDir: {}}]\n  sidecars: [{name: db, image: postgres}]\n");
        assert_eq!(ds, []);
    }
}
