use super::*;

/// `spec` is `name:dep,dep;name:...`; a dep is `kind/name` or just `name` (runAfter).
fn nodes(spec: &str) -> Vec<TaskNode<'_>> {
    spec.split(';')
        .filter(|task| !task.is_empty())
        .map(|task| {
            let (name, deps) = task.split_once(':').unwrap_or((task, ""));
            let deps = deps
                .split(',')
                .filter(|dep| !dep.is_empty())
                .map(|dep| {
                    let (kind, on) = match dep.split_once('/') {
                        Some(("result", on)) => (EdgeKind::Result, on),
                        Some(("when", on)) => (EdgeKind::When, on),
                        Some(("matrix", on)) => (EdgeKind::Matrix, on),
                        Some((other, _)) => panic!("unknown kind {other}"),
                        None => (EdgeKind::RunAfter, dep),
                    };
                    Dependency {
                        on: on.to_owned(),
                        kind,
                    }
                })
                .collect();
            TaskNode { name, deps }
        })
        .collect()
}

fn build(spec: &str) -> Dag {
    Dag::build(&nodes(spec)).unwrap_or_else(|errors| panic!("{errors:?}"))
}

fn errors(spec: &str) -> Vec<String> {
    match Dag::build(&nodes(spec)) {
        Ok(_) => panic!("expected errors for {spec}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn names(dag: &Dag, indices: &[usize]) -> Vec<String> {
    indices.iter().map(|&i| dag.name(i).to_owned()).collect()
}

/// Checks that every parent comes before its children.
fn assert_topological(dag: &Dag, order: &[usize]) {
    assert_eq!(order.len(), dag.len());
    let mut position = vec![usize::MAX; dag.len()];
    for (at, &task) in order.iter().enumerate() {
        assert_eq!(position[task], usize::MAX, "task {task} listed twice");
        position[task] = at;
    }
    for child in 0..dag.len() {
        for &parent in dag.parents(child) {
            assert!(position[parent] < position[child], "{parent} after {child}");
        }
    }
}

#[test]
fn diamond() {
    let dag = build("a;b:a;c:result/a;d:b,when/c");
    assert_eq!(dag.len(), 4);
    assert_eq!(dag.index_of("c"), Some(2));
    assert_eq!(dag.index_of("zz"), None);
    assert_eq!(dag.parents(3), &[1, 2]);
    assert_eq!(dag.children(0), &[1, 2]);
    assert_eq!(dag.children(3), &[] as &[usize]);
    assert_eq!(dag.roots(), vec![0]);
    assert_eq!(dag.edge_kinds(2, 0), &[EdgeKind::Result]);
    assert_eq!(dag.edge_kinds(3, 2), &[EdgeKind::When]);
    assert_eq!(dag.edge_kinds(3, 0), &[] as &[EdgeKind]);
    assert_eq!(dag.topo_order(), vec![0, 1, 2, 3]);
    assert_eq!(dag.ancestors(3), vec![0, 1, 2]);
    assert_eq!(dag.ancestors(0), Vec::<usize>::new());
}

#[test]
fn diamond_levels() {
    let dag = build("d:b,c;c:a;b:a;a");
    assert_eq!(dag.levels(), vec![vec![3], vec![1, 2], vec![0]]);
    assert_eq!(names(&dag, &dag.topo_order()), ["a", "c", "b", "d"]);
}

#[test]
fn levels_follow_deepest_parent() {
    let dag = build("a;b:a;c:b;d:a,c;e");
    assert_eq!(dag.levels(), vec![vec![0, 4], vec![1], vec![2], vec![3]]);
    assert_eq!(dag.roots(), vec![0, 4]);
}

#[test]
fn topo_order_prefers_input_order() {
    // A FIFO queue would give a, c, b; a valid input order must survive.
    let dag = build("a;b:a;c");
    assert_eq!(dag.topo_order(), vec![0, 1, 2]);
    let dag = build("b:a;c;a");
    assert_eq!(names(&dag, &dag.topo_order()), ["c", "a", "b"]);
}

#[test]
fn chain() {
    let dag = build("a;b:a;c:b;d:c");
    assert_eq!(dag.levels(), vec![vec![0], vec![1], vec![2], vec![3]]);
    assert_eq!(dag.ancestors(3), vec![0, 1, 2]);
    assert_eq!(dag.ancestors(1), vec![0]);
}

#[test]
fn empty() {
    let dag = build("");
    assert!(dag.is_empty());
    assert_eq!(dag.levels(), Vec::<Vec<usize>>::new());
    assert_eq!(dag.topo_order(), Vec::<usize>::new());
    assert_eq!(dag.ready(&[], &[]), Vec::<usize>::new());
}

#[test]
fn repeated_dependencies_collapse_and_keep_every_kind() {
    let dag = build("a;b:when/a,a,result/a,a,matrix/a,when/a");
    assert_eq!(dag.parents(1), &[0]);
    assert_eq!(dag.children(0), &[1]);
    assert_eq!(
        dag.edge_kinds(1, 0),
        &[
            EdgeKind::RunAfter,
            EdgeKind::Result,
            EdgeKind::When,
            EdgeKind::Matrix
        ]
    );
}

#[test]
fn unknown_task_uses_tekton_message() {
    assert_eq!(
        Dag::build(&nodes("a;b:result/x")).unwrap_err(),
        vec![DagError::UnknownTask {
            task: "b".into(),
            missing: "x".into(),
            kind: EdgeKind::Result,
        }]
    );
    assert_eq!(
        errors("a;b:x"),
        ["couldn't add link between b and x: task b depends on x but x wasn't present in Pipeline"]
    );
}

#[test]
fn every_unknown_task_is_reported_once() {
    assert_eq!(
        errors("a:x,result/x,y;b:a,z"),
        [
            "couldn't add link between a and x: task a depends on x but x wasn't present in Pipeline",
            "couldn't add link between a and y: task a depends on y but y wasn't present in Pipeline",
            "couldn't add link between b and z: task b depends on z but z wasn't present in Pipeline",
        ]
    );
}

#[test]
fn self_dependency() {
    assert_eq!(
        Dag::build(&nodes("a;b:b,result/b")).unwrap_err(),
        vec![DagError::SelfDependency { task: "b".into() }]
    );
    assert_eq!(
        errors("a:a"),
        ["cycle detected; task \"a\" depends on \"a\""]
    );
}

#[test]
fn two_cycle() {
    assert_eq!(
        Dag::build(&nodes("b:a;a:result/b")).unwrap_err(),
        vec![DagError::Cycle {
            path: vec!["a".into(), "b".into(), "a".into()],
        }]
    );
    assert_eq!(errors("b:a;a:b"), ["cycle detected: a -> b -> a"]);
}

#[test]
fn three_cycle_starts_at_smallest_name_in_execution_order() {
    // c runs after b, b after a, a after c: a -> b -> c -> a.
    assert_eq!(errors("c:b;a:c;b:a"), ["cycle detected: a -> b -> c -> a"]);
    // Reversed loop: a runs after b, b after c, c after a: a -> c -> b -> a.
    assert_eq!(errors("b:c;c:a;a:b"), ["cycle detected: a -> c -> b -> a"]);
}

#[test]
fn cycle_path_is_the_shortest_loop_through_the_smallest_name() {
    // a -> b -> c -> d -> a and a shortcut b -> d.
    assert_eq!(
        errors("a:d;b:a;c:b;d:c,b"),
        ["cycle detected: a -> b -> d -> a"]
    );
}

#[test]
fn two_disjoint_cycles_and_a_blocked_task() {
    assert_eq!(
        errors("z:y;y:z;downstream:y,b;b:a;a:b;free"),
        ["cycle detected: a -> b -> a", "cycle detected: y -> z -> y"]
    );
}

#[test]
fn every_kind_of_error_at_once() {
    assert_eq!(
        errors("a:b;b:a;c:c;a;d:nope"),
        [
            "task a is already present in Graph, can't add it again: duplicate pipeline task",
            "cycle detected; task \"c\" depends on \"c\"",
            "couldn't add link between d and nope: task d depends on nope but nope wasn't present in Pipeline",
            "cycle detected: a -> b -> a",
        ]
    );
}

#[test]
fn duplicate_names_are_reported_once_each() {
    assert_eq!(
        Dag::build(&nodes("a;b;a;a;b")).unwrap_err(),
        vec![
            DagError::Duplicate { task: "a".into() },
            DagError::Duplicate { task: "b".into() },
        ]
    );
}

#[test]
fn ready_lists_unstarted_tasks_whose_parents_are_done() {
    let dag = build("a;b:a;c:a;d:b,c;e");
    let none = [false; 5];
    assert_eq!(dag.ready(&none, &none), vec![0, 4]);

    let started = [true, false, false, false, true];
    assert_eq!(dag.ready(&none, &started), Vec::<usize>::new());

    let done = [true, false, false, false, false];
    assert_eq!(dag.ready(&done, &started), vec![1, 2]);

    // c was skipped: done without starting, so it is no candidate itself.
    let done = [true, true, true, false, false];
    let started = [true, true, false, false, true];
    assert_eq!(dag.ready(&done, &started), vec![3]);
}

#[test]
#[should_panic(expected = "one flag per task")]
fn ready_rejects_wrong_lengths() {
    build("a;b").ready(&[false], &[false, false]);
}

#[test]
fn long_chain_needs_no_deep_stack() {
    const N: usize = 10_000;
    let names: Vec<String> = (0..N).map(|i| format!("t{i}")).collect();
    let dep = |i: usize| Dependency {
        on: names[i].clone(),
        kind: EdgeKind::RunAfter,
    };
    // Reversed input so that the order really has to be computed.
    let tasks: Vec<TaskNode<'_>> = (0..N)
        .rev()
        .map(|i| TaskNode {
            name: &names[i],
            deps: if i == 0 { vec![] } else { vec![dep(i - 1)] },
        })
        .collect();
    let dag = Dag::build(&tasks).unwrap();
    assert_eq!(dag.levels().len(), N);
    assert_eq!(dag.topo_order(), (0..N).rev().collect::<Vec<_>>());
    assert_eq!(dag.ancestors(0).len(), N - 1);

    // Close the chain into one 10,000-task loop.
    let mut looped = tasks.clone();
    looped[N - 1].deps.push(dep(N - 1));
    let errors = Dag::build(&looped).unwrap_err();
    let [DagError::Cycle { path }] = errors.as_slice() else {
        panic!("{errors:?}");
    };
    assert_eq!(path.len(), N + 1);
    assert_eq!((path[0].as_str(), path[1].as_str()), ("t0", "t1"));
}

#[test]
fn wide_pipeline_with_three_dependencies_each() {
    const N: usize = 10_000;
    let names: Vec<String> = (0..N).map(|i| format!("task-{i}")).collect();
    // Deterministic pseudo-random parents among earlier tasks.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    let tasks: Vec<TaskNode<'_>> = (0..N)
        .map(|i| TaskNode {
            name: &names[i],
            deps: (0..if i == 0 { 0 } else { 3 })
                .map(|_| Dependency {
                    on: names[next(i)].clone(),
                    kind: EdgeKind::Result,
                })
                .collect(),
        })
        .collect();
    let dag = Dag::build(&tasks).unwrap();
    let order = dag.topo_order();
    assert_topological(&dag, &order);
    assert_eq!(order, (0..N).collect::<Vec<_>>());
    assert_levels(&dag);
}

/// Checks the level definition: one past the deepest parent, input order within a level.
fn assert_levels(dag: &Dag) {
    let mut level_of = vec![usize::MAX; dag.len()];
    for (level, tasks) in dag.levels().iter().enumerate() {
        assert!(
            tasks.windows(2).all(|w| w[0] < w[1]),
            "level {level} out of order"
        );
        for &task in tasks {
            level_of[task] = level;
        }
    }
    for task in 0..dag.len() {
        let expected = dag
            .parents(task)
            .iter()
            .map(|&p| level_of[p] + 1)
            .max()
            .unwrap_or(0);
        assert_eq!(level_of[task], expected, "level of {task}");
    }
}
