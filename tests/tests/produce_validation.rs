//! What produce accepts, and what readers and links answer: JSON values every reader parses
//! back, keys for compacted topics, real v3 timestamps, and numbers and links in range.

use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{
    BINARY_V2, JSON_V2, Runnel, assert_error, http_client, raw_request_body, status_json,
    ws_produce, ws_reply,
};

/// POSTs `body` byte for byte (a `serde_json::Value` could not even hold these bodies).
async fn post_text(r: &Runnel, path: &str, content_type: &str, body: String) -> (u16, Value) {
    let resp = http_client()
        .post(r.url(path))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("POST");
    status_json(resp).await
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// Values serde_json's raw values let through but readers refuse: 100,000-deep nesting, a
/// number past a double, a lone surrogate.
fn unreadable_values() -> Vec<String> {
    vec![
        nested(100_000),
        nested(65),
        "1e999999".to_owned(),
        r#"{"n":[-1E400]}"#.to_owned(),
        r#""\ud800""#.to_owned(),
        r#"{"s":"ok \udc00"}"#.to_owned(),
    ]
}

#[tokio::test]
async fn json_values_readers_cannot_parse_are_refused_at_produce() {
    let r = Runnel::start_with_topic("t", 1).await;
    let cid = r.cluster_id().await;
    let mut ws = ws_produce(&r, "t").await;
    for (i, bad) in unreadable_values().into_iter().enumerate() {
        // v2 json: the whole request is refused, its good record included.
        let body = format!(r#"{{"records":[{{"value":"good"}},{{"value":{bad}}}]}}"#);
        let got = post_text(&r, "/topics/t", JSON_V2, body).await;
        assert_error(&format!("v2 value {i}"), &got, 422, 42203);
        assert!(
            got.1["message"]
                .as_str()
                .unwrap()
                .contains("records[1].value"),
            "{got:?}"
        );
        let body = format!(r#"{{"records":[{{"key":{bad},"value":1}}]}}"#);
        let got = post_text(&r, "/topics/t", JSON_V2, body).await;
        assert_error(&format!("v2 key {i}"), &got, 422, 42203);

        // WebSocket JSON records: an error frame with the id; the socket stays open.
        let msg = format!(r#"{{"type":"produce","id":{i},"records":[{{"value":{bad}}}]}}"#);
        let frame = ws_reply(&mut ws, msg).await;
        assert_eq!(frame["type"], "error", "ws value {i}: {frame}");
        assert_eq!(frame["error_code"], 42203, "ws value {i}: {frame}");
        assert_eq!(frame["id"], i, "ws value {i}: {frame}");

        // v3 JSON data (within serde_json's own nesting limit, so the body parses).
        if bad.len() < 1000 {
            let body = format!(r#"{{"value":{{"type":"JSON","data":{bad}}}}}"#);
            let got = post_text(
                &r,
                &format!("/v3/clusters/{cid}/topics/t/records"),
                "application/json",
                body,
            )
            .await;
            assert_eq!(got.0, 400, "v3 value {i}: {got:?}");
            assert_eq!(got.1["error_code"], 400, "v3 value {i}: {got:?}");
        }
    }
    // The deepest value allowed still goes in, and everything reads back as JSON.
    let body = format!(r#"{{"records":[{{"value":{}}}]}}"#, nested(64));
    let (status, body) = post_text(&r, "/topics/t", JSON_V2, body).await;
    assert_eq!(status, 200, "{body}");
    let frame = ws_reply(
        &mut ws,
        r#"{"type":"produce","id":"ok","records":[{"value":2}]}"#.into(),
    )
    .await;
    assert_eq!(frame["type"], "ack", "{frame}");
    let read = r.read_all("t", 0).await;
    assert_eq!(
        read.len(),
        2,
        "only the two good records were stored: {read:?}"
    );
    r.assert_no_panic();
}

/// Values stored before produce checked them (here: written in the binary format, read in the
/// json one) cost a reader only themselves: the records before one are answered, the reader
/// then fails on it alone, naming its offset, and continues past it once it skips it.
#[tokio::test]
async fn an_unreadable_stored_value_costs_readers_only_itself() {
    let r = Runnel::start_with_topic("old", 1).await;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let records = json!({"records": [
        {"value": b64("\"first\"")},
        {"value": b64(r#""\ud800""#)},
        {"value": b64("\"third\"")},
    ]});
    r.post_expect("/topics/old", BINARY_V2, &records, 200).await;

    // Stateless read.
    let (status, body) = r.read_raw("old", 0, 0, JSON_V2, "").await;
    assert_eq!(status, 200, "{body}");
    let values: Vec<&Value> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["value"])
        .collect();
    assert_eq!(values, [&json!("first")]);
    let got = r.read_raw("old", 0, 1, JSON_V2, "").await;
    assert_error("read at the bad record", &got, 422, 42203);
    assert!(
        got.1["message"].as_str().unwrap().contains("offset 1"),
        "{got:?}"
    );
    let (status, body) = r.read_raw("old", 0, 2, JSON_V2, "").await;
    assert_eq!(
        (status, &body[0]["value"]),
        (200, &json!("third")),
        "{body}"
    );

    // A v2 consumer instance: the first poll answers the good record, the next fails naming
    // the bad one without moving, a seek past it goes on.
    r.post_expect(
        "/consumers/g",
        "application/vnd.kafka.v2+json",
        &json!({"name": "c", "format": "json"}),
        200,
    )
    .await;
    let inst = "/consumers/g/instances/c";
    let parts = json!({"partitions": [{"topic": "old", "partition": 0}]});
    r.post_expect(
        &format!("{inst}/assignments"),
        "application/vnd.kafka.v2+json",
        &parts,
        204,
    )
    .await;
    let positions = json!({"offsets": [{"topic": "old", "partition": 0, "offset": 0}]});
    r.post_expect(
        &format!("{inst}/positions"),
        "application/vnd.kafka.v2+json",
        &positions,
        204,
    )
    .await;
    let poll = || async {
        let resp = http_client()
            .get(r.url(&format!("{inst}/records?timeout=200")))
            .header("Accept", JSON_V2)
            .send()
            .await
            .expect("poll");
        status_json(resp).await
    };
    let (status, body) = poll().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body[0]["value"], "first", "{body}");
    for _ in 0..2 {
        let got = poll().await;
        assert_error("poll at the bad record", &got, 422, 42203);
    }
    let skip = json!({"offsets": [{"topic": "old", "partition": 0, "offset": 2}]});
    r.post_expect(
        &format!("{inst}/positions"),
        "application/vnd.kafka.v2+json",
        &skip,
        204,
    )
    .await;
    let (status, body) = poll().await;
    assert_eq!(
        (status, &body[0]["value"]),
        (200, &json!("third")),
        "{body}"
    );
    r.assert_no_panic();
}

#[tokio::test]
async fn compacted_topics_refuse_records_without_keys() {
    let r = Runnel::start().await;
    r.create_topic("c", 2, &[("cleanup.policy", "compact")])
        .await;
    r.create_topic("cd", 1, &[("cleanup.policy", "compact,delete")])
        .await;
    let cid = r.cluster_id().await;
    for topic in ["c", "cd"] {
        let got = r
            .produce_json(
                topic,
                &[json!({"key": "k", "value": 1}), json!({"value": 2})],
            )
            .await;
        assert_error(&format!("v2 into {topic}"), &got, 422, 42203);
        assert!(
            got.1["message"]
                .as_str()
                .unwrap()
                .contains("records[1].key"),
            "{got:?}"
        );
        let got = r
            .produce_json(topic, &[json!({"key": null, "value": 1, "partition": 0})])
            .await;
        assert_error(&format!("v2 null key into {topic}"), &got, 422, 42203);
    }
    let got = r
        .post(
            &format!("/v3/clusters/{cid}/topics/c/records"),
            "application/json",
            &json!({"value": {"type": "JSON", "data": 1}}),
        )
        .await;
    assert_eq!(got.0, 422, "{got:?}");
    assert_eq!(got.1["error_code"], 42203, "{got:?}");
    assert!(
        got.1["message"].as_str().unwrap().contains("key"),
        "{got:?}"
    );

    let mut ws = ws_produce(&r, "c").await;
    let frame = ws_reply(
        &mut ws,
        r#"{"type":"produce","id":"a","records":[{"value":1}]}"#.into(),
    )
    .await;
    assert_eq!(
        (&frame["type"], &frame["error_code"]),
        (&json!("error"), &json!(42203)),
        "{frame}"
    );

    // Nothing keyless got in; keyed records and keyed tombstones do.
    for p in 0..2 {
        assert!(r.read_all("c", p).await.is_empty());
    }
    let (status, body) = r
        .produce_json(
            "c",
            &[
                json!({"key": "k", "value": 1}),
                json!({"key": "k", "value": null}),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let frame = ws_reply(
        &mut ws,
        r#"{"type":"produce","id":"b","records":[{"key":"k","value":1}]}"#.into(),
    )
    .await;
    assert_eq!(frame["type"], "ack", "{frame}");
    r.assert_no_panic();
}

#[tokio::test]
async fn v3_timestamps_must_be_real_instants_since_the_epoch() {
    let r = Runnel::start_with_topic("t", 1).await;
    let cid = r.cluster_id().await;
    let path = format!("/v3/clusters/{cid}/topics/t/records");
    for bad in [
        "1969-12-31T23:59:59Z",
        "1900-01-01T00:00:00Z",
        "2021-02-30T00:00:00Z",
        "2021-02-29T12:00:00Z",
        "2021-02-05T24:00:00Z",
        "2021-02-05T19:14:42-24:00",
        "2021-02-05T19:14:42+00:60",
        "2021-02-05T19:14:61Z",
    ] {
        let got = r
            .post(
                &path,
                "application/json",
                &json!({"timestamp": bad, "value": {"type": "JSON", "data": 1}}),
            )
            .await;
        assert_eq!(got.0, 400, "{bad}: {got:?}");
        assert_eq!(got.1["error_code"], 400, "{bad}: {got:?}");
        assert!(
            got.1["message"].as_str().unwrap().contains("timestamp"),
            "{bad}: {got:?}"
        );
    }
    let body = r
        .post_expect(&path, "application/json", &json!({"timestamp": "2024-02-29T01:00:00.250+01:00", "value": {"type": "JSON", "data": 1}}), 200)
        .await;
    assert_eq!(body["timestamp"], "2024-02-29T00:00:00.250Z", "{body}");
    let read = r.read_all("t", 0).await;
    assert_eq!(read.len(), 1, "only the good record is stored: {read:?}");
    assert_eq!(read[0]["timestamp"], 1_709_164_800_250_u64);
    r.assert_no_panic();
}

#[tokio::test]
async fn committed_offsets_stay_within_int64() {
    let r = Runnel::start_with_topic("t", 1).await;
    let v2 = "application/vnd.kafka.v2+json";
    r.post_expect("/consumers/g", v2, &json!({"name": "c"}), 200)
        .await;
    let inst = "/consumers/g/instances/c";
    let parts = json!({"partitions": [{"topic": "t", "partition": 0}]});
    r.post_expect(&format!("{inst}/assignments"), v2, &parts, 204)
        .await;

    // The last processed offset i64::MAX has no next offset to commit.
    let max = i64::MAX;
    let commit = |o: i64| json!({"offsets": [{"topic": "t", "partition": 0, "offset": o}]});
    let got = r.post(&format!("{inst}/offsets"), v2, &commit(max)).await;
    assert_error("commit i64::MAX", &got, 422, 42203);
    r.post_expect(&format!("{inst}/offsets"), v2, &commit(max - 1), 200)
        .await;
    let resp = http_client()
        .get(r.url(&format!("{inst}/offsets")))
        .header("Content-Type", v2)
        .body(parts.to_string())
        .send()
        .await
        .expect("GET offsets");
    let (status, text) = (resp.status().as_u16(), resp.text().await.unwrap());
    assert_eq!(status, 200, "{text}");
    // Checked on the text: a JSON number past i64 would still parse as a u64.
    assert!(text.contains(&format!("\"offset\":{max}")), "{text}");

    // WebSocket group commits past i64::MAX are refused too.
    let url = format!(
        "ws://127.0.0.1:{}/v1/ws/consume?topic=t&group=w&from=earliest",
        r.port()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
    loop {
        let Message::Text(t) = ws.next().await.unwrap().unwrap() else {
            continue;
        };
        let frame: Value = serde_json::from_str(&t).unwrap();
        if frame["type"] == "assignment" {
            break;
        }
    }
    let commit =
        r#"{"type":"commit","offsets":[{"topic":"t","partition":0,"offset":9223372036854775808}]}"#;
    ws.send(Message::Text(commit.into())).await.unwrap();
    let frame = loop {
        let Message::Text(t) = ws.next().await.unwrap().unwrap() else {
            continue;
        };
        break serde_json::from_str::<Value>(&t).unwrap();
    };
    assert_eq!(frame["type"], "error", "{frame}");
    r.assert_no_panic();
}

#[tokio::test]
async fn links_to_groups_and_instances_are_well_formed() {
    let r = Runnel::start_with_topic("t", 1).await;
    let v2 = "application/vnd.kafka.v2+json";
    // `.` and `..` cannot be addressed by a URL (parsers resolve them, percent-encoded too),
    // so they are refused as group and instance names. Sent byte for byte: a URL library would
    // resolve `%2e%2e` away before sending.
    for (path, name) in [
        ("/consumers/%2e%2e", "x"),
        ("/consumers/.", "x"),
        ("/consumers/g", ".."),
        ("/consumers/g", "."),
    ] {
        let got = raw_request_body(
            r.port(),
            "POST",
            path,
            &[("Content-Type", v2)],
            &json!({ "name": name }).to_string(),
        );
        assert!(got.0 == 400 || got.0 == 422, "{path} {name}: {got:?}");
    }
    // Names that need escaping get it, one path segment each.
    let got = raw_request_body(
        r.port(),
        "POST",
        "/consumers/a%2Fb%20..",
        &[("Content-Type", v2)],
        r#"{"name":"i/..?"}"#,
    );
    assert_eq!(got.0, 200, "{got:?}");
    let base_uri = got.1["base_uri"].as_str().unwrap();
    assert!(
        base_uri.ends_with("/consumers/a%2Fb%20../instances/i%2F..%3F"),
        "{base_uri}"
    );
    let inst = "/consumers/a%2Fb%20../instances/i%2F..%3F";
    let parts = r#"{"partitions":[{"topic":"t","partition":0}]}"#;
    let got = raw_request_body(
        r.port(),
        "POST",
        &format!("{inst}/assignments"),
        &[("Content-Type", v2)],
        parts,
    );
    assert_eq!(got.0, 204, "{got:?}");
    let commit = r#"{"offsets":[{"topic":"t","partition":0,"offset":0}]}"#;
    let got = raw_request_body(
        r.port(),
        "POST",
        &format!("{inst}/offsets"),
        &[("Content-Type", v2)],
        commit,
    );
    assert_eq!(got.0, 200, "{got:?}");
    let cid = r.cluster_id().await;
    let (status, body) = r
        .get_json(&format!("/v3/clusters/{cid}/consumer-groups"))
        .await;
    assert_eq!(status, 200, "{body}");
    let text = body.to_string();
    assert!(text.contains("/consumer-groups/a%2Fb%20.."), "{text}");
    r.assert_no_panic();
}

#[tokio::test]
async fn negative_partitions_are_named_as_given() {
    let r = Runnel::start_with_topic("t", 2).await;
    for p in [-1_i64, -2_147_483_648, 4_294_967_295] {
        let got = r
            .produce_json("t", &[json!({"value": 1, "partition": p})])
            .await;
        assert_error(&format!("v2 partition {p}"), &got, 404, 40402);
        let message = got.1["message"].as_str().unwrap();
        assert!(message.contains(&format!("Partition {p} ")), "{message}");
    }
    let got = r
        .produce_json("t", &[json!({"value": 1, "partition": -1})])
        .await;
    assert!(!got.1.to_string().contains("4294967295"), "{got:?}");

    let mut ws = ws_produce(&r, "t").await;
    let frame = ws_reply(
        &mut ws,
        r#"{"type":"produce","id":1,"records":[{"value":1,"partition":-1}]}"#.into(),
    )
    .await;
    assert_eq!(frame["error_code"], 40402, "{frame}");
    assert!(
        frame["message"].as_str().unwrap().contains("Partition -1 "),
        "{frame}"
    );
    r.assert_no_panic();
}
