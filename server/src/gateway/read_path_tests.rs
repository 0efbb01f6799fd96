//! Property test of the one read path (`Partition::read`) through every reader type: random
//! keyed batches (a small key space, some tombstones, some null keys), one segment per batch
//! (`segment.bytes=14`), random compaction passes; then the stateless read, a v2 consumer
//! instance, a plain WebSocket and a consumer-group WebSocket, each from every offset of the
//! log, get exactly the records that a model of compaction says survive at or after it.
//!
//! The log engine's own model test checks what compaction keeps; this one checks that no reader
//! is stranded by the offsets it removed (a thinned batch keeps its original last offset, so a
//! read inside it may find only records below the offset asked for).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode};
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::broker::{NewRecord, Partition};
use crate::gateway::testing::{TestGateway, send};
use crate::gateway::ws::{WsLimits, WsRuntime};

const TOPIC: &str = "compacted";
const BINARY: &str = "application/vnd.kafka.binary.v2+json";
/// Every record's timestamp and the compaction passes' clock: tombstones stay younger than
/// `delete.retention.ms`, so the latest record of a key always survives.
const NOW: i64 = 1_700_000_000_000;
const WAIT: Duration = Duration::from_secs(10);

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug, Clone)]
enum Op {
    /// A batch of records: a key out of four (or none), and whether the value is null.
    Append(Vec<(Option<u8>, bool)>),
    /// A maintenance pass of the partition (compaction of the sealed segments).
    Compact,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let record = (
        prop::option::weighted(0.9, 0u8..4),
        prop::bool::weighted(0.15),
    );
    prop_oneof![
        3 => prop::collection::vec(record, 1..6).prop_map(Op::Append),
        1 => Just(Op::Compact),
    ]
}

/// The records of each batch, in offset order; an emptied batch stays as an empty list.
#[derive(Debug, Default)]
struct Model {
    batches: Vec<Vec<(u64, Option<u8>)>>,
    next_offset: u64,
}

impl Model {
    fn append(&mut self, records: &[(Option<u8>, bool)]) {
        let first = self.next_offset;
        self.batches.push(
            (first..)
                .zip(records)
                .map(|(offset, (key, _))| (offset, *key))
                .collect(),
        );
        self.next_offset += records.len() as u64;
    }

    /// A pass over the sealed segments (every batch but the last): a keyed record survives iff
    /// it is the latest of its key among them.
    fn compact(&mut self) {
        let Some((_, sealed)) = self.batches.split_last_mut() else {
            return;
        };
        let mut latest = HashMap::new();
        for &(offset, key) in sealed.iter().flatten() {
            if let Some(k) = key {
                latest.insert(k, offset);
            }
        }
        for b in sealed {
            b.retain(|&(offset, key)| key.is_none_or(|k| latest.get(&k) == Some(&offset)));
        }
    }

    fn surviving_from(&self, from: u64) -> Vec<u64> {
        self.batches
            .iter()
            .flatten()
            .map(|&(offset, _)| offset)
            .filter(|&o| o >= from)
            .collect()
    }
}

fn append(p: &Partition, records: &[(Option<u8>, bool)]) {
    let records: Vec<NewRecord> = records
        .iter()
        .map(|(key, tombstone)| NewRecord {
            timestamp: Some(NOW),
            key: key.map(|k| Bytes::from(format!("k{k}"))),
            value: (!tombstone).then(|| Bytes::from_static(b"v")),
            headers: vec![],
        })
        .collect();
    p.append_records(&records, NOW).expect("appends");
}

fn offsets(records: &Value) -> Vec<u64> {
    records
        .as_array()
        .unwrap_or_else(|| panic!("an array: {records}"))
        .iter()
        .map(|r| r["offset"].as_u64().expect("offset"))
        .collect()
}

/// The stateless read as a client uses it: continue at the last record's offset + 1 until `[]`.
async fn stateless_from(router: &Router, from: u64, end: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut next = from;
    for _ in 0..=end {
        let uri = format!("/topics/{TOPIC}/partitions/0/records?offset={next}");
        let (status, body) = send(router, Method::GET, &uri, None, Some(BINARY)).await;
        assert_eq!(status, StatusCode::OK, "read at {next}: {body}");
        let got = offsets(&body);
        let Some(&last) = got.last() else {
            return out;
        };
        out.extend(got);
        next = last + 1;
    }
    panic!("the stateless read from {from} never ended: {out:?}");
}

