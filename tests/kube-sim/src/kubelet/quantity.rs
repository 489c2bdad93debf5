//! Kubernetes resource quantities (`128Mi`, `500m`, `1.5`, `2e3`), for Docker's limits and
//! `resourceFieldRef` values.

/// The quantity in thousandths of its unit (millicores, millibytes), rounded up; `None` when
/// it is not a quantity.
pub(super) fn milli(quantity: &str) -> Option<i128> {
    let q = quantity.trim();
    let number_end = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(number_end);
    if number.is_empty() || number == "." {
        return None;
    }
    let negative = number.starts_with('-');
    let digits = number.trim_start_matches(['+', '-']);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if !whole
        .chars()
        .chain(fraction.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    // value = mantissa / 10^scale
    let mantissa: i128 = format!("{whole}{fraction}").parse().ok()?;
    let scale = i32::try_from(fraction.len()).ok()?;
    let (base, exponent): (i128, i32) = match suffix {
        "" => (10, 0),
        "n" => (10, -9),
        "u" => (10, -6),
        "m" => (10, -3),
        "k" => (10, 3),
        "M" => (10, 6),
        "G" => (10, 9),
        "T" => (10, 12),
        "P" => (10, 15),
        "E" => (10, 18),
        "Ki" => (2, 10),
        "Mi" => (2, 20),
        "Gi" => (2, 30),
        "Ti" => (2, 40),
        "Pi" => (2, 50),
        "Ei" => (2, 60),
        s if s.starts_with(['e', 'E']) => (10, s[1..].parse().ok()?),
        _ => return None,
    };
    // milli = mantissa * base^exponent * 1000 / 10^scale, in integers, rounded up.
    let mut numerator = mantissa.checked_mul(1000)?;
    let mut denominator: i128 = 10i128.checked_pow(u32::try_from(scale).ok()?)?;
    if exponent >= 0 {
        numerator = numerator.checked_mul(base.checked_pow(u32::try_from(exponent).ok()?)?)?;
    } else {
        denominator = denominator.checked_mul(base.checked_pow(exponent.unsigned_abs())?)?;
    }
    let value = (numerator + denominator - 1) / denominator;
    Some(if negative { -value } else { value })
}

/// The quantity as a whole number of its unit, rounded up (bytes of a memory quantity).
pub(super) fn whole(quantity: &str) -> Option<i128> {
    milli(quantity).map(|m| (m + 999).div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::{milli, whole};

    #[test]
    fn quantities_parse_with_every_suffix() {
        assert_eq!(milli("500m"), Some(500));
        assert_eq!(milli("1"), Some(1000));
        assert_eq!(milli("1.5"), Some(1500));
        assert_eq!(milli("0.1"), Some(100));
        assert_eq!(milli("1n"), Some(1));
        assert_eq!(whole("128Mi"), Some(128 * 1024 * 1024));
        assert_eq!(whole("1G"), Some(1_000_000_000));
        assert_eq!(whole("2e3"), Some(2000));
        assert_eq!(whole("1.5Ki"), Some(1536));
        assert_eq!(milli("abc"), None);
        assert_eq!(milli("1Q"), None);
        assert_eq!(milli(""), None);
        assert_eq!(milli("1e999"), None);
    }
}
