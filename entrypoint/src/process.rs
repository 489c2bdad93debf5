//! The command's process once started: the signals the entrypoint receives are forwarded to
//! it, orphaned descendants are reaped while the entrypoint is PID 1 of its container, and it
//! is waited for with the step timeout.
//!
//! The entrypoint is usually PID 1, and PID 1 gets no default signal action: without a handler
//! `docker stop` or a Pod deletion would wait out the grace period and SIGKILL the step. So
//! SIGTERM, SIGINT, SIGHUP and SIGQUIT are caught and passed to the command, which decides how
//! to stop; a signal that arrives before the command started ends the entrypoint at once.
//! The command runs in its own process group so a timeout kills what it started too.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How often a command with a timeout is polled: short next to a container start.
const POLL: Duration = Duration::from_millis(10);

/// The signals forwarded to the command.
const FORWARDED: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT];

/// The running command's pid, 0 before it started; read by the signal handler.
static CHILD: AtomicI32 = AtomicI32::new(0);

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited (a signal death counts as `128 + signal`, as shells report it).
    Exited(i32),
    /// The step timeout elapsed first and the command's process group was killed.
    TimedOut,
}

extern "C" fn forward(signal: libc::c_int) {
    // Only async-signal-safe calls here: an atomic load, kill(2) and _exit(2).
    let child = CHILD.load(Ordering::SeqCst);
    unsafe {
        if child > 0 {
            libc::kill(child, signal);
        } else {
            libc::_exit(128 + signal);
        }
    }
}

/// Catch the forwarded signals for the rest of the process's life (main calls it once).
pub fn forward_signals() -> io::Result<()> {
    for signal in FORWARDED {
        // SAFETY: a zeroed sigaction is valid; the handler only makes async-signal-safe calls.
        let result = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // Restarted system calls: a forwarded signal must not make waitpid or a read fail.
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Record the started command so signals reach it.
pub fn started(pid: u32) {
    CHILD.store(i32::try_from(pid).unwrap_or(0), Ordering::SeqCst);
}

/// Wait for `pid` (started with [`started`] in its own process group), killing its group once
/// `timeout` elapses; as PID 1, every other child that exits meanwhile is reaped too.
pub fn wait(pid: u32, timeout: Option<Duration>) -> Ended {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return Ended::Exited(1);
    };
    let reaper = std::process::id() == 1;
    // As PID 1, orphans are ours to reap: wait for anyone, and keep only our command's status.
    let target = if reaper { -1 } else { pid };
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    let ended = loop {
        let flags = if deadline.is_some() { libc::WNOHANG } else { 0 };
        let mut status = 0;
        // SAFETY: waitpid writes only to `status`.
        let waited = unsafe { libc::waitpid(target, &mut status, flags) };
        if waited == pid {
            break Ended::Exited(exit_code(status));
        }
        if waited > 0 {
            continue; // an orphan reaped
        }
        if waited < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            // Our own child cannot vanish; report a failure rather than spin.
            break Ended::Exited(1);
        }
        let Some(deadline) = deadline else { continue };
        let now = Instant::now();
        if now >= deadline {
            // SAFETY: signalling our own child's group and the child.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
                libc::kill(pid, libc::SIGKILL);
            }
            let mut status = 0;
            // SAFETY: as above.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
                && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
            {}
            break Ended::TimedOut;
        }
        thread::sleep(POLL.min(deadline - now));
    };
    CHILD.store(0, Ordering::SeqCst);
    if reaper {
        reap_exited();
    }
    ended
}

/// Reap every child that has already exited, without waiting for the others.
fn reap_exited() {
    let mut status = 0;
    // SAFETY: waitpid writes only to `status`.
    while unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } > 0 {}
}

fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    /// Start `script`; [`wait`] reaps it, which clippy cannot see.
    #[allow(clippy::zombie_processes)]
    fn start(script: &str) -> u32 {
        let child = Command::new("/bin/sh")
            .args(["-c", script])
            .process_group(0)
            .spawn()
            .unwrap();
        child.id()
    }

    #[test]
    fn exit_codes_and_signal_deaths() {
        assert_eq!(wait(start("exit 7"), None), Ended::Exited(7));
        assert_eq!(wait(start("kill -TERM $$"), None), Ended::Exited(143));
    }

    #[test]
    fn a_timeout_kills_the_whole_group() {
        let started = Instant::now();
        // A grandchild in the command's group, which must not outlive the timeout.
        let pid = start("sleep 30 & wait");
        assert_eq!(wait(pid, Some(Duration::from_millis(100))), Ended::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(5));
        let group = -(pid as libc::pid_t);
        // The killed grandchild is reaped by the system's init; poll until the group is gone.
        let gone = (0..500).any(|_| {
            // SAFETY: signal 0 only checks that the group exists.
            let alive = unsafe { libc::kill(group, 0) } == 0;
            if alive {
                thread::sleep(Duration::from_millis(10));
            }
            !alive
        });
        assert!(gone, "the grandchild outlived the timeout");
    }
}
