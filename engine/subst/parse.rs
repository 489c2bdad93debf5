//! The grammar of the expression inside `$(...)`: one function per root.
//!
//! Deciding "Tekton or shell" happens once, on the root word; after that every deviation is an
//! error pointing at the first byte that does not fit, because a known root followed by `.` or
//! `[` is far more likely a mistyped variable than shell.

use super::cursor::Cursor;
use super::var::{is_name_char, is_quoted_name_char, Access, Var};
use super::SubstError;

type Parse<T> = Result<T, SubstError>;

/// A parser for what follows one root word.
type RootParser = fn(&mut Cursor<'_>) -> Parse<Var>;

const ROOTS: &[(&str, RootParser)] = &[
    ("params", params),
    ("inputs", inputs),
    ("tasks", tasks),
    ("finally", finally),
    ("context", context),
    ("workspaces", workspaces),
    ("results", results),
    ("steps", steps),
    ("step", step),
    ("credentials", credentials),
    ("artifacts", artifacts),
];

const TASK_FIELDS: &[&str] = &["results", "status", "reason", "matrix", "outputs", "inputs"];

/// A successfully parsed reference: its variable and the byte just past its `)`.
pub(super) struct Parsed {
    pub(super) var: Var,
    pub(super) end: usize,
}

/// Parses the reference whose `$(` is at `start`; `None` when it is shell, not a Tekton variable.
pub(super) fn parse_at(src: &str, start: usize) -> Option<Parse<Parsed>> {
    let mut cur = Cursor::new(src, start);
    let parse_root = root(&mut cur)?;
    let var = parse_root(&mut cur);
    Some(var.map(|var| Parsed {
        var,
        end: cur.pos(),
    }))
}

/// The parser for the root word at the cursor, if it is a Tekton root followed by `.` or `[`.
fn root(cur: &mut Cursor<'_>) -> Option<RootParser> {
    let word = cur.take_while(is_name_char);
    let (_, parser) = ROOTS.iter().find(|(root, _)| *root == word)?;
    matches!(cur.peek(), Some('.' | '[')).then_some(*parser)
}

fn params(cur: &mut Cursor<'_>) -> Parse<Var> {
    let name = segment(cur, "parameter name")?;
    let access = access(cur)?;
    close_after(cur, &name, &|| "params".to_string())?;
    Ok(Var::Param {
        name: name.text,
        access,
    })
}

/// `inputs.params…`, the v1beta1 spelling of `params…`.
fn inputs(cur: &mut Cursor<'_>) -> Parse<Var> {
    dot_keyword(cur, &["params"])?;
    params(cur)
}

fn tasks(cur: &mut Cursor<'_>) -> Parse<Var> {
    cur.expect('.', "`.`")?;
    let task = dot_name(cur, "task name")?;
    if task == "status" && cur.eat(')') {
        return Ok(Var::TasksStatus);
    }
    let var = match dot_keyword(cur, TASK_FIELDS)? {
        "results" => {
            let (result, access) = result(cur, &|| format!("tasks.{task}.results"))?;
            return Ok(Var::TaskResult {
                task,
                result,
                access,
            });
        }
        "matrix" => return matrix(cur, task),
        "status" => Var::TaskStatus { task },
        "reason" => Var::TaskReason { task },
        "outputs" => Var::TaskOutputs {
            name: after_dot(cur, "artifact name")?,
            task,
        },
        _ => Var::TaskInputs {
            name: after_dot(cur, "artifact name")?,
            task,
        },
    };
    close(cur)?;
    Ok(var)
}

fn finally(cur: &mut Cursor<'_>) -> Parse<Var> {
    cur.expect('.', "`.`")?;
    let task = dot_name(cur, "task name")?;
    dot_keyword(cur, &["results"])?;
    let (result, access) = result(cur, &|| format!("finally.{task}.results"))?;
    Ok(Var::FinallyResult {
        task,
        result,
        access,
    })
}

/// `.length` or `.R.length` after `tasks.T.matrix`; `R` may contain dots, `length` is the last part.
fn matrix(cur: &mut Cursor<'_>, task: String) -> Parse<Var> {
    cur.expect('.', "`.length` or `.<result>.length`")?;
    let start = cur.pos();
    let text = cur.take_while(|c| is_name_char(c) || c == '.');
    let var = if text == "length" {
        Var::MatrixLength { task }
    } else if let Some(result) = strip_last_part(text, "length") {
        Var::MatrixResultLength {
            task,
            result: result.to_owned(),
        }
    } else if text.is_empty() {
        return Err(cur.expected("`length` or `<result>.length`"));
    } else {
        return Err(SubstError::new(
            start..cur.pos(),
            format!("expected `length` or `<result>.length` after `tasks.{task}.matrix.`, found `{text}`"),
        ));
    };
    close(cur)?;
    Ok(var)
}

/// Any dotted path: which `context.*` variables exist depends on where it is used.
fn context(cur: &mut Cursor<'_>) -> Parse<Var> {
    let mut path = vec![after_dot(cur, "context variable name")?];
    while cur.eat('.') {
        path.push(dot_name(cur, "context variable name")?);
    }
    close(cur)?;
    Ok(Var::Context { path })
}

fn workspaces(cur: &mut Cursor<'_>) -> Parse<Var> {
    let name = after_dot(cur, "workspace name")?;
    cur.expect('.', "`.path`, `.bound`, `.claim` or `.volume`")?;
    let attr = dot_name(cur, "workspace attribute")?;
    close(cur)?;
    Ok(Var::Workspace { name, attr })
}

fn results(cur: &mut Cursor<'_>) -> Parse<Var> {
    let name = result_path(cur)?;
    close(cur)?;
    Ok(Var::ResultPath { name })
}

fn step(cur: &mut Cursor<'_>) -> Parse<Var> {
    let var = if dot_keyword(cur, &["results", "artifacts"])? == "results" {
        Var::StepResultPath {
            name: result_path(cur)?,
        }
    } else {
        dot_keyword(cur, &["path"])?;
        Var::StepArtifactsPath
    };
    close(cur)?;
    Ok(var)
}

fn steps(cur: &mut Cursor<'_>) -> Parse<Var> {
    let step = after_dot(cur, "step name")?;
    let var = match dot_keyword(cur, &["results", "exitCode", "outputs", "inputs"])? {
        "results" => {
            let (result, access) = result(cur, &|| format!("steps.{step}.results"))?;
            return Ok(Var::StepResult {
                step,
                result,
                access,
            });
        }
        "outputs" => Var::StepOutputs {
            name: after_dot(cur, "artifact name")?,
            step,
        },
        "inputs" => Var::StepInputs {
            name: after_dot(cur, "artifact name")?,
            step,
        },
        _ => {
            dot_keyword(cur, &["path"])?;
            Var::StepExitCodePath { step }
        }
    };
    close(cur)?;
    Ok(var)
}

fn credentials(cur: &mut Cursor<'_>) -> Parse<Var> {
    dot_keyword(cur, &["path"])?;
    close(cur)?;
    Ok(Var::CredentialsPath)
}

fn artifacts(cur: &mut Cursor<'_>) -> Parse<Var> {
    dot_keyword(cur, &["path"])?;
    close(cur)?;
    Ok(Var::ArtifactsPath)
}

/// A result name, its access and the closing `)`; `prefix` is the text before the name, for hints.
fn result(cur: &mut Cursor<'_>, prefix: &dyn Fn() -> String) -> Parse<(String, Access)> {
    let name = segment(cur, "result name")?;
    let access = access(cur)?;
    close_after(cur, &name, prefix)?;
    Ok((name.text, access))
}

/// `.R.path`, `["R"].path` or `['R'].path`; in dot form `R` may contain dots, `path` is the last part.
fn result_path(cur: &mut Cursor<'_>) -> Parse<String> {
    if cur.eat('[') {
        let name = bracketed(cur, "result name")?;
        dot_keyword(cur, &["path"])?;
        return Ok(name);
    }
    cur.expect('.', "`.` or `[` and result name")?;
    let (start, before) = (cur.pos(), cur.parsed());
    let text = cur.take_while(|c| is_name_char(c) || c == '.');
    if let Some(name) = strip_last_part(text, "path") {
        return Ok(name.to_owned());
    }
    if text.is_empty() {
        return Err(cur.expected("result name"));
    }
    let error = SubstError::new(
        start..cur.pos(),
        format!("expected `<result>.path`, found `{text}`"),
    );
    if text.split('.').any(str::is_empty) {
        return Err(error);
    }
    Err(error.with_hint(format!("did you mean `$({before}{text}.path)`?")))
}

/// `text` without its final `.{last}`, if what remains is a name made of non-empty dotted parts.
fn strip_last_part<'t>(text: &'t str, last: &str) -> Option<&'t str> {
    let name = text.strip_suffix(last)?.strip_suffix('.')?;
    let well_formed = !name.is_empty() && name.split('.').all(|part| !part.is_empty());
    well_formed.then_some(name)
}

