//! The shape of the Tekton types adze reads, derived from the types themselves (schemars), as
//! a graph of named object types and their fields.
//!
//! The graph is what makes the field-coverage table checkable: every field of every type
//! reachable from the five kinds is listed here, so a field added to a type (or to an embedded
//! `k8s-openapi` type on an upgrade) shows up without anyone remembering to add it.

use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::api::{Kind, Pipeline, PipelineRun, StepAction, Task, TaskRun};

/// What a field holds, as far as the walk cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A string, number, boolean, or anything without fields of its own.
    Scalar,
    /// An object type with named fields.
    Object(String),
    /// A list of something.
    List(Box<Shape>),
    /// A map from free keys to something (labels, object param properties, …).
    Map(Box<Shape>),
}

impl Shape {
    /// The object type inside lists and maps, if any.
    pub fn object_type(&self) -> Option<&str> {
        match self {
            Shape::Scalar => None,
            Shape::Object(name) => Some(name),
            Shape::List(inner) | Shape::Map(inner) => inner.object_type(),
        }
    }
}

/// One field of an object type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// The field's name as written in YAML.
    pub name: String,
    /// What it holds.
    pub shape: Shape,
}

/// Every object type reachable from the kinds adze reads, by short name.
#[derive(Debug, Clone, Default)]
pub struct TypeGraph {
    types: BTreeMap<String, Vec<FieldDef>>,
}

impl TypeGraph {
    /// Builds the graph from the types' JSON schemas.
    pub fn build() -> TypeGraph {
        let mut generator = SchemaSettings::draft2020_12()
            .for_deserialize()
            .into_generator();
        for kind in KINDS {
            match kind {
                Kind::Task => generator.subschema_for::<Task>(),
                Kind::Pipeline => generator.subschema_for::<Pipeline>(),
                Kind::TaskRun => generator.subschema_for::<TaskRun>(),
                Kind::PipelineRun => generator.subschema_for::<PipelineRun>(),
                Kind::StepAction => generator.subschema_for::<StepAction>(),
            };
        }
        let definitions = generator.take_definitions(true);
        let mut types = BTreeMap::new();
        for (full, schema) in &definitions {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                continue;
            };
            let fields = properties
                .iter()
                .map(|(name, prop)| FieldDef {
                    name: name.clone(),
                    shape: shape_of(prop, &definitions),
                })
                .collect();
            let previous = types.insert(short_name(full).to_owned(), fields);
            assert!(
                previous.is_none(),
                "two schema types share the short name {}",
                short_name(full)
            );
        }
        TypeGraph { types }
    }

    /// The fields of object type `name`.
    pub fn fields(&self, name: &str) -> Option<&[FieldDef]> {
        self.types.get(name).map(Vec::as_slice)
    }

    /// One field of object type `name`.
    pub fn field(&self, name: &str, field: &str) -> Option<&FieldDef> {
        self.fields(name)?.iter().find(|f| f.name == field)
    }
}

/// The kinds whose types are walked, in the order the coverage table lists them.
pub const KINDS: [Kind; 5] = [
    Kind::Task,
    Kind::Pipeline,
    Kind::TaskRun,
    Kind::PipelineRun,
    Kind::StepAction,
];

/// `io.k8s.api.core.v1.Volume` → `Volume`; adze's own types keep their names.
pub fn short_name(full: &str) -> &str {
    full.rsplit('.').next().unwrap_or(full)
}

/// Reads a property's schema as a [`Shape`], following `$ref`s into `definitions`.
fn shape_of(schema: &Value, definitions: &serde_json::Map<String, Value>) -> Shape {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let full = reference.rsplit('/').next().unwrap_or(reference);
        return match definitions.get(full) {
            Some(def) if def.get("properties").is_some() => Shape::Object(short_name(full).into()),
            Some(def) => shape_of(def, definitions),
            None => Shape::Scalar,
        };
    }
    for alternatives in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(alternatives).and_then(Value::as_array) {
            let mut shapes = options
                .iter()
                .filter(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                .map(|o| shape_of(o, definitions));
            if let (Some(only), None) = (shapes.next(), shapes.next()) {
                return only;
            }
            return Shape::Scalar;
        }
    }
    if let Some(items) = schema.get("items") {
        return Shape::List(Box::new(shape_of(items, definitions)));
    }
    if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        return Shape::Map(Box::new(shape_of(values, definitions)));
    }
    Shape::Scalar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_objects_in_a_list_and_volumes_reach_kubernetes_types() {
        let graph = TypeGraph::build();
        let steps = graph.field("TaskSpec", "steps").expect("TaskSpec.steps");
        assert_eq!(
            steps.shape,
            Shape::List(Box::new(Shape::Object("Step".into())))
        );
        let volumes = graph
            .field("TaskSpec", "volumes")
            .expect("TaskSpec.volumes");
        assert_eq!(volumes.shape.object_type(), Some("Volume"));
        assert!(graph.field("Volume", "hostPath").is_some());
        let labels = graph.field("ObjectMeta", "labels").expect("labels");
        assert_eq!(labels.shape, Shape::Map(Box::new(Shape::Scalar)));
    }

    #[test]
    #[ignore = "prints the graph; run by hand when editing the table"]
    fn print_graph() {
        let graph = TypeGraph::build();
        for (name, fields) in &graph.types {
            for f in fields {
                println!("{name}.{} {:?}", f.name, f.shape);
            }
        }
    }
}
