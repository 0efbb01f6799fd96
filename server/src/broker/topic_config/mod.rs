//! Topic-level configuration under Kafka's names, with Kafka's defaults and Kafka's validation.
//!
//! A topic stores only the values set on it explicitly ([`TopicConfig`], the name → value map
//! the AlterConfigs and Confluent v3 configs APIs speak). Every other value comes from the
//! broker-level defaults ([`BrokerDefaults`]), then from Kafka's own defaults in
//! [`TOPIC_CONFIGS`]. Values are checked and parsed when they are set, with Kafka's types and
//! ranges and Kafka's error text, so a client that works against Kafka gets the same answers
//! here; [`TopicConfig::effective`] then resolves the levels into the typed
//! [`EffectiveConfig`] (with the [`LogConfig`](crate::log::config::LogConfig) the log engine
//! uses), which the broker keeps per topic.
//!
//! - `definitions.rs`: the table (names, defaults, broker synonyms) and each config's check.
//! - `values.rs`: the values at each level, resolution, and describe's rows.
//!
//! Not owned here: persisting overrides (`meta.json`, `broker/mod.rs`), applying a changed
//! config to open logs (the broker), and broker-only settings such as `log.dirs`.

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

mod definitions;
mod values;

pub use definitions::{
    AUDIT_ENABLE, CLEANUP_POLICY, COMPRESSION_TYPE, ConfigDef, ConfigError, ConfigType,
    DELETE_RETENTION_MS, FILE_DELETE_DELAY_MS, FLUSH_MESSAGES, FLUSH_MS, INDEX_INTERVAL_BYTES,
    InvalidReason, MAX_MESSAGE_BYTES, MESSAGE_TIMESTAMP_TYPE, MIN_CLEANABLE_DIRTY_RATIO,
    MIN_COMPACTION_LAG_MS, MIN_INSYNC_REPLICAS, RETENTION_BYTES, RETENTION_MS, SEGMENT_BYTES,
    SEGMENT_INDEX_BYTES, SEGMENT_MS, TOPIC_CONFIGS, UNCLEAN_LEADER_ELECTION_ENABLE, Validator,
    config_def,
};
pub use values::{
    BrokerDefaults, ConfigEntry, ConfigSource, ConfigSynonym, EffectiveConfig, TopicConfig,
};

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]
mod tests;
