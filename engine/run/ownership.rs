//! Who owns a container or directory adze created, and whether that owner still runs.
//!
//! # Why
//!
//! An `adze run` killed with SIGKILL (or by a crash, an OOM kill, a closed laptop lid) cannot
//! clean up after itself: its containers keep running and its temporary directories stay.
//! Whoever cleans up later — the run's watchdog, the next `adze run`, `adze gc` — must tell
//! those leftovers from the containers of another `adze run` that is still running, which
//! must never be touched. So everything adze creates names its owner.
//!
//! # Design
//!
//! - The owner is one `adze` process: a run id unique per process, its pid, its start time
//!   (field 22 of `/proc/<pid>/stat`, clock ticks since boot), the boot id, the machine id and
//!   the pid namespace. The pid alone is not enough: pids are reused, after a reboot from the
//!   start. A pid whose start time differs is another process.
//! - The facts are written as labels on containers ([`Owner::labels`]) and as the same
//!   key/value pairs in a marker file ([`MARKER_FILE`]) at the root of each temporary
//!   directory, so one parser ([`Claim::from_labels`]) reads both.
//! - Judging liveness ([`judge`]) is pure over a [`Host`]: the real one reads `/proc`
//!   ([`ProcHost`]), tests give fakes.
//! - An owner on another machine (a shared remote engine) or in another pid namespace (adze
//!   in a container sharing the host's engine) cannot be looked up from here:
//!   [`Liveness::Elsewhere`]; nothing is removed on a guess.
//!
//! # Invariants
//!
//! - [`Liveness::Gone`] only when this host can see that the owner's process no longer runs:
//!   the pid is absent, a zombie, or a process started at another time, or the machine has
//!   rebooted since.
//! - A zombie counts as gone: a killed `adze` whose parent has not reaped it runs nothing.
//!
//! # Not yet
//!
//! - Other operating systems than Linux: without `/proc` this process's own facts are
//!   unknown, labels carry a start time of 0 and every owner is judged [`Liveness::Elsewhere`].

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::OnceLock;

/// The label naming the `adze` invocation that created a container (one id per process).
pub const RUN_ID_LABEL: &str = "adze.dev/run-id";
/// The label holding the owning process's pid.
pub const OWNER_PID_LABEL: &str = "adze.dev/owner-pid";
/// The label holding the owning process's start time (clock ticks since boot).
pub const OWNER_START_LABEL: &str = "adze.dev/owner-start";
/// The label holding the boot id of the machine the owner ran on.
pub const OWNER_BOOT_LABEL: &str = "adze.dev/owner-boot";
/// The label holding the machine id (or host name) the owner ran on.
pub const OWNER_HOST_LABEL: &str = "adze.dev/owner-host";
/// The label holding the owner's pid namespace (`pid:[inode]`).
pub const OWNER_PIDNS_LABEL: &str = "adze.dev/owner-pidns";
/// The label on what `--keep` asked to leave behind; only `adze gc --include-kept` removes it.
pub const KEPT_LABEL: &str = "adze.dev/kept";

/// The marker file at the root of every temporary directory adze creates.
pub const MARKER_FILE: &str = ".adze-owner";

/// One `adze` process, as recorded on what it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Unique per `adze` process.
    pub run_id: String,
    /// Its pid.
    pub pid: u32,
    /// Its start time, clock ticks since boot (`/proc/<pid>/stat` field 22).
    pub start: u64,
    /// `/proc/sys/kernel/random/boot_id` when it ran.
    pub boot: String,
    /// `/etc/machine-id`, or the host name where there is none.
    pub host: String,
    /// Its pid namespace, as `readlink /proc/self/ns/pid` shows it.
    pub pid_ns: String,
}

/// What this process's `/proc` says about the machine and one process.
pub trait Host {
    /// The current boot id.
    fn boot(&self) -> String;
    /// The machine id (or host name).
    fn host(&self) -> String;
    /// This process's pid namespace.
    fn pid_ns(&self) -> String;
    /// A process by pid, if one exists.
    fn process(&self, pid: u32) -> Option<Process>;
}

/// A process found by pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Process {
    /// Its start time, clock ticks since boot.
    pub start: u64,
    /// Exited and not yet reaped by its parent.
    pub zombie: bool,
}

/// Whether an owner still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// It runs: leave its things alone.
    Alive,
    /// It does not run any more, for this reason.
    Gone(Gone),
    /// It ran on another machine or in another pid namespace: this host cannot tell.
    Elsewhere,
}

/// Why an owner is known to be gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// No process has its pid, or only a zombie.
    Exited,
    /// Its pid belongs to a process started at another time.
    PidReused,
    /// The machine has rebooted since.
    Rebooted,
}

impl std::fmt::Display for Gone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Gone::Exited => "has exited",
            Gone::PidReused => "has exited (its pid now belongs to another process)",
            Gone::Rebooted => "ran before the machine rebooted",
        })
    }
}

