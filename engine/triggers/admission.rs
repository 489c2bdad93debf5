//! Admission rules of the Triggers webhook (spec §1, C37), as diagnostics with object paths.
//!
//! Each function checks one object kind and pushes [`Diagnostic`]s whose `field` is a
//! Tekton-style path (`spec.triggers[0].template`); the catalog turns paths into file
//! positions. The one check across objects (bindings, templates and `triggerRef`s name
//! objects that were loaded) is in [`references`](super::references).

use super::api::{
    BindingRef, EventListener, Interceptor, NamespaceSelector, TemplateRef, Trigger,
    TriggerBinding, TriggerInterceptor, TriggerTemplateSpec,
};
use super::expression;
use crate::diagnostic::Diagnostic;
use crate::load::catalog::did_you_mean;

/// The annotation that turns payload validation off.
pub const PAYLOAD_VALIDATION: &str = "tekton.dev/payload-validation";

pub(super) fn error(
    code: &'static str,
    path: impl Into<String>,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(code, message).at(path)
}

/// Sets the admission default `kind: TriggerBinding` on `ref` bindings.
pub fn default_bindings(bindings: &mut [BindingRef]) {
    for b in bindings {
        if !b.reference.is_empty() && b.kind.is_empty() {
            b.kind = "TriggerBinding".into();
        }
    }
}

/// EventListener rules.
pub fn event_listener(l: &EventListener, out: &mut Vec<Diagnostic>) {
    let name = l.metadata.name.as_deref().unwrap_or("");
    if name.chars().count() > 60 {
        out.push(
            error(
                "triggers/name-too-long",
                "metadata.name",
                format!("EventListener name \"{name}\" is longer than 60 characters"),
            )
            .hint("the listener's Service and Deployment names derive from it; shorten it"),
        );
    }
    if let Some(v) = l
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PAYLOAD_VALIDATION))
    {
        if v != "true" && v != "false" {
            out.push(
                error(
                    "triggers/payload-validation",
                    format!("metadata.annotations.{PAYLOAD_VALIDATION}"),
                    format!("annotation {PAYLOAD_VALIDATION} must be \"true\" or \"false\", not \"{v}\""),
                )
                .hint("write \"false\" to accept bodies that are not JSON objects"),
            );
        }
    }
    let spec = &l.spec;
    if spec.triggers.is_empty()
        && spec.trigger_groups.is_empty()
        && spec.label_selector.is_none()
        && spec.namespace_selector.match_names.is_empty()
    {
        out.push(
            error(
                "triggers/no-triggers",
                "spec",
                "EventListener selects no triggers",
            )
            .hint("add `triggers`, `triggerGroups`, a `labelSelector` or `namespaceSelector.matchNames`"),
        );
    }
    match_names(&spec.namespace_selector, "spec.namespaceSelector", out);
    if let Some(r) = spec.resources.as_ref() {
        if r.get("kubernetesResource").is_some() && r.get("customResource").is_some() {
            out.push(error(
                "triggers/resources",
                "spec.resources",
                "expected exactly one, got both: kubernetesResource, customResource",
            ));
        }
    }
    for (i, t) in spec.triggers.iter().enumerate() {
        let at = format!("spec.triggers[{i}]");
        label_value(&t.name, &format!("{at}.name"), out);
        if !t.trigger_ref.is_empty() {
            if t.template.is_some() || !t.bindings.is_empty() || !t.interceptors.is_empty() {
                out.push(
                    error(
                        "triggers/trigger-ref",
                        format!("{at}.triggerRef"),
                        "triggerRef excludes template, bindings and interceptors",
                    )
                    .hint("move them into the referenced Trigger, or drop triggerRef"),
                );
            }
            continue;
        }
        match &t.template {
            Some(tr) => template_ref(tr, &format!("{at}.template"), out),
            None => out.push(
                error(
                    "triggers/missing-template",
                    &at,
                    "expected exactly one, got neither: template, triggerRef",
                )
                .hint("add `template: {ref: <TriggerTemplate>}` or `triggerRef: <Trigger>`"),
            ),
        }
        bindings(&t.bindings, &format!("{at}.bindings"), out);
        interceptors(&t.interceptors, &format!("{at}.interceptors"), out);
    }
    for (i, g) in spec.trigger_groups.iter().enumerate() {
        let at = format!("spec.triggerGroups[{i}]");
        if g.name.is_empty() {
            out.push(
                error(
                    "triggers/group",
                    format!("{at}.name"),
                    "missing field(s): name",
                )
                .at(&at),
            );
        }
        if g.interceptors.is_empty() {
            out.push(
                error(
                    "triggers/group",
                    &at,
                    "trigger group needs at least one interceptor",
                )
                .hint("list the shared interceptors under `interceptors`, or use plain triggers"),
            );
        }
        interceptors(&g.interceptors, &format!("{at}.interceptors"), out);
        match &g.trigger_selector {
            Some(s) if s.label_selector.is_some() || !s.namespace_selector.match_names.is_empty() => {
                match_names(&s.namespace_selector, &format!("{at}.triggerSelector.namespaceSelector"), out);
            }
            _ => out.push(
                error(
                    "triggers/group",
                    &at,
                    "trigger group needs a triggerSelector with a labelSelector or namespaceSelector",
                )
                .hint("add `triggerSelector: {labelSelector: {matchLabels: {...}}}`"),
            ),
        }
    }
}

