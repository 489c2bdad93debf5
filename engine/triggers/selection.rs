//! Which Trigger objects a listener or a trigger group selects (spec §2.3).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::api::{NamespaceSelector, Trigger};
use super::catalog::{Catalog, Entry};

/// A label selector that cannot be evaluated (the listener answers 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector: {0}")]
pub struct SelectorError(pub String);

/// Trigger objects selected by `namespaces` and `labels`, for a listener in `listener_ns`:
/// `["*"]` → every namespace; listed namespaces in list order; a label selector alone → the
/// listener namespace; neither → none. Within a namespace, in load order.
pub fn select<'a>(
    catalog: &'a Catalog,
    listener_ns: &str,
    namespaces: &NamespaceSelector,
    labels: Option<&LabelSelector>,
) -> Result<Vec<&'a Entry<Trigger>>, SelectorError> {
    let names = &namespaces.match_names;
    let scopes: Vec<Option<&str>> = if names.len() == 1 && names[0] == "*" {
        vec![None]
    } else if !names.is_empty() {
        names.iter().map(|n| Some(n.as_str())).collect()
    } else if labels.is_some() {
        vec![Some(listener_ns)]
    } else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for scope in scopes {
        let mut in_scope: Vec<&Entry<Trigger>> = catalog
            .triggers
            .iter()
            .filter(|t| scope.is_none_or(|ns| t.namespace == ns))
            .collect();
        if scope.is_none() {
            in_scope.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        }
        for t in in_scope {
            let empty = BTreeMap::new();
            let object_labels = t.object.metadata.labels.as_ref().unwrap_or(&empty);
            if labels.map_or(Ok(true), |s| matches(s, object_labels))? {
                out.push(t);
            }
        }
    }
    Ok(out)
}

/// Whether `labels` satisfy a Kubernetes label selector (an empty selector matches all).
pub fn matches(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> Result<bool, SelectorError> {
    for (k, v) in selector.match_labels.iter().flatten() {
        if labels.get(k) != Some(v) {
            return Ok(false);
        }
    }
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or(&[]);
        let value = labels.get(&e.key);
        let ok = match e.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Err(SelectorError(format!(
                    "{}: for 'in', 'notin' operators, values set can't be empty",
                    e.key
                )))
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Err(SelectorError(format!(
                    "{}: values set must be empty for exists and does not exist",
                    e.key
                )))
            }
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            other => {
                return Err(SelectorError(format!(
                    "{other:?} is not a valid label selector operator"
                )))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Bundle, Origin};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn catalog() -> Catalog {
        let t = |name: &str, ns: &str, team: &str| {
            format!("apiVersion: triggers.tekton.dev/v1beta1\nkind: Trigger\nmetadata: {{name: {name}, namespace: {ns}, labels: {{team: {team}}}}}\nspec:\n  template: {{spec: {{resourcetemplates: [{{apiVersion: v1, kind: ConfigMap}}]}}}}\n---\n")
        };
        let text = [
            t("b", "ci", "web"),
            t("a", "ci", "api"),
            t("c", "dev", "web"),
            t("d", "ops", "web"),
        ]
        .concat();
        let mut bundle = Bundle::new();
        bundle.add_source("t.yaml", text, Origin::Input);
        let (c, d) = Catalog::load(&bundle, "default");
        assert!(d.is_empty(), "{d:?}");
        c
    }

    fn names(v: Vec<&Entry<Trigger>>) -> Vec<String> {
        v.iter()
            .map(|e| format!("{}/{}", e.namespace, e.name))
            .collect()
    }

    fn web() -> LabelSelector {
        LabelSelector {
            match_labels: Some([("team".to_string(), "web".to_string())].into()),
            ..Default::default()
        }
    }

    /// C07.
    #[test]
    fn namespaces_and_labels() {
        let c = catalog();
        let ns = |n: &[&str]| NamespaceSelector {
            match_names: n.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            names(select(&c, "ci", &ns(&[]), None).unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(
            names(select(&c, "ci", &ns(&[]), Some(&web())).unwrap()),
            ["ci/b"]
        );
        assert_eq!(
            names(select(&c, "ci", &ns(&[]), Some(&LabelSelector::default())).unwrap()),
            ["ci/b", "ci/a"]
        );
        assert_eq!(
            names(select(&c, "x", &ns(&["*"]), Some(&web())).unwrap()),
            ["ci/b", "dev/c", "ops/d"]
        );
        assert_eq!(
            names(select(&c, "x", &ns(&["ops", "ci"]), None).unwrap()),
            ["ops/d", "ci/b", "ci/a"]
        );
    }

    #[test]
    fn match_expressions() {
        let labels: BTreeMap<String, String> = [("team".to_string(), "web".to_string())].into();
        let expr = |op: &str, values: &[&str]| LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "team".into(),
                operator: op.into(),
                values: Some(values.iter().map(|s| s.to_string()).collect()),
            }]),
            ..Default::default()
        };
        assert_eq!(matches(&expr("In", &["web", "api"]), &labels), Ok(true));
        assert_eq!(matches(&expr("NotIn", &["web"]), &labels), Ok(false));
        assert_eq!(matches(&expr("Exists", &[]), &labels), Ok(true));
        assert_eq!(matches(&expr("DoesNotExist", &[]), &labels), Ok(false));
        assert!(matches(&expr("In", &[]), &labels).is_err());
        assert!(matches(&expr("Near", &["x"]), &labels).is_err());
    }
}
