//! The Kubernetes JSONPath subset TriggerBinding values are written in (spec §3.2–§3.4).
//!
//! # Design
//!
//! A path is parsed into a list of [`Step`]s, each mapping the current list of values to
//! the next, as `k8s.io/client-go/util/jsonpath` walks its node list; its error texts are
//! kept (`pull_request is not found`, `array index out of bounds: index 3, length 3`) since
//! users read them in trigger outcomes. Missing keys are errors (`AllowMissingKeys(false)`).
//!
//! # Invariants
//!
//! - Parsing and evaluation never panic, whatever the text or the document.
//!
//! # Not yet
//!
//! - `..` visits object keys in sorted order; upstream walks Go maps in random order, so a
//!   multi-result `..` path has no fixed order there at all.

use serde_json::{Map, Value};

use crate::go_json;

/// Why a path could not be parsed or evaluated; the message is upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PathError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, PathError> {
    Err(PathError(message.into()))
}

/// A constant written in a path (filter operands).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'` or `"text"`.
    Text(String),
    /// `3`.
    Int(i64),
    /// `3.5`.
    Float(f64),
    /// `true`, `false`.
    Bool(bool),
}

/// One bound of `[start:end:step]`, as the reference parser records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bound {
    /// Written (or derived).
    pub known: bool,
    /// The number.
    pub value: i64,
    /// `end` of a single index `[i]`, computed as `i + 1`.
    pub derived: bool,
}

/// One step of a parsed path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.name`: the key of every object.
    Field(String),
    /// `..`: every value and all its descendants that have children.
    Recursive,
    /// `[i]`, `[a:b:s]`, `[*]`.
    Slice([Bound; 3]),
    /// `[a,b]`: each sub-path from the same values, results concatenated.
    Union(Vec<Vec<Step>>),
    /// `[?(left op right)]`, or `[?(left)]` (exists) when `op` is `None`.
    Filter {
        /// The element-side path.
        left: Vec<Step>,
        /// The comparison, as written.
        op: Option<String>,
        /// The other operand.
        right: Vec<Step>,
    },
    /// A constant; replaces the current values.
    Literal(Literal),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct Path(pub Vec<Step>);

impl Path {
    /// Parses the inside of a `{...}` action, e.g. `.body.commits[0].id`.
    pub fn parse(action: &str) -> Result<Path, PathError> {
        let mut p = Parser {
            chars: action.chars().collect(),
            pos: 0,
        };
        let mut steps = Vec::new();
        p.inside(&mut steps)?;
        Ok(Path(steps))
    }

    /// Evaluates the path against `root`.
    pub fn eval<'a>(&self, root: &'a Root) -> Result<Vec<Item<'a>>, PathError> {
        walk(root, &self.0, vec![Item::Json(&root.value)])
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

