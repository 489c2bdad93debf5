//! The effective settings of a command: each value from the command line, else the
//! configuration file, else adze's default, with where it came from.
//!
//! # Design
//!
//! Settings with one value (`pull`, `executor`, ...) take the first of flag, file and
//! default. Params and workspaces are different, because a run carries its own: a `-p` or
//! `-w` replaces the run's value, while the file's only fills in what the run leaves unset
//! (they are *default* params), so a PipelineRun's `spec.params` keep meaning what Tekton
//! says they mean. Image map rules add up, a flag's replacing the file's for the same FROM.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::api::{Param, ParamValue};
use crate::plan::WorkspaceOverride;

use super::file::{At, ConfigFile};
use super::image_map::{ImageMap, ImageRule};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The command line.
    Flag,
    /// A line of the configuration file.
    File {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u32,
    },
    /// adze's built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Default => f.write_str("default"),
            Source::File { path, line } => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                write!(f, "{name} at {}:{line}", path.display())
            }
        }
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting<T> {
    /// The value in effect.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

/// What the command line set; `None` and empty lists mean "not given".
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    /// `--pull`.
    pub pull: Option<String>,
    /// `--executor`.
    pub executor: Option<String>,
    /// `--namespace`.
    pub namespace: Option<String>,
    /// `--context`.
    pub context: Option<String>,
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `--logs`.
    pub logs: Option<String>,
    /// `--parallel`.
    pub parallel: Option<usize>,
    /// `-p`.
    pub params: Vec<Param>,
    /// `-w`.
    pub workspaces: Vec<(String, WorkspaceOverride)>,
    /// `--image-map`.
    pub image_map: Vec<ImageRule>,
}

/// adze's defaults, the same as `adze run`'s flags document.
pub const DEFAULT_PULL: &str = "missing";
/// See [`DEFAULT_PULL`].
pub const DEFAULT_EXECUTOR: &str = "docker";
/// See [`DEFAULT_PULL`].
pub const DEFAULT_LOGS: &str = "all";

/// Every setting in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
    /// When to pull images.
    pub pull: Setting<String>,
    /// Where TaskRuns run.
    pub executor: Setting<String>,
    /// Kubernetes namespace (`None`: the context's).
    pub namespace: Setting<Option<String>>,
    /// Kubernetes context (`None`: the current one).
    pub context: Setting<Option<String>>,
    /// Kubeconfig file (`None`: the usual places).
    pub kubeconfig: Setting<Option<PathBuf>>,
    /// Which step logs to show.
    pub logs: Setting<String>,
    /// How many TaskRuns at once (0: no limit).
    pub parallel: Setting<usize>,
    /// Params: the flag's replace the run's values, the file's fill in unset ones.
    pub params: Vec<(String, Setting<ParamValue>)>,
    /// Workspace bindings, like params.
    pub workspaces: Vec<(String, Setting<WorkspaceOverride>)>,
    /// Image map rules in effect.
    pub image_map: Vec<Setting<ImageRule>>,
}

/// What a run takes from the configuration file besides single settings: defaults for
/// what the run leaves unset, and the image map (flags' rules included).
#[derive(Debug, Clone, Default)]
pub struct RunDefaults {
    /// The file's params.
    pub params: Vec<Param>,
    /// The file's workspace bindings.
    pub workspaces: Vec<(String, WorkspaceOverride)>,
    /// Every image map rule.
    pub image_map: ImageMap,
}

