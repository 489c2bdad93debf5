//! What earlier `adze` invocations left behind, grouped by invocation, and which of it may
//! be removed.
//!
//! # Design
//!
//! The executor lists its labelled containers and [`scan_directories`] the marked temporary
//! directories; [`group`] sorts both into one [`Group`] per run id and judges each with
//! [`ownership::judge`]. Removing is the caller's (the engine for containers,
//! [`remove_directory`] for directories), so this stays testable without an engine.
//!
//! # Invariants
//!
//! - Only what carries adze's run label or marker is ever found; everything else is
//!   invisible here.
//! - A group is [`Standing::Orphaned`] only when its owner is known to be gone and it was not
//!   kept; that is the only standing `adze run` and the watchdog remove on their own.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::ownership::{self, Claim, Gone, Host, Liveness, RUN_ID_LABEL};

/// The label (and marker entry) naming the TaskRun or PipelineRun something belongs to.
pub const RUN_NAME_LABEL: &str = "adze.dev/run";

/// One container or directory found with adze's label or marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// What it is.
    pub item: Item,
    /// Its labels (a directory: its marker's entries).
    pub labels: BTreeMap<String, String>,
}

/// A container or a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A container.
    Container {
        /// Its id.
        id: String,
        /// Its name.
        name: String,
    },
    /// A temporary directory.
    Directory(PathBuf),
}

/// Where a group stands, which decides who may remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Its owner still runs: never touched.
    Live,
    /// Its owner is gone: `adze run`, the watchdog and `adze gc --yes` remove it.
    Orphaned(Gone),
    /// Its owner is gone and it was kept with `--keep`: only `adze gc --yes --include-kept`.
    Kept,
    /// No owner recorded (an older adze): `adze gc --yes` removes it, `adze run` does not.
    OwnerUnknown,
    /// Its owner ran on another machine or in another pid namespace: never touched from here.
    Elsewhere,
}

impl Standing {
    /// The word `adze gc -o json` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Live => "live",
            Standing::Orphaned(_) => "orphaned",
            Standing::Kept => "kept",
            Standing::OwnerUnknown => "owner-unknown",
            Standing::Elsewhere => "elsewhere",
        }
    }
}

/// Everything one `adze` invocation left (or, for unknown owners, one TaskRun's containers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The invocation's run id; `None` for an unknown owner.
    pub run_id: Option<String>,
    /// The owner's pid, when recorded.
    pub owner_pid: Option<u32>,
    /// Who may remove it.
    pub standing: Standing,
    /// The TaskRuns and PipelineRuns its containers and directories belong to.
    pub runs: BTreeSet<String>,
    /// Its containers: id and name.
    pub containers: Vec<(String, String)>,
    /// Its directories.
    pub directories: Vec<PathBuf>,
}

impl Group {
    /// A line for people: whose, how many, which runs, and why it stands where it does.
    pub fn describe(&self, verb: &str) -> String {
        let count = |n: usize, one: &str, many: &str| match n {
            1 => format!("1 {one}"),
            n => format!("{n} {many}"),
        };
        let mut what = Vec::new();
        if !self.containers.is_empty() {
            what.push(count(self.containers.len(), "container", "containers"));
        }
        if !self.directories.is_empty() {
            what.push(count(self.directories.len(), "directory", "directories"));
        }
        let whose = match (&self.run_id, self.owner_pid) {
            (Some(id), Some(pid)) => format!("run {id} (adze pid {pid})"),
            _ => "an older adze (owner unknown)".to_owned(),
        };
        let why = match self.standing {
            Standing::Live => "its adze is still running".to_owned(),
            Standing::Orphaned(gone) => format!("its adze {gone}"),
            Standing::Kept => "kept with --keep; its adze has exited".to_owned(),
            Standing::OwnerUnknown => "it recorded no owner process".to_owned(),
            Standing::Elsewhere => {
                "its adze ran on another machine or in another pid namespace".to_owned()
            }
        };
        let runs: Vec<&str> = self.runs.iter().map(String::as_str).collect();
        format!(
            "{verb} {} of {whose}: {}; {why}",
            what.join(" and "),
            runs.join(", ")
        )
    }
}

/// Sorts `found` into groups, one per run id (unknown owners: one per run name), judged on
/// `host`; ordered by run id.
pub fn group(found: Vec<Leftover>, host: &dyn Host) -> Vec<Group> {
    let mut groups: BTreeMap<(bool, String), Group> = BTreeMap::new();
    for leftover in found {
        let run_name = leftover.labels.get(RUN_NAME_LABEL).cloned();
        let claim = Claim::from_labels(&leftover.labels);
        let (key, run_id, owner_pid, standing) = match &claim {
            Claim::Owned { owner, kept } => {
                let standing = match ownership::judge(owner, host) {
                    Liveness::Alive => Standing::Live,
                    Liveness::Elsewhere => Standing::Elsewhere,
                    Liveness::Gone(_) if *kept => Standing::Kept,
                    Liveness::Gone(why) => Standing::Orphaned(why),
                };
                (
                    (true, owner.run_id.clone()),
                    Some(owner.run_id.clone()),
                    Some(owner.pid),
                    standing,
                )
            }
            Claim::Unknown => (
                (false, run_name.clone().unwrap_or_default()),
                None,
                None,
                Standing::OwnerUnknown,
            ),
        };
        let g = groups.entry(key).or_insert_with(|| Group {
            run_id,
            owner_pid,
            standing,
            runs: BTreeSet::new(),
            containers: Vec::new(),
            directories: Vec::new(),
        });
        // One invocation is kept or not as a whole (`--keep` is per invocation); should its
        // items disagree, the group is kept, so nothing kept is removed by mistake.
        if standing == Standing::Kept {
            g.standing = Standing::Kept;
        }
        g.runs.extend(run_name);
        match leftover.item {
            Item::Container { id, name } => g.containers.push((id, name)),
            Item::Directory(path) => g.directories.push(path),
        }
    }
    groups.into_values().collect()
}

