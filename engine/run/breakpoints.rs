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
//! - A resolved [`StepRef`] names exactly one planned step (`task/step`), or a step name
//!   that only one task has; a bare TaskRun's steps are named without a task.
//!
//! # Not yet
//!
//! - Steps of pipelines in pipelines (a child PipelineRun's tasks) cannot be named.
//! - Only the Docker executor breaks; `--executor kubernetes` refuses the flags.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A step named on the command line, as `task/step` or `step`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRef {
    /// The pipeline task; `None` for a bare TaskRun's step.
    pub task: Option<String>,
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
    /// A bare step name that several tasks have.
    #[error(
        "--break-before {given}: several tasks have a step \"{given}\"\n  help: name one of \
         them: {}",
        candidates.join(", ")
    )]
    Ambiguous {
        /// What was given.
        given: String,
        /// `task/step` for each task that has it.
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

impl StepRef {
    /// Reads `task/step` or `step`.
    pub fn parse(text: &str) -> StepRef {
        match text.split_once('/') {
            Some((task, step)) => StepRef {
                task: Some(task.to_owned()),
                step: step.to_owned(),
            },
            None => StepRef {
                task: None,
                step: text.to_owned(),
            },
        }
    }

    /// The step this names among `tasks` (each pipeline task with its step names; a bare
    /// TaskRun is one entry with `bare` set), with the task filled in when it was left out.
    pub fn resolve(
        text: &str,
        tasks: &[(String, Vec<String>)],
        bare: bool,
    ) -> Result<StepRef, BreakpointError> {
        let wanted = StepRef::parse(text);
        let written = |task: &str, step: &str| {
            if bare {
                step.to_owned()
            } else {
                format!("{task}/{step}")
            }
        };
        let all: Vec<String> = tasks
            .iter()
            .flat_map(|(t, steps)| steps.iter().map(|s| written(t, s)))
            .collect();
        let found: Vec<(&String, &String)> = tasks
            .iter()
            .filter(|(t, _)| {
                wanted
                    .task
                    .as_deref()
                    .is_none_or(|w| w == t.as_str() || bare)
            })
            .flat_map(|(t, steps)| steps.iter().map(move |s| (t, s)))
            .filter(|(_, s)| **s == wanted.step)
            .collect();
        match found.as_slice() {
            [(task, step)] if !bare || wanted.task.is_none() => Ok(StepRef {
                task: (!bare).then(|| (*task).clone()),
                step: (*step).clone(),
            }),
            [] | [_] => Err(BreakpointError::Unknown {
                given: text.to_owned(),
                suggestion: closest(text, &all),
                steps: all,
            }),
            many => Err(BreakpointError::Ambiguous {
                given: text.to_owned(),
                candidates: many.iter().map(|(t, s)| written(t, s)).collect(),
            }),
        }
    }

    /// Whether this names step `step` of pipeline task `task`.
    pub fn names(&self, task: &str, step: &str) -> bool {
        self.step == step && self.task.as_deref().is_none_or(|t| t == task)
    }
}

impl fmt::Display for StepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.task {
            Some(task) => write!(f, "{task}/{}", self.step),
            None => f.write_str(&self.step),
        }
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

/// One stop, as the executor describes it to the [`BreakSession`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The pipeline task (the TaskRun's name for a bare TaskRun).
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

    /// Whether the run stops before step `step` of pipeline task `task`.
    pub fn is_before(&self, task: &str, step: &str) -> bool {
        self.before.as_ref().is_some_and(|b| b.names(task, step))
    }

    /// Whether any step of pipeline task `task` is one to stop before.
    pub fn stops_in(&self, task: &str) -> bool {
        self.before
            .as_ref()
            .is_some_and(|b| b.task.as_deref().is_none_or(|t| t == task))
    }

    /// Who attends the stops.
    pub fn session(&self) -> &Arc<dyn BreakSession> {
        &self.session
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline() -> Vec<(String, Vec<String>)> {
        vec![
            ("build".into(), vec!["fetch".into(), "compile".into()]),
            ("test".into(), vec!["unit".into(), "compile".into()]),
            ("release".into(), vec!["publish".into()]),
        ]
    }

    #[test]
    fn a_step_is_named_with_its_task_or_alone_when_only_one_task_has_it() {
        let tasks = pipeline();
        assert_eq!(
            StepRef::resolve("build/compile", &tasks, false),
            Ok(StepRef {
                task: Some("build".into()),
                step: "compile".into()
            })
        );
        let publish = StepRef::resolve("publish", &tasks, false).expect("one task has it");
        assert_eq!(publish.to_string(), "release/publish");
        assert!(publish.names("release", "publish"));
        assert!(!publish.names("build", "publish"));
    }

    #[test]
    fn a_bare_task_runs_steps_are_named_alone() {
        let tasks = vec![("my-run".to_owned(), vec!["a".to_owned(), "b".to_owned()])];
        let b = StepRef::resolve("b", &tasks, true).expect("found");
        assert_eq!(b.task, None);
        assert!(b.names("my-run", "b"));
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
                task: Some("build".into()),
                step: "compile".into(),
            }),
            Arc::new(Nobody),
        );
        assert!(before.stops_in("build") && !before.stops_in("test"));
        assert!(before.is_before("build", "compile"));
        assert!(!before.is_before("test", "compile"));
    }
}
