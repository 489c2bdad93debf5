//! Resolving a Task for one TaskRun: StepActions, stepTemplate, parameter defaults and
//! every substitution stage of spec §3.6, giving the steps exactly as they would run.
//!
//! Executors will consume the same resolution, so nothing here knows about plans' output.

use std::collections::HashMap;

use k8s_openapi::api::core::v1 as corev1;

use super::confinement::Confinement;
use super::model::{ConfigKind, EnvPlan, EnvSource, PodOnly, StepPlan, VolumeMountPlan};
use super::scope::Scope;
use super::step_action::apply_step_action;
use super::PlanError;
use crate::api::task::StepOutputConfig;
use crate::api::{
    Param, ParamType, ParamValue, Sidecar, Step, TaskSpec, WhenExpression, WorkspaceBinding,
};
use crate::load::Bundle;
use crate::subst::{self, Var};

/// Preamble Tekton puts before a script without a shebang.
pub const SCRIPT_PREAMBLE: &str = "#!/bin/sh\nset -e\n";

/// What a TaskRun supplies to its Task.
#[derive(Debug, Clone, Default)]
pub struct TaskInputs {
    /// Values given by the run (or the PipelineTask), already substituted at pipeline level.
    pub params: Vec<Param>,
    /// Values propagated into an embedded spec (pipeline or run params it need not declare).
    pub propagated: HashMap<String, ParamValue>,
    /// `context.taskRun.name`.
    pub task_run_name: String,
    /// `context.task.name`.
    pub task_name: String,
    /// `context.taskRun.namespace`.
    pub namespace: String,
    /// Workspace names the run binds.
    pub bound_workspaces: Vec<String>,
    /// `$(workspaces.W.claim)` of bound workspaces backed by a claim (see [`workspace_claims`]);
    /// a bound workspace missing here has the claim `""`.
    pub claims: HashMap<String, String>,
    /// Render pipeline result references as placeholders.
    pub result_placeholders: bool,
    /// `context.task.retry-count`: attempts made before this one.
    pub retry_count: u32,
}

/// A Task resolved for one TaskRun.
#[derive(Debug, Clone, Default)]
pub struct ResolvedTask {
    /// Parameter values after defaults.
    pub params: HashMap<String, ParamValue>,
    /// Steps as they run.
    pub steps: Vec<StepPlan>,
    /// Sidecars as they run.
    pub sidecars: Vec<StepPlan>,
    /// The Task's `volumes`, with params substituted into their sources' names.
    pub volumes: Vec<corev1::Volume>,
}

/// Parameter values for a TaskRun: Task defaults, then propagated values, then the run's.
pub fn task_params(spec: &TaskSpec, inputs: &TaskInputs) -> HashMap<String, ParamValue> {
    let mut values: HashMap<String, ParamValue> = HashMap::new();
    for p in &spec.params {
        if let Some(d) = &p.default {
            values.insert(p.name.clone(), d.clone());
        }
    }
    // A string default may reference another param's default (§3.6 TaskRun step 3).
    let defaults = Scope {
        params: values.clone(),
        ..Scope::default()
    };
    for p in &spec.params {
        if let Some(ParamValue::String(s)) = values.get(&p.name) {
            let resolved = defaults.subst(s);
            values.insert(p.name.clone(), ParamValue::String(resolved));
        }
    }
    for (k, v) in &inputs.propagated {
        merge_value(&mut values, k, v);
    }
    for p in &inputs.params {
        merge_value(&mut values, &p.name, &p.value);
    }
    values
}

