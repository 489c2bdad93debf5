//! Breakpoints of `adze run`: where a run stops to open a shell beside a step
//! (`--break-on-failure`, `--break-before STEP`), and what the executor hands to whoever
//! attends that stop.
//!
//! # Design
//!
//! - What to stop at is plain data ([`Breakpoints`]), checked against the run's planned
//!   tasks and steps before anything starts ([`StepRef::resolve`]), so a misspelt step is an
//!   input error with a suggestion, never a run that silently never stops.
//! - The executor decides *when* (it alone sees a step fail or be about to start) and
//!   prepares the container; the [`BreakSession`] it is given decides *how* the user gets in
//!   (a terminal attached, or a printed command), so the executor never touches a terminal
//!   and the CLI never touches the engine.
//! - Only the first failure breaks ([`Breakpoints::claim_failure`]): later failures of tasks
//!   that were already running end as usual while the first session is open.
//!
//! # Invariants
//!
//! - A resolved [`StepRef`] holds the whole path of exactly one planned step: the pipeline
//!   tasks from the run down to the step's task (a pipeline task running a pipeline adds
//!   its child's tasks below it), then the step; a bare TaskRun's steps have no path.
//!
//! # Not yet
//!
//! - Only the Docker executor breaks; `--executor kubernetes` refuses the flags.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A step named on the command line: `step`, `task/step`, or, in a pipeline in a pipeline,
/// the path of pipeline tasks down to the step's (`outer/inner/step`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRef {
    /// The pipeline tasks from the run down to the step's own task, outermost first; empty
    /// for a bare TaskRun's step.
    pub path: Vec<String>,
    /// The step's name.
    pub step: String,
}

/// Why a `--break-before` step name matches no step of the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakpointError {
    /// No planned step has this name.
    #[error("--break-before {given}: the run has no such step{}", hint(suggestion.as_deref(), steps))]
    Unknown {
        /// What was given.
        given: String,
        /// The closest step, as it should be written.
        suggestion: Option<String>,
        /// Every step of the run, as it can be written.
        steps: Vec<String>,
    },
    /// A name that several steps end with.
    #[error(
        "--break-before {given}: several tasks have a step \"{step}\"\n  help: name one of \
         them: {}",
        candidates.join(", ")
    )]
    Ambiguous {
        /// What was given.
        given: String,
        /// The step's name.
        step: String,
        /// The full path of each step it could be.
        candidates: Vec<String>,
    },
}

/// The help line of [`BreakpointError::Unknown`].
fn hint(suggestion: Option<&str>, steps: &[String]) -> String {
    match suggestion {
        Some(s) => format!("\n  help: did you mean `{s}`?"),
        None if steps.is_empty() => "\n  help: the run has no steps to stop before".to_owned(),
        None => format!("\n  help: the steps are: {}", steps.join(", ")),
    }
}

/// The path of a step as it is written: its tasks and its name, joined by `/`.
fn written(path: &[String], step: &str) -> String {
    path.iter()
        .map(String::as_str)
        .chain([step])
        .collect::<Vec<_>>()
        .join("/")
}

impl StepRef {
    /// Reads `step`, `task/step` or `task/…/step`.
    pub fn parse(text: &str) -> StepRef {
        let mut parts: Vec<String> = text.split('/').map(str::to_owned).collect();
        let step = parts.pop().unwrap_or_default();
        StepRef { path: parts, step }
    }

