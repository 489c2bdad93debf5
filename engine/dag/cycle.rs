//! Explicit cycles for error messages.
//!
//! Knowing that a graph is cyclic is not enough for a user who must break the loop: they need the
//! tasks on it, in order. Each group of mutually dependent tasks (a strongly connected component)
//! yields one cycle: the shortest loop through its lexicographically smallest task, so the same
//! pipeline always produces the same message. Tarjan's algorithm in petgraph recurses once per
//! task; Kosaraju's is iterative, which keeps a 10,000-task loop off the call stack.

use std::collections::VecDeque;

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::Adjacency;

/// One cycle per strongly connected component among `blocked` tasks, each as task indices in
/// execution order, starting and ending at the component's smallest name; ordered by that name.
pub(super) fn find(names: &[&str], children: &Adjacency, blocked: &[bool]) -> Vec<Vec<usize>> {
    let n = names.len();
    let mut graph = DiGraph::<usize, ()>::new();
    let mut node = vec![NodeIndex::end(); n];
    for task in (0..n).filter(|&t| blocked[t]) {
        node[task] = graph.add_node(task);
    }
    for task in (0..n).filter(|&t| blocked[t]) {
        for &child in children.row(task).iter().filter(|&&c| blocked[c]) {
            graph.add_edge(node[task], node[child], ());
        }
    }

    // Tasks merely downstream of a cycle are blocked too, but sit alone in their component.
    let components: Vec<Vec<usize>> = kosaraju_scc(&graph)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| component.into_iter().map(|x| graph[x]).collect())
        .collect();

    let mut member = vec![usize::MAX; n];
    for (id, component) in components.iter().enumerate() {
        for &task in component {
            member[task] = id;
        }
    }

    let mut search = ShortestLoop {
        member: &member,
        children,
        came_from: vec![usize::MAX; n],
        queue: VecDeque::new(),
    };
    let mut cycles: Vec<Vec<usize>> = components
        .iter()
        .enumerate()
        .map(|(id, component)| {
            let first = component
                .iter()
                .copied()
                .min_by_key(|&t| (names[t], t))
                .expect("components are non-empty");
            search.run(id, first)
        })
        .collect();
    cycles.sort_by_key(|path| (names[path[0]], path[0]));
    cycles
}

/// Breadth-first search for the shortest way back to a start task inside its component.
struct ShortestLoop<'a> {
    member: &'a [usize],
    children: &'a Adjacency,
    /// Predecessor on the search tree; components are disjoint, so it is never reset.
    came_from: Vec<usize>,
    queue: VecDeque<usize>,
}

impl ShortestLoop<'_> {
    fn run(&mut self, component: usize, start: usize) -> Vec<usize> {
        self.queue.clear();
        self.queue.push_back(start);
        self.came_from[start] = start;
        while let Some(task) = self.queue.pop_front() {
            for &child in self.children.row(task) {
                if self.member[child] != component {
                    continue;
                }
                if child == start {
                    return self.path(start, task);
                }
                if self.came_from[child] == usize::MAX {
                    self.came_from[child] = task;
                    self.queue.push_back(child);
                }
            }
        }
        unreachable!("every task of a strongly connected component lies on a loop")
    }

    fn path(&self, start: usize, last: usize) -> Vec<usize> {
        let mut path = vec![start, last];
        let mut task = last;
        while task != start {
            task = self.came_from[task];
            path.push(task);
        }
        path.reverse();
        path
    }
}
