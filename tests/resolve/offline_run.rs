//! A PipelineRun whose Pipeline, Tasks and StepAction come from git (git daemon and dumb
//! HTTP), http and the cluster resolver runs to success in Docker, then runs again with
//! every server stopped, from the cache alone.

use super::fixture::Fixture;
use super::{adze, pipeline_run};

#[test]
fn a_pipeline_from_git_and_http_runs_then_runs_again_offline_from_the_cache() {
    common_docker();
    let mut f = Fixture::start();
    let yaml = pipeline_run(&f);
    let first = adze(&f, "run", &yaml, &["-o", "json"]);
    assert_eq!(
        first.code,
        Some(0),
        "online run failed:\n{}",
        first.stderr_tail(40)
    );
    let status = first.json().expect("a PipelineRun on stdout");
    assert_eq!(status["status"]["conditions"][0]["reason"], "Succeeded");
    for line in ["from-http", "from-a-git-step-action", "from-cluster"] {
        assert!(
            first.stderr.contains(line),
            "no `{line}` in the logs:\n{}",
            first.stderr
        );
    }
    assert!(f.daemon.requests() > 0, "the Pipeline came from git daemon");
    let fetched = f.http.requests();
    assert!(fetched.iter().any(|r| r.contains("/tasks/hello.yaml")));
    assert!(fetched.iter().any(|r| r.contains("/repo.git/info/refs")));

    f.daemon.stop();
    f.http.stop();
    let second = adze(&f, "run", &yaml, &["-o", "json", "--offline"]);
    assert_eq!(
        second.code,
        Some(0),
        "offline run failed:\n{}",
        second.stderr_tail(40)
    );
    let status = second.json().expect("a PipelineRun on stdout");
    assert_eq!(status["status"]["conditions"][0]["reason"], "Succeeded");
    assert!(second.stderr.contains("from-a-git-step-action"));
}

fn common_docker() {
    super::common::require_docker();
}
