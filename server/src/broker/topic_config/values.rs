//! Topic config values at their three levels — set on the topic ([`TopicConfig`]), set as the
//! broker's defaults ([`BrokerDefaults`]), Kafka's own — and what they resolve to: the typed
//! [`EffectiveConfig`] the broker keeps for each topic, and the rows a describe reports.
//!
//! Every value is parsed once, where it enters: a topic's overrides when they are set, altered
//! or loaded from `meta.json`, the broker's defaults when the broker opens. Each entry keeps the
//! text it was given (what is persisted and described) beside its typed value, so resolving
//! and describing never parse a string again, and the broker resolves a topic's
//! [`EffectiveConfig`] only when one of its levels changes, never per request.
//!
//! Not owned here: the names, defaults and checks (`definitions.rs`), persisting overrides and
//! applying a changed config to open logs (`broker/mod.rs`).

use std::collections::BTreeMap;
use std::fmt;

use super::definitions::{
    AUDIT_ENABLE, CLEANUP_POLICY, COMPRESSION_TYPE, ConfigDef, ConfigError, DELETE_RETENTION_MS,
    FILE_DELETE_DELAY_MS, FLUSH_MESSAGES, FLUSH_MS, INDEX_INTERVAL_BYTES, MAX_MESSAGE_BYTES,
    MESSAGE_TIMESTAMP_TYPE, MIN_CLEANABLE_DIRTY_RATIO, MIN_COMPACTION_LAG_MS, MIN_INSYNC_REPLICAS,
    RETENTION_BYTES, RETENTION_MS, SEGMENT_BYTES, SEGMENT_INDEX_BYTES, SEGMENT_MS, TOPIC_CONFIGS,
    UNCLEAN_LEADER_ELECTION_ENABLE, Value, config_def,
};
use crate::log::config::LogConfig;

/// Where a described value came from, highest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigSource {
    /// Set on the topic itself.
    DynamicTopicConfig,
    /// Set in the broker's configuration as the default for all topics.
    StaticBrokerConfig,
    /// Kafka's built-in default.
    DefaultConfig,
}

impl ConfigSource {
    /// Kafka's `ConfigSource` name, as Confluent's v3 API reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigSource::DynamicTopicConfig => "DYNAMIC_TOPIC_CONFIG",
            ConfigSource::StaticBrokerConfig => "STATIC_BROKER_CONFIG",
            ConfigSource::DefaultConfig => "DEFAULT_CONFIG",
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value a config has at some level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSynonym {
    /// The topic name for a topic-level value, the broker name (`log.retention.ms`) otherwise.
    pub name: &'static str,
    pub value: String,
    pub source: ConfigSource,
}

/// One row of a topic's described configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    pub name: &'static str,
    /// The effective value.
    pub value: String,
    /// Whether `value` is Kafka's default (no topic or broker override).
    pub is_default: bool,
    pub source: ConfigSource,
    /// Always false: every topic config can be altered.
    pub is_read_only: bool,
    /// Always false: no topic config holds a secret.
    pub is_sensitive: bool,
    /// Every level that has a value, highest precedence first; the first is the effective one.
    pub synonyms: Vec<ConfigSynonym>,
}

/// A checked value and the text it came from (trimmed): the text is what clients see and what
/// is persisted, the value what the broker uses.
#[derive(Debug, Clone, PartialEq)]
struct Setting {
    text: String,
    value: Value,
}

/// Parses `value` for the config `name`: the one place a config string is checked.
fn parse_setting(name: &str, value: &str) -> Result<(&'static ConfigDef, Setting), ConfigError> {
    let def = config_def(name).ok_or_else(|| ConfigError::Unknown {
        name: name.to_owned(),
    })?;
    let parsed = def
        .validator
        .parse(value)
        .map_err(|reason| ConfigError::InvalidValue {
            name: name.to_owned(),
            value: value.to_owned(),
            reason,
        })?;
    Ok((
        def,
        Setting {
            text: value.trim().to_owned(),
            value: parsed,
        },
    ))
}

