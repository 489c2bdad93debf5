//! `metadata.uid` for runs that no API server named: RFC 4122 version-4 shaped, unique per
//! call, without a random-number crate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Calls so far in this process; makes two calls in the same nanosecond differ.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// An odd constant (2^64 / golden ratio): multiplying by it is a bijection on `u64`.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// A fresh uid like `0b7e6c1e-2f44-4c8e-9d55-1f0a2a6a9c01`, derived from the time, the process
/// id and a per-process counter.
///
/// Not cryptographically random; it only has to be unique among the runs a user keeps.
pub fn new_uid() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    // Fold the 128-bit nanoseconds; the high half only changes every ~584 years.
    let time = (nanos as u64) ^ ((nanos >> 64) as u64);
    let pid = u64::from(std::process::id());
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    uid_from_seed(time ^ pid.rotate_left(32) ^ call.wrapping_mul(GOLDEN))
}

/// The uid for one seed; distinct seeds give distinct uids, the same seed the same uid.
pub fn uid_from_seed(seed: u64) -> String {
    let mut state = seed;
    let high = splitmix64(&mut state);
    let low = splitmix64(&mut state);
    let mut bits = (u128::from(high) << 64) | u128::from(low);
    // Version 4 in the high nibble of byte 6, variant `10` in the top bits of byte 8.
    bits = (bits & !(0xf << 76)) | (0x4 << 76);
    bits = (bits & !(0x3 << 62)) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// One step of SplitMix64: a fast, well-mixed bijection of the advancing state.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GOLDEN);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn is_v4(uid: &str) -> bool {
        let groups: Vec<&str> = uid.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        lengths == [8, 4, 4, 4, 12]
            && uid
                .chars()
                .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
            && groups[2].starts_with('4')
            && groups[3].starts_with(['8', '9', 'a', 'b'])
    }

    #[test]
    fn uids_look_like_rfc_4122_version_4() {
        for seed in [0, 1, u64::MAX, GOLDEN] {
            let uid = uid_from_seed(seed);
            assert!(is_v4(&uid), "{uid}");
        }
        let uid = new_uid();
        assert!(is_v4(&uid), "{uid}");
    }

    #[test]
    fn the_same_seed_gives_the_same_uid() {
        assert_eq!(uid_from_seed(42), uid_from_seed(42));
        assert_ne!(uid_from_seed(42), uid_from_seed(43));
    }

    #[test]
    fn consecutive_uids_differ() {
        let uids: HashSet<String> = (0..10_000).map(|_| new_uid()).collect();
        assert_eq!(uids.len(), 10_000);
    }
}
