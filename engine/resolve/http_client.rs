//! One HTTP GET for every resolver that talks http (http, bundles, hub): https through rustls with
//! the system's roots, plain http only to loopback, a cap on the body, a timeout on the whole
//! exchange, and redirects followed a few times.
//!
//! # Design
//!
//! Registries answer a blob request with a redirect to a storage host, so redirects are
//! followed (at most [`MAX_REDIRECTS`]); a redirect to another origin drops the
//! `Authorization` header, so a registry token never reaches a host the user did not name.
//! The body is read through [`Limited`], so an oversized answer is refused while it streams,
//! before it is held in memory.
//!
//! # Invariants
//!
//! - Plain `http://` is only sent to a loopback address (`127.0.0.0/8`, `::1`, `localhost`)
//!   unless the client was built with `allow_plain_http`; an `https://` origin never
//!   redirects to plain http.
//! - No request outlives its timeout; no body larger than its cap is buffered.

use std::net::IpAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, LOCATION};
use hyper::StatusCode;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use url::Url;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// Why a GET failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The URL does not parse or is not http(s).
    #[error("\"{url}\" is not an http(s) URL")]
    BadUrl {
        /// The URL as given.
        url: String,
    },
    /// Plain http to a host that is not loopback.
    #[error(
        "{url}: plain http is only used for loopback hosts; use https (or allow insecure \
         registries explicitly)"
    )]
    PlainHttpRefused {
        /// The URL refused.
        url: String,
    },
    /// Connecting or talking to the server failed.
    #[error("{url}: {reason}")]
    Connect {
        /// The URL asked.
        url: String,
        /// What failed, as the transport said it.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("{url}: no complete answer within {seconds}s")]
    Timeout {
        /// The URL asked.
        url: String,
        /// The timeout, in seconds.
        seconds: u64,
    },
    /// The body exceeds the cap.
    #[error("{url}: the answer is larger than the {limit}-byte limit; refused")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The cap, in bytes.
        limit: u64,
    },
    /// More redirects than [`MAX_REDIRECTS`], or a redirect without a usable `Location`.
    #[error("{url}: {reason}")]
    Redirect {
        /// The URL that redirected.
        url: String,
        /// What was wrong with the redirect.
        reason: String,
    },
}

/// A complete answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The final URL (after redirects).
    pub url: Url,
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Response {
    /// The value of header `name` as text, when present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A GET client with a timeout and a plain-http policy.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
    allow_plain_http: bool,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .field("allow_plain_http", &self.allow_plain_http)
            .finish()
    }
}

