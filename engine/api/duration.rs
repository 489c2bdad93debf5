//! Go `time.Duration` text: the format of every Tekton timeout.

use std::fmt;

/// A signed duration in nanoseconds, as Go represents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GoDuration(pub i128);

/// Why a duration string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time: invalid duration \"{0}\"")]
pub struct DurationError(pub String);

impl GoDuration {
    /// Parses `1h30m`, `90s`, `1.5h`, `-2m`, `0` (Go's `time.ParseDuration`).
    pub fn parse(text: &str) -> Result<GoDuration, DurationError> {
        let err = || DurationError(text.to_string());
        let (neg, mut rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if rest == "0" {
            return Ok(GoDuration(0));
        }
        if rest.is_empty() {
            return Err(err());
        }
        let mut total: i128 = 0;
        while !rest.is_empty() {
            let num_end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(err)?;
            let number = &rest[..num_end];
            if number.is_empty() || number == "." || number.matches('.').count() > 1 {
                return Err(err());
            }
            rest = &rest[num_end..];
            let unit_end = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let unit: i128 = match &rest[..unit_end] {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60 * 1_000_000_000,
                "h" => 3_600 * 1_000_000_000,
                _ => return Err(err()),
            };
            rest = &rest[unit_end..];
            let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
            let whole: i128 = if whole.is_empty() {
                0
            } else {
                whole.parse().map_err(|_| err())?
            };
            let mut value = whole.checked_mul(unit).ok_or_else(err)?;
            let mut scale = unit;
            for d in frac.bytes().take(18) {
                scale /= 10;
                value += i128::from(d - b'0') * scale;
            }
            total = total.checked_add(value).ok_or_else(err)?;
            if total > i128::from(i64::MAX) {
                return Err(err());
            }
        }
        Ok(GoDuration(if neg { -total } else { total }))
    }

    /// True for a negative duration.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// True for zero (no timeout in Tekton).
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// From whole minutes.
    pub fn minutes(m: i64) -> GoDuration {
        GoDuration(i128::from(m) * 60 * 1_000_000_000)
    }
}

impl fmt::Display for GoDuration {
    /// Go's canonical form: `1h0m0s`, `1m30s`, `500ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut n = self.0;
        if n == 0 {
            return f.write_str("0s");
        }
        if n < 0 {
            f.write_str("-")?;
            n = -n;
        }
        if n < 1_000_000_000 {
            let (unit, div) = if n < 1_000 {
                ("ns", 1)
            } else if n < 1_000_000 {
                ("µs", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            return write!(f, "{}{unit}", trim_frac(n, div));
        }
        let h = n / 3_600_000_000_000;
        let m = (n / 60_000_000_000) % 60;
        let s = n % 60_000_000_000;
        if h > 0 {
            write!(f, "{h}h{m}m")?;
        } else if m > 0 {
            write!(f, "{m}m")?;
        }
        write!(f, "{}s", trim_frac(s, 1_000_000_000))
    }
}

fn trim_frac(n: i128, div: i128) -> String {
    let whole = n / div;
    let frac = n % div;
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_like_go() {
        for (text, canon) in [
            ("1h", "1h0m0s"),
            ("90s", "1m30s"),
            ("1.5h", "1h30m0s"),
            ("0", "0s"),
            ("500ms", "500ms"),
            ("-2m", "-2m0s"),
            ("1h30m15.5s", "1h30m15.5s"),
            ("2us", "2µs"),
        ] {
            assert_eq!(
                GoDuration::parse(text).unwrap().to_string(),
                canon,
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "1",
            "h",
            "1x",
            "1.2.3s",
            "--1s",
            "1h-2m",
            "9999999999999h",
        ] {
            assert!(GoDuration::parse(bad).is_err(), "{bad}");
        }
    }
}
