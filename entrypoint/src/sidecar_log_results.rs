//! `adze-entrypoint sidecar-log-results`: the `tekton-log-results` sidecar of `results-from:
//! sidecar-logs` (§3 of the spec, Tekton's `sidecarlogresults`). It waits until every step
//! has left its post file, then prints each result file that exists as one JSON line
//! `{"name","value","type"}` on stdout, where the executor reads it from the container's log
//! instead of the steps' termination messages (whose 4096 bytes per step limit results).
//!
//! Lines are Tekton's: task results are `{"name":"R","value":"…","type":"task"}`, step results
//! `{"name":"S.R","value":"…","type":"step"}`. Like Tekton's, the wait ends early at the first
//! step that failed (`out.err`): later steps are skipped and write nothing more.
//!
//! Command line (Go flag spellings `-name value` or `-name=value`):
//! `sidecar-log-results -results-dir /tekton/results -result-names a,b -step-names s0,s1
//! -step-results '{"s0":["r"]}' [-run-dir /tekton/run]`. Step `i` of `-step-names` is
//! `/tekton/run/<i>`; its results are read from `/tekton/run/<i>/status/results`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use crate::flags::DEFAULT_RESULTS_DIR;

/// Where the steps' post files and status directories are.
const DEFAULT_RUN_DIR: &str = "/tekton/run";
/// How often the post files are looked for.
const POLL: Duration = Duration::from_millis(20);

/// The usage text printed with a usage error.
pub const USAGE: &str = "usage: adze-entrypoint sidecar-log-results [-results-dir DIR] \
[-result-names a,b] [-step-names s0,s1] [-step-results '{\"s0\":[\"r\"]}'] [-run-dir DIR]";

/// What the sidecar was told to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Where task result files are (`/tekton/results`).
    pub results_dir: PathBuf,
    /// The task results to report.
    pub result_names: Vec<String>,
    /// The steps, in order: step `i` is `<run_dir>/<i>`.
    pub step_names: Vec<String>,
    /// Each step's results to report, by step name.
    pub step_results: BTreeMap<String, Vec<String>>,
    /// Where each step's post file and status directory are (`/tekton/run`).
    pub run_dir: PathBuf,
}

/// Why the sidecar cannot do its work.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    /// A flag nobody knows.
    #[error("flag provided but not defined: -{0}")]
    Unknown(String),
    /// A flag without its value.
    #[error("flag needs an argument: -{0}")]
    MissingValue(String),
    /// `-step-results` is not a JSON object of lists of names.
    #[error("invalid value {value:?} for flag -step-results: {reason}; give a JSON object such as '{{\"build\":[\"digest\"]}}'")]
    StepResults {
        /// What was given.
        value: String,
        /// What the JSON parser said.
        reason: String,
    },
    /// A step result names a step not in `-step-names`.
    #[error("-step-results names step {0:?}, which is not in -step-names; list every step in -step-names")]
    UnknownStep(String),
    /// A post file could not be looked at.
    #[error("cannot check {path}: {source}; check that the step's run volume is mounted")]
    Stat {
        /// The post file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A result file exists but could not be read.
    #[error("cannot read result {path}: {source}")]
    Read {
        /// The result file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// Stdout (the container's log) could not be written.
    #[error("cannot write the results to stdout: {0}")]
    Write(io::Error),
}

impl SidecarError {
    /// True for a command-line mistake (exit 2 with the usage), not a failure of the work.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            SidecarError::Unknown(_)
                | SidecarError::MissingValue(_)
                | SidecarError::StepResults { .. }
                | SidecarError::UnknownStep(_)
        )
    }
}

/// Parses the subcommand's flags (those after `sidecar-log-results`).
pub fn parse(args: &[String]) -> Result<Args, SidecarError> {
    let mut out = Args {
        results_dir: PathBuf::from(DEFAULT_RESULTS_DIR),
        result_names: Vec::new(),
        step_names: Vec::new(),
        step_results: BTreeMap::new(),
        run_dir: PathBuf::from(DEFAULT_RUN_DIR),
    };
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let body = word.trim_start_matches('-');
        if body.len() == word.len() || body.is_empty() {
            return Err(SidecarError::Unknown(word.clone()));
        }
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, value.to_owned()),
            None => (
                body,
                words
                    .next()
                    .cloned()
                    .ok_or_else(|| SidecarError::MissingValue(body.to_owned()))?,
            ),
        };
        match name {
            "results-dir" => out.results_dir = PathBuf::from(value),
            "run-dir" => out.run_dir = PathBuf::from(value),
            "result-names" => out.result_names = names(&value),
            "step-names" => out.step_names = names(&value),
            "step-results" if value.trim().is_empty() => out.step_results.clear(),
            "step-results" => {
                out.step_results =
                    serde_json::from_str(&value).map_err(|e| SidecarError::StepResults {
                        value: value.clone(),
                        reason: e.to_string(),
                    })?;
            }
            other => return Err(SidecarError::Unknown(other.to_owned())),
        }
    }
    if let Some(step) = out
        .step_results
        .keys()
        .find(|s| !out.step_names.contains(s))
    {
        return Err(SidecarError::UnknownStep(step.clone()));
    }
    Ok(out)
}