/// Object values merge per key over defaults; anything else replaces.
fn merge_value(values: &mut HashMap<String, ParamValue>, name: &str, value: &ParamValue) {
    match (values.get_mut(name), value) {
        (Some(ParamValue::Object(old)), ParamValue::Object(new)) => {
            old.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        _ => {
            values.insert(name.to_string(), value.clone());
        }
    }
}

/// Resolves every step and sidecar of `spec` for one TaskRun.
pub fn resolve_task(
    bundle: &Bundle,
    spec: &TaskSpec,
    inputs: &TaskInputs,
) -> Result<ResolvedTask, PlanError> {
    let params = task_params(spec, inputs);
    let param_scope = Scope {
        params: params.clone(),
        result_placeholders: inputs.result_placeholders,
        ..Scope::default()
    };
    let mut context_scope = Scope {
        result_placeholders: inputs.result_placeholders,
        ..Scope::default()
    };
    for (k, v) in [
        ("taskRun.name", inputs.task_run_name.clone()),
        ("taskRun.namespace", inputs.namespace.clone()),
        ("taskRun.uid", "<uid>".to_string()),
        ("task.name", inputs.task_name.clone()),
        ("task.retry-count", inputs.retry_count.to_string()),
    ] {
        context_scope.context.insert(k.to_string(), v);
    }
    for w in &spec.workspaces {
        let bound = inputs.bound_workspaces.contains(&w.name);
        let path = if bound || w.optional != Some(true) {
            w.effective_mount_path()
        } else {
            String::new()
        };
        let ws = |attr: &str| (w.name.clone(), attr.to_string());
        context_scope.workspaces.insert(ws("path"), path);
        context_scope
            .workspaces
            .insert(ws("bound"), bound.to_string());
        if bound {
            let claim = inputs.claims.get(&w.name).cloned().unwrap_or_default();
            context_scope.workspaces.insert(ws("claim"), claim);
            context_scope
                .workspaces
                .insert(ws("volume"), workspace_volume_name(&w.name));
        }
    }
    let mut steps = Vec::with_capacity(spec.steps.len());
    for (i, step) in spec.steps.iter().enumerate() {
        let name = step_name(&step.name, i);
        let (merged, action) = apply_step_action(bundle, step, &name, &param_scope)?;
        let merged = apply_template(&merged, spec.step_template.as_ref());
        let mut plan = step_plan(&merged, &name, &param_scope);
        finish_stages(&mut plan, &context_scope, &name);
        bundle.image_map.apply(&mut plan.image);
        plan.step_action = action;
        steps.push(plan);
    }
    let sidecars = spec
        .sidecars
        .iter()
        .map(|s| {
            let mut plan = sidecar_plan(s, &param_scope);
            finish_stages(&mut plan, &context_scope, &s.name.clone());
            bundle.image_map.apply(&mut plan.image);
            plan
        })
        .collect();
    let volumes = spec
        .volumes
        .iter()
        .map(|v| {
            let mut v = v.clone();
            if let Some(cm) = v.config_map.as_mut() {
                cm.name = param_scope.subst(&cm.name);
            }
            if let Some(secret) = v.secret.as_mut() {
                secret.secret_name = secret.secret_name.as_deref().map(|n| param_scope.subst(n));
            }
            v
        })
        .collect();
    Ok(ResolvedTask {
        params,
        steps,
        sidecars,
        volumes,
    })
}

/// A step's name as Tekton reports it: its own, or `unnamed-<index>` (0-based, counting every
/// step of the Task) when it has none.
pub fn step_name(name: &str, index: usize) -> String {
    if name.is_empty() {
        format!("unnamed-{index}")
    } else {
        name.to_owned()
    }
}

/// `$(workspaces.W.claim)` for each Task workspace bound to a claim, from (Task workspace,
/// run binding) pairs: a `persistentVolumeClaim`'s `claimName`, or for a
/// `volumeClaimTemplate` the claim Tekton creates, `<template name or "pvc">-<10 hex>`. The
/// hex identifies the binding and the run `owner`; Tekton hashes the owner's UID with SHA-256,
/// which a local run does not have, so only the shape matches. Host directories
/// (`-w name=DIR`) are not claims.
pub fn workspace_claims<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a WorkspaceBinding)>,
    owner: &str,
) -> HashMap<String, String> {
    let mut claims = HashMap::new();
    for (task_workspace, binding) in pairs {
        let claim = if let Some(pvc) = &binding.persistent_volume_claim {
            if pvc.claim_name.starts_with(HOST_DIR_CLAIM_PREFIX) {
                continue;
            }
            pvc.claim_name.clone()
        } else if let Some(template) = &binding.volume_claim_template {
            let base = template
                .metadata
                .name
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or("pvc");
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for b in binding.name.bytes().chain(owner.bytes()) {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
            format!("{base}-{}", &format!("{hash:016x}")[..10])
        } else {
            continue;
        };
        claims.insert(task_workspace.to_owned(), claim);
    }
    claims
}

/// The claim-name prefix by which `-w name=DIR` binds a host directory.
pub const HOST_DIR_CLAIM_PREFIX: &str = "dir:";

/// Tekton's generated pod volume name for a workspace: `ws-` + 5 hex digits of fnv32a.
pub fn workspace_volume_name(name: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("ws-{}", &format!("{hash:08x}")[..5])
}

/// Context, result/exit-code paths and workspaces: the stages after params (§3.6 4–8).
fn finish_stages(plan: &mut StepPlan, scope: &Scope, step_name: &str) {
    let container = format!("step-{step_name}");
    // `$(workspaces.W.path)` is the container's own mount path when it lists W with one.
    let own_paths: Vec<(&String, &String)> = plan
        .isolated_workspaces
        .iter()
        .filter_map(|(w, path)| Some((w, path.as_ref()?)))
        .collect();
    let lookup = |var: &Var| -> Option<String> {
        match var {
            Var::ResultPath { name } => Some(format!("/tekton/results/{name}")),
            Var::StepResultPath { name } => {
                Some(format!("/tekton/steps/{container}/results/{name}"))
            }
            Var::StepExitCodePath { step } => Some(format!("/tekton/steps/{step}/exitCode")),
            Var::CredentialsPath => Some("/tekton/creds".to_string()),
            Var::ArtifactsPath => Some("/tekton/artifacts/provenance.json".to_string()),
            Var::StepArtifactsPath => Some(format!(
                "/tekton/steps/{container}/artifacts/provenance.json"
            )),
            Var::Workspace { name, attr } if attr == "path" => own_paths
                .iter()
                .find(|(w, _)| *w == name)
                .map(|(_, p)| (*p).clone())
                .or_else(|| scope.string(var)),
            other => scope.string(other),
        }
    };
    let sub = |s: &str| subst::substitute(s, lookup);
    plan.image = sub(&plan.image);
    plan.command = plan.command.iter().map(|s| sub(s)).collect();
    plan.args = plan.args.iter().map(|s| sub(s)).collect();
    plan.script = plan.script.as_deref().map(sub);
    plan.working_dir = plan.working_dir.as_deref().map(sub);
    for e in &mut plan.env {
        e.value = sub(&e.value);
    }
    for m in &mut plan.volume_mounts {
        m.name = sub(&m.name);
        m.mount_path = sub(&m.mount_path);
        m.sub_path = m.sub_path.as_deref().map(sub);
    }
    plan.stdout_path = plan.stdout_path.as_deref().map(sub);
    plan.stderr_path = plan.stderr_path.as_deref().map(sub);
}

/// Strategic merge of the stepTemplate into a step (§4.8).
pub fn apply_template(step: &Step, template: Option<&crate::api::task::StepTemplate>) -> Step {
    let Some(t) = template else {
        return step.clone();
    };
    let mut s = step.clone();
    if s.image.is_none() {
        s.image.clone_from(&t.image);
    }
    if s.command.is_empty() && s.script.is_none() {
        s.command.clone_from(&t.command);
    }
    if s.args.is_empty() {
        s.args.clone_from(&t.args);
    }
    if s.working_dir.is_none() {
        s.working_dir.clone_from(&t.working_dir);
    }
    if s.image_pull_policy.is_none() {
        s.image_pull_policy.clone_from(&t.image_pull_policy);
    }
    if s.security_context.is_none() {
        s.security_context.clone_from(&t.security_context);
    }
    if s.compute_resources.is_none() {
        s.compute_resources.clone_from(&t.compute_resources);
    }
    // Env: the step's own variables first, then the template's with step overrides.
    let mut env: Vec<corev1::EnvVar> = step
        .env
        .iter()
        .filter(|e| !t.env.iter().any(|te| te.name == e.name))
        .cloned()
        .collect();
    for te in &t.env {
        env.push(
            step.env
                .iter()
                .find(|e| e.name == te.name)
                .unwrap_or(te)
                .clone(),
        );
    }
    s.env = env;
    let mut env_from = t.env_from.clone();
    env_from.extend(step.env_from.iter().cloned());
    s.env_from = env_from;
    let mut mounts: Vec<corev1::VolumeMount> = step.volume_mounts.clone();
    for m in &t.volume_mounts {
        if !mounts.iter().any(|sm| sm.mount_path == m.mount_path) {
            mounts.push(m.clone());
        }
    }
    s.volume_mounts = mounts;
    s
}

/// The variables of `env` as a plan shows them (`valueFrom` as a placeholder).
pub fn env_plan(env: &[corev1::EnvVar], scope: &Scope) -> Vec<EnvPlan> {
    env.iter()
        .map(|e| EnvPlan {
            name: e.name.clone(),
            value: match (&e.value, &e.value_from) {
                (Some(v), _) => scope.subst(v),
                (None, Some(from)) => describe_value_from(from, scope),
                (None, None) => String::new(),
            },
        })
        .collect()
}

/// The variables the downward API fills (`valueFrom.fieldRef`/`resourceFieldRef`), as written.
pub fn downward_env(env: &[corev1::EnvVar]) -> Vec<(String, corev1::EnvVarSource)> {
    env.iter()
        .filter(|e| e.value.is_none())
        .filter_map(|e| {
            let from = e.value_from.as_ref()?;
            (from.field_ref.is_some() || from.resource_field_ref.is_some())
                .then(|| (e.name.clone(), from.clone()))
        })
        .collect()
}

/// What a run must read from ConfigMaps/Secrets: `envFrom` first, then `valueFrom` keys.
pub fn env_sources(
    env: &[corev1::EnvVar],
    env_from: &[corev1::EnvFromSource],
    scope: &Scope,
) -> Vec<EnvSource> {
    let mut out = Vec::new();
    for f in env_from {
        let prefix = scope.subst(f.prefix.as_deref().unwrap_or_default());
        if let Some(c) = &f.config_map_ref {
            out.push(EnvSource::All {
                kind: ConfigKind::ConfigMap,
                object: scope.subst(&c.name),
                prefix: prefix.clone(),
                optional: c.optional == Some(true),
            });
        }
        if let Some(s) = &f.secret_ref {
            out.push(EnvSource::All {
                kind: ConfigKind::Secret,
                object: scope.subst(&s.name),
                prefix,
                optional: s.optional == Some(true),
            });
        }
    }
    for e in env.iter().filter(|e| e.value.is_none()) {
        let Some(from) = &e.value_from else { continue };
        let key = |kind, object: &str, key: &str, optional: Option<bool>| EnvSource::Key {
            name: e.name.clone(),
            kind,
            object: scope.subst(object),
            key: scope.subst(key),
            optional: optional == Some(true),
        };
        if let Some(c) = &from.config_map_key_ref {
            out.push(key(ConfigKind::ConfigMap, &c.name, &c.key, c.optional));
        } else if let Some(s) = &from.secret_key_ref {
            out.push(key(ConfigKind::Secret, &s.name, &s.key, s.optional));
        }
    }
    out
}

fn describe_value_from(from: &corev1::EnvVarSource, scope: &Scope) -> String {
    if let Some(s) = &from.secret_key_ref {
        return format!("<secret {}/{}>", scope.subst(&s.name), scope.subst(&s.key));
    }
    if let Some(c) = &from.config_map_key_ref {
        return format!(
            "<configMap {}/{}>",
            scope.subst(&c.name),
            scope.subst(&c.key)
        );
    }
    if let Some(f) = &from.field_ref {
        return format!("<field {}>", f.field_path);
    }
    "<valueFrom>".to_string()
}

fn with_preamble(script: &str) -> String {
    if script.trim().starts_with("#!") {
        script.to_string()
    } else {
        format!("{SCRIPT_PREAMBLE}{script}")
    }
}

fn step_plan(step: &Step, name: &str, scope: &Scope) -> StepPlan {
    StepPlan {
        name: scope.subst(name),
        image: scope.subst(step.image.as_deref().unwrap_or("")),
        command: scope.subst_list(&step.command),
        args: scope.subst_list(&step.args),
        script: step
            .script
            .as_deref()
            .map(|s| with_preamble(&scope.subst(s))),
        working_dir: step.working_dir.as_deref().map(|s| scope.subst(s)),
        env: env_plan(&step.env, scope),
        timeout: step.timeout.clone(),
        on_error: step.on_error.as_deref().map(|s| scope.subst(s)),
        results: step.results.iter().map(|r| r.name.clone()).collect(),
        step_action: None,
        env_sources: env_sources(&step.env, &step.env_from, scope),
        downward_env: downward_env(&step.env),
        run_as_user: step.security_context.as_ref().and_then(|c| c.run_as_user),
        run_as_group: step.security_context.as_ref().and_then(|c| c.run_as_group),
        privileged: step
            .security_context
            .as_ref()
            .and_then(|c| c.privileged)
            .unwrap_or(false),
        image_pull_policy: step.image_pull_policy.clone(),
        when: step
            .when
            .iter()
            .map(|w| WhenExpression {
                input: w.input.as_deref().map(|i| scope.subst(i)),
                operator: w.operator.clone(),
                values: w.values.as_deref().map(|v| scope.subst_list(v)),
                cel: w.cel.as_deref().map(|c| scope.subst(c)),
            })
            .collect(),
        confinement: Confinement::of(
            step.security_context.as_ref(),
            step.compute_resources.as_ref(),
        ),
        volume_mounts: volume_mounts(&step.volume_mounts, scope),
        stdout_path: output_path(step.stdout_config.as_ref(), scope),
        stderr_path: output_path(step.stderr_config.as_ref(), scope),
        isolated_workspaces: step
            .workspaces
            .iter()
            .map(|w| (w.name.clone(), w.mount_path.clone()))
            .collect(),
        // Steps are not probed: only sidecars hold the steps back.
        readiness_probe: None,
        startup_probe: None,
        security_context: step.security_context.clone(),
        compute_resources: step.compute_resources.clone(),
        pod_only: PodOnly {
            volume_devices: step.volume_devices.clone(),
            ..PodOnly::default()
        },
    }
}

/// A `stdoutConfig`/`stderrConfig` path, params substituted; an empty path means no file.
fn output_path(config: Option<&StepOutputConfig>, scope: &Scope) -> Option<String> {
    let path = config?.path.as_deref().filter(|p| !p.is_empty())?;
    Some(scope.subst(path))
}

/// A container's `volumeMounts`, substituted.
fn volume_mounts(mounts: &[corev1::VolumeMount], scope: &Scope) -> Vec<VolumeMountPlan> {
    mounts
        .iter()
        .map(|m| VolumeMountPlan {
            name: scope.subst(&m.name),
            mount_path: scope.subst(&m.mount_path),
            read_only: m.read_only == Some(true),
            sub_path: m.sub_path.as_deref().map(|p| scope.subst(p)),
        })
        .collect()
}

fn sidecar_plan(s: &Sidecar, scope: &Scope) -> StepPlan {
    StepPlan {
        name: s.name.clone(),
        image: scope.subst(s.image.as_deref().unwrap_or("")),
        command: scope.subst_list(&s.command),
        args: scope.subst_list(&s.args),
        script: s.script.as_deref().map(|x| with_preamble(&scope.subst(x))),
        working_dir: s.working_dir.as_deref().map(|x| scope.subst(x)),
        env: env_plan(&s.env, scope),
        env_sources: env_sources(&s.env, &s.env_from, scope),
        downward_env: downward_env(&s.env),
        run_as_user: s.security_context.as_ref().and_then(|c| c.run_as_user),
        run_as_group: s.security_context.as_ref().and_then(|c| c.run_as_group),
        privileged: s
            .security_context
            .as_ref()
            .and_then(|c| c.privileged)
            .unwrap_or(false),
        image_pull_policy: s.image_pull_policy.clone(),
        confinement: Confinement::of(s.security_context.as_ref(), s.compute_resources.as_ref()),
        volume_mounts: volume_mounts(&s.volume_mounts, scope),
        readiness_probe: s.readiness_probe.clone(),
        startup_probe: s.startup_probe.clone(),
        security_context: s.security_context.clone(),
        compute_resources: s.compute_resources.clone(),
        pod_only: PodOnly {
            volume_devices: s.volume_devices.clone(),
            ports: s.ports.clone(),
            liveness_probe: s.liveness_probe.clone(),
            lifecycle: s.lifecycle.clone(),
        },
        isolated_workspaces: s
            .workspaces
            .iter()
            .map(|w| (w.name.clone(), w.mount_path.clone()))
            .collect(),
        ..StepPlan::default()
    }
}

/// The declared type of a param, for callers that need it.
pub fn declared_type(spec: &TaskSpec, name: &str) -> Option<ParamType> {
    spec.params
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.effective_type())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_volume_names_match_tekton() {
        // fnv32a("source") = 0x...; only the shape and stability matter to users.
        let v = workspace_volume_name("source");
        assert_eq!(v.len(), 8);
        assert_eq!(v, workspace_volume_name("source"));
        assert_ne!(v, workspace_volume_name("output"));
    }

    #[test]
    fn workspace_variables_reach_every_container_field() {
        let spec: TaskSpec = serde_yaml_ng::from_str(
            r#"
workspaces: [{name: data}, {name: cache}, {name: opt, optional: true}]
stepTemplate:
  env: [{name: CLAIM, value: $(workspaces.data.claim)}]
steps:
- image: alpine
  workingDir: $(workspaces.data.path)/src
  stdoutConfig: {path: $(workspaces.cache.path)/out.log}
  volumeMounts: [{name: v, mountPath: /mnt/$(workspaces.data.volume), subPath: $(workspaces.opt.bound)}]
  args: ["$(workspaces.opt.path)", "$(workspaces.cache.claim)", "$(workspaces.opt.claim)"]
sidecars:
- name: side
  image: alpine
  workingDir: $(workspaces.cache.path)
  volumeMounts: [{name: v, mountPath: $(workspaces.data.path)/side}]
  workspaces: [{name: data, mountPath: /own}]
  args: ["$(workspaces.data.path)", "$(workspaces.data.bound)"]
"#,
        )
        .unwrap();
        let data: WorkspaceBinding =
            serde_yaml_ng::from_str("{name: data, persistentVolumeClaim: {claimName: my-claim}}")
                .unwrap();
        let inputs = TaskInputs {
            bound_workspaces: vec!["data".into(), "cache".into()],
            claims: workspace_claims([("data", &data)], "run"),
            ..TaskInputs::default()
        };
        let resolved = resolve_task(&Bundle::new(), &spec, &inputs).unwrap();
        let step = &resolved.steps[0];
        let volume = workspace_volume_name("data");
        assert_eq!(step.working_dir.as_deref(), Some("/workspace/data/src"));
        assert_eq!(step.env[0].value, "my-claim");
        assert_eq!(
            step.stdout_path.as_deref(),
            Some("/workspace/cache/out.log")
        );
        assert_eq!(step.volume_mounts[0].mount_path, format!("/mnt/{volume}"));
        assert_eq!(step.volume_mounts[0].sub_path.as_deref(), Some("false"));
        // An unbound optional workspace has no path and leaves its claim verbatim.
        assert_eq!(step.args, ["", "", "$(workspaces.opt.claim)"]);
        let side = &resolved.sidecars[0];
        assert_eq!(side.working_dir.as_deref(), Some("/workspace/cache"));
        assert_eq!(side.volume_mounts[0].mount_path, "/own/side");
        assert_eq!(side.args, ["/own", "true"]);
    }

    #[test]
    fn claims_name_the_claim_tekton_mounts() {
        let binding = |yaml: &str| -> WorkspaceBinding { serde_yaml_ng::from_str(yaml).unwrap() };
        let pvc = binding("{name: a, persistentVolumeClaim: {claimName: shared}}");
        let template = binding("{name: b, volumeClaimTemplate: {spec: {}}}");
        let named = binding("{name: c, volumeClaimTemplate: {metadata: {name: cache}}}");
        let dir = binding("{name: d, persistentVolumeClaim: {claimName: \"dir:/tmp\"}}");
        let empty = binding("{name: e, emptyDir: {}}");
        let claims = workspace_claims(
            [
                ("a", &pvc),
                ("b", &template),
                ("c", &named),
                ("d", &dir),
                ("e", &empty),
            ],
            "run-1",
        );
        assert_eq!(claims["a"], "shared");
        assert!(
            claims["b"].starts_with("pvc-") && claims["b"].len() == 14,
            "{claims:?}"
        );
        assert!(claims["c"].starts_with("cache-"), "{claims:?}");
        assert_eq!(
            claims.len(),
            3,
            "host directories and emptyDir are no claims"
        );
        let again = workspace_claims([("b", &template)], "run-1");
        assert_eq!(again["b"], claims["b"], "stable for one run");
        assert_ne!(
            workspace_claims([("b", &template)], "run-2")["b"],
            claims["b"]
        );
    }

    #[test]
    fn template_env_merges_like_strategic_merge() {
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(n, v)| corev1::EnvVar {
                    name: n.to_string(),
                    value: Some(v.to_string()),
                    value_from: None,
                })
                .collect::<Vec<_>>()
        };
        let step = Step {
            env: env(&[("C", "c"), ("B", "b2")]),
            ..Step::default()
        };
        let template = crate::api::task::StepTemplate {
            env: env(&[("A", "a"), ("B", "b")]),
            image: Some("img".into()),
            ..Default::default()
        };
        let merged = apply_template(&step, Some(&template));
        let names: Vec<_> = merged
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_deref().unwrap()))
            .collect();
        assert_eq!(names, [("C", "c"), ("A", "a"), ("B", "b2")]);
        assert_eq!(merged.image.as_deref(), Some("img"));
    }

    #[test]
    fn run_as_user_comes_from_the_step_or_its_template() {
        let context = |uid| corev1::SecurityContext {
            run_as_user: Some(uid),
            run_as_group: Some(uid + 1),
            ..Default::default()
        };
        let spec = TaskSpec {
            steps: vec![
                Step {
                    name: "own".into(),
                    image: Some("img".into()),
                    security_context: Some(context(10)),
                    ..Step::default()
                },
                Step {
                    name: "templated".into(),
                    image: Some("img".into()),
                    ..Step::default()
                },
            ],
            step_template: Some(crate::api::task::StepTemplate {
                security_context: Some(context(20)),
                ..Default::default()
            }),
            ..TaskSpec::default()
        };
        let resolved = resolve_task(&Bundle::new(), &spec, &TaskInputs::default()).unwrap();
        let ids: Vec<_> = resolved
            .steps
            .iter()
            .map(|s| (s.run_as_user, s.run_as_group))
            .collect();
        assert_eq!(ids, [(Some(10), Some(11)), (Some(20), Some(21))]);
    }

    #[test]
    fn step_action_params_fed_from_step_results_become_result_references() {
        let mut bundle = Bundle::new();
        bundle.add_source(
            "t.yaml",
            r#"
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata: {name: act}
spec:
  params: [{name: list, type: array}, {name: word}, {name: obj, type: object, properties: {k: {}}}, {name: plain}]
  image: alpine
  env: [{name: W, value: $(params.word)}]
  args: ["$(params.list[*])", "$(params.list[0])", "$(params.obj.k)", "$(params.plain)"]
"#
            .to_owned(),
            crate::load::Origin::Input,
        );
        let spec: TaskSpec = serde_yaml_ng::from_str(
            r#"
steps:
- {name: first, image: alpine, script: 'true'}
- name: second
  ref: {name: act}
  params:
  - {name: list, value: "$(steps.first.results.l[*])"}
  - {name: word, value: "$(steps.first.results.w)"}
  - {name: obj, value: "$(steps.first.results.o[*])"}
  - {name: plain, value: x}
"#,
        )
        .unwrap();
        let resolved = resolve_task(&bundle, &spec, &TaskInputs::default()).unwrap();
        let step = &resolved.steps[1];
        assert_eq!(
            step.args,
            [
                "$(steps.first.results.l[*])",
                "$(steps.first.results.l[0])",
                "$(steps.first.results.o.k)",
                "x"
            ]
        );
        assert_eq!(step.env[0].value, "$(steps.first.results.w)");
    }
}
