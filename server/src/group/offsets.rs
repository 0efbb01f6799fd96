//! Committed offsets, stored in the compacted internal topic `__consumer_offsets`.
//!
//! Each commit appends one record per partition: key = (group, topic, partition), value =
//! (offset, metadata, commit timestamp); deleting writes a tombstone (null value), and
//! compaction keeps only the latest record per key. The layouts are Kafka's own
//! `OffsetCommitKey` (version 1) and `OffsetCommitValue` (version 3), big-endian, with `STRING`
//! = `i16` length + UTF-8, so a Kafka tool that reads `__consumer_offsets` reads ours:
//!
//! ```text
//! key:   version: i16 = 1 | group: STRING | topic: STRING | partition: i32
//! value: version: i16 = 3 | offset: i64 | leader_epoch: i32 (-1) | metadata: STRING
//!        | commit_timestamp: i64
//! ```
//!
//! A group's records all go to partition `abs(java_hash_code(group)) % partitions` (Kafka's
//! `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`), so one partition orders all
//! of a group's commits and, once replication comes, that partition's leader is the group's
//! coordinator. We create [`PARTITIONS`] = 8 partitions, not Kafka's 50: each partition is a
//! directory, an open active segment and its in-memory indexes, which 50 times over is
//! overhead the small nodes we target need not pay, while 8 still spreads coordinators over up
//! to eight brokers. The count is fixed forever once the topic exists (changing it would move groups
//! to other partitions), which is why the broker refuses to grow internal topics.
//!
//! The topic is created (compacted, [`PARTITIONS`] partitions) by the first commit, as Kafka
//! creates it on first use.
//!
//! A commit is acknowledged only after its records are appended (through the partition's
//! group-commit appender, so concurrent commits share batches and fsyncs). The in-memory view
//! is updated after the append, keyed by the record's log offset, so commits that finish out of
//! order still leave the latest write in place. At start-up the view is rebuilt by replaying
//! every partition of the topic.
//!
//! Not owned here: who may commit (generation checks live in the coordinator).

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::Mutex;
use tracing::{info, warn};

use super::{GroupError, GroupId, Result, TopicPartition};
use crate::broker::appender::Sized;
use crate::broker::topic_config::CLEANUP_POLICY;
use crate::broker::{self, Broker, Leader, Partition, Spread};
use crate::clock::Clock;
use crate::log::{self, NewRecord};

/// The internal topic's name, as Kafka's.
pub const TOPIC: &str = "__consumer_offsets";
/// Partitions of [`TOPIC`] when we create it (see the module docs for why 8).
pub const PARTITIONS: u32 = 8;
/// Kafka's `offset.metadata.max.bytes` default.
pub const MAX_METADATA_BYTES: usize = 4096;
/// Bytes read per fetch while replaying the topic at start-up.
const REPLAY_READ_BYTES: usize = 1 << 20;

const KEY_VERSION: i16 = 1;
const VALUE_VERSION: i16 = 3;

/// An offset to commit: the next offset to consume, and free-form client metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OffsetAndMetadata {
    pub offset: u64,
    pub metadata: String,
}

impl OffsetAndMetadata {
    pub fn new(offset: u64) -> Self {
        OffsetAndMetadata {
            offset,
            metadata: String::new(),
        }
    }
}

/// A committed offset as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub offset: u64,
    pub metadata: String,
    /// When the commit was accepted, ms since the epoch.
    pub commit_timestamp: i64,
}

/// `auto.offset.reset`: where to start on a partition with no usable committed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoOffsetReset {
    Earliest,
    /// Kafka's default.
    #[default]
    Latest,
    /// Fail with [`GroupError::NoOffsetForPartition`].
    None,
}

impl FromStr for AutoOffsetReset {
    type Err = GroupError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "earliest" | "smallest" => Ok(AutoOffsetReset::Earliest),
            "latest" | "largest" => Ok(AutoOffsetReset::Latest),
            "none" => Ok(AutoOffsetReset::None),
            other => Err(GroupError::InvalidOffsetReset(other.to_owned())),
        }
    }
}