/// The broker-level defaults of topic configs (the `[topic_defaults]` table), parsed.
///
/// Entries that fail validation are left out, so one bad default cannot fail every later
/// describe or log open; `serve` refuses to start with one (see
/// [`TopicConfig::validate_broker_defaults`]), so only tests and embedders meet this.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerDefaults {
    values: BTreeMap<&'static str, Setting>,
}

impl BrokerDefaults {
    /// Parses defaults keyed by topic config name, skipping invalid entries.
    pub fn new(defaults: &BTreeMap<String, String>) -> Self {
        let values = defaults
            .iter()
            .filter_map(|(name, value)| parse_setting(name, value).ok())
            .map(|(def, setting)| (def.name, setting))
            .collect();
        BrokerDefaults { values }
    }
}

/// The configs set explicitly on one topic.
///
/// Holds only checked values: every way in ([`TopicConfig::set`],
/// [`TopicConfig::from_overrides`]) parses first.
///
/// ```
/// use runnel::broker::topic_config::{BrokerDefaults, ConfigSource, TopicConfig};
/// use std::collections::BTreeMap;
///
/// let mut config = TopicConfig::default();
/// config.set("retention.ms", "-1")?;
/// assert_eq!(config.effective(&BrokerDefaults::default()).log.retention_ms, None);
///
/// let err = config.set("retention.ms", "abc").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "Invalid value abc for configuration retention.ms: Not a number of type LONG",
/// );
///
/// let broker = BrokerDefaults::new(&BTreeMap::from([(
///     "segment.bytes".to_owned(),
///     "1048576".to_owned(),
/// )]));
/// let described = config.describe(&broker);
/// let segment = described.iter().find(|e| e.name == "segment.bytes").unwrap();
/// assert_eq!((segment.value.as_str(), segment.source), ("1048576", ConfigSource::StaticBrokerConfig));
/// # Ok::<(), runnel::broker::topic_config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicConfig {
    /// The configs set on this topic only, by name.
    overrides: BTreeMap<&'static str, Setting>,
}

/// A topic's settings after resolution (topic over broker over Kafka), typed: what the broker
/// keeps per topic and hands to its logs, so no request parses a config string.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveConfig {
    /// The settings the log engine uses.
    pub log: LogConfig,
    /// `min.insync.replicas`: acks=all produces fail with NotEnoughReplicas when the ISR is
    /// smaller than this.
    pub min_insync_replicas: u32,
    /// `unclean.leader.election.enable`.
    pub unclean_leader_election_enable: bool,
    /// `min.cleanable.dirty.ratio`, in `0.0..=1.0`.
    pub min_cleanable_dirty_ratio: f64,
    /// `min.compaction.lag.ms`.
    pub min_compaction_lag_ms: i64,
    /// `file.delete.delay.ms`.
    pub file_delete_delay_ms: i64,
    /// `audit.enable` (Runnel's): the delivery audit counts this topic.
    pub audit_enable: bool,
}

impl TopicConfig {
    /// Checks that `value` is acceptable for the config `name`, without setting it.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Unknown`] for a name not in [`TOPIC_CONFIGS`];
    /// [`ConfigError::InvalidValue`] for a value of the wrong type or out of range.
    pub fn validate_set(name: &str, value: &str) -> Result<(), ConfigError> {
        parse_setting(name, value).map(|_| ())
    }

    /// Builds a topic's config from stored or requested overrides, parsing every one.
    ///
    /// # Errors
    ///
    /// The first bad entry in name order, as for [`TopicConfig::validate_set`].
    pub fn from_overrides(overrides: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let overrides = overrides
            .iter()
            .map(|(name, value)| parse_setting(name, value).map(|(def, s)| (def.name, s)))
            .collect::<Result<_, _>>()?;
        Ok(TopicConfig { overrides })
    }

