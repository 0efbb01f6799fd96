//! The schema registry's store: the internal topic `_schemas`, as Confluent's
//! (`kafkastore.topic`): exactly one partition, so one log orders every write, and
//! `cleanup.policy=compact`, so it keeps the latest record of each key and forgets tombstoned
//! keys.
//!
//! The topic is created (compacted, one partition) by the first registry write, as
//! `__consumer_offsets` is by the first commit: a broker whose clients never use the registry
//! keeps its topic list to their own topics. At start-up [`SchemasTopic::open`] checks an
//! existing topic and refuses to run on a wrong one, as Confluent's registry does: more than one
//! partition would lose the order of writes, and a cleanup policy other than exactly `compact`
//! (or a retention override) would let the log delete schemas. Clients cannot make it wrong
//! (the broker refuses their appends and config changes to internal topics); a data dir from
//! before that rule may be, and the error says how to fix it.
//!
//! Sizing: a `_schemas` record carries the schema text JSON-escaped, so a schema just under the
//! registry's size limit makes a record about twice that, more than Kafka's default
//! `max.message.bytes`. The topic is therefore created with a `max.message.bytes` that fits the
//! largest record the registry's limits allow (`RegistryConfig::max_store_record_bytes`), and
//! an existing topic with a smaller one is raised at start with a warning: it is the
//! registry's own topic, as Confluent's registry creates `_schemas` itself. Whatever the topic
//! ends up allowing is reported by [`Store::max_record_bytes`], so the registry refuses a record
//! that would not fit (42209) instead of failing the append.
//!
//! Appends go through the partition's group-commit appender and are acknowledged when the
//! appender acknowledges them, under the topic's flush policy: a registry write is as durable
//! as an acknowledged produce. Replay reads the partition from its start on a blocking thread.
//!
//! In a cluster the registry's one writer is the leader of `_schemas` (its API is forwarded
//! there); every other broker's registry [`follow`]s the topic from the leader, so Avro
//! produce and reads through any broker find the schemas.
//!
//! Not owned here: what the records mean (`runnel_schema_registry::registry`).

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use runnel_schema_registry::registry::{Registry, RegistryConfig};
use runnel_schema_registry::store::{Store, StoreError, StoreFuture, StoreRecord};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::broker::appender::{Sized, estimated_size};
use crate::broker::topic_config::{CLEANUP_POLICY, MAX_MESSAGE_BYTES};
use crate::broker::{self, Broker, Leader, Partition, Spread};
use crate::log::NewRecord;

/// The topic's name, as Confluent's default.
pub const TOPIC: &str = "_schemas";
/// Bytes read per fetch while replaying.
const REPLAY_READ_BYTES: usize = 1 << 20;

/// [`Store`] over the `_schemas` topic of a broker.
#[derive(Debug)]
pub struct SchemasTopic {
    broker: Arc<Broker>,
    /// The topic's `max.message.bytes`: what it is created with, and the least an existing
    /// topic is raised to at start.
    max_message_bytes: usize,
}

impl SchemasTopic {
    /// Checks an existing `_schemas` topic (see the module docs). `max_record_bytes`: the
    /// largest record (key plus value) the registry must be able to append. Blocking.
    ///
    /// # Errors
    /// [`StoreError::Misconfigured`]: more than one partition, or a config that lets the log
    /// delete schemas.
    pub fn open(broker: Arc<Broker>, max_record_bytes: usize) -> Result<Self, StoreError> {
        let max_message_bytes = max_record_bytes.saturating_add(record_overhead());
        match broker.topic(TOPIC) {
            Ok(topic) => {
                if topic.partition_count() != 1 {
                    return Err(StoreError::Misconfigured(format!(
                        "topic {TOPIC} has {} partitions; the schema registry needs exactly 1",
                        topic.partition_count()
                    )));
                }
                broker
                    .verify_internal_topic(&topic)
                    .map_err(|e| StoreError::Misconfigured(e.to_string()))?;
                let current = broker.log_config(&topic).max_message_bytes;
                if current < max_message_bytes {
                    warn!(
                        topic = TOPIC,
                        current,
                        required = max_message_bytes,
                        "the schemas topic cannot hold the largest schema record; raising max.message.bytes"
                    );
                    broker
                        .update_topic_config(TOPIC, false, |c| {
                            c.set(MAX_MESSAGE_BYTES, &max_message_bytes.to_string())
                        })
                        .map_err(|e| StoreError::Misconfigured(e.to_string()))?;
                }
            }
            Err(broker::Error::UnknownTopic(_)) => {}
            Err(e) => return Err(StoreError::Misconfigured(e.to_string())),
        }
        Ok(SchemasTopic {
            broker,
            max_message_bytes,
        })
    }

