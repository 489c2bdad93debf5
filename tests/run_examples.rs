//! Every upstream Tekton example really runs: `adze run FILE [--run NAME] -o json` in local
//! Docker containers exits 0 with the run's `Succeeded` condition True, and leaves no container
//! behind.
//!
//! This is the end-to-end check that adze runs what Tekton runs. The examples stay outside the
//! repository (see `tests/examples.rs` for how the folder is found). Images pinned by digest
//! cannot be pulled here, so each file is copied to a temporary folder with `repo@sha256:...`
//! rewritten to `repo:adze-pinned`; `tests/setup-docker.sh` builds and tags every image the
//! examples name.
//!
//! Files that cannot pass yet, because a feature is still being built, are listed in
//! [`EXCEPTIONS`] with the error adze printed. An excepted file that passes fails the test, so
//! the list only ever shrinks. All failures are collected and reported together.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    examples_dir, labelled_containers, remove_containers, require_docker, run_adze, runs_in,
    unpin_digests, yaml_files,
};

/// Files (relative to the examples folder) that cannot pass yet, with the reason observed.
/// Empty: every upstream example passes. A file that regresses must be fixed, or listed here
/// with the error adze prints and why.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// One run may take this long before it is interrupted; the slowest passing example takes
/// seconds, but a broken one may wait forever (for a sidecar, a file).
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// The whole test must stay well under the 15 minutes CI allows.
const TOTAL_BUDGET: Duration = Duration::from_secs(12 * 60);

/// The names of the TaskRuns a run made: the containers of other runs on a shared engine
/// (other worktrees' tests, benchmarks) must not count as left behind by this one.
fn task_run_names(json: Option<&serde_json::Value>, declared: &str) -> Vec<String> {
    let mut names = vec![declared.to_owned()];
    if let Some(json) = json {
        if let Some(name) = json["metadata"]["name"].as_str() {
            names.push(name.to_owned());
        }
        if let Some(children) = json["status"]["childReferences"].as_array() {
            names.extend(
                children
                    .iter()
                    .filter_map(|c| c["name"].as_str())
                    .map(str::to_owned),
            );
        }
    }
    names
}

/// Why one run did not succeed, or `None` when it did. `declared` is the run's `name` or
/// `generateName` in the file; `select` is passed as `--run`.
fn check_run(dir: &Path, file: &str, declared: &str, select: Option<&str>) -> Option<String> {
    let before = labelled_containers();
    let mut args = vec![
        "run", file, "-o", "json", "--color", "never", "--pull", "never",
    ];
    if let Some(name) = select {
        args.extend(["--run", name]);
    }
    let out = run_adze(dir, &args, RUN_LIMIT);
    let mut problems = Vec::new();
    if out.timed_out {
        problems.push(format!("interrupted after {}s", RUN_LIMIT.as_secs()));
    }
    if out.code != Some(0) {
        problems.push(format!("exit code {:?}", out.code));
    }
    let json = out.json();
    match &json {
        None if out.code == Some(0) => problems.push("stdout is not JSON".to_owned()),
        None => {}
        Some(json) => {
            let condition = &json["status"]["conditions"][0];
            let status = condition["status"].as_str().unwrap_or("");
            let reason = condition["reason"].as_str().unwrap_or("");
            if status != "True" || !matches!(reason, "Succeeded" | "Completed") {
                problems.push(format!(
                    "condition Succeeded={status} reason={reason}: {}",
                    condition["message"].as_str().unwrap_or("")
                ));
            }
        }
    }
    let ours = task_run_names(json.as_ref(), declared);
    let left: Vec<String> = labelled_containers()
        .difference(&before)
        .filter(|c| {
            let label = c.split_once(' ').map_or("", |(_, l)| l);
            ours.iter()
                .any(|n| !n.is_empty() && label.starts_with(n.as_str()))
        })
        .cloned()
        .collect();
    if !left.is_empty() {
        problems.push(format!("containers left behind: {}", left.join(", ")));
        remove_containers(&left);
    }
    if problems.is_empty() {
        return None;
    }
    Some(format!(
        "{}\n  --- last 30 lines of stderr:\n{}",
        problems.join("; "),
        out.stderr_tail(30)
    ))
}

