//! The Triggers objects of a [`Bundle`], typed, defaulted and validated (spec C37).
//!
//! # Design
//!
//! The loader keeps every non-`tekton.dev` document as a [`Resource`] with its YAML tree;
//! here the `triggers.tekton.dev` ones are decoded strictly (unknown fields and type errors
//! at their paths, like Tekton objects), checked by [`super::admission`], then defaulted as
//! the admission webhook would (binding kind, interceptor kind, service account). Every
//! finding is a located [`Diagnostic`]; an object with errors is still kept, so one typo
//! does not hide the rest of the file from `adze serve`'s diagnostics.
//!
//! Objects without `metadata.namespace` live in the namespace the caller names (`default`
//! for `adze validate`, as `kubectl apply` without `-n` would put them).
//!
//! # Invariants
//!
//! - Loading never panics and never stops at the first bad document.

use serde::de::DeserializeOwned;

use super::admission;
use super::api::{
    EventListener, Interceptor, Trigger, TriggerBinding, TriggerInterceptor, TriggerTemplate,
    TriggersKind, GROUP,
};
use crate::diagnostic::{Anchor, Diagnostic};
use crate::load::decode::decode;
use crate::load::yaml::Node;
use crate::load::{catalog::did_you_mean, Bundle, Resource};

/// One loaded object and where it was written.
#[derive(Debug, Clone)]
pub struct Entry<T> {
    /// `metadata.namespace`, or the default namespace.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The decoded, defaulted object.
    pub object: T,
    /// Index into the bundle's files.
    pub file: usize,
    /// The YAML tree, for locating fields.
    pub root: Node,
}

/// Every Triggers object of a bundle, by kind.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// EventListeners.
    pub listeners: Vec<Entry<EventListener>>,
    /// Trigger objects.
    pub triggers: Vec<Entry<Trigger>>,
    /// TriggerBindings.
    pub bindings: Vec<Entry<TriggerBinding>>,
    /// ClusterTriggerBindings (namespace `""`).
    pub cluster_bindings: Vec<Entry<TriggerBinding>>,
    /// TriggerTemplates.
    pub templates: Vec<Entry<TriggerTemplate>>,
    /// ClusterInterceptors (namespace `""`).
    pub cluster_interceptors: Vec<Entry<Interceptor>>,
    /// Interceptors.
    pub interceptors: Vec<Entry<Interceptor>>,
}

/// Field names of the Triggers kinds, for "did you mean" on unknown fields.
const FIELD_NAMES: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "status",
    "name",
    "namespace",
    "labels",
    "annotations",
    "serviceAccountName",
    "triggers",
    "triggerGroups",
    "namespaceSelector",
    "labelSelector",
    "matchNames",
    "matchLabels",
    "matchExpressions",
    "resources",
    "cloudEventURI",
    "triggerRef",
    "bindings",
    "template",
    "interceptors",
    "triggerSelector",
    "ref",
    "kind",
    "value",
    "apiversion",
    "params",
    "resourcetemplates",
    "description",
    "default",
    "webhook",
    "objectRef",
    "url",
    "header",
    "clientConfig",
    "service",
    "caBundle",
];

impl Catalog {
    /// Decodes and validates each `triggers.tekton.dev` document of `bundle` on its own;
    /// objects without a namespace go to `default_namespace`. [`Catalog::load`] adds the check
    /// across objects.
    pub(super) fn admit(bundle: &Bundle, default_namespace: &str) -> (Catalog, Vec<Diagnostic>) {
        let mut catalog = Catalog::default();
        let mut found = Vec::new();
        for resource in &bundle.resources {
            let (group, version) = resource
                .api_version
                .split_once('/')
                .unwrap_or(("", &resource.api_version));
            if group != GROUP {
                continue;
            }
            let mut diags = Vec::new();
            if version == "v1beta1" {
                diags.extend(v1alpha1_fields_in_v1beta1(&resource.value));
            }
            let label = format!("{}/{}", resource.kind, display_name(resource));
            match TriggersKind::parse(&resource.kind) {
                None => diags.push(unknown_kind(&resource.kind)),
                Some(kind) if !kind.versions().contains(&version) => diags.push(
                    Diagnostic::error(
                        "schema/api-version",
                        format!("{kind} is not served as {}", resource.api_version),
                    )
                    .at("apiVersion")
                    .hint(format!("use apiVersion: {GROUP}/{}", kind.versions()[0])),
                ),
                Some(kind) => {
                    catalog.add(kind, resource, default_namespace, &mut diags);
                }
            }
            found.extend(place(bundle, resource, &label, diags));
        }
        (catalog, found)
    }