/// Where an admin reset moves a group's offsets (`kafka-consumer-groups --reset-offsets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetResetSpec {
    /// The log start offset.
    Earliest,
    /// The high watermark.
    Latest,
    /// The first offset whose timestamp is ≥ this (ms); the high watermark if none is.
    Timestamp(i64),
    /// This offset, clamped into `[log_start_offset, high_watermark]` as Kafka's tool does.
    Offset(u64),
}

/// One cached key: the latest value and the log offset of the record that wrote it.
#[derive(Debug, Clone)]
struct Entry {
    /// `None` after a tombstone; kept so an older, slower write cannot resurrect the key.
    value: Option<CommittedOffset>,
    log_offset: u64,
}

/// Committed offsets of every group, backed by [`TOPIC`].
#[derive(Debug)]
pub struct OffsetStore {
    broker: Arc<Broker>,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<GroupId, BTreeMap<TopicPartition, Entry>>>,
}

impl OffsetStore {
    /// Opens the store and replays [`TOPIC`] if it exists. Blocking.
    ///
    /// The topic itself is created on the first write, as Kafka creates it on first use: a
    /// broker whose clients never use groups keeps its topic list to their own topics.
    ///
    /// # Errors
    /// The topic's config lets the log delete offsets
    /// ([`Broker::verify_internal_topic`]), or reading it failed.
    pub fn open(broker: Arc<Broker>, clock: Arc<dyn Clock>) -> Result<Self> {
        let store = OffsetStore {
            broker,
            clock,
            cache: Mutex::new(HashMap::new()),
        };
        let topic = match store.broker.topic(TOPIC) {
            Ok(t) => t,
            Err(broker::Error::UnknownTopic(_)) => return Ok(store),
            Err(e) => return Err(e.into()),
        };
        // A coordinator on a topic that deletes by retention would lose groups' offsets.
        store.broker.verify_internal_topic(&topic)?;
        // Each broker coordinates the groups of the partitions it leads, and holds only
        // their records.
        let mut records = 0usize;
        for p in topic.partitions() {
            if p.leader() == Leader::Here {
                records += store.replay(p)?;
            }
        }
        info!(
            partitions = topic.partition_count(),
            records,
            groups = store.groups().len(),
            "committed offsets loaded"
        );
        Ok(store)
    }

    /// The partition of [`TOPIC`] holding `group`'s offsets (and whose leader coordinates it):
    /// by the topic's actual partition count, or [`PARTITIONS`] before it exists.
    pub fn partition_for(&self, group: &GroupId) -> u32 {
        let count = self
            .broker
            .topic(TOPIC)
            .map_or(PARTITIONS, |t| t.partition_count());
        partition_for(group.as_str(), count)
    }