impl Settings {
    /// The settings of a command line with `file` (if any) under it.
    pub fn resolve(file: Option<&ConfigFile>, cli: &CommandLine) -> Settings {
        let from_file = |line: u32| Source::File {
            path: file.map(|f| f.path.clone()).unwrap_or_default(),
            line,
        };
        let pick = |flag: Option<String>, set: Option<&At<String>>, default: &str| match (flag, set)
        {
            (Some(value), _) => Setting {
                value,
                source: Source::Flag,
            },
            (None, Some(at)) => Setting {
                value: at.value.clone(),
                source: from_file(at.line),
            },
            (None, None) => Setting {
                value: default.to_owned(),
                source: Source::Default,
            },
        };
        fn optional<T: Clone>(
            flag: Option<T>,
            set: Option<&At<T>>,
            from_file: impl Fn(u32) -> Source,
        ) -> Setting<Option<T>> {
            match (flag, set) {
                (Some(v), _) => Setting {
                    value: Some(v),
                    source: Source::Flag,
                },
                (None, Some(at)) => Setting {
                    value: Some(at.value.clone()),
                    source: from_file(at.line),
                },
                (None, None) => Setting {
                    value: None,
                    source: Source::Default,
                },
            }
        }
        let parallel = match (cli.parallel, file.and_then(|f| f.parallel.as_ref())) {
            (Some(value), _) => Setting {
                value,
                source: Source::Flag,
            },
            (None, Some(at)) => Setting {
                value: at.value,
                source: from_file(at.line),
            },
            (None, None) => Setting {
                value: 0,
                source: Source::Default,
            },
        };
        let mut params: Vec<(String, Setting<ParamValue>)> = Vec::new();
        for at in file.map(|f| f.params.as_slice()).unwrap_or_default() {
            params.push((
                at.value.name.clone(),
                Setting {
                    value: at.value.value.clone(),
                    source: from_file(at.line),
                },
            ));
        }
        for p in &cli.params {
            params.retain(|(name, _)| name != &p.name);
            params.push((
                p.name.clone(),
                Setting {
                    value: p.value.clone(),
                    source: Source::Flag,
                },
            ));
        }
        let mut workspaces: Vec<(String, Setting<WorkspaceOverride>)> = Vec::new();
        for at in file.map(|f| f.workspaces.as_slice()).unwrap_or_default() {
            workspaces.push((
                at.value.0.clone(),
                Setting {
                    value: at.value.1.clone(),
                    source: from_file(at.line),
                },
            ));
        }
        for (name, binding) in &cli.workspaces {
            workspaces.retain(|(n, _)| n != name);
            workspaces.push((
                name.clone(),
                Setting {
                    value: binding.clone(),
                    source: Source::Flag,
                },
            ));
        }
        // As `ImageMap::with` does, a later rule replaces one with the same FROM.
        let mut image_map: Vec<Setting<ImageRule>> = Vec::new();
        let file_rules = file.map(|f| f.image_map.as_slice()).unwrap_or_default();
        let rules = file_rules
            .iter()
            .map(|at| Setting {
                value: at.value.clone(),
                source: from_file(at.line),
            })
            .chain(cli.image_map.iter().map(|r| Setting {
                value: r.clone(),
                source: Source::Flag,
            }));
        for rule in rules {
            image_map.retain(|s| !s.value.same_from(&rule.value));
            image_map.push(rule);
        }
        Settings {
            file: file.map(|f| f.path.clone()),
            pull: pick(
                cli.pull.clone(),
                file.and_then(|f| f.pull.as_ref()),
                DEFAULT_PULL,
            ),
            executor: pick(
                cli.executor.clone(),
                file.and_then(|f| f.executor.as_ref()),
                DEFAULT_EXECUTOR,
            ),
            namespace: optional(
                cli.namespace.clone(),
                file.and_then(|f| f.namespace.as_ref()),
                from_file,
            ),
            context: optional(
                cli.context.clone(),
                file.and_then(|f| f.context.as_ref()),
                from_file,
            ),
            kubeconfig: optional(
                cli.kubeconfig.clone(),
                file.and_then(|f| f.kubeconfig.as_ref()),
                from_file,
            ),
            logs: pick(
                cli.logs.clone(),
                file.and_then(|f| f.logs.as_ref()),
                DEFAULT_LOGS,
            ),
            parallel,
            params,
            workspaces,
            image_map,
        }
    }

