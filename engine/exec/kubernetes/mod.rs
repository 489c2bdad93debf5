//! An executor that runs each TaskRun as a Pod through the Kubernetes API.

pub mod connect;
pub mod observe;
pub mod termination;
