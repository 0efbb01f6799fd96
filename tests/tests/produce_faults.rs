//! One fault, one answer: v2 produce, v3 records (single, streaming, `records:batch`) and
//! WebSocket produce go through one ingest pipeline, so the same faulty input gets the same
//! HTTP status on each, with the code each API's convention gives it (v2 and WebSocket:
//! Confluent's five-digit codes; v3: its own), and nothing of a refused request is written.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

use crate::support::{JSON_V2, Runnel, ws_produce, ws_reply};

/// One faulty input, as each front-end spells it, and the answers expected.
struct Fault {
    name: &'static str,
    topic: &'static str,
    /// The v2 record and the v3 record carrying the fault.
    v2: Value,
    v3: Value,
    status: u16,
    v2_code: u64,
    v3_code: u64,
}

fn faults() -> Vec<Fault> {
    let big = "x".repeat(2_000);
    vec![
        Fault {
            name: "unknown partition",
            topic: "plain",
            v2: json!({"value": 1, "partition": 7}),
            v3: json!({"partition_id": 7, "value": {"type": "JSON", "data": 1}}),
            status: 404,
            v2_code: 40402,
            v3_code: 40403,
        },
        Fault {
            name: "negative partition",
            topic: "plain",
            v2: json!({"value": 1, "partition": -1}),
            v3: json!({"partition_id": -1, "value": {"type": "JSON", "data": 1}}),
            status: 404,
            v2_code: 40402,
            v3_code: 40403,
        },
        Fault {
            name: "record over max.message.bytes",
            topic: "small",
            v2: json!({"key": "k", "value": big}),
            v3: json!({"key": {"type": "STRING", "data": "k"}, "value": {"type": "STRING", "data": big}}),
            status: 413,
            v2_code: 413,
            v3_code: 413,
        },
        Fault {
            name: "keyless record into a compacted topic",
            topic: "compacted",
            v2: json!({"value": 1}),
            v3: json!({"value": {"type": "JSON", "data": 1}}),
            status: 422,
            v2_code: 42203,
            v3_code: 42203,
        },
    ]
}

/// The HTTP status of a WebSocket upgrade the server refused.
async fn refused_upgrade(r: &Runnel, topic: &str) -> u16 {
    let url = format!("ws://127.0.0.1:{}/v1/ws/produce?topic={topic}", r.port());
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("upgrade to {topic} failed without an HTTP answer: {e}"),
        Ok(_) => panic!("upgrade to {topic} was accepted"),
    }
}

#[tokio::test]
async fn the_same_fault_gets_the_same_status_on_every_front_end() {
    let r = Runnel::start_with_topic("plain", 2).await;
    r.create_topic("small", 1, &[("max.message.bytes", "1024")])
        .await;
    r.create_topic("compacted", 1, &[("cleanup.policy", "compact")])
        .await;
    let cid = r.cluster_id().await;

    for f in faults() {
        // v2: the whole request is refused with the fault's status and Confluent's code.
        let (status, body) = r
            .post(
                &format!("/topics/{}", f.topic),
                JSON_V2,
                &json!({"records": [{"key": "ok", "value": 0}, f.v2]}),
            )
            .await;
        assert_eq!(
            (status, &body["error_code"]),
            (f.status, &json!(f.v2_code)),
            "v2, {}: {body}",
            f.name
        );

        // v3 single record: the same status, v3's code.
        let path = format!("/v3/clusters/{cid}/topics/{}/records", f.topic);
        let (status, body) = r.post(&path, "application/json", &f.v3).await;
        assert_eq!(
            (status, &body["error_code"]),
            (f.status, &json!(f.v3_code)),
            "v3, {}: {body}",
            f.name
        );

        // v3 records:batch: the entry fails with the same code.
        let mut entry = f.v3.clone();
        entry["id"] = json!("e1");
        let (status, body) = r
            .post(
                &format!("/v3/clusters/{cid}/topics/{}/records:batch", f.topic),
                "application/json",
                &json!({"entries": [entry]}),
            )
            .await;
        assert_eq!(status, 207, "batch, {}: {body}", f.name);
        assert_eq!(
            body["failures"][0]["error_code"],
            json!(f.v3_code),
            "batch, {}: {body}",
            f.name
        );

        // WebSocket: an error frame with the v2 code, the socket stays open.
        let mut ws = ws_produce(&r, f.topic).await;
        let message = json!({"type": "produce", "id": "m1", "records": [f.v2]});
        let frame = ws_reply(&mut ws, message.to_string()).await;
        assert_eq!(
            (&frame["type"], &frame["error_code"]),
            (&json!("error"), &json!(f.v2_code)),
            "ws, {}: {frame}",
            f.name
        );
    }

    // Faults of the topic itself: the same status before any record is looked at. A first
    // schema brings the registry's internal topic into being.
    r.register_schema("s-value", "\"string\"").await;
    for (topic, status, v2_code, v3_code) in [
        ("missing", 404, 40401, 40403),
        ("_schemas", 400, 40002, 40002),
    ] {
        let (got, body) = r
            .post(
                &format!("/topics/{topic}"),
                JSON_V2,
                &json!({"records": [{"key": "k", "value": 1}]}),
            )
            .await;
        assert_eq!(
            (got, &body["error_code"]),
            (status, &json!(v2_code)),
            "v2 to {topic}: {body}"
        );
        let (got, body) = r
            .post(
                &format!("/v3/clusters/{cid}/topics/{topic}/records"),
                "application/json",
                &json!({"key": {"type": "STRING", "data": "k"}, "value": {"type": "JSON", "data": 1}}),
            )
            .await;
        assert_eq!(
            (got, &body["error_code"]),
            (status, &json!(v3_code)),
            "v3 to {topic}: {body}"
        );
        assert_eq!(refused_upgrade(&r, topic).await, status, "ws to {topic}");
    }

    // Nothing of any refused request was written.
    for (topic, partitions) in [("plain", 2), ("small", 1), ("compacted", 1)] {
        for p in 0..partitions {
            assert!(
                r.read_all(topic, p).await.is_empty(),
                "{topic}-{p} holds records"
            );
        }
    }
    r.assert_no_panic();
}

