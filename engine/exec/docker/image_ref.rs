//! Image references as the engine and the kubelet read them: `[domain/]path[:tag][@digest]`,
//! normalised the way Docker does (`alpine` is `docker.io/library/alpine`), and the
//! `imageID` Tekton reports for a container.
//!
//! # Why
//!
//! A digest-pinned image (`repo@sha256:…`, `repo:tag@sha256:…`) must be looked up, pulled
//! and run by that digest only: the tag of a `tag@digest` reference is ignored, as Docker,
//! containerd and the kubelet ignore it. And `status.steps[].imageID` is what the kubelet
//! shows on a containerd node: the image's repository digest in fully qualified form
//! (`docker.io/library/alpine@sha256:…`), while Docker's `RepoDigests` use the short form
//! (`alpine@sha256:…`); both are compared in the long form here.
//!
//! # Invariants
//!
//! - [`ImageRef::pinned`] keeps the digest exactly as written; it never becomes a tag lookup.
//! - [`status_image_id`] returns a repository digest only for the repository the step named;
//!   an image without one is reported by the engine's content id (`sha256:…`), as
//!   containerd's CRI does for an image that has no repository digest.

/// What an image name of the TaskRun resolved to, once present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ResolvedImage {
    /// The engine's content id (`sha256:…`): containers are created from exactly this, so a
    /// tag moved or a digest re-resolved after the check cannot change what runs.
    pub id: String,
    /// `status.steps[].imageID` / `status.sidecars[].imageID` for containers of it.
    pub status_id: String,
}

/// Docker Hub's domain in a normalised name.
const DEFAULT_DOMAIN: &str = "docker.io";
/// Docker Hub's historical domain, normalised to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's single-component names (`alpine`).
const OFFICIAL_NAMESPACE: &str = "library/";

/// Why an image reference cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    /// Nothing before `:tag` or `@digest`.
    #[error("the image name is empty; write it as `repository[:tag][@sha256:<64 hex digits>]`")]
    Empty,
    /// The part after `@` is not `<algorithm>:<hex>` of the right length.
    #[error(
        "\"{digest}\" is not an image digest; write it as `sha256:` followed by 64 lowercase \
         hex digits (or `sha512:` and 128)"
    )]
    Digest {
        /// What followed `@`.
        digest: String,
    },
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry host (and port), `docker.io` when none is written.
    domain: String,
    /// The repository path in that registry (`library/alpine`).
    path: String,
    /// The tag, if written.
    tag: Option<String>,
    /// The digest (`sha256:…`), if written.
    digest: Option<String>,
}

impl ImageRef {
    /// Parses `image` the way Docker's reference library splits it.
    pub fn parse(image: &str) -> Result<ImageRef, ImageRefError> {
        let (name, digest) = match image.split_once('@') {
            Some((name, digest)) => {
                if !is_digest(digest) {
                    return Err(ImageRefError::Digest {
                        digest: digest.to_owned(),
                    });
                }
                (name, Some(digest.to_owned()))
            }
            None => (image, None),
        };
        let name_start = name.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name[name_start..].rfind(':') {
            Some(i) => (
                &name[..name_start + i],
                Some(name[name_start + i + 1..].to_owned()),
            ),
            None => (name, None),
        };
        if repository.is_empty() {
            return Err(ImageRefError::Empty);
        }
        let (domain, path) = split_domain(repository);
        Ok(ImageRef {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// The fully qualified repository: `docker.io/library/alpine`, `127.0.0.1:5000/a/b`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The registry host (and port).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path within the registry (`library/alpine`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The digest the reference pins, if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The tag, if written (ignored by the engine when a digest is written too).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// `repository@digest` for a pinned reference: the one name it is looked up, pulled and
    /// reported by (the tag of `repo:tag@digest` dropped, as the engine drops it).
    pub fn pinned(&self) -> Option<String> {
        self.digest
            .as_ref()
            .map(|d| format!("{}@{d}", self.repository()))
    }
}

/// `status.steps[].imageID` for a container of `named`, given the image's `RepoDigests` (in
/// Docker's short form or fully qualified) and the engine's image id: the repository digest
/// the step pinned, else the first one of the repository it named, else the image id.
pub fn status_image_id(named: &ImageRef, repo_digests: &[String], image_id: &str) -> String {
    let ours: Vec<String> = repo_digests
        .iter()
        .filter_map(|d| ImageRef::parse(d).ok())
        .filter(|d| d.domain == named.domain && d.path == named.path)
        .filter_map(|d| d.pinned())
        .collect();
    if let Some(pinned) = named.pinned() {
        if ours.contains(&pinned) {
            return pinned;
        }
    }
    ours.into_iter()
        .next()
        .unwrap_or_else(|| image_id.to_owned())
}

/// True when `named` pins a digest the image carries among its `RepoDigests` (or pins none).
pub fn carries_digest(named: &ImageRef, repo_digests: &[String]) -> bool {
    let Some(pinned) = named.pinned() else {
        return true;
    };
    repo_digests
        .iter()
        .filter_map(|d| ImageRef::parse(d).ok())
        .any(|d| d.pinned().as_ref() == Some(&pinned))
}

/// `(domain, path)` of a repository name, with Docker's defaults filled in.
fn split_domain(repository: &str) -> (String, String) {
    let (domain, path) = match repository.split_once('/') {
        // A first component is a registry host when it looks like one: a dot, a port, or
        // `localhost`; otherwise (`library/alpine`, `bitnami/git`) it is a Docker Hub path.
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first, rest.to_owned())
        }
        _ => (DEFAULT_DOMAIN, repository.to_owned()),
    };
    let domain = if domain == LEGACY_DEFAULT_DOMAIN {
        DEFAULT_DOMAIN
    } else {
        domain
    };
    let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
        format!("{OFFICIAL_NAMESPACE}{path}")
    } else {
        path
    };
    (domain.to_owned(), path)
}

