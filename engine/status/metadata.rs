//! `metadata` of a rendered run: the input's labels and annotations under the identity the
//! run got when it started.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Value};

use super::time::rfc3339;
use super::{to_json, MapExt, RunIdentity};

/// `name, generateName, namespace, uid, creationTimestamp, labels, annotations`.
///
/// `label` is the label Tekton's controller adds (`tekton.dev/pipeline`, `tekton.dev/task`);
/// like the controller, it overrides a user label of the same key.
pub(super) fn render(meta: &ObjectMeta, id: &RunIdentity, label: Option<(&str, &str)>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), id.name.as_str().into());
    // Kept so the user can see where the name came from; it is never used as the name.
    m.put_str("generateName", meta.generate_name.as_deref().unwrap_or(""));
    m.insert("namespace".into(), id.namespace.as_str().into());
    m.insert("uid".into(), id.uid.as_str().into());
    m.insert("creationTimestamp".into(), rfc3339(id.created).into());

    let mut labels: BTreeMap<String, String> = meta.labels.clone().unwrap_or_default();
    if let Some((key, value)) = label {
        labels.insert(key.to_owned(), value.to_owned());
    }
    if !labels.is_empty() {
        m.insert("labels".into(), to_json(&labels));
    }
    if let Some(annotations) = meta.annotations.as_ref().filter(|a| !a.is_empty()) {
        m.insert("annotations".into(), to_json(annotations));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Timestamp;
    use serde_json::json;

    fn id() -> RunIdentity {
        RunIdentity {
            name: "build-x7k2p".into(),
            namespace: "ci".into(),
            uid: "0b7e6c1e-2f44-4c8e-9d55-1f0a2a6a9c01".into(),
            created: Timestamp(1_740_906_000_000),
        }
    }

    #[test]
    fn the_identity_names_the_run_and_generate_name_is_kept_beside_it() {
        let meta = ObjectMeta {
            generate_name: Some("build-".into()),
            ..ObjectMeta::default()
        };
        assert_eq!(
            render(&meta, &id(), None),
            json!({
                "name": "build-x7k2p",
                "generateName": "build-",
                "namespace": "ci",
                "uid": "0b7e6c1e-2f44-4c8e-9d55-1f0a2a6a9c01",
                "creationTimestamp": "2025-03-02T09:00:00Z",
            })
        );
    }

    #[test]
    fn the_controller_label_joins_the_input_labels_and_wins_over_them() {
        let meta = ObjectMeta {
            name: Some("ignored-if-the-identity-differs".into()),
            labels: Some(
                [
                    ("app".to_owned(), "web".to_owned()),
                    ("tekton.dev/task".to_owned(), "user-value".to_owned()),
                ]
                .into(),
            ),
            annotations: Some([("note".to_owned(), "hi".to_owned())].into()),
            ..ObjectMeta::default()
        };
        let m = render(&meta, &id(), Some(("tekton.dev/task", "go-build")));
        assert_eq!(m["name"], "build-x7k2p");
        assert_eq!(
            m["labels"],
            json!({"app": "web", "tekton.dev/task": "go-build"})
        );
        assert_eq!(m["annotations"], json!({"note": "hi"}));
    }

    #[test]
    fn empty_labels_and_annotations_are_left_out() {
        let meta = ObjectMeta {
            labels: Some(BTreeMap::new()),
            annotations: Some(BTreeMap::new()),
            ..ObjectMeta::default()
        };
        let m = render(&meta, &id(), None);
        assert!(m.get("labels").is_none());
        assert!(m.get("annotations").is_none());
    }
}
