//! One partition replica on this broker: its log, the flush policy, and waking readers.
//!
//! Appends take the log's lock only for the write itself. When the flush policy asks for an
//! fsync, the appender then calls [`Partition::flush_to`], which serializes flushers on a second
//! lock: while one thread is inside `fsync`, later appenders queue behind it and usually find
//! their offset already durable when they get the lock — many appends, one fsync (group commit).
//!
//! The log end offset is published on a `watch` channel so long-polling reads and WebSocket
//! tails wake as soon as a record is appended, without polling.
//!
//! On a single node the high watermark equals the log end offset; replication will separate them.
//!
//! Only a partition's leader appends and reads (Kafka's `NOT_LEADER_OR_FOLLOWER`): the broker
//! records here who leads the partition as the metadata log says, and appends and reads
//! answer [`log::Error::NotLeader`] when it is not this broker, a retriable error naming the
//! leader. Clients' requests for such a partition go to its leader over the cluster port
//! (`remote.rs`) before they get here.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::BytesMut;
use parking_lot::Mutex;
use runnel_cluster::MetadataNode;
use tokio::sync::{mpsc, oneshot, watch};

use super::appender::{self, AppendRequest, Sized};
use crate::log::{self, AppendInfo, EncodedBatch, Log, LogConfig, Record, batch};

/// What a read returns: the records from the requested offset on, where the next read starts,
/// and the partition's offsets at that time.
#[derive(Debug, Clone)]
pub struct FetchResult {
    /// The records at or past the requested offset; empty only when none exist below the high
    /// watermark.
    pub records: Vec<Record>,
    /// Where the next read starts: the last offset + 1 of the last batch read (Kafka's position
    /// after a fetch), which skips offsets compaction removed; the requested offset when nothing
    /// was read.
    pub next_offset: u64,
    /// Bytes of the stored batches the records came from.
    pub bytes: usize,
    pub high_watermark: u64,
    pub log_start_offset: u64,
}

impl FetchResult {
    /// Takes one pass of stored bytes read from `self.next_offset` (here, or at the leader):
    /// its records, and the position after them. True when the read is done: records were
    /// found, the high watermark reached, or the pass could not move forward. A pass that
    /// found only records compaction removed is not done, so readers read on.
    ///
    /// # Errors
    /// A damaged batch before any record.
    pub(crate) fn take_pass(&mut self, buf: &bytes::Bytes, max_batch: usize) -> log::Result<bool> {
        let decoded = batch::decode_from(buf, max_batch, self.next_offset);
        self.records = decoded.records;
        self.bytes += decoded.bytes;
        if let Some(damage) = decoded.damage
            && self.records.is_empty()
        {
            return Err(damage);
        }
        if decoded.next_offset <= self.next_offset {
            return Ok(true);
        }
        self.next_offset = decoded.next_offset;
        Ok(!self.records.is_empty() || self.next_offset >= self.high_watermark)
    }
}

/// A partition of a topic, hosted here.
#[derive(Debug)]
pub struct Partition {
    topic: Arc<str>,
    id: u32,
    log: Mutex<Log>,
    /// Held while fsyncing, so concurrent flushers coalesce (see the module docs).
    flush_lock: Mutex<()>,
    end_offset: watch::Sender<u64>,
    /// The group-commit queue, started on the first produce.
    appender: OnceLock<mpsc::Sender<AppendRequest>>,
    /// Who leads the partition: [`LEADS_HERE`], [`OFFLINE`], or another broker's id.
    leader: AtomicI64,
    /// The broker's metadata node once it is under a quorum: how the appender reaches the
    /// leader when it is another broker.
    cluster: ClusterSlot,
}

/// The metadata node a broker's partitions share, set when the broker joins its quorum.
pub(crate) type ClusterSlot = Arc<OnceLock<Arc<MetadataNode>>>;

