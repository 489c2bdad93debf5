//! `docs/compatibility.md` and the README's list of refused fields, rendered from the table.
//!
//! Both files are checked by tests against what this module renders; set
//! `ADZE_UPDATE_DOCS=1` when running them to rewrite the files instead.

use std::fmt::Write as _;

use super::schema::TypeGraph;
use super::walk::coverage;
use super::Support;

/// Where the README's generated list starts.
pub const README_START: &str =
    "<!-- compat:refused:start (generated from engine/compat/table.rs) -->";
/// Where it ends.
pub const README_END: &str = "<!-- compat:refused:end -->";

/// The whole of `docs/compatibility.md`.
pub fn compatibility_md(graph: &TypeGraph) -> String {
    let fields = coverage(graph).fields;
    let count = |f: fn(&Support) -> bool| fields.iter().filter(|c| f(&c.support)).count();
    let mut out = String::new();
    out.push_str(
        "# Compatibility of `adze run` with Tekton, field by field\n\n\
         Generated from `engine/compat/table.rs` (do not edit by hand: run\n\
         `ADZE_UPDATE_DOCS=1 cargo test --lib compat::doc` after changing the table). Every field\n\
         of the types adze reads is listed, from the five kinds down through every type whose\n\
         fields are classified one by one; a test fails when a field appears that has no row.\n\n\
         - **honoured**: works as Tekton runs it.\n\
         - **honoured, differs**: works, with the difference given.\n\
         - **honoured with a warning**: works locally as described, with a warning; `--strict` refuses it.\n\
         - **no effect locally**: accepted and recorded; `adze run` warns that it has no effect.\n\
         - **refused**: `adze run` stops before anything starts, naming the field, where it is and why.\n\
         - **per field**: the rows of the field's type (below) apply.\n\n",
    );
    let _ = writeln!(
        out,
        "{} fields: {} honoured, {} honoured with a difference, {} with a warning, {} without \
         effect locally, {} refused, {} classified per field.\n",
        fields.len(),
        count(|s| *s == Support::Honoured),
        count(|s| matches!(s, Support::Differs(_))),
        count(|s| matches!(s, Support::Warned(_))),
        count(|s| matches!(s, Support::NoEffect(_))),
        count(|s| matches!(s, Support::Refused(_))),
        count(|s| *s == Support::PerField),
    );
    let mut current = "";
    for c in &fields {
        if c.type_name != current {
            current = &c.type_name;
            let _ = write!(
                out,
                "\n## {current}\n\n| field | `adze run` | notes |\n| --- | --- | --- |\n"
            );
        }
        let note = match c.support {
            Support::PerField => match &c.target {
                Some(t) => format!("see [{t}](#{})", t.to_lowercase()),
                None => String::new(),
            },
            s => s.note().unwrap_or("").to_owned(),
        };
        let _ = writeln!(out, "| `{}` | {} | {} |", c.field, c.support.label(), note);
    }
    out
}

/// The README's list of refused fields, between [`README_START`] and [`README_END`].
pub fn readme_refused(graph: &TypeGraph) -> String {
    let mut out = String::new();
    for c in coverage(graph).fields {
        if let Support::Refused(why) = c.support {
            let _ = writeln!(out, "- `{}.{}`: {why}", c.type_name, c.field);
        }
    }
    out
}

/// Replaces the generated part of `readme` with `list`; `None` when the markers are missing.
pub fn splice_readme(readme: &str, list: &str) -> Option<String> {
    let start = readme.find(README_START)? + README_START.len();
    let end = readme[start..].find(README_END)? + start;
    Some(format!("{}\n{list}{}", &readme[..start], &readme[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn update() -> bool {
        std::env::var_os("ADZE_UPDATE_DOCS").is_some()
    }

    #[test]
    fn docs_compatibility_md_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/compatibility.md");
        let want = compatibility_md(&TypeGraph::build());
        if update() {
            std::fs::create_dir_all(path.parent().expect("docs/")).expect("mkdir docs");
            std::fs::write(&path, &want).expect("write docs/compatibility.md");
        }
        let got = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            got == want,
            "docs/compatibility.md is out of date: run `ADZE_UPDATE_DOCS=1 cargo test --lib compat::doc`"
        );
    }

    #[test]
    fn the_readme_lists_every_refused_field() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).expect("README.md");
        let want = splice_readme(&readme, &readme_refused(&TypeGraph::build()))
            .expect("README.md has the compat:refused markers");
        if update() && want != readme {
            std::fs::write(&path, &want).expect("write README.md");
            return;
        }
        assert!(
            want == readme,
            "README.md's list of refused fields is out of date: run `ADZE_UPDATE_DOCS=1 cargo test --lib compat::doc`"
        );
    }

    #[test]
    fn splicing_replaces_only_between_the_markers() {
        let readme = format!("a\n{README_START}\nold\n{README_END}\nb\n");
        assert_eq!(
            splice_readme(&readme, "- new\n").as_deref(),
            Some(format!("a\n{README_START}\n- new\n{README_END}\nb\n").as_str())
        );
    }
}
