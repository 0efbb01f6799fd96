//! Second stage of loading: one setting's text (from the file, a variable or a flag) parsed
//! and checked into its typed field of [`Config`].
//!
//! Every layer goes through [`Config::try_set`], so `"0"` is rejected the same way whether it
//! came from `num_partitions = 0`, `RUNNEL_NUM_PARTITIONS=0` or a flag; the caller wraps the
//! [`ValueError`] with the value's origin. [`Key`] lists the scalar settings and derives their
//! TOML key, environment variable and flag names, so the three can't drift apart.
//!
//! Not owned here: reading the layers or their order (`mod.rs`); unit syntax (`units.rs`).

use std::collections::BTreeMap;
use std::net::AddrParseError;
use std::num::ParseIntError;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::{ByteSize, Config, UnitError, parse_duration};

/// Prefix of every environment variable the configuration reads.
pub(super) const ENV_PREFIX: &str = "RUNNEL_";

/// Why one setting's value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    #[error("expected IP:port, e.g. 127.0.0.1:8080 or [::]:8080")]
    SocketAddr(#[source] AddrParseError),
    #[error("expected a whole number")]
    Integer(#[source] ParseIntError),
    #[error(transparent)]
    Unit(#[from] UnitError),
    #[error("must be greater than zero")]
    Zero,
    #[error("must not be empty")]
    Empty,
    #[error("expected `text` or `json`")]
    LogFormat,
    #[error("expected ID@HOST:PORT[,ID@HOST:PORT...] with distinct positive ids: {0}")]
    Peers(String),
    #[error("expected HOST:PORT, the cluster port of a broker of the cluster to join")]
    HostPort,
    #[error(
        "expected NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE"
    )]
    CompatibilityLevel,
    #[error("must be an http:// or https:// URL with a host")]
    UrlScheme,
    #[error("must not contain credentials: it is sent to clients in links")]
    UrlCredentials,
    #[error("must not contain whitespace, `?` or `#`: request paths are appended to it")]
    UrlCharacters,
}

/// One scalar setting: its TOML key, and through that its variable and flag names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    DataDir,
    Listen,
    PublicUrl,
    NodeId,
    ClusterListen,
    Peers,
    Join,
    BrokerSessionTimeout,
    BrokerHeartbeatInterval,
    LogFormat,
    NumPartitions,
    LogCheckInterval,
    CheckpointInterval,
    ShutdownTimeout,
    ConsumerInstanceTimeout,
    SchemaCompatibilityLevel,
    MaxRequestBody,
    MaxConcurrentRequests,
    MaxRecordsPerRequest,
    HeaderReadTimeout,
    IdleTimeout,
    WsMaxConnections,
    WsMaxMessageSize,
    WsMaxInFlight,
    WsPingInterval,
    WsPongTimeout,
    MaxWaitingPolls,
    BodyReadTimeout,
    MinBodyRate,
    ReadMemory,
    FetchMaxBytes,
}

impl Key {
    pub(super) const ALL: [Key; 31] = [
        Key::DataDir,
        Key::Listen,
        Key::PublicUrl,
        Key::NodeId,
        Key::ClusterListen,
        Key::Peers,
        Key::Join,
        Key::BrokerSessionTimeout,
        Key::BrokerHeartbeatInterval,
        Key::LogFormat,
        Key::NumPartitions,
        Key::LogCheckInterval,
        Key::CheckpointInterval,
        Key::ShutdownTimeout,
        Key::ConsumerInstanceTimeout,
        Key::SchemaCompatibilityLevel,
        Key::MaxRequestBody,
        Key::MaxConcurrentRequests,
        Key::MaxRecordsPerRequest,
        Key::HeaderReadTimeout,
        Key::IdleTimeout,
        Key::WsMaxConnections,
        Key::WsMaxMessageSize,
        Key::WsMaxInFlight,
        Key::WsPingInterval,
        Key::WsPongTimeout,
        Key::MaxWaitingPolls,
        Key::BodyReadTimeout,
        Key::MinBodyRate,
        Key::ReadMemory,
        Key::FetchMaxBytes,
    ];

