//! The HTTP shapes of the issue-2 endpoints, through the real server: v3 clusters and topics,
//! v2 produce (json and binary), the stateless read with its long poll, and what survives a
//! restart. Shapes are CONTRACTS.md §0, §1.1 and §1.2.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::support::{
    BINARY_V2, JSON_V2, Runnel, assert_error, kafka_partition, offsets_of, raw_request_body,
};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn cluster_list_has_one_cluster_with_a_stable_id() {
    let mut r = Runnel::start().await;
    let (status, body) = r.get_json("/v3/clusters").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "KafkaClusterList", "{body}");
    assert_eq!(body["metadata"]["next"], Value::Null, "{body}");
    assert!(
        body["metadata"]["self"]
            .as_str()
            .unwrap()
            .ends_with("/v3/clusters"),
        "{body}"
    );
    let data = body["data"].as_array().expect("data array");
    assert_eq!(data.len(), 1, "exactly one cluster: {body}");
    let c = &data[0];
    assert_eq!(c["kind"], "KafkaCluster", "{c}");
    let cid = c["cluster_id"].as_str().expect("cluster_id").to_owned();
    assert!(!cid.is_empty());
    assert_eq!(
        c["metadata"]["resource_name"],
        format!("crn:///kafka={cid}"),
        "{c}"
    );
    assert!(
        c["metadata"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/clusters/{cid}")),
        "{c}"
    );
    for link in [
        "controller",
        "acls",
        "brokers",
        "broker_configs",
        "consumer_groups",
        "topics",
        "partition_reassignments",
    ] {
        assert!(c[link]["related"].is_string(), "{link} link in {c}");
    }
    assert!(
        c["topics"]["related"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/clusters/{cid}/topics")),
        "{c}"
    );

    let (status, one) = r.get_json(&format!("/v3/clusters/{cid}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(&one, c, "GET /v3/clusters/{{cid}} is the listed cluster");
    let (status, body) = r.get_json("/v3/clusters/no-such-cluster").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error_code"], 404, "{body}");

    r.restart().await;
    assert_eq!(
        r.cluster_id().await,
        cid,
        "cluster_id after a graceful restart"
    );
    r.crash_restart().await;
    assert_eq!(r.cluster_id().await, cid, "cluster_id after kill -9");
    r.assert_no_panic();
}

#[tokio::test]
async fn create_topic_answers_kafka_topic_and_refuses_bad_requests() {
    let r = Runnel::start().await;
    let cid = r.cluster_id().await;
    let create = |body: Value| {
        let r = &r;
        async move { r.try_create_topic(&body).await }
    };

    let (status, t) = create(json!({
        "topic_name": "orders",
        "partitions_count": 3,
        "replication_factor": 1,
        "configs": [{"name": "retention.ms", "value": "86400000"}],
    }))
    .await;
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["kind"], "KafkaTopic", "{t}");
    let self_url = t["metadata"]["self"].as_str().expect("metadata.self");
    assert!(
        self_url.starts_with("http://")
            && self_url.ends_with(&format!("/v3/clusters/{cid}/topics/orders")),
        "{t}"
    );
    assert_eq!(
        t["metadata"]["resource_name"],
        format!("crn:///kafka={cid}/topic=orders"),
        "{t}"
    );
    assert_eq!(t["cluster_id"], cid.as_str(), "{t}");
    assert_eq!(t["topic_name"], "orders", "{t}");
    assert_eq!(t["is_internal"], false, "{t}");
    assert_eq!(t["replication_factor"], 1, "{t}");
    assert_eq!(t["partitions_count"], 3, "{t}");
    assert_eq!(
        t["partitions"]["related"],
        format!("{self_url}/partitions"),
        "{t}"
    );
    assert_eq!(
        t["configs"]["related"],
        format!("{self_url}/configs"),
        "{t}"
    );

    // GET of the new topic and the lists agree.
    let (status, got) = r
        .get_json(&format!("/v3/clusters/{cid}/topics/orders"))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["partitions_count"], 3, "{got}");
    let (status, list) = r.get_json(&format!("/v3/clusters/{cid}/topics")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["kind"], "KafkaTopicList", "{list}");
    assert_eq!(list["data"][0]["topic_name"], "orders", "{list}");
    assert_eq!(r.get_json("/topics").await, (200, json!(["orders"])));

    // Already exists.
    let got = create(json!({"topic_name": "orders"})).await;
    assert_error("duplicate topic", &got, 400, 40002);
    assert!(
        got.1["message"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{}",
        got.1
    );

    // validate_only: 200 with the topic, nothing created.
    let (status, v) = create(json!({
        "topic_name": "dry-run",
        "partitions_count": 2,
        "validate_only": true,
    }))
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["kind"], "KafkaTopic", "{v}");
    assert_eq!(v["topic_name"], "dry-run", "{v}");
    assert_eq!(v["partitions_count"], 2, "{v}");
    assert_eq!(r.get_json("/topics").await, (200, json!(["orders"])));
    let (status, _) = r
        .get_json(&format!("/v3/clusters/{cid}/topics/dry-run"))
        .await;
    assert_eq!(status, 404, "validate_only must not create the topic");
    assert!(
        !r.data_dir().join("topics/dry-run-0").exists(),
        "validate_only created a partition directory"
    );

    // One broker: replication factor 3 is refused.
    let got = create(json!({"topic_name": "rf3", "replication_factor": 3})).await;
    assert_error("replication_factor 3", &got, 400, 40002);
    // Unknown config name.
    let got = create(json!({
        "topic_name": "badcfg",
        "configs": [{"name": "no.such.config", "value": "1"}],
    }))
    .await;
    assert_error("unknown config", &got, 400, 40002);
    // Invalid config value.
    let got = create(json!({
        "topic_name": "badval",
        "configs": [{"name": "retention.ms", "value": "soon"}],
    }))
    .await;
    assert_error("invalid config value", &got, 400, 40002);
    // Unknown cluster id.
    let got = r
        .post(
            "/v3/clusters/not-this-cluster/topics",
            "application/json",
            &json!({"topic_name": "elsewhere"}),
        )
        .await;
    assert_eq!(got.0, 404, "{}", got.1);
    assert_eq!(got.1["error_code"], 404, "{}", got.1);
    assert_eq!(
        r.get_json("/topics").await,
        (200, json!(["orders"])),
        "refused creates left no topic"
    );
    r.assert_no_panic();
}

#[tokio::test]
async fn v2_produce_json_and_binary_report_offsets_and_errors() {
    let r = Runnel::start_with_topic("events", 3).await;

    // json: values of every JSON type; the response is Confluent's shape.
    let (status, body) = r
        .produce_json(
            "events",
            &[
                json!({"value": {"a": 1, "b": [true, null]}, "partition": 0}),
                json!({"value": "text", "partition": 0}),
                json!({"value": 42.5, "partition": 0}),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["key_schema_id"], Value::Null, "{body}");
    assert_eq!(body["value_schema_id"], Value::Null, "{body}");
    assert_eq!(
        body["offsets"],
        json!([
            {"partition": 0, "offset": 0, "error_code": null, "error": null},
            {"partition": 0, "offset": 1, "error_code": null, "error": null},
            {"partition": 0, "offset": 2, "error_code": null, "error": null},
        ]),
        "{body}"
    );

    // binary: base64 key and value; the same key lands on the same partition every time, the
    // one Kafka's Java client would pick (murmur2).
    for key in ["user-1", "user-2", "another key", "k"] {
        let expected = kafka_partition(key.as_bytes(), 3);
        for i in 0..4 {
            let body = r
                .post_expect(
                    "/topics/events",
                    BINARY_V2,
                    &json!({"records": [{
                        "key": B64.encode(key),
                        "value": B64.encode(format!("v{i}")),
                    }]}),
                    200,
                )
                .await;
            let offs = offsets_of(&body);
            assert_eq!(
                offs[0].0, expected,
                "key {key:?} went to partition {} instead of murmur2's {expected}",
                offs[0].0
            );
        }
    }
    // json keys: the same key always picks the same partition too.
    let mut seen = None;
    for i in 0..5 {
        let (status, body) = r
            .produce_json("events", &[json!({"key": "order-17", "value": i})])
            .await;
        assert_eq!(status, 200, "{body}");
        let p = offsets_of(&body)[0].0;
        assert_eq!(*seen.get_or_insert(p), p, "json key changed partition");
    }

    // Explicit partition: in the record, and in the path.
    let (status, body) = r
        .produce_json("events", &[json!({"value": 1, "partition": 2})])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(offsets_of(&body)[0].0, 2);
    let got = r
        .post(
            "/topics/events/partitions/1",
            JSON_V2,
            &json!({"records": [{"value": "p1"}]}),
        )
        .await;
    assert_eq!(got.0, 200, "{}", got.1);
    assert_eq!(offsets_of(&got.1)[0].0, 1);

    // Errors.
    let got = r
        .post(
            "/topics/events",
            BINARY_V2,
            &json!({"records": [{"value": "not base64!!"}]}),
        )
        .await;
    assert_error("invalid base64", &got, 422, 42203);
    let empty = r
        .http
        .post(r.url("/topics/events"))
        .header("Content-Type", JSON_V2)
        .send()
        .await
        .unwrap();
    let got = crate::support::status_json(empty).await;
    assert_error("empty body", &got, 422, 42206);
    let got = r
        .post("/topics/events", JSON_V2, &json!({"records": []}))
        .await;
    assert_error("no records", &got, 422, 42206);
    let malformed = r
        .http
        .post(r.url("/topics/events"))
        .header("Content-Type", JSON_V2)
        .body(r#"{"records": [{"value": 1}"#)
        .send()
        .await
        .unwrap();
    let got = crate::support::status_json(malformed).await;
    assert_eq!(got.0, 400, "malformed JSON: {}", got.1);
    assert!(got.1["error_code"].is_u64(), "malformed JSON: {}", got.1);
    let got = r.produce_json("nope", &[json!({"value": 1})]).await;
    assert_error("unknown topic", &got, 404, 40401);
    let got = r
        .produce_json("events", &[json!({"value": 1, "partition": 7})])
        .await;
    assert_error("unknown partition in record", &got, 404, 40402);
    let got = r
        .post(
            "/topics/events/partitions/9",
            JSON_V2,
            &json!({"records": [{"value": 1}]}),
        )
        .await;
    assert_error("unknown partition in path", &got, 404, 40402);
    let got = r
        .post(
            "/topics/events",
            "text/plain",
            &json!({"records": [{"value": 1}]}),
        )
        .await;
    assert_eq!(got.0, 415, "text/plain: {}", got.1);
    assert_eq!(got.1["error_code"], 415, "{}", got.1);

    // Failed requests wrote nothing: partition 0 still holds exactly the first three records
    // plus what the keys sent there.
    let p0 = r.read_from("events", 0, 0, BINARY_V2).await;
    let value = |i: usize| -> Value {
        serde_json::from_slice(&B64.decode(p0[i]["value"].as_str().unwrap()).unwrap()).unwrap()
    };
    assert_eq!(value(0), json!({"a": 1, "b": [true, null]}));
    assert_eq!(value(1), "text");
    assert_eq!(value(2), 42.5);
    let total: usize = {
        let mut n = 0;
        for p in 0..3 {
            n += r.read_from("events", p, 0, BINARY_V2).await.len();
        }
        n
    };
    assert_eq!(total, 3 + 16 + 5 + 1 + 1, "records in all partitions");
    r.assert_no_panic();
}

#[tokio::test]
async fn stateless_read_answers_json_and_binary_with_headers_and_timestamps() {
    let r = Runnel::start_with_topic("reads", 1).await;
    let before = now_ms();
    let body = r
        .post_expect(
            "/topics/reads",
            BINARY_V2,
            &json!({"records": [
                {"key": B64.encode("k1"), "value": B64.encode([0u8, 159, 146, 150]),
                 "headers": [{"key": "trace", "value": B64.encode("abc")}, {"key": "empty", "value": null}]},
                {"value": B64.encode("{\"n\":2}")},
            ]}),
            200,
        )
        .await;
    assert_eq!(offsets_of(&body), vec![(0, 0), (0, 1)]);
    r.produce_ok("reads", &[json!({"n": 3})]).await;

    // binary
    let resp = r
        .http
        .get(r.url("/topics/reads/partitions/0/records?offset=0&max_bytes=1048576"))
        .header("Accept", BINARY_V2)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with(BINARY_V2), "content type {ct}");
    let recs: Value = resp.json().await.unwrap();
    let recs = recs.as_array().expect("bare array");
    assert_eq!(recs.len(), 3, "{recs:?}");
    let first = &recs[0];
    assert_eq!(first["topic"], "reads");
    assert_eq!(first["partition"], 0);
    assert_eq!(first["offset"], 0);
    assert_eq!(first["key"], B64.encode("k1"));
    assert_eq!(first["value"], B64.encode([0u8, 159, 146, 150]));
    assert_eq!(
        first["headers"],
        json!([{"key": "trace", "value": B64.encode("abc")}, {"key": "empty", "value": null}])
    );
    let ts = first["timestamp"].as_i64().expect("timestamp");
    assert!(
        ts >= before - 60_000 && ts <= now_ms() + 60_000,
        "timestamp {ts} is not near now ({before})"
    );
    assert_eq!(recs[1]["key"], Value::Null);
    assert_eq!(recs[1]["headers"], json!([]));
    assert_eq!(recs[2]["value"], B64.encode("{\"n\":3}"));

    // json, from offset 1 (offset 0 is not JSON).
    let (status, body) = r.read_raw("reads", 0, 1, JSON_V2, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["offset"], 1);
    assert_eq!(body[0]["value"], json!({"n": 2}));
    assert_eq!(body[1]["value"], json!({"n": 3}));
    assert!(body[1]["timestamp"].is_i64(), "{body}");
    assert!(body[1]["headers"].is_array(), "{body}");

    // At the end: empty; past the end: 400 40002.
    let (status, body) = r.read_raw("reads", 0, 3, JSON_V2, "").await;
    assert_eq!((status, body), (200, json!([])));
    let got = r.read_raw("reads", 0, 4, JSON_V2, "").await;
    assert_error("offset past the end", &got, 400, 40002);
    // Accept that names no servable format.
    let got = r.read_raw("reads", 0, 0, "text/html", "").await;
    assert_eq!(got.0, 406, "Accept: text/html: {}", got.1);
    assert!(
        matches!(got.1["error_code"].as_u64(), Some(406 | 40601)),
        "{}",
        got.1
    );
    // Unknown topic and partition.
    let got = r.read_raw("nope", 0, 0, JSON_V2, "").await;
    assert_error("read unknown topic", &got, 404, 40401);
    let got = r.read_raw("reads", 5, 0, JSON_V2, "").await;
    assert_error("read unknown partition", &got, 404, 40402);
    r.assert_no_panic();
}

/// A read at the end offset with a timeout waits for the next record and returns as soon as it
/// is appended, long before the timeout; without a record it answers `[]` at the timeout.
#[tokio::test]
async fn long_poll_returns_as_soon_as_a_record_arrives() {
    let r = Runnel::start_with_topic("tail", 1).await;
    r.produce_ok("tail", &[json!("first")]).await;

    let started = Instant::now();
    let (status, body) = r.read_raw("tail", 0, 1, JSON_V2, "&timeout=500").await;
    assert_eq!((status, &body), (200, &json!([])));
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "an empty long poll returned after {:?}, before its timeout",
        started.elapsed()
    );

    // A poll that was not woken by the append would answer `[]` at its timeout.
    let producer = {
        let http = r.http.clone();
        let url = r.url("/topics/tail");
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let resp = http
                .post(url)
                .header("Content-Type", JSON_V2)
                .body(json!({"records": [{"value": "second"}]}).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
        })
    };
    let started = Instant::now();
    let (status, body) = r.read_raw("tail", 0, 1, JSON_V2, "&timeout=10000").await;
    let elapsed = started.elapsed();
    producer.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["offset"], 1, "{body}");
    assert_eq!(body[0]["value"], "second", "{body}");
    // The record in the answer is the proof of waking: a poll that timed out answers `[]`.
    assert!(
        elapsed >= Duration::from_millis(250),
        "long poll returned after {elapsed:?}, before the record was produced"
    );
    r.assert_no_panic();
}

