//! Where catalog entries come from: the folders built into adze, or folders on disk.
//!
//! A catalog folder holds one Task or Pipeline (`<name>/<name>.yaml`) and its documents
//! (`README.md`; for a pipeline also `RUNBOOK.md` and `rbac.yaml`). Built-in folders are
//! the repository's `tasks/*/` and `pipelines/*/`, embedded by build.rs.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::load::catalog::FILES;

/// One file of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFile {
    /// The file's name in its folder (`README.md`).
    pub name: String,
    /// How diagnostics name it (`<builtin>/tasks/x/x.yaml`, or a path on disk).
    pub display: String,
    /// Its text.
    pub text: String,
}

/// One Task's or Pipeline's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// The folder it sits in (`tasks` or `pipelines`); empty when unknown.
    pub section: String,
    /// The folder's own name, which is the object's.
    pub name: String,
    /// How messages name the folder.
    pub display: String,
    /// Its files, by name.
    pub files: Vec<CatalogFile>,
}

impl Folder {
    /// The file called `name`, if any.
    pub fn file(&self, name: &str) -> Option<&CatalogFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The path of the folder from a repository's root (`tasks/x`), as `init` lays it out.
    pub fn relative(&self) -> String {
        if self.section.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.section, self.name)
        }
    }

    /// True for files that hold YAML.
    pub fn is_yaml(name: &str) -> bool {
        name.ends_with(".yaml") || name.ends_with(".yml")
    }
}

/// The folders built into adze, sorted by section then name.
pub fn builtin() -> Vec<Folder> {
    let mut folders: BTreeMap<(String, String), Folder> = BTreeMap::new();
    for (path, text) in FILES {
        let mut parts = path.splitn(3, '/');
        let (Some(section), Some(name), Some(file)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        folders
            .entry((section.to_owned(), name.to_owned()))
            .or_insert_with(|| Folder {
                section: section.to_owned(),
                name: name.to_owned(),
                display: format!("<builtin>/{section}/{name}"),
                files: Vec::new(),
            })
            .files
            .push(CatalogFile {
                name: file.to_owned(),
                display: format!("<builtin>/{path}"),
                text: (*text).to_owned(),
            });
    }
    folders.into_values().collect()
}

/// The catalog folders at `dir`: a repository (its `tasks/*/` and `pipelines/*/`), one
/// section (each sub-folder), or one folder (it holds `<its name>.yaml`).
pub fn on_disk(dir: &Path) -> io::Result<Vec<Folder>> {
    // `.` and `..` have no name of their own to match a folder's YAML against.
    let canonical;
    let dir = if dir.file_name().is_none() {
        canonical = dir.canonicalize()?;
        canonical.as_path()
    } else {
        dir
    };
    let sections: Vec<PathBuf> = ["tasks", "pipelines"]
        .iter()
        .map(|s| dir.join(s))
        .filter(|p| p.is_dir())
        .collect();
    let mut out = Vec::new();
    if !sections.is_empty() {
        for section in sections {
            for folder in subfolders(&section)? {
                out.push(read_folder(&folder)?);
            }
        }
        return Ok(out);
    }
    let own = dir
        .file_name()
        .map(|n| dir.join(format!("{}.yaml", n.to_string_lossy())));
    if own.is_some_and(|p| p.is_file()) {
        return Ok(vec![read_folder(dir)?]);
    }
    if !dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not a directory", dir.display()),
        ));
    }
    for folder in subfolders(dir)? {
        out.push(read_folder(&folder)?);
    }
    Ok(out)
}

/// The directories in `dir`, sorted.
fn subfolders(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

fn read_folder(dir: &Path) -> io::Result<Folder> {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let section = dir.parent().map(name).unwrap_or_default();
    let mut files = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    for path in paths {
        let file = name(&path);
        if !(Folder::is_yaml(&file) || file.ends_with(".md")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        files.push(CatalogFile {
            name: file,
            display: path.display().to_string(),
            text,
        });
    }
    Ok(Folder {
        section: if section == "tasks" || section == "pipelines" {
            section
        } else {
            String::new()
        },
        name: name(dir),
        display: dir.display().to_string(),
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }

    #[test]
    fn a_repository_a_section_and_a_folder_are_all_found() {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let root = tmp.path();
        write(root, "tasks/a/a.yaml", "kind: Task");
        write(root, "tasks/a/README.md", "# a");
        write(root, "tasks/a/notes.txt", "skipped");
        write(root, "tasks/b/b.yaml", "kind: Task");
        write(root, "pipelines/p/p.yaml", "kind: Pipeline");
        let names = |folders: Vec<Folder>| -> Vec<String> {
            folders.iter().map(Folder::relative).collect()
        };
        assert_eq!(
            names(on_disk(root).expect("a repository")),
            ["tasks/a", "tasks/b", "pipelines/p"]
        );
        assert_eq!(
            names(on_disk(&root.join("tasks")).expect("a section")),
            ["tasks/a", "tasks/b"]
        );
        let one = on_disk(&root.join("tasks/a")).expect("a folder");
        assert_eq!(names(one.clone()), ["tasks/a"]);
        let files: Vec<&str> = one[0].files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(files, ["README.md", "a.yaml"]);
        assert!(on_disk(&root.join("nope")).is_err());
    }

    #[test]
    fn builtin_folders_group_the_embedded_files() {
        for folder in builtin() {
            assert!(matches!(folder.section.as_str(), "tasks" | "pipelines"));
            for file in &folder.files {
                assert_eq!(
                    file.display,
                    format!("<builtin>/{}/{}", folder.relative(), file.name)
                );
            }
        }
    }
}
