//! Variable usage inside a Task or StepAction (spec §2.6, §2.3, §3): every `$(...)` in a
//! substituted container field must name something that will exist, with a type that fits
//! where it is written.
//!
//! Each container (step, stepTemplate, sidecar, StepAction) is flattened into its substituted
//! string fields, each tagged with a [`Slot`] that says which references it may hold: only
//! whole `command`/`args` elements can splice an array, only env/command/args can read a
//! previous step's result, and so on. Every finding points inside the string at the exact
//! reference, so the reported column is the `$(` the user has to change.
//!
//! Beyond Tekton, values a user controls that land in a `script` get a
//! `security/script-injection` warning: a script is source code, and `$(params.x)` pastes
//! the value into it unquoted.

use std::collections::{HashMap, HashSet};

use k8s_openapi::api::core::v1 as corev1;

use super::Ctx;
use crate::api::step_action::StepActionSpec;
use crate::api::task::StepTemplate;
use crate::api::{
    Param, ParamSpec, ParamType, ParamValue, Sidecar, Step, TaskSpec, WhenExpression,
};
use crate::diagnostic::Diagnostic;
use crate::load::catalog::suggest;
use crate::subst::{scan, Access, Reference, SubstError, Var};

use super::spec_context::SpecContext;

/// Checks every variable reference in the steps, stepTemplate and sidecars of `spec`.
pub fn validate_task_variables(
    ctx: &mut Ctx<'_>,
    spec: &TaskSpec,
    path: &str,
    sc: &SpecContext<'_>,
) {
    let scope = Scope {
        params: Params::new(
            &spec.params,
            sc.propagated_params,
            sc.embedded && sc.in_pipeline,
        ),
        in_pipeline: sc.in_pipeline,
        declarer: if sc.embedded {
            "the taskSpec"
        } else {
            "the task"
        },
        params_path: format!("{path}.params"),
    };
    for (i, step) in spec.steps.iter().enumerate() {
        let fields = step_fields(step, &format!("{path}.steps[{i}]"));
        check_fields(ctx, &scope, Owner::Step, &fields);
    }
    if let Some(template) = &spec.step_template {
        let fields = template_fields(template, &format!("{path}.stepTemplate"));
        check_fields(ctx, &scope, Owner::StepTemplate, &fields);
    }
    for (i, sidecar) in spec.sidecars.iter().enumerate() {
        let fields = sidecar_fields(sidecar, &format!("{path}.sidecars[{i}]"));
        check_fields(ctx, &scope, Owner::Sidecar, &fields);
    }
}

/// Checks every variable reference in a StepAction's fields (`path` is `spec`).
pub fn validate_step_action_variables(ctx: &mut Ctx<'_>, spec: &StepActionSpec, path: &str) {
    let scope = Scope {
        params: Params::new(&spec.params, &[], false),
        in_pipeline: false,
        declarer: "the StepAction",
        params_path: format!("{path}.params"),
    };
    let fields = step_action_fields(spec, path);
    check_fields(ctx, &scope, Owner::StepAction, &fields);
}

/// Which container a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Step,
    StepTemplate,
    Sidecar,
    StepAction,
}

/// Which part of a container a string came from; it decides which references are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Name,
    Image,
    ImagePullPolicy,
    WorkingDir,
    Script,
    /// A `command` or `args` element: the only place a whole array is spliced.
    Argv,
    EnvValue,
    /// Names the kubelet resolves before the container starts (ConfigMap, Secret, prefix).
    EnvSource,
    VolumeMount,
    VolumeDevice,
    OnError,
    OutputPath,
    WhenInput,
    WhenValue,
    WhenCel,
    /// A value a step passes to its StepAction.
    StepParam,
}

impl Slot {
    /// Where `$(steps.<s>.results.<r>)` can be resolved: the entrypoint reads it at run time
    /// only in these places.
    fn reads_step_results(self) -> bool {
        matches!(
            self,
            Slot::Argv
                | Slot::EnvValue
                | Slot::WhenInput
                | Slot::WhenValue
                | Slot::WhenCel
                | Slot::StepParam
        )
    }

    /// Where a whole array may stand, provided it is the entire string.
    fn splices_arrays(self) -> bool {
        matches!(
            self,
            Slot::Argv | Slot::StepParam | Slot::WhenValue | Slot::WhenInput
        )
    }

    /// The field name for messages.
    fn describe(self) -> &'static str {
        match self {
            Slot::Name => "name",
            Slot::Image => "image",
            Slot::ImagePullPolicy => "imagePullPolicy",
            Slot::WorkingDir => "workingDir",
            Slot::Script => "script",
            Slot::Argv => "command/args",
            Slot::EnvValue => "env",
            Slot::EnvSource => "envFrom/valueFrom",
            Slot::VolumeMount => "volumeMounts",
            Slot::VolumeDevice => "volumeDevices",
            Slot::OnError => "onError",
            Slot::OutputPath => "stdoutConfig/stderrConfig",
            Slot::WhenInput | Slot::WhenValue | Slot::WhenCel => "when",
            Slot::StepParam => "params",
        }
    }
}

