//! Where readers continue, through the real server (issue 9, items 2, 13 and 14): every reader
//! crosses offsets that compaction removed and sees exactly the records that survived; a v2
//! consumer whose position is out of range applies `auto.offset.reset`; a plain WebSocket
//! consumer whose topic is deleted and created again is told so and closed.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{JSON_V2, Runnel, Ws, assert_error};

const V2: &str = "application/vnd.kafka.v2+json";
/// Longest a test waits for the server to do something in the background (a compaction pass
/// runs every second by default).
const PATIENCE: Duration = Duration::from_secs(20);

/// Produces keyed JSON records to partition 0 in one request (one batch); returns their offsets.
async fn produce_keyed(r: &Runnel, topic: &str, keys: &[String]) -> Vec<u64> {
    let records: Vec<Value> = keys
        .iter()
        .map(|k| json!({"key": k, "value": {"key": k}}))
        .collect();
    let body = r
        .post_expect(
            &format!("/topics/{topic}/partitions/0"),
            JSON_V2,
            &json!({ "records": records }),
            200,
        )
        .await;
    body["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["offset"].as_u64().unwrap())
        .collect()
}

fn offsets(records: &[Value]) -> Vec<u64> {
    records
        .iter()
        .map(|r| r["offset"].as_u64().unwrap())
        .collect()
}

/// One stateless read of partition 0 from `offset`.
async fn read_at(r: &Runnel, topic: &str, offset: u64) -> Vec<Value> {
    let (status, body) = r.read_raw(topic, 0, offset, JSON_V2, "").await;
    assert_eq!(status, 200, "read {topic} at {offset}: {body}");
    body.as_array().expect("an array").clone()
}

/// A compacted topic whose first batch (keys k0..k9, offsets 0..9) lost k1..k9 to a later
/// batch, followed by 540 records of unique keys; every batch is its own segment. Waits until
/// compaction has cleaned the first batch and returns the offsets that survive: 0 and 10..=558.
async fn compacted_topic(r: &Runnel, topic: &str) -> Vec<u64> {
    r.create_topic(
        topic,
        1,
        &[("cleanup.policy", "compact"), ("segment.bytes", "14")],
    )
    .await;
    let first: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    assert_eq!(
        produce_keyed(r, topic, &first).await,
        (0..10).collect::<Vec<_>>()
    );
    let overwrite: Vec<String> = (1..10).map(|i| format!("k{i}")).collect();
    assert_eq!(
        produce_keyed(r, topic, &overwrite).await,
        (10..19).collect::<Vec<_>>()
    );
    for chunk in 0..9 {
        let keys: Vec<String> = (0..60).map(|i| format!("u{}", chunk * 60 + i)).collect();
        produce_keyed(r, topic, &keys).await;
    }
    // Offset 0 is read from the first segment alone either way; once compaction cleaned it,
    // offset 1 is no longer there.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let got = offsets(&read_at(r, topic, 0).await);
        if got.first() == Some(&0) && !got.contains(&1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "compaction never removed offsets 1..=9"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::iter::once(0).chain(10..559).collect()
}

/// Reads partition 0 from `from` as a client of the stateless read does: each read continues
/// at the last record's offset + 1, until a read answers `[]`.
async fn read_through(r: &Runnel, topic: &str, from: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut next = from;
    loop {
        let got = offsets(&read_at(r, topic, next).await);
        let Some(&last) = got.last() else {
            return out;
        };
        out.extend(got);
        next = last + 1;
    }
}

/// Before the fix a read at 1 answered `[]` for good: the batch holding offset 1 held only
/// offset 0 after compaction, and the read ended with its segment.
#[tokio::test]
async fn stateless_reads_continue_past_offsets_compaction_removed() {
    let r = Runnel::start().await;
    let surviving = compacted_topic(&r, "compacted").await;
    assert_eq!(read_through(&r, "compacted", 0).await, surviving);
    for from in 1..=10 {
        let got = read_at(&r, "compacted", from).await;
        assert_eq!(
            got.first().map(|g| g["offset"].clone()),
            Some(json!(10)),
            "from {from}"
        );
        assert_eq!(read_through(&r, "compacted", from).await, surviving[1..]);
    }
    r.assert_no_panic();
}

/// A v2 instance of `group` named `name` with `auto.offset.reset=earliest`.
async fn instance(r: &Runnel, group: &str, name: &str, reset: &str) {
    let body = json!({"name": name, "format": "json", "auto.offset.reset": reset,
                      "auto.commit.enable": "false"});
    r.post_expect(&format!("/consumers/{group}"), V2, &body, 200)
        .await;
}

async fn poll(r: &Runnel, group: &str, name: &str, timeout_ms: u64) -> (u16, Value) {
    let path = format!("/consumers/{group}/instances/{name}/records?timeout={timeout_ms}");
    r.get_accept(&path, JSON_V2).await
}

/// Polls until `want` records arrived or polls stay empty for a while.
async fn poll_all(r: &Runnel, group: &str, name: &str, want: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut empty = 0;
    while out.len() < want && empty < 10 {
        let (status, body) = poll(r, group, name, 500).await;
        assert_eq!(status, 200, "{body}");
        let got = offsets(body.as_array().unwrap());
        empty = if got.is_empty() { empty + 1 } else { 0 };
        out.extend(got);
    }
    out
}

/// Before the fix a group consumer saw 1 record: its position became offset 0 + 1, inside the
/// batch compaction had thinned, and every poll after read that batch to nothing.
#[tokio::test]
async fn a_group_consumer_sees_every_record_that_survived_compaction() {
    let r = Runnel::start().await;
    let surviving = compacted_topic(&r, "compacted").await;
    instance(&r, "readers", "one", "earliest").await;
    r.post_expect(
        "/consumers/readers/instances/one/subscription",
        V2,
        &json!({"topics": ["compacted"]}),
        204,
    )
    .await;
    assert_eq!(
        poll_all(&r, "readers", "one", surviving.len()).await,
        surviving
    );

    r.assert_no_panic();
}

async fn ws_connect(r: &Runnel, query: &str) -> Ws {
    let url = format!("ws://127.0.0.1:{}/v1/ws/consume?{query}", r.port());
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The next text frame, skipping pings; `None` when the socket closed.
async fn ws_next(ws: &mut Ws) -> Option<Value> {
    loop {
        match tokio::time::timeout(PATIENCE, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(Some(Ok(Message::Close(_))) | None) => return None,
            other => panic!("expected a frame, got {other:?}"),
        }
    }
}

/// Collects record offsets until `want` arrived.
async fn ws_records(ws: &mut Ws, want: usize) -> Vec<u64> {
    let mut out = Vec::new();
    while out.len() < want {
        let frame = ws_next(ws).await.expect("the socket stays open");
        match frame["type"].as_str() {
            Some("records") => out.extend(offsets(frame["records"].as_array().unwrap())),
            Some("assignment") => {}
            _ => panic!("unexpected frame {frame}"),
        }
    }
    out
}

#[tokio::test]
async fn websocket_consumers_see_every_record_that_survived_compaction() {
    let r = Runnel::start().await;
    let surviving = compacted_topic(&r, "compacted").await;

    let mut plain = ws_connect(&r, "topic=compacted&from=earliest&credit=100000").await;
    assert_eq!(ws_records(&mut plain, surviving.len()).await, surviving);

    let mut inside = ws_connect(&r, "topic=compacted&from=1&credit=100000").await;
    assert_eq!(
        ws_records(&mut inside, surviving.len() - 1).await,
        surviving[1..]
    );

    let mut member = ws_connect(
        &r,
        "topic=compacted&group=ws-readers&from=earliest&credit=100000",
    )
    .await;
    assert_eq!(ws_records(&mut member, surviving.len()).await, surviving);
    // Committed at the position after the last batch, a new member reads nothing again.
    member
        .send(Message::Text(r#"{"type":"commit"}"#.into()))
        .await
        .unwrap();
    let committed = ws_next(&mut member).await.expect("committed frame");
    assert_eq!(committed["type"], "committed", "{committed}");
    assert_eq!(committed["offsets"][0]["offset"], 559, "{committed}");
    r.assert_no_panic();
}

/// An instance of `group`, reading partition 0 of `topic` by assignment, sought to `offset`.
async fn assigned_and_sought(r: &Runnel, group: &str, reset: &str, topic: &str, offset: u64) {
    instance(r, group, "c", reset).await;
    let base = format!("/consumers/{group}/instances/c");
    let parts = json!({"partitions": [{"topic": topic, "partition": 0}]});
    r.post_expect(&format!("{base}/assignments"), V2, &parts, 204)
        .await;
    let seek = json!({"offsets": [{"topic": topic, "partition": 0, "offset": offset}]});
    r.post_expect(&format!("{base}/positions"), V2, &seek, 204)
        .await;
}

/// Before the fix an instance sought past the end polled `[]` forever, even after new records
/// arrived. As Kafka's consumer on `OFFSET_OUT_OF_RANGE`: `earliest` and `latest` move the
/// position, `none` fails the poll; the log end itself is in range.
#[tokio::test]
async fn a_consumer_sought_past_the_end_applies_its_reset_policy() {
    let r = Runnel::start_with_topic("t", 1).await;
    let keys: Vec<String> = (0..5).map(|i| format!("k{i}")).collect();
    produce_keyed(&r, "t", &keys).await;

    assigned_and_sought(&r, "early", "earliest", "t", 1000).await;
    assert_eq!(poll_all(&r, "early", "c", 5).await, vec![0, 1, 2, 3, 4]);

    assigned_and_sought(&r, "late", "latest", "t", 1000).await;
    let (status, body) = poll(&r, "late", "c", 200).await;
    assert_eq!((status, body), (200, json!([])));
    produce_keyed(&r, "t", &["k5".into(), "k6".into()]).await;
    assert_eq!(poll_all(&r, "late", "c", 2).await, vec![5, 6]);

    assigned_and_sought(&r, "strict", "none", "t", 1000).await;
    assert_error(
        "poll past the end with reset none",
        &poll(&r, "strict", "c", 200).await,
        400,
        40002,
    );

    // The log end is the next offset to be written, not out of range: no reset to 0.
    assigned_and_sought(&r, "tail", "earliest", "t", 7).await;
    let (status, body) = poll(&r, "tail", "c", 200).await;
    assert_eq!((status, body), (200, json!([])));
    produce_keyed(&r, "t", &["k7".into()]).await;
    assert_eq!(poll_all(&r, "tail", "c", 1).await, vec![7]);
    r.assert_no_panic();
}

async fn delete_topic(r: &Runnel, topic: &str) {
    let cid = r.cluster_id().await;
    let resp = r
        .http
        .delete(r.url(&format!("/v3/clusters/{cid}/topics/{topic}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}

/// The error frame and close code a plain socket gets when its topic goes away.
async fn expect_topic_gone(ws: &mut Ws) {
    let frame = ws_next(ws).await.expect("an error frame before the close");
    assert_eq!(frame["type"], "error", "{frame}");
    assert_eq!(frame["error_code"], 40401, "{frame}");
    let close = loop {
        match tokio::time::timeout(PATIENCE, ws.next()).await {
            Ok(Some(Ok(Message::Close(c)))) => break c,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            other => panic!("expected a close, got {other:?}"),
        }
    };
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Library(4404)));
}

/// Before the fix a plain consumer got nothing, and no error, for 41 s after its topic was
/// deleted and created again: its positions pointed into the deleted log.
#[tokio::test]
async fn a_websocket_consumer_is_closed_when_its_topic_is_deleted_or_recreated() {
    let r = Runnel::start_with_topic("t", 1).await;
    produce_keyed(&r, "t", &["a".into()]).await;
    let mut ws = ws_connect(&r, "topic=t&from=earliest&credit=100").await;
    assert_eq!(ws_records(&mut ws, 1).await, vec![0]);
    delete_topic(&r, "t").await;
    r.create_topic("t", 1, &[]).await;
    produce_keyed(&r, "t", &["b".into()]).await;
    expect_topic_gone(&mut ws).await;

    // Deleted and not created again.
    let mut ws = ws_connect(&r, "topic=t&from=earliest&credit=100").await;
    assert_eq!(ws_records(&mut ws, 1).await, vec![0]);
    delete_topic(&r, "t").await;
    expect_topic_gone(&mut ws).await;

    // A socket that connects after the recreation reads the new topic.
    r.create_topic("t", 1, &[]).await;
    produce_keyed(&r, "t", &["c".into()]).await;
    let mut ws = ws_connect(&r, "topic=t&from=earliest&credit=100").await;
    assert_eq!(ws_records(&mut ws, 1).await, vec![0]);
    r.assert_no_panic();
}
