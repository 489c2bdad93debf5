//! One configuration file read and checked: every setting typed and remembered with the line
//! it was written on, every mistake a located diagnostic.
//!
//! # Design
//!
//! The file is read with the loader's position-keeping YAML reader and checked by hand
//! rather than through serde: the keys are few, each message names the allowed values with
//! a "did you mean", and a param's value keeps its text as written (`1.20`, not `1.2`).
//! Every problem is collected, not only the first, as `adze validate` does for Tekton YAML.
//!
//! # Invariants
//!
//! - Paths in the result are absolute: relative ones are resolved against the file's
//!   directory (a leading `~/` against `$HOME`), so the file means the same from any
//!   subdirectory.
//! - A file with any error yields no settings at all: half a configuration is never used.

use std::path::{Path, PathBuf};

use crate::api::{Param, ParamValue};
use crate::diagnostic::{Diagnostic, Location};
use crate::load::catalog::suggest;
use crate::load::source::SourceFile;
use crate::load::yaml::{key_text, parse_stream, Node, NodeKind, Pos};
use crate::plan::WorkspaceOverride;

use super::image_map::ImageRule;

/// The name of the file the search looks for.
pub const FILE_NAME: &str = ".adze.yaml";

/// The keys a configuration file may hold.
pub const KEYS: &[&str] = &[
    "params",
    "workspaces",
    "pull",
    "imageMap",
    "executor",
    "namespace",
    "context",
    "kubeconfig",
    "logs",
    "parallel",
];

/// Values of `pull`, as `adze run --pull` takes them.
pub const PULL: &[&str] = &["always", "missing", "never"];
/// Values of `executor`.
pub const EXECUTOR: &[&str] = &["docker", "kubernetes"];
/// Values of `logs`.
pub const LOGS: &[&str] = &["none", "failed", "all"];

/// A value and the 1-based line it was written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    /// The value.
    pub value: T,
    /// Its line in the file.
    pub line: u32,
}

/// A checked configuration file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigFile {
    /// The file, absolute.
    pub path: PathBuf,
    /// `params`: values for the params a run does not set.
    pub params: Vec<At<Param>>,
    /// `workspaces`: bindings for the workspaces a run does not bind.
    pub workspaces: Vec<At<(String, WorkspaceOverride)>>,
    /// `pull`.
    pub pull: Option<At<String>>,
    /// `imageMap`, in the order written.
    pub image_map: Vec<At<ImageRule>>,
    /// `executor`.
    pub executor: Option<At<String>>,
    /// `namespace` (Kubernetes).
    pub namespace: Option<At<String>>,
    /// `context` (Kubernetes).
    pub context: Option<At<String>>,
    /// `kubeconfig` (Kubernetes), absolute.
    pub kubeconfig: Option<At<PathBuf>>,
    /// `logs`.
    pub logs: Option<At<String>>,
    /// `parallel`.
    pub parallel: Option<At<usize>>,
}

/// Why no configuration could be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--config` names a file that does not exist.
    #[error("--config {}: no such file", path.display())]
    Missing {
        /// The path given.
        path: PathBuf,
    },
    /// The file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds mistakes.
    #[error("{}", .0.summary())]
    Invalid(Box<Invalid>),
}

/// A configuration file's mistakes, located in its text.
#[derive(Debug)]
pub struct Invalid {
    /// The file as read (diagnostics point into it as file 0).
    pub file: SourceFile,
    /// Every mistake, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Invalid {
    /// `PATH:LINE:COL: message` of the first mistake, and how many more there are.
    pub fn summary(&self) -> String {
        let Some(first) = self.diagnostics.first() else {
            return format!("{}: invalid configuration", self.file.name);
        };
        let at = first
            .location
            .as_ref()
            .map(|l| format!("{}:{}:{}", l.path, l.line, l.column))
            .unwrap_or_else(|| self.file.name.clone());
        let mut text = format!("{at}: {}", first.message);
        if let Some(hint) = &first.hint {
            text.push_str(&format!(" ({hint})"));
        }
        match self.diagnostics.len() {
            1 => {}
            n => text.push_str(&format!(" and {} more", n - 1)),
        }
        text
    }
}

/// Reads and checks the configuration file at `path` (absolute).
pub fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &path.display().to_string(), text)
}

