//! The API versions each Kubernetes release stopped serving.
//!
//! Source: Kubernetes' Deprecated API Migration Guide,
//! <https://kubernetes.io/docs/reference/using-api/deprecation-guide/> ("Removed APIs by
//! release": v1.16, v1.22, v1.25, v1.26, v1.27, v1.29, v1.32; the guide lists no removal
//! after v1.32), and for PodSecurityPolicy in extensions/v1beta1 the v1.16 announcement
//! <https://kubernetes.io/blog/2019/07/18/api-deprecations-in-1-16/>. A new release's
//! removals are added here when the guide lists them.
//!
//! The preflight of an upgrade asks the cluster whether any of these is still in use
//! (stored objects, clients calling it: the `apiserver_requested_deprecated_apis` metric has
//! the same group, version and resource labels), so every entry names the resource's plural
//! as the API path and that metric spell it.

use serde::Serialize;

use super::upgrade_plan::PlanError;
use super::version::{minor_release, Version};

/// One resource of one API version that a release stopped serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovedApi {
    /// The minor release that stopped serving it (`25` for 1.25).
    pub removed_in: u32,
    /// The API group (`policy`).
    pub group: &'static str,
    /// The version within the group (`v1beta1`).
    pub version: &'static str,
    /// The kind (`PodDisruptionBudget`).
    pub kind: &'static str,
    /// The resource's plural (`poddisruptionbudgets`).
    pub resource: &'static str,
    /// The `group/version` to migrate to; `None` when the API went away with no successor.
    pub replacement: Option<&'static str>,
}

const fn api(
    removed_in: u32,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    resource: &'static str,
    replacement: Option<&'static str>,
) -> RemovedApi {
    RemovedApi {
        removed_in,
        group,
        version,
        kind,
        resource,
        replacement,
    }
}

