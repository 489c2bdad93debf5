//! Configuration and overrides: `.adze.yaml` (or `--config FILE`) gives a project's
//! defaults for `adze run`, `adze plan` and the runs `adze serve` starts, command-line flags
//! override them, and image maps point image references at a mirror or a local build.
//!
//! # Design
//!
//! - [`discover`] picks the file: `--config`, else the nearest `.adze.yaml` from the working
//!   directory up to the repository root.
//! - [`file`] reads it into typed values, each with its line; mistakes are located
//!   diagnostics rendered like `adze validate`'s.
//! - [`settings`] layers flag > file > default and remembers each value's source, which
//!   `adze config` prints and `adze run` and `adze serve` apply.
//! - [`serve_keys`] says which keys `adze serve` ignores (and why), for its startup
//!   warning and `adze config --for serve`.
//! - [`image_map`] matches and rewrites image references. The map travels in the
//!   [`Bundle`](crate::load::Bundle) and is applied where a Task's steps and sidecars are
//!   resolved ([`resolve_task`](crate::plan::task::resolve_task)), after params are
//!   substituted, so `adze plan`, the Docker executor and the Kubernetes executor all see
//!   the same mapped images, including images named through a param.
//!
//! # Invariants
//!
//! - A value given on the command line is never replaced by the file's: the CLI tells
//!   "given" from "defaulted" by clap's value source, not by comparing with the default.
//! - The file's params and workspaces only fill in what a run leaves unset; `-p`/`-w`
//!   replace the run's own.
//!
//! # Not yet
//!
//! - Commands other than `run`, `plan`, `serve`, `trigger` (the runs it starts), `doctor`
//!   (its image map only) and `config` do not read the file, nor do `adze controller` and
//!   runs `adze serve --executor create` hands to a cluster.
//! - `adze serve` reads the file once, at startup; a change takes a restart.
//! - The file's params and workspaces go only where the run's Task or Pipeline declares them
//!   when that spec is inline or loaded by name; a run whose spec a resolver fetches later
//!   gets them all (Tekton ignores params nothing declares).

pub mod discover;
pub mod file;
pub mod image_map;
pub mod serve_keys;
pub mod settings;

use std::path::Path;

pub use discover::Choice;
pub use file::{ConfigError, ConfigFile};
pub use image_map::{ImageMap, ImageRule};
pub use settings::{CommandLine, RunDefaults, Settings, Source};

/// The configuration that applies in `cwd` with `--config` set to `given`: which file, and
/// its contents.
pub fn load(given: Option<&Path>, cwd: &Path) -> Result<(Choice, Option<ConfigFile>), ConfigError> {
    let choice = discover::choose(given, cwd)?;
    let file = choice.path().map(file::read).transpose()?;
    Ok((choice, file))
}
