//! The one admission check across objects: every binding, template and `triggerRef` of the
//! loaded EventListeners and Triggers names an object that was loaded, with a "did you mean"
//! among the names in the same namespace.

use super::admission::error;
use super::api::{BindingRef, TemplateRef};
use super::catalog::{place_in, Catalog, Entry};
use crate::diagnostic::Diagnostic;
use crate::load::catalog::did_you_mean;
use crate::load::yaml::Node;
use crate::load::Bundle;

/// The findings of [`references`], placed in the files of `bundle`.
pub(super) fn placed(catalog: &Catalog, bundle: &Bundle) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    references(catalog, &mut found);
    found
        .into_iter()
        .flat_map(|(file, root, label, d)| place_in(bundle, file, &root, &label, vec![d]))
        .collect()
}

/// A finding about another object: its file, tree and label go with it.
pub type Located = (usize, Node, String, Diagnostic);

/// Checks that every binding, template and `triggerRef` names a loaded object.
pub fn references(c: &Catalog, out: &mut Vec<Located>) {
    for l in &c.listeners {
        let label = format!("EventListener/{}", l.name);
        for (i, t) in l.object.spec.triggers.iter().enumerate() {
            let at = format!("spec.triggers[{i}]");
            if !t.trigger_ref.is_empty() {
                if c.trigger(&l.namespace, &t.trigger_ref).is_none() {
                    let names = c
                        .triggers
                        .iter()
                        .filter(|e| e.namespace == l.namespace)
                        .map(|e| e.name.as_str());
                    let d = not_found(
                        "Trigger",
                        &t.trigger_ref,
                        &l.namespace,
                        names,
                        format!("{at}.triggerRef"),
                    );
                    out.push((l.file, l.root.clone(), label.clone(), d));
                }
                continue;
            }
            for d in trigger_refs(c, &l.namespace, &t.bindings, t.template.as_ref(), &at) {
                out.push((l.file, l.root.clone(), label.clone(), d));
            }
        }
    }
    for t in &c.triggers {
        let label = format!("Trigger/{}", t.name);
        for d in trigger_refs(
            c,
            &t.namespace,
            &t.object.spec.bindings,
            Some(&t.object.spec.template),
            "spec",
        ) {
            out.push((t.file, t.root.clone(), label.clone(), d));
        }
    }
}

fn trigger_refs(
    c: &Catalog,
    namespace: &str,
    bindings: &[BindingRef],
    template: Option<&TemplateRef>,
    at: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, b) in bindings.iter().enumerate() {
        if b.reference.is_empty() {
            continue;
        }
        let path = format!("{at}.bindings[{i}].ref");
        if b.kind == "ClusterTriggerBinding" {
            if c.cluster_binding(&b.reference).is_none() {
                let names = c.cluster_bindings.iter().map(|e| e.name.as_str());
                out.push(not_found(
                    "ClusterTriggerBinding",
                    &b.reference,
                    "",
                    names,
                    path,
                ));
            }
        } else if c.binding(namespace, &b.reference).is_none() {
            let names = in_ns(&c.bindings, namespace);
            out.push(not_found(
                "TriggerBinding",
                &b.reference,
                namespace,
                names,
                path,
            ));
        }
    }
    if let Some(name) = template
        .and_then(|t| t.reference.as_deref())
        .filter(|r| !r.is_empty())
    {
        if c.template(namespace, name).is_none() {
            let names = in_ns(&c.templates, namespace);
            out.push(not_found(
                "TriggerTemplate",
                name,
                namespace,
                names,
                format!("{at}.template.ref"),
            ));
        }
    }
    out
}

fn in_ns<'a, T>(entries: &'a [Entry<T>], namespace: &'a str) -> impl Iterator<Item = &'a str> {
    entries
        .iter()
        .filter(move |e| e.namespace == namespace)
        .map(|e| e.name.as_str())
}

fn not_found<'a>(
    kind: &str,
    name: &str,
    namespace: &str,
    names: impl Iterator<Item = &'a str>,
    path: String,
) -> Diagnostic {
    let place = if namespace.is_empty() {
        String::new()
    } else {
        format!(" in namespace \"{namespace}\"")
    };
    let hint = did_you_mean(name, names)
        .unwrap_or_else(|| format!("load the {kind} with -f, or fix the name"));
    error(
        "references/not-found",
        path,
        format!("{kind} \"{name}\" not found{place}"),
    )
    .hint(hint)
}
