//! `kube-sim`: a Kubernetes API stand-in for adze's tests. Its API server keeps objects in
//! memory and serves what kube-rs and `kubectl` need; its kubelet runs each Pod in the local
//! Docker engine. Test infrastructure, never product.
//!
//! # Design
//!
//! A request flows [`server`] (TLS, HTTP/2) → [`routes`] (path, verb, [`negotiate`]d
//! representation) → [`cluster`] (the verbs, with [`admission`] defaults, [`patch`]es and
//! garbage collection) → [`store`] (objects, resourceVersions, change history), and back out
//! as JSON, a [`table`], or a [`watch`] stream filtered by [`selector`]s. Every failure is an
//! [`api_error::ApiError`], rendered as Kubernetes' Status object.
//!
//! - [`kubelet`] runs Pods: it sees a Pod through [`kubelet::PodHost`], the narrow view of the
//!   API server it needs (referenced ConfigMaps, Secrets and claims; status writes), which the
//!   store implements in [`pod_host`].
//! - [`resources`] is the one table of served kinds; discovery is generated from it.
//! - [`nodes`] is kube-sim's own Node (the only one whose Pods run); [`version`] what
//!   `/version` reports, changeable at runtime; [`disruption`] keeps PodDisruptionBudget
//!   status current and [`eviction`] serves `pods/eviction` (reading kubectl's protobuf body
//!   with [`protobuf`]).
//! - [`audit`] records every request (`--audit-log`) as the API server's audit log would.
//! - Identity: [`auth`] tells who a request is (the admin token, a ServiceAccount token from
//!   [`tokens`]), [`rbac`] whether it may ([`access_review`] answers the same question for
//!   `kubectl auth can-i`); the kubelet mounts a Pod's token through [`pod_identity`], and
//!   bridge-network Pods reach the server on the [`bridge`] gateway.
//! - [`metrics`] serves `/metrics` from a ConfigMap a test writes.
//!
//! # Not yet
//!
//! - Protobuf (but for the Eviction, TokenRequest and access review bodies), OpenAPI
//!   documents, aggregated discovery, list pagination (`limit` is ignored), `dryRun`
//!   (refused with 400).
//! - See each module's "Not yet" for what its verbs simplify.

pub mod access_review;
pub mod admission;
pub mod api_error;
pub mod audit;
pub mod auth;
pub mod bridge;
pub mod cluster;
pub mod disruption;
pub mod eviction;
pub mod kubeconfig;
pub mod kubelet;
pub mod metrics;
pub mod negotiate;
pub mod nodes;
pub mod patch;
pub mod pod_host;
pub mod pod_identity;
pub mod protobuf;
pub mod rbac;
pub mod resources;
pub mod routes;
pub mod selector;
pub mod server;
pub mod store;
pub mod table;
pub mod tls;
pub mod tokens;
pub mod version;
pub mod watch;
