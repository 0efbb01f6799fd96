//! The one ingest pipeline: every produce front-end — v2 produce (json, binary, avro), v3
//! records (single, streaming, `records:batch`) and WebSocket produce — parses its wire format
//! into records and hands them here, then renders what comes back. This module owns the steps
//! in between, once:
//!
//! 1. the topic: unknown (40401 / v3 40403) or internal (refused) topics end the request;
//! 2. each record, as the adapter parses it: an explicit partition must exist (40402 / v3
//!    40403), a keyless record cannot go to a compacted topic (42203), and its size is
//!    estimated once and checked against `max.message.bytes` (413);
//! 3. the partition of records that name none: murmur2 of the key (Kafka's Java client's
//!    choice), else one sticky partition for all keyless records of the request (a v2 request,
//!    a WebSocket message, one v3 record), as one Kafka producer batch goes to one partition;
//! 4. submission to the partitions' group-commit appenders, in partition order, so records of
//!    one partition keep the request's order;
//! 5. per-record outcomes in request order: the partition and the offset (none with `acks=0`),
//!    or the log error of the record's partition. An appender that stopped answering reports
//!    why its partition is unavailable (offline: 50002; deleted: 40401), never a client error.
//!
//! Errors are [`GatewayError`]s built with the front-end's [`Api`], so the same fault has the
//! same HTTP status everywhere and the code each API's convention gives it.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::errors::{Api, GatewayError};
use crate::broker::appender::Sized;
use crate::broker::{Acks, Broker, LogError, NewRecord, Partition, Topic};

/// One record's outcome: its partition, and its offset (none with `acks=0`) or the error its
/// partition's append met.
pub type Outcome = (u32, Result<Option<u64>, LogError>);

/// A produce request on its way to the log: records are checked as they are added, and
/// nothing is written until [`Ingest::submit`].
#[derive(Debug)]
pub struct Ingest<'a> {
    broker: &'a Broker,
    topic: Arc<Topic>,
    api: Api,
    max_record: usize,
    compacted: bool,
    /// Each record's partition (`None`: the request's sticky partition, chosen at submit).
    records: Vec<(Option<u32>, Sized)>,
    /// Bytes of the keyless records that take the sticky partition.
    sticky_bytes: usize,
    /// The delivery audit's `ingress` tally, for an audited topic.
    audit: Option<crate::audit::Pending>,
}

impl<'a> Ingest<'a> {
    /// A request to the topic named `topic`.
    ///
    /// # Errors
    /// An unknown topic, or an internal one (clients cannot append to those).
    pub fn to_topic(broker: &'a Broker, topic: &str, api: Api) -> Result<Self, GatewayError> {
        let topic = broker
            .topic_for_produce(topic)
            .map_err(|e| GatewayError::Broker(e, api))?;
        Ok(Self::to(broker, topic, api))
    }

    /// A request to a topic already resolved with [`Broker::topic_for_produce`] (a stream of
    /// v3 records resolves it once).
    pub fn to(broker: &'a Broker, topic: Arc<Topic>, api: Api) -> Self {
        let config = broker.log_config(&topic);
        let audit = broker.audit().and_then(|a| a.pending(&topic, &config));
        Ingest {
            broker,
            topic,
            api,
            max_record: config.max_message_bytes,
            compacted: config.cleanup_policy.compact,
            records: Vec::new(),
            sticky_bytes: 0,
            audit,
        }
    }

    pub fn topic(&self) -> &Arc<Topic> {
        &self.topic
    }

    /// The largest record the topic takes (`max.message.bytes`).
    pub fn max_record_bytes(&self) -> usize {
        self.max_record
    }

    /// Refuses a request of more than `max` records (`limits.max_records_per_request`).
    ///
    /// # Errors
    /// 413.
    pub fn check_count(count: usize, max: usize) -> Result<(), GatewayError> {
        if count > max {
            return Err(GatewayError::PayloadTooLarge(format!(
                "The request has {count} records; at most {max} are allowed (limits.max_records_per_request)."
            )));
        }
        Ok(())
    }

