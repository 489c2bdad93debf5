//! The pipeline task graph: which tasks must finish before which, and in what order they may run.
//!
//! Tekton builds this graph twice: at admission, to reject unknown and cyclic dependencies, and in
//! the controller, to pick the tasks that may start next. adze answers both questions from this
//! one module so that `validate`, `plan` and the scheduler never disagree about a pipeline's shape.
//!
//! The module is pure and knows nothing about YAML. Callers hand it task names and the
//! dependencies they extracted (`runAfter` and `$(tasks.X.results...)` references); it hands back
//! either a [`Dag`] or every problem it found, so a user fixes all of them in one round.
//!
//! Invariants of a built [`Dag`]: it is acyclic; task `i` is the `i`-th input task; parent and
//! child lists are sorted and free of duplicates; no task is its own parent. Pipelines of tens of
//! thousands of tasks are expected, so every algorithm is iterative (a 10,000-long chain needs no
//! deep stack) and linear in tasks plus edges, except the topological order, which pays a
//! logarithmic factor to prefer input order.

mod cycle;
#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fmt;

/// Why one task depends on another (shown to users in plans and errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeKind {
    /// The task lists the other in `runAfter`.
    RunAfter,
    /// The task's params (or embedded steps) read `$(tasks.X.results...)`.
    Result,
    /// The task's when-expressions read `$(tasks.X.results...)`.
    When,
    /// The task's matrix params read `$(tasks.X.results...)`.
    Matrix,
}

impl EdgeKind {
    /// The word users see for this kind of dependency.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::RunAfter => "runAfter",
            EdgeKind::Result => "result",
            EdgeKind::When => "when",
            EdgeKind::Matrix => "matrix",
        }
    }
}

impl fmt::Display for EdgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A dependency declared by a task: `on` must finish before the task starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// Name of the task that must finish first.
    pub on: String,
    /// Where the dependency was declared.
    pub kind: EdgeKind,
}

/// One task handed to [`Dag::build`]: its name and what it depends on.
#[derive(Debug, Clone)]
pub struct TaskNode<'a> {
    /// The pipeline task's name.
    pub name: &'a str,
    /// Every dependency, in declaration order; repeats are allowed.
    pub deps: Vec<Dependency>,
}

/// A reason the tasks do not form a valid graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DagError {
    /// A task depends on a task that is not in the pipeline (Tekton's wording).
    #[error(
        "couldn't add link between {task} and {missing}: \
         task {task} depends on {missing} but {missing} wasn't present in Pipeline"
    )]
    UnknownTask {
        /// The task declaring the dependency.
        task: String,
        /// The name it depends on.
        missing: String,
        /// Where the first such dependency was declared.
        kind: EdgeKind,
    },
    /// Tasks wait for each other in a loop.
    ///
    /// `path` follows the loop in execution order (each task is depended on by the next one),
    /// starts at the loop's lexicographically smallest name and ends with that name again.
    #[error("cycle detected: {}", path.join(" -> "))]
    Cycle {
        /// The loop, first name repeated at the end.
        path: Vec<String>,
    },
    /// A task depends on itself (Tekton's wording).
    #[error("cycle detected; task \"{task}\" depends on \"{task}\"")]
    SelfDependency {
        /// The task naming itself.
        task: String,
    },
    /// Two tasks share a name (Tekton's wording).
    #[error(
        "task {task} is already present in Graph, can't add it again: duplicate pipeline task"
    )]
    Duplicate {
        /// The repeated name.
        task: String,
    },
}

/// An acyclic graph of pipeline tasks, indexed by position in the input slice.
#[derive(Debug, Clone)]
pub struct Dag {
    names: Vec<String>,
    by_name: HashMap<String, usize>,
    parents: Adjacency,
    /// `kinds[kind_start[e]..kind_start[e + 1]]` are the kinds of the `e`-th entry of `parents`.
    kind_start: Vec<usize>,
    kinds: Vec<EdgeKind>,
    children: Adjacency,
    topo: Vec<usize>,
    level: Vec<usize>,
}

