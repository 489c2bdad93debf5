//! Making sure every image of a TaskRun is present before anything starts: `--pull
//! always|missing|never`, pull progress, and the `TaskRunImagePullFailed` failure.
//!
//! A local image of the exact name is used as is (DESIGN: images); a missing one is pulled
//! unless the policy forbids it. Images are checked before any container is created, so a
//! bad image never leaves half a TaskRun behind.

use bollard::errors::Error as DockerError;
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

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

/// `(repository, tag)` for the engine's pull call; without a tag it would pull every tag.
fn split_reference(image: &str) -> (String, Option<String>) {
    if image.contains('@') {
        return (image.to_owned(), None);
    }
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => (
            image[..name_start + i].to_owned(),
            Some(image[name_start + i + 1..].to_owned()),
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
        let config = self
            .docker
            .inspect_image(&plan.image)
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

    /// The kubelet's `runAsNonRoot` check: why `container` may not start, if it would run as
    /// root (its `runAsUser`, else its image's user, must be a non-zero numeric uid).
    pub(super) async fn root_refusal(&self, plan: &StepPlan, container: &str) -> Option<String> {
        if !self.request.pod.run_as_non_root {
            return None;
        }
        let user = match plan.run_as_user {
            Some(uid) => uid.to_string(),
            None => self
                .docker
                .inspect_image(&plan.image)
                .await
                .ok()
                .and_then(|i| i.config)
                .and_then(|c| c.user)
                .unwrap_or_default(),
        };
        let name = user.split(':').next().unwrap_or_default();
        match name.parse::<u64>() {
            Ok(uid) if uid != 0 => None,
            Ok(_) => Some(format!(
                "container \"{container}\" has runAsNonRoot and image will run as root"
            )),
            Err(_) if name.is_empty() || name == "root" => Some(format!(
                "container \"{container}\" has runAsNonRoot and image will run as root"
            )),
            Err(_) => Some(format!(
                "container \"{container}\" has runAsNonRoot and image has non-numeric user \
                 ({name}), cannot verify user is non-root; set securityContext.runAsUser"
            )),
        }
    }

    /// Checks (and pulls, as the policy says) the image of every step and sidecar, once each.
    pub(super) async fn ensure_images(&self) -> Result<(), Failure> {
        let mut seen: Vec<&str> = Vec::new();
        let containers = self
            .request
            .steps
            .iter()
            .map(|s| ("step", s))
            .chain(self.request.sidecars.iter().map(|s| ("sidecar", s)));
        for (role, plan) in containers {
            if seen.contains(&plan.image.as_str()) {
                continue;
            }
            seen.push(&plan.image);
            let fail = |why: String| {
                (
                    "TaskRunImagePullFailed".to_owned(),
                    format!(
                        "the {role} \"{}\" in TaskRun \"{}\" failed to pull the image \"{}\": {why}",
                        plan.name, self.request.name, plan.image
                    ),
                )
            };
            let present = match self.docker.inspect_image(&plan.image).await {
                Ok(_) => true,
                Err(DockerError::DockerResponseServerError {
                    status_code: 404, ..
                }) => false,
                Err(e) => return Err(engine_failure(e)),
            };
            match (self.options.pull, present) {
                (PullPolicy::Never, true) | (PullPolicy::Missing, true) => {}
                (PullPolicy::Never, false) => {
                    return Err(fail(
                        "the image is not present locally and `--pull never` forbids pulling it; \
                         build or load it (`docker pull`, `docker load`), or drop `--pull never`"
                            .into(),
                    ))
                }
                (PullPolicy::Always, _) | (PullPolicy::Missing, false) => {
                    self.pull(&plan.image).await.map_err(fail)?;
                }
            }
        }
        Ok(())
    }

    /// Pulls one image, reporting the engine's progress; `Err` carries the engine's error.
    async fn pull(&self, image: &str) -> Result<(), String> {
        let (from_image, tag) = split_reference(image);
        let options = CreateImageOptions {
            from_image: Some(from_image),
            tag,
            ..Default::default()
        };
        let mut stream = self.docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(info) => info,
                Err(DockerError::DockerResponseServerError { message, .. }) => return Err(message),
                Err(DockerError::DockerStreamError { error }) => return Err(error),
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
        // The stream can end without an error while the image is still absent (an engine
        // that reports failures only as status text): check rather than trust.
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(()),
            Err(e) => Err(format!(
                "the engine finished pulling but has no such image ({e})"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_repository_and_tag() {
        let split = |s| split_reference(s);
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
        assert_eq!(split("x@sha256:abc"), ("x@sha256:abc".into(), None));
        assert_eq!("never".parse(), Ok(PullPolicy::Never));
        assert!("sometimes".parse::<PullPolicy>().is_err());
    }
}
