//! Making sure every image of a TaskRun is present before anything starts: `--pull
//! always|missing|never`, pull progress, and the `TaskRunImagePullFailed` failure.
//!
//! A local image of the exact name is used as is (DESIGN: images); a missing one is pulled
//! unless the policy forbids it. Images are checked before any container is created, so a
//! bad image never leaves half a TaskRun behind.
//!
//! A digest-pinned image (`repo[:tag]@sha256:…`) is looked up by `repo@digest` only (the
//! engine's repository digests), pulled by that digest, and must carry it afterwards; each
//! image resolves to its content id, which the containers are created from, and to the
//! `imageID` reported in the status ([`image_ref`](super::image_ref)). Content that does not
//! match the digest fails the TaskRun with `TaskRunImagePullFailed` naming both digests.
//!
//! Every pull sends the registry login `docker pull` would send
//! ([`registry_auth`](super::registry_auth)); a pull the registry refuses for want of one, or
//! for a wrong one, says which login was sent, or where none was found, and how to log in.

use bollard::auth::DockerCredentials;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

use super::image_ref::{carries_digest, status_image_id, ImageRef};
use super::retry;
use super::served_digest::served_digest;
use super::task_run::{engine_failure, Failure, TaskRunJob};
use crate::plan::model::StepPlan;
use crate::run::Progress;

/// When images are pulled (`--pull`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Pull every image, even one present locally.
    Always,
    /// Pull only images that are not present locally.
    #[default]
    Missing,
    /// Never pull; a missing image fails the TaskRun.
    Never,
}

impl PullPolicy {
    /// The policy for one container: `--pull always` and `--pull never` hold for the whole
    /// run; under the default (`missing`) the container's `imagePullPolicy` decides, as the
    /// kubelet's does (`IfNotPresent` is `missing`).
    pub fn for_container(self, image_pull_policy: Option<&str>) -> PullPolicy {
        match (self, image_pull_policy) {
            (PullPolicy::Missing, Some("Always")) => PullPolicy::Always,
            (PullPolicy::Missing, Some("Never")) => PullPolicy::Never,
            (policy, _) => policy,
        }
    }

    /// The Kubernetes `imagePullPolicy` meaning the same, for `--pull` under the Kubernetes
    /// executor.
    pub fn image_pull_policy(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::Missing => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

impl std::str::FromStr for PullPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<PullPolicy, String> {
        match s {
            "always" => Ok(PullPolicy::Always),
            "missing" => Ok(PullPolicy::Missing),
            "never" => Ok(PullPolicy::Never),
            other => Err(format!(
                "unknown pull policy \"{other}\": use always, missing or never"
            )),
        }
    }
}

/// What an image name of the TaskRun resolved to, once present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ResolvedImage {
    /// The engine's content id (`sha256:…`): containers are created from exactly this, so a
    /// tag moved or a digest re-resolved after the check cannot change what runs.
    pub id: String,
    /// `status.steps[].imageID` / `status.sidecars[].imageID` for containers of it.
    pub status_id: String,
}

/// `(repository, tag)` for the engine's pull call; without a tag it would pull every tag.
/// A pinned reference is pulled by its digest alone (given as the tag, as the engine accepts).
fn pull_arguments(image: &str, reference: &ImageRef) -> (String, Option<String>) {
    if let Some(digest) = reference.digest() {
        return (reference.repository(), Some(digest.to_owned()));
    }
    match reference.tag() {
        // Without a digest the name ends with `:tag`; the repository keeps its spelling.
        Some(tag) => (
            image[..image.len() - tag.len() - 1].to_owned(),
            Some(tag.to_owned()),
        ),
        None => (image.to_owned(), Some("latest".to_owned())),
    }
}

impl TaskRunJob {
    /// The container as Tekton resolves it (§4.2): a step with `args` but neither `command`
    /// nor `script` runs the image's ENTRYPOINT, or its CMD when ENTRYPOINT is empty, with
    /// those args. Docker alone would replace CMD with the args and run them as the program.
    pub(super) async fn with_image_command(&self, plan: &StepPlan) -> StepPlan {
        if plan.script.is_some() || !plan.command.is_empty() || plan.args.is_empty() {
            return plan.clone();
        }
        let image = self.engine_image(&plan.image);
        let config = retry::idempotent(|| self.docker.inspect_image(&image))
            .await
            .ok()
            .and_then(|i| i.config);
        let Some(config) = config else {
            return plan.clone();
        };
        let command = match config.entrypoint.filter(|e| !e.is_empty()) {
            Some(entrypoint) => entrypoint,
            None => config.cmd.unwrap_or_default(),
        };
        StepPlan {
            command,
            ..plan.clone()
        }
    }

