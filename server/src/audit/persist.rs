//! The audit's books in the compacted internal topic `__audit`, so a restart resumes where the
//! last round stopped instead of recounting the log and losing the gateway's counts.
//!
//! Keys name what a record holds, per broker (each broker keeps its own books; the auditor of
//! a cluster will read them all):
//!
//! ```text
//! books/<broker id>/<topic>   one topic's books: open windows' tallies per tier and partition,
//!                             the log and group tiers' counted-through offsets; a tombstone
//!                             once the topic is deleted
//! verdict/<broker id>/<topic>/<window start ms, or "none">
//!                             one settled window's verdict; a tombstone once it is reopened,
//!                             evicted or its topic deleted
//! reporters/<broker id>       each client reporter's highest accepted sequence
//! ```
//!
//! Values are a format byte ([`FORMAT`]) then postcard. One round's changes are appended as one
//! batch, so a crash leaves either all of them or none: a topic's tallies and its
//! counted-through offsets always agree, and so do client tallies and the ledger.
//!
//! What the gateway acknowledged after the last round and before a crash is lost; the log tier
//! marks those records `before_start` when it counts them again (see `reconcile.rs`).
//!
//! Not owned here: what the books hold (`books.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use tracing::warn;

use super::books::{Changes, TopicBooks};
use super::reconcile::Verdict;
use super::window::Window;
use crate::broker::appender::Sized;
use crate::broker::topic_config::{CLEANUP_POLICY, MAX_MESSAGE_BYTES};
use crate::broker::{self, Broker, NewRecord, Partition, Topic};
use crate::log;

/// The internal topic's name.
pub const TOPIC: &str = "__audit";
/// Format of the values; a reader skips values of another format.
const FORMAT: u8 = 1;
/// `max.message.bytes` of [`TOPIC`]: one round's changes are one batch, and a topic's books
/// with thousands of partitions reach megabytes.
const MAX_BATCH: &str = "67108864";
/// Bytes read per fetch while replaying.
const REPLAY_READ_BYTES: usize = 1 << 20;