impl HttpClient {
    /// A client whose every GET completes within `timeout`; `allow_plain_http` lets plain
    /// http reach hosts other than loopback.
    pub fn new(timeout: Duration, allow_plain_http: bool) -> HttpClient {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        // Without system roots https cannot verify anyone: every https handshake then fails
        // (and says why), while loopback http keeps working.
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
        {
            Ok(config) => builder.with_tls_config(
                config
                    .with_root_certificates(native_roots())
                    .with_no_client_auth(),
            ),
            // Only an inconsistent crypto provider fails here; the webpki roots of the
            // builder's defaults are then still better than none.
            Err(_) => builder.with_tls_config(
                rustls::ClientConfig::builder_with_protocol_versions(rustls::DEFAULT_VERSIONS)
                    .with_root_certificates(native_roots())
                    .with_no_client_auth(),
            ),
        };
        let connector = builder.https_or_http().enable_http1().wrap_connector(http);
        HttpClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
            allow_plain_http,
        }
    }

    /// GETs `url` with `headers`, following redirects; the body is capped at `limit` bytes.
    /// Any status is returned; only transport failures are errors.
    pub async fn get(
        &self,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
        limit: u64,
    ) -> Result<Response, HttpError> {
        let seconds = self.timeout.as_secs();
        match tokio::time::timeout(self.timeout, self.get_following(url, headers, limit)).await {
            Ok(result) => result,
            Err(_) => Err(HttpError::Timeout {
                url: url.to_string(),
                seconds,
            }),
        }
    }

    async fn get_following(
        &self,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
        limit: u64,
    ) -> Result<Response, HttpError> {
        let mut current = self.checked_url(url)?;
        let origin = current.origin();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = hyper::Request::get(current.as_str());
            for (name, value) in headers {
                // A credential is for the origin the caller named, never for a redirect target.
                if name == AUTHORIZATION && current.origin() != origin {
                    continue;
                }
                request = request.header(name, value);
            }
            let request = request.body(Empty::new()).map_err(|e| HttpError::BadUrl {
                url: format!("{current} ({e})"),
            })?;
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| HttpError::Connect {
                    url: current.to_string(),
                    reason: transport_reason(&e),
                })?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| current.join(l).ok())
                    .ok_or_else(|| HttpError::Redirect {
                        url: current.to_string(),
                        reason: format!("redirect ({status}) without a usable Location"),
                    })?;
                if current.scheme() == "https" && next.scheme() != "https" {
                    return Err(HttpError::Redirect {
                        url: current.to_string(),
                        reason: format!("redirects from https to {next}; refused"),
                    });
                }
                current = self.checked_url(next.as_str())?;
                continue;
            }
            let (parts, body) = response.into_parts();
            let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
            let body = Limited::new(body, limit_usize)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        HttpError::TooLarge {
                            url: current.to_string(),
                            limit,
                        }
                    } else {
                        HttpError::Connect {
                            url: current.to_string(),
                            reason: format!("reading the answer: {e}"),
                        }
                    }
                })?
                .to_bytes();
            return Ok(Response {
                url: current,
                status: parts.status,
                headers: parts.headers,
                body,
            });
        }
        Err(HttpError::Redirect {
            url: url.to_string(),
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// `url` parsed, http(s) only, plain http only where allowed.
    fn checked_url(&self, url: &str) -> Result<Url, HttpError> {
        let parsed = Url::parse(url).map_err(|_| HttpError::BadUrl { url: url.into() })?;
        match parsed.scheme() {
            "https" => Ok(parsed),
            "http" if self.allow_plain_http || is_loopback(&parsed) => Ok(parsed),
            "http" => Err(HttpError::PlainHttpRefused { url: url.into() }),
            _ => Err(HttpError::BadUrl { url: url.into() }),
        }
    }
}

/// Runs `future` to completion on a current-thread runtime of its own, on a thread of its
/// own: the resolvers are called from blocking code, which may itself run on a thread of an
/// async runtime (where starting another runtime would panic).
pub fn block_on<F>(future: F) -> Result<F::Output, String>
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|runtime| runtime.block_on(future))
                    .map_err(|e| format!("cannot start the network runtime: {e}"))
            })
            .join()
            .unwrap_or_else(|_| Err("the network thread stopped unexpectedly".into()))
    })
}

/// True when `url`'s host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// True when `host` (`name[:port]`, `[v6]:port`) is loopback, by the same rule.
pub fn is_loopback_host(host: &str) -> bool {
    Url::parse(&format!("http://{host}/")).is_ok_and(|u| is_loopback(&u))
}

/// The system's trusted roots (an empty store when none can be read), read once per process:
/// a run resolves many references, and the store is hundreds of files.
fn native_roots() -> rustls::RootCertStore {
    static ROOTS: std::sync::OnceLock<rustls::RootCertStore> = std::sync::OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            // Unreadable single files are skipped, as every rustls-native-certs user does.
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            roots
        })
        .clone()
}

/// The innermost cause of a transport error: hyper's outer message ("client error
/// (Connect)") says nothing a user can act on.
fn transport_reason(error: &hyper_util::client::legacy::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback_host("127.0.0.1:5000"));
        assert!(is_loopback_host("127.8.9.1"));
        assert!(is_loopback_host("localhost:8080"));
        assert!(is_loopback_host("[::1]:5000"));
        assert!(!is_loopback_host("10.0.0.1:5000"));
        assert!(!is_loopback_host("registry.example:5000"));
        assert!(!is_loopback_host("localhost.example.com"));
    }

    #[test]
    fn plain_http_is_refused_off_loopback_unless_allowed() {
        let strict = HttpClient::new(Duration::from_secs(1), false);
        assert!(strict.checked_url("http://127.0.0.1:1/v2/").is_ok());
        assert!(strict.checked_url("https://example.com/v2/").is_ok());
        assert_eq!(
            strict.checked_url("http://example.com/v2/"),
            Err(HttpError::PlainHttpRefused {
                url: "http://example.com/v2/".into()
            })
        );
        assert!(matches!(
            strict.checked_url("file:///etc/passwd"),
            Err(HttpError::BadUrl { .. })
        ));
        let lax = HttpClient::new(Duration::from_secs(1), true);
        assert!(lax.checked_url("http://example.com/v2/").is_ok());
    }
}
