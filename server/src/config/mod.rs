//! Broker configuration: built-in defaults, overlaid by a TOML file, `RUNNEL_*` environment
//! variables and `runnel serve` flags, in that order, then validated into [`Config`].
//!
//! Two stages, as ripgrep's `lowargs` → `hiargs`: [`raw::RawConfig`] is the file as written (all
//! `Option`s, unknown keys rejected); [`Config`] holds checked, typed values (`SocketAddr`,
//! `Duration`, [`ByteSize`]). Every layer's values, file, environment or flag, go through the
//! same per-key parser, so a bad value is reported the same way wherever it came from, naming
//! its [`Origin`] (file and key, variable, or flag) and the offending text.
//!
//! Files: `raw.rs` (the file as written), `defaults.rs` (built-in values and why),
//! `validate.rs` (per-key parsing and checks), `units.rs` (`"64 MiB"`, `"7d"`); this file
//! holds the typed [`Config`], the layer order and the effective-config printout.
//!
//! Environment variables are `RUNNEL_` plus the TOML key in upper snake case, with a table's
//! name as prefix: `num_partitions` → `RUNNEL_NUM_PARTITIONS`, `limits.max_request_body` →
//! `RUNNEL_LIMITS_MAX_REQUEST_BODY`. Topic defaults use `RUNNEL_TOPIC_DEFAULTS_` plus the Kafka
//! name with dots as underscores (`RUNNEL_TOPIC_DEFAULTS_RETENTION_MS` → `retention.ms`), as
//! Confluent's images map `KAFKA_*`. `RUNNEL_CONFIG` names the file and is read by clap.
//!
//! The log filter is not configured here: `main` reads `RUST_LOG` (default `info`).
//!
//! Not owned here: the names and values of `[topic_defaults]` are Kafka topic configs, checked
//! by `broker::topic_config` together with per-topic overrides; this module only collects them.

pub mod defaults;
mod flags;
pub mod raw;
pub mod units;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

pub use flags::ServeArgs;

/// The variable that supplies `--url` to the client subcommands: among the `RUNNEL_*`
/// variables, but not the server's, so `serve`'s configuration ignores it.
pub const ENV_URL: &str = "RUNNEL_URL";
pub use raw::{RawConfig, RawLimits, Scalar};
pub use units::{ByteSize, UnitError, format_duration, parse_duration};
pub use validate::ValueError;
use validate::{ENV_PREFIX, Key};

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// The name used in config files, variables and flags.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogFormat {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(ValueError::LogFormat),
        }
    }
}

