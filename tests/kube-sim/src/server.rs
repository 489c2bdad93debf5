//! The process: binds the port (and the same port on the Docker bridge's gateway, for
//! Pods without `hostNetwork`: [`crate::bridge`]), makes the TLS identity, writes the
//! kubeconfig, serves HTTPS (HTTP/2 and HTTP/1.1) until told to stop, then has the kubelet
//! remove its containers.
//!
//! # Design
//!
//! Connections are accepted by hand (tokio-rustls, then hyper-util's auto builder) rather than
//! through `axum::serve`, which has no TLS; the axum router is the per-request service.
//! Stopping is: stop accepting, [`Kubelet::shutdown`], remove the state directory, return;
//! open watches simply end with the process.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::cluster::Cluster;
use crate::kubeconfig::{self, KubeconfigError};
use crate::kubelet::{ApiEndpoint, Kubelet, PodHost};
use crate::pod_identity::{Endpoints, IdentityHost};
use crate::routes::{self, AppState};
use crate::store::Store;
use crate::tls::{Identity, TlsError};
use crate::tokens::Tokens;

/// How long a client gets to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why kube-sim could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address is taken or not ours.
    #[error("cannot listen on {address}: {source} (is another kube-sim on that port? use port 0 for a free one)")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TLS setup failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The kubeconfig could not be written.
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    /// The state directory could not be made.
    #[error("creating the state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The audit log could not be opened.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditLogError),
    /// The Docker client could not be configured (e.g. a malformed `DOCKER_HOST`).
    #[error("cannot use the Docker engine: {0} (fix DOCKER_HOST, or pass --no-kubelet to serve the API alone)")]
    Docker(#[from] bollard::errors::Error),
}

/// How to run.
pub struct Options {
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// Where the kubeconfig goes.
    pub kubeconfig: PathBuf,
    /// Serve the API without running Pods.
    pub no_kubelet: bool,
    /// Run Pods without Docker: each container exits 0 at once ([`Kubelet::noop`]).
    pub noop_kubelet: bool,
    /// Record every request here (audit events, one JSON object per line).
    pub audit_log: Option<PathBuf>,
    /// How many changes watches can resume from.
    pub watch_history: usize,
    /// Host state (claims, emptyDirs); a fresh temporary directory when `None`.
    pub state_dir: Option<PathBuf>,
    /// The Pod sandbox image; the kubelet's default when `None`.
    pub sandbox_image: Option<String>,
    /// What `/version` reports at start (and the own Node's kubelet version).
    pub server_version: crate::resources::ServerVersion,
    /// The own node: the kubelet runs the Pods bound to it (unbound Pods are bound to it).
    pub node_name: String,
    /// Start without the tekton.dev CustomResourceDefinitions, as a cluster without Tekton
    /// (the tekton.dev kinds are still served: serving follows the static table).
    pub without_tekton_crds: bool,
}

/// The next connection on `listener`; never, without one.
async fn accept(
    listener: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Runs kube-sim until `stop` resolves; prints `listening on https://…` once serving.
pub async fn run(
    options: Options,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), StartError> {
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|source| StartError::Bind {
            address: options.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| StartError::Bind {
        address: options.listen,
        source,
    })?;
    let docker = if options.no_kubelet || options.noop_kubelet {
        None
    } else {
        Some(bollard::Docker::connect_with_local_defaults()?)
    };
    // Pods on Docker's bridge reach the server on the bridge's gateway, when it can listen
    // there too (a wildcard address already does).
    let gateway = match &docker {
        Some(docker) => crate::bridge::gateway(docker).await,
        None => None,
    };
    let bridge_listener = match gateway {
        Some(ip) if !address.ip().is_unspecified() => {
            TcpListener::bind(SocketAddr::new(ip, address.port()))
                .await
                .ok()
        }
        _ => None,
    };
    let bridge_ip = gateway.filter(|_| bridge_listener.is_some() || address.ip().is_unspecified());
    let identity = Identity::generate(bridge_ip.as_slice())?;
    let instance: String = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let owned_state_dir = options.state_dir.is_none();
    let state_dir = options
        .state_dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("kube-sim-{instance}")));
    std::fs::create_dir_all(&state_dir).map_err(|source| StartError::StateDir {
        path: state_dir.display().to_string(),
        source,
    })?;

    let (store, removed) = Store::new(options.watch_history, state_dir.clone());
    if options.without_tekton_crds {
        store.remove_custom_resource_definitions();
    }
    let store = Arc::new(store);
    let audit = options
        .audit_log
        .as_deref()
        .map(crate::audit::AuditLog::open)
        .transpose()?;
    let tokens = Arc::new(Tokens::default());
    // Pods on the host's network reach the server where it listens (loopback for a wildcard).
    let reachable = if address.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        address.ip()
    };
    let endpoints = Endpoints {
        host_network: ApiEndpoint {
            host: reachable.to_string(),
            port: address.port(),
            ca_pem: identity.ca_pem.clone(),
        },
        bridge: bridge_ip.map(|ip| ApiEndpoint {
            host: ip.to_string(),
            port: address.port(),
            ca_pem: identity.ca_pem.clone(),
        }),
    };
    let pod_host = Arc::new(IdentityHost::new(store.clone(), tokens.clone(), endpoints));
    let host: Arc<dyn PodHost> = pod_host;
    let kubelet = if options.no_kubelet {
        None
    } else if let Some(docker) = docker {
        let kubelet = Kubelet::new(docker, host, instance, state_dir.clone());
        if let Some(image) = &options.sandbox_image {
            kubelet.set_sandbox_image(image);
        }
        Some(kubelet)
    } else {
        Some(Kubelet::noop(host, instance, state_dir.clone()))
    };
    let cluster = Cluster::with_node(store, kubelet.clone(), &options.node_name);
    crate::nodes::register(&cluster, options.server_version);
    crate::version::publish(&cluster, options.server_version);
    tokio::spawn(cluster.clone().collect_garbage(removed));
    tokio::spawn(crate::disruption::run(cluster.clone()));
    // A fresh token per run: a client with a stale kubeconfig is told it is unauthorised.
    let token = uuid::Uuid::new_v4().simple().to_string();
    let router = routes::router(Arc::new(AppState {
        cluster,
        address: address.to_string(),
        token: token.clone(),
        tokens,
        version: options.server_version,
        audit,
    }));

    let server = format!("https://{address}");
    let config = kubeconfig::render(&server, &identity.ca_pem, &token)?;
    kubeconfig::write(&options.kubeconfig, &config)?;
    println!("listening on {server}");

    let acceptor = TlsAcceptor::from(identity.server_config);
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
            accepted = accept(bridge_listener.as_ref()) => accepted,
        };
        let Ok((tcp, _)) = accepted else {
            continue;
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            else {
                return;
            };
            // A client that drops its connection is not an error worth reporting.
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
        });
    }
    drop(listener);
    drop(bridge_listener);
    if let Some(kubelet) = kubelet {
        kubelet.shutdown().await;
    }
    if owned_state_dir {
        let _ = std::fs::remove_dir_all(&state_dir);
    }
    Ok(())
}