/// A name as written, remembering where a dot-form name starts so errors can suggest brackets.
struct Name {
    text: String,
    dot_start: Option<usize>,
}

/// `.name`, `['name']` or `["name"]`.
fn segment(cur: &mut Cursor<'_>, what: &str) -> Parse<Name> {
    if cur.eat('[') {
        let text = bracketed(cur, what)?;
        return Ok(Name {
            text,
            dot_start: None,
        });
    }
    if !cur.eat('.') {
        return Err(cur.expected(&format!("`.` or `[` and {what}")));
    }
    let dot_start = Some(cur.pos());
    let text = dot_name(cur, what)?;
    Ok(Name { text, dot_start })
}

/// What may follow a param or result name: nothing, `[*]`, `[i]`, `.key`, `['key']` or `["key"]`.
fn access(cur: &mut Cursor<'_>) -> Parse<Access> {
    if cur.eat('.') {
        return dot_name(cur, "object key").map(Access::Key);
    }
    if !cur.eat('[') {
        return Ok(Access::Whole);
    }
    let access = match cur.peek() {
        Some('*') => {
            cur.bump();
            Access::Star
        }
        Some(quote @ ('\'' | '"')) => Access::Key(quoted(cur, quote, "object key")?),
        Some(c) if c.is_ascii_digit() => Access::Index(index(cur)?),
        _ => return Err(bad_index(cur)),
    };
    cur.expect(']', "`]`")?;
    Ok(access)
}

