//! One accepted request → one outcome per trigger (spec §2.2 steps 4–6, §2.4, §2.5).
//!
//! # Design
//!
//! Two steps, so the server can answer `202` between them and run the work concurrently:
//! [`plan`] loads the listener and selects what runs (its errors are the request-level
//! `500`s of C06), then each [`Work`] item is run by [`run`], independently and without I/O.
//! [`process`] does both, sequentially, in a fixed order: selected Trigger objects, inline
//! triggers, then groups.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use super::api::{EventListener, Param, TriggerInterceptor, TriggerSpec, TriggerTemplateSpec};
use super::binding::{event_root, resolve_params};
use super::catalog::Catalog;
use super::chain::{self, Ended, State};
use super::interceptor::{Code, Context, Interceptors};
use super::selection::{select, SelectorError};
use super::template::{instantiate, Ids, Stamp, OLD_ESCAPE_QUOTES};
use super::Event;

/// Why a request cannot be handled at all (the listener answers `500`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// No EventListener of that name was loaded.
    #[error("EventListener \"{0}\" not found")]
    ListenerNotFound(String),
    /// An inline trigger has neither `template` nor `triggerRef`.
    #[error("spec.triggers[{0}] of the EventListener has neither template nor triggerRef")]
    InlineTriggerWithoutTemplate(usize),
    /// A label selector could not be evaluated.
    #[error(transparent)]
    Selector(#[from] SelectorError),
}

/// A trigger ready to run: a Trigger object or an inline one made into a Trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerRun {
    /// Trigger name (`""` for an unnamed inline trigger).
    pub name: String,
    /// Trigger namespace: scopes bindings, templates, secrets and created objects.
    pub namespace: String,
    /// The spec.
    pub spec: TriggerSpec,
}

/// One independent piece of work of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// A trigger, from the original request.
    Trigger(TriggerRun),
    /// A trigger group: its chain, then its selected triggers.
    Group {
        /// Group name.
        name: String,
        /// The shared chain.
        interceptors: Vec<TriggerInterceptor>,
        /// Triggers selected by `triggerSelector`.
        triggers: Vec<TriggerRun>,
    },
    /// An inline `triggerRef` that names no Trigger: recorded, not run.
    Missing {
        /// The referenced name.
        name: String,
    },
}

/// Everything a request starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Listener name.
    pub listener: String,
    /// Listener namespace.
    pub namespace: String,
    /// Work items, in a fixed order.
    pub work: Vec<Work>,
}

/// What happened to one trigger, or to a group whose chain stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerOutcome {
    /// Trigger name; the group name for a group-level outcome.
    pub name: String,
    /// Trigger namespace (listener namespace for groups).
    pub namespace: String,
    /// The group the trigger ran in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The result.
    pub result: TriggerResult,
}

/// Where a trigger stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// Reading the event (body not JSON).
    Event,
    /// An interceptor could not be called.
    Interceptor,
    /// Resolving bindings or evaluating their params.
    Binding,
    /// Finding the template.
    Template,
    /// Rendering a resource template.
    Render,
}