/// One substituted string of a container.
#[derive(Debug)]
struct Field<'a> {
    path: String,
    slot: Slot,
    text: &'a str,
}

/// Collects the fields of one container under the object path `at`.
struct Fields<'a> {
    at: String,
    out: Vec<Field<'a>>,
}

impl<'a> Fields<'a> {
    fn new(at: &str) -> Self {
        Fields {
            at: at.to_string(),
            out: Vec::new(),
        }
    }

    fn one(&mut self, name: &str, slot: Slot, text: &'a str) {
        if text.contains('$') {
            self.out.push(Field {
                path: format!("{}.{name}", self.at),
                slot,
                text,
            });
        }
    }

    fn opt(&mut self, name: &str, slot: Slot, text: Option<&'a str>) {
        if let Some(text) = text {
            self.one(name, slot, text);
        }
    }

    fn list(&mut self, name: &str, slot: Slot, items: &'a [String]) {
        for (i, item) in items.iter().enumerate() {
            self.one(&format!("{name}[{i}]"), slot, item);
        }
    }

    fn env(&mut self, env: &'a [corev1::EnvVar]) {
        for (i, e) in env.iter().enumerate() {
            self.opt(
                &format!("env[{i}].value"),
                Slot::EnvValue,
                e.value.as_deref(),
            );
            let Some(from) = &e.value_from else { continue };
            if let Some(r) = &from.config_map_key_ref {
                self.one(
                    &format!("env[{i}].valueFrom.configMapKeyRef.name"),
                    Slot::EnvSource,
                    &r.name,
                );
                self.one(
                    &format!("env[{i}].valueFrom.configMapKeyRef.key"),
                    Slot::EnvSource,
                    &r.key,
                );
            }
            if let Some(r) = &from.secret_key_ref {
                self.one(
                    &format!("env[{i}].valueFrom.secretKeyRef.name"),
                    Slot::EnvSource,
                    &r.name,
                );
                self.one(
                    &format!("env[{i}].valueFrom.secretKeyRef.key"),
                    Slot::EnvSource,
                    &r.key,
                );
            }
        }
    }

    fn env_from(&mut self, env_from: &'a [corev1::EnvFromSource]) {
        for (i, e) in env_from.iter().enumerate() {
            self.opt(
                &format!("envFrom[{i}].prefix"),
                Slot::EnvSource,
                e.prefix.as_deref(),
            );
            if let Some(r) = &e.config_map_ref {
                self.one(
                    &format!("envFrom[{i}].configMapRef.name"),
                    Slot::EnvSource,
                    &r.name,
                );
            }
            if let Some(r) = &e.secret_ref {
                self.one(
                    &format!("envFrom[{i}].secretRef.name"),
                    Slot::EnvSource,
                    &r.name,
                );
            }
        }
    }

    fn mounts(&mut self, mounts: &'a [corev1::VolumeMount], devices: &'a [corev1::VolumeDevice]) {
        for (i, m) in mounts.iter().enumerate() {
            self.one(
                &format!("volumeMounts[{i}].name"),
                Slot::VolumeMount,
                &m.name,
            );
            self.one(
                &format!("volumeMounts[{i}].mountPath"),
                Slot::VolumeMount,
                &m.mount_path,
            );
            self.opt(
                &format!("volumeMounts[{i}].subPath"),
                Slot::VolumeMount,
                m.sub_path.as_deref(),
            );
        }
        for (i, d) in devices.iter().enumerate() {
            self.one(
                &format!("volumeDevices[{i}].name"),
                Slot::VolumeDevice,
                &d.name,
            );
            self.one(
                &format!("volumeDevices[{i}].devicePath"),
                Slot::VolumeDevice,
                &d.device_path,
            );
        }
    }

    fn when(&mut self, when: &'a [WhenExpression]) {
        for (i, w) in when.iter().enumerate() {
            self.opt(
                &format!("when[{i}].input"),
                Slot::WhenInput,
                w.input.as_deref(),
            );
            self.list(
                &format!("when[{i}].values"),
                Slot::WhenValue,
                w.values.as_deref().unwrap_or_default(),
            );
            self.opt(&format!("when[{i}].cel"), Slot::WhenCel, w.cel.as_deref());
        }
    }

