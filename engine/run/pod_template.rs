//! `podTemplate`: the effective template of a TaskRun, and what of it applies locally.
//!
//! # Design
//!
//! - A TaskRun's template is its own `spec.podTemplate`. A pipeline task's is
//!   `taskRunSpecs[].podTemplate` merged over `taskRunTemplate.podTemplate` field by field, as
//!   Tekton's `MergePodTemplateWithDefault` does: `env` and `volumes` merge by name (the
//!   task's entry wins), every other field is taken whole from the task's template when it
//!   sets it. Tekton's `default-pod-template` is cluster configuration adze cannot see.
//! - The drivers apply what changes containers before the executor sees them ([`apply`]):
//!   `env` is appended to every step's environment and wins over the step's own variables
//!   of the same name (Tekton appends it last; sidecars do not get it), and
//!   `securityContext.runAsUser`/`runAsGroup` apply to every step and sidecar that does not
//!   set its own. Volumes join the Task's (see [`volumes`](super::volumes)).
//! - The rest the executor honours is [`PodSettings`] ([`settings`]): `fsGroup`,
//!   `supplementalGroups`, `runAsNonRoot`, `hostAliases`, `hostNetwork`, and `dnsConfig` as
//!   `dnsPolicy` allows it.
//!
//! # DNS
//!
//! There is no cluster DNS locally: `ClusterFirst` and `ClusterFirstWithHostNet` resolve as
//! `Default` does, with the engine's resolver configuration (the host's). `dnsConfig`
//! nameservers, searches and options then replace the engine's list of the same kind
//! (Kubernetes appends them to the node's). `None` requires `dnsConfig` with a nameserver,
//! and clears the search list when `dnsConfig` gives none.
//!
//! # Not yet
//!
//! - Templates are not substituted (`$(params.…)` stays as written), as in Tekton.
//! - Fields with no local meaning (nodeSelector, tolerations, affinity, schedulerName, …)
//!   are reported by the field-coverage check, not here.

use crate::api::run::PodTemplate;
use crate::api::PipelineRun;
use crate::plan::model::{EnvSource, StepPlan};
use crate::plan::scope::Scope;
use crate::plan::task::{downward_env, env_plan, env_sources};

use super::{DnsSettings, PodSettings, RunError};

/// Tekton's `MergePodTemplateWithDefault`: `tpl`'s fields win over `default`'s.
pub fn merge(tpl: Option<&PodTemplate>, default: Option<&PodTemplate>) -> Option<PodTemplate> {
    let (tpl, default) = match (tpl, default) {
        (None, d) => return d.cloned(),
        (t, None) => return t.cloned(),
        (Some(t), Some(d)) => (t, d),
    };
    let mut out = tpl.clone();
    if out.node_selector.is_empty() {
        out.node_selector.clone_from(&default.node_selector);
    }
    out.env = merge_by_name(&default.env, &tpl.env, |e| &e.name);
    if out.tolerations.is_empty() {
        out.tolerations.clone_from(&default.tolerations);
    }
    whole(&mut out.affinity, &default.affinity);
    whole(&mut out.security_context, &default.security_context);
    out.volumes = merge_by_name(&default.volumes, &tpl.volumes, |v| &v.name);
    whole(&mut out.runtime_class_name, &default.runtime_class_name);
    whole(
        &mut out.automount_service_account_token,
        &default.automount_service_account_token,
    );
    whole(&mut out.dns_policy, &default.dns_policy);
    whole(&mut out.dns_config, &default.dns_config);
    whole(&mut out.enable_service_links, &default.enable_service_links);
    whole(&mut out.priority_class_name, &default.priority_class_name);
    whole(&mut out.scheduler_name, &default.scheduler_name);
    if out.image_pull_secrets.is_empty() {
        out.image_pull_secrets
            .clone_from(&default.image_pull_secrets);
    }
    if out.host_aliases.is_empty() {
        out.host_aliases.clone_from(&default.host_aliases);
    }
    // Tekton keeps `hostNetwork: true` from either template.
    if default.host_network == Some(true) {
        out.host_network = Some(true);
    }
    if out.topology_spread_constraints.is_empty() {
        out.topology_spread_constraints
            .clone_from(&default.topology_spread_constraints);
    }
    Some(out)
}

