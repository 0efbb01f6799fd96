//! Partitions led by another broker: this broker's half of the data plane
//! (`runnel_cluster::data`), on both ends.
//!
//! As the client's broker: [`Broker::fetch`], [`Broker::list_offsets`],
//! [`Broker::offset_for_timestamp`] and [`Broker::wait_for`] serve a partition here when this
//! broker leads it and ask its leader otherwise; records to append go through the partition's
//! appender, which sends each group to the leader with [`produce`]. Records travel as batches
//! encoded here (the leader checks them as bytes from outside the process and gives them its
//! offsets); reads come back as the leader's stored batches, checked and decoded here. A leader
//! that cannot be reached is a retriable error, as a leader change is for a Kafka client.
//!
//! As the leader: [`Broker::serve_partition`] answers the same requests from other brokers
//! (the gateway's `forward.rs` hands them over).
//!
//! Not owned here: the wire format and connections (`runnel_cluster`).

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use runnel_cluster::MetadataNode;
use runnel_cluster::data::{
    CallFailed, DataError, DataRequest, DataResponse, Fetched, HttpResponse,
};

use super::appender::{self, Sized};
use super::partition::{FetchResult, Leader, Partition};
use super::{Broker, Error};
use crate::log::{self, batch};

/// How long an append (with its fsync) or a read at the leader may take before the call fails
/// as unanswered.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a long poll waits at the leader; callers cap their own waits below it.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// The most a fetch answers with: well inside a cluster-port frame.
const MAX_FETCH_BYTES: usize = runnel_cluster::protocol::MAX_FRAME_LEN / 2;
/// How long a long poll whose leader could not be asked pauses before reporting no change.
const FAILED_WAIT_PAUSE: Duration = Duration::from_secs(1);

impl Broker {
    /// The leader of `p` and the node to reach it through, when it is another broker.
    fn remote_leader(&self, p: &Partition) -> Option<(&Arc<MetadataNode>, u32)> {
        match p.leader() {
            Leader::Broker(id) => self.cluster.get().map(|node| (node, id)),
            Leader::Here | Leader::Offline => None,
        }
    }

    /// Reads the records of `p` at or past `offset` (at most `max_bytes` of batches, at least
    /// one), from whichever broker leads it. See [`Partition::read`].
    ///
    /// # Errors
    /// As [`Partition::read`]; a leader that cannot be reached is
    /// [`log::Error::LeaderUnavailable`].
    pub async fn fetch(
        &self,
        p: &Arc<Partition>,
        offset: u64,
        max_bytes: usize,
    ) -> log::Result<FetchResult> {
        let Some((node, leader)) = self.remote_leader(p) else {
            let reader = Arc::clone(p);
            return blocking(move || reader.read(offset, max_bytes)).await;
        };
        let max_batch = p.log_config().max_batch_bytes();
        let mut result = FetchResult {
            records: Vec::new(),
            next_offset: offset,
            bytes: 0,
            high_watermark: 0,
            log_start_offset: 0,
        };
        // As `Partition::read`: a pass that found only records compaction removed moves on,
        // so the answer is empty only at the high watermark.
        loop {
            let request = DataRequest::Fetch {
                topic: p.topic().to_owned(),
                partition: p.id(),
                offset: result.next_offset,
                max_bytes: u32::try_from(max_bytes).unwrap_or(u32::MAX),
            };
            let (response, tail) = call(node, leader, request, Bytes::new(), CALL_TIMEOUT).await?;
            let DataResponse::Fetched(fetched) = response else {
                return Err(unexpected(leader));
            };
            let fetched: Fetched = fetched.map_err(from_remote)?;
            result.high_watermark = fetched.high_watermark;
            result.log_start_offset = fetched.log_start_offset;
            if result.take_pass(&tail, max_batch)? {
                break;
            }
        }
        Ok(result)
    }

    /// `(log_start_offset, high_watermark)` of `p`, from whichever broker leads it.
    ///
    /// # Errors
    /// A leader that cannot be reached, or that no longer leads the partition.
    pub async fn list_offsets(&self, p: &Partition) -> log::Result<(u64, u64)> {
        let Some((node, leader)) = self.remote_leader(p) else {
            return Ok(p.offsets());
        };
        let request = DataRequest::ListOffsets {
            topic: p.topic().to_owned(),
            partition: p.id(),
        };
        match call(node, leader, request, Bytes::new(), CALL_TIMEOUT).await? {
            (DataResponse::Offsets(offsets), _) => offsets.map_err(from_remote),
            _ => Err(unexpected(leader)),
        }
    }

