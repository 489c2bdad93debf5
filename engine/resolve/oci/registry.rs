//! A read-only client of one repository on an OCI distribution registry: the manifest of a
//! reference and blobs by digest, each checked against its digest, with the registry's token
//! authentication.
//!
//! # Design
//!
//! Requests go out anonymously first. A `401` with a `Bearer` challenge is answered by asking
//! the challenge's realm for a pull token (with the user's credentials when there are some,
//! anonymous otherwise) and retrying once; a `Basic` challenge is answered with the
//! credentials directly. The token is kept for the following requests to the same
//! repository.
//!
//! # Invariants
//!
//! - A manifest is accepted only if its SHA-256 equals the digest the reference pins (when it
//!   pins one) and the `Docker-Content-Digest` the registry announces (when it announces one).
//! - A blob is accepted only if its size and SHA-256 equal its descriptor's; a descriptor
//!   larger than the cap is refused before the download starts.

use hyper::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use hyper::StatusCode;
use serde::Deserialize;

use super::manifest::{self, Descriptor, Manifest, ManifestError};
use super::reference::OciReference;
use crate::resolve::http_client::{HttpClient, HttpError, Response};

/// Largest manifest accepted (the distribution spec's recommended minimum registries accept).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// Largest token answer accepted.
const MAX_TOKEN_BYTES: u64 = 1024 * 1024;

/// A user name and password for a registry (from a docker config Secret).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why a registry exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The transport failed (connection, timeout, size, redirects).
    #[error("{0}")]
    Http(#[from] HttpError),
    /// The registry answered with an error status.
    #[error("{url}: the registry answered {status}{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Status {
        /// The URL asked.
        url: String,
        /// The status line's code and reason.
        status: String,
        /// The registry's own error message, when it sent one.
        detail: Option<String>,
    },
    /// Credentials were needed and none (or wrong ones) were given.
    #[error(
        "{url}: the registry requires authentication{}",
        if *.had_credentials { " and refused the credentials given" } else { "; name a docker config Secret in the `secret` param" }
    )]
    Unauthorized {
        /// The URL asked.
        url: String,
        /// Whether credentials were sent.
        had_credentials: bool,
    },
    /// The content does not hash to the digest it was asked by or announced with.
    #[error("the {what} served for {expected} hashes to {actual}: the registry's content does not match its digest; refused")]
    DigestMismatch {
        /// `manifest` or `layer`.
        what: &'static str,
        /// The digest asked for or announced.
        expected: String,
        /// The digest of what was received.
        actual: String,
    },
    /// The blob's size differs from its descriptor's.
    #[error("the layer {digest} is {actual} bytes, its manifest says {declared}; refused")]
    SizeMismatch {
        /// The blob's digest.
        digest: String,
        /// The size the manifest declares.
        declared: u64,
        /// The size received.
        actual: u64,
    },
    /// A blob the manifest declares larger than the cap.
    #[error("the layer {digest} is {size} bytes, over the {limit}-byte limit; refused before downloading it")]
    BlobTooLarge {
        /// The blob's digest.
        digest: String,
        /// Its declared size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// A digest algorithm other than sha256.
    #[error("the digest {0} uses an algorithm adze does not verify (only sha256)")]
    UnsupportedDigest(String),
    /// The manifest is not an image manifest.
    #[error("{0}")]
    Manifest(#[from] ManifestError),
}

/// A manifest as served, with the digest it was verified against.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// `sha256:…` of the manifest bytes.
    pub digest: String,
    /// The parsed manifest.
    pub manifest: Manifest,
}

/// A client for one repository of one registry.
#[derive(Debug)]
pub struct Registry {
    http: HttpClient,
    reference: OciReference,
    credentials: Option<Credentials>,
    authorization: Option<HeaderValue>,
}

