//! Finding and removing containers earlier `adze` invocations left on the engine.
//!
//! Which of them may go is decided in [`crate::run::leftovers`]; this lists the containers
//! carrying [`RUN_LABEL`] beside the marked directories of the temporary directory (where
//! the TaskRuns' and runs' directories are made), and removes the groups it is given,
//! containers `docker rm -f` style.

use std::collections::{BTreeMap, HashMap};

use bollard::query_parameters::ListContainersOptions;
use futures_util::future::join_all;

use super::{container, retry, unavailable, DockerExecutor, RUN_LABEL};
use crate::run::leftovers::{self, Group, Item, Leftover};
use crate::run::ownership::{ProcHost, RUN_ID_LABEL};
use crate::run::ExecError;

/// What removing a group did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removal {
    /// What could not be removed, one line each: the container or directory and why.
    pub failures: Vec<String>,
}

impl DockerExecutor {
    /// What earlier invocations left (all of them, or only `run_id`'s): labelled containers
    /// and marked directories under the temporary directory, grouped and judged.
    pub fn survey(&self, run_id: Option<&str>) -> Result<Vec<Group>, ExecError> {
        let mut found = self.labelled_containers(run_id)?;
        // An unreadable temporary directory hides only directories; containers still count.
        found
            .extend(leftovers::scan_directories(&std::env::temp_dir(), run_id).unwrap_or_default());
        Ok(leftovers::group(found, &ProcHost))
    }

    /// Removes a group's containers, then its directories.
    pub fn remove_group(&self, group: &Group) -> Removal {
        let ids: Vec<String> = group.containers.iter().map(|(id, _)| id.clone()).collect();
        let mut failures: Vec<String> = self
            .remove_containers(&ids)
            .into_iter()
            .map(|(id, why)| format!("container {id}: {why}"))
            .collect();
        for dir in &group.directories {
            if let Err(e) = leftovers::remove_directory(dir) {
                failures.push(format!("directory {}: {e}", dir.display()));
            }
        }
        Removal { failures }
    }

    /// Every container carrying [`RUN_LABEL`], whatever its state; only those of `run_id`
    /// when given.
    pub fn labelled_containers(&self, run_id: Option<&str>) -> Result<Vec<Leftover>, ExecError> {
        let mut labels = vec![RUN_LABEL.to_owned()];
        labels.extend(run_id.map(|id| format!("{RUN_ID_LABEL}={id}")));
        let filters: HashMap<String, Vec<String>> = [("label".to_owned(), labels)].into();
        let found = self
            .runtime
            .block_on(retry::idempotent(|| {
                self.docker.list_containers(Some(ListContainersOptions {
                    all: true,
                    filters: Some(filters.clone()),
                    ..Default::default()
                }))
            }))
            .map_err(unavailable)?;
        Ok(found
            .into_iter()
            .filter_map(|c| {
                let name = c
                    .names
                    .and_then(|n| n.into_iter().next())
                    .map(|n| n.trim_start_matches('/').to_owned())
                    .unwrap_or_default();
                Some(Leftover {
                    item: Item::Container { id: c.id?, name },
                    labels: c
                        .labels
                        .unwrap_or_default()
                        .into_iter()
                        .collect::<BTreeMap<_, _>>(),
                })
            })
            .collect())
    }

    /// Removes containers (running ones are killed first) and their anonymous volumes, all
    /// at once; returns those that could not be removed, with why. One already gone counts
    /// as removed.
    pub fn remove_containers(&self, ids: &[String]) -> Vec<(String, String)> {
        self.runtime.block_on(async {
            let removals = ids.iter().map(|id| async move {
                match container::remove(&self.docker, id).await {
                    Ok(()) => None,
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => None,
                    Err(e) => Some((id.clone(), e.to_string())),
                }
            });
            join_all(removals).await.into_iter().flatten().collect()
        })
    }
}