fn is_terminator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'
    )
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// Go's `%#U`.
fn go_rune(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

impl Parser {
    fn rest_starts_with(&self, prefix: &str) -> bool {
        prefix
            .chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn inside(&mut self, steps: &mut Vec<Step>) -> Result<(), PathError> {
        loop {
            if self.pos >= self.chars.len() {
                return Ok(());
            }
            if self.rest_starts_with("[?(") {
                self.pos += 3;
                steps.push(self.filter()?);
                continue;
            }
            if self.rest_starts_with("..") {
                self.pos += 2;
                steps.push(Step::Recursive);
                if self.peek().is_some_and(is_alphanumeric) {
                    steps.push(self.field());
                }
                continue;
            }
            let Some(c) = self.next() else {
                return Ok(());
            };
            match c {
                '\r' | '\n' => return err("unclosed action"),
                ' ' | '@' | '$' => {}
                '[' => self.array(steps)?,
                '"' | '\'' => steps.push(Step::Literal(Literal::Text(self.quote(c)?))),
                '.' => steps.push(self.field()),
                '+' | '-' => {
                    self.pos -= 1;
                    steps.push(Step::Literal(self.number()?));
                }
                c if c.is_ascii_digit() => {
                    self.pos -= 1;
                    steps.push(Step::Literal(self.number()?));
                }
                c if is_alphanumeric(c) => {
                    self.pos -= 1;
                    steps.push(Step::Literal(self.identifier()?));
                }
                c => return err(format!("unrecognized character in action: {}", go_rune(c))),
            }
        }
    }

    fn field(&mut self) -> Step {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == '\\' {
                self.pos = (self.pos + 2).min(self.chars.len());
            } else if is_terminator(c) {
                break;
            } else {
                self.pos += 1;
            }
        }
        let name: String = self.chars[start..self.pos]
            .iter()
            .filter(|c| **c != '\\')
            .collect();
        Step::Field(name)
    }

    fn array(&mut self, steps: &mut Vec<Step>) -> Result<(), PathError> {
        let start = self.pos;
        loop {
            match self.next() {
                None | Some('\n') => return err("unterminated array"),
                Some(']') => break,
                Some(_) => {}
            }
        }
        let mut text: String = self.chars[start..self.pos - 1].iter().collect();
        if text == "*" {
            text = ":".into();
        }
        let parts: Vec<&str> = text.split(',').collect();
        if parts.len() > 1 {
            let mut union = Vec::new();
            for part in parts {
                union.push(Path::parse(&format!("[{}]", part.trim_matches(' ')))?.0);
            }
            steps.push(Step::Union(union));
            return Ok(());
        }
        if let Some(key) = text
            .strip_prefix('\'')
            .and_then(|t| t.strip_suffix('\''))
            .filter(|k| !k.contains('\''))
        {
            steps.extend(Path::parse(&format!(".{key}"))?.0);
            return Ok(());
        }
        steps.push(Step::Slice(slice_bounds(&text)?));
        Ok(())
    }

    fn filter(&mut self) -> Result<Step, PathError> {
        let start = self.pos;
        loop {
            match self.next() {
                None | Some('\n') => return err("unterminated filter"),
                Some(')') => break,
                Some(_) => {}
            }
        }
        let text: String = self.chars[start..self.pos - 1].iter().collect();
        if self.next() != Some(']') {
            return err("unclosed array expect ]");
        }
        let is_op = |c: char| matches!(c, '!' | '<' | '>' | '=');
        let left_end = text.find(is_op).unwrap_or(text.len());
        let op_end = text[left_end..]
            .find(|c| !is_op(c))
            .map_or(text.len(), |i| left_end + i);
        if left_end == 0 || left_end == text.len() || op_end == text.len() {
            return Ok(Step::Filter {
                left: Path::parse(&text)?.0,
                op: None,
                right: Vec::new(),
            });
        }
        Ok(Step::Filter {
            left: Path::parse(&text[..left_end])?.0,
            op: Some(text[left_end..op_end].to_string()),
            right: Path::parse(&text[op_end..])?.0,
        })
    }

    fn quote(&mut self, end: char) -> Result<String, PathError> {
        let mut out = String::new();
        loop {
            match self.next() {
                None | Some('\n') => return err("unterminated quoted string"),
                Some('\\') => match self.next() {
                    None | Some('\n') => return err("unterminated quoted string"),
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(c) => out.push(c),
                },
                Some(c) if c == end => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn number(&mut self) -> Result<Literal, PathError> {
        let start = self.pos;
        if matches!(self.peek(), Some('+' | '-')) {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c == '.' || c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Literal::Int(i));
        }
        match text.parse::<f64>() {
            Ok(f) if !text.ends_with('.') || text.len() > 1 => Ok(Literal::Float(f)),
            _ => err(format!("cannot parse number {text}")),
        }
    }

    fn identifier(&mut self) -> Result<Literal, PathError> {
        let start = self.pos;
        while self.peek().is_some_and(is_alphanumeric) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        match text.as_str() {
            "true" => Ok(Literal::Bool(true)),
            "false" => Ok(Literal::Bool(false)),
            _ => err(format!("unrecognized identifier {text}")),
        }
    }
}

/// `[i]`, `[a:b]`, `[a:b:s]` as `^(-?\d*)(:-?\d*)?(:-?\d*)?$`.
fn slice_bounds(text: &str) -> Result<[Bound; 3], PathError> {
    let parts: Vec<&str> = text.split(':').collect();
    let well_formed = |s: &str| {
        let digits = s.strip_prefix('-').unwrap_or(s);
        digits.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.len() > 3 || !parts.iter().all(|p| well_formed(p)) {
        return err(format!("invalid array index {text}"));
    }
    let number = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| PathError(format!("array index {s} is not a number")))
    };
    let mut bounds = [Bound::default(); 3];
    for i in 0..3 {
        match parts.get(i) {
            Some(&"") => {}
            Some(s) => {
                bounds[i] = Bound {
                    known: true,
                    value: number(s)?,
                    derived: false,
                }
            }
            None if i == 1 => {
                bounds[1] = Bound {
                    known: true,
                    value: bounds[0].value.saturating_add(1),
                    derived: true,
                }
            }
            None => {}
        }
    }
    Ok(bounds)
}

/// The object paths are evaluated against: the event's `body`, `header`, `extensions`
/// and `context` (spec §3.2).
#[derive(Debug, Clone, PartialEq)]
pub struct Root {
    value: Value,
}

impl Root {
    /// The event object: `header` values joined with `,`, `body` `null` when empty.
    pub fn new(
        body: Value,
        header: Map<String, Value>,
        extensions: Map<String, Value>,
        event_id: &str,
    ) -> Root {
        let mut context = Map::new();
        context.insert("eventID".into(), Value::String(event_id.to_string()));
        let mut root = Map::new();
        root.insert("body".into(), body);
        root.insert("header".into(), Value::Object(header));
        root.insert("extensions".into(), Value::Object(extensions));
        root.insert("context".into(), Value::Object(context));
        Root {
            value: Value::Object(root),
        }
    }

    /// Upstream's event is a Go struct: its field names resolve too (`Body`, `context.EventID`).
    fn go_field<'a>(&'a self, value: &'a Value, key: &str) -> Option<&'a Value> {
        if std::ptr::eq(value, &self.value) {
            let json = match key {
                "Body" => "body",
                "Header" => "header",
                "Extensions" => "extensions",
                "Context" => "context",
                _ => return None,
            };
            return self.value.get(json);
        }
        if key == "EventID"
            && self
                .value
                .get("context")
                .is_some_and(|c| std::ptr::eq(c, value))
        {
            return value.get("eventID");
        }
        None
    }
}

/// One value a path yielded.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// A value of the event object.
    Json(&'a Value),
    /// A constant from the path.
    Literal(Literal),
}

fn walk<'a>(
    root: &'a Root,
    steps: &[Step],
    mut values: Vec<Item<'a>>,
) -> Result<Vec<Item<'a>>, PathError> {
    for step in steps {
        values = apply(root, step, values)?;
    }
    Ok(values)
}

