//! The `triggers.tekton.dev` object types (spec §1), as written in YAML.
//!
//! Field names follow the Triggers CRDs exactly, including the all-lowercase
//! `resourcetemplates` and `apiversion`. Fields default when absent so decoding reports
//! unknown fields and type errors, and admission ([`super::admission`]) reports the rest.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The API group.
pub const GROUP: &str = "triggers.tekton.dev";

/// The kinds of the group adze reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TriggersKind {
    /// `EventListener`.
    EventListener,
    /// `Trigger`.
    Trigger,
    /// `TriggerBinding`.
    TriggerBinding,
    /// `ClusterTriggerBinding`.
    ClusterTriggerBinding,
    /// `TriggerTemplate`.
    TriggerTemplate,
    /// `ClusterInterceptor` (v1alpha1).
    ClusterInterceptor,
    /// `Interceptor` (v1alpha1, namespaced).
    Interceptor,
}

impl TriggersKind {
    /// Every kind.
    pub const ALL: [TriggersKind; 7] = [
        TriggersKind::EventListener,
        TriggersKind::Trigger,
        TriggersKind::TriggerBinding,
        TriggersKind::ClusterTriggerBinding,
        TriggersKind::TriggerTemplate,
        TriggersKind::ClusterInterceptor,
        TriggersKind::Interceptor,
    ];

    /// The `kind` text.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggersKind::EventListener => "EventListener",
            TriggersKind::Trigger => "Trigger",
            TriggersKind::TriggerBinding => "TriggerBinding",
            TriggersKind::ClusterTriggerBinding => "ClusterTriggerBinding",
            TriggersKind::TriggerTemplate => "TriggerTemplate",
            TriggersKind::ClusterInterceptor => "ClusterInterceptor",
            TriggersKind::Interceptor => "Interceptor",
        }
    }

    /// Parses a `kind`.
    pub fn parse(kind: &str) -> Option<TriggersKind> {
        TriggersKind::ALL.into_iter().find(|k| k.as_str() == kind)
    }

    /// The versions the kind is served as.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            TriggersKind::ClusterInterceptor | TriggersKind::Interceptor => &["v1alpha1"],
            _ => &["v1beta1", "v1alpha1"],
        }
    }
}

impl std::fmt::Display for TriggersKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `apiVersion`, `kind`, `metadata` and a spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Object<S> {
    /// `triggers.tekton.dev/v1beta1`.
    #[serde(default)]
    pub api_version: String,
    /// The kind.
    #[serde(default)]
    pub kind: String,
    /// Name, namespace, labels, annotations.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The spec.
    #[serde(default)]
    pub spec: S,
    /// Written by controllers; read for nothing but accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

/// An EventListener.
pub type EventListener = Object<EventListenerSpec>;
/// A Trigger object.
pub type Trigger = Object<TriggerSpec>;
/// A TriggerBinding or ClusterTriggerBinding.
pub type TriggerBinding = Object<TriggerBindingSpec>;
/// A TriggerTemplate.
pub type TriggerTemplate = Object<TriggerTemplateSpec>;
/// A ClusterInterceptor or Interceptor.
pub type Interceptor = Object<InterceptorSpec>;

/// EventListener `.spec` (§1.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventListenerSpec {
    /// Identity creating resources; `default` when empty (admission).
    #[serde(default)]
    pub service_account_name: String,
    /// Inline triggers.
    #[serde(default)]
    pub triggers: Vec<EventListenerTrigger>,
    /// Groups: a shared interceptor chain, then a selection of Trigger objects.
    #[serde(default)]
    pub trigger_groups: Vec<TriggerGroup>,
    /// Namespaces Trigger objects are selected from.
    #[serde(default)]
    pub namespace_selector: NamespaceSelector,
    /// Labels Trigger objects are selected by.
    #[serde(default)]
    pub label_selector: Option<LabelSelector>,
    /// Deployment of the listener; no effect on request handling.
    #[serde(default)]
    pub resources: Option<Value>,
    /// Sink for processing notifications (not sent yet).
    #[serde(default, rename = "cloudEventURI")]
    pub cloud_event_uri: String,
}

/// `namespaceSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// Namespaces; `["*"]` is all of them.
    #[serde(default)]
    pub match_names: Vec<String>,
}

/// An inline trigger (§1.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventListenerTrigger {
    /// Becomes the `triggers.tekton.dev/trigger` label.
    #[serde(default)]
    pub name: String,
    /// A Trigger in the listener namespace; excludes the fields below.
    #[serde(default)]
    pub trigger_ref: String,
    /// Bindings.
    #[serde(default)]
    pub bindings: Vec<BindingRef>,
    /// The template.
    #[serde(default)]
    pub template: Option<TemplateRef>,
    /// Interceptors, in order.
    #[serde(default)]
    pub interceptors: Vec<TriggerInterceptor>,
    /// Identity creating this trigger's resources.
    #[serde(default)]
    pub service_account_name: String,
}

/// A trigger group (§1.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerGroup {
    /// Name, used in `trigger_id`.
    #[serde(default)]
    pub name: String,
    /// The shared chain.
    #[serde(default)]
    pub interceptors: Vec<TriggerInterceptor>,
    /// Which Trigger objects run after the chain.
    #[serde(default)]
    pub trigger_selector: Option<TriggerSelector>,
}

