//! The Prometheus text exposition format: metric families, samples and histograms, shared by
//! `adze controller` and `adze serve`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A histogram of durations over fixed bucket bounds (seconds); safe to share.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: Vec<AtomicU64>,
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    /// An empty histogram with upper bounds `bounds` (ascending) and `+Inf`.
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Counts one observation.
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = self
            .bounds
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(self.bounds.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The `_bucket`, `_sum` and `_count` samples of `name`, each with `labels`.
    pub fn render(&self, out: &mut String, name: &str, labels: &[(&str, &str)]) {
        let bucket_name = format!("{name}_bucket");
        let mut cumulative = 0;
        for (i, count) in self.buckets.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = self
                .bounds
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |le| le.to_string());
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            sample(out, &bucket_name, &with_le, cumulative);
        }
        let sum = Duration::from_nanos(self.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
        sample(out, &format!("{name}_sum"), labels, sum);
        // `_count` equals the `+Inf` bucket read above, even if an observation lands between
        // the two reads.
        sample(out, &format!("{name}_count"), labels, cumulative);
    }
}

/// The `# HELP` and `# TYPE` lines of a family.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One sample line.
pub fn sample(
    out: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    value: impl std::fmt::Display,
) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{key}=\"{}\"", escape_label_value(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// A label value escaped for the text format: backslash, double quote and line feed.
pub fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label_value(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label_value("two\nlines"), r"two\nlines");
        let mut out = String::new();
        sample(&mut out, "m", &[("k", "say \"hi\"\n")], 1);
        assert_eq!(out, "m{k=\"say \\\"hi\\\"\\n\"} 1\n");
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        static BOUNDS: [f64; 2] = [1.0, 10.0];
        let h = Histogram::new(&BOUNDS);
        for s in [0, 5, 5, 50] {
            h.observe(Duration::from_secs(s));
        }
        let mut out = String::new();
        h.render(&mut out, "d", &[("k", "v")]);
        assert_eq!(
            out,
            "d_bucket{k=\"v\",le=\"1\"} 1\nd_bucket{k=\"v\",le=\"10\"} 3\n\
             d_bucket{k=\"v\",le=\"+Inf\"} 4\nd_sum{k=\"v\"} 60\nd_count{k=\"v\"} 4\n"
        );
    }
}
