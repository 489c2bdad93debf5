//! `adze run --break-on-failure` and `--break-before STEP`: the flags checked before the
//! run starts, and the session at a stop ([`BreakSession`]) that gives the user a shell.
//!
//! # Design
//!
//! - With a terminal on stdin (and on stdout or stderr), the session runs the real
//!   `docker exec -it CONTAINER SHELL` attached to it: the docker CLI already does raw
//!   mode, window sizes and signals right. The session ends when that shell exits.
//! - Otherwise (scripts, tests, CI) it prints the exact command to open the shell and what
//!   the container holds, and waits until adze's stdin closes (or, on a terminal, a line
//!   is entered), Ctrl-C/SIGTERM, or the TaskRun is stopped.
//! - From the moment the executor sees the stop (before the container is ready) the run
//!   starts no task: `--break-on-failure` halts the run for good (it ends failed, no
//!   finally, no retry), `--break-before` holds starts until the stop is over and the run
//!   goes on with the step. While the session is open, the progress display is paused
//!   ([`progress::pause`]) so it does not draw over the shell.
//! - Sessions are one at a time: a second stop (another TaskRun of a matrix) waits.
//! - `--break-before` names a step by its path of pipeline tasks (`task/step`,
//!   `outer/inner-task/step` for a pipeline in a pipeline), or by any end of that path that
//!   only one step has ([`StepRef::resolve`]).
//!
//! # Invariants
//!
//! - What is printed at a stop is a pure function of the [`Break`] ([`describe`]),
//!   snapshot-tested; environment values are never printed (they may hold secrets).
//!
//! # Not yet
//!
//! - Docker only: `--executor kubernetes` refuses both flags (a Pod's debug container,
//!   `kubectl debug`, is the way there).

use std::io::{IsTerminal, Read};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use super::progress;
use super::Outcome;
use crate::api::Object;
use crate::load::Bundle;
use crate::plan::model::Plan;
use crate::run::breakpoints::{Break, BreakCause, BreakSession, Breakpoints, Entry, StepRef};
use crate::run::Interrupt;

/// How often a waiting session looks at its end conditions.
const POLL: Duration = Duration::from_millis(100);

/// Refuses the flags with `--executor kubernetes`, before anything is loaded or contacted;
/// `Err` is the exit after the message was printed.
pub(super) fn docker_only(
    on_failure: bool,
    before: Option<&str>,
    on_kubernetes: bool,
) -> Result<(), Outcome> {
    if on_kubernetes && (on_failure || before.is_some()) {
        eprintln!(
            "error: --break-on-failure and --break-before work with the Docker executor only \
             for now\n  help: drop them, or run with --executor docker; on a cluster, \
             `kubectl debug` opens a shell beside a Pod"
        );
        return Err(Outcome::Invalid);
    }
    Ok(())
}

/// Resolves `--break-before` against the run's planned steps; `Err` is the exit after the
/// message was printed.
pub(super) fn check(
    before: Option<&str>,
    bundle: &Bundle,
    object: &Object,
) -> Result<Option<StepRef>, Outcome> {
    let Some(before) = before else {
        return Ok(None);
    };
    let plan = crate::plan::plan_object(bundle, object).map_err(|e| {
        eprintln!("error: --break-before {before}: cannot list the run's steps: {e}");
        Outcome::Invalid
    })?;
    let bare = matches!(object, Object::TaskRun(_));
    let mut tasks = Vec::new();
    planned_steps(&plan, &[], &mut tasks);
    StepRef::resolve(before, &tasks, bare)
        .map(Some)
        .map_err(|e| {
            eprintln!("error: {e}");
            Outcome::Invalid
        })
}

/// Every task of `plan` with its steps, as `--break-before` names them: the path of pipeline
/// tasks from the run (`above`, then the task), children of pipelines in pipelines included.
fn planned_steps(plan: &Plan, above: &[String], out: &mut Vec<(Vec<String>, Vec<String>)>) {
    for task in plan.tasks.iter().chain(&plan.finally) {
        let mut path = above.to_vec();
        path.push(task.name.clone());
        if let Some(child) = &task.child {
            planned_steps(child, &path, out);
        } else {
            out.push((path, task.steps.iter().map(|s| s.name.clone()).collect()));
        }
    }
}

/// The breakpoints of a run, attended on this terminal; `None` when there are none.
pub(super) fn breakpoints(
    on_failure: bool,
    before: Option<StepRef>,
    interrupt: &Interrupt,
) -> Option<Arc<Breakpoints>> {
    if !on_failure && before.is_none() {
        return None;
    }
    let session = TerminalSession {
        interrupt: interrupt.clone(),
        one_at_a_time: Mutex::new(()),
    };
    Some(Arc::new(Breakpoints::new(
        on_failure,
        before,
        Arc::new(session),
    )))
}

