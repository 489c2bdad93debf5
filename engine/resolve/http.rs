//! The `http` resolver: a document at an http(s) URL (params `url`, optional
//! `http-username` with `http-password-secret` and `http-password-secret-key`, optional
//! `digest`).
//!
//! # Design
//!
//! One GET over hyper's HTTP/1 client, TLS by rustls with the system's CA roots, inside a
//! current-thread runtime of its own (the [`Resolver`] trait is blocking). Redirects are
//! followed (at most 5, http(s) only); credentials go only to the host the user named.
//! The password comes from a Secret among the loaded documents, as Tekton reads it from
//! the run's namespace.
//!
//! # Invariants
//!
//! - At most `max_bytes` are read: a longer `Content-Length` is refused before the body,
//!   a longer body is cut off and refused.
//! - The whole exchange ends within `timeout`.
//! - `file://` URLs and paths are read only with `--allow-local-resolution`.

use std::sync::Arc;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use super::error::{Reason, ResolveError};
use super::request::ResolveRequest;
use super::resolved::{sha256_digest, Provenance, Resolved};
use super::resolver::{ResolveContext, Resolver};
use super::safety::{self, UrlKind};

/// The `http` resolver.
pub struct HttpResolver;

const MAX_REDIRECTS: usize = 5;

impl Resolver for HttpResolver {
    fn name(&self) -> &'static str {
        "http"
    }

    fn resolve(
        &self,
        request: &ResolveRequest,
        ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        let fail = |param: &str, reason| ResolveError::new(request, Some(param), reason);
        let url = request
            .param("url")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| fail("url", Reason::MissingParam))?;
        if safety::is_option_like(url) {
            return Err(fail("url", Reason::OptionLike(url.into())));
        }
        let auth = credentials(request, ctx)?;
        let digest = request.param("digest").filter(|d| !d.is_empty());
        if let Some(d) = digest {
            if !(d.starts_with("sha256:") || d.starts_with("sha512:")) {
                return Err(fail(
                    "digest",
                    Reason::Invalid(format!("\"{d}\" is not sha256:<hex> or sha512:<hex>")),
                ));
            }
        }
        let bytes = match safety::http_url_kind(url) {
            UrlKind::Remote => {
                get(url, auth.as_deref(), ctx.options).map_err(|reason| fail("url", reason))?
            }
            UrlKind::Local if ctx.options.allow_local => {
                read_local(url, ctx.options.max_bytes).map_err(|reason| fail("url", reason))?
            }
            UrlKind::Local => return Err(fail("url", Reason::LocalRefused(url.into()))),
            UrlKind::Unsupported => {
                return Err(fail(
                    "url",
                    Reason::Invalid(format!("\"{url}\" is not an http or https URL")),
                ))
            }
        };
        if let Some(want) = digest {
            let got = digest_of(want, &bytes);
            if !got.eq_ignore_ascii_case(want) {
                return Err(fail(
                    "digest",
                    Reason::Invalid(format!("the document's digest is {got}, not {want}")),
                ));
            }
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            fail(
                "url",
                Reason::Invalid("the response is not UTF-8 text".into()),
            )
        })?;
        Ok(Resolved {
            source_name: format!("http:{url}"),
            provenance: Provenance {
                resolver: "http".into(),
                params: request.params.clone(),
                source: url.to_string(),
                commit: None,
                digest: Some(sha256_digest(text.as_bytes())),
                cache_hit: false,
            },
            text,
        })
    }
}

fn digest_of(want: &str, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha512};
    if want.starts_with("sha512:") {
        let hash = Sha512::digest(bytes);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha512:{hex}")
    } else {
        sha256_digest(bytes)
    }
}

/// `user:password` from `http-username` and the Secret `http-password-secret` names.
fn credentials(
    request: &ResolveRequest,
    ctx: &ResolveContext<'_>,
) -> Result<Option<String>, ResolveError> {
    let fail = |param: &str, reason| ResolveError::new(request, Some(param), reason);
    let user = request.param("http-username").filter(|u| !u.is_empty());
    let secret = request
        .param("http-password-secret")
        .filter(|s| !s.is_empty());
    let (user, secret) = match (user, secret) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(fail("http-password-secret", Reason::MissingParam)),
        (None, Some(_)) => return Err(fail("http-username", Reason::MissingParam)),
        (Some(u), Some(s)) => (u, s),
    };
    let key = request
        .param("http-password-secret-key")
        .filter(|k| !k.is_empty())
        .unwrap_or("password");
    let found = ctx
        .documents
        .resources
        .iter()
        .find(|r| r.kind == "Secret" && r.name == secret)
        .ok_or_else(|| {
            fail(
                "http-password-secret",
                Reason::NotFound(format!(
                    "no Secret \"{secret}\" among the loaded documents; pass its YAML with -f"
                )),
            )
        })?;
    let password = secret_value(&found.value, key).ok_or_else(|| {
        fail(
            "http-password-secret-key",
            Reason::NotFound(format!("Secret \"{secret}\" has no key \"{key}\"")),
        )
    })?;
    Ok(Some(format!("{user}:{password}")))
}

