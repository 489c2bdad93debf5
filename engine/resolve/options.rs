//! How resolution behaves for one command: offline or not, local files allowed or not, the
//! cache directory, size and time limits.

use std::path::PathBuf;
use std::time::Duration;

/// Largest fetched object accepted, in bytes (Tekton objects are kilobytes).
pub const DEFAULT_MAX_BYTES: u64 = 4 * 1024 * 1024;

/// Per-request timeout of network fetches.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings of one resolution pass.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    /// Use only the cache; any miss is an error naming the reference.
    pub offline: bool,
    /// Allow `file://` URLs and local paths (`--allow-local-resolution`).
    pub allow_local: bool,
    /// The cache directory.
    pub cache_dir: PathBuf,
    /// Size cap of any fetched object or response.
    pub max_bytes: u64,
    /// Timeout of each network operation.
    pub timeout: Duration,
    /// The resolver a reference with params but no `resolver` uses (`default-resolver-type`).
    pub default_resolver: Option<String>,
    /// Base URL of the hub API for the `hub` resolver (`--hub-url`), both hub types.
    pub hub_url: Option<String>,
    /// Namespace of the run, for the `cluster` resolver's default.
    pub namespace: String,
}

impl ResolveOptions {
    /// Defaults with the cache at `cache_dir`.
    pub fn new(cache_dir: PathBuf) -> Self {
        ResolveOptions {
            offline: false,
            allow_local: false,
            cache_dir,
            max_bytes: DEFAULT_MAX_BYTES,
            timeout: DEFAULT_TIMEOUT,
            default_resolver: None,
            hub_url: None,
            namespace: "default".into(),
        }
    }
}

/// The cache directory: `explicit` (`--resolve-cache`), else `$ADZE_RESOLVE_CACHE`, else
/// `$XDG_CACHE_HOME/adze/resolve`, else `~/.cache/adze/resolve`, else a temporary one.
pub fn default_cache_dir(explicit: Option<PathBuf>) -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    explicit
        .or_else(|| env("ADZE_RESOLVE_CACHE"))
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("adze/resolve")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/adze/resolve")))
        .unwrap_or_else(|| std::env::temp_dir().join("adze-resolve-cache"))
}
