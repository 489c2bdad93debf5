//! Finding the static `adze-entrypoint` the Docker executor bind-mounts into every step
//! container when it starts all steps of a TaskRun at once ([`steps_at_once`](super::steps_at_once)).
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
//! - Other architectures than x86-64.

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
    /// The file found is not a statically linked x86-64 executable: it would not run in an
    /// image without the host's C library (`cargo build` makes a dynamic one).
    #[error("{} is not a statically linked x86-64 executable; {BUILD_HINT}", .path.display())]
    NotStatic {
        /// The file.
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
    let path = if let Some(value) = env.filter(|v| !v.is_empty()) {
        let path = cwd.join(value);
        if !path.is_file() {
            return Err(EntrypointMissing::FromEnv { path });
        }
        path
    } else {
        let dir = cwd.join(exe.parent().unwrap_or_else(|| Path::new("")));
        let path = dir.join(ENTRYPOINT_FILE);
        if !path.is_file() {
            return Err(EntrypointMissing::BesideExecutable { path });
        }
        path
    };
    if is_static_x86_64(&path) {
        Ok(path)
    } else {
        Err(EntrypointMissing::NotStatic { path })
    }
}

/// True when `path` is a 64-bit little-endian x86-64 ELF with no program interpreter
/// (`PT_INTERP`): it needs no dynamic loader from the image.
fn is_static_x86_64(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    const PT_INTERP: u32 = 3;
    const EM_X86_64: u16 = 62;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut header = [0u8; 64];
    if file.read_exact(&mut header).is_err() || &header[..4] != b"\x7fELF" {
        return false;
    }
    // ELFCLASS64, ELFDATA2LSB.
    if header[4] != 2 || header[5] != 1 {
        return false;
    }
    let u16_at = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&header[0x20..0x28]);
    let (phoff, entry_size, count) = (u64::from_le_bytes(offset), u16_at(0x36), u16_at(0x38));
    if u16_at(0x12) != EM_X86_64 || (count > 0 && entry_size < 4) {
        return false;
    }
    (0..u64::from(count)).all(|i| {
        let mut kind = [0u8; 4];
        file.seek(SeekFrom::Start(phoff + i * u64::from(entry_size)))
            .and_then(|_| file.read_exact(&mut kind))
            .is_ok_and(|()| u32::from_le_bytes(kind) != PT_INTERP)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary directory")
    }

    /// An x86-64 ELF header with one program header of type `kind`.
    fn elf(kind: u32) -> Vec<u8> {
        let mut bytes = vec![0u8; 64 + 56];
        bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
        bytes[0x12..0x14].copy_from_slice(&62u16.to_le_bytes());
        bytes[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        bytes[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        bytes[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        bytes[64..68].copy_from_slice(&kind.to_le_bytes());
        bytes
    }

    /// A static executable's header (`PT_LOAD` only).
    fn static_elf() -> Vec<u8> {
        elf(1)
    }

    #[test]
    fn only_a_static_executable_is_taken() {
        let dir = scratch();
        let exe = dir.path().join("adze");
        std::fs::write(dir.path().join(ENTRYPOINT_FILE), elf(3)).unwrap();
        let err = locate_from(None, &exe, dir.path()).unwrap_err();
        assert!(matches!(err, EntrypointMissing::NotStatic { .. }), "{err}");
        std::fs::write(dir.path().join(ENTRYPOINT_FILE), b"#!/bin/sh").unwrap();
        assert!(locate_from(None, &exe, dir.path()).is_err());
        std::fs::write(dir.path().join(ENTRYPOINT_FILE), static_elf()).unwrap();
        assert!(locate_from(None, &exe, dir.path()).is_ok());
    }

    #[test]
    fn the_environment_wins_over_the_binary_beside_adze() {
        let dir = scratch();
        std::fs::write(dir.path().join(ENTRYPOINT_FILE), static_elf()).unwrap();
        std::fs::write(dir.path().join("chosen"), static_elf()).unwrap();
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
        std::fs::write(dir.path().join("bin").join(ENTRYPOINT_FILE), static_elf()).unwrap();
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
