//! A tag is a name that moves: online, each run resolves it to the manifest digest it points
//! at now, so a re-pushed tag gives the new object; `--offline` gives what was fetched last.

use super::registry::Registry;
use super::{adze, greeting_task};

#[test]
fn a_moved_tag_gives_the_new_object_online_and_the_last_fetched_one_offline() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: moving\nspec:\n  taskRef:\n    \
         resolver: bundles\n    params:\n    - {{name: bundle, value: \"{}/adze/moving:latest\"}}\n    \
         - {{name: name, value: hello}}\n",
        registry.host()
    );
    let first = registry.push_bundle(
        "adze/moving",
        "latest",
        &[("task", "hello", &greeting_task("hello", "first-push"))],
    );
    let plan = adze(dir.path(), "plan", &yaml, &[]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert!(plan.stdout.contains("echo first-push"), "{}", plan.stdout);
    assert!(plan.stdout.contains(&first), "{}", plan.stdout);

    let second = registry.push_bundle(
        "adze/moving",
        "latest",
        &[("task", "hello", &greeting_task("hello", "second-push"))],
    );
    assert_ne!(first, second);
    let plan = adze(dir.path(), "plan", &yaml, &[]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert!(plan.stdout.contains("echo second-push"), "{}", plan.stdout);
    assert!(plan.stdout.contains(&second), "{}", plan.stdout);

    drop(registry);
    let plan = adze(dir.path(), "plan", &yaml, &["--offline"]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert!(plan.stdout.contains("echo second-push"), "{}", plan.stdout);
}
