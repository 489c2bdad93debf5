//! The minor versions an upgrade steps through.
//!
//! Kubernetes supports upgrading kube-apiserver one minor version at a time, never skipping
//! one, even on a single-instance control plane
//! (<https://kubernetes.io/releases/version-skew-policy/#supported-component-upgrade-order>),
//! and does not support minor downgrades. So the plan from `1.28.5` to `1.31` is
//! `1.29`, `1.30`, `1.31`; each step names a minor release, whose latest patch the operator
//! installs. A patch upgrade within one minor needs no step.

use serde::Serialize;

use super::version::{minor_release, Version, VersionError};

/// A planned upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The version the cluster runs, as given.
    pub from: String,
    /// The version to reach, as given.
    pub to: String,
    /// The minor releases to upgrade to, in order (`1.29`, `1.30`, ...); empty when `from`
    /// and `to` share a minor.
    pub steps: Vec<String>,
}

/// Why there is no plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A version does not parse.
    #[error("--{flag}: {source}")]
    Version {
        /// `from` or `to`.
        flag: &'static str,
        /// The parse error.
        source: VersionError,
    },
    /// The target is an older minor.
    #[error("{to} is older than {from}: Kubernetes does not support downgrading to an older minor version; restore the cluster from a backup (an etcd snapshot) taken before the upgrade instead")]
    Downgrade {
        /// The current version.
        from: String,
        /// The target.
        to: String,
    },
    /// More steps than allowed.
    #[error("upgrading from {from} to {to} takes {steps} minor upgrades, more than --max-steps {max}: raise --max-steps or choose a nearer target")]
    TooManySteps {
        /// The current version.
        from: String,
        /// The target.
        to: String,
        /// Steps needed.
        steps: usize,
        /// The limit.
        max: usize,
    },
}

/// Plans the upgrade from `from` to `to`, refusing more than `max_steps` steps when given.
pub fn plan(from: &str, to: &str, max_steps: Option<usize>) -> Result<Plan, PlanError> {
    let parse =
        |flag, text| Version::parse(text).map_err(|source| PlanError::Version { flag, source });
    let (start, target) = (parse("from", from)?, parse("to", to)?);
    if target.minor < start.minor {
        return Err(PlanError::Downgrade {
            from: start.text,
            to: target.text,
        });
    }
    let steps: Vec<String> = (start.minor + 1..=target.minor)
        .map(minor_release)
        .collect();
    if let Some(max) = max_steps.filter(|max| steps.len() > *max) {
        return Err(PlanError::TooManySteps {
            from: start.text,
            to: target.text,
            steps: steps.len(),
            max,
        });
    }
    Ok(Plan {
        from: start.text,
        to: target.text,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(from: &str, to: &str) -> Vec<String> {
        plan(from, to, None).expect("a plan").steps
    }

    #[test]
    fn every_minor_between_is_a_step_in_order() {
        assert_eq!(steps("1.28.5", "1.31"), ["1.29", "1.30", "1.31"]);
        assert_eq!(steps("v1.29.10-eks-1", "v1.31.4"), ["1.30", "1.31"]);
        assert_eq!(steps("1.30.4+k3s1", "1.31.0+k3s1"), ["1.31"]);
        assert_eq!(steps("1.9.0", "1.11"), ["1.10", "1.11"]);
    }

    #[test]
    fn the_same_minor_needs_no_step_even_for_another_patch() {
        assert!(steps("1.30.1", "1.30.5").is_empty());
        assert!(steps("1.30.5", "1.30").is_empty());
    }

    #[test]
    fn downgrades_garbage_and_long_paths_are_refused_with_a_reason() {
        let errors = [
            plan("1.31.0", "1.30.9", None),
            plan("1.31", "banana", None),
            plan("", "1.31", None),
            plan("1.25.0", "1.31", Some(3)),
        ]
        .map(|r| r.expect_err("refused").to_string());
        insta::assert_snapshot!(errors.join("\n"));
        assert_eq!(
            plan("1.28.0", "1.31", Some(3))
                .expect("3 steps")
                .steps
                .len(),
            3,
            "exactly --max-steps is allowed"
        );
    }

    #[test]
    fn the_json_shape_is_from_to_and_steps() {
        insta::assert_json_snapshot!(plan("v1.28.5", "1.31", None).expect("a plan"), @r#"
        {
          "from": "v1.28.5",
          "to": "1.31",
          "steps": [
            "1.29",
            "1.30",
            "1.31"
          ]
        }
        "#);
    }
}
