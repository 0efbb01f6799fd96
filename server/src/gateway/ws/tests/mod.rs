//! The WebSocket endpoints against a real server on `127.0.0.1:0` and real `tokio-tungstenite`
//! clients (issue 4, items 5–7): tails from every start position, credit flow control under a
//! producer that does not stop, a thousand tailing sockets, hostile input, pipelined produce
//! acks checked against the log, the connection limit, heartbeats and shutdown. This file holds
//! the harness; the tests are grouped by theme beside it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use super::{WsLimits, WsRuntime};
use crate::broker::appender::Sized;
use crate::broker::{Broker, BrokerConfig};
use crate::broker::{Header, NewRecord};
use crate::gateway::{self, AppState, Limits};
use crate::ws_binary::{self as binary, Reply};

mod connections;
mod consume;
mod group;
mod produce;

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Serialises the tests that measure the process (memory) or load it (a thousand sockets).
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const WAIT: Duration = Duration::from_secs(20);

fn test_limits() -> WsLimits {
    WsLimits {
        max_connections: 2048,
        max_message_size: 2 << 20,
        max_in_flight: 64,
        ping_interval: Duration::from_secs(20),
        pong_timeout: Duration::from_secs(20),
    }
}

struct Server {
    addr: SocketAddr,
    broker: Arc<Broker>,
    rt: WsRuntime,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A broker in a fresh directory behind the real router, served with `axum::serve`.
    async fn start(limits: WsLimits) -> Server {
        Self::start_with(limits, None).await
    }

    /// As [`Server::start`]; with `idle`, served by our listener with that idle timeout.
    async fn start_with(limits: WsLimits, idle: Option<Duration>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config = BrokerConfig {
            data_dir: dir.path().to_owned(),
            cluster_id: None,
            broker_id: 1,
            num_partitions: 1,
            topic_defaults: BTreeMap::new(),
            log_check_interval: Duration::from_secs(3600),
            checkpoint_interval: Duration::from_secs(3600),
        };
        let broker = tokio::task::spawn_blocking(move || Broker::open(config))
            .await
            .unwrap()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let registry = crate::schemas::open_registry(Arc::clone(&broker), Default::default())
            .await
            .unwrap();
        let state = AppState {
            broker: Arc::clone(&broker),
            groups: crate::group::GroupCoordinator::open_with_defaults(Arc::clone(&broker))
                .unwrap(),
            registry,
            public_url: Arc::from(format!("http://{addr}").as_str()),
            cluster: crate::metadata::ClusterView::single(1, &format!("http://{addr}")),
        };
        let http = Limits {
            max_request_body: 64 << 20,
            max_concurrent_requests: 4096,
            max_records_per_request: 100_000,
            ..Limits::default()
        };
        let shutdown = CancellationToken::new();
        let rt = WsRuntime::new(limits, shutdown.clone());
        let app = gateway::router(state, http).layer(axum::Extension(rt.clone()));
        match idle {
            None => {
                tokio::spawn(async move { axum::serve(listener, app).await });
            }
            Some(idle_timeout) => {
                let stop = CancellationToken::new();
                tokio::spawn(gateway::listener::serve(
                    listener,
                    app,
                    gateway::listener::ConnectionLimits {
                        header_read_timeout: Duration::from_secs(5),
                        idle_timeout,
                    },
                    stop,
                    Duration::from_secs(1),
                ));
            }
        }
        Server {
            addr,
            broker,
            rt,
            shutdown,
            _dir: dir,
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("ws://{}{path_and_query}", self.addr)
    }

    async fn connect(&self, path_and_query: &str) -> Client {
        let config = WebSocketConfig::default()
            .read_buffer_size(16 << 10)
            .write_buffer_size(0);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(
            self.url(path_and_query),
            Some(config),
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("connect {path_and_query}: {e}"));
        ws
    }

    /// The refusal of an upgrade: HTTP status and Confluent body.
    async fn refused(&self, path_and_query: &str) -> (u16, Value) {
        match tokio_tungstenite::connect_async(self.url(path_and_query)).await {
            Ok(_) => panic!("{path_and_query} upgraded"),
            Err(tungstenite::Error::Http(response)) => {
                let body = response.body().clone().unwrap_or_default();
                (
                    response.status().as_u16(),
                    serde_json::from_slice(&body).unwrap_or(Value::Null),
                )
            }
            Err(e) => panic!("{path_and_query}: {e}"),
        }
    }

    async fn topic(&self, name: &str, partitions: i64) {
        self.topic_with(name, partitions, &[]).await;
    }

    async fn topic_with(&self, name: &str, partitions: i64, configs: &[(&str, &str)]) {
        let broker = Arc::clone(&self.broker);
        let name = name.to_owned();
        let configs = configs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        tokio::task::spawn_blocking(move || {
            broker
                .create_topic(&name, Some(partitions), None, configs, false)
                .unwrap()
        })
        .await
        .unwrap();
    }

    /// Appends through the partition's group-commit appender; returns the offsets.
    async fn append(&self, topic: &str, partition: u32, records: Vec<NewRecord>) -> Vec<u64> {
        let p = self.broker.partition(topic, partition).unwrap();
        p.enqueue(records.into_iter().map(Sized::new).collect())
            .await
            .unwrap()
            .await
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect()
    }
}

fn json_record(n: u64, timestamp: Option<i64>) -> NewRecord {
    NewRecord {
        timestamp,
        key: Some(Bytes::from(format!("\"k{n}\""))),
        value: Some(Bytes::from(format!("{{\"n\":{n}}}"))),
        headers: vec![Header {
            key: "h".into(),
            value: Some(Bytes::from_static(b"v")),
        }],
    }
}

/// The next data or close message, skipping pings and pongs; `None` if none comes in time or
/// the connection ends.
async fn next_message(ws: &mut Client, within: Duration) -> Option<Message> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) | Ok(None | Some(Err(_))) => return None,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(Some(Ok(m))) => return Some(m),
        }
    }
}

async fn next_json(ws: &mut Client) -> Value {
    match next_message(ws, WAIT).await {
        Some(Message::Text(t)) => serde_json::from_str(&t).unwrap(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Reads `records` frames until `n` records came.
async fn records(ws: &mut Client, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        let frame = next_json(ws).await;
        assert_eq!(frame["type"], "records", "{frame}");
        out.extend(frame["records"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(out.len(), n, "more records than asked for");
    out
}

/// Reads until the close frame and returns its code (and any error frame before it).
async fn close_code(ws: &mut Client) -> (Option<u16>, Option<Value>) {
    let mut error = None;
    loop {
        match next_message(ws, WAIT).await {
            Some(Message::Close(frame)) => return (frame.map(|f| u16::from(f.code)), error),
            Some(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "error" {
                    error = Some(v);
                }
            }
            Some(_) => {}
            None => return (None, error),
        }
    }
}

async fn send_json(ws: &mut Client, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

fn offsets(records: &[Value]) -> Vec<u64> {
    records
        .iter()
        .map(|r| r["offset"].as_u64().unwrap())
        .collect()
}
