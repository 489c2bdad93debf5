//! The Pod sandbox: one holder container that owns the network and IPC namespaces (and the
//! `/etc/hosts`, `/etc/resolv.conf` and hostname every container of the Pod shares), the
//! part of a Pod the `pause` container plays on a node. With `hostNetwork` it joins the host's
//! network, and the Pod's IP is reported as `127.0.0.1`.

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, InspectContainerOptions};
use bollard::Docker;
use k8s_openapi::api::core::v1::Pod;

use super::downward::Addresses;
use super::naming::{PodIdentity, SANDBOX_CONTAINER};
use super::removal;

/// The holder's image when none is configured.
pub const DEFAULT_IMAGE: &str = "adze-test/busybox:latest";

/// A running sandbox.
#[derive(Debug, Clone)]
pub(super) struct Sandbox {
    /// The holder's container id.
    pub id: String,
    /// Its addresses.
    pub addresses: Addresses,
    /// Containers join its PID namespace (`shareProcessNamespace`).
    pub share_pids: bool,
}

/// Creates and starts the holder of `pod` from `image` (which must be present); `Err` says why.
pub(super) async fn start(
    docker: &Docker,
    pod: &Pod,
    identity: &PodIdentity,
    image: &str,
) -> Result<Sandbox, String> {
    let spec = pod.spec.clone().unwrap_or_default();
    let name = identity.container_name(SANDBOX_CONTAINER);
    // A holder left by an earlier attempt that failed half-way.
    if let Ok(ids) = removal::labelled(docker, identity.sandbox_filter()).await {
        let _ = removal::remove_all(docker, &ids).await;
    }
    let hosts: Vec<String> = spec
        .host_aliases
        .iter()
        .flatten()
        .flat_map(|a| {
            a.hostnames
                .iter()
                .flatten()
                .map(move |h| format!("{h}:{}", a.ip))
        })
        .collect();
    let dns = spec.dns_config.clone().unwrap_or_default();
    let list = |v: Option<Vec<String>>| v.filter(|v| !v.is_empty());
    let hostname: String = spec
        .hostname
        .clone()
        .unwrap_or_else(|| identity.name.clone())
        .chars()
        .take(63)
        .collect();
    let host_network = spec.host_network == Some(true);
    let config = ContainerCreateBody {
        image: Some(image.to_owned()),
        entrypoint: Some(vec!["sleep".into()]),
        cmd: Some(vec!["2147483647".into()]),
        // On the host's network the Pod has the node's hostname, as in Kubernetes.
        hostname: (!host_network).then(|| hostname.trim_end_matches(['-', '.']).to_owned()),
        domainname: spec.subdomain.clone(),
        labels: Some(identity.labels(SANDBOX_CONTAINER)),
        host_config: Some(HostConfig {
            extra_hosts: list(Some(hosts)),
            dns: list(dns.nameservers),
            dns_search: list(dns.searches),
            dns_options: list(dns.options.map(|o| {
                o.into_iter()
                    .map(|o| match o.value {
                        Some(v) => format!("{}:{v}", o.name.unwrap_or_default()),
                        None => o.name.unwrap_or_default(),
                    })
                    .collect()
            })),
            network_mode: host_network.then(|| "host".to_owned()),
            ipc_mode: Some("shareable".into()),
            // `sleep` as PID 1 would ignore SIGTERM; the engine's init forwards it.
            init: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: Some(name.clone()),
        ..Default::default()
    };
    let created = docker
        .create_container(Some(options), config)
        .await
        .map_err(|e| format!("Failed to create pod sandbox: {e}"))?;
    docker
        .start_container(&created.id, None)
        .await
        .map_err(|e| format!("Failed to start pod sandbox: {e}"))?;
    let inspected = docker
        .inspect_container(&created.id, None::<InspectContainerOptions>)
        .await
        .map_err(|e| format!("Failed to inspect pod sandbox: {e}"))?;
    let network = inspected.network_settings.unwrap_or_default();
    let endpoint = network
        .networks
        .unwrap_or_default()
        .into_values()
        .find(|n| n.ip_address.as_deref().is_some_and(|ip| !ip.is_empty()));
    let (pod_ip, host_ip) = match endpoint {
        Some(e) => (
            e.ip_address.unwrap_or_default(),
            e.gateway.unwrap_or_default(),
        ),
        // `hostNetwork`: the Pod's address is the node's, seen from the node.
        None => ("127.0.0.1".to_owned(), "127.0.0.1".to_owned()),
    };
    Ok(Sandbox {
        id: created.id,
        addresses: Addresses { pod_ip, host_ip },
        share_pids: spec.share_process_namespace == Some(true),
    })
}
