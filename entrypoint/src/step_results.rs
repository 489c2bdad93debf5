//! `$(steps.S.results.R)` references, replaced when the step starts with what earlier steps
//! wrote to `<steps_dir>/step-S/results/R` (§4.3 step 2). The value is JSON-decoded for an
//! element (`[0]`, `.key`, `['key']`); `$(steps.S.results.R[*])` alone in a command or args
//! item becomes one item per array element. This is the behaviour of adze's Docker executor
//! (engine/exec/docker/results.rs), which reads the same files from the host.
//!
//! A reference no earlier step wrote is left verbatim and reported, so a typo shows up in the
//! step's log instead of silently becoming an empty string.

use std::fs;
use std::path::Path;

/// What part of a result a reference selects.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    /// The whole text, verbatim.
    Whole,
    /// `[*]`: the array's elements (spliced when alone in an item, else the whole text).
    Star,
    /// `[N]`: one element of a JSON array.
    Index(usize),
    /// `.key` or `['key']`: one field of a JSON object.
    Key(String),
}

/// One `$(steps.S.results.R…)` reference found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    step: String,
    result: String,
    access: Access,
    /// Byte range of the whole `$(…)` in the scanned string.
    span: std::ops::Range<usize>,
}

impl Reference {
    /// How the reference is named in a report: `steps.S.results.R`.
    fn name(&self) -> String {
        format!("steps.{}.results.{}", self.step, self.result)
    }
}

/// The reader of earlier steps' results, collecting the references nobody wrote.
#[derive(Debug)]
pub struct StepResults<'a> {
    steps_dir: &'a Path,
    missing: Vec<String>,
}

impl<'a> StepResults<'a> {
    /// Read results under `steps_dir` (`/tekton/steps` in a Pod).
    pub fn new(steps_dir: &'a Path) -> Self {
        StepResults {
            steps_dir,
            missing: Vec::new(),
        }
    }

    /// The references that found no file, each once, in the order first met.
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// `text` with every reference that has a value replaced.
    pub fn substitute(&mut self, text: &str) -> String {
        let references = scan(text);
        if references.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for reference in references {
            out.push_str(&text[last..reference.span.start]);
            match self.value(&reference) {
                Some(value) => out.push_str(&value),
                None => out.push_str(&text[reference.span.clone()]),
            }
            last = reference.span.end;
        }
        out.push_str(&text[last..]);
        out
    }

    /// `items` substituted, an item that is exactly `$(steps.S.results.R[*])` of a JSON array
    /// replaced by the array's elements.
    pub fn splice(&mut self, items: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match self.sole_array(item) {
                Some(elements) => out.extend(elements),
                None => out.push(self.substitute(item)),
            }
        }
        out
    }

    fn sole_array(&self, item: &str) -> Option<Vec<String>> {
        let references = scan(item);
        let [reference] = references.as_slice() else {
            return None;
        };
        if reference.span != (0..item.len()) || reference.access != Access::Star {
            return None;
        }
        match serde_json::from_str(&self.read(reference)?).ok()? {
            serde_json::Value::Array(items) => Some(items.iter().map(json_text).collect()),
            _ => None,
        }
    }

    fn read(&self, reference: &Reference) -> Option<String> {
        let file = self
            .steps_dir
            .join(format!("step-{}", reference.step))
            .join("results")
            .join(&reference.result);
        fs::read(file)
            .ok()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    fn value(&mut self, reference: &Reference) -> Option<String> {
        let Some(text) = self.read(reference) else {
            let name = reference.name();
            if !self.missing.contains(&name) {
                self.missing.push(name);
            }
            return None;
        };
        match &reference.access {
            Access::Whole | Access::Star => Some(text),
            Access::Index(i) => match serde_json::from_str(&text).ok()? {
                serde_json::Value::Array(items) => items.get(*i).map(json_text),
                _ => None,
            },
            Access::Key(key) => match serde_json::from_str(&text).ok()? {
                serde_json::Value::Object(map) => map.get(key).map(json_text),
                _ => None,
            },
        }
    }
}

