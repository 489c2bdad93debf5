//! Executors that run TaskRuns on real container engines.

pub mod backend;
pub mod docker;
pub mod kubernetes;
