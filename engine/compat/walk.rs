//! Walks the type graph through the table: every reachable field with its row, and the
//! mistakes that make the table wrong (a reachable field without a row, a row for nothing).

use std::collections::{BTreeSet, VecDeque};

use super::schema::{TypeGraph, KINDS};
use super::{support, table, Support};

/// One reachable field and its classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    /// The type that declares the field.
    pub type_name: String,
    /// The field's YAML name.
    pub field: String,
    /// Its row.
    pub support: Support,
    /// The object type a `PerField` row descends into.
    pub target: Option<String>,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Coverage {
    /// Every reachable field, types in the order they are first reached, fields in declaration order.
    pub fields: Vec<Covered>,
    /// `Type.field` reachable but without a row.
    pub unclassified: Vec<String>,
    /// Rows that name no reachable field.
    pub stale: Vec<String>,
    /// `PerField` rows whose field holds no object type to descend into.
    pub not_descendable: Vec<String>,
}

/// Walks every type reachable from the kinds through `PerField` rows.
pub fn coverage(graph: &TypeGraph) -> Coverage {
    let mut out = Coverage::default();
    let mut queue: VecDeque<String> = KINDS.iter().map(|k| k.as_str().to_owned()).collect();
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut reached: BTreeSet<String> = BTreeSet::new();
    while let Some(type_name) = queue.pop_front() {
        let Some(fields) = graph.fields(&type_name) else {
            continue;
        };
        for field in fields {
            let path = format!("{type_name}.{}", field.name);
            reached.insert(path.clone());
            let Some(row) = support(&type_name, &field.name) else {
                out.unclassified.push(path);
                continue;
            };
            let target = field.shape.object_type().map(str::to_owned);
            if row == Support::PerField {
                match field.shape.object_type() {
                    Some(inner) => {
                        if seen.insert(inner.to_owned()) {
                            queue.push_back(inner.to_owned());
                        }
                    }
                    None => out.not_descendable.push(path),
                }
            }
            out.fields.push(Covered {
                type_name: type_name.clone(),
                field: field.name.clone(),
                support: row,
                target,
            });
        }
    }
    out.stale = table::FIELDS
        .iter()
        .map(|(path, _)| path.to_string())
        .filter(|path| !reached.contains(path))
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guard this module exists for: a new field anywhere adze reads fails here until it
    /// is classified in `compat::table`.
    #[test]
    fn every_reachable_field_is_classified_and_every_row_is_reachable() {
        let coverage = coverage(&TypeGraph::build());
        assert!(
            coverage.unclassified.is_empty(),
            "fields without a row in engine/compat/table.rs (classify each: Honoured, \
             Differs, NoEffect, Warned, Refused or PerField):\n  {}",
            coverage.unclassified.join("\n  ")
        );
        assert!(
            coverage.stale.is_empty(),
            "rows in engine/compat/table.rs for fields that no type reachable through \
             PerField rows has:\n  {}",
            coverage.stale.join("\n  ")
        );
        assert!(
            coverage.not_descendable.is_empty(),
            "PerField rows whose field holds no object type:\n  {}",
            coverage.not_descendable.join("\n  ")
        );
    }

    #[test]
    fn the_table_has_no_duplicate_rows() {
        let mut seen = BTreeSet::new();
        for (path, _) in table::FIELDS {
            assert!(seen.insert(*path), "{path} has two rows");
        }
    }

    #[test]
    fn the_walk_reaches_kubernetes_types_only_through_per_field_rows() {
        let coverage = coverage(&TypeGraph::build());
        let types: BTreeSet<&str> = coverage
            .fields
            .iter()
            .map(|c| c.type_name.as_str())
            .collect();
        assert!(
            types.contains("Volume"),
            "Task volumes are classified per source"
        );
        assert!(
            !types.contains("Affinity"),
            "affinity is classified as a whole"
        );
    }
}