/// A v2 instance assigned the partition, sought to `from`, polled until `want` records came.
async fn v2_from(router: &Router, from: u64, want: usize) -> Vec<u64> {
    let base = "/consumers/g-v2/instances/c";
    let seek = json!({"offsets": [{"topic": TOPIC, "partition": 0, "offset": from}]});
    let (status, body) = send(
        router,
        Method::POST,
        &format!("{base}/positions"),
        Some(seek),
        Some(BINARY),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let mut out = Vec::new();
    for _ in 0..=want {
        if out.len() >= want {
            break;
        }
        let uri = format!("{base}/records?timeout=0");
        let (status, body) = send(router, Method::GET, &uri, None, Some(BINARY)).await;
        assert_eq!(status, StatusCode::OK, "poll from {from}: {body}");
        out.extend(offsets(&body));
    }
    out
}

/// Seeks a consume socket to `from`, grants `want` records and collects them.
async fn ws_from(ws: &mut Ws, from: u64, want: usize) -> Vec<u64> {
    let seek = json!({"type": "seek", "partition": 0, "offset": from});
    ws.send(Message::Text(seek.to_string().into()))
        .await
        .expect("seek");
    let credit = json!({"type": "credit", "records": want});
    ws.send(Message::Text(credit.to_string().into()))
        .await
        .expect("credit");
    let mut out = Vec::new();
    while out.len() < want {
        let frame = ws_frame(ws).await;
        assert_eq!(frame["type"], "records", "from {from}: {frame}");
        out.extend(offsets(&frame["records"]));
    }
    out
}

async fn ws_frame(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).expect("json"),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            other => panic!("expected a frame, got {other:?}"),
        }
    }
}

async fn run_case(ops: &[Op]) {
    let gw = TestGateway::new().await;
    let configs = BTreeMap::from([
        ("cleanup.policy".to_owned(), "compact".to_owned()),
        ("segment.bytes".to_owned(), "14".to_owned()),
    ]);
    gw.broker
        .create_topic(TOPIC, Some(1), None, configs, false)
        .expect("topic");
    let p = gw.broker.partition(TOPIC, 0).expect("partition");
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Append(records) => {
                append(&p, records);
                model.append(records);
            }
            Op::Compact => {
                p.maintain(NOW).expect("maintenance");
                model.compact();
            }
        }
    }
    // A last record no pass can touch (it is in the active segment): every reader has
    // something to find from every offset, so none is waited on for nothing.
    append(&p, &[(None, false)]);
    model.append(&[(None, false)]);
    let end = model.next_offset;
    // Maintenance drops segments compaction emptied at the start of the log, moving the log
    // start (as Kafka's); no surviving record may be below it.
    let (log_start, _) = p.offsets();
    assert_eq!(model.surviving_from(0), model.surviving_from(log_start));

    let ws_runtime = WsRuntime::new(
        WsLimits {
            max_connections: 16,
            max_message_size: 1 << 20,
            max_in_flight: 16,
            ping_interval: Duration::from_secs(60),
            pong_timeout: Duration::from_secs(60),
        },
        CancellationToken::new(),
    );
    let app = gw.router.clone().layer(axum::Extension(ws_runtime));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let url = |q: &str| format!("ws://{addr}/v1/ws/consume?topic={TOPIC}&format=binary&{q}");
    let mut plain = tokio_tungstenite::connect_async(url("partition=0"))
        .await
        .expect("plain socket")
        .0;
    let mut member = tokio_tungstenite::connect_async(url("group=g-ws&from=earliest"))
        .await
        .expect("group socket")
        .0;
    let assignment = ws_frame(&mut member).await;
    assert_eq!(assignment["type"], "assignment", "{assignment}");

    let (status, body) = send(
        &gw.router,
        Method::POST,
        "/consumers/g-v2",
        Some(json!({"name": "c", "format": "binary", "auto.offset.reset": "earliest"})),
        Some(BINARY),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let parts = json!({"partitions": [{"topic": TOPIC, "partition": 0}]});
    let (status, body) = send(
        &gw.router,
        Method::POST,
        "/consumers/g-v2/instances/c/assignments",
        Some(parts),
        Some(BINARY),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    for from in log_start..end {
        let want = model.surviving_from(from);
        assert_eq!(
            stateless_from(&gw.router, from, end).await,
            want,
            "stateless read from {from}"
        );
        assert_eq!(
            v2_from(&gw.router, from, want.len()).await,
            want,
            "v2 instance from {from}"
        );
        assert_eq!(
            ws_from(&mut plain, from, want.len()).await,
            want,
            "WebSocket from {from}"
        );
        assert_eq!(
            ws_from(&mut member, from, want.len()).await,
            want,
            "group WebSocket from {from}"
        );
    }
    server.abort();
}

proptest! {
    // Each case runs a server and reads every offset four ways; `PROPTEST_CASES` searches deeper.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(12),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_reader_sees_exactly_the_records_compaction_kept(
        ops in prop::collection::vec(op_strategy(), 1..20),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run_case(&ops));
    }
}