fn index(cur: &mut Cursor<'_>) -> Parse<usize> {
    let start = cur.pos();
    let digits = cur.take_while(|c| c.is_ascii_digit());
    digits.parse().map_err(|_| {
        SubstError::new(
            start..cur.pos(),
            format!("array index `{digits}` is too large"),
        )
    })
}

/// The error for a `[` followed by neither an index, `*` nor a quoted key.
fn bad_index(cur: &Cursor<'_>) -> SubstError {
    let expected = cur.expected("array index, `*` or quoted key");
    let mut probe = cur.clone();
    probe.bump();
    if cur.peek() != Some('-') || probe.take_while(|c| c.is_ascii_digit()).is_empty() {
        return expected;
    }
    SubstError::new(cur.pos()..probe.pos(), "array index must not be negative")
        .with_hint("indexes count from 0 at the start of the array")
}

/// After `[`: a quoted name and the closing `]`.
fn bracketed(cur: &mut Cursor<'_>, what: &str) -> Parse<String> {
    let Some(quote @ ('\'' | '"')) = cur.peek() else {
        return Err(cur
            .expected(&format!("quoted {what}"))
            .with_hint("quote names in brackets: `[\"name\"]` or `['name']`"));
    };
    let text = quoted(cur, quote, what)?;
    cur.expect(']', "`]`")?;
    Ok(text)
}

