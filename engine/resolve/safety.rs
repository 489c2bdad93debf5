//! Checks made on resolver params before any I/O, after Tekton's 2026 resolver advisories:
//! a git `revision` or `url` injecting options (`--upload-pack=…`), a `pathInRepo` reading
//! files outside the clone, a URL reading this machine's files.

use std::path::{Component, Path, PathBuf};

/// How a URL reaches its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlKind {
    /// `http://`, `https://`, `git://`, `ssh://`: a server.
    Remote,
    /// `file://` or a plain path: this machine's filesystem.
    Local,
    /// Anything else (`ext::`, `fd::`, scp-like `host:path`, unknown schemes).
    Unsupported,
}

/// True when a value would be read by a program as an option.
pub fn is_option_like(value: &str) -> bool {
    value.starts_with('-')
}

/// Classifies a git URL. `ext::` and `fd::` (git's command-running transports) and every
/// scheme not listed are unsupported.
pub fn git_url_kind(url: &str) -> UrlKind {
    let lower = url.to_ascii_lowercase();
    if ["http://", "https://", "git://", "ssh://"]
        .iter()
        .any(|s| lower.starts_with(s))
    {
        return UrlKind::Remote;
    }
    if lower.starts_with("file://") {
        return UrlKind::Local;
    }
    if lower.contains("::") || lower.contains("://") {
        return UrlKind::Unsupported;
    }
    // `host:path` is scp-like ssh; anything else without a scheme is a local path.
    match url.split_once(':') {
        Some((before, _)) if !before.contains('/') && !before.is_empty() => UrlKind::Unsupported,
        _ => UrlKind::Local,
    }
}

/// Classifies an http resolver URL: http(s) is remote, `file://` and plain paths local.
pub fn http_url_kind(url: &str) -> UrlKind {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        UrlKind::Remote
    } else if lower.starts_with("file://") || !lower.contains(':') {
        UrlKind::Local
    } else {
        UrlKind::Unsupported
    }
}

/// A `pathInRepo` as a path relative to the repository root with no way out: not empty, no
/// `..`. A leading `/` means the repository's root, as in Tekton (its own examples write
/// `/task/git-clone/0.7/git-clone.yaml`), never this machine's root.
pub fn repo_relative_path(path: &str) -> Result<PathBuf, String> {
    if path.is_empty() {
        return Err("it is empty".into());
    }
    if path.contains('\0') {
        return Err("it holds a NUL byte".into());
    }
    let p = Path::new(path);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("it contains `..`".into()),
            Component::RootDir => {}
            Component::Prefix(_) => return Err("it names a drive".into()),
        }
    }
    if out.as_os_str().is_empty() {
        return Err("it names the repository itself, not a file".into());
    }
    Ok(out)
}

/// The file `relative` inside `root` with every symlink followed, if it stays inside.
pub fn contained_file(root: &Path, relative: &Path) -> Result<PathBuf, String> {
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot read the checkout: {e}"))?;
    let joined = root.join(relative);
    let real = match joined.canonicalize() {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink pointing out is still an escape; say so rather than
            // "not found".
            if std::fs::symlink_metadata(&joined).is_ok() {
                return Err("a symlink in it points outside the repository".into());
            }
            return Err("no such file in the repository at this revision".into());
        }
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    if !real.starts_with(&root) {
        return Err("a symlink in it points outside the repository".into());
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_like_values() {
        assert!(is_option_like("--upload-pack=touch /tmp/x"));
        assert!(is_option_like("-c"));
        assert!(!is_option_like("main"));
        assert!(!is_option_like("v1.0-rc"));
    }

    #[test]
    fn git_urls_by_kind() {
        for u in [
            "https://h/r.git",
            "HTTP://h/r",
            "git://127.0.0.1:9418/r",
            "ssh://git@h/r",
        ] {
            assert_eq!(git_url_kind(u), UrlKind::Remote, "{u}");
        }
        for u in ["file:///tmp/r", "/tmp/r", "./r", "../r", "r"] {
            assert_eq!(git_url_kind(u), UrlKind::Local, "{u}");
        }
        for u in [
            "ext::sh -c touch% /tmp/x",
            "fd::3",
            "git@github.com:o/r.git",
            "ftp://h/r",
        ] {
            assert_eq!(git_url_kind(u), UrlKind::Unsupported, "{u}");
        }
    }

    #[test]
    fn http_urls_by_kind() {
        assert_eq!(http_url_kind("https://h/t.yaml"), UrlKind::Remote);
        assert_eq!(http_url_kind("file:///etc/passwd"), UrlKind::Local);
        assert_eq!(http_url_kind("/etc/passwd"), UrlKind::Local);
        assert_eq!(http_url_kind("ftp://h/t.yaml"), UrlKind::Unsupported);
    }

    #[test]
    fn repo_paths_never_leave() {
        assert_eq!(
            repo_relative_path("./task/x.yaml").unwrap(),
            PathBuf::from("task/x.yaml")
        );
        assert_eq!(
            repo_relative_path("/etc/passwd").unwrap(),
            PathBuf::from("etc/passwd")
        );
        for bad in ["", "/", "../x", "/../x", "task/../../x", "a/..", "."] {
            assert!(repo_relative_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn symlinks_out_of_the_root_are_caught() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("task")).unwrap();
        std::fs::write(root.join("task/x.yaml"), "x").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("out")).unwrap();
        std::os::unix::fs::symlink("task/x.yaml", root.join("in")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/y", root.join("dangling")).unwrap();
        assert!(contained_file(&root, Path::new("task/x.yaml")).is_ok());
        assert!(contained_file(&root, Path::new("in")).is_ok());
        let out = contained_file(&root, Path::new("out")).unwrap_err();
        assert!(out.contains("outside"), "{out}");
        assert!(contained_file(&root, Path::new("dangling"))
            .unwrap_err()
            .contains("outside"));
        assert!(contained_file(&root, Path::new("missing"))
            .unwrap_err()
            .contains("no such file"));
    }
}