fn apply<'a>(
    root: &'a Root,
    step: &Step,
    input: Vec<Item<'a>>,
) -> Result<Vec<Item<'a>>, PathError> {
    match step {
        Step::Literal(l) => Ok(vec![Item::Literal(l.clone())]),
        Step::Field(name) => field(root, name, input),
        Step::Recursive => {
            let mut out = Vec::new();
            for item in input {
                if let Item::Json(v) = item {
                    descend(v, &mut out);
                }
            }
            Ok(out)
        }
        Step::Slice(bounds) => slice(bounds, input),
        Step::Union(paths) => {
            let mut out = Vec::new();
            for path in paths {
                out.extend(walk(root, path, input.clone())?);
            }
            Ok(out)
        }
        Step::Filter { left, op, right } => filter(root, left, op.as_deref(), right, input),
    }
}

fn field<'a>(root: &'a Root, name: &str, input: Vec<Item<'a>>) -> Result<Vec<Item<'a>>, PathError> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for item in input {
        let Item::Json(v) = item else { continue };
        if let Some(found) = v.get(name).or_else(|| root.go_field(v, name)) {
            if v.is_object() {
                out.push(Item::Json(found));
            }
        }
    }
    if out.is_empty() {
        return err(format!("{name} is not found"));
    }
    Ok(out)
}

