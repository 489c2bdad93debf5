//! Which configuration file applies: the one `--config` names, else the nearest
//! `.adze.yaml` in the working directory or a parent, within the repository.
//!
//! # Design
//!
//! The search goes up from the working directory and stops at the first directory holding
//! `.git` (after looking in it) or at the filesystem root. A repository's configuration is
//! found from any of its subdirectories, and a file above the repository (someone's home
//! directory) never changes how a repository's pipelines run; `--config` names one
//! anywhere.

use std::path::{Path, PathBuf};

use super::file::{ConfigError, FILE_NAME};

/// Where the configuration in use comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Named with `--config` (absolute).
    Given(PathBuf),
    /// Found by the search (absolute).
    Found(PathBuf),
    /// No file applies.
    None,
}

impl Choice {
    /// The file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Choice::Given(p) | Choice::Found(p) => Some(p),
            Choice::None => None,
        }
    }
}

/// The nearest `.adze.yaml` from `start` up to the repository root (a directory holding
/// `.git`) or the filesystem root.
pub fn find_from(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// The configuration for a command run in `cwd` (absolute) with `--config` set to `given`:
/// an error when the named file does not exist.
pub fn choose(given: Option<&Path>, cwd: &Path) -> Result<Choice, ConfigError> {
    match given {
        Some(path) => {
            let path = cwd.join(path);
            if path.is_file() {
                Ok(Choice::Given(path))
            } else {
                Err(ConfigError::Missing { path })
            }
        }
        None => Ok(find_from(cwd).map_or(Choice::None, Choice::Found)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    #[test]
    fn the_nearest_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let deep = root.join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        touch(&root.join(FILE_NAME));
        assert_eq!(find_from(&deep), Some(root.join(FILE_NAME)));
        touch(&root.join("a/b").join(FILE_NAME));
        assert_eq!(find_from(&deep), Some(root.join("a/b").join(FILE_NAME)));
        assert_eq!(find_from(&root.join("a")), Some(root.join(FILE_NAME)));
    }

    #[test]
    fn the_search_stops_at_the_repository_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join(FILE_NAME));
        let repo = root.join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        assert_eq!(find_from(&repo.join("sub")), None);
        touch(&repo.join(FILE_NAME));
        assert_eq!(find_from(&repo.join("sub")), Some(repo.join(FILE_NAME)));
        // A directory holding `.adze.yaml` as a directory is not a configuration.
        let odd = root.join("odd");
        std::fs::create_dir_all(odd.join(FILE_NAME)).unwrap();
        std::fs::create_dir_all(odd.join(".git")).unwrap();
        assert_eq!(find_from(&odd), None);
    }

    #[test]
    fn a_given_file_must_exist_and_wins_over_the_search() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join(FILE_NAME));
        touch(&root.join("ci.yaml"));
        assert_eq!(
            choose(Some(Path::new("ci.yaml")), root).unwrap(),
            Choice::Given(root.join("ci.yaml"))
        );
        assert_eq!(
            choose(None, root).unwrap(),
            Choice::Found(root.join(FILE_NAME))
        );
        let missing = choose(Some(Path::new("nope.yaml")), root).unwrap_err();
        assert_eq!(
            missing.to_string(),
            format!(
                "--config {}: no such file",
                root.join("nope.yaml").display()
            )
        );
    }
}