/// The directories under `base` that carry adze's marker, with the marker's entries, limited
/// to `run_id` if given. Entries that vanish or cannot be read while scanning are skipped.
pub fn scan_directories(base: &Path, run_id: Option<&str>) -> io::Result<Vec<Leftover>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(base)? {
        let Ok(entry) = entry else { continue };
        // Every directory adze creates is named `adze-…`; the prefix spares reading a marker
        // in each of the temporary directory's other entries.
        if !entry.file_name().to_string_lossy().starts_with("adze-") {
            continue;
        }
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Some(labels) = ownership::read_marker(&path) else {
            continue;
        };
        if run_id.is_some_and(|id| labels.get(RUN_ID_LABEL).map(String::as_str) != Some(id)) {
            continue;
        }
        found.push(Leftover {
            item: Item::Directory(path),
            labels,
        });
    }
    found.sort_by(|a, b| format!("{:?}", a.item).cmp(&format!("{:?}", b.item)));
    Ok(found)
}

/// Removes a found directory; its marker goes last, so a removal cut short leaves a
/// directory that is still recognised and removed next time. What vanishes meanwhile (the
/// run's watchdog removing it too) counts as removed.
pub fn remove_directory(dir: &Path) -> io::Result<()> {
    let gone_is_fine = |r: io::Result<()>| match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return gone_is_fine(Err(e)),
    };
    for entry in entries {
        let Ok(entry) = entry else { continue };
        if entry.file_name() == ownership::MARKER_FILE {
            continue;
        }
        let path = entry.path();
        gone_is_fine(match entry.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
            Err(e) => Err(e),
        })?;
    }
    gone_is_fine(fs::remove_dir_all(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::ownership::{Owner, Process};

    struct OneProcess;

    impl Host for OneProcess {
        fn boot(&self) -> String {
            "b".into()
        }
        fn host(&self) -> String {
            "m".into()
        }
        fn pid_ns(&self) -> String {
            "ns".into()
        }
        fn process(&self, pid: u32) -> Option<Process> {
            (pid == 1).then_some(Process {
                start: 10,
                zombie: false,
            })
        }
    }

    fn owned(run_id: &str, pid: u32, kept: bool, run: &str, item: Item) -> Leftover {
        let owner = Owner {
            run_id: run_id.into(),
            pid,
            start: 10,
            boot: "b".into(),
            host: "m".into(),
            pid_ns: "ns".into(),
        };
        let mut labels: BTreeMap<String, String> = owner.labels(kept).into_iter().collect();
        labels.insert(RUN_NAME_LABEL.into(), run.into());
        Leftover { item, labels }
    }

    fn container(id: &str) -> Item {
        Item::Container {
            id: id.into(),
            name: format!("name-{id}"),
        }
    }

    #[test]
    fn leftovers_group_by_invocation_and_stand_by_their_owner() {
        let unknown = Leftover {
            item: container("u"),
            labels: [(RUN_NAME_LABEL.to_owned(), "old".to_owned())].into(),
        };
        let groups = group(
            vec![
                owned("live", 1, false, "a", container("1")),
                owned("dead", 2, false, "b", container("2")),
                owned("dead", 2, false, "c", container("3")),
                owned("dead", 2, false, "b", Item::Directory("/tmp/adze-b".into())),
                owned("kept", 3, true, "d", container("4")),
                unknown,
            ],
            &OneProcess,
        );
        let standings: Vec<(Option<&str>, Standing)> = groups
            .iter()
            .map(|g| (g.run_id.as_deref(), g.standing))
            .collect();
        assert_eq!(
            standings,
            vec![
                (None, Standing::OwnerUnknown),
                (Some("dead"), Standing::Orphaned(Gone::Exited)),
                (Some("kept"), Standing::Kept),
                (Some("live"), Standing::Live),
            ]
        );
        let dead = &groups[1];
        assert_eq!(dead.containers.len(), 2);
        assert_eq!(
            dead.describe("removed"),
            "removed 2 containers and 1 directory of run dead (adze pid 2): b, c; its adze has exited"
        );
        assert_eq!(
            groups[0].describe("found"),
            "found 1 container of an older adze (owner unknown): old; it recorded no owner process"
        );
    }

    #[test]
    fn only_marked_adze_directories_are_found_and_removed_whole() {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let marked = tmp.path().join("adze-nap-1-0");
        fs::create_dir_all(marked.join("workspace/deep")).expect("mkdir");
        fs::write(marked.join("workspace/deep/f"), "x").expect("write");
        ownership::write_marker(&marked, false, &[(RUN_NAME_LABEL, "nap")]).expect("marker");
        let unmarked = tmp.path().join("adze-old-1-0");
        fs::create_dir_all(&unmarked).expect("mkdir");
        let foreign = tmp.path().join("other");
        fs::create_dir_all(&foreign).expect("mkdir");
        ownership::write_marker(&foreign, false, &[]).expect("marker");

        let found = scan_directories(tmp.path(), None).expect("scanned");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].item, Item::Directory(marked.clone()));
        let id = &Owner::current().run_id;
        assert_eq!(
            scan_directories(tmp.path(), Some(id))
                .expect("scanned")
                .len(),
            1
        );
        assert!(scan_directories(tmp.path(), Some("other"))
            .expect("scanned")
            .is_empty());

        remove_directory(&marked).expect("removed");
        assert!(!marked.exists());
        assert!(unmarked.exists() && foreign.exists());
    }
}