/// A name between `quote`s, starting at the opening quote.
fn quoted(cur: &mut Cursor<'_>, quote: char, what: &str) -> Parse<String> {
    let open = cur.pos();
    cur.bump();
    let text = cur.take_while(is_quoted_name_char);
    if cur.eat(quote) {
        if text.is_empty() {
            return Err(SubstError::new(
                open..cur.pos(),
                format!("expected {what}, found empty quotes"),
            ));
        }
        return Ok(text.to_owned());
    }
    match cur.peek() {
        Some(c) if !matches!(c, '\'' | '"' | ']' | ')') => Err(SubstError::new(
            cur.here(),
            format!("`{}` is not allowed in a {what}", c.escape_debug()),
        )
        .with_hint("quoted names may contain letters, digits, `_`, `-`, `.` and `/`")),
        _ => Err(cur.expected(&format!("`{quote}` to close the quoted {what}"))),
    }
}

/// A name after a `.` the caller has already consumed.
fn dot_name(cur: &mut Cursor<'_>, what: &str) -> Parse<String> {
    let name = cur.take_while(is_name_char);
    if name.is_empty() {
        return Err(cur.expected(what));
    }
    Ok(name.to_owned())
}

/// `.` and then a name.
fn after_dot(cur: &mut Cursor<'_>, what: &str) -> Parse<String> {
    if !cur.eat('.') {
        return Err(cur.expected(&format!("`.` and {what}")));
    }
    dot_name(cur, what)
}

/// `.` and then one of the fixed words `choices`; a near miss gets a "did you mean" hint.
fn dot_keyword(cur: &mut Cursor<'_>, choices: &[&'static str]) -> Parse<&'static str> {
    if !cur.eat('.') {
        return Err(cur.expected(&list(choices.iter().map(|choice| format!("`.{choice}`")))));
    }
    let listed = || list(choices.iter().map(|choice| format!("`{choice}`")));
    let (start, after) = (cur.pos(), cur.parsed());
    let word = cur.take_while(is_name_char);
    if let Some(choice) = choices.iter().find(|choice| **choice == word) {
        return Ok(choice);
    }
    if word.is_empty() {
        return Err(cur.expected(&listed()));
    }
    let error = SubstError::new(
        start..cur.pos(),
        format!("expected {} after `{after}`, found `{word}`", listed()),
    );
    Err(match closest(word, choices) {
        Some(choice) => error.with_hint(format!("did you mean `{choice}`?")),
        None => error,
    })
}

/// The choice within a couple of typos of `word`, if any.
fn closest(word: &str, choices: &[&'static str]) -> Option<&'static str> {
    choices
        .iter()
        .map(|choice| (strsim::levenshtein(word, choice), *choice))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, choice)| choice)
}

/// "a", "a or b", "a, b or c".
fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => items.concat(),
    }
}

fn close(cur: &mut Cursor<'_>) -> Parse<()> {
    cur.expect(')', "`)`")
}

/// `)` after a param or result; a `.` or `/` here after a dot-form name means it needed brackets.
fn close_after(cur: &mut Cursor<'_>, name: &Name, prefix: &dyn Fn() -> String) -> Parse<()> {
    if cur.eat(')') {
        return Ok(());
    }
    let (Some(start), Some('.' | '/')) = (name.dot_start, cur.peek()) else {
        return Err(cur.expected("`)`"));
    };
    let src = cur.src();
    let written = &src[start..cur.pos()];
    if !written.chars().all(is_quoted_name_char) {
        return Err(cur.expected("`)`"));
    }
    let rest = cur.rest();
    let end = cur.pos() + rest.find(|c| !is_quoted_name_char(c)).unwrap_or(rest.len());
    let prefix = prefix();
    let what = if src[start..end].contains('/') {
        "`/` or dots"
    } else {
        "dots"
    };
    Err(SubstError::new(
        cur.pos()..end,
        format!(
            "expected `)` after `{prefix}.{written}`, found `{}`",
            &src[cur.pos()..end]
        ),
    )
    .with_hint(format!(
        "use $({prefix}[\"{}\"]) for names with {what}",
        &src[start..end]
    )))
}