    /// The first offset of `p` with a timestamp at or after `timestamp`, and that timestamp.
    ///
    /// # Errors
    /// I/O errors at the leader; a leader that cannot be reached.
    pub async fn offset_for_timestamp(
        &self,
        p: &Arc<Partition>,
        timestamp: i64,
    ) -> log::Result<Option<(u64, i64)>> {
        let Some((node, leader)) = self.remote_leader(p) else {
            let reader = Arc::clone(p);
            return blocking(move || reader.offset_for_timestamp(timestamp)).await;
        };
        let request = DataRequest::OffsetForTimestamp {
            topic: p.topic().to_owned(),
            partition: p.id(),
            timestamp,
        };
        match call(node, leader, request, Bytes::new(), CALL_TIMEOUT).await? {
            (DataResponse::OffsetForTimestamp(found), _) => found.map_err(from_remote),
            _ => Err(unexpected(leader)),
        }
    }

    /// Waits until the high watermark of `p` is above `above`, at most `timeout` (capped at
    /// [`MAX_WAIT`]), and returns the high watermark then. A long poll: here on the
    /// partition's watch, at the leader when another broker leads it. A leader that cannot be
    /// reached is waited for a moment and reported as no change; the next read meets the
    /// error.
    pub async fn wait_for(&self, p: &Partition, above: u64, timeout: Duration) -> u64 {
        let timeout = timeout.min(MAX_WAIT);
        let Some((node, leader)) = self.remote_leader(p) else {
            let mut rx = p.subscribe();
            let _ = tokio::time::timeout(timeout, rx.wait_for(|&hw| hw > above)).await;
            return *rx.borrow();
        };
        let request = DataRequest::WaitFor {
            topic: p.topic().to_owned(),
            partition: p.id(),
            above,
            timeout_ms: u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX),
        };
        match call(node, leader, request, Bytes::new(), timeout + CALL_TIMEOUT).await {
            Ok((DataResponse::Waited(Ok(hw)), _)) => hw,
            _ => {
                tokio::time::sleep(timeout.min(FAILED_WAIT_PAUSE)).await;
                above
            }
        }
    }

    /// The metadata node, when the broker is under a quorum (none in unit tests).
    pub fn cluster_node(&self) -> Option<Arc<MetadataNode>> {
        self.cluster.get().cloned()
    }

    /// Whether another broker leads `p`: its records are read with [`Self::fetch`] and its
    /// appends wake no local watch.
    pub fn leads_elsewhere(&self, p: &Partition) -> bool {
        self.remote_leader(p).is_some()
    }

    /// [`Self::fetch`] from a blocking thread (a WebSocket round reads many partitions in
    /// one).
    ///
    /// # Errors
    /// As [`Self::fetch`].
    pub fn fetch_blocking(
        &self,
        p: &Arc<Partition>,
        offset: u64,
        max_bytes: usize,
    ) -> log::Result<FetchResult> {
        if self.remote_leader(p).is_none() {
            return p.read(offset, max_bytes);
        }
        tokio::runtime::Handle::current().block_on(self.fetch(p, offset, max_bytes))
    }

    /// [`Self::offset_for_timestamp`] from a blocking thread.
    ///
    /// # Errors
    /// As [`Self::offset_for_timestamp`].
    pub fn offset_for_timestamp_blocking(
        &self,
        p: &Arc<Partition>,
        timestamp: i64,
    ) -> log::Result<Option<(u64, i64)>> {
        if self.remote_leader(p).is_none() {
            return p.offset_for_timestamp(timestamp);
        }
        tokio::runtime::Handle::current().block_on(self.offset_for_timestamp(p, timestamp))
    }

    /// [`Self::list_offsets`] from a blocking thread.
    ///
    /// # Errors
    /// As [`Self::list_offsets`].
    pub fn list_offsets_blocking(&self, p: &Partition) -> log::Result<(u64, u64)> {
        if self.remote_leader(p).is_none() {
            return Ok(p.offsets());
        }
        tokio::runtime::Handle::current().block_on(self.list_offsets(p))
    }

    /// Answers another broker's request for a partition this broker leads.
    pub async fn serve_partition(
        self: &Arc<Self>,
        request: DataRequest,
        tail: Bytes,
    ) -> (DataResponse, Bytes) {
        let me = self.broker_id();
        match request {
            DataRequest::Produce { topic, partition } => {
                let results = match self.partition(&topic, partition) {
                    Ok(p) => append_received(me, p, tail).await,
                    Err(e) => vec![Err(to_remote(me, &broker_error(e)))],
                };
                (DataResponse::Produced(results), Bytes::new())
            }
            DataRequest::Fetch {
                topic,
                partition,
                offset,
                max_bytes,
            } => {
                let read = self.partition(&topic, partition).map_err(broker_error);
                // The answer must fit in one frame of the cluster port.
                let max_bytes = (max_bytes as usize).min(MAX_FETCH_BYTES);
                let read = match read {
                    Ok(p) => blocking(move || p.read_stored(offset, max_bytes)).await,
                    Err(e) => Err(e),
                };
                match read {
                    Ok((bytes, high_watermark, log_start_offset)) => {
                        let fetched = Fetched {
                            high_watermark,
                            log_start_offset,
                        };
                        (DataResponse::Fetched(Ok(fetched)), bytes)
                    }
                    Err(e) => (DataResponse::Fetched(Err(to_remote(me, &e))), Bytes::new()),
                }
            }
            DataRequest::ListOffsets { topic, partition } => {
                let offsets = self
                    .partition(&topic, partition)
                    .map_err(broker_error)
                    .and_then(|p| p.check_leader().map(|()| p.offsets()))
                    .map_err(|e| to_remote(me, &e));
                (DataResponse::Offsets(offsets), Bytes::new())
            }
            DataRequest::OffsetForTimestamp {
                topic,
                partition,
                timestamp,
            } => {
                let found = match self.partition(&topic, partition).map_err(broker_error) {
                    Ok(p) => {
                        blocking(move || {
                            p.check_leader()?;
                            p.offset_for_timestamp(timestamp)
                        })
                        .await
                    }
                    Err(e) => Err(e),
                };
                let found = found.map_err(|e| to_remote(me, &e));
                (DataResponse::OffsetForTimestamp(found), Bytes::new())
            }
            // The gateway serves these (`gateway/forward.rs`) and never hands them here.
            DataRequest::Http(_) => (
                DataResponse::Http(HttpResponse {
                    status: 500,
                    headers: Vec::new(),
                }),
                Bytes::new(),
            ),
            DataRequest::WaitFor {
                topic,
                partition,
                above,
                timeout_ms,
            } => {
                let waited = match self.partition(&topic, partition).map_err(broker_error) {
                    Ok(p) => match p.check_leader() {
                        Ok(()) => {
                            let timeout =
                                Duration::from_millis(u64::from(timeout_ms)).min(MAX_WAIT);
                            let mut rx = p.subscribe();
                            let _ =
                                tokio::time::timeout(timeout, rx.wait_for(|&hw| hw > above)).await;
                            Ok(p.offsets().1)
                        }
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                let waited = waited.map_err(|e| to_remote(me, &e));
                (DataResponse::Waited(waited), Bytes::new())
            }
        }
    }
}

/// Sends one group of an appender's requests to the partition's leader as batches, and
/// returns each request's per-record offsets, as a local append would.
pub(super) async fn produce(
    node: &Arc<MetadataNode>,
    leader: u32,
    p: &Arc<Partition>,
    requests: Vec<Vec<Sized>>,
) -> Vec<Vec<log::Result<u64>>> {
    let now = super::now_ms();
    let all: Vec<&Sized> = requests.iter().flatten().collect();
    let (ranges, encoded) = appender::encode(&all, &p.log_config(), now);
    // The batches that encoded go in the tail, in order; the others keep their error.
    let mut tail = BytesMut::new();
    let mut sent = 0;
    for batch in encoded.iter().flatten() {
        tail.extend_from_slice(batch.bytes());
        sent += 1;
    }
    let request = DataRequest::Produce {
        topic: p.topic().to_owned(),
        partition: p.id(),
    };
    let answer = if sent == 0 {
        Ok(Vec::new())
    } else {
        match call(node, leader, request, tail.freeze(), CALL_TIMEOUT).await {
            Ok((DataResponse::Produced(results), _)) if results.len() == sent => Ok(results),
            Ok(_) => Err(unexpected(leader)),
            Err(e) => Err(e),
        }
    };
    let mut answered = match &answer {
        Ok(results) => results.clone().into_iter(),
        Err(_) => Vec::new().into_iter(),
    };
    let results: Vec<log::Result<(u64, u64)>> = encoded
        .iter()
        .map(|batch| match (batch, &answer) {
            (Err(e), _) => Err(e.duplicate()),
            (Ok(_), Err(e)) => Err(e.duplicate()),
            (Ok(_), Ok(_)) => answered
                .next()
                .unwrap_or_else(|| Err(DataError::Failed("missing answer".into())))
                .map_err(from_remote),
        })
        .collect();
    let per_record = appender::spread(&ranges, &results, |(base, _)| *base);
    let mut it = per_record.into_iter();
    requests
        .iter()
        .map(|r| it.by_ref().take(r.len()).collect())
        .collect()
}

/// Splits the received tail into batches, each checked by the log as it appends.
async fn append_received(
    me: u32,
    p: Arc<Partition>,
    tail: Bytes,
) -> Vec<Result<(u64, u64), DataError>> {
    let results = blocking(move || {
        let max = p.log_config().max_batch_bytes();
        let mut batches = Vec::new();
        let mut rest = BytesMut::from(tail);
        while !rest.is_empty() {
            // A length that does not fit is a corrupt tail: append nothing from it on.
            match batch::peek_size(&rest).filter(|&n| n <= rest.len() && n <= max) {
                Some(size) => batches.push(Ok(rest.split_to(size))),
                None => {
                    batches.push(Err(log::Error::corrupt("a forwarded batch is cut short")));
                    break;
                }
            }
        }
        Ok(p.append_received(batches, super::now_ms()))
    })
    .await;
    match results {
        Ok(results) => results
            .into_iter()
            .map(|r| {
                r.map(|info| (info.base_offset, info.last_offset))
                    .map_err(|e| to_remote(me, &e))
            })
            .collect(),
        Err(e) => vec![Err(to_remote(me, &e))],
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> log::Result<T> + Send + 'static,
) -> log::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| log::Error::LeaderFailed {
            reason: format!("a broker task failed: {e}"),
        })?
}

