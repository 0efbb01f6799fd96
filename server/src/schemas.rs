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
//! Appends go through the partition's group-commit appender and are acknowledged when the
//! appender acknowledges them, under the topic's flush policy: a registry write is as durable
//! as an acknowledged produce. Replay reads the partition from its start on a blocking thread.
//!
//! Not owned here: what the records mean (`runnel_schema_registry::registry`).

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;

use runnel_schema_registry::store::{Store, StoreError, StoreFuture, StoreRecord};
use tracing::info;

use crate::broker::topic_config::CLEANUP_POLICY;
use crate::broker::{self, Broker, Partition};
use crate::log::NewRecord;

/// The topic's name, as Confluent's default.
pub const TOPIC: &str = "_schemas";
/// Bytes read per fetch while replaying.
const REPLAY_READ_BYTES: usize = 1 << 20;

/// [`Store`] over the `_schemas` topic of a broker.
#[derive(Debug)]
pub struct SchemasTopic {
    broker: Arc<Broker>,
}

impl SchemasTopic {
    /// Checks an existing `_schemas` topic (see the module docs). Blocking.
    ///
    /// # Errors
    /// [`StoreError::Misconfigured`]: more than one partition, or a config that lets the log
    /// delete schemas.
    pub fn open(broker: Arc<Broker>) -> Result<Self, StoreError> {
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
            }
            Err(broker::Error::UnknownTopic(_)) => {}
            Err(e) => return Err(StoreError::Misconfigured(e.to_string())),
        }
        Ok(SchemasTopic { broker })
    }

    /// The topic's partition, creating the topic on first use.
    async fn partition(&self) -> Result<Arc<Partition>, StoreError> {
        if let Err(broker::Error::UnknownTopic(_)) = self.broker.topic(TOPIC) {
            let broker = Arc::clone(&self.broker);
            let created = tokio::task::spawn_blocking(move || {
                let configs = BTreeMap::from([(CLEANUP_POLICY.to_owned(), "compact".to_owned())]);
                broker.create_internal_topic(TOPIC, 1, configs)
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
                .map(|(key, value)| NewRecord {
                    timestamp: None,
                    key: Some(key),
                    value,
                    headers: Vec::new(),
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
            tokio::task::spawn_blocking(move || read_all(&p))
                .await
                .map_err(|e| StoreError::Read(format!("replay panicked: {e}")))?
        })
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