/// This broker leads the partition (and a partition outside the metadata log, such as an
/// internal topic's, is always led here).
const LEADS_HERE: i64 = -2;
/// The partition's leader is fenced or gone: Kafka's leader `-1`.
const OFFLINE: i64 = -1;

/// Who leads a partition, as this broker last applied it from the metadata log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leader {
    Here,
    Broker(u32),
    Offline,
}

impl Partition {
    pub(crate) fn new(topic: Arc<str>, id: u32, log: Log, cluster: ClusterSlot) -> Self {
        let (end_offset, _) = watch::channel(log.log_end_offset());
        Partition {
            topic,
            id,
            log: Mutex::new(log),
            flush_lock: Mutex::new(()),
            end_offset,
            appender: OnceLock::new(),
            leader: AtomicI64::new(LEADS_HERE),
            cluster,
        }
    }

    /// Records who leads the partition now.
    pub(crate) fn set_leader(&self, leader: Leader) {
        let value = match leader {
            Leader::Here => LEADS_HERE,
            Leader::Offline => OFFLINE,
            Leader::Broker(id) => i64::from(id),
        };
        self.leader.store(value, Ordering::Release);
    }

    /// Who leads the partition.
    pub fn leader(&self) -> Leader {
        match self.leader.load(Ordering::Acquire) {
            LEADS_HERE => Leader::Here,
            id => u32::try_from(id).map_or(Leader::Offline, Leader::Broker),
        }
    }