/// The session at a stop, on adze's own terminal (or stdin).
#[derive(Debug)]
struct TerminalSession {
    interrupt: Interrupt,
    one_at_a_time: Mutex<()>,
}

impl BreakSession for TerminalSession {
    fn stopped(&self, task: &str, step: &str, cause: &BreakCause) {
        match cause {
            BreakCause::Failed { .. } => self.interrupt.halt(&halt_message(task, step)),
            BreakCause::Before => self.interrupt.hold(),
        }
    }

    fn resumed(&self, cause: &BreakCause) {
        if *cause == BreakCause::Before {
            self.interrupt.release();
        }
    }

    fn attend(&self, at: &Break, end: &AtomicBool) {
        let _one = self
            .one_at_a_time
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let interrupts = self.interrupt.count();
        let terminal = progress::pause::take_terminal();
        let attached = match &at.entry {
            Entry::Shell { .. } => interactive() && docker_cli(),
            Entry::NoShell { .. } => false,
        };
        eprint!("{}", describe(at, attached));
        let over = || end.load(Ordering::SeqCst) || self.interrupt.count() > interrupts;
        match (&at.entry, attached) {
            (Entry::Shell { container, program }, true) => {
                if let Err(e) = attach(container, program, &over) {
                    eprintln!(
                        "break: cannot run the docker CLI ({e}); waiting as without a terminal"
                    );
                    wait_for_stdin(&over);
                }
            }
            _ => wait_for_stdin(&over),
        }
        eprintln!("{}", ended(at));
        drop(terminal);
    }
}

/// Why the run stopped, as its final condition says.
fn halt_message(task: &str, step: &str) -> String {
    format!(
        "stopped at a breakpoint: step \"{step}\" of task \"{task}\" failed (--break-on-failure)"
    )
}

/// Whether a person can use an attached shell: stdin is a terminal, and so is stdout or
/// stderr (stdout may be a file for `-o yaml`).
fn interactive() -> bool {
    std::io::stdin().is_terminal()
        && (std::io::stdout().is_terminal() || std::io::stderr().is_terminal())
}

/// Whether the docker CLI answers.
fn docker_cli() -> bool {
    Command::new("docker")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `docker exec -it` on this terminal until the shell exits, or `over` says to stop.
fn attach(container: &str, program: &str, over: &dyn Fn() -> bool) -> std::io::Result<()> {
    let mut command = Command::new("docker");
    command.args(["exec", "-it", container, program]);
    if !std::io::stdout().is_terminal() {
        // The shell's output belongs on the terminal, not in the file `-o` writes to.
        use std::os::fd::AsFd;
        let stderr = std::io::stderr().as_fd().try_clone_to_owned()?;
        command.stdout(Stdio::from(stderr));
    }
    let mut child = command.spawn()?;
    loop {
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        if over() {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
}

/// Set once adze's stdin is closed (or, on a terminal, once a line was entered); one reader
/// for the process, since a second session reads the same stdin.
fn stdin_done() -> &'static Arc<AtomicBool> {
    static DONE: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    DONE.get_or_init(|| {
        let done = Arc::new(AtomicBool::new(false));
        let seen = done.clone();
        let terminal = std::io::stdin().is_terminal();
        let spawned = std::thread::Builder::new()
            .name("adze-break-stdin".into())
            .spawn(move || {
                let mut buf = [0u8; 1024];
                let mut stdin = std::io::stdin();
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if terminal => break,
                        Ok(_) => {}
                    }
                }
                seen.store(true, Ordering::SeqCst);
            });
        if spawned.is_err() {
            // Without a reader nothing would ever end the session but Ctrl-C.
            done.store(true, Ordering::SeqCst);
        }
        done
    })
}

/// Waits until stdin is done or `over` says to stop.
fn wait_for_stdin(over: &dyn Fn() -> bool) {
    let done = stdin_done();
    while !done.load(Ordering::SeqCst) && !over() {
        std::thread::sleep(POLL);
    }
}

/// What the stop is, in the progress display's words.
fn headline(at: &Break) -> String {
    let place = format!("break: task {}, ", at.task);
    match at.cause {
        BreakCause::Failed { exit_code } => {
            format!("{place}step {} failed (exit {exit_code})", at.step)
        }
        BreakCause::Before => format!("{place}before step {}", at.step),
    }
}

