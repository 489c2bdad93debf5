//! A Pod's identity towards the API server: the ServiceAccount files every container finds
//! at [`MOUNT_PATH`] (`token`, `ca.crt`, `namespace`) and the `KUBERNETES_SERVICE_*`
//! variables, which together are client-go's (and kubectl's) in-cluster configuration.
//!
//! # Design
//!
//! - In Kubernetes the ServiceAccount admission plugin adds a projected `kube-api-access-*`
//!   volume to the Pod spec and the kubelet fills it. Here the kubelet does both and the
//!   stored Pod spec is left as sent: the files are the same, `kubectl get pod -o yaml`
//!   does not show the volume.
//! - Mounted unless `automountServiceAccountToken: false` on the Pod, or on its
//!   ServiceAccount when the Pod does not say; into every container (init containers and
//!   sidecars too) that does not mount something else at that path, read-only.
//! - The token is bound to the Pod (it stops working when the Pod is deleted) and lasts
//!   3607 seconds, as the admission plugin's projection asks.
//! - The variables name the address where the Pod reaches kube-sim ([`PodHost::api_endpoint`]:
//!   `127.0.0.1` for `hostNetwork` Pods); they are set even without the token, as the
//!   kubelet sets the `kubernetes` Service's variables for every Pod.
//!
//! # Not yet
//!
//! - A Pod whose ServiceAccount does not exist runs without the files (Kubernetes refuses
//!   to create it); tokens are not refreshed (a Pod running past an hour holds an expired
//!   token).

use std::fs;
use std::path::Path;

use k8s_openapi::api::core::v1::Pod;

use super::volumes::{HostVolume, VolumeError};
use super::PodHost;

/// Where the files are mounted in every container.
pub const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The key of the files in the Pod's volumes: not a valid volume name, so no volume of the
/// Pod's own can take it.
pub(super) const VOLUME: &str = "kube-sim/kube-api-access";

/// The lifetime the admission plugin's projection asks for.
const EXPIRATION_SECONDS: i64 = 3607;

/// The Pod's namespace.
fn namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("default")
}

/// The Pod's ServiceAccount name (`default` when it names none).
pub(super) fn account_name(pod: &Pod) -> &str {
    let spec = pod.spec.as_ref();
    spec.and_then(|s| s.service_account_name.as_deref())
        .or_else(|| spec.and_then(|s| s.service_account.as_deref()))
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
}

fn host_network(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.host_network) == Some(true)
}

/// Writes the ServiceAccount files for `pod` under `root`, or `None` when nothing is to be
/// mounted (opted out, no such account, or no way to reach the API server).
pub(super) fn prepare(
    pod: &Pod,
    root: &Path,
    host: &dyn PodHost,
) -> Result<Option<HostVolume>, VolumeError> {
    let namespace = namespace(pod);
    let Some(account) = host.service_account(namespace, account_name(pod)) else {
        return Ok(None);
    };
    let on_pod = pod
        .spec
        .as_ref()
        .and_then(|s| s.automount_service_account_token);
    if on_pod.or(account.automount_service_account_token) == Some(false) {
        return Ok(None);
    }
    let Some(endpoint) = host.api_endpoint(host_network(pod)) else {
        return Ok(None);
    };
    let failed = |why: String| {
        VolumeError::Mount(format!(
            "MountVolume.SetUp failed for volume \"kube-api-access\" : {why}"
        ))
    };
    let Some(token) = host
        .service_account_token(pod, None, EXPIRATION_SECONDS)
        .map_err(|e| failed(format!("failed to fetch token: {e}")))?
    else {
        return Ok(None);
    };
    let dir = root.join(".kube-api-access");
    let io = |e: std::io::Error| failed(e.to_string());
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(io)?;
    }
    fs::create_dir_all(&dir).map_err(io)?;
    for (file, contents) in [
        ("token", token.as_str()),
        ("ca.crt", endpoint.ca_pem.as_str()),
        ("namespace", namespace),
    ] {
        fs::write(dir.join(file), contents).map_err(io)?;
    }
    Ok(Some(HostVolume {
        path: dir,
        read_only: true,
    }))
}

