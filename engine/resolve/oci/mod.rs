//! A small read-only OCI distribution client: what the `bundles` resolver needs to fetch one
//! object out of a Tekton bundle, and nothing more (no push, no indexes, no platforms).
//!
//! # Design
//!
//! [`reference`] validates the user's reference before any URL is built from it, [`registry`]
//! fetches and verifies a manifest and blobs (token auth included), [`manifest`] reads the
//! documents, [`layer`] unpacks a layer's single file.
//!
//! # Not yet
//!
//! Image indexes (a bundle is one image; an index is refused by name), digests other than
//! sha256, plain http to registries that are not on loopback.

pub mod layer;
pub mod manifest;
pub mod reference;
pub mod registry;
