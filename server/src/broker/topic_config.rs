//! Topic-level configuration under Kafka's names, with Kafka's defaults and Kafka's validation.
//!
//! A topic stores only the values set on it explicitly ([`TopicConfig`], a name → string map,
//! the shape the AlterConfigs and Confluent v3 configs APIs speak). Every other value comes from
//! the broker-level defaults, then from Kafka's own defaults in [`TOPIC_CONFIGS`]. Values are
//! checked when they are set, with Kafka's types and ranges and Kafka's error text, so a client
//! that works against Kafka gets the same answers here; [`TopicConfig::to_log_config`] then
//! turns the effective values into the typed [`LogConfig`] the log engine uses.
//!
//! Deliberate differences from Kafka: `compression.type=snappy` is refused (we have no snappy
//! codec); `segment.index.bytes` must be at least 12, not 4, because a time-index entry is 12
//! bytes; `cleanup.policy` may not be empty; `min.cleanable.dirty.ratio` refuses NaN, which
//! Kafka's range check lets through.
//!
//! Not owned here: persisting overrides (cluster metadata), applying a changed config to open
//! logs (log manager), and broker-only settings such as `log.dirs`.

#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::fmt;

use crate::log::batch::{Compression, TimestampType};
use crate::log::config::{CleanupPolicy, CompressionType, LogConfig};

// Kafka's topic config names (its `TopicConfig.*_CONFIG` constants), so callers can't
// misspell them.
pub const CLEANUP_POLICY: &str = "cleanup.policy";
pub const COMPRESSION_TYPE: &str = "compression.type";
pub const DELETE_RETENTION_MS: &str = "delete.retention.ms";
pub const FILE_DELETE_DELAY_MS: &str = "file.delete.delay.ms";
pub const FLUSH_MESSAGES: &str = "flush.messages";
pub const FLUSH_MS: &str = "flush.ms";
pub const INDEX_INTERVAL_BYTES: &str = "index.interval.bytes";
pub const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
pub const MESSAGE_TIMESTAMP_TYPE: &str = "message.timestamp.type";
pub const MIN_CLEANABLE_DIRTY_RATIO: &str = "min.cleanable.dirty.ratio";
pub const MIN_COMPACTION_LAG_MS: &str = "min.compaction.lag.ms";
pub const MIN_INSYNC_REPLICAS: &str = "min.insync.replicas";
pub const RETENTION_BYTES: &str = "retention.bytes";
pub const RETENTION_MS: &str = "retention.ms";
pub const SEGMENT_BYTES: &str = "segment.bytes";
pub const SEGMENT_INDEX_BYTES: &str = "segment.index.bytes";
pub const SEGMENT_MS: &str = "segment.ms";
pub const UNCLEAN_LEADER_ELECTION_ENABLE: &str = "unclean.leader.election.enable";

/// Kafka's `Long.MAX_VALUE` default for the flush settings: "never flush on this trigger,
/// leave it to the OS and to replication".
const LONG_MAX: &str = "9223372036854775807";

/// Smallest `segment.index.bytes` we accept. Kafka allows 4, but the time index is bounded by
/// the same setting and one time-index entry (8-byte timestamp + 4-byte relative
/// offset) is 12 bytes: below that the active segment could index nothing and would roll on
/// every append.
const MIN_SEGMENT_INDEX_BYTES: i32 = 12;

/// Every topic config we support, sorted by name (lookups binary-search it).
pub static TOPIC_CONFIGS: &[ConfigDef] = &[
    ConfigDef {
        name: CLEANUP_POLICY,
        default: "delete",
        broker_synonym: "log.cleanup.policy",
        doc: "Old-segment policy: \"delete\" by time/size, \"compact\" by key, or both.",
        validator: Validator::CleanupPolicy,
    },
    ConfigDef {
        name: COMPRESSION_TYPE,
        default: "producer",
        broker_synonym: "compression.type",
        doc: "Codec for stored batches; \"producer\" keeps whatever the producer used.",
        validator: Validator::CompressionType,
    },
    ConfigDef {
        name: DELETE_RETENTION_MS,
        default: "86400000",
        broker_synonym: "log.cleaner.delete.retention.ms",
        doc: "How long compaction keeps delete tombstones, in ms.",
        validator: Validator::Long { min: Some(0) },
    },
    ConfigDef {
        name: FILE_DELETE_DELAY_MS,
        default: "60000",
        broker_synonym: "log.segment.delete.delay.ms",
        doc: "Time to wait before deleting a segment file from disk, in ms.",
        validator: Validator::Long { min: Some(0) },
    },
    ConfigDef {
        name: FLUSH_MESSAGES,
        default: LONG_MAX,
        broker_synonym: "log.flush.interval.messages",
        doc: "Force an fsync after this many messages.",
        validator: Validator::Long { min: Some(1) },
    },
    ConfigDef {
        name: FLUSH_MS,
        default: LONG_MAX,
        broker_synonym: "log.flush.interval.ms",
        doc: "Force an fsync when unflushed data is this old, in ms.",
        validator: Validator::Long { min: Some(0) },
    },
    ConfigDef {
        name: INDEX_INTERVAL_BYTES,
        default: "4096",
        broker_synonym: "log.index.interval.bytes",
        doc: "Log bytes between offset-index entries.",
        validator: Validator::Int { min: 0, why: None },
    },
    ConfigDef {
        name: MAX_MESSAGE_BYTES,
        default: "1048588",
        broker_synonym: "message.max.bytes",
        doc: "Largest record batch the topic accepts, after compression.",
        validator: Validator::Int { min: 0, why: None },
    },
    ConfigDef {
        name: MESSAGE_TIMESTAMP_TYPE,
        default: "CreateTime",
        broker_synonym: "log.message.timestamp.type",
        doc: "Whether record timestamps are the producer's (CreateTime) or the broker's \
              (LogAppendTime).",
        validator: Validator::TimestampType,
    },
    ConfigDef {
        name: MIN_CLEANABLE_DIRTY_RATIO,
        default: "0.5",
        broker_synonym: "log.cleaner.min.cleanable.ratio",
        doc: "Uncompacted share of the log that makes it eligible for compaction.",
        validator: Validator::Ratio,
    },
    ConfigDef {
        name: MIN_COMPACTION_LAG_MS,
        default: "0",
        broker_synonym: "log.cleaner.min.compaction.lag.ms",
        doc: "Minimum time a message stays uncompacted, in ms.",
        validator: Validator::Long { min: Some(0) },
    },
    ConfigDef {
        name: MIN_INSYNC_REPLICAS,
        default: "1",
        broker_synonym: "min.insync.replicas",
        doc: "In-sync replicas that must acknowledge an acks=all produce.",
        validator: Validator::Int { min: 1, why: None },
    },
    ConfigDef {
        name: RETENTION_BYTES,
        default: "-1",
        broker_synonym: "log.retention.bytes",
        doc: "Largest a partition may grow before old segments are deleted; negative is \
              unlimited.",
        validator: Validator::Long { min: None },
    },
    ConfigDef {
        name: RETENTION_MS,
        default: "604800000",
        broker_synonym: "log.retention.ms",
        doc: "How long to keep a segment before deleting it, in ms; -1 keeps it forever.",
        validator: Validator::Long { min: Some(-1) },
    },
    ConfigDef {
        name: SEGMENT_BYTES,
        default: "1073741824",
        broker_synonym: "log.segment.bytes",
        doc: "Segment file size at which the log rolls to a new segment.",
        // Kafka's floor is LegacyRecord.RECORD_OVERHEAD_V0, the smallest possible message.
        validator: Validator::Int { min: 14, why: None },
    },
    ConfigDef {
        name: SEGMENT_INDEX_BYTES,
        default: "10485760",
        broker_synonym: "log.index.size.max.bytes",
        doc: "Preallocated size of each index file of the active segment.",
        validator: Validator::Int {
            min: MIN_SEGMENT_INDEX_BYTES,
            why: Some("one time index entry is 12 bytes"),
        },
    },
    ConfigDef {
        name: SEGMENT_MS,
        default: "604800000",
        broker_synonym: "log.roll.ms",
        doc: "Roll to a new segment after this long even if the current one isn't full, in ms.",
        validator: Validator::Long { min: Some(1) },
    },
    ConfigDef {
        name: UNCLEAN_LEADER_ELECTION_ENABLE,
        default: "false",
        broker_synonym: "unclean.leader.election.enable",
        doc: "Allow an out-of-sync replica to become leader, at the cost of losing data.",
        validator: Validator::Boolean,
    },
];