/// The variables of the `kubernetes` Service, pointing at kube-sim, for every container of
/// `pod` that can reach it.
pub(super) fn env(pod: &Pod, host: &dyn PodHost) -> Vec<(String, String)> {
    let Some(endpoint) = host.api_endpoint(host_network(pod)) else {
        return Vec::new();
    };
    let (ip, port) = (endpoint.host, endpoint.port);
    let url = format!("tcp://{ip}:{port}");
    vec![
        ("KUBERNETES_SERVICE_HOST".to_owned(), ip.clone()),
        ("KUBERNETES_SERVICE_PORT".to_owned(), port.to_string()),
        ("KUBERNETES_SERVICE_PORT_HTTPS".to_owned(), port.to_string()),
        ("KUBERNETES_PORT".to_owned(), url.clone()),
        (format!("KUBERNETES_PORT_{port}_TCP"), url),
        (
            format!("KUBERNETES_PORT_{port}_TCP_PROTO"),
            "tcp".to_owned(),
        ),
        (format!("KUBERNETES_PORT_{port}_TCP_PORT"), port.to_string()),
        (format!("KUBERNETES_PORT_{port}_TCP_ADDR"), ip),
    ]
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{ConfigMap, PodSpec, PodStatus, Secret, ServiceAccount};

    use super::super::ApiEndpoint;
    use super::*;

    /// A host with ServiceAccount `ci/builder` (automount as given) and `ci/default`.
    struct Host {
        automount: Option<bool>,
    }

    impl PodHost for Host {
        fn config_map(&self, _: &str, _: &str) -> Option<ConfigMap> {
            None
        }
        fn secret(&self, _: &str, _: &str) -> Option<Secret> {
            None
        }
        fn claim_dir(&self, _: &str, _: &str) -> Option<std::path::PathBuf> {
            None
        }
        fn set_pod_status(&self, _: &str, _: &str, _: PodStatus) {}
        fn service_account(&self, namespace: &str, name: &str) -> Option<ServiceAccount> {
            let automount = if name == "builder" {
                self.automount
            } else {
                None
            };
            (namespace == "ci" && ["builder", "default"].contains(&name)).then(|| ServiceAccount {
                automount_service_account_token: automount,
                ..ServiceAccount::default()
            })
        }
        fn service_account_token(
            &self,
            pod: &Pod,
            _: Option<&str>,
            _: i64,
        ) -> Result<Option<String>, String> {
            Ok(Some(format!("token-of-{}", account_name(pod))))
        }
        fn api_endpoint(&self, host_network: bool) -> Option<ApiEndpoint> {
            host_network.then(|| ApiEndpoint {
                host: "127.0.0.1".into(),
                port: 6443,
                ca_pem: "CA".into(),
            })
        }
    }

    fn pod(account: Option<&str>, automount: Option<bool>, host_network: bool) -> Pod {
        Pod {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                namespace: Some("ci".into()),
                name: Some("p".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                service_account_name: account.map(str::to_owned),
                automount_service_account_token: automount,
                host_network: Some(host_network),
                ..PodSpec::default()
            }),
            ..Pod::default()
        }
    }

    #[test]
    fn the_files_follow_the_pod_and_its_account() {
        let root = tempfile::tempdir().unwrap();
        let mounted = |pod: &Pod, automount: Option<bool>| {
            prepare(pod, root.path(), &Host { automount })
                .unwrap()
                .map(|v| fs::read_to_string(v.path.join("token")).unwrap())
        };
        assert_eq!(
            mounted(&pod(None, None, true), None).as_deref(),
            Some("token-of-default")
        );
        let volume = prepare(
            &pod(None, None, true),
            root.path(),
            &Host { automount: None },
        )
        .unwrap()
        .unwrap();
        assert!(volume.read_only);
        assert_eq!(
            fs::read_to_string(volume.path.join("ca.crt")).unwrap(),
            "CA"
        );
        assert_eq!(
            fs::read_to_string(volume.path.join("namespace")).unwrap(),
            "ci"
        );
        assert_eq!(
            mounted(&pod(Some("builder"), None, true), None).as_deref(),
            Some("token-of-builder")
        );
        // The account opts out; the Pod may opt back in, or out on its own.
        assert_eq!(
            mounted(&pod(Some("builder"), None, true), Some(false)),
            None
        );
        assert!(mounted(&pod(Some("builder"), Some(true), true), Some(false)).is_some());
        assert_eq!(
            mounted(&pod(Some("builder"), Some(false), true), None),
            None
        );
        // No such account, or no way to reach the API server: nothing.
        assert_eq!(mounted(&pod(Some("ghost"), None, true), None), None);
        assert_eq!(mounted(&pod(None, None, false), None), None);
    }

    #[test]
    fn the_service_variables_name_the_endpoint() {
        let host = Host { automount: None };
        let env = env(&pod(None, Some(false), true), &host);
        assert!(env.contains(&("KUBERNETES_SERVICE_HOST".into(), "127.0.0.1".into())));
        assert!(env.contains(&("KUBERNETES_SERVICE_PORT".into(), "6443".into())));
        assert!(env.contains(&("KUBERNETES_PORT_6443_TCP_ADDR".into(), "127.0.0.1".into())));
        assert!(super::env(&pod(None, None, false), &host).is_empty());
    }
}
