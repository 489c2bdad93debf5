//! Loaded files and the mapping from object paths (`spec.tasks[0].name`) to positions.

use super::yaml::{Node, NodeKind, Pos, Style};

/// A file (or stdin) that was read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Display name: the path as given, or `<stdin>`.
    pub name: String,
    /// Full text.
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

/// A resolved position: line, column and the length to underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start.
    pub pos: Pos,
    /// Characters to underline.
    pub len: u32,
}

/// Whether a diagnostic points at a field's key or at its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Anchor {
    /// The value (default): scalars are underlined, collections point at their key.
    #[default]
    Value,
    /// The key (unknown fields, duplicates).
    Key,
    /// A byte range inside a scalar value (a malformed `$(...)`).
    Inside(usize, usize),
}

impl SourceFile {
    /// Wraps a file's text.
    pub fn new(name: impl Into<String>, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The text of a 1-based line, without its newline.
    pub fn line(&self, line: u32) -> Option<&str> {
        let idx = (line as usize).checked_sub(1)?;
        let start = *self.line_starts.get(idx)?;
        let end = self
            .line_starts
            .get(idx + 1)
            .map_or(self.text.len(), |e| e - 1);
        self.text.get(start..end.max(start))
    }

    /// Byte offset of a position (clamped to the text).
    pub fn offset(&self, pos: Pos) -> usize {
        let Some(line_start) = (pos.line as usize)
            .checked_sub(1)
            .and_then(|i| self.line_starts.get(i))
        else {
            return self.text.len();
        };
        let line = self.line(pos.line).unwrap_or("");
        let col_bytes: usize = line
            .chars()
            .take(pos.col.saturating_sub(1) as usize)
            .map(char::len_utf8)
            .sum();
        line_start + col_bytes
    }

    /// The line and column of a byte offset.
    pub fn pos_of_offset(&self, offset: usize) -> Pos {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..offset.min(self.text.len()))
            .map_or(0, |t| t.chars().count());
        Pos {
            line: line as u32,
            col: col as u32 + 1,
        }
    }

    /// Byte offsets of every line start.
    pub fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn parse_path(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else { break };
            match stripped[..end].parse() {
                Ok(i) => out.push(Segment::Index(i)),
                Err(_) => out.push(Segment::Key(&stripped[..end])),
            }
            rest = &stripped[end + 1..];
        }
    }
    out
}

