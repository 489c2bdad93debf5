//! Image maps: `--image-map FROM=TO` and the configuration's `imageMap`, which replace the
//! image references of steps and sidecars before anything runs (a local mirror for
//! `gcr.io/...`, a locally built image for a published one).
//!
//! # Design
//!
//! A rule's FROM takes one of three forms, told apart by how it is written:
//!
//! - ends with `/` (`gcr.io/`, `gcr.io/tekton-releases/`): a **prefix** of registry and
//!   repository path; the rest of the reference (deeper path, tag, digest) is kept after TO,
//!   which must end with `/` too;
//! - a repository without tag or digest (`gcr.io/foo/bar`, `alpine`): that **repository**
//!   with any tag or digest, which is kept after TO (a repository as well);
//! - a reference with a tag or a digest (`gcr.io/foo/bar:1.2`): that **exact** image,
//!   replaced by TO whatever TO is.
//!
//! Matching compares references as Docker names them: `alpine:3` is
//! `docker.io/library/alpine:3` and `me/tool` is `docker.io/me/tool`, so `docker.io/` maps
//! Docker Hub images however they are written. Among the rules that match, the one with the
//! longest (normalized) FROM wins, so an exact rule beats its repository's, which beats a
//! registry prefix. A reference no rule matches is left as written.
//!
//! # Invariants
//!
//! - A mapped reference is TO followed by exactly what FROM did not cover: a digest is
//!   never dropped or changed (a mirror serves the same content under it).
//! - Two rules with the same normalized FROM cannot both apply: [`ImageMap::with`] keeps the
//!   later one, which is how a flag replaces the configuration's rule.
//!
//! # Not yet
//!
//! - adze's own images under `--executor kubernetes` (`--entrypoint-image`, `--nop-image`)
//!   are not mapped: they have their own flags.

use std::fmt;

/// How a rule's FROM matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// A registry and path prefix, written with a trailing `/`.
    Prefix,
    /// A repository with any tag or digest.
    Repository,
    /// One reference, tag or digest included.
    Exact,
}

/// One `FROM=TO` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRule {
    /// FROM as written.
    pub from: String,
    /// TO as written.
    pub to: String,
    /// How FROM matches.
    pub kind: RuleKind,
    /// FROM as Docker names it (`docker.io/library/` added where implied).
    normalized: String,
}

impl ImageRule {
    /// A rule, checked: both sides non-empty and of forms that fit together.
    pub fn new(from: &str, to: &str) -> Result<ImageRule, String> {
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty() || to.is_empty() {
            return Err(format!(
                "an image map needs FROM and TO, got \"{from}={to}\"; write it like gcr.io/=localhost:5000/"
            ));
        }
        if let Some(bad) = [from, to]
            .into_iter()
            .find(|s| s.contains(char::is_whitespace))
        {
            return Err(format!("an image reference has no spaces, got \"{bad}\""));
        }
        let kind = if from.ends_with('/') {
            RuleKind::Prefix
        } else if has_tag_or_digest(from) {
            RuleKind::Exact
        } else {
            RuleKind::Repository
        };
        match kind {
            RuleKind::Prefix if !to.ends_with('/') => {
                return Err(format!(
                    "\"{from}\" is a prefix (it ends with /), so \"{to}\" must be one too: write \"{to}/\""
                ))
            }
            RuleKind::Repository if to.ends_with('/') || has_tag_or_digest(to) => {
                return Err(format!(
                    "\"{from}\" is a repository (any tag or digest of it is kept), so \"{to}\" must be a \
                     repository without tag, digest or trailing /; to map one image, give FROM its tag"
                ))
            }
            RuleKind::Exact if to.ends_with('/') => {
                return Err(format!(
                    "\"{from}\" is one image, so \"{to}\" must be one image, not a prefix ending with /"
                ))
            }
            _ => {}
        }
        let normalized = match kind {
            RuleKind::Prefix => normalize_prefix(from),
            _ => normalize(from),
        };
        Ok(ImageRule {
            from: from.to_owned(),
            to: to.to_owned(),
            kind,
            normalized,
        })
    }

    /// Parses `FROM=TO` (`--image-map`).
    pub fn parse(text: &str) -> Result<ImageRule, String> {
        let (from, to) = text
            .split_once('=')
            .ok_or_else(|| format!("expected FROM=TO, got \"{text}\""))?;
        ImageRule::new(from, to)
    }

