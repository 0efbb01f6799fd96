//! WebSocket endpoints (CONTRACTS.md §0 "WebSocket"): `GET /v1/ws/produce` and
//! `GET /v1/ws/consume` upgrade to a WebSocket on the gateway's one port.
//!
//! Everything that can be checked before the upgrade is: the query parameters, the topic and
//! partition, the start offsets of a consumer, and the connection limit. Those failures answer
//! as plain HTTP in Confluent's `{"error_code", "message"}` format (400, 404, 429), so a client
//! sees why it was refused without speaking WebSocket. After the upgrade, failures are error
//! frames followed by a close frame; see "Close codes".
//!
//! Each connection is one task that owns its socket and `select!`s over the client's messages,
//! its own work (acks to write, records to send), the heartbeat and server shutdown. One task
//! per socket keeps ordering trivial (acks in request order, frames in log order) and needs no
//! lock around the sink.
//!
//! # Limits
//! From `[limits]` (see [`WsLimits`]): at most `ws_max_connections` sockets (past it the upgrade
//! is refused with HTTP 429, code 42901); messages and frames larger than `ws_max_message_size`
//! close the socket with 1009; a produce socket has at most `ws_max_in_flight` messages
//! between reading and acknowledging (it stops reading past that, which is TCP backpressure);
//! a consume socket holds at most one round of records (≤ its credit, ≤ [`ROUND_BYTES`]) and
//! the socket's write buffer is capped. The server pings every `ws_ping_interval`; a client
//! that sends nothing (pong or message) within `ws_pong_timeout` of a ping is closed with 1011;
//! one that leaves a write blocked that long is dropped (a close frame would queue behind the
//! blocked bytes).
//!
//! The listener's idle timeout (`limits.idle_timeout`) also applies to upgraded sockets: it
//! fails a read after that long without a byte from the client. A tailing client only
//! receives, but its pongs are reads, so the ping interval is kept below the idle timeout
//! ([`WsLimits::from_config`] clamps it to half) and live sockets are never cut.
//!
//! # Close codes
//! - 1000 normal (the client closed first and we answer)
//! - 1001 going away: the server is shutting down
//! - 1003 unsupported data: a binary message where only text is understood (consume)
//! - 1008 policy violation: a message that is not JSON, has no or an unknown `type`, or misses
//!   a required field, after an error frame saying which
//! - 1009 message too big: larger than `limits.ws_max_message_size`
//! - 1011 no pong within `ws_pong_timeout`, or an internal error (a failed log read)
//! - 4000 + HTTP status for a request the client can fix, after an error frame with the
//!   Confluent code: 4400 (a bad credit, seek or commit), 4404 (an unknown partition, or the
//!   topic of a plain consume socket deleted, or deleted and created again), 4409 (a
//!   group socket removed from its group, or committing a partition it does not own), 4422 (a
//!   record that is not JSON in the json format)
//!
//! Consumer-group mode (`group=G`: the socket is a member) lives in `group.rs`.
//!
//! Not built yet: auth (`access_token`, `Origin` allow-list) comes with the rest of auth.

mod conn;
pub mod consume;
mod group;
pub mod produce;
mod round;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::state::AppState;
use crate::config::HttpLimits;

/// Bytes of records in one `records` frame before it is cut: large enough that a fast consumer
/// gets a few frames per megabyte, small enough that a browser parses one without stalling.
pub const FRAME_BYTES: usize = 256 << 10;
/// Bytes of frames built per round between two looks at the client's messages; one `flush`
/// per round. Bounds what a consume socket holds besides the socket buffer.
pub const ROUND_BYTES: usize = 1 << 20;
/// Largest credit one `credit` message (or `&credit=`) may grant.
pub const MAX_CREDIT_GRANT: u64 = 1_000_000_000;

