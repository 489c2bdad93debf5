//! The `git` resolver: a file at a revision of a repository, fetched anonymously with the
//! `git` CLI (params `url`, `revision`, `pathInRepo`).
//!
//! # Design
//!
//! The revision is first turned into a commit with `git ls-remote` (a full SHA is taken as
//! it is); a file already cached for that repository, commit and path is used without any
//! clone. Otherwise the commit is fetched at depth 1 into a temporary repository (servers
//! that cannot fetch shallowly, such as git's dumb HTTP protocol, get a full fetch of that
//! one ref), checked out, and the file read after resolving every symlink.
//!
//! # Invariants
//!
//! - No param reaches git before it is checked: `url` and `revision` never start with `-`,
//!   `url` is http(s), git or ssh (or a local repository with `--allow-local-resolution`),
//!   `pathInRepo` has no `..` (a leading `/` is the repository's root). Every git command line puts `--` between its
//!   options and the URL or revision; `GIT_ALLOW_PROTOCOL` restricts the transports again.
//! - The file read is inside the checkout once symlinks are resolved, and at most
//!   `max_bytes` long.
//!
//! # Not yet
//!
//! - The SCM API mode (`org`, `repo`, `token`, `serverURL`, `scmType`): refused with a
//!   clear error, so no token is ever sent anywhere.
//! - Credentials for cloning (`gitToken`): anonymous clones only.

use std::path::Path;
use std::process::Command;

use super::cache::CacheKey;
use super::command;
use super::error::{Reason, ResolveError};
use super::request::ResolveRequest;
use super::resolved::{sha256_digest, Provenance, Resolved};
use super::resolver::{ResolveContext, Resolver};
use super::safety::{self, UrlKind};

/// The `git` resolver.
pub struct GitResolver;

/// The params of one request, checked.
struct Checked<'r> {
    url: &'r str,
    revision: Option<&'r str>,
    path: std::path::PathBuf,
    path_text: &'r str,
    local: bool,
}

impl Resolver for GitResolver {
    fn name(&self) -> &'static str {
        "git"
    }

    fn resolve(
        &self,
        request: &ResolveRequest,
        ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        let checked = check(request, ctx.options.allow_local)?;
        let fail = |param: Option<&str>, reason| ResolveError::new(request, param, reason);
        let commit = resolve_commit(&checked, ctx).map_err(|e| {
            fail(
                Some(if checked.revision.is_some() {
                    "revision"
                } else {
                    "url"
                }),
                e,
            )
        })?;
        let content_key =
            CacheKey::from_parts(&["git", checked.url, &commit.sha, checked.path_text]);
        if let Some(mut hit) = ctx.cache.get(&content_key) {
            hit.provenance.params.clone_from(&request.params);
            hit.provenance.cache_hit = true;
            return Ok(hit);
        }
        let text =
            fetch_file(&checked, &commit, ctx).map_err(|(param, reason)| fail(param, reason))?;
        let resolved = Resolved {
            source_name: format!("git:{}@{}:{}", checked.url, commit.sha, checked.path_text),
            provenance: Provenance {
                resolver: "git".into(),
                params: request.params.clone(),
                source: checked.url.to_string(),
                commit: Some(commit.sha.clone()),
                digest: Some(sha256_digest(text.as_bytes())),
                cache_hit: false,
            },
            text,
        };
        let _ = ctx.cache.put(&content_key, &resolved);
        Ok(resolved)
    }
}

/// Checks every param before git sees any of them.
fn check(request: &ResolveRequest, allow_local: bool) -> Result<Checked<'_>, ResolveError> {
    let fail = |param: &str, reason| ResolveError::new(request, Some(param), reason);
    for scm in ["repo", "org", "token", "serverURL", "scmType"] {
        if request.param(scm).is_some() {
            return Err(fail(
                scm,
                Reason::Unsupported(
                    "the git resolver's SCM API mode (org/repo/token) is not supported by adze; use `url` for an anonymous clone".into(),
                ),
            ));
        }
    }
    let url = request
        .param("url")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| fail("url", Reason::MissingParam))?;
    if safety::is_option_like(url) {
        return Err(fail("url", Reason::OptionLike(url.into())));
    }
    let local = match safety::git_url_kind(url) {
        UrlKind::Remote => false,
        UrlKind::Local if allow_local => true,
        UrlKind::Local => return Err(fail("url", Reason::LocalRefused(url.into()))),
        UrlKind::Unsupported => {
            return Err(fail(
                "url",
                Reason::Invalid(format!(
                    "\"{url}\" is not an http(s), git or ssh URL; adze clones only those"
                )),
            ))
        }
    };
    let revision = request.param("revision").filter(|r| !r.is_empty());
    if let Some(rev) = revision {
        if safety::is_option_like(rev) {
            return Err(fail("revision", Reason::OptionLike(rev.into())));
        }
        if rev.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail(
                "revision",
                Reason::Invalid(format!("\"{rev}\" is not a branch, tag or commit")),
            ));
        }
    }
    let path_text = request
        .param("pathInRepo")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| fail("pathInRepo", Reason::MissingParam))?;
    let path = safety::repo_relative_path(path_text).map_err(|why| {
        fail(
            "pathInRepo",
            Reason::PathEscapes {
                path: path_text.into(),
                why,
            },
        )
    })?;
    Ok(Checked {
        url,
        revision,
        path,
        path_text,
        local,
    })
}

/// A commit and the ref that names it, when one does.
struct Commit {
    sha: String,
    refname: Option<String>,
}

