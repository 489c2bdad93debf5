//! Partial re-runs (`--only`, `--from`): which pipeline tasks really run, and the results an
//! earlier run recorded, which stand in for the others.
//!
//! # Invariants
//!
//! - A task the selection depends on without recorded results is refused
//!   ([`RunError::Selection`]): nothing runs on made-up inputs.
//! - The tasks outside the selection count as succeeded before the first pass, so reconcile
//!   never starts them; with `--only` the finally tasks too.

use std::collections::HashMap;

use super::driver::Driver;
use super::error::RunError;
use crate::api::ParamValue;
use crate::reconcile::PipelineTaskState;

/// Which pipeline tasks a partial re-run really runs; the others reuse recorded results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Just this DAG task; finally tasks do not run.
    Only(String),
    /// This DAG task, everything downstream of it, and the finally tasks.
    From(String),
}

/// Results recorded by an earlier run of the same PipelineRun, by pipeline task.
pub type Recorded = HashMap<String, Vec<(String, ParamValue)>>;

impl<'b> Driver<'b> {
    /// Runs only the selected tasks; every other task counts as succeeded with the results
    /// `previous` recorded for it. A task the selection depends on without recorded results
    /// is an error, so nothing runs on made-up inputs.
    pub fn with_selection(
        mut self,
        selection: &Selection,
        previous: &Recorded,
    ) -> Result<Driver<'b>, RunError> {
        let (Selection::Only(start) | Selection::From(start)) = selection;
        let Some(root) = self.dag.index_of(start) else {
            let names: Vec<&str> = self.tasks.iter().map(|t| t.pt.name.as_str()).collect();
            let hint = crate::load::catalog::suggest(start, names.iter().copied())
                .map(|s| format!("; did you mean \"{s}\"?"))
                .unwrap_or_default();
            return Err(RunError::Selection(format!(
                "the pipeline has no task \"{start}\"{hint} (tasks: {})",
                names.join(", ")
            )));
        };
        let mut selected = vec![false; self.dag.len()];
        selected[root] = true;
        if matches!(selection, Selection::From(_)) {
            let mut stack = vec![root];
            while let Some(i) = stack.pop() {
                for &c in self.dag.children(i) {
                    if !selected[c] {
                        selected[c] = true;
                        stack.push(c);
                    }
                }
            }
        }
        let needed: std::collections::HashSet<usize> = (0..self.dag.len())
            .filter(|&i| selected[i])
            .flat_map(|i| self.dag.ancestors(i))
            .filter(|&a| !selected[a])
            .collect();
        for (i, selected) in selected.iter().enumerate() {
            let name = self.dag.name(i).to_owned();
            if *selected {
                continue;
            }
            let results = match previous.get(&name) {
                Some(r) => r.clone(),
                None if needed.contains(&i) => {
                    return Err(RunError::Selection(format!(
                        "no recorded results for task \"{name}\", which \"{start}\" needs; \
                         run the whole pipeline once first"
                    )))
                }
                None => Vec::new(),
            };
            self.produced.insert(name.clone(), results);
            if let Some(t) = self.tasks.iter_mut().find(|t| t.pt.name == name) {
                t.state = PipelineTaskState::Succeeded;
            }
        }
        if matches!(selection, Selection::Only(_)) {
            for t in &mut self.finally {
                t.state = PipelineTaskState::Succeeded;
            }
        }
        Ok(self)
    }
}