impl Stage {
    /// The name outcomes are serialised with (`interceptor`, `binding`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Event => "event",
            Stage::Interceptor => "interceptor",
            Stage::Binding => "binding",
            Stage::Template => "template",
            Stage::Render => "render",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one trigger.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum TriggerResult {
    /// Objects to create, in template order, labelled, namespaced and named.
    Created {
        /// The objects.
        objects: Vec<Value>,
        /// `system:serviceaccount:<ns>:<sa>` to impersonate when the trigger names its own
        /// service account; otherwise the listener's identity creates them.
        #[serde(skip_serializing_if = "Option::is_none")]
        impersonate: Option<String>,
    },
    /// An interceptor answered `continue: false`.
    Rejected {
        /// Interceptor name, or `interceptors[i]`.
        interceptor: String,
        /// Its status code.
        code: Code,
        /// Its message.
        message: String,
    },
    /// The trigger failed.
    Failed {
        /// Where.
        stage: Stage,
        /// Why.
        message: String,
        /// Objects rendered before a render failure: upstream creates them.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        objects: Vec<Value>,
    },
    /// An inline `triggerRef` named no Trigger.
    Skipped {
        /// Why.
        message: String,
    },
}

/// Loads the listener and selects what the request runs (spec §2.2 steps 4–6).
pub fn plan(catalog: &Catalog, listener: &str) -> Result<Plan, RequestError> {
    let entry = catalog
        .listener(listener)
        .ok_or_else(|| RequestError::ListenerNotFound(listener.to_string()))?;
    let l: &EventListener = &entry.object;
    let ns = entry.namespace.as_str();
    let mut work = Vec::new();
    let selected = select(
        catalog,
        ns,
        &l.spec.namespace_selector,
        l.spec.label_selector.as_ref(),
    )?;
    work.extend(selected.into_iter().map(|t| {
        Work::Trigger(TriggerRun {
            name: t.name.clone(),
            namespace: t.namespace.clone(),
            spec: t.object.spec.clone(),
        })
    }));
    for (i, t) in l.spec.triggers.iter().enumerate() {
        if let Some(template) = &t.template {
            work.push(Work::Trigger(TriggerRun {
                name: t.name.clone(),
                namespace: ns.to_string(),
                spec: TriggerSpec {
                    bindings: t.bindings.clone(),
                    template: template.clone(),
                    interceptors: t.interceptors.clone(),
                    service_account_name: t.service_account_name.clone(),
                    name: t.name.clone(),
                },
            }));
        } else if !t.trigger_ref.is_empty() {
            work.push(match catalog.trigger(ns, &t.trigger_ref) {
                Some(found) => Work::Trigger(TriggerRun {
                    name: found.name.clone(),
                    namespace: found.namespace.clone(),
                    spec: found.object.spec.clone(),
                }),
                None => Work::Missing {
                    name: t.trigger_ref.clone(),
                },
            });
        } else {
            return Err(RequestError::InlineTriggerWithoutTemplate(i));
        }
    }
    for g in &l.spec.trigger_groups {
        let selector = g.trigger_selector.clone().unwrap_or_default();
        let triggers = select(
            catalog,
            ns,
            &selector.namespace_selector,
            selector.label_selector.as_ref(),
        )?;
        work.push(Work::Group {
            name: g.name.clone(),
            interceptors: g.interceptors.clone(),
            triggers: triggers
                .into_iter()
                .map(|t| TriggerRun {
                    name: t.name.clone(),
                    namespace: t.namespace.clone(),
                    spec: t.object.spec.clone(),
                })
                .collect(),
        });
    }
    Ok(Plan {
        listener: entry.name.clone(),
        namespace: ns.to_string(),
        work,
    })
}

/// Runs one work item of `plan` for `event`.
pub fn run(
    catalog: &Catalog,
    plan: &Plan,
    work: &Work,
    event: &Event,
    interceptors: &dyn Interceptors,
    ids: &mut dyn Ids,
) -> Vec<TriggerOutcome> {
    let start = State {
        body: event.body.clone(),
        header: event.header.clone(),
        extensions: Map::new(),
    };
    let env = Env {
        catalog,
        plan,
        event,
        interceptors,
    };
    match work {
        Work::Trigger(t) => vec![env.trigger(t, start, None, ids)],
        Work::Missing { name } => vec![TriggerOutcome {
            name: name.clone(),
            namespace: plan.namespace.clone(),
            group: None,
            result: TriggerResult::Skipped {
                message: format!(
                    "triggerRef: Trigger \"{name}\" not found in namespace \"{}\"",
                    plan.namespace
                ),
            },
        }],
        Work::Group {
            name,
            interceptors: chain_list,
            triggers,
        } => {
            let context = env.context(format!(
                "namespaces/{}/triggerGroups/{name}",
                plan.namespace
            ));
            let outcome = |result| TriggerOutcome {
                name: name.clone(),
                namespace: plan.namespace.clone(),
                group: Some(name.clone()),
                result,
            };
            match chain::run(chain_list, start, &context, interceptors) {
                Ended::Continue(state) => triggers
                    .iter()
                    .map(|t| {
                        // Group body changes are dropped: the trigger sees the original body.
                        let state = State {
                            body: event.body.clone(),
                            ..state.clone()
                        };
                        env.trigger(t, state, Some(name), ids)
                    })
                    .collect(),
                stopped => vec![outcome(stopped_result(stopped))],
            }
        }
    }
}

/// [`plan`], then every work item in order.
pub fn process(
    catalog: &Catalog,
    listener: &str,
    event: &Event,
    interceptors: &dyn Interceptors,
    ids: &mut dyn Ids,
) -> Result<Vec<TriggerOutcome>, RequestError> {
    let plan = plan(catalog, listener)?;
    Ok(plan
        .work
        .iter()
        .flat_map(|w| run(catalog, &plan, w, event, interceptors, ids))
        .collect())
}

fn stopped_result(ended: Ended) -> TriggerResult {
    match ended {
        Ended::Rejected {
            interceptor,
            code,
            message,
        } => TriggerResult::Rejected {
            interceptor,
            code,
            message,
        },
        Ended::Failed {
            interceptor,
            message,
        } => failed(
            Stage::Interceptor,
            format!("interceptor {interceptor}: {message}"),
        ),
        Ended::Continue(_) => failed(Stage::Interceptor, "chain stopped".into()),
    }
}

fn failed(stage: Stage, message: String) -> TriggerResult {
    TriggerResult::Failed {
        stage,
        message,
        objects: Vec::new(),
    }
}

struct Env<'a> {
    catalog: &'a Catalog,
    plan: &'a Plan,
    event: &'a Event,
    interceptors: &'a dyn Interceptors,
}

