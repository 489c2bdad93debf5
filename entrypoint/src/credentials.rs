//! Credentials into `$HOME` (§4.8), files under `.ssh/` made 0600 for ssh: the files the Pod mounts at `/tekton/creds` (the run's
//! service-account Secrets, `.ssh/`, `.docker/config.json`, `.gitconfig`, …) are copied into
//! the home directory before the command runs, as Tekton's entrypoint does
//! (`CopyCredsToHome`), so tools find them wherever the image puts `$HOME`.
//!
//! With `-creds_source` the Pod's read-only Secret volume is first copied into `/tekton/creds`,
//! the step's own writable emptyDir, as Tekton's creds-init writes it: the files then belong
//! to the step's user with `.ssh/` private, so `ssh -i $(credentials.path)/.ssh/id_x` works
//! for a root step too (a Secret volume's files are root's and readable by all, which ssh
//! refuses from its owner).
//!
//! A file already at its destination is left alone (the Pod may mount it there itself); a
//! copy that fails is reported on stderr and the step goes on, as Tekton's does.

use std::fs;
use std::io;
use std::path::Path;

/// Copies everything under `creds_dir` into `home`, keeping modes; nothing when `creds_dir`
/// does not exist. Returns the failures, to report.
pub fn copy_to_home(creds_dir: &Path, home: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    if creds_dir.is_dir() {
        copy_tree(creds_dir, home, &mut failures);
    }
    failures
}

fn copy_tree(from: &Path, to: &Path, failures: &mut Vec<String>) {
    let entries = match fs::read_dir(from) {
        Ok(entries) => entries,
        Err(error) => return failures.push(format!("{}: {error}", from.display())),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        // A Secret volume keeps its files behind `..data` links; the visible names suffice.
        if name.to_string_lossy().starts_with("..") {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        if source.is_dir() {
            if let Err(error) = fs::create_dir_all(&target) {
                failures.push(format!("{}: {error}", target.display()));
                continue;
            }
            copy_tree(&source, &target, failures);
        } else if !target.exists() {
            if let Err(error) = copy_file(&source, &target) {
                failures.push(format!("{}: {error}", target.display()));
            }
        }
    }
}

fn copy_file(source: &Path, target: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::copy(source, target)?;
    // ssh refuses keys (and configs) others can read; the copy is the step user's own.
    if parent_is_ssh(target) {
        fs::set_permissions(target, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn parent_is_ssh(path: &Path) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|name| name == ".ssh")
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_credentials_land_in_home_with_their_modes() {
        let creds = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        fs::create_dir_all(creds.path().join(".ssh")).unwrap();
        let key = creds.path().join(".ssh/id_deploy");
        fs::write(&key, "KEY").unwrap();
        // A Secret volume's files are readable by every user; the copy must not be.
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(creds.path().join(".gitconfig"), "[credential]").unwrap();
        fs::write(home.path().join(".gitconfig"), "mine").unwrap();
        assert!(copy_to_home(creds.path(), home.path()).is_empty());
        let copied = home.path().join(".ssh/id_deploy");
        assert_eq!(fs::read_to_string(&copied).unwrap(), "KEY");
        assert_eq!(
            fs::metadata(&copied).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // What is already there stays.
        assert_eq!(
            fs::read_to_string(home.path().join(".gitconfig")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn no_credentials_directory_is_nothing_to_do() {
        let home = tempfile::tempdir().unwrap();
        assert!(copy_to_home(&home.path().join("none"), home.path()).is_empty());
        assert_eq!(fs::read_dir(home.path()).unwrap().count(), 0);
    }
}