fn match_names(s: &NamespaceSelector, at: &str, out: &mut Vec<Diagnostic>) {
    if s.match_names.len() > 1 {
        if let Some(i) = s.match_names.iter().position(|n| n == "*") {
            out.push(
                error(
                    "triggers/namespace-selector",
                    format!("{at}.matchNames[{i}]"),
                    "\"*\" selects all namespaces and must be the only entry of matchNames",
                )
                .hint("keep either `[\"*\"]` or the list of namespaces"),
            );
        }
    }
}

/// A Kubernetes label value: empty, or ≤ 63 characters of `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
pub fn is_label_value(v: &str) -> bool {
    let ok_inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    v.is_empty()
        || (v.len() <= 63
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric())
            && v.chars().all(ok_inner))
}

fn label_value(name: &str, at: &str, out: &mut Vec<Diagnostic>) {
    if !is_label_value(name) {
        out.push(
            error(
                "triggers/trigger-name",
                at,
                format!("trigger name \"{name}\" is not a valid label value"),
            )
            .hint("use at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"),
        );
    }
}

/// Trigger object rules.
pub fn trigger(t: &Trigger, out: &mut Vec<Diagnostic>) {
    template_ref(&t.spec.template, "spec.template", out);
    bindings(&t.spec.bindings, "spec.bindings", out);
    interceptors(&t.spec.interceptors, "spec.interceptors", out);
}

fn template_ref(t: &TemplateRef, at: &str, out: &mut Vec<Diagnostic>) {
    let has_ref = t.reference.as_deref().is_some_and(|r| !r.is_empty());
    match (has_ref, &t.spec) {
        (true, Some(_)) => out.push(
            error(
                "triggers/template-ref",
                at,
                "expected exactly one, got both: template.ref, template.spec",
            )
            .hint("keep the reference or the embedded spec"),
        ),
        (false, None) => out.push(
            error(
                "triggers/template-ref",
                at,
                "expected exactly one, got neither: template.ref, template.spec",
            )
            .hint("add `ref: <TriggerTemplate name>`"),
        ),
        (false, Some(spec)) => template_spec(spec, &format!("{at}.spec"), out),
        (true, None) => {}
    }
    if !matches!(t.apiversion.as_str(), "" | "v1alpha1" | "v1beta1") {
        out.push(
            error(
                "triggers/template-ref",
                format!("{at}.apiversion"),
                format!("invalid apiversion \"{}\"", t.apiversion),
            )
            .hint("write v1beta1 (or v1alpha1), or leave it out"),
        );
    }
}

