//! Reaching the API server: the kubeconfig (file, context, namespace) or the in-cluster
//! service account, and a first call that tells an unreachable or unauthorised server apart
//! from everything later, so `adze run` can stop before creating anything.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// How long the first call may take before the server counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to find the cluster (`--kubeconfig`, `--context`, `--namespace`).
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// The kubeconfig file; `$KUBECONFIG` or `~/.kube/config` (or in-cluster) when absent.
    pub kubeconfig: Option<PathBuf>,
    /// The context; the kubeconfig's current context when absent.
    pub context: Option<String>,
    /// The namespace runs go to; the context's namespace (or `default`) when absent.
    pub namespace: Option<String>,
}

/// A client that has answered once.
#[derive(Clone)]
pub struct Cluster {
    /// The client.
    pub client: kube::Client,
    /// The namespace everything is created in.
    pub namespace: String,
    /// The server's URL, for messages.
    pub server: String,
    /// The server's minor version (`32` for v1.32), 0 when it does not say.
    pub minor: u32,
}

impl Cluster {
    /// True when the server runs native sidecars (init containers with `restartPolicy:
    /// Always`), on by default since Kubernetes 1.29.
    pub fn native_sidecars(&self) -> bool {
        self.minor >= 29
    }
}

/// Why the cluster cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The kubeconfig could not be read or has no usable context.
    #[error("cannot use the kubeconfig{}: {message}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Kubeconfig {
        /// The file, when one was named.
        path: Option<PathBuf>,
        /// What is wrong with it.
        message: String,
    },
    /// The server did not answer.
    #[error("the Kubernetes API server {server} is unreachable: {message}")]
    Unreachable {
        /// Its URL.
        server: String,
        /// What the client saw.
        message: String,
    },
    /// The server answered 401 or 403.
    #[error("the Kubernetes API server {server} refused adze's credentials: {message}")]
    Unauthorized {
        /// Its URL.
        server: String,
        /// The server's message.
        message: String,
    },
}

impl ConnectError {
    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            ConnectError::Kubeconfig { .. } => {
                "name a kubeconfig with --kubeconfig FILE (or set KUBECONFIG) and a context with --context NAME"
            }
            ConnectError::Unreachable { .. } => {
                "check that the cluster is running and that the kubeconfig's server address is right (`kubectl cluster-info`)"
            }
            ConnectError::Unauthorized { .. } => {
                "refresh the credentials of the kubeconfig's user, or choose another --context"
            }
        }
    }
}

/// Builds the client and asks the server for its version.
pub async fn connect(options: &ClusterOptions) -> Result<Cluster, ConnectError> {
    let mut config = load_config(options).await?;
    // Names adze in the API server's audit log and metrics (kube-rs sends no User-Agent).
    config.headers.push((
        hyper::header::USER_AGENT,
        hyper::header::HeaderValue::from_static(concat!("adze/", env!("CARGO_PKG_VERSION"))),
    ));
    let server = config.cluster_url.to_string();
    let namespace = options
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::Client::try_from(config).map_err(|e| ConnectError::Unreachable {
        server: server.clone(),
        message: e.to_string(),
    })?;
    let version = match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
        Err(_) => {
            return Err(ConnectError::Unreachable {
                server,
                message: format!("no answer within {}s", PROBE_TIMEOUT.as_secs()),
            })
        }
        Ok(Err(kube::Error::Api(status))) if matches!(status.code, 401 | 403) => {
            return Err(ConnectError::Unauthorized {
                server,
                message: status.message,
            })
        }
        Ok(Err(e)) => {
            return Err(ConnectError::Unreachable {
                server,
                message: e.to_string(),
            })
        }
        Ok(Ok(v)) => v,
    };
    Ok(Cluster {
        client,
        namespace,
        server,
        minor: minor_version(&version.minor),
    })
}

/// The kubeconfig named by the options, or whatever kube-rs infers (kubeconfig, in-cluster).
async fn load_config(options: &ClusterOptions) -> Result<kube::Config, ConnectError> {
    let fail = |message: String| ConnectError::Kubeconfig {
        path: options.kubeconfig.clone(),
        message,
    };
    if options.kubeconfig.is_none() && options.context.is_none() {
        return kube::Config::infer().await.map_err(|e| fail(e.to_string()));
    }
    let kubeconfig = match &options.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| fail(e.to_string()))?;
    let select = KubeConfigOptions {
        context: options.context.clone(),
        ..KubeConfigOptions::default()
    };
    kube::Config::from_custom_kubeconfig(kubeconfig, &select)
        .await
        .map_err(|e| fail(e.to_string()))
}

/// `"32"` and `"32+"` (GKE, EKS) are 32; anything else 0.
fn minor_version(minor: &str) -> u32 {
    minor.trim_end_matches('+').parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_minor_versions_are_read() {
        assert_eq!(minor_version("32"), 32);
        assert_eq!(minor_version("29+"), 29);
        assert_eq!(minor_version(""), 0);
    }

    #[tokio::test]
    async fn a_missing_kubeconfig_names_the_file() {
        let options = ClusterOptions {
            kubeconfig: Some(PathBuf::from("/nonexistent/adze-kubeconfig")),
            ..ClusterOptions::default()
        };
        let Err(e) = connect(&options).await else {
            panic!("connected without a kubeconfig");
        };
        assert!(
            e.to_string().contains("/nonexistent/adze-kubeconfig"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_server_nobody_listens_on_is_unreachable_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        // Port 9 (discard) on loopback: nothing listens there.
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:9'}\n\
             users:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n\
             current-context: x\n",
        )
        .unwrap();
        let options = ClusterOptions {
            kubeconfig: Some(path),
            ..ClusterOptions::default()
        };
        let Err(e) = connect(&options).await else {
            panic!("connected to nothing");
        };
        assert!(matches!(e, ConnectError::Unreachable { .. }), "{e:?}");
        assert!(e.to_string().contains("http://127.0.0.1:9"), "{e}");
    }
}
