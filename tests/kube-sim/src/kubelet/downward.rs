//! The downward API: the values `fieldRef` and `resourceFieldRef` name, for environment
//! variables and `downwardAPI` volume files.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ObjectFieldSelector, Pod, ResourceFieldSelector};

use super::quantity;

/// The addresses known once the sandbox runs.
#[derive(Debug, Clone, Default)]
pub(super) struct Addresses {
    /// The Pod's IP (the sandbox's).
    pub pod_ip: String,
    /// The node's IP as the Pod sees it (the sandbox network's gateway).
    pub host_ip: String,
}

/// Go's `%q` of a string, as the kubelet quotes label and annotation values.
fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `key="value"` lines, sorted by key, as a `metadata.labels` file holds them.
fn map_file(map: Option<&BTreeMap<String, String>>) -> String {
    map.into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `metadata.labels['key']` → `("labels", "key")`.
fn subscript(path: &str) -> Option<(&str, &str)> {
    let (field, rest) = path.strip_prefix("metadata.")?.split_once("['")?;
    Some((field, rest.strip_suffix("']")?))
}

/// The value of `selector` for `pod`; `whole_maps` allows `metadata.labels` and
/// `metadata.annotations` (volume files only, as Kubernetes' validation says).
pub(super) fn field(
    pod: &Pod,
    selector: &ObjectFieldSelector,
    addresses: &Addresses,
    whole_maps: bool,
) -> Result<String, String> {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let path = selector.field_path.as_str();
    let value = match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "metadata.labels" if whole_maps => map_file(meta.labels.as_ref()),
        "metadata.annotations" if whole_maps => map_file(meta.annotations.as_ref()),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.podIP" | "status.podIPs" => addresses.pod_ip.clone(),
        "status.hostIP" | "status.hostIPs" => addresses.host_ip.clone(),
        _ => match subscript(path) {
            Some(("labels", key)) => meta
                .labels
                .as_ref()
                .and_then(|m| m.get(key).cloned())
                .unwrap_or_default(),
            Some(("annotations", key)) => meta
                .annotations
                .as_ref()
                .and_then(|m| m.get(key).cloned())
                .unwrap_or_default(),
            _ => return Err(format!("unsupported fieldPath: {path}")),
        },
    };
    Ok(value)
}

/// The node's capacity, what a limit defaults to when the container sets none.
fn node_capacity(resource: &str) -> i128 {
    match resource {
        "cpu" => std::thread::available_parallelism().map_or(1, |n| n.get() as i128) * 1000,
        _ => {
            let total_kib = std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| {
                    let line = m.lines().find(|l| l.starts_with("MemTotal:"))?.to_owned();
                    line.split_whitespace().nth(1)?.parse::<i128>().ok()
                })
                .unwrap_or(0);
            total_kib * 1024 * 1000
        }
    }
}

/// The value of `selector` for `container` (named by the selector or the one asking).
pub(super) fn resource(
    pod: &Pod,
    asking: Option<&Container>,
    selector: &ResourceFieldSelector,
) -> Result<String, String> {
    let spec = pod.spec.as_ref();
    let container = match selector.container_name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => spec
            .into_iter()
            .flat_map(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
            })
            .find(|c| c.name == name),
        None => asking,
    }
    .ok_or_else(|| {
        format!(
            "resourceFieldRef {}: no container to read it from",
            selector.resource
        )
    })?;
    let (kind, name) = selector
        .resource
        .split_once('.')
        .ok_or_else(|| format!("unsupported container resource: {}", selector.resource))?;
    let resources = container.resources.as_ref();
    let pick = |which: &str| {
        let list = match which {
            "limits" => resources.and_then(|r| r.limits.as_ref()),
            _ => resources.and_then(|r| r.requests.as_ref()),
        };
        list.and_then(|l| l.get(name))
            .and_then(|q| quantity::milli(&q.0))
    };
    let milli = match kind {
        "limits" => pick("limits").unwrap_or_else(|| node_capacity(name)),
        "requests" => pick("requests").or_else(|| pick("limits")).unwrap_or(0),
        _ => {
            return Err(format!(
                "unsupported container resource: {}",
                selector.resource
            ))
        }
    };
    let divisor = selector
        .divisor
        .as_ref()
        .and_then(|d| quantity::milli(&d.0))
        .filter(|d| *d > 0)
        .unwrap_or(1000);
    // Rounded up, as the kubelet does, so a request of 250m with divisor 1 reads 1.
    Ok(((milli + divisor - 1).div_euclid(divisor)).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn fields_read_metadata_and_addresses() {
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                labels: Some(BTreeMap::from([
                    ("b".into(), "two \"2\"".into()),
                    ("a".into(), "one".into()),
                ])),
                ..Default::default()
            },
            ..Default::default()
        };
        let sel = |p: &str| ObjectFieldSelector {
            field_path: p.into(),
            ..Default::default()
        };
        let ips = Addresses {
            pod_ip: "10.0.0.2".into(),
            host_ip: "10.0.0.1".into(),
        };
        assert_eq!(
            field(&pod, &sel("metadata.name"), &ips, false).unwrap(),
            "p"
        );
        assert_eq!(
            field(&pod, &sel("metadata.labels['a']"), &ips, false).unwrap(),
            "one"
        );
        assert_eq!(
            field(&pod, &sel("status.podIP"), &ips, false).unwrap(),
            "10.0.0.2"
        );
        assert_eq!(
            field(&pod, &sel("metadata.labels"), &ips, true).unwrap(),
            "a=\"one\"\nb=\"two \\\"2\\\"\""
        );
        assert!(field(&pod, &sel("metadata.labels"), &ips, false).is_err());
        assert!(field(&pod, &sel("spec.bogus"), &ips, false).is_err());
    }
}
