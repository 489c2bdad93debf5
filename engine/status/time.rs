//! RFC 3339 timestamps as Kubernetes writes them: UTC, whole seconds, `Z`.

use crate::reconcile::Timestamp;

const SECONDS_PER_DAY: u64 = 86_400;

/// Formats `t` as `2025-03-02T09:00:00Z` (UTC, milliseconds truncated, like `metav1.Time`).
pub fn rfc3339(t: Timestamp) -> String {
    let secs = t.0 / 1000;
    let (year, month, day) = civil_from_days(secs / SECONDS_PER_DAY);
    let of_day = secs % SECONDS_PER_DAY;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// An RFC 3339 time (`2006-01-02T15:04:05.999999999Z07:00`, as termination messages and the
/// Docker engine write them), as milliseconds since the epoch; `None` when it is not one.
pub fn parse_rfc3339(value: &str) -> Option<Timestamp> {
    let t = k8s_openapi::chrono::DateTime::parse_from_rfc3339(value.trim()).ok()?;
    u64::try_from(t.timestamp_millis()).ok().map(Timestamp)
}

/// The proleptic Gregorian date of day `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, restricted to non-negative days since [`Timestamp`] is unsigned).
///
/// Days are shifted to start on 0000-03-01 so the leap day ends each 400-year era, which makes
/// every step plain integer division.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // 1970-01-01 is day 719_468 counted from 0000-03-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097; // [0, 146096]
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // [0, 11], 0 = March
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Timestamp {
        Timestamp(secs * 1000)
    }

    #[test]
    fn parsed_offsets_are_honoured_and_nanoseconds_cut_to_milliseconds() {
        assert_eq!(
            parse_rfc3339("2025-03-02T10:00:00+01:00"),
            parse_rfc3339("2025-03-02T09:00:00Z")
        );
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:01.234567891Z"),
            Some(Timestamp(1_234))
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn the_epoch_is_midnight_utc_on_1970_01_01() {
        assert_eq!(rfc3339(Timestamp(0)), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn milliseconds_are_truncated_not_rounded() {
        assert_eq!(rfc3339(Timestamp(1_999)), "1970-01-01T00:00:01Z");
    }

    #[test]
    fn known_instants_match_their_civil_time() {
        // Checked against `date -u -d @<secs>`.
        assert_eq!(rfc3339(at(1_740_906_000)), "2025-03-02T09:00:00Z");
        assert_eq!(rfc3339(at(1_700_000_000)), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(4_107_542_399)), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(at(4_107_542_400)), "2100-03-01T00:00:00Z");
        assert_eq!(rfc3339(at(253_402_300_799)), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        // Walks 1970..2400 day by day: the date advances by exactly one calendar day.
        let mut prev = civil_from_days(0);
        assert_eq!(prev, (1970, 1, 1));
        for d in 1..(430 * 366) {
            let next = civil_from_days(d);
            let (y, m, day) = prev;
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let expected = if day < len {
                (y, m, day + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
            assert_eq!(next, expected, "day {d}");
            prev = next;
        }
    }

    #[test]
    fn the_largest_timestamp_does_not_overflow() {
        let s = rfc3339(Timestamp(u64::MAX));
        assert!(s.ends_with('Z'), "{s}");
    }
}