#[cfg(test)]
mod tests {
    use super::super::{scan, sole_reference, SubstError};
    use super::*;

    /// The variable `text` holds as its only content.
    #[track_caller]
    fn var(text: &str) -> Var {
        match sole_reference(text) {
            Some(reference) => reference.var,
            None => panic!("{text} is not a reference: {:?}", scan(text).errors),
        }
    }

    /// The single error scanning `text` reports.
    #[track_caller]
    fn error(text: &str) -> SubstError {
        let scan = scan(text);
        assert!(scan.refs.is_empty(), "{text}: {:?}", scan.refs);
        assert_eq!(scan.errors.len(), 1, "{text}: {:?}", scan.errors);
        scan.errors[0].clone()
    }

    /// Asserts the single error in `text` covers exactly `offending` at byte `at`.
    #[track_caller]
    fn error_at(text: &str, at: usize, offending: &str) -> SubstError {
        let error = error(text);
        assert_eq!(error.span, at..at + offending.len(), "{text}: {error:?}");
        assert_eq!(&text[error.span.clone()], offending);
        error
    }

    fn param(name: &str, access: Access) -> Var {
        Var::Param {
            name: name.into(),
            access,
        }
    }

    fn key(k: &str) -> Access {
        Access::Key(k.into())
    }

    fn task_result(task: &str, result: &str, access: Access) -> Var {
        Var::TaskResult {
            task: task.into(),
            result: result.into(),
            access,
        }
    }

