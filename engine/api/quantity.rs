//! Kubernetes resource quantities (`512Mi`, `1.5G`, `250m`, `1e3`), as numbers.

/// A Kubernetes quantity (`512Mi`, `1.5G`, `250m`, `1e3`) times `scale`, rounded up to a
/// whole unit; `None` when it is not a quantity or does not fit.
pub fn quantity(text: &str, scale: i64) -> Option<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exp if exp.starts_with(['e', 'E']) => 10f64.powi(exp[1..].parse().ok()?),
        _ => return None,
    };
    let value = (number * factor * scale as f64).ceil();
    (value.is_finite() && value >= 0.0 && value <= i64::MAX as f64).then_some(value as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_in_every_notation() {
        assert_eq!(quantity("512Mi", 1), Some(512 * 1024 * 1024));
        assert_eq!(quantity("1G", 1), Some(1_000_000_000));
        assert_eq!(quantity("250m", 1_000_000_000), Some(250_000_000));
        assert_eq!(quantity("1.5", 1_000_000_000), Some(1_500_000_000));
        assert_eq!(quantity("1e3", 1), Some(1000));
        assert_eq!(quantity("100m", 1), Some(1), "fractions of a byte round up");
        assert_eq!(quantity("lots", 1), None);
        assert_eq!(quantity("5Xi", 1), None);
        assert_eq!(quantity("-1", 1), None);
    }
}
