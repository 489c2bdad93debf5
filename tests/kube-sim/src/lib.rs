//! `kube-sim`: a Kubernetes API stand-in for adze's tests. Its API server keeps objects in
//! memory and serves what kube-rs and `kubectl` need; its kubelet runs each Pod in the local
//! Docker engine.
//!
//! # Design
//!
//! - [`kubelet`] runs Pods: it sees a Pod through [`kubelet::PodHost`], the narrow view of the
//!   API server it needs (referenced ConfigMaps, Secrets and claims; status writes), so it can be
//!   tested on its own against a real engine.
//!
//! # Not yet
//!
//! - Everything: this is the skeleton the API server and the kubelet grow into.

pub mod kubelet;