#[tokio::test]
async fn keyless_records_of_one_request_or_message_share_one_partition() {
    let r = Runnel::start_with_topic("spread", 8).await;
    // 40 KiB a request: more than the 16 KiB after which a sticky partition moves on, so a
    // choice per record would spread one request.
    let records: Vec<Value> = (0..20)
        .map(|i| json!({"value": format!("{i}{}", "v".repeat(2_000))}))
        .collect();
    for _ in 0..5 {
        let offsets = r.produce_ok("spread", &records).await;
        let first = offsets[0].0;
        assert!(
            offsets.iter().all(|(p, _)| *p == first),
            "v2 request split: {offsets:?}"
        );
    }
    let mut ws = ws_produce(&r, "spread").await;
    for id in 0..5 {
        let message = json!({"type": "produce", "id": id, "records": records});
        let frame = ws_reply(&mut ws, message.to_string()).await;
        assert_eq!(frame["type"], "ack", "{frame}");
        let partitions: Vec<&Value> = frame["offsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| &o["partition"])
            .collect();
        assert!(
            partitions.iter().all(|p| *p == partitions[0]),
            "ws message split: {frame}"
        );
    }
    r.assert_no_panic();
}

#[tokio::test]
async fn quoted_partitions_and_schema_ids_are_understood_as_confluent_s_jackson_does() {
    let r = Runnel::start_with_topic("q", 3).await;
    let cid = r.cluster_id().await;
    let body = r
        .post_expect(
            "/topics/q",
            JSON_V2,
            &json!({"records": [{"value": 1, "partition": "2"}]}),
            200,
        )
        .await;
    assert_eq!(body["offsets"][0]["partition"], 2, "{body}");
    let (status, body) = r
        .post(
            &format!("/v3/clusters/{cid}/topics/q/records"),
            "application/json",
            &json!({"partition_id": "1", "value": {"type": "JSON", "data": 1}}),
        )
        .await;
    assert_eq!((status, &body["partition_id"]), (200, &json!(1)), "{body}");

    // An avro produce naming its value schema by a quoted id.
    let id = r.register_schema("q-value", "\"long\"").await.to_string();
    let body = r
        .post_expect(
            "/topics/q",
            "application/vnd.kafka.avro.v2+json",
            &json!({"value_schema_id": id, "records": [{"value": 5, "partition": 0}]}),
            200,
        )
        .await;
    assert_eq!(body["value_schema_id"].to_string(), id, "{body}");

    let (status, body) = r
        .post(
            "/topics/q",
            JSON_V2,
            &json!({"records": [{"value": 1, "partition": "two"}]}),
        )
        .await;
    assert_eq!(
        (status, &body["error_code"]),
        (422, &json!(42203)),
        "{body}"
    );
    r.assert_no_panic();
}
