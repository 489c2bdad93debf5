//! Typed decoding of a document, reporting every unknown field and the first type error
//! with its object path, as Tekton's strict admission decoding does.

use serde::de::DeserializeOwned;

use super::node_de::NodeDeserializer;
use super::yaml::Node;

/// The result of decoding one document.
pub struct Decoded<T> {
    /// The object, if it decoded.
    pub value: Option<T>,
    /// Object paths of fields the types do not know.
    pub unknown_fields: Vec<String>,
    /// The first type error: path and message.
    pub type_error: Option<(String, String)>,
}

/// Decodes a YAML tree into `T`, collecting unknown fields instead of dropping them.
pub fn decode<T: DeserializeOwned>(node: &Node) -> Decoded<T> {
    let mut unknown = Vec::new();
    let mut on_ignored = |path: serde_ignored::Path<'_>| unknown.push(ignored_path(&path));
    let result = {
        let ignored = serde_ignored::Deserializer::new(NodeDeserializer(node), &mut on_ignored);
        serde_path_to_error::deserialize::<_, T>(ignored)
    };
    match result {
        Ok(v) => Decoded {
            value: Some(v),
            unknown_fields: unknown,
            type_error: None,
        },
        Err(e) => {
            let path = error_path(e.path());
            let message = e.into_inner().to_string();
            Decoded {
                value: None,
                unknown_fields: unknown,
                type_error: Some((path, message)),
            }
        }
    }
}

fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => join(&ignored_path(parent), key),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

fn error_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => out = join(&out, key),
            Segment::Enum { variant } => out = join(&out, variant),
            Segment::Unknown => {}
        }
    }
    out
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Task;
    use crate::load::yaml::parse_stream;

    fn tree(text: &str) -> Node {
        parse_stream(text).remove(0).unwrap().root.unwrap()
    }

    #[test]
    fn unknown_fields_are_reported_everywhere() {
        let v = tree(
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t, lables: {}}\nspec:\n  steps:\n  - {name: a, image: x, scirpt: echo, env: [{name: A, valeu: b}]}\n",
        );
        let d = decode::<Task>(&v);
        assert!(d.value.is_some());
        assert_eq!(
            d.unknown_fields,
            vec![
                "metadata.lables",
                "spec.steps[0].scirpt",
                "spec.steps[0].env[0].valeu"
            ]
        );
    }

    #[test]
    fn type_errors_carry_their_path() {
        let v = tree("spec:\n  steps:\n  - {name: a, command: ls}\n");
        let d = decode::<Task>(&v);
        let (path, msg) = d.type_error.unwrap();
        assert_eq!(path, "spec.steps[0].command");
        assert!(msg.contains("expected a sequence"), "{msg}");
    }
}
