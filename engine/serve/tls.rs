//! TLS and mutual TLS for `adze serve`, with certificates reloaded from disk when they change.
//!
//! # Design
//!
//! The current rustls configuration sits behind a lock; every new connection takes the
//! configuration of the moment, so a renewal needs no restart and connections already open
//! keep the certificate they were made with. A watcher compares each file's modification time
//! and size every [`WATCH_INTERVAL`] (Secret volumes renew by swapping a symlink, which
//! changes both) and builds a new configuration; one that does not load (a half-written key)
//! is reported and the previous one stays in use.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// How often the files are looked at.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// The files of a TLS setup.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate chain (leaf first).
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// PEM CA certificates client certificates must chain to (mutual TLS); none: no client
    /// certificate asked for.
    pub client_ca: Option<PathBuf>,
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or parsed.
    #[error("TLS: cannot read {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The files do not make a configuration (key does not match, no certificate, …).
    #[error("TLS: {0}")]
    Config(String),
}

/// The live configuration and the files it came from.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<(Arc<ServerConfig>, Vec<Stamp>)>,
}

/// What a file looked like when it was loaded.
type Stamp = Option<(SystemTime, u64)>;

impl Tls {
    /// Loads the files; fails when they do not make a configuration.
    pub fn load(files: TlsFiles) -> Result<Tls, TlsError> {
        let stamps = stamps(&files);
        let config = build(&files)?;
        Ok(Tls {
            files,
            current: RwLock::new((Arc::new(config), stamps)),
        })
    }

    /// An acceptor with the configuration of the moment.
    pub fn acceptor(&self) -> TlsAcceptor {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        TlsAcceptor::from(current.0.clone())
    }

    /// Reloads when a file changed; returns whether a new configuration is in use.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = stamps(&self.files);
        {
            let current = self.current.read().unwrap_or_else(|p| p.into_inner());
            if current.1 == now {
                return Ok(false);
            }
        }
        let built = build(&self.files);
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        // Stamped even on failure, so a broken file is reported once, not every second.
        current.1 = now;
        current.0 = Arc::new(built?);
        Ok(true)
    }

    /// Watches the files for as long as the runtime runs.
    pub fn watch(self: Arc<Self>) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WATCH_INTERVAL);
            loop {
                tick.tick().await;
                match self.reload_if_changed() {
                    Ok(true) => eprintln!(
                        "adze serve: TLS certificate reloaded from {}",
                        self.files.cert.display()
                    ),
                    Ok(false) => {}
                    Err(e) => eprintln!("adze serve: {e}; still serving the previous certificate"),
                }
            }
        });
    }
}

fn stamps(files: &TlsFiles) -> Vec<Stamp> {
    [
        Some(&files.cert),
        Some(&files.key),
        files.client_ca.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|p| {
        std::fs::metadata(p)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    })
    .collect()
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let file_error = |message: String| TlsError::File {
        path: path.to_path_buf(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(file_error("no PEM certificate in it".into()));
    }
    Ok(certs)
}

fn build(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let certs = certificates(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::File {
        path: files.key.clone(),
        message: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(ca)? {
                roots.add(cert).map_err(|e| TlsError::File {
                    path: ca.clone(),
                    message: e.to_string(),
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::Config(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(format!("the key does not fit the certificate: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
