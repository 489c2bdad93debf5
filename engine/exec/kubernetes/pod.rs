//! The Pod: containers, volumes, the TaskRun's deadline and the effective `podTemplate`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, PodSpec};

use super::containers::{prepare, sidecar, step};
use super::metadata::{object_meta, pod_name};
use super::results_sidecar;
use super::volumes::Extras;
use super::{PodOptions, TranslateError};
use crate::api::GoDuration;
use crate::reconcile::task_run::sidecar_container;
use crate::run::TaskRunRequest;

/// The Pod of the TaskRun (its volumes already built).
pub fn pod(
    request: &TaskRunRequest,
    options: &PodOptions,
    labels: &BTreeMap<String, String>,
    volumes: Vec<k8s_openapi::api::core::v1::Volume>,
    extras: &Extras,
) -> Result<Pod, TranslateError> {
    let mut init_containers = vec![prepare(request, &options.entrypoint_image)];
    let mut containers = (0..request.steps.len())
        .map(|i| step(request, i, &options.image_commands, extras))
        .collect::<Result<Vec<_>, _>>()?;
    let sidecars = (0..request.sidecars.len())
        .map(|i| sidecar(request, i, options.native_sidecars, extras))
        .chain(options.results_sidecar.then(|| {
            results_sidecar::container(request, &options.entrypoint_image, options.native_sidecars)
        }));
    if options.native_sidecars {
        init_containers.extend(sidecars);
    } else {
        containers.extend(sidecars);
    }
    if let Some(policy) = &options.image_pull_policy {
        // Every container but adze's own (`prepare`, the results sidecar).
        let results = sidecar_container(results_sidecar::RESULTS_SIDECAR);
        for c in init_containers
            .iter_mut()
            .skip(1)
            .chain(&mut containers)
            .filter(|c| c.name != results)
        {
            c.image_pull_policy = Some(policy.clone());
        }
    }
    let tpl = &request.cluster.pod_template;
    let service_account = request.cluster.service_account_name.clone();
    // The API token reaches a step only when someone chose to give the run an account.
    let automount = match &service_account {
        Some(_) => tpl.automount_service_account_token,
        None => Some(false),
    };
    let spec = PodSpec {
        init_containers: Some(init_containers),
        containers,
        volumes: Some(volumes),
        restart_policy: Some("Never".to_owned()),
        active_deadline_seconds: request.timeout.and_then(deadline_seconds),
        service_account_name: service_account,
        automount_service_account_token: automount,
        node_selector: (!tpl.node_selector.is_empty()).then(|| tpl.node_selector.clone()),
        tolerations: (!tpl.tolerations.is_empty()).then(|| tpl.tolerations.clone()),
        affinity: tpl.affinity.clone(),
        security_context: tpl.security_context.clone(),
        runtime_class_name: tpl.runtime_class_name.clone(),
        dns_policy: tpl.dns_policy.clone(),
        dns_config: tpl.dns_config.clone(),
        enable_service_links: tpl.enable_service_links,
        priority_class_name: tpl.priority_class_name.clone(),
        scheduler_name: tpl.scheduler_name.clone(),
        image_pull_secrets: (!tpl.image_pull_secrets.is_empty())
            .then(|| tpl.image_pull_secrets.clone()),
        host_aliases: (!tpl.host_aliases.is_empty()).then(|| tpl.host_aliases.clone()),
        host_network: tpl.host_network,
        host_users: tpl.host_users,
        topology_spread_constraints: (!tpl.topology_spread_constraints.is_empty())
            .then(|| tpl.topology_spread_constraints.clone()),
        ..PodSpec::default()
    };
    Ok(Pod {
        metadata: object_meta(
            pod_name(&request.name, options.attempt),
            options,
            labels,
            options.task_run_owner.as_ref(),
        ),
        spec: Some(spec),
        status: None,
    })
}

/// `activeDeadlineSeconds`: 1.5 × the TaskRun timeout, rounded up, as Tekton sets it, so
/// the driver's own timeout (which records `TaskRunTimeout` and the steps' states) fires
/// first and the kubelet's deadline only backs it up. No deadline without a timeout.
pub fn deadline_seconds(timeout: GoDuration) -> Option<i64> {
    if timeout.0 <= 0 {
        return None;
    }
    let nanos = timeout.0.saturating_mul(3) / 2;
    let seconds = (nanos + 999_999_999) / 1_000_000_000;
    Some(i64::try_from(seconds).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_one_and_a_half_timeouts() {
        assert_eq!(
            deadline_seconds(GoDuration::parse("1h").unwrap()),
            Some(5400)
        );
        assert_eq!(deadline_seconds(GoDuration::parse("1s").unwrap()), Some(2));
        assert_eq!(deadline_seconds(GoDuration(0)), None);
    }
}