    /// True when both rules match the same FROM (as Docker names it).
    pub fn same_from(&self, other: &ImageRule) -> bool {
        self.normalized == other.normalized
    }

    /// The reference this rule makes of `normalized` (a normalized reference), if it matches.
    fn apply(&self, normalized: &str) -> Option<String> {
        let rest = normalized.strip_prefix(self.normalized.as_str())?;
        let matches = match self.kind {
            RuleKind::Prefix => !rest.is_empty(),
            RuleKind::Repository => rest.is_empty() || rest.starts_with([':', '@']),
            RuleKind::Exact => rest.is_empty(),
        };
        matches.then(|| format!("{}{rest}", self.to))
    }
}

impl fmt::Display for ImageRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.from, self.to)
    }
}

/// The rules applied to every step's and sidecar's image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageMap {
    rules: Vec<ImageRule>,
}

impl ImageMap {
    /// The map of `rules`; of two rules with the same FROM (as Docker names it), the later wins.
    pub fn with(rules: impl IntoIterator<Item = ImageRule>) -> ImageMap {
        let mut map = ImageMap::default();
        for rule in rules {
            map.rules.retain(|r| !r.same_from(&rule));
            map.rules.push(rule);
        }
        map
    }

    /// True when no rule is set.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> &[ImageRule] {
        &self.rules
    }

    /// What `image` becomes: the longest matching rule's result, or `None` when none matches.
    pub fn map(&self, image: &str) -> Option<String> {
        if self.rules.is_empty() || image.is_empty() {
            return None;
        }
        let normalized = normalize(image);
        self.rules
            .iter()
            .filter_map(|r| r.apply(&normalized).map(|m| (r.normalized.len(), m)))
            .max_by_key(|(len, _)| *len)
            .map(|(_, mapped)| mapped)
    }

    /// Replaces `image` in place when a rule matches it.
    pub fn apply(&self, image: &mut String) {
        if let Some(mapped) = self.map(image) {
            *image = mapped;
        }
    }
}

/// Whether the last path component carries a `:tag`, or the reference an `@digest`.
fn has_tag_or_digest(reference: &str) -> bool {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    reference.contains('@') || last.contains(':')
}

/// Docker's rule: the first component names a registry when it has a `.` or a `:` or is
/// `localhost`; otherwise the image is on Docker Hub.
fn is_registry(component: &str) -> bool {
    component.contains(['.', ':']) || component == "localhost"
}

/// A reference as Docker names it: `alpine` → `docker.io/library/alpine`.
fn normalize(reference: &str) -> String {
    match reference.split_once('/') {
        Some((first, _)) if is_registry(first) => reference.to_owned(),
        Some(_) => format!("docker.io/{reference}"),
        None => format!("docker.io/library/{reference}"),
    }
}