    /// `group`'s partition of [`TOPIC`], creating the topic (compacted, [`PARTITIONS`]
    /// partitions) on first use.
    async fn partition_of(&self, group: &GroupId) -> Result<Arc<Partition>> {
        if let Err(broker::Error::UnknownTopic(_)) = self.broker.topic(TOPIC) {
            let broker = Arc::clone(&self.broker);
            let created = tokio::task::spawn_blocking(move || {
                let configs = BTreeMap::from([(CLEANUP_POLICY.to_owned(), "compact".to_owned())]);
                broker.create_internal_topic(TOPIC, PARTITIONS, configs, Spread::Across)
            })
            .await
            .map_err(GroupError::TaskFailed)?;
            match created {
                // A concurrent first commit created it.
                Ok(_) | Err(broker::Error::TopicExists(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.broker.partition(TOPIC, self.partition_for(group))?)
    }

    /// Who coordinates `group`: the leader of its partition of [`TOPIC`] (Kafka's rule),
    /// creating the topic first if no group has used it yet.
    ///
    /// # Errors
    /// The topic could not be created.
    pub async fn coordinator(&self, group: &GroupId) -> Result<Leader> {
        Ok(self.partition_of(group).await?.leader())
    }

    /// Reads one partition from its start and applies every record. Returns how many it read.
    fn replay(&self, p: &Partition) -> Result<usize> {
        let (mut offset, high_watermark) = p.offsets();
        let mut count = 0;
        while offset < high_watermark {
            let fetched = p.read(offset, REPLAY_READ_BYTES)?;
            if fetched.next_offset <= offset {
                break;
            }
            offset = fetched.next_offset;
            for r in fetched.records {
                count += 1;
                let Some(key) = r.key.as_deref() else {
                    continue;
                };
                match decode_key(key) {
                    Ok(Some((group, tp))) => {
                        let value = match r.value.as_deref().map(decode_value).transpose() {
                            Ok(v) => v,
                            Err(reason) => {
                                warn!(
                                    partition = p.id(),
                                    offset = r.offset,
                                    reason,
                                    "skipping an unreadable offset commit"
                                );
                                continue;
                            }
                        };
                        self.apply(group, tp, value, r.offset);
                    }
                    // Another key kind (Kafka's group metadata): not ours to read.
                    Ok(None) => {}
                    Err(reason) => {
                        warn!(
                            partition = p.id(),
                            offset = r.offset,
                            reason,
                            "skipping an unreadable offsets key"
                        );
                    }
                }
            }
        }
        Ok(count)
    }

    /// Installs `value` for a key unless a later record already set it.
    fn apply(&self, group: GroupId, tp: TopicPartition, value: Option<CommittedOffset>, at: u64) {
        let mut cache = self.cache.lock();
        let offsets = cache.entry(group).or_default();
        match offsets.get_mut(&tp) {
            Some(e) if e.log_offset > at => {}
            Some(e) => {
                e.value = value;
                e.log_offset = at;
            }
            None => {
                offsets.insert(
                    tp,
                    Entry {
                        value,
                        log_offset: at,
                    },
                );
            }
        }
    }

    /// Commits offsets for `group`; returns once every record is appended. Each record is
    /// applied as soon as it is written, so on error the partitions before the failure may be
    /// committed.
    ///
    /// # Errors
    /// [`GroupError::OffsetMetadataTooLarge`], [`GroupError::UnknownTopicOrPartition`] (checked
    /// before anything is written), or the append failed.
    pub async fn commit(
        &self,
        group: &GroupId,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        for (tp, om) in offsets {
            if om.metadata.len() > MAX_METADATA_BYTES {
                return Err(GroupError::OffsetMetadataTooLarge {
                    size: om.metadata.len(),
                    max: MAX_METADATA_BYTES,
                });
            }
            self.broker
                .partition(&tp.topic, tp.partition)
                .map_err(|_| GroupError::UnknownTopicOrPartition(tp.clone()))?;
        }
        let now = self.clock.unix_ms();
        let values: Vec<(TopicPartition, Option<CommittedOffset>)> = offsets
            .iter()
            .map(|(tp, om)| {
                let value = CommittedOffset {
                    offset: om.offset,
                    metadata: om.metadata.clone(),
                    commit_timestamp: now,
                };
                (tp.clone(), Some(value))
            })
            .collect();
        self.write(group, values).await
    }

    /// Deletes `group`'s committed offsets of these partitions (tombstones).
    ///
    /// # Errors
    /// The append failed.
    pub async fn delete(&self, group: &GroupId, partitions: &[TopicPartition]) -> Result<()> {
        let values = partitions.iter().map(|tp| (tp.clone(), None)).collect();
        self.write(group, values).await
    }

    async fn write(
        &self,
        group: &GroupId,
        values: Vec<(TopicPartition, Option<CommittedOffset>)>,
    ) -> Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        let now = self.clock.unix_ms();
        let records = values
            .iter()
            .map(|(tp, v)| {
                Sized::new(NewRecord {
                    timestamp: Some(v.as_ref().map_or(now, |v| v.commit_timestamp)),
                    key: Some(encode_key(group, tp)),
                    value: v.as_ref().map(encode_value),
                    headers: Vec::new(),
                })
            })
            .collect();
        let p = self.partition_of(group).await?;
        let reply = p.enqueue(records).await?;
        let results = reply.await.map_err(|_| log::Error::Offline {
            path: std::path::PathBuf::from(TOPIC),
        })?;
        let mut first_error = None;
        for ((tp, value), result) in values.into_iter().zip(results) {
            match result {
                Ok(at) => self.apply(group.clone(), tp, value, at),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// `group`'s committed offsets, by partition.
    pub fn fetch(&self, group: &GroupId) -> BTreeMap<TopicPartition, CommittedOffset> {
        self.cache
            .lock()
            .get(group)
            .map(|offsets| {
                offsets
                    .iter()
                    .filter_map(|(tp, e)| Some((tp.clone(), e.value.clone()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `group`'s committed offset of one partition.
    pub fn committed(&self, group: &GroupId, tp: &TopicPartition) -> Option<CommittedOffset> {
        self.cache.lock().get(group)?.get(tp)?.value.clone()
    }

    /// Whether `group` has at least one committed offset.
    pub fn has_offsets(&self, group: &GroupId) -> bool {
        self.cache
            .lock()
            .get(group)
            .is_some_and(|o| o.values().any(|e| e.value.is_some()))
    }

    /// Groups with at least one committed offset, sorted.
    pub fn groups(&self) -> Vec<GroupId> {
        let mut groups: Vec<GroupId> = self
            .cache
            .lock()
            .iter()
            .filter(|(_, o)| o.values().any(|e| e.value.is_some()))
            .map(|(g, _)| g.clone())
            .collect();
        groups.sort();
        groups
    }

    /// Every group's committed offsets (for metrics and the lag of all groups).
    pub fn all(&self) -> BTreeMap<GroupId, BTreeMap<TopicPartition, CommittedOffset>> {
        self.cache
            .lock()
            .iter()
            .map(|(g, o)| {
                let live: BTreeMap<_, _> = o
                    .iter()
                    .filter_map(|(tp, e)| Some((tp.clone(), e.value.clone()?)))
                    .collect();
                (g.clone(), live)
            })
            .filter(|(_, o)| !o.is_empty())
            .collect()
    }

    /// Where `group` starts reading `tp`: its committed offset if that is still inside the
    /// log, else where `reset` says (Kafka's consumer does the same on `OFFSET_OUT_OF_RANGE`).
    ///
    /// # Errors
    /// [`GroupError::Broker`] for an unknown topic or partition,
    /// [`GroupError::NoOffsetForPartition`] under [`AutoOffsetReset::None`].
    pub fn starting_offset(
        &self,
        group: &GroupId,
        tp: &TopicPartition,
        reset: AutoOffsetReset,
        offsets: (u64, u64),
    ) -> Result<u64> {
        let (log_start, high_watermark) = offsets;
        match self.committed(group, tp) {
            Some(c) if (log_start..=high_watermark).contains(&c.offset) => Ok(c.offset),
            _ => resolve_reset(tp, offsets, reset),
        }
    }
}

/// The offset `auto.offset.reset` picks for a partition with no usable committed offset.
///
/// # Errors
/// [`GroupError::NoOffsetForPartition`] under [`AutoOffsetReset::None`].
pub fn resolve_reset(
    tp: &TopicPartition,
    (log_start, high_watermark): (u64, u64),
    reset: AutoOffsetReset,
) -> Result<u64> {
    match reset {
        AutoOffsetReset::Earliest => Ok(log_start),
        AutoOffsetReset::Latest => Ok(high_watermark),
        AutoOffsetReset::None => Err(GroupError::NoOffsetForPartition(tp.clone())),
    }
}

/// The offset an admin reset moves a partition to. Blocking for
/// [`OffsetResetSpec::Timestamp`] (it reads the time index).
///
/// # Errors
/// Reading the time index failed.
pub fn reset_target(broker: &Broker, p: &Arc<Partition>, spec: OffsetResetSpec) -> Result<u64> {
    let (log_start, high_watermark) = broker.list_offsets_blocking(p)?;
    Ok(match spec {
        OffsetResetSpec::Earliest => log_start,
        OffsetResetSpec::Latest => high_watermark,
        OffsetResetSpec::Timestamp(ts) => broker
            .offset_for_timestamp_blocking(p, ts)?
            .map_or(high_watermark, |(offset, _)| offset),
        OffsetResetSpec::Offset(o) => o.clamp(log_start, high_watermark),
    })
}

/// Kafka's `Utils.abs(groupId.hashCode()) % partitions`, with Java's `String.hashCode` over
/// UTF-16 code units.
///
/// ```
/// use runnel::group::offsets::partition_for;
///
/// // "hello".hashCode() == 99162322 in Java; 99162322 % 50 == 22.
/// assert_eq!(partition_for("hello", 50), 22);
/// ```
pub fn partition_for(group: &str, partitions: u32) -> u32 {
    let hash = java_hash_code(group);
    // Utils.abs: Integer.MIN_VALUE maps to 0 rather than overflowing.
    let abs = if hash == i32::MIN { 0 } else { hash.abs() };
    abs.unsigned_abs() % partitions.max(1)
}

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 units, wrapping.
pub fn java_hash_code(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

fn put_string(out: &mut BytesMut, s: &str) {
    // Callers bound every string below i16::MAX bytes (group ids, topic names, metadata).
    out.put_i16(i16::try_from(s.len()).unwrap_or(i16::MAX));
    out.put_slice(s.as_bytes());
}

/// Kafka's `OffsetCommitKey` version 1.
pub fn encode_key(group: &GroupId, tp: &TopicPartition) -> Bytes {
    let mut out = BytesMut::with_capacity(10 + group.as_str().len() + tp.topic.len());
    out.put_i16(KEY_VERSION);
    put_string(&mut out, group.as_str());
    put_string(&mut out, &tp.topic);
    out.put_i32(i32::try_from(tp.partition).unwrap_or(i32::MAX));
    out.freeze()
}

/// Kafka's `OffsetCommitValue` version 3 (leader epoch unknown: -1).
pub fn encode_value(v: &CommittedOffset) -> Bytes {
    let mut out = BytesMut::with_capacity(24 + v.metadata.len());
    out.put_i16(VALUE_VERSION);
    out.put_i64(i64::try_from(v.offset).unwrap_or(i64::MAX));
    out.put_i32(-1);
    put_string(&mut out, &v.metadata);
    out.put_i64(v.commit_timestamp);
    out.freeze()
}

/// A bounds-checked reader over a key or value.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> std::result::Result<[u8; N], &'static str> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or("truncated")?;
        self.0 = rest;
        Ok(*head)
    }
    fn i16(&mut self) -> std::result::Result<i16, &'static str> {
        self.take().map(i16::from_be_bytes)
    }
    fn i32(&mut self) -> std::result::Result<i32, &'static str> {
        self.take().map(i32::from_be_bytes)
    }
    fn i64(&mut self) -> std::result::Result<i64, &'static str> {
        self.take().map(i64::from_be_bytes)
    }
    fn string(&mut self) -> std::result::Result<String, &'static str> {
        let len = usize::try_from(self.i16()?).map_err(|_| "negative string length")?;
        if self.0.len() < len {
            return Err("truncated string");
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(s.to_vec()).map_err(|_| "string is not UTF-8")
    }
}

/// Decodes an offset-commit key; `Ok(None)` for key versions that are not offset commits
/// (Kafka's version 2 is group metadata).
pub fn decode_key(
    key: &[u8],
) -> std::result::Result<Option<(GroupId, TopicPartition)>, &'static str> {
    let mut c = Cursor(key);
    match c.i16()? {
        0 | 1 => {}
        _ => return Ok(None),
    }
    let group = GroupId::new(c.string()?).map_err(|_| "empty group id")?;
    let topic = c.string()?;
    let partition = u32::try_from(c.i32()?).map_err(|_| "negative partition")?;
    Ok(Some((group, TopicPartition { topic, partition })))
}

/// Decodes an offset-commit value of version 0 to 3.
pub fn decode_value(value: &[u8]) -> std::result::Result<CommittedOffset, &'static str> {
    let mut c = Cursor(value);
    let version = c.i16()?;
    if !(0..=3).contains(&version) {
        return Err("unknown value version");
    }
    let offset = u64::try_from(c.i64()?).map_err(|_| "negative offset")?;
    if version >= 3 {
        c.i32()?; // leader epoch
    }
    let metadata = c.string()?;
    let commit_timestamp = c.i64()?;
    // Version 1 also carries an expire timestamp, which we don't use.
    Ok(CommittedOffset {
        offset,
        metadata,
        commit_timestamp,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn java_hash_code_matches_java() {
        assert_eq!(java_hash_code(""), 0);
        assert_eq!(java_hash_code("hello"), 99_162_322);
        assert_eq!(java_hash_code("my-group"), -1_906_497_762);
        assert_eq!(partition_for("my-group", 8), 1_906_497_762 % 8);
        // Overflows i32: "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert_eq!(java_hash_code("polygenelubricants"), i32::MIN);
        assert_eq!(partition_for("polygenelubricants", 8), 0);
        // Outside the BMP: two UTF-16 units.
        assert_eq!(java_hash_code("😀"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn partition_for_stays_in_range() {
        for g in ["a", "group-1", "ünïcödé", "negative-hash-zzzzzzzz"] {
            assert!(partition_for(g, PARTITIONS) < PARTITIONS);
        }
    }

    #[test]
    fn key_and_value_round_trip() {
        let g = GroupId::new("g1").unwrap();
        let tp = TopicPartition::new("orders", 7);
        let key = encode_key(&g, &tp);
        assert_eq!(
            &key[..],
            &[
                0, 1, 0, 2, b'g', b'1', 0, 6, b'o', b'r', b'd', b'e', b'r', b's', 0, 0, 0, 7
            ]
        );
        assert_eq!(decode_key(&key).unwrap(), Some((g, tp)));

        let v = CommittedOffset {
            offset: 42,
            metadata: "m".into(),
            commit_timestamp: 1_700_000_000_000,
        };
        assert_eq!(decode_value(&encode_value(&v)).unwrap(), v);
    }

    #[test]
    fn decoding_refuses_garbage_without_panicking() {
        assert!(decode_key(&[0]).is_err());
        assert!(decode_key(&[0, 1, 0, 9, b'x']).is_err());
        assert_eq!(decode_key(&[0, 2, 0, 1, b'g']), Ok(None));
        assert!(decode_value(&[0, 3, 0, 0]).is_err());
        assert!(decode_value(&[0, 9]).is_err());
        assert!(decode_value(&[0, 3, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn auto_offset_reset_parses_kafkas_values() {
        assert_eq!(
            "earliest".parse::<AutoOffsetReset>().unwrap(),
            AutoOffsetReset::Earliest
        );
        assert_eq!(
            "latest".parse::<AutoOffsetReset>().unwrap(),
            AutoOffsetReset::Latest
        );
        assert_eq!(
            "none".parse::<AutoOffsetReset>().unwrap(),
            AutoOffsetReset::None
        );
        assert!(matches!(
            "newest".parse::<AutoOffsetReset>(),
            Err(GroupError::InvalidOffsetReset(_))
        ));
    }
}
