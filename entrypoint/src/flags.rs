//! The command line, parsed the way Go's `flag` package parses Tekton's entrypoint flags:
//! `-name value`, `-name=value` or `--name…`, flags end at `--` or the first non-flag word.

use std::path::PathBuf;
use std::time::Duration;

use crate::duration::parse_go_duration;
use crate::when::{self, When, WhenError};

/// Where Tekton's entrypoint writes the termination message unless told otherwise.
pub const DEFAULT_TERMINATION_PATH: &str = "/tekton/termination";
/// Where task results are written by steps (`$(results.<name>.path)`).
pub const DEFAULT_RESULTS_DIR: &str = "/tekton/results";
/// Where every step's status directory is linked as `step-<name>` (§4.2).
pub const DEFAULT_STEPS_DIR: &str = "/tekton/steps";
/// Where the Task's `provenance.json` is written (`$(artifacts.path)`).
pub const DEFAULT_ARTIFACTS_DIR: &str = "/tekton/artifacts";
/// Where the Pod mounts the steps' scripts.
pub const DEFAULT_SCRIPTS_DIR: &str = "/tekton/scripts";
/// Where the Pod mounts the run's credentials (`$(credentials.path)`).
pub const DEFAULT_CREDS_DIR: &str = "/tekton/creds";

/// What a failing command does to the step (`onError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Fail the step and skip every later one (Tekton's default).
    StopAndFail,
    /// Record the exit code but let the container, and later steps, succeed.
    Continue,
}

/// Everything the entrypoint was told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    /// File to wait for before starting (the previous step's post file); none for step 0.
    pub wait_file: Option<PathBuf>,
    /// Wait until the wait file is non-empty, not just present (`/tekton/downward/ready`).
    pub wait_file_content: bool,
    /// Marker to write when done: the file itself on success, `<post_file>.err` on failure.
    pub post_file: Option<PathBuf>,
    /// Termination-message file.
    pub termination_path: PathBuf,
    /// Declared task results to report from `results_dir`.
    pub results: Vec<String>,
    /// Directory holding the task result files.
    pub results_dir: PathBuf,
    /// Declared step results to report from `<step_metadata_dir>/results`.
    pub step_results: Vec<String>,
    /// The step's status directory (`/tekton/run/<i>/status`): `exitCode` and `results/`.
    pub step_metadata_dir: Option<PathBuf>,
    /// Where earlier steps' results are read for `$(steps.S.results.R)`: `step-S/results/R`.
    pub steps_dir: PathBuf,
    /// The Task's artifacts directory, whose `provenance.json` is reported as type 6.
    pub artifacts_dir: PathBuf,
    /// The scripts directory: a script there holding `$(steps.S.outputs.A)` runs from a
    /// substituted copy.
    pub scripts_dir: PathBuf,
    /// Credentials copied into `$HOME` before the command runs.
    pub creds_dir: PathBuf,
    /// Read-only credentials (the Pod's Secret volume) first copied into `creds_dir`, the
    /// step's own writable copy, so its files belong to the step's user (Tekton's creds-init).
    pub creds_source: Option<PathBuf>,
    /// The step's `when` guard; empty means the step always runs.
    pub when: Vec<When>,
    /// Step timeout; `None` or zero means none.
    pub timeout: Option<Duration>,
    /// What a non-zero exit does.
    pub on_error: OnError,
    /// File that receives a copy of the command's stdout.
    pub stdout_path: Option<PathBuf>,
    /// File that receives a copy of the command's stderr.
    pub stderr_path: Option<PathBuf>,
    /// The program to run, followed by the positional arguments.
    pub command: Vec<String>,
}

