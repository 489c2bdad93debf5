//! Kubernetes' version skew policy, checked over the versions a cluster reports.
//!
//! # Design
//!
//! The policy, as <https://kubernetes.io/releases/version-skew-policy/> states it and issue
//! 11 fixes it for adze:
//!
//! - kube-apiserver instances of an HA control plane are at most 1 minor apart;
//! - kubelet is never newer than the oldest kube-apiserver and at most 3 minors older than
//!   the newest (2 when the kubelet is older than 1.25);
//! - kube-proxy likewise, and within 3 minors of the kubelet on its node;
//! - kube-controller-manager, kube-scheduler and cloud-controller-manager are never newer
//!   than the oldest kube-apiserver and at most 1 minor older than the newest;
//! - kubectl is within 1 minor of every kube-apiserver, either way.
//!
//! HA skew narrows every window: "never newer" compares with the oldest kube-apiserver,
//! "at most N older" with the newest. Rules that compare with kube-apiserver are skipped
//! when no kube-apiserver version is given.
//!
//! The input ([`Inventory::from_json`]) is the JSON document `adze kube skew-check` reads.
//! Its `nodes` list pairs each node's kubelet with its kube-proxy (the only way to check
//! the kube-proxy/kubelet rule); it accepts flat entries (`{name, kubelet, kubeProxy}`,
//! or nodeInfo's `kubeletVersion`/`kubeProxyVersion`) and Node objects as
//! `kubectl get nodes -o json` prints them, or that whole NodeList.
//!
//! # Invariants
//!
//! - Violations come out in a fixed order (component, then input order), so output is
//!   stable for tests and diffs.
//! - Every message names the component, its version, where it runs, the rule in words, and
//!   what to do.

use serde::Serialize;
use serde_json::{Map, Value};

use super::version::{minor_release, Version, VersionError};

/// Where to read the policy.
pub const POLICY_URL: &str = "https://kubernetes.io/releases/version-skew-policy/";

/// A component the policy covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// kube-apiserver.
    ApiServer,
    /// kube-controller-manager.
    ControllerManager,
    /// kube-scheduler.
    Scheduler,
    /// cloud-controller-manager.
    CloudControllerManager,
    /// kubelet.
    Kubelet,
    /// kube-proxy.
    KubeProxy,
    /// kubectl.
    Kubectl,
}

impl Component {
    /// The component's binary name, as the policy names it.
    pub fn name(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::CloudControllerManager => "cloud-controller-manager",
            Component::Kubelet => "kubelet",
            Component::KubeProxy => "kube-proxy",
            Component::Kubectl => "kubectl",
        }
    }
}

/// Where an instance runs, as far as the input says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Nothing was said.
    Unnamed,
    /// An entry with a `name` (a Pod, a host).
    Named(String),
    /// A node of the `nodes` list.
    Node(String),
}

impl Place {
    fn name(&self) -> Option<&str> {
        match self {
            Place::Unnamed => None,
            Place::Named(n) | Place::Node(n) => Some(n),
        }
    }

    /// ` on node n1`, ` (cp-1)` or nothing.
    fn phrase(&self) -> String {
        match self {
            Place::Unnamed => String::new(),
            Place::Named(n) => format!(" ({n})"),
            Place::Node(n) => format!(" on node {n}"),
        }
    }
}

/// One running instance of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Its version.
    pub version: Version,
    /// Where it runs.
    pub place: Place,
}

/// A node: its kubelet and, when known, the kube-proxy beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The node's name.
    pub name: String,
    /// The kubelet's version.
    pub kubelet: Version,
    /// kube-proxy's version, when reported (nodeInfo's field is deprecated and may be empty).
    pub kube_proxy: Option<Version>,
}

/// Every version the check looks at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    /// kube-apiserver instances.
    pub apiservers: Vec<Instance>,
    /// kube-controller-manager instances.
    pub controller_managers: Vec<Instance>,
    /// kube-scheduler instances.
    pub schedulers: Vec<Instance>,
    /// cloud-controller-manager instances.
    pub cloud_controller_managers: Vec<Instance>,
    /// kube-proxy instances not tied to a node.
    pub kube_proxies: Vec<Instance>,
    /// kubelets not tied to a node entry.
    pub kubelets: Vec<Instance>,
    /// The kubectl that will drive the cluster.
    pub kubectl: Option<Version>,
    /// Nodes, pairing kubelet and kube-proxy.
    pub nodes: Vec<Node>,
}