    pub(super) const fn toml_key(self) -> &'static str {
        match self {
            Key::DataDir => "data_dir",
            Key::Listen => "listen",
            Key::PublicUrl => "public_url",
            Key::NodeId => "node_id",
            Key::ClusterListen => "cluster_listen",
            Key::Peers => "peers",
            Key::Join => "join",
            Key::BrokerSessionTimeout => "broker_session_timeout",
            Key::BrokerHeartbeatInterval => "broker_heartbeat_interval",
            Key::LogFormat => "log_format",
            Key::NumPartitions => "num_partitions",
            Key::LogCheckInterval => "log_check_interval",
            Key::CheckpointInterval => "checkpoint_interval",
            Key::ShutdownTimeout => "shutdown_timeout",
            Key::ConsumerInstanceTimeout => "consumer_instance_timeout",
            Key::SchemaCompatibilityLevel => "schema_compatibility_level",
            Key::MaxRequestBody => "limits.max_request_body",
            Key::MaxConcurrentRequests => "limits.max_concurrent_requests",
            Key::MaxRecordsPerRequest => "limits.max_records_per_request",
            Key::HeaderReadTimeout => "limits.header_read_timeout",
            Key::IdleTimeout => "limits.idle_timeout",
            Key::WsMaxConnections => "limits.ws_max_connections",
            Key::WsMaxMessageSize => "limits.ws_max_message_size",
            Key::WsMaxInFlight => "limits.ws_max_in_flight",
            Key::WsPingInterval => "limits.ws_ping_interval",
            Key::WsPongTimeout => "limits.ws_pong_timeout",
            Key::MaxWaitingPolls => "limits.max_waiting_polls",
            Key::BodyReadTimeout => "limits.body_read_timeout",
            Key::MinBodyRate => "limits.min_body_rate",
            Key::ReadMemory => "limits.read_memory",
            Key::FetchMaxBytes => "limits.fetch_max_bytes",
        }
    }

    pub(super) fn env_var(self) -> String {
        format!(
            "{ENV_PREFIX}{}",
            self.toml_key().to_ascii_uppercase().replace('.', "_")
        )
    }
}

impl Config {
    /// Parses `value` for `key` and stores it in its field.
    pub(super) fn try_set(&mut self, key: Key, value: &str) -> Result<(), ValueError> {
        match key {
            Key::DataDir if value.is_empty() => return Err(ValueError::Empty),
            Key::DataDir => self.data_dir = PathBuf::from(value),
            Key::Listen => self.listen = value.trim().parse().map_err(ValueError::SocketAddr)?,
            Key::PublicUrl => self.public_url = Some(normalize_public_url(value)?),
            Key::NodeId => self.node_id = nonzero(parse_integer(value)?)?,
            Key::ClusterListen => {
                self.cluster_listen = Some(value.trim().parse().map_err(ValueError::SocketAddr)?);
            }
            Key::Peers => self.peers = parse_peers(value)?,
            Key::Join => self.join = Some(parse_host_port(value)?),
            Key::BrokerSessionTimeout => self.broker_session_timeout = nonzero_duration(value)?,
            Key::BrokerHeartbeatInterval => {
                self.broker_heartbeat_interval = nonzero_duration(value)?;
            }
            Key::LogFormat => self.log_format = value.parse()?,
            Key::NumPartitions => self.num_partitions = nonzero(parse_integer(value)?)?,
            Key::LogCheckInterval => self.flush_scheduler_interval = nonzero_duration(value)?,
            Key::CheckpointInterval => {
                self.recovery_point_checkpoint_interval = nonzero_duration(value)?;
            }
            Key::ShutdownTimeout => self.shutdown_timeout = parse_duration(value)?,
            Key::ConsumerInstanceTimeout => {
                self.consumer_instance_timeout = nonzero_duration(value)?;
            }
            Key::SchemaCompatibilityLevel => {
                self.schema_compatibility_level =
                    value.parse().map_err(|_| ValueError::CompatibilityLevel)?;
            }
            Key::MaxRequestBody => {
                let size: ByteSize = value.parse()?;
                self.limits.max_request_body = ByteSize(nonzero(size.as_u64())?);
            }
            Key::MaxConcurrentRequests => {
                self.limits.max_concurrent_requests = nonzero(parse_integer(value)?)?;
            }
            Key::MaxRecordsPerRequest => {
                self.limits.max_records_per_request = nonzero(parse_integer(value)?)?;
            }
            Key::HeaderReadTimeout => self.limits.header_read_timeout = nonzero_duration(value)?,
            Key::IdleTimeout => self.limits.idle_timeout = nonzero_duration(value)?,
            Key::WsMaxConnections => {
                self.limits.ws_max_connections = nonzero(parse_integer(value)?)?;
            }
            Key::WsMaxMessageSize => {
                let size: ByteSize = value.parse()?;
                self.limits.ws_max_message_size = ByteSize(nonzero(size.as_u64())?);
            }
            Key::WsMaxInFlight => {
                self.limits.ws_max_in_flight = nonzero(parse_integer(value)?)?;
            }
            Key::WsPingInterval => self.limits.ws_ping_interval = nonzero_duration(value)?,
            Key::WsPongTimeout => self.limits.ws_pong_timeout = nonzero_duration(value)?,
            Key::MaxWaitingPolls => {
                self.limits.max_waiting_polls = nonzero(parse_integer(value)?)?;
            }
            Key::BodyReadTimeout => self.limits.body_read_timeout = nonzero_duration(value)?,
            Key::MinBodyRate => self.limits.min_body_rate = nonzero_size(value)?,
            Key::ReadMemory => self.limits.read_memory = nonzero_size(value)?,
            Key::FetchMaxBytes => self.limits.fetch_max_bytes = nonzero_size(value)?,
        }
        Ok(())
    }
}