/// Looks up a topic config by its Kafka name (case-sensitive, as in Kafka).
pub fn config_def(name: &str) -> Option<&'static ConfigDef> {
    TOPIC_CONFIGS
        .binary_search_by(|def| def.name.cmp(name))
        .ok()
        .and_then(|i| TOPIC_CONFIGS.get(i))
}

/// One supported topic config.
#[derive(Debug)]
pub struct ConfigDef {
    /// Kafka's topic-level name, e.g. `retention.ms`.
    pub name: &'static str,
    /// Kafka's default, in the string form clients see.
    pub default: &'static str,
    /// Kafka's broker-level name for the same setting, e.g. `log.retention.ms`; reported as
    /// the synonym name for broker-level and default values.
    pub broker_synonym: &'static str,
    /// One line on what the setting does.
    pub doc: &'static str,
    /// Type and range of accepted values.
    pub validator: Validator,
}

/// A config's Kafka type, as named in error messages ("Not a number of type LONG").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigType {
    Boolean,
    Int,
    Long,
    Double,
    String,
    List,
}

impl ConfigType {
    /// Kafka's `ConfigDef.Type` name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::Int => "INT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::String => "STRING",
            ConfigType::List => "LIST",
        }
    }
}

impl fmt::Display for ConfigType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What values a config accepts: Kafka's type plus its validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Validator {
    /// A 64-bit integer, at least `min` when there is one (Kafka's `atLeast`).
    Long { min: Option<i64> },
    /// A 32-bit integer of at least `min`; `why` explains a floor stricter than Kafka's.
    Int { min: i32, why: Option<&'static str> },
    /// A double between 0 and 1 inclusive.
    Ratio,
    /// `true` or `false`, case-insensitive.
    Boolean,
    /// A comma-separated list of `compact` and `delete`.
    CleanupPolicy,
    /// `producer`, `uncompressed`, `gzip`, `lz4` or `zstd`.
    CompressionType,
    /// `CreateTime` or `LogAppendTime`.
    TimestampType,
}

const CLEANUP_POLICIES: &[&str] = &["compact", "delete"];
/// Kafka's list minus `snappy`, in Kafka's order.
const COMPRESSION_TYPES: &[&str] = &["uncompressed", "zstd", "lz4", "gzip", "producer"];
const TIMESTAMP_TYPES: &[&str] = &["CreateTime", "LogAppendTime"];

impl Validator {
    /// The Kafka type of values this validator accepts.
    pub fn config_type(self) -> ConfigType {
        match self {
            Validator::Long { .. } => ConfigType::Long,
            Validator::Int { .. } => ConfigType::Int,
            Validator::Ratio => ConfigType::Double,
            Validator::Boolean => ConfigType::Boolean,
            Validator::CleanupPolicy => ConfigType::List,
            Validator::CompressionType | Validator::TimestampType => ConfigType::String,
        }
    }

    /// Parses and range-checks `value`. Surrounding whitespace is ignored, as in Kafka.
    ///
    /// # Errors
    ///
    /// Why the value isn't acceptable.
    pub fn check(self, value: &str) -> Result<(), InvalidReason> {
        self.parse(value).map(|_| ())
    }