    /// The file's params and workspaces (a run's own values win over them) and the image map.
    pub fn run_defaults(&self) -> RunDefaults {
        let from_file = |s: &Source| matches!(s, Source::File { .. });
        RunDefaults {
            params: self
                .params
                .iter()
                .filter(|(_, s)| from_file(&s.source))
                .map(|(name, s)| Param {
                    name: name.clone(),
                    value: s.value.clone(),
                })
                .collect(),
            workspaces: self
                .workspaces
                .iter()
                .filter(|(_, s)| from_file(&s.source))
                .map(|(name, s)| (name.clone(), s.value.clone()))
                .collect(),
            image_map: ImageMap::with(self.image_map.iter().map(|s| s.value.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::parse;
    use std::path::Path;

    fn file(text: &str) -> ConfigFile {
        parse(Path::new("/repo/.adze.yaml"), ".adze.yaml", text.to_owned()).unwrap()
    }

    fn at(line: u32) -> Source {
        Source::File {
            path: "/repo/.adze.yaml".into(),
            line,
        }
    }

    #[test]
    fn a_flag_beats_the_file_which_beats_the_default() {
        let f = file("pull: never\nexecutor: kubernetes\nparallel: 3\n");
        let cli = CommandLine {
            executor: Some("docker".into()),
            ..CommandLine::default()
        };
        let s = Settings::resolve(Some(&f), &cli);
        assert_eq!((s.pull.value.as_str(), &s.pull.source), ("never", &at(1)));
        assert_eq!(
            (s.executor.value.as_str(), &s.executor.source),
            ("docker", &Source::Flag)
        );
        assert_eq!((s.parallel.value, &s.parallel.source), (3, &at(3)));
        assert_eq!(
            (s.logs.value.as_str(), &s.logs.source),
            ("all", &Source::Default)
        );
        assert_eq!(
            (&s.namespace.value, &s.namespace.source),
            (&None, &Source::Default)
        );
        let none = Settings::resolve(None, &CommandLine::default());
        assert_eq!(none.pull.value, DEFAULT_PULL);
        assert_eq!(none.file, None);
    }

    #[test]
    fn the_files_params_are_defaults_and_a_flag_replaces_one() {
        let f = file("params:\n  a: from-file\n  b: from-file\nworkspaces:\n  src: emptyDir\n");
        let cli = CommandLine {
            params: vec![crate::plan::parse_param("b=from-flag").unwrap()],
            workspaces: vec![crate::plan::parse_workspace("src=/x").unwrap()],
            ..CommandLine::default()
        };
        let s = Settings::resolve(Some(&f), &cli);
        let shown: Vec<(&str, &Source)> = s
            .params
            .iter()
            .map(|(n, set)| (n.as_str(), &set.source))
            .collect();
        assert_eq!(shown, vec![("a", &at(2)), ("b", &Source::Flag)]);
        let d = s.run_defaults();
        // The flag's value reaches the run through -p, not as a default.
        assert_eq!(
            d.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            vec!["a"]
        );
        assert!(d.workspaces.is_empty());
    }

    #[test]
    fn a_flags_image_rule_replaces_the_files_for_the_same_from() {
        let f = file("imageMap:\n  gcr.io/: file/\n  quay.io/: q/\n");
        let cli = CommandLine {
            image_map: vec![ImageRule::parse("gcr.io/=flag/").unwrap()],
            ..CommandLine::default()
        };
        let s = Settings::resolve(Some(&f), &cli);
        let shown: Vec<(String, &Source)> = s
            .image_map
            .iter()
            .map(|r| (r.value.to_string(), &r.source))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("quay.io/=q/".to_owned(), &at(3)),
                ("gcr.io/=flag/".to_owned(), &Source::Flag)
            ]
        );
        assert_eq!(
            s.run_defaults().image_map.map("gcr.io/x:1").as_deref(),
            Some("flag/x:1")
        );
    }

    #[test]
    fn a_file_source_names_the_file_and_line() {
        assert_eq!(at(7).to_string(), ".adze.yaml at /repo/.adze.yaml:7");
    }
}