    fn step_params(&mut self, params: &'a [Param]) {
        for (i, p) in params.iter().enumerate() {
            match &p.value {
                ParamValue::String(s) => {
                    self.one(&format!("params[{i}].value"), Slot::StepParam, s)
                }
                ParamValue::Array(items) => {
                    self.list(&format!("params[{i}].value"), Slot::StepParam, items)
                }
                ParamValue::Object(map) => {
                    for (key, value) in map {
                        let plain = !key.is_empty() && !key.contains(['.', '[', ']']);
                        let name = if plain {
                            format!("params[{i}].value.{key}")
                        } else {
                            format!("params[{i}].value")
                        };
                        self.one(&name, Slot::StepParam, value);
                    }
                }
            }
        }
    }
}

fn step_fields<'a>(s: &'a Step, at: &str) -> Vec<Field<'a>> {
    let mut f = Fields::new(at);
    f.one("name", Slot::Name, &s.name);
    f.opt("image", Slot::Image, s.image.as_deref());
    f.opt(
        "imagePullPolicy",
        Slot::ImagePullPolicy,
        s.image_pull_policy.as_deref(),
    );
    f.list("command", Slot::Argv, &s.command);
    f.list("args", Slot::Argv, &s.args);
    f.opt("workingDir", Slot::WorkingDir, s.working_dir.as_deref());
    f.opt("script", Slot::Script, s.script.as_deref());
    f.env(&s.env);
    f.env_from(&s.env_from);
    f.mounts(&s.volume_mounts, &s.volume_devices);
    f.opt("onError", Slot::OnError, s.on_error.as_deref());
    let stdout = s.stdout_config.as_ref().and_then(|c| c.path.as_deref());
    f.opt("stdoutConfig.path", Slot::OutputPath, stdout);
    let stderr = s.stderr_config.as_ref().and_then(|c| c.path.as_deref());
    f.opt("stderrConfig.path", Slot::OutputPath, stderr);
    f.when(&s.when);
    f.step_params(&s.params);
    f.out
}

fn template_fields<'a>(t: &'a StepTemplate, at: &str) -> Vec<Field<'a>> {
    let mut f = Fields::new(at);
    f.opt("image", Slot::Image, t.image.as_deref());
    f.opt(
        "imagePullPolicy",
        Slot::ImagePullPolicy,
        t.image_pull_policy.as_deref(),
    );
    f.list("command", Slot::Argv, &t.command);
    f.list("args", Slot::Argv, &t.args);
    f.opt("workingDir", Slot::WorkingDir, t.working_dir.as_deref());
    f.env(&t.env);
    f.env_from(&t.env_from);
    f.mounts(&t.volume_mounts, &t.volume_devices);
    f.out
}

fn sidecar_fields<'a>(s: &'a Sidecar, at: &str) -> Vec<Field<'a>> {
    let mut f = Fields::new(at);
    f.one("name", Slot::Name, &s.name);
    f.opt("image", Slot::Image, s.image.as_deref());
    f.opt(
        "imagePullPolicy",
        Slot::ImagePullPolicy,
        s.image_pull_policy.as_deref(),
    );
    f.list("command", Slot::Argv, &s.command);
    f.list("args", Slot::Argv, &s.args);
    f.opt("workingDir", Slot::WorkingDir, s.working_dir.as_deref());
    f.opt("script", Slot::Script, s.script.as_deref());
    f.env(&s.env);
    f.env_from(&s.env_from);
    f.mounts(&s.volume_mounts, &s.volume_devices);
    f.out
}

fn step_action_fields<'a>(s: &'a StepActionSpec, at: &str) -> Vec<Field<'a>> {
    let mut f = Fields::new(at);
    f.opt("image", Slot::Image, s.image.as_deref());
    f.list("command", Slot::Argv, &s.command);
    f.list("args", Slot::Argv, &s.args);
    f.opt("workingDir", Slot::WorkingDir, s.working_dir.as_deref());
    f.opt("script", Slot::Script, s.script.as_deref());
    f.env(&s.env);
    f.mounts(&s.volume_mounts, &[]);
    f.out
}

/// The params a spec can see.
struct Params<'a> {
    declared: HashMap<&'a str, &'a ParamSpec>,
    /// Names supplied by the enclosing run or Pipeline; their types are not known here.
    propagated: HashSet<&'a str>,
    /// Inside a Pipeline a PipelineRun may supply params the Pipeline does not declare, so a
    /// name nobody declares is only suspicious, not certainly wrong.
    lenient: bool,
}

impl<'a> Params<'a> {
    fn new(specs: &'a [ParamSpec], propagated: &'a [String], lenient: bool) -> Self {
        Params {
            declared: specs.iter().map(|s| (s.name.as_str(), s)).collect(),
            propagated: propagated.iter().map(String::as_str).collect(),
            lenient,
        }
    }

    fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.declared.keys().chain(self.propagated.iter()).copied()
    }
}

/// What references in one spec are checked against.
struct Scope<'a> {
    params: Params<'a>,
    in_pipeline: bool,
    /// "the task", "the taskSpec" or "the StepAction", for messages.
    declarer: &'static str,
    params_path: String,
}

