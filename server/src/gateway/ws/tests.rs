//! The WebSocket endpoints against a real server on `127.0.0.1:0` and real `tokio-tungstenite`
//! clients (issue 4, items 5–7): tails from every start position, credit flow control under a
//! producer that does not stop, a thousand tailing sockets, hostile input, pipelined produce
//! acks checked against the log, the connection limit, heartbeats and shutdown.

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
use crate::gateway::{self, AppState, Limits};
use crate::log::{Header, NewRecord};
use crate::ws_binary::{self as binary, Reply};

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
        let state = AppState {
            broker: Arc::clone(&broker),
            groups: crate::group::GroupCoordinator::open_with_defaults(Arc::clone(&broker))
                .unwrap(),
            public_url: Arc::from(format!("http://{addr}").as_str()),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tails_from_earliest_latest_an_offset_and_a_timestamp() {
    let server = Server::start(test_limits()).await;
    server.topic("t", 1).await;
    for n in 0..10 {
        server
            .append("t", 0, vec![json_record(n, Some(1_000 + n as i64))])
            .await;
    }

    let mut earliest = server
        .connect("/v1/ws/consume?topic=t&from=earliest&credit=100")
        .await;
    let got = records(&mut earliest, 10).await;
    assert_eq!(offsets(&got), (0..10).collect::<Vec<_>>());
    assert_eq!(
        got[3],
        json!({"topic": "t", "key": "k3", "value": {"n": 3}, "partition": 0, "offset": 3,
               "timestamp": 1003, "headers": [{"key": "h", "value": "dg=="}]})
    );

    let mut at_offset = server
        .connect("/v1/ws/consume?topic=t&partition=0&from=6&credit=100")
        .await;
    assert_eq!(offsets(&records(&mut at_offset, 4).await), vec![6, 7, 8, 9]);

    let mut at_time = server
        .connect("/v1/ws/consume?topic=t&from=ts:1007&credit=100&format=binary")
        .await;
    let got = records(&mut at_time, 3).await;
    assert_eq!(offsets(&got), vec![7, 8, 9]);
    assert_eq!(got[0]["value"], "eyJuIjo3fQ==", "binary format is base64");

    let mut latest = server.connect("/v1/ws/consume?topic=t&credit=100").await;
    assert!(
        next_message(&mut latest, Duration::from_millis(300))
            .await
            .is_none()
    );

    // Appends reach every waiting socket, without polling.
    server.append("t", 0, vec![json_record(10, None)]).await;
    for ws in [&mut earliest, &mut at_offset, &mut at_time, &mut latest] {
        assert_eq!(offsets(&records(ws, 1).await), vec![10]);
    }

    // A seek moves the position back; the socket then sends from there.
    send_json(
        &mut latest,
        json!({"type": "seek", "partition": 0, "offset": 8}),
    )
    .await;
    assert_eq!(offsets(&records(&mut latest, 3).await), vec![8, 9, 10]);
    send_json(
        &mut latest,
        json!({"type": "seek", "partition": 0, "offset": "earliest"}),
    )
    .await;
    assert_eq!(
        offsets(&records(&mut latest, 11).await),
        (0..=10).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_partitions_are_tailed_and_credit_is_never_exceeded() {
    let server = Server::start(test_limits()).await;
    server.topic("multi", 3).await;
    for p in 0..3 {
        server
            .append("multi", p, (0..5).map(|n| json_record(n, None)).collect())
            .await;
    }
    let mut ws = server
        .connect("/v1/ws/consume?topic=multi&from=earliest")
        .await;
    assert!(
        next_message(&mut ws, Duration::from_millis(200))
            .await
            .is_none()
    );
    send_json(&mut ws, json!({"type": "credit", "records": 4})).await;
    assert_eq!(records(&mut ws, 4).await.len(), 4);
    assert!(
        next_message(&mut ws, Duration::from_millis(300))
            .await
            .is_none()
    );
    send_json(&mut ws, json!({"type": "credit", "records": 100})).await;
    let mut got = records(&mut ws, 11).await;
    got.sort_by_key(|r| (r["partition"].as_u64(), r["offset"].as_u64()));
    assert!(
        got.iter().all(|r| r["partition"].as_u64().unwrap() < 3),
        "{got:?}"
    );
    assert!(
        server
            .rt
            .stats()
            .buffered_records_peak
            .load(Ordering::Relaxed)
            <= 100
    );
}

/// RssAnon of this process in KiB: heap and other anonymous memory, not the page cache the
/// log's mapped files bring in.
fn rss_anon_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A consumer that grants no credit is sent nothing, and the server buffers nothing for it,
/// however much is produced: memory stays flat (RSS) and no record is ever held for it
/// (the runtime's buffered-records counter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credit_no_records_and_flat_memory_under_100k_records() {
    let _heavy = HEAVY.lock().await;
    let server = Server::start(test_limits()).await;
    // Compressed on disk (the values repeat), so the test needs little disk; decoded, every
    // record is its full size again.
    server
        .topic_with("flood", 1, &[("compression.type", "zstd")])
        .await;
    let mut idle = server
        .connect("/v1/ws/consume?topic=flood&from=earliest&format=binary")
        .await;
    let before = rss_anon_kib();
    let value = Bytes::from(vec![b'x'; 1024]);
    let reader = tokio::spawn(async move {
        // Keep reading (and so answering pings) while the producer runs: nothing may come.
        let got = next_message(&mut idle, Duration::from_secs(4)).await;
        (idle, got)
    });
    for chunk in 0..100 {
        let batch = (0..1000)
            .map(|n| NewRecord {
                key: Some(Bytes::from(format!("{chunk}-{n}"))),
                value: Some(value.clone()),
                ..NewRecord::default()
            })
            .collect();
        server.append("flood", 0, batch).await;
    }
    let (mut idle, got) = reader.await.unwrap();
    assert!(got.is_none(), "a consumer without credit got {got:?}");
    let after = rss_anon_kib();
    let stats = server.rt.stats();
    assert_eq!(stats.buffered_records_peak.load(Ordering::Relaxed), 0);
    assert_eq!(stats.records_sent.load(Ordering::Relaxed), 0);
    // 100,000 records of 1 KiB would be over 130 MiB as base64 JSON frames.
    let grown = after.saturating_sub(before);
    assert!(
        grown < 64 << 10,
        "RssAnon grew by {grown} KiB ({before} → {after}) for a consumer without credit"
    );

    send_json(&mut idle, json!({"type": "credit", "records": 10})).await;
    assert_eq!(
        offsets(&records(&mut idle, 10).await),
        (0..10).collect::<Vec<_>>()
    );
    assert!(
        next_message(&mut idle, Duration::from_millis(300))
            .await
            .is_none()
    );
    assert_eq!(stats.records_sent.load(Ordering::Relaxed), 10);
    assert_eq!(stats.buffered_records_peak.load(Ordering::Relaxed), 10);
    assert_eq!(stats.buffered_records.load(Ordering::Relaxed), 0);
}

/// The soft limit of open files, raised to the hard limit when it is below `want`.
fn ensure_fd_limit(want: u64) -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c < want) {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tailing_sockets_each_get_every_record_of_a_burst() {
    const SOCKETS: usize = 1000;
    const BURST: usize = 100;
    let _heavy = HEAVY.lock().await;
    // Each socket is two descriptors here (client and server end), plus the log's files.
    let fds = ensure_fd_limit(3 * SOCKETS as u64);
    assert!(
        fds >= 2 * SOCKETS as u64 + 200,
        "open-file limit {fds} too low for {SOCKETS} sockets"
    );
    let server = Arc::new(Server::start(test_limits()).await);
    server.topic("burst", 1).await;

    let mut clients = Vec::with_capacity(SOCKETS);
    let mut connecting = tokio::task::JoinSet::new();
    for _ in 0..SOCKETS {
        let server = Arc::clone(&server);
        connecting.spawn(async move {
            server
                .connect("/v1/ws/consume?topic=burst&from=latest&credit=1000")
                .await
        });
        // Keep the accept backlog short.
        if connecting.len() >= 100 {
            clients.push(connecting.join_next().await.unwrap().unwrap());
        }
    }
    while let Some(c) = connecting.join_next().await {
        clients.push(c.unwrap());
    }
    assert_eq!(server.rt.open_connections(), SOCKETS);

    let mut readers = tokio::task::JoinSet::new();
    for mut ws in clients {
        readers.spawn(async move { offsets(&records(&mut ws, BURST).await) });
    }
    // Let every socket reach its wait before the burst.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A burst: every record queued at once (the appender groups them as they come), so the
    // sockets wake at arbitrary points of it.
    let p = server.broker.partition("burst", 0).unwrap();
    let mut acks = Vec::new();
    for n in 0..BURST as u64 {
        acks.push(
            p.enqueue(vec![Sized::new(json_record(n, None))])
                .await
                .unwrap(),
        );
    }
    for ack in acks {
        ack.await.unwrap().into_iter().for_each(|r| {
            r.unwrap();
        });
    }
    let expected: Vec<u64> = (0..BURST as u64).collect();
    let mut done = 0;
    while let Some(got) = readers.join_next().await {
        assert_eq!(got.unwrap(), expected);
        done += 1;
    }
    assert_eq!(done, SOCKETS);
    assert_eq!(
        server.rt.stats().records_sent.load(Ordering::Relaxed),
        (SOCKETS * BURST) as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_bad_input_gets_an_error_frame_and_a_close_code() {
    let server = Server::start(test_limits()).await;
    server.topic("bad", 2).await;
    let cases: Vec<(Message, u16, Option<u64>)> = vec![
        (Message::text(r#"{"type":"subscribe"}"#), 1008, Some(400)),
        (Message::text("{not json"), 1008, Some(400)),
        (Message::text("[1,2]"), 1008, Some(400)),
        (Message::text(r#"{"records":5}"#), 1008, Some(400)),
        (
            Message::text(r#"{"type":"credit","records":-1}"#),
            4400,
            Some(400),
        ),
        (
            Message::text(r#"{"type":"credit","records":1000000001}"#),
            4400,
            Some(400),
        ),
        (
            Message::text(r#"{"type":"credit","records":1e3}"#),
            4400,
            Some(400),
        ),
        (Message::text(r#"{"type":"credit"}"#), 4400, Some(400)),
        (
            Message::text(r#"{"type":"seek","partition":7,"offset":0}"#),
            4404,
            Some(40402),
        ),
        (
            Message::text(r#"{"type":"seek","partition":0,"offset":-5}"#),
            4400,
            Some(400),
        ),
        (Message::text(r#"{"type":"commit"}"#), 4400, Some(400)),
        (Message::binary(vec![1, 2, 3]), 1003, Some(400)),
    ];
    for (message, code, error_code) in cases {
        let shown = format!("{message:?}");
        let mut ws = server.connect("/v1/ws/consume?topic=bad").await;
        ws.send(message).await.unwrap();
        let (got, error) = close_code(&mut ws).await;
        assert_eq!(got, Some(code), "{shown}: {error:?}");
        assert_eq!(
            error.as_ref().and_then(|e| e["error_code"].as_u64()),
            error_code,
            "{shown}"
        );
    }

    // Refusals before the upgrade, in Confluent's format.
    for query in [
        "group=g1&partition=0",
        "group=g1&from=5",
        "group=g1&from=ts:100",
        "group=g1&auto_commit=yes",
        "group=",
    ] {
        let (status, body) = server
            .refused(&format!("/v1/ws/consume?topic=bad&{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["message"].is_string(), "{query}: {body}");
    }
    let (status, body) = server.refused("/v1/ws/consume?topic=nope").await;
    assert_eq!((status, body["error_code"].as_u64()), (404, Some(40401)));
    let (status, body) = server.refused("/v1/ws/consume?topic=bad&partition=9").await;
    assert_eq!((status, body["error_code"].as_u64()), (404, Some(40402)));
    for query in [
        "from=yesterday",
        "credit=-1",
        "credit=2000000000",
        "format=xml",
    ] {
        let (status, _) = server
            .refused(&format!("/v1/ws/consume?topic=bad&{query}"))
            .await;
        assert_eq!(status, 400, "{query}");
    }
    let (status, _) = server.refused("/v1/ws/produce?topic=bad&acks=2").await;
    assert_eq!(status, 400);

    // The server is fine afterwards.
    server.append("bad", 1, vec![json_record(0, None)]).await;
    let mut ws = server
        .connect("/v1/ws/consume?topic=bad&partition=1&from=earliest&credit=1")
        .await;
    assert_eq!(offsets(&records(&mut ws, 1).await), vec![0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_closes_with_1009_and_never_crashes() {
    let server = Server::start(WsLimits {
        max_message_size: 64 << 10,
        ..test_limits()
    })
    .await;
    server.topic("big", 1).await;

    // Over the limit, small enough for the socket buffers: the client finishes writing, and
    // reads the 1009 close.
    let mut ws = server.connect("/v1/ws/produce?topic=big").await;
    let over = format!(
        r#"{{"type":"produce","id":"x","records":[{{"value":"{}"}}]}}"#,
        "a".repeat(80 << 10)
    );
    ws.send(Message::text(over)).await.unwrap();
    let (code, _) = close_code(&mut ws).await;
    assert_eq!(code, Some(1009));

    // 100 MiB: refused from the frame header; the writer may see the socket reset instead of
    // the close frame, but either way the server lives on.
    let mut ws = server.connect("/v1/ws/produce?topic=big").await;
    let huge = Message::binary(vec![0u8; 100 << 20]);
    if ws.send(huge).await.is_ok() {
        let (code, _) = close_code(&mut ws).await;
        assert!(code.is_none() || code == Some(1009), "{code:?}");
    }
    let mut ws = server.connect("/v1/ws/produce?topic=big").await;
    send_json(
        &mut ws,
        json!({"type": "produce", "id": "after", "records": [{"value": 1}]}),
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["type"], "ack", "{ack}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_bad_input_gets_error_frames_and_keeps_going_when_it_can() {
    let server = Server::start(test_limits()).await;
    server.topic("p", 2).await;
    let mut ws = server.connect("/v1/ws/produce?topic=p").await;
    // Per-message failures: an error frame with the id, the socket stays open.
    let per_message = [
        (
            json!({"type": "produce", "id": "a", "records": [{"value": 1, "partition": 5}]}),
            40402,
        ),
        (json!({"type": "produce", "id": "b", "records": []}), 42203),
        (
            json!({"type": "produce", "id": "c", "records": [{"value": 1, "headers": [{"key": "h", "value": "%%"}]}]}),
            42203,
        ),
        (
            json!({"type": "produce", "id": "d", "records": {"value": 1}}),
            42203,
        ),
        (
            json!({"type": "produce", "id": 7, "records": [{"value": 1, "partition": -1}]}),
            40402,
        ),
    ];
    for (message, _) in &per_message {
        send_json(&mut ws, message.clone()).await;
    }
    for (message, code) in &per_message {
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "error", "{reply}");
        assert_eq!(reply["id"], message["id"]);
        assert_eq!(reply["error_code"], *code, "{reply}");
    }
    send_json(
        &mut ws,
        json!({"type": "produce", "id": "ok", "records": [{"value": 1}]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "ack");

    // Protocol violations: an error frame, then close 1008.
    for bad in [
        "{\"type\":\"produce\"",
        r#"{"type":"consume","id":"z"}"#,
        r#"{"type":"produce","records":[]}"#,
        r#"{"type":"produce","id":{"x":1},"records":[]}"#,
        "42",
    ] {
        let mut ws = server.connect("/v1/ws/produce?topic=p").await;
        ws.send(Message::text(bad)).await.unwrap();
        let (code, error) = close_code(&mut ws).await;
        assert_eq!(code, Some(1008), "{bad}");
        let error = error.unwrap_or_else(|| panic!("no error frame for {bad}"));
        assert!(error.get("id").is_some(), "{error}");
    }
    let mut ws = server.connect("/v1/ws/produce?topic=p").await;
    ws.send(Message::binary(vec![9, 9])).await.unwrap();
    let mut error = None;
    let code = loop {
        match next_message(&mut ws, WAIT).await {
            Some(Message::Binary(b)) => error = Some(binary::decode_reply(&b).unwrap()),
            Some(Message::Close(f)) => break f.map(|f| u16::from(f.code)),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(code, Some(1008));
    assert!(
        matches!(
            error,
            Some(Reply::Error {
                error_code: 400,
                ..
            })
        ),
        "{error:?}"
    );
}

/// Pipelined produce: many messages sent before any ack is read; the acks come back in order
/// with offsets that a later read finds holding those very records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_acks_arrive_in_order_with_offsets_a_read_confirms() {
    let server = Server::start(WsLimits {
        max_in_flight: 8,
        ..test_limits()
    })
    .await;
    server.topic("orders", 3).await;
    let mut ws = server.connect("/v1/ws/produce?topic=orders").await;
    const MESSAGES: usize = 60;
    let mut sent = Vec::new();
    for m in 0..MESSAGES {
        let records: Vec<Value> = (0..10)
            .map(|r| match r % 3 {
                0 => json!({"value": {"m": m, "r": r}, "partition": (m + r) % 3}),
                1 => json!({"key": format!("key-{r}"), "value": {"m": m, "r": r}}),
                _ => {
                    json!({"value": {"m": m, "r": r}, "headers": [{"key": "src", "value": "d3M="}]})
                }
            })
            .collect();
        sent.push(records.clone());
        ws.send(Message::text(
            json!({"type": "produce", "id": format!("m{m}"), "records": records}).to_string(),
        ))
        .await
        .unwrap();
    }
    let mut placed = BTreeMap::new();
    let mut last = [None::<u64>; 3];
    for (m, records) in sent.iter().enumerate() {
        let ack = next_json(&mut ws).await;
        assert_eq!(ack["type"], "ack", "{ack}");
        assert_eq!(ack["id"], format!("m{m}"));
        let acked = ack["offsets"].as_array().unwrap();
        assert_eq!(acked.len(), records.len());
        for (a, r) in acked.iter().zip(records) {
            let p = a["partition"].as_u64().unwrap();
            let o = a["offset"].as_u64().unwrap();
            // Offsets grow in message order within each partition.
            assert!(last[p as usize].is_none_or(|l| o > l), "{ack}");
            last[p as usize] = Some(o);
            if let Some(explicit) = r.get("partition") {
                assert_eq!(explicit.as_u64(), Some(p));
            }
            placed.insert((p, o), r["value"].clone());
        }
    }
    assert_eq!(placed.len(), MESSAGES * 10);
    // The counter moves just after the write the client already read.
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.rt.stats().produce_replies.load(Ordering::Relaxed) < MESSAGES as u64 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let mut reader = server
        .connect("/v1/ws/consume?topic=orders&from=earliest&credit=1000")
        .await;
    let got = records(&mut reader, MESSAGES * 10).await;
    for r in &got {
        let key = (
            r["partition"].as_u64().unwrap(),
            r["offset"].as_u64().unwrap(),
        );
        assert_eq!(placed.get(&key), Some(&r["value"]), "{r}");
        if r["value"]["r"].as_u64().unwrap() % 3 == 2 {
            assert_eq!(r["headers"], json!([{"key": "src", "value": "d3M="}]));
        }
    }
    // Equal keys land on one partition.
    let mut by_key: BTreeMap<String, u64> = BTreeMap::new();
    for r in &got {
        if let Some(k) = r["key"].as_str() {
            let p = r["partition"].as_u64().unwrap();
            assert_eq!(*by_key.entry(k.to_owned()).or_insert(p), p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_0_base64_and_binary_frames() {
    let server = Server::start(test_limits()).await;
    server.topic("modes", 1).await;

    let mut ws = server.connect("/v1/ws/produce?topic=modes&acks=0").await;
    send_json(
        &mut ws,
        json!({"type": "produce", "id": 1, "records": [{"value": "x"}]}),
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(
        ack,
        json!({"type": "ack", "id": 1, "offsets": [{"partition": 0, "offset": null}]})
    );

    let mut ws = server
        .connect("/v1/ws/produce?topic=modes&format=binary")
        .await;
    send_json(
        &mut ws,
        json!({"type": "produce", "id": "b64", "records": [{"key": "aw==", "value": "AAEC"}]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["offsets"][0]["offset"], 1);
    send_json(
        &mut ws,
        json!({"type": "produce", "id": "bad", "records": [{"value": {"x": 1}}]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["error_code"], 42203);

    // The compact binary encoding, on the same socket: binary in, binary out.
    let record = NewRecord {
        key: None,
        value: Some(Bytes::from_static(&[0xff, 0x00])),
        headers: vec![Header {
            key: "t".into(),
            value: None,
        }],
        timestamp: None,
    };
    let request = binary::encode_produce(b"bin-1", &[(Some(0), &record), (None, &record)]);
    ws.send(Message::binary(request)).await.unwrap();
    let reply = match next_message(&mut ws, WAIT).await {
        Some(Message::Binary(b)) => binary::decode_reply(&b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reply,
        Reply::Ack {
            id: Bytes::from_static(b"bin-1"),
            offsets: vec![(0, Some(2)), (0, Some(3))]
        }
    );
    let request = binary::encode_produce(b"bin-2", &[(Some(4), &record)]);
    ws.send(Message::binary(request)).await.unwrap();
    match next_message(&mut ws, WAIT).await {
        Some(Message::Binary(b)) => assert!(matches!(
            binary::decode_reply(&b).unwrap(),
            Reply::Error {
                error_code: 40402,
                ..
            }
        )),
        other => panic!("{other:?}"),
    }

    let mut reader = server
        .connect("/v1/ws/consume?topic=modes&from=1&credit=10&format=binary")
        .await;
    let got = records(&mut reader, 3).await;
    assert_eq!(got[0]["key"], "aw==");
    assert_eq!(got[0]["value"], "AAEC");
    assert_eq!(got[1]["value"], "/wA=");
    assert_eq!(got[1]["headers"], json!([{"key": "t", "value": null}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_limit_refuses_with_429_and_frees_slots_on_close() {
    let server = Server::start(WsLimits {
        max_connections: 2,
        ..test_limits()
    })
    .await;
    server.topic("lim", 1).await;
    let a = server.connect("/v1/ws/consume?topic=lim").await;
    let _b = server.connect("/v1/ws/produce?topic=lim").await;
    let (status, body) = server.refused("/v1/ws/consume?topic=lim").await;
    assert_eq!((status, body["error_code"].as_u64()), (429, Some(42901)));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("ws_max_connections")
    );
    drop(a);
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.rt.open_connections() >= 2 {
        assert!(tokio::time::Instant::now() < deadline, "slot never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _c = server.connect("/v1/ws/consume?topic=lim").await;
}

/// A receive-only tail outlives the listener's idle timeout: the server's pings draw pongs,
/// which are reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_keep_a_receive_only_tail_past_the_idle_timeout() {
    let server = Server::start_with(
        WsLimits {
            ping_interval: Duration::from_millis(200),
            pong_timeout: Duration::from_secs(2),
            ..test_limits()
        },
        Some(Duration::from_millis(600)),
    )
    .await;
    server.topic("quiet", 1).await;
    let mut ws = server.connect("/v1/ws/consume?topic=quiet&credit=5").await;
    // Only reading (which answers pings) for several idle timeouts.
    assert!(
        next_message(&mut ws, Duration::from_secs(2))
            .await
            .is_none()
    );
    server.append("quiet", 0, vec![json_record(0, None)]).await;
    assert_eq!(offsets(&records(&mut ws, 1).await), vec![0]);
}

/// A client that never answers pings is closed with 1011 after the pong timeout. Raw TCP, so
/// nothing answers the pings automatically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_pongs_is_closed_with_1011() {
    let server = Server::start(WsLimits {
        ping_interval: Duration::from_millis(100),
        pong_timeout: Duration::from_millis(300),
        ..test_limits()
    })
    .await;
    server.topic("deaf", 1).await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let handshake = format!(
        "GET /v1/ws/consume?topic=deaf HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(WAIT, read_all).await.unwrap();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    let frames = &got[text.find("\r\n\r\n").unwrap() + 4..];
    // Unmasked server frames: pings (0x89), then a close (0x88) with code 1011.
    assert_eq!(frames[0], 0x89, "{frames:?}");
    let close = frames
        .windows(4)
        .position(|w| w[0] == 0x88 && w[2..4] == 1011u16.to_be_bytes());
    assert!(close.is_some(), "no 1011 close in {frames:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_sockets_with_1001() {
    let server = Server::start(test_limits()).await;
    server.topic("bye", 1).await;
    let mut tail = server.connect("/v1/ws/consume?topic=bye").await;
    let mut prod = server.connect("/v1/ws/produce?topic=bye").await;
    server.shutdown.cancel();
    assert_eq!(close_code(&mut tail).await.0, Some(1001));
    assert_eq!(close_code(&mut prod).await.0, Some(1001));
    server.rt.drain(Duration::from_secs(5)).await;
    assert_eq!(server.rt.open_connections(), 0);
}

/// `runnel bench --transport ws` end to end: produce (JSON and binary frames), then consume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_over_websockets_counts_every_record() {
    use clap::Parser as _;

    use crate::cli::{BenchCommand, Cli, Command};
    let server = Server::start(test_limits()).await;
    let url = format!("http://{}", server.addr);
    let bench = |argv: &[&str]| {
        let mut full = vec!["runnel", "bench"];
        full.extend_from_slice(argv);
        full.extend_from_slice(&["--url", &url, "--transport", "ws"]);
        let Command::Bench(b) = Cli::try_parse_from(full).unwrap().command else {
            unreachable!()
        };
        b.command
    };
    for format in ["json", "binary"] {
        let BenchCommand::Produce(args) = bench(&[
            "produce",
            "--topic",
            "wsb",
            "--partitions",
            "2",
            "--records",
            "5000",
            "--batch",
            "300",
            "--concurrency",
            "2",
            "--format",
            format,
        ]) else {
            unreachable!()
        };
        let report = crate::cli::bench::run_produce(&args, false).await.unwrap();
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        assert_eq!(report.records, 5000, "{format}");
        assert_eq!(report.bytes, 5000 * 100);
    }
    let BenchCommand::Consume(args) = bench(&["consume", "--topic", "wsb", "--format", "binary"])
    else {
        unreachable!()
    };
    let report = crate::cli::bench::run_consume(&args, false).await.unwrap();
    assert_eq!(report.errors, 0, "{:?}", report.first_error);
    assert_eq!(report.records, 10_000);
}

/// Reads frames until an `assignment` frame; returns its partitions, sorted.
async fn assignment(ws: &mut Client) -> Vec<u64> {
    loop {
        let frame = next_json(ws).await;
        if frame["type"] == "assignment" {
            assert!(frame["generation_id"].as_i64().unwrap() >= 1, "{frame}");
            let mut ps: Vec<u64> = frame["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["partition"].as_u64().unwrap())
                .collect();
            ps.sort_unstable();
            return ps;
        }
        assert_ne!(frame["type"], "error", "{frame}");
    }
}

/// Each record's (partition, value "n").
fn partition_and_n(records: &[Value]) -> Vec<(u64, u64)> {
    records
        .iter()
        .map(|r| {
            (
                r["partition"].as_u64().unwrap(),
                r["value"]["n"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_sockets_share_partitions_and_rebalance_when_a_second_joins() {
    let server = Server::start(test_limits()).await;
    server.topic("shared", 6).await;
    let url = "/v1/ws/consume?topic=shared&group=g&from=earliest&credit=1000";
    let mut a = server.connect(url).await;
    assert_eq!(assignment(&mut a).await, vec![0, 1, 2, 3, 4, 5]);

    let mut b = server.connect(url).await;
    let (got_a, got_b) = (assignment(&mut a).await, assignment(&mut b).await);
    assert_eq!(got_a.len() + got_b.len(), 6, "{got_a:?} {got_b:?}");
    let mut all: Vec<u64> = got_a.iter().chain(&got_b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, vec![0, 1, 2, 3, 4, 5], "no overlap, no gap");
    assert_eq!(
        got_a.len(),
        3,
        "range assignor splits six partitions evenly"
    );

    // Every record reaches exactly the socket that owns its partition.
    for p in 0..6u32 {
        server
            .append(
                "shared",
                p,
                (0..4)
                    .map(|n| json_record(u64::from(p) * 10 + n, None))
                    .collect(),
            )
            .await;
    }
    let ra = partition_and_n(&records(&mut a, 12).await);
    let rb = partition_and_n(&records(&mut b, 12).await);
    assert!(ra.iter().all(|(p, _)| got_a.contains(p)), "{ra:?}");
    assert!(rb.iter().all(|(p, _)| got_b.contains(p)), "{rb:?}");
    let mut ns: Vec<u64> = ra.iter().chain(&rb).map(|(_, n)| *n).collect();
    ns.sort_unstable();
    let want: Vec<u64> = (0..6)
        .flat_map(|p| (0..4).map(move |n| p * 10 + n))
        .collect();
    assert_eq!(ns, want);

    // Closing one socket hands its partitions to the other.
    a.close(None).await.unwrap();
    assert_eq!(assignment(&mut b).await, vec![0, 1, 2, 3, 4, 5]);
    // No commits were made, so the partitions `a` had start over from `from=earliest`.
    let again = partition_and_n(&records(&mut b, 12).await);
    assert!(again.iter().all(|(p, _)| got_a.contains(p)), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commits_are_confirmed_and_a_new_socket_resumes_after_them() {
    let server = Server::start(test_limits()).await;
    server.topic("resume", 2).await;
    for p in 0..2 {
        server
            .append("resume", p, (0..5).map(|n| json_record(n, None)).collect())
            .await;
    }
    let url = "/v1/ws/consume?topic=resume&group=r&from=earliest&credit=6";
    let mut ws = server.connect(url).await;
    assert_eq!(assignment(&mut ws).await, vec![0, 1]);
    let got = records(&mut ws, 6).await;
    send_json(&mut ws, json!({"type": "commit"})).await;
    let committed = next_json(&mut ws).await;
    assert_eq!(committed["type"], "committed", "{committed}");
    let mut want: BTreeMap<u64, u64> = BTreeMap::new();
    for r in &got {
        let e = want.entry(r["partition"].as_u64().unwrap()).or_default();
        *e = (*e).max(r["offset"].as_u64().unwrap() + 1);
    }
    let stored: BTreeMap<u64, u64> = committed["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["partition"].as_u64().unwrap(),
                o["offset"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(stored, want, "a bare commit stores what was delivered");

    // An explicit commit moves partition 0 back to offset 1.
    send_json(
        &mut ws,
        json!({"type": "commit", "offsets": [{"topic": "resume", "partition": 0, "offset": 1}]}),
    )
    .await;
    let committed = next_json(&mut ws).await;
    assert_eq!(
        committed,
        json!({"type": "committed", "offsets": [{"topic": "resume", "partition": 0, "offset": 1}]})
    );
    ws.close(None).await.unwrap();
    drop(ws);

    // A new member of the group starts at the committed offsets, not at `from`.
    let mut next = server
        .connect("/v1/ws/consume?topic=resume&group=r&credit=100")
        .await;
    assert_eq!(assignment(&mut next).await, vec![0, 1]);
    let remaining = 10 - 1 - (want.get(&1).copied().unwrap_or(0) as usize);
    let got = records(&mut next, remaining).await;
    let first: BTreeMap<u64, u64> = got
        .iter()
        .rev()
        .map(|r| {
            (
                r["partition"].as_u64().unwrap(),
                r["offset"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(first.get(&0), Some(&1), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_errors_close_the_socket() {
    let server = Server::start(test_limits()).await;
    server.topic("gc", 2).await;
    let cases = [
        (
            json!({"type": "commit", "offsets": [{"topic": "gc", "partition": 9, "offset": 0}]}),
            4409,
            40903,
        ),
        (
            json!({"type": "commit", "offsets": [{"topic": "other", "partition": 0, "offset": 0}]}),
            4409,
            40903,
        ),
        (
            json!({"type": "commit", "offsets": [{"topic": "gc", "partition": 0, "offset": -1}]}),
            4400,
            400,
        ),
        (
            json!({"type": "commit", "offsets": {"topic": "gc"}}),
            4400,
            400,
        ),
    ];
    for (message, code, error_code) in cases {
        let mut ws = server.connect("/v1/ws/consume?topic=gc&group=bad").await;
        assert_eq!(assignment(&mut ws).await, vec![0, 1]);
        send_json(&mut ws, message.clone()).await;
        let (got, error) = close_code(&mut ws).await;
        assert_eq!(got, Some(code), "{message}: {error:?}");
        assert_eq!(
            error.as_ref().and_then(|e| e["error_code"].as_u64()),
            Some(error_code),
            "{message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_socket_that_stops_answering_loses_its_partitions() {
    let server = Server::start(WsLimits {
        ping_interval: Duration::from_millis(100),
        pong_timeout: Duration::from_millis(300),
        ..test_limits()
    })
    .await;
    server.topic("evict", 4).await;
    let url = "/v1/ws/consume?topic=evict&group=e&credit=10";
    let mut live = server.connect(url).await;
    assert_eq!(assignment(&mut live).await, vec![0, 1, 2, 3]);
    // The second member reads its assignment, then stops reading: it answers no pings.
    let mut deaf = server.connect(url).await;
    let held = assignment(&mut deaf).await;
    let kept = assignment(&mut live).await;
    assert_eq!(held.len() + kept.len(), 4);
    // The server closes the silent socket, the member leaves, and the live one gets everything.
    let started = std::time::Instant::now();
    assert_eq!(assignment(&mut live).await, vec![0, 1, 2, 3]);
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(deaf);
}
