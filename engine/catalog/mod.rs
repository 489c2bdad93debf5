//! The prebuilt catalog as `adze catalog` sees it: folders of Tasks and Pipelines, loaded
//! with positions, summarised for `list` and `show`, copied by `init` ([`init`]) and checked
//! against the catalog's conventions by `lint` ([`lint`]).
//!
//! # Design
//!
//! - A [`Catalog`] loads every YAML file of its folders into one [`Bundle`] as input, so
//!   the loader's positions, `adze validate`'s checks and name lookups all apply to it as
//!   they do to a user's files; diagnostics render the same way.
//! - The built-in catalog is what build.rs embedded ([`folder::builtin`]); a directory on
//!   disk is read the same way ([`folder::on_disk`]).
//!
//! # Invariants
//!
//! - A folder's object is the Task or Pipeline in `<folder>/<folder>.yaml`; a folder
//!   without one is listed by nothing and reported by the lint.

pub mod folder;
pub mod init;
pub mod lint;

use crate::api::{Kind, Object, ParamSpec, ParamType, ParamValue};
use crate::load::{Bundle, Loaded, Origin};

pub use folder::{CatalogFile, Folder};

/// Folders loaded into one bundle.
#[derive(Debug)]
pub struct Catalog {
    /// The folders, in order.
    pub folders: Vec<Folder>,
    /// Every YAML file of the folders, loaded as input (plus the built-in catalog when
    /// linting a directory, for the names its pipelines refer to).
    pub bundle: Bundle,
    /// Per folder: the bundle's file index of each YAML file, by file name.
    pub yaml_files: Vec<Vec<(String, usize)>>,
}

/// Why `show` or `init` found nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindError {
    /// No entry of that name.
    #[error("the catalog has no task or pipeline named \"{name}\"{}; `adze catalog list` shows what it has", suggestion.as_ref().map(|s| format!(" (did you mean \"{s}\"?)")).unwrap_or_default())]
    NotFound {
        /// The name asked for.
        name: String,
        /// A close name.
        suggestion: Option<String>,
    },
    /// A task and a pipeline share the name.
    #[error("both a task and a pipeline are named \"{0}\": add --kind task or --kind pipeline")]
    Ambiguous(String),
}

impl Catalog {
    /// Loads `folders`; `with_builtin` also loads the built-in catalog behind them, so
    /// references to its tasks resolve.
    pub fn load(folders: Vec<Folder>, with_builtin: bool) -> Catalog {
        let mut bundle = Bundle::new();
        let mut yaml_files = Vec::with_capacity(folders.len());
        for folder in &folders {
            let mut indices = Vec::new();
            for file in folder.files.iter().filter(|f| Folder::is_yaml(&f.name)) {
                indices.push((file.name.clone(), bundle.files.len()));
                bundle.add_source(&file.display, file.text.clone(), Origin::Input);
            }
            yaml_files.push(indices);
        }
        if with_builtin {
            bundle.load_builtin();
        }
        Catalog {
            folders,
            bundle,
            yaml_files,
        }
    }

    /// The built-in catalog.
    pub fn builtin() -> Catalog {
        Catalog::load(folder::builtin(), false)
    }

    /// The bundle file index of `name` in folder `i`.
    pub fn file_index(&self, i: usize, name: &str) -> Option<usize> {
        self.yaml_files[i]
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| *f)
    }

    /// The objects loaded from folder `i`'s file `name`.
    pub fn objects_in(&self, i: usize, name: &str) -> Vec<&Loaded> {
        let Some(file) = self.file_index(i, name) else {
            return Vec::new();
        };
        self.bundle
            .objects
            .iter()
            .filter(|o| o.file == file)
            .collect()
    }

    /// Folder `i`'s Task or Pipeline: the first one in `<folder>.yaml`.
    pub fn object(&self, i: usize) -> Option<&Loaded> {
        let own = format!("{}.yaml", self.folders[i].name);
        self.objects_in(i, &own)
            .into_iter()
            .find(|o| matches!(o.object.kind(), Kind::Task | Kind::Pipeline))
    }

    /// Every folder that holds a Task or Pipeline, as entries.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        (0..self.folders.len())
            .filter_map(|i| {
                self.object(i).map(|loaded| Entry {
                    folder: &self.folders[i],
                    index: i,
                    loaded,
                })
            })
            .collect()
    }

    /// The entry named `name` (of `kind`, when given).
    pub fn find(&self, name: &str, kind: Option<Kind>) -> Result<Entry<'_>, FindError> {
        let entries = self.entries();
        let matching: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.name() == name && kind.is_none_or(|k| e.kind() == k))
            .collect();
        match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(FindError::NotFound {
                name: name.to_owned(),
                suggestion: crate::load::catalog::suggest(
                    name,
                    entries.iter().map(|e| e.folder.name.as_str()),
                )
                .map(str::to_owned),
            }),
            _ => Err(FindError::Ambiguous(name.to_owned())),
        }
    }
}

