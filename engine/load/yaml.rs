//! A YAML reader that keeps the position of every node.
//!
//! Serde-based YAML crates report a position only for the first error. Tekton authors need
//! every later diagnostic (a bad task name, an unknown result) to point at the exact key, so
//! the loader builds its own tree from the parser's marked events and converts it to JSON
//! values for typed decoding afterwards. Aliases are expanded with a size budget, nesting is
//! bounded, and `<<` merge keys are applied as Kubernetes' YAML reader does.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting accepted; deeper input is rejected instead of risking the stack.
pub const MAX_DEPTH: usize = 200;
/// Most nodes a document may expand to (alias expansion included).
pub const MAX_NODES: usize = 2_000_000;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// Line, starting at 1.
    pub line: u32,
    /// Column in characters, starting at 1.
    pub col: u32,
}

/// How a scalar was written; decides its type and how offsets inside it map to columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted.
    Plain,
    /// `'...'`.
    SingleQuoted,
    /// `"..."`.
    DoubleQuoted,
    /// `|` block.
    Literal,
    /// `>` block.
    Folded,
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node starts (for a block scalar: its first content line).
    pub pos: Pos,
    /// What the node holds.
    pub kind: NodeKind,
}

/// The three shapes of YAML nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar and how it was written.
    Scalar(String, Style),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>),
}

/// One document of a YAML stream.
#[derive(Debug, Clone)]
pub struct YamlDoc {
    /// Zero-based index of the document in its file.
    pub index: usize,
    /// Where the document's content starts.
    pub pos: Pos,
    /// The document's root node; `None` for an empty document (`---` with nothing after it).
    pub root: Option<Node>,
    /// Keys written twice in one mapping (Kubernetes' strict decoding rejects them).
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// A mapping key written a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The key.
    pub key: String,
    /// Where it was first written.
    pub first: Pos,
    /// Where it was written again.
    pub again: Pos,
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// What the parser expected.
    pub message: String,
}

impl Node {
    /// The scalar's text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Converts the tree to JSON with YAML 1.2 core-schema scalar resolution.
    pub fn to_json(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar(s, style) => scalar_to_json(s, *style),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(key_text(k), v.to_json());
                }
                Value::Object(map)
            }
        }
    }
}

/// The text Kubernetes' YAML reader would use for a mapping key.
pub fn key_text(key: &Node) -> String {
    match &key.kind {
        NodeKind::Scalar(s, _) => s.clone(),
        _ => key.to_json().to_string(),
    }
}

fn scalar_to_json(s: &str, style: Style) -> Value {
    if style != Style::Plain {
        return Value::String(s.to_string());
    }
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(s) {
        return Value::Number(n);
    }
    if looks_like_float(s) {
        if let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(s.to_string())
}

fn parse_int(s: &str) -> Option<Number> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    // `from_str_radix` accepts a sign of its own (`0x-8000000000000000` is i64::MIN, whose
    // negation overflows), so the digits are checked first: the core schema has none.
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        if !oct.bytes().all(|b| matches!(b, b'0'..=b'7')) {
            return None;
        }
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()?
    } else {
        return None;
    };
    Some(Number::from(if neg { -value } else { value }))
}

fn looks_like_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut digits = 0;
    let mut dot = false;
    let mut exp = false;
    let mut prev = ' ';
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' if !dot && !exp => dot = true,
            'e' | 'E' if digits > 0 && !exp => exp = true,
            '-' | '+' if prev == 'e' || prev == 'E' => {}
            _ => return false,
        }
        prev = c;
    }
    digits > 0 && (dot || exp)
}

