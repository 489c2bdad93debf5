//! What two runs of one example must share to count as the same outcome, whichever executor
//! or controller ran them: [`Shape`].

use std::collections::BTreeMap;

use serde_json::Value;

/// What must be equal between the two executors.
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    /// The `Succeeded` condition's status and reason.
    pub condition: (String, String),
    /// `status.results` (TaskRun) or `status.results` (PipelineRun): name → value.
    pub results: BTreeMap<String, String>,
    /// Each step: name, terminated exit code and reason, and `terminationReason` (which
    /// tells a step its `when` skipped from one that ran).
    pub steps: Vec<(String, Option<i64>, String, String)>,
    /// Each child: name (the run's name as `<run>`) and pipeline task.
    pub children: Vec<(String, String)>,
    /// `skippedTasks`: name and reason.
    pub skipped: Vec<(String, String)>,
    /// Each task's status in the summary table (the status of every child).
    pub tasks: Vec<(String, String)>,
}

impl Shape {
    /// The shape of a `-o json` object and the summary table on stderr.
    pub fn of(json: &Value, stderr: &str) -> Shape {
        let run = json["metadata"]["name"].as_str().unwrap_or_default();
        let generic = |s: &str| {
            if run.is_empty() {
                s.to_owned()
            } else {
                s.replace(run, "<run>")
            }
        };
        let status = &json["status"];
        let condition = &status["conditions"][0];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let results = status["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let value = match &r["value"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (text(&r["name"]), generic(&value))
            })
            .collect();
        let steps = status["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let t = &s["terminated"];
                (
                    text(&s["name"]),
                    t["exitCode"].as_i64(),
                    text(&t["reason"]),
                    text(&s["terminationReason"]),
                )
            })
            .collect();
        let children = status["childReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    child_name(&generic(&text(&c["name"]))),
                    text(&c["pipelineTaskName"]),
                )
            })
            .collect();
        let skipped = status["skippedTasks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (text(&c["name"]), text(&c["reason"])))
            .collect();
        Shape {
            condition: (text(&condition["status"]), text(&condition["reason"])),
            results,
            steps,
            children,
            skipped,
            tasks: summary_rows(stderr, run),
        }
    }
}

impl Shape {
    /// The shape with each result value replaced by its length (random values).
    pub fn results_by_length(mut self) -> Shape {
        for value in self.results.values_mut() {
            *value = format!("<{} bytes>", value.len());
        }
        self
    }
}

/// A child's name as compared: one too long for a label is shortened with a hash of the
/// whole name (which holds the generated run name), so only its length is compared.
fn child_name(name: &str) -> String {
    if name.contains("<run>") {
        name.to_owned()
    } else {
        format!("<shortened to {} characters>", name.len())
    }
}

/// The TASK and STATUS columns of the summary table adze prints last on stderr (the `-o
/// json` object does not carry a child's status); a TaskRun's own row names the run, so
/// that name becomes `<run>`.
fn summary_rows(stderr: &str, run: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = stderr.lines().collect();
    let Some(header) = lines
        .iter()
        .rposition(|l| l.split_whitespace().take(2).eq(["TASK", "STATUS"]))
    else {
        return Vec::new();
    };
    lines[header + 1..]
        .iter()
        .take_while(|l| {
            !(l.trim().is_empty() || l.starts_with("PipelineRun ") || l.starts_with("TaskRun "))
        })
        .filter_map(|l| {
            let mut cells = l
                .trim()
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty());
            let task = cells.next()?;
            let status = cells.next()?;
            let task = if run.is_empty() {
                task.to_owned()
            } else {
                task.replace(run, "<run>")
            };
            Some((task, status.to_owned()))
        })
        .collect()
}
