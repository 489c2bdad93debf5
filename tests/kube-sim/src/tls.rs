//! The server's TLS identity: a certificate authority made at start and a server certificate it
//! signs, so clients verify the server through the kubeconfig's `certificate-authority-data`.
//!
//! # Design
//!
//! Both keys live only in memory and die with the process: a kube-sim is a throwaway server and
//! a fresh CA per run means no test can ever trust a stale one. The server certificate names
//! `127.0.0.1` (IP SAN, what the kubeconfig's server URL uses), `localhost` (DNS SAN) and
//! the Docker bridge's gateway when kube-sim serves bridge Pods there.
//!
//! # Invariants
//!
//! - The CA certificate is a CA (basic constraints, keyCertSign); the server certificate is an
//!   end entity for serverAuth: rustls (kube-rs) and Go (kubectl) both check this.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Why the TLS identity could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Key or certificate generation failed.
    #[error("generating the TLS certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls rejected the generated certificate or key.
    #[error("configuring TLS: {0}")]
    Configure(#[from] rustls::Error),
}

/// The CA (for the kubeconfig) and the server's rustls configuration.
pub struct Identity {
    /// The CA certificate, PEM: what clients trust.
    pub ca_pem: String,
    /// The server side of TLS, offering HTTP/2 and HTTP/1.1 through ALPN.
    pub server_config: Arc<rustls::ServerConfig>,
}

impl Identity {
    /// Generates a CA and a server certificate for `127.0.0.1`, `localhost` and `extra_ips`
    /// (the Docker bridge's gateway, where bridge Pods reach the server).
    pub fn generate(extra_ips: &[IpAddr]) -> Result<Identity, TlsError> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "kube-sim CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params
            .subject_alt_names
            .extend(extra_ips.iter().copied().map(SanType::IpAddress));
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-sim");
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = params.signed_by(&server_key, &issuer)?;

        let chain: Vec<CertificateDer<'static>> =
            vec![server_cert.der().clone(), ca_cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Identity {
            ca_pem: ca_cert.pem(),
            server_config: Arc::new(config),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_pem_and_the_server_offers_h2() {
        let identity = Identity::generate(&[IpAddr::V4(Ipv4Addr::new(172, 17, 0, 1))]).unwrap();
        assert!(identity.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(identity.server_config.alpn_protocols[0], b"h2");
    }
}