fn git(local: bool, dir: Option<&Path>) -> Command {
    let mut c = Command::new("git");
    if let Some(d) = dir {
        c.arg("-C").arg(d);
    }
    // No prompt may wait for a password that will never come; no transport that runs
    // commands (ext::, fd::) may be used even if a URL slipped past the checks.
    c.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env(
            "GIT_ALLOW_PROTOCOL",
            if local {
                "http:https:git:ssh:file"
            } else {
                "http:https:git:ssh"
            },
        )
        .env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    c
}

fn is_full_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn resolve_commit(c: &Checked<'_>, ctx: &ResolveContext<'_>) -> Result<Commit, Reason> {
    if let Some(rev) = c.revision.filter(|r| is_full_sha(r)) {
        return Ok(Commit {
            sha: rev.to_ascii_lowercase(),
            refname: None,
        });
    }
    let mut cmd = git(c.local, None);
    cmd.args(["ls-remote", "--", c.url]);
    let out = command::run(cmd, ctx.options.timeout).map_err(Reason::Fetch)?;
    if !out.success {
        return Err(Reason::Fetch(format!(
            "git ls-remote {}: {}",
            c.url,
            out.stderr.trim()
        )));
    }
    let refs: Vec<(&str, &str)> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .collect();
    let find = |name: &str| refs.iter().find(|(_, r)| *r == name).map(|(sha, _)| *sha);
    let wanted = c.revision.unwrap_or("HEAD");
    let candidates = [
        (format!("refs/heads/{wanted}"), None),
        (
            format!("refs/tags/{wanted}^{{}}"),
            Some(format!("refs/tags/{wanted}")),
        ),
        (format!("refs/tags/{wanted}"), None),
        (wanted.to_string(), None),
    ];
    for (name, fetch_as) in candidates {
        if let Some(sha) = find(&name) {
            return Ok(Commit {
                sha: sha.to_string(),
                refname: Some(fetch_as.unwrap_or(name)),
            });
        }
    }
    Err(Reason::NotFound(format!(
        "no branch, tag or ref \"{wanted}\" in {} (a commit must be given as its full SHA)",
        c.url
    )))
}

/// Fetches the commit into a temporary repository and reads the file.
fn fetch_file(
    c: &Checked<'_>,
    commit: &Commit,
    ctx: &ResolveContext<'_>,
) -> Result<String, (Option<&'static str>, Reason)> {
    let fetch_err = |e: String| (Some("url"), Reason::Fetch(e));
    let dir = tempfile::Builder::new()
        .prefix("adze-git-")
        .tempdir()
        .map_err(|e| fetch_err(format!("cannot make a temporary directory: {e}")))?;
    let repo = dir.path();
    let run = |cmd: Command| command::run(cmd, ctx.options.timeout).map_err(fetch_err);
    let mut init = git(c.local, None);
    init.args(["init", "-q", "--"]).arg(repo);
    let out = run(init)?;
    if !out.success {
        return Err(fetch_err(format!("git init: {}", out.stderr.trim())));
    }
    let want = commit.refname.as_deref().unwrap_or(&commit.sha);
    let fetch = |depth: bool, want: &str| {
        let mut f = git(c.local, Some(repo));
        f.args(["fetch", "-q", "--no-tags"]);
        if depth {
            f.arg("--depth=1");
        }
        f.args(["--", c.url, want]);
        run(f)
    };
    let mut out = fetch(true, want)?;
    if !out.success {
        // Dumb HTTP and some servers refuse shallow fetches; fetch that one ref in full.
        out = fetch(false, want)?;
    }
    if !out.success && commit.refname.is_none() {
        // A server that refuses to send a commit by SHA sends it with its branches and tags.
        out = fetch(false, "+refs/heads/*:refs/remotes/origin/*")?;
        if out.success {
            out = fetch(false, "+refs/tags/*:refs/tags/*")?;
        }
    }
    if !out.success {
        return Err((
            Some(if c.revision.is_some() {
                "revision"
            } else {
                "url"
            }),
            Reason::Fetch(format!("git fetch {} {want}: {}", c.url, out.stderr.trim())),
        ));
    }
    let mut checkout = git(c.local, Some(repo));
    checkout.args([
        "-c",
        "advice.detachedHead=false",
        "checkout",
        "-q",
        "--detach",
        &commit.sha,
        "--",
    ]);
    let out = run(checkout)?;
    if !out.success {
        return Err((
            Some("revision"),
            Reason::Fetch(format!(
                "commit {} is not what the server sent for {want}: {}",
                commit.sha,
                out.stderr.trim()
            )),
        ));
    }
    let file = safety::contained_file(repo, &c.path).map_err(|why| {
        let reason = if why.contains("outside") {
            Reason::PathEscapes {
                path: c.path_text.into(),
                why,
            }
        } else {
            Reason::NotFound(format!("\"{}\": {why}", c.path_text))
        };
        (Some("pathInRepo"), reason)
    })?;
    let meta = std::fs::metadata(&file)
        .map_err(|e| (Some("pathInRepo"), Reason::NotFound(e.to_string())))?;
    if !meta.is_file() {
        return Err((
            Some("pathInRepo"),
            Reason::NotFound(format!("\"{}\" is a directory, not a file", c.path_text)),
        ));
    }
    if meta.len() > ctx.options.max_bytes {
        return Err((Some("pathInRepo"), Reason::TooLarge(ctx.options.max_bytes)));
    }
    let bytes =
        std::fs::read(&file).map_err(|e| (Some("pathInRepo"), Reason::NotFound(e.to_string())))?;
    String::from_utf8(bytes).map_err(|_| {
        (
            Some("pathInRepo"),
            Reason::Invalid(format!("\"{}\" is not UTF-8 text", c.path_text)),
        )
    })
}
