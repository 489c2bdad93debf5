//! Long runs of one warning, shortened for people: the first few warnings of each rule code
//! are listed and the rest counted on one line.
//!
//! # Why
//!
//! A generated pipeline easily produces tens of thousands of warnings of one rule (a script
//! pasting a param, once per task). Listing them all buries every other finding, and writing
//! them was most of the time `adze plan` took. `--all-warnings` lists everything again.
//!
//! # What "like this" means
//!
//! Two warnings are alike when they have the same rule code. A code names one kind of mistake
//! and has one message template, so the warnings not listed differ from the ones listed only
//! in names, values and places; the fix the listed ones suggest is the fix for all of them.
//!
//! # Invariants
//!
//! - Errors are never grouped: every error is listed.
//! - Order is kept; the count line of a code comes right after the last listed warning of
//!   that code, so "like this" refers to the snippet just above it.
//! - Only text for people goes through here: `-o json` always lists every diagnostic.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;

/// Warnings of one rule code listed before the rest are counted.
pub const SHOWN_PER_CODE: usize = 3;

/// One item of a shortened listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// A diagnostic to render in full.
    Listed(&'a Diagnostic),
    /// `count` more warnings of rule `code` that are not listed.
    More {
        /// The rule code of the warnings not listed.
        code: &'static str,
        /// How many are not listed.
        count: usize,
    },
}

/// Diagnostics as they are shown: listed ones and counts of the ones left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<'a> {
    /// What to render, in order.
    pub entries: Vec<Entry<'a>>,
    /// Warnings left out, over all codes.
    pub hidden: usize,
}

/// Lists every error and the first `per_code` warnings of each rule code (`usize::MAX`
/// lists everything); the warnings left out become one [`Entry::More`] per code.
pub fn group(diags: &[Diagnostic], per_code: usize) -> Listing<'_> {
    let mut totals: HashMap<&'static str, usize> = HashMap::new();
    for d in diags.iter().filter(|d| !d.is_error()) {
        *totals.entry(d.code).or_default() += 1;
    }
    let mut seen: HashMap<&'static str, usize> = HashMap::new();
    let mut entries = Vec::new();
    let mut hidden = 0;
    for d in diags {
        if d.is_error() {
            entries.push(Entry::Listed(d));
            continue;
        }
        let n = seen.entry(d.code).or_default();
        *n += 1;
        if *n > per_code {
            continue;
        }
        entries.push(Entry::Listed(d));
        let total = totals[d.code];
        if *n == per_code && total > per_code {
            let count = total - per_code;
            hidden += count;
            entries.push(Entry::More {
                code: d.code,
                count,
            });
        }
    }
    Listing { entries, hidden }
}

/// `12345` as `12,345`: counts of thousands of warnings are read at a glance.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The line that stands for the warnings of `code` left out.
pub fn more_line(code: &str, count: usize) -> String {
    format!(
        "... and {} more like this ({code}); --all-warnings to list them",
        thousands(count)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(code: &'static str, n: usize) -> Diagnostic {
        Diagnostic::warning(code, format!("w{n}"))
    }

    /// What a listing shows, compactly: messages of listed ones, `+N code` for counts.
    fn shape(listing: &Listing) -> Vec<String> {
        listing
            .entries
            .iter()
            .map(|e| match e {
                Entry::Listed(d) => d.message.clone(),
                Entry::More { code, count } => format!("+{count} {code}"),
            })
            .collect()
    }

    #[test]
    fn warnings_past_the_first_few_of_a_code_are_counted_after_the_last_listed() {
        let diags: Vec<_> = (0..5)
            .map(|i| warning("security/script-injection", i))
            .chain([warning("refs/remote-resolver", 9)])
            .collect();
        let listing = group(&diags, 3);
        assert_eq!(
            shape(&listing),
            ["w0", "w1", "w2", "+2 security/script-injection", "w9"]
        );
        assert_eq!(listing.hidden, 2);
    }

    #[test]
    fn interleaved_codes_are_counted_separately_and_order_is_kept() {
        let diags = vec![
            warning("a/x", 0),
            warning("b/y", 1),
            warning("a/x", 2),
            warning("b/y", 3),
            warning("a/x", 4),
            warning("b/y", 5),
        ];
        let listing = group(&diags, 2);
        assert_eq!(
            shape(&listing),
            ["w0", "w1", "w2", "+1 a/x", "w3", "+1 b/y"]
        );
        assert_eq!(listing.hidden, 2);
    }

    #[test]
    fn errors_are_never_grouped() {
        let diags: Vec<_> = (0..6)
            .map(|i| Diagnostic::error("names/dns-label", format!("e{i}")))
            .collect();
        let listing = group(&diags, 3);
        assert_eq!(shape(&listing), ["e0", "e1", "e2", "e3", "e4", "e5"]);
        assert_eq!(listing.hidden, 0);
    }

    #[test]
    fn exactly_the_limit_needs_no_count_line() {
        let diags: Vec<_> = (0..3).map(|i| warning("a/x", i)).collect();
        let listing = group(&diags, 3);
        assert_eq!(shape(&listing), ["w0", "w1", "w2"]);
        assert_eq!(listing.hidden, 0);
    }

    #[test]
    fn no_limit_lists_everything() {
        let diags: Vec<_> = (0..50).map(|i| warning("a/x", i)).collect();
        let listing = group(&diags, usize::MAX);
        assert_eq!(listing.entries.len(), 50);
        assert_eq!(listing.hidden, 0);
    }

    #[test]
    fn thousands_are_separated_by_commas() {
        let got: Vec<_> = [0, 7, 999, 1_000, 29_990, 1_234_567]
            .into_iter()
            .map(thousands)
            .collect();
        assert_eq!(got, ["0", "7", "999", "1,000", "29,990", "1,234,567"]);
    }
}