/// WebSocket limits, from the `[limits]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsLimits {
    /// Open WebSocket connections; past it upgrades get HTTP 429.
    pub max_connections: usize,
    /// Largest message (and frame) read from a client.
    pub max_message_size: usize,
    /// Produce messages read but not yet acknowledged, per connection.
    pub max_in_flight: usize,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// How long a client may stay silent after a ping (or leave a write blocked).
    pub pong_timeout: Duration,
}

impl Default for WsLimits {
    fn default() -> Self {
        WsLimits::from_config(&HttpLimits::default())
    }
}

impl WsLimits {
    /// The WebSocket limits of a server configuration. The ping interval is clamped to half of
    /// `idle_timeout`, so pongs keep a receive-only socket from hitting the listener's idle
    /// timeout (see the module docs).
    pub fn from_config(limits: &HttpLimits) -> Self {
        let half_idle = limits.idle_timeout / 2;
        let ping_interval = if limits.ws_ping_interval > half_idle {
            tracing::warn!(
                ws_ping_interval = ?limits.ws_ping_interval,
                idle_timeout = ?limits.idle_timeout,
                "limits.ws_ping_interval must be below half of limits.idle_timeout; using half of idle_timeout"
            );
            half_idle.max(Duration::from_millis(10))
        } else {
            limits.ws_ping_interval
        };
        WsLimits {
            max_connections: limits.ws_max_connections,
            max_message_size: usize::try_from(limits.ws_max_message_size.as_u64())
                .unwrap_or(usize::MAX),
            max_in_flight: limits.ws_max_in_flight,
            ping_interval,
            pong_timeout: limits.ws_pong_timeout,
        }
    }
}

/// Counters of one [`WsRuntime`], for tests and diagnostics.
#[derive(Debug, Default)]
pub struct WsStats {
    /// Records encoded into `records` frames and not yet flushed to a socket, over all
    /// consume sockets.
    pub buffered_records: AtomicU64,
    /// The highest `buffered_records` seen.
    pub buffered_records_peak: AtomicU64,
    /// Records sent in `records` frames.
    pub records_sent: AtomicU64,
    /// Produce messages acknowledged (ack or error frame).
    pub produce_replies: AtomicU64,
}

impl WsStats {
    fn buffered(&self, n: u64) {
        let now = self.buffered_records.fetch_add(n, Ordering::Relaxed) + n;
        self.buffered_records_peak.fetch_max(now, Ordering::Relaxed);
    }

    fn flushed(&self, n: u64) {
        self.buffered_records.fetch_sub(n, Ordering::Relaxed);
        self.records_sent.fetch_add(n, Ordering::Relaxed);
    }
}

/// What every WebSocket connection of one server shares: limits, the connection semaphore,
/// the shutdown signal and the tracker that lets shutdown wait for sockets to close.
///
/// `serve` installs one built from the config as an `Extension` over the whole router; a
/// router without one (tests driving `gateway::router` directly) uses its own default, so
/// the limits are always explicit.
#[derive(Debug, Clone)]
pub struct WsRuntime {
    inner: Arc<RuntimeInner>,
}

#[derive(Debug)]
struct RuntimeInner {
    limits: WsLimits,
    connections: Arc<Semaphore>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    stats: WsStats,
}

impl WsRuntime {
    /// A runtime whose sockets close with 1001 when `shutdown` is cancelled.
    pub fn new(limits: WsLimits, shutdown: CancellationToken) -> Self {
        WsRuntime {
            inner: Arc::new(RuntimeInner {
                limits,
                connections: Arc::new(Semaphore::new(limits.max_connections)),
                shutdown,
                tasks: TaskTracker::new(),
                stats: WsStats::default(),
            }),
        }
    }

    pub fn limits(&self) -> &WsLimits {
        &self.inner.limits
    }

    pub fn stats(&self) -> &WsStats {
        &self.inner.stats
    }

    /// Open WebSocket connections.
    pub fn open_connections(&self) -> usize {
        self.inner.limits.max_connections - self.inner.connections.available_permits()
    }