/// What is printed when the run stops at `at`; `attached` when the shell runs on this
/// terminal right after.
pub(super) fn describe(at: &Break, attached: bool) -> String {
    let mut out = String::new();
    let line = |out: &mut String, text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    match &at.entry {
        Entry::Shell { container, .. } => {
            line(&mut out, format!("{}: shell in {container}", headline(at)));
            if let (false, Some(command)) = (attached, at.entry.command()) {
                line(&mut out, format!("  open it:     {command}"));
            }
        }
        Entry::NoShell { container, why } => {
            line(
                &mut out,
                format!("{}: the image has no shell ({why})", headline(at)),
            );
            line(&mut out, "  look at its files instead:".to_owned());
            line(
                &mut out,
                format!("    docker export {container} | tar -tv     # every file"),
            );
            line(
                &mut out,
                format!("    docker cp {container}:PATH - | tar -xO  # one file's content"),
            );
        }
    }
    let image_note = match at.cause {
        BreakCause::Failed { .. } if at.image.starts_with("adze-debug:") => {
            " (the failed step's container, committed)"
        }
        BreakCause::Failed { .. } => " (the failed step's image)",
        BreakCause::Before => " (the step's image)",
    };
    line(&mut out, format!("  image:       {}{image_note}", at.image));
    if let Some(dir) = &at.working_dir {
        line(&mut out, format!("  working dir: {dir}"));
    }
    let mounts: Vec<&(String, String)> = at
        .mounts
        .iter()
        .filter(|(target, _)| {
            !target.starts_with("/tekton/run") && !target.starts_with("/tekton/bin")
        })
        .collect();
    let width = mounts.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
    for (i, (target, source)) in mounts.iter().enumerate() {
        let label = if i == 0 {
            "  mounts:      "
        } else {
            "               "
        };
        line(&mut out, format!("{label}{target:<width$}  <- {source}"));
    }
    if !at.env.is_empty() {
        line(
            &mut out,
            format!(
                "  environment: {} (the step's; values as it had them)",
                at.env.join(", ")
            ),
        );
    }
    let then = match at.cause {
        BreakCause::Failed { .. } => "the run then stops (failed) and this is removed",
        BreakCause::Before => "the run then goes on with the step",
    };
    let how = if attached {
        "exit the shell to end the session".to_owned()
    } else {
        "close adze's stdin (Ctrl-D) or press Ctrl-C to end the session".to_owned()
    };
    line(&mut out, format!("  {how}; {then}"));
    out
}

/// The line printed when the session is over.
fn ended(at: &Break) -> String {
    match at.cause {
        BreakCause::Failed { .. } => format!(
            "break: session over: removing the debug container; task {} fails and the run stops",
            at.task
        ),
        BreakCause::Before => format!(
            "break: session over: task {} goes on with step {}",
            at.task, at.step
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Break {
        Break {
            task: "build".into(),
            task_run: "ci-build".into(),
            step: "compile".into(),
            cause: BreakCause::Failed { exit_code: 2 },
            entry: Entry::Shell {
                container: "adze-debug-ci-build-compile-k3j2".into(),
                program: "bash".into(),
            },
            image: "adze-debug:ci-build-compile-42".into(),
            working_dir: Some("/workspace/source/src".into()),
            mounts: vec![
                (
                    "/tekton/bin/entrypoint".into(),
                    "/usr/bin/adze-entrypoint".into(),
                ),
                ("/tekton/home".into(), "/tmp/adze-ci-build-1-0/home".into()),
                (
                    "/tekton/run/0".into(),
                    "/tmp/adze-ci-build-1-0/run/0".into(),
                ),
                ("/workspace/source".into(), "/tmp/adze-run-ci/source".into()),
            ],
            env: vec!["GOFLAGS".into(), "TOKEN".into()],
        }
    }

    #[test]
    fn a_stop_says_where_how_to_get_in_and_what_is_there() {
        let before = Break {
            cause: BreakCause::Before,
            image: "golang:1.22".into(),
            entry: Entry::Shell {
                container: "adze-debug-ci-build-compile-k3j2".into(),
                program: "sh".into(),
            },
            env: Vec::new(),
            ..failed()
        };
        let no_shell = Break {
            entry: Entry::NoShell {
                container: "adze-debug-ci-build-compile-k3j2".into(),
                why: "exec: \"sh\": executable file not found in $PATH".into(),
            },
            image: "gcr.io/distroless/static".into(),
            working_dir: None,
            ..failed()
        };
        let text = [
            describe(&failed(), false),
            describe(&failed(), true),
            describe(&before, false),
            describe(&no_shell, false),
            ended(&failed()),
            ended(&before),
            halt_message("build", "compile"),
        ]
        .join("\n---\n");
        insta::assert_snapshot!(text);
    }
}
