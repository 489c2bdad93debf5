//! Rendering for people and machines: diagnostics as compiler-style snippets or JSON, and
//! plans as trees, YAML, JSON, Mermaid or Graphviz.

pub mod diagnostics;
pub mod grouping;
pub mod plan;
