//! `$(VAR)` references in `command`, `args` and `env[].value`, expanded by Kubernetes' rule
//! (`third_party/forked/golang/expansion`): a known name is replaced, an unknown one is kept as
//! written, `$$` is a literal `$`, and any other `$` stays as it is.

/// Expands `input` with `lookup`; names `lookup` does not know are left as `$(NAME)`.
pub(super) fn expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.extend_from_slice(&bytes[checkpoint..cursor]);
            let rest = &bytes[cursor + 1..];
            let advance = match rest[0] {
                b'$' => {
                    out.push(b'$');
                    1
                }
                b'(' => match rest.iter().position(|&b| b == b')') {
                    Some(close) => {
                        // The name lies between ASCII delimiters, so the slice is valid UTF-8.
                        let name = String::from_utf8_lossy(&rest[1..close]);
                        match lookup(&name) {
                            Some(value) => out.extend_from_slice(value.as_bytes()),
                            None => {
                                out.extend_from_slice(b"$(");
                                out.extend_from_slice(name.as_bytes());
                                out.push(b')');
                            }
                        }
                        close + 1
                    }
                    // An unclosed reference is copied as written.
                    None => {
                        out.extend_from_slice(b"$(");
                        1
                    }
                },
                other => {
                    out.push(b'$');
                    out.push(other);
                    1
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.extend_from_slice(&bytes[checkpoint.min(bytes.len())..]);
    // Only whole ASCII-delimited pieces and lookup values were copied, so this is lossless.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::expand;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn references_expand_as_kubernetes_does() {
        assert_eq!(expand("$(A)", env), "alpha");
        assert_eq!(expand("x-$(A)-y", env), "x-alpha-y");
        assert_eq!(expand("$(A)$(A)", env), "alphaalpha");
        assert_eq!(expand("$(MISSING)", env), "$(MISSING)");
        assert_eq!(expand("[$(EMPTY)]", env), "[]");
        assert_eq!(expand("$$(A)", env), "$(A)");
        assert_eq!(expand("$$$(A)", env), "$alpha");
        assert_eq!(expand("$A", env), "$A");
        assert_eq!(expand("cost: 5$", env), "cost: 5$");
        assert_eq!(expand("$(A", env), "$(A");
        assert_eq!(expand("$()", env), "$()");
        assert_eq!(expand("é$(A)ü", env), "éalphaü");
        assert_eq!(expand("", env), "");
    }
}