/// `sha256:<64 hex>` or `sha512:<128 hex>`, lowercase, as registries and engines accept.
fn is_digest(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    let length = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == length && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:b057cf4de6436c76a38e0124a45e00cae4c07c67f001437ef9bfcb7d45fa3273";
    const E: &str = "sha256:796dc45df6a11694d688ae906c75868570d7b28d271c662debe5e07423b1ac3a";

    fn parse(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    #[test]
    fn names_are_normalised_as_docker_does() {
        assert_eq!(parse("alpine").repository(), "docker.io/library/alpine");
        assert_eq!(parse("bitnami/git:2").repository(), "docker.io/bitnami/git");
        assert_eq!(
            parse("index.docker.io/alpine").repository(),
            "docker.io/library/alpine"
        );
        assert_eq!(parse("localhost/x").repository(), "localhost/x");
        assert_eq!(
            parse("127.0.0.1:5000/a/b:v1").repository(),
            "127.0.0.1:5000/a/b"
        );
        assert_eq!(parse("127.0.0.1:5000/a/b:v1").tag(), Some("v1"));
        assert_eq!(
            parse("mirror.gcr.io/busybox").repository(),
            "mirror.gcr.io/busybox"
        );
    }

    #[test]
    fn a_digest_pins_the_reference_and_drops_the_tag() {
        let r = parse(&format!("mirror.gcr.io/busybox:1.36@{D}"));
        assert_eq!(r.tag(), Some("1.36"));
        assert_eq!(r.digest(), Some(D));
        assert_eq!(r.pinned().unwrap(), format!("mirror.gcr.io/busybox@{D}"));
        assert_eq!(
            parse(&format!("alpine@{D}")).pinned().unwrap(),
            format!("docker.io/library/alpine@{D}")
        );
        assert_eq!(parse("alpine:3").pinned(), None);
    }

    #[test]
    fn malformed_digests_and_empty_names_are_refused() {
        assert_eq!(
            ImageRef::parse("alpine@sha256:abc"),
            Err(ImageRefError::Digest {
                digest: "sha256:abc".into()
            })
        );
        assert!(ImageRef::parse(&format!("alpine@md5:{}", &D[7..])).is_err());
        assert!(ImageRef::parse(&format!("alpine@{}", D.to_uppercase())).is_err());
        assert_eq!(ImageRef::parse(":v1"), Err(ImageRefError::Empty));
        assert!(ImageRef::parse(&format!("alpine@sha512:{}", "0".repeat(128))).is_ok());
    }

    #[test]
    fn image_id_is_the_named_repository_digest_in_long_form() {
        let digests = vec![format!("alpine@{E}"), format!("alpine@{D}")];
        assert_eq!(
            status_image_id(&parse(&format!("alpine@{D}")), &digests, "sha256:1"),
            format!("docker.io/library/alpine@{D}")
        );
        assert_eq!(
            status_image_id(&parse("alpine:3"), &digests, "sha256:1"),
            format!("docker.io/library/alpine@{E}")
        );
    }

    #[test]
    fn image_id_falls_back_to_the_engine_id_without_a_digest_of_that_repository() {
        let other = vec![format!("127.0.0.1:5000/x@{D}")];
        assert_eq!(
            status_image_id(&parse("mirror.gcr.io/busybox:latest"), &other, E),
            E
        );
        assert_eq!(status_image_id(&parse("busybox"), &[], E), E);
    }

    #[test]
    fn only_the_pinned_digest_is_carried() {
        let named = parse(&format!("127.0.0.1:5000/x:v1@{D}"));
        assert!(carries_digest(&named, &[format!("127.0.0.1:5000/x@{D}")]));
        assert!(!carries_digest(&named, &[format!("127.0.0.1:5000/x@{E}")]));
        assert!(!carries_digest(&named, &[format!("127.0.0.1:5000/y@{D}")]));
        assert!(carries_digest(&parse("x:v1"), &[]));
    }
}