    /// Checks the `index`th record of the request and keeps it for [`Self::submit`].
    /// `partition` is the one the client named, if any, as it named it.
    ///
    /// # Errors
    /// An unknown partition, a keyless record for a compacted topic, a record larger than
    /// `max.message.bytes`.
    pub fn add(
        &mut self,
        index: usize,
        partition: Option<i64>,
        record: NewRecord,
    ) -> Result<(), GatewayError> {
        let partition = match partition {
            Some(p) => Some(
                u32::try_from(p)
                    .ok()
                    .filter(|p| *p < self.topic.partition_count())
                    .ok_or_else(|| GatewayError::UnknownPartition {
                        topic: self.topic.name().to_owned(),
                        partition: p,
                        api: self.api,
                    })?,
            ),
            None => None,
        };
        if self.compacted && record.key.is_none() {
            return Err(GatewayError::InvalidRecord(format!(
                "records[{index}].key is missing: compacted topic '{}' (cleanup.policy=compact) \
                 cannot accept a record without a key.",
                self.topic.name()
            )));
        }
        let record = Sized::new(crate::audit::Pending::note(&mut self.audit, record));
        if record.size > self.max_record {
            return Err(GatewayError::PayloadTooLarge(format!(
                "records[{index}] is {} bytes, larger than max.message.bytes ({}).",
                record.size, self.max_record
            )));
        }
        let partition = match (partition, record.record.key.as_deref()) {
            (Some(p), _) => Some(p),
            (None, Some(key)) => Some(self.broker.choose_partition(&self.topic, Some(key), 0)),
            (None, None) => {
                self.sticky_bytes += record.size;
                None
            }
        };
        self.records.push((partition, record));
        Ok(())
    }

    /// Hands the records to their partitions' appenders; the returned [`Submitted`] yields
    /// their outcomes. Waits while an appender's queue is full (the backpressure).
    pub async fn submit(self, acks: Acks) -> Submitted {
        let sticky = if self.records.iter().any(|(p, _)| p.is_none()) {
            self.broker
                .choose_partition(&self.topic, None, self.sticky_bytes)
        } else {
            0
        };
        let count = self.records.len();
        let bytes: usize = self.records.iter().map(|(_, r)| r.size).sum();
        let mut by_partition: BTreeMap<u32, (Vec<usize>, Vec<Sized>)> = BTreeMap::new();
        for (i, (p, r)) in self.records.into_iter().enumerate() {
            let entry = by_partition.entry(p.unwrap_or(sticky)).or_default();
            entry.0.push(i);
            entry.1.push(r);
        }
        let mut parts = Vec::with_capacity(by_partition.len());
        for (p, (indexes, records)) in by_partition {
            // Partition ids were checked against the topic's count, which never shrinks.
            let partition = self.topic.partition(p).ok().cloned();
            let reply = match &partition {
                Some(partition) => partition.enqueue(records).await,
                None => Err(stopped(None)),
            };
            parts.push(Part {
                id: p,
                indexes,
                partition,
                reply,
            });
        }
        super::metrics::records_in(self.topic.name(), count, bytes);
        Submitted {
            acks,
            count,
            parts,
            audit: self.audit,
        }
    }
}

/// One partition's share of a request.
#[derive(Debug)]
struct Part {
    id: u32,
    /// Where its records stand in the request.
    indexes: Vec<usize>,
    partition: Option<Arc<Partition>>,
    reply: Result<oneshot::Receiver<Vec<Result<u64, LogError>>>, LogError>,
}

/// Records handed to their appenders, not yet answered. Dropping it abandons the answers, not
/// the records.
#[derive(Debug)]
pub struct Submitted {
    acks: Acks,
    count: usize,
    parts: Vec<Part>,
    audit: Option<crate::audit::Pending>,
}

impl Submitted {
    /// Each record's outcome, in request order: with `acks=0` at once, else once appended.
    pub async fn outcomes(self) -> Vec<Outcome> {
        let mut out: Vec<Option<Outcome>> = (0..self.count).map(|_| None).collect();
        for part in self.parts {
            let results: Vec<Result<Option<u64>, LogError>> = match part.reply {
                Ok(_) if self.acks == Acks::None => part.indexes.iter().map(|_| Ok(None)).collect(),
                Ok(rx) => {
                    let offsets = rx.await.ok();
                    (0..part.indexes.len())
                        .map(|k| match offsets.as_ref().and_then(|o| o.get(k)) {
                            Some(Ok(o)) => Ok(Some(*o)),
                            Some(Err(e)) => Err(e.duplicate()),
                            None => Err(stopped(part.partition.as_deref())),
                        })
                        .collect()
                }
                Err(e) => part.indexes.iter().map(|_| Err(e.duplicate())).collect(),
            };
            for (i, r) in part.indexes.into_iter().zip(results) {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some((part.id, r));
                }
            }
        }
        let out: Vec<Outcome> = out
            .into_iter()
            .map(|o| o.unwrap_or_else(|| (0, Err(stopped(None)))))
            .collect();
        if let Some(audit) = self.audit {
            audit.acknowledged(out.iter().map(|(p, r)| (*p, r.is_ok())));
        }
        out
    }
}

/// The error of a record whose appender stopped before answering: why its partition is
/// unavailable.
fn stopped(partition: Option<&Partition>) -> LogError {
    match partition {
        Some(p) => p.offline(),
        None => LogError::Offline {
            path: std::path::PathBuf::new(),
        },
    }
}
