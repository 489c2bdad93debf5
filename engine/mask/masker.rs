//! The set of secret values and the replacement of their occurrences by [`MASK`].

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::RwLock;

use aho_corasick::AhoCorasick;

/// What every occurrence of a secret value becomes.
pub const MASK: &str = "***";

/// The fewest characters (after trimming whitespace) a value needs to be masked.
///
/// GitHub Actions and several secret maskers settle on a few characters; four keeps a
/// two- or three-letter secret from garbling every word, and is more than [`MASK`]'s length,
/// which is what guarantees masking ends (each replacement shortens the text).
pub const MIN_LENGTH: usize = 4;

/// The fewest characters a line of a multi-line value needs to be masked on its own.
///
/// Multi-line secrets are often structured (a kubeconfig, a JSON key file): their short lines
/// (`apiVersion: v1`, `kind: Config`, `}`) are everywhere in logs and say nothing, while the
/// lines worth hiding (key material, tokens, certificate data) are long.
pub const MIN_LINE_LENGTH: usize = 16;

/// A value too short to mask (see [`MIN_LENGTH`]); it carries its length, never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a value of {chars} character(s) is too short to mask (at least {MIN_LENGTH} are needed) \
     and will be shown as is"
)]
pub struct TooShort {
    /// Its length in characters, after trimming.
    pub chars: usize,
}

/// The values to mask, and the matcher built from them.
#[derive(Default)]
struct Patterns {
    values: BTreeSet<String>,
    matcher: Option<AhoCorasick>,
}

impl Patterns {
    /// Adds `value` (already checked) and rebuilds the matcher when something is new.
    fn insert_all(&mut self, values: impl IntoIterator<Item = String>) {
        let mut changed = false;
        for v in values {
            changed |= self.values.insert(v);
        }
        if changed {
            // Standard semantics report every overlapping occurrence, so overlapping values
            // are masked as their union.
            self.matcher = AhoCorasick::new(&self.values).ok();
        }
    }

    /// The byte ranges of `text` covered by values, merged where they overlap or touch.
    fn covered(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let mut ranges: Vec<(usize, usize)> = matcher
            .find_overlapping_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    /// `text` with every covered range replaced, once.
    fn replace_once<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let ranges = self.covered(text);
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in ranges {
            out.push_str(&text[at..start]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }
}

/// Replaces secret values by [`MASK`] in text; shared by every writer of a run.
#[derive(Default)]
pub struct Masker {
    patterns: RwLock<Patterns>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The count only: a masker's values must not leak through Debug either.
        f.debug_struct("Masker")
            .field("values", &self.read().values.len())
            .finish()
    }
}

impl Masker {
    /// A masker with no values: it changes nothing.
    pub fn new() -> Masker {
        Masker::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Patterns> {
        self.patterns.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Masks `value` from now on, trimmed as well, and each line of it when it has several.
    /// An empty value is ignored; one shorter than [`MIN_LENGTH`] is refused. Lines shorter
    /// than [`MIN_LINE_LENGTH`] are left out silently: the whole value is still masked, and a
    /// short line (`}`, `kind: Config`) would match everywhere.
    pub fn add(&self, value: &str) -> Result<(), TooShort> {
        let chars = value.trim().chars().count();
        if chars == 0 {
            return Ok(());
        }
        if chars < MIN_LENGTH {
            return Err(TooShort { chars });
        }
        // A value read from a file often ends with a newline the output will not have.
        let mut found = vec![value.to_owned(), value.trim().to_owned()];
        if value.contains(['\n', '\r']) {
            found.extend(
                value
                    .split(['\n', '\r'])
                    .map(str::trim)
                    .filter(|l| l.chars().count() >= MIN_LINE_LENGTH)
                    .map(str::to_owned),
            );
        }
        self.patterns
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert_all(found);
        Ok(())
    }

    /// True when there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.read().values.is_empty()
    }

    /// `text` with every value replaced by [`MASK`].
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let patterns = self.read();
        let mut current = patterns.replace_once(text);
        // Each replacement shortens the text (values are longer than MASK), so this ends.
        loop {
            let changed = match patterns.replace_once(&current) {
                Cow::Owned(next) => Some(next),
                Cow::Borrowed(_) => None,
            };
            match changed {
                Some(next) => current = Cow::Owned(next),
                None => return current,
            }
        }
    }

    /// Masks `text` in place.
    pub fn mask_string(&self, text: &mut String) {
        if let Cow::Owned(masked) = self.mask(text) {
            *text = masked;
        }
    }

