//! Typed per-log settings, under Kafka's topic-config names and with Kafka's defaults.
//!
//! The string form (`"retention.ms" = "604800000"`) is parsed and validated in
//! `broker::topic_config`; the log only ever sees these checked values.

use super::batch::{Compression, TimestampType};

/// `cleanup.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CleanupPolicy {
    pub delete: bool,
    pub compact: bool,
}

impl CleanupPolicy {
    pub const DELETE: Self = CleanupPolicy {
        delete: true,
        compact: false,
    };
    pub const COMPACT: Self = CleanupPolicy {
        delete: false,
        compact: true,
    };
}

/// `compression.type`: keep what the producer sent, or recompress with a codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompressionType {
    #[default]
    Producer,
    Codec(Compression),
}

/// Settings that shape one partition's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes`: roll when the active segment would grow past this.
    pub segment_bytes: u64,
    /// `segment.ms`: roll when the active segment's first batch is this old.
    pub segment_ms: i64,
    /// `segment.index.bytes`: most bytes of entries in each index of a segment; a full index
    /// rolls the segment.
    pub segment_index_bytes: usize,
    /// `index.interval.bytes`: log bytes between offset-index entries.
    pub index_interval_bytes: usize,
    /// `retention.ms`; `None` keeps data forever (Kafka's -1).
    pub retention_ms: Option<i64>,
    /// `retention.bytes`; `None` is unlimited (Kafka's -1).
    pub retention_bytes: Option<u64>,
    /// `cleanup.policy`.
    pub cleanup_policy: CleanupPolicy,
    /// `delete.retention.ms`: how long compaction keeps tombstones.
    pub delete_retention_ms: i64,
    /// `flush.messages`: fsync after this many appended records.
    pub flush_messages: u64,
    /// `flush.ms`: fsync when unflushed data is this old.
    pub flush_ms: i64,
    /// `max.message.bytes`: the largest batch (after compression) the log accepts.
    pub max_message_bytes: usize,
    /// `message.timestamp.type`.
    pub timestamp_type: TimestampType,
    /// `compression.type`.
    pub compression_type: CompressionType,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3_600_000,
            segment_index_bytes: 10 << 20,
            index_interval_bytes: 4096,
            retention_ms: Some(7 * 24 * 3_600_000),
            retention_bytes: None,
            cleanup_policy: CleanupPolicy::DELETE,
            delete_retention_ms: 24 * 3_600_000,
            flush_messages: i64::MAX as u64,
            flush_ms: i64::MAX,
            max_message_bytes: 1_048_588,
            timestamp_type: TimestampType::CreateTime,
            compression_type: CompressionType::Producer,
        }
    }
}

impl LogConfig {
    /// The largest batch a decoder will accept or decompress to: a little room above
    /// `max.message.bytes` so a batch at the limit plus its framing still fits.
    pub fn max_batch_bytes(&self) -> usize {
        self.max_message_bytes
            .saturating_add(super::batch::HEADER_LEN)
    }

    pub(crate) fn index_config(&self) -> super::segment::IndexConfig {
        super::segment::IndexConfig {
            max_index_bytes: self.segment_index_bytes,
            index_interval_bytes: self.index_interval_bytes,
            max_batch_bytes: self.max_batch_bytes(),
        }
    }
}