impl Registry {
    /// A client for `reference`'s repository.
    pub fn new(
        http: HttpClient,
        reference: OciReference,
        credentials: Option<Credentials>,
    ) -> Registry {
        Registry {
            http,
            reference,
            credentials,
            authorization: None,
        }
    }

    /// The manifest `reference` names (its digest, else its tag), verified.
    pub async fn manifest(&mut self) -> Result<FetchedManifest, RegistryError> {
        let url = format!(
            "{}/v2/{}/manifests/{}",
            self.reference.api_base(),
            self.reference.repository,
            self.reference.manifest_reference()
        );
        let accept = (ACCEPT, HeaderValue::from_static(manifest::ACCEPT));
        let response = self.get(&url, Some(accept), MAX_MANIFEST_BYTES).await?;
        let actual = sha256_of(&response.body);
        let expected = self
            .reference
            .digest
            .clone()
            .or_else(|| response.header("docker-content-digest").map(str::to_string));
        if let Some(expected) = expected {
            if !expected.starts_with("sha256:") {
                return Err(RegistryError::UnsupportedDigest(expected));
            }
            if expected != actual {
                return Err(RegistryError::DigestMismatch {
                    what: "manifest",
                    expected,
                    actual,
                });
            }
        }
        let manifest = Manifest::parse(&response.body, response.header("content-type"))?;
        Ok(FetchedManifest {
            digest: actual,
            manifest,
        })
    }

    /// The blob `descriptor` names, refused when larger than `limit`, verified against its
    /// size and digest.
    pub async fn blob(
        &mut self,
        descriptor: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        if !descriptor.digest.starts_with("sha256:") {
            return Err(RegistryError::UnsupportedDigest(descriptor.digest.clone()));
        }
        if descriptor.size > limit {
            return Err(RegistryError::BlobTooLarge {
                digest: descriptor.digest.clone(),
                size: descriptor.size,
                limit,
            });
        }
        let url = format!(
            "{}/v2/{}/blobs/{}",
            self.reference.api_base(),
            self.reference.repository,
            descriptor.digest
        );
        // One byte past the declared size: a longer body is then detected as a size mismatch
        // rather than cut off silently.
        let response = self.get(&url, None, descriptor.size + 1).await;
        let response = match response {
            Err(RegistryError::Http(HttpError::TooLarge { .. })) => {
                return Err(RegistryError::SizeMismatch {
                    digest: descriptor.digest.clone(),
                    declared: descriptor.size,
                    actual: descriptor.size + 1,
                })
            }
            other => other?,
        };
        let actual_size = response.body.len() as u64;
        if actual_size != descriptor.size {
            return Err(RegistryError::SizeMismatch {
                digest: descriptor.digest.clone(),
                declared: descriptor.size,
                actual: actual_size,
            });
        }
        let actual = sha256_of(&response.body);
        if actual != descriptor.digest {
            return Err(RegistryError::DigestMismatch {
                what: "layer",
                expected: descriptor.digest.clone(),
                actual,
            });
        }
        Ok(response.body.to_vec())
    }

    /// GETs `url`, answering one authentication challenge; any non-2xx is an error.
    async fn get(
        &mut self,
        url: &str,
        accept: Option<(HeaderName, HeaderValue)>,
        limit: u64,
    ) -> Result<Response, RegistryError> {
        let mut tried_auth = false;
        loop {
            let mut headers: Vec<(HeaderName, HeaderValue)> = accept.iter().cloned().collect();
            if let Some(auth) = &self.authorization {
                headers.push((AUTHORIZATION, auth.clone()));
            }
            let response = self.http.get(url, &headers, limit).await?;
            if response.status == StatusCode::UNAUTHORIZED && !tried_auth {
                tried_auth = true;
                let challenge = response.header(WWW_AUTHENTICATE.as_str()).unwrap_or("");
                if self.authorize(url, challenge).await? {
                    continue;
                }
            }
            if response.status == StatusCode::UNAUTHORIZED {
                return Err(RegistryError::Unauthorized {
                    url: url.to_string(),
                    had_credentials: self.credentials.is_some(),
                });
            }
            if !response.status.is_success() {
                return Err(RegistryError::Status {
                    url: url.to_string(),
                    status: response.status.to_string(),
                    detail: registry_error_message(&response.body),
                });
            }
            return Ok(response);
        }
    }