    /// The topic's partition, creating the topic on first use.
    async fn partition(&self) -> Result<Arc<Partition>, StoreError> {
        if let Err(broker::Error::UnknownTopic(_)) = self.broker.topic(TOPIC) {
            let broker = Arc::clone(&self.broker);
            let max_message_bytes = self.max_message_bytes.to_string();
            let created = tokio::task::spawn_blocking(move || {
                let configs = BTreeMap::from([
                    (CLEANUP_POLICY.to_owned(), "compact".to_owned()),
                    (MAX_MESSAGE_BYTES.to_owned(), max_message_bytes),
                ]);
                broker.create_internal_topic(TOPIC, 1, configs, Spread::Here)
            })
            .await
            .map_err(|e| StoreError::Append(format!("creating {TOPIC} panicked: {e}")))?;
            match created {
                Ok(_) => info!(topic = TOPIC, "schemas topic created"),
                Err(broker::Error::TopicExists(_)) => {}
                Err(e) => return Err(StoreError::Append(e.to_string())),
            }
        }
        self.broker
            .partition(TOPIC, 0)
            .map_err(|e| StoreError::Append(e.to_string()))
    }
}

impl Store for SchemasTopic {
    fn append(&self, records: Vec<StoreRecord>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            if records.is_empty() {
                return Ok(());
            }
            let p = self.partition().await?;
            let records = records
                .into_iter()
                .map(|(key, value)| {
                    Sized::new(NewRecord {
                        timestamp: None,
                        key: Some(key),
                        value,
                        headers: Vec::new(),
                    })
                })
                .collect();
            let reply = p
                .enqueue(records)
                .await
                .map_err(|e| StoreError::Append(e.to_string()))?;
            let results = reply
                .await
                .map_err(|_| StoreError::Append(format!("the {TOPIC} appender went away")))?;
            for r in results {
                r.map_err(|e| StoreError::Append(e.to_string()))?;
            }
            Ok(())
        })
    }

    fn replay(&self) -> StoreFuture<'_, Vec<StoreRecord>> {
        Box::pin(async move {
            let p = match self.broker.partition(TOPIC, 0) {
                Ok(p) => p,
                Err(broker::Error::UnknownTopic(_)) => return Ok(Vec::new()),
                Err(e) => return Err(StoreError::Read(e.to_string())),
            };
            // Another broker leads `_schemas` and serves the registry; requests for it are
            // forwarded there (`gateway/forward.rs`), so this broker's registry stays empty.
            if p.leader() != Leader::Here {
                return Ok(Vec::new());
            }
            tokio::task::spawn_blocking(move || read_all(&p))
                .await
                .map_err(|e| StoreError::Read(format!("replay panicked: {e}")))?
        })
    }

    /// What the topic allows now (a client may have altered it since start), or what it will be
    /// created with.
    fn max_record_bytes(&self) -> usize {
        let max_message_bytes = match self.broker.topic(TOPIC) {
            Ok(topic) => self.broker.log_config(&topic).max_message_bytes,
            Err(_) => self.max_message_bytes,
        };
        max_message_bytes.saturating_sub(record_overhead())
    }
}