/// Takes `base` when `field` is unset.
fn whole<T: Clone>(field: &mut Option<T>, base: &Option<T>) {
    if field.is_none() {
        field.clone_from(base);
    }
}

/// `overrides` first, then the entries of `base` whose name they do not use; unnamed entries
/// are dropped, as Tekton's `mergeByName` does.
fn merge_by_name<T: Clone>(base: &[T], overrides: &[T], name: impl Fn(&T) -> &String) -> Vec<T> {
    if overrides.is_empty() {
        return base.to_vec();
    }
    let mut out: Vec<T> = overrides
        .iter()
        .filter(|o| !name(o).is_empty())
        .cloned()
        .collect();
    for b in base {
        if !name(b).is_empty() && !out.iter().any(|o| name(o) == name(b)) {
            out.push(b.clone());
        }
    }
    out
}

/// The effective template of pipeline task `task`'s TaskRuns.
pub fn for_pipeline_task(pr: &PipelineRun, task: &str) -> Option<PodTemplate> {
    let default = pr
        .spec
        .task_run_template
        .as_ref()
        .and_then(|t| t.pod_template.as_ref());
    let own = pr
        .spec
        .task_run_specs
        .iter()
        .find(|s| s.pipeline_task_name == task)
        .and_then(|s| s.pod_template.as_ref());
    merge(own, default)
}

/// Applies the template's `env` to the steps, its `runAsUser`/`runAsGroup` to the steps and
/// sidecars that do not set their own, and its `runAsNonRoot` to every container.
pub fn apply(tpl: &PodTemplate, steps: &mut [StepPlan], sidecars: &mut [StepPlan]) {
    let literal = Scope::default();
    let env = env_plan(&tpl.env, &literal);
    let sources = env_sources(&tpl.env, &[], &literal);
    let downward = downward_env(&tpl.env);
    for step in steps.iter_mut() {
        for e in &tpl.env {
            step.env.retain(|x| x.name != e.name);
            step.env_sources
                .retain(|s| !matches!(s, EnvSource::Key { name, .. } if *name == e.name));
            step.downward_env.retain(|(name, _)| *name != e.name);
        }
        step.env.extend(env.iter().cloned());
        step.env_sources.extend(sources.iter().cloned());
        step.downward_env.extend(downward.iter().cloned());
    }
    let Some(context) = &tpl.security_context else {
        return;
    };
    for container in steps.iter_mut().chain(sidecars.iter_mut()) {
        if container.run_as_user.is_none() {
            container.run_as_user = context.run_as_user;
        }
        if container.run_as_group.is_none() {
            container.run_as_group = context.run_as_group;
        }
        // A container's own `runAsNonRoot: true` already holds; the pod's adds to it.
        container.confinement.run_as_non_root |= context.run_as_non_root == Some(true);
    }
}