/// `triggerSelector` of a group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerSelector {
    /// Namespaces.
    #[serde(default)]
    pub namespace_selector: NamespaceSelector,
    /// Labels.
    #[serde(default)]
    pub label_selector: Option<LabelSelector>,
}

/// Trigger `.spec` (§1.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerSpec {
    /// Bindings.
    #[serde(default)]
    pub bindings: Vec<BindingRef>,
    /// The template (required).
    #[serde(default)]
    pub template: TemplateRef,
    /// Interceptors, in order.
    #[serde(default)]
    pub interceptors: Vec<TriggerInterceptor>,
    /// Identity creating this trigger's resources.
    #[serde(default)]
    pub service_account_name: String,
    /// Unused by Triggers.
    #[serde(default)]
    pub name: String,
}

/// One entry of `bindings` (§1.6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingRef {
    /// A TriggerBinding or ClusterTriggerBinding name.
    #[serde(default, rename = "ref")]
    pub reference: String,
    /// `TriggerBinding` (default) or `ClusterTriggerBinding`.
    #[serde(default)]
    pub kind: String,
    /// Inline param name.
    #[serde(default)]
    pub name: String,
    /// Inline param value.
    #[serde(default)]
    pub value: Option<String>,
    /// Informational.
    #[serde(default)]
    pub apiversion: String,
}

/// `template` of a trigger (§1.7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateRef {
    /// A TriggerTemplate name in the trigger namespace.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// An embedded template.
    #[serde(default)]
    pub spec: Option<TriggerTemplateSpec>,
    /// `v1alpha1` or `v1beta1` if set.
    #[serde(default)]
    pub apiversion: String,
}

/// TriggerTemplate `.spec` (§1.8).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriggerTemplateSpec {
    /// Declared params.
    #[serde(default)]
    pub params: Vec<ParamSpec>,
    /// The objects to create, any kind.
    #[serde(default)]
    pub resourcetemplates: Vec<Value>,
}

/// A declared template param.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Default; absent differs from `""`.
    #[serde(default)]
    pub default: Option<String>,
}

/// (Cluster)TriggerBinding `.spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerBindingSpec {
    /// Params; names unique per object.
    #[serde(default)]
    pub params: Vec<Param>,
}

/// A binding param.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Value, with `$(...)` expressions.
    #[serde(default)]
    pub value: String,
}

/// One interceptor of a chain (§1.9).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerInterceptor {
    /// Informational.
    #[serde(default)]
    pub name: Option<String>,
    /// Which interceptor.
    #[serde(default, rename = "ref")]
    pub reference: Option<InterceptorRef>,
    /// Params, any JSON values.
    #[serde(default)]
    pub params: Vec<InterceptorParam>,
    /// The legacy webhook interceptor (not run by adze yet).
    #[serde(default)]
    pub webhook: Option<WebhookInterceptor>,
    /// `v1alpha1` only: the built-in `github` interceptor's params, converted to `ref` + `params`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<serde_json::Map<String, Value>>,
    /// `v1alpha1` only: `gitlab`, as `github`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitlab: Option<serde_json::Map<String, Value>>,
    /// `v1alpha1` only: `bitbucket`, as `github`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitbucket: Option<serde_json::Map<String, Value>>,
    /// `v1alpha1` only: `cel`, as `github`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cel: Option<serde_json::Map<String, Value>>,
}

impl TriggerInterceptor {
    /// Turns a `v1alpha1` built-in field (`github: {secretRef: …}`) into the `v1beta1`
    /// form (`ref: {name: github}`, one param per field), as the conversion webhook does.
    pub fn convert_v1alpha1(&mut self) {
        let fields = [
            ("github", self.github.take()),
            ("gitlab", self.gitlab.take()),
            ("bitbucket", self.bitbucket.take()),
            ("cel", self.cel.take()),
        ];
        for (name, params) in fields {
            let Some(params) = params else { continue };
            if self.reference.is_none() {
                self.reference = Some(InterceptorRef {
                    name: name.into(),
                    kind: String::new(),
                    api_version: String::new(),
                });
                self.params = params
                    .into_iter()
                    .map(|(name, value)| InterceptorParam { name, value })
                    .collect();
            }
        }
    }
}

/// `ref` of an interceptor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InterceptorRef {
    /// ClusterInterceptor or Interceptor name.
    #[serde(default)]
    pub name: String,
    /// `ClusterInterceptor` (default) or `NamespacedInterceptor`.
    #[serde(default)]
    pub kind: String,
    /// Informational.
    #[serde(default)]
    pub api_version: String,
}

/// An interceptor param.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterceptorParam {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Any JSON.
    #[serde(default)]
    pub value: Value,
}

/// The legacy `webhook` interceptor (§4.7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInterceptor {
    /// The Service to call (`kind: Service`, `apiVersion: v1`, `name`, `namespace`).
    #[serde(default)]
    pub object_ref: Option<Value>,
    /// Overrides the Service address.
    #[serde(default)]
    pub url: Option<String>,
    /// Headers to set.
    #[serde(default)]
    pub header: Vec<InterceptorParam>,
}

/// ClusterInterceptor / Interceptor `.spec` (§1.10).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InterceptorSpec {
    /// Where the interceptor is served.
    #[serde(default)]
    pub client_config: ClientConfig,
}

/// `clientConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// A URL.
    #[serde(default)]
    pub url: Option<String>,
    /// A Service.
    #[serde(default)]
    pub service: Option<Value>,
    /// PEM CA bundle.
    #[serde(default)]
    pub ca_bundle: Option<String>,
}
