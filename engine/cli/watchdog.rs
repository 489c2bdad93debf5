//! The watchdog of one `adze run`: a second `adze` process that removes the run's containers
//! and directories if the run dies without doing it (SIGKILL, a crash, a third Ctrl-C).
//!
//! # Design
//!
//! - [`Watchdog::spawn`] starts `adze watchdog` (hidden) in its own process group, so a
//!   signal to adze's group (Ctrl-C in a terminal, `kill -- -PGID`) does not reach it, with
//!   stdout and stderr on `/dev/null` (it never holds a pipe a caller waits on) and its stdin
//!   a pipe from adze.
//! - The pipe is the liveness signal: the kernel closes it the moment adze dies, however it
//!   dies. On a normal end adze writes `done` first ([`Watchdog::release`]) and the watchdog
//!   exits without touching anything. An end of the pipe without `done` means adze died.
//! - The owner's pid and start time are polled as well (every [`POLL`]), so a pipe somehow
//!   held open elsewhere does not keep the watchdog blind; and nothing is removed before
//!   `/proc` confirms the owner is gone, so a live owner's containers are never touched.
//! - Then it removes the run's orphaned containers and directories ([`Standing::Orphaned`]:
//!   not kept ones) and looks once more [`SECOND_LOOK`] later, for a container whose create
//!   request was in flight when adze died.
//!
//! # Invariants
//!
//! - Only the run id it was started for is ever touched.
//! - The bound: the owner's death is noticed at once (the pipe) or within [`POLL`], and
//!   removal starts then; `docker rm -f` kills at once (no grace period: nobody is left to
//!   report a graceful end). docs/faults-orphans.md states the bound users rely on.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::Outcome;
use crate::exec::docker::DockerExecutor;
use crate::run::leftovers::Standing;
use crate::run::ownership::{Host, Owner, ProcHost};

/// How often the owner's pid is looked at.
const POLL: Duration = Duration::from_millis(250);

/// How long after the first removal the run's containers are listed again.
const SECOND_LOOK: Duration = Duration::from_secs(1);

/// How long an end of the pipe may precede `/proc` showing the owner gone; past it the
/// pipe is taken as closed by something else and the watchdog goes on polling.
const EXIT_LAG: Duration = Duration::from_secs(2);

/// What adze writes on its stdin pipe when the run ended normally.
const DONE: &[u8] = b"done\n";

/// Arguments of the hidden `adze watchdog`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run id of the adze to watch.
    #[arg(long)]
    run_id: String,
    /// Its pid.
    #[arg(long)]
    owner_pid: u32,
    /// Its start time (`/proc/<pid>/stat` field 22).
    #[arg(long)]
    owner_start: u64,
}

/// A started watchdog, released when the run ends normally.
#[derive(Debug)]
pub(super) struct Watchdog {
    child: Child,
    pipe: Option<ChildStdin>,
}

impl Watchdog {
    /// Starts the watchdog of this process's run.
    pub fn spawn() -> std::io::Result<Watchdog> {
        let owner = Owner::current();
        let mut child = Command::new(std::env::current_exe()?)
            .args(["watchdog", "--run-id", &owner.run_id])
            .args(["--owner-pid", &owner.pid.to_string()])
            .args(["--owner-start", &owner.start.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // It must not keep the caller's directory busy (an unmount, a removal).
            .current_dir("/")
            .process_group(0)
            .spawn()?;
        let pipe = child.stdin.take();
        Ok(Watchdog { child, pipe })
    }

    /// Tells the watchdog the run ended normally and waits briefly for it to exit.
    pub fn release(mut self) {
        if let Some(mut pipe) = self.pipe.take() {
            // A watchdog already gone cannot read it; nothing is lost.
            let _ = pipe.write_all(DONE);
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs `adze watchdog`: waits for the owner to end, and cleans up if it died.
pub fn run(args: &Args) -> Outcome {
    let (tx, pipe_closed) = mpsc::channel::<bool>();
    std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut text);
        // The owner may have died mid-write; only the whole word means a normal end.
        let _ = tx.send(text.starts_with(DONE));
    });
    let mut closed_at: Option<Instant> = None;
    loop {
        match closed_at {
            None => match pipe_closed.recv_timeout(POLL) {
                Ok(true) => return Outcome::Success,
                Ok(false) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    closed_at = Some(Instant::now());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            },
            // The pipe ended: the owner's exit is under way and `/proc` shows it in a
            // moment; should the owner keep running, back to polling.
            Some(at) if at.elapsed() < EXIT_LAG => std::thread::sleep(Duration::from_millis(10)),
            Some(_) => std::thread::sleep(POLL),
        }
        if owner_gone(args) {
            break;
        }
    }
    collect(&args.run_id)
}

/// True once the owner's pid is free, a zombie, or another process's.
fn owner_gone(args: &Args) -> bool {
    match ProcHost.process(args.owner_pid) {
        None => true,
        Some(p) => p.zombie || p.start != args.owner_start,
    }
}

/// Removes the dead run's orphaned containers and directories, twice.
fn collect(run_id: &str) -> Outcome {
    let Ok(executor) = DockerExecutor::new() else {
        // The engine is gone too; the next `adze run` collects once it is back.
        return Outcome::Infrastructure;
    };
    for look in 0..2 {
        if look > 0 {
            std::thread::sleep(SECOND_LOOK);
        }
        let Ok(groups) = executor.survey(Some(run_id)) else {
            return Outcome::Infrastructure;
        };
        for group in groups
            .iter()
            .filter(|g| matches!(g.standing, Standing::Orphaned(_)))
        {
            executor.remove_group(group);
        }
    }
    Outcome::Success
}