/// A command line the entrypoint cannot act on (reported with the usage text, exit 2).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlagError {
    /// A flag nobody knows.
    #[error("flag provided but not defined: -{0}")]
    Unknown(String),
    /// A flag that needs a value came last.
    #[error("flag needs an argument: -{0}")]
    MissingValue(String),
    /// A value that does not parse for its flag.
    #[error("invalid value {value:?} for flag -{flag}: {reason}")]
    BadValue {
        /// The flag's name.
        flag: String,
        /// What was given.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
    /// `-when_expressions` is not Tekton's JSON list.
    #[error("invalid value for flag -when_expressions: {0}")]
    When(#[from] WhenError),
    /// Neither `-entrypoint` nor a positional command.
    #[error("no command to run: pass -entrypoint PROGRAM or a program after --")]
    NoCommand,
}

/// The usage text printed with every flag error.
pub const USAGE: &str = "usage: adze-entrypoint [flags] [--] [args...]
       adze-entrypoint init DST [DIR | LINK=TARGET ...]
                           copy itself to DST (0755), create each DIR (0777), link each LINK
  -wait_file PATH          wait for PATH (the previous step's post file); PATH.err skips this step
  -wait_file_content       wait until the wait file is non-empty
  -post_file PATH          write PATH on success, PATH.err on failure
  -termination_path PATH   termination message file (default /tekton/termination)
  -results a,b             task results to report from -results_dir
  -results_dir DIR         task result files (default /tekton/results)
  -step_results a,b        step results to report from -step_metadata_dir/results
  -step_metadata_dir DIR   the step's status dir: exitCode and results/
  -steps_dir DIR           earlier steps' dirs as step-<name>/ (default /tekton/steps)
  -artifacts_dir DIR       the Task's provenance.json (default /tekton/artifacts)
  -scripts_dir DIR         the steps' scripts (default /tekton/scripts)
  -creds_dir DIR           credentials to copy into $HOME (default /tekton/creds)
  -creds_source DIR        read-only credentials to copy into -creds_dir first
  -when_expressions JSON   the step's when guard: [{\"input\",\"operator\",\"values\"}]
  -timeout DURATION        step timeout, a Go duration such as 10s or 1m30s (0: none)
  -on_error continue|stopAndFail
  -stdout_path PATH        also copy the command's stdout to PATH
  -stderr_path PATH        also copy the command's stderr to PATH
  -entrypoint PROGRAM      the program; the args follow --";

const BOOL_FLAGS: &[&str] = &["wait_file_content"];
const VALUE_FLAGS: &[&str] = &[
    "wait_file",
    "post_file",
    "termination_path",
    "results",
    "results_dir",
    "step_results",
    "step_metadata_dir",
    "steps_dir",
    "artifacts_dir",
    "scripts_dir",
    "creds_dir",
    "creds_source",
    "when_expressions",
    "stdout_path",
    "stderr_path",
    "entrypoint",
    "timeout",
    "on_error",
];

/// Parse the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Flags, FlagError> {
    let mut flags = Flags {
        wait_file: None,
        wait_file_content: false,
        post_file: None,
        termination_path: PathBuf::from(DEFAULT_TERMINATION_PATH),
        results: Vec::new(),
        results_dir: PathBuf::from(DEFAULT_RESULTS_DIR),
        step_results: Vec::new(),
        step_metadata_dir: None,
        steps_dir: PathBuf::from(DEFAULT_STEPS_DIR),
        artifacts_dir: PathBuf::from(DEFAULT_ARTIFACTS_DIR),
        scripts_dir: PathBuf::from(DEFAULT_SCRIPTS_DIR),
        creds_dir: PathBuf::from(DEFAULT_CREDS_DIR),
        creds_source: None,
        when: Vec::new(),
        timeout: None,
        on_error: OnError::StopAndFail,
        stdout_path: None,
        stderr_path: None,
        command: Vec::new(),
    };
    let mut entrypoint = None;
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        if arg == "--" {
            index += 1;
            break;
        }
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            break;
        };
        if body.is_empty() {
            // A lone "-" is a positional word for Go's flag package.
            break;
        }
        index += 1;
        let (name, inline) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (body, None),
        };
        if BOOL_FLAGS.contains(&name) {
            let on = match inline.as_deref() {
                None | Some("true") | Some("1") => true,
                Some("false") | Some("0") => false,
                Some(other) => return Err(bad(name, other, "expected true or false")),
            };
            flags.wait_file_content = on;
            continue;
        }
        if !VALUE_FLAGS.contains(&name) {
            return Err(FlagError::Unknown(name.to_string()));
        }
        let value = match inline {
            Some(value) => value,
            None => {
                let value = args
                    .get(index)
                    .ok_or_else(|| FlagError::MissingValue(name.to_string()))?;
                index += 1;
                value.clone()
            }
        };
        match name {
            "wait_file" => flags.wait_file = non_empty_path(value),
            "post_file" => flags.post_file = non_empty_path(value),
            "termination_path" => flags.termination_path = PathBuf::from(value),
            "results" => flags.results = name_list(&value),
            "results_dir" => flags.results_dir = PathBuf::from(value),
            "step_results" => flags.step_results = name_list(&value),
            "step_metadata_dir" => flags.step_metadata_dir = non_empty_path(value),
            "steps_dir" => flags.steps_dir = PathBuf::from(value),
            "artifacts_dir" => flags.artifacts_dir = PathBuf::from(value),
            "scripts_dir" => flags.scripts_dir = PathBuf::from(value),
            "creds_dir" => flags.creds_dir = PathBuf::from(value),
            "creds_source" => flags.creds_source = non_empty_path(value),
            "when_expressions" if value.is_empty() => flags.when.clear(),
            "when_expressions" => flags.when = when::parse(&value)?,
            "stdout_path" => flags.stdout_path = non_empty_path(value),
            "stderr_path" => flags.stderr_path = non_empty_path(value),
            "entrypoint" => entrypoint = Some(value).filter(|v| !v.is_empty()),
            "timeout" => {
                let duration = parse_go_duration(&value).ok_or_else(|| {
                    bad(name, &value, "expected a Go duration such as 10s or 1m30s")
                })?;
                flags.timeout = Some(duration).filter(|d| !d.is_zero());
            }
            "on_error" => {
                flags.on_error = match value.as_str() {
                    "" | "stopAndFail" => OnError::StopAndFail,
                    "continue" => OnError::Continue,
                    _ => return Err(bad(name, &value, "expected continue or stopAndFail")),
                }
            }
            _ => return Err(FlagError::Unknown(name.to_string())),
        }
    }
    flags.command.extend(entrypoint);
    flags.command.extend(args[index..].iter().cloned());
    if flags.command.is_empty() {
        return Err(FlagError::NoCommand);
    }
    Ok(flags)
}

