//! `runAsNonRoot`: the kubelet's check, made before a step's container is created.
//!
//! Kubernetes refuses to start a container that must not run as root when its user is uid 0,
//! or cannot be known to be anything else (a user name the image does not resolve to a
//! number); the Pod then waits in `CreateContainerConfigError` and Tekton fails the TaskRun
//! with that reason. Docker has no such option, so the same decision is made here from the
//! step's `runAsUser` and the image's configured user, with the kubelet's messages.

use super::retry;
use super::task_run::TaskRunJob;
use crate::plan::model::StepPlan;

impl TaskRunJob {
    /// `Err` with the kubelet's message when `step` (the container named `container`) must not
    /// run as root but would.
    pub(super) async fn check_non_root(
        &self,
        step: &StepPlan,
        container: &str,
    ) -> Result<(), String> {
        if !step.confinement.run_as_non_root {
            return Ok(());
        }
        let image_user = match step.run_as_user {
            Some(_) => None,
            None => retry::idempotent(|| self.docker.inspect_image(&step.image))
                .await
                .ok()
                .and_then(|i| i.config)
                .and_then(|c| c.user),
        };
        non_root_violation(step.run_as_user, image_user.as_deref()).map_or(Ok(()), |why| {
            Err(format!("container \"{container}\" {why}"))
        })
    }
}

/// The kubelet's reason to refuse, given the container's `runAsUser` and the image's `USER`.
fn non_root_violation(run_as_user: Option<i64>, image_user: Option<&str>) -> Option<String> {
    if let Some(uid) = run_as_user {
        return (uid == 0).then(|| "has a runAsUser that breaks the non-root policy".to_owned());
    }
    // `USER name:group` names the user first; an empty USER is root.
    let user = image_user.unwrap_or("").split(':').next().unwrap_or("");
    match user.parse::<u32>() {
        Ok(0) => Some("has runAsNonRoot and image will run as root".into()),
        Ok(_) => None,
        Err(_) if user.is_empty() || user == "root" => {
            Some("has runAsNonRoot and image will run as root".into())
        }
        Err(_) => Some(format!(
            "has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is \
             non-root; set securityContext.runAsUser"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubelets_decisions() {
        assert!(non_root_violation(Some(0), None).is_some());
        assert_eq!(non_root_violation(Some(1000), Some("root")), None);
        assert!(non_root_violation(None, None).is_some(), "no USER is root");
        assert!(non_root_violation(None, Some("0:0")).is_some());
        assert_eq!(non_root_violation(None, Some("1000:1000")), None);
        let named = non_root_violation(None, Some("nonroot")).expect("refused");
        assert!(named.contains("non-numeric user (nonroot)"), "{named}");
    }
}