/// Checks `text`, the configuration at `path`; `name` is how diagnostics name the file.
pub fn parse(path: &Path, name: &str, text: String) -> Result<ConfigFile, ConfigError> {
    let file = SourceFile::new(name, text);
    let mut checker = Checker {
        name,
        base: path.parent().unwrap_or(Path::new("/")).to_owned(),
        diagnostics: Vec::new(),
        config: ConfigFile {
            path: path.to_owned(),
            ..ConfigFile::default()
        },
    };
    let docs = parse_stream(&file.text);
    let mut roots = Vec::new();
    for doc in docs {
        match doc {
            Err(e) => checker.error(
                "config/syntax",
                e.pos,
                1,
                format!("YAML syntax: {}", e.message),
                None,
            ),
            Ok(doc) => {
                for d in &doc.duplicate_keys {
                    checker.error(
                        "config/duplicate-key",
                        d.again,
                        d.key.chars().count(),
                        format!("\"{}\" is set twice", d.key),
                        Some(format!(
                            "it was first set on line {}; keep one",
                            d.first.line
                        )),
                    );
                }
                if let Some(root) = doc.root {
                    roots.push(root);
                }
            }
        }
    }
    if let Some(extra) = roots.get(1) {
        checker.error(
            "config/documents",
            extra.pos,
            1,
            "a configuration is one YAML document".into(),
            Some("remove the `---` and merge the settings into one mapping".into()),
        );
    }
    if let Some(root) = roots.first() {
        checker.root(root);
    }
    if checker.diagnostics.is_empty() {
        Ok(checker.config)
    } else {
        checker
            .diagnostics
            .sort_by_key(|d| d.location.as_ref().map(|l| (l.line, l.column)));
        Err(ConfigError::Invalid(Box::new(Invalid {
            file,
            diagnostics: checker.diagnostics,
        })))
    }
}

struct Checker<'a> {
    name: &'a str,
    base: PathBuf,
    diagnostics: Vec<Diagnostic>,
    config: ConfigFile,
}

