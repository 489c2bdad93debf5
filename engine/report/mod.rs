//! Rendering for people and machines: diagnostics as compiler-style snippets or JSON, plans
//! as trees, YAML, JSON, Mermaid or Graphviz, and the HTML pages of `adze serve`.

pub mod diagnostics;
pub mod grouping;
pub mod html;
pub mod plan;
pub mod provenance;
