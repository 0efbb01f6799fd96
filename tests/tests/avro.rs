//! Avro through the gateway (issue 5, item 6), against the real server: v2 produce with
//! `application/vnd.kafka.avro.v2+json` (schemas by text and by id), v3 records with AVRO data,
//! and every read path decoding it back (stateless read, v2 consumer instance, WebSocket), with
//! the bytes in the log in Confluent's framing and the schema-format error codes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{BINARY_V2, Runnel, assert_error};

const AVRO_V2: &str = "application/vnd.kafka.avro.v2+json";
const V2: &str = "application/vnd.kafka.v2+json";

const USER: &str = r#"{"type":"record","name":"User","namespace":"acme","fields":[
    {"name":"id","type":"long"},
    {"name":"name","type":"string"},
    {"name":"email","type":["null","string"],"default":null}]}"#;

async fn read_as(r: &Runnel, topic: &str, offset: u64, accept: &str) -> (u16, Value) {
    r.get_accept(
        &format!("/topics/{topic}/partitions/0/records?offset={offset}"),
        accept,
    )
    .await
}

#[tokio::test]
async fn avro_produce_is_framed_and_every_read_path_decodes_it() {
    let r = Runnel::start_with_topic("users", 1).await;
    let records = json!([
        {"value": {"id": 1, "name": "ada", "email": {"string": "ada@example.com"}}},
        {"value": {"id": 2, "name": "bob", "email": null}},
        // Untagged union values are accepted, and read back tagged.
        {"value": {"id": 3, "name": "cy", "email": "cy@example.com"}},
    ]);
    let (status, body) = r
        .post(
            "/topics/users",
            AVRO_V2,
            &json!({"key_schema": "\"string\"", "value_schema": USER,
                    "records": records.as_array().unwrap().iter().enumerate().map(|(i, v)| {
                        let mut v = v.clone();
                        v["key"] = json!(format!("k{i}"));
                        v
                    }).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let value_id = body["value_schema_id"].as_i64().expect("value schema id");
    let key_id = body["key_schema_id"].as_i64().expect("key schema id");
    assert_ne!(key_id, value_id);
    // Registered under <topic>-value and <topic>-key, as Confluent's proxy does.
    let (status, latest) = r.get_json("/subjects/users-value/versions/latest").await;
    assert_eq!(status, 200, "{latest}");
    assert_eq!(latest["id"].as_i64(), Some(value_id));
    let (status, key_latest) = r.get_json("/subjects/users-key/versions/latest").await;
    assert_eq!((status, key_latest["id"].as_i64()), (200, Some(key_id)));

    // The same schema again by id: same id, next offsets.
    let body = r
        .post_expect(
            "/topics/users",
            AVRO_V2,
            &json!({"value_schema_id": value_id,
                    "records": [{"value": {"id": 4, "name": "dee"}}]}),
            200,
        )
        .await;
    assert_eq!(body["value_schema_id"].as_i64(), Some(value_id));
    assert_eq!(body["offsets"][0]["offset"], 3);

    // In the log: magic byte 0, the id big-endian, then the Avro datum.
    let (status, raw) = read_as(&r, "users", 0, BINARY_V2).await;
    assert_eq!(status, 200, "{raw}");
    let value = B64.decode(raw[0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(value[0], 0);
    assert_eq!(
        i32::from_be_bytes(value[1..5].try_into().unwrap()),
        i32::try_from(value_id).unwrap()
    );
    // long 1 (zig-zag 2), string "ada", union branch 1, string "ada@example.com".
    assert_eq!(&value[5..10], &[2, 6, b'a', b'd', b'a']);
    let key = B64.decode(raw[0]["key"].as_str().unwrap()).unwrap();
    assert_eq!(
        key,
        [
            &[0][..],
            &(i32::try_from(key_id).unwrap()).to_be_bytes(),
            &[4, b'k', b'0']
        ]
        .concat()
    );

    // The stateless read in the avro format decodes it back.
    let (status, read) = read_as(&r, "users", 0, AVRO_V2).await;
    assert_eq!(status, 200, "{read}");
    let values: Vec<Value> = read
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].clone())
        .collect();
    assert_eq!(
        values,
        vec![
            json!({"id": 1, "name": "ada", "email": {"string": "ada@example.com"}}),
            json!({"id": 2, "name": "bob", "email": null}),
            json!({"id": 3, "name": "cy", "email": {"string": "cy@example.com"}}),
            json!({"id": 4, "name": "dee", "email": null}),
        ]
    );
    assert_eq!(read[1]["key"], "k1");

    // A v2 consumer instance in the avro format.
    r.post_expect(
        "/consumers/av",
        V2,
        &json!({"name": "c", "format": "avro", "auto.offset.reset": "earliest"}),
        200,
    )
    .await;
    r.post_expect(
        "/consumers/av/instances/c/subscription",
        V2,
        &json!({"topics": ["users"]}),
        204,
    )
    .await;
    let mut polled = Vec::new();
    for _ in 0..20 {
        let (status, records) = r
            .get_accept("/consumers/av/instances/c/records?timeout=500", AVRO_V2)
            .await;
        assert_eq!(status, 200, "{records}");
        polled.extend(records.as_array().expect("records").iter().cloned());
        if polled.len() >= 4 {
            break;
        }
    }
    let got: Vec<Value> = polled.iter().map(|r| r["value"].clone()).collect();
    assert_eq!(got, values);

    // A WebSocket in the avro format.
    let url = format!(
        "ws://127.0.0.1:{}/v1/ws/consume?topic=users&from=earliest&format=avro&credit=10",
        r.port()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let frame = loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(t) => break serde_json::from_str::<Value>(&t).unwrap(),
            _ => continue,
        }
    };
    assert_eq!(frame["type"], "records");
    let ws_values: Vec<Value> = frame["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].clone())
        .collect();
    assert_eq!(ws_values, values);
    r.assert_no_panic();
}

#[tokio::test]
async fn v3_avro_records_use_the_subjects_schemas() {
    let r = Runnel::start_with_topic("v3a", 1).await;
    let id = r.register_schema("v3a-value", USER).await;
    let cluster = r.cluster_id().await;
    let path = format!("/v3/clusters/{cluster}/topics/v3a/records");
    // By the subject's latest (no type, no id: schema-based), then by id, then by version.
    for value in [
        json!({"data": {"id": 7, "name": "x"}}),
        json!({"type": "AVRO", "schema_id": id, "data": {"id": 8, "name": "y"}}),
        json!({"schema_version": 1, "data": {"id": 9, "name": "z"}}),
    ] {
        let report = r
            .post_expect(&path, "application/json", &json!({"value": value}), 200)
            .await;
        assert_eq!(report["value"]["type"], "AVRO", "{report}");
        assert_eq!(report["value"]["schema_id"].as_i64(), Some(id), "{report}");
        assert_eq!(report["value"]["subject"], "v3a-value", "{report}");
        assert_eq!(report["value"]["schema_version"], 1, "{report}");
    }
    let (status, read) = read_as(&r, "v3a", 0, AVRO_V2).await;
    assert_eq!(status, 200, "{read}");
    let names: Vec<&str> = read
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x", "y", "z"]);

    // Bad AVRO data: one report per record, 400, nothing written.
    for (value, want) in [
        (
            json!({"type": "AVRO", "schema_id": 999, "data": {}}),
            "Schema 999 not found",
        ),
        (
            json!({"type": "AVRO", "data": {"id": "x", "name": "q"}}),
            "$.id",
        ),
        (json!({"subject": "nope-value", "data": {}}), "nope-value"),
        (
            json!({"type": "AVRO", "subject_name_strategy": "RECORD_NAME", "data": {}}),
            "RECORD_NAME",
        ),
    ] {
        let (status, report) = r
            .post(&path, "application/json", &json!({"value": value}))
            .await;
        assert_eq!(status, 400, "{value}: {report}");
        assert!(
            report["message"].as_str().unwrap().contains(want),
            "{value}: {report}"
        );
    }
    let (_, offsets) = r.get_json("/topics/v3a/partitions/0/offsets").await;
    assert_eq!(offsets["end_offset"], 3);
    r.assert_no_panic();
}

#[tokio::test]
async fn avro_errors_have_the_rest_proxy_codes_and_write_nothing() {
    let r = Runnel::start_with_topic("bad-avro", 1).await;
    let post = |body: Value| {
        let r = &r;
        async move { r.post("/topics/bad-avro", AVRO_V2, &body).await }
    };
    // Values without a value schema; keys without a key schema.
    assert_error(
        "no value schema",
        &post(json!({"records": [{"value": {"id": 1}}]})).await,
        422,
        42202,
    );
    assert_error(
        "no key schema",
        &post(json!({"value_schema": USER, "records": [{"key": "k", "value": {"id": 1, "name": "a"}}]})).await,
        422,
        42201,
    );
    // An invalid schema, an unknown id.
    assert_error(
        "invalid schema",
        &post(json!({"value_schema": "{\"type\":\"record\"}", "records": [{"value": 1}]})).await,
        422,
        42205,
    );
    assert_error(
        "unknown id",
        &post(json!({"value_schema_id": 4242, "records": [{"value": 1}]})).await,
        422,
        42205,
    );
    // A record that does not fit: 42203 naming the record and the field; the good record
    // before it is not written either.
    let got = post(json!({"value_schema": USER, "records": [
        {"value": {"id": 1, "name": "ok"}},
        {"value": {"id": 2, "name": 5}},
    ]}))
    .await;
    assert_error("misfit", &got, 422, 42203);
    let message = got.1["message"].as_str().unwrap();
    assert!(
        message.contains("records[1]") && message.contains("$.name"),
        "{message}"
    );
    // An incompatible schema under the default BACKWARD level: a new field without a default.
    let incompatible = r#"{"type":"record","name":"User","namespace":"acme","fields":[
        {"name":"id","type":"long"},{"name":"name","type":"string"},
        {"name":"email","type":["null","string"],"default":null},{"name":"age","type":"int"}]}"#;
    let got = post(json!({"value_schema": incompatible, "records": [{"value": {"id": 1, "name": "a", "age": 3}}]})).await;
    assert_error("incompatible", &got, 422, 42205);
    assert!(
        got.1["message"].as_str().unwrap().contains("age"),
        "{}",
        got.1
    );

    let (_, offsets) = r.get_json("/topics/bad-avro/partitions/0/offsets").await;
    assert_eq!(offsets["end_offset"], 0, "nothing was written");

    // Bytes that are not framed Avro fail an avro read with 42203, naming the offset.
    r.post_expect(
        "/topics/bad-avro",
        BINARY_V2,
        &json!({"records": [{"value": "aGVsbG8="}]}),
        200,
    )
    .await;
    let got = read_as(&r, "bad-avro", 0, AVRO_V2).await;
    assert_error("not avro", &got, 422, 42203);
    assert!(
        got.1["message"].as_str().unwrap().contains("offset 0"),
        "{}",
        got.1
    );
    r.assert_no_panic();
}
