//! `adze doctor`: what stands between this machine and a finished `adze run`, one check at a
//! time, each with the fix for a failure.
//!
//! # Design
//!
//! Every check family ([`container_engine`], [`images`], [`cluster`]) returns [`Check`]s;
//! they never print. [`render`] turns them into lines, so the output is the same whoever
//! asks and is tested without an engine.
//!
//! # Invariants
//!
//! - Every [`Status::Fail`] carries a fix: a failure the user cannot act on is not reported
//!   as one.
//! - A check that depends on an earlier one (versions on reachability) is left out when that
//!   one failed, so one cause gives one failure.
//!
//! # Not yet
//!
//! - Images named through `$(params...)` without a literal default are only named.

pub mod cluster;
pub mod container_engine;
pub mod images;
pub mod render;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing to do.
    Ok,
    /// Works, but may fail later (little disk, an image to pull).
    Warn,
    /// `adze run` would fail.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// How it came out.
    pub status: Status,
    /// What was checked ("container engine", "image busybox").
    pub name: String,
    /// What was found.
    pub found: String,
    /// What to do about it; always set for a failure.
    pub fix: Option<String>,
}

impl Check {
    /// A passed check.
    pub fn ok(name: impl Into<String>, found: impl Into<String>) -> Check {
        Check {
            status: Status::Ok,
            name: name.into(),
            found: found.into(),
            fix: None,
        }
    }

    /// A warning, with advice when there is some.
    pub fn warn(name: impl Into<String>, found: impl Into<String>, fix: Option<String>) -> Check {
        Check {
            status: Status::Warn,
            name: name.into(),
            found: found.into(),
            fix,
        }
    }

    /// A failure and what to do about it.
    pub fn fail(
        name: impl Into<String>,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Fail,
            name: name.into(),
            found: found.into(),
            fix: Some(fix.into()),
        }
    }
}

/// True when no check failed (warnings pass).
pub fn passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != Status::Fail)
}