    fn parse(self, value: &str) -> Result<Value, InvalidReason> {
        let value = value.trim();
        let not_a_number = InvalidReason::NotANumber {
            expected: self.config_type(),
        };
        match self {
            Validator::Long { min } => {
                let n: i64 = value.parse().map_err(|_| not_a_number)?;
                match min {
                    Some(min) if n < min => Err(InvalidReason::BelowMinimum { min, why: None }),
                    _ => Ok(Value::Long(n)),
                }
            }
            Validator::Int { min, why } => {
                let n: i32 = value.parse().map_err(|_| not_a_number)?;
                if n < min {
                    return Err(InvalidReason::BelowMinimum {
                        min: i64::from(min),
                        why,
                    });
                }
                Ok(Value::Int(n))
            }
            Validator::Ratio => {
                let n: f64 = value.parse().map_err(|_| not_a_number)?;
                if n.is_nan() {
                    // Kafka's Range check compares with `<`/`>`, which NaN passes; a NaN
                    // ratio would make every comparison in the cleaner false.
                    return Err(InvalidReason::NotARatio);
                }
                if n < 0.0 {
                    return Err(InvalidReason::BelowMinimum { min: 0, why: None });
                }
                if n > 1.0 {
                    return Err(InvalidReason::AboveMaximum { max: 1 });
                }
                Ok(Value::Double(n))
            }
            Validator::Boolean => {
                if value.eq_ignore_ascii_case("true") {
                    Ok(Value::Boolean(true))
                } else if value.eq_ignore_ascii_case("false") {
                    Ok(Value::Boolean(false))
                } else {
                    Err(InvalidReason::NotABoolean)
                }
            }
            Validator::CleanupPolicy => parse_cleanup_policy(value).map(Value::CleanupPolicy),
            Validator::CompressionType => {
                let codec = match value {
                    "producer" => return Ok(Value::CompressionType(CompressionType::Producer)),
                    "uncompressed" => Compression::None,
                    "gzip" => Compression::Gzip,
                    "lz4" => Compression::Lz4,
                    "zstd" => Compression::Zstd,
                    "snappy" => return Err(InvalidReason::Unsupported { what: "snappy" }),
                    _ => {
                        return Err(InvalidReason::NotOneOf {
                            allowed: COMPRESSION_TYPES,
                        });
                    }
                };
                Ok(Value::CompressionType(CompressionType::Codec(codec)))
            }
            Validator::TimestampType => match value {
                "CreateTime" => Ok(Value::TimestampType(TimestampType::CreateTime)),
                "LogAppendTime" => Ok(Value::TimestampType(TimestampType::LogAppendTime)),
                _ => Err(InvalidReason::NotOneOf {
                    allowed: TIMESTAMP_TYPES,
                }),
            },
        }
    }
}

/// Kafka's LIST parsing (split on commas, whitespace around items ignored), then each item
/// checked against `compact`/`delete`. Duplicates are harmless and accepted, as in Kafka.
fn parse_cleanup_policy(value: &str) -> Result<CleanupPolicy, InvalidReason> {
    if value.is_empty() {
        // Kafka 3.x takes an empty list to mean "never clean up", which silently turns off
        // retention; we make that an explicit error instead.
        return Err(InvalidReason::EmptyList {
            allowed: CLEANUP_POLICIES,
        });
    }
    let mut policy = CleanupPolicy::default();
    for item in value.split(',').map(str::trim) {
        match item {
            "compact" => policy.compact = true,
            "delete" => policy.delete = true,
            _ => {
                return Err(InvalidReason::NotOneOf {
                    allowed: CLEANUP_POLICIES,
                });
            }
        }
    }
    Ok(policy)
}

/// A checked value, typed by its config.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Long(i64),
    Int(i32),
    Double(f64),
    Boolean(bool),
    CleanupPolicy(CleanupPolicy),
    CompressionType(CompressionType),
    TimestampType(TimestampType),
}

/// Why a value was refused. Displays as Kafka's `ConfigException` detail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Not parseable as the config's numeric type (including out of that type's range).
    NotANumber { expected: ConfigType },
    /// Below the config's minimum; `why` says why when we are stricter than Kafka.
    BelowMinimum { min: i64, why: Option<&'static str> },
    /// Above the config's maximum.
    AboveMaximum { max: i64 },
    /// NaN for a ratio.
    NotARatio,
    /// Not `true` or `false`.
    NotABoolean,
    /// Not one of the allowed strings.
    NotOneOf { allowed: &'static [&'static str] },
    /// An empty list where at least one item is needed.
    EmptyList { allowed: &'static [&'static str] },
    /// A value Kafka accepts but this broker can't honour.
    Unsupported { what: &'static str },
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidReason::NotANumber { expected } => write!(f, "Not a number of type {expected}"),
            InvalidReason::BelowMinimum { min, why: None } => {
                write!(f, "Value must be at least {min}")
            }
            InvalidReason::BelowMinimum {
                min,
                why: Some(why),
            } => write!(f, "Value must be at least {min} ({why})"),
            InvalidReason::AboveMaximum { max } => write!(f, "Value must be no more than {max}"),
            InvalidReason::NotARatio => f.write_str("Value must be a number between 0 and 1"),
            InvalidReason::NotABoolean => f.write_str("Expected value to be either true or false"),
            InvalidReason::NotOneOf { allowed } => {
                write!(f, "String must be one of: {}", allowed.join(", "))
            }
            InvalidReason::EmptyList { allowed } => {
                write!(
                    f,
                    "List must contain at least one of: {}",
                    allowed.join(", ")
                )
            }
            InvalidReason::Unsupported { what } => {
                write!(f, "{what} is not supported by this broker")
            }
        }
    }
}

/// A refused topic config change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No topic config has this name.
    #[error("Unknown topic config name: {name}")]
    Unknown { name: String },
    /// The value isn't valid for the config; Kafka's `ConfigException` wording.
    #[error("Invalid value {value} for configuration {name}: {reason}")]
    InvalidValue {
        name: String,
        value: String,
        reason: InvalidReason,
    },
}

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

