//! Loading: files, directories and stdin → typed Tekton objects that remember where every
//! field was written.
//!
//! Everything a user wrote ends up either as an [`Loaded`] Tekton object, a [`Resource`]
//! (ConfigMap, Secret, … kept for runs), or a located [`Diagnostic`]. Loading never stops
//! at the first bad document: each document is independent.

pub mod catalog;
pub mod convert;
pub mod decode;
mod document;
pub mod node_de;
pub mod remote;
pub mod source;
pub mod yaml;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::api::{Kind, Object};
use crate::diagnostic::{Diagnostic, Location};
use document::{
    decode_kind, embedded_only_fields, fold_field_case, report_decoding, unsupported_kind,
    written_name,
};
use source::{locate, Anchor, SourceFile};
use yaml::{Node, NodeKind};

/// Where an object came from, which decides lookup precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// Named on the command line.
    Input,
    /// A `--catalog` directory.
    Catalog,
    /// Shipped inside adze.
    Builtin,
    /// Fetched by a resolver; found only through its reference, never by name.
    Remote,
}

/// A Tekton object and where it was written.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Index into [`Bundle::files`].
    pub file: usize,
    /// Zero-based document index in the file.
    pub doc: usize,
    /// The (v1-converted) YAML tree, for locating fields.
    pub root: Node,
    /// `apiVersion` as written.
    pub written_api_version: String,
    /// The decoded object.
    pub object: Object,
    /// Lookup precedence.
    pub origin: Origin,
}

/// A non-Tekton Kubernetes object (ConfigMap, Secret, …), kept for runs.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Index into [`Bundle::files`].
    pub file: usize,
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// The whole object.
    pub value: serde_json::Value,
    /// The YAML tree, for locating fields (Tekton Triggers objects are validated from it).
    pub root: Node,
}

/// Errors that stop loading a path altogether.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The path could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A directory held no YAML files.
    #[error("{0} contains no .yaml, .yml or .json files")]
    EmptyDirectory(PathBuf),
}

/// A reference that resolved nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound {
    /// What was looked for.
    pub kind: Kind,
    /// The name.
    pub name: String,
    /// A close name that exists.
    pub suggestion: Option<String>,
}

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} \"{}\" not found", self.kind, self.name)
    }
}

/// Everything loaded for one command.
#[derive(Debug, Default)]
pub struct Bundle {
    /// Files read, in order.
    pub files: Vec<SourceFile>,
    /// Tekton objects.
    pub objects: Vec<Loaded>,
    /// Other Kubernetes objects.
    pub resources: Vec<Resource>,
    /// Findings made while loading (syntax, schema, duplicates), already located.
    pub diagnostics: Vec<Diagnostic>,
    /// (kind, name) → index of the object lookups return.
    by_name: HashMap<(Kind, String), usize>,
    /// Objects fetched for remote references.
    remote: Vec<remote::RemoteObject>,
    /// True once the resolution pass ran: it reported every reference it could not fetch.
    pub resolution_ran: bool,
    /// `--image-map` and the configuration's `imageMap`, applied to every resolved step and
    /// sidecar.
    pub image_map: crate::config::ImageMap,
}

const YAML_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