async fn all_records(r: &Runnel) -> Vec<Vec<Value>> {
    let mut recs = Vec::new();
    for (t, parts) in [("kept", 2), ("other", 1)] {
        for p in 0..parts {
            recs.push(r.read_all(t, p).await);
        }
    }
    recs
}

#[tokio::test]
async fn topics_configs_and_records_survive_restarts() {
    let mut r = Runnel::start().await;
    let cid = r.cluster_id().await;
    r.create_topic("kept", 2, &[("retention.ms", "604800000")])
        .await;
    r.create_topic("other", 1, &[]).await;
    let offs = r.produce_ok("kept", &[json!(1), json!(2), json!(3)]).await;
    assert_eq!(offs.len(), 3);
    let got = raw_request_body(
        r.port(),
        "POST",
        "/topics/other/partitions/0",
        &[("Content-Type", JSON_V2)],
        r#"{"records":[{"value":"x"}]}"#,
    );
    assert_eq!(got.0, 200, "{}", got.1);

    let before = all_records(&r).await;
    for restart in ["graceful", "kill -9"] {
        if restart == "graceful" {
            r.restart().await;
        } else {
            r.crash_restart().await;
        }
        assert_eq!(r.cluster_id().await, cid, "cluster id after {restart}");
        // `__audit`: the delivery audit's books of the records produced above (issue 13).
        assert_eq!(
            r.get_json("/topics").await,
            (200, json!(["__audit", "kept", "other"])),
            "topics after {restart}"
        );
        let (status, t) = r.get_json(&format!("/v3/clusters/{cid}/topics/kept")).await;
        assert_eq!(status, 200, "{t}");
        assert_eq!(t["partitions_count"], 2, "after {restart}: {t}");
        assert_eq!(all_records(&r).await, before, "records after {restart}");
        // The topic still exists, so creating it again is refused.
        let got = r.try_create_topic(&json!({"topic_name": "kept"})).await;
        assert_error("re-create after restart", &got, 400, 40002);
    }
    // Produce continues at the next offsets.
    let offs = r.produce_ok("other", &[json!("y")]).await;
    assert_eq!(offs, vec![(0, 1)]);
    r.assert_no_panic();
}