/// The configs set explicitly on one topic.
///
/// Holds only checked values: every way in ([`TopicConfig::set`],
/// [`TopicConfig::from_overrides`]) validates first.
///
/// ```
/// use std::collections::BTreeMap;
/// use runnel::broker::topic_config::{ConfigSource, TopicConfig};
///
/// let mut config = TopicConfig::default();
/// config.set("retention.ms", "-1")?;
/// assert_eq!(config.to_log_config(&BTreeMap::new()).retention_ms, None);
///
/// let err = config.set("retention.ms", "abc").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "Invalid value abc for configuration retention.ms: Not a number of type LONG",
/// );
///
/// let broker = BTreeMap::from([("segment.bytes".to_owned(), "1048576".to_owned())]);
/// let described = config.describe(&broker);
/// let segment = described.iter().find(|e| e.name == "segment.bytes").unwrap();
/// assert_eq!((segment.value.as_str(), segment.source), ("1048576", ConfigSource::StaticBrokerConfig));
/// # Ok::<(), runnel::broker::topic_config::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicConfig {
    /// Config name → value as set (trimmed), for configs set on this topic only.
    overrides: BTreeMap<String, String>,
}

impl TopicConfig {
    /// Checks that `value` is acceptable for the config `name`, without setting it.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Unknown`] for a name not in [`TOPIC_CONFIGS`];
    /// [`ConfigError::InvalidValue`] for a value of the wrong type or out of range.
    pub fn validate_set(name: &str, value: &str) -> Result<(), ConfigError> {
        let def = config_def(name).ok_or_else(|| ConfigError::Unknown {
            name: name.to_owned(),
        })?;
        def.validator
            .check(value)
            .map_err(|reason| ConfigError::InvalidValue {
                name: name.to_owned(),
                value: value.to_owned(),
                reason,
            })
    }

    /// Builds a topic's config from stored or requested overrides, checking every one.
    ///
    /// # Errors
    ///
    /// The first bad entry in name order, as for [`TopicConfig::validate_set`].
    pub fn from_overrides(overrides: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        for (name, value) in &overrides {
            Self::validate_set(name, value)?;
        }
        let overrides = overrides
            .into_iter()
            .map(|(name, value)| (name, value.trim().to_owned()))
            .collect();
        Ok(TopicConfig { overrides })
    }

    /// Checks broker-level defaults, keyed by topic config name. Call this when loading the
    /// broker config: resolution skips invalid broker defaults rather than failing every
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
        Self::validate_set(name, value)?;
        self.overrides
            .insert(name.to_owned(), value.trim().to_owned());
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
        Ok(self.overrides.remove(name))
    }

    /// The value set on this topic for `name`, if any (not the effective value).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.overrides.get(name).map(String::as_str)
    }

    /// The values set on this topic, by name; what gets persisted.
    pub fn overrides(&self) -> &BTreeMap<String, String> {
        &self.overrides
    }

    /// Every supported config with its effective value and where it came from, in name order.
    ///
    /// `broker_defaults` are broker-level overrides of Kafka's defaults, keyed by topic config
    /// name; entries that fail validation are skipped (see
    /// [`TopicConfig::validate_broker_defaults`]).
    pub fn describe(&self, broker_defaults: &BTreeMap<String, String>) -> Vec<ConfigEntry> {
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

    /// The typed settings for this topic's logs, from the effective values.
    ///
    /// Kafka's -1 (`retention.ms`) and any negative `retention.bytes` become `None`
    /// ("unlimited"). Every value was range-checked on the way in, so the conversions to
    /// unsigned types can't fail; if one ever did, [`LogConfig::default`] fills in.
    pub fn to_log_config(&self, broker_defaults: &BTreeMap<String, String>) -> LogConfig {
        let d = LogConfig::default();
        let bd = broker_defaults;
        LogConfig {
            segment_bytes: self
                .int(SEGMENT_BYTES, bd)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(d.segment_bytes),
            segment_ms: self.long(SEGMENT_MS, bd).unwrap_or(d.segment_ms),
            segment_index_bytes: self
                .int(SEGMENT_INDEX_BYTES, bd)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(d.segment_index_bytes),
            index_interval_bytes: self
                .int(INDEX_INTERVAL_BYTES, bd)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(d.index_interval_bytes),
            retention_ms: self
                .long(RETENTION_MS, bd)
                .map_or(d.retention_ms, |n| (n >= 0).then_some(n)),
            retention_bytes: self
                .long(RETENTION_BYTES, bd)
                .map_or(d.retention_bytes, |n| u64::try_from(n).ok()),
            cleanup_policy: match self.value(CLEANUP_POLICY, bd) {
                Some(Value::CleanupPolicy(policy)) => policy,
                _ => d.cleanup_policy,
            },
            delete_retention_ms: self
                .long(DELETE_RETENTION_MS, bd)
                .unwrap_or(d.delete_retention_ms),
            flush_messages: self
                .long(FLUSH_MESSAGES, bd)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(d.flush_messages),
            flush_ms: self.long(FLUSH_MS, bd).unwrap_or(d.flush_ms),
            max_message_bytes: self
                .int(MAX_MESSAGE_BYTES, bd)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(d.max_message_bytes),
            timestamp_type: match self.value(MESSAGE_TIMESTAMP_TYPE, bd) {
                Some(Value::TimestampType(t)) => t,
                _ => d.timestamp_type,
            },
            compression_type: match self.value(COMPRESSION_TYPE, bd) {
                Some(Value::CompressionType(c)) => c,
                _ => d.compression_type,
            },
        }
    }

    /// Effective `min.insync.replicas`: acks=all produces fail with NotEnoughReplicas when
    /// the ISR is smaller than this.
    pub fn min_insync_replicas(&self, broker_defaults: &BTreeMap<String, String>) -> u32 {
        self.int(MIN_INSYNC_REPLICAS, broker_defaults)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1)
    }

    /// Effective `unclean.leader.election.enable`.
    pub fn unclean_leader_election_enable(
        &self,
        broker_defaults: &BTreeMap<String, String>,
    ) -> bool {
        match self.value(UNCLEAN_LEADER_ELECTION_ENABLE, broker_defaults) {
            Some(Value::Boolean(b)) => b,
            _ => false,
        }
    }

    /// Effective `min.cleanable.dirty.ratio`, in `0.0..=1.0`.
    pub fn min_cleanable_dirty_ratio(&self, broker_defaults: &BTreeMap<String, String>) -> f64 {
        match self.value(MIN_CLEANABLE_DIRTY_RATIO, broker_defaults) {
            Some(Value::Double(n)) => n,
            _ => 0.5,
        }
    }

    /// Effective `min.compaction.lag.ms`.
    pub fn min_compaction_lag_ms(&self, broker_defaults: &BTreeMap<String, String>) -> i64 {
        self.long(MIN_COMPACTION_LAG_MS, broker_defaults)
            .unwrap_or(0)
    }

    /// Effective `file.delete.delay.ms`.
    pub fn file_delete_delay_ms(&self, broker_defaults: &BTreeMap<String, String>) -> i64 {
        self.long(FILE_DELETE_DELAY_MS, broker_defaults)
            .unwrap_or(60_000)
    }

    /// The valid values `def` has, highest precedence first: this topic's, the broker's,
    /// Kafka's. Each yields (synonym name, value, source).
    fn candidates<'a>(
        &'a self,
        def: &'static ConfigDef,
        broker_defaults: &'a BTreeMap<String, String>,
    ) -> impl Iterator<Item = (&'static str, &'a str, ConfigSource)> + 'a {
        let topic = self
            .overrides
            .get(def.name)
            .map(|v| (def.name, v.as_str(), ConfigSource::DynamicTopicConfig));
        let broker = broker_defaults.get(def.name).map(|v| {
            (
                def.broker_synonym,
                v.trim(),
                ConfigSource::StaticBrokerConfig,
            )
        });
        let kafka = Some((def.broker_synonym, def.default, ConfigSource::DefaultConfig));
        [topic, broker, kafka]
            .into_iter()
            .flatten()
            .filter(move |(_, value, _)| def.validator.check(value).is_ok())
    }

    /// The effective value of `name`, typed.
    fn value(&self, name: &str, broker_defaults: &BTreeMap<String, String>) -> Option<Value> {
        let def = config_def(name)?;
        self.candidates(def, broker_defaults)
            .find_map(|(_, value, _)| def.validator.parse(value).ok())
    }

    fn long(&self, name: &str, broker_defaults: &BTreeMap<String, String>) -> Option<i64> {
        match self.value(name, broker_defaults)? {
            Value::Long(n) => Some(n),
            _ => None,
        }
    }

    fn int(&self, name: &str, broker_defaults: &BTreeMap<String, String>) -> Option<i32> {
        match self.value(name, broker_defaults)? {
            Value::Int(n) => Some(n),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly on purpose"
)]
mod tests {
    use super::*;

