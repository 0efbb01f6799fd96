//! The broker's own topics (`__consumer_offsets`, `_schemas`, any `__*`; see
//! [`naming::is_internal`](super::naming::is_internal)) and the rules that keep clients from
//! losing their records: no client appends ([`Broker::topic_for_produce`]), no changes to the
//! configs that would let the log delete records ([`check_internal_config`]), and a check the
//! registry and the coordinator run at start ([`Broker::verify_internal_topic`]). Creation and
//! deletion are refused where they happen (`Broker::create_topic`, `Broker::delete_topic`).

use std::sync::Arc;

use super::topic_config::{self, TopicConfig};
use super::{Broker, Error, Result, Topic};

impl Broker {
    /// The partition a client may produce to: internal topics take only the broker's own
    /// appends (Kafka refuses them with "Cannot append to internal topic").
    ///
    /// # Errors
    /// [`Error::UnknownTopic`], [`Error::CannotAppendToInternalTopic`].
    pub fn topic_for_produce(&self, name: &str) -> Result<Arc<Topic>> {
        let topic = self.topic(name)?;
        if topic.is_internal() {
            return Err(Error::CannotAppendToInternalTopic(name.to_owned()));
        }
        Ok(topic)
    }

    /// Refuses an internal topic whose config lets the log delete records: anything but
    /// `cleanup.policy=compact` exactly, or a retention override. The registry and the group
    /// coordinator call it at start and refuse to run on such a topic, as Confluent's registry
    /// does. Clients cannot make a topic so (see [`check_internal_config`]); a data dir from
    /// before that rule may be, and the error says how to fix it.
    ///
    /// # Errors
    /// [`Error::InternalTopicMisconfigured`].
    pub fn verify_internal_topic(&self, topic: &Topic) -> Result<()> {
        use topic_config::{CLEANUP_POLICY, RETENTION_BYTES, RETENTION_MS};
        let config = topic.config();
        let wrong = match config.get(CLEANUP_POLICY) {
            Some("compact") => [RETENTION_MS, RETENTION_BYTES]
                .into_iter()
                .find_map(|k| config.get(k).map(|v| format!("{k}={v}"))),
            other => Some(format!(
                "{CLEANUP_POLICY}={}",
                other.unwrap_or("delete (the default)")
            )),
        };
        match wrong {
            None => Ok(()),
            Some(setting) => Err(Error::InternalTopicMisconfigured {
                topic: topic.name().to_owned(),
                setting,
                metadata: self.config.data_dir.join("meta.json"),
            }),
        }
    }
}

/// Internal topics keep every key's latest record only while they stay compacted and nothing
/// deletes by time or size: refuse a change to any of those configs (a reset included), and a
/// policy other than exactly `compact`.
pub(super) fn check_internal_config(
    topic: &Topic,
    old: &TopicConfig,
    new: &TopicConfig,
) -> Result<()> {
    use topic_config::{CLEANUP_POLICY, RETENTION_BYTES, RETENTION_MS};
    if !topic.is_internal() {
        return Ok(());
    }
    let refused = [CLEANUP_POLICY, RETENTION_MS, RETENTION_BYTES]
        .into_iter()
        .find(|k| {
            old.get(k) != new.get(k) || (*k == CLEANUP_POLICY && new.get(k) != Some("compact"))
        });
    match refused {
        Some(config) => Err(Error::InternalTopicConfig {
            topic: topic.name().to_owned(),
            config: config.to_owned(),
        }),
        None => Ok(()),
    }
}
