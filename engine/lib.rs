//! adze: Tekton pipelines without the pain of a cluster.
//!
//! The library is a pure core (load → validate → resolve → plan) with thin shells around it;
//! see `DESIGN.md` in the shared design notes. Only `main.rs` turns errors into exit codes.

#![warn(missing_docs)]

pub mod api;
pub mod approval;
pub mod catalog;
pub mod cel;
pub mod cli;
pub mod compat;
pub mod config;
pub mod controller;
pub mod dag;
pub mod diagnostic;
pub mod doctor;
pub mod exec;
pub mod go_json;
pub mod kube;
pub mod load;
pub mod mask;
pub mod plan;
pub mod prometheus;
pub mod reconcile;
pub mod report;
pub mod resolve;
pub mod run;
pub mod serve;
pub mod status;
pub mod store;
pub mod subst;
pub mod triggers;
pub mod validate;