/// `..`: pre-order, every value that has children (a non-empty string counts: Go walks its bytes).
fn descend<'a>(v: &'a Value, out: &mut Vec<Item<'a>>) {
    let children: Vec<&Value> = match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            keys.into_iter().filter_map(|k| m.get(k)).collect()
        }
        Value::Array(a) => a.iter().collect(),
        Value::String(s) if !s.is_empty() => {
            out.push(Item::Json(v));
            return;
        }
        _ => return,
    };
    if children.is_empty() {
        return;
    }
    out.push(Item::Json(v));
    for child in children {
        descend(child, out);
    }
}

/// Go's type name for a value, as `%v` of `reflect.Type` prints it.
fn go_type(item: &Item<'_>) -> &'static str {
    match item {
        Item::Json(Value::Object(_)) => "map[string]interface {}",
        Item::Json(Value::Array(_)) => "[]interface {}",
        Item::Json(Value::String(_)) | Item::Literal(Literal::Text(_)) => "string",
        Item::Json(Value::Number(_)) | Item::Literal(Literal::Float(_)) => "float64",
        Item::Json(Value::Bool(_)) | Item::Literal(Literal::Bool(_)) => "bool",
        Item::Literal(Literal::Int(_)) => "int",
        Item::Json(Value::Null) => "interface {}",
    }
}

fn slice<'a>(bounds: &[Bound; 3], input: Vec<Item<'a>>) -> Result<Vec<Item<'a>>, PathError> {
    let mut out = Vec::new();
    for item in &input {
        let array = match item {
            Item::Json(Value::Null) => continue,
            Item::Json(Value::Array(a)) => a,
            other => return err(format!("{} is not array or slice", go_type(other))),
        };
        let len = array.len() as i64;
        let [mut start, mut end, step] = *bounds;
        if !start.known {
            start.value = 0;
        }
        if start.value < 0 {
            start.value += len;
        }
        if !end.known {
            end.value = len;
        }
        if end.value < 0 || (end.value == 0 && end.derived) {
            end.value += len;
        }
        if end.value == start.value {
            // Upstream returns at once here, dropping the remaining inputs.
            return Ok(out);
        }
        if start.value >= len || start.value < 0 {
            return err(format!(
                "array index out of bounds: index {}, length {len}",
                start.value
            ));
        }
        if end.value > len || end.value < 0 {
            return err(format!(
                "array index out of bounds: index {}, length {len}",
                end.value.saturating_sub(1)
            ));
        }
        if start.value > end.value {
            return err(format!(
                "starting index {} is greater than ending index {}",
                start.value, end.value
            ));
        }
        let by = if step.known {
            if step.value <= 0 {
                return err("step must be > 0");
            }
            step.value as usize
        } else {
            1
        };
        out.extend(
            array[start.value as usize..end.value as usize]
                .iter()
                .step_by(by)
                .map(Item::Json),
        );
    }
    Ok(out)
}

fn filter<'a>(
    root: &'a Root,
    left: &[Step],
    op: Option<&str>,
    right: &[Step],
    input: Vec<Item<'a>>,
) -> Result<Vec<Item<'a>>, PathError> {
    let mut out = Vec::new();
    for item in &input {
        let array = match item {
            Item::Json(Value::Array(a)) => a,
            other => {
                return err(format!(
                    "{} is not array or slice and cannot be filtered",
                    go_value(other)
                ))
            }
        };
        for element in array {
            let lefts = walk(root, left, vec![Item::Json(element)]);
            let Some(op) = op else {
                if lefts.is_ok_and(|l| !l.is_empty()) {
                    out.push(Item::Json(element));
                }
                continue;
            };
            let lefts = lefts?;
            let l = match lefts.as_slice() {
                [] => continue,
                [one] => one,
                _ => return err("can only compare one element at a time"),
            };
            let rights = walk(root, right, vec![Item::Json(element)])?;
            let r = match rights.as_slice() {
                [] => continue,
                [one] => one,
                _ => return err("can only compare one element at a time"),
            };
            if compare(op, l, r)? {
                out.push(Item::Json(element));
            }
        }
    }
    Ok(out)
}

