//! Short human durations for progress lines and the summary table.

use std::time::Duration;

/// A short duration: `850ms`, `3.2s`, `1m04s`, `1h02m`.
///
/// Every unit is truncated, never rounded up, so a shown value is never more than what
/// elapsed and `59.99s` stays `59.9s` instead of becoming `60.0s`.
pub(crate) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    if secs < 60 {
        return format!("{secs}.{}s", d.subsec_millis() / 100);
    }
    if secs < 3_600 {
        return format!("{}m{:02}s", secs / 60, secs % 60);
    }
    format!("{}h{:02}m", secs / 3_600, secs % 3_600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> String {
        format_duration(Duration::from_millis(n))
    }

    #[test]
    fn milliseconds_below_a_second() {
        assert_eq!(ms(0), "0ms");
        assert_eq!(ms(850), "850ms");
        assert_eq!(ms(999), "999ms");
        assert_eq!(format_duration(Duration::from_micros(999_999)), "999ms");
    }

    #[test]
    fn tenths_of_seconds_below_a_minute() {
        assert_eq!(ms(1_000), "1.0s");
        assert_eq!(ms(3_250), "3.2s");
        assert_eq!(ms(59_999), "59.9s");
    }

    #[test]
    fn minutes_and_seconds_below_an_hour() {
        assert_eq!(ms(60_000), "1m00s");
        assert_eq!(ms(64_900), "1m04s");
        assert_eq!(ms(3_599_999), "59m59s");
    }

    #[test]
    fn hours_and_minutes_beyond() {
        assert_eq!(ms(3_600_000), "1h00m");
        assert_eq!(ms(3_720_000), "1h02m");
        assert_eq!(ms(100 * 3_600_000 + 59 * 60_000), "100h59m");
        assert_eq!(format_duration(Duration::MAX), "5124095576030431h00m");
    }
}