impl Checker<'_> {
    fn error(
        &mut self,
        code: &'static str,
        pos: Pos,
        len: usize,
        message: String,
        hint: Option<String>,
    ) {
        let mut d = Diagnostic::error(code, message);
        d.location = Some(Location {
            file: 0,
            path: self.name.to_owned(),
            line: pos.line,
            column: pos.col,
            len: len.max(1) as u32,
        });
        d.hint = hint;
        self.diagnostics.push(d);
    }

    /// An error pointing at `node` (its text underlined when a scalar).
    fn at(&mut self, code: &'static str, node: &Node, message: String, hint: Option<String>) {
        let len = node.as_str().map_or(1, |s| s.chars().count());
        self.error(code, node.pos, len, message, hint);
    }

    fn root(&mut self, root: &Node) {
        let NodeKind::Map(entries) = &root.kind else {
            self.at(
                "config/type",
                root,
                "a configuration is a mapping of settings".into(),
                Some(format!(
                    "write `key: value` lines; the keys are {}",
                    KEYS.join(", ")
                )),
            );
            return;
        };
        for (key, value) in entries {
            let name = key_text(key);
            let line = key.pos.line;
            match name.as_str() {
                "params" => self.params(value),
                "workspaces" => self.workspaces(value),
                "imageMap" => self.image_map(value),
                "pull" => self.config.pull = self.choice(key, value, PULL),
                "executor" => self.config.executor = self.choice(key, value, EXECUTOR),
                "logs" => self.config.logs = self.choice(key, value, LOGS),
                "namespace" | "context" => {
                    let text = self.text(key, value).map(|value| At { value, line });
                    if name == "namespace" {
                        self.config.namespace = text;
                    } else {
                        self.config.context = text;
                    }
                }
                "kubeconfig" => {
                    self.config.kubeconfig = self.text(key, value).map(|p| At {
                        value: self.resolve(&p),
                        line,
                    });
                }
                "parallel" => {
                    let n = self
                        .text(key, value)
                        .and_then(|t| match t.parse::<usize>() {
                            Ok(n) => Some(n),
                            Err(_) => {
                                self.at(
                                    "config/type",
                                    value,
                                    format!("parallel is a number of TaskRuns, got \"{t}\""),
                                    Some("write a whole number; 0 means no limit".into()),
                                );
                                None
                            }
                        });
                    self.config.parallel = n.map(|value| At { value, line });
                }
                other => {
                    let hint = match suggest(other, KEYS.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("the keys are {}", KEYS.join(", ")),
                    };
                    self.error(
                        "config/unknown-field",
                        key.pos,
                        other.chars().count(),
                        format!("unknown field \"{other}\""),
                        Some(hint),
                    );
                }
            }
        }
    }

    /// A scalar's text, or an error naming `key`.
    fn text(&mut self, key: &Node, value: &Node) -> Option<String> {
        match &value.kind {
            NodeKind::Scalar(text, _) if !text.is_empty() => Some(text.clone()),
            _ => {
                self.at(
                    "config/type",
                    value,
                    format!("{} takes a single value", key_text(key)),
                    None,
                );
                None
            }
        }
    }

    /// One of `allowed`, with a "did you mean" for a near miss.
    fn choice(&mut self, key: &Node, value: &Node, allowed: &[&str]) -> Option<At<String>> {
        let text = self.text(key, value)?;
        if allowed.contains(&text.as_str()) {
            return Some(At {
                value: text,
                line: key.pos.line,
            });
        }
        let hint = suggest(&text, allowed.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        self.at(
            "config/value",
            value,
            format!(
                "{} must be {}, got \"{text}\"",
                key_text(key),
                one_of(allowed)
            ),
            hint,
        );
        None
    }

    /// The entries of a mapping-valued key (`params`, ...); nothing for an empty value.
    fn entries<'n>(&mut self, key: &str, value: &'n Node) -> &'n [(Node, Node)] {
        match &value.kind {
            NodeKind::Map(entries) => entries,
            NodeKind::Scalar(text, _) if text.is_empty() || text == "~" || text == "null" => &[],
            _ => {
                self.at(
                    "config/type",
                    value,
                    format!("{key} is a mapping of NAME: VALUE lines"),
                    None,
                );
                &[]
            }
        }
    }

    fn params(&mut self, value: &Node) {
        for (key, value) in self.entries("params", value) {
            let name = key_text(key);
            let scalars = |items: &[Node]| -> Option<Vec<String>> {
                items
                    .iter()
                    .map(|n| n.as_str().map(str::to_owned))
                    .collect()
            };
            let parsed = match &value.kind {
                NodeKind::Scalar(text, _) => Some(ParamValue::String(text.clone())),
                NodeKind::Seq(items) => scalars(items).map(ParamValue::Array),
                NodeKind::Map(entries) => entries
                    .iter()
                    .map(|(k, v)| v.as_str().map(|v| (key_text(k), v.to_owned())))
                    .collect::<Option<_>>()
                    .map(ParamValue::Object),
            };
            match parsed {
                Some(value) => self.config.params.push(At {
                    value: Param { name, value },
                    line: key.pos.line,
                }),
                None => self.at(
                    "config/type",
                    value,
                    format!("param \"{name}\" must be a string, a list of strings or a mapping of strings"),
                    None,
                ),
            }
        }
    }

    fn workspaces(&mut self, value: &Node) {
        for (key, value) in self.entries("workspaces", value) {
            let name = key_text(key);
            let Some(text) = value.as_str().filter(|t| !t.is_empty()) else {
                self.at(
                    "config/type",
                    value,
                    format!("workspace \"{name}\" is bound to emptyDir or a directory"),
                    Some(format!("write `{name}: emptyDir` or `{name}: ./dir`")),
                );
                continue;
            };
            let binding = if text == "emptyDir" {
                WorkspaceOverride::EmptyDir
            } else {
                WorkspaceOverride::Dir(self.resolve(text).display().to_string())
            };
            self.config.workspaces.push(At {
                value: (name, binding),
                line: key.pos.line,
            });
        }
    }

    fn image_map(&mut self, value: &Node) {
        for (key, value) in self.entries("imageMap", value) {
            let from = key_text(key);
            let Some(to) = value.as_str() else {
                self.at(
                    "config/type",
                    value,
                    format!("imageMap \"{from}\" maps to one image reference or prefix"),
                    None,
                );
                continue;
            };
            match ImageRule::new(&from, to) {
                Ok(rule) => self.config.image_map.push(At {
                    value: rule,
                    line: key.pos.line,
                }),
                Err(message) => self.error(
                    "config/image-map",
                    key.pos,
                    from.chars().count(),
                    message,
                    None,
                ),
            }
        }
    }

    /// `text` as a path: `~/` under `$HOME`, relative ones under the file's directory.
    fn resolve(&self, text: &str) -> PathBuf {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        match (text.strip_prefix("~/"), home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => self.base.join(text),
        }
    }
}

