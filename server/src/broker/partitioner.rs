//! Choosing a partition for a record the client didn't place itself, the way Kafka's Java
//! producer does.
//!
//! Keyed records go to `(murmur2(key) & 0x7fffffff) % partitions`: the same hash, bit for bit,
//! as Kafka's `Utils.murmur2` and `BuiltInPartitioner.partitionForKey`, so a key produced
//! through the gateway lands on the same partition as the same key produced by a Java, librdkafka
//! or franz-go client. Keyless records use [`StickyPartitioner`]: stay on one partition until a
//! batch's worth of bytes has gone there, then move to another at random (KIP-480), which keeps
//! batches full without skewing load over time.
//!
//! Not owned here: records whose partition the client named (the gateway honours it as is), and
//! Kafka 3.3's adaptive weighting by per-partition queue depth, which needs producer-side
//! queues we don't have.

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Kafka's murmur2 seed.
const SEED: u32 = 0x9747_b28c;
/// Murmur2's mixing multiplier.
const M: u32 = 0x5bd1_e995;
/// Murmur2's mixing shift.
const R: u32 = 24;

/// Kafka's default `batch.size`: how many bytes a sticky partition takes before switching.
pub const DEFAULT_BATCH_BYTES: usize = 16 * 1024;

/// 32-bit murmur2 exactly as Kafka's `org.apache.kafka.common.utils.Utils.murmur2`.
///
/// Java does the arithmetic on signed `int`s; wrapping `u32` arithmetic gives the same bits,
/// and Java's `>>>` is `u32 >>`. The result is returned as Java's signed `int` so it can be
/// compared with values printed by Kafka tools.
///
/// ```
/// use runnel::broker::partitioner::murmur2;
///
/// assert_eq!(murmur2(b"foobar"), -790_332_482);
/// ```
pub fn murmur2(data: &[u8]) -> i32 {
    // Java arrays are indexed by `int`, so Kafka mixes in the length modulo 2^32; truncating
    // keeps keys over 4 GiB (which we would never accept anyway) consistent with that.
    let length = data.len() as u32;
    let mut h = SEED ^ length;

    let (words, tail) = data.as_chunks::<4>();
    for &word in words {
        let mut k = u32::from_le_bytes(word);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }

    // Java's `switch (length % 4)` falls through from case 3 to 2 to 1, and only case 1
    // multiplies; folding the tail bytes in little-endian order is the same thing.
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate() {
            h ^= u32::from(byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }

    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit rather than taking `abs`, so `i32::MIN`
/// maps to 0 instead of overflowing.
pub fn to_positive(n: i32) -> u32 {
    (n & 0x7fff_ffff) as u32
}

/// The partition Kafka's default partitioner picks for a non-null `key`.
///
/// ```
/// use runnel::broker::partitioner::partition_for_key;
///
/// // murmur2("foobar") = -790332482; & 0x7fffffff = 1357151166; % 50 = 16.
/// assert_eq!(partition_for_key(b"foobar", 50), 16);
/// ```
///
/// # Panics
///
/// If `num_partitions` is 0. A topic always has at least one partition, so this is a caller
/// bug, as it is for the `%` it stands in for.
pub fn partition_for_key(key: &[u8], num_partitions: u32) -> u32 {
    assert!(
        num_partitions > 0,
        "partition_for_key: a topic has at least one partition"
    );
    to_positive(murmur2(key)) % num_partitions
}

/// Keyless-record partitioner that sticks to one partition per topic for a batch's worth of
/// bytes, then hops to a different, randomly chosen one.
///
/// Shared by every connection producing through the gateway, so it is `Sync`. A std `Mutex`
/// rather than an async one: the critical section is a map lookup and never awaits.
#[derive(Debug)]
pub struct StickyPartitioner {
    /// Bytes a partition takes before the next record moves on; Kafka's `batch.size`.
    batch_bytes: usize,
    /// Per topic: where keyless records currently go. One small entry per topic ever produced
    /// to without a key; [`StickyPartitioner::forget`] drops it when a topic is deleted.
    topics: Mutex<HashMap<String, Sticky>>,
}

/// One topic's sticky state.
#[derive(Debug, Clone, Copy)]
struct Sticky {
    partition: u32,
    /// Bytes assigned to `partition` since it was chosen.
    bytes: usize,
}

impl Default for StickyPartitioner {
    fn default() -> Self {
        Self::new(DEFAULT_BATCH_BYTES)
    }
}

impl StickyPartitioner {
    /// A partitioner that switches partitions after `batch_bytes` bytes. 0 switches after
    /// every record, which degenerates to random-but-never-twice-in-a-row.
    pub fn new(batch_bytes: usize) -> Self {
        StickyPartitioner {
            batch_bytes,
            topics: Mutex::new(HashMap::new()),
        }
    }

    /// The partition for a keyless record of `record_bytes` bytes produced to `topic`.
    ///
    /// The record goes to the current sticky partition; if that brings the partition to
    /// `batch_bytes` or more, the *next* record goes elsewhere. This is Kafka's order
    /// (`BuiltInPartitioner.updatePartitionInfo` runs after the append), and it means a single
    /// record bigger than a batch still goes to the current partition rather than being
    /// bounced. If the topic shrank below the sticky partition (only possible after a
    /// delete-and-recreate under the same name), a new partition is chosen.
    ///
    /// # Panics
    ///
    /// If `num_partitions` is 0; see [`partition_for_key`].
    pub fn partition(&self, topic: &str, num_partitions: u32, record_bytes: usize) -> u32 {
        assert!(
            num_partitions > 0,
            "StickyPartitioner: a topic has at least one partition"
        );
        // A panic while holding the lock can only have happened between plain field writes
        // of a `Copy` struct, so the map is still valid; keep producing rather than failing
        // every later keyless record.
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sticky) = topics.get_mut(topic)
            && sticky.partition < num_partitions
        {
            return self.assign(sticky, num_partitions, record_bytes);
        }
        // First keyless record for this topic (or its partition is gone): allocate the
        // topic's key only now, so the common path above never allocates.
        let mut sticky = Sticky {
            partition: rand::random_range(0..num_partitions),
            bytes: 0,
        };
        let chosen = self.assign(&mut sticky, num_partitions, record_bytes);
        topics.insert(topic.to_owned(), sticky);
        chosen
    }

    /// Gives one record to `sticky`'s partition and moves on once the batch is full.
    fn assign(&self, sticky: &mut Sticky, num_partitions: u32, record_bytes: usize) -> u32 {
        let chosen = sticky.partition;
        sticky.bytes = sticky.bytes.saturating_add(record_bytes);
        if sticky.bytes >= self.batch_bytes {
            sticky.partition = other_partition(chosen, num_partitions);
            sticky.bytes = 0;
        }
        chosen
    }

    /// Drops `topic`'s sticky state, e.g. when the topic is deleted. The next keyless record
    /// to a topic of that name picks a fresh partition.
    pub fn forget(&self, topic: &str) {
        self.topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(topic);
    }
}

/// A uniformly random partition other than `current` (or `current` itself when it is the
/// only one). Drawing from `n - 1` slots and skipping over `current` is uniform without
/// retrying, unlike Kafka's old `StickyPartitionCache` redraw loop.
fn other_partition(current: u32, num_partitions: u32) -> u32 {
    if num_partitions <= 1 {
        return 0;
    }
    let draw = rand::random_range(0..num_partitions - 1);
    if draw >= current { draw + 1 } else { draw }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    /// Kafka's `UtilsTest.testMurmur2`, signed as Java prints them.
    const KAFKA_VECTORS: &[(&[u8], i32)] = &[
        (b"21", -973_932_308),
        (b"foobar", -790_332_482),
        (b"a-little-bit-long-string", -985_981_536),
        (b"a-little-bit-longer-string", -1_486_304_829),
        (
            b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58_897_971,
        ),
        // Kafka's test spells this one as the byte array {'a', 'b', 'c'}.
        (&[0x61, 0x62, 0x63], 479_470_107),
    ];

    /// librdkafka's `unittest_murmur2` (`java_murmur2_results`, generated with the Java
    /// client): one vector per tail length, including the empty key.
    const LIBRDKAFKA_VECTORS: &[(&[u8], u32)] = &[
        (b"kafka", 0xd067_cf64),
        (b"giberish123456789", 0x8f55_2b0c),
        (b"1234", 0x9fc9_7b14),
        (b"234", 0xe7c0_09ca),
        (b"34", 0x8739_30da),
        (b"4", 0x5a4b_5ca1),
        (b"PreAmbleWillBeRemoved,ThePrePartThatIs", 0x7842_4f1c),
        (b"reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62_b377),
        (b"eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4_e09e),
        (b"AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8_b43f),
        (b"", 0x106e_08d9),
    ];

    #[test]
    fn murmur2_matches_kafka_utils_test() {
        for &(input, expected) in KAFKA_VECTORS {
            assert_eq!(
                murmur2(input),
                expected,
                "murmur2({:?})",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn murmur2_matches_librdkafka_java_results() {
        for &(input, expected) in LIBRDKAFKA_VECTORS {
            assert_eq!(
                murmur2(input) as u32,
                expected,
                "murmur2({:?})",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// `Utils.murmur2` transliterated line by line: signed `int` arithmetic, `& 0xff` on
    /// signed bytes, `>>>` as an unsigned shift, and the `switch` fallthrough spelled out.
    /// The real implementation restructures the loop and tail; this checks the restructuring
    /// on bytes >= 0x80, which none of the published vectors contain.
    fn murmur2_java_literal(data: &[u8]) -> i32 {
        let data: Vec<i8> = data.iter().map(|&b| b as i8).collect();
        let ushr = |x: i32, n: u32| ((x as u32) >> n) as i32;
        let length = data.len() as i32;
        let seed = 0x9747_b28c_u32 as i32;
        let m = 0x5bd1_e995_i32;
        let r = 24;
        let mut h = seed ^ length;
        let length4 = length / 4;
        for i in 0..length4 {
            let i4 = (i * 4) as usize;
            let mut k = (i32::from(data[i4]) & 0xff)
                .wrapping_add((i32::from(data[i4 + 1]) & 0xff) << 8)
                .wrapping_add((i32::from(data[i4 + 2]) & 0xff) << 16)
                .wrapping_add((i32::from(data[i4 + 3]) & 0xff) << 24);
            k = k.wrapping_mul(m);
            k ^= ushr(k, r);
            k = k.wrapping_mul(m);
            h = h.wrapping_mul(m);
            h ^= k;
        }
        let base = (length & !3) as usize;
        let rem = length % 4;
        if rem == 3 {
            h ^= (i32::from(data[base + 2]) & 0xff) << 16;
        }
        if rem >= 2 {
            h ^= (i32::from(data[base + 1]) & 0xff) << 8;
        }
        if rem >= 1 {
            h ^= i32::from(data[base]) & 0xff;
            h = h.wrapping_mul(m);
        }
        h ^= ushr(h, 13);
        h = h.wrapping_mul(m);
        h ^= ushr(h, 15);
        h
    }

    #[test]
    fn java_literal_oracle_agrees_with_published_vectors() {
        for &(input, expected) in KAFKA_VECTORS {
            assert_eq!(murmur2_java_literal(input), expected);
        }
        for &(input, expected) in LIBRDKAFKA_VECTORS {
            assert_eq!(murmur2_java_literal(input) as u32, expected);
        }
    }

    #[test]
    fn murmur2_matches_java_on_high_bytes_and_every_tail_length() {
        for len in 0..=67 {
            let input: Vec<u8> = (0..len).map(|i| (0x80 + i * 37 % 128) as u8).collect();
            assert_eq!(murmur2(&input), murmur2_java_literal(&input), "len {len}");
            let random: Vec<u8> = (0..len).map(|_| rand::random()).collect();
            assert_eq!(
                murmur2(&random),
                murmur2_java_literal(&random),
                "{random:?}"
            );
        }
    }

    #[test]
    fn to_positive_clears_only_the_sign_bit() {
        assert_eq!(to_positive(0), 0);
        assert_eq!(to_positive(5), 5);
        assert_eq!(to_positive(-1), 0x7fff_ffff);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(i32::MAX), 0x7fff_ffff);
    }

    #[test]
    fn partition_for_key_uses_kafka_formula() {
        for &(key, hash) in KAFKA_VECTORS {
            for partitions in [1, 2, 3, 7, 12, 50, 1000] {
                let expected = ((hash & 0x7fff_ffff) as u32) % partitions;
                assert_eq!(partition_for_key(key, partitions), expected);
            }
        }
        // Worked by hand from the vectors above.
        assert_eq!(partition_for_key(b"foobar", 50), 16);
        assert_eq!(partition_for_key(b"21", 12), 1_173_551_340 % 12);
        assert_eq!(partition_for_key(b"abc", 3), 479_470_107 % 3);
    }

    #[test]
    fn partition_for_key_is_in_range() {
        for i in 0..1000u32 {
            let key = i.to_be_bytes();
            assert!(partition_for_key(&key, 7) < 7);
            assert_eq!(partition_for_key(&key, 1), 0);
        }
    }

    #[test]
    #[should_panic(expected = "at least one partition")]
    fn partition_for_key_rejects_zero_partitions() {
        partition_for_key(b"k", 0);
    }

    #[test]
    fn sticky_stays_until_batch_is_full_then_switches() {
        let partitioner = StickyPartitioner::new(100);
        let first = partitioner.partition("t", 8, 40);
        assert_eq!(partitioner.partition("t", 8, 40), first);
        // This record reaches 120 >= 100: it still goes to `first`, the next one doesn't.
        assert_eq!(partitioner.partition("t", 8, 40), first);
        let second = partitioner.partition("t", 8, 40);
        assert_ne!(second, first);
        assert!(second < 8);
        assert_eq!(partitioner.partition("t", 8, 59), second);
        assert_eq!(partitioner.partition("t", 8, 1), second);
        assert_ne!(partitioner.partition("t", 8, 1), second);
    }

    #[test]
    fn sticky_oversized_record_goes_to_current_partition() {
        let partitioner = StickyPartitioner::new(100);
        let first = partitioner.partition("t", 4, 0);
        assert_eq!(partitioner.partition("t", 4, 10_000), first);
        assert_ne!(partitioner.partition("t", 4, 1), first);
    }

    #[test]
    fn sticky_never_repeats_a_partition_across_a_switch() {
        let partitioner = StickyPartitioner::new(0);
        let mut previous = partitioner.partition("t", 2, 1);
        for _ in 0..200 {
            let next = partitioner.partition("t", 2, 1);
            assert_ne!(next, previous);
            previous = next;
        }
    }

    #[test]
    fn sticky_eventually_visits_every_partition() {
        // Each switch picks one of 4 others uniformly; missing a partition over 1000
        // switches has probability about 5 * (4/5)^1000, i.e. never.
        let partitioner = StickyPartitioner::new(0);
        let seen: HashSet<u32> = (0..1000)
            .map(|_| partitioner.partition("t", 5, 1))
            .collect();
        assert_eq!(seen, (0..5).collect());
    }

    #[test]
    fn sticky_single_partition_is_always_zero() {
        let partitioner = StickyPartitioner::new(0);
        for _ in 0..100 {
            assert_eq!(partitioner.partition("t", 1, 1_000_000), 0);
        }
    }

    #[test]
    fn sticky_state_is_per_topic() {
        let partitioner = StickyPartitioner::new(100);
        let a = partitioner.partition("a", 1000, 90);
        let b = partitioner.partition("b", 1000, 90);
        // Filling "b" must not move "a".
        partitioner.partition("b", 1000, 90);
        assert_eq!(partitioner.partition("a", 1000, 9), a);
        assert_ne!(partitioner.partition("b", 1000, 1), b);
    }

    #[test]
    fn sticky_repicks_when_partition_count_shrinks() {
        let partitioner = StickyPartitioner::new(usize::MAX);
        // Find a state where the sticky partition is >= 2, then shrink to 2 partitions.
        let mut current = partitioner.partition("t", 1000, 0);
        while current < 2 {
            partitioner.forget("t");
            current = partitioner.partition("t", 1000, 0);
        }
        assert!(partitioner.partition("t", 2, 0) < 2);
    }

    #[test]
    fn sticky_keeps_partition_when_partition_count_grows() {
        let partitioner = StickyPartitioner::new(usize::MAX);
        let first = partitioner.partition("t", 3, 1);
        assert_eq!(partitioner.partition("t", 300, 1), first);
    }

    #[test]
    fn forget_resets_the_byte_count() {
        let partitioner = StickyPartitioner::new(100);
        partitioner.partition("t", 1000, 99);
        partitioner.forget("t");
        // A fresh entry: 99 more bytes don't reach the limit, so the partition holds.
        let fresh = partitioner.partition("t", 1000, 99);
        assert_eq!(partitioner.partition("t", 1000, 0), fresh);
        partitioner.forget("never-seen");
    }

    #[test]
    fn sticky_is_shared_across_threads() {
        // 8 threads x 1000 records of 10 bytes with a 100-byte batch. The byte count must
        // come out exact (80,000 bytes is exactly 800 batches, so it ends at 0): a lost
        // update under contention would leave a remainder.
        let partitioner = Arc::new(StickyPartitioner::new(100));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let partitioner = Arc::clone(&partitioner);
                std::thread::spawn(move || {
                    (0..1000)
                        .map(|_| partitioner.partition("t", 6, 10))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut counts = [0usize; 6];
        for handle in handles {
            for p in handle.join().expect("worker thread panicked") {
                counts[p as usize] += 1;
            }
        }
        assert_eq!(counts.iter().sum::<usize>(), 8000);
        // Whole batches only: every partition got a multiple of 10 records.
        assert!(counts.iter().all(|c| c % 10 == 0), "{counts:?}");
        let topics = partitioner.topics.lock().expect("not poisoned");
        assert_eq!(topics.get("t").map(|s| s.bytes), Some(0));
    }

    #[test]
    fn default_batch_is_kafkas_batch_size() {
        let partitioner = StickyPartitioner::default();
        let first = partitioner.partition("t", 1000, DEFAULT_BATCH_BYTES - 1);
        assert_eq!(partitioner.partition("t", 1000, 0), first);
        assert_eq!(partitioner.partition("t", 1000, 1), first);
        assert_ne!(partitioner.partition("t", 1000, 1), first);
    }
}
