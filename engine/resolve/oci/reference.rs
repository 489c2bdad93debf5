//! OCI image references as the `bundles` resolver reads them:
//! `[registry/]repository[:tag][@digest]`, with Docker Hub's defaults, checked against the
//! distribution grammar before any request is built from them.
//!
//! # Why strict
//!
//! The repository and reference are pasted into request paths (`/v2/<repo>/manifests/<ref>`);
//! a value with `..`, `?`, `#`, spaces or upper case is not a reference and is refused here,
//! so nothing the user wrote can steer a request elsewhere on the registry.

use std::sync::OnceLock;

use regex::Regex;

use crate::resolve::http_client::is_loopback_host;

/// Docker Hub's name in references.
const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's registry API answers.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed, validated OCI reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciReference {
    /// The registry host (and port): `docker.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// The repository inside the registry: `library/alpine`, `tekton/catalog`.
    pub repository: String,
    /// The tag, when written.
    pub tag: Option<String>,
    /// The digest (`sha256:…`), when written; it wins over the tag.
    pub digest: Option<String>,
}

/// Why a reference is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{reference}\" is not an OCI reference: {reason}")]
pub struct ReferenceError {
    /// The text as written.
    pub reference: String,
    /// What is wrong with it.
    pub reason: String,
}

impl OciReference {
    /// Parses and validates `text`.
    pub fn parse(text: &str) -> Result<OciReference, ReferenceError> {
        let fail = |reason: &str| ReferenceError {
            reference: text.to_string(),
            reason: reason.to_string(),
        };
        if text.is_empty() {
            return Err(fail("it is empty"));
        }
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                if !digest_pattern().is_match(digest) {
                    return Err(fail(
                        "the digest after '@' must be `sha256:` and 64 lowercase hex digits \
                         (or `sha512:` and 128)",
                    ));
                }
                (name, Some(digest.to_string()))
            }
            None => (text, None),
        };
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (
                &name[..last_slash + i],
                Some(name[last_slash + i + 1..].to_string()),
            ),
            None => (name, None),
        };
        if let Some(tag) = &tag {
            if !tag_pattern().is_match(tag) {
                return Err(fail(
                    "a tag is 1 to 128 letters, digits, '_', '.' or '-', not starting with \
                     '.' or '-'",
                ));
            }
        }
        let (registry, path) = match repository.split_once('/') {
            // The first component names a registry when it looks like a host: a dot, a
            // port, or `localhost` (Docker's rule).
            Some((first, rest))
                if first.contains(['.', ':']) || first == "localhost" || first.starts_with('[') =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), repository.to_string()),
        };
        if !host_pattern().is_match(&registry) {
            return Err(fail(
                "the registry is not a host name with an optional port",
            ));
        }
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB.to_string()
        } else {
            registry
        };
        if path.is_empty() || !path.split('/').all(|c| component_pattern().is_match(c)) {
            return Err(fail(
                "the repository is lowercase components of letters and digits, separated by \
                 '/' and joined inside by '.', '_', '__' or '-'",
            ));
        }
        let path = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Ok(OciReference {
            registry,
            repository: path,
            tag,
            digest,
        })
    }

    /// What the manifest is asked by: the digest, else the tag, else `latest`.
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// `registry/repository`: the name Tekton's provenance records as the bundle's URI.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The base URL of the registry's API: plain http for loopback registries (as Docker and
    /// go-containerregistry do), https otherwise.
    pub fn api_base(&self) -> String {
        if self.registry == DOCKER_HUB {
            format!("https://{DOCKER_HUB_API}")
        } else if is_loopback_host(&self.registry) {
            format!("http://{}", self.registry)
        } else {
            format!("https://{}", self.registry)
        }
    }
}

impl std::fmt::Display for OciReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// `sha256:<64 hex>` or `sha512:<128 hex>`.
pub fn digest_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$").expect("valid regex")
    })
}

fn tag_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("valid regex"))
}

fn component_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").expect("valid regex")
    })
}

fn host_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(
            r"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]{1,5})?$",
        )
        .expect("valid regex")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:053a6cb9f3711d4527dd0d37ac610e8727ec0288a898d5dfbd79b25bcaa29828";

    #[test]
    fn docker_hub_defaults_are_filled_in() {
        let r = OciReference::parse("alpine").unwrap();
        assert_eq!(r.name(), "docker.io/library/alpine");
        assert_eq!(r.manifest_reference(), "latest");
        assert_eq!(r.api_base(), "https://registry-1.docker.io");
        let r = OciReference::parse("ptasci67/example-oci:v1").unwrap();
        assert_eq!(r.name(), "docker.io/ptasci67/example-oci");
        assert_eq!(r.tag.as_deref(), Some("v1"));
    }

    #[test]
    fn a_digest_wins_over_the_tag() {
        let r = OciReference::parse(&format!("gcr.io/tekton/cat:0.1@{DIGEST}")).unwrap();
        assert_eq!(r.registry, "gcr.io");
        assert_eq!(r.repository, "tekton/cat");
        assert_eq!(r.manifest_reference(), DIGEST);
        assert_eq!(r.to_string(), format!("gcr.io/tekton/cat:0.1@{DIGEST}"));
    }

    #[test]
    fn loopback_registries_use_plain_http() {
        let r = OciReference::parse("127.0.0.1:5000/adze/tasks:v1").unwrap();
        assert_eq!(r.api_base(), "http://127.0.0.1:5000");
        let r = OciReference::parse("localhost:5000/adze/tasks").unwrap();
        assert_eq!(r.api_base(), "http://localhost:5000");
        let r = OciReference::parse("registry.example:5000/adze/tasks").unwrap();
        assert_eq!(r.api_base(), "https://registry.example:5000");
    }

    #[test]
    fn values_that_would_steer_a_request_are_refused() {
        for bad in [
            "",
            "127.0.0.1:5000/../v2/x",
            "127.0.0.1:5000/a/b?x=1",
            "127.0.0.1:5000/a/B",
            "127.0.0.1:5000/a/b:-tag",
            "127.0.0.1:5000/a/b@sha256:abc",
            "127.0.0.1:5000/a b",
            "127.0.0.1:5000/a#frag",
            "a/b@md5:0123",
            "host_with_underscore.io/a/b",
        ] {
            assert!(OciReference::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