    fn add(
        &mut self,
        kind: TriggersKind,
        resource: &Resource,
        default_namespace: &str,
        diags: &mut Vec<Diagnostic>,
    ) {
        let namespace = |cluster: bool| {
            if cluster {
                String::new()
            } else {
                resource.value["metadata"]["namespace"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(default_namespace)
                    .to_string()
            }
        };
        match kind {
            TriggersKind::EventListener => {
                if let Some(mut o) = typed::<EventListener>(resource, diags) {
                    for t in &mut o.spec.triggers {
                        t.interceptors
                            .iter_mut()
                            .for_each(TriggerInterceptor::convert_v1alpha1);
                    }
                    for g in &mut o.spec.trigger_groups {
                        g.interceptors
                            .iter_mut()
                            .for_each(TriggerInterceptor::convert_v1alpha1);
                    }
                    admission::event_listener(&o, diags);
                    default_listener(&mut o);
                    self.listeners.push(entry(resource, namespace(false), o));
                }
            }
            TriggersKind::Trigger => {
                if let Some(mut o) = typed::<Trigger>(resource, diags) {
                    o.spec
                        .interceptors
                        .iter_mut()
                        .for_each(TriggerInterceptor::convert_v1alpha1);
                    admission::trigger(&o, diags);
                    default_interceptors(&mut o.spec.interceptors);
                    admission::default_bindings(&mut o.spec.bindings);
                    self.triggers.push(entry(resource, namespace(false), o));
                }
            }
            TriggersKind::TriggerBinding | TriggersKind::ClusterTriggerBinding => {
                if let Some(o) = typed::<TriggerBinding>(resource, diags) {
                    admission::trigger_binding(&o, diags);
                    let cluster = kind == TriggersKind::ClusterTriggerBinding;
                    let e = entry(resource, namespace(cluster), o);
                    if cluster {
                        self.cluster_bindings.push(e);
                    } else {
                        self.bindings.push(e);
                    }
                }
            }
            TriggersKind::TriggerTemplate => {
                if let Some(o) = typed::<TriggerTemplate>(resource, diags) {
                    admission::template_spec(&o.spec, "spec", diags);
                    self.templates.push(entry(resource, namespace(false), o));
                }
            }
            TriggersKind::ClusterInterceptor | TriggersKind::Interceptor => {
                if let Some(o) = typed::<Interceptor>(resource, diags) {
                    admission::interceptor(&o, diags);
                    let cluster = kind == TriggersKind::ClusterInterceptor;
                    let e = entry(resource, namespace(cluster), o);
                    if cluster {
                        self.cluster_interceptors.push(e);
                    } else {
                        self.interceptors.push(e);
                    }
                }
            }
        }
    }

    /// The EventListener `namespace/name`, or `name` (the first loaded of that name).
    pub fn listener(&self, name: &str) -> Option<&Entry<EventListener>> {
        find(&self.listeners, name)
    }

    /// The Trigger `name` in `namespace`.
    pub fn trigger(&self, namespace: &str, name: &str) -> Option<&Entry<Trigger>> {
        in_namespace(&self.triggers, namespace, name)
    }

    /// The TriggerBinding `name` in `namespace`.
    pub fn binding(&self, namespace: &str, name: &str) -> Option<&Entry<TriggerBinding>> {
        in_namespace(&self.bindings, namespace, name)
    }

    /// The ClusterTriggerBinding `name`.
    pub fn cluster_binding(&self, name: &str) -> Option<&Entry<TriggerBinding>> {
        self.cluster_bindings.iter().find(|e| e.name == name)
    }

    /// The TriggerTemplate `name` in `namespace`.
    pub fn template(&self, namespace: &str, name: &str) -> Option<&Entry<TriggerTemplate>> {
        in_namespace(&self.templates, namespace, name)
    }

    /// True when the bundle held no Triggers objects.
    pub fn is_empty(&self) -> bool {
        self.listeners.is_empty()
            && self.triggers.is_empty()
            && self.bindings.is_empty()
            && self.cluster_bindings.is_empty()
            && self.templates.is_empty()
            && self.cluster_interceptors.is_empty()
            && self.interceptors.is_empty()
    }
}

fn find<'a, T>(entries: &'a [Entry<T>], name: &str) -> Option<&'a Entry<T>> {
    match name.split_once('/') {
        Some((ns, n)) => in_namespace(entries, ns, n),
        None => entries.iter().find(|e| e.name == name),
    }
}