/// Converts a parser mark to a position in the user's text, undoing any padding that
/// [`relax_flow_indentation`] added to that line.
fn pos_of(mark: &Marker, chunk: &Chunk<'_>) -> Pos {
    let line = mark.line() as u32;
    let pad = chunk
        .pads
        .get(line.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(0);
    let col = mark.col() as u32 + 1;
    Pos {
        line: line + chunk.first_line - 1,
        col: if col > pad { col - pad } else { col },
    }
}

/// One document's text and where it starts in the file.
struct Chunk<'a> {
    /// The text given to the parser (possibly re-indented, see [`relax_flow_indentation`]).
    text: std::borrow::Cow<'a, str>,
    /// File line of the chunk's first line.
    first_line: u32,
    /// Spaces added to each line of the chunk.
    pads: Vec<u32>,
}

/// Splits a stream at `---` lines so that a syntax error in one document does not hide the
/// others. Leading comments and directives stay with the document that follows them.
fn split_documents(text: &str) -> Vec<(u32, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut start_line = 1u32;
    let mut has_content = false;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let is_marker =
            line.starts_with("---") && line[3..].chars().next().is_none_or(char::is_whitespace);
        if is_marker && has_content {
            out.push((start_line, &text[start..offset]));
            start = offset;
            start_line = i as u32 + 1;
            has_content = false;
        }
        let body = line.trim();
        if !is_marker && !body.is_empty() && !body.starts_with('#') && !body.starts_with('%') {
            has_content = true;
        }
        offset += line.len();
    }
    if start < text.len() || out.is_empty() {
        out.push((start_line, &text[start..]));
    }
    out
}

/// Go's YAML reader (and so `kubectl`) accepts flow collections whose continuation lines
/// are not indented past their key, e.g. a closing `]` under `args:`; strict YAML 1.2
/// parsers reject them. Upstream Tekton examples use that style, so when the strict parse
/// fails on indentation, continuation lines inside `[...]`/`{...}` are padded and the
/// parse retried. Returns the padded text and the padding added to each line.
fn relax_flow_indentation(text: &str) -> Option<(String, Vec<u32>)> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut pads = Vec::new();
    let mut depth = 0usize;
    let mut flow_indent = 0usize;
    let mut block_parent: Option<usize> = None;
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = line.trim();
        if let Some(parent) = block_parent {
            if body.is_empty() || indent > parent {
                out.push_str(line);
                pads.push(0);
                continue;
            }
            block_parent = None;
        }
        let mut pad = 0;
        if depth > 0 && !body.is_empty() && indent <= flow_indent {
            pad = flow_indent + 1 - indent;
            changed = true;
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line);
        pads.push(pad as u32);
        let opened_at = depth == 0;
        depth = flow_depth_after(body, depth);
        if opened_at && depth > 0 {
            flow_indent = indent;
        }
        if depth == 0 && starts_block_scalar(body) {
            block_parent = Some(indent);
        }
    }
    changed.then_some((out, pads))
}

/// Flow nesting depth after a line: at depth 0 only a value that starts with `[`/`{` opens
/// a collection; quotes and comments are skipped.
fn flow_depth_after(line: &str, mut depth: usize) -> usize {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    let mut value_start = true;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' if depth > 0 || value_start => quote = Some(c),
                '#' if prev == ' ' || prev == '\t' => break,
                '[' | '{' if depth > 0 || value_start => depth += 1,
                ']' | '}' if depth > 0 => depth -= 1,
                _ => {}
            },
        }
        value_start = match c {
            ' ' | '\t' => value_start || prev == ':' || prev == '-',
            '[' | '{' | ',' => depth > 0,
            _ => false,
        };
        prev = c;
    }
    depth
}

/// True for `key: |`, `- >-` and friends.
fn starts_block_scalar(line: &str) -> bool {
    let value = match line.split_once(": ") {
        Some((_, v)) => v,
        None => line.strip_prefix("- ").unwrap_or(""),
    };
    let value = value.split(" #").next().unwrap_or("").trim();
    let mut chars = value.chars();
    matches!(chars.next(), Some('|' | '>')) && chars.all(|c| matches!(c, '+' | '-' | '0'..='9'))
}