/// Why the input cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A value is not of the expected shape.
    #[error("{path}: {message}")]
    Shape {
        /// Where in the document (`kubelets[2]`).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A version does not parse.
    #[error("{path}: {source}")]
    Version {
        /// Where in the document.
        path: String,
        /// The parse error.
        source: VersionError,
    },
    /// Nothing to check at all.
    #[error("the document lists no version at all; give at least one of {FIELDS_LIST}")]
    Empty,
}

/// The lists of components, with their JSON field names.
const LISTS: [(&str, Component); 6] = [
    ("apiservers", Component::ApiServer),
    ("controllerManagers", Component::ControllerManager),
    ("schedulers", Component::Scheduler),
    ("cloudControllerManagers", Component::CloudControllerManager),
    ("kubeProxies", Component::KubeProxy),
    ("kubelets", Component::Kubelet),
];

const FIELDS_LIST: &str = "apiservers, controllerManagers, schedulers, cloudControllerManagers, kubeProxies, kubelets, kubectl, nodes";

fn shape(path: &str, message: impl Into<String>) -> InputError {
    InputError::Shape {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn version_at(path: &str, value: &Value) -> Result<Version, InputError> {
    match value {
        Value::String(s) => Version::parse(s).map_err(|source| InputError::Version {
            path: path.to_owned(),
            source,
        }),
        other => Err(shape(
            path,
            format!("expected a version string, found {}", kind(other)),
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number (quote versions: \"1.30\" is not 1.3)",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A non-empty string field of `object`, by any of `names`.
fn text_field<'a>(
    object: &'a Map<String, Value>,
    names: &[&'a str],
) -> Option<(&'a str, &'a Value)> {
    names.iter().find_map(|n| {
        object
            .get(*n)
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .map(|v| (*n, v))
    })
}

impl Inventory {
    /// Reads the document `adze kube skew-check --versions` takes.
    pub fn from_json(document: &Value) -> Result<Inventory, InputError> {
        let Value::Object(top) = document else {
            return Err(shape(
                "the document",
                format!(
                    "expected an object with {FIELDS_LIST}, found {}",
                    kind(document)
                ),
            ));
        };
        let mut inventory = Inventory::default();
        for (key, value) in top {
            if let Some((_, component)) = LISTS.iter().find(|(k, _)| k == key) {
                let list = instances(key, value)?;
                match component {
                    Component::ApiServer => inventory.apiservers = list,
                    Component::ControllerManager => inventory.controller_managers = list,
                    Component::Scheduler => inventory.schedulers = list,
                    Component::CloudControllerManager => {
                        inventory.cloud_controller_managers = list;
                    }
                    Component::KubeProxy => inventory.kube_proxies = list,
                    Component::Kubelet => inventory.kubelets = list,
                    Component::Kubectl => {}
                }
            } else if key == "kubectl" {
                if !value.is_null() {
                    inventory.kubectl = Some(version_at("kubectl", value)?);
                }
            } else if key == "nodes" {
                inventory.nodes = nodes(value)?;
            } else {
                let hint = strsim_closest(key)
                    .map(|k| format!("did you mean \"{k}\"? "))
                    .unwrap_or_default();
                return Err(shape(
                    key,
                    format!("unknown field; {hint}the fields are {FIELDS_LIST}"),
                ));
            }
        }
        if inventory.is_empty() {
            return Err(InputError::Empty);
        }
        Ok(inventory)
    }

    fn is_empty(&self) -> bool {
        self.apiservers.is_empty()
            && self.controller_managers.is_empty()
            && self.schedulers.is_empty()
            && self.cloud_controller_managers.is_empty()
            && self.kube_proxies.is_empty()
            && self.kubelets.is_empty()
            && self.kubectl.is_none()
            && self.nodes.is_empty()
    }

    /// How many versions of each component the check looked at, in policy order.
    pub fn counts(&self) -> Vec<(Component, usize)> {
        let proxies =
            self.kube_proxies.len() + self.nodes.iter().filter(|n| n.kube_proxy.is_some()).count();
        [
            (Component::ApiServer, self.apiservers.len()),
            (Component::ControllerManager, self.controller_managers.len()),
            (Component::Scheduler, self.schedulers.len()),
            (
                Component::CloudControllerManager,
                self.cloud_controller_managers.len(),
            ),
            (Component::Kubelet, self.kubelets.len() + self.nodes.len()),
            (Component::KubeProxy, proxies),
            (Component::Kubectl, usize::from(self.kubectl.is_some())),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

fn strsim_closest(key: &str) -> Option<&'static str> {
    FIELDS_LIST
        .split(", ")
        .map(|k| (k, strsim::jaro_winkler(key, k)))
        .filter(|(_, score)| *score > 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

fn instances(key: &str, value: &Value) -> Result<Vec<Instance>, InputError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(shape(
                key,
                format!("expected a list of versions, found {}", kind(other)),
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("{key}[{i}]");
        let instance = match item {
            Value::Object(object) => {
                let version = object.get("version").ok_or_else(|| {
                    shape(
                        &path,
                        "an entry object needs \"version\" (and may have \"name\")",
                    )
                })?;
                let version = version_at(&format!("{path}.version"), version)?;
                let place = match object.get("name") {
                    None | Some(Value::Null) => Place::Unnamed,
                    Some(Value::String(n)) => Place::Named(n.clone()),
                    Some(other) => {
                        return Err(shape(
                            &format!("{path}.name"),
                            format!("expected a string, found {}", kind(other)),
                        ))
                    }
                };
                Instance { version, place }
            }
            other => Instance {
                version: version_at(&path, other)?,
                place: Place::Unnamed,
            },
        };
        out.push(instance);
    }
    Ok(out)
}

fn nodes(value: &Value) -> Result<Vec<Node>, InputError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        // A whole `kubectl get nodes -o json`.
        Value::Object(list) if list.get("items").is_some_and(Value::is_array) => {
            return nodes(&list["items"]);
        }
        other => {
            return Err(shape(
                "nodes",
                format!(
                    "expected a list of nodes (or the NodeList `kubectl get nodes -o json` prints), found {}",
                    kind(other)
                ),
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("nodes[{i}]");
        let Value::Object(object) = item else {
            return Err(shape(
                &path,
                format!("expected a node object, found {}", kind(item)),
            ));
        };
        // A Node object: its name in metadata, its versions in status.nodeInfo.
        let (fields, prefix, name) = match object
            .get("status")
            .and_then(|s| s.get("nodeInfo"))
            .and_then(Value::as_object)
        {
            Some(info) => (
                info,
                format!("{path}.status.nodeInfo"),
                object
                    .get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(Value::as_str),
            ),
            None => (
                object,
                path.clone(),
                object.get("name").and_then(Value::as_str),
            ),
        };
        let name = name.map_or_else(|| format!("#{i}"), str::to_owned);
        let (key, kubelet) =
            text_field(fields, &["kubelet", "kubeletVersion"]).ok_or_else(|| {
                shape(
                &prefix,
                "a node needs its kubelet version (\"kubelet\" or nodeInfo's \"kubeletVersion\")",
            )
            })?;
        let kubelet = version_at(&format!("{prefix}.{key}"), kubelet)?;
        // nodeInfo.kubeProxyVersion is deprecated: kubelets that no longer fill it in leave
        // it empty or report v0.0.0, which says nothing about the kube-proxy running.
        let kube_proxy = match text_field(fields, &["kubeProxy", "kubeProxyVersion"])
            .filter(|(_, v)| !matches!(v.as_str(), Some("v0.0.0" | "0.0.0")))
        {
            Some((key, v)) => Some(version_at(&format!("{prefix}.{key}"), v)?),
            None => None,
        };
        out.push(Node {
            name,
            kubelet,
            kube_proxy,
        });
    }
    Ok(out)
}

/// Which rule of the policy an instance breaks; the JSON `rule` is its [`Rule::id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// HA kube-apiserver instances more than 1 minor apart.
    ApiServerSkew,
    /// Newer than the oldest kube-apiserver.
    NewerThanApiServer,
    /// Further behind the newest kube-apiserver than allowed.
    TooOldForApiServer,
    /// kube-proxy more than 3 minors from the kubelet on its node.
    KubeProxyKubeletSkew,
    /// kubectl more than 1 minor from a kube-apiserver.
    KubectlSkew,
}

impl Rule {
    /// The stable identifier in JSON output.
    pub fn id(self) -> &'static str {
        match self {
            Rule::ApiServerSkew => "apiserver-ha-skew",
            Rule::NewerThanApiServer => "newer-than-apiserver",
            Rule::TooOldForApiServer => "older-than-apiserver-allows",
            Rule::KubeProxyKubeletSkew => "kube-proxy-kubelet-skew",
            Rule::KubectlSkew => "kubectl-skew",
        }
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The component that breaks it.
    pub component: Component,
    /// Where it runs.
    pub place: Place,
    /// Its version, as reported.
    pub version: String,
    /// The rule.
    pub rule: Rule,
    /// The whole story for a person: who, what rule, what to do.
    pub message: String,
}

/// A violation as `-o json` prints it.
#[derive(Debug, Serialize)]
pub struct JsonViolation<'a> {
    /// The component's name.
    pub component: &'static str,
    /// The node or entry name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// The version as reported.
    pub version: &'a str,
    /// The rule's identifier.
    pub rule: &'static str,
    /// The message for people.
    pub message: &'a str,
}

/// The `-o json` document.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    /// No violation.
    pub compliant: bool,
    /// Every violation, in the order of the text output.
    pub violations: Vec<JsonViolation<'a>>,
}

impl<'a> JsonReport<'a> {
    /// The report of `violations`.
    pub fn of(violations: &'a [Violation]) -> Self {
        JsonReport {
            compliant: violations.is_empty(),
            violations: violations
                .iter()
                .map(|v| JsonViolation {
                    component: v.component.name(),
                    name: v.place.name(),
                    version: &v.version,
                    rule: v.rule.id(),
                    message: &v.message,
                })
                .collect(),
        }
    }
}

/// How many minors a kubelet or kube-proxy of minor `minor` may trail kube-apiserver.
fn node_allowance(minor: u32) -> u32 {
    if minor < 25 {
        2
    } else {
        3
    }
}

/// The oldest minor a kubelet or kube-proxy may run next to kube-apiserver `newest`.
fn oldest_node_minor(newest: u32) -> u32 {
    (newest.saturating_sub(3)..=newest)
        .find(|m| newest - m <= node_allowance(*m))
        .unwrap_or(newest)
}

fn minors(n: u32) -> String {
    if n == 1 {
        "1 minor version".to_owned()
    } else {
        format!("{n} minor versions")
    }
}

/// Checks `inventory` against the policy.
pub fn check(inventory: &Inventory) -> Vec<Violation> {
    let mut out = Vec::new();
    let oldest = inventory.apiservers.iter().min_by_key(|a| a.version.minor);
    let newest = inventory.apiservers.iter().max_by_key(|a| a.version.minor);
    let bounds = oldest.zip(newest).map(|(o, n)| (&o.version, &n.version));
    let violation =
        |component: Component, instance: &Instance, rule: Rule, message: String| Violation {
            component,
            place: instance.place.clone(),
            version: instance.version.text.clone(),
            rule,
            message,
        };

    if let Some((_, newest)) = bounds {
        for a in &inventory.apiservers {
            let gap = newest.minor - a.version.minor;
            if gap > 1 {
                out.push(violation(
                    Component::ApiServer,
                    a,
                    Rule::ApiServerSkew,
                    format!(
                        "kube-apiserver {}{} is {} behind the newest kube-apiserver ({}); the instances of an HA control plane must be at most 1 minor version apart: upgrade it to {} before anything else changes",
                        a.version,
                        a.place.phrase(),
                        minors(gap),
                        newest,
                        newest.minor_release(),
                    ),
                ));
            }
        }
    }

    for (component, list) in [
        (Component::ControllerManager, &inventory.controller_managers),
        (Component::Scheduler, &inventory.schedulers),
        (
            Component::CloudControllerManager,
            &inventory.cloud_controller_managers,
        ),
    ] {
        let Some((oldest, newest)) = bounds else {
            break;
        };
        for c in list {
            let name = component.name();
            let (v, place) = (&c.version, c.place.phrase());
            if v.minor > oldest.minor {
                out.push(violation(
                    component,
                    c,
                    Rule::NewerThanApiServer,
                    format!(
                        "{name} {v}{place} is newer than the oldest kube-apiserver ({oldest}); it must never be newer than kube-apiserver: upgrade every kube-apiserver to {} first",
                        v.minor_release()
                    ),
                ));
            } else if newest.minor - v.minor > 1 {
                out.push(violation(
                    component,
                    c,
                    Rule::TooOldForApiServer,
                    format!(
                        "{name} {v}{place} is {} behind kube-apiserver {newest}; it may be at most 1 minor version older: upgrade it to {}",
                        minors(newest.minor - v.minor),
                        // Matching the oldest kube-apiserver is what the policy expects.
                        minor_release(oldest.minor.max(newest.minor - 1)),
                    ),
                ));
            }
        }
    }

    let kubelets = inventory
        .kubelets
        .iter()
        .cloned()
        .chain(inventory.nodes.iter().map(|n| Instance {
            version: n.kubelet.clone(),
            place: Place::Node(n.name.clone()),
        }));
    let proxies = inventory
        .kube_proxies
        .iter()
        .cloned()
        .chain(inventory.nodes.iter().filter_map(|n| {
            n.kube_proxy.clone().map(|version| Instance {
                version,
                place: Place::Node(n.name.clone()),
            })
        }));
    if let Some((oldest, newest)) = bounds {
        for (component, list) in [
            (Component::Kubelet, kubelets.collect::<Vec<_>>()),
            (Component::KubeProxy, proxies.collect::<Vec<_>>()),
        ] {
            let name = component.name();
            for c in &list {
                let (v, place) = (&c.version, c.place.phrase());
                let allowance = node_allowance(v.minor);
                if v.minor > oldest.minor {
                    out.push(violation(
                        component,
                        c,
                        Rule::NewerThanApiServer,
                        format!(
                            "{name} {v}{place} is newer than the oldest kube-apiserver ({oldest}); a {name} must never be newer than kube-apiserver: upgrade the control plane to {} first",
                            v.minor_release()
                        ),
                    ));
                } else if newest.minor - v.minor > allowance {
                    let limit = if allowance == 2 {
                        format!("a {name} older than 1.25 may be at most 2 minor versions older")
                    } else {
                        format!("a {name} may be at most 3 minor versions older")
                    };
                    out.push(violation(
                        component,
                        c,
                        Rule::TooOldForApiServer,
                        format!(
                            "{name} {v}{place} is {} behind kube-apiserver {newest}; {limit}: upgrade it to at least {} before the control plane moves further",
                            minors(newest.minor - v.minor),
                            minor_release(oldest_node_minor(newest.minor)),
                        ),
                    ));
                }
            }
        }
    }

    for node in &inventory.nodes {
        let Some(proxy) = &node.kube_proxy else {
            continue;
        };
        let kubelet = &node.kubelet;
        let gap = proxy.minor.abs_diff(kubelet.minor);
        if gap > 3 {
            let (direction, older) = if proxy.minor < kubelet.minor {
                ("behind", "kube-proxy")
            } else {
                ("ahead of", "the kubelet")
            };
            out.push(Violation {
                component: Component::KubeProxy,
                place: Place::Node(node.name.clone()),
                version: proxy.text.clone(),
                rule: Rule::KubeProxyKubeletSkew,
                message: format!(
                    "kube-proxy {proxy} on node {} is {} {direction} the node's kubelet ({kubelet}); kube-proxy must be within 3 minor versions of the kubelet beside it: upgrade {older} on this node",
                    node.name,
                    minors(gap),
                ),
            });
        }
    }

    if let (Some(kubectl), Some((oldest, newest))) = (&inventory.kubectl, bounds) {
        let (low, high) = (newest.minor.saturating_sub(1), oldest.minor + 1);
        let range = if low == high {
            minor_release(low)
        } else {
            format!("{} to {}", minor_release(low), minor_release(high))
        };
        let rule = "kubectl is supported within 1 minor version of kube-apiserver, older or newer";
        let message = if kubectl.minor > high {
            Some(format!(
                "kubectl {kubectl} is {} newer than kube-apiserver {oldest}; {rule}: use kubectl {range}",
                minors(kubectl.minor - oldest.minor)
            ))
        } else if kubectl.minor < low {
            Some(format!(
                "kubectl {kubectl} is {} behind kube-apiserver {newest}; {rule}: use kubectl {range}",
                minors(newest.minor - kubectl.minor)
            ))
        } else {
            None
        };
        if let Some(message) = message {
            out.push(Violation {
                component: Component::Kubectl,
                place: Place::Unnamed,
                version: kubectl.text.clone(),
                rule: Rule::KubectlSkew,
                message,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(json: &str) -> Inventory {
        let value: Value = serde_json::from_str(json).expect("test JSON");
        Inventory::from_json(&value).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    /// `(component, name, version, rule)` of a violation.
    type Seen = (&'static str, Option<String>, String, &'static str);

    fn broken(json: &str) -> Vec<Seen> {
        check(&inventory(json))
            .into_iter()
            .map(|v| {
                (
                    v.component.name(),
                    v.place.name().map(str::to_owned),
                    v.version,
                    v.rule.id(),
                )
            })
            .collect()
    }

    /// The rules broken, by component, for a table row.
    fn rules(json: &str) -> Vec<(&'static str, &'static str)> {
        broken(json)
            .into_iter()
            .map(|(c, _, _, r)| (c, r))
            .collect()
    }

    /// A table row: what it shows, the input, and the `(component, rule)`s broken.
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );

    const NEWER: &str = "newer-than-apiserver";
    const OLDER: &str = "older-than-apiserver-allows";

    #[test]
    fn every_rule_holds_exactly_at_its_limit_and_breaks_one_past_it() {
        let cases: &[Case] = &[
            // kube-apiserver: HA instances at most 1 minor apart.
            (
                "HA apiservers 1 apart",
                r#"{"apiservers": ["1.30.4", "1.31.0"]}"#,
                &[],
            ),
            (
                "HA apiservers 2 apart",
                r#"{"apiservers": ["1.29.4", "1.31.0", "1.30.1"]}"#,
                &[("kube-apiserver", "apiserver-ha-skew")],
            ),
            ("one apiserver", r#"{"apiservers": ["1.31.0"]}"#, &[]),
            // kubelet: never newer than the oldest apiserver, at most 3 older than the newest.
            (
                "kubelet equal",
                r#"{"apiservers": ["1.31.0"], "kubelets": ["1.31.2"]}"#,
                &[],
            ),
            (
                "kubelet 1 newer",
                r#"{"apiservers": ["1.31.0"], "kubelets": ["1.32.0"]}"#,
                &[("kubelet", NEWER)],
            ),
            (
                "kubelet newer than the oldest HA apiserver",
                r#"{"apiservers": ["1.30.0", "1.31.0"], "kubelets": ["1.31.0"]}"#,
                &[("kubelet", NEWER)],
            ),
            (
                "kubelet 3 older",
                r#"{"apiservers": ["1.31.0"], "kubelets": ["1.28.0"]}"#,
                &[],
            ),
            (
                "kubelet 4 older",
                r#"{"apiservers": ["1.31.0"], "kubelets": ["1.27.9"]}"#,
                &[("kubelet", OLDER)],
            ),
            (
                "kubelet 3 older than the newest HA apiserver, 2 than the oldest",
                r#"{"apiservers": ["1.30.0", "1.31.0"], "kubelets": ["1.28.0"]}"#,
                &[],
            ),
            (
                "kubelet 4 older than the newest HA apiserver, 3 than the oldest",
                r#"{"apiservers": ["1.30.0", "1.31.0"], "kubelets": ["1.27.0"]}"#,
                &[("kubelet", OLDER)],
            ),
            // kubelet older than 1.25: at most 2.
            (
                "kubelet 1.25, 3 older",
                r#"{"apiservers": ["1.28.0"], "kubelets": ["1.25.0"]}"#,
                &[],
            ),
            (
                "kubelet 1.24, 3 older",
                r#"{"apiservers": ["1.27.0"], "kubelets": ["1.24.17"]}"#,
                &[("kubelet", OLDER)],
            ),
            (
                "kubelet 1.24, 2 older",
                r#"{"apiservers": ["1.26.0"], "kubelets": ["1.24.17"]}"#,
                &[],
            ),
            // kube-proxy likewise.
            (
                "kube-proxy 3 older",
                r#"{"apiservers": ["1.31.0"], "kubeProxies": ["1.28.0"]}"#,
                &[],
            ),
            (
                "kube-proxy 4 older",
                r#"{"apiservers": ["1.31.0"], "kubeProxies": ["1.27.0"]}"#,
                &[("kube-proxy", OLDER)],
            ),
            (
                "kube-proxy newer",
                r#"{"apiservers": ["1.31.0"], "kubeProxies": ["1.32.0"]}"#,
                &[("kube-proxy", NEWER)],
            ),
            (
                "kube-proxy 1.25, 3 older",
                r#"{"apiservers": ["1.28.0"], "kubeProxies": ["1.25.0"]}"#,
                &[],
            ),
            (
                "kube-proxy 1.24, 3 older",
                r#"{"apiservers": ["1.27.0"], "kubeProxies": ["1.24.0"]}"#,
                &[("kube-proxy", OLDER)],
            ),
            (
                "kube-proxy 1.24, 2 older",
                r#"{"apiservers": ["1.26.0"], "kubeProxies": ["1.24.0"]}"#,
                &[],
            ),
            // kube-proxy within 3 minors of its node's kubelet.
            (
                "kube-proxy 3 behind its kubelet",
                r#"{"nodes": [{"name": "n1", "kubelet": "1.31.0", "kubeProxy": "1.28.0"}]}"#,
                &[],
            ),
            (
                "kube-proxy 4 behind its kubelet",
                r#"{"nodes": [{"name": "n1", "kubelet": "1.31.0", "kubeProxy": "1.27.0"}]}"#,
                &[("kube-proxy", "kube-proxy-kubelet-skew")],
            ),
            (
                "kube-proxy 3 ahead of its kubelet",
                r#"{"nodes": [{"name": "n1", "kubelet": "1.28.0", "kubeProxy": "1.31.0"}]}"#,
                &[],
            ),
            (
                "kube-proxy 4 ahead of its kubelet",
                r#"{"nodes": [{"name": "n1", "kubelet": "1.27.0", "kubeProxy": "1.31.0"}]}"#,
                &[("kube-proxy", "kube-proxy-kubelet-skew")],
            ),
            // Control-plane components: never newer than the oldest, at most 1 older.
            (
                "controller-manager equal, scheduler 1 older, ccm 1 older",
                r#"{"apiservers": ["1.31.0"], "controllerManagers": ["1.31.0"],
                    "schedulers": ["1.30.0"], "cloudControllerManagers": ["1.30.9"]}"#,
                &[],
            ),
            (
                "each 2 older",
                r#"{"apiservers": ["1.31.0"], "controllerManagers": ["1.29.0"],
                    "schedulers": ["1.29.0"], "cloudControllerManagers": ["1.29.0"]}"#,
                &[
                    ("kube-controller-manager", OLDER),
                    ("kube-scheduler", OLDER),
                    ("cloud-controller-manager", OLDER),
                ],
            ),
            (
                "each 1 newer",
                r#"{"apiservers": ["1.31.0"], "controllerManagers": ["1.32.0"],
                    "schedulers": ["1.32.0"], "cloudControllerManagers": ["1.32.0"]}"#,
                &[
                    ("kube-controller-manager", NEWER),
                    ("kube-scheduler", NEWER),
                    ("cloud-controller-manager", NEWER),
                ],
            ),
            (
                "scheduler at the newest of HA apiservers, newer than the oldest",
                r#"{"apiservers": ["1.30.0", "1.31.0"], "schedulers": ["1.31.0"]}"#,
                &[("kube-scheduler", NEWER)],
            ),
            (
                "controller-manager at the oldest of HA apiservers",
                r#"{"apiservers": ["1.30.0", "1.31.0"], "controllerManagers": ["1.30.0"]}"#,
                &[],
            ),
            // kubectl: within 1 minor of every apiserver, either way.
            (
                "kubectl 1 newer",
                r#"{"apiservers": ["1.30.0"], "kubectl": "1.31.0"}"#,
                &[],
            ),
            (
                "kubectl 1 older",
                r#"{"apiservers": ["1.30.0"], "kubectl": "1.29.0"}"#,
                &[],
            ),
            (
                "kubectl 2 newer",
                r#"{"apiservers": ["1.30.0"], "kubectl": "1.32.0"}"#,
                &[("kubectl", "kubectl-skew")],
            ),
            (
                "kubectl 2 older",
                r#"{"apiservers": ["1.30.0"], "kubectl": "1.28.0"}"#,
                &[("kubectl", "kubectl-skew")],
            ),
            (
                "kubectl 1 newer than the newest HA apiserver, 2 than the oldest",
                r#"{"apiservers": ["1.30.0", "1.31.0"], "kubectl": "1.32.0"}"#,
                &[("kubectl", "kubectl-skew")],
            ),
            (
                "kubectl 1 older than the oldest HA apiserver, 2 than the newest",
                r#"{"apiservers": ["1.30.0", "1.31.0"], "kubectl": "1.29.0"}"#,
                &[("kubectl", "kubectl-skew")],
            ),
            // Suffixes and leading `v` do not change the minor.
            (
                "provider suffixes",
                r#"{"apiservers": ["v1.31.2-eks-7f9249a"], "kubelets": ["v1.28.15-eks-1552ad0"],
                    "kubeProxies": ["1.29.3+k3s1"], "kubectl": "v1.32.0"}"#,
                &[],
            ),
            // Empty or absent lists: nothing to compare.
            (
                "empty lists",
                r#"{"apiservers": [], "kubelets": ["1.20.0"], "schedulers": [], "kubectl": null}"#,
                &[],
            ),
            ("only kubectl", r#"{"kubectl": "1.31.0"}"#, &[]),
        ];
        for (what, json, want) in cases {
            assert_eq!(rules(json), *want, "{what}: {json}");
        }
    }

    #[test]
    fn violations_name_the_instance_and_come_in_component_then_input_order() {
        let got = broken(
            r#"{"apiservers": [{"name": "cp-1", "version": "1.31.1"}, {"name": "cp-2", "version": "1.29.0"}],
                "kubelets": ["1.32.0"],
                "nodes": [{"name": "pool-a-1", "kubelet": "1.26.3", "kubeProxy": "1.25.0"},
                          {"name": "pool-a-2", "kubeletVersion": "v1.29.1", "kubeProxyVersion": ""}],
                "kubectl": "1.27.0"}"#,
        );
        let want: Vec<Seen> = vec![
            (
                "kube-apiserver",
                Some("cp-2".into()),
                "1.29.0".into(),
                "apiserver-ha-skew",
            ),
            ("kubelet", None, "1.32.0".into(), NEWER),
            ("kubelet", Some("pool-a-1".into()), "1.26.3".into(), OLDER),
            (
                "kube-proxy",
                Some("pool-a-1".into()),
                "1.25.0".into(),
                OLDER,
            ),
            ("kubectl", None, "1.27.0".into(), "kubectl-skew"),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn nodes_come_flat_as_node_objects_or_as_a_node_list() {
        let node = |name: &str, kubelet: &str, proxy: &str| {
            format!(
                r#"{{"metadata": {{"name": "{name}"}}, "status": {{"nodeInfo": {{"kubeletVersion": "{kubelet}", "kubeProxyVersion": "{proxy}"}}}}}}"#
            )
        };
        let items = [
            node("a", "v1.30.1", "v1.30.1"),
            node("b", "v1.30.0", ""),
            node("c", "v1.31.0", "v0.0.0"),
        ]
        .join(",");
        let as_list = inventory(&format!(
            r#"{{"nodes": {{"kind": "NodeList", "items": [{items}]}}}}"#
        ));
        let as_array = inventory(&format!(r#"{{"nodes": [{items}]}}"#));
        assert_eq!(as_list, as_array);
        assert_eq!(as_list.nodes.len(), 3);
        assert_eq!(as_list.nodes[0].name, "a");
        assert_eq!(
            as_list.nodes[0].kube_proxy.as_ref().map(|v| v.minor),
            Some(30)
        );
        assert_eq!(
            as_list.nodes[1].kube_proxy, None,
            "an empty kubeProxyVersion is unknown"
        );
        assert_eq!(as_list.nodes[2].kube_proxy, None, "so is v0.0.0");
        let counts: Vec<(&str, usize)> = as_list
            .counts()
            .into_iter()
            .map(|(c, n)| (c.name(), n))
            .collect();
        assert_eq!(counts, [("kubelet", 3), ("kube-proxy", 1)]);
    }

    #[test]
    fn the_messages_say_who_which_rule_and_what_to_do() {
        let violations = check(&inventory(
            r#"{"apiservers": [{"name": "cp-1", "version": "v1.30.4"}, {"name": "cp-2", "version": "v1.28.2"}],
                "controllerManagers": ["1.31.0"], "schedulers": ["1.27.1"],
                "kubelets": ["1.24.3"],
                "nodes": [{"name": "pool-a-1", "kubelet": "1.27.3"},
                          {"name": "pool-b-1", "kubelet": "1.31.0", "kubeProxy": "1.27.0"}],
                "kubeProxies": ["1.32.0"],
                "kubectl": "1.26.0"}"#,
        ));
        let text: Vec<String> = violations.iter().map(|v| v.message.clone()).collect();
        insta::assert_snapshot!(text.join("\n"));
        insta::assert_json_snapshot!(JsonReport::of(&violations[..2]));
    }

    #[test]
    fn bad_input_says_where_and_what_is_wrong() {
        let cases = [
            r#"[]"#,
            r#"{"kubelet": ["1.30.0"]}"#,
            r#"{"apiservers": "1.30.0"}"#,
            r#"{"apiservers": ["1.30.0", 1.3]}"#,
            r#"{"apiservers": ["1.30.0", "1.x"]}"#,
            r#"{"apiservers": [{"name": "cp-1"}]}"#,
            r#"{"kubectl": ["1.30.0"]}"#,
            r#"{"nodes": [{"name": "n1"}]}"#,
            r#"{"nodes": [{"name": "n1", "kubelet": "1.30", "kubeProxy": "latest"}]}"#,
            r#"{"apiservers": [], "kubelets": []}"#,
        ];
        let text: Vec<String> = cases
            .iter()
            .map(|json| {
                let value: Value = serde_json::from_str(json).expect("test JSON");
                let err = Inventory::from_json(&value).expect_err(json);
                format!("{json}\n  {err}")
            })
            .collect();
        insta::assert_snapshot!(text.join("\n"));
    }

    #[test]
    fn the_oldest_node_minor_follows_the_1_25_boundary() {
        assert_eq!(oldest_node_minor(31), 28);
        assert_eq!(oldest_node_minor(28), 25);
        // 1.24 would be 3 behind 1.27, more than its 2: 1.25 is the oldest.
        assert_eq!(oldest_node_minor(27), 25);
        assert_eq!(oldest_node_minor(26), 24);
    }
}