fn names(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Waits for the steps, then writes one line per existing result to `out`.
pub fn run(args: &Args, out: &mut impl Write) -> Result<(), SidecarError> {
    wait_for_steps(args)?;
    let mut lines = Vec::new();
    for name in &args.result_names {
        if let Some(value) = read(&args.results_dir.join(name))? {
            lines.push(line(name, &value, "task"));
        }
    }
    for (index, step) in args.step_names.iter().enumerate() {
        let dir = args.run_dir.join(index.to_string()).join("status/results");
        for name in args.step_results.get(step).into_iter().flatten() {
            if let Some(value) = read(&dir.join(name))? {
                lines.push(line(&format!("{step}.{name}"), &value, "step"));
            }
        }
    }
    for l in lines {
        writeln!(out, "{l}").map_err(SidecarError::Write)?;
    }
    out.flush().map_err(SidecarError::Write)
}

/// One result as Tekton's `SidecarLogResult` encodes it.
fn line(name: &str, value: &str, kind: &str) -> String {
    serde_json::json!({"name": name, "value": value, "type": kind}).to_string()
}

/// A result file's text (bytes that are not UTF-8 kept lossily, as the steps' reader does);
/// `None` when the step never wrote it.
fn read(path: &Path) -> Result<Option<String>, SidecarError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SidecarError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Polls until every step wrote `out`, or one wrote `out.err` (the rest are then skipped).
fn wait_for_steps(args: &Args) -> Result<(), SidecarError> {
    let mut waiting: Vec<PathBuf> = (0..args.step_names.len())
        .map(|i| args.run_dir.join(i.to_string()).join("out"))
        .collect();
    loop {
        let mut still = Vec::with_capacity(waiting.len());
        for post in waiting {
            if exists(&post)? {
                continue;
            }
            if exists(&post.with_extension("err"))? {
                return Ok(());
            }
            still.push(post);
        }
        if still.is_empty() {
            return Ok(());
        }
        waiting = still;
        thread::sleep(POLL);
    }
}

fn exists(path: &Path) -> Result<bool, SidecarError> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(SidecarError::Stat {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    /// A run directory with `steps` steps and a results directory.
    fn pod(steps: usize) -> (tempfile::TempDir, Args) {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..steps {
            fs::create_dir_all(dir.path().join(format!("run/{i}/status/results"))).unwrap();
        }
        fs::create_dir_all(dir.path().join("results")).unwrap();
        let args = Args {
            results_dir: dir.path().join("results"),
            result_names: Vec::new(),
            step_names: (0..steps).map(|i| format!("s{i}")).collect(),
            step_results: BTreeMap::new(),
            run_dir: dir.path().join("run"),
        };
        (dir, args)
    }

    #[test]
    fn flags_take_go_spellings_and_the_defaults_are_tektons() {
        let args = parse(&words(
            "-results-dir /r --result-names=a,b -step-names build,test -step-results {\"build\":[\"digest\"]}",
        ))
        .unwrap();
        assert_eq!(args.results_dir, PathBuf::from("/r"));
        assert_eq!(args.result_names, ["a", "b"]);
        assert_eq!(args.step_names, ["build", "test"]);
        assert_eq!(args.step_results["build"], ["digest"]);
        assert_eq!(args.run_dir, PathBuf::from("/tekton/run"));
        assert_eq!(
            parse(&[]).unwrap().results_dir,
            PathBuf::from("/tekton/results")
        );
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for line in [
            "-nope x",
            "-result-names",
            "stray",
            "-step-results [1]",
            "-step-names a -step-results {\"b\":[\"r\"]}",
        ] {
            let error = parse(&words(line)).unwrap_err();
            assert!(error.is_usage(), "{line}: {error}");
        }
    }

    #[test]
    fn results_are_printed_once_every_step_is_done() {
        let (dir, mut args) = pod(2);
        args.result_names = vec!["big".into(), "unwritten".into()];
        args.step_results.insert("s1".into(), vec!["url".into()]);
        let big = "x".repeat(10_000);
        fs::write(dir.path().join("results/big"), &big).unwrap();
        fs::write(dir.path().join("run/1/status/results/url"), "https://a\n").unwrap();
        let run_dir = args.run_dir.clone();
        let steps = thread::spawn(move || {
            thread::sleep(Duration::from_millis(60));
            fs::write(run_dir.join("0/out"), "").unwrap();
            thread::sleep(Duration::from_millis(60));
            fs::write(run_dir.join("1/out"), "").unwrap();
        });
        let mut out = Vec::new();
        run(&args, &mut out).unwrap();
        steps.join().unwrap();
        // Both post files must exist: the sidecar may not print before the last step ends.
        assert!(dir.path().join("run/1/out").exists());
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                serde_json::json!({"name": "big", "value": big, "type": "task"}),
                serde_json::json!({"name": "s1.url", "value": "https://a\n", "type": "step"}),
            ]
        );
        assert!(text.starts_with(r#"{"name":"big","value":"xxx"#), "{text}");
    }

    #[test]
    fn a_failed_step_ends_the_wait() {
        let (dir, mut args) = pod(3);
        args.result_names = vec!["r".into()];
        fs::write(dir.path().join("results/r"), "partial").unwrap();
        fs::write(dir.path().join("run/0/out"), "").unwrap();
        fs::write(dir.path().join("run/1/out.err"), "").unwrap();
        let mut out = Vec::new();
        run(&args, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"name\":\"r\",\"value\":\"partial\",\"type\":\"task\"}\n"
        );
    }

    #[test]
    fn no_steps_and_no_results_print_nothing() {
        let (_dir, args) = pod(0);
        let mut out = Vec::new();
        run(&args, &mut out).unwrap();
        assert!(out.is_empty());
    }
}
