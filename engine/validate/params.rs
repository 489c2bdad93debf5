//! Parameter declaration and value rules (spec §2.2).
//!
//! Declarations are checked after Tekton's type inference ([`ParamSpec::effective_type`]), so
//! a param written without `type` is judged by the type Tekton will give it. Tasks,
//! StepActions and Pipelines share these rules except name formats, which Tekton does not
//! check for Pipelines.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::names::{check_unique, Compare};
use super::{ApiFields, Ctx};
use crate::api::{Param, ParamSpec, ParamType, ParamValue};
use crate::subst::{scan, Var};

/// Validates declarations at `path` (e.g. `spec.params`). `check_names` is false for
/// Pipelines, whose param names Tekton does not format-check.
pub fn validate_param_specs(ctx: &mut Ctx<'_>, specs: &[ParamSpec], path: &str, check_names: bool) {
    for (i, spec) in specs.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if check_names {
            check_name_format(ctx, spec, &at);
        }
        check_type(ctx, spec, &at);
        check_enum(ctx, spec, &at);
    }
    let names = specs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), format!("{path}[{i}].name")));
    check_unique(ctx, "param", names, Compare::Exact);
}

/// Validates a list of values at `path` (duplicates; `case_insensitive` for run params).
pub fn validate_param_values(
    ctx: &mut Ctx<'_>,
    params: &[Param],
    path: &str,
    case_insensitive: bool,
) {
    for (i, p) in params.iter().enumerate() {
        if p.name.is_empty() {
            ctx.error(
                "params/empty-name",
                format!("{path}[{i}].name"),
                "missing field(s): name",
            )
            .hint = Some("give every param a `name:`".into());
        }
    }
    let compare = if case_insensitive {
        Compare::CaseInsensitive
    } else {
        Compare::Exact
    };
    let names = params
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), format!("{path}[{i}].name")));
    check_unique(ctx, "param", names, compare);
}

/// `^[_a-zA-Z][_a-zA-Z0-9.-]*$`: the format of string and array param names.
pub fn is_string_or_array_name(name: &str) -> bool {
    is_name_with(name, |c| c == '.' || c == '-' || c == '_')
}

/// `^[_a-zA-Z][_a-zA-Z0-9-]*$`: the format of object param names and property keys (no dots,
/// since `$(params.o.key)` would be ambiguous).
pub fn is_object_name(name: &str) -> bool {
    is_name_with(name, |c| c == '-' || c == '_')
}

fn is_name_with(name: &str, extra: impl Fn(char) -> bool) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || extra(c))
}

fn check_name_format(ctx: &mut Ctx<'_>, spec: &ParamSpec, at: &str) {
    if spec.effective_type() != Some(ParamType::Object) {
        if !is_string_or_array_name(&spec.name) {
            ctx.error(
                "params/name-format",
                format!("{at}.name"),
                format!("The format of following array and string variable names is invalid: [{}]", spec.name),
            )
            .hint = Some(
                "string and array param names must begin with a letter or '_' and contain only letters, digits, '_', '-' and '.'"
                    .into(),
            );
        }
        return;
    }
    let hint = "object param names and keys must begin with a letter or '_' and contain only letters, digits, '_' and '-' (no dots)";
    if !is_object_name(&spec.name) {
        ctx.error(
            "params/name-format",
            format!("{at}.name"),
            format!(
                "Object param name and key name format is invalid: map[{}:[]]",
                spec.name
            ),
        )
        .hint = Some(hint.into());
    }
    for key in spec.properties.iter().flat_map(BTreeMap::keys) {
        if !is_object_name(key) {
            let d = ctx.error(
                "params/name-format",
                property_path(at, key).unwrap_or_else(|| format!("{at}.properties")),
                format!(
                    "Object param name and key name format is invalid: map[{}:[{key}]]",
                    spec.name
                ),
            );
            d.hint = Some(hint.into());
            d.anchor = crate::diagnostic::Anchor::Key;
        }
    }
}

/// The path of one object property of the declaration at `at`; `None` when the key cannot be
/// written as a path segment.
pub(super) fn property_path(at: &str, key: &str) -> Option<String> {
    let plain = !key.is_empty() && !key.contains(['.', '[', ']']);
    plain.then(|| format!("{at}.properties.{key}"))
}