fn parse_integer<T: FromStr<Err = ParseIntError>>(value: &str) -> Result<T, ValueError> {
    value.trim().parse().map_err(ValueError::Integer)
}

fn nonzero<T: Default + PartialEq>(n: T) -> Result<T, ValueError> {
    if n == T::default() {
        Err(ValueError::Zero)
    } else {
        Ok(n)
    }
}

fn nonzero_size(value: &str) -> Result<ByteSize, ValueError> {
    let size: ByteSize = value.parse()?;
    Ok(ByteSize(nonzero(size.as_u64())?))
}

fn nonzero_duration(value: &str) -> Result<Duration, ValueError> {
    nonzero(parse_duration(value)?)
}

/// Parses `--peers`: `1@host:9093,2@host:9093`, ids distinct and positive, each address a
/// `HOST:PORT` (a name is allowed: peers resolve each other when they connect). Empty text is
/// no peers (a single node).
fn parse_peers(value: &str) -> Result<BTreeMap<u32, String>, ValueError> {
    let mut peers = BTreeMap::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let bad = || ValueError::Peers(format!("{item:?}"));
        let (id, addr) = item.split_once('@').ok_or_else(bad)?;
        let id: u32 = id.trim().parse().map_err(|_| bad())?;
        let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
        if id == 0 || host.is_empty() || port.parse::<u16>().is_err() {
            return Err(bad());
        }
        if peers.insert(id, addr.to_owned()).is_some() {
            return Err(ValueError::Peers(format!("node id {id} appears twice")));
        }
    }
    Ok(peers)
}

/// Parses `--join`: a `HOST:PORT` (a name is allowed, resolved when dialled).
fn parse_host_port(value: &str) -> Result<String, ValueError> {
    let value = value.trim();
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(value.to_owned())
        }
        _ => Err(ValueError::HostPort),
    }
}

/// Checks a `public_url` and strips trailing slashes, so callers can append `/v3/...`.
fn normalize_public_url(value: &str) -> Result<String, ValueError> {
    let url = value.trim().trim_end_matches('/');
    let lowercase = url.to_ascii_lowercase();
    let after_scheme = ["http://", "https://"]
        .into_iter()
        .find(|scheme| lowercase.starts_with(scheme))
        .and_then(|scheme| url.get(scheme.len()..))
        .ok_or(ValueError::UrlScheme)?;
    let authority = after_scheme.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(ValueError::UrlScheme);
    }
    if authority.contains('@') {
        return Err(ValueError::UrlCredentials);
    }
    if url.contains(|c: char| c.is_whitespace() || c.is_control() || c == '?' || c == '#') {
        return Err(ValueError::UrlCharacters);
    }
    Ok(url.to_owned())
}
