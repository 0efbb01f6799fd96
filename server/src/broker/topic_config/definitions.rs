//! The table of topic configs Kafka defines and we support: names, Kafka's defaults, broker
//! synonyms, and each one's type and range check ([`Validator`]), which turns the string a
//! client sends into a typed [`Value`] or Kafka's error text.
//!
//! Deliberate differences from Kafka: `compression.type=snappy` is refused (we have no snappy
//! codec); `segment.index.bytes` must be at least 12, not 4, because a time-index entry is 12
//! bytes; `cleanup.policy` may not be empty; `min.cleanable.dirty.ratio` refuses NaN, which
//! Kafka's range check lets through.
//!
//! Not owned here: which level a value comes from and what a topic's values resolve to
//! (`values.rs`).

use std::fmt;

use crate::log::batch::{Compression, TimestampType};
use crate::log::config::{CleanupPolicy, CompressionType};

// Kafka's topic config names (its `TopicConfig.*_CONFIG` constants), so callers can't
// misspell them.
pub const CLEANUP_POLICY: &str = "cleanup.policy";
/// Runnel's own: whether the delivery audit counts this topic (not one of Kafka's names).
pub const AUDIT_ENABLE: &str = "audit.enable";
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
        name: AUDIT_ENABLE,
        default: "true",
        broker_synonym: "audit.enable",
        doc: "Runnel's delivery audit counts and reconciles this topic's records (GET /v1/audit).",
        validator: Validator::Boolean,
    },
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

    pub(super) fn parse(self, value: &str) -> Result<Value, InvalidReason> {
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
pub(super) enum Value {
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
