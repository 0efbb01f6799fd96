//! Audit windows and the per-window count and checksum every tier keeps.
//!
//! A window is `floor(timestamp / width)` of record time (not arrival time), so every tier puts
//! a record in the same window however late it sees it. Records without a usable timestamp
//! (negative: Kafka's "no timestamp" is -1) go to one [`Window::NoTime`] bucket per topic.
//!
//! The checksum is the wrapping sum of a 64-bit hash of each record's key, value and timestamp.
//! A sum, not an XOR: XOR cancels a record that arrives twice, a sum does not, so equal counts
//! with different sums mean one record lost and another duplicated (or altered).
//!
//! The record hash is XXH3-64 (seed 0) over this framing, so an application can compute the
//! same checksum for the `client` tier:
//!
//! ```text
//! key:       0x00 (null) | 0x01, u32 BE length, bytes
//! value:     0x00 (null) | 0x01, u32 BE length, bytes
//! timestamp: i64 BE (ms since the epoch)
//! ```
//!
//! Not owned here: which tier counts what, and when (`books.rs`, `scan.rs`).

use std::hash::Hasher as _;

use serde::{Deserialize, Serialize};
use twox_hash::XxHash3_64;

/// A window of record time. `NoTime` sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Window {
    /// Records whose timestamp is unusable (negative).
    NoTime,
    /// Records with `start <= timestamp < start + width`, in ms since the epoch.
    Start(i64),
}

impl Window {
    /// The window of a record with `timestamp` (ms), for windows `width_ms` wide (> 0).
    pub fn of(timestamp: i64, width_ms: i64) -> Window {
        if timestamp < 0 || width_ms <= 0 {
            return Window::NoTime;
        }
        Window::Start(timestamp - timestamp % width_ms)
    }

    /// Its start in ms, `None` for the no-time bucket.
    pub fn start(self) -> Option<i64> {
        match self {
            Window::NoTime => None,
            Window::Start(s) => Some(s),
        }
    }

    /// Its end (exclusive) in ms, `None` for the no-time bucket.
    pub fn end(self, width_ms: i64) -> Option<i64> {
        self.start().map(|s| s.saturating_add(width_ms))
    }
}

/// A count and the wrapping sum of the counted records' hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub count: u64,
    pub checksum: u64,
}

impl Tally {
    /// Counts one record with hash `hash`.
    pub fn add(&mut self, hash: u64) {
        self.count += 1;
        self.checksum = self.checksum.wrapping_add(hash);
    }

    /// Adds another tally's records (the sum is what counting them one by one would give).
    pub fn merge(&mut self, other: Tally) {
        self.count += other.count;
        self.checksum = self.checksum.wrapping_add(other.checksum);
    }
}

/// The record hash every tier adds to its checksum (see the module docs for the framing).
pub fn record_hash(key: Option<&[u8]>, value: Option<&[u8]>, timestamp: i64) -> u64 {
    let mut h = XxHash3_64::default();
    for part in [key, value] {
        match part {
            None => h.write(&[0]),
            Some(bytes) => {
                h.write(&[1]);
                // Records are bounded by max.message.bytes (an i32 in Kafka), so the length
                // fits; saturating keeps the framing total even if that ever changed.
                h.write(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
                h.write(bytes);
            }
        }
    }
    h.write(&timestamp.to_be_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_floor_record_time() {
        assert_eq!(Window::of(0, 60_000), Window::Start(0));
        assert_eq!(Window::of(59_999, 60_000), Window::Start(0));
        assert_eq!(Window::of(60_000, 60_000), Window::Start(60_000));
        assert_eq!(
            Window::of(1_700_000_012_345, 1_000),
            Window::Start(1_700_000_012_000)
        );
        assert_eq!(Window::Start(60_000).end(60_000), Some(120_000));
    }

    #[test]
    fn unusable_timestamps_go_to_the_no_time_bucket() {
        assert_eq!(Window::of(-1, 60_000), Window::NoTime);
        assert_eq!(Window::of(i64::MIN, 60_000), Window::NoTime);
        assert_eq!(Window::NoTime.end(60_000), None);
        assert!(Window::NoTime < Window::Start(0));
    }

    #[test]
    fn the_hash_covers_key_value_and_timestamp() {
        let base = record_hash(Some(b"k"), Some(b"v"), 1);
        assert_eq!(base, record_hash(Some(b"k"), Some(b"v"), 1));
        assert_ne!(base, record_hash(Some(b"k"), Some(b"v"), 2));
        assert_ne!(base, record_hash(Some(b"k"), Some(b"w"), 1));
        assert_ne!(base, record_hash(Some(b"j"), Some(b"v"), 1));
        // The framing keeps a null apart from empty, and key bytes apart from value bytes.
        assert_ne!(
            record_hash(None, Some(b""), 1),
            record_hash(Some(b""), None, 1)
        );
        assert_ne!(
            record_hash(Some(b"ab"), Some(b""), 1),
            record_hash(Some(b"a"), Some(b"b"), 1)
        );
    }

    #[test]
    fn an_additive_checksum_sees_a_loss_plus_a_duplicate() {
        let (a, b) = (
            record_hash(None, Some(b"a"), 1),
            record_hash(None, Some(b"b"), 1),
        );
        let mut sent = Tally::default();
        sent.add(a);
        sent.add(b);
        let mut got = Tally::default();
        got.add(a);
        got.add(a);
        assert_eq!(sent.count, got.count);
        assert_ne!(
            sent.checksum, got.checksum,
            "XOR would have cancelled the repeat"
        );
        let mut merged = Tally::default();
        merged.merge(sent);
        assert_eq!(merged, sent);
    }

    #[test]
    fn checksums_wrap() {
        let mut t = Tally {
            count: 1,
            checksum: u64::MAX,
        };
        t.add(2);
        assert_eq!(
            t,
            Tally {
                count: 2,
                checksum: 1
            }
        );
    }
}
