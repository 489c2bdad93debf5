//! `adze catalog init`: copies a catalog entry's folder into a user's repository.
//!
//! A pipeline brings the folders of the tasks it refers to by `taskRef`, so the copy runs
//! without the built-in catalog. The layout is the catalog's own (`tasks/<t>/`,
//! `pipelines/<p>/`) under the target directory. Nothing is written when any target file
//! exists, unless forced: a half-copied folder is worse than none.

use std::path::{Path, PathBuf};

use super::{Catalog, Entry};

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Where it goes.
    pub path: PathBuf,
    /// What it holds.
    pub text: String,
}

/// What `init` will do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InitPlan {
    /// The files, entry's folder first, then each referenced task's.
    pub files: Vec<Planned>,
    /// Tasks the pipeline refers to that the catalog does not hold.
    pub missing_tasks: Vec<String>,
}

/// Why nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Files are in the way.
    #[error("{} already exist{}: {}; nothing was written (--force overwrites them)", if .0.len() == 1 { "a file" } else { "files" }, if .0.len() == 1 { "s" } else { "" }, .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Exists(Vec<PathBuf>),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The files that copying `entry` into `dir` writes.
pub fn plan(catalog: &Catalog, entry: &Entry<'_>, dir: &Path) -> InitPlan {
    let mut out = InitPlan::default();
    let mut add = |folder: &super::Folder| {
        for file in &folder.files {
            out.files.push(Planned {
                path: dir.join(folder.relative()).join(&file.name),
                text: file.text.clone(),
            });
        }
    };
    add(entry.folder);
    for name in entry.task_refs() {
        match catalog
            .folders
            .iter()
            .find(|f| f.section == "tasks" && f.name == name)
        {
            Some(folder) => add(folder),
            None => out.missing_tasks.push(name),
        }
    }
    out
}

/// Writes the planned files; refuses when any exists and `force` is off.
pub fn write(plan: &InitPlan, force: bool) -> Result<(), InitError> {
    if !force {
        let existing: Vec<PathBuf> = plan
            .files
            .iter()
            .filter(|f| f.path.exists())
            .map(|f| f.path.clone())
            .collect();
        if !existing.is_empty() {
            return Err(InitError::Exists(existing));
        }
    }
    for file in &plan.files {
        let io = |source| InitError::Io {
            path: file.path.clone(),
            source,
        };
        if let Some(parent) = file.path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&file.path, &file.text).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::folder::{CatalogFile, Folder};
    use super::*;

    fn folder(section: &str, name: &str, yaml: &str) -> Folder {
        let file = |n: &str, text: &str| CatalogFile {
            name: n.to_owned(),
            display: format!("{section}/{name}/{n}"),
            text: text.to_owned(),
        };
        Folder {
            section: section.to_owned(),
            name: name.to_owned(),
            display: format!("{section}/{name}"),
            files: vec![
                file("README.md", "# readme\n"),
                file(&format!("{name}.yaml"), yaml),
            ],
        }
    }

    fn catalog() -> Catalog {
        let task = |name: &str| {
            format!("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {{name: {name}}}\nspec:\n  steps: [{{name: s, image: x}}]\n")
        };
        Catalog::load(
            vec![
                folder("tasks", "a", &task("a")),
                folder("tasks", "b", &task("b")),
                folder(
                    "pipelines",
                    "p",
                    "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  tasks:\n  - {name: one, taskRef: {name: b}}\n  - {name: two, taskRef: {name: elsewhere}}\n  finally:\n  - {name: three, taskRef: {name: b}}\n",
                ),
            ],
            false,
        )
    }

    #[test]
    fn a_pipeline_brings_the_tasks_it_refers_to() {
        let catalog = catalog();
        let entry = catalog.find("p", None).expect("the pipeline");
        let plan = plan(&catalog, &entry, Path::new("out"));
        let paths: Vec<String> = plan
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "out/pipelines/p/README.md",
                "out/pipelines/p/p.yaml",
                "out/tasks/b/README.md",
                "out/tasks/b/b.yaml"
            ]
        );
        assert_eq!(plan.missing_tasks, ["elsewhere"]);
    }

    #[test]
    fn existing_files_stop_everything_unless_forced() {
        let catalog = catalog();
        let entry = catalog.find("a", None).expect("the task");
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let plan = plan(&catalog, &entry, tmp.path());
        write(&plan, false).expect("a fresh directory");
        let readme = tmp.path().join("tasks/a/README.md");
        std::fs::write(&readme, "mine").expect("overwrite");
        std::fs::remove_file(tmp.path().join("tasks/a/a.yaml")).expect("remove");
        let err = write(&plan, false).expect_err("README.md is in the way");
        assert!(
            matches!(&err, InitError::Exists(p) if p.as_slice() == std::slice::from_ref(&readme)),
            "{err}"
        );
        assert!(
            !tmp.path().join("tasks/a/a.yaml").exists(),
            "nothing written"
        );
        write(&plan, true).expect("forced");
        assert_eq!(
            std::fs::read_to_string(&readme).expect("read"),
            "# readme\n"
        );
    }
}