fn check_type(ctx: &mut Ctx<'_>, spec: &ParamSpec, at: &str) {
    let Some(ty) = spec.effective_type() else {
        let written = spec.type_.as_deref().unwrap_or_default();
        ctx.error(
            "params/invalid-type",
            format!("{at}.type"),
            format!("invalid value: {written}"),
        )
        .hint = Some("a param's type is one of string, array or object".into());
        return;
    };
    if let Some(default) = &spec.default {
        let found = default.param_type();
        if found != ty {
            ctx.error(
                "params/type-mismatch",
                format!("{at}.default"),
                format!(
                    "\"{}\" type does not match default value's type: \"{}\"",
                    ty.as_str(),
                    found.as_str()
                ),
            )
            .hint = Some(type_mismatch_hint(ty, default));
        }
    }
    if ty == ParamType::Object {
        ctx.gate(
            ApiFields::Beta,
            "object type parameter",
            format!("{at}.type"),
        );
        check_object_properties(ctx, spec, at);
    }
}

fn type_mismatch_hint(ty: ParamType, default: &ParamValue) -> String {
    match (ty, default) {
        (ParamType::Array, ParamValue::String(s)) if s.starts_with('[') => {
            "array elements must all be strings: quote numbers and booleans".into()
        }
        (ParamType::Object, ParamValue::String(s)) if s.starts_with('{') => {
            "object values must all be strings: quote numbers and booleans".into()
        }
        (ParamType::String, _) => "write the default as one string, or change `type`".into(),
        (ParamType::Array, _) => {
            "write the default as a list: `default: [a, b]`, or change `type`".into()
        }
        (ParamType::Object, _) => {
            "write the default as a mapping: `default: {key: value}`, or change `type`".into()
        }
    }
}

fn check_object_properties(ctx: &mut Ctx<'_>, spec: &ParamSpec, at: &str) {
    let Some(properties) = &spec.properties else {
        ctx.error(
            "params/object-properties",
            format!("{at}.properties"),
            format!("missing field(s): {}.properties", spec.name),
        )
        .hint = Some("declare the object's keys: `properties: {key: {type: string}}`".into());
        return;
    };
    for (key, prop) in properties {
        // Tekton defaults a missing property type to string.
        let ty = prop.type_.as_deref().unwrap_or("string");
        if ty != "string" {
            let path = match property_path(at, key) {
                Some(prop) => format!("{prop}.type"),
                None => format!("{at}.properties"),
            };
            ctx.error(
                "params/object-properties",
                path,
                format!("The value type specified for these keys [{key}] is invalid"),
            )
            .hint = Some("object properties can only be of type string".into());
        }
    }
}

fn check_enum(ctx: &mut Ctx<'_>, spec: &ParamSpec, at: &str) {
    if spec.enum_.is_empty() {
        return;
    }
    let path = format!("{at}.enum");
    if !ctx.flags.enable_param_enum {
        ctx.flag_gate("enable-param-enum: true", "param enum", path.clone());
    }
    if spec.effective_type() != Some(ParamType::String) {
        ctx.error(
            "params/enum-not-string",
            path.clone(),
            "enum can only be set with string type param",
        )
        .hint = Some("remove `enum`, or make the param a string".into());
    }
    let mut seen = HashSet::new();
    for (i, value) in spec.enum_.iter().enumerate() {
        if value.is_empty() {
            ctx.error(
                "params/enum-empty-value",
                format!("{path}[{i}]"),
                "empty string is not allowed in param enum",
            )
            .hint = Some("remove the empty entry".into());
        } else if !seen.insert(value.as_str()) {
            ctx.error(
                "params/enum-duplicate",
                format!("{path}[{i}]"),
                format!("parameter enum value [{value}] appears more than once"),
            )
            .hint = Some("list each allowed value once".into());
        }
    }
    if let Some(ParamValue::String(default)) = &spec.default {
        if !default.is_empty() && !spec.enum_.contains(default) {
            ctx.error(
                "params/enum-default",
                format!("{at}.default"),
                format!("param default value {default} not in the enum list"),
            )
            .hint = Some(format!(
                "use one of [{}], or add \"{default}\" to `enum`",
                spec.enum_.join(", ")
            ));
        }
    }
}