    /// `plan` with its whole program in `command` when it has neither script nor command:
    /// the image's ENTRYPOINT, followed by its CMD unless the step has args (§4.2), as the
    /// entrypoint must be told; `None` when the image's configuration cannot be read or
    /// names no program.
    pub(super) async fn with_program(&self, plan: &StepPlan) -> Option<StepPlan> {
        if plan.script.is_some() || !plan.command.is_empty() {
            return Some(plan.clone());
        }
        let image = self.engine_image(&plan.image);
        let config = retry::idempotent(|| self.docker.inspect_image(&image))
            .await
            .ok()?
            .config?;
        let mut command = config.entrypoint.unwrap_or_default();
        if command.is_empty() || plan.args.is_empty() {
            command.extend(config.cmd.unwrap_or_default());
        }
        (!command.is_empty()).then(|| StepPlan {
            command,
            ..plan.clone()
        })
    }

    /// Checks (and pulls, as the policy says) the image of every step and sidecar, once each,
    /// and records in `images` what each resolved to.
    pub(super) async fn ensure_images(&mut self) -> Result<(), Failure> {
        let containers: Vec<(&str, String, String, PullPolicy)> = self
            .request
            .steps
            .iter()
            .map(|s| ("step", s))
            .chain(self.request.sidecars.iter().map(|s| ("sidecar", s)))
            .map(|(role, plan)| {
                let policy = self
                    .options
                    .pull
                    .for_container(plan.image_pull_policy.as_deref());
                (role, plan.name.clone(), plan.image.clone(), policy)
            })
            .collect();
        for (role, container, image, policy) in containers {
            if self.images.contains_key(&image) {
                continue;
            }
            let resolved = self.ensure_image(role, &container, &image, policy).await?;
            self.images.insert(image, resolved);
        }
        Ok(())
    }

    /// Makes one image present and says what it resolved to; the failure names the first
    /// container that uses it.
    async fn ensure_image(
        &self,
        role: &str,
        container: &str,
        image: &str,
        policy: PullPolicy,
    ) -> Result<ResolvedImage, Failure> {
        let fail = |why: String| {
            (
                "TaskRunImagePullFailed".to_owned(),
                format!(
                    "the {role} \"{container}\" in TaskRun \"{}\" failed to pull the image \"{image}\": {why}",
                    self.request.name
                ),
            )
        };
        let reference = ImageRef::parse(image).map_err(|e| fail(e.to_string()))?;
        // A pinned image is looked up by its digest only: neither its tag nor another image
        // of that repository may stand in for it.
        let lookup = reference.pinned().unwrap_or_else(|| image.to_owned());
        let present = match retry::idempotent(|| self.docker.inspect_image(&lookup)).await {
            Ok(_) => true,
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => false,
            Err(e) => return Err(engine_failure(e)),
        };
        match (policy, present) {
            (PullPolicy::Never, true) | (PullPolicy::Missing, true) => {}
            (PullPolicy::Never, false) if self.options.pull == PullPolicy::Never => {
                return Err(fail(
                    "the image is not present locally and `--pull never` forbids pulling it; \
                     build or load it (`docker pull`, `docker load`), or drop `--pull never`"
                        .into(),
                ))
            }
            (PullPolicy::Never, false) => {
                return Err(fail(
                    "the image is not present locally and the container's imagePullPolicy is \
                     Never (ErrImageNeverPull); build or load it (`docker pull`, `docker load`), \
                     or set imagePullPolicy to IfNotPresent"
                        .into(),
                ))
            }
            (PullPolicy::Always, _) | (PullPolicy::Missing, false) => {
                self.pull(image, &reference).await.map_err(fail)?;
            }
        }
        // Checked rather than trusted: a pull stream can end without an error while the image
        // is absent, and an engine may resolve a digest to other content than it names.
        let inspected = retry::idempotent(|| self.docker.inspect_image(&lookup))
            .await
            .map_err(|e| {
                fail(format!(
                    "the engine finished pulling but has no image \"{lookup}\" ({e})"
                ))
            })?;
        let id = inspected.id.unwrap_or_default();
        let repo_digests = inspected.repo_digests.unwrap_or_default();
        if !carries_digest(&reference, &repo_digests) {
            let received = if repo_digests.is_empty() {
                "no repository digest".to_owned()
            } else {
                format!("only {}", repo_digests.join(", "))
            };
            return Err(fail(format!(
                "the requested digest {} is not the content the engine has: it resolved \
                 \"{lookup}\" to image {id}, which carries {received}; remove that image \
                 (`docker rmi {id}`) and run again, or pin the digest it has",
                reference.digest().unwrap_or_default()
            )));
        }
        Ok(ResolvedImage {
            status_id: status_image_id(&reference, &repo_digests, &id),
            id,
        })
    }

    /// The image a container of `image` is created from: the resolved content id.
    pub(super) fn engine_image(&self, image: &str) -> String {
        self.images
            .get(image)
            .map_or_else(|| image.to_owned(), |r| r.id.clone())
    }

