//! The config file as the user wrote it: every key optional, nothing validated yet.
//!
//! `RawConfig` mirrors the TOML layout of `runnel.example.toml` one to one. Serde checks only
//! the TOML types and rejects unknown keys (`deny_unknown_fields`), so a misspelt
//! `num_partition = 3` fails at startup instead of silently doing nothing. Values that carry
//! units (`"64 MiB"`, `"30s"`) or need parsing (`listen`) stay text here; `config/mod.rs` turns
//! them into typed values and names the key in any error.
//!
//! Not owned here: defaults, validation, or the environment and flag layers (all in `mod.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::LogFormat;

/// Top level of the TOML config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub node_id: Option<u32>,
    pub cluster_listen: Option<String>,
    pub peers: Option<String>,
    pub join: Option<String>,
    pub broker_session_timeout: Option<Scalar>,
    pub broker_heartbeat_interval: Option<Scalar>,
    pub log_format: Option<LogFormat>,
    pub num_partitions: Option<u32>,
    pub log_check_interval: Option<Scalar>,
    pub checkpoint_interval: Option<Scalar>,
    pub shutdown_timeout: Option<Scalar>,
    pub consumer_instance_timeout: Option<Scalar>,
    pub schema_compatibility_level: Option<Scalar>,
    /// Kafka topic-config names to values; names are checked by `broker::topic_config`.
    pub topic_defaults: Option<BTreeMap<String, Scalar>>,
    pub limits: Option<RawLimits>,
}

/// The `[limits]` table: bounds on the HTTP gateway and its WebSockets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_request_body: Option<Scalar>,
    pub max_concurrent_requests: Option<usize>,
    pub max_records_per_request: Option<usize>,
    pub header_read_timeout: Option<Scalar>,
    pub idle_timeout: Option<Scalar>,
    pub ws_max_connections: Option<usize>,
    pub ws_max_message_size: Option<Scalar>,
    pub ws_max_in_flight: Option<usize>,
    pub ws_ping_interval: Option<Scalar>,
    pub ws_pong_timeout: Option<Scalar>,
    pub max_waiting_polls: Option<usize>,
    pub body_read_timeout: Option<Scalar>,
    pub min_body_rate: Option<Scalar>,
    pub read_memory: Option<Scalar>,
    pub fetch_max_bytes: Option<Scalar>,
}

/// A TOML string, integer, float or boolean, kept as its text.
///
/// Lets `max_request_body = 1048576` and `max_request_body = "1 MiB"` both reach the same
/// parser, and lets `[topic_defaults]` values be written the way Kafka users expect
/// (`"retention.ms" = 604800000`, `"unclean.leader.election.enable" = false`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, integer, float or boolean")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }

        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_accept_strings_numbers_and_booleans() {
        let raw: RawConfig = toml::from_str(
            r#"
            [topic_defaults]
            "retention.ms" = 604800000
            "cleanup.policy" = "compact"
            "min.cleanable.dirty.ratio" = 0.5
            "unclean.leader.election.enable" = false
            "retention.bytes" = -1
            "#,
        )
        .unwrap();
        let defaults = raw.topic_defaults.unwrap();
        let text = |k: &str| defaults.get(k).map(|s| s.0.as_str());
        assert_eq!(text("retention.ms"), Some("604800000"));
        assert_eq!(text("cleanup.policy"), Some("compact"));
        assert_eq!(text("min.cleanable.dirty.ratio"), Some("0.5"));
        assert_eq!(text("unclean.leader.election.enable"), Some("false"));
        assert_eq!(text("retention.bytes"), Some("-1"));
    }

    #[test]
    fn scalars_reject_tables_and_arrays() {
        let err = toml::from_str::<RawConfig>("shutdown_timeout = [1, 2]").unwrap_err();
        assert!(
            err.to_string()
                .contains("a string, integer, float or boolean"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<RawConfig>("num_partition = 3").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `num_partition`"),
            "{err}"
        );
        let err = toml::from_str::<RawConfig>("[limits]\nmax_body = 1").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `max_body`"),
            "{err}"
        );
    }
}