/// The node at an object path, for in-place edits.
pub fn node_at_mut<'a>(root: &'a mut Node, path: &str) -> Option<&'a mut Node> {
    let mut node = root;
    for seg in parse_path(path) {
        node = match (&mut node.kind, seg) {
            (NodeKind::Map(entries), Segment::Key(k)) => {
                &mut entries
                    .iter_mut()
                    .find(|(key, _)| key.as_str() == Some(k))?
                    .1
            }
            (NodeKind::Seq(items), Segment::Index(i)) => items.get_mut(i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Finds where `path` is written in the tree rooted at `root`. When the path does not exist
/// in the source (a defaulted or missing field) the deepest existing ancestor is used.
pub fn locate(file: &SourceFile, root: &Node, path: &str, anchor: Anchor) -> Span {
    let mut node = root;
    let mut key: Option<&Node> = None;
    let mut complete = true;
    for seg in parse_path(path) {
        let next = match (&node.kind, &seg) {
            (NodeKind::Map(_), Segment::Key(k)) => node.entry(k).map(|(k, v)| (Some(k), v)),
            (NodeKind::Seq(items), Segment::Index(i)) => items.get(*i).map(|v| (None, v)),
            _ => None,
        };
        match next {
            Some((k, v)) => {
                key = k;
                node = v;
            }
            None => {
                complete = false;
                break;
            }
        }
    }
    let key_span = |k: &Node| Span {
        pos: k.pos,
        len: k.as_str().map_or(1, |s| s.chars().count().max(1) as u32),
    };
    match (anchor, &node.kind, key) {
        (Anchor::Inside(start, len), NodeKind::Scalar(text, style), _) if complete => {
            inside_scalar(file, node.pos, text, *style, start, len)
        }
        (Anchor::Key, _, Some(k)) => key_span(k),
        (_, NodeKind::Scalar(text, style), _) if complete => Span {
            pos: node.pos,
            len: scalar_width(text, *style),
        },
        (_, _, Some(k)) => key_span(k),
        _ => Span {
            pos: node.pos,
            len: 1,
        },
    }
}

fn scalar_width(text: &str, style: Style) -> u32 {
    match style {
        Style::Literal | Style::Folded => 1,
        _ => {
            let first = text.lines().next().unwrap_or("");
            let quotes = if style == Style::Plain { 0 } else { 2 };
            (first.chars().count() + quotes).max(1) as u32
        }
    }
}

/// Position of a byte range inside a scalar value. Literal blocks map line by line; every
/// other style is walked in the source, undoing quotes, escapes and line folding.
fn inside_scalar(
    file: &SourceFile,
    at: Pos,
    text: &str,
    style: Style,
    start: usize,
    len: usize,
) -> Span {
    let start = floor_char_boundary(text, start.min(text.len()));
    let before = &text[..start];
    let width = text
        .get(start..(start + len).min(text.len()))
        .map_or(1, |s| s.chars().count().max(1)) as u32;
    if style == Style::Literal {
        // Block scalars are marked at their first content line, at the indentation.
        let line_no = before.matches('\n').count() as u32;
        let col_in_line = before.rsplit('\n').next().unwrap_or("").chars().count() as u32;
        let pos = Pos {
            line: at.line + line_no,
            col: at.col + col_in_line,
        };
        return Span { pos, len: width };
    }
    let raw_start =
        file.offset(at) + usize::from(matches!(style, Style::SingleQuoted | Style::DoubleQuoted));
    let raw_at = walk_source(&file.text, raw_start, before, style);
    Span {
        pos: file.pos_of_offset(raw_at),
        len: width,
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The source offset where `value_prefix` ends, reading the scalar from `raw` at `from`.
fn walk_source(raw: &str, from: usize, value_prefix: &str, style: Style) -> usize {
    let bytes = raw.as_bytes();
    let mut ri = from.min(raw.len());
    let mut value = value_prefix.chars().peekable();
    while let Some(&vc) = value.peek() {
        let Some(rc) = raw[ri..].chars().next() else {
            break;
        };
        if style == Style::DoubleQuoted && rc == '\\' {
            let next = raw[ri + 1..].chars().next().unwrap_or(' ');
            let raw_len = match next {
                'x' => 4,
                'u' => 6,
                'U' => 10,
                '\n' => {
                    // Line continuation: no value character.
                    ri += 2;
                    while ri < raw.len() && matches!(bytes[ri], b' ' | b'\t') {
                        ri += 1;
                    }
                    continue;
                }
                c => 1 + c.len_utf8(),
            };
            ri = (ri + raw_len).min(raw.len());
            value.next();
            continue;
        }
        if style == Style::SingleQuoted && raw[ri..].starts_with("''") {
            ri += 2;
            value.next();
            continue;
        }
        if rc == vc {
            ri += rc.len_utf8();
            value.next();
        } else if rc == '\n' || rc == '\r' {
            ri += 1;
            while ri < raw.len() && matches!(bytes[ri], b' ' | b'\t') {
                ri += 1;
            }
            if vc == ' ' || vc == '\n' {
                value.next();
            }
        } else if rc == ' ' || rc == '\t' {
            ri += 1;
        } else {
            break;
        }
    }
    ri
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml::parse_stream;

    fn setup(text: &str) -> (SourceFile, Node) {
        let root = parse_stream(text).remove(0).unwrap().root.unwrap();
        (SourceFile::new("t.yaml", text.to_string()), root)
    }

    #[test]
    fn locates_values_keys_and_missing_fields() {
        let (f, root) = setup("spec:\n  tasks:\n    - name: Bad_Name\n      runAfter: [x]\n");
        let s = locate(&f, &root, "spec.tasks[0].name", Anchor::Value);
        assert_eq!((s.pos.line, s.pos.col, s.len), (3, 13, 8));
        let s = locate(&f, &root, "spec.tasks[0].name", Anchor::Key);
        assert_eq!((s.pos.line, s.pos.col, s.len), (3, 7, 4));
        let s = locate(&f, &root, "spec.tasks[0].runAfter[0]", Anchor::Value);
        assert_eq!((s.pos.line, s.pos.col), (4, 18));
        let s = locate(&f, &root, "spec.tasks[0].taskRef", Anchor::Value);
        assert_eq!(
            (s.pos.line, s.pos.col),
            (3, 7),
            "missing field falls back to its parent"
        );
    }

    #[test]
    fn locates_inside_literal_blocks_and_quotes() {
        let (f, root) = setup("script: |\n  echo hi\n  echo $(params.)\nq: \"a $(x\"\n");
        let text = root.get("script").unwrap().as_str().unwrap();
        let at = text.find("$(").unwrap();
        let s = locate(&f, &root, "script", Anchor::Inside(at, 2));
        assert_eq!((s.pos.line, s.pos.col), (3, 8));
        let s = locate(&f, &root, "q", Anchor::Inside(2, 2));
        assert_eq!((s.pos.line, s.pos.col), (4, 7));
    }

    #[test]
    fn locates_inside_escaped_quoted_and_folded_scalars() {
        let text = "d: \"say \\\"hi\\\" $(x.y)\"\ns: 'it''s $(x.y)'\nf: >\n  one\n  two $(x.y)\np: one\n  two $(x.y)\n";
        let (f, root) = setup(text);
        for (key, line, col) in [("d", 1, 16), ("s", 2, 11), ("f", 5, 7), ("p", 7, 7)] {
            let value = root.get(key).unwrap().as_str().unwrap();
            let at = value.find("$(").unwrap();
            let s = locate(&f, &root, key, Anchor::Inside(at, 2));
            assert_eq!((s.pos.line, s.pos.col), (line, col), "{key}: {value:?}");
        }
    }
}
