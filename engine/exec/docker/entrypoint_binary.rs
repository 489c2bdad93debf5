//! Finding the static `adze-entrypoint` the Docker executor bind-mounts into every step
//! container when it starts all steps of a TaskRun at once (issue 8, point 4).
//!
//! # Why
//!
//! Started together, step containers are ordered only by the entrypoint through
//! `/tekton/run`, so the binary must be on the host and runnable in any image: the static
//! build (`crt-static`), not the dynamically linked one `cargo build` makes. `$ADZE_ENTRYPOINT`
//! names it explicitly (tests, packagers); otherwise it is looked for beside the running
//! `adze` executable, where an install puts both. Tests must use the variable (pointing at
//! `<target>/static-entrypoint/x86_64-unknown-linux-gnu/release/adze-entrypoint`, which
//! tests/setup-docker.sh builds): `cargo test --workspace` writes the *dynamic* build of the
//! entrypoint crate to `<target>/debug/adze-entrypoint`, beside the debug `adze`, and that one
//! does not run in busybox or in an image with no files.
//!
//! # Invariants
//!
//! - `$ADZE_ENTRYPOINT`, when set and not empty, is the only place looked at: a wrong value
//!   is an error naming it, never a silent fall-back to another binary.
//! - The path returned is absolute (the engine resolves bind mounts on its own side).
//!
//! # Not yet
//!
//! - The executor does not call this yet: the concurrent start is not adopted (see
//!   `docs/kubernetes-entrypoint.md`). Checking that the file is a static build (an ELF
//!   without an interpreter) rather than only a regular file.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable that names the entrypoint binary.
pub const ENTRYPOINT_ENV: &str = "ADZE_ENTRYPOINT";
/// The binary's file name beside the `adze` executable.
pub const ENTRYPOINT_FILE: &str = "adze-entrypoint";
/// How to build the static binary, given in every error.
const BUILD_HINT: &str = "build it with `RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build \
     -p adze-entrypoint --release --target x86_64-unknown-linux-gnu` (tests/setup-docker.sh \
     does this) and put it beside adze or name it in $ADZE_ENTRYPOINT";

/// Why the entrypoint binary cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntrypointMissing {
    /// `$ADZE_ENTRYPOINT` names something that is not a regular file.
    #[error("$ADZE_ENTRYPOINT is {}, which is not a file; {BUILD_HINT}", .path.display())]
    FromEnv {
        /// The value of `$ADZE_ENTRYPOINT`, made absolute.
        path: PathBuf,
    },
    /// Nothing named `adze-entrypoint` beside the executable, and no `$ADZE_ENTRYPOINT`.
    #[error(
        "the step entrypoint was not found at {} and $ADZE_ENTRYPOINT is not set; {BUILD_HINT}",
        .path.display()
    )]
    BesideExecutable {
        /// Where it was looked for.
        path: PathBuf,
    },
}

/// Finds the entrypoint from the process's environment and executable.
pub fn locate() -> Result<PathBuf, EntrypointMissing> {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("adze"));
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    locate_from(std::env::var_os(ENTRYPOINT_ENV), &exe, &cwd)
}

/// Finds the entrypoint from `$ADZE_ENTRYPOINT`'s value `env`, else beside `exe`; relative
/// paths are taken from `cwd`.
pub fn locate_from(
    env: Option<OsString>,
    exe: &Path,
    cwd: &Path,
) -> Result<PathBuf, EntrypointMissing> {
    if let Some(value) = env.filter(|v| !v.is_empty()) {
        let path = cwd.join(value);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(EntrypointMissing::FromEnv { path })
        };
    }
    let dir = cwd.join(exe.parent().unwrap_or_else(|| Path::new("")));
    let path = dir.join(ENTRYPOINT_FILE);
    if path.is_file() {
        Ok(path)
    } else {
        Err(EntrypointMissing::BesideExecutable { path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary directory")
    }

    #[test]
    fn the_environment_wins_over_the_binary_beside_adze() {
        let dir = scratch();
        std::fs::write(dir.path().join(ENTRYPOINT_FILE), b"beside").unwrap();
        std::fs::write(dir.path().join("chosen"), b"chosen").unwrap();
        let found = locate_from(Some("chosen".into()), &dir.path().join("adze"), dir.path());
        assert_eq!(found, Ok(dir.path().join("chosen")));
    }

    #[test]
    fn a_wrong_environment_value_is_an_error_not_a_fall_back() {
        let dir = scratch();
        std::fs::write(dir.path().join(ENTRYPOINT_FILE), b"beside").unwrap();
        let err = locate_from(
            Some("/nowhere/ep".into()),
            &dir.path().join("adze"),
            dir.path(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            EntrypointMissing::FromEnv {
                path: PathBuf::from("/nowhere/ep")
            }
        );
        let message = err.to_string();
        assert!(
            message.contains("/nowhere/ep") && message.contains("crt-static"),
            "{message}"
        );
    }

    #[test]
    fn beside_the_executable_with_a_relative_executable_path() {
        let dir = scratch();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin").join(ENTRYPOINT_FILE), b"ep").unwrap();
        let found = locate_from(Some(OsString::new()), Path::new("bin/adze"), dir.path());
        assert_eq!(found, Ok(dir.path().join("bin").join(ENTRYPOINT_FILE)));
    }

    #[test]
    fn missing_everywhere_names_where_it_looked_and_the_fix() {
        let dir = scratch();
        let err = locate_from(None, &dir.path().join("adze"), dir.path()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&dir.path().join(ENTRYPOINT_FILE).display().to_string())
                && message.contains("ADZE_ENTRYPOINT")
                && message.contains("setup-docker.sh"),
            "{message}"
        );
    }
}
