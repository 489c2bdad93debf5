//! `resources` as Docker limits, and the Pod's QoS class.

use k8s_openapi::api::core::v1::{Container, Pod};

use super::quantity;

/// Docker's `(memory bytes, nano CPUs)` for the container's limits.
pub(super) fn limits(container: &Container) -> (Option<i64>, Option<i64>) {
    let limits = container.resources.as_ref().and_then(|r| r.limits.as_ref());
    let get = |name: &str| limits.and_then(|l| l.get(name)).map(|q| q.0.clone());
    let memory = get("memory")
        .and_then(|q| quantity::whole(&q))
        .and_then(|b| i64::try_from(b).ok())
        .filter(|b| *b > 0);
    let cpus = get("cpu")
        .and_then(|q| quantity::milli(&q))
        .and_then(|m| i64::try_from(m.checked_mul(1_000_000)?).ok())
        .filter(|n| *n > 0);
    (memory, cpus)
}

/// `status.qosClass`: Guaranteed, Burstable or BestEffort, by Kubernetes' rule.
pub(super) fn qos_class(pod: &Pod) -> &'static str {
    let Some(spec) = pod.spec.as_ref() else {
        return "BestEffort";
    };
    let containers: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let resources = c.resources.as_ref();
        let limits = resources.and_then(|r| r.limits.clone()).unwrap_or_default();
        let requests = resources
            .and_then(|r| r.requests.clone())
            .unwrap_or_default();
        let relevant = |name: &String| name == "cpu" || name == "memory";
        if limits.keys().chain(requests.keys()).any(relevant) {
            any = true;
        }
        for name in ["cpu", "memory"] {
            let limit = limits.get(name).and_then(|q| quantity::milli(&q.0));
            // A request left out defaults to the limit.
            let request = requests
                .get(name)
                .and_then(|q| quantity::milli(&q.0))
                .or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, ResourceRequirements};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use std::collections::BTreeMap;

    fn pod(limits: &[(&str, &str)], requests: &[(&str, &str)]) -> Pod {
        let map = |l: &[(&str, &str)]| {
            (!l.is_empty()).then(|| {
                l.iter()
                    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                    .collect::<BTreeMap<_, _>>()
            })
        };
        Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    resources: Some(ResourceRequirements {
                        limits: map(limits),
                        requests: map(requests),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn qos_classes_and_limits() {
        assert_eq!(qos_class(&pod(&[], &[])), "BestEffort");
        assert_eq!(
            qos_class(&pod(&[("cpu", "1"), ("memory", "1Gi")], &[])),
            "Guaranteed"
        );
        assert_eq!(qos_class(&pod(&[], &[("cpu", "100m")])), "Burstable");
        let p = pod(&[("cpu", "500m"), ("memory", "64Mi")], &[]);
        let c = &p.spec.as_ref().unwrap().containers[0];
        assert_eq!(limits(c), (Some(64 * 1024 * 1024), Some(500_000_000)));
    }
}