/// A finding about one reference, before it is located.
struct Finding {
    code: &'static str,
    message: String,
    hint: String,
    warning: bool,
}

impl Finding {
    fn error(code: &'static str, message: String, hint: String) -> Self {
        Finding {
            code,
            message,
            hint,
            warning: false,
        }
    }

    fn warning(code: &'static str, message: String, hint: String) -> Self {
        Finding {
            warning: true,
            ..Finding::error(code, message, hint)
        }
    }
}

fn check_fields(ctx: &mut Ctx<'_>, scope: &Scope<'_>, owner: Owner, fields: &[Field<'_>]) {
    for field in fields {
        check_field(ctx, scope, owner, field);
    }
}

fn check_field(ctx: &mut Ctx<'_>, scope: &Scope<'_>, owner: Owner, field: &Field<'_>) {
    let scanned = scan(field.text);
    report_malformed(ctx, field, &scanned.errors);
    let sole = scanned.refs.len() == 1 && scanned.refs[0].span == (0..field.text.len());
    let mut warned: HashSet<String> = HashSet::new();
    for r in &scanned.refs {
        let finding = check_reference(scope, owner, field, r, sole).or_else(|| {
            // One warning per variable and script is enough to make the point.
            let first = injects(owner, field.slot, &r.var) && warned.insert(r.var.to_string());
            first.then(|| injection(r))
        });
        if let Some(f) = finding {
            let d = if f.warning {
                Diagnostic::warning(f.code, f.message)
            } else {
                Diagnostic::error(f.code, f.message)
            };
            let span = r.span.clone();
            ctx.push(
                d.at(&field.path)
                    .inside(span.start, span.len())
                    .hint(f.hint),
            );
        }
    }
}

fn report_malformed(ctx: &mut Ctx<'_>, field: &Field<'_>, errors: &[SubstError]) {
    for e in errors {
        let hint = e.hint.clone().unwrap_or_else(|| {
            "Tekton variables look like $(params.name), $(params.name[0]) or $(params.name.key); for shell command substitution put a space after `$(`".into()
        });
        let d = Diagnostic::error("variables/malformed", e.message.clone())
            .at(&field.path)
            .inside(e.span.start, e.span.len())
            .hint(hint);
        ctx.push(d);
    }
}

fn check_reference(
    scope: &Scope<'_>,
    owner: Owner,
    field: &Field<'_>,
    r: &Reference,
    sole: bool,
) -> Option<Finding> {
    match &r.var {
        Var::Param { .. } if owner == Owner::StepAction && field.slot == Slot::Script => {
            Some(param_in_script(r))
        }
        Var::Param { name, access } => check_param(scope, field, r, name, access, sole),
        Var::StepResult { .. } => check_step_result(owner, field, r),
        Var::Context { path } => check_context(scope, r, path),
        Var::Workspace { name, attr } => check_workspace_attr(r, name, attr),
        Var::TaskResult { .. } if scope.in_pipeline => None,
        Var::TaskResult { .. }
        | Var::FinallyResult { .. }
        | Var::TaskStatus { .. }
        | Var::TaskReason { .. }
        | Var::TasksStatus
        | Var::MatrixLength { .. }
        | Var::MatrixResultLength { .. } => Some(wrong_scope(scope, r)),
        _ => None,
    }
}

/// Tekton forbids pasting params into a StepAction's script: a reusable action must not be
/// injectable, so values reach it through env instead.
fn param_in_script(r: &Reference) -> Finding {
    let env = env_name(&r.var);
    Finding::error(
        "variables/param-in-script",
        "param substitution in scripts is not allowed.".into(),
        format!(
            "pass it through an env var: `env: [{{name: {env}, value: \"$({})\"}}]` and read \"${env}\" in the script",
            r.text
        ),
    )
}

fn check_param(
    scope: &Scope<'_>,
    field: &Field<'_>,
    r: &Reference,
    name: &str,
    access: &Access,
    sole: bool,
) -> Option<Finding> {
    let Some(spec) = scope.params.declared.get(name) else {
        if scope.params.propagated.contains(name) {
            return None;
        }
        return Some(undeclared_param(scope, r, name, access));
    };
    let ty = spec.effective_type()?;
    let text = format!("$({})", r.text);
    match (ty, access) {
        (ParamType::String, Access::Whole) | (ParamType::Array, Access::Index(_)) => None,
        (ParamType::String, Access::Key(key)) | (ParamType::Array, Access::Key(key)) => {
            Some(not_an_object(scope, &text, name, key, ty))
        }
        (ParamType::String, Access::Index(_) | Access::Star)
        | (ParamType::Object, Access::Index(_)) => Some(Finding::error(
            "variables/not-an-array",
            format!(
                "invalid reference \"{text}\": param \"{name}\" is {}, not an array",
                article(ty)
            ),
            format!("only array params can be indexed; use $(params.{name}) for the whole value"),
        )),
        (ParamType::Array, Access::Whole | Access::Star) => whole_array(field, &text, name, sole),
        (ParamType::Object, Access::Key(key)) => undeclared_key(spec, &text, name, key),
        (ParamType::Object, Access::Whole | Access::Star) => {
            if field.slot == Slot::StepParam && sole {
                return None;
            }
            let first_key = spec
                .properties
                .as_ref()
                .and_then(|p| p.keys().next())
                .map_or("key", String::as_str);
            Some(Finding::error(
                "variables/object-whole",
                format!("variable type invalid in \"{text}\": \"{name}\" is an object param"),
                format!("reference one key, e.g. $(params.{name}.{first_key}); a whole object can only be passed as an entire StepAction param value"),
            ))
        }
    }
}

fn article(ty: ParamType) -> &'static str {
    match ty {
        ParamType::String => "a string",
        ParamType::Array => "an array",
        ParamType::Object => "an object",
    }
}