    /// A connection slot, or `None` at `max_connections`.
    fn try_connect(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.inner.connections).try_acquire_owned().ok()
    }

    /// Waits up to `timeout` for every socket to finish closing (after shutdown was
    /// cancelled), so the logs close after the last produce on them.
    pub async fn drain(&self, timeout: Duration) {
        self.inner.tasks.close();
        if tokio::time::timeout(timeout, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(timeout = ?timeout, "WebSocket connections still open at the drain deadline");
        }
    }
}

/// Routes of the WebSocket endpoints.
pub fn routes() -> Router<AppState> {
    let fallback = WsRuntime::new(WsLimits::default(), CancellationToken::new());
    Router::new()
        .route("/v1/ws/produce", get(produce::upgrade))
        .route("/v1/ws/consume", get(consume::upgrade))
        .layer(axum::middleware::map_request(move |mut req: Request| {
            let fallback = fallback.clone();
            async move {
                if req.extensions().get::<WsRuntime>().is_none() {
                    req.extensions_mut().insert(fallback);
                }
                req
            }
        }))
}

/// Caps tungstenite's write buffer: what a socket may hold when the peer reads slowly. A consume
/// round is at most [`ROUND_BYTES`] plus one record, so this is a backstop for records near a
/// topic's `max.message.bytes`, not a size any socket normally reaches.
const MAX_WRITE_BUFFER: usize = 64 << 20;
/// Bytes read from the socket at a time.
const READ_BUFFER: usize = 32 << 10;
/// Outgoing bytes gathered before they are written to the socket (a `flush` writes them all).
const WRITE_BUFFER: usize = 64 << 10;

/// Parses the query string into `T`, failing in Confluent's format.
fn query<T: serde::de::DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, super::GatewayError> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| super::GatewayError::BadRequest(e.body_text()))
}

/// Takes a connection slot and configures the upgrade with the explicit limits, or refuses:
/// HTTP 429 (42901) past `max_connections`, 400 when the request is not a WebSocket upgrade.
fn accept(
    rt: &WsRuntime,
    upgrade: Result<
        axum::extract::ws::WebSocketUpgrade,
        axum::extract::ws::rejection::WebSocketUpgradeRejection,
    >,
) -> Result<
    (axum::extract::ws::WebSocketUpgrade, OwnedSemaphorePermit),
    Box<axum::response::Response>,
> {
    use axum::response::IntoResponse as _;
    let upgrade = upgrade
        .map_err(|r| {
            super::GatewayError::BadRequest(format!(
                "This endpoint needs a WebSocket upgrade: {}",
                r.body_text()
            ))
            .into_response()
        })
        .map_err(Box::new)?;
    let Some(permit) = rt.try_connect() else {
        tracing::debug!(
            limit = rt.limits().max_connections,
            "refusing a WebSocket: at the connection limit"
        );
        return Err(Box::new(
            (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            axum::Json(super::errors::ErrorBody {
                error_code: 42901,
                message: format!(
                    "Too many WebSocket connections (limits.ws_max_connections = {}); retry later.",
                    rt.limits().max_connections
                ),
            }),
        )
            .into_response(),
        ));
    };
    let limits = rt.limits();
    let upgrade = upgrade
        .max_message_size(limits.max_message_size)
        .max_frame_size(limits.max_message_size)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER.max(WRITE_BUFFER + 1));
    Ok((upgrade, permit))
}

impl WsRuntime {
    /// Runs a connection's task, holding its slot until it ends; shutdown waits for it.
    fn spawn_connection<F>(
        &self,
        upgrade: axum::extract::ws::WebSocketUpgrade,
        permit: OwnedSemaphorePermit,
        run: impl FnOnce(axum::extract::ws::WebSocket) -> F + Send + 'static,
    ) -> axum::response::Response
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let tasks = self.inner.tasks.clone();
        upgrade.on_upgrade(move |socket| {
            tasks.track_future(async move {
                run(socket).await;
                drop(permit);
            })
        })
    }

    fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }
}