fn in_namespace<'a, T>(
    entries: &'a [Entry<T>],
    namespace: &str,
    name: &str,
) -> Option<&'a Entry<T>> {
    entries
        .iter()
        .find(|e| e.namespace == namespace && e.name == name)
}

fn entry<T>(resource: &Resource, namespace: String, object: T) -> Entry<T> {
    Entry {
        namespace,
        name: resource.name.clone(),
        object,
        file: resource.file,
        root: resource.root.clone(),
    }
}

fn typed<T: DeserializeOwned>(resource: &Resource, diags: &mut Vec<Diagnostic>) -> Option<T> {
    let decoded = decode::<T>(&resource.root);
    for path in decoded.unknown_fields {
        let name = path.rsplit('.').next().unwrap_or(&path);
        let name = name.split('[').next().unwrap_or(name).to_string();
        let hint = did_you_mean(&name, FIELD_NAMES.iter().copied())
            .unwrap_or_else(|| "remove it: Triggers rejects fields it does not know".into());
        diags.push(
            Diagnostic::error(
                "schema/unknown-field",
                format!("json: unknown field \"{name}\""),
            )
            .at(path)
            .at_key()
            .hint(hint),
        );
    }
    if let Some((path, message)) = decoded.type_error {
        diags.push(
            Diagnostic::error("schema/type", message)
                .at(path)
                .hint("check the field's type in the Tekton Triggers API reference"),
        );
    }
    decoded.value
}

fn default_listener(l: &mut EventListener) {
    if l.spec.service_account_name.is_empty() {
        l.spec.service_account_name = "default".into();
    }
    for t in &mut l.spec.triggers {
        default_interceptors(&mut t.interceptors);
        admission::default_bindings(&mut t.bindings);
    }
    for g in &mut l.spec.trigger_groups {
        default_interceptors(&mut g.interceptors);
    }
}

/// The `v1alpha1` built-in interceptor fields are unknown in `v1beta1`.
fn v1alpha1_fields_in_v1beta1(value: &serde_json::Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let spec = &value["spec"];
    let mut chains: Vec<(String, &serde_json::Value)> =
        vec![("spec.interceptors".into(), &spec["interceptors"])];
    for (key, list) in [
        ("triggers", &spec["triggers"]),
        ("triggerGroups", &spec["triggerGroups"]),
    ] {
        for (i, t) in list.as_array().into_iter().flatten().enumerate() {
            chains.push((format!("spec.{key}[{i}].interceptors"), &t["interceptors"]));
        }
    }
    for (at, chain) in chains {
        for (i, ic) in chain.as_array().into_iter().flatten().enumerate() {
            for field in ["github", "gitlab", "bitbucket", "cel"] {
                if ic.get(field).is_some() {
                    out.push(
                        Diagnostic::error(
                            "schema/unknown-field",
                            format!("json: unknown field \"{field}\""),
                        )
                        .at(format!("{at}[{i}].{field}"))
                        .at_key()
                        .hint(format!(
                            "v1beta1 writes `ref: {{name: {field}}}` with `params`; `{field}:` is v1alpha1"
                        )),
                    );
                }
            }
        }
    }
    out
}

fn default_interceptors(interceptors: &mut [TriggerInterceptor]) {
    for i in interceptors {
        if let Some(r) = i.reference.as_mut().filter(|r| r.kind.is_empty()) {
            r.kind = "ClusterInterceptor".into();
        }
    }
}