    #[test]
    fn param_spellings() {
        let a = param("a", Access::Whole);
        assert_eq!(var("$(params.a)"), a);
        assert_eq!(var(r#"$(params["a"])"#), a);
        assert_eq!(var("$(params['a'])"), a);
        assert_eq!(var("$(inputs.params.a)"), a);
        assert_eq!(var(r#"$(inputs.params["a"])"#), a);
        assert_eq!(
            var("$(params.my_param-2)"),
            param("my_param-2", Access::Whole)
        );
    }

    #[test]
    fn dotted_param_names_need_brackets() {
        assert_eq!(var(r#"$(params["a.b"])"#), param("a.b", Access::Whole));
        assert_eq!(var("$(params['a.b.c'])"), param("a.b.c", Access::Whole));
        assert_eq!(
            var(r#"$(params["org/repo"])"#),
            param("org/repo", Access::Whole)
        );
    }

    #[test]
    fn param_array_access() {
        assert_eq!(var("$(params.a[*])"), param("a", Access::Star));
        assert_eq!(var("$(params.a[0])"), param("a", Access::Index(0)));
        assert_eq!(var("$(params.a[12])"), param("a", Access::Index(12)));
        assert_eq!(var(r#"$(params["a.b"][*])"#), param("a.b", Access::Star));
        assert_eq!(var("$(params['a'][3])"), param("a", Access::Index(3)));
    }

    #[test]
    fn param_object_access() {
        assert_eq!(var("$(params.o.key)"), param("o", key("key")));
        assert_eq!(var(r#"$(params["o"].key)"#), param("o", key("key")));
        assert_eq!(var(r#"$(params.o["key"])"#), param("o", key("key")));
        assert_eq!(var("$(params.o['k.e/y'])"), param("o", key("k.e/y")));
        assert_eq!(var("$(params.o[*])"), param("o", Access::Star));
    }

    #[test]
    fn task_results() {
        let r = task_result("t", "r", Access::Whole);
        assert_eq!(var("$(tasks.t.results.r)"), r);
        assert_eq!(var(r#"$(tasks.t.results["r"])"#), r);
        assert_eq!(var("$(tasks.t.results['r'])"), r);
        assert_eq!(
            var("$(tasks.t.results.r[*])"),
            task_result("t", "r", Access::Star)
        );
        assert_eq!(
            var("$(tasks.t.results.r[1])"),
            task_result("t", "r", Access::Index(1))
        );
        assert_eq!(
            var("$(tasks.t.results['r'][2])"),
            task_result("t", "r", Access::Index(2))
        );
        assert_eq!(
            var("$(tasks.t.results.r.key)"),
            task_result("t", "r", key("key"))
        );
        assert_eq!(
            var(r#"$(tasks.t.results["r"].key)"#),
            task_result("t", "r", key("key"))
        );
        assert_eq!(
            var(r#"$(tasks.t.results["r.x"])"#),
            task_result("t", "r.x", Access::Whole)
        );
    }

    #[test]
    fn finally_results() {
        let r = Var::FinallyResult {
            task: "f".into(),
            result: "r".into(),
            access: Access::Whole,
        };
        assert_eq!(var("$(finally.f.results.r)"), r);
        assert_eq!(var("$(finally.f.results['r'])"), r);
        let keyed = Var::FinallyResult {
            task: "f".into(),
            result: "r".into(),
            access: key("k"),
        };
        assert_eq!(var("$(finally.f.results.r.k)"), keyed);
    }

    #[test]
    fn task_states() {
        let t = || "t".to_string();
        assert_eq!(var("$(tasks.t.status)"), Var::TaskStatus { task: t() });
        assert_eq!(var("$(tasks.t.reason)"), Var::TaskReason { task: t() });
        assert_eq!(var("$(tasks.status)"), Var::TasksStatus);
        let status = || "status".to_string();
        assert_eq!(
            var("$(tasks.status.status)"),
            Var::TaskStatus { task: status() }
        );
        assert_eq!(
            var("$(tasks.status.results.r)"),
            task_result("status", "r", Access::Whole)
        );
    }

    #[test]
    fn matrix_lengths() {
        let t = || "t".to_string();
        assert_eq!(
            var("$(tasks.t.matrix.length)"),
            Var::MatrixLength { task: t() }
        );
        let result = |r: &str| Var::MatrixResultLength {
            task: t(),
            result: r.into(),
        };
        assert_eq!(var("$(tasks.t.matrix.r.length)"), result("r"));
        assert_eq!(var("$(tasks.t.matrix.length.length)"), result("length"));
        assert_eq!(var("$(tasks.t.matrix.a.b.length)"), result("a.b"));
    }

    #[test]
    fn artifacts() {
        let names = |task: &str, name: &str| (task.to_string(), name.to_string());
        let (task, name) = names("t", "a");
        assert_eq!(var("$(tasks.t.outputs.a)"), Var::TaskOutputs { task, name });
        let (task, name) = names("t", "a");
        assert_eq!(var("$(tasks.t.inputs.a)"), Var::TaskInputs { task, name });
        assert_eq!(var("$(artifacts.path)"), Var::ArtifactsPath);
        assert_eq!(var("$(step.artifacts.path)"), Var::StepArtifactsPath);
    }

    #[test]
    fn context_keeps_any_path() {
        let cases = [
            "context.pipelineRun.name",
            "context.pipelineRun.namespace",
            "context.pipelineRun.uid",
            "context.pipeline.name",
            "context.pipelineTask.retries",
            "context.taskRun.name",
            "context.taskRun.namespace",
            "context.taskRun.uid",
            "context.task.name",
            "context.task.retry-count",
            "context.made.up.path",
        ];
        for text in cases {
            let path = text.split('.').skip(1).map(String::from).collect();
            assert_eq!(var(&format!("$({text})")), Var::Context { path });
        }
    }

    #[test]
    fn workspaces_keep_attribute() {
        for attr in ["path", "bound", "claim", "volume", "other"] {
            let expected = Var::Workspace {
                name: "src".into(),
                attr: attr.into(),
            };
            assert_eq!(var(&format!("$(workspaces.src.{attr})")), expected);
        }
    }

    #[test]
    fn result_paths() {
        let path = |name: &str| Var::ResultPath { name: name.into() };
        assert_eq!(var("$(results.r.path)"), path("r"));
        assert_eq!(var(r#"$(results["r"].path)"#), path("r"));
        assert_eq!(var("$(results['r'].path)"), path("r"));
        assert_eq!(var("$(results.a.b.path)"), path("a.b"));
        assert_eq!(var("$(results.path.path)"), path("path"));
    }

    #[test]
    fn step_paths() {
        let path = |name: &str| Var::StepResultPath { name: name.into() };
        assert_eq!(var("$(step.results.r.path)"), path("r"));
        assert_eq!(var(r#"$(step.results["r"].path)"#), path("r"));
        assert_eq!(var("$(step.results['r'].path)"), path("r"));
        assert_eq!(var("$(credentials.path)"), Var::CredentialsPath);
    }

    #[test]
    fn step_results() {
        let result = |access| Var::StepResult {
            step: "s".into(),
            result: "r".into(),
            access,
        };
        assert_eq!(var("$(steps.s.results.r)"), result(Access::Whole));
        assert_eq!(var("$(steps.s.results['r'])"), result(Access::Whole));
        assert_eq!(var("$(steps.s.results.r[*])"), result(Access::Star));
        assert_eq!(var("$(steps.s.results.r[0])"), result(Access::Index(0)));
        assert_eq!(var("$(steps.s.results.r.k)"), result(key("k")));
    }

    #[test]
    fn exit_code_paths_keep_step_prefix() {
        let path = |step: &str| Var::StepExitCodePath { step: step.into() };
        assert_eq!(var("$(steps.step-build.exitCode.path)"), path("step-build"));
        assert_eq!(
            var("$(steps.produce.outputs.image)"),
            Var::StepOutputs {
                step: "produce".into(),
                name: "image".into()
            }
        );
        assert_eq!(
            var("$(steps.consume.inputs.source)"),
            Var::StepInputs {
                step: "consume".into(),
                name: "source".into()
            }
        );
        assert_eq!(
            var("$(steps.step-unnamed-0.exitCode.path)"),
            path("step-unnamed-0")
        );
    }

    #[test]
    fn display_parses_back() {
        let texts = [
            "params.a",
            "params.a[*]",
            "params.o.k",
            r#"params["a.b"]"#,
            "tasks.t.results.r[3]",
            r#"tasks.t.results["r.x"].k"#,
            "finally.f.results.r",
            "tasks.t.matrix.a.b.length",
            r#"results["a.b"].path"#,
            "step.results.r.path",
            "steps.step-x.exitCode.path",
            "workspaces.w.claim",
            "context.task.retry-count",
            "tasks.t.outputs.a",
        ];
        for text in texts {
            assert_eq!(var(&format!("$({text})")).to_string(), text);
        }
    }

    #[test]
    fn empty_param_name() {
        let e = error_at("$(params.)", 9, ")");
        assert_eq!(e.message, "expected parameter name, found `)`");
    }

    #[test]
    fn non_numeric_index() {
        let e = error_at("$(params.a[x])", 11, "x");
        assert_eq!(
            e.message,
            "expected array index, `*` or quoted key, found `x`"
        );
    }

    #[test]
    fn negative_index() {
        let e = error_at("$(params.a[-1])", 11, "-1");
        assert_eq!(e.message, "array index must not be negative");
        error_at("$(params.a[-])", 11, "-");
    }

    #[test]
    fn huge_index() {
        let digits = "99999999999999999999999999";
        error_at(&format!("$(params.a[{digits}])"), 11, digits);
    }

    #[test]
    fn unterminated_quote() {
        let e = error_at("$(params['a)", 11, ")");
        assert_eq!(
            e.message,
            "expected `'` to close the quoted parameter name, found `)`"
        );
        error_at(r#"$(params["a'])"#, 11, "'");
    }

    #[test]
    fn unclosed_reference_spans_the_reference() {
        let e = error_at("echo $(params.a", 5, "$(params.a");
        assert!(e.message.starts_with("unclosed reference"), "{e:?}");
        assert!(e.hint.is_some());
        error_at("$(tasks.t.results.r[0", 0, "$(tasks.t.results.r[0");
        error_at("$(params['a", 0, "$(params['a");
    }

    #[test]
    fn reference_ends_at_line_end() {
        let e = error_at("echo $(params.a\necho)", 15, "\n");
        assert_eq!(e.message, "expected `)`, found `\\n`");
    }

    #[test]
    fn results_without_name() {
        let e = error_at("$(tasks.a.results)", 17, ")");
        assert!(e.message.contains("result name"), "{e:?}");
        error_at("$(tasks.a.results.)", 18, ")");
        error_at("$(finally.a.results)", 19, ")");
    }

    #[test]
    fn second_key_needs_brackets() {
        let e = error_at("$(params.a.b.c)", 12, ".c");
        assert_eq!(e.message, "expected `)` after `params.a.b`, found `.c`");
        assert_eq!(
            e.hint.as_deref(),
            Some(r#"use $(params["a.b.c"]) for names with dots"#)
        );
        let e = error_at("$(tasks.t.results.r.k.z)", 21, ".z");
        assert_eq!(
            e.hint.as_deref(),
            Some(r#"use $(tasks.t.results["r.k.z"]) for names with dots"#)
        );
        let e = error_at("$(params.a/b)", 10, "/b");
        assert_eq!(
            e.hint.as_deref(),
            Some(r#"use $(params["a/b"]) for names with `/` or dots"#)
        );
    }

    #[test]
    fn nothing_after_index() {
        let e = error_at("$(params.a[0].b)", 13, ".");
        assert_eq!(e.hint, None);
        error_at("$(params.a[0][1])", 13, "[");
        error_at("$(params.o['k'].x)", 15, ".");
    }

    #[test]
    fn bad_bracket_names() {
        let e = error_at("$(params[a])", 9, "a");
        assert!(e.hint.is_some());
        error_at(r#"$(params[""])"#, 9, r#""""#);
        let e = error_at(r#"$(params["a b"])"#, 11, " ");
        assert_eq!(e.message, "` ` is not allowed in a parameter name");
        error_at("$(params['a'x)", 12, "x");
    }

    #[test]
    fn multibyte_offending_chars() {
        error_at("é$(params.é)", 11, "é");
        error_at("$(params.a€)", 10, "€");
        error_at("$(params['a😀'])", 11, "😀");
    }

    #[test]
    fn keyword_typos_get_suggestions() {
        let e = error_at("$(tasks.a.result.b)", 10, "result");
        assert_eq!(
            e.message,
            "expected `results`, `status`, `reason`, `matrix`, `outputs` or `inputs` after `tasks.a.`, found `result`"
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean `results`?"));
        let e = error_at("$(steps.s.exitcode.path)", 10, "exitcode");
        assert_eq!(e.hint.as_deref(), Some("did you mean `exitCode`?"));
        let e = error_at("$(credentials.pth)", 14, "pth");
        assert_eq!(e.hint.as_deref(), Some("did you mean `path`?"));
        let e = error_at("$(tasks.a.something)", 10, "something");
        assert_eq!(e.hint, None);
    }

    #[test]
    fn incomplete_fixed_forms() {
        error_at("$(workspaces.w)", 14, ")");
        error_at("$(workspaces.w.path.x)", 19, ".");
        error_at("$(results.x)", 10, "x");
        error_at("$(results['x'])", 14, ")");
        error_at("$(step.results.r)", 15, "r");
        error_at("$(tasks.a.matrix.r)", 17, "r");
        error_at("$(tasks.a.matrix.r.length.x)", 17, "r.length.x");
        error_at("$(inputs.resources.x)", 9, "resources");
        error_at("$(tasks.a)", 9, ")");
        error_at("$(tasks[0])", 7, "[");
        error_at("$(context[0])", 9, "[");
        error_at("$(context.a..b)", 12, ".");
        error_at("$(artifacts.path.x)", 16, ".");
        error_at("$(params.a )", 10, " ");
    }
}