#[test]
fn upstream_examples_run_and_succeed() {
    let Some(examples) = examples_dir() else {
        return;
    };
    require_docker();
    let files = yaml_files(&examples);
    assert!(
        files.len() >= 50,
        "expected the upstream examples, found {} files",
        files.len()
    );
    let start = Instant::now();
    let work = tempfile::tempdir().expect("temporary directory");
    let mut failures = Vec::new();
    let mut unexpected_passes = Vec::new();
    let mut timings = Vec::new();
    let relative_names: Vec<String> = files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(&examples).expect("file under the folder");
            rel.to_string_lossy().replace('\\', "/")
        })
        .collect();
    for (name, _) in EXCEPTIONS {
        if !relative_names.iter().any(|r| r == name) {
            failures.push(format!(
                "{name}: listed in EXCEPTIONS but not in the examples folder"
            ));
        }
    }

    for (file, rel) in files.iter().zip(&relative_names) {
        let text = std::fs::read_to_string(file).expect("readable example");
        let runs = runs_in(&text);
        if runs.is_empty() {
            continue;
        }
        let local = rel.replace('/', "__");
        std::fs::write(work.path().join(&local), unpin_digests(&text)).expect("write copy");
        let file_start = Instant::now();
        let mut file_failures = Vec::new();
        for run in &runs {
            let select = (runs.len() > 1).then_some(run.as_str());
            if let Some(problem) = check_run(work.path(), &local, run, select) {
                let which = select.map(|r| format!(" --run {r}")).unwrap_or_default();
                file_failures.push(format!("{rel}{which}: {problem}"));
            }
        }
        timings.push((file_start.elapsed(), rel.clone()));
        let excepted = EXCEPTIONS.iter().any(|(name, _)| name == rel);
        match (excepted, file_failures.is_empty()) {
            (true, true) => unexpected_passes.push(rel.clone()),
            (false, false) => failures.extend(file_failures),
            _ => {}
        }
    }

    let elapsed = start.elapsed();
    timings.sort();
    let slowest: Vec<String> = timings
        .iter()
        .rev()
        .take(5)
        .map(|(t, f)| format!("{f} {:.1}s", t.as_secs_f64()))
        .collect();
    eprintln!(
        "ran {} files in {:.0}s; slowest: {}",
        timings.len(),
        elapsed.as_secs_f64(),
        slowest.join(", ")
    );
    if elapsed > TOTAL_BUDGET {
        failures.push(format!(
            "took {:.0}s, over the {}s budget; slowest: {}",
            elapsed.as_secs_f64(),
            TOTAL_BUDGET.as_secs(),
            slowest.join(", ")
        ));
    }
    for rel in &unexpected_passes {
        failures.push(format!(
            "{rel}: passes now; remove it from EXCEPTIONS in tests/run_examples.rs"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of {} example files failed:\n\n{}",
        failures.len(),
        timings.len(),
        failures.join("\n\n")
    );
}

#[test]
fn digests_are_rewritten_to_the_local_tag() {
    let yaml = format!(
        "  - image: mirror.gcr.io/bash@sha256:{0}\nimage: mirror.gcr.io/alpine\n\
         x: a@sha256:abc\n  script: echo a@sha256:{0}\n",
        "e".repeat(64)
    );
    assert_eq!(
        unpin_digests(&yaml),
        format!(
            "  - image: mirror.gcr.io/bash:adze-pinned\nimage: mirror.gcr.io/alpine\n\
             x: a@sha256:abc\n  script: echo a@sha256:{}\n",
            "e".repeat(64)
        )
    );
}

#[test]
fn runs_are_found_by_name_or_generate_name() {
    let yaml = "kind: Task\nmetadata: {name: t}\n---\nkind: TaskRun\nmetadata: {name: a}\n---\n\
                kind: PipelineRun\nmetadata: {generateName: b-}\n";
    assert_eq!(runs_in(yaml), ["a", "b-"]);
}