/// An unfinished collection while the event stream is folded into a tree.
enum Frame {
    Seq(Pos, usize, Vec<Node>),
    Map(Pos, usize, Vec<(Node, Node)>, Option<Node>),
}

/// Parses a YAML stream: each document on its own, so one broken document leaves the
/// others readable.
pub fn parse_stream(text: &str) -> Vec<Result<YamlDoc, YamlError>> {
    let mut out = Vec::new();
    for (first_line, part) in split_documents(text) {
        let chunk = Chunk {
            text: part.into(),
            first_line,
            pads: Vec::new(),
        };
        let parsed = match parse_chunk(&chunk) {
            Err(e) if e.message.contains("indentation") => match relax_flow_indentation(part) {
                Some((relaxed, pads)) => parse_chunk(&Chunk {
                    text: relaxed.into(),
                    first_line,
                    pads,
                })
                .map_err(|_| e),
                None => Err(e),
            },
            other => other,
        };
        match parsed {
            Ok(docs) => out.extend(docs.into_iter().map(Ok)),
            Err(e) => out.push(Err(clamp_error(e, part, first_line))),
        }
    }
    for (i, doc) in out.iter_mut().enumerate() {
        if let Ok(d) = doc {
            d.index = i;
        }
    }
    out
}

/// A parser error at the very end of input (an unclosed `[` or quote) points past the last
/// line; show the last line with content instead.
fn clamp_error(mut e: YamlError, part: &str, first_line: u32) -> YamlError {
    let lines: Vec<&str> = part.lines().collect();
    let Some(last) = lines.iter().rposition(|l| !l.trim().is_empty()) else {
        return e;
    };
    let last_line = first_line + last as u32;
    if e.pos.line > last_line {
        e.pos = Pos {
            line: last_line,
            col: lines[last].chars().count() as u32 + 1,
        };
    }
    e
}

fn parse_chunk(chunk: &Chunk<'_>) -> Result<Vec<YamlDoc>, YamlError> {
    let mut parser = Parser::new_from_str(&chunk.text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;
    let mut doc_pos = Pos::default();
    let mut root: Option<Node> = None;
    let mut duplicates = Vec::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            pos: pos_of(e.marker(), chunk),
            message: e.info().to_string(),
        })?;
        let pos = pos_of(&mark, chunk);
        let finished: Option<(Node, usize)> = match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::Nothing => None,
            Event::DocumentStart => {
                doc_pos = pos;
                root = None;
                anchors.clear();
                None
            }
            Event::DocumentEnd => {
                if matches!(&root, Some(Node { kind: NodeKind::Scalar(s, Style::Plain), .. }) if s.is_empty() || s == "~" || s == "null")
                {
                    root = None;
                }
                docs.push(YamlDoc {
                    index: docs.len(),
                    pos: root.as_ref().map_or(doc_pos, |n| n.pos),
                    root: root.take(),
                    duplicate_keys: std::mem::take(&mut duplicates),
                });
                None
            }
            Event::Alias(id) => {
                let node = anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    pos,
                    message: "alias refers to an unknown anchor".into(),
                })?;
                nodes += count_nodes(&node);
                Some((node, 0))
            }
            Event::Scalar(text, style, anchor, _) => {
                nodes += 1;
                let style = match style {
                    TScalarStyle::SingleQuoted => Style::SingleQuoted,
                    TScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    TScalarStyle::Literal => Style::Literal,
                    TScalarStyle::Folded => Style::Folded,
                    _ => Style::Plain,
                };
                Some((
                    Node {
                        pos,
                        kind: NodeKind::Scalar(text, style),
                    },
                    anchor,
                ))
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(pos, anchor, Vec::new()));
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(pos, anchor, Vec::new(), None));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(pos, anchor, items)) => {
                    nodes += 1;
                    Some((
                        Node {
                            pos,
                            kind: NodeKind::Seq(items),
                        },
                        anchor,
                    ))
                }
                Some(Frame::Map(pos, anchor, entries, _)) => {
                    nodes += 1;
                    // The parser marks a block mapping after its first key; the key is
                    // where a reader expects it.
                    let pos = entries.first().map_or(pos, |(k, _)| k.pos.min(pos));
                    let entries = drop_duplicate_keys(entries, &mut duplicates);
                    Some((
                        Node {
                            pos,
                            kind: NodeKind::Map(apply_merge_keys(entries)),
                        },
                        anchor,
                    ))
                }
                None => None,
            },
        };
        if stack.len() > MAX_DEPTH {
            return Err(YamlError {
                pos,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        if nodes > MAX_NODES {
            return Err(YamlError {
                pos,
                message: format!(
                    "document expands to more than {MAX_NODES} nodes (alias expansion?)"
                ),
            });
        }
        if let Some((node, anchor)) = finished {
            if anchor > 0 {
                anchors.insert(anchor, node.clone());
            }
            match stack.last_mut() {
                Some(Frame::Seq(_, _, items)) => items.push(node),
                Some(Frame::Map(_, _, entries, pending)) => match pending.take() {
                    Some(key) => entries.push((key, node)),
                    None => *pending = Some(node),
                },
                None => root = Some(node),
            }
        }
    }
    Ok(docs)
}

fn count_nodes(node: &Node) -> usize {
    let mut count = 0;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.kind {
            NodeKind::Scalar(..) => {}
            NodeKind::Seq(items) => todo.extend(items),
            NodeKind::Map(entries) => {
                for (k, v) in entries {
                    todo.push(k);
                    todo.push(v);
                }
            }
        }
        if count > MAX_NODES {
            break;
        }
    }
    count
}

