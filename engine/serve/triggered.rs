//! The [`Processor`] of a loaded Triggers configuration: the listener's triggers run on each
//! event with the built-in interceptors, and their outcomes become reports and runs.

use std::sync::Arc;

use super::process::{ListenerError, Processed, Processor, TriggerReport, Verdict};
use crate::store::NewRun;
use crate::triggers::interceptor::Builtins;
use crate::triggers::interceptor::Code;
use crate::triggers::{Catalog, Event, RandomIds, TriggerOutcome, TriggerResult};

/// The built-in interceptors that authenticate the sender; their rejections (other than for
/// the event type) answer `403` under `--respond-after-interceptors`.
const AUTHENTICATING: &[&str] = &["github", "gitlab", "bitbucket"];

/// Runs one EventListener of a loaded catalog.
pub struct TriggersProcessor {
    catalog: Arc<Catalog>,
    listener: String,
    interceptors: Builtins,
}

impl TriggersProcessor {
    /// Processes events for `listener` of `catalog`, reading Secrets through `interceptors`.
    pub fn new(catalog: Arc<Catalog>, listener: &str, interceptors: Builtins) -> Self {
        TriggersProcessor {
            catalog,
            listener: listener.to_string(),
            interceptors,
        }
    }
}

impl Processor for TriggersProcessor {
    fn process(&self, event: &Event, now_ms: i64) -> Result<Processed, ListenerError> {
        let outcomes = crate::triggers::process(
            &self.catalog,
            &self.listener,
            event,
            &self.interceptors,
            &mut RandomIds,
        )
        .map_err(|e| ListenerError(e.to_string()))?;
        Ok(processed(&outcomes, now_ms))
    }
}

/// Reports and runs from the triggers' outcomes.
pub fn processed(outcomes: &[TriggerOutcome], now_ms: i64) -> Processed {
    let mut out = Processed::default();
    for outcome in outcomes {
        let label = match (&outcome.group, outcome.name.as_str()) {
            (Some(g), name) if g != name => format!("{g}/{name}"),
            (_, "") => "(unnamed trigger)".to_string(),
            (_, name) => name.to_string(),
        };
        let (verdict, text, objects): (Verdict, String, &[serde_json::Value]) =
            match &outcome.result {
                TriggerResult::Created { objects, .. } => {
                    let names: Vec<String> = objects.iter().map(describe).collect();
                    (
                        Verdict::Created,
                        format!("{label}: created {}", names.join(", ")),
                        objects,
                    )
                }
                TriggerResult::Rejected {
                    interceptor,
                    code,
                    message,
                } => {
                    let verdict = if AUTHENTICATING.contains(&interceptor.as_str())
                        && !message.starts_with("event type")
                    {
                        Verdict::Unauthenticated
                    } else {
                        Verdict::Declined
                    };
                    (
                        verdict,
                        format!(
                            "{label}: rejected by {interceptor} ({}): {message}",
                            code_name(*code)
                        ),
                        &[],
                    )
                }
                TriggerResult::Failed {
                    stage,
                    message,
                    objects,
                } => {
                    // Objects rendered before a failing one are created, as upstream does.
                    (
                        Verdict::Failed,
                        format!("{label}: failed at {stage}: {message}"),
                        objects,
                    )
                }
                TriggerResult::Skipped { message } => {
                    (Verdict::Failed, format!("{label}: skipped: {message}"), &[])
                }
            };
        let runs: Vec<NewRun> = objects
            .iter()
            .map(|o| NewRun {
                name: o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                kind: o["kind"].as_str().unwrap_or_default().to_string(),
                namespace: o["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or(&outcome.namespace)
                    .to_string(),
                trigger: label.clone(),
                object: o.clone(),
                created_ms: now_ms,
            })
            .collect();
        let mut detail = serde_json::to_value(outcome).unwrap_or_default();
        if let Some(d) = detail.as_object_mut() {
            d.insert(
                "verdict".into(),
                serde_json::to_value(verdict).unwrap_or_default(),
            );
            d.insert("text".into(), text.into());
            d.insert(
                "runs".into(),
                runs.iter()
                    .map(|r| r.name.clone())
                    .collect::<Vec<_>>()
                    .into(),
            );
            // The rendered objects are kept with the runs; the report names them.
            if let Some(result) = d.get_mut("result").and_then(|r| r.as_object_mut()) {
                result.remove("objects");
            }
        }
        out.triggers.push(TriggerReport { verdict, detail });
        out.runs.extend(runs);
    }
    out
}

fn describe(object: &serde_json::Value) -> String {
    format!(
        "{} {}",
        object["kind"].as_str().unwrap_or("object"),
        object["metadata"]["name"].as_str().unwrap_or("?")
    )
}

fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::InvalidArgument => "InvalidArgument",
        Code::NotFound => "NotFound",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Internal => "Internal",
    }
}