fn undeclared_param(scope: &Scope<'_>, r: &Reference, name: &str, access: &Access) -> Finding {
    let message = format!(
        "non-existent variable in \"$({})\": param \"{name}\" is not declared by {}",
        r.text, scope.declarer
    );
    let dotted = match access {
        Access::Key(key) => Some(format!("{name}.{key}")),
        _ => None,
    };
    let hint =
        if let Some(dotted) = dotted.filter(|d| scope.params.declared.contains_key(d.as_str())) {
            format!("a name with dots needs brackets: $(params[\"{dotted}\"])")
        } else if let Some(close) = suggest(name, scope.params.names()) {
            format!("did you mean \"{close}\"?")
        } else {
            format!("declare it under {}", scope.params_path)
        };
    if scope.params.lenient {
        let hint = format!(
            "{hint}; as written, only a PipelineRun param named \"{name}\" would resolve it"
        );
        return Finding::warning("variables/undeclared-param", message, hint);
    }
    Finding::error("variables/undeclared-param", message, hint)
}

fn not_an_object(scope: &Scope<'_>, text: &str, name: &str, key: &str, ty: ParamType) -> Finding {
    let dotted = format!("{name}.{key}");
    let hint = if scope.params.declared.contains_key(dotted.as_str()) {
        format!("a name with dots needs brackets: $(params[\"{dotted}\"])")
    } else {
        format!(
            "`.{key}` selects a key of an object param, and \"{name}\" is {}",
            article(ty)
        )
    };
    Finding::error(
        "variables/not-an-object",
        format!(
            "invalid reference \"{text}\": param \"{name}\" is {}, not an object",
            article(ty)
        ),
        hint,
    )
}

fn undeclared_key(spec: &ParamSpec, text: &str, name: &str, key: &str) -> Option<Finding> {
    // Missing properties are reported on the declaration; every key would be unknown here.
    let properties = spec.properties.as_ref()?;
    if properties.contains_key(key) {
        return None;
    }
    let hint = match suggest(key, properties.keys().map(String::as_str)) {
        Some(close) => format!("did you mean \"{close}\"?"),
        None => format!("declare it under the properties of param \"{name}\""),
    };
    Some(Finding::error(
        "variables/undeclared-key",
        format!(
            "non-existent variable in \"{text}\": object param \"{name}\" has no key \"{key}\""
        ),
        hint,
    ))
}

fn whole_array(field: &Field<'_>, text: &str, name: &str, sole: bool) -> Option<Finding> {
    if field.slot.splices_arrays() {
        if sole {
            return None;
        }
        return Some(Finding::error(
            "variables/array-not-isolated",
            format!("variable is not properly isolated in \"{}\"", field.text),
            format!("a whole array must be an entire element on its own, like \"$(params.{name}[*])\"; use one element with $(params.{name}[0])"),
        ));
    }
    Some(Finding::error(
        "variables/array-type-invalid",
        format!("variable type invalid in \"{text}\": \"{name}\" is an array param"),
        format!("a whole array can only be an entire element of command or args (\"$(params.{name}[*])\"); elsewhere use one element, e.g. $(params.{name}[0])"),
    ))
}

fn check_step_result(owner: Owner, field: &Field<'_>, r: &Reference) -> Option<Finding> {
    if owner == Owner::Sidecar {
        return Some(Finding::error(
            "variables/step-result-location",
            format!("stepResult substitutions are only allowed in env, command and args. Found usage in sidecar {}", field.slot.describe()),
            "step results are resolved by a step's entrypoint; a sidecar never sees them".into(),
        ));
    }
    if field.slot.reads_step_results() {
        return None;
    }
    Some(Finding::error(
        "variables/step-result-location",
        format!("stepResult substitutions are only allowed in env, command and args. Found usage in {}", field.slot.describe()),
        format!("pass it through an env var: `env: [{{name: {}, value: \"$({})\"}}]` and use that variable instead", env_name(&r.var), r.text),
    ))
}