fn bindings(list: &[BindingRef], at: &str, out: &mut Vec<Diagnostic>) {
    for (i, b) in list.iter().enumerate() {
        let at = format!("{at}[{i}]");
        let has_ref = !b.reference.is_empty();
        let has_name = !b.name.is_empty();
        if has_ref && (has_name || b.value.is_some()) {
            out.push(
                error(
                    "triggers/binding",
                    &at,
                    "expected exactly one, got both: ref, name/value",
                )
                .hint("a binding either references a TriggerBinding or sets one param inline"),
            );
        } else if !has_ref && !has_name {
            out.push(
                error(
                    "triggers/binding",
                    &at,
                    "expected exactly one, got neither: ref, name",
                )
                .hint("add `ref: <TriggerBinding>` or `name:` and `value:`"),
            );
        } else if has_name && b.value.is_none() {
            out.push(
                error(
                    "triggers/binding",
                    format!("{at}.name"),
                    format!("binding param \"{}\" has no value", b.name),
                )
                .hint("add `value:`"),
            );
        }
        if !matches!(
            b.kind.as_str(),
            "" | "TriggerBinding" | "ClusterTriggerBinding"
        ) {
            out.push(
                error(
                    "triggers/binding",
                    format!("{at}.kind"),
                    format!("invalid binding kind \"{}\"", b.kind),
                )
                .hint(
                    did_you_mean(&b.kind, ["TriggerBinding", "ClusterTriggerBinding"])
                        .unwrap_or_else(|| "write TriggerBinding or ClusterTriggerBinding".into()),
                ),
            );
        }
    }
}

fn interceptors(list: &[TriggerInterceptor], at: &str, out: &mut Vec<Diagnostic>) {
    for (i, ic) in list.iter().enumerate() {
        let at = format!("{at}[{i}]");
        match (&ic.reference, &ic.webhook) {
            (Some(r), _) => {
                if r.name.is_empty() && ic.webhook.is_none() {
                    out.push(
                        error("triggers/interceptor", format!("{at}.ref"), "missing field(s): ref.name")
                            .hint("name the interceptor: github, gitlab, bitbucket, cel or a ClusterInterceptor"),
                    );
                }
                if !matches!(
                    r.kind.as_str(),
                    "" | "ClusterInterceptor" | "NamespacedInterceptor"
                ) {
                    out.push(
                        error(
                            "triggers/interceptor",
                            format!("{at}.ref.kind"),
                            format!("invalid interceptor kind \"{}\"", r.kind),
                        )
                        .hint("write ClusterInterceptor or NamespacedInterceptor"),
                    );
                }
            }
            (None, Some(w)) => {
                if w.object_ref.is_none() {
                    out.push(error(
                        "triggers/interceptor",
                        format!("{at}.webhook"),
                        "missing field(s): webhook.objectRef",
                    ));
                }
            }
            (None, None) => out.push(
                error(
                    "triggers/interceptor",
                    &at,
                    "interceptor has neither ref nor webhook",
                )
                .hint("add `ref: {name: <interceptor>}`"),
            ),
        }
    }
}

/// (Cluster)TriggerBinding rules.
pub fn trigger_binding(b: &TriggerBinding, out: &mut Vec<Diagnostic>) {
    for (i, p) in b.spec.params.iter().enumerate() {
        let at = format!("spec.params[{i}]");
        if p.name.is_empty() {
            out.push(
                error(
                    "triggers/binding-param",
                    format!("{at}.name"),
                    "missing field(s): name",
                )
                .at(&at),
            );
        }
        if let Some(first) = b.spec.params[..i]
            .iter()
            .position(|q| q.name == p.name && !p.name.is_empty())
        {
            out.push(
                error(
                    "triggers/binding-param",
                    format!("{at}.name"),
                    format!("duplicate param name \"{}\"", p.name),
                )
                .hint("each param of a binding needs its own name")
                .related(format!("spec.params[{first}].name"), "first declared here"),
            );
        }
        if let Some(start) = expression::unterminated(&p.value) {
            out.push(
                error(
                    "triggers/binding-param",
                    format!("{at}.value"),
                    format!(
                        "param value {} has an unterminated `$(` expression",
                        p.value
                    ),
                )
                .inside(start, 2)
                .hint("close it with `)` before the next `$(`"),
            );
        }
    }
}