    /// The step this names among `tasks` (each task's path from the run, pipeline tasks of
    /// pipelines in pipelines included, with its step names; a bare TaskRun is one entry
    /// with `bare` set), with its path made whole.
    ///
    /// A name matches the steps whose path ends with it: `compile`, `build/compile` and
    /// `outer/build/compile` all name step `compile` of task `build` of pipeline task
    /// `outer`, as long as only one step matches. A name that is a step's whole path always
    /// names that step, so every step can be named.
    pub fn resolve(
        text: &str,
        tasks: &[(Vec<String>, Vec<String>)],
        bare: bool,
    ) -> Result<StepRef, BreakpointError> {
        let wanted = StepRef::parse(text);
        let shown = |path: &[String], step: &str| {
            if bare {
                step.to_owned()
            } else {
                written(path, step)
            }
        };
        let all: Vec<String> = tasks
            .iter()
            .flat_map(|(path, steps)| steps.iter().map(|s| shown(path, s)))
            .collect();
        let steps = || {
            tasks
                .iter()
                .flat_map(|(path, steps)| steps.iter().map(move |s| (path, s)))
                .filter(|(_, s)| **s == wanted.step)
        };
        let exact: Vec<(&Vec<String>, &String)> = if bare {
            Vec::new()
        } else {
            steps().filter(|(p, _)| **p == wanted.path).collect()
        };
        let found: Vec<(&Vec<String>, &String)> = match exact.as_slice() {
            [_] => exact,
            _ if bare && !wanted.path.is_empty() => Vec::new(),
            _ => steps()
                .filter(|(p, _)| bare || p.ends_with(&wanted.path))
                .collect(),
        };
        match found.as_slice() {
            [(path, step)] => Ok(StepRef {
                path: if bare { Vec::new() } else { (*path).clone() },
                step: (*step).clone(),
            }),
            [] => Err(BreakpointError::Unknown {
                given: text.to_owned(),
                suggestion: closest(text, &all),
                steps: all,
            }),
            many => Err(BreakpointError::Ambiguous {
                given: text.to_owned(),
                step: wanted.step.clone(),
                candidates: many.iter().map(|(p, s)| shown(p, s)).collect(),
            }),
        }
    }

    /// Whether this names step `step` of the task at `path` (pipeline tasks from the run
    /// down, as in [`StepRef::path`]).
    pub fn names(&self, path: &[String], step: &str) -> bool {
        self.step == step && self.is_in(path)
    }

    /// Whether this names a step of the task at `path`.
    pub fn is_in(&self, path: &[String]) -> bool {
        self.path.is_empty() || self.path == path
    }
}

impl fmt::Display for StepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&written(&self.path, &self.step))
    }
}

/// The candidate closest to `given`, if any is close enough to be what was meant.
fn closest(given: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}

/// Why the run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakCause {
    /// The step failed with this exit code (`--break-on-failure`).
    Failed {
        /// Its exit code.
        exit_code: i32,
    },
    /// The step is about to run (`--break-before`).
    Before,
}

/// How the user gets into the stopped step's world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A running container with a shell: `docker exec -it CONTAINER PROGRAM`.
    Shell {
        /// The container's name.
        container: String,
        /// `bash` when the image has it, else `sh`.
        program: String,
    },
    /// The image has no shell: the container exists (created, not running) to be looked at
    /// with `docker cp` and `docker export`.
    NoShell {
        /// The container's name.
        container: String,
        /// Why no shell runs (the engine's answer).
        why: String,
    },
}

impl Entry {
    /// The container the user gets into.
    pub fn container(&self) -> &str {
        match self {
            Entry::Shell { container, .. } | Entry::NoShell { container, .. } => container,
        }
    }

    /// The command that opens the shell, as printed when there is no terminal; `None` when
    /// the image has no shell.
    pub fn command(&self) -> Option<String> {
        match self {
            Entry::Shell { container, program } => {
                Some(format!("docker exec -it {container} {program}"))
            }
            Entry::NoShell { .. } => None,
        }
    }
}

/// One stop, as the executor describes it to the [`BreakSession`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The pipeline task (the TaskRun's name for a bare TaskRun); in a pipeline in a
    /// pipeline, its path from the run (`outer/task`).
    pub task: String,
    /// The TaskRun.
    pub task_run: String,
    /// The step.
    pub step: String,
    /// Why the run stopped here.
    pub cause: BreakCause,
    /// How to get in.
    pub entry: Entry,
    /// The image the container runs: the failed step's container committed, or the step's.
    pub image: String,
    /// The working directory the shell starts in.
    pub working_dir: Option<String>,
    /// Mounts: path in the container, then where it is on this host.
    pub mounts: Vec<(String, String)>,
    /// Names of the step's environment variables (values are not shown: they may be secret).
    pub env: Vec<String>,
}