impl Dag {
    /// Builds the graph, or returns every duplicate, self-dependency, unknown task and cycle.
    ///
    /// Errors come in a stable order: duplicates, then per-task errors in input order, then one
    /// cycle per group of mutually dependent tasks, ordered by the cycle's first name. Repeated
    /// dependencies on the same task collapse into one edge that keeps every kind.
    pub fn build(tasks: &[TaskNode<'_>]) -> Result<Dag, Vec<DagError>> {
        let mut errors = Vec::new();
        let by_name = index_names(tasks, &mut errors);
        let links = link(tasks, &by_name, &mut errors);
        let children = links.parents.transpose();
        let schedule = Schedule::compute(&links.parents, &children);

        if schedule.topo.len() < tasks.len() {
            let names: Vec<&str> = tasks.iter().map(|t| t.name).collect();
            for path in cycle::find(&names, &children, &schedule.blocked) {
                let path = path.into_iter().map(|i| names[i].to_owned()).collect();
                errors.push(DagError::Cycle { path });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        Ok(Dag {
            names: tasks.iter().map(|t| t.name.to_owned()).collect(),
            by_name,
            parents: links.parents,
            kind_start: links.kind_start,
            kinds: links.kinds,
            children,
            topo: schedule.topo,
            level: schedule.level,
        })
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no tasks.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Name of task `i`; panics if `i` is out of range.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// Index of the task called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Tasks that must finish before task `i` starts, sorted and deduplicated.
    pub fn parents(&self, i: usize) -> &[usize] {
        self.parents.row(i)
    }

    /// Tasks that wait for task `i`, sorted and deduplicated.
    pub fn children(&self, i: usize) -> &[usize] {
        self.children.row(i)
    }

    /// Why `child` depends on `parent`, sorted; empty if it does not.
    pub fn edge_kinds(&self, child: usize, parent: usize) -> &[EdgeKind] {
        let first = self.parents.start[child];
        match self.parents.row(child).binary_search(&parent) {
            Ok(pos) => {
                let e = first + pos;
                &self.kinds[self.kind_start[e]..self.kind_start[e + 1]]
            }
            Err(_) => &[],
        }
    }

    /// Tasks without parents, in input order.
    pub fn roots(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.parents(i).is_empty())
            .collect()
    }

    /// Execution levels: level 0 = tasks without parents; level n = tasks whose deepest parent is
    /// at level n-1. Within a level, input order.
    pub fn levels(&self) -> Vec<Vec<usize>> {
        let depth = self.level.iter().max().map_or(0, |&deepest| deepest + 1);
        let mut sizes = vec![0; depth];
        for &l in &self.level {
            sizes[l] += 1;
        }
        let mut levels: Vec<Vec<usize>> = sizes.into_iter().map(Vec::with_capacity).collect();
        for (i, &l) in self.level.iter().enumerate() {
            levels[l].push(i);
        }
        levels
    }

    /// Topological order (stable: input order among ready tasks).
    ///
    /// An input already in a valid order comes back unchanged.
    pub fn topo_order(&self) -> Vec<usize> {
        self.topo.clone()
    }

    /// All transitive ancestors of task `i`, in input order.
    pub fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![i];
        let mut found = Vec::new();
        while let Some(v) = stack.pop() {
            for &p in self.parents(v) {
                if !seen[p] {
                    seen[p] = true;
                    found.push(p);
                    stack.push(p);
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// Given the set of finished tasks, the not-yet-started tasks whose parents are all done
    /// (the scheduler's "candidates"), in input order.
    ///
    /// `done` and `started` hold one flag per task; a task that is done without having started
    /// (skipped) is not a candidate. Panics if either slice has the wrong length.
    pub fn ready(&self, done: &[bool], started: &[bool]) -> Vec<usize> {
        assert_eq!(done.len(), self.len(), "`done` needs one flag per task");
        assert_eq!(
            started.len(),
            self.len(),
            "`started` needs one flag per task"
        );
        (0..self.len())
            .filter(|&i| !done[i] && !started[i])
            .filter(|&i| self.parents(i).iter().all(|&p| done[p]))
            .collect()
    }
}

/// Compressed adjacency lists: row `i` is `items[start[i]..start[i + 1]]`.
#[derive(Debug, Clone)]
struct Adjacency {
    start: Vec<usize>,
    items: Vec<usize>,
}

impl Adjacency {
    fn len(&self) -> usize {
        self.start.len() - 1
    }

    fn row(&self, i: usize) -> &[usize] {
        &self.items[self.start[i]..self.start[i + 1]]
    }

    /// Reverses every edge; rows come out sorted because sources are visited in order.
    fn transpose(&self) -> Adjacency {
        let n = self.len();
        let mut start = vec![0; n + 1];
        for &target in &self.items {
            start[target + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut next = start[..n].to_vec();
        let mut items = vec![0; self.items.len()];
        for source in 0..n {
            for &target in self.row(source) {
                items[next[target]] = source;
                next[target] += 1;
            }
        }
        Adjacency { start, items }
    }
}

/// Maps each name to its first task, reporting each repeated name once.
fn index_names(tasks: &[TaskNode<'_>], errors: &mut Vec<DagError>) -> HashMap<String, usize> {
    let mut by_name = HashMap::with_capacity(tasks.len());
    let mut reported = HashSet::new();
    for (i, task) in tasks.iter().enumerate() {
        if by_name.contains_key(task.name) {
            if reported.insert(task.name) {
                errors.push(DagError::Duplicate {
                    task: task.name.to_owned(),
                });
            }
        } else {
            by_name.insert(task.name.to_owned(), i);
        }
    }
    by_name
}

/// Parent lists with the kinds of each edge.
struct Links {
    parents: Adjacency,
    kind_start: Vec<usize>,
    kinds: Vec<EdgeKind>,
}

/// Resolves dependency names to edges, reporting self-dependencies and unknown tasks.
fn link(
    tasks: &[TaskNode<'_>],
    by_name: &HashMap<String, usize>,
    errors: &mut Vec<DagError>,
) -> Links {
    let mut start = Vec::with_capacity(tasks.len() + 1);
    start.push(0);
    let mut items = Vec::new();
    let mut kind_start = vec![0];
    let mut kinds = Vec::new();

    let mut edges: Vec<(usize, EdgeKind)> = Vec::new();
    let mut unknown: HashSet<&str> = HashSet::new();
    for task in tasks {
        edges.clear();
        unknown.clear();
        let mut named_itself = false;
        for dep in &task.deps {
            if dep.on == task.name {
                if !named_itself {
                    named_itself = true;
                    errors.push(DagError::SelfDependency {
                        task: task.name.to_owned(),
                    });
                }
            } else if let Some(&parent) = by_name.get(dep.on.as_str()) {
                edges.push((parent, dep.kind));
            } else if unknown.insert(dep.on.as_str()) {
                errors.push(DagError::UnknownTask {
                    task: task.name.to_owned(),
                    missing: dep.on.clone(),
                    kind: dep.kind,
                });
            }
        }
        edges.sort_unstable();
        edges.dedup();
        for edge in edges.chunk_by(|a, b| a.0 == b.0) {
            items.push(edge[0].0);
            kinds.extend(edge.iter().map(|&(_, kind)| kind));
            kind_start.push(kinds.len());
        }
        start.push(items.len());
    }

    Links {
        parents: Adjacency { start, items },
        kind_start,
        kinds,
    }
}

/// Kahn's algorithm: the topological order, each task's level, and what a cycle blocked.
struct Schedule {
    topo: Vec<usize>,
    level: Vec<usize>,
    /// Tasks never scheduled: those on a cycle and those downstream of one.
    blocked: Vec<bool>,
}

impl Schedule {
    fn compute(parents: &Adjacency, children: &Adjacency) -> Schedule {
        let n = parents.len();
        let mut waiting: Vec<usize> = (0..n).map(|i| parents.row(i).len()).collect();
        let mut level = vec![0; n];
        // A min-heap rather than a FIFO queue so that, among ready tasks, the earliest in the
        // input always goes first: an already-ordered pipeline keeps its order in plans.
        let mut ready: BinaryHeap<Reverse<usize>> =
            (0..n).filter(|&i| waiting[i] == 0).map(Reverse).collect();
        let mut topo = Vec::with_capacity(n);
        while let Some(Reverse(task)) = ready.pop() {
            topo.push(task);
            for &child in children.row(task) {
                level[child] = level[child].max(level[task] + 1);
                waiting[child] -= 1;
                if waiting[child] == 0 {
                    ready.push(Reverse(child));
                }
            }
        }
        let blocked = waiting.into_iter().map(|w| w > 0).collect();
        Schedule {
            topo,
            level,
            blocked,
        }
    }
}
