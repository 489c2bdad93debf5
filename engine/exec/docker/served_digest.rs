//! The digest of what a registry really serves for a pinned reference, to name it when the
//! engine refuses a pull by digest.
//!
//! # Why
//!
//! A registry whose stored manifest was changed (tampering, corruption, a repository
//! rewritten in place) still serves it under the digest it was pushed with. Docker refuses
//! it, but its error names only the digest asked for ("manifest verification failed for
//! digest …"); the TaskRun's failure must name what was received too.
//!
//! # How
//!
//! `GET /v2/<path>/manifests/<digest>` over plain HTTP, and the SHA-256 of the body. Only for
//! registries the engine itself talks plain HTTP to (its insecure registries: 127.0.0.0/8 by
//! default, `insecure-registries` in `daemon.json`), read from the engine's own `info`, so
//! adze never sends a request the engine would have sent over TLS.
//!
//! # Not yet
//!
//! HTTPS registries (adze has no TLS client) and `sha512` digests: the failure then carries
//! the engine's words only.

use std::net::IpAddr;
use std::time::Duration;

use bollard::Docker;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};

use super::image_ref::ImageRef;

/// How long the probe may take: it only improves a message.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Manifests are small; anything bigger is not one.
const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Every manifest kind a pull may meet, so the registry serves the stored bytes unchanged.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// `sha256:…` of the manifest the registry serves for `image`'s digest, when the engine talks
/// plain HTTP to that registry and it answers; `None` otherwise.
pub(super) async fn served_digest(docker: &Docker, image: &ImageRef) -> Option<String> {
    let digest = image.digest()?;
    if !digest.starts_with("sha256:") || !plain_http(docker, image.domain()).await {
        return None;
    }
    let url = format!(
        "http://{}/v2/{}/manifests/{digest}",
        image.domain(),
        image.path()
    );
    tokio::time::timeout(TIMEOUT, fetch_digest(&url))
        .await
        .ok()
        .flatten()
}

/// The SHA-256 of the body of a successful `GET url`.
async fn fetch_digest(url: &str) -> Option<String> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let request = hyper::Request::get(url)
        .header(hyper::header::ACCEPT, ACCEPT)
        .body(Empty::new())
        .ok()?;
    let response = client.request(request).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body = Limited::new(response.into_body(), MAX_MANIFEST_BYTES)
        .collect()
        .await
        .ok()?
        .to_bytes();
    Some(format!("sha256:{:x}", Sha256::digest(&body)))
}

/// True when the engine pulls from `domain` over plain HTTP: marked insecure by name, or
/// resolving to an address in one of its insecure CIDRs.
async fn plain_http(docker: &Docker, domain: &str) -> bool {
    let Some(config) = docker.info().await.ok().and_then(|i| i.registry_config) else {
        return false;
    };
    if let Some(index) = config.index_configs.as_ref().and_then(|c| c.get(domain)) {
        if index.secure == Some(false) {
            return true;
        }
    }
    let cidrs = config.insecure_registry_cidrs.unwrap_or_default();
    let host = domain
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(domain, |(host, _)| host);
    let Ok(addresses) = tokio::net::lookup_host((host, 0)).await else {
        return false;
    };
    addresses
        .map(|a| a.ip())
        .any(|ip| cidrs.iter().any(|c| in_cidr(ip, c)))
}

/// True when `ip` is inside `cidr` (`127.0.0.0/8`, `::1/128`).
fn in_cidr(ip: IpAddr, cidr: &str) -> bool {
    let Some((network, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(network), Ok(bits)) = (network.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_match_cidrs_of_their_family() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_cidr(ip("127.0.0.1"), "127.0.0.0/8"));
        assert!(in_cidr(ip("127.255.0.9"), "127.0.0.0/8"));
        assert!(!in_cidr(ip("128.0.0.1"), "127.0.0.0/8"));
        assert!(in_cidr(ip("10.1.2.3"), "0.0.0.0/0"));
        assert!(in_cidr(ip("::1"), "::1/128"));
        assert!(!in_cidr(ip("::1"), "127.0.0.0/8"));
        assert!(!in_cidr(ip("127.0.0.1"), "127.0.0.0"));
        assert!(!in_cidr(ip("127.0.0.1"), "127.0.0.0/40"));
    }
}