    /// Masks every string in a JSON value (object keys stay: they are names from the YAML).
    pub fn mask_json(&self, value: &mut serde_json::Value) {
        if self.is_empty() {
            return;
        }
        match value {
            serde_json::Value::String(s) => self.mask_string(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.mask_json(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(values: &[&str]) -> Masker {
        let m = Masker::new();
        for v in values {
            m.add(v).unwrap();
        }
        m
    }

    #[test]
    fn every_occurrence_is_masked() {
        let m = masker(&["s3cr3t"]);
        assert_eq!(m.mask("a s3cr3t and s3cr3t."), "a *** and ***.");
        assert_eq!(m.mask("nothing here"), "nothing here");
        assert!(matches!(m.mask("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn overlapping_and_nested_values_are_masked_as_their_union() {
        // Longest first would leave "ef" of the second; the union leaves nothing.
        let m = masker(&["abcd", "cdef"]);
        assert_eq!(m.mask("xabcdefx"), "x***x");
        let m = masker(&["pass", "password1"]);
        assert_eq!(m.mask("password1 pass"), "*** ***");
        assert_eq!(m.mask("passpass"), "***");
    }

    #[test]
    fn a_mask_next_to_text_cannot_form_a_value() {
        // One pass turns "passa" into "***a", itself a value: masking repeats until nothing
        // matches.
        let m = masker(&["pass", "***a"]);
        assert_eq!(m.mask("passa"), "***");
    }

    #[test]
    fn empty_and_short_values_are_ignored_or_refused() {
        let m = Masker::new();
        assert_eq!(m.add(""), Ok(()));
        assert_eq!(m.add("  \n"), Ok(()));
        assert!(m.is_empty());
        assert_eq!(m.add("abc"), Err(TooShort { chars: 3 }));
        assert_eq!(m.add(" ab "), Err(TooShort { chars: 2 }));
        assert!(m.is_empty());
        assert_eq!(m.mask("abc"), "abc");
        assert_eq!(m.add("abcd"), Ok(()));
        assert_eq!(m.mask("abcde"), "***e");
        assert_eq!(
            TooShort { chars: 1 }.to_string(),
            "a value of 1 character(s) is too short to mask (at least 4 are needed) and will be \
             shown as is"
        );
    }

    #[test]
    fn each_line_of_a_multi_line_value_is_masked() {
        let key = "-----BEGIN KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0\n  kqhkiG9w0BAQEFAASC\n}\nkind: Key\n-----END KEY-----\n";
        let m = masker(&[key]);
        assert_eq!(m.mask(key), "***");
        assert_eq!(m.mask("line: MIIEvQIBADANBgkqhkiG9w0"), "line: ***");
        assert_eq!(m.mask("kqhkiG9w0BAQEFAASC"), "***");
        assert_eq!(m.mask("-----BEGIN KEY-----"), "***");
        // Short lines alone are structure, not secrets: they stay.
        assert_eq!(m.mask("{ } kind: Key"), "{ } kind: Key");
    }

    #[test]
    fn unicode_values_and_text_are_cut_at_character_boundaries() {
        let m = masker(&["пароль", "🔑key"]);
        assert_eq!(m.mask("é пароль 🔑key🔑"), "é *** ***🔑");
    }

    #[test]
    fn json_strings_are_masked_and_keys_kept() {
        let m = masker(&["hunter22"]);
        let mut v = serde_json::json!({
            "hunter22": ["x hunter22", 3, {"message": "hunter22"}],
            "n": null,
        });
        m.mask_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"hunter22": ["x ***", 3, {"message": "***"}], "n": null})
        );
    }

    #[test]
    fn debug_shows_the_count_not_the_values() {
        let m = masker(&["hunter22", "other-one"]);
        assert_eq!(format!("{m:?}"), "Masker { values: 2 }");
    }

    /// A small deterministic generator: no dependency, reproducible failures.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }

        fn text(&mut self, max: u64) -> String {
            // A tiny alphabet makes overlaps, repeats and near-misses likely.
            const ALPHABET: [&str; 8] = ["a", "b", "*", "\n", " ", "é", "🔑", "\r"];
            (0..self.next() % (max + 1))
                .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize])
                .collect()
        }
    }

    #[test]
    fn masking_random_text_never_panics_and_never_leaves_a_value() {
        let mut rng = Lcg(0x5eed);
        for _ in 0..3000 {
            let m = Masker::new();
            let mut added = Vec::new();
            for _ in 0..(rng.next() % 4) {
                let v = rng.text(24);
                if m.add(&v).is_ok() && !v.trim().is_empty() {
                    added.push(v);
                }
            }
            let mut text = rng.text(60);
            // Plant a value so matches are frequent.
            if let Some(v) = added.first() {
                let at = (rng.next() as usize) % (text.chars().count() + 1);
                let byte = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
                text.insert_str(byte, v);
            }
            let masked = m.mask(&text);
            for v in &added {
                assert!(
                    !masked.contains(v.as_str()) && !masked.contains(v.trim()),
                    "{v:?} left in {masked:?} (from {text:?})"
                );
                for line in v.split(['\n', '\r']).map(str::trim) {
                    let whole = !v.contains(['\n', '\r']);
                    let long = line.chars().count() >= MIN_LINE_LENGTH;
                    if (whole && line.chars().count() >= MIN_LENGTH) || long {
                        assert!(!masked.contains(line), "line {line:?} left in {masked:?}");
                    }
                }
            }
        }
    }
}