/// `context.*` variables a TaskRun resolves.
const TASK_CONTEXT: &[&str] = &[
    "taskRun.name",
    "taskRun.namespace",
    "taskRun.uid",
    "task.name",
    "task.retry-count",
];

/// `context.*` variables a PipelineRun resolves before the TaskRun exists.
const PIPELINE_CONTEXT: &[&str] = &[
    "pipelineRun.name",
    "pipelineRun.namespace",
    "pipelineRun.uid",
    "pipeline.name",
    "pipelineTask.retries",
];

fn check_context(scope: &Scope<'_>, r: &Reference, path: &[String]) -> Option<Finding> {
    let joined = path.join(".");
    if TASK_CONTEXT.contains(&joined.as_str()) {
        return None;
    }
    if PIPELINE_CONTEXT.contains(&joined.as_str()) {
        return (!scope.in_pipeline).then(|| wrong_scope(scope, r));
    }
    let known: Vec<&str> = if scope.in_pipeline {
        TASK_CONTEXT
            .iter()
            .chain(PIPELINE_CONTEXT)
            .copied()
            .collect()
    } else {
        TASK_CONTEXT.to_vec()
    };
    let hint = match suggest(&joined, known.iter().copied()) {
        Some(close) => format!("did you mean $(context.{close})?"),
        None => format!(
            "available here: {}",
            known
                .iter()
                .map(|k| format!("$(context.{k})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let message = format!("non-existent variable in \"$({})\"", r.text);
    // Tekton rejects unknown names under `context.taskRun.` and `context.task.` only; any
    // other context path is accepted and left verbatim, which is still never intended.
    if matches!(path.first().map(String::as_str), Some("taskRun" | "task")) {
        Some(Finding::error("variables/unknown-context", message, hint))
    } else {
        Some(Finding::warning("variables/unknown-context", message, hint))
    }
}

fn check_workspace_attr(r: &Reference, name: &str, attr: &str) -> Option<Finding> {
    const ATTRS: &[&str] = &["path", "bound", "claim", "volume"];
    if ATTRS.contains(&attr) {
        return None;
    }
    let hint = match suggest(attr, ATTRS.iter().copied()) {
        Some(close) => format!("did you mean $(workspaces.{name}.{close})?"),
        None => "a workspace has `.path`, `.bound`, `.claim` and `.volume`".into(),
    };
    // Tekton accepts it and leaves the text verbatim, which is never what was meant.
    Some(Finding::warning(
        "variables/unknown-workspace-attribute",
        format!(
            "\"$({})\" is never substituted: workspaces have no attribute \"{attr}\"",
            r.text
        ),
        hint,
    ))
}

/// A variable that exists, but not where it is written: Tekton leaves it verbatim.
fn wrong_scope(scope: &Scope<'_>, r: &Reference) -> Finding {
    let hint = if scope.in_pipeline {
        "it is not substituted inside an embedded taskSpec: pass it to the task as a param"
    } else {
        "only a Pipeline resolves it: pass the value in as a param of this task"
    };
    Finding::warning(
        "variables/wrong-scope",
        format!(
            "\"$({})\" is not resolved here and would stay verbatim",
            r.text
        ),
        hint.into(),
    )
}

/// Whether `var` in `slot` pastes a user-controlled value into a script's source.
fn injects(owner: Owner, slot: Slot, var: &Var) -> bool {
    // Paths, context names, workspace attributes, task states and matrix lengths come from
    // Tekton's own fixed vocabulary or from Kubernetes names, so they cannot carry code.
    slot == Slot::Script
        && matches!(owner, Owner::Step | Owner::Sidecar)
        && matches!(
            var,
            Var::Param { .. }
                | Var::TaskResult { .. }
                | Var::FinallyResult { .. }
                | Var::TaskOutputs { .. }
                | Var::TaskInputs { .. }
                | Var::StepOutputs { .. }
                | Var::StepInputs { .. }
        )
}

fn injection(r: &Reference) -> Finding {
    let env = env_name(&r.var);
    Finding::warning(
        "security/script-injection",
        format!("\"$({})\" is pasted into the script as source code", r.text),
        format!(
            "pass it through an env var: `env: [{{name: {env}, value: \"$({})\"}}]` and use \"${env}\" in the script",
            r.text
        ),
    )
}

/// A conventional environment variable name for a reference (`$(params.git-url)` → `GIT_URL`).
fn env_name(var: &Var) -> String {
    let base = match var {
        Var::Param { name, access } => match access {
            Access::Key(key) => format!("{name}_{key}"),
            _ => name.clone(),
        },
        Var::TaskResult { task, result, .. } | Var::FinallyResult { task, result, .. } => {
            format!("{task}_{result}")
        }
        Var::StepResult { step, result, .. } => format!("{step}_{result}"),
        Var::TaskOutputs { task, name }
        | Var::TaskInputs { task, name }
        | Var::StepOutputs { step: task, name }
        | Var::StepInputs { step: task, name } => {
            format!("{task}_{name}")
        }
        other => other.to_string(),
    };
    let mut out: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::load::{Bundle, Origin};
    use crate::validate::test_support::{check, task_with_spec};
    use crate::validate::Flags;

    fn run(spec: &str) -> Vec<Diagnostic> {
        check(&task_with_spec(spec))
    }

    fn errors(ds: &[Diagnostic]) -> Vec<(&str, &str, u32, u32)> {
        ds.iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let l = d.location.as_ref().unwrap();
                (d.code, d.field.as_deref().unwrap_or(""), l.line, l.column)
            })
            .collect()
    }

    const PARAMS: &str = "  params:\n  - name: s\n  - name: a\n    type: array\n  - name: o\n    properties: {url: {}}\n";

    #[test]
    fn undeclared_params_point_at_the_reference() {
        let ds = run(&format!(
            "{PARAMS}  steps:\n  - image: $(params.img)\n    args: [\"--x=$(params.ss)\"]\n    env:\n    - {{name: A, value: \"$(params.o.uri)\"}}\n"
        ));
        assert_eq!(
            errors(&ds),
            [
                ("variables/undeclared-param", "spec.steps[0].image", 12, 12),
                (
                    "variables/undeclared-param",
                    "spec.steps[0].args[0]",
                    13,
                    17
                ),
                (
                    "variables/undeclared-key",
                    "spec.steps[0].env[0].value",
                    15,
                    25
                ),
            ]
        );
        assert_eq!(ds[0].hint.as_deref(), Some("declare it under spec.params"));
        assert_eq!(ds[2].hint.as_deref(), Some("did you mean \"url\"?"));
        assert_eq!(
            ds[0].message,
            "non-existent variable in \"$(params.img)\": param \"img\" is not declared by the task"
        );
    }

    #[test]
    fn arrays_only_as_isolated_argv_elements() {
        let ds = run(&format!(
            "{PARAMS}  steps:\n  - name: x\n    image: alpine\n    command: [\"$(params.a[*])\", \"$(params.a)\", \"$(params.a[1])\"]\n    args: [\"-x $(params.a[*])\"]\n    workingDir: $(params.a)\n"
        ));
        assert_eq!(
            errors(&ds),
            [
                (
                    "variables/array-not-isolated",
                    "spec.steps[0].args[0]",
                    15,
                    16
                ),
                (
                    "variables/array-type-invalid",
                    "spec.steps[0].workingDir",
                    16,
                    17
                ),
            ]
        );
        assert_eq!(
            ds[0].message,
            "variable is not properly isolated in \"-x $(params.a[*])\""
        );
    }

    #[test]
    fn objects_and_keys() {
        let ds = run(&format!(
            "{PARAMS}  steps:\n  - image: alpine\n    args: [\"$(params.o)\", \"$(params.o.url)\", \"$(params.s.key)\", \"$(params.s[0])\"]\n"
        ));
        let codes: Vec<_> = errors(&ds).iter().map(|e| e.0).collect();
        assert_eq!(
            codes,
            [
                "variables/object-whole",
                "variables/not-an-object",
                "variables/not-an-array"
            ]
        );
    }

    #[test]
    fn malformed_references_are_located_inside_the_string() {
        let ds = run("  params:\n  - name: a\n  steps:\n  - image: alpine\n    script: |\n      echo ok\n      echo $(params.a.b.c)\n");
        assert_eq!(
            errors(&ds),
            [("variables/malformed", "spec.steps[0].script", 11, 24)]
        );
        assert!(
            ds[0].hint.as_deref().unwrap().contains("params[\"a.b.c\"]"),
            "{:?}",
            ds[0].hint
        );
    }

    #[test]
    fn context_variables() {
        let ds = run("  steps:\n  - image: alpine\n    args: [\"$(context.taskRun.name)\", \"$(context.task.retry-count)\", \"$(context.taskRun.nme)\", \"$(context.pipelineRun.name)\"]\n");
        assert_eq!(
            errors(&ds),
            [("variables/unknown-context", "spec.steps[0].args[2]", 7, 71)]
        );
        assert_eq!(
            ds[0].hint.as_deref(),
            Some("did you mean $(context.taskRun.name)?")
        );
        assert_eq!(ds[1].code, "variables/wrong-scope");
        assert_eq!(ds[1].severity, Severity::Warning);
    }

    #[test]
    fn step_results_only_in_env_command_args() {
        let ds = run("  steps:\n  - name: a\n    image: alpine\n  - image: alpine\n    env: [{name: X, value: $(steps.a.results.r)}]\n    args: [$(steps.a.results.r)]\n    script: echo $(steps.a.results.r)\n");
        assert_eq!(
            errors(&ds),
            [(
                "variables/step-result-location",
                "spec.steps[1].script",
                11,
                18
            )]
        );
    }

    #[test]
    fn script_injection_is_a_warning_once_per_variable() {
        let ds = run("  params:\n  - name: git-url\n  steps:\n  - image: alpine\n    script: |\n      git clone $(params.git-url)\n      echo $(params.git-url) $(results.x.path) $(workspaces.w.path) $(context.taskRun.name) $(steps.step-a.exitCode.path) $(credentials.path)\n");
        let found: Vec<_> = ds
            .iter()
            .filter(|d| d.code == "security/script-injection")
            .collect();
        assert_eq!(found.len(), 1, "{ds:?}");
        let d = found[0];
        assert_eq!(d.severity, Severity::Warning);
        let l = d.location.as_ref().unwrap();
        assert_eq!((l.line, l.column), (10, 17));
        assert!(d
            .hint
            .as_deref()
            .unwrap()
            .contains("{name: GIT_URL, value: \"$(params.git-url)\"}"));
    }

    #[test]
    fn shell_and_valid_references_are_quiet() {
        let ds = run(&format!(
            "{PARAMS}  results: [{{name: out}}]\n  workspaces: [{{name: w}}]\n  steps:\n  - name: build\n    image: $(params.s)\n    command: [\"$(params.a[*])\"]\n    args: [\"$(params.a[*])\", \"--url=$(params.o.url)\", \"$(params.a[0])\", \"$(params['s'])\"]\n    env: [{{name: U, value: $(params.o.url)}}]\n  - image: alpine\n    script: |\n      echo $(date) $$(params.nope) $((1+2)) ${{HOME}} > $(results.out.path)\n      ls $(workspaces.w.path)\n"
        ));
        assert_eq!(ds, []);
    }

    #[test]
    fn templates_and_sidecars_are_checked_too() {
        let ds = run("  stepTemplate:\n    image: $(params.nope)\n  steps:\n  - name: a\n    command: [\"$(steps.a.outputs.image)\"]\n  sidecars:\n  - name: s\n    image: alpine\n    env: [{name: X, value: $(steps.a.results.r)}]\n    args: [\"$(context.foo.bar)\"]\n");
        let got: Vec<_> = ds
            .iter()
            .map(|d| (d.code, d.severity, d.field.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "variables/undeclared-param",
                    Severity::Error,
                    "spec.stepTemplate.image"
                ),
                (
                    "variables/unknown-context",
                    Severity::Warning,
                    "spec.sidecars[0].args[0]"
                ),
                (
                    "variables/step-result-location",
                    Severity::Error,
                    "spec.sidecars[0].env[0].value"
                ),
            ]
        );
    }

    #[test]
    fn env_names() {
        let p = |name: &str, access| Var::Param {
            name: name.into(),
            access,
        };
        assert_eq!(env_name(&p("git-url", Access::Whole)), "GIT_URL");
        assert_eq!(env_name(&p("o", Access::Key("k".into()))), "O_K");
        assert_eq!(env_name(&p("1x", Access::Whole)), "_1X");
    }

    #[test]
    fn embedded_specs_see_propagated_params() {
        let mut b = Bundle::new();
        b.add_source("t.yaml", "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec: {steps: [{image: x}]}\n".into(), Origin::Input);
        let flags = Flags::default();
        let spec: TaskSpec = serde_json::from_value(serde_json::json!({
            "steps": [{"image": "$(params.from-run)", "args": ["$(params.nope)", "$(tasks.a.results.r)", "$(context.pipelineRun.name)"]}]
        }))
        .unwrap();
        let propagated = vec!["from-run".to_string()];
        let mut ctx = Ctx::new(&b, &flags);
        let sc = SpecContext {
            embedded: true,
            propagated_params: &propagated,
            in_pipeline: false,
        };
        validate_task_variables(&mut ctx, &spec, "spec.taskSpec", &sc);
        let got: Vec<_> = ctx.out.iter().map(|d| (d.code, d.severity)).collect();
        assert_eq!(
            got,
            [
                ("variables/undeclared-param", Severity::Error),
                ("variables/wrong-scope", Severity::Warning),
                ("variables/wrong-scope", Severity::Warning),
            ]
        );
        let mut ctx = Ctx::new(&b, &flags);
        let sc = SpecContext {
            embedded: true,
            propagated_params: &propagated,
            in_pipeline: true,
        };
        validate_task_variables(&mut ctx, &spec, "spec.tasks[0].taskSpec", &sc);
        let got: Vec<_> = ctx.out.iter().map(|d| (d.code, d.severity)).collect();
        assert_eq!(got, [("variables/undeclared-param", Severity::Warning)]);
    }
}
