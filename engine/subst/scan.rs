//! Finding every `$(...)` in a string and telling Tekton variables from shell.

use super::parse::{parse_at, Parsed};
use super::{ByteSpan, SubstError, Var};

/// One `$(...)` occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The whole `$(...)`, both delimiters included.
    pub span: ByteSpan,
    /// The expression between `$(` and `)`, as written.
    pub text: String,
    /// What the expression names.
    pub var: Var,
}

/// Everything found in one string: its references and its malformed references, each in source order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// The well-formed references; they never overlap.
    pub refs: Vec<Reference>,
    /// The references that start like Tekton's but do not parse.
    pub errors: Vec<SubstError>,
}

/// Scan a string: every Tekton reference it holds, plus errors for malformed ones.
pub fn scan(s: &str) -> Scan {
    let mut scan = Scan::default();
    for item in items(s) {
        match item {
            Ok(reference) => scan.refs.push(reference),
            Err(error) => scan.errors.push(error),
        }
    }
    scan
}

/// If the whole string is exactly one reference (e.g. `"$(params.a[*])"`), return it.
pub fn sole_reference(s: &str) -> Option<Reference> {
    if !s.starts_with("$(") {
        return None;
    }
    match parse_at(s, 0)? {
        Ok(parsed) if parsed.end == s.len() => Some(reference(s, 0, parsed)),
        _ => None,
    }
}

/// The references and errors of `s`, in source order.
pub(super) fn items(s: &str) -> Items<'_> {
    Items { src: s, pos: 0 }
}

/// Iterator behind [`items`]: walks `$` signs, skipping everything in between.
pub(super) struct Items<'a> {
    src: &'a str,
    pos: usize,
}

impl Iterator for Items<'_> {
    type Item = Result<Reference, SubstError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let at = self.pos + self.src.get(self.pos..)?.find('$')?;
            match self.src.as_bytes().get(at + 1) {
                // Kubernetes reads `$$` as a literal `$`, so neither sign can open a reference.
                Some(b'$') => self.pos = at + 2,
                Some(b'(') => {
                    // Resuming just inside a `$(` that is not a reference finds references nested in
                    // shell (`$(cat $(results.x.path))`) or in the malformed text.
                    self.pos = at + 2;
                    match parse_at(self.src, at) {
                        None => {}
                        Some(Ok(parsed)) => {
                            self.pos = parsed.end;
                            return Some(Ok(reference(self.src, at, parsed)));
                        }
                        Some(Err(error)) => return Some(Err(error)),
                    }
                }
                _ => self.pos = at + 1,
            }
        }
    }
}