/// One Task or Pipeline of a catalog.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Its folder.
    pub folder: &'a Folder,
    /// The folder's index in the catalog.
    pub index: usize,
    /// The object, with its positions.
    pub loaded: &'a Loaded,
}

/// A declared param, result or workspace, for `show`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Declared {
    /// Its name.
    pub name: String,
    /// `string`, `array`, `object` for params; `optional` for workspaces; empty otherwise.
    pub detail: String,
    /// The default, rendered (params only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The description, whitespace folded.
    pub description: String,
}

/// Collapses runs of whitespace, as a folded description reads.
fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn render_default(value: &ParamValue) -> String {
    match value {
        ParamValue::String(s) if s.is_empty() => "\"\"".to_owned(),
        ParamValue::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn params(specs: &[ParamSpec]) -> Vec<Declared> {
    specs
        .iter()
        .map(|p| Declared {
            name: p.name.clone(),
            // Tekton's defaulting: an untyped param with a list default is an array.
            detail: match p.effective_type() {
                Some(ParamType::Array) => "array",
                Some(ParamType::Object) => "object",
                Some(ParamType::String) => "string",
                None => p.type_.as_deref().unwrap_or("string"),
            }
            .to_owned(),
            default: p.default.as_ref().map(render_default),
            description: fold(p.description.as_deref().unwrap_or_default()),
        })
        .collect()
}

impl Entry<'_> {
    /// `metadata.name`.
    pub fn name(&self) -> String {
        self.loaded.object.display_name()
    }

    /// Task or Pipeline.
    pub fn kind(&self) -> Kind {
        self.loaded.object.kind()
    }

    /// The `app.kubernetes.io/version` label, or empty.
    pub fn version(&self) -> String {
        self.loaded
            .object
            .metadata()
            .labels
            .as_ref()
            .and_then(|l| l.get("app.kubernetes.io/version"))
            .cloned()
            .unwrap_or_default()
    }

    /// `spec.description`, or empty.
    pub fn description(&self) -> String {
        match &self.loaded.object {
            Object::Task(t) => t.spec.description.clone(),
            Object::Pipeline(p) => p.spec.description.clone(),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// The description's first sentence.
    pub fn summary(&self) -> String {
        let description = self.description();
        let first = description.trim().lines().next().unwrap_or_default().trim();
        match first.find(". ") {
            Some(end) => first[..=end].to_owned(),
            None => first.to_owned(),
        }
    }

    /// Declared params.
    pub fn params(&self) -> Vec<Declared> {
        match &self.loaded.object {
            Object::Task(t) => params(&t.spec.params),
            Object::Pipeline(p) => params(&p.spec.params),
            _ => Vec::new(),
        }
    }

    /// Declared results.
    pub fn results(&self) -> Vec<Declared> {
        let plain = |name: &str, description: &Option<String>| Declared {
            name: name.to_owned(),
            detail: String::new(),
            default: None,
            description: fold(description.as_deref().unwrap_or_default()),
        };
        match &self.loaded.object {
            Object::Task(t) => t
                .spec
                .results
                .iter()
                .map(|r| plain(&r.name, &r.description))
                .collect(),
            Object::Pipeline(p) => p
                .spec
                .results
                .iter()
                .map(|r| plain(&r.name, &r.description))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Declared workspaces.
    pub fn workspaces(&self) -> Vec<Declared> {
        let declared = |name: &str, optional: bool, description: &Option<String>| Declared {
            name: name.to_owned(),
            detail: if optional {
                "optional".into()
            } else {
                String::new()
            },
            default: None,
            description: fold(description.as_deref().unwrap_or_default()),
        };
        match &self.loaded.object {
            Object::Task(t) => t
                .spec
                .workspaces
                .iter()
                .map(|w| declared(&w.name, w.optional == Some(true), &w.description))
                .collect(),
            Object::Pipeline(p) => p
                .spec
                .workspaces
                .iter()
                .map(|w| declared(&w.name, w.optional == Some(true), &w.description))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The names of the tasks a pipeline refers to by `taskRef`, in order, without repeats.
    pub fn task_refs(&self) -> Vec<String> {
        let Object::Pipeline(p) = &self.loaded.object else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for task in p.spec.tasks.iter().chain(&p.spec.finally) {
            let Some(reference) = &task.task_ref else {
                continue;
            };
            let is_task = reference.kind.as_deref().is_none_or(|k| k == "Task");
            if let Some(name) = reference.name.as_ref().filter(|_| is_task) {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
        out
    }

    /// The folder's README, if it has one.
    pub fn readme(&self) -> Option<&CatalogFile> {
        self.folder.file("README.md")
    }

    /// The object's YAML file.
    pub fn yaml(&self) -> Option<&CatalogFile> {
        self.folder.file(&format!("{}.yaml", self.folder.name))
    }
}