/// A JSON element as text: strings without their quotes, anything else as JSON.
fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every well-formed step-result reference in `text`, in order; anything else (shell's `$(…)`,
/// other Tekton variables, malformed references) is not one and stays as written.
fn scan(text: &str) -> Vec<Reference> {
    let mut references = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("$(steps.") {
        let start = from + offset;
        match parse(text, start) {
            Some(reference) => {
                from = reference.span.end;
                references.push(reference);
            }
            None => from = start + 2,
        }
    }
    references
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Parse the reference whose `$(` is at `start`.
fn parse(text: &str, start: usize) -> Option<Reference> {
    let mut rest = text[start..].strip_prefix("$(steps.")?;
    let step = take(&mut rest, is_name_char)?;
    rest = rest.strip_prefix(".results")?;
    let result = if let Some(after) = rest.strip_prefix('.') {
        rest = after;
        take(&mut rest, is_name_char)?
    } else {
        quoted(&mut rest)?
    };
    let access = if let Some(after) = rest.strip_prefix('.') {
        rest = after;
        Access::Key(take(&mut rest, is_name_char)?)
    } else if let Some(after) = rest.strip_prefix("[*]") {
        rest = after;
        Access::Star
    } else if rest.starts_with("['") || rest.starts_with("[\"") {
        Access::Key(quoted(&mut rest)?)
    } else if let Some(after) = rest.strip_prefix('[') {
        rest = after;
        let digits = take(&mut rest, |c| c.is_ascii_digit())?;
        rest = rest.strip_prefix(']')?;
        Access::Index(digits.parse().ok()?)
    } else {
        Access::Whole
    };
    rest = rest.strip_prefix(')')?;
    Some(Reference {
        step,
        result,
        access,
        span: start..text.len() - rest.len(),
    })
}

/// The non-empty run of `accept` characters at the start of `rest`, advancing past it.
fn take(rest: &mut &str, accept: fn(char) -> bool) -> Option<String> {
    let end = rest.find(|c| !accept(c)).unwrap_or(rest.len());
    if end == 0 {
        return None;
    }
    let (taken, after) = rest.split_at(end);
    *rest = after;
    Some(taken.to_string())
}

/// `['name']` or `["name"]` at the start of `rest`, advancing past it.
fn quoted(rest: &mut &str) -> Option<String> {
    let after = rest.strip_prefix('[')?;
    let quote = after.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &after[1..];
    let end = body.find(quote)?;
    let name = &body[..end];
    let accepted = |c: char| is_name_char(c) || c == '.' || c == '/';
    if name.is_empty() || !name.chars().all(accepted) {
        return None;
    }
    *rest = body[end + 1..].strip_prefix(']')?;
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A steps directory where step `first` wrote `word`, `list` and `map`.
    fn steps_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("step-first/results");
        fs::create_dir_all(&results).unwrap();
        fs::write(results.join("word"), "hi").unwrap();
        fs::write(results.join("list"), r#"["a","b",3]"#).unwrap();
        fs::write(results.join("map"), r#"{"k":"v","n":{"x":1}}"#).unwrap();
        dir
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn whole_values_elements_and_keys() {
        let dir = steps_dir();
        let mut results = StepResults::new(dir.path());
        assert_eq!(
            results.substitute("say $(steps.first.results.word)!"),
            "say hi!"
        );
        assert_eq!(results.substitute("$(steps.first.results.list[1])"), "b");
        assert_eq!(results.substitute("$(steps.first.results.list[2])"), "3");
        assert_eq!(results.substitute("$(steps.first.results.map.k)"), "v");
        assert_eq!(
            results.substitute("$(steps.first.results.map['n'])"),
            r#"{"x":1}"#
        );
        assert_eq!(
            results.substitute(r#"$(steps.first.results["word"])"#),
            "hi"
        );
        assert!(results.missing().is_empty());
    }

    #[test]
    fn shell_and_other_variables_are_left_alone() {
        let dir = steps_dir();
        let mut results = StepResults::new(dir.path());
        for text in [
            "$(date) $(steps) $(steps.first.exitCode.path) $(params.x)",
            "$(steps.first.results.word",
            "$(steps.first.results.list[-1])",
        ] {
            assert_eq!(results.substitute(text), text);
        }
        assert!(results.missing().is_empty());
    }

    #[test]
    fn missing_references_stay_and_are_reported_once() {
        let dir = steps_dir();
        let mut results = StepResults::new(dir.path());
        let text =
            "$(steps.first.results.none) $(steps.other.results.r) $(steps.first.results.none)";
        assert_eq!(results.substitute(text), text);
        assert_eq!(
            results.missing(),
            ["steps.first.results.none", "steps.other.results.r"]
        );
    }

    #[test]
    fn a_lone_star_reference_splices_the_array() {
        let dir = steps_dir();
        let mut results = StepResults::new(dir.path());
        let items = strings(&[
            "$(steps.first.results.list[*])",
            "x",
            "$(steps.first.results.word[*])",
            "in $(steps.first.results.list[*])",
        ]);
        // As the Docker executor does: a non-array `[*]` and one inside text are the whole value.
        assert_eq!(
            results.splice(&items),
            ["a", "b", "3", "x", "hi", r#"in ["a","b",3]"#]
        );
    }
}