/// What the appender counts for a record besides its key and value when it fits records into
/// `max.message.bytes`.
fn record_overhead() -> usize {
    estimated_size(&NewRecord {
        timestamp: None,
        key: None,
        value: None,
        headers: Vec::new(),
    })
}

/// The registry over this broker's `_schemas`, replayed: what `serve` mounts, and the test
/// harnesses with it.
///
/// # Errors
/// The topic cannot be opened (a record-deleting config included), or its records not loaded.
pub async fn open_registry(
    broker: Arc<Broker>,
    config: RegistryConfig,
) -> anyhow::Result<Arc<Registry>> {
    use anyhow::Context as _;
    let max_record_bytes = config.max_store_record_bytes();
    let store = tokio::task::spawn_blocking(move || SchemasTopic::open(broker, max_record_bytes))
        .await
        .context("schema store start-up panicked")?
        .context("cannot open the schema registry's topic")?;
    let registry = Registry::open(Arc::new(store), config)
        .await
        .context("cannot load schemas from _schemas")?;
    Ok(Arc::new(registry))
}

/// How long the follower waits at the leader for `_schemas` to grow before asking again, and
/// pauses after a failed read.
const FOLLOW_WAIT: Duration = Duration::from_secs(30);
const FOLLOW_RETRY: Duration = Duration::from_secs(1);

/// Keeps `registry` in step with `_schemas` while another broker leads it, until `stop`: the
/// registry's HTTP API is served by that broker (requests are forwarded there), but this
/// broker's Avro produce and reads look schemas up in its own registry. Reads from the offset
/// after the last record applied and long-polls the leader in between, as Confluent's
/// registry followers consume the topic.
pub async fn follow(registry: Arc<Registry>, broker: Arc<Broker>, stop: CancellationToken) {
    let mut next = 0;
    loop {
        let step = async {
            let Ok(p) = broker.partition(TOPIC, 0) else {
                // No schema yet: look again when the topics change.
                let mut topics = broker.watch_metadata();
                let _ = topics.changed().await;
                return;
            };
            if !broker.leads_elsewhere(&p) {
                // Led here (replayed at start, written here) or offline: nothing to follow.
                let mut topics = broker.watch_metadata();
                let _ = tokio::time::timeout(FOLLOW_RETRY, topics.changed()).await;
                return;
            }
            match broker.fetch(&p, next, REPLAY_READ_BYTES).await {
                Ok(fetched) => {
                    let records: Vec<StoreRecord> = fetched
                        .records
                        .into_iter()
                        .filter_map(|r| Some((r.key?, r.value)))
                        .collect();
                    let caught_up = fetched.next_offset >= fetched.high_watermark;
                    next = fetched.next_offset;
                    registry.follow(records);
                    if caught_up {
                        broker.wait_for(&p, next, FOLLOW_WAIT).await;
                    }
                }
                Err(e) => {
                    warn!(cause = %e, "following {TOPIC} failed; retrying");
                    tokio::time::sleep(FOLLOW_RETRY).await;
                }
            }
        };
        tokio::select! {
            () = step => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Every record of the partition, in offset order. Blocking.
fn read_all(p: &Partition) -> Result<Vec<StoreRecord>, StoreError> {
    let read_error = |e: crate::log::Error| StoreError::Read(e.to_string());
    let (mut offset, high_watermark) = p.offsets();
    let mut out = Vec::new();
    while offset < high_watermark {
        let fetched = p.read(offset, REPLAY_READ_BYTES).map_err(read_error)?;
        out.extend(
            fetched
                .records
                .into_iter()
                .filter_map(|r| Some((r.key?, r.value))),
        );
        if fetched.next_offset <= offset {
            break;
        }
        offset = fetched.next_offset;
    }
    Ok(out)
}
