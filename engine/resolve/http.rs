//! The `http` resolver: a document at an http(s) URL (params `url`, optional
//! `http-username` with `http-password-secret` and `http-password-secret-key`, optional
//! `digest`).
//!
//! # Design
//!
//! One GET through the resolvers' [`HttpClient`] (TLS by rustls with the system's CA roots,
//! redirects followed, the body capped while it streams), run to completion on a runtime of
//! its own (the [`Resolver`] trait is blocking); credentials go only to the origin the user
//! named.
//! The password comes from a Secret among the loaded documents, as Tekton reads it from
//! the run's namespace.
//!
//! # Invariants
//!
//! - At most `max_bytes` are read: a longer `Content-Length` is refused before the body,
//!   a longer body is cut off and refused.
//! - The whole exchange ends within `timeout`.
//! - `file://` URLs and paths are read only with `--allow-local-resolution`.

use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION};

use super::error::{Reason, ResolveError};
use super::http_client::{block_on, HttpClient, HttpError};
use super::request::ResolveRequest;
use super::resolved::{sha256_digest, Provenance, Resolved};
use super::resolver::{ResolveContext, Resolver};
use super::safety::{self, UrlKind};

/// The `http` resolver.
pub struct HttpResolver;

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

/// GETs `url`, following redirects, within the options' size and time limits. Plain http
/// may reach any host, as Tekton's http resolver allows; a Basic credential goes only to the
/// origin the user named.
fn get(url: &str, auth: Option<&str>, options: &super::ResolveOptions) -> Result<Vec<u8>, Reason> {
    let http = HttpClient::new(options.timeout, true);
    let headers: Vec<(HeaderName, HeaderValue)> = match auth {
        Some(auth) => {
            use base64::Engine;
            let token = base64::engine::general_purpose::STANDARD.encode(auth);
            let value = HeaderValue::from_str(&format!("Basic {token}"))
                .map_err(|e| Reason::Invalid(format!("the credentials cannot be sent: {e}")))?;
            vec![(AUTHORIZATION, value)]
        }
        None => Vec::new(),
    };
    let response = block_on(http.get(url, &headers, options.max_bytes))
        .map_err(Reason::Fetch)?
        .map_err(|e| match e {
            HttpError::TooLarge { limit, .. } => Reason::TooLarge(limit),
            HttpError::BadUrl { .. } => Reason::Invalid(e.to_string()),
            other => Reason::Fetch(format!("GET {other}")),
        })?;
    if !response.status.is_success() {
        return Err(Reason::Fetch(format!(
            "GET {}: {}",
            response.url, response.status
        )));
    }
    Ok(response.body.to_vec())
}
