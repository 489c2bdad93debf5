//! Secret masking: every value that comes from a Secret, or that the user marks as secret
//! (`--mask`, `--secret`), is replaced by `***` wherever adze writes it for people or keeps
//! it: logs, progress and events, status objects, summaries, error messages, stored history.
//!
//! # Design
//!
//! - [`Masker`] is the only place that knows the values. It is shared (`Arc`) by whatever
//!   writes: the [`ProgressSink`] masks every event as it is sent, so the terminal renderer,
//!   the JSON events, the history recorder and `adze serve`'s store all read masked events;
//!   status objects and messages go through [`Masker::mask_json`] and [`Masker::mask`]
//!   before they are printed or written; `adze serve`'s store masks each write.
//! - Values can be added while it is in use ([`Masker::add`]), for the interceptor secrets
//!   `adze serve` reads from a cluster only when a webhook needs them.
//! - [`collect`] finds the values of a run: every key of every Secret loaded with it (after
//!   `--secret`), whether or not a step refers to it, because a Secret reaches a step in many
//!   ways (env, `envFrom`, workspaces, volumes, projected volumes, credentials, object names
//!   built from params) and masking one more value costs nothing.
//! - Under `--executor kubernetes` a Pod may read Secrets that only the cluster holds: the
//!   executor names them from each Pod it builds ([`collect::pod_secret_names`]), reads them
//!   before creating the Pod and adds their values to the masker of its progress sink, with
//!   the same rules (`exec/kubernetes/cluster_secrets.rs`).
//!
//! # Invariants
//!
//! - A masked text contains no value of the masker, no value trimmed, and no line (trimmed)
//!   of [`MIN_LINE_LENGTH`] characters or more of a multi-line value: masking repeats until nothing matches, so `***` next to other text cannot form a
//!   value either. Overlapping or adjacent occurrences become one `***`.
//! - Values shorter than [`MIN_LENGTH`] characters (after trimming) are refused with
//!   [`TooShort`]: a one-letter secret would mask every such letter and make logs unreadable.
//!   Callers warn, naming where the value came from, never the value.
//! - Masking never panics, whatever the text and the values.
//! - Log lines reach the sink whole (both executors split step output on newlines before
//!   sending), so a value written by a step in several writes is masked as one line.
//!
//! # Not yet
//!
//! - Encodings of a value (base64, URL-encoding, JSON escapes) are not masked, nor is a
//!   value split over several lines of output.
//! - Under `--executor kubernetes`, a Secret that is absent when its Pod is built or that the
//!   kubeconfig's user may not read (a warning names it), and Secrets a step fetches from the
//!   API server itself.
//! - The YAML snippets of diagnostics printed before a run starts (they show the files as
//!   written, Secret documents included).
//! - `adze controller` writes statuses to the cluster unmasked, as Tekton does (the cluster's
//!   RBAC guards them).
//! - What steps write to their own files (`stdoutConfig.path`, workspaces, results files)
//!   is theirs and stays as written; only what adze shows and keeps is masked.
//!
//! [`ProgressSink`]: crate::run::ProgressSink

pub mod collect;
mod masker;

pub use masker::{Masker, TooShort, MASK, MIN_LENGTH, MIN_LINE_LENGTH};