/// The settings the executor honours; `needed_by` names the TaskRun in errors.
pub fn settings(tpl: &PodTemplate, needed_by: &str) -> Result<PodSettings, RunError> {
    let invalid = |field: &str, message: String| RunError::PodTemplate {
        field: field.to_owned(),
        needed_by: needed_by.to_owned(),
        message,
    };
    let context = tpl.security_context.clone().unwrap_or_default();
    let mut host_aliases = Vec::new();
    for (i, alias) in tpl.host_aliases.iter().enumerate() {
        if alias.ip.parse::<std::net::IpAddr>().is_err() {
            return Err(invalid(
                &format!("hostAliases[{i}].ip"),
                format!("\"{}\" is not an IP address", alias.ip),
            ));
        }
        for host in alias.hostnames.as_deref().unwrap_or_default() {
            host_aliases.push((host.clone(), alias.ip.clone()));
        }
    }
    let config = tpl.dns_config.clone().unwrap_or_default();
    let mut dns = DnsSettings {
        nameservers: config.nameservers.unwrap_or_default(),
        searches: config.searches.unwrap_or_default(),
        options: config
            .options
            .unwrap_or_default()
            .into_iter()
            .filter_map(|o| {
                let name = o.name?;
                Some(match o.value {
                    Some(v) => format!("{name}:{v}"),
                    None => name,
                })
            })
            .collect(),
    };
    for (i, server) in dns.nameservers.iter().enumerate() {
        if server.parse::<std::net::IpAddr>().is_err() {
            return Err(invalid(
                &format!("dnsConfig.nameservers[{i}]"),
                format!("\"{server}\" is not an IP address"),
            ));
        }
    }
    match tpl.dns_policy.as_deref() {
        None | Some("ClusterFirst" | "ClusterFirstWithHostNet" | "Default") => {}
        Some("None") => {
            if dns.nameservers.is_empty() {
                return Err(invalid(
                    "dnsPolicy",
                    "\"None\" needs dnsConfig with at least one nameserver, as Kubernetes \
                     requires; add dnsConfig.nameservers"
                        .into(),
                ));
            }
            if dns.searches.is_empty() {
                // Docker's way of saying "no search domains" instead of the host's.
                dns.searches.push(".".into());
            }
        }
        Some(other) => {
            return Err(invalid(
                "dnsPolicy",
                format!(
                    "\"{other}\" is not a DNS policy; use ClusterFirst, ClusterFirstWithHostNet, \
                     Default or None"
                ),
            ))
        }
    }
    Ok(PodSettings {
        fs_group: context.fs_group,
        supplemental_groups: context.supplemental_groups.unwrap_or_default(),
        host_aliases,
        dns,
        host_network: tpl.host_network == Some(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::model::EnvPlan;

    fn template(yaml: &str) -> PodTemplate {
        serde_yaml_ng::from_str(yaml).expect("a pod template")
    }

    fn run(yaml: &str) -> PipelineRun {
        serde_yaml_ng::from_str(yaml).expect("a PipelineRun")
    }

    const RUN: &str = r#"
spec:
  taskRunTemplate:
    podTemplate:
      env: [{name: A, value: run}, {name: B, value: run}]
      volumes: [{name: v1, emptyDir: {}}, {name: v2, emptyDir: {}}]
      securityContext: {runAsUser: 1000}
      hostAliases: [{ip: 10.0.0.1, hostnames: [run.local]}]
      nodeSelector: {disk: ssd}
  taskRunSpecs:
  - pipelineTaskName: build
    podTemplate:
      env: [{name: B, value: task}, {name: C, value: task}]
      volumes: [{name: v2, configMap: {name: cm}}]
      securityContext: {runAsGroup: 2000}
      dnsPolicy: None
"#;

    #[test]
    fn task_run_specs_merge_over_the_task_run_template_field_by_field() {
        let pr = run(RUN);
        let got = for_pipeline_task(&pr, "build").expect("a template");
        let env: Vec<(&str, &str)> = got
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(env, [("B", "task"), ("C", "task"), ("A", "run")]);
        let volumes: Vec<(&str, bool)> = got
            .volumes
            .iter()
            .map(|v| (v.name.as_str(), v.config_map.is_some()))
            .collect();
        assert_eq!(volumes, [("v2", true), ("v1", false)]);
        // The whole securityContext of the task's template wins: no runAsUser from the run's.
        let context = got.security_context.expect("a context");
        assert_eq!(
            (context.run_as_user, context.run_as_group),
            (None, Some(2000))
        );
        assert_eq!(got.host_aliases.len(), 1);
        assert_eq!(got.node_selector["disk"], "ssd");
        assert_eq!(got.dns_policy.as_deref(), Some("None"));
        // Another task gets the run's template as is.
        let other = for_pipeline_task(&pr, "test").expect("a template");
        assert_eq!(Some(other), pr.spec.task_run_template.unwrap().pod_template);
    }

    #[test]
    fn no_template_anywhere_is_none() {
        assert_eq!(for_pipeline_task(&run("spec: {}"), "build"), None);
    }

    fn plan(name: &str, env: &[(&str, &str)], uid: Option<i64>) -> StepPlan {
        StepPlan {
            name: name.into(),
            env: env
                .iter()
                .map(|(n, v)| EnvPlan {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            run_as_user: uid,
            ..StepPlan::default()
        }
    }

    #[test]
    fn env_goes_last_into_steps_only_and_users_fill_what_containers_leave_unset() {
        let tpl = template(
            "{env: [{name: MODE, value: pod}, {name: EXTRA, value: x}], \
             securityContext: {runAsUser: 1000, runAsGroup: 3000}}",
        );
        let mut steps = vec![plan("a", &[("MODE", "step"), ("KEEP", "k")], Some(0))];
        let mut sidecars = vec![plan("s", &[("MODE", "sidecar")], None)];
        apply(&tpl, &mut steps, &mut sidecars);
        let env: Vec<(&str, &str)> = steps[0]
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(env, [("KEEP", "k"), ("MODE", "pod"), ("EXTRA", "x")]);
        assert_eq!(sidecars[0].env.len(), 1, "sidecars keep their own env");
        assert_eq!(
            (steps[0].run_as_user, steps[0].run_as_group),
            (Some(0), Some(3000))
        );
        assert_eq!(
            (sidecars[0].run_as_user, sidecars[0].run_as_group),
            (Some(1000), Some(3000))
        );
    }

    #[test]
    fn a_value_from_in_the_template_replaces_the_steps_reference() {
        let tpl = template("{env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: s, key: k}}}]}");
        let mut steps = vec![StepPlan {
            env_sources: env_sources(
                &[serde_yaml_ng::from_str(
                    "{name: TOKEN, valueFrom: {configMapKeyRef: {name: c, key: k}}}",
                )
                .unwrap()],
                &[],
                &Scope::default(),
            ),
            ..plan("a", &[("TOKEN", "<from configmap c/k>")], None)
        }];
        apply(&tpl, &mut steps, &mut []);
        assert!(matches!(
            &steps[0].env_sources[..],
            [EnvSource::Key { object, .. }] if object == "s"
        ));
    }

    #[test]
    fn settings_carry_groups_aliases_and_dns() {
        let got = settings(
            &template(
                "{securityContext: {fsGroup: 4000, supplementalGroups: [5000], runAsNonRoot: true}, \
                 hostAliases: [{ip: 10.1.2.3, hostnames: [a.test, b.test]}], \
                 dnsConfig: {nameservers: [192.0.2.53], searches: [corp.test], \
                 options: [{name: ndots, value: '2'}, {name: edns0}]}, hostNetwork: true}",
            ),
            "TaskRun \"t\"",
        )
        .expect("valid");
        assert_eq!(
            got,
            PodSettings {
                fs_group: Some(4000),
                supplemental_groups: vec![5000],
                host_aliases: vec![
                    ("a.test".into(), "10.1.2.3".into()),
                    ("b.test".into(), "10.1.2.3".into())
                ],
                dns: DnsSettings {
                    nameservers: vec!["192.0.2.53".into()],
                    searches: vec!["corp.test".into()],
                    options: vec!["ndots:2".into(), "edns0".into()],
                },
                host_network: true,
            }
        );
    }

    #[test]
    fn dns_policies_are_checked_as_kubernetes_does() {
        let err = settings(&template("{dnsPolicy: None}"), "TaskRun \"t\"").expect_err("no config");
        assert_eq!(
            err.to_string(),
            "podTemplate.dnsPolicy of TaskRun \"t\": \"None\" needs dnsConfig with at least one \
             nameserver, as Kubernetes requires; add dnsConfig.nameservers"
        );
        let none = settings(
            &template("{dnsPolicy: None, dnsConfig: {nameservers: [192.0.2.1]}}"),
            "TaskRun \"t\"",
        )
        .expect("valid");
        assert_eq!(none.dns.searches, ["."]);
        let err = settings(&template("{dnsPolicy: Cluster}"), "TaskRun \"t\"").expect_err("bad");
        assert!(
            err.to_string().contains("\"Cluster\" is not a DNS policy"),
            "{err}"
        );
        let err = settings(
            &template("{hostAliases: [{ip: nowhere, hostnames: [x]}]}"),
            "TaskRun \"t\"",
        )
        .expect_err("bad ip");
        assert!(err.to_string().contains("hostAliases[0].ip"), "{err}");
    }
}
