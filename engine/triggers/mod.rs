//! Tekton Triggers: the EventListener model that turns an HTTP request into the PipelineRuns
//! and TaskRuns its triggers ask for (`../shared/spec/triggers.md`).
//!
//! # Design
//!
//! Events → interceptors → bindings → templates → objects, each a separate piece with its
//! own tests, and all of it pure: an [`Event`] (headers, raw body, request-URI, event id) and
//! the loaded Triggers objects go in, the objects to create and one outcome per trigger come
//! out. Secrets are read through [`interceptor::Secrets`], uids and generated names through
//! the caller. The HTTP server (`adze serve`), `adze trigger` and the store are shells
//! around this module.
//!
//! Built-in interceptors (`github`, `gitlab`, `bitbucket`, `cel`) run in-process, which the
//! spec allows when behaviour is identical; they see the exact received bytes, so signature
//! checks cover what the sender signed.
//!
//! # Invariants
//!
//! - Nothing here panics on any request: every failure is an outcome of the trigger it
//!   belongs to, never of another trigger or of the request.
//! - Secret values never appear in outcomes, errors or logs.
//!
//! # Not yet
//!
//! - Custom `ClusterInterceptor`/`Interceptor` services and the legacy `webhook` interceptor
//!   (HTTP calls to other services), the `slack` interceptor, `cloudEventURI` notifications.

pub mod admission;
pub mod api;
pub mod binding;
pub mod catalog;
pub mod chain;
pub mod event;
pub mod expression;
pub mod go_json;
pub mod header;
pub mod interceptor;
pub mod jsonpath;
pub mod payload;
pub mod process;
pub mod secrets;
pub mod selection;
pub mod template;

pub use catalog::Catalog;
pub use event::Event;
pub use header::{canonical_header_name, Headers};
pub use process::{plan, process, run, Plan, RequestError, TriggerOutcome, TriggerResult, Work};
pub use secrets::BundleSecrets;
pub use template::{Ids, RandomIds, SequentialIds};