/// Decides whether `owner` still runs, as `host` sees it.
pub fn judge(owner: &Owner, host: &dyn Host) -> Liveness {
    if owner.host != host.host() {
        return Liveness::Elsewhere;
    }
    if owner.boot != host.boot() {
        return Liveness::Gone(Gone::Rebooted);
    }
    if owner.pid_ns != host.pid_ns() || owner.start == 0 {
        return Liveness::Elsewhere;
    }
    match host.process(owner.pid) {
        None => Liveness::Gone(Gone::Exited),
        Some(p) if p.start != owner.start => Liveness::Gone(Gone::PidReused),
        Some(p) if p.zombie => Liveness::Gone(Gone::Exited),
        Some(_) => Liveness::Alive,
    }
}

/// What a container's labels (or a directory's marker) say about its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Created by this owner.
    Owned {
        /// The owning process.
        owner: Owner,
        /// `--keep` asked to leave it behind.
        kept: bool,
    },
    /// No owner recorded: made by an adze older than the ownership labels.
    Unknown,
}

impl Claim {
    /// Reads the ownership labels; any missing or malformed one makes the owner unknown.
    pub fn from_labels(labels: &BTreeMap<String, String>) -> Claim {
        let get = |k: &str| labels.get(k).map(String::as_str);
        let owner = (|| {
            Some(Owner {
                run_id: get(RUN_ID_LABEL).filter(|v| !v.is_empty())?.to_owned(),
                pid: get(OWNER_PID_LABEL)?.parse().ok()?,
                start: get(OWNER_START_LABEL)?.parse().ok()?,
                boot: get(OWNER_BOOT_LABEL)?.to_owned(),
                host: get(OWNER_HOST_LABEL)?.to_owned(),
                pid_ns: get(OWNER_PIDNS_LABEL)?.to_owned(),
            })
        })();
        match owner {
            Some(owner) => Claim::Owned {
                owner,
                kept: get(KEPT_LABEL) == Some("true"),
            },
            None => Claim::Unknown,
        }
    }
}

impl Owner {
    /// This process, read from `/proc` once.
    pub fn current() -> &'static Owner {
        static CURRENT: OnceLock<Owner> = OnceLock::new();
        CURRENT.get_or_init(|| {
            let host = ProcHost;
            let pid = std::process::id();
            Owner {
                run_id: crate::status::new_uid(),
                pid,
                start: host.process(pid).map_or(0, |p| p.start),
                boot: host.boot(),
                host: host.host(),
                pid_ns: host.pid_ns(),
            }
        })
    }

    /// The labels (and marker entries) naming this owner; with [`KEPT_LABEL`] when `kept`.
    pub fn labels(&self, kept: bool) -> Vec<(String, String)> {
        let mut labels = vec![
            (RUN_ID_LABEL.to_owned(), self.run_id.clone()),
            (OWNER_PID_LABEL.to_owned(), self.pid.to_string()),
            (OWNER_START_LABEL.to_owned(), self.start.to_string()),
            (OWNER_BOOT_LABEL.to_owned(), self.boot.clone()),
            (OWNER_HOST_LABEL.to_owned(), self.host.clone()),
            (OWNER_PIDNS_LABEL.to_owned(), self.pid_ns.clone()),
        ];
        if kept {
            labels.push((KEPT_LABEL.to_owned(), "true".to_owned()));
        }
        labels
    }
}

/// Writes the marker of a temporary directory: this process's labels, `kept` if so, and
/// `extra` (the run it belongs to), as JSON.
pub fn write_marker(dir: &Path, kept: bool, extra: &[(&str, &str)]) -> io::Result<()> {
    let mut entries: BTreeMap<String, String> = Owner::current().labels(kept).into_iter().collect();
    for (k, v) in extra {
        entries.insert((*k).to_owned(), (*v).to_owned());
    }
    let text = serde_json::to_string_pretty(&entries).map_err(io::Error::other)?;
    // The error names the marker: on a full disk it is the first file a run writes.
    Ok(super::host_file::write(
        &dir.join(MARKER_FILE),
        text + "\n",
    )?)
}