/// A prefix as Docker names it: `me/` → `docker.io/me/`; `gcr.io/` stays.
fn normalize_prefix(prefix: &str) -> String {
    let first = prefix.split('/').next().unwrap_or(prefix);
    if is_registry(first) {
        prefix.to_owned()
    } else {
        format!("docker.io/{prefix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(rules: &[&str]) -> ImageMap {
        ImageMap::with(rules.iter().map(|r| ImageRule::parse(r).unwrap()))
    }

    #[test]
    fn a_registry_prefix_keeps_the_path_tag_and_digest() {
        let m = map(&["gcr.io/foo/=localhost:5000/"]);
        assert_eq!(
            m.map("gcr.io/foo/bar:1.2").as_deref(),
            Some("localhost:5000/bar:1.2")
        );
        let digest = "gcr.io/foo/bar@sha256:0123456789abcdef";
        assert_eq!(
            m.map(digest).as_deref(),
            Some("localhost:5000/bar@sha256:0123456789abcdef")
        );
        assert_eq!(
            m.map("gcr.io/foo/deep/er:1").as_deref(),
            Some("localhost:5000/deep/er:1")
        );
        // A prefix ends at a `/`: gcr.io/foobar is another repository.
        assert_eq!(m.map("gcr.io/foobar/x:1"), None);
        assert_eq!(m.map("quay.io/foo/bar:1.2"), None);
    }

    #[test]
    fn a_repository_matches_every_tag_and_digest_of_it_only() {
        let m = map(&["gcr.io/foo/bar=mirror.local/bar"]);
        assert_eq!(
            m.map("gcr.io/foo/bar:1.2").as_deref(),
            Some("mirror.local/bar:1.2")
        );
        assert_eq!(
            m.map("gcr.io/foo/bar@sha256:ab").as_deref(),
            Some("mirror.local/bar@sha256:ab")
        );
        assert_eq!(m.map("gcr.io/foo/bar").as_deref(), Some("mirror.local/bar"));
        assert_eq!(m.map("gcr.io/foo/barn:1"), None);
        assert_eq!(m.map("gcr.io/foo/bar/sub:1"), None);
    }

    #[test]
    fn an_exact_rule_matches_that_reference_only() {
        let m = map(&["registry.example/tools/sh:1=adze-test/busybox:latest"]);
        assert_eq!(
            m.map("registry.example/tools/sh:1").as_deref(),
            Some("adze-test/busybox:latest")
        );
        assert_eq!(m.map("registry.example/tools/sh:2"), None);
        assert_eq!(m.map("registry.example/tools/sh"), None);
    }

    #[test]
    fn the_longest_match_wins_whatever_the_order() {
        let m = map(&[
            "gcr.io/=mirror/",
            "gcr.io/foo/bar:1.2=pinned:1",
            "gcr.io/foo/=team/",
        ]);
        assert_eq!(m.map("gcr.io/foo/bar:1.2").as_deref(), Some("pinned:1"));
        assert_eq!(m.map("gcr.io/foo/bar:1.3").as_deref(), Some("team/bar:1.3"));
        assert_eq!(m.map("gcr.io/other/x").as_deref(), Some("mirror/other/x"));
    }

    #[test]
    fn docker_hub_names_match_however_they_are_written() {
        let m = map(&["docker.io/=mirror.local/hub/"]);
        assert_eq!(
            m.map("alpine:3").as_deref(),
            Some("mirror.local/hub/library/alpine:3")
        );
        assert_eq!(
            m.map("me/tool").as_deref(),
            Some("mirror.local/hub/me/tool")
        );
        let m = map(&["alpine=mirror.local/alpine", "me/=mirror.local/me/"]);
        assert_eq!(
            m.map("docker.io/library/alpine:3").as_deref(),
            Some("mirror.local/alpine:3")
        );
        assert_eq!(
            m.map("docker.io/me/tool:1").as_deref(),
            Some("mirror.local/me/tool:1")
        );
        // A registry with a port is a registry, not a Hub user with a tag.
        let m = map(&["localhost:5000/=mirror/"]);
        assert_eq!(m.map("localhost:5000/x:1").as_deref(), Some("mirror/x:1"));
        assert_eq!(m.map("localhost/x:1"), None);
    }

    #[test]
    fn a_later_rule_for_the_same_from_replaces_the_earlier() {
        let m = map(&["gcr.io/=config/", "gcr.io/=flag/"]);
        assert_eq!(m.rules().len(), 1);
        assert_eq!(m.map("gcr.io/x:1").as_deref(), Some("flag/x:1"));
    }

    #[test]
    fn mismatched_forms_are_refused_with_the_fix() {
        assert_eq!(
            ImageRule::parse("gcr.io/=localhost:5000").unwrap_err(),
            "\"gcr.io/\" is a prefix (it ends with /), so \"localhost:5000\" must be one too: \
             write \"localhost:5000/\""
        );
        assert!(ImageRule::parse("gcr.io/foo/bar=mirror/bar:1")
            .unwrap_err()
            .contains("must be a repository without tag"));
        assert!(ImageRule::parse("gcr.io/foo/bar:1=mirror/")
            .unwrap_err()
            .contains("must be one image"));
        assert_eq!(
            ImageRule::parse("gcr.io").unwrap_err(),
            "expected FROM=TO, got \"gcr.io\""
        );
        assert!(ImageRule::parse("=x").is_err());
        assert!(ImageRule::parse("a b=c").is_err());
    }

    #[test]
    fn nothing_maps_without_rules_or_an_image() {
        assert_eq!(ImageMap::default().map("alpine"), None);
        assert_eq!(map(&["docker.io/=m/"]).map(""), None);
    }
}