impl Bundle {
    /// An empty bundle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads a file, a directory (recursively) or `-` (stdin).
    pub fn load_path(&mut self, path: &Path, origin: Origin) -> Result<(), LoadError> {
        let io = |source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        };
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(io)?;
            self.add_source("<stdin>", text, origin);
            return Ok(());
        }
        if path.is_dir() {
            let files = yaml_files(path).map_err(io)?;
            if files.is_empty() {
                return Err(LoadError::EmptyDirectory(path.to_path_buf()));
            }
            for file in files {
                self.load_path(&file, origin)?;
            }
            return Ok(());
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            ))
        })?;
        self.add_source(&path.display().to_string(), text, origin);
        Ok(())
    }

    /// Loads the catalog built into adze.
    pub fn load_builtin(&mut self) {
        for (name, text) in catalog::BUILTIN {
            self.add_source(
                &format!("<builtin>/{name}"),
                text.to_string(),
                Origin::Builtin,
            );
        }
    }

    /// Parses one file's text and adds its documents.
    pub fn add_source(&mut self, name: &str, text: String, origin: Origin) {
        let file = self.files.len();
        let parsed = yaml::parse_stream(&text);
        self.files.push(SourceFile::new(name, text));
        for doc in parsed {
            match doc {
                Ok(doc) => {
                    for dup in &doc.duplicate_keys {
                        self.diagnostics.push(self.duplicate_key(file, dup));
                    }
                    if let Some(root) = doc.root {
                        self.add_document(file, doc.index, root, origin);
                    }
                }
                Err(e) => self.diagnostics.push(self.syntax_error(file, &e)),
            }
        }
    }

    fn at(&self, file: usize, pos: yaml::Pos, len: u32) -> Location {
        Location {
            file,
            path: self.files[file].name.clone(),
            line: pos.line,
            column: pos.col,
            len,
        }
    }

    fn duplicate_key(&self, file: usize, dup: &yaml::DuplicateKey) -> Diagnostic {
        let mut d = Diagnostic::error(
            "yaml/duplicate-key",
            format!("key \"{}\" already set in this mapping", dup.key),
        )
        .hint("Kubernetes rejects duplicate fields: keep one of them");
        let len = dup.key.chars().count().max(1) as u32;
        d.location = Some(self.at(file, dup.again, len));
        d.related = Some(crate::diagnostic::Related {
            field: String::new(),
            message: "first set here".into(),
            location: Some(self.at(file, dup.first, len)),
        });
        d
    }

    fn syntax_error(&self, file: usize, e: &yaml::YamlError) -> Diagnostic {
        let source = &self.files[file];
        let mut pos = e.pos;
        let hint = if e.message.contains("mapping values are not allowed") {
            "a `: ` inside a plain value starts a new mapping; quote the whole value".to_string()
        } else if e.message.contains("tab") {
            // The scanner stops on the token before the tab; point at the tab itself.
            if let Some(line) = (e.pos.line..e.pos.line + 3).find(|&l| {
                source
                    .line(l)
                    .is_some_and(|t| t.trim_start_matches(' ').starts_with('\t'))
            }) {
                let text = source.line(line).unwrap_or("");
                let col = text.find('\t').unwrap_or(0) as u32 + 1;
                pos = yaml::Pos { line, col };
            }
            "YAML indentation must use spaces, not tabs".to_string()
        } else if e.message.contains("unknown anchor") {
            unknown_anchor_hint(source, e.pos)
        } else if e.message.contains("flow sequence") {
            "a `[` list is not closed: add the closing `]` (and separate elements with commas)"
                .into()
        } else if e.message.contains("flow mapping") {
            "a `{` mapping is not closed: add the closing `}` (and separate entries with commas)"
                .into()
        } else if e.message.contains("quoted scalar") {
            "a quoted string is not closed; add the closing quote".into()
        } else if e.message.contains("expected '-' indicator") || e.message.contains("expected key")
        {
            "this line is indented differently from the lines around it; align it with its siblings"
                .into()
        } else {
            "check indentation and that every `key: value` pair and list item lines up".into()
        };
        let mut d =
            Diagnostic::error("yaml/syntax", format!("invalid YAML: {}", e.message)).hint(hint);
        d.location = Some(self.at(file, pos, 1));
        d
    }

    fn add_document(&mut self, file: usize, doc: usize, mut root: Node, origin: Origin) {
        let mut diags = Vec::new();
        if !matches!(root.kind, NodeKind::Map(_)) {
            diags.push(
                Diagnostic::error(
                    "yaml/not-an-object",
                    "a Kubernetes object must be a YAML mapping",
                )
                .hint("start the document with `apiVersion:` and `kind:` keys"),
            );
            self.push_located(file, &root, None, diags);
            return;
        }
        let api_version = root
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        let kind_text = root
            .get("kind")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        if api_version.is_empty() || kind_text.is_empty() {
            let missing = if api_version.is_empty() {
                "apiVersion"
            } else {
                "kind"
            };
            diags.push(
                Diagnostic::error(
                    "schema/missing-type",
                    format!("missing field(s): {missing}"),
                )
                .hint("every document needs `apiVersion: tekton.dev/v1` and a `kind`"),
            );
            self.push_located(file, &root, None, diags);
            return;
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
        if group != "tekton.dev" {
            self.add_resource(file, &root, api_version, kind_text);
            return;
        }
        let Some(kind) = Kind::parse(&kind_text) else {
            diags.push(unsupported_kind(&kind_text).at("kind"));
            self.push_located(file, &root, None, diags);
            return;
        };
        let version_ok = match kind {
            Kind::StepAction => matches!(version, "v1beta1" | "v1alpha1"),
            _ => matches!(version, "v1" | "v1beta1"),
        };
        if !version_ok {
            let supported = if kind == Kind::StepAction {
                "tekton.dev/v1beta1"
            } else {
                "tekton.dev/v1 (or v1beta1)"
            };
            diags.push(
                Diagnostic::error(
                    "schema/api-version",
                    format!("{kind} is not served as {api_version}"),
                )
                .at("apiVersion")
                .hint(format!("use apiVersion: {supported}")),
            );
            self.push_located(file, &root, None, diags);
            return;
        }
        if version == "v1beta1" && kind != Kind::StepAction {
            // Notes are located in the tree as written: conversion moves or drops their fields.
            let written = root.clone();
            for note in convert::v1beta1_to_v1(kind.as_str(), &mut root) {
                let mut d = if note.is_error {
                    Diagnostic::error("v1beta1/removed", note.message)
                } else {
                    Diagnostic::warning("v1beta1/dropped", note.message)
                };
                d.location = Some(self.locate(file, &written, &note.path, Anchor::Key));
                d.field = Some(note.path);
                d.hint = note.hint;
                diags.push(d.at_key());
            }
        }
        let mut decoded = decode_kind(kind, &root);
        if fold_field_case(&decoded.unknown_fields, &mut root) {
            decoded = decode_kind(kind, &root);
        }
        let object = report_decoding(decoded, &mut diags);
        if let Some(obj) = &object {
            embedded_only_fields(obj, &mut diags);
        }
        let label = Some(format!("{kind}/{}", written_name(&root)));
        self.push_located(file, &root, label, diags);
        let Some(object) = object else { return };
        let loaded = Loaded {
            file,
            doc,
            root,
            written_api_version: api_version,
            object,
            origin,
        };
        self.register(loaded);
    }

    fn register(&mut self, loaded: Loaded) {
        let index = self.objects.len();
        if loaded.origin == Origin::Remote {
            self.objects.push(loaded);
            return;
        }
        if let Some(name) = loaded
            .object
            .metadata()
            .name
            .clone()
            .filter(|n| !n.is_empty())
        {
            let key = (loaded.object.kind(), name.clone());
            if let Some(&first) = self.by_name.get(&key) {
                let earlier_origin = self.objects[first].origin;
                if earlier_origin == loaded.origin {
                    let earlier = &self.objects[first];
                    let at =
                        self.locate(earlier.file, &earlier.root, "metadata.name", Anchor::Value);
                    let d = Diagnostic::error(
                        "names/duplicate-object",
                        format!("duplicate {} \"{name}\"", key.0),
                    )
                    .at("metadata.name")
                    .hint(format!(
                        "an object with this name is already defined at {}:{}:{}; rename one of them",
                        at.path, at.line, at.column
                    ));
                    let label = Some(format!("{}/{name}", key.0));
                    self.push_located(loaded.file, &loaded.root, label, vec![d]);
                }
                // Input beats catalog beats builtin; the first of equals wins.
                if loaded.origin < earlier_origin {
                    self.by_name.insert(key, index);
                }
            } else {
                self.by_name.insert(key, index);
            }
        }
        self.objects.push(loaded);
    }

    fn add_resource(&mut self, file: usize, root: &Node, api_version: String, kind: String) {
        let value = root.to_json();
        let name = value["metadata"]["name"].as_str().unwrap_or("").to_string();
        self.resources.push(Resource {
            file,
            api_version,
            kind,
            name,
            value,
            root: root.clone(),
        });
    }

    /// Attaches object labels and source locations to diagnostics about one document.
    fn push_located(
        &mut self,
        file: usize,
        root: &Node,
        object: Option<String>,
        diags: Vec<Diagnostic>,
    ) {
        for mut d in diags {
            if d.location.is_none() {
                d.location =
                    Some(self.locate(file, root, d.field.as_deref().unwrap_or(""), d.anchor));
            }
            if d.object.is_none() {
                d.object.clone_from(&object);
            }
            self.diagnostics.push(d);
        }
    }

    /// Resolves an object path in a document to a file location.
    pub fn locate(&self, file: usize, root: &Node, field: &str, anchor: Anchor) -> Location {
        let span = locate(&self.files[file], root, field, anchor);
        Location {
            file,
            path: self.files[file].name.clone(),
            line: span.pos.line,
            column: span.pos.col,
            len: span.len,
        }
    }

    /// Locates diagnostics about `obj` and labels them with it.
    pub fn place(&self, obj: &Loaded, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
        let label = format!("{}/{}", obj.object.kind(), obj.object.display_name());
        diags
            .into_iter()
            .map(|mut d| {
                if d.location.is_none() {
                    d.location = Some(self.locate(
                        obj.file,
                        &obj.root,
                        d.field.as_deref().unwrap_or(""),
                        d.anchor,
                    ));
                }
                if let Some(r) = d.related.as_mut().filter(|r| r.location.is_none()) {
                    r.location = Some(self.locate(obj.file, &obj.root, &r.field, Anchor::Value));
                }
                if d.object.is_none() {
                    d.object = Some(label.clone());
                }
                d
            })
            .collect()
    }

    /// Looks an object up by kind and name (input, then catalog, then builtin).
    pub fn find(&self, kind: Kind, name: &str) -> Result<&Loaded, NotFound> {
        match self.by_name.get(&(kind, name.to_string())) {
            Some(&i) => Ok(&self.objects[i]),
            None => Err(NotFound {
                kind,
                name: name.to_string(),
                suggestion: catalog::suggest(
                    name,
                    self.by_name
                        .keys()
                        .filter(|(k, _)| *k == kind)
                        .map(|(_, n)| n.as_str()),
                )
                .map(str::to_string),
            }),
        }
    }

    /// The objects given as input (not from catalogs).
    pub fn inputs(&self) -> impl Iterator<Item = &Loaded> {
        self.objects.iter().filter(|o| o.origin == Origin::Input)
    }

    /// True when some diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// "Did you mean" for an alias whose anchor does not exist.
fn unknown_anchor_hint(source: &SourceFile, pos: yaml::Pos) -> String {
    let is_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let alias: String = source
        .line(pos.line)
        .and_then(|l| l.get(l.char_indices().nth(pos.col as usize)?.0..))
        .map(|rest| rest.chars().take_while(|c| is_name(*c)).collect())
        .unwrap_or_default();
    let anchors: Vec<String> = source
        .text
        .split('&')
        .skip(1)
        .map(|rest| rest.chars().take_while(|c| is_name(*c)).collect::<String>())
        .filter(|a| !a.is_empty())
        .collect();
    match catalog::suggest(&alias, anchors.iter().map(String::as_str)) {
        Some(s) => format!("no anchor `&{alias}` is defined; did you mean `*{s}`?"),
        None => {
            "an alias `*name` must refer to an anchor `&name` defined earlier in the same document"
                .into()
        }
    }
}

fn yaml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries.into_iter().rev() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if path.is_dir() {
                todo.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| YAML_EXTENSIONS.contains(&e))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(text: &str) -> Bundle {
        let mut b = Bundle::new();
        b.add_source("t.yaml", text.to_string(), Origin::Input);
        b
    }

    #[test]
    fn loads_many_documents_and_resources() {
        let b = bundle("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: a}\nspec:\n  steps: [{image: x}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}\n");
        assert_eq!(b.objects.len(), 1);
        assert_eq!(b.resources[0].name, "cm");
        assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
    }

    #[test]
    fn unknown_fields_point_at_the_key() {
        let b = bundle("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: a}\nspec:\n  steps:\n  - image: x\n    scirpt: echo\n");
        let d = &b.diagnostics[0];
        assert_eq!(d.code, "schema/unknown-field");
        let loc = d.location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (7, 5));
        assert_eq!(d.hint.as_deref(), Some("did you mean `script`?"));
    }

    #[test]
    fn duplicate_names_and_lookup_suggestions() {
        let t = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: build}\nspec:\n  steps: [{image: x}]\n";
        let b = bundle(&format!("{t}---\n{t}"));
        assert_eq!(b.diagnostics[0].code, "names/duplicate-object");
        assert_eq!(b.diagnostics[0].location.as_ref().unwrap().line, 9);
        let nf = b.find(Kind::Task, "biuld").unwrap_err();
        assert_eq!(nf.suggestion.as_deref(), Some("build"));
    }

    #[test]
    fn v1beta1_is_converted_on_load() {
        let b = bundle("apiVersion: tekton.dev/v1beta1\nkind: PipelineRun\nmetadata: {name: a}\nspec:\n  timeout: 1h\n  pipelineRef: {name: p}\n");
        let Object::PipelineRun(pr) = &b.objects[0].object else {
            panic!()
        };
        assert_eq!(
            pr.spec.timeouts.as_ref().unwrap().pipeline.as_deref(),
            Some("1h")
        );
        assert!(b.diagnostics.is_empty());
    }

    #[test]
    fn bad_documents_do_not_stop_the_others() {
        let b = bundle("kind: Task\n---\n- a\n---\napiVersion: tekton.dev/v1\nkind: Tsk\n---\napiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: ok}\nspec: {steps: [{image: x}]}\n");
        let codes: Vec<_> = b.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "schema/missing-type",
                "yaml/not-an-object",
                "schema/unknown-kind"
            ]
        );
        assert_eq!(b.objects.len(), 1);
    }
}
