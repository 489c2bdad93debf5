//! The on-disk cache of resolved objects.
//!
//! # Design
//!
//! One JSON file per entry, named by the SHA-256 of a key string: the resolver's name and
//! every param sorted by name (a "params key"), or a resolver-chosen key such as a git
//! repository, commit and path (a "content key"). Entries are written to a temporary file
//! and renamed into place, so concurrent commands never read a half-written entry.
//!
//! # Invariants
//!
//! - A params key covers every param: two references differing in any param never share
//!   an entry.
//! - A read that fails (missing, unreadable, corrupt) is a miss, never an error: the cache
//!   is only ever a copy of what a server said.

use std::path::{Path, PathBuf};

use super::request::ResolverParam;
use super::resolved::Resolved;

/// The key of one cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key of a reference: resolver and every param, sorted by name.
    pub fn for_params(resolver: &str, params: &[ResolverParam]) -> Self {
        let mut sorted = params.to_vec();
        sorted.sort();
        let mut parts = vec!["params".to_string(), resolver.to_string()];
        for p in sorted {
            parts.push(p.name);
            parts.push(p.value);
        }
        Self::from_parts(&parts)
    }

    /// A key made of parts (e.g. `["git", url, commit, path]`); parts are length-prefixed,
    /// so no two different part lists give the same key.
    pub fn from_parts<S: AsRef<str>>(parts: &[S]) -> Self {
        let mut text = String::new();
        for p in parts {
            let p = p.as_ref();
            text.push_str(&format!("{}:{p};", p.len()));
        }
        CacheKey(text)
    }

    /// The file name of the entry.
    fn file_name(&self) -> String {
        let digest = super::resolved::sha256_digest(self.0.as_bytes());
        format!("{}.json", &digest["sha256:".len()..])
    }
}

/// The resolution cache in one directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache in `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry for `key`, if one was stored.
    pub fn get(&self, key: &CacheKey) -> Option<Resolved> {
        let bytes = std::fs::read(self.dir.join(key.file_name())).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Stores `value` under `key`.
    pub fn put(&self, key: &CacheKey, value: &Resolved) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(key.file_name());
        let tmp = tempfile_in(&self.dir)?;
        std::fs::write(
            &tmp,
            serde_json::to_vec(value).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(&tmp, path)
    }
}

/// A fresh file name in `dir` for an atomic write.
fn tempfile_in(dir: &Path) -> std::io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Ok(dir.join(format!(".tmp-{}-{n}", std::process::id())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, value: &str) -> ResolverParam {
        ResolverParam {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn params_keys_ignore_order_but_not_values() {
        let a = CacheKey::for_params("git", &[p("url", "u"), p("revision", "main")]);
        let b = CacheKey::for_params("git", &[p("revision", "main"), p("url", "u")]);
        let c = CacheKey::for_params("git", &[p("revision", "dev"), p("url", "u")]);
        let d = CacheKey::for_params("http", &[p("revision", "main"), p("url", "u")]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn parts_cannot_run_into_each_other() {
        assert_ne!(
            CacheKey::from_parts(&["ab", "c"]),
            CacheKey::from_parts(&["a", "bc"])
        );
        assert_ne!(
            CacheKey::for_params("git", &[p("a", "b;c")]),
            CacheKey::for_params("git", &[p("a", "b"), p("c", "")])
        );
    }

    #[test]
    fn entries_round_trip_and_misses_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("nested"));
        let key = CacheKey::from_parts(&["x"]);
        assert!(cache.get(&key).is_none());
        let value = Resolved {
            source_name: "http:u".into(),
            text: "kind: Task\n".into(),
            provenance: super::super::resolved::Provenance {
                resolver: "http".into(),
                params: vec![p("url", "u")],
                source: "u".into(),
                commit: None,
                digest: Some("sha256:00".into()),
                cache_hit: false,
            },
        };
        cache.put(&key, &value).unwrap();
        assert_eq!(cache.get(&key), Some(value));
        std::fs::write(cache.dir().join(key.file_name()), "{not json").unwrap();
        assert!(cache.get(&key).is_none());
    }
}