/// Why the books could not be published or read back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    #[error("cannot create or find {TOPIC}")]
    Broker(#[from] broker::Error),
    #[error("cannot read or append {TOPIC}")]
    Log(#[from] log::Error),
    #[error("cannot encode the audit's books")]
    Encode(#[from] postcard::Error),
}

fn books_key(broker_id: u32, topic: &str) -> String {
    format!("books/{broker_id}/{topic}")
}

fn verdict_key(broker_id: u32, topic: &str, w: Window) -> String {
    match w.start() {
        Some(start) => format!("verdict/{broker_id}/{topic}/{start}"),
        None => format!("verdict/{broker_id}/{topic}/none"),
    }
}

/// The topic and window of a verdict key's tail (`<topic>/<start or none>`); topic names
/// cannot hold a `/`.
fn parse_verdict_key(tail: &str) -> Option<(&str, Window)> {
    let (topic, window) = tail.rsplit_once('/')?;
    let w = match window {
        "none" => Window::NoTime,
        start => Window::Start(start.parse().ok()?),
    };
    Some((topic, w))
}

fn reporters_key(broker_id: u32) -> String {
    format!("reporters/{broker_id}")
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Bytes, PersistError> {
    let mut out = vec![FORMAT];
    out.extend_from_slice(&postcard::to_stdvec(value)?);
    Ok(Bytes::from(out))
}

fn decode<T: serde::de::DeserializeOwned>(value: &[u8]) -> Option<T> {
    match value.split_first() {
        Some((&FORMAT, body)) => postcard::from_bytes(body).ok(),
        _ => None,
    }
}

/// [`TOPIC`], created (compacted, one partition) on first use.
fn topic(broker: &Broker) -> Result<Arc<Topic>, PersistError> {
    match broker.topic(TOPIC) {
        Ok(t) => Ok(t),
        Err(broker::Error::UnknownTopic(_)) => {
            let configs = BTreeMap::from([
                (CLEANUP_POLICY.to_owned(), "compact".to_owned()),
                (MAX_MESSAGE_BYTES.to_owned(), MAX_BATCH.to_owned()),
            ]);
            match broker.create_internal_topic(TOPIC, 1, configs, crate::broker::Spread::Across) {
                Ok(t) => Ok(t),
                Err(broker::Error::TopicExists(_)) => Ok(broker.topic(TOPIC)?),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// One round's changes as records of [`TOPIC`].
///
/// # Errors
/// Encoding failed.
pub(super) fn encode_round(
    broker_id: u32,
    changes: &Changes<'_>,
) -> Result<Vec<Sized>, PersistError> {
    let id = broker_id;
    let record = |key: String, value: Option<Bytes>| NewRecord {
        timestamp: None,
        key: Some(Bytes::from(key)),
        value,
        headers: Vec::new(),
    };
    let mut records = Vec::with_capacity(changes.topics.len() + changes.verdicts.len() + 1);
    for (name, books) in &changes.topics {
        records.push(record(books_key(id, name), books.map(encode).transpose()?));
    }
    for (name, w, verdict) in &changes.verdicts {
        records.push(record(
            verdict_key(id, name, *w),
            verdict.map(encode).transpose()?,
        ));
    }
    if let Some(r) = &changes.reporters {
        records.push(record(reporters_key(id), Some(encode(r)?)));
    }
    Ok(records.into_iter().map(Sized::new).collect())
}

/// Appends one round's records, through the partition's appender (one request, so one batch
/// below `max.message.bytes`). Blocking: call from a blocking thread of the runtime.
///
/// # Errors
/// Creating the topic or the append failed; then the round is not published.
pub(super) fn append(broker: &Broker, records: Vec<Sized>) -> Result<(), PersistError> {
    if records.is_empty() {
        return Ok(());
    }
    let partition = Arc::clone(topic(broker)?.partition(0)?);
    tokio::runtime::Handle::current().block_on(async move {
        let reply = partition.enqueue(records).await?;
        let results = reply.await.map_err(|_| partition.offline())?;
        results.into_iter().try_for_each(|r| r.map(drop))?;
        Ok(())
    })
}

/// What this broker last published: each topic's books and the reporters' ledgers.
#[derive(Debug, Default)]
pub(super) struct Restored {
    pub topics: BTreeMap<String, TopicBooks>,
    pub verdicts: Vec<(String, Window, Verdict)>,
    pub reporters: BTreeMap<String, u64>,
}

/// Reads one partition of [`TOPIC`] (here, or at its leader) into `latest`. Blocking.
fn read_partition(
    broker: &Broker,
    p: &Arc<Partition>,
    latest: &mut BTreeMap<Bytes, Option<Bytes>>,
) -> Result<(), log::Error> {
    let (mut offset, high_watermark) = broker.list_offsets_blocking(p)?;
    while offset < high_watermark {
        let fetched = broker.fetch_blocking(p, offset, REPLAY_READ_BYTES)?;
        if fetched.next_offset <= offset {
            break;
        }
        for r in fetched.records.into_iter().filter(|r| r.offset >= offset) {
            if let Some(key) = r.key {
                latest.insert(key, r.value);
            }
        }
        offset = fetched.next_offset;
    }
    Ok(())
}

/// Reads [`TOPIC`] from its start, keeping this broker's latest value per key. Blocking.
///
/// # Errors
/// Reading failed. A value that does not decode is skipped with a warning.
pub(super) fn replay(broker: &Broker) -> Result<Restored, PersistError> {
    let Ok(topic) = broker.topic(TOPIC) else {
        return Ok(Restored::default());
    };
    broker.verify_internal_topic(&topic)?;
    let mut latest: BTreeMap<Bytes, Option<Bytes>> = BTreeMap::new();
    for p in topic.partitions() {
        match read_partition(broker, p, &mut latest) {
            Ok(()) => {}
            // Another broker leads it and cannot be asked now: this broker starts with what
            // it has rather than wait for it, and may count some records again (a
            // `duplicate` the auditor shows) instead of refusing to serve.
            Err(e) if broker.leads_elsewhere(p) => {
                warn!(partition = p.id(), cause = %e, "could not read {TOPIC} from its leader");
            }
            Err(e) => return Err(e.into()),
        }
    }
    let id = broker.broker_id();
    let books_prefix = format!("books/{id}/");
    let verdict_prefix = format!("verdict/{id}/");
    let mut restored = Restored::default();
    for (key, value) in latest {
        let Some(value) = value else { continue };
        let key = String::from_utf8_lossy(&key);
        if let Some(name) = key.strip_prefix(&books_prefix) {
            match decode::<TopicBooks>(&value) {
                Some(books) => {
                    restored.topics.insert(name.to_owned(), books);
                }
                None => warn!(key = %key, "skipping unreadable audit books"),
            }
        } else if let Some(tail) = key.strip_prefix(&verdict_prefix) {
            match parse_verdict_key(tail).zip(decode::<Verdict>(&value)) {
                Some(((topic, w), verdict)) => {
                    restored.verdicts.push((topic.to_owned(), w, verdict));
                }
                None => warn!(key = %key, "skipping an unreadable audit verdict"),
            }
        } else if key == reporters_key(id) {
            match decode::<BTreeMap<String, u64>>(&value) {
                Some(r) => restored.reporters = r,
                None => warn!(key = %key, "skipping unreadable audit reporters"),
            }
        }
    }
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_keys_name_topic_and_window() {
        for w in [Window::Start(1_735_689_600_000), Window::NoTime] {
            let key = verdict_key(3, "orders.v2", w);
            let tail = key.strip_prefix("verdict/3/").unwrap();
            assert_eq!(parse_verdict_key(tail), Some(("orders.v2", w)));
        }
        assert_eq!(parse_verdict_key("orders/soon"), None);
        assert_eq!(parse_verdict_key("orders"), None);
    }

    #[test]
    fn values_carry_their_format() {
        let value = BTreeMap::from([("app".to_owned(), 7_u64)]);
        let bytes = encode(&value).unwrap();
        assert_eq!(bytes.first(), Some(&FORMAT));
        assert_eq!(decode::<BTreeMap<String, u64>>(&bytes), Some(value));
        let mut other = bytes.to_vec();
        other[0] = FORMAT + 1;
        assert_eq!(decode::<BTreeMap<String, u64>>(&other), None);
        assert_eq!(decode::<BTreeMap<String, u64>>(&[]), None);
    }
}
