//! Typed decoding straight from the position tree, without building a JSON value first.
//!
//! Scalars resolve exactly as [`Node::to_json`] resolves them (YAML 1.2 core schema), so
//! decoding through this deserializer and through JSON give the same objects and errors;
//! skipping the intermediate value halves the allocations of loading large files.

use serde::de::value::{Error, StringDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::yaml::{key_text, Node, NodeKind, Style};

/// Deserializes a typed value from a [`Node`].
#[derive(Clone, Copy)]
pub struct NodeDeserializer<'a>(pub &'a Node);

fn is_null(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Scalar(s, Style::Plain) if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            NodeKind::Scalar(text, style) => match self.0.to_json() {
                serde_json::Value::Null => visitor.visit_unit(),
                serde_json::Value::Bool(b) => visitor.visit_bool(b),
                serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    (Some(i), _, _) => visitor.visit_i64(i),
                    (_, Some(u), _) => visitor.visit_u64(u),
                    (_, _, Some(f)) => visitor.visit_f64(f),
                    _ => visitor.visit_str(text),
                },
                _ => {
                    let _ = style;
                    visitor.visit_str(text)
                }
            },
            NodeKind::Seq(items) => visitor.visit_seq(Items(items.iter())),
            NodeKind::Map(entries) => visitor.visit_map(Entries {
                iter: entries.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if is_null(self.0) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct Items<'a>(std::slice::Iter<'a, Node>);

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|n| seed.deserialize(NodeDeserializer(n)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'a> {
    iter: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((k, v)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some(v);
        let key: StringDeserializer<Error> = key_text(k).into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("value requested before key"))?;
        seed.deserialize(NodeDeserializer(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Pipeline, Task};
    use crate::load::yaml::parse_stream;

    fn both<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(text: &str) {
        let root = parse_stream(text).remove(0).unwrap().root.unwrap();
        both_root::<T>(&root);
    }

    #[test]
    fn decodes_like_json() {
        both::<Task>(
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t, labels: {a: '1'}}\nspec:\n  params: [{name: n, default: 3}, {name: a, type: array, default: [x, ~]}]\n  steps:\n  - image: x\n    timeout: ~\n    computeResources: {limits: {cpu: 500m, memory: 1Gi}}\n    env: [{name: A, value: 'b'}]\n",
        );
        both::<Pipeline>(
            "spec:\n  tasks:\n  - name: a\n    retries: 2\n    params: [{name: o, value: {k: v}}]\n    taskRef: {name: x}\n",
        );
        both::<Task>("spec:\n  steps:\n  - command: ls\n");
        both::<Pipeline>("spec:\n  tasks:\n  - retries: many\n");
    }

    #[test]
    fn every_upstream_example_decodes_the_same_both_ways() {
        use crate::validate::test_support::{examples_dir, yaml_files};
        let Some(dir) = examples_dir() else { return };
        let mut checked = 0;
        for file in yaml_files(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            for doc in parse_stream(&text).into_iter().flatten() {
                let Some(root) = doc.root else { continue };
                let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
                match kind {
                    "Task" => both_root::<Task>(&root),
                    "Pipeline" => both_root::<Pipeline>(&root),
                    "TaskRun" => both_root::<crate::api::TaskRun>(&root),
                    "PipelineRun" => both_root::<crate::api::PipelineRun>(&root),
                    _ => continue,
                }
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} documents checked");
    }

    fn both_root<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(root: &Node) {
        let direct: Result<T, _> = T::deserialize(NodeDeserializer(root));
        let via_json: Result<T, _> = serde_json::from_value(root.to_json());
        match (direct, via_json) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("decoders disagree: {a:?} vs {b:?}"),
        }
    }
}