/// TriggerTemplate spec rules (top-level or embedded at `at`).
pub fn template_spec(spec: &TriggerTemplateSpec, at: &str, out: &mut Vec<Diagnostic>) {
    if spec.resourcetemplates.is_empty() {
        out.push(
            error(
                "triggers/template",
                format!("{at}.resourcetemplates"),
                "resourcetemplates is empty",
            )
            .at(at)
            .hint("add the objects to create, e.g. a PipelineRun"),
        );
    }
    for (i, rt) in spec.resourcetemplates.iter().enumerate() {
        let rat = format!("{at}.resourcetemplates[{i}]");
        for field in ["apiVersion", "kind"] {
            if rt
                .get(field)
                .and_then(|v| v.as_str())
                .is_none_or(str::is_empty)
            {
                out.push(
                    error(
                        "triggers/template",
                        &rat,
                        format!("resource template is missing {field}"),
                    )
                    .hint("every resource template needs `apiVersion` and `kind`"),
                );
            }
        }
        let declared: Vec<&str> = spec.params.iter().map(|p| p.name.as_str()).collect();
        let mut strings = Vec::new();
        json_strings(rt, &rat, &mut strings);
        for (path, text) in strings {
            for (start, name) in tt_params(&text) {
                if !declared.contains(&name) {
                    let len = "$(tt.params.".len() + name.len() + 1;
                    let hint = did_you_mean(name, declared.iter().copied())
                        .unwrap_or_else(|| format!("declare it under {at}.params"));
                    out.push(
                        error(
                            "triggers/undeclared-param",
                            &path,
                            format!("$(tt.params.{name}) is not declared in the template's params"),
                        )
                        .inside(start, len)
                        .hint(hint),
                    );
                }
            }
        }
    }
}

/// `$(tt.params.NAME)` occurrences: byte offset and name (`[_a-zA-Z][_a-zA-Z0-9.-]*`).
pub fn tt_params(text: &str) -> Vec<(usize, &str)> {
    const PREFIX: &str = "$(tt.params.";
    let mut out = Vec::new();
    for (start, _) in text.match_indices(PREFIX) {
        let rest = &text[start + PREFIX.len()..];
        let end = rest
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_alphabetic()
                    || *c == '_'
                    || (*i > 0 && (c.is_ascii_digit() || matches!(c, '.' | '-'))))
            })
            .map_or(rest.len(), |(i, _)| i);
        if end > 0 && rest[end..].starts_with(')') {
            out.push((start, &rest[..end]));
        }
    }
    out
}

/// Every string (values and keys) of a JSON value with its object path.
fn json_strings(v: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::String(s) => out.push((at.to_string(), s.clone())),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                json_strings(x, &format!("{at}[{i}]"), out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let path = format!("{at}.{k}");
                if k.contains("$(") {
                    out.push((path.clone(), k.clone()));
                }
                json_strings(x, &path, out);
            }
        }
        _ => {}
    }
}

/// ClusterInterceptor / Interceptor rules.
pub fn interceptor(i: &Interceptor, out: &mut Vec<Diagnostic>) {
    let c = &i.spec.client_config;
    if c.url.is_some() == c.service.is_some() {
        out.push(
            error(
                "triggers/interceptor",
                "spec.clientConfig",
                "expected exactly one of clientConfig.url, clientConfig.service",
            )
            .hint("give the interceptor's URL or its Service"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values() {
        assert!(is_label_value(""));
        assert!(is_label_value("on-push_1.x"));
        assert!(!is_label_value("-x"));
        assert!(!is_label_value("a b"));
        assert!(!is_label_value(&"a".repeat(64)));
    }

    #[test]
    fn tt_params_found_with_names() {
        assert_eq!(
            tt_params("x $(tt.params.a-b.c) $(tt.params.1x) $(tt.params.ok) $(tt.params.no"),
            [(2, "a-b.c"), (37, "ok")]
        );
    }
}
