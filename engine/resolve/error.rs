//! Why a reference could not be resolved. Every error names the reference (position and
//! object path), the resolver, and the param at fault when one is.

use super::request::{RefSite, ResolveRequest};

/// A reference that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{site}: resolver \"{resolver}\"{}: {reason}", param_label(.param.as_deref()))]
pub struct ResolveError {
    /// Where the reference was written (boxed: errors travel in `Result`s).
    pub site: Box<RefSite>,
    /// The resolver asked.
    pub resolver: String,
    /// The param at fault, when one is.
    pub param: Option<String>,
    /// What went wrong.
    pub reason: Reason,
}

fn param_label(param: Option<&str>) -> String {
    param.map(|p| format!(" param \"{p}\"")).unwrap_or_default()
}

/// What went wrong while resolving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// A required param is absent or empty.
    #[error("missing: this resolver needs it")]
    MissingParam,
    /// A param's value is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// A value that a program could take for an option (`-…`), refused before any I/O.
    #[error("\"{0}\" starts with '-', which git would read as an option; refused")]
    OptionLike(String),
    /// A path inside a repository that points outside it.
    #[error("\"{path}\" leaves the repository ({why}); refused")]
    PathEscapes {
        /// The path as written.
        path: String,
        /// How it leaves.
        why: String,
    },
    /// A local path or `file://` URL without `--allow-local-resolution`.
    #[error("\"{0}\" reads the local filesystem; refused without --allow-local-resolution")]
    LocalRefused(String),
    /// No resolver has this name.
    #[error("no such resolver; adze has git, http, bundles, hub and cluster")]
    UnknownResolver,
    /// The resolver exists in Tekton but not in adze yet.
    #[error("this resolver is not built in adze yet")]
    NotBuilt,
    /// `--offline` and the cache holds no entry for these params.
    #[error("not in the resolution cache at {0} and --offline forbids fetching it")]
    NotCached(String),
    /// The response or file exceeds the size cap.
    #[error("larger than the {0}-byte limit; refused")]
    TooLarge(u64),
    /// The server, the repository or the network failed.
    #[error("{0}")]
    Fetch(String),
    /// The named object or file does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The fetched text holds no object of the requested kind.
    #[error("the fetched text holds no {expected} (found: {found})")]
    WrongKind {
        /// The kind the reference needs.
        expected: String,
        /// What the text held.
        found: String,
    },
    /// A mode of the resolver adze does not support.
    #[error("{0}")]
    Unsupported(String),
}

impl ResolveError {
    /// An error about `request`, blaming `param` if given.
    pub fn new(request: &ResolveRequest, param: Option<&str>, reason: Reason) -> Self {
        ResolveError {
            site: Box::new(request.site.clone()),
            resolver: request.resolver.clone(),
            param: param.map(str::to_string),
            reason,
        }
    }

    /// A short stable label of the failure's kind, for metrics and diagnostic codes.
    pub fn label(&self) -> &'static str {
        match self.reason {
            Reason::MissingParam | Reason::Invalid(_) => "invalid-param",
            Reason::OptionLike(_) | Reason::PathEscapes { .. } | Reason::LocalRefused(_) => {
                "refused"
            }
            Reason::UnknownResolver | Reason::NotBuilt | Reason::Unsupported(_) => "unsupported",
            Reason::NotCached(_) => "offline",
            Reason::TooLarge(_) => "too-large",
            Reason::Fetch(_) => "fetch",
            Reason::NotFound(_) | Reason::WrongKind { .. } => "not-found",
        }
    }

    /// How to fix it, for the rendered diagnostic.
    pub fn hint(&self) -> String {
        match &self.reason {
            Reason::MissingParam => format!(
                "add `- name: {}` with a value to the reference's params",
                self.param.as_deref().unwrap_or("?")
            ),
            Reason::OptionLike(_) => {
                "a git URL or revision never starts with '-'; check the value".into()
            }
            Reason::PathEscapes { .. } => {
                "use a relative path inside the repository, without `..` or symlinks leading out"
                    .into()
            }
            Reason::LocalRefused(_) => {
                "pass --allow-local-resolution if reading local files is intended".into()
            }
            Reason::UnknownResolver => "use one of: git, http, bundles, hub, cluster".into(),
            Reason::NotBuilt => {
                "download the object and pass its file to adze, then reference it by name".into()
            }
            Reason::NotCached(_) => {
                "run the same command once without --offline to fill the cache".into()
            }
            Reason::TooLarge(_) => "Tekton objects are small; check the URL and path".into(),
            Reason::WrongKind { expected, .. } => {
                format!("point the reference at a file holding a {expected}")
            }
            Reason::NotFound(_) if self.resolver == "cluster" => {
                "pass the file that defines it (-f FILE), or create it in that namespace of the \
                 cluster when it is read from one"
                    .into()
            }
            Reason::NotFound(_) if self.resolver == "git" => {
                "check `pathInRepo` against the repository at that revision".into()
            }
            Reason::Fetch(_)
            | Reason::NotFound(_)
            | Reason::Invalid(_)
            | Reason::Unsupported(_) => "check the reference's params".into(),
        }
    }
}