fn bad(flag: &str, value: &str, reason: &'static str) -> FlagError {
    FlagError::BadValue {
        flag: flag.to_string(),
        value: value.to_string(),
        reason,
    }
}

fn non_empty_path(value: String) -> Option<PathBuf> {
    Some(value).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn name_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Flags, FlagError> {
        let args: Vec<String> = words.split_whitespace().map(String::from).collect();
        parse(&args)
    }

    #[test]
    fn tekton_command_line() {
        let flags = parse_words(
            "-wait_file /tekton/run/0/out -post_file /tekton/run/1/out \
             -termination_path /tekton/termination -step_metadata_dir /tekton/run/1/status \
             -results digest,url -step_results r1 -timeout 1m30s -on_error continue \
             -entrypoint /bin/echo -- hello world",
        )
        .unwrap();
        assert_eq!(flags.wait_file, Some(PathBuf::from("/tekton/run/0/out")));
        assert_eq!(flags.post_file, Some(PathBuf::from("/tekton/run/1/out")));
        assert_eq!(flags.results, ["digest", "url"]);
        assert_eq!(flags.step_results, ["r1"]);
        assert_eq!(flags.timeout, Some(Duration::from_secs(90)));
        assert_eq!(flags.on_error, OnError::Continue);
        assert_eq!(flags.command, ["/bin/echo", "hello", "world"]);
        assert_eq!(flags.creds_source, None);
        let creds = parse_words("-creds_source /tekton/creds-secrets /bin/true").unwrap();
        assert_eq!(
            creds.creds_source,
            Some(PathBuf::from("/tekton/creds-secrets"))
        );
        assert_eq!(creds.creds_dir, PathBuf::from(DEFAULT_CREDS_DIR));
    }

    #[test]
    fn go_flag_spellings() {
        let flags = parse_words("--post_file=/p -wait_file_content /bin/true -x").unwrap();
        assert_eq!(flags.post_file, Some(PathBuf::from("/p")));
        assert!(flags.wait_file_content);
        // Flags end at the first positional word: "-x" belongs to the command.
        assert_eq!(flags.command, ["/bin/true", "-x"]);
        assert_eq!(parse_words("-timeout 0 /bin/true").unwrap().timeout, None);
        // An empty wait_file (step 0 in Tekton's pod) means no wait.
        assert_eq!(
            parse_words("-wait_file= /bin/true").unwrap().wait_file,
            None
        );
    }

    #[test]
    fn errors_name_the_flag() {
        assert_eq!(
            parse_words("-bogus 1 /bin/true"),
            Err(FlagError::Unknown("bogus".into()))
        );
        assert_eq!(
            parse_words("-post_file"),
            Err(FlagError::MissingValue("post_file".into()))
        );
        let timeout = parse_words("-timeout 10 /bin/true").unwrap_err();
        assert!(timeout.to_string().contains("-timeout"), "{timeout}");
        let on_error = parse_words("-on_error ignore /bin/true").unwrap_err();
        assert_eq!(
            on_error.to_string(),
            "invalid value \"ignore\" for flag -on_error: expected continue or stopAndFail"
        );
        assert_eq!(parse_words("-post_file /p --"), Err(FlagError::NoCommand));
    }
}
