//! `adze plan` and `adze validate` with remote references: where each came from, the cache,
//! credentials, and diagnostics that point into the fetched text.

use serde_json::Value;

use super::fixture::{Fixture, BASIC};
use super::{adze, pipeline_run, task_run};

fn remote_refs(json: &Value) -> Vec<(String, String, String, Option<String>, bool)> {
    json["remoteRefs"]
        .as_array()
        .expect("remoteRefs in the plan")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("").to_string(),
                r["name"].as_str().unwrap_or("").to_string(),
                r["resolver"].as_str().unwrap_or("").to_string(),
                r["commit"].as_str().map(str::to_string),
                r["cacheHit"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[test]
fn plan_shows_where_every_remote_ref_came_from_and_the_cache_answers_the_second_time() {
    let f = Fixture::start();
    let yaml = pipeline_run(&f);
    let first = adze(&f, "plan", &yaml, &["-o", "json"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let refs = remote_refs(&first.json().expect("json plan"));
    let c = Some(f.commit.clone());
    assert_eq!(
        refs,
        [
            (
                "Pipeline".into(),
                "greet".into(),
                "git".into(),
                c.clone(),
                false
            ),
            ("Task".into(), "hello".into(), "http".into(), None, false),
            ("Task".into(), "echo".into(), "git".into(), c.clone(), false),
            (
                "Task".into(),
                "local-task".into(),
                "cluster".into(),
                None,
                false
            ),
            (
                "StepAction".into(),
                "say".into(),
                "git".into(),
                c.clone(),
                false
            ),
        ]
    );
    let before = (f.daemon.requests(), f.http.requests().len());
    let second = adze(&f, "plan", &yaml, &[]);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    // Online, git asks the server which commit `main` is, then reads the file from the
    // commit-keyed cache; http fetches again (a URL's content may change).
    assert!(f.daemon.requests() > before.0);
    let section = second
        .stdout
        .split("remote refs:")
        .nth(1)
        .expect("a remote refs section");
    insta::assert_snapshot!("plan_remote_refs", f.redact(section));
    let online = (f.daemon.requests(), f.http.requests().len());
    assert!(online.1 > before.1, "http fetched again");
    let offline = adze(&f, "plan", &yaml, &["-o", "yaml", "--offline"]);
    assert_eq!(offline.code, Some(0), "{}", offline.stderr);
    assert_eq!(
        (f.daemon.requests(), f.http.requests().len()),
        online,
        "offline made no request"
    );
    assert!(offline.stdout.contains("cacheHit: true"));
}

#[test]
fn a_tag_and_a_commit_resolve_to_the_same_commit() {
    let f = Fixture::start();
    let url = f.daemon.url("repo.git");
    for revision in ["v1", f.commit.as_str()] {
        let yaml = task_run(
            "git",
            &[
                ("url", &url),
                ("revision", revision),
                ("pathInRepo", "task/echo.yaml"),
            ],
        );
        let repo = format!("repo={url}");
        let out = adze(&f, "plan", &yaml, &["-o", "json", "-p", &repo]);
        assert_eq!(out.code, Some(0), "{revision}: {}", out.stderr);
        let json = out.json().expect("json");
        assert_eq!(
            json["remoteRefs"][0]["commit"],
            f.commit.as_str(),
            "{revision}"
        );
    }
}

#[test]
fn http_basic_auth_comes_from_a_secret_among_the_loaded_documents() {
    let f = Fixture::start();
    let (user, password) = BASIC.split_once(':').expect("user:password");
    let url = format!("{}/private/hello.yaml", f.http.base());
    let run = task_run(
        "http",
        &[
            ("url", &url),
            ("http-username", user),
            ("http-password-secret", "hub-auth"),
            ("http-password-secret-key", "token"),
        ],
    );
    let missing = adze(&f, "validate", &run, &[]);
    assert_eq!(missing.code, Some(2));
    assert!(
        f.http.requests().is_empty(),
        "no request without credentials"
    );
    insta::assert_snapshot!("http_secret_missing", f.redact(&missing.stderr));
    let secret = format!(
        "{run}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: hub-auth\nstringData:\n  token: {password}\n"
    );
    let ok = adze(&f, "plan", &secret, &[]);
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
    assert!(ok.stdout.contains("from-http"));
    let wrong = secret.replace(password, "wrong");
    let refused = adze(&f, "plan", &wrong, &[]);
    assert_eq!(refused.code, Some(2));
    assert!(
        refused.stderr.contains("401 Unauthorized"),
        "{}",
        refused.stderr
    );
}

#[test]
fn diagnostics_in_a_fetched_task_point_into_the_fetched_text() {
    let f = Fixture::start();
    let url = format!("{}/tasks/broken.yaml", f.http.base());
    let out = adze(&f, "validate", &task_run("http", &[("url", &url)]), &[]);
    assert_eq!(out.code, Some(2));
    insta::assert_snapshot!("fetched_text_diagnostic", f.redact(&out.stderr));
}

#[test]
fn offline_names_the_reference_missing_from_the_cache() {
    let f = Fixture::start();
    let out = adze(&f, "plan", &pipeline_run(&f), &["--offline"]);
    assert_eq!(out.code, Some(2));
    assert_eq!(f.daemon.requests(), 0);
    assert!(f.http.requests().is_empty());
    insta::assert_snapshot!("offline_missing", f.redact(&out.stderr));
}

#[test]
fn the_cluster_resolver_names_what_it_did_not_find() {
    let f = Fixture::start();
    let run = task_run(
        "cluster",
        &[("kind", "task"), ("name", "nowhere"), ("namespace", "ci")],
    );
    let out = adze(&f, "validate", &run, &[]);
    assert_eq!(out.code, Some(2));
    insta::assert_snapshot!("cluster_not_found", f.redact(&out.stderr));
}

#[test]
fn a_lone_pipeline_is_planned_with_its_remote_tasks_fetched_for_the_given_params() {
    let f = Fixture::start();
    let pipeline = std::fs::read_to_string(f.root.path().join("src/pipeline/greet.yaml"))
        .expect("the Pipeline in the repository");
    let local_task = pipeline_run(&f)
        .split("---\n")
        .nth(1)
        .expect("the local Task")
        .to_string();
    let yaml = format!("{pipeline}---\n{local_task}");
    let http = format!("http-base={}", f.http.base());
    let git = format!("git-http-url={}", f.git_http_url());
    let out = adze(&f, "plan", &yaml, &["-p", &http, "-p", &git]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for task in ["[hello]", "[echo]", "[local-task]"] {
        assert!(out.stdout.contains(task), "{task} in\n{}", out.stdout);
    }
    assert!(out.stdout.contains("echo from-a-git-step-action"));
}

#[test]
fn git_over_smart_http_resolves_a_branch_through_the_smart_protocol() {
    let f = Fixture::start();
    let url = f.git_smart_url();
    let yaml = task_run(
        "git",
        &[
            ("url", &url),
            ("revision", "main"),
            ("pathInRepo", "task/echo.yaml"),
        ],
    );
    let repo = format!("repo={url}");
    let out = adze(&f, "plan", &yaml, &["-o", "json", "-p", &repo]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let json = out.json().expect("json");
    assert_eq!(json["remoteRefs"][0]["commit"], f.commit.as_str());
    let requests = f.http.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("POST /smart/repo.git/git-upload-pack")),
        "the smart protocol was used: {requests:?}"
    );
    assert!(
        !requests.iter().any(|r| r.contains("/objects/")),
        "no dumb-protocol object fetches: {requests:?}"
    );
}

#[test]
fn default_resolver_type_gives_a_reference_without_resolver_its_resolver() {
    let f = Fixture::start();
    let url = format!("{}/tasks/hello.yaml", f.http.base());
    let yaml = task_run("http", &[("url", &url)]).replace("    resolver: http\n", "");
    let without = adze(&f, "validate", &yaml, &[]);
    assert_eq!(without.code, Some(2), "{}", without.stderr);
    assert!(without.stderr.contains("missing field(s): resolver"));
    let with = adze(
        &f,
        "plan",
        &yaml,
        &["--feature-flag", "default-resolver-type=http"],
    );
    assert_eq!(with.code, Some(0), "{}", with.stderr);
    assert!(with.stdout.contains("from-http"), "{}", with.stdout);
}