/// Records keys written twice and keeps only the last of each, as Go's decoder would if it
/// did not reject them, so typed decoding sees each field once.
fn drop_duplicate_keys(
    entries: Vec<(Node, Node)>,
    out: &mut Vec<DuplicateKey>,
) -> Vec<(Node, Node)> {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
    let mut first: HashMap<&str, Pos> = HashMap::new();
    for (i, (k, _)) in entries.iter().enumerate() {
        let Some(key) = k.as_str().filter(|k| *k != "<<") else {
            continue;
        };
        if let Some(&earlier) = last.get(key) {
            first.entry(key).or_insert(entries[earlier].0.pos);
            out.push(DuplicateKey {
                key: key.to_string(),
                first: first[key],
                again: k.pos,
            });
        }
        last.insert(key, i);
    }
    if first.is_empty() {
        return entries;
    }
    let keep: Vec<bool> = entries
        .iter()
        .enumerate()
        .map(|(i, (k, _))| {
            k.as_str()
                .is_none_or(|key| last.get(key).is_none_or(|&l| l == i))
        })
        .collect();
    entries
        .into_iter()
        .zip(keep)
        .filter_map(|(e, keep)| keep.then_some(e))
        .collect()
}

/// Applies YAML 1.1 `<<` merge keys: merged entries never override explicit ones.
fn apply_merge_keys(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    let is_merge = |k: &Node| matches!(&k.kind, NodeKind::Scalar(s, Style::Plain) if s == "<<");
    if !entries
        .iter()
        .any(|(k, v)| is_merge(k) && !matches!(v.kind, NodeKind::Scalar(..)))
    {
        return entries;
    }
    let mut own = Vec::new();
    let mut merged = Vec::new();
    for (k, v) in entries {
        if !is_merge(&k) {
            own.push((k, v));
            continue;
        }
        match v.kind {
            NodeKind::Map(inner) => merged.extend(inner),
            NodeKind::Seq(maps) => {
                for m in maps {
                    if let NodeKind::Map(inner) = m.kind {
                        merged.extend(inner);
                    }
                }
            }
            NodeKind::Scalar(..) => own.push((k, v)),
        }
    }
    for (k, v) in merged {
        let name = k.as_str().map(str::to_string);
        if !own
            .iter()
            .any(|(ok, _)| ok.as_str().map(str::to_string) == name)
        {
            own.push((k, v));
        }
    }
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        parse_stream(text).remove(0).unwrap().root.unwrap()
    }

    #[test]
    fn positions_point_at_keys_and_values() {
        let n = one("a: 1\nb:\n  - x\n  - name: y\n");
        let (k, v) = n.entry("b").unwrap();
        assert_eq!(k.pos, Pos { line: 2, col: 1 });
        let NodeKind::Seq(items) = &v.kind else {
            panic!()
        };
        assert_eq!(items[0].pos, Pos { line: 3, col: 5 });
        let (k, v) = items[1].entry("name").unwrap();
        assert_eq!(
            (k.pos, v.pos),
            (Pos { line: 4, col: 5 }, Pos { line: 4, col: 11 })
        );
    }

    #[test]
    fn scalars_resolve_like_the_core_schema() {
        let n = one("a: 1\nb: true\nc: '1'\nd: 1.5\ne: ~\nf: 0x10\ng: 1.2.3\nh: .inf\n");
        let json = n.to_json();
        assert_eq!(json["a"], 1);
        assert_eq!(json["b"], true);
        assert_eq!(json["c"], "1");
        assert_eq!(json["d"], 1.5);
        assert!(json["e"].is_null());
        assert_eq!(json["f"], 16);
        assert_eq!(json["g"], "1.2.3");
        assert_eq!(json["h"], ".inf");
    }

    #[test]
    fn many_documents_and_empty_ones() {
        let docs: Vec<YamlDoc> = parse_stream("a: 1\n---\n---\nb: 2\n")
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(docs.len(), 3);
        assert!(docs[1].root.is_none());
        assert_eq!(docs[2].root.as_ref().unwrap().pos.line, 4);
        assert_eq!(docs[2].index, 2);
    }

    #[test]
    fn aliases_and_merge_keys_expand() {
        let n = one("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n");
        assert_eq!(n.to_json()["c"], serde_json::json!({"y": 3, "x": 1}));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_stream(&text).remove(0).unwrap_err();
        assert!(err.message.contains("more than"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(10_000);
        assert!(parse_stream(&text)[0].is_err());
    }

    #[test]
    fn flow_collections_may_close_at_their_key_indentation() {
        let text = "a:\n  args: [\n    \"x\",\n  ]\n  script: |\n    echo [\n  b: [1,\n  2]\n";
        let n = one(text);
        assert_eq!(n.to_json()["a"]["args"], serde_json::json!(["x"]));
        assert_eq!(n.to_json()["a"]["b"], serde_json::json!([1, 2]));
        let (_, v) = n.get("a").unwrap().entry("b").unwrap();
        assert_eq!(v.pos, Pos { line: 7, col: 6 });
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_stream("a: b\n c: d\n").remove(0).unwrap_err();
        assert_eq!(err.pos.line, 2);
    }

    #[test]
    fn a_broken_document_does_not_hide_the_others() {
        let docs = parse_stream("a: 1\n---\nb: [\n---\n# note\nc: 3\n");
        assert_eq!(docs.len(), 3);
        assert!(docs[0].is_ok() && docs[2].is_ok());
        let err = docs[1].as_ref().unwrap_err();
        assert_eq!(
            err.pos.line, 3,
            "clamped to the last line of the file's content: {err:?}"
        );
        assert_eq!(docs[2].as_ref().unwrap().root.as_ref().unwrap().pos.line, 6);
    }

    #[test]
    fn duplicate_keys_are_recorded() {
        let doc = parse_stream("a:\n  x: 1\n  y: 2\n  x: 3\n")
            .remove(0)
            .unwrap();
        assert_eq!(
            doc.duplicate_keys,
            [DuplicateKey {
                key: "x".into(),
                first: Pos { line: 2, col: 3 },
                again: Pos { line: 4, col: 3 }
            }]
        );
    }
}