    /// Refuses client appends and reads unless this broker leads the partition.
    pub(crate) fn check_leader(&self) -> log::Result<()> {
        let leader = match self.leader() {
            Leader::Here => return Ok(()),
            Leader::Broker(id) => Some(id),
            Leader::Offline => None,
        };
        Err(log::Error::NotLeader {
            topic: self.topic.to_string(),
            partition: self.id,
            leader,
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// Appends one encoded batch and, when the flush policy says so, waits until it is fsynced.
    /// Blocking: call from a blocking thread.
    ///
    /// # Errors
    /// As [`Log::append`] and [`Log::flush`].
    pub fn append(&self, batch: BytesMut, now_ms: i64) -> log::Result<AppendInfo> {
        self.append_with(vec![Ok(batch)], now_ms, Log::append)
            .pop()
            .unwrap_or_else(|| Err(log::Error::InvalidRequest("nothing appended".into())))
    }

    /// Encodes `records` as one uncompressed batch and appends it, as the appender would; for
    /// tests that need records in place without running an appender. Blocking.
    #[cfg(test)]
    pub(crate) fn append_records(
        &self,
        records: &[log::NewRecord],
        now_ms: i64,
    ) -> log::Result<AppendInfo> {
        let max = self.log.lock().config().max_batch_bytes();
        let batch = EncodedBatch::encode(records, log::Compression::None, now_ms, max);
        self.append_many(vec![batch], now_ms)
            .pop()
            .unwrap_or_else(|| Err(log::Error::InvalidRequest("nothing appended".into())))
    }

    /// Queues records for the partition's group-commit appender; the receiver yields each
    /// record's offset (or error) once appended and, if the flush policy says so, fsynced —
    /// here, or by the leader when it is another broker. Waits while the queue is full.
    ///
    /// # Errors
    /// [`log::Error::Offline`] when the appender is gone (the partition is being deleted).
    pub async fn enqueue(
        self: &Arc<Self>,
        records: Vec<Sized>,
    ) -> log::Result<oneshot::Receiver<Vec<log::Result<u64>>>> {
        let size = records.iter().map(|r| r.size).sum();
        let (reply, rx) = oneshot::channel();
        let tx = self
            .appender
            .get_or_init(|| appender::spawn(Arc::downgrade(self), Arc::clone(&self.cluster)));
        tx.send(AppendRequest {
            records,
            size,
            reply,
        })
        .await
        .map_err(|_| self.offline())?;
        Ok(rx)
    }

    /// Why the appender is gone or stopped answering: the log was retired (topic deleted) or
    /// taken offline.
    pub(crate) fn offline(&self) -> log::Error {
        self.log.lock().offline_error()
    }

    /// Appends several batches encoded here under one lock and flushes once if the policy asks.
    /// Blocking. A batch that failed to encode is reported as its own error.
    pub(crate) fn append_many(
        &self,
        batches: Vec<log::Result<EncodedBatch>>,
        now_ms: i64,
    ) -> Vec<log::Result<AppendInfo>> {
        self.append_with(batches, now_ms, Log::append_encoded)
    }

    /// Appends with `append` (checking the bytes or trusting the encoder) under one lock.
    fn append_with<B>(
        &self,
        batches: Vec<log::Result<B>>,
        now_ms: i64,
        append: impl Fn(&mut Log, B, i32, i64) -> log::Result<AppendInfo>,
    ) -> Vec<log::Result<AppendInfo>> {
        if let Err(e) = self.check_leader() {
            return batches.iter().map(|_| Err(e.duplicate())).collect();
        }
        let (results, flush) = {
            let mut log = self.log.lock();
            let results: Vec<_> = batches
                .into_iter()
                .map(|b| b.and_then(|b| append(&mut log, b, 0, now_ms)))
                .collect();
            (results, log.should_flush(now_ms))
        };
        let end = self.log.lock().log_end_offset();
        self.end_offset.send_replace(end);
        if flush && let Err(e) = self.flush_to(end, now_ms) {
            return results
                .into_iter()
                .map(|r| r.and(Err(e.duplicate())))
                .collect();
        }
        results
    }

    /// The log's current configuration.
    pub fn log_config(&self) -> LogConfig {
        self.log.lock().config().clone()
    }

    /// Makes every offset below `target` durable, sharing the fsync with concurrent callers.
    ///
    /// # Errors
    /// A failed fsync, after which the log is offline.
    pub fn flush_to(&self, target: u64, now_ms: i64) -> log::Result<()> {
        let _flushing = self.flush_lock.lock();
        let plan = {
            let log = self.log.lock();
            if log.is_offline() {
                return Err(log.offline_error());
            }
            if log.flushed_offset() >= target {
                return Ok(());
            }
            log.flush_plan()
        };
        match plan.sync() {
            Ok(()) => {
                self.log.lock().mark_flushed(plan.target(), now_ms);
                Ok(())
            }
            Err(e) => {
                // Out of descriptors to open a sealed file is no failed fsync: retry later.
                if !e.is_retriable() {
                    self.log.lock().set_offline();
                }
                Err(e)
            }
        }
    }

    /// Reads the records at or past `offset`, below the high watermark: whole batches of at
    /// most `max_bytes` (at least one batch), and the position after them. Every reader (the
    /// stateless read, v2 consumer instances, WebSockets, the `_schemas` and
    /// `__consumer_offsets` replays) reads through here. Blocking; the file reads happen outside
    /// the log's lock.
    ///
    /// A batch compaction thinned may hold only records below `offset`; such batches are read
    /// past (into later segments if need be) so the answer is empty only when no record exists
    /// from `offset` to the high watermark, and `next_offset` moves past them either way.
    ///
    /// # Errors
    /// [`log::Error::OffsetOutOfRange`] outside `[log start, log end]`; I/O errors; a damaged
    /// batch before any record was found.
    pub fn read(&self, offset: u64, max_bytes: usize) -> log::Result<FetchResult> {
        self.check_leader()?;
        let (high_watermark, log_start_offset, max_batch) = {
            let log = self.log.lock();
            (
                log.log_end_offset(),
                log.log_start_offset(),
                log.config().max_batch_bytes(),
            )
        };
        let mut result = FetchResult {
            records: Vec::new(),
            next_offset: offset,
            bytes: 0,
            high_watermark,
            log_start_offset,
        };
        // Each pass reads one segment's worth; only a pass that found no record goes on, and it
        // always moves forward, so this ends at the first record or the high watermark. The
        // first pass always plans, which checks `offset` against the log's range.
        loop {
            let plan = self
                .log
                .lock()
                .plan_read(result.next_offset, max_bytes, high_watermark)?;
            let buf = plan.execute()?;
            if result.take_pass(&buf, max_batch)? {
                break;
            }
        }
        Ok(result)
    }

    /// Bytes this broker's log of the partition holds on disk, over all its segments.
    pub fn size(&self) -> u64 {
        self.log.lock().size()
    }

    /// One pass of [`Self::read`] as stored bytes, undecoded: what this broker, as the
    /// leader, answers another broker's fetch with. Returns the bytes (whole batches from the
    /// one holding `offset`, at most `max_bytes` past the first), the high watermark and the
    /// log start offset. Blocking.
    ///
    /// # Errors
    /// As [`Self::read`], without the damage of a batch (the reader checks the bytes).
    pub(crate) fn read_stored(
        &self,
        offset: u64,
        max_bytes: usize,
    ) -> log::Result<(bytes::Bytes, u64, u64)> {
        self.check_leader()?;
        let (plan, high_watermark, log_start_offset) = {
            let log = self.log.lock();
            let high_watermark = log.log_end_offset();
            (
                log.plan_read(offset, max_bytes, high_watermark)?,
                high_watermark,
                log.log_start_offset(),
            )
        };
        Ok((plan.execute()?, high_watermark, log_start_offset))
    }

    /// Appends batches another broker encoded, checking each as bytes from outside the
    /// process (framing and CRC), under one lock with at most one fsync. Blocking.
    pub(crate) fn append_received(
        &self,
        batches: Vec<log::Result<BytesMut>>,
        now_ms: i64,
    ) -> Vec<log::Result<AppendInfo>> {
        self.append_with(batches, now_ms, Log::append)
    }

    /// `(log_start_offset, high_watermark)`.
    pub fn offsets(&self) -> (u64, u64) {
        let log = self.log.lock();
        (log.log_start_offset(), log.log_end_offset())
    }

    /// The first offset with a timestamp ≥ `timestamp`. Blocking.
    ///
    /// # Errors
    /// I/O errors.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> log::Result<Option<(u64, i64)>> {
        self.log.lock().offset_for_timestamp(timestamp)
    }

    /// A receiver that sees every new high watermark.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.end_offset.subscribe()
    }

    pub(crate) fn set_config(&self, config: LogConfig) {
        self.log.lock().set_config(config);
    }

    /// The periodic duties: flush by `flush.ms`, retention, compaction. Blocking.
    ///
    /// # Errors
    /// The first failure; the caller logs it and carries on with other partitions.
    pub(crate) fn maintain(&self, now_ms: i64) -> log::Result<()> {
        let (should_flush, target) = {
            let log = self.log.lock();
            (log.should_flush(now_ms), log.log_end_offset())
        };
        if should_flush {
            self.flush_to(target, now_ms)?;
        }
        self.log.lock().apply_retention(now_ms)?;
        log::compaction::compact(&self.log, now_ms)?;
        Ok(())
    }

    /// Writes the recovery-point checkpoint.
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn checkpoint(&self) -> log::Result<()> {
        self.log.lock().checkpoint()
    }

    /// Flushes and closes the log for a clean shutdown.
    ///
    /// # Errors
    /// I/O errors, or the log was offline.
    pub(crate) fn close(&self, now_ms: i64) -> log::Result<()> {
        self.log.lock().close(now_ms)
    }

    /// Takes the log offline and removes its files (topic deletion).
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn delete_files(&self) -> log::Result<()> {
        let mut log = self.log.lock();
        log.retire();
        let dir = log.dir().to_path_buf();
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(log::Error::Io {
                path: dir,
                source: e,
            }),
        }
    }
}