/// What a stop does to the run and the terminal: keeps tasks from starting, attaches a
/// shell or prints how to open one and waits. For one stop, the executor calls
/// [`stopped`](BreakSession::stopped) at once, [`attend`](BreakSession::attend) once its
/// container is ready (not at all if it cannot be made), then always
/// [`resumed`](BreakSession::resumed).
pub trait BreakSession: Send + Sync + fmt::Debug {
    /// The run stops at step `step` of pipeline task `task`: called as soon as the executor
    /// knows, before the container is prepared, so no task starts meanwhile.
    fn stopped(&self, task: &str, step: &str, cause: &BreakCause);

    /// Runs the session at `at` and returns once it is over, or soon after `end` is set
    /// (the TaskRun was cancelled or timed out meanwhile). Blocking.
    fn attend(&self, at: &Break, end: &AtomicBool);

    /// The stop is over (its container removed).
    fn resumed(&self, cause: &BreakCause);
}

/// Where a run stops, and who attends the stop; shared by every TaskRun of the run.
pub struct Breakpoints {
    /// Stop at the first failed step.
    pub on_failure: bool,
    /// Stop before this step.
    pub before: Option<StepRef>,
    session: Arc<dyn BreakSession>,
    failure_claimed: AtomicBool,
}

impl fmt::Debug for Breakpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breakpoints")
            .field("on_failure", &self.on_failure)
            .field("before", &self.before)
            .finish_non_exhaustive()
    }
}

impl Breakpoints {
    /// Breakpoints attended by `session`.
    pub fn new(
        on_failure: bool,
        before: Option<StepRef>,
        session: Arc<dyn BreakSession>,
    ) -> Breakpoints {
        Breakpoints {
            on_failure,
            before,
            session,
            failure_claimed: AtomicBool::new(false),
        }
    }

    /// True for the first caller only, and only with `--break-on-failure`: the failure that
    /// breaks.
    pub fn claim_failure(&self) -> bool {
        self.on_failure && !self.failure_claimed.swap(true, Ordering::SeqCst)
    }

    /// Whether the run stops before step `step` of the task at `path` (pipeline tasks from
    /// the run down).
    pub fn is_before(&self, path: &[String], step: &str) -> bool {
        self.before.as_ref().is_some_and(|b| b.names(path, step))
    }

    /// Whether any step of the task at `path` is one to stop before.
    pub fn stops_in(&self, path: &[String]) -> bool {
        self.before.as_ref().is_some_and(|b| b.is_in(path))
    }

    /// Who attends the stops.
    pub fn session(&self) -> &Arc<dyn BreakSession> {
        &self.session
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('/').map(str::to_owned).collect()
    }