/// StepAction only: a string default may reference other params of the same StepAction
/// (resolved iteratively at run time, §3.6), so every name must exist and the references
/// must not form a cycle.
pub fn validate_default_references(ctx: &mut Ctx<'_>, specs: &[ParamSpec], path: &str) {
    let declared: HashMap<&str, usize> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); specs.len()];
    for (i, spec) in specs.iter().enumerate() {
        let Some(ParamValue::String(default)) = &spec.default else {
            continue;
        };
        for r in scan(default).refs {
            let Var::Param { name, .. } = &r.var else {
                continue;
            };
            match declared.get(name.as_str()) {
                Some(&j) => edges[i].push(j),
                None => {
                    let d = crate::diagnostic::Diagnostic::error(
                        "params/default-reference",
                        format!(
                            "parameter \"{}\" references non-existent parameter \"{name}\"",
                            spec.name
                        ),
                    )
                    .at(format!("{path}[{i}].default"))
                    .inside(r.span.start, r.span.len())
                    .hint("a default may only reference params this StepAction declares");
                    ctx.push(d);
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<&str> = cycle.iter().map(|&i| specs[i].name.as_str()).collect();
        ctx.error(
            "params/default-cycle",
            format!("{path}[{}].default", cycle[0]),
            format!(
                "circular dependency detected in parameter references: {}",
                names.join(" -> ")
            ),
        )
        .hint =
            Some("break the cycle: at least one of these defaults must be a plain value".into());
    }
}

/// The first cycle in a small graph, as a path that starts and ends at the same node.
fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    // 0 = unvisited, 1 = on the current path, 2 = done.
    fn visit(
        n: usize,
        edges: &[Vec<usize>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[n] = 1;
        stack.push(n);
        for &m in &edges[n] {
            if state[m] == 1 {
                let start = stack.iter().position(|&s| s == m).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(m);
                return Some(cycle);
            }
            if state[m] == 0 {
                if let Some(c) = visit(m, edges, state, stack) {
                    return Some(c);
                }
            }
        }
        stack.pop();
        state[n] = 2;
        None
    }
    let mut state = vec![0u8; edges.len()];
    (0..edges.len()).find_map(|n| {
        if state[n] == 0 {
            visit(n, edges, &mut state, &mut Vec::new())
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::load::{Bundle, Origin};
    use crate::validate::{validate, Flags};

    fn run(yaml: &str, flags: &Flags) -> Vec<Diagnostic> {
        let mut b = Bundle::new();
        b.add_source("t.yaml", yaml.to_string(), Origin::Input);
        assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
        validate(&b, flags)
    }

    fn task(params: &str) -> String {
        format!("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {{name: t}}\nspec:\n  params:\n{params}  steps:\n  - image: alpine\n")
    }

    fn line_col(d: &Diagnostic) -> (u32, u32) {
        let l = d.location.as_ref().expect("located");
        (l.line, l.column)
    }

    #[test]
    fn names() {
        assert!(is_string_or_array_name("a.b-c_d"));
        assert!(is_string_or_array_name("_x"));
        assert!(!is_string_or_array_name("1x"));
        assert!(!is_string_or_array_name(""));
        assert!(!is_string_or_array_name("é"));
        assert!(is_object_name("a-b_c"));
        assert!(!is_object_name("a.b"));
    }

    #[test]
    fn default_type_must_match() {
        let ds = run(
            &task("  - name: a\n    type: array\n    default: x\n"),
            &Flags::default(),
        );
        assert_eq!(ds.len(), 1, "{ds:?}");
        assert_eq!(ds[0].code, "params/type-mismatch");
        assert_eq!(
            ds[0].message,
            "\"array\" type does not match default value's type: \"string\""
        );
        assert_eq!(ds[0].field.as_deref(), Some("spec.params[0].default"));
        assert_eq!(line_col(&ds[0]), (8, 14));
    }

    #[test]
    fn name_formats_and_duplicates() {
        let ds = run(
            &task("  - name: 1bad\n  - name: o.x\n    properties: {k.y: {}}\n  - name: ok\n  - name: ok\n"),
            &Flags::default(),
        );
        let got: Vec<_> = ds
            .iter()
            .map(|d| (d.code, d.field.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                ("params/name-format", "spec.params[0].name"),
                ("params/name-format", "spec.params[1].name"),
                ("params/name-format", "spec.params[1].properties"),
                ("names/duplicate", "spec.params[3].name"),
            ]
        );
    }

    #[test]
    fn object_params_need_string_properties() {
        let ds = run(
            &task(
                "  - name: o\n    type: object\n  - name: p\n    properties: {k: {type: array}}\n",
            ),
            &Flags::default(),
        );
        let got: Vec<_> = ds
            .iter()
            .map(|d| (d.code, d.field.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                ("params/object-properties", "spec.params[0].properties"),
                (
                    "params/object-properties",
                    "spec.params[1].properties.k.type"
                ),
            ]
        );
        assert_eq!(ds[0].message, "missing field(s): o.properties");
    }

    #[test]
    fn invalid_type() {
        let ds = run(&task("  - name: a\n    type: int\n"), &Flags::default());
        assert_eq!(ds[0].code, "params/invalid-type");
        assert_eq!(line_col(&ds[0]), (7, 11));
    }

    #[test]
    fn enums() {
        let flags = Flags {
            enable_param_enum: true,
            ..Flags::default()
        };
        let ds = run(
            &task("  - name: a\n    enum: [x, x, \"\"]\n    default: z\n  - name: b\n    type: array\n    enum: [x]\n"),
            &flags,
        );
        let got: Vec<_> = ds
            .iter()
            .map(|d| (d.code, d.field.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                ("params/enum-duplicate", "spec.params[0].enum[1]"),
                ("params/enum-empty-value", "spec.params[0].enum[2]"),
                ("params/enum-default", "spec.params[0].default"),
                ("params/enum-not-string", "spec.params[1].enum"),
            ]
        );
        let ds = run(&task("  - name: a\n    enum: [x]\n"), &Flags::default());
        assert_eq!(ds[0].code, "gate/feature-flag");
    }

    #[test]
    fn valid_params_are_quiet() {
        let ds = run(
            &task("  - name: s\n  - name: a\n    default: [x, y]\n  - name: o\n    properties: {url: {}, rev: {type: string}}\n    default: {url: u, rev: r}\n  - name: dotted.name\n    type: string\n"),
            &Flags::default(),
        );
        assert_eq!(ds, []);
    }

    #[test]
    fn values() {
        let mut b = Bundle::new();
        b.add_source("t.yaml", task("  - name: a\n"), Origin::Input);
        let flags = Flags::default();
        let mut ctx = Ctx::new(&b, &flags);
        let values = [
            Param {
                name: "A".into(),
                value: ParamValue::default(),
            },
            Param {
                name: "a".into(),
                value: ParamValue::default(),
            },
            Param {
                name: String::new(),
                value: ParamValue::default(),
            },
        ];
        validate_param_values(&mut ctx, &values, "spec.params", true);
        let codes: Vec<_> = ctx.out.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["params/empty-name", "names/duplicate"]);
        let mut ctx = Ctx::new(&b, &flags);
        validate_param_values(&mut ctx, &values, "spec.params", false);
        assert_eq!(ctx.out.len(), 1);
    }

    #[test]
    fn default_references() {
        let mut b = Bundle::new();
        b.add_source("t.yaml", task("  - name: a\n"), Origin::Input);
        let flags = Flags::default();
        let mut ctx = Ctx::new(&b, &flags);
        let spec = |name: &str, default: &str| ParamSpec {
            name: name.into(),
            default: Some(ParamValue::String(default.into())),
            ..ParamSpec::default()
        };
        let specs = [
            spec("a", "$(params.b)"),
            spec("b", "x-$(params.a)"),
            spec("c", "$(params.nope)"),
        ];
        validate_default_references(&mut ctx, &specs, "spec.params");
        let got: Vec<_> = ctx
            .out
            .iter()
            .map(|d| (d.code, d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "params/default-reference",
                    "parameter \"c\" references non-existent parameter \"nope\""
                ),
                (
                    "params/default-cycle",
                    "circular dependency detected in parameter references: a -> b -> a"
                ),
            ]
        );
    }
}