    fn no_broker_defaults() -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn message(name: &str, value: &str) -> String {
        TopicConfig::validate_set(name, value)
            .unwrap_err()
            .to_string()
    }

    fn reason(name: &str, value: &str) -> InvalidReason {
        match TopicConfig::validate_set(name, value) {
            Err(ConfigError::InvalidValue { reason, .. }) => reason,
            other => panic!("{name}={value:?}: expected InvalidValue, got {other:?}"),
        }
    }

    fn ok(name: &str, value: &str) {
        assert_eq!(
            TopicConfig::validate_set(name, value),
            Ok(()),
            "{name}={value:?}"
        );
    }

    #[test]
    fn table_is_sorted_unique_and_its_defaults_are_valid() {
        for pair in TOPIC_CONFIGS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for def in TOPIC_CONFIGS {
            assert_eq!(def.validator.check(def.default), Ok(()), "{}", def.name);
            assert!(std::ptr::eq(config_def(def.name).unwrap(), def));
            assert!(!def.doc.is_empty());
        }
        assert_eq!(TOPIC_CONFIGS.len(), 18);
    }

    #[test]
    fn defaults_match_kafka() {
        let defaults: BTreeMap<&str, &str> =
            TOPIC_CONFIGS.iter().map(|d| (d.name, d.default)).collect();
        let kafka = [
            ("cleanup.policy", "delete"),
            ("compression.type", "producer"),
            ("delete.retention.ms", "86400000"),
            ("file.delete.delay.ms", "60000"),
            ("flush.messages", "9223372036854775807"),
            ("flush.ms", "9223372036854775807"),
            ("index.interval.bytes", "4096"),
            ("max.message.bytes", "1048588"),
            ("message.timestamp.type", "CreateTime"),
            ("min.cleanable.dirty.ratio", "0.5"),
            ("min.compaction.lag.ms", "0"),
            ("min.insync.replicas", "1"),
            ("retention.bytes", "-1"),
            ("retention.ms", "604800000"),
            ("segment.bytes", "1073741824"),
            ("segment.index.bytes", "10485760"),
            ("segment.ms", "604800000"),
            ("unclean.leader.election.enable", "false"),
        ];
        assert_eq!(defaults, kafka.into_iter().collect());
    }

    #[test]
    fn default_topic_config_is_the_log_engine_default() {
        assert_eq!(
            TopicConfig::default().to_log_config(&no_broker_defaults()),
            LogConfig::default()
        );
    }