/// `a, b or c`.
fn one_of(allowed: &[&str]) -> String {
    match allowed {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Bundle;
    use crate::report::diagnostics::to_text;

    fn parsed(text: &str) -> Result<ConfigFile, ConfigError> {
        parse(Path::new("/repo/.adze.yaml"), ".adze.yaml", text.to_owned())
    }

    /// The error snippets, as `adze run` prints them without colour.
    fn rendered(text: &str) -> String {
        let Err(ConfigError::Invalid(invalid)) = parsed(text) else {
            panic!("expected an invalid configuration for:\n{text}");
        };
        let mut bundle = Bundle::new();
        bundle.files.push(invalid.file.clone());
        to_text(&bundle, &invalid.diagnostics)
    }

    #[test]
    fn every_setting_is_typed_with_its_line() {
        let c = parsed(
            "params:\n  version: 1.20\n  targets: [a, b]\n  labels: {team: x}\n\
             workspaces:\n  source: src\n  cache: emptyDir\n  abs: /data\n\
             pull: never\nimageMap:\n  gcr.io/: localhost:5000/\n\
             executor: kubernetes\nnamespace: ci\ncontext: kind\nkubeconfig: kube/config\n\
             logs: failed\nparallel: 2\n",
        )
        .unwrap();
        let params: Vec<(&str, &ParamValue, u32)> = c
            .params
            .iter()
            .map(|p| (p.value.name.as_str(), &p.value.value, p.line))
            .collect();
        assert_eq!(
            params,
            vec![
                ("version", &ParamValue::String("1.20".into()), 2),
                (
                    "targets",
                    &ParamValue::Array(vec!["a".into(), "b".into()]),
                    3
                ),
                (
                    "labels",
                    &ParamValue::Object([("team".to_owned(), "x".to_owned())].into()),
                    4
                ),
            ]
        );
        assert_eq!(
            c.workspaces
                .iter()
                .map(|w| w.value.clone())
                .collect::<Vec<_>>(),
            vec![
                ("source".into(), WorkspaceOverride::Dir("/repo/src".into())),
                ("cache".into(), WorkspaceOverride::EmptyDir),
                ("abs".into(), WorkspaceOverride::Dir("/data".into())),
            ]
        );
        assert_eq!(
            c.pull,
            Some(At {
                value: "never".into(),
                line: 9
            })
        );
        assert_eq!(c.image_map[0].value.to_string(), "gcr.io/=localhost:5000/");
        assert_eq!(c.image_map[0].line, 11);
        assert_eq!(c.executor.unwrap().value, "kubernetes");
        assert_eq!(c.namespace.unwrap().value, "ci");
        assert_eq!(c.context.unwrap().value, "kind");
        assert_eq!(
            c.kubeconfig.unwrap().value,
            PathBuf::from("/repo/kube/config")
        );
        assert_eq!(c.logs.unwrap().value, "failed");
        assert_eq!(c.parallel, Some(At { value: 2, line: 17 }));
    }

    #[test]
    fn an_empty_file_sets_nothing() {
        let c = parsed("").unwrap();
        assert_eq!(c.path, PathBuf::from("/repo/.adze.yaml"));
        assert!(c.params.is_empty() && c.pull.is_none());
        assert!(parsed("# only a comment\nparams:\n")
            .unwrap()
            .params
            .is_empty());
    }

    #[test]
    fn an_unknown_key_is_located_with_a_suggestion() {
        insta::assert_snapshot!(rendered(
            "params: {a: b}\npul: never\nimagemap: {}\nretries: 2\n"
        ));
    }

    #[test]
    fn bad_values_are_all_reported() {
        insta::assert_snapshot!(rendered(
            "pull: alway\nexecutor: [docker]\nparallel: many\nimageMap:\n  gcr.io/: localhost:5000\n\
             params:\n  nested: [[a]]\nworkspaces:\n  src: {}\n"
        ));
    }

    #[test]
    fn syntax_errors_and_duplicates_are_located() {
        insta::assert_snapshot!(rendered("pull: never\npull: always\n"));
        insta::assert_snapshot!(rendered("params:\n  a: [b\n"));
        insta::assert_snapshot!(rendered("- pull\n"));
    }

    #[test]
    fn the_summary_names_the_first_place_and_counts_the_rest() {
        let Err(e) = parsed("pul: never\nlogs: some\n") else {
            panic!("invalid");
        };
        assert_eq!(
            e.to_string(),
            ".adze.yaml:1:1: unknown field \"pul\" (did you mean `pull`?) and 1 more"
        );
    }
}