#[derive(PartialEq, PartialOrd)]
enum Basic<'a> {
    Bool(bool),
    Float(f64),
    Int(i64),
    Str(&'a str),
}

fn basic<'a>(item: &'a Item<'_>) -> Result<Basic<'a>, PathError> {
    Ok(match item {
        Item::Json(Value::Bool(b)) | Item::Literal(Literal::Bool(b)) => Basic::Bool(*b),
        Item::Json(Value::Number(n)) => Basic::Float(n.as_f64().unwrap_or(0.0)),
        Item::Literal(Literal::Float(f)) => Basic::Float(*f),
        Item::Literal(Literal::Int(i)) => Basic::Int(*i),
        Item::Json(Value::String(s)) => Basic::Str(s),
        Item::Literal(Literal::Text(s)) => Basic::Str(s),
        _ => return err("invalid type for comparison"),
    })
}

/// Go template comparisons: same basic kind only (a JSON number is a float64, `3` an int).
fn compare(op: &str, l: &Item<'_>, r: &Item<'_>) -> Result<bool, PathError> {
    let (a, b) = (basic(l)?, basic(r)?);
    if std::mem::discriminant(&a) != std::mem::discriminant(&b) {
        return err("incompatible types for comparison");
    }
    let less = || {
        if matches!(a, Basic::Bool(_)) {
            err("invalid type for comparison")
        } else {
            Ok(a < b)
        }
    };
    match op {
        "==" => Ok(a == b),
        "!=" => Ok(a != b),
        "<" => less(),
        "<=" => Ok(less()? || a == b),
        ">" => Ok(!(less()? || a == b)),
        ">=" => Ok(!less()?),
        other => err(format!("unrecognized filter operator {other}")),
    }
}

/// Go's `%v` of a decoded JSON value (used in one upstream error text).
fn go_value(item: &Item<'_>) -> String {
    fn json(v: &Value) -> String {
        match v {
            Value::Null => "<nil>".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => go_g(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => s.clone(),
            Value::Array(a) => format!("[{}]", a.iter().map(json).collect::<Vec<_>>().join(" ")),
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let parts: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{k}:{}", json(&m[*k])))
                    .collect();
                format!("map[{}]", parts.join(" "))
            }
        }
    }
    match item {
        Item::Json(v) => json(v),
        Item::Literal(Literal::Text(s)) => s.clone(),
        Item::Literal(Literal::Int(i)) => i.to_string(),
        Item::Literal(Literal::Float(f)) => go_g(*f),
        Item::Literal(Literal::Bool(b)) => b.to_string(),
    }
}