async fn call(
    node: &MetadataNode,
    leader: u32,
    request: DataRequest,
    tail: Bytes,
    timeout: Duration,
) -> log::Result<(DataResponse, Bytes)> {
    node.call_data(leader, request, tail, timeout)
        .await
        .map_err(|e| match e {
            CallFailed::UnknownBroker(_) | CallFailed::Unreachable { .. } => {
                log::Error::LeaderUnavailable {
                    reason: format!("{e}; retry"),
                }
            }
            // Sent but unanswered: a produce may or may not have been appended; the client
            // retries as after any timeout.
            _ => log::Error::LeaderUnavailable {
                reason: format!("{e}; the request may or may not have been served"),
            },
        })
}

fn unexpected(leader: u32) -> log::Error {
    log::Error::LeaderFailed {
        reason: format!("broker {leader} answered with an unexpected message"),
    }
}

/// The partition-level error of a broker error (an unknown topic or partition reads as a
/// deleted one: a forwarded request raced a delete).
fn broker_error(e: Error) -> log::Error {
    match e {
        Error::Log(l) => l,
        Error::UnknownTopic(t) | Error::UnknownPartition { topic: t, .. } => log::Error::Deleted {
            path: std::path::PathBuf::from(t),
        },
        other => log::Error::LeaderFailed {
            reason: other.to_string(),
        },
    }
}

