//! What the kubelet's containers are called and labelled, so that a Pod's containers (and an
//! instance's) can be found again from the engine alone, as dockershim named them.

use std::collections::HashMap;

/// The label naming the kube-sim instance that created a container.
pub const INSTANCE_LABEL: &str = "kube-sim.instance";
/// The label holding the Pod's namespace.
pub const NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
/// The label holding the Pod's name.
pub const POD_NAME_LABEL: &str = "io.kubernetes.pod.name";
/// The label holding the Pod's uid.
pub const POD_UID_LABEL: &str = "io.kubernetes.pod.uid";
/// The label holding the container's name in the Pod (`POD` for the sandbox).
pub const CONTAINER_LABEL: &str = "io.kubernetes.container.name";

/// The name dockershim gave the sandbox's container.
pub const SANDBOX_CONTAINER: &str = "POD";

/// Who a Pod is: the values its containers' names and labels carry.
#[derive(Debug, Clone)]
pub(super) struct PodIdentity {
    /// The kube-sim instance.
    pub instance: String,
    /// The Pod's namespace.
    pub namespace: String,
    /// The Pod's name.
    pub name: String,
    /// The Pod's uid.
    pub uid: String,
}

impl PodIdentity {
    /// `k8s_<container>_<pod>_<namespace>_<uid>_0`, with characters Docker refuses replaced.
    pub fn container_name(&self, container: &str) -> String {
        let name = format!(
            "k8s_{container}_{}_{}_{}_0",
            self.name, self.namespace, self.uid
        );
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    }

    /// The labels of one of the Pod's containers.
    pub fn labels(&self, container: &str) -> HashMap<String, String> {
        [
            (INSTANCE_LABEL, self.instance.as_str()),
            (NAMESPACE_LABEL, self.namespace.as_str()),
            (POD_NAME_LABEL, self.name.as_str()),
            (POD_UID_LABEL, self.uid.as_str()),
            (CONTAINER_LABEL, container),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The engine filter selecting every container of this Pod (of this instance).
    pub fn filter(&self) -> Vec<String> {
        vec![
            format!("{INSTANCE_LABEL}={}", self.instance),
            format!("{POD_UID_LABEL}={}", self.uid),
        ]
    }

    /// The engine filter selecting this Pod's sandbox holder.
    pub fn sandbox_filter(&self) -> Vec<String> {
        let mut labels = self.filter();
        labels.push(format!("{CONTAINER_LABEL}={SANDBOX_CONTAINER}"));
        labels
    }

    /// `name_namespace(uid)`, how the kubelet names a Pod in messages.
    pub fn describe(&self) -> String {
        format!("{}_{}({})", self.name, self.namespace, self.uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockershim_and_stay_valid_for_docker() {
        let id = PodIdentity {
            instance: "t1".into(),
            namespace: "default".into(),
            name: "run-pod".into(),
            uid: "1234-ab".into(),
        };
        assert_eq!(
            id.container_name("step-a"),
            "k8s_step-a_run-pod_default_1234-ab_0"
        );
        assert_eq!(
            id.container_name("a b/c"),
            "k8s_a-b-c_run-pod_default_1234-ab_0"
        );
        assert_eq!(id.labels("POD")[CONTAINER_LABEL], "POD");
        assert_eq!(id.describe(), "run-pod_default(1234-ab)");
    }
}