/// Go's `%v` of a float64: shortest digits, exponent form below 1e-4 or from 1e21.
fn go_g(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..21).contains(&exp) {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// Renders results as param text (spec §3.4).
pub fn render(items: &[Item<'_>]) -> String {
    if let [one] = items {
        return match one {
            Item::Json(Value::String(s)) | Item::Literal(Literal::Text(s)) => go_json::escape(s),
            Item::Json(v) => go_json::to_string(v),
            Item::Literal(Literal::Int(i)) => i.to_string(),
            Item::Literal(Literal::Float(f)) => go_json::float(*f),
            Item::Literal(Literal::Bool(b)) => b.to_string(),
        };
    }
    let values: Vec<Value> = items.iter().map(to_value).collect();
    go_json::to_string(&Value::Array(values))
}

fn to_value(item: &Item<'_>) -> Value {
    match item {
        Item::Json(v) => (*v).clone(),
        Item::Literal(Literal::Text(s)) => Value::String(s.clone()),
        Item::Literal(Literal::Int(i)) => Value::from(*i),
        Item::Literal(Literal::Float(f)) => Value::from(*f),
        Item::Literal(Literal::Bool(b)) => Value::Bool(*b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn root(body: Value) -> Root {
        let mut header = Map::new();
        header.insert("X-Github-Event".into(), json!("push"));
        let mut ext = Map::new();
        ext.insert("sha".into(), json!("abc"));
        Root::new(body, header, ext, "ev-1")
    }

    fn eval(body: Value, path: &str) -> Result<String, String> {
        let root = root(body);
        let path = Path::parse(path).map_err(|e| e.0)?;
        path.eval(&root).map(|r| render(&r)).map_err(|e| e.0)
    }

    #[test]
    fn fields_escapes_and_bracket_keys() {
        let body = json!({"a": {"b": "c"}, "dev.tekton.dev/foo": "x", "k-1": 2, "a.b": "dotted"});
        assert_eq!(eval(body.clone(), ".body.a.b"), Ok("c".into()));
        assert_eq!(
            eval(body.clone(), r".body.dev\.tekton\.dev\/foo"),
            Ok("x".into())
        );
        assert_eq!(eval(body.clone(), ".body.k-1"), Ok("2".into()));
        assert_eq!(eval(body.clone(), ".body['a'].b"), Ok("c".into()));
        // Bracket keys are re-parsed as `.k`: dots still split.
        assert_eq!(eval(body.clone(), ".body['a.b']"), Ok("c".into()));
        assert_eq!(eval(body.clone(), r".body['a\.b']"), Ok("dotted".into()));
        assert_eq!(
            eval(body, ".body.missing"),
            Err("missing is not found".into())
        );
    }

    #[test]
    fn roots_and_go_field_names() {
        let body = json!({"x": 1});
        assert_eq!(eval(body.clone(), ".context.eventID"), Ok("ev-1".into()));
        assert_eq!(eval(body.clone(), ".Context.EventID"), Ok("ev-1".into()));
        assert_eq!(eval(body.clone(), ".Body.x"), Ok("1".into()));
        assert_eq!(eval(body.clone(), ".extensions.sha"), Ok("abc".into()));
        assert_eq!(eval(body.clone(), ".Extensions.sha"), Ok("abc".into()));
        assert_eq!(
            eval(body.clone(), ".header"),
            Ok(r#"{"X-Github-Event":"push"}"#.into())
        );
        assert_eq!(
            eval(body, ".body.Context"),
            Err("Context is not found".into())
        );
    }

    #[test]
    fn indexes_slices_and_their_errors() {
        let body = json!({"a": ["x", "y", "z"], "n": null, "s": "str"});
        assert_eq!(eval(body.clone(), ".body.a[0]"), Ok("x".into()));
        assert_eq!(eval(body.clone(), ".body.a[-1]"), Ok("z".into()));
        assert_eq!(
            eval(body.clone(), ".body.a[0:2]"),
            Ok(r#"["x","y"]"#.into())
        );
        assert_eq!(eval(body.clone(), ".body.a[1:2]"), Ok("y".into()));
        assert_eq!(
            eval(body.clone(), ".body.a[::2]"),
            Ok(r#"["x","z"]"#.into())
        );
        assert_eq!(
            eval(body.clone(), ".body.a[*]"),
            Ok(r#"["x","y","z"]"#.into())
        );
        assert_eq!(
            eval(body.clone(), ".body.a[0,2]"),
            Ok(r#"["x","z"]"#.into())
        );
        assert_eq!(
            eval(body.clone(), ".body.a[3]"),
            Err("array index out of bounds: index 3, length 3".into())
        );
        // Slices are not clamped.
        assert_eq!(
            eval(body.clone(), ".body.a[0:5]"),
            Err("array index out of bounds: index 4, length 3".into())
        );
        assert_eq!(eval(body.clone(), ".body.a[0:0]"), Ok("[]".into()));
        // Indexing null: empty, not an error.
        assert_eq!(eval(body.clone(), ".body.n[0]"), Ok("[]".into()));
        assert_eq!(eval(body.clone(), ".body.n[*]"), Ok("[]".into()));
        assert_eq!(
            eval(body.clone(), ".body.s[0]"),
            Err("string is not array or slice".into())
        );
        assert_eq!(
            eval(body.clone(), ".header.X-Github-Event[1]"),
            Err("string is not array or slice".into())
        );
        assert_eq!(
            eval(body.clone(), ".body.a[x]"),
            Err("invalid array index x".into())
        );
        assert_eq!(
            eval(body.clone(), ".body.a[0"),
            Err("unterminated array".into())
        );
        assert_eq!(eval(body, ".body.a[::0]"), Err("step must be > 0".into()));
    }

    #[test]
    fn filters_and_recursive_descent() {
        let body = json!({"items": [
            {"name": "a", "n": 1, "tag": "x"},
            {"name": "b", "n": 2},
            {"name": "c", "n": 3, "tag": "y"}
        ]});
        assert_eq!(
            eval(body.clone(), ".body.items[?(@.name == 'b')].n"),
            Ok("2".into())
        );
        assert_eq!(
            eval(body.clone(), ".body.items[?(@.n >= 2.0)].name"),
            Ok(r#"["b","c"]"#.into())
        );
        assert_eq!(
            eval(body.clone(), ".body.items[?(@.n < 2.0)].name"),
            Ok("a".into())
        );
        assert_eq!(
            eval(body.clone(), ".body.items[?(@.name != 'a')].name"),
            Ok(r#"["b","c"]"#.into())
        );
        assert_eq!(
            eval(body.clone(), ".body.items[?(@.tag)].name"),
            Ok(r#"["a","c"]"#.into())
        );
        // A comparison over an element lacking the key fails.
        assert_eq!(
            eval(body.clone(), ".body.items[?(@.tag == 'x')].name"),
            Err("tag is not found".into())
        );
        // JSON numbers are float64; an integer literal does not compare with them.
        assert_eq!(
            eval(body.clone(), ".body.items[?(@.n == 2)].name"),
            Err("incompatible types for comparison".into())
        );
        // A step on an empty result is not an error.
        assert_eq!(
            eval(body.clone(), ".body.items[?(@.name == 'z')].name"),
            Ok("[]".into())
        );
        assert_eq!(
            eval(body.clone(), ".body..name"),
            Ok(r#"["a","b","c"]"#.into())
        );
        assert_eq!(
            eval(body, ".body.items[?(@.name == 'a')x.n"),
            Err("unclosed array expect ]".into())
        );
    }

    #[test]
    fn parse_errors_are_upstreams() {
        assert_eq!(
            Path::parse(".a b").unwrap_err().0,
            "unrecognized identifier b"
        );
        assert_eq!(
            Path::parse(".a !").unwrap_err().0,
            "unrecognized character in action: U+0021 '!'"
        );
        assert_eq!(Path::parse(".a\n").unwrap_err().0, "unclosed action");
        assert_eq!(
            Path::parse(".a[?(@.x").unwrap_err().0,
            "unterminated filter"
        );
    }

    #[test]
    fn go_number_texts() {
        assert_eq!(go_g(3.0), "3");
        assert_eq!(go_g(1e21), "1e+21");
        assert_eq!(go_g(1e-5), "1e-05");
        assert_eq!(go_g(0.5), "0.5");
    }

    #[test]
    fn random_paths_never_panic() {
        const PIECES: &[&str] = &[
            ".", "..", "a", "[", "]", "[?(", ")", "@", "'", "\"", "\\", "*", ":", "-1", "0", "2",
            ",", "==", "<", "!", " ", "\n", "{", "$", "é", "1.5", "true", "body", "items",
        ];
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let root = root(json!({"items": [{"a": 1}, {"a": "x"}, null, [1, 2]], "a": {"a": "b"}}));
        for _ in 0..20_000 {
            let len = next() % 12;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            if let Ok(path) = Path::parse(&text) {
                if let Ok(items) = path.eval(&root) {
                    render(&items);
                }
            }
        }
    }
}
