//! The dashboard of `adze serve`, rendered on the server with handlebars templates compiled
//! into the binary.
//!
//! # Design
//!
//! Pages are complete HTML without any client framework: the runs list and the run page
//! render everything they show from the store, and a few lines of script then follow a
//! server-sent event stream to update task states and append log lines as they arrive. The
//! task graph is laid out here ([`graph`]) as SVG: one column per DAG level, `finally` last.
//!
//! # Invariants
//!
//! - Every value from a payload or a log is HTML-escaped (handlebars' `{{…}}`); the only
//!   unescaped insertion (`{{{…}}}`) is the SVG this module builds, whose text is escaped
//!   when it is built.

pub mod graph;

use handlebars::Handlebars;
use serde::Serialize;

/// The frame every page renders into (a partial).
const LAYOUT: &str = include_str!("templates/layout.hbs");

/// The pages, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("runs", include_str!("templates/runs.hbs")),
    ("run", include_str!("templates/run.hbs")),
];

/// The stylesheet, inlined into every page.
pub const STYLE: &str = include_str!("templates/dashboard.css");

/// The script of the run page.
pub const RUN_SCRIPT: &str = include_str!("templates/run.js");

/// The script of the runs list.
pub const RUNS_SCRIPT: &str = include_str!("templates/runs.js");

/// The compiled templates.
pub struct Pages {
    registry: Handlebars<'static>,
}

impl Default for Pages {
    fn default() -> Self {
        Pages::new()
    }
}

impl Pages {
    /// Compiles the embedded templates (a broken template is a bug, caught by the tests).
    pub fn new() -> Pages {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(false);
        for (name, text) in TEMPLATES {
            if let Err(e) = registry.register_template_string(name, *text) {
                // Only reachable through an edit of the templates; the unit tests render each.
                panic!("embedded template {name} does not compile: {e}");
            }
        }
        if let Err(e) = registry.register_partial("layout", LAYOUT) {
            panic!("the embedded layout does not compile: {e}");
        }
        Pages { registry }
    }

    /// Renders template `name` with `data`.
    pub fn render(&self, name: &str, data: &impl Serialize) -> Result<String, String> {
        self.registry
            .render(name, data)
            .map_err(|e| format!("cannot render the {name} page: {e}"))
    }
}

/// A duration in milliseconds as people read it: `850ms`, `12.3s`, `4m05s`, `1h02m`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..=999 => format!("{ms}ms"),
        1_000..=59_999 => format!("{:.1}s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60),
        _ => format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_with_empty_data() {
        let pages = Pages::new();
        for (name, _) in TEMPLATES {
            let html = pages.render(name, &serde_json::json!({})).unwrap();
            assert!(html.contains("<html"), "{name}");
        }
    }

    #[test]
    fn payload_text_is_escaped() {
        let pages = Pages::new();
        let html = pages
            .render(
                "runs",
                &serde_json::json!({ "runs": [{ "name": "<script>x</script>", "state": "queued" }] }),
            )
            .unwrap();
        assert!(!html.contains("<script>x</script>"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(12_340), "12.3s");
        assert_eq!(duration(245_000), "4m05s");
        assert_eq!(duration(3_720_000), "1h02m");
        assert_eq!(duration(-5), "0ms");
    }
}