/// The validated broker configuration. Build it with [`Config::load`].
///
/// `Display` prints the effective configuration as TOML that [`Config::load`] accepts, with
/// secrets redacted, for the startup log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Root of all on-disk state: topic logs, checkpoints, cluster metadata.
    pub data_dir: PathBuf,
    /// Address the HTTP gateway binds.
    pub listen: SocketAddr,
    /// Base URL put in links handed to clients (v3 `metadata.self`, v2 consumer `base_uri`),
    /// without a trailing slash. `None` derives it from `listen`; see [`Config::public_url`].
    pub public_url: Option<String>,
    /// This broker's id, also its id in the metadata quorum (KRaft's `node.id`).
    pub node_id: u32,
    /// Address of the cluster port (Raft and broker-to-broker traffic). `None`: a single node
    /// with no cluster port.
    pub cluster_listen: Option<SocketAddr>,
    /// The metadata quorum's voters by node id, each at its cluster address; empty for a
    /// single node (a one-voter quorum).
    pub peers: BTreeMap<u32, String>,
    /// The cluster port of a broker of a running cluster this one joins as a non-voting
    /// member (a Raft learner); `None` for a voter or a single node.
    pub join: Option<String>,
    /// A broker whose heartbeats stop for this long is fenced by the controller.
    pub broker_session_timeout: Duration,
    /// How often a broker heartbeats the controller.
    pub broker_heartbeat_interval: Duration,
    /// Text or JSON log lines.
    pub log_format: LogFormat,
    /// Kafka's `num.partitions`: partitions of a topic created without a count.
    pub num_partitions: u32,
    /// Broker-level topic-config defaults under Kafka's names (`retention.ms` → `"604800000"`).
    /// Unchecked here; `broker::topic_config` validates names and values.
    pub topic_defaults: BTreeMap<String, String>,
    /// How often the log manager checks `flush.ms` and retention (TOML `log_check_interval`).
    pub flush_scheduler_interval: Duration,
    /// How often recovery points are written (TOML `checkpoint_interval`).
    pub recovery_point_checkpoint_interval: Duration,
    /// How long graceful shutdown waits for in-flight requests. Zero stops without waiting.
    pub shutdown_timeout: Duration,
    /// A v2 consumer instance without a request for this long is destroyed and leaves its
    /// group (Confluent's `consumer.instance.timeout.ms`).
    pub consumer_instance_timeout: Duration,
    /// The schema registry's compatibility level where neither the subject nor `PUT /config`
    /// sets one (Confluent's `schema.compatibility.level`).
    pub schema_compatibility_level: runnel_schema_registry::compat::Level,
    /// Bounds on the HTTP gateway.
    pub limits: HttpLimits,
    /// `RUNNEL_*` variables that matched no setting. `main` warns about each, because a
    /// misspelt variable otherwise does nothing. Not part of the effective configuration.
    pub unrecognized_env: Vec<String>,
}

/// Bounds on the HTTP gateway, from the `[limits]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest request body accepted; larger ones get 413.
    pub max_request_body: ByteSize,
    /// Requests served at once across all connections.
    pub max_concurrent_requests: usize,
    /// Records one produce request may carry; more get 413.
    pub max_records_per_request: usize,
    /// Time allowed for a client to send a request's headers.
    pub header_read_timeout: Duration,
    /// Idle keep-alive connections are closed after this, and so are connections whose client
    /// leaves an answer unread this long.
    pub idle_timeout: Duration,
    /// Open WebSocket connections; more upgrades get 429.
    pub ws_max_connections: usize,
    /// Largest WebSocket message or frame a client may send; larger ones close with 1009.
    pub ws_max_message_size: ByteSize,
    /// Produce messages one WebSocket may have unacknowledged before it is no longer read.
    pub ws_max_in_flight: usize,
    /// How often the server pings each WebSocket; kept below `idle_timeout` by the gateway.
    pub ws_ping_interval: Duration,
    /// A WebSocket silent this long after a ping, or blocking our writes, is closed.
    pub ws_pong_timeout: Duration,
    /// Long-polls (reads waiting for records) parked at once, counted apart from
    /// `max_concurrent_requests`; more get 429.
    pub max_waiting_polls: usize,
    /// Time every request body gets before `min_body_rate` applies (Apache's
    /// `RequestReadTimeout body=`).
    pub body_read_timeout: Duration,
    /// Bytes per second a body must keep up past `body_read_timeout`; a slower client gets 408
    /// and is disconnected (Apache's `MinRate`).
    pub min_body_rate: ByteSize,
    /// Memory all in-flight read responses may hold together.
    pub read_memory: ByteSize,
    /// Most bytes one read answers, whatever its `max_bytes` (Kafka's `fetch.max.bytes`).
    pub fetch_max_bytes: ByteSize,
}

/// Where a configuration value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A key in the config file, dotted for tables (`limits.idle_timeout`).
    File { path: PathBuf, key: &'static str },
    /// An environment variable.
    Env { var: String },
    /// A `runnel serve` flag.
    Flag { flag: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, key } => write!(f, "`{key}` in {}", path.display()),
            Origin::Env { var } => write!(f, "environment variable {var}"),
            Origin::Flag { flag } => write!(f, "flag {flag}"),
        }
    }
}

/// Configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, a wrong TOML type, or an unknown key; the source names line and key.
    #[error("invalid config file {}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("invalid value {value:?} for {origin}")]
    InvalidValue {
        origin: Origin,
        value: String,
        #[source]
        reason: ValueError,
    },
    /// Settings that are valid one by one but not together.
    #[error("{0}")]
    Inconsistent(String),
}

const ENV_TOPIC_DEFAULTS_PREFIX: &str = "RUNNEL_TOPIC_DEFAULTS_";
/// Read by clap for `--config`, so not a setting of its own.
const ENV_CONFIG_FILE: &str = "RUNNEL_CONFIG";

/// Which overlay a value is being applied from.
#[derive(Debug, Clone, Copy)]
enum Layer<'a> {
    File(&'a Path),
    Env,
    Flag,
}

impl Layer<'_> {
    fn origin(self, key: Key) -> Origin {
        match self {
            Layer::File(path) => Origin::File {
                path: path.to_owned(),
                key: key.toml_key(),
            },
            Layer::Env => Origin::Env { var: key.env_var() },
            Layer::Flag => Origin::Flag {
                flag: format!("--{}", key.toml_key().replace('_', "-")),
            },
        }
    }
}

/// The process environment for [`Config::load`]. Unlike `std::env::vars` it doesn't panic on
/// non-UTF-8 variables; their text is converted lossily, so a bad `RUNNEL_*` value is reported.
pub fn process_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().map(|(k, v)| {
        (
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        )
    })
}