    /// `plan` as its container is created: the image replaced by the content it resolved to.
    pub(super) fn with_resolved_image(&self, plan: &StepPlan) -> StepPlan {
        StepPlan {
            image: self.engine_image(&plan.image),
            ..plan.clone()
        }
    }

    /// `imageID` for a container of `image`; `engine_id` is what the engine reported when
    /// the image was not resolved here.
    pub(super) fn status_image_id(&self, image: &str, engine_id: &str) -> String {
        self.images
            .get(image)
            .map_or_else(|| engine_id.to_owned(), |r| r.status_id.clone())
    }

    /// Pulls one image, reporting the engine's progress; `Err` says why, naming the digest a
    /// registry served when it is not the one a pinned reference asked for.
    async fn pull(&self, image: &str, reference: &ImageRef) -> Result<(), String> {
        let login = self.options.registry_auth.lookup(reference.domain()).await;
        for message in &login.warnings {
            self.options.progress.send(Progress::Warning {
                task_run: Some(self.request.name.clone()),
                message: message.clone(),
            });
        }
        let pulled = self
            .pull_stream(image, reference, login.docker_credentials())
            .await
            .map_err(|why| match login.hint(&why) {
                Some(hint) => format!("{why}; {hint}"),
                None => why,
            });
        if let (Err(why), Some(requested)) = (&pulled, reference.digest()) {
            if let Some(served) = served_digest(&self.docker, reference)
                .await
                .filter(|served| served != requested)
            {
                return Err(format!(
                    "the registry serves content whose digest is {served}, not the requested \
                     {requested} (the engine: {why}); what is stored under that digest was \
                     changed or is corrupt: push the image again, or pin the digest it has now"
                ));
            }
        }
        pulled
    }

    /// The engine's pull, with its progress forwarded; `credentials` are the registry login
    /// the Docker CLI would send.
    async fn pull_stream(
        &self,
        image: &str,
        reference: &ImageRef,
        credentials: Option<DockerCredentials>,
    ) -> Result<(), String> {
        let (from_image, tag) = pull_arguments(image, reference);
        let options = CreateImageOptions {
            from_image: Some(from_image),
            tag,
            ..Default::default()
        };
        let mut stream = self.docker.create_image(Some(options), None, credentials);
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(info) => info,
                Err(DockerError::DockerResponseServerError { message, .. }) => return Err(message),
                Err(DockerError::DockerStreamError { error }) => return Err(error),
                // Not retried: the progress already shown would repeat, and a pull the engine
                // keeps going is not one adze can vouch for.
                Err(e) if retry::is_transient(&e) => {
                    return Err(format!(
                        "the connection to the engine broke off mid-pull ({e}); the image is \
                         not used, and the next run pulls it again"
                    ))
                }
                Err(e) => return Err(e.to_string()),
            };
            if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                return Err(detail);
            }
            let bytes = info.progress_detail.and_then(|p| {
                let current = u64::try_from(p.current?).ok()?;
                let total = u64::try_from(p.total?).ok()?;
                Some((current, total))
            });
            self.options.progress.send(Progress::Pull {
                image: image.to_owned(),
                status: info.status.unwrap_or_default(),
                bytes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_repository_and_tag() {
        let split = |s: &str| pull_arguments(s, &ImageRef::parse(s).unwrap());
        assert_eq!(split("busybox"), ("busybox".into(), Some("latest".into())));
        assert_eq!(split("a/b:1.2"), ("a/b".into(), Some("1.2".into())));
        assert_eq!(
            split("localhost:5000/x/y"),
            ("localhost:5000/x/y".into(), Some("latest".into()))
        );
        assert_eq!(
            split("localhost:5000/x:v"),
            ("localhost:5000/x".into(), Some("v".into()))
        );
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            split(&format!("x:v1@{digest}")),
            ("docker.io/library/x".into(), Some(digest.clone()))
        );
        assert_eq!(
            split(&format!("localhost:5000/x@{digest}")),
            ("localhost:5000/x".into(), Some(digest))
        );
        assert_eq!("never".parse(), Ok(PullPolicy::Never));
        assert!("sometimes".parse::<PullPolicy>().is_err());
        let default = PullPolicy::Missing;
        assert_eq!(default.for_container(Some("Always")), PullPolicy::Always);
        assert_eq!(default.for_container(Some("Never")), PullPolicy::Never);
        assert_eq!(
            default.for_container(Some("IfNotPresent")),
            PullPolicy::Missing
        );
        // And back: each `--pull` is the Kubernetes policy that means the same.
        for policy in ["Always", "IfNotPresent", "Never"] {
            assert_eq!(
                default.for_container(Some(policy)).image_pull_policy(),
                policy
            );
        }
        assert_eq!(
            PullPolicy::Never.for_container(Some("Always")),
            PullPolicy::Never
        );
        assert_eq!(
            PullPolicy::Always.for_container(Some("Never")),
            PullPolicy::Always
        );
    }
}