fn unknown_kind(kind: &str) -> Diagnostic {
    let names = TriggersKind::ALL.map(TriggersKind::as_str);
    Diagnostic::error(
        "schema/unknown-kind",
        format!("unknown kind \"{kind}\" in {GROUP}"),
    )
    .at("kind")
    .hint(did_you_mean(kind, names).unwrap_or_else(|| format!("{GROUP} has {}", names.join(", "))))
}

fn display_name(resource: &Resource) -> &str {
    if resource.name.is_empty() {
        "<unnamed>"
    } else {
        &resource.name
    }
}

fn place(
    bundle: &Bundle,
    resource: &Resource,
    label: &str,
    diags: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    place_in(bundle, resource.file, &resource.root, label, diags)
}

/// Gives `diags`, found in the object `root` of file `file`, their file positions and label.
pub(super) fn place_in(
    bundle: &Bundle,
    file: usize,
    root: &Node,
    label: &str,
    diags: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    diags
        .into_iter()
        .map(|mut d| {
            if d.location.is_none() {
                let anchor = d.anchor;
                d.location =
                    Some(bundle.locate(file, root, d.field.as_deref().unwrap_or(""), anchor));
            }
            if let Some(r) = d.related.as_mut().filter(|r| r.location.is_none()) {
                r.location = Some(bundle.locate(file, root, &r.field, Anchor::Value));
            }
            if d.object.is_none() {
                d.object = Some(label.to_string());
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;

    pub(crate) fn load(text: &str) -> (Catalog, Vec<Diagnostic>) {
        let mut b = Bundle::new();
        b.add_source("t.yaml", text.to_string(), Origin::Input);
        assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
        Catalog::load(&b, "default")
    }

    #[test]
    fn decodes_defaults_and_locates_unknown_fields() {
        let (c, d) = load(
            "apiVersion: triggers.tekton.dev/v1beta1\nkind: EventListener\nmetadata: {name: l, namespace: ci}\nspec:\n  triggers:\n  - name: t\n    bindings: [{ref: b}]\n    interceptors: [{ref: {name: cel}}]\n    template: {ref: tt}\n    tempalte: {}\n---\napiVersion: triggers.tekton.dev/v1beta1\nkind: TriggerBinding\nmetadata: {name: b, namespace: ci}\nspec: {params: []}\n---\napiVersion: triggers.tekton.dev/v1beta1\nkind: TriggerTemplate\nmetadata: {name: tt, namespace: ci}\nspec:\n  resourcetemplates: [{apiVersion: v1, kind: ConfigMap}]\n",
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "schema/unknown-field");
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `template`?"));
        let loc = d[0].location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (10, 5));
        let l = c.listener("ci/l").unwrap();
        assert_eq!(l.object.spec.service_account_name, "default");
        let t = &l.object.spec.triggers[0];
        assert_eq!(t.bindings[0].kind, "TriggerBinding");
        assert_eq!(
            t.interceptors[0].reference.as_ref().unwrap().kind,
            "ClusterInterceptor"
        );
        assert!(c.binding("ci", "b").is_some());
        assert!(c.template("ci", "tt").is_some());
    }

    /// (code, field) of every finding.
    fn findings(text: &str) -> Vec<(&'static str, String)> {
        let mut b = Bundle::new();
        b.add_source("t.yaml", text.to_string(), Origin::Input);
        let (_, d) = Catalog::load(&b, "default");
        d.into_iter()
            .map(|d| (d.code, d.field.unwrap_or_default()))
            .collect()
    }

    const HEAD: &str = "apiVersion: triggers.tekton.dev/v1beta1\n";
    const TEMPLATE: &str = "{spec: {resourcetemplates: [{apiVersion: v1, kind: ConfigMap}]}}";

    fn listener(annotations: &str, spec: &str) -> String {
        format!("{HEAD}kind: EventListener\nmetadata: {{name: l{annotations}}}\nspec:\n{spec}")
    }

    /// C37: the EventListener rules of spec §1.2-§1.4.
    #[test]
    fn listener_admission() {
        let t = TEMPLATE;
        assert_eq!(
            findings(&listener(
                ", annotations: {tekton.dev/payload-validation: 'no'}",
                "  serviceAccountName: x\n"
            )),
            [
                (
                    "triggers/payload-validation",
                    "metadata.annotations.tekton.dev/payload-validation".to_string()
                ),
                ("triggers/no-triggers", "spec".to_string())
            ]
        );
        let spec = format!(
            "  triggers:\n  - name: -bad\n    template: {t}\n  - triggerRef: x\n    template: {t}\n  - name: none\n  - template: {{ref: a, spec: {{resourcetemplates: [{{kind: X}}]}}, apiversion: v2}}\n    bindings: [{{ref: b, name: n}}, {{name: n}}, {{}}, {{ref: b, kind: TriggerBindng}}]\n    interceptors: [{{ref: {{kind: Cluster}}}}, {{}}]\n"
        );
        assert_eq!(
            findings(&listener("", &spec)),
            [
                ("triggers/trigger-name", "spec.triggers[0].name".to_string()),
                (
                    "triggers/trigger-ref",
                    "spec.triggers[1].triggerRef".to_string()
                ),
                ("triggers/missing-template", "spec.triggers[2]".to_string()),
                (
                    "triggers/template-ref",
                    "spec.triggers[3].template".to_string()
                ),
                (
                    "triggers/template-ref",
                    "spec.triggers[3].template.apiversion".to_string()
                ),
                (
                    "triggers/binding",
                    "spec.triggers[3].bindings[0]".to_string()
                ),
                (
                    "triggers/binding",
                    "spec.triggers[3].bindings[1].name".to_string()
                ),
                (
                    "triggers/binding",
                    "spec.triggers[3].bindings[2]".to_string()
                ),
                (
                    "triggers/binding",
                    "spec.triggers[3].bindings[3].kind".to_string()
                ),
                (
                    "triggers/interceptor",
                    "spec.triggers[3].interceptors[0].ref".to_string()
                ),
                (
                    "triggers/interceptor",
                    "spec.triggers[3].interceptors[0].ref.kind".to_string()
                ),
                (
                    "triggers/interceptor",
                    "spec.triggers[3].interceptors[1]".to_string()
                ),
                (
                    "references/not-found",
                    "spec.triggers[1].triggerRef".to_string()
                ),
                (
                    "references/not-found",
                    "spec.triggers[3].bindings[0].ref".to_string()
                ),
                (
                    "references/not-found",
                    "spec.triggers[3].bindings[3].ref".to_string()
                ),
                (
                    "references/not-found",
                    "spec.triggers[3].template.ref".to_string()
                ),
            ]
        );
        let groups = "  triggerGroups:\n  - name: g\n    interceptors: []\n    triggerSelector: {labelSelector: {}}\n  - name: h\n    interceptors: [{ref: {name: cel}}]\n  - name: i\n    interceptors: [{ref: {name: cel}}]\n    triggerSelector: {namespaceSelector: {matchNames: [a, '*']}}\n";
        assert_eq!(
            findings(&listener("", groups)),
            [
                ("triggers/group", "spec.triggerGroups[0]".to_string()),
                ("triggers/group", "spec.triggerGroups[1]".to_string()),
                (
                    "triggers/namespace-selector",
                    "spec.triggerGroups[2].triggerSelector.namespaceSelector.matchNames[1]"
                        .to_string()
                ),
            ]
        );
        let long = format!(
            "{HEAD}kind: EventListener\nmetadata: {{name: {}}}\nspec: {{labelSelector: {{}}}}\n",
            "x".repeat(61)
        );
        assert_eq!(
            findings(&long),
            [("triggers/name-too-long", "metadata.name".to_string())]
        );
    }

    /// C37: bindings, templates and Trigger objects.
    #[test]
    fn binding_template_and_trigger_admission() {
        let binding = format!("{HEAD}kind: TriggerBinding\nmetadata: {{name: b}}\nspec:\n  params:\n  - {{name: a, value: x}}\n  - {{name: a, value: '$(body.a $(body.b)'}}\n  - {{value: y}}\n");
        assert_eq!(
            findings(&binding),
            [
                ("triggers/binding-param", "spec.params[1].name".to_string()),
                ("triggers/binding-param", "spec.params[1].value".to_string()),
                ("triggers/binding-param", "spec.params[2]".to_string()),
            ]
        );
        let template = format!("{HEAD}kind: TriggerTemplate\nmetadata: {{name: t}}\nspec:\n  params: [{{name: a}}]\n  resourcetemplates:\n  - {{apiVersion: v1, kind: ConfigMap, data: {{'$(tt.params.k)': '$(tt.params.a) $(tt.params.b)'}}}}\n  - {{apiVersion: v1}}\n");
        assert_eq!(
            findings(&template),
            [
                (
                    "triggers/undeclared-param",
                    "spec.resourcetemplates[0].data.$(tt.params.k)".to_string()
                ),
                (
                    "triggers/undeclared-param",
                    "spec.resourcetemplates[0].data.$(tt.params.k)".to_string()
                ),
                ("triggers/template", "spec.resourcetemplates[1]".to_string()),
            ]
        );
        let empty = format!("{HEAD}kind: TriggerTemplate\nmetadata: {{name: t}}\nspec: {{}}\n");
        assert_eq!(
            findings(&empty),
            [("triggers/template", "spec".to_string())]
        );
        let trigger = format!("{HEAD}kind: Trigger\nmetadata: {{name: t}}\nspec:\n  bindings: [{{ref: cb, kind: ClusterTriggerBinding}}]\n  template: {{}}\n");
        assert_eq!(
            findings(&trigger),
            [
                ("triggers/template-ref", "spec.template".to_string()),
                ("references/not-found", "spec.bindings[0].ref".to_string()),
            ]
        );
        let interceptor = "apiVersion: triggers.tekton.dev/v1alpha1\nkind: ClusterInterceptor\nmetadata: {name: c}\nspec: {clientConfig: {}}\n";
        assert_eq!(
            findings(interceptor),
            [("triggers/interceptor", "spec.clientConfig".to_string())]
        );
    }

    #[test]
    fn v1alpha1_builtin_interceptors_convert() {
        let text = "apiVersion: triggers.tekton.dev/v1alpha1\nkind: Trigger\nmetadata: {name: t}\nspec:\n  interceptors:\n  - github: {secretRef: {secretName: s, secretKey: k}, eventTypes: [push]}\n  - cel: {filter: 'true'}\n  template: {ref: x}\n---\napiVersion: triggers.tekton.dev/v1alpha1\nkind: TriggerTemplate\nmetadata: {name: x}\nspec: {resourcetemplates: [{apiVersion: v1, kind: ConfigMap}]}\n";
        let (c, d) = load(text);
        assert!(d.is_empty(), "{d:?}");
        let ics = &c.trigger("default", "t").unwrap().object.spec.interceptors;
        let r = ics[0].reference.as_ref().unwrap();
        assert_eq!(
            (r.name.as_str(), r.kind.as_str()),
            ("github", "ClusterInterceptor")
        );
        let names: Vec<_> = ics[0].params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["secretRef", "eventTypes"]);
        assert_eq!(ics[1].reference.as_ref().unwrap().name, "cel");
        assert_eq!(ics[1].params[0].value, serde_json::json!("true"));
        let (_, d) = load(&text.replace("v1alpha1\nkind: Trigger\n", "v1beta1\nkind: Trigger\n"));
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].field.as_deref(), Some("spec.interceptors[0].github"));
    }

    #[test]
    fn wrong_kinds_and_versions() {
        let (_, d) = load(
            "apiVersion: triggers.tekton.dev/v1beta1\nkind: EventListner\nmetadata: {name: l}\n---\napiVersion: triggers.tekton.dev/v1\nkind: Trigger\nmetadata: {name: t}\n",
        );
        let codes: Vec<_> = d
            .iter()
            .map(|d| (d.code, d.hint.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            codes,
            [
                (
                    "schema/unknown-kind",
                    "did you mean `EventListener`?".to_string()
                ),
                (
                    "schema/api-version",
                    "use apiVersion: triggers.tekton.dev/v1beta1".to_string()
                )
            ]
        );
    }
}