    #[test]
    fn unknown_names_are_rejected() {
        let err = TopicConfig::validate_set("retention.hours", "1").unwrap_err();
        assert_eq!(
            err,
            ConfigError::Unknown {
                name: "retention.hours".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "Unknown topic config name: retention.hours"
        );
        // Kafka's names are case-sensitive.
        assert!(matches!(
            TopicConfig::validate_set("Retention.ms", "1"),
            Err(ConfigError::Unknown { .. })
        ));
        // Deprecated and unsupported settings are unknown, not silently ignored.
        assert!(matches!(
            TopicConfig::validate_set("message.timestamp.difference.max.ms", "1"),
            Err(ConfigError::Unknown { .. })
        ));
        assert!(matches!(
            TopicConfig::default().reset("nope"),
            Err(ConfigError::Unknown { .. })
        ));
    }

    #[test]
    fn messages_use_kafkas_wording() {
        assert_eq!(
            message("retention.ms", "abc"),
            "Invalid value abc for configuration retention.ms: Not a number of type LONG"
        );
        assert_eq!(
            message("segment.bytes", "1.5"),
            "Invalid value 1.5 for configuration segment.bytes: Not a number of type INT"
        );
        assert_eq!(
            message("segment.bytes", "13"),
            "Invalid value 13 for configuration segment.bytes: Value must be at least 14"
        );
        assert_eq!(
            message("min.cleanable.dirty.ratio", "1.5"),
            "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: \
             Value must be no more than 1"
        );
        assert_eq!(
            message("unclean.leader.election.enable", "yes"),
            "Invalid value yes for configuration unclean.leader.election.enable: \
             Expected value to be either true or false"
        );
        assert_eq!(
            message("message.timestamp.type", "createtime"),
            "Invalid value createtime for configuration message.timestamp.type: \
             String must be one of: CreateTime, LogAppendTime"
        );
        assert_eq!(
            message("cleanup.policy", "compact,forever"),
            "Invalid value compact,forever for configuration cleanup.policy: \
             String must be one of: compact, delete"
        );
        assert_eq!(
            message("compression.type", "brotli"),
            "Invalid value brotli for configuration compression.type: \
             String must be one of: uncompressed, zstd, lz4, gzip, producer"
        );
    }

    #[test]
    fn snappy_is_refused_with_a_clear_message() {
        assert_eq!(
            reason("compression.type", "snappy"),
            InvalidReason::Unsupported { what: "snappy" }
        );
        assert_eq!(
            message("compression.type", "snappy"),
            "Invalid value snappy for configuration compression.type: \
             snappy is not supported by this broker"
        );
    }

    #[test]
    fn compression_type_values() {
        let codec = |v: &str| {
            let mut config = TopicConfig::default();
            config.set("compression.type", v).unwrap();
            config.to_log_config(&no_broker_defaults()).compression_type
        };
        assert_eq!(codec("producer"), CompressionType::Producer);
        assert_eq!(
            codec("uncompressed"),
            CompressionType::Codec(Compression::None)
        );
        assert_eq!(codec("gzip"), CompressionType::Codec(Compression::Gzip));
        assert_eq!(codec("lz4"), CompressionType::Codec(Compression::Lz4));
        assert_eq!(codec("zstd"), CompressionType::Codec(Compression::Zstd));
        // Kafka's topic config doesn't know "none" (that's the producer's spelling), and
        // matches case-sensitively.
        for bad in ["none", "GZIP", "Producer", ""] {
            assert!(
                matches!(
                    reason("compression.type", bad),
                    InvalidReason::NotOneOf { .. }
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn cleanup_policy_values() {
        let policy = |v: &str| match Validator::CleanupPolicy.parse(v) {
            Ok(Value::CleanupPolicy(p)) => p,
            other => panic!("{v:?}: {other:?}"),
        };
        let both = CleanupPolicy {
            delete: true,
            compact: true,
        };
        assert_eq!(policy("delete"), CleanupPolicy::DELETE);
        assert_eq!(policy("compact"), CleanupPolicy::COMPACT);
        assert_eq!(policy("compact,delete"), both);
        assert_eq!(policy("delete,compact"), both);
        assert_eq!(policy(" compact , delete "), both);
        assert_eq!(policy("delete,delete"), CleanupPolicy::DELETE);
        for bad in ["Delete", "compact;delete", "compact,", ",delete", "none"] {
            assert!(
                matches!(
                    reason("cleanup.policy", bad),
                    InvalidReason::NotOneOf { .. }
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            message("cleanup.policy", " "),
            "Invalid value   for configuration cleanup.policy: \
             List must contain at least one of: compact, delete"
        );
    }

    #[test]
    fn long_ranges() {
        ok("retention.ms", "-1");
        ok("retention.ms", "0");
        ok("retention.ms", "9223372036854775807");
        assert_eq!(
            reason("retention.ms", "-2"),
            InvalidReason::BelowMinimum { min: -1, why: None }
        );
        ok("retention.bytes", "-9223372036854775808");
        ok("retention.bytes", "-5");
        ok("segment.ms", "1");
        assert_eq!(
            reason("segment.ms", "0"),
            InvalidReason::BelowMinimum { min: 1, why: None }
        );
        ok("flush.messages", "1");
        assert_eq!(
            reason("flush.messages", "0"),
            InvalidReason::BelowMinimum { min: 1, why: None }
        );
        ok("flush.ms", "0");
        for name in [
            "delete.retention.ms",
            "file.delete.delay.ms",
            "min.compaction.lag.ms",
        ] {
            ok(name, "0");
            assert_eq!(
                reason(name, "-1"),
                InvalidReason::BelowMinimum { min: 0, why: None }
            );
        }
    }

    #[test]
    fn number_parsing_matches_java() {
        // Long.parseLong: optional sign, trimmed by ConfigDef; nothing else.
        ok("retention.ms", "+5");
        ok("retention.ms", " 5 ");
        ok("retention.ms", "007");
        for bad in [
            "",
            " ",
            "5ms",
            "1e3",
            "5_000",
            "0x10",
            "9223372036854775808",
            "1.0",
        ] {
            assert_eq!(
                reason("retention.ms", bad),
                InvalidReason::NotANumber {
                    expected: ConfigType::Long
                },
                "{bad:?}"
            );
        }
        // INT overflows are "not a number", as Integer.parseInt throws.
        assert_eq!(
            reason("segment.bytes", "2147483648"),
            InvalidReason::NotANumber {
                expected: ConfigType::Int
            }
        );
        ok("segment.bytes", "2147483647");
    }

    #[test]
    fn int_ranges() {
        ok("segment.bytes", "14");
        ok("index.interval.bytes", "0");
        assert!(matches!(
            reason("index.interval.bytes", "-1"),
            InvalidReason::BelowMinimum { min: 0, .. }
        ));
        ok("max.message.bytes", "0");
        assert!(matches!(
            reason("max.message.bytes", "-1"),
            InvalidReason::BelowMinimum { min: 0, .. }
        ));
        ok("min.insync.replicas", "1");
        assert!(matches!(
            reason("min.insync.replicas", "0"),
            InvalidReason::BelowMinimum { min: 1, .. }
        ));
    }

    #[test]
    fn segment_index_bytes_must_hold_a_time_index_entry() {
        ok("segment.index.bytes", "12");
        // Kafka would take 4..=11; we refuse and say why.
        assert_eq!(
            message("segment.index.bytes", "4"),
            "Invalid value 4 for configuration segment.index.bytes: \
             Value must be at least 12 (one time index entry is 12 bytes)"
        );
    }

    #[test]
    fn ratio_range() {
        for good in ["0", "1", "0.5", "0.0", "1.0", "5e-1", " .25 "] {
            ok("min.cleanable.dirty.ratio", good);
        }
        assert_eq!(
            reason("min.cleanable.dirty.ratio", "-0.1"),
            InvalidReason::BelowMinimum { min: 0, why: None }
        );
        assert_eq!(
            reason("min.cleanable.dirty.ratio", "inf"),
            InvalidReason::AboveMaximum { max: 1 }
        );
        assert_eq!(
            reason("min.cleanable.dirty.ratio", "NaN"),
            InvalidReason::NotARatio
        );
        assert_eq!(
            reason("min.cleanable.dirty.ratio", "half"),
            InvalidReason::NotANumber {
                expected: ConfigType::Double
            }
        );
    }

    #[test]
    fn booleans_are_case_insensitive() {
        for good in ["true", "false", "TRUE", "False", " true "] {
            ok("unclean.leader.election.enable", good);
        }
        for bad in ["1", "0", "yes", "t", ""] {
            assert_eq!(
                reason("unclean.leader.election.enable", bad),
                InvalidReason::NotABoolean
            );
        }
        let mut config = TopicConfig::default();
        config
            .set("unclean.leader.election.enable", "TRUE")
            .unwrap();
        assert!(config.unclean_leader_election_enable(&no_broker_defaults()));
    }

    #[test]
    fn timestamp_type_values() {
        let mut config = TopicConfig::default();
        config
            .set("message.timestamp.type", "LogAppendTime")
            .unwrap();
        assert_eq!(
            config.to_log_config(&no_broker_defaults()).timestamp_type,
            TimestampType::LogAppendTime
        );
        config.set("message.timestamp.type", "CreateTime").unwrap();
        assert_eq!(
            config.to_log_config(&no_broker_defaults()).timestamp_type,
            TimestampType::CreateTime
        );
    }

    #[test]
    fn set_is_atomic_and_reset_restores_the_default() {
        let mut config = TopicConfig::default();
        config.set("retention.ms", "1000").unwrap();
        assert!(config.set("retention.ms", "soon").is_err());
        assert_eq!(config.get("retention.ms"), Some("1000"));

        assert_eq!(config.reset("retention.ms"), Ok(Some("1000".into())));
        assert_eq!(config.reset("retention.ms"), Ok(None));
        assert_eq!(config.get("retention.ms"), None);
        assert!(config.overrides().is_empty());
    }

    #[test]
    fn set_stores_the_trimmed_value() {
        let mut config = TopicConfig::default();
        config.set("segment.ms", " 60000 ").unwrap();
        assert_eq!(config.get("segment.ms"), Some("60000"));
    }

    #[test]
    fn from_overrides_validates_every_entry() {
        let good = map(&[("retention.ms", "-1"), ("cleanup.policy", "compact")]);
        let config = TopicConfig::from_overrides(good.clone()).unwrap();
        assert_eq!(config.overrides(), &good);

        let bad = map(&[("retention.ms", "-1"), ("segment.bytes", "1")]);
        assert!(matches!(
            TopicConfig::from_overrides(bad),
            Err(ConfigError::InvalidValue { name, .. }) if name == "segment.bytes"
        ));
        let unknown = map(&[("retention.ms", "-1"), ("retention.minutes", "1")]);
        assert!(matches!(
            TopicConfig::from_overrides(unknown),
            Err(ConfigError::Unknown { name }) if name == "retention.minutes"
        ));
    }

    #[test]
    fn validate_broker_defaults_reports_bad_entries() {
        assert_eq!(
            TopicConfig::validate_broker_defaults(&map(&[("retention.ms", "1")])),
            Ok(())
        );
        assert!(TopicConfig::validate_broker_defaults(&map(&[("retention.ms", "x")])).is_err());
        assert!(TopicConfig::validate_broker_defaults(&map(&[("log.dirs", "/x")])).is_err());
    }

    #[test]
    fn to_log_config_maps_every_field() {
        let config = TopicConfig::from_overrides(map(&[
            ("segment.bytes", "1048576"),
            ("segment.ms", "3600000"),
            ("segment.index.bytes", "4096"),
            ("index.interval.bytes", "0"),
            ("retention.ms", "-1"),
            ("retention.bytes", "5000000"),
            ("cleanup.policy", "compact,delete"),
            ("delete.retention.ms", "1000"),
            ("flush.messages", "1"),
            ("flush.ms", "0"),
            ("max.message.bytes", "2000000"),
            ("message.timestamp.type", "LogAppendTime"),
            ("compression.type", "zstd"),
        ]))
        .unwrap();
        assert_eq!(
            config.to_log_config(&no_broker_defaults()),
            LogConfig {
                segment_bytes: 1_048_576,
                segment_ms: 3_600_000,
                segment_index_bytes: 4096,
                index_interval_bytes: 0,
                retention_ms: None,
                retention_bytes: Some(5_000_000),
                cleanup_policy: CleanupPolicy {
                    delete: true,
                    compact: true
                },
                delete_retention_ms: 1000,
                flush_messages: 1,
                flush_ms: 0,
                max_message_bytes: 2_000_000,
                timestamp_type: TimestampType::LogAppendTime,
                compression_type: CompressionType::Codec(Compression::Zstd),
            }
        );
    }

    #[test]
    fn negative_retention_bytes_is_unlimited() {
        let mut config = TopicConfig::default();
        config.set("retention.bytes", "-42").unwrap();
        assert_eq!(
            config.to_log_config(&no_broker_defaults()).retention_bytes,
            None
        );
        config.set("retention.bytes", "0").unwrap();
        assert_eq!(
            config.to_log_config(&no_broker_defaults()).retention_bytes,
            Some(0)
        );
    }

    #[test]
    fn precedence_is_topic_then_broker_then_kafka() {
        let broker = map(&[("retention.ms", "1000"), ("segment.ms", "2000")]);
        let mut config = TopicConfig::default();
        config.set("retention.ms", "3000").unwrap();
        let log = config.to_log_config(&broker);
        assert_eq!(log.retention_ms, Some(3000));
        assert_eq!(log.segment_ms, 2000);
        assert_eq!(log.segment_bytes, 1 << 30);
    }

    #[test]
    fn invalid_broker_defaults_are_skipped() {
        let broker = map(&[
            ("retention.ms", "forever"),
            ("min.insync.replicas", "0"),
            ("not.a.config", "1"),
        ]);
        let config = TopicConfig::default();
        assert_eq!(config.to_log_config(&broker), LogConfig::default());
        assert_eq!(config.min_insync_replicas(&broker), 1);
        let described = config.describe(&broker);
        let retention = described.iter().find(|e| e.name == "retention.ms").unwrap();
        assert_eq!(retention.source, ConfigSource::DefaultConfig);
        assert_eq!(retention.synonyms.len(), 1);
    }

    #[test]
    fn accessors_for_settings_outside_log_config() {
        let broker = map(&[("min.insync.replicas", "2"), ("min.compaction.lag.ms", "5")]);
        let mut config = TopicConfig::default();
        assert_eq!(config.min_insync_replicas(&no_broker_defaults()), 1);
        assert_eq!(config.min_insync_replicas(&broker), 2);
        config.set("min.insync.replicas", "3").unwrap();
        assert_eq!(config.min_insync_replicas(&broker), 3);

        assert!(!config.unclean_leader_election_enable(&broker));
        assert_eq!(config.min_cleanable_dirty_ratio(&broker), 0.5);
        config.set("min.cleanable.dirty.ratio", "0.1").unwrap();
        assert_eq!(config.min_cleanable_dirty_ratio(&broker), 0.1);
        assert_eq!(config.min_compaction_lag_ms(&no_broker_defaults()), 0);
        assert_eq!(config.min_compaction_lag_ms(&broker), 5);
        assert_eq!(config.file_delete_delay_ms(&broker), 60_000);
    }

    #[test]
    fn describe_reports_value_source_and_synonyms() {
        let broker = map(&[("retention.ms", "1000"), ("segment.bytes", "2048")]);
        let mut config = TopicConfig::default();
        config.set("retention.ms", "3000").unwrap();
        let described = config.describe(&broker);
        assert_eq!(described.len(), TOPIC_CONFIGS.len());
        let names: Vec<&str> = described.iter().map(|e| e.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);

        let entry = |name: &str| described.iter().find(|e| e.name == name).unwrap();

        let retention = entry("retention.ms");
        assert_eq!(retention.value, "3000");
        assert_eq!(retention.source, ConfigSource::DynamicTopicConfig);
        assert!(!retention.is_default && !retention.is_read_only && !retention.is_sensitive);
        assert_eq!(
            retention.synonyms,
            vec![
                ConfigSynonym {
                    name: "retention.ms",
                    value: "3000".into(),
                    source: ConfigSource::DynamicTopicConfig
                },
                ConfigSynonym {
                    name: "log.retention.ms",
                    value: "1000".into(),
                    source: ConfigSource::StaticBrokerConfig
                },
                ConfigSynonym {
                    name: "log.retention.ms",
                    value: "604800000".into(),
                    source: ConfigSource::DefaultConfig
                },
            ]
        );

        let segment = entry("segment.bytes");
        assert_eq!(segment.value, "2048");
        assert_eq!(segment.source, ConfigSource::StaticBrokerConfig);
        assert!(!segment.is_default);
        assert_eq!(segment.synonyms.len(), 2);

        let policy = entry("cleanup.policy");
        assert_eq!(policy.value, "delete");
        assert_eq!(policy.source, ConfigSource::DefaultConfig);
        assert!(policy.is_default);
        assert_eq!(
            policy.synonyms,
            vec![ConfigSynonym {
                name: "log.cleanup.policy",
                value: "delete".into(),
                source: ConfigSource::DefaultConfig
            }]
        );
    }

    #[test]
    fn config_source_names() {
        assert_eq!(
            ConfigSource::DynamicTopicConfig.as_str(),
            "DYNAMIC_TOPIC_CONFIG"
        );
        assert_eq!(
            ConfigSource::StaticBrokerConfig.as_str(),
            "STATIC_BROKER_CONFIG"
        );
        assert_eq!(ConfigSource::DefaultConfig.as_str(), "DEFAULT_CONFIG");
        assert_eq!(ConfigSource::DefaultConfig.to_string(), "DEFAULT_CONFIG");
    }

    #[test]
    fn validator_types() {
        let ty = |name: &str| config_def(name).unwrap().validator.config_type();
        assert_eq!(ty("retention.ms"), ConfigType::Long);
        assert_eq!(ty("segment.bytes"), ConfigType::Int);
        assert_eq!(ty("min.cleanable.dirty.ratio"), ConfigType::Double);
        assert_eq!(ty("unclean.leader.election.enable"), ConfigType::Boolean);
        assert_eq!(ty("cleanup.policy"), ConfigType::List);
        assert_eq!(ty("compression.type"), ConfigType::String);
        assert_eq!(ty("message.timestamp.type"), ConfigType::String);
    }
}
