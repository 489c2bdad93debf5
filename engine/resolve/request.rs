//! What a resolver is asked for: the kind of object, the resolver's name, its params after
//! substitution, and where the reference was written (for error positions).

use crate::api::Kind;
use crate::diagnostic::Location;

/// One resolver param, after substitution (`$(params.x)` already replaced).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct ResolverParam {
    /// The param's name, as written.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// Where a reference was written: its source position and its object path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefSite {
    /// The position of the reference (its `resolver:` value), when known.
    pub location: Option<Location>,
    /// The object path of the reference, e.g. `spec.tasks[0].taskRef`.
    pub field: String,
    /// The object holding it, as `Kind/name`.
    pub object: String,
    /// The position of each param's value, by param name, for errors about one param.
    pub param_locations: Vec<(String, Location)>,
}

impl std::fmt::Display for RefSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{}:{}:{} ({})", l.path, l.line, l.column, self.field),
            None if self.object.is_empty() => write!(f, "{}", self.field),
            None => write!(f, "{} {}", self.object, self.field),
        }
    }
}

/// A remote reference to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRequest {
    /// What the reference must resolve to: Task, Pipeline or StepAction.
    pub kind: Kind,
    /// The resolver's name (`git`, `http`, `bundles`, `hub`, `cluster`, …).
    pub resolver: String,
    /// The params after substitution, in the order written.
    pub params: Vec<ResolverParam>,
    /// Where the reference was written.
    pub site: RefSite,
}

impl ResolveRequest {
    /// The value of param `name` (exact name; Tekton rejects names differing only in case).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }

    /// The params sorted by name: the form cache keys and lookups use.
    pub fn sorted_params(&self) -> Vec<ResolverParam> {
        let mut params = self.params.clone();
        params.sort();
        params
    }
}
