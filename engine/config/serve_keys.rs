//! Which keys of a configuration file `adze serve` uses, and why it ignores the others, so
//! the server can say so once at startup instead of dropping them silently.
//!
//! # Design
//!
//! The server reads the file as `adze run` does (same search, same precedence through
//! [`Settings`](super::Settings)); a key applies when it shapes the runs the server starts.
//! What is left over depends on the executor:
//!
//! - every executor: `logs` chooses what a terminal shows, and the server has none; it
//!   records every step's logs in its store.
//! - `kubernetes`: `parallel` limits the Docker executor's TaskRuns (as under `adze run`,
//!   where the cluster schedules the Pods).
//! - `create`: the server runs nothing itself; it hands the objects to the cluster as the
//!   trigger made them, so only `executor` and the cluster keys (`namespace`, `context`,
//!   `kubeconfig`) apply.
//!
//! # Invariants
//!
//! - A key is reported only when the value in effect is the file's: neither a key the file
//!   leaves out nor one a flag overrides is reported.

use super::settings::{Settings, Source};

/// A key the file sets that the server does not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The key as written in the file.
    pub key: &'static str,
    /// Its line (a list's first entry).
    pub line: u32,
    /// Why the server does not use it.
    pub why: &'static str,
}

const LOGS: &str = "the server records every step's logs in its store and shows them on the \
                    dashboard";
const PARALLEL_ON_CLUSTER: &str = "it limits the Docker executor's TaskRuns; the cluster \
                                   schedules the Pods";
const CREATED: &str = "--executor create hands the runs to the cluster as the trigger made \
                       them";

/// The line of a value the file set (not a flag, not the default).
fn file_line(source: &Source) -> Option<u32> {
    match source {
        Source::File { line, .. } => Some(*line),
        Source::Flag | Source::Default => None,
    }
}

/// The line of the first of a list's values the file set.
fn first_line<'a>(sources: impl IntoIterator<Item = &'a Source>) -> Option<u32> {
    sources.into_iter().find_map(file_line)
}

/// The keys whose values in `settings` come from the file but that `adze serve --executor
/// EXECUTOR` does not use, in file order.
pub fn ignored_by_serve(settings: &Settings, executor: &str) -> Vec<Ignored> {
    let mut out = Vec::new();
    let mut note = |key: &'static str, line: Option<u32>, why: &'static str| {
        if let Some(line) = line {
            out.push(Ignored { key, line, why });
        }
    };
    note("logs", file_line(&settings.logs.source), LOGS);
    let parallel = file_line(&settings.parallel.source);
    match executor {
        "create" => {
            note(
                "params",
                first_line(settings.params.iter().map(|(_, s)| &s.source)),
                CREATED,
            );
            note(
                "workspaces",
                first_line(settings.workspaces.iter().map(|(_, s)| &s.source)),
                CREATED,
            );
            note("pull", file_line(&settings.pull.source), CREATED);
            note(
                "imageMap",
                first_line(settings.image_map.iter().map(|s| &s.source)),
                CREATED,
            );
            note("parallel", parallel, CREATED);
        }
        "kubernetes" => note("parallel", parallel, PARALLEL_ON_CLUSTER),
        _ => {}
    }
    out.sort_by_key(|i| i.line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::parse;
    use crate::config::CommandLine;
    use std::path::Path;

    /// The settings of `text` with no flag given.
    fn file(text: &str) -> Settings {
        let f = parse(Path::new("/repo/.adze.yaml"), ".adze.yaml", text.to_owned()).unwrap();
        Settings::resolve(Some(&f), &CommandLine::default())
    }

    fn keys(ignored: &[Ignored]) -> Vec<(&str, u32)> {
        ignored.iter().map(|i| (i.key, i.line)).collect()
    }

    const EVERYTHING: &str = "parallel: 2\nlogs: failed\npull: never\nparams:\n  a: b\n\
                              workspaces:\n  src: emptyDir\nimageMap:\n  gcr.io/: local/\n\
                              namespace: ci\n";

    #[test]
    fn docker_ignores_only_logs() {
        assert_eq!(
            keys(&ignored_by_serve(&file(EVERYTHING), "docker")),
            vec![("logs", 2)]
        );
    }

    #[test]
    fn kubernetes_also_ignores_parallel() {
        assert_eq!(
            keys(&ignored_by_serve(&file(EVERYTHING), "kubernetes")),
            vec![("parallel", 1), ("logs", 2)]
        );
    }

    #[test]
    fn create_uses_only_the_executor_and_cluster_keys() {
        assert_eq!(
            keys(&ignored_by_serve(&file(EVERYTHING), "create")),
            vec![
                ("parallel", 1),
                ("logs", 2),
                ("pull", 3),
                ("params", 5),
                ("workspaces", 7),
                ("imageMap", 9)
            ]
        );
    }

    #[test]
    fn keys_the_file_leaves_out_are_not_reported() {
        assert!(ignored_by_serve(&file("namespace: ci\n"), "create").is_empty());
        let none = Settings::resolve(None, &CommandLine::default());
        assert!(ignored_by_serve(&none, "create").is_empty());
    }

    #[test]
    fn a_value_a_flag_gave_is_not_the_files() {
        let f = parse(
            Path::new("/repo/.adze.yaml"),
            ".adze.yaml",
            "parallel: 2\nlogs: none\n".to_owned(),
        )
        .unwrap();
        let cli = CommandLine {
            parallel: Some(3),
            ..CommandLine::default()
        };
        let s = Settings::resolve(Some(&f), &cli);
        assert_eq!(keys(&ignored_by_serve(&s, "kubernetes")), vec![("logs", 2)]);
    }
}