/// The entries of a directory's marker; `None` when it has none (not adze's, or an older
/// adze's) or it cannot be read as one.
pub fn read_marker(dir: &Path) -> Option<BTreeMap<String, String>> {
    let text = fs::read_to_string(dir.join(MARKER_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The [`Host`] this process runs on, read from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcHost;

impl Host for ProcHost {
    fn boot(&self) -> String {
        read_trimmed("/proc/sys/kernel/random/boot_id")
    }

    fn host(&self) -> String {
        let id = read_trimmed("/etc/machine-id");
        if id.is_empty() {
            read_trimmed("/proc/sys/kernel/hostname")
        } else {
            id
        }
    }

    fn pid_ns(&self) -> String {
        fs::read_link("/proc/self/ns/pid")
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn process(&self, pid: u32) -> Option<Process> {
        parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }
}

fn read_trimmed(path: &str) -> String {
    fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// State and start time from a `/proc/<pid>/stat` line.
fn parse_stat(stat: &str) -> Option<Process> {
    // The command name (field 2) is in parentheses and may itself hold spaces or `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (the state); field 22 is the start time.
    let state = fields.first()?;
    let start = fields.get(22 - 3)?.parse().ok()?;
    Some(Process {
        start,
        zombie: matches!(*state, "Z" | "X"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct FakeHost {
        boot: &'static str,
        host: &'static str,
        processes: HashMap<u32, Process>,
    }

    impl Host for FakeHost {
        fn boot(&self) -> String {
            self.boot.to_owned()
        }
        fn host(&self) -> String {
            self.host.to_owned()
        }
        fn pid_ns(&self) -> String {
            "pid:[1]".to_owned()
        }
        fn process(&self, pid: u32) -> Option<Process> {
            self.processes.get(&pid).copied()
        }
    }

    fn owner() -> Owner {
        Owner {
            run_id: "r1".into(),
            pid: 42,
            start: 1000,
            boot: "b1".into(),
            host: "m1".into(),
            pid_ns: "pid:[1]".into(),
        }
    }

    fn host_with(pid: u32, start: u64, zombie: bool) -> FakeHost {
        FakeHost {
            boot: "b1",
            host: "m1",
            processes: [(pid, Process { start, zombie })].into(),
        }
    }

    #[test]
    fn an_owner_is_alive_only_while_its_pid_runs_with_its_start_time() {
        assert_eq!(
            judge(&owner(), &host_with(42, 1000, false)),
            Liveness::Alive
        );
        assert_eq!(
            judge(&owner(), &host_with(7, 1000, false)),
            Liveness::Gone(Gone::Exited)
        );
        assert_eq!(
            judge(&owner(), &host_with(42, 1000, true)),
            Liveness::Gone(Gone::Exited),
            "a killed adze its parent has not reaped yet runs nothing"
        );
        assert_eq!(
            judge(&owner(), &host_with(42, 5000, false)),
            Liveness::Gone(Gone::PidReused)
        );
    }

    #[test]
    fn another_boot_means_gone_and_another_machine_or_namespace_means_unknowable() {
        let rebooted = FakeHost {
            boot: "b2",
            ..host_with(42, 1000, false)
        };
        assert_eq!(judge(&owner(), &rebooted), Liveness::Gone(Gone::Rebooted));
        let other = FakeHost {
            host: "m2",
            ..host_with(42, 1000, false)
        };
        assert_eq!(judge(&owner(), &other), Liveness::Elsewhere);
        let in_container = Owner {
            pid_ns: "pid:[2]".into(),
            ..owner()
        };
        assert_eq!(
            judge(&in_container, &host_with(7, 1, false)),
            Liveness::Elsewhere
        );
    }

    #[test]
    fn labels_read_back_as_the_same_owner_and_missing_ones_make_it_unknown() {
        let labels: BTreeMap<String, String> = owner().labels(true).into_iter().collect();
        assert_eq!(
            Claim::from_labels(&labels),
            Claim::Owned {
                owner: owner(),
                kept: true
            }
        );
        let mut partial = labels.clone();
        partial.remove(OWNER_START_LABEL);
        assert_eq!(Claim::from_labels(&partial), Claim::Unknown);
        partial.insert(OWNER_START_LABEL.into(), "soon".into());
        assert_eq!(Claim::from_labels(&partial), Claim::Unknown);
        assert_eq!(Claim::from_labels(&BTreeMap::new()), Claim::Unknown);
    }

    #[test]
    fn stat_lines_give_state_and_start_time_even_with_odd_command_names() {
        let line = "4242 (a d) (ze)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 \
                    987654 1000 100 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Some(Process {
                start: 987654,
                zombie: false
            })
        );
        let zombie = line.replace(") S ", ") Z ");
        assert!(parse_stat(&zombie).expect("parsed").zombie);
        assert_eq!(parse_stat("4242 (adze) S 1"), None);
    }

    #[test]
    fn this_process_is_alive_to_itself() {
        assert_eq!(judge(Owner::current(), &ProcHost), Liveness::Alive);
    }

    #[test]
    fn a_marker_reads_back_as_its_owner() {
        let tmp = tempfile::tempdir().expect("temporary directory");
        assert_eq!(read_marker(tmp.path()), None);
        write_marker(tmp.path(), false, &[("adze.dev/run", "nap")]).expect("written");
        let entries = read_marker(tmp.path()).expect("a marker");
        assert_eq!(entries["adze.dev/run"], "nap");
        assert_eq!(
            Claim::from_labels(&entries),
            Claim::Owned {
                owner: Owner::current().clone(),
                kept: false
            }
        );
    }
}
