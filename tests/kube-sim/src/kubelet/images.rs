//! Making a container's image present as its `imagePullPolicy` says, and what the status
//! reports about it (`imageID`).
//!
//! # Design
//!
//! - `Never`: the image must be present (`ErrImageNeverPull`).
//! - `IfNotPresent`, and `Always` too: a present image is used as is, an absent one is pulled
//!   (`ErrImagePull` when that fails). kube-sim never refreshes a present image: the test
//!   images are local builds under public names (`mirror.gcr.io/busybox:latest`), and a pull
//!   would replace them or fail offline. The default policy (`Always` for `:latest`) therefore
//!   behaves like `IfNotPresent`.

use bollard::errors::Error as DockerError;
use bollard::query_parameters::CreateImageOptions;
use bollard::Docker;
use futures_util::StreamExt;

/// An image present in the engine.
#[derive(Debug, Clone)]
pub(super) struct ResolvedImage {
    /// The engine's content id (`sha256:…`); the container is created from exactly this.
    pub id: String,
    /// `imageID` of the container status.
    pub status_id: String,
    /// The image's configured user (`USER`), empty for root.
    pub user: String,
}

/// Why the image is not there; the container waits with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PullFailure {
    /// `ErrImagePull`, `ErrImageNeverPull` or `InvalidImageName`.
    pub reason: &'static str,
    /// What went wrong, for the waiting state's message.
    pub message: String,
}

/// `(repository, tag-or-digest)` as the engine's pull call takes them; `None` for a name
/// that cannot be an image reference.
fn pull_arguments(image: &str) -> Option<(String, String)> {
    if image.is_empty() || image.contains(char::is_whitespace) {
        return None;
    }
    if let Some((name, digest)) = image.split_once('@') {
        let slash = name.rfind('/').map_or(0, |i| i + 1);
        let repository = match name[slash..].rfind(':') {
            Some(colon) => &name[..slash + colon],
            None => name,
        };
        return (!repository.is_empty() && digest.contains(':'))
            .then(|| (repository.to_owned(), digest.to_owned()));
    }
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(colon) => {
            let (repository, tag) = (&image[..slash + colon], &image[slash + colon + 1..]);
            (!repository.is_empty() && !tag.is_empty())
                .then(|| (repository.to_owned(), tag.to_owned()))
        }
        None => Some((image.to_owned(), "latest".to_owned())),
    }
}

/// The repository part of a reference, as `RepoDigests` spell it (`repo@sha256:…`).
fn repository(image: &str) -> &str {
    let name = image.split_once('@').map_or(image, |(n, _)| n);
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[slash..].rfind(':') {
        Some(colon) => &name[..slash + colon],
        None => name,
    }
}

/// `imageID` as the kubelet reported it over dockershim: the repository digest of the named
/// repository when the image has one, else the content id.
fn status_id(image: &str, repo_digests: &[String], id: &str) -> String {
    let wanted = repository(image);
    let digest = repo_digests
        .iter()
        .find(|d| d.split_once('@').is_some_and(|(r, _)| r == wanted))
        .or_else(|| repo_digests.first());
    match digest {
        Some(d) => format!("docker-pullable://{d}"),
        None => format!("docker://{id}"),
    }
}

/// Makes `image` present as `policy` says and describes it.
pub(super) async fn ensure(
    docker: &Docker,
    image: &str,
    policy: Option<&str>,
) -> Result<ResolvedImage, PullFailure> {
    let Some((repository, tag)) = pull_arguments(image) else {
        return Err(PullFailure {
            reason: "InvalidImageName",
            message: format!("Failed to apply default image tag \"{image}\": couldn't parse image name \"{image}\": invalid reference format"),
        });
    };
    let present = match inspect(docker, image).await {
        Ok(found) => Some(found),
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => None,
        Err(e) => {
            return Err(PullFailure {
                reason: "ErrImagePull",
                message: format!("cannot inspect image \"{image}\": {e}"),
            })
        }
    };
    if let Some(found) = present {
        return Ok(found);
    }
    if policy == Some("Never") {
        return Err(PullFailure {
            reason: "ErrImageNeverPull",
            message: format!(
                "Container image \"{image}\" is not present with pull policy of Never"
            ),
        });
    }
    let failed = |why: String| PullFailure {
        reason: "ErrImagePull",
        message: format!("failed to pull image \"{image}\": {why}"),
    };
    let options = CreateImageOptions {
        from_image: Some(repository),
        tag: Some(tag),
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(message) = info.error_detail.and_then(|d| d.message) {
                    return Err(failed(message));
                }
            }
            Err(DockerError::DockerResponseServerError { message, .. }) => {
                return Err(failed(message))
            }
            Err(DockerError::DockerStreamError { error }) => return Err(failed(error)),
            Err(e) => return Err(failed(e.to_string())),
        }
    }
    inspect(docker, image).await.map_err(|e| {
        failed(format!(
            "the engine finished pulling but has no such image ({e})"
        ))
    })
}

async fn inspect(docker: &Docker, image: &str) -> Result<ResolvedImage, DockerError> {
    let found = docker.inspect_image(image).await?;
    let id = found.id.unwrap_or_default();
    let repo_digests = found.repo_digests.unwrap_or_default();
    Ok(ResolvedImage {
        status_id: status_id(image, &repo_digests, &id),
        user: found.config.and_then(|c| c.user).unwrap_or_default(),
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_for_the_pull_call() {
        let split = |s: &str| pull_arguments(s).map(|(r, t)| format!("{r} {t}"));
        assert_eq!(split("busybox").as_deref(), Some("busybox latest"));
        assert_eq!(split("a/b:1").as_deref(), Some("a/b 1"));
        assert_eq!(
            split("127.0.0.1:5000/x").as_deref(),
            Some("127.0.0.1:5000/x latest")
        );
        assert_eq!(
            split("127.0.0.1:5000/x:v").as_deref(),
            Some("127.0.0.1:5000/x v")
        );
        assert_eq!(split("x:v@sha256:ab").as_deref(), Some("x sha256:ab"));
        assert_eq!(split(""), None);
        assert_eq!(split("a b"), None);
        assert_eq!(split(":v"), None);
    }

    #[test]
    fn image_ids_prefer_the_named_repository_digest() {
        let digests = vec!["other@sha256:1".to_owned(), "a/b@sha256:2".to_owned()];
        assert_eq!(
            status_id("a/b:v1", &digests, "sha256:9"),
            "docker-pullable://a/b@sha256:2"
        );
        assert_eq!(
            status_id("c", &digests, "sha256:9"),
            "docker-pullable://other@sha256:1"
        );
        assert_eq!(status_id("c", &[], "sha256:9"), "docker://sha256:9");
    }
}