impl Config {
    /// Builds the configuration from defaults, the TOML `file` if given, `RUNNEL_*` entries of
    /// `env`, and the flags in `cli`, each overriding the one before.
    ///
    /// `env` is passed in so tests can use a fake environment; `main` passes [`process_env`].
    /// `cli.config` is ignored: the caller decides which file to read.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Read`] or [`ConfigError::Parse`] for an unreadable file, bad TOML or an
    /// unknown key; [`ConfigError::InvalidValue`] for a value that fails validation.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
        cli: &ServeArgs,
    ) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let raw: RawConfig = toml::from_str(&text).map_err(|source| ConfigError::Parse {
                path: path.to_owned(),
                source: Box::new(source),
            })?;
            config.apply_file(path, raw)?;
        }
        config.apply_env(env)?;
        config.apply_flags(cli)?;
        config.check_cluster()?;
        Ok(config)
    }

    /// A broker with peers needs a cluster port and must be one of them; the heartbeat must
    /// come well within the session timeout.
    fn check_cluster(&self) -> Result<(), ConfigError> {
        if self.join.is_some() {
            if !self.peers.is_empty() {
                return Err(ConfigError::Inconsistent(
                    "join and peers exclude each other: voters list the peers, a broker that                      joins a running cluster names one broker of it"
                        .into(),
                ));
            }
            if self.cluster_listen.is_none() {
                return Err(ConfigError::Inconsistent(
                    "join is set but cluster_listen is not: the cluster reaches a joining                      broker at its cluster port (--cluster-listen IP:PORT)"
                        .into(),
                ));
            }
        }
        if !self.peers.is_empty() {
            if self.cluster_listen.is_none() {
                return Err(ConfigError::Inconsistent(
                    "peers are set but cluster_listen is not: the quorum needs this broker's \
                     cluster port (--cluster-listen IP:PORT)"
                        .into(),
                ));
            }
            if !self.peers.contains_key(&self.node_id) {
                return Err(ConfigError::Inconsistent(format!(
                    "node_id {} is not among the peers ({}): a voter lists itself",
                    self.node_id,
                    self.peers
                        .keys()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        if self.broker_heartbeat_interval >= self.broker_session_timeout {
            return Err(ConfigError::Inconsistent(format!(
                "broker_heartbeat_interval ({}) must be shorter than broker_session_timeout ({})",
                format_duration(self.broker_heartbeat_interval),
                format_duration(self.broker_session_timeout)
            )));
        }
        Ok(())
    }

    /// The base URL for links to this broker: `public_url` if set, else `http://{listen}`.
    pub fn public_url(&self) -> String {
        self.public_url_for(self.listen)
    }

    /// Like [`Config::public_url`], but derives from `bound`, the address the listener
    /// actually got, which differs from `listen` when that asks for port 0.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => format!("http://{bound}"),
        }
    }

    /// The effective configuration as TOML, secrets redacted; same as `Display`.
    ///
    /// No setting is secret yet. When credentials arrive (auth tokens, TLS keys) they are
    /// written here as `"<redacted>"`.
    pub fn to_redacted_toml(&self) -> String {
        self.to_string()
    }

    fn apply_file(&mut self, path: &Path, raw: RawConfig) -> Result<(), ConfigError> {
        // Destructured without `..` so a new field in RawConfig fails to compile until handled.
        let RawConfig {
            data_dir,
            listen,
            public_url,
            node_id,
            cluster_listen,
            peers,
            join,
            broker_session_timeout,
            broker_heartbeat_interval,
            log_format,
            num_partitions,
            log_check_interval,
            checkpoint_interval,
            shutdown_timeout,
            consumer_instance_timeout,
            schema_compatibility_level,
            topic_defaults,
            limits,
        } = raw;
        let RawLimits {
            max_request_body,
            max_concurrent_requests,
            max_records_per_request,
            header_read_timeout,
            idle_timeout,
            ws_max_connections,
            ws_max_message_size,
            ws_max_in_flight,
            ws_ping_interval,
            ws_pong_timeout,
            max_waiting_polls,
            body_read_timeout,
            min_body_rate,
            read_memory,
            fetch_max_bytes,
        } = limits.unwrap_or_default();
        let values = [
            (
                Key::DataDir,
                data_dir.map(|p| p.to_string_lossy().into_owned()),
            ),
            (Key::Listen, listen),
            (Key::PublicUrl, public_url),
            (Key::NodeId, node_id.map(|n| n.to_string())),
            (Key::ClusterListen, cluster_listen),
            (Key::Peers, peers),
            (Key::Join, join),
            (
                Key::BrokerSessionTimeout,
                broker_session_timeout.map(|s| s.0),
            ),
            (
                Key::BrokerHeartbeatInterval,
                broker_heartbeat_interval.map(|s| s.0),
            ),
            (Key::LogFormat, log_format.map(|f| f.as_str().to_owned())),
            (Key::NumPartitions, num_partitions.map(|n| n.to_string())),
            (Key::LogCheckInterval, log_check_interval.map(|s| s.0)),
            (Key::CheckpointInterval, checkpoint_interval.map(|s| s.0)),
            (Key::ShutdownTimeout, shutdown_timeout.map(|s| s.0)),
            (
                Key::ConsumerInstanceTimeout,
                consumer_instance_timeout.map(|s| s.0),
            ),
            (
                Key::SchemaCompatibilityLevel,
                schema_compatibility_level.map(|s| s.0),
            ),
            (Key::MaxRequestBody, max_request_body.map(|s| s.0)),
            (
                Key::MaxConcurrentRequests,
                max_concurrent_requests.map(|n| n.to_string()),
            ),
            (
                Key::MaxRecordsPerRequest,
                max_records_per_request.map(|n| n.to_string()),
            ),
            (Key::HeaderReadTimeout, header_read_timeout.map(|s| s.0)),
            (Key::IdleTimeout, idle_timeout.map(|s| s.0)),
            (
                Key::WsMaxConnections,
                ws_max_connections.map(|n| n.to_string()),
            ),
            (Key::WsMaxMessageSize, ws_max_message_size.map(|s| s.0)),
            (Key::WsMaxInFlight, ws_max_in_flight.map(|n| n.to_string())),
            (Key::WsPingInterval, ws_ping_interval.map(|s| s.0)),
            (Key::WsPongTimeout, ws_pong_timeout.map(|s| s.0)),
            (
                Key::MaxWaitingPolls,
                max_waiting_polls.map(|n| n.to_string()),
            ),
            (Key::BodyReadTimeout, body_read_timeout.map(|s| s.0)),
            (Key::MinBodyRate, min_body_rate.map(|s| s.0)),
            (Key::ReadMemory, read_memory.map(|s| s.0)),
            (Key::FetchMaxBytes, fetch_max_bytes.map(|s| s.0)),
        ];
        for (key, value) in values {
            if let Some(value) = value {
                self.set(Layer::File(path), key, &value)?;
            }
        }
        for (name, value) in topic_defaults.unwrap_or_default() {
            self.topic_defaults.insert(name, value.0);
        }
        Ok(())
    }

    fn apply_env(
        &mut self,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        for (var, value) in env {
            if !var.starts_with(ENV_PREFIX) || var == ENV_CONFIG_FILE || var == ENV_URL {
                continue;
            }
            if let Some(name) = var
                .strip_prefix(ENV_TOPIC_DEFAULTS_PREFIX)
                .filter(|n| !n.is_empty())
            {
                // Kafka topic-config names are dotted lowercase words with no underscores.
                let name = name.to_ascii_lowercase().replace('_', ".");
                self.topic_defaults.insert(name, value);
                continue;
            }
            match Key::ALL.into_iter().find(|key| key.env_var() == var) {
                Some(key) => self.set(Layer::Env, key, &value)?,
                None => self.unrecognized_env.push(var),
            }
        }
        self.unrecognized_env.sort();
        Ok(())
    }

    fn apply_flags(&mut self, cli: &ServeArgs) -> Result<(), ConfigError> {
        // Destructured without `..` so a new flag fails to compile until it is overlaid here.
        let ServeArgs {
            config: _,
            data_dir,
            listen,
            public_url,
            node_id,
            cluster_listen,
            peers,
            join,
            log_format,
        } = cli;
        if let Some(dir) = data_dir {
            if dir.as_os_str().is_empty() {
                return Err(ConfigError::InvalidValue {
                    origin: Layer::Flag.origin(Key::DataDir),
                    value: String::new(),
                    reason: ValueError::Empty,
                });
            }
            // Set directly rather than through `set`: a path flag may not be UTF-8.
            self.data_dir.clone_from(dir);
        }
        if let Some(listen) = listen {
            self.listen = *listen;
        }
        if let Some(url) = public_url {
            self.set(Layer::Flag, Key::PublicUrl, url)?;
        }
        if let Some(id) = node_id {
            self.set(Layer::Flag, Key::NodeId, &id.to_string())?;
        }
        if let Some(addr) = cluster_listen {
            self.cluster_listen = Some(*addr);
        }
        if let Some(peers) = peers {
            self.set(Layer::Flag, Key::Peers, peers)?;
        }
        if let Some(join) = join {
            self.set(Layer::Flag, Key::Join, join)?;
        }
        if let Some(format) = log_format {
            self.log_format = *format;
        }
        Ok(())
    }

    /// Parses `value` for `key` and stores it, naming the value's origin on error.
    fn set(&mut self, layer: Layer<'_>, key: Key, value: &str) -> Result<(), ConfigError> {
        self.try_set(key, value)
            .map_err(|reason| ConfigError::InvalidValue {
                origin: layer.origin(key),
                value: value.to_owned(),
                reason,
            })
    }
}

/// Writes a TOML string, escaped.
fn toml_string(s: &str) -> toml::Value {
    toml::Value::String(s.to_owned())
}

/// Writes a TOML key, quoted unless it is a bare key (`retention.ms` needs quotes).
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        toml_string(key).to_string()
    }
}

