//! Tekton's 2026 resolver advisories as tests: option injection through `revision` and
//! `url`, `pathInRepo` leaving the repository (`..`, absolute, symlinks), local files, and
//! unbounded responses. Each is refused with a message naming the reference and the param;
//! where the params alone show the problem, no server sees a single request.

use super::fixture::Fixture;
use super::{adze, task_run};

/// Validates a TaskRun whose taskRef is git with these params; returns stderr, redacted.
fn refused_git(f: &Fixture, params: &[(&str, &str)], extra: &[&str]) -> String {
    let out = adze(f, "validate", &task_run("git", params), extra);
    assert_eq!(out.code, Some(2), "refused:\n{}", out.stderr);
    f.redact(&out.stderr)
}

fn assert_no_request(f: &Fixture) {
    assert_eq!(f.daemon.requests(), 0, "git daemon was asked");
    assert!(
        f.http.requests().is_empty(),
        "http server was asked: {:?}",
        f.http.requests()
    );
}

#[test]
fn a_revision_starting_with_a_dash_never_reaches_git() {
    let f = Fixture::start();
    let url = f.daemon.url("repo.git");
    let marker = f.work().join("pwned");
    let injected = "--upload-pack=touch pwned".to_string();
    let err = refused_git(
        &f,
        &[
            ("url", &url),
            ("revision", &injected),
            ("pathInRepo", "task/echo.yaml"),
        ],
        &[],
    );
    assert_no_request(&f);
    assert!(!marker.exists(), "the injected command ran");
    insta::assert_snapshot!("revision_option", err);
}

#[test]
fn a_url_starting_with_a_dash_never_reaches_git() {
    let f = Fixture::start();
    let marker = f.work().join("pwned");
    let injected = "--upload-pack=touch pwned".to_string();
    let err = refused_git(
        &f,
        &[
            ("url", &injected),
            ("revision", "main"),
            ("pathInRepo", "task/echo.yaml"),
        ],
        &[],
    );
    assert!(!marker.exists(), "the injected command ran");
    insta::assert_snapshot!("url_option", err);
}

#[test]
fn path_in_repo_with_dot_dot_is_refused_before_any_clone() {
    let f = Fixture::start();
    let url = f.daemon.url("repo.git");
    let dotdot = refused_git(
        &f,
        &[
            ("url", &url),
            ("revision", "main"),
            ("pathInRepo", "task/../../../etc/passwd"),
        ],
        &[],
    );
    let rooted_dotdot = refused_git(
        &f,
        &[
            ("url", &url),
            ("revision", "main"),
            ("pathInRepo", "/../../etc/passwd"),
        ],
        &[],
    );
    assert_no_request(&f);
    insta::assert_snapshot!("path_dotdot", dotdot);
    assert!(rooted_dotdot.contains("leaves the repository (it contains `..`)"));
}

#[test]
fn an_absolute_path_in_repo_is_read_from_the_repository_root_never_the_host() {
    let f = Fixture::start();
    let url = f.daemon.url("repo.git");
    let absolute = refused_git(
        &f,
        &[
            ("url", &url),
            ("revision", "main"),
            ("pathInRepo", "/etc/passwd"),
        ],
        &[],
    );
    assert!(
        !absolute.contains("root:"),
        "/etc/passwd leaked:\n{absolute}"
    );
    insta::assert_snapshot!("path_absolute", absolute);
}

#[test]
fn a_symlink_pointing_out_of_the_repository_is_refused_after_checkout() {
    let f = Fixture::start();
    let url = f.daemon.url("repo.git");
    let err = refused_git(
        &f,
        &[
            ("url", &url),
            ("revision", "main"),
            ("pathInRepo", "task/evil.yaml"),
        ],
        &[],
    );
    assert!(!err.contains("root:"), "/etc/passwd leaked:\n{err}");
    insta::assert_snapshot!("path_symlink", err);
}

#[test]
fn local_repositories_and_files_need_allow_local_resolution() {
    let f = Fixture::start();
    let bare = f.root.path().join("served/repo.git");
    let file_url = format!("file://{}", bare.display());
    let path_url = bare.display().to_string();
    let params = |url: &str| {
        vec![
            ("url", url.to_string()),
            ("revision", "main".to_string()),
            ("pathInRepo", "task/echo.yaml".to_string()),
        ]
    };
    let as_refs = |p: &[(&'static str, String)]| -> Vec<(&'static str, String)> { p.to_vec() };
    let file = as_refs(&params(&file_url));
    let file: Vec<(&str, &str)> = file.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let refused_file = refused_git(&f, &file, &[]);
    let path = as_refs(&params(&path_url));
    let path: Vec<(&str, &str)> = path.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let refused_path = refused_git(&f, &path, &[]);
    let http_file = adze(
        &f,
        "validate",
        &task_run("http", &[("url", "file:///etc/passwd")]),
        &[],
    );
    assert_eq!(http_file.code, Some(2));
    insta::assert_snapshot!("git_file_url", refused_file);
    insta::assert_snapshot!("git_local_path", refused_path);
    insta::assert_snapshot!("http_file_url", f.redact(&http_file.stderr));
    let allowed = adze(
        &f,
        "plan",
        &task_run("git", &file),
        &[
            "--allow-local-resolution",
            "-p",
            &format!("repo={file_url}"),
        ],
    );
    assert_eq!(allowed.code, Some(0), "{}", allowed.stderr);
    assert!(allowed.stdout.contains("Task echo"), "{}", allowed.stdout);
}

#[test]
fn git_transports_that_run_commands_are_refused() {
    let f = Fixture::start();
    let marker = f.work().join("pwned");
    let ext = "ext::sh -c touch% pwned".to_string();
    let err = refused_git(
        &f,
        &[
            ("url", &ext),
            ("revision", "main"),
            ("pathInRepo", "task/echo.yaml"),
        ],
        &[],
    );
    assert!(!marker.exists(), "the ext:: command ran");
    insta::assert_snapshot!("git_ext_transport", err);
}

#[test]
fn responses_and_files_over_the_size_cap_are_refused() {
    let f = Fixture::start();
    let base = f.http.base();
    for name in ["huge.yaml", "huge.nolength"] {
        let url = format!("{base}/{name}");
        let out = adze(&f, "validate", &task_run("http", &[("url", &url)]), &[]);
        assert_eq!(out.code, Some(2), "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains("larger than the 4194304-byte limit"),
            "{name}: {}",
            out.stderr
        );
    }
    let url = f.daemon.url("repo.git");
    let big = refused_git(
        &f,
        &[
            ("url", &url),
            ("revision", "main"),
            ("pathInRepo", "task/big.yaml"),
        ],
        &[],
    );
    insta::assert_snapshot!("git_file_too_large", big);
}
