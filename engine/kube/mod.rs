//! Kubernetes cluster-upgrade logic the catalog's tasks call through `adze kube`: version
//! parsing ([`version`]), the version skew policy ([`skew`]), the sequence of minor upgrades
//! ([`upgrade_plan`]) and the APIs each release removed ([`removed_apis`]).
//!
//! Everything here is pure: the tasks gather versions from the cluster (`kubectl version`,
//! node `nodeInfo`, control-plane Pods' images) and hand them over as JSON or arguments.

pub mod removed_apis;
pub mod skew;
pub mod upgrade_plan;
pub mod version;
