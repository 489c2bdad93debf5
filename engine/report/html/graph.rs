//! The task graph as SVG: DAG levels left to right, `finally` tasks in a last column.

use std::collections::HashMap;
use std::fmt::Write as _;

const NODE_WIDTH: u32 = 170;
const NODE_HEIGHT: u32 = 40;
const COLUMN_GAP: u32 = 60;
const ROW_GAP: u32 = 20;
const MARGIN: u32 = 10;

/// Renders `graph` (`{levels, edges, finally}` as the store keeps it) with each task's state
/// from `states` (task → word) as a CSS class; `None` when the graph has no tasks.
pub fn svg(graph: &serde_json::Value, states: &HashMap<String, String>) -> Option<String> {
    let mut columns: Vec<Vec<String>> = graph["levels"].as_array()?.iter().map(names).collect();
    let finally = names(&graph["finally"]);
    if !finally.is_empty() {
        columns.push(finally);
    }
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0) as u32;
    if rows == 0 {
        return None;
    }
    let mut at: HashMap<&str, (u32, u32)> = HashMap::new();
    for (c, column) in columns.iter().enumerate() {
        for (r, name) in column.iter().enumerate() {
            let x = MARGIN + c as u32 * (NODE_WIDTH + COLUMN_GAP);
            let y = MARGIN + r as u32 * (NODE_HEIGHT + ROW_GAP);
            at.insert(name, (x, y));
        }
    }
    let width = 2 * MARGIN + columns.len() as u32 * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP;
    let height = 2 * MARGIN + rows * (NODE_HEIGHT + ROW_GAP) - ROW_GAP;
    let mut out = format!(
        "<svg class=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
    );
    for edge in graph["edges"].as_array().into_iter().flatten() {
        let (Some(from), Some(to)) = (edge[0].as_str(), edge[1].as_str()) else {
            continue;
        };
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (at.get(from), at.get(to)) else {
            continue;
        };
        let _ = write!(
            out,
            "<path class=\"edge\" d=\"M{} {} C{} {} {} {} {} {}\"/>",
            x1 + NODE_WIDTH,
            y1 + NODE_HEIGHT / 2,
            x1 + NODE_WIDTH + COLUMN_GAP / 2,
            y1 + NODE_HEIGHT / 2,
            x2 - COLUMN_GAP / 2,
            y2 + NODE_HEIGHT / 2,
            x2,
            y2 + NODE_HEIGHT / 2
        );
    }
    for column in &columns {
        for name in column {
            let (x, y) = at[name.as_str()];
            let state = states.get(name).map_or("waiting", String::as_str);
            let label = escape(name);
            let _ = write!(
                out,
                "<g class=\"node state-{}\" id=\"node-{label}\" data-task=\"{label}\">\
                 <rect x=\"{x}\" y=\"{y}\" rx=\"6\" width=\"{NODE_WIDTH}\" height=\"{NODE_HEIGHT}\"/>\
                 <text x=\"{}\" y=\"{}\">{label}</text></g>",
                escape(state),
                x + 10,
                y + NODE_HEIGHT / 2 + 5,
            );
        }
    }
    out.push_str("</svg>");
    Some(out)
}

fn names(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// Text and attribute escaping for SVG built by hand.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_become_columns_and_states_classes() {
        let graph = serde_json::json!({
            "levels": [["fetch"], ["build", "lint"]],
            "edges": [["fetch", "build"], ["fetch", "lint"]],
            "finally": ["notify"],
        });
        let states = HashMap::from([("build".to_string(), "running".to_string())]);
        let svg = svg(&graph, &states).unwrap();
        assert_eq!(svg.matches("class=\"edge\"").count(), 2);
        assert!(svg.contains("class=\"node state-running\" id=\"node-build\""));
        assert!(svg.contains("class=\"node state-waiting\" id=\"node-notify\""));
        // Three columns: fetch, build/lint, notify.
        assert!(svg.contains("width=\"650\""), "{svg}");
    }

    #[test]
    fn names_are_escaped_and_empty_graphs_render_nothing() {
        let graph = serde_json::json!({ "levels": [["<b>"]], "edges": [], "finally": [] });
        assert!(svg(&graph, &HashMap::new()).unwrap().contains("&lt;b&gt;"));
        assert_eq!(
            svg(&serde_json::json!({ "levels": [] }), &HashMap::new()),
            None
        );
        assert_eq!(svg(&serde_json::json!("nonsense"), &HashMap::new()), None);
    }
}