    /// Checks broker-level defaults, keyed by topic config name. Call this when loading the
    /// broker config: [`BrokerDefaults::new`] skips invalid entries rather than failing every
    /// later describe or log open, so this is where they must be caught.
    ///
    /// # Errors
    ///
    /// The first bad entry in name order, as for [`TopicConfig::validate_set`].
    pub fn validate_broker_defaults(
        broker_defaults: &BTreeMap<String, String>,
    ) -> Result<(), ConfigError> {
        broker_defaults
            .iter()
            .try_for_each(|(name, value)| Self::validate_set(name, value))
    }

    /// Sets `name` to `value` on this topic, replacing any earlier override.
    ///
    /// # Errors
    ///
    /// As for [`TopicConfig::validate_set`]; the config is unchanged on error.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let (def, setting) = parse_setting(name, value)?;
        self.overrides.insert(def.name, setting);
        Ok(())
    }

    /// Removes the topic's override of `name`, so the broker or Kafka default applies again.
    /// Returns the removed value, if there was one.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Unknown`] for a name not in [`TOPIC_CONFIGS`], as Kafka does for an
    /// incremental DELETE of an unknown config.
    pub fn reset(&mut self, name: &str) -> Result<Option<String>, ConfigError> {
        if config_def(name).is_none() {
            return Err(ConfigError::Unknown {
                name: name.to_owned(),
            });
        }
        Ok(self.overrides.remove(name).map(|s| s.text))
    }

    /// The value set on this topic for `name`, if any (not the effective value).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.overrides.get(name).map(|s| s.text.as_str())
    }

    /// The values set on this topic, by name; what gets persisted.
    pub fn overrides(&self) -> BTreeMap<String, String> {
        self.overrides
            .iter()
            .map(|(name, s)| ((*name).to_owned(), s.text.clone()))
            .collect()
    }

    /// Whether no config is set on this topic.
    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }

    /// Every supported config with its effective value and where it came from, in name order.
    pub fn describe(&self, broker_defaults: &BrokerDefaults) -> Vec<ConfigEntry> {
        TOPIC_CONFIGS
            .iter()
            .map(|def| {
                let synonyms: Vec<ConfigSynonym> = self
                    .candidates(def, broker_defaults)
                    .map(|(name, value, source)| ConfigSynonym {
                        name,
                        value: value.to_owned(),
                        source,
                    })
                    .collect();
                // Kafka's default is always a candidate, so `synonyms` is never empty; the
                // fallback only keeps this total.
                let (value, source) = synonyms.first().map_or_else(
                    || (def.default.to_owned(), ConfigSource::DefaultConfig),
                    |s| (s.value.clone(), s.source),
                );
                ConfigEntry {
                    name: def.name,
                    value,
                    is_default: source == ConfigSource::DefaultConfig,
                    source,
                    is_read_only: false,
                    is_sensitive: false,
                    synonyms,
                }
            })
            .collect()
    }

    /// Resolves every setting of this topic, typed: what the broker keeps until the topic's
    /// config changes.
    ///
    /// Kafka's -1 (`retention.ms`) and any negative `retention.bytes` become `None`
    /// ("unlimited"). Every value was range-checked on the way in, so the conversions to
    /// unsigned types can't fail; if one ever did, [`LogConfig::default`] fills in.
    pub fn effective(&self, broker_defaults: &BrokerDefaults) -> EffectiveConfig {
        let d = LogConfig::default();
        let value = |name| self.value(name, broker_defaults);
        let long = |name| match value(name) {
            Some(Value::Long(n)) => Some(n),
            _ => None,
        };
        let int = |name| match value(name) {
            Some(Value::Int(n)) => Some(n),
            _ => None,
        };
        let log = LogConfig {
            segment_bytes: int(SEGMENT_BYTES)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(d.segment_bytes),
            segment_ms: long(SEGMENT_MS).unwrap_or(d.segment_ms),
            segment_index_bytes: int(SEGMENT_INDEX_BYTES)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(d.segment_index_bytes),
            index_interval_bytes: int(INDEX_INTERVAL_BYTES)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(d.index_interval_bytes),
            retention_ms: long(RETENTION_MS).map_or(d.retention_ms, |n| (n >= 0).then_some(n)),
            retention_bytes: long(RETENTION_BYTES)
                .map_or(d.retention_bytes, |n| u64::try_from(n).ok()),
            cleanup_policy: match value(CLEANUP_POLICY) {
                Some(Value::CleanupPolicy(policy)) => policy,
                _ => d.cleanup_policy,
            },
            delete_retention_ms: long(DELETE_RETENTION_MS).unwrap_or(d.delete_retention_ms),
            flush_messages: long(FLUSH_MESSAGES)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(d.flush_messages),
            flush_ms: long(FLUSH_MS).unwrap_or(d.flush_ms),
            max_message_bytes: int(MAX_MESSAGE_BYTES)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(d.max_message_bytes),
            timestamp_type: match value(MESSAGE_TIMESTAMP_TYPE) {
                Some(Value::TimestampType(t)) => t,
                _ => d.timestamp_type,
            },
            compression_type: match value(COMPRESSION_TYPE) {
                Some(Value::CompressionType(c)) => c,
                _ => d.compression_type,
            },
        };
        EffectiveConfig {
            log,
            min_insync_replicas: int(MIN_INSYNC_REPLICAS)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1),
            unclean_leader_election_enable: match value(UNCLEAN_LEADER_ELECTION_ENABLE) {
                Some(Value::Boolean(b)) => b,
                _ => false,
            },
            min_cleanable_dirty_ratio: match value(MIN_CLEANABLE_DIRTY_RATIO) {
                Some(Value::Double(n)) => n,
                _ => 0.5,
            },
            min_compaction_lag_ms: long(MIN_COMPACTION_LAG_MS).unwrap_or(0),
            file_delete_delay_ms: long(FILE_DELETE_DELAY_MS).unwrap_or(60_000),
            audit_enable: !matches!(value(AUDIT_ENABLE), Some(Value::Boolean(false))),
        }
    }

    /// The typed settings for this topic's logs: [`TopicConfig::effective`]'s `log`.
    pub fn to_log_config(&self, broker_defaults: &BrokerDefaults) -> LogConfig {
        self.effective(broker_defaults).log
    }

    /// The values `def` has, highest precedence first: this topic's, the broker's, Kafka's.
    /// Each yields (synonym name, value, source).
    fn candidates<'a>(
        &'a self,
        def: &'static ConfigDef,
        broker_defaults: &'a BrokerDefaults,
    ) -> impl Iterator<Item = (&'static str, &'a str, ConfigSource)> + 'a {
        let topic = self
            .overrides
            .get(def.name)
            .map(|s| (def.name, s.text.as_str(), ConfigSource::DynamicTopicConfig));
        let broker = broker_defaults.values.get(def.name).map(|s| {
            (
                def.broker_synonym,
                s.text.as_str(),
                ConfigSource::StaticBrokerConfig,
            )
        });
        let kafka = Some((def.broker_synonym, def.default, ConfigSource::DefaultConfig));
        [topic, broker, kafka].into_iter().flatten()
    }

    /// The effective value of `name`, typed. Only Kafka's default is parsed here: it is a
    /// constant of the table, and this runs when a config changes, not per request.
    fn value(&self, name: &str, broker_defaults: &BrokerDefaults) -> Option<Value> {
        let def = config_def(name)?;
        self.overrides
            .get(def.name)
            .or_else(|| broker_defaults.values.get(def.name))
            .map(|s| s.value)
            .or_else(|| def.validator.parse(def.default).ok())
    }
}
