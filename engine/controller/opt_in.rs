//! Which runs `adze controller` takes: those that opt in with a label, or every one (`--all`).
//!
//! A label rather than an annotation, so that the API server filters the watch
//! (`labelSelector`) and a run that does not opt in never even reaches the controller. The
//! child TaskRuns the controller creates for a PipelineRun carry the label too, so its own
//! TaskRun watch picks them up.

use std::collections::BTreeMap;

/// The label a run carries to be reconciled by adze: `adze.dev/controller: "true"`.
pub const OPT_IN_LABEL: &str = "adze.dev/controller";

/// The value of [`OPT_IN_LABEL`] that opts in.
pub const OPT_IN_VALUE: &str = "true";

/// Which runs are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    /// Only runs labelled [`OPT_IN_LABEL`]`=`[`OPT_IN_VALUE`] (the default: Tekton may run
    /// the others).
    #[default]
    OptedIn,
    /// Every run (`--all`), for clusters without Tekton.
    All,
}

impl Selection {
    /// The watch's `labelSelector`; `None` takes everything.
    pub fn label_selector(self) -> Option<String> {
        match self {
            Selection::OptedIn => Some(format!("{OPT_IN_LABEL}={OPT_IN_VALUE}")),
            Selection::All => None,
        }
    }

    /// True when a run with these labels is taken.
    pub fn takes(self, labels: Option<&BTreeMap<String, String>>) -> bool {
        match self {
            Selection::All => true,
            Selection::OptedIn => labels
                .and_then(|l| l.get(OPT_IN_LABEL))
                .is_some_and(|v| v == OPT_IN_VALUE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_label_opts_in_unless_all() {
        let labels = |v: &str| BTreeMap::from([(OPT_IN_LABEL.to_owned(), v.to_owned())]);
        assert!(Selection::OptedIn.takes(Some(&labels("true"))));
        assert!(!Selection::OptedIn.takes(Some(&labels("false"))));
        assert!(!Selection::OptedIn.takes(None));
        assert!(Selection::All.takes(None));
        assert_eq!(
            Selection::OptedIn.label_selector().as_deref(),
            Some("adze.dev/controller=true")
        );
        assert_eq!(Selection::All.label_selector(), None);
    }
}
