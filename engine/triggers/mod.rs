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
//! The pieces, in request order: [`catalog`] types ([`api`]), defaults and checks
//! ([`admission`]) the `triggers.tekton.dev` documents of a load bundle; [`process::plan`]
//! loads the listener and selects the work ([`selection`]); [`process::run`] runs one item:
//! the [`chain`] of interceptors, the bindings' `$(...)` [`expression`]s evaluated as
//! Kubernetes [`jsonpath`] and rendered as Go would ([`crate::go_json`], [`binding`]), then the
//! [`template`]s substituted and stamped. `plan` is the part whose errors are the request's
//! `500`; everything after is a [`TriggerOutcome`], serialisable for the store.
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
//!   (HTTP calls to other services), `cloudEventURI` notifications.
//!   A legacy `webhook` interceptor ends its trigger with a "not supported yet" outcome.
//! - `v1alpha1` objects decode with the `v1beta1` types; of the `v1alpha1`-only fields only
//!   the built-in interceptors (`github:`, `gitlab:`, `bitbucket:`, `cel:`) are converted
//!   (to `ref` + `params`), others are unknown fields.
//! - Admission does not check interceptor `ref`s against the loaded ClusterInterceptors
//!   (the built-ins need no object), nor the `resources` pod templates of a listener.

pub mod admission;
pub mod api;
pub mod binding;
pub mod catalog;
pub mod chain;
pub mod event;
pub mod expression;
pub mod header;
pub mod interceptor;
pub mod jsonpath;
pub mod payload;
pub mod process;
pub mod references;
pub mod secrets;
pub mod selection;
pub mod template;

pub use catalog::Catalog;
pub use event::Event;
pub use header::{canonical_header_name, Headers};
pub use process::{plan, process, run, Plan, RequestError, TriggerOutcome, TriggerResult, Work};
pub use secrets::BundleSecrets;
pub use template::{Ids, RandomIds, SequentialIds};

impl Catalog {
    /// Decodes and validates the `triggers.tekton.dev` documents of `bundle` as Triggers'
    /// admission webhook does, each object and then the names they give each other; objects
    /// without a namespace go to `default_namespace`.
    pub fn load(
        bundle: &crate::load::Bundle,
        default_namespace: &str,
    ) -> (Catalog, Vec<crate::diagnostic::Diagnostic>) {
        let (catalog, mut found) = Catalog::admit(bundle, default_namespace);
        found.extend(references::placed(&catalog, bundle));
        (catalog, found)
    }
}