    fn steps(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn pipeline() -> Vec<(Vec<String>, Vec<String>)> {
        vec![
            (path("build"), steps(&["fetch", "compile"])),
            (path("test"), steps(&["unit", "compile"])),
            (path("release"), steps(&["publish"])),
        ]
    }

    /// A pipeline whose task `nested` runs a pipeline with a task `build` (as the top one
    /// has), and `deeper` inside that runs one more with a task `sign`.
    fn nested() -> Vec<(Vec<String>, Vec<String>)> {
        let mut tasks = pipeline();
        tasks.extend([
            (path("nested/build"), steps(&["fetch", "link"])),
            (path("nested/deeper/sign"), steps(&["gpg"])),
        ]);
        tasks
    }

    #[test]
    fn a_step_is_named_with_its_task_or_alone_when_only_one_task_has_it() {
        let tasks = pipeline();
        assert_eq!(
            StepRef::resolve("build/compile", &tasks, false),
            Ok(StepRef {
                path: path("build"),
                step: "compile".into()
            })
        );
        let publish = StepRef::resolve("publish", &tasks, false).expect("one task has it");
        assert_eq!(publish.to_string(), "release/publish");
        assert!(publish.names(&path("release"), "publish"));
        assert!(!publish.names(&path("build"), "publish"));
    }

    #[test]
    fn steps_of_pipelines_in_pipelines_are_named_by_their_path_or_its_end() {
        let tasks = nested();
        let resolved = |text: &str| {
            StepRef::resolve(text, &tasks, false)
                .map(|s| s.to_string())
                .map_err(|e| e.to_string())
        };
        for text in ["link", "build/link", "nested/build/link"] {
            assert_eq!(resolved(text), Ok("nested/build/link".into()), "{text}");
        }
        for text in [
            "gpg",
            "sign/gpg",
            "deeper/sign/gpg",
            "nested/deeper/sign/gpg",
        ] {
            assert_eq!(
                resolved(text),
                Ok("nested/deeper/sign/gpg".into()),
                "{text}"
            );
        }
        // A whole path names its step even where a shorter one is the end of another's.
        assert_eq!(resolved("build/fetch"), Ok("build/fetch".into()));
        assert_eq!(
            resolved("nested/build/fetch"),
            Ok("nested/build/fetch".into())
        );
        // Only whole names count: `uild/link` is no path's end.
        assert!(resolved("uild/link").is_err());
        let gpg = StepRef::resolve("gpg", &tasks, false).expect("found");
        assert!(gpg.names(&path("nested/deeper/sign"), "gpg"));
        assert!(
            !gpg.names(&path("sign"), "gpg"),
            "a child's task is not a top one"
        );
    }

    #[test]
    fn a_bare_task_runs_steps_are_named_alone() {
        let tasks = vec![(path("my-run"), steps(&["a", "b"]))];
        let b = StepRef::resolve("b", &tasks, true).expect("found");
        assert_eq!(b.path, Vec::<String>::new());
        assert!(b.names(&path("my-run"), "b"));
        assert!(matches!(
            StepRef::resolve("my-run/b", &tasks, true),
            Err(BreakpointError::Unknown { .. })
        ));
    }

    #[test]
    fn unknown_and_ambiguous_names_say_what_to_write() {
        let tasks = pipeline();
        let errors = [
            StepRef::resolve("build/compil", &tasks, false),
            StepRef::resolve("compile", &tasks, false),
            StepRef::resolve("deploy/zzz", &tasks, false),
            StepRef::resolve("x", &[], true),
            StepRef::resolve("fetch", &nested(), false),
            StepRef::resolve("nested/biuld/link", &nested(), false),
            StepRef::resolve("nested/zzz", &nested(), false),
        ]
        .map(|r| r.expect_err("refused").to_string())
        .join("\n---\n");
        insta::assert_snapshot!(errors);
    }

    #[derive(Debug)]
    struct Nobody;
    impl BreakSession for Nobody {
        fn stopped(&self, _: &str, _: &str, _: &BreakCause) {}
        fn attend(&self, _: &Break, _: &AtomicBool) {}
        fn resumed(&self, _: &BreakCause) {}
    }

    #[test]
    fn only_the_first_failure_breaks_and_only_when_asked() {
        let on = Breakpoints::new(true, None, Arc::new(Nobody));
        assert!(on.claim_failure());
        assert!(!on.claim_failure());
        let off = Breakpoints::new(false, None, Arc::new(Nobody));
        assert!(!off.claim_failure());
        let before = Breakpoints::new(
            false,
            Some(StepRef {
                path: path("build"),
                step: "compile".into(),
            }),
            Arc::new(Nobody),
        );
        assert!(before.stops_in(&path("build")) && !before.stops_in(&path("test")));
        assert!(!before.stops_in(&path("nested/build")));
        assert!(before.is_before(&path("build"), "compile"));
        assert!(!before.is_before(&path("test"), "compile"));
    }
}
