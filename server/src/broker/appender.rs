//! Group commit across requests: one appender task per partition turns many concurrent produce
//! requests into few large batches.
//!
//! Producers send their validated records over a bounded channel; the task takes the first
//! request, then everything already queued behind it (up to [`GROUP_BYTES`]), encodes the group
//! into batches no larger than `max.message.bytes`, appends them under one lock with at most one
//! fsync, and answers each request with its records' own offsets. While a group is being written,
//! the next one accumulates, so the busier the partition, the larger the batches. The bounded
//! channel is the backpressure: producers wait when [`QUEUE_DEPTH`] requests are queued.
//!
//! When another broker leads the partition, the same task sends each group to the leader as
//! batches encoded here (`remote.rs`), so forwarded records keep their order and are grouped
//! the same way.
//!
//! The task holds only a `Weak` reference to its partition; when the partition is dropped (topic
//! deleted) its sender goes with it and the task ends.

use std::ops::Range;
use std::sync::{Arc, Weak};

use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::partition::{ClusterSlot, Leader, Partition};
use crate::log::record::RecordRef;
use crate::log::{self, Compression, CompressionType, NewRecord, batch};

/// Requests queued per partition before producers wait.
pub const QUEUE_DEPTH: usize = 1024;
/// Bytes of records gathered into one group before it is written.
pub const GROUP_BYTES: usize = 4 << 20;

/// A record with its encoded size, estimated once where it enters the broker: the size
/// checks, the group limit and the batch cutting all use this figure.
#[derive(Debug, Clone)]
pub struct Sized {
    pub record: NewRecord,
    pub size: usize,
}

impl Sized {
    pub fn new(record: NewRecord) -> Self {
        let size = estimated_size(&record);
        Sized { record, size }
    }
}

/// One request's records and where to send their offsets.
#[derive(Debug)]
pub(crate) struct AppendRequest {
    pub records: Vec<Sized>,
    pub size: usize,
    pub reply: oneshot::Sender<Vec<log::Result<u64>>>,
}

pub(crate) fn spawn(
    partition: Weak<Partition>,
    cluster: ClusterSlot,
) -> mpsc::Sender<AppendRequest> {
    let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
    tokio::spawn(run(partition, cluster, rx));
    tx
}

async fn run(
    partition: Weak<Partition>,
    cluster: ClusterSlot,
    mut rx: mpsc::Receiver<AppendRequest>,
) {
    while let Some(first) = rx.recv().await {
        let mut size = first.size;
        let mut group = vec![first];
        while size < GROUP_BYTES {
            match rx.try_recv() {
                Ok(r) => {
                    size += r.size;
                    group.push(r);
                }
                Err(_) => break,
            }
        }
        let Some(p) = partition.upgrade() else {
            return;
        };
        let (requests, replies): (Vec<Vec<Sized>>, Vec<_>) =
            group.into_iter().map(|r| (r.records, r.reply)).unzip();
        // Who leads is read per group: the next group follows a leader change.
        let results = match (p.leader(), cluster.get()) {
            (Leader::Broker(leader), Some(node)) => {
                super::remote::produce(node, leader, &p, requests).await
            }
            _ => match tokio::task::spawn_blocking(move || write_group(&p, requests)).await {
                Ok(results) => results,
                Err(e) => {
                    warn!(cause = %e, "append task panicked");
                    continue;
                }
            },
        };
        for (reply, result) in replies.into_iter().zip(results) {
            // A producer that went away (acks=0, or a closed connection) needs no answer.
            let _ = reply.send(result);
        }
    }
}

/// Encodes the requests into batches of at most `max.message.bytes`, appends them, flushes once
/// if the policy asks, and returns each request's per-record offsets.
fn write_group(p: &Arc<Partition>, requests: Vec<Vec<Sized>>) -> Vec<Vec<log::Result<u64>>> {
    let now = super::now_ms();
    let all: Vec<&Sized> = requests.iter().flatten().collect();
    let (ranges, encoded) = encode(&all, &p.log_config(), now);
    let appended = p.append_many(encoded, now);
    let per_record = spread(&ranges, &appended, |info| info.base_offset);
    let mut it = per_record.into_iter();
    requests
        .iter()
        .map(|r| it.by_ref().take(r.len()).collect())
        .collect()
}

/// Cuts `records` into batches of at most `max.message.bytes` under `config` and encodes
/// them (base offset 0; records without a timestamp get `now`). Returns each batch's range of
/// `records` and the batch, or why it could not be encoded.
pub(crate) fn encode(
    records: &[&Sized],
    config: &log::LogConfig,
    now: i64,
) -> (Vec<Range<usize>>, Vec<log::Result<batch::EncodedBatch>>) {
    let compression = match config.compression_type {
        CompressionType::Producer => Compression::None,
        CompressionType::Codec(c) => c,
    };
    let limit = config.max_message_bytes;
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut bytes = batch::HEADER_LEN;
    for (i, r) in records.iter().enumerate() {
        if i > start && bytes + r.size > limit {
            ranges.push(start..i);
            start = i;
            bytes = batch::HEADER_LEN;
        }
        bytes += r.size;
    }
    if start < records.len() {
        ranges.push(start..records.len());
    }
    let encoded = ranges
        .iter()
        .map(|range| {
            let batch = records.get(range.clone()).unwrap_or_default();
            let refs = batch.iter().map(|Sized { record: r, .. }| {
                (
                    r.timestamp.unwrap_or(now),
                    RecordRef {
                        key: r.key.as_deref(),
                        value: r.value.as_deref(),
                        headers: &r.headers,
                    },
                )
            });
            batch::encode_batch_from(
                refs,
                batch.len(),
                compression,
                limit + batch::HEADER_LEN,
                None,
            )
        })
        .collect();
    (ranges, encoded)
}

/// Spreads each batch's result over its records: the record's offset (the batch's base
/// offset, from `base`, plus its place in the batch) or the batch's error.
pub(crate) fn spread<T>(
    ranges: &[Range<usize>],
    results: &[log::Result<T>],
    base: impl Fn(&T) -> u64,
) -> Vec<log::Result<u64>> {
    let mut per_record = Vec::with_capacity(ranges.last().map_or(0, |r| r.end));
    for (range, result) in ranges.iter().zip(results) {
        for k in 0..range.len() {
            per_record.push(match result {
                Ok(info) => Ok(base(info) + k as u64),
                Err(e) => Err(e.duplicate()),
            });
        }
    }
    per_record
}

/// Upper bound of a record's encoded size, for limits and batch cutting.
pub fn estimated_size(r: &NewRecord) -> usize {
    let headers: usize = r
        .headers
        .iter()
        .map(|h| h.key.len() + h.value.as_ref().map_or(0, bytes::Bytes::len) + 10)
        .sum();
    r.key.as_ref().map_or(0, bytes::Bytes::len)
        + r.value.as_ref().map_or(0, bytes::Bytes::len)
        + headers
        + 30
}