/// Every removal, by release.
pub const REMOVED: &[RemovedApi] = &[
    api(
        16,
        "extensions",
        "v1beta1",
        "NetworkPolicy",
        "networkpolicies",
        Some("networking.k8s.io/v1"),
    ),
    api(
        16,
        "extensions",
        "v1beta1",
        "PodSecurityPolicy",
        "podsecuritypolicies",
        Some("policy/v1beta1"),
    ),
    api(
        16,
        "extensions",
        "v1beta1",
        "DaemonSet",
        "daemonsets",
        Some("apps/v1"),
    ),
    api(
        16,
        "apps",
        "v1beta2",
        "DaemonSet",
        "daemonsets",
        Some("apps/v1"),
    ),
    api(
        16,
        "extensions",
        "v1beta1",
        "Deployment",
        "deployments",
        Some("apps/v1"),
    ),
    api(
        16,
        "apps",
        "v1beta1",
        "Deployment",
        "deployments",
        Some("apps/v1"),
    ),
    api(
        16,
        "apps",
        "v1beta2",
        "Deployment",
        "deployments",
        Some("apps/v1"),
    ),
    api(
        16,
        "apps",
        "v1beta1",
        "StatefulSet",
        "statefulsets",
        Some("apps/v1"),
    ),
    api(
        16,
        "apps",
        "v1beta2",
        "StatefulSet",
        "statefulsets",
        Some("apps/v1"),
    ),
    api(
        16,
        "extensions",
        "v1beta1",
        "ReplicaSet",
        "replicasets",
        Some("apps/v1"),
    ),
    api(
        16,
        "apps",
        "v1beta1",
        "ReplicaSet",
        "replicasets",
        Some("apps/v1"),
    ),
    api(
        16,
        "apps",
        "v1beta2",
        "ReplicaSet",
        "replicasets",
        Some("apps/v1"),
    ),
    api(
        22,
        "admissionregistration.k8s.io",
        "v1beta1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        Some("admissionregistration.k8s.io/v1"),
    ),
    api(
        22,
        "admissionregistration.k8s.io",
        "v1beta1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        Some("admissionregistration.k8s.io/v1"),
    ),
    api(
        22,
        "apiextensions.k8s.io",
        "v1beta1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        Some("apiextensions.k8s.io/v1"),
    ),
    api(
        22,
        "apiregistration.k8s.io",
        "v1beta1",
        "APIService",
        "apiservices",
        Some("apiregistration.k8s.io/v1"),
    ),
    api(
        22,
        "authentication.k8s.io",
        "v1beta1",
        "TokenReview",
        "tokenreviews",
        Some("authentication.k8s.io/v1"),
    ),
    api(
        22,
        "authorization.k8s.io",
        "v1beta1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        Some("authorization.k8s.io/v1"),
    ),
    api(
        22,
        "authorization.k8s.io",
        "v1beta1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        Some("authorization.k8s.io/v1"),
    ),
    api(
        22,
        "authorization.k8s.io",
        "v1beta1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        Some("authorization.k8s.io/v1"),
    ),
    api(
        22,
        "certificates.k8s.io",
        "v1beta1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        Some("certificates.k8s.io/v1"),
    ),
    api(
        22,
        "coordination.k8s.io",
        "v1beta1",
        "Lease",
        "leases",
        Some("coordination.k8s.io/v1"),
    ),
    api(
        22,
        "extensions",
        "v1beta1",
        "Ingress",
        "ingresses",
        Some("networking.k8s.io/v1"),
    ),
    api(
        22,
        "networking.k8s.io",
        "v1beta1",
        "Ingress",
        "ingresses",
        Some("networking.k8s.io/v1"),
    ),
    api(
        22,
        "networking.k8s.io",
        "v1beta1",
        "IngressClass",
        "ingressclasses",
        Some("networking.k8s.io/v1"),
    ),
    api(
        22,
        "rbac.authorization.k8s.io",
        "v1beta1",
        "ClusterRole",
        "clusterroles",
        Some("rbac.authorization.k8s.io/v1"),
    ),
    api(
        22,
        "rbac.authorization.k8s.io",
        "v1beta1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        Some("rbac.authorization.k8s.io/v1"),
    ),
    api(
        22,
        "rbac.authorization.k8s.io",
        "v1beta1",
        "Role",
        "roles",
        Some("rbac.authorization.k8s.io/v1"),
    ),
    api(
        22,
        "rbac.authorization.k8s.io",
        "v1beta1",
        "RoleBinding",
        "rolebindings",
        Some("rbac.authorization.k8s.io/v1"),
    ),
    api(
        22,
        "scheduling.k8s.io",
        "v1beta1",
        "PriorityClass",
        "priorityclasses",
        Some("scheduling.k8s.io/v1"),
    ),
    api(
        22,
        "storage.k8s.io",
        "v1beta1",
        "CSIDriver",
        "csidrivers",
        Some("storage.k8s.io/v1"),
    ),
    api(
        22,
        "storage.k8s.io",
        "v1beta1",
        "CSINode",
        "csinodes",
        Some("storage.k8s.io/v1"),
    ),
    api(
        22,
        "storage.k8s.io",
        "v1beta1",
        "StorageClass",
        "storageclasses",
        Some("storage.k8s.io/v1"),
    ),
    api(
        22,
        "storage.k8s.io",
        "v1beta1",
        "VolumeAttachment",
        "volumeattachments",
        Some("storage.k8s.io/v1"),
    ),
    api(
        25,
        "batch",
        "v1beta1",
        "CronJob",
        "cronjobs",
        Some("batch/v1"),
    ),
    api(
        25,
        "discovery.k8s.io",
        "v1beta1",
        "EndpointSlice",
        "endpointslices",
        Some("discovery.k8s.io/v1"),
    ),
    api(
        25,
        "events.k8s.io",
        "v1beta1",
        "Event",
        "events",
        Some("events.k8s.io/v1"),
    ),
    api(
        25,
        "autoscaling",
        "v2beta1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        Some("autoscaling/v2"),
    ),
    api(
        25,
        "policy",
        "v1beta1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        Some("policy/v1"),
    ),
    // Removed with no successor: Pod Security Admission replaces the policy mechanism.
    api(
        25,
        "policy",
        "v1beta1",
        "PodSecurityPolicy",
        "podsecuritypolicies",
        None,
    ),
    api(
        25,
        "node.k8s.io",
        "v1beta1",
        "RuntimeClass",
        "runtimeclasses",
        Some("node.k8s.io/v1"),
    ),
    api(
        26,
        "flowcontrol.apiserver.k8s.io",
        "v1beta1",
        "FlowSchema",
        "flowschemas",
        Some("flowcontrol.apiserver.k8s.io/v1"),
    ),
    api(
        26,
        "flowcontrol.apiserver.k8s.io",
        "v1beta1",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        Some("flowcontrol.apiserver.k8s.io/v1"),
    ),
    api(
        26,
        "autoscaling",
        "v2beta2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        Some("autoscaling/v2"),
    ),
    api(
        27,
        "storage.k8s.io",
        "v1beta1",
        "CSIStorageCapacity",
        "csistoragecapacities",
        Some("storage.k8s.io/v1"),
    ),
    api(
        29,
        "flowcontrol.apiserver.k8s.io",
        "v1beta2",
        "FlowSchema",
        "flowschemas",
        Some("flowcontrol.apiserver.k8s.io/v1"),
    ),
    api(
        29,
        "flowcontrol.apiserver.k8s.io",
        "v1beta2",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        Some("flowcontrol.apiserver.k8s.io/v1"),
    ),
    api(
        32,
        "flowcontrol.apiserver.k8s.io",
        "v1beta3",
        "FlowSchema",
        "flowschemas",
        Some("flowcontrol.apiserver.k8s.io/v1"),
    ),
    api(
        32,
        "flowcontrol.apiserver.k8s.io",
        "v1beta3",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        Some("flowcontrol.apiserver.k8s.io/v1"),
    ),
];