/// A Secret's value under `key`: `stringData`, else base64 `data`.
fn secret_value(secret: &serde_json::Value, key: &str) -> Option<String> {
    use base64::Engine;
    if let Some(s) = secret["stringData"][key].as_str() {
        return Some(s.to_string());
    }
    let encoded = secret["data"][key].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn read_local(url: &str, max: u64) -> Result<Vec<u8>, Reason> {
    let path = url.strip_prefix("file://").unwrap_or(url);
    let meta = std::fs::metadata(path).map_err(|e| Reason::NotFound(format!("{path}: {e}")))?;
    if meta.len() > max {
        return Err(Reason::TooLarge(max));
    }
    std::fs::read(path).map_err(|e| Reason::NotFound(format!("{path}: {e}")))
}

/// GETs `url`, following redirects, within the options' size and time limits.
fn get(url: &str, auth: Option<&str>, options: &super::ResolveOptions) -> Result<Vec<u8>, Reason> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Reason::Fetch(format!("cannot start an I/O runtime: {e}")))?;
    runtime.block_on(async {
        tokio::time::timeout(options.timeout, follow(url, auth, options.max_bytes))
            .await
            .unwrap_or_else(|_| {
                Err(Reason::Fetch(format!(
                    "GET {url}: no complete answer within {}s",
                    options.timeout.as_secs()
                )))
            })
    })
}

async fn follow(url: &str, auth: Option<&str>, max: u64) -> Result<Vec<u8>, Reason> {
    let first: hyper::Uri = url
        .parse()
        .map_err(|e| Reason::Invalid(format!("\"{url}\" is not a valid URL: {e}")))?;
    let origin_host = first.host().map(str::to_string);
    let mut current = first;
    for _ in 0..=MAX_REDIRECTS {
        // Credentials go only to the host the user named, never to one a redirect names.
        let send_auth = auth.filter(|_| current.host().map(str::to_string) == origin_host);
        let response = once(&current, send_auth).await?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(hyper::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| {
                    Reason::Fetch(format!("GET {current}: {status} without a Location"))
                })?;
            let next = join(&current, location)?;
            if !matches!(next.scheme_str(), Some("http" | "https")) {
                return Err(Reason::Fetch(format!(
                    "GET {current}: redirected to {next}, which is not http(s)"
                )));
            }
            current = next;
            continue;
        }
        if !status.is_success() {
            return Err(Reason::Fetch(format!("GET {current}: {status}")));
        }
        if let Some(len) = response
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|l| l.to_str().ok()?.parse::<u64>().ok())
        {
            if len > max {
                return Err(Reason::TooLarge(max));
            }
        }
        let mut body = response.into_body();
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Reason::Fetch(format!("GET {current}: {e}")))?;
            if let Ok(data) = frame.into_data() {
                if out.len() as u64 + data.len() as u64 > max {
                    return Err(Reason::TooLarge(max));
                }
                out.extend_from_slice(&data);
            }
        }
        return Ok(out);
    }
    Err(Reason::Fetch(format!(
        "GET {url}: more than {MAX_REDIRECTS} redirects"
    )))
}

/// A redirect's `Location` against the URL that sent it.
fn join(base: &hyper::Uri, location: &str) -> Result<hyper::Uri, Reason> {
    let bad = |e: String| Reason::Fetch(format!("bad redirect Location \"{location}\": {e}"));
    if location.contains("://") {
        return location.parse().map_err(|e| bad(format!("{e}")));
    }
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or("");
    let path = if location.starts_with('/') {
        location.to_string()
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{location}")
    };
    format!("{scheme}://{authority}{path}")
        .parse()
        .map_err(|e| bad(format!("{e}")))
}

async fn once(
    uri: &hyper::Uri,
    auth: Option<&str>,
) -> Result<hyper::Response<hyper::body::Incoming>, Reason> {
    let fetch = |e: String| Reason::Fetch(format!("GET {uri}: {e}"));
    let host = uri
        .host()
        .ok_or_else(|| Reason::Invalid(format!("\"{uri}\" has no host")))?;
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let host_bare = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = tokio::net::TcpStream::connect((host_bare, port))
        .await
        .map_err(|e| fetch(e.to_string()))?;
    let path = uri
        .path_and_query()
        .map_or("/".to_string(), |p| p.as_str().to_string());
    let mut builder = hyper::Request::get(path)
        .header(
            hyper::header::HOST,
            uri.authority().map_or(host, |a| a.as_str()),
        )
        .header(
            hyper::header::USER_AGENT,
            concat!("adze/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(auth) = auth {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(auth);
        builder = builder.header(hyper::header::AUTHORIZATION, format!("Basic {token}"));
    }
    let request = builder
        .body(Empty::<Bytes>::new())
        .map_err(|e| fetch(e.to_string()))?;
    if https {
        let config = tls_config().map_err(fetch)?;
        let name = rustls_pki_types::ServerName::try_from(host_bare.to_string())
            .map_err(|e| fetch(e.to_string()))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| fetch(format!("TLS: {e}")))?;
        send(TokioIo::new(tls), request).await.map_err(fetch)
    } else {
        send(TokioIo::new(tcp), request).await.map_err(fetch)
    }
}

async fn send<T>(
    io: T,
    request: hyper::Request<Empty<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())
}

fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}