impl Env<'_> {
    fn context(&self, trigger_id: String) -> Context {
        Context {
            event_url: self.event.request_uri.clone(),
            event_id: self.event.id.clone(),
            trigger_id,
        }
    }

    /// Spec §2.4.
    fn trigger(
        &self,
        t: &TriggerRun,
        start: State,
        group: Option<&String>,
        ids: &mut dyn Ids,
    ) -> TriggerOutcome {
        TriggerOutcome {
            name: t.name.clone(),
            namespace: t.namespace.clone(),
            group: group.cloned(),
            result: self.trigger_result(t, start, ids),
        }
    }

    fn trigger_result(&self, t: &TriggerRun, start: State, ids: &mut dyn Ids) -> TriggerResult {
        let context = self.context(format!("namespaces/{}/triggers/{}", t.namespace, t.name));
        let state = match chain::run(&t.spec.interceptors, start, &context, self.interceptors) {
            Ended::Continue(state) => state,
            stopped => return stopped_result(stopped),
        };
        let params = match self.binding_params(t) {
            Ok(p) => p,
            Err(message) => return failed(Stage::Binding, message),
        };
        let (spec, old_escape) = match self.template(t) {
            Ok(found) => found,
            Err(message) => return failed(Stage::Template, message),
        };
        let root = match event_root(
            &state.body,
            &state.header,
            &state.extensions,
            &self.event.id,
        ) {
            Ok(root) => root,
            Err(e) => return failed(Stage::Event, e.to_string()),
        };
        let values = match resolve_params(&params, &spec.params, &root) {
            Ok(v) => v,
            Err(e) => {
                return failed(
                    Stage::Binding,
                    format!("failed to ApplyEventValuesToParams: {e}"),
                )
            }
        };
        let stamp = Stamp {
            listener: &self.plan.listener,
            trigger: &t.name,
            event_id: &self.event.id,
            namespace: &t.namespace,
        };
        let (objects, error) =
            instantiate(&spec.resourcetemplates, &values, old_escape, stamp, ids);
        if let Some(e) = error {
            return TriggerResult::Failed {
                stage: Stage::Render,
                message: e.to_string(),
                objects,
            };
        }
        let sa = &t.spec.service_account_name;
        TriggerResult::Created {
            objects,
            impersonate: (!sa.is_empty())
                .then(|| format!("system:serviceaccount:{}:{sa}", t.namespace)),
        }
    }

    /// The concatenated params of the trigger's bindings; a name bound twice fails (C28).
    fn binding_params(&self, t: &TriggerRun) -> Result<Vec<Param>, String> {
        let mut params = Vec::new();
        for b in &t.spec.bindings {
            if b.reference.is_empty() {
                params.push(Param {
                    name: b.name.clone(),
                    value: b.value.clone().unwrap_or_default(),
                });
                continue;
            }
            let found = if b.kind == "ClusterTriggerBinding" {
                self.catalog.cluster_binding(&b.reference)
            } else {
                self.catalog.binding(&t.namespace, &b.reference)
            };
            let Some(found) = found else {
                let kind = if b.kind.is_empty() {
                    "TriggerBinding"
                } else {
                    &b.kind
                };
                return Err(format!(
                    "{kind} \"{}\" not found in namespace \"{}\"",
                    b.reference, t.namespace
                ));
            };
            params.extend(found.object.spec.params.iter().cloned());
        }
        let mut seen = BTreeSet::new();
        if let Some(dup) = params.iter().find(|p| !seen.insert(p.name.as_str())) {
            return Err(format!(
                "param name \"{}\" is bound more than once in the trigger's bindings",
                dup.name
            ));
        }
        Ok(params)
    }

    /// The template spec and whether it carries the old-escape-quotes annotation.
    fn template(&self, t: &TriggerRun) -> Result<(TriggerTemplateSpec, bool), String> {
        if let Some(spec) = &t.spec.template.spec {
            return Ok((spec.clone(), false));
        }
        let name = t.spec.template.reference.as_deref().unwrap_or("");
        let found = self.catalog.template(&t.namespace, name).ok_or_else(|| {
            format!(
                "TriggerTemplate \"{name}\" not found in namespace \"{}\"",
                t.namespace
            )
        })?;
        let old_escape = found
            .object
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(OLD_ESCAPE_QUOTES));
        Ok((found.object.spec.clone(), old_escape))
    }
}

#[cfg(test)]
mod tests;