    /// Sets the `Authorization` header `challenge` asks for; false when it cannot be met.
    async fn authorize(&mut self, url: &str, challenge: &str) -> Result<bool, RegistryError> {
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            let Some(credentials) = &self.credentials else {
                return Ok(false);
            };
            self.authorization = basic(credentials);
            return Ok(self.authorization.is_some());
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(false);
        }
        let Some(realm) = params.iter().find(|(k, _)| k == "realm").map(|(_, v)| v) else {
            return Ok(false);
        };
        let mut token_url =
            url::Url::parse(realm).map_err(|_| HttpError::BadUrl { url: realm.clone() })?;
        {
            let mut query = token_url.query_pairs_mut();
            if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
                query.append_pair("service", service);
            }
            let scope = params
                .iter()
                .find(|(k, _)| k == "scope")
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| format!("repository:{}:pull", self.reference.repository));
            query.append_pair("scope", &scope);
        }
        let headers: Vec<(HeaderName, HeaderValue)> = self
            .credentials
            .as_ref()
            .and_then(basic)
            .map(|v| (AUTHORIZATION, v))
            .into_iter()
            .collect();
        let response = self
            .http
            .get(token_url.as_str(), &headers, MAX_TOKEN_BYTES)
            .await?;
        if !response.status.is_success() {
            return Err(RegistryError::Unauthorized {
                url: url.to_string(),
                had_credentials: self.credentials.is_some(),
            });
        }
        #[derive(Deserialize)]
        struct Token {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let token: Token =
            serde_json::from_slice(&response.body).map_err(|_| RegistryError::Status {
                url: token_url.to_string(),
                status: response.status.to_string(),
                detail: Some("the token answer is not JSON with a `token`".into()),
            })?;
        let Some(token) = token.token.or(token.access_token) else {
            return Ok(false);
        };
        self.authorization = HeaderValue::from_str(&format!("Bearer {token}")).ok();
        Ok(self.authorization.is_some())
    }
}

/// `Basic base64(user:password)`.
fn basic(credentials: &Credentials) -> Option<HeaderValue> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", credentials.username, credentials.password));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_of(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The scheme and `key="value"` params of a `WWW-Authenticate` challenge.
fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        params.push((key, value.to_string()));
        rest = remainder.trim_start().trim_start_matches(',').trim_start();
    }
    (scheme.to_string(), params)
}

/// The first `message` of a registry's `{"errors":[{"code","message"}]}` body.
fn registry_error_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let errors: Errors = serde_json::from_slice(body).ok()?;
    let first = errors.errors.into_iter().next()?;
    Some(match (first.code.is_empty(), first.message.is_empty()) {
        (false, false) => format!("{}: {}", first.code, first.message),
        (false, true) => first.code,
        _ => first.message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_are_split_into_params() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            params,
            vec![
                ("realm".into(), "https://auth.docker.io/token".into()),
                ("service".into(), "registry.docker.io".into()),
                ("scope".into(), "repository:samalba/my-app:pull,push".into()),
            ]
        );
        let (scheme, params) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(scheme, "Basic");
        assert_eq!(params, vec![("realm".into(), "Registry Realm".into())]);
    }

    #[test]
    fn registry_errors_keep_code_and_message() {
        let body =
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#;
        assert_eq!(
            registry_error_message(body).as_deref(),
            Some("MANIFEST_UNKNOWN: manifest unknown")
        );
        assert_eq!(registry_error_message(b"not json"), None);
    }

    #[test]
    fn credentials_never_print_the_password() {
        let c = Credentials {
            username: "me".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
