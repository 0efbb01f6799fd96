//! Built-in defaults: the configuration of `runnel serve` with no file, variables or flags.
//!
//! Each constant says why it has its value. `runnel.example.toml` shows the same values, and a
//! test in `config/mod.rs` checks the two agree.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::{ByteSize, Config, HttpLimits, LogFormat};

/// Loopback only, so a fresh install is not reachable from the network until asked to be.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
/// Relative to the working directory, matching the single-node quick start.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// Kafka numbers brokers from 0 or 1 by convention; a single node needs no choice. Zero is
/// refused: Raft (openraft) and Kafka's `-1` both treat small ids specially enough that a
/// positive id avoids surprises.
pub const DEFAULT_NODE_ID: u32 = 1;
/// Kafka's `broker.session.timeout.ms` default.
pub const DEFAULT_BROKER_SESSION_TIMEOUT: Duration = Duration::from_secs(9);
/// Kafka's `broker.heartbeat.interval.ms` default.
pub const DEFAULT_BROKER_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);
/// Kafka's `num.partitions` default.
pub const DEFAULT_NUM_PARTITIONS: u32 = 1;
/// `flush.ms` and retention are honoured to within this; each check only reads in-memory state.
pub const DEFAULT_LOG_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// Kafka's `log.flush.offset.checkpoint.interval.ms`. Bounds how much log recovery re-scans.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);
/// How long in-flight requests may drain after SIGTERM. Keep it below the supervisor's kill
/// timeout (systemd 90s, Kubernetes 30s grace) so the final flush and checkpoint still run.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Confluent REST Proxy's `consumer.instance.timeout.ms` default: five minutes.
pub const DEFAULT_CONSUMER_INSTANCE_TIMEOUT: Duration =
    crate::group::instances::DEFAULT_INSTANCE_TIMEOUT;
/// Room for a large produce batch; bounds memory per request, times `max_concurrent_requests`.
pub const DEFAULT_MAX_REQUEST_BODY: ByteSize = ByteSize(64 * ByteSize::MIB);
/// In-flight requests across all connections; more are refused with 429.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 1024;
/// Records in one produce request: bounds the work one request can queue.
pub const DEFAULT_MAX_RECORDS_PER_REQUEST: usize = 100_000;
/// A client that takes longer to send its headers is dropped (slowloris).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Keep-alive connections with no request for this long are closed, and so are connections
/// whose client leaves an answer unread this long (it pins the answer's memory).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Open WebSocket connections; more are refused with 429. Each holds a task, two socket
/// buffers and up to a consume round (1 MiB) or `ws_max_in_flight` produce messages.
pub const DEFAULT_WS_MAX_CONNECTIONS: usize = 1024;
/// Largest WebSocket message (and frame) from a client: one record of the default
/// `max.message.bytes` (1 MiB) in base64 (4/3) with its JSON around it. The library default,
/// 64 MiB, would let each socket make the server buffer that much.
pub const DEFAULT_WS_MAX_MESSAGE_SIZE: ByteSize = ByteSize(2 * ByteSize::MIB);
/// Produce messages a socket may have read and not yet acknowledged: enough to keep the
/// group-commit appenders busy, bounded so one socket holds at most this many messages.
pub const DEFAULT_WS_MAX_IN_FLIGHT: usize = 64;
/// A third of `idle_timeout`: pongs are reads, so a receive-only socket stays alive.
pub const DEFAULT_WS_PING_INTERVAL: Duration = Duration::from_secs(20);
/// A client silent this long after a ping (or not reading our writes) is gone.
pub const DEFAULT_WS_PONG_TIMEOUT: Duration = Duration::from_secs(20);

/// Long-polls parked at once. A parked poll holds a connection and a small task, not a request
/// slot; this bounds them well above `max_concurrent_requests` (mind the open-file limit).
pub const DEFAULT_MAX_WAITING_POLLS: usize = 8192;
/// Apache's `RequestReadTimeout body=20`: every body gets this long before the rate applies.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(20);
/// Apache's `MinRate=500`: past the grace time, each 500 bytes buy one more second. A body
/// trickled slower holds a request slot for nothing.
pub const DEFAULT_MIN_BODY_RATE: ByteSize = ByteSize(500);
/// What in-flight read responses may hold together: four reads of `fetch_max_bytes`, or
/// hundreds of Kafka-default 1 MiB reads, on a small machine.
pub const DEFAULT_READ_MEMORY: ByteSize = ByteSize(256 * ByteSize::MIB);
/// Kafka's broker default `fetch.max.bytes` (57671680): the most one read answers.
pub const DEFAULT_FETCH_MAX_BYTES: ByteSize = ByteSize(55 * ByteSize::MIB);

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_request_body: DEFAULT_MAX_REQUEST_BODY,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_records_per_request: DEFAULT_MAX_RECORDS_PER_REQUEST,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            ws_max_connections: DEFAULT_WS_MAX_CONNECTIONS,
            ws_max_message_size: DEFAULT_WS_MAX_MESSAGE_SIZE,
            ws_max_in_flight: DEFAULT_WS_MAX_IN_FLIGHT,
            ws_ping_interval: DEFAULT_WS_PING_INTERVAL,
            ws_pong_timeout: DEFAULT_WS_PONG_TIMEOUT,
            max_waiting_polls: DEFAULT_MAX_WAITING_POLLS,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            min_body_rate: DEFAULT_MIN_BODY_RATE,
            read_memory: DEFAULT_READ_MEMORY,
            fetch_max_bytes: DEFAULT_FETCH_MAX_BYTES,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            listen: DEFAULT_LISTEN,
            public_url: None,
            node_id: DEFAULT_NODE_ID,
            cluster_listen: None,
            peers: BTreeMap::new(),
            join: None,
            broker_session_timeout: DEFAULT_BROKER_SESSION_TIMEOUT,
            broker_heartbeat_interval: DEFAULT_BROKER_HEARTBEAT_INTERVAL,
            log_format: LogFormat::default(),
            num_partitions: DEFAULT_NUM_PARTITIONS,
            topic_defaults: BTreeMap::new(),
            flush_scheduler_interval: DEFAULT_LOG_CHECK_INTERVAL,
            recovery_point_checkpoint_interval: DEFAULT_CHECKPOINT_INTERVAL,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            consumer_instance_timeout: DEFAULT_CONSUMER_INSTANCE_TIMEOUT,
            schema_compatibility_level: runnel_schema_registry::compat::Level::default(),
            limits: HttpLimits::default(),
            unrecognized_env: Vec::new(),
        }
    }
}
