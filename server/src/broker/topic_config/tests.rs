//! Topic configs: the table's checks, resolution across levels, describe.

use std::collections::BTreeMap;

use super::definitions::Value;
use super::*;
use crate::log::batch::{Compression, TimestampType};
use crate::log::config::{CleanupPolicy, CompressionType, LogConfig};

fn no_broker_defaults() -> BrokerDefaults {
    BrokerDefaults::default()
}

fn broker(pairs: &[(&str, &str)]) -> BrokerDefaults {
    BrokerDefaults::new(&map(pairs))
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
    assert_eq!(TOPIC_CONFIGS.len(), 19);
}

#[test]
fn defaults_match_kafka() {
    let defaults: BTreeMap<&str, &str> =
        TOPIC_CONFIGS.iter().map(|d| (d.name, d.default)).collect();
    let kafka = [
        // Runnel's own, beside Kafka's: the delivery audit is on unless a topic opts out.
        ("audit.enable", "true"),
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
    assert!(
        config
            .effective(&no_broker_defaults())
            .unclean_leader_election_enable
    );
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
    assert_eq!(config.overrides(), good);

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
    let broker = broker(&[("retention.ms", "1000"), ("segment.ms", "2000")]);
    let mut config = TopicConfig::default();
    config.set("retention.ms", "3000").unwrap();
    let log = config.to_log_config(&broker);
    assert_eq!(log.retention_ms, Some(3000));
    assert_eq!(log.segment_ms, 2000);
    assert_eq!(log.segment_bytes, 1 << 30);
}

#[test]
fn invalid_broker_defaults_are_skipped() {
    let broker = broker(&[
        ("retention.ms", "forever"),
        ("min.insync.replicas", "0"),
        ("not.a.config", "1"),
    ]);
    let config = TopicConfig::default();
    assert_eq!(config.to_log_config(&broker), LogConfig::default());
    assert_eq!(config.effective(&broker).min_insync_replicas, 1);
    let described = config.describe(&broker);
    let retention = described.iter().find(|e| e.name == "retention.ms").unwrap();
    assert_eq!(retention.source, ConfigSource::DefaultConfig);
    assert_eq!(retention.synonyms.len(), 1);
}

#[test]
fn effective_config_resolves_settings_outside_log_config() {
    let broker = broker(&[("min.insync.replicas", "2"), ("min.compaction.lag.ms", "5")]);
    let mut config = TopicConfig::default();
    assert_eq!(
        config.effective(&no_broker_defaults()).min_insync_replicas,
        1
    );
    assert_eq!(config.effective(&broker).min_insync_replicas, 2);
    config.set("min.insync.replicas", "3").unwrap();
    assert_eq!(config.effective(&broker).min_insync_replicas, 3);

    assert!(!config.effective(&broker).unclean_leader_election_enable);
    assert_eq!(config.effective(&broker).min_cleanable_dirty_ratio, 0.5);
    config.set("min.cleanable.dirty.ratio", "0.1").unwrap();
    assert_eq!(config.effective(&broker).min_cleanable_dirty_ratio, 0.1);
    assert_eq!(
        config
            .effective(&no_broker_defaults())
            .min_compaction_lag_ms,
        0
    );
    assert_eq!(config.effective(&broker).min_compaction_lag_ms, 5);
    assert_eq!(config.effective(&broker).file_delete_delay_ms, 60_000);
}

#[test]
fn describe_reports_value_source_and_synonyms() {
    let broker = broker(&[("retention.ms", "1000"), ("segment.bytes", "2048")]);
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