/// An entry as `-o json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonRemovedApi {
    /// The release that stopped serving it (`1.25`).
    pub removed_in: String,
    /// `group/version` (`policy/v1beta1`).
    pub group_version: String,
    /// The group.
    pub group: &'static str,
    /// The version.
    pub version: &'static str,
    /// The kind.
    pub kind: &'static str,
    /// The resource's plural.
    pub resource: &'static str,
    /// The `group/version` to migrate to, or null.
    pub replacement: Option<&'static str>,
}

/// The `-o json` document of `adze kube removed-apis`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removals {
    /// The version upgraded from, as given.
    pub from: String,
    /// The version upgraded to, as given.
    pub to: String,
    /// What the releases after `from` up to and including `to` stopped serving.
    pub removed: Vec<JsonRemovedApi>,
}

impl RemovedApi {
    /// `group/version`.
    pub fn group_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    fn json(&self) -> JsonRemovedApi {
        JsonRemovedApi {
            removed_in: minor_release(self.removed_in),
            group_version: self.group_version(),
            group: self.group,
            version: self.version,
            kind: self.kind,
            resource: self.resource,
            replacement: self.replacement,
        }
    }
}

/// What an upgrade from `from` to `to` loses: the removals of every release after `from`'s
/// minor up to and including `to`'s. A downgrade or an unparsable version is refused as
/// `upgrade-plan` refuses it.
pub fn removed_between(from: &str, to: &str) -> Result<Removals, PlanError> {
    let plan = super::upgrade_plan::plan(from, to, None)?;
    // The plan parsed both; their minors bound the releases crossed.
    let minor = |text: &str| Version::parse(text).map_or(0, |v| v.minor);
    let (low, high) = (minor(&plan.from), minor(&plan.to));
    Ok(Removals {
        removed: REMOVED
            .iter()
            .filter(|r| r.removed_in > low && r.removed_in <= high)
            .map(RemovedApi::json)
            .collect(),
        from: plan.from,
        to: plan.to,
    })
}

/// The text output: one line per removed resource, `RELEASE  GROUP/VERSION  KIND (resource)
/// -> REPLACEMENT`, columns aligned.
pub fn render_text(removals: &Removals) -> String {
    let rows: Vec<[String; 3]> = removals
        .removed
        .iter()
        .map(|r| {
            [
                r.removed_in.clone(),
                r.group_version.clone(),
                format!(
                    "{} ({}) -> {}",
                    r.kind,
                    r.resource,
                    r.replacement.unwrap_or("no replacement")
                ),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let (w0, w1) = (width(0), width(1));
    rows.iter()
        .map(|[a, b, c]| format!("{a:<w0$}  {b:<w1$}  {c}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn releases(from: &str, to: &str) -> Vec<String> {
        let mut got: Vec<String> = removed_between(from, to)
            .expect("an upgrade")
            .removed
            .into_iter()
            .map(|r| r.removed_in)
            .collect();
        got.dedup();
        got
    }

    #[test]
    fn the_releases_after_from_up_to_and_including_to_count() {
        assert_eq!(releases("1.24.3", "1.26"), ["1.25", "1.26"]);
        assert_eq!(releases("1.25.0", "1.26"), ["1.26"]);
        assert_eq!(releases("1.28.5", "1.32.1"), ["1.29", "1.32"]);
        assert!(releases("1.29.0", "1.31").is_empty());
        assert!(releases("1.32.0", "1.32.9").is_empty());
    }

    #[test]
    fn entries_are_ordered_by_release_and_well_formed() {
        assert!(REMOVED
            .windows(2)
            .all(|w| w[0].removed_in <= w[1].removed_in));
        for r in REMOVED {
            assert!(
                r.resource.chars().all(|c| c.is_ascii_lowercase()),
                "{r:?}: a resource is a lowercase plural"
            );
            assert!(
                r.kind.starts_with(|c: char| c.is_ascii_uppercase()),
                "{r:?}"
            );
            assert!(r.version.starts_with('v'), "{r:?}");
            if let Some(to) = r.replacement {
                assert_ne!(to, r.group_version(), "{r:?}");
            }
        }
    }

    #[test]
    fn a_downgrade_is_refused_as_the_plan_refuses_it() {
        assert!(matches!(
            removed_between("1.30.0", "1.29"),
            Err(PlanError::Downgrade { .. })
        ));
    }

    #[test]
    fn text_and_json_outputs() {
        let removals = removed_between("1.24.17", "1.26.3").expect("an upgrade");
        insta::assert_snapshot!(render_text(&removals));
        let later = removed_between("v1.31.4", "1.32").expect("an upgrade");
        insta::assert_json_snapshot!(later);
    }
}