impl fmt::Display for Config {
    /// The effective configuration as TOML; see [`Config::to_redacted_toml`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Config {
            data_dir,
            listen,
            public_url: _,
            node_id,
            cluster_listen,
            peers,
            join,
            broker_session_timeout,
            broker_heartbeat_interval,
            log_format,
            num_partitions,
            topic_defaults,
            flush_scheduler_interval,
            recovery_point_checkpoint_interval,
            shutdown_timeout,
            consumer_instance_timeout,
            schema_compatibility_level,
            limits,
            unrecognized_env: _,
        } = self;
        let duration = |d: &Duration| toml_string(&format_duration(*d));
        writeln!(f, "data_dir = {}", toml_string(&data_dir.to_string_lossy()))?;
        writeln!(f, "listen = {}", toml_string(&listen.to_string()))?;
        writeln!(f, "public_url = {}", toml_string(&self.public_url()))?;
        writeln!(f, "node_id = {node_id}")?;
        if let Some(addr) = cluster_listen {
            writeln!(f, "cluster_listen = {}", toml_string(&addr.to_string()))?;
        }
        let peers: Vec<String> = peers.iter().map(|(id, a)| format!("{id}@{a}")).collect();
        writeln!(f, "peers = {}", toml_string(&peers.join(",")))?;
        if let Some(join) = join {
            writeln!(f, "join = {}", toml_string(join))?;
        }
        writeln!(
            f,
            "broker_session_timeout = {}",
            duration(broker_session_timeout)
        )?;
        writeln!(
            f,
            "broker_heartbeat_interval = {}",
            duration(broker_heartbeat_interval)
        )?;
        writeln!(f, "log_format = {}", toml_string(log_format.as_str()))?;
        writeln!(f, "num_partitions = {num_partitions}")?;
        writeln!(
            f,
            "log_check_interval = {}",
            duration(flush_scheduler_interval)
        )?;
        writeln!(
            f,
            "checkpoint_interval = {}",
            duration(recovery_point_checkpoint_interval)
        )?;
        writeln!(f, "shutdown_timeout = {}", duration(shutdown_timeout))?;
        writeln!(
            f,
            "consumer_instance_timeout = {}",
            duration(consumer_instance_timeout)
        )?;
        writeln!(
            f,
            "schema_compatibility_level = {}",
            toml_string(schema_compatibility_level.as_str())
        )?;
        writeln!(f, "\n[limits]")?;
        writeln!(
            f,
            "max_request_body = {}",
            toml_string(&limits.max_request_body.to_string())
        )?;
        writeln!(
            f,
            "max_concurrent_requests = {}",
            limits.max_concurrent_requests
        )?;
        writeln!(
            f,
            "max_records_per_request = {}",
            limits.max_records_per_request
        )?;
        writeln!(
            f,
            "header_read_timeout = {}",
            duration(&limits.header_read_timeout)
        )?;
        writeln!(f, "idle_timeout = {}", duration(&limits.idle_timeout))?;
        writeln!(f, "ws_max_connections = {}", limits.ws_max_connections)?;
        writeln!(
            f,
            "ws_max_message_size = {}",
            toml_string(&limits.ws_max_message_size.to_string())
        )?;
        writeln!(f, "ws_max_in_flight = {}", limits.ws_max_in_flight)?;
        writeln!(
            f,
            "ws_ping_interval = {}",
            duration(&limits.ws_ping_interval)
        )?;
        writeln!(f, "ws_pong_timeout = {}", duration(&limits.ws_pong_timeout))?;
        writeln!(f, "max_waiting_polls = {}", limits.max_waiting_polls)?;
        writeln!(
            f,
            "body_read_timeout = {}",
            duration(&limits.body_read_timeout)
        )?;
        for (key, size) in [
            ("min_body_rate", limits.min_body_rate),
            ("read_memory", limits.read_memory),
            ("fetch_max_bytes", limits.fetch_max_bytes),
        ] {
            writeln!(f, "{key} = {}", toml_string(&size.to_string()))?;
        }
        writeln!(f, "\n[topic_defaults]")?;
        for (name, value) in topic_defaults {
            writeln!(f, "{} = {}", toml_key(name), toml_string(value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
