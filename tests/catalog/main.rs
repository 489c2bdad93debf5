//! The prebuilt catalog (`tasks/`, `pipelines/`) run end to end: each pipeline's scenarios
//! run locally with `adze run` and the Docker executor against kube-sim instances seeded with
//! a cluster's state, the tools kube-sim cannot stand in for answered by a recording fake
//! server ([`fake_server`]); tests assert the order of operations (fake calls and kube-sim's
//! audit log), not only exit codes. Shared machinery is in [`harness`]; each pipeline has a
//! module of its own.

#[path = "../common/mod.rs"]
mod common;

mod cluster_upgrade;
mod fake_server;
mod fake_stack;
mod harness;
mod harness_smoke;
mod observability;
mod promote;
