//! What the engine enforces on one container beyond its user: the `securityContext` fields
//! Docker can express, and the cpu and memory limits of `computeResources`.
//!
//! Kubernetes gives these to the container runtime; locally Docker's host config carries the
//! same settings, so a step that works under its Pod's restrictions on a cluster meets the
//! same restrictions here (a write to a read-only root, a dropped capability, too much memory).

use k8s_openapi::api::core::v1 as corev1;
use serde::Serialize;

use super::model::StepPlan;
use crate::api::quantity::quantity;
use crate::api::run::ContainerSpecOverride;

/// The restrictions of one container.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Confinement {
    /// `runAsNonRoot`: a container that would run as uid 0 is not started.
    pub run_as_non_root: bool,
    /// `allowPrivilegeEscalation: false`: Docker's `no-new-privileges`.
    pub no_new_privileges: bool,
    /// `capabilities.add`, as Docker names them (`NET_ADMIN`).
    pub cap_add: Vec<String>,
    /// `capabilities.drop` (`ALL` drops every one).
    pub cap_drop: Vec<String>,
    /// `readOnlyRootFilesystem`.
    pub read_only_root_filesystem: bool,
    /// `limits.memory`, in bytes.
    pub memory_bytes: Option<i64>,
    /// `limits.cpu`, in billionths of a CPU.
    pub nano_cpus: Option<i64>,
}

impl Confinement {
    /// Reads a container's `securityContext` and `computeResources`; the pod's
    /// `runAsNonRoot` applies when the container does not say.
    pub fn of(
        security: Option<&corev1::SecurityContext>,
        resources: Option<&corev1::ResourceRequirements>,
    ) -> Confinement {
        let limit = |name: &str| {
            resources
                .and_then(|r| r.limits.as_ref())
                .and_then(|l| l.get(name))
                .map(|q| q.0.as_str())
        };
        let caps = security.and_then(|s| s.capabilities.as_ref());
        Confinement {
            run_as_non_root: security.and_then(|s| s.run_as_non_root) == Some(true),
            no_new_privileges: security.and_then(|s| s.allow_privilege_escalation) == Some(false),
            cap_add: caps
                .and_then(|c| c.add.as_ref())
                .map(|v| v.iter().map(|c| docker_capability(c)).collect())
                .unwrap_or_default(),
            cap_drop: caps
                .and_then(|c| c.drop.as_ref())
                .map(|v| v.iter().map(|c| docker_capability(c)).collect())
                .unwrap_or_default(),
            read_only_root_filesystem: security.and_then(|s| s.read_only_root_filesystem)
                == Some(true),
            memory_bytes: limit("memory").and_then(|q| quantity(q, 1)),
            nano_cpus: limit("cpu").and_then(|q| quantity(q, 1_000_000_000)),
        }
    }
}

/// Applies a run's `stepSpecs` or `sidecarSpecs`: each entry's `computeResources` replaces
/// the named container's, as Tekton does (a later entry for the same name wins).
pub fn apply_overrides(containers: &mut [StepPlan], overrides: &[ContainerSpecOverride]) {
    for o in overrides {
        if let Some(c) = containers.iter_mut().find(|c| c.name == o.name) {
            let resources = o.compute_resources.as_ref();
            let limits = Confinement::of(None, resources);
            c.confinement.memory_bytes = limits.memory_bytes;
            c.confinement.nano_cpus = limits.nano_cpus;
            c.compute_resources = o.compute_resources.clone();
        }
    }
}

/// Kubernetes accepts `CAP_NET_ADMIN` and `NET_ADMIN`; Docker wants the latter.
fn docker_capability(name: &str) -> String {
    name.strip_prefix("CAP_").unwrap_or(name).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_context_and_limits_become_engine_settings() {
        let security: corev1::SecurityContext = serde_json::from_value(serde_json::json!({
            "runAsNonRoot": true,
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": {"add": ["CAP_NET_ADMIN"], "drop": ["ALL"]}
        }))
        .expect("a security context");
        let resources: corev1::ResourceRequirements = serde_json::from_value(serde_json::json!({
            "limits": {"memory": "64Mi", "cpu": "500m"},
            "requests": {"memory": "1Gi"}
        }))
        .expect("resources");
        assert_eq!(
            Confinement::of(Some(&security), Some(&resources)),
            Confinement {
                run_as_non_root: true,
                no_new_privileges: true,
                cap_add: vec!["NET_ADMIN".into()],
                cap_drop: vec!["ALL".into()],
                read_only_root_filesystem: true,
                memory_bytes: Some(64 * 1024 * 1024),
                nano_cpus: Some(500_000_000),
            }
        );
        assert_eq!(Confinement::of(None, None), Confinement::default());
    }

    #[test]
    fn step_specs_replace_the_named_steps_resources() {
        let mut steps = vec![
            StepPlan {
                name: "a".into(),
                confinement: Confinement {
                    memory_bytes: Some(1),
                    run_as_non_root: true,
                    ..Confinement::default()
                },
                ..StepPlan::default()
            },
            StepPlan {
                name: "b".into(),
                ..StepPlan::default()
            },
        ];
        let overrides: Vec<ContainerSpecOverride> = serde_json::from_value(serde_json::json!([
            {"name": "a", "computeResources": {"limits": {"cpu": "2"}}},
            {"name": "missing", "computeResources": {"limits": {"cpu": "1"}}}
        ]))
        .expect("overrides");
        apply_overrides(&mut steps, &overrides);
        assert_eq!(
            steps[0].confinement.memory_bytes, None,
            "replaced, not merged"
        );
        assert_eq!(steps[0].confinement.nano_cpus, Some(2_000_000_000));
        assert!(
            steps[0].confinement.run_as_non_root,
            "security is untouched"
        );
        assert_eq!(steps[1].confinement, Confinement::default());
    }
}
