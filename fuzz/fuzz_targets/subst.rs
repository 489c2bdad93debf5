//! Fuzzes the `$(...)` scanner and substitution: no input may panic, and the invariants the
//! module documents (spans on char boundaries, ordered non-overlapping references, verbatim
//! text when nothing is substituted) must hold.

#![no_main]

use adze::subst::{scan, splice_array, substitute, Var};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_scan(text);
    assert_eq!(substitute(text, |_| None), text);
    let canonical = substitute(text, |var| Some(format!("$({var})")));
    check_scan(&canonical);
    let items: Vec<String> = text.split('\n').map(String::from).collect();
    let spliced = splice_array(&items, elements, |var| Some(var.to_string()));
    assert!(spliced.len() <= items.len() * 2);
});

fn check_scan(text: &str) {
    let found = scan(text);
    let mut last_end = 0;
    for reference in &found.refs {
        assert!(reference.span.start >= last_end);
        let written = &text[reference.span.clone()];
        assert_eq!(written, format!("$({})", reference.text));
        last_end = reference.span.end;
    }
    for error in &found.errors {
        assert!(!error.span.is_empty());
        assert!(text.get(error.span.clone()).is_some());
    }
}

/// Every whole collection is a two-element array, so splicing both grows and keeps lists.
fn elements(var: &Var) -> Option<Vec<String>> {
    Some(vec![var.to_string(), String::new()])
}
