//! Where Pods on Docker's bridge network reach kube-sim: the bridge's gateway address (the
//! host's side of `docker0`), on which the server also listens when it can, so that a Pod
//! without `hostNetwork` finds the API at `KUBERNETES_SERVICE_HOST` as on a cluster.
//!
//! # Design
//!
//! - The gateway is the bridge network's IPAM `Gateway`, or, as Docker assigns it when none
//!   is configured, the first address of its IPv4 subnet.
//! - Best effort: no engine, no IPv4 bridge, or the port taken on the gateway leaves
//!   bridge Pods without the API (no variables, no token), never a failed start.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// How long the engine gets to describe its bridge before kube-sim starts without it.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// The first host address of an IPv4 subnet (`172.17.0.0/16` → `172.17.0.1`).
fn first_host(subnet: &str) -> Option<Ipv4Addr> {
    let (network, bits) = subnet.split_once('/')?;
    let network: Ipv4Addr = network.parse().ok()?;
    let bits: u32 = bits.parse().ok().filter(|b| *b <= 30)?;
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    Some(Ipv4Addr::from((u32::from(network) & mask) + 1))
}

/// The gateway of the engine's default `bridge` network, if there is an IPv4 one.
pub async fn gateway(docker: &bollard::Docker) -> Option<IpAddr> {
    let lookup = docker.inspect_network("bridge", None);
    let network = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
        .await
        .ok()?
        .ok()?;
    network
        .ipam
        .and_then(|ipam| ipam.config)
        .into_iter()
        .flatten()
        .find_map(|config| {
            let declared = config
                .gateway
                .as_deref()
                .and_then(|g| g.parse::<Ipv4Addr>().ok());
            declared.or_else(|| config.subnet.as_deref().and_then(first_host))
        })
        .map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_is_the_subnets_first_address() {
        assert_eq!(
            first_host("172.17.0.0/16"),
            Some(Ipv4Addr::new(172, 17, 0, 1))
        );
        assert_eq!(
            first_host("10.1.2.128/25"),
            Some(Ipv4Addr::new(10, 1, 2, 129))
        );
        assert_eq!(first_host("fd00::/64"), None);
        assert_eq!(first_host("10.0.0.0/32"), None);
        assert_eq!(first_host("nonsense"), None);
    }
}
