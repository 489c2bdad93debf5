//! Versions and version constraints as Tekton's hub resolver reads them (the grammar of
//! HashiCorp's go-version: `0.9`, `>= 0.5.0`, `>= 0.7.0, < 2.0.0`, `~> 0.9`), and the
//! mapping of a version to the form each hub stores.

use std::cmp::Ordering;

/// A version: numeric segments and an optional pre-release label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    segments: Vec<u64>,
    prerelease: Option<String>,
}

impl Version {
    /// Parses `1`, `1.2`, `1.2.3`, `v1.2.3-rc.1+meta`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let text = text.split('+').next().unwrap_or(text);
        let (core, prerelease) = match text.split_once('-') {
            Some((core, pre)) if !pre.is_empty() => (core, Some(pre.to_string())),
            Some(_) => return None,
            None => (text, None),
        };
        let segments: Option<Vec<u64>> = core.split('.').map(|s| s.parse().ok()).collect();
        let segments = segments?;
        if segments.is_empty() || segments.len() > 4 {
            return None;
        }
        Some(Version {
            segments,
            prerelease,
        })
    }

    /// True for `1.2.3-rc.1`.
    pub fn is_prerelease(&self) -> bool {
        self.prerelease.is_some()
    }

    fn segment(&self, i: usize) -> u64 {
        self.segments.get(i).copied().unwrap_or(0)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.segments.len().max(other.segments.len());
        for i in 0..n {
            match self.segment(i).cmp(&other.segment(i)) {
                Ordering::Equal => {}
                order => return order,
            }
        }
        match (&self.prerelease, &other.prerelease) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => a.cmp(b),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let core: Vec<String> = self.segments.iter().map(u64::to_string).collect();
        write!(f, "{}", core.join("."))?;
        if let Some(pre) = &self.prerelease {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Pessimistic,
}

/// A conjunction of `operator version` terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    terms: Vec<(Operator, Version)>,
}

impl Constraint {
    /// True when `text` uses constraint syntax (an operator or a list) rather than naming
    /// one version.
    pub fn is_constraint(text: &str) -> bool {
        text.contains(['<', '>', '=', '!', '~', ','])
    }

    /// Parses `>= 0.5.0`, `>= 0.7.0, < 2.0.0`, `~> 0.9`, `!= 0.3`.
    pub fn parse(text: &str) -> Option<Constraint> {
        let mut terms = Vec::new();
        for term in text.split(',') {
            let term = term.trim();
            let (operator, rest) = [
                ("~>", Operator::Pessimistic),
                (">=", Operator::Ge),
                ("<=", Operator::Le),
                ("!=", Operator::Ne),
                (">", Operator::Gt),
                ("<", Operator::Lt),
                ("=", Operator::Eq),
            ]
            .into_iter()
            .find_map(|(token, op)| term.strip_prefix(token).map(|rest| (op, rest)))
            .unwrap_or((Operator::Eq, term));
            terms.push((operator, Version::parse(rest)?));
        }
        Some(Constraint { terms })
    }

    /// True when `version` meets every term. A pre-release meets a constraint only when a
    /// term names a pre-release (go-version's rule).
    pub fn matches(&self, version: &Version) -> bool {
        if version.is_prerelease() && !self.terms.iter().any(|(_, v)| v.is_prerelease()) {
            return false;
        }
        self.terms.iter().all(|(operator, wanted)| match operator {
            Operator::Eq => version == wanted || version.cmp(wanted) == Ordering::Equal,
            Operator::Ne => version.cmp(wanted) != Ordering::Equal,
            Operator::Gt => version > wanted,
            Operator::Ge => version >= wanted,
            Operator::Lt => version < wanted,
            Operator::Le => version <= wanted,
            Operator::Pessimistic => {
                // `~> 1.2.3` is `>= 1.2.3, < 1.3`; `~> 1.2` is `>= 1.2, < 2`: every segment
                // but the last written must be equal.
                let fixed = wanted.segments.len().saturating_sub(1).max(1);
                version >= wanted && (0..fixed).all(|i| version.segment(i) == wanted.segment(i))
            }
        })
    }
}

/// The version as the hub of `hub_type` stores it: Artifact Hub uses full semver
/// (`0.9` → `0.9.0`), Tekton Hub `major.minor` (`0.9.1` → `0.9`).
pub fn for_hub(version: &str, hub_type: &str) -> String {
    let parts: Vec<&str> = version.split('.').collect();
    match hub_type {
        "artifact" if parts.len() == 2 => format!("{version}.0"),
        "tekton" if parts.len() > 2 => parts[..2].join("."),
        _ => version.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_compare_by_segments_padded_with_zeros() {
        assert!(v("0.10") > v("0.9.9"));
        assert_eq!(v("0.9").cmp(&v("0.9.0")), Ordering::Equal);
        assert!(v("1.0.0-rc1") < v("1.0.0"));
        assert_eq!(v("v1.2.3+build").to_string(), "1.2.3");
        assert_eq!(Version::parse("1.x"), None);
        assert_eq!(Version::parse("../1"), None);
    }

    #[test]
    fn constraints_follow_go_version() {
        let c = |s: &str| Constraint::parse(s).unwrap();
        assert!(c(">= 0.5.0").matches(&v("0.9.0")));
        assert!(!c(">= 0.5.0").matches(&v("0.4.1")));
        assert!(c(">= 0.7.0, < 2.0.0").matches(&v("1.9")));
        assert!(!c(">= 0.7.0, < 2.0.0").matches(&v("2.0.0")));
        assert!(c("~> 0.9").matches(&v("0.12.0")));
        assert!(!c("~> 0.9").matches(&v("1.0.0")));
        assert!(c("~> 0.9.1").matches(&v("0.9.5")));
        assert!(!c("~> 0.9.1").matches(&v("0.10.0")));
        assert!(c("!= 0.3").matches(&v("0.4")));
        assert!(c("0.9").matches(&v("0.9.0")));
        assert!(!c(">= 0.1").matches(&v("0.2.0-rc1")));
        assert_eq!(Constraint::parse(">= banana"), None);
        assert!(Constraint::is_constraint(">= 0.5.0"));
        assert!(!Constraint::is_constraint("0.5.0"));
    }

    #[test]
    fn each_hub_gets_its_version_form() {
        assert_eq!(for_hub("0.9", "artifact"), "0.9.0");
        assert_eq!(for_hub("0.9.1", "artifact"), "0.9.1");
        assert_eq!(for_hub("0.9.1", "tekton"), "0.9");
        assert_eq!(for_hub("0.9", "tekton"), "0.9");
    }
}
