//! Kubernetes version strings as clusters and providers print them.
//!
//! # Design
//!
//! Only the minor version matters to the skew policy and to upgrade plans, but the text is
//! kept as given so messages show what the cluster reported (`v1.30.4-eks-1234`). Accepted:
//! an optional leading `v`, `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`, then an optional suffix
//! starting with `-` (pre-release or provider build: `-rc.1`, `-eks-1234`, `-gke.100`) or
//! `+` (build metadata: `+k3s1`, `+rke2r1`). Leading and trailing whitespace is ignored.
//!
//! # Invariants
//!
//! - The major version is 1: every Kubernetes release so far is 1.x, and a minor distance
//!   across majors has no meaning in the skew policy, so anything else is refused rather
//!   than compared wrongly.

use std::fmt;

/// A parsed Kubernetes version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The minor version (`30` in `1.30.4`).
    pub minor: u32,
    /// The patch version, when given.
    pub patch: Option<u32>,
    /// The text as given, trimmed.
    pub text: String,
}

/// Why a string is not a Kubernetes version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{text}\" is not a Kubernetes version: {why} (expected MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 1.31, 1.30.4, v1.30.4-eks-1234 or 1.30.4+k3s1)")]
pub struct VersionError {
    /// The text that was refused.
    pub text: String,
    /// What is wrong with it.
    pub why: String,
}

impl Version {
    /// Parses `text` (see the module documentation for the accepted forms).
    pub fn parse(text: &str) -> Result<Version, VersionError> {
        let trimmed = text.trim();
        let fail = |why: &str| VersionError {
            text: trimmed.to_owned(),
            why: why.to_owned(),
        };
        if trimmed.is_empty() {
            return Err(fail("it is empty"));
        }
        let body = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let (numbers, suffix) = match body.find(['-', '+']) {
            Some(at) => (&body[..at], Some(&body[at + 1..])),
            None => (body, None),
        };
        if let Some(suffix) = suffix {
            if suffix.is_empty() {
                return Err(fail("the suffix after `-` or `+` is empty"));
            }
            if !suffix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
            {
                return Err(fail(
                    "its suffix may only hold letters, digits, `.`, `-`, `+` and `_`",
                ));
            }
        }
        let parts: Vec<&str> = numbers.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(fail(
                "it needs a major and a minor version, and at most a patch",
            ));
        }
        let mut values = Vec::with_capacity(3);
        for (part, what) in parts.iter().zip(["major", "minor", "patch"]) {
            if part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()) {
                return Err(fail(&format!("its {what} version is not a number")));
            }
            let value = part
                .parse::<u32>()
                .map_err(|_| fail(&format!("its {what} version is too large")))?;
            values.push(value);
        }
        if values[0] != 1 {
            return Err(fail("every Kubernetes release has major version 1"));
        }
        Ok(Version {
            minor: values[1],
            patch: values.get(2).copied(),
            text: trimmed.to_owned(),
        })
    }

    /// The minor release, as `1.30`.
    pub fn minor_release(&self) -> String {
        minor_release(self.minor)
    }
}

/// The release name of minor version `minor`, as `1.30`.
pub fn minor_release(minor: u32) -> String {
    format!("1.{minor}")
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_clusters_and_providers_print_parse_to_their_minor_and_patch() {
        for (text, minor, patch) in [
            ("1.30.4", 30, Some(4)),
            ("v1.30.4", 30, Some(4)),
            ("v1.30.4-eks-1234", 30, Some(4)),
            ("v1.29.8-gke.1031000", 29, Some(8)),
            ("1.30.4+k3s1", 30, Some(4)),
            ("v1.28.15+rke2r1", 28, Some(15)),
            ("1.31", 31, None),
            ("v1.31", 31, None),
            ("1.32.0-rc.1", 32, Some(0)),
            (" 1.24.17 \n", 24, Some(17)),
        ] {
            let v = Version::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((v.minor, v.patch), (minor, patch), "{text}");
            assert_eq!(v.text, text.trim());
        }
    }

    #[test]
    fn garbage_is_refused_saying_what_is_wrong() {
        for (text, why) in [
            ("", "it is empty"),
            (
                "latest",
                "it needs a major and a minor version, and at most a patch",
            ),
            ("x.30", "its major version is not a number"),
            (
                "1",
                "it needs a major and a minor version, and at most a patch",
            ),
            (
                "1.30.4.5",
                "it needs a major and a minor version, and at most a patch",
            ),
            ("1.x", "its minor version is not a number"),
            ("1.30.", "its patch version is not a number"),
            ("vv1.30", "its major version is not a number"),
            ("1.30.4-", "the suffix after `-` or `+` is empty"),
            (
                "1.30.4-eks 12",
                "its suffix may only hold letters, digits, `.`, `-`, `+` and `_`",
            ),
            ("2.0.1", "every Kubernetes release has major version 1"),
            ("1.99999999999", "its minor version is too large"),
        ] {
            let err = Version::parse(text).expect_err(text);
            assert_eq!(err.why, why, "{text}");
        }
    }

    #[test]
    fn the_error_message_names_the_text_and_the_forms_accepted() {
        insta::assert_snapshot!(
            Version::parse("v1.x").expect_err("garbage").to_string(),
            @r#""v1.x" is not a Kubernetes version: its minor version is not a number (expected MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 1.31, 1.30.4, v1.30.4-eks-1234 or 1.30.4+k3s1)"#
        );
    }
}