fn reference(src: &str, start: usize, parsed: Parsed) -> Reference {
    Reference {
        span: start..parsed.end,
        text: src[start + 2..parsed.end - 1].to_owned(),
        var: parsed.var,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{substitute, Access};
    use super::*;

    fn vars(text: &str) -> Vec<String> {
        let scan = scan(text);
        assert_eq!(scan.errors, [], "{text}");
        scan.refs.iter().map(|r| r.var.to_string()).collect()
    }

    #[test]
    fn shell_is_not_a_reference() {
        let shell = [
            "$(date)",
            "$( echo )",
            "$((1+2))",
            "$(echo $(date))",
            "$(params)",
            "$(tasks)",
            "$(context)",
            "$(paramsx.a)",
            "$(params-x.a)",
            "$(PARAMS.a)",
            "$( params.a)",
            "${params.a}",
            "$params.a",
            "$",
            "$(",
            "text$",
            "$$(params.a)",
            "$$$$(params.a)",
            "echo $$ $(whoami)",
        ];
        for text in shell {
            let scan = scan(text);
            assert_eq!(scan, Scan::default(), "{text}");
        }
    }

    #[test]
    fn reference_nested_in_shell() {
        let text = "$(cat $(results.x.path))";
        let scan = scan(text);
        assert_eq!(scan.errors, []);
        assert_eq!(scan.refs.len(), 1);
        assert_eq!(scan.refs[0].span, 6..23);
        assert_eq!(scan.refs[0].text, "results.x.path");
        assert_eq!(&text[scan.refs[0].span.clone()], "$(results.x.path)");
    }

    #[test]
    fn odd_dollar_runs_leave_a_reference() {
        assert_eq!(vars("$$$(params.a)"), ["params.a"]);
        assert_eq!(vars("$$ $(params.a)"), ["params.a"]);
    }

    #[test]
    fn references_in_order() {
        let text = "a $(params.x) b $(tasks.t.results.r[*])$(context.taskRun.name)";
        assert_eq!(
            vars(text),
            ["params.x", "tasks.t.results.r[*]", "context.taskRun.name"]
        );
        let refs = scan(text).refs;
        assert_eq!(refs[0].span, 2..13);
        assert_eq!(refs[2].text, "context.taskRun.name");
    }

    #[test]
    fn scanning_resumes_inside_a_malformed_reference() {
        let scan = scan("$(params.a[$(params.b)])");
        assert_eq!(scan.errors.len(), 1);
        assert_eq!(scan.errors[0].span, 11..12);
        assert_eq!(scan.refs.len(), 1);
        assert_eq!(scan.refs[0].span, 11..22);
    }

    #[test]
    fn multiline_script() {
        let script = "#!/bin/sh\nset -e\nout=$(ls $(workspaces.src.path))\necho \"$(params['msg'])\" > $(results.out.path)\n";
        assert_eq!(
            vars(script),
            ["workspaces.src.path", "params.msg", "results.out.path"]
        );
    }

    #[test]
    fn sole_reference_is_exact() {
        let whole = sole_reference("$(params.a[*])").map(|r| r.var);
        let expected = Var::Param {
            name: "a".into(),
            access: Access::Star,
        };
        assert_eq!(whole, Some(expected));
        for text in [
            " $(params.a)",
            "$(params.a) ",
            "$(params.a)$(params.b)",
            "x$(params.a)",
            "$(params.a",
            "$(date)",
            "",
        ] {
            assert_eq!(sole_reference(text), None, "{text}");
        }
    }

    /// Pieces that, glued together, make most of the grammar's edge cases.
    const PIECES: &[&str] = &[
        "$",
        "(",
        ")",
        "[",
        "]",
        "'",
        "\"",
        ".",
        "*",
        "0",
        "-",
        "/",
        " ",
        "a",
        "é",
        "😀",
        "\n",
        "params",
        "tasks",
        "results",
        "steps",
        "step",
        "context",
        "workspaces",
        "finally",
        "inputs",
        "credentials",
        "artifacts",
        "$(",
        "$$",
        ".results",
        ".path",
        "status",
        "matrix",
        "length",
        "exitCode",
        "[*]",
        "['a']",
    ];

    /// Checks every invariant the module promises for `text`; panics say which one broke.
    fn check_invariants(text: &str) {
        let scan = scan(text);
        let mut last_end = 0;
        for r in &scan.refs {
            assert!(r.span.start >= last_end, "overlap in {text:?}");
            assert_eq!(text[r.span.clone()], format!("$({})", r.text), "{text:?}");
            let canonical = format!("$({})", r.var);
            let reparsed = sole_reference(&canonical).map(|again| again.var);
            assert_eq!(reparsed.as_ref(), Some(&r.var), "{canonical} from {text:?}");
            last_end = r.span.end;
        }
        for e in &scan.errors {
            assert!(!e.span.is_empty(), "empty span in {text:?}: {e:?}");
            assert!(text.get(e.span.clone()).is_some(), "{text:?}: {e:?}");
        }
        assert_eq!(substitute(text, |_| None), text);
        let removed: usize = scan.refs.iter().map(|r| r.span.len()).sum();
        assert_eq!(
            substitute(text, |_| Some(String::new())).len(),
            text.len() - removed
        );
    }

    #[test]
    fn every_short_combination_keeps_invariants() {
        let n = PIECES.len();
        for i in 0..n * n * n {
            let text = [i % n, i / n % n, i / n / n].map(|p| PIECES[p]).concat();
            check_invariants(&text);
            check_invariants(&format!("$(params{text}"));
            check_invariants(&format!("$(tasks.t{text})"));
        }
    }

    #[test]
    fn random_strings_keep_invariants() {
        // xorshift: deterministic, so a failure reproduces, and no dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = next() % 16;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            check_invariants(&text);
        }
    }

    #[test]
    fn every_char_after_a_root_keeps_invariants() {
        let chars = (0..0x800u32)
            .chain([0xFFFD, 0x1F600])
            .filter_map(char::from_u32);
        for c in chars {
            for prefix in [
                "$(params.",
                "$(params[",
                "$(params['",
                "$(tasks.t.results.r",
                "$(",
            ] {
                check_invariants(&format!("{prefix}{c}"));
                check_invariants(&format!("{prefix}{c})"));
                check_invariants(&format!("{prefix}a{c}b)"));
            }
        }
    }
}
