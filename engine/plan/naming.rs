//! Names a run and its children get: generated names, Tekton's `ChildName`, namespaces.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The namespace runs get when none is set.
pub(super) const DEFAULT_NAMESPACE: &str = "default";

/// The run's name: `metadata.name`, or `generateName` plus a stand-in for the random suffix.
pub(super) fn run_name(meta: &ObjectMeta) -> String {
    match (&meta.name, &meta.generate_name) {
        (Some(n), _) if !n.is_empty() => n.clone(),
        (_, Some(g)) => format!("{g}xxxxx"),
        _ => "run".to_string(),
    }
}

/// Tekton's `kmeta.ChildName`, with FNV instead of MD5 for names over 63 characters.
pub fn child_name(parent: &str, suffix: &str) -> String {
    let full = format!("{parent}{suffix}");
    if full.len() <= 63 {
        return full;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parent.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let keep = 63usize.saturating_sub(suffix.len() + 16);
    let prefix: String = parent.chars().take(keep).collect();
    let mut name = format!("{prefix}{hash:016x}{suffix}");
    name.truncate(63);
    name.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

pub(super) fn namespace(meta: &ObjectMeta) -> String {
    meta.namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_names_fit_kubernetes_limits() {
        assert_eq!(child_name("pr", "-build"), "pr-build");
        let long = child_name(&"p".repeat(60), "-build");
        assert!(long.len() <= 63);
        assert!(long.ends_with("-build"));
    }

    #[test]
    fn generated_names_get_a_stand_in_suffix() {
        let meta = ObjectMeta {
            generate_name: Some("ci-".into()),
            ..ObjectMeta::default()
        };
        assert_eq!(run_name(&meta), "ci-xxxxx");
        assert_eq!(namespace(&meta), "default");
    }
}
