//! HTTPS, mutual TLS, and a certificate renewed on disk while the server runs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::common::pki::Pki;
use crate::scratch;
use crate::server::{fixture, Server};

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn client(ca: &Path, identity: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs(ca) {
        roots.add(c).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(certs(cert), PrivateKeyDer::from_pem_file(key).unwrap())
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// Sends a request over TLS; the server's leaf certificate and the raw answer, or the error.
fn exchange(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    request: &[u8],
) -> Result<(Vec<u8>, String), String> {
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let mut tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    tls.write_all(request).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    // A server may close without close_notify after `Connection: close`; what arrived counts.
    let read = tls.read_to_end(&mut raw);
    if raw.is_empty() {
        read.map_err(|e| e.to_string())?;
    }
    let leaf = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .unwrap_or_default();
    Ok((leaf, String::from_utf8_lossy(&raw).into_owned()))
}

fn post(body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn https_with_client_certificates_and_a_renewal_without_restart() {
    let dir = scratch();
    let pki = Pki::new(dir.path());
    let (cert, key) = pki.issue("server", "first", "serverAuth", 2);
    let (client_cert, client_key) = pki.issue("client", "sender", "clientAuth", 2);
    let server = Server::start(
        &[fixture("filter.yaml")],
        &dir.path().join("s.db"),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--client-ca",
            pki.ca().to_str().unwrap(),
        ],
    );
    assert!(
        server.stderr().contains("on https://"),
        "{}",
        server.stderr()
    );
    let body = r#"{"action":"opened","number":5}"#;
    let mutual = client(&pki.ca(), Some((&client_cert, &client_key)));
    let (leaf, answer) = exchange(server.addr, mutual.clone(), &post(body)).expect("mTLS works");
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert_eq!(leaf, certs(&cert)[0].to_vec());

    // Without a client certificate the handshake is refused and nothing is recorded.
    let anonymous = client(&pki.ca(), None);
    let refused = exchange(server.addr, anonymous, &post(body));
    assert!(
        refused.is_err() || refused.as_ref().is_ok_and(|(_, a)| a.is_empty()),
        "{refused:?}"
    );
    let get = b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let (_, events) = exchange(server.addr, mutual.clone(), get).expect("the API over mTLS");
    assert_eq!(
        events.matches("\"listener\":\"pr-listener\"").count(),
        1,
        "{events}"
    );

    // Renew: a new certificate replaces the files (as a Secret volume swaps them).
    let (renewed, renewed_key) = pki.issue("renewed", "second", "serverAuth", 2);
    std::fs::copy(&renewed_key, dir.path().join("swap.key")).unwrap();
    std::fs::copy(&renewed, dir.path().join("swap.pem")).unwrap();
    std::fs::rename(dir.path().join("swap.key"), &key).unwrap();
    std::fs::rename(dir.path().join("swap.pem"), &cert).unwrap();
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let (leaf, answer) =
            exchange(server.addr, mutual.clone(), &post(body)).expect("still serving");
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
        if leaf == certs(&renewed)[0].to_vec() {
            break;
        }
        assert!(
            Instant::now() < until,
            "the renewed certificate was never served"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        server.stderr().contains("TLS certificate reloaded"),
        "{}",
        server.stderr()
    );
}