/// A log error as the leader sends it back.
fn to_remote(broker: u32, e: &log::Error) -> DataError {
    use log::Error as L;
    match e {
        L::NotLeader {
            topic,
            partition,
            leader,
        } => DataError::NotLeader {
            broker,
            topic: topic.clone(),
            partition: *partition,
            leader: *leader,
        },
        L::Deleted { path } => DataError::UnknownTopic(path.display().to_string()),
        L::OffsetOutOfRange {
            requested,
            log_start_offset,
            log_end_offset,
        } => DataError::OffsetOutOfRange {
            requested: *requested,
            log_start_offset: *log_start_offset,
            log_end_offset: *log_end_offset,
        },
        L::BatchTooLarge { size, limit } => DataError::BatchTooLarge {
            size: *size as u64,
            limit: *limit as u64,
        },
        e if e.is_retriable() => DataError::Retriable(e.to_string()),
        L::Corrupt { .. } | L::ChecksumMismatch { .. } | L::InvalidRequest(_) => {
            DataError::Invalid(e.to_string())
        }
        other => {
            tracing::error!(cause = %other, "a forwarded request failed");
            DataError::Failed(other.to_string())
        }
    }
}

/// The leader's error as this broker's own, so the client gets the status and code a local
/// call would give.
fn from_remote(e: DataError) -> log::Error {
    match e {
        DataError::NotLeader {
            topic,
            partition,
            leader,
            ..
        } => log::Error::NotLeader {
            topic,
            partition,
            leader,
        },
        DataError::UnknownTopic(t) => log::Error::Deleted {
            path: std::path::PathBuf::from(t),
        },
        DataError::OffsetOutOfRange {
            requested,
            log_start_offset,
            log_end_offset,
        } => log::Error::OffsetOutOfRange {
            requested,
            log_start_offset,
            log_end_offset,
        },
        DataError::BatchTooLarge { size, limit } => log::Error::BatchTooLarge {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        },
        DataError::Retriable(reason) => log::Error::LeaderUnavailable { reason },
        other => log::Error::LeaderFailed {
            reason: other.to_string(),
        },
    }
}
