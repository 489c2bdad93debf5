//! `securityContext` (the Pod's defaults, the container's overrides) as Docker settings, and
//! the kubelet's `runAsNonRoot` check against the image's user.

use k8s_openapi::api::core::v1::{Container, PodSecurityContext};

/// What a container's security context becomes in Docker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Confinement {
    /// Docker's `user` (`uid[:gid]`, or the image's user with a group); `None`: the image's.
    pub user: Option<String>,
    /// `fsGroup` then `supplementalGroups`.
    pub group_add: Vec<String>,
    /// `privileged`.
    pub privileged: bool,
    /// `readOnlyRootFilesystem`.
    pub read_only_root: bool,
    /// `capabilities.add`.
    pub cap_add: Vec<String>,
    /// `capabilities.drop`.
    pub cap_drop: Vec<String>,
    /// `allowPrivilegeEscalation: false`.
    pub no_new_privileges: bool,
}

/// The confinement of `container` in a Pod with `pod` security defaults, whose image runs as
/// `image_user`; `Err` is the `CreateContainerConfigError` message. `describe` names the Pod
/// as the kubelet does (`name_namespace(uid)`).
pub(super) fn confine(
    pod: Option<&PodSecurityContext>,
    container: &Container,
    image_user: &str,
    describe: &str,
) -> Result<Confinement, String> {
    let own = container.security_context.as_ref();
    let run_as_user = own
        .and_then(|s| s.run_as_user)
        .or(pod.and_then(|p| p.run_as_user));
    let run_as_group = own
        .and_then(|s| s.run_as_group)
        .or(pod.and_then(|p| p.run_as_group));
    let non_root = own
        .and_then(|s| s.run_as_non_root)
        .or(pod.and_then(|p| p.run_as_non_root))
        == Some(true);
    let name = &container.name;
    if non_root {
        match run_as_user {
            Some(0) => {
                return Err(format!(
                    "container's runAsUser breaks non-root policy (pod: \"{describe}\", container: {name})"
                ))
            }
            Some(_) => {}
            None => {
                let user = image_user.split(':').next().unwrap_or_default();
                match user.parse::<i64>() {
                    _ if user.is_empty() || user == "root" => {
                        return Err(format!(
                            "container has runAsNonRoot and image will run as root (pod: \"{describe}\", container: {name})"
                        ))
                    }
                    Ok(0) => {
                        return Err(format!(
                            "container has runAsNonRoot and image will run as root (pod: \"{describe}\", container: {name})"
                        ))
                    }
                    Ok(_) => {}
                    Err(_) => {
                        return Err(format!(
                            "container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is non-root (pod: \"{describe}\", container: {name})"
                        ))
                    }
                }
            }
        }
    }
    let user = match (run_as_user, run_as_group) {
        (Some(uid), Some(gid)) => Some(format!("{uid}:{gid}")),
        (Some(uid), None) => Some(uid.to_string()),
        (None, Some(gid)) => {
            let image = image_user.split(':').next().unwrap_or_default();
            Some(format!(
                "{}:{gid}",
                if image.is_empty() { "0" } else { image }
            ))
        }
        (None, None) => None,
    };
    let group_add = pod
        .and_then(|p| p.fs_group)
        .into_iter()
        .chain(
            pod.and_then(|p| p.supplemental_groups.clone())
                .into_iter()
                .flatten(),
        )
        .map(|g| g.to_string())
        .collect();
    let capabilities = own.and_then(|s| s.capabilities.as_ref());
    Ok(Confinement {
        user,
        group_add,
        privileged: own.and_then(|s| s.privileged) == Some(true),
        read_only_root: own.and_then(|s| s.read_only_root_filesystem) == Some(true),
        cap_add: capabilities.and_then(|c| c.add.clone()).unwrap_or_default(),
        cap_drop: capabilities
            .and_then(|c| c.drop.clone())
            .unwrap_or_default(),
        no_new_privileges: own.and_then(|s| s.allow_privilege_escalation) == Some(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::SecurityContext;

    fn container(sc: SecurityContext) -> Container {
        Container {
            name: "c".into(),
            security_context: Some(sc),
            ..Default::default()
        }
    }

    #[test]
    fn run_as_non_root_is_checked_against_the_image_user() {
        let non_root = container(SecurityContext {
            run_as_non_root: Some(true),
            ..Default::default()
        });
        assert_eq!(
            confine(None, &non_root, "", "p_ns(u)").unwrap_err(),
            "container has runAsNonRoot and image will run as root (pod: \"p_ns(u)\", container: c)"
        );
        assert!(confine(None, &non_root, "1000", "p").is_ok());
        assert!(confine(None, &non_root, "nobody", "p")
            .unwrap_err()
            .contains("non-numeric user (nobody)"));
        let pod = PodSecurityContext {
            run_as_user: Some(0),
            ..Default::default()
        };
        assert!(confine(Some(&pod), &non_root, "1000", "p")
            .unwrap_err()
            .contains("breaks non-root policy"));
    }

    #[test]
    fn users_groups_and_capabilities_follow_pod_defaults_and_overrides() {
        let pod = PodSecurityContext {
            run_as_user: Some(1000),
            run_as_group: Some(3000),
            fs_group: Some(2000),
            supplemental_groups: Some(vec![4000]),
            ..Default::default()
        };
        let c = container(SecurityContext {
            run_as_user: Some(1001),
            read_only_root_filesystem: Some(true),
            ..Default::default()
        });
        let got = confine(Some(&pod), &c, "", "p").unwrap();
        assert_eq!(got.user.as_deref(), Some("1001:3000"));
        assert_eq!(got.group_add, vec!["2000", "4000"]);
        assert!(got.read_only_root);
        let group_only = container(SecurityContext {
            run_as_group: Some(5),
            ..Default::default()
        });
        assert_eq!(
            confine(None, &group_only, "nobody:x", "p")
                .unwrap()
                .user
                .as_deref(),
            Some("nobody:5")
        );
        assert_eq!(
            confine(None, &group_only, "", "p").unwrap().user.as_deref(),
            Some("0:5")
        );
    }
}
