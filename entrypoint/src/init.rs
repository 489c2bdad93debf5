//! `adze-entrypoint init DST [DIR | LINK=TARGET ...]`: what the Pod's init container `prepare`
//! does. It copies this very executable into the shared `/tekton/bin` volume, so step images
//! need not contain it, creates the per-step status directories every step may write to, and
//! links each `/tekton/steps/step-<name>` (and `/tekton/steps/<i>`) to its step's status
//! directory, where `$(steps.<name>.results.R)` is read (§4.2).
//!
//! The copy is written beside `DST` and renamed over it, so a re-run of the init container
//! (a Pod restarted by its node) never writes into a binary a step is executing ("text file
//! busy") and a step never sees half a binary.

use std::fs::{self, DirBuilder, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The executable's own file, whatever name it was started by.
const SELF_EXE: &str = "/proc/self/exe";

/// Why `init` could not prepare the volumes (the init container then exits 1).
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// `init` was given no destination.
    #[error("init needs a destination: adze-entrypoint init DST [DIR...]")]
    NoDestination,
    /// The running executable could not be read.
    #[error("cannot read this executable ({SELF_EXE}): {source}; is /proc mounted?")]
    ReadSelf {
        /// The I/O error.
        source: io::Error,
    },
    /// The copy or a directory could not be written.
    #[error("cannot create {path}: {source}; check that its volume is mounted and writable by uid {uid}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
        /// Who tried, so the fix (fsGroup, emptyDir, runAsUser) is obvious.
        uid: u32,
    },
}

/// Copy the running executable to `destination` (mode 0755), create each directory (mode
/// 0777, so steps running as any user can write their markers and results) and each
/// `LINK=TARGET` symbolic link (its parent 0777, `TARGET` taken as written).
pub fn run(args: &[String]) -> Result<(), InitError> {
    let (destination, rest) = args.split_first().ok_or(InitError::NoDestination)?;
    install_self(Path::new(destination))?;
    for item in rest {
        match item.split_once('=') {
            Some((link, target)) => create_link(Path::new(link), Path::new(target))?,
            None => create_shared_dir(Path::new(item))?,
        }
    }
    Ok(())
}

/// Point `link` at `target`, replacing what a previous run of init left there.
fn create_link(link: &Path, target: &Path) -> Result<(), InitError> {
    if let Some(parent) = link.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_shared_dir(parent)?;
    }
    let create = || {
        match fs::symlink_metadata(link) {
            Ok(meta) if meta.file_type().is_symlink() => fs::remove_file(link)?,
            _ => {}
        }
        std::os::unix::fs::symlink(target, link)
    };
    create().map_err(|source| InitError::Write {
        path: link.to_path_buf(),
        source,
        uid: current_uid(),
    })
}

fn install_self(destination: &Path) -> Result<(), InitError> {
    let binary = fs::read(SELF_EXE).map_err(|source| InitError::ReadSelf { source })?;
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Write {
            path,
            source,
            uid: current_uid(),
        }
    };
    if let Some(parent) = destination.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(write_error(parent))?;
    }
    let mut temporary = destination.as_os_str().to_owned();
    temporary.push(".adze-init");
    let temporary = PathBuf::from(temporary);
    let install = || {
        fs::write(&temporary, &binary)?;
        // Explicitly, not through the umask: every step's user must be able to execute it.
        fs::set_permissions(&temporary, Permissions::from_mode(0o755))?;
        fs::rename(&temporary, destination)
    };
    install().map_err(|error| {
        let _ = fs::remove_file(&temporary);
        write_error(destination)(error)
    })
}

/// Create `directory` and each missing parent with mode 0777 regardless of the umask.
fn create_shared_dir(directory: &Path) -> Result<(), InitError> {
    let missing: Vec<&Path> = directory
        .ancestors()
        .take_while(|path| !path.as_os_str().is_empty() && !path.exists())
        .collect();
    for path in missing.into_iter().rev() {
        let create = || {
            match DirBuilder::new().mode(0o777).create(path) {
                // Another init (or a racing step) made it: still make it writable to all.
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                other => other?,
            }
            fs::set_permissions(path, Permissions::from_mode(0o777))
        };
        create().map_err(|source| InitError::Write {
            path: path.to_path_buf(),
            source,
            uid: current_uid(),
        })?;
    }
    Ok(())
}

/// The process's real uid, read from /proc so the crate needs no libc binding.
fn current_uid() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next())
                .and_then(|uid| uid.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn words(items: &[&Path]) -> Vec<String> {
        items.iter().map(|p| p.display().to_string()).collect()
    }

    #[test]
    fn copies_itself_and_creates_shared_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("bin/entrypoint");
        let status0 = dir.path().join("run/0/status");
        let status1 = dir.path().join("run/1/status");
        run(&words(&[&destination, &status0, &status1])).unwrap();
        // The copy is this test executable, byte for byte.
        assert_eq!(
            fs::read(&destination).unwrap(),
            fs::read(std::env::current_exe().unwrap()).unwrap()
        );
        assert_eq!(mode(&destination), 0o755);
        for path in [&status0, &status1, &dir.path().join("run/0")] {
            assert_eq!(mode(path), 0o777, "{}", path.display());
        }
        assert!(!dir.path().join("bin/entrypoint.adze-init").exists());
    }

    #[test]
    fn links_step_names_to_their_status_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let status = dir.path().join("run/0/status");
        let link = dir.path().join("steps/step-build");
        let arg = format!("{}={}", link.display(), status.display());
        let args = words(&[&dir.path().join("entrypoint"), &status]);
        run(&[args, vec![arg.clone()]].concat()).unwrap();
        fs::write(status.join("exitCode"), "0").unwrap();
        assert_eq!(fs::read_to_string(link.join("exitCode")).unwrap(), "0");
        assert_eq!(mode(&dir.path().join("steps")), 0o777);
        // A second run (the init container restarted) keeps the link.
        run(&words(&[&dir.path().join("entrypoint")])
            .into_iter()
            .chain([arg])
            .collect::<Vec<_>>())
        .unwrap();
        assert_eq!(fs::read_link(&link).unwrap(), status);
    }

    #[test]
    fn a_second_run_replaces_the_copy_and_keeps_existing_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("entrypoint");
        fs::write(&destination, "old").unwrap();
        let status = dir.path().join("run/0/status");
        fs::create_dir_all(&status).unwrap();
        fs::write(status.join("exitCode"), "0").unwrap();
        run(&words(&[&destination, &status])).unwrap();
        assert_ne!(fs::read(&destination).unwrap(), b"old");
        assert_eq!(fs::read_to_string(status.join("exitCode")).unwrap(), "0");
    }

    #[test]
    fn errors_name_the_path_and_the_fix() {
        assert!(matches!(run(&[]), Err(InitError::NoDestination)));
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "").unwrap();
        let error = run(&words(&[&blocker.join("entrypoint")])).unwrap_err();
        let text = error.to_string();
        assert!(text.contains(&blocker.display().to_string()), "{text}");
        assert!(text.contains("writable by uid"), "{text}");
    }
}
