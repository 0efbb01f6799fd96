//! The issue-3 endpoint contract through the real server and real HTTP clients: v3 produce (one
//! record, streaming mode over a chunked body sent over time, `records:batch`), empty bodies,
//! `acks`, v2 and v3 metadata, topic configs, growing a topic, `/metrics`, and the generic 404
//! and 405. Shapes, statuses and codes are CONTRACTS.md §1.1 and §1.2.

use std::io::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::support::{BINARY_V2, JSON_V2, Runnel, assert_error, offsets_of};

/// The v3 body of an empty request, word for word (CONTRACTS.md §1.2).
const V3_EMPTY: &str = "Payload error. Request body is empty. Data is required.";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// ms since the epoch of `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form delivery reports use; `None` for
/// anything else.
fn parse_report_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let n = |a: usize, z: usize| -> i64 { s[a..z].parse().unwrap_or(-1) };
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(((days * 24 + n(11, 13)) * 60 + n(14, 16)) * 60_000 + n(17, 19) * 1000 + n(20, 23))
}

#[test]
fn report_timestamps_parse() {
    assert_eq!(
        parse_report_timestamp("2021-02-05T19:14:42.500Z"),
        Some(1_612_552_482_500)
    );
    assert_eq!(parse_report_timestamp("1970-01-01T00:00:00.000Z"), Some(0));
    assert_eq!(parse_report_timestamp("2021-02-05T19:14:42Z"), None);
    assert_eq!(parse_report_timestamp("2021-02-05 19:14:42.500Z"), None);
}

/// Checks a successful delivery report: exactly Confluent's fields, `error_code` 200, an
/// ISO-8601 timestamp near now, and returns its offset.
fn assert_report(report: &Value, cid: &str, topic: &str, partition: u64) -> u64 {
    let obj = report.as_object().unwrap_or_else(|| panic!("{report}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "cluster_id",
            "error_code",
            "key",
            "offset",
            "partition_id",
            "timestamp",
            "topic_name",
            "value"
        ],
        "delivery report fields: {report}"
    );
    assert_eq!(report["error_code"], 200, "{report}");
    assert_eq!(report["cluster_id"], cid, "{report}");
    assert_eq!(report["topic_name"], topic, "{report}");
    assert_eq!(report["partition_id"], partition, "{report}");
    let ts = report["timestamp"].as_str().expect("timestamp is a string");
    let ms = parse_report_timestamp(ts).unwrap_or_else(|| panic!("timestamp {ts:?} in {report}"));
    assert!(
        (ms - now_ms()).abs() < 10 * 60_000,
        "timestamp {ts} is not near now: {report}"
    );
    report["offset"]
        .as_u64()
        .unwrap_or_else(|| panic!("offset in {report}"))
}

/// A Confluent error body: exactly `{"error_code", "message"}`.
fn assert_error_body(what: &str, body: &Value, code: u64) {
    assert_eq!(body["error_code"], code, "{what}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
    assert_eq!(
        body.as_object().map(serde_json::Map::len),
        Some(2),
        "{what}: only error_code and message: {body}"
    );
}

/// `(beginning_offset, end_offset)` of a partition through v2.
async fn offsets(r: &Runnel, topic: &str, partition: u32) -> (u64, u64) {
    let (status, body) = r
        .get_json(&format!("/topics/{topic}/partitions/{partition}/offsets"))
        .await;
    assert_eq!(status, 200, "offsets of {topic}/{partition}: {body}");
    (
        body["beginning_offset"].as_u64().expect("beginning_offset"),
        body["end_offset"].as_u64().expect("end_offset"),
    )
}

/// POSTs `body` as is with `content_type`; `(status, JSON or Null, raw text)`.
async fn post_raw(r: &Runnel, path: &str, content_type: &str, body: &str) -> (u16, Value, String) {
    let reply = r
        .request(
            "POST",
            path,
            &[("Content-Type", content_type)],
            Some(body.to_owned()),
        )
        .await;
    (reply.status, reply.json(), reply.text)
}

/// Every concatenated JSON document of a streaming answer.
fn concatenated(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|v| v.unwrap_or_else(|e| panic!("answer is not concatenated JSON ({e}): {text}")))
        .collect()
}

#[tokio::test]
async fn v3_single_record_answers_a_delivery_report_or_its_own_error() {
    let r = Runnel::start_with_topic("single", 2).await;
    let cid = r.cluster_id().await;
    let path = format!("/v3/clusters/{cid}/topics/single/records");

    let report = r
        .post_expect(
            &path,
            "application/json",
            &json!({
                "partition_id": 1,
                "headers": [{"name": "h1", "value": B64.encode("v1")}],
                "key": {"type": "BINARY", "data": B64.encode("foobar")},
                "value": {"type": "JSON", "data": {"a": 1}},
            }),
            200,
        )
        .await;
    assert_eq!(assert_report(&report, &cid, "single", 1), 0);
    assert_eq!(report["key"], json!({"type": "BINARY", "size": 6}));
    assert_eq!(report["value"], json!({"type": "JSON", "size": 7}));

    // A given timestamp comes back in ISO form; no key is a null key; STRING data.
    let report = r
        .post_expect(
            &path,
            "application/json",
            &json!({
                "partition_id": 1,
                "timestamp": "2021-02-05T19:14:42Z",
                "value": {"type": "STRING", "data": "héllo"},
            }),
            200,
        )
        .await;
    assert_eq!(report["offset"], 1, "{report}");
    assert_eq!(report["timestamp"], "2021-02-05T19:14:42.000Z", "{report}");
    assert_eq!(report["key"], Value::Null, "{report}");
    assert_eq!(report["value"], json!({"type": "STRING", "size": 6}));

    // What was stored.
    let recs = r.read_from("single", 1, 0, BINARY_V2).await;
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(recs[0]["key"], B64.encode("foobar"));
    assert_eq!(recs[0]["value"], B64.encode("{\"a\":1}"));
    assert_eq!(
        recs[0]["headers"],
        json!([{"key": "h1", "value": B64.encode("v1")}])
    );
    assert_eq!(recs[1]["value"], B64.encode("héllo"));
    assert_eq!(recs[1]["timestamp"], 1_612_552_482_000_i64);

    // A bad record answers 400 in Confluent's words and writes nothing.
    let (status, body) = r
        .post(
            &path,
            "application/json",
            &json!({"partition_id": 1, "value": {"type": "BINARY", "data": 1}}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error_code": 400, "message": "Bad Request: data=1 is not a base64 string."})
        )
    );
    let body = r
        .post_expect(
            &path,
            "application/json",
            &json!({"partition_id": 1, "value": {"type": "BINARY", "data": "!!not base64"}}),
            400,
        )
        .await;
    assert_error_body("bad base64", &body, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Bad Request: "),
        "{body}"
    );
    let (status, body) = r
        .post(
            &path,
            "application/json",
            &json!({"partition_id": 1, "timestamp": "yesterday", "value": {"type": "STRING", "data": "x"}}),
        )
        .await;
    assert_eq!(status, 400, "bad timestamp: {body}");
    assert_error_body("bad timestamp", &body, 400);
    assert_eq!(offsets(&r, "single", 1).await, (0, 2), "nothing written");

    // Unknown partition, topic and cluster; malformed JSON; a non-JSON content type.
    let body = r
        .post_expect(
            &path,
            "application/json",
            &json!({"partition_id": 7, "value": {"type": "JSON", "data": 1}}),
            404,
        )
        .await;
    assert_error_body("unknown partition", &body, 40403);
    let got = r
        .post(
            &format!("/v3/clusters/{cid}/topics/nope/records"),
            "application/json",
            &json!({"value": {"type": "JSON", "data": 1}}),
        )
        .await;
    assert_error("unknown topic", &got, 404, 40403);
    let got = r
        .post(
            "/v3/clusters/not-this-one/topics/single/records",
            "application/json",
            &json!({"value": {"type": "JSON", "data": 1}}),
        )
        .await;
    assert_error("unknown cluster", &got, 404, 404);
    let (status, body, _) = post_raw(&r, &path, "application/json", "{\"value\": ").await;
    assert_eq!(status, 400, "malformed JSON: {body}");
    assert_error_body("malformed JSON", &body, 400);
    let (status, body, _) = post_raw(&r, &path, "text/plain", "{}").await;
    assert_eq!(status, 415, "text/plain: {body}");
    assert_error_body("text/plain", &body, 415);
    assert_eq!(offsets(&r, "single", 1).await, (0, 2), "nothing written");
    r.assert_no_panic();
}

/// The request body of a streaming produce: a pipe whose read end reqwest sends as a chunked
/// body (a `tokio::fs::File` body has no length), written to piece by piece over time.
fn chunked_pipe() -> (reqwest::Body, std::io::PipeWriter) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    let file = std::fs::File::from(std::os::fd::OwnedFd::from(reader));
    (reqwest::Body::from(tokio::fs::File::from_std(file)), writer)
}

/// Reads concatenated JSON reports off a streaming response as they arrive.
struct Reports {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl Reports {
    /// The next report, waiting up to 30 s for it; `None` once the answer has ended.
    async fn next(&mut self) -> Option<Value> {
        loop {
            let mut it = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Value>();
            match it.next() {
                Some(Ok(v)) => {
                    let used = it.byte_offset();
                    self.buf.drain(..used);
                    return Some(v);
                }
                Some(Err(e)) if e.is_eof() => {}
                None => {}
                Some(Err(e)) => panic!(
                    "streaming answer is not concatenated JSON ({e}): {}",
                    String::from_utf8_lossy(&self.buf)
                ),
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), self.resp.chunk())
                .await
                .expect("no report within 30 s")
                .expect("read the streaming answer");
            match chunk {
                Some(bytes) => self.buf.extend_from_slice(&bytes),
                None => {
                    assert!(
                        self.buf.iter().all(u8::is_ascii_whitespace),
                        "the answer ended inside a report: {}",
                        String::from_utf8_lossy(&self.buf)
                    );
                    return None;
                }
            }
        }
    }
}

/// Streaming mode: a chunked body written over time, a bad record in the middle and one record
/// split across writes. The answer is 200 at once, then one report per record, each sent
/// before the next record is (so it really streams), in order; the bad record's report is its
/// 400 and the others have consecutive offsets.
#[tokio::test]
async fn v3_streaming_mode_reports_each_record_as_it_arrives() {
    let r = Runnel::start_with_topic("stream", 1).await;
    let cid = r.cluster_id().await;
    r.produce_ok("stream", &[json!("before")]).await;

    let (body, mut pipe) = chunked_pipe();
    let records = [
        json!({"value": {"type": "JSON", "data": {"n": 0}}}).to_string(),
        json!({"key": {"type": "STRING", "data": "k"}, "value": {"type": "STRING", "data": "one"}})
            .to_string(),
        // The bad one: not base64.
        json!({"value": {"type": "BINARY", "data": "%%% not base64 %%%"}}).to_string(),
        json!({"value": {"type": "BINARY", "data": B64.encode("three")}}).to_string(),
        json!({"value": {"type": "JSON", "data": [4, "four"]}}).to_string(),
    ];
    // The first record goes out before the request, so the request starts with data.
    pipe.write_all(records[0].as_bytes()).expect("write");
    let resp = r
        .http
        .post(r.url(&format!("/v3/clusters/{cid}/topics/stream/records")))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("streaming POST");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        resp.headers()
    );
    let mut reports = Reports {
        resp,
        buf: Vec::new(),
    };
    let mut got = vec![reports.next().await.expect("report 0")];
    for (i, record) in records.iter().enumerate().skip(1) {
        tokio::time::sleep(Duration::from_millis(150)).await;
        if i == 3 {
            // Split one record across two writes, apart in time.
            let (a, b) = record.split_at(record.len() / 2);
            pipe.write_all(a.as_bytes()).expect("write");
            tokio::time::sleep(Duration::from_millis(150)).await;
            pipe.write_all(b.as_bytes()).expect("write");
        } else {
            pipe.write_all(format!("\n{record}").as_bytes())
                .expect("write");
        }
        got.push(
            reports
                .next()
                .await
                .unwrap_or_else(|| panic!("report {i}: the answer ended")),
        );
    }
    drop(pipe);
    assert_eq!(reports.next().await, None, "one report per record");

    let mut good = Vec::new();
    for (i, report) in got.iter().enumerate() {
        if i == 2 {
            assert_eq!(report["error_code"], 400, "bad record: {report}");
            assert_error_body("bad record in the stream", report, 400);
            assert!(
                report["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Bad Request: "),
                "{report}"
            );
        } else {
            good.push(assert_report(report, &cid, "stream", 0));
        }
    }
    assert_eq!(good, [1, 2, 3, 4], "consecutive offsets after offset 0");
    assert_eq!(got[1]["key"], json!({"type": "STRING", "size": 1}));
    assert_eq!(got[3]["value"], json!({"type": "BINARY", "size": 5}));

    let recs = r.read_from("stream", 0, 1, BINARY_V2).await;
    let values: Vec<Vec<u8>> = recs
        .iter()
        .map(|v| B64.decode(v["value"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(
        values,
        [
            b"{\"n\":0}".to_vec(),
            b"one".to_vec(),
            b"three".to_vec(),
            b"[4,\"four\"]".to_vec()
        ]
    );
    r.assert_no_panic();
}

/// Concatenated objects in a plain (not chunked) body get the streaming answer at once; a body
/// that stops being JSON ends the answer with an error report.
#[tokio::test]
async fn v3_concatenated_records_in_one_body_answer_one_report_each() {
    let r = Runnel::start_with_topic("concat", 1).await;
    let cid = r.cluster_id().await;
    let path = format!("/v3/clusters/{cid}/topics/concat/records");
    let ok = json!({"value": {"type": "STRING", "data": "ok"}}).to_string();
    let bad = json!({"value": {"type": "STRING", "data": 5}}).to_string();

    let (status, _, text) =
        post_raw(&r, &path, "application/json", &format!("{ok}{bad} {ok}\n")).await;
    assert_eq!(status, 200, "{text}");
    let reports = concatenated(&text);
    assert_eq!(reports.len(), 3, "{text}");
    assert_eq!(assert_report(&reports[0], &cid, "concat", 0), 0);
    assert_error_body("bad middle record", &reports[1], 400);
    assert_eq!(assert_report(&reports[2], &cid, "concat", 0), 1);

    let (status, _, text) = post_raw(&r, &path, "application/json", &format!("{ok} ]oops")).await;
    assert_eq!(status, 200, "{text}");
    let reports = concatenated(&text);
    assert_eq!(reports.len(), 2, "{text}");
    assert_eq!(assert_report(&reports[0], &cid, "concat", 0), 2);
    assert_error_body("trailing garbage", &reports[1], 400);
    assert_eq!(offsets(&r, "concat", 0).await, (0, 3));
    r.assert_no_panic();
}

#[tokio::test]
async fn records_batch_answers_207_and_refuses_bad_batches_with_42208() {
    let r = Runnel::start_with_topic("batch", 1).await;
    let cid = r.cluster_id().await;
    let path = format!("/v3/clusters/{cid}/topics/batch/records:batch");
    let entry = |id: &str| json!({"id": id, "value": {"type": "JSON", "data": id}});

    let body = r
        .post_expect(
            &path,
            "application/json",
            &json!({"entries": [
                entry("a"),
                {"id": "b", "value": {"type": "BINARY", "data": 12}},
                {"id": "c", "key": {"type": "STRING", "data": "kc"}, "value": {"type": "STRING", "data": "vc"}},
            ]}),
            207,
        )
        .await;
    let successes = body["successes"].as_array().expect("successes");
    let failures = body["failures"].as_array().expect("failures");
    assert_eq!(successes.len(), 2, "{body}");
    assert_eq!(failures.len(), 1, "{body}");
    let mut offsets_seen = Vec::new();
    for (s, id) in successes.iter().zip(["a", "c"]) {
        assert_eq!(s["id"], id, "{body}");
        let mut keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "cluster_id",
                "id",
                "key",
                "offset",
                "partition_id",
                "timestamp",
                "topic_name",
                "value"
            ],
            "success fields: {s}"
        );
        assert_eq!(s["cluster_id"], cid.as_str());
        assert_eq!(s["topic_name"], "batch");
        assert_eq!(s["partition_id"], 0);
        assert!(
            parse_report_timestamp(s["timestamp"].as_str().unwrap()).is_some(),
            "{s}"
        );
        offsets_seen.push(s["offset"].as_u64().expect("offset"));
    }
    assert_eq!(offsets_seen, [0, 1]);
    assert_eq!(successes[1]["key"], json!({"type": "STRING", "size": 2}));
    assert_eq!(failures[0]["id"], "b");
    assert_eq!(failures[0]["error_code"], 400);
    assert!(
        failures[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Bad Request: "),
        "{body}"
    );

    // Exactly ten entries is fine.
    let ten: Vec<Value> = (0..10).map(|i| entry(&format!("e{i}"))).collect();
    let body = r
        .post_expect(&path, "application/json", &json!({ "entries": ten }), 207)
        .await;
    assert_eq!(body["successes"].as_array().unwrap().len(), 10, "{body}");
    assert_eq!(body["failures"], json!([]), "{body}");
    assert_eq!(offsets(&r, "batch", 0).await, (0, 12));

    // Refused whole, nothing written: duplicate ids, eleven entries, no entries, bad ids.
    let eleven: Vec<Value> = (0..11).map(|i| entry(&format!("e{i}"))).collect();
    for (what, body) in [
        (
            "duplicate ids",
            json!({"entries": [entry("x"), entry("y"), entry("x")]}),
        ),
        ("eleven entries", json!({ "entries": eleven })),
        ("no entries", json!({"entries": []})),
        ("empty id", json!({"entries": [entry("")]})),
        (
            "81-character id",
            json!({"entries": [entry(&"i".repeat(81))]}),
        ),
        (
            "numeric id",
            json!({"entries": [{"id": 1, "value": {"type": "JSON", "data": 1}}]}),
        ),
    ] {
        let got = r.post(&path, "application/json", &body).await;
        assert_error(what, &got, 422, 42208);
    }
    assert_eq!(offsets(&r, "batch", 0).await, (0, 12), "nothing written");

    // Empty body; unknown topic.
    let (status, body, _) = post_raw(&r, &path, "application/json", "").await;
    assert_eq!(
        (status, body),
        (422, json!({"error_code": 422, "message": V3_EMPTY}))
    );
    let got = r
        .post(
            &format!("/v3/clusters/{cid}/topics/nope/records:batch"),
            "application/json",
            &json!({"entries": [entry("a")]}),
        )
        .await;
    assert_error("batch to an unknown topic", &got, 404, 40403);
    r.assert_no_panic();
}

#[tokio::test]
async fn empty_bodies_answer_payload_errors() {
    let r = Runnel::start_with_topic("empty", 1).await;
    let cid = r.cluster_id().await;

    // v2: 42206, for no body, whitespace and no records, in both formats.
    for (ct, body) in [
        (JSON_V2, ""),
        (BINARY_V2, ""),
        (JSON_V2, "  \n "),
        (JSON_V2, "{\"records\": []}"),
        (BINARY_V2, "{\"records\": []}"),
    ] {
        let (status, json, text) = post_raw(&r, "/topics/empty", ct, body).await;
        assert_eq!(status, 422, "v2 {ct} {body:?}: {text}");
        assert_eq!(json["error_code"], 42206, "v2 {ct} {body:?}: {text}");
        assert_error_body("v2 empty", &json, 42206);
    }
    let (_, json, _) = post_raw(&r, "/topics/empty/partitions/0", JSON_V2, "").await;
    assert_eq!(
        json,
        json!({"error_code": 42206, "message": V3_EMPTY}),
        "v2 empty body to a partition"
    );

    // v3: 422 with Confluent's exact body.
    for (path, body) in [
        (format!("/v3/clusters/{cid}/topics/empty/records"), ""),
        (
            format!("/v3/clusters/{cid}/topics/empty/records"),
            " \r\n\t",
        ),
        (format!("/v3/clusters/{cid}/topics/empty/records:batch"), ""),
    ] {
        let (status, json, text) = post_raw(&r, &path, "application/json", body).await;
        assert_eq!(
            (status, json),
            (422, json!({"error_code": 422, "message": V3_EMPTY})),
            "{path} {body:?}: {text}"
        );
    }
    // An empty chunked (streaming) body: no records, so no reports.
    let (body, pipe) = chunked_pipe();
    drop(pipe);
    let resp = r
        .http
        .post(r.url(&format!("/v3/clusters/{cid}/topics/empty/records")))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    assert!(
        status == 200 && text.trim().is_empty()
            || status == 422
                && serde_json::from_str::<Value>(&text).ok()
                    == Some(json!({"error_code": 422, "message": V3_EMPTY})),
        "empty chunked body: {status} {text}"
    );
    assert_eq!(offsets(&r, "empty", 0).await, (0, 0), "nothing written");
    r.assert_no_panic();
}

#[tokio::test]
async fn acks_zero_one_and_all_are_served_and_others_refused() {
    let r = Runnel::start_with_topic("acks", 1).await;
    let cid = r.cluster_id().await;
    let v3 = format!("/v3/clusters/{cid}/topics/acks/records");
    let records = json!({"records": [{"value": 1}, {"value": 2}]});

    // acks=1 and acks=all (or -1): offsets, as without acks.
    let mut next = 0;
    for acks in ["1", "all", "-1"] {
        let (status, body) = r
            .post(&format!("/topics/acks?acks={acks}"), JSON_V2, &records)
            .await;
        assert_eq!(status, 200, "acks={acks}: {body}");
        assert_eq!(offsets_of(&body), [(0, next), (0, next + 1)], "acks={acks}");
        let (status, report) = r
            .post(
                &format!("{v3}?acks={acks}"),
                "application/json",
                &json!({"value": {"type": "JSON", "data": acks}}),
            )
            .await;
        assert_eq!(status, 200, "v3 acks={acks}: {report}");
        assert_eq!(assert_report(&report, &cid, "acks", 0), next + 2);
        next += 3;
    }

    // acks=0: answered once queued, offsets null; the records still arrive.
    let (status, body) = r.post("/topics/acks?acks=0", JSON_V2, &records).await;
    assert_eq!(status, 200, "acks=0: {body}");
    assert_eq!(
        body["offsets"],
        json!([
            {"partition": 0, "offset": null, "error_code": null, "error": null},
            {"partition": 0, "offset": null, "error_code": null, "error": null},
        ]),
        "acks=0: {body}"
    );
    let (status, report) = r
        .post(
            &format!("{v3}?acks=0"),
            "application/json",
            &json!({"value": {"type": "JSON", "data": 0}}),
        )
        .await;
    assert_eq!(status, 200, "v3 acks=0: {report}");
    assert_eq!(report["error_code"], 200, "{report}");
    assert_eq!(report["offset"], Value::Null, "v3 acks=0: {report}");
    let body = r
        .post_expect(
            &format!("{v3}:batch?acks=0"),
            "application/json",
            &json!({"entries": [{"id": "z", "value": {"type": "JSON", "data": 0}}]}),
            207,
        )
        .await;
    assert_eq!(body["successes"][0]["offset"], Value::Null, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while offsets(&r, "acks", 0).await.1 < next + 4 {
        assert!(
            Instant::now() < deadline,
            "acks=0 records never arrived: {:?}",
            offsets(&r, "acks", 0).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(offsets(&r, "acks", 0).await, (0, next + 4));

    // acks=2 (and other values): 400, nothing written.
    for bad in ["2", "none", ""] {
        let got = r
            .post(&format!("/topics/acks?acks={bad}"), JSON_V2, &records)
            .await;
        assert_error(&format!("v2 acks={bad}"), &got, 400, 400);
        let got = r
            .post(
                &format!("{v3}?acks={bad}"),
                "application/json",
                &json!({"value": {"type": "JSON", "data": 0}}),
            )
            .await;
        assert_error(&format!("v3 acks={bad}"), &got, 400, 400);
        let got = r
            .post(
                &format!("{v3}:batch?acks={bad}"),
                "application/json",
                &json!({"entries": [{"id": "z", "value": {"type": "JSON", "data": 0}}]}),
            )
            .await;
        assert_error(&format!("batch acks={bad}"), &got, 400, 400);
    }
    assert_eq!(offsets(&r, "acks", 0).await, (0, next + 4), "nothing more");
    r.assert_no_panic();
}

#[tokio::test]
async fn v2_metadata_describes_topics_partitions_offsets_and_brokers() {
    let r = Runnel::start().await;
    r.create_topic("meta", 2, &[("retention.ms", "3600000")])
        .await;
    let replicas = json!([{"broker": 1, "leader": true, "in_sync": true}]);
    let partitions = json!([
        {"partition": 0, "leader": 1, "replicas": replicas},
        {"partition": 1, "leader": 1, "replicas": replicas},
    ]);

    let (status, t) = r.get_json("/topics/meta").await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["name"], "meta", "{t}");
    assert_eq!(t["partitions"], partitions, "{t}");
    let configs = t["configs"].as_object().expect("configs object");
    assert_eq!(configs["retention.ms"], "3600000", "{t}");
    assert_eq!(configs["cleanup.policy"], "delete", "{t}");
    assert!(
        configs.values().all(Value::is_string),
        "config values are strings: {t}"
    );
    assert_eq!(
        r.get_json("/topics/meta/partitions").await,
        (200, partitions.clone())
    );
    assert_eq!(
        r.get_json("/topics/meta/partitions/1").await,
        (200, partitions[1].clone())
    );
    assert_eq!(
        r.get_json("/topics/meta/partitions/1/offsets").await,
        (200, json!({"beginning_offset": 0, "end_offset": 0}))
    );
    let body = r
        .post_expect(
            "/topics/meta/partitions/1",
            JSON_V2,
            &json!({"records": [{"value": 1}, {"value": 2}, {"value": 3}]}),
            200,
        )
        .await;
    assert_eq!(offsets_of(&body), [(1, 0), (1, 1), (1, 2)]);
    assert_eq!(
        r.get_json("/topics/meta/partitions/1/offsets").await,
        (200, json!({"beginning_offset": 0, "end_offset": 3}))
    );
    assert_eq!(
        r.get_json("/topics/meta/partitions/0/offsets").await,
        (200, json!({"beginning_offset": 0, "end_offset": 0}))
    );
    assert_eq!(r.get_json("/brokers").await, (200, json!({"brokers": [1]})));
    // `__audit` holds the delivery audit's books (issue 13) once a round has counted the
    // records above: it may or may not exist yet.
    let (status, topics) = r.get_json("/topics").await;
    assert_eq!(status, 200, "{topics}");
    let topics: Vec<&str> = topics
        .as_array()
        .expect("topic list")
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| *t != "__audit")
        .collect();
    assert_eq!(topics, ["meta"]);

    for path in [
        "/topics/nope",
        "/topics/nope/partitions",
        "/topics/nope/partitions/0",
        "/topics/nope/partitions/0/offsets",
    ] {
        let got = r.get_json(path).await;
        assert_error(path, &got, 404, 40401);
    }
    for path in [
        "/topics/meta/partitions/2",
        "/topics/meta/partitions/2/offsets",
    ] {
        let got = r.get_json(path).await;
        assert_error(path, &got, 404, 40402);
    }
    assert_eq!(
        r.get_json("/topics/meta/partitions/x").await,
        (
            404,
            json!({"error_code": 404, "message": "HTTP 404 Not Found"})
        )
    );
    r.assert_no_panic();
}

#[tokio::test]
async fn v3_partitions_configs_and_partition_count() {
    let r = Runnel::start_with_topic("cfg", 2).await;
    let cid = r.cluster_id().await;
    let topic = format!("/v3/clusters/{cid}/topics/cfg");
    r.produce_ok("cfg", &[json!(1), json!(2)]).await;

    // Partitions and their offsets.
    let (status, list) = r.get_json(&format!("{topic}/partitions")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["kind"], "KafkaPartitionList", "{list}");
    assert_eq!(list["metadata"]["next"], Value::Null, "{list}");
    let data = list["data"].as_array().expect("data");
    assert_eq!(data.len(), 2, "{list}");
    for (i, p) in data.iter().enumerate() {
        assert_eq!(p["kind"], "KafkaPartition", "{p}");
        assert_eq!(p["cluster_id"], cid.as_str(), "{p}");
        assert_eq!(p["topic_name"], "cfg", "{p}");
        assert_eq!(p["partition_id"], i, "{p}");
        assert_eq!(
            p["metadata"]["resource_name"],
            format!("crn:///kafka={cid}/topic=cfg/partition={i}"),
            "{p}"
        );
        for link in ["leader", "replicas", "reassignment"] {
            assert!(p[link]["related"].is_string(), "{link} in {p}");
        }
    }
    let (status, p1) = r.get_json(&format!("{topic}/partitions/1")).await;
    assert_eq!((status, &p1), (200, &data[1]));
    let mut latest = 0;
    for p in 0..2 {
        let (status, o) = r
            .get_json(&format!(
                "{topic}/partitions/{p}/offset?offset_type=earliest_and_latest"
            ))
            .await;
        assert_eq!(status, 200, "{o}");
        assert_eq!(o["kind"], "KafkaPartitionWithOffsets", "{o}");
        assert_eq!(o["partition_id"], p, "{o}");
        assert_eq!(o["earliest_offset"], 0, "{o}");
        latest += o["latest_offset"].as_u64().expect("latest_offset");
    }
    assert_eq!(
        latest, 2,
        "the two records are in the partitions' latest offsets"
    );
    let got = r
        .get_json(&format!("{topic}/partitions/0/offset?offset_type=latest"))
        .await;
    assert_error("offset_type=latest", &got, 400, 400);
    let got = r.get_json(&format!("{topic}/partitions/9")).await;
    assert_error("unknown v3 partition", &got, 404, 40403);

    // Configs: list, get.
    let (status, list) = r.get_json(&format!("{topic}/configs")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["kind"], "KafkaTopicConfigList", "{list}");
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"retention.ms") && names.contains(&"cleanup.policy"),
        "{names:?}"
    );
    let get = |name: &'static str| {
        let r = &r;
        let path = format!("{topic}/configs/{name}");
        async move { r.get_json(&path).await }
    };
    let (status, c) = get("retention.ms").await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["kind"], "KafkaTopicConfig", "{c}");
    assert_eq!(c["cluster_id"], cid.as_str(), "{c}");
    assert_eq!(c["topic_name"], "cfg", "{c}");
    assert_eq!(c["name"], "retention.ms", "{c}");
    assert_eq!(c["value"], "604800000", "{c}");
    assert_eq!(c["is_default"], true, "{c}");
    assert_eq!(c["is_read_only"], false, "{c}");
    assert_eq!(c["is_sensitive"], false, "{c}");
    assert_eq!(c["source"], "DEFAULT_CONFIG", "{c}");
    assert!(c["synonyms"].is_array(), "{c}");
    assert_eq!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "retention.ms"),
        Some(&c)
    );
    let got = get("no.such.config").await;
    assert_error("GET unknown config", &got, 404, 404);

    // PUT sets, DELETE resets: 204 with no body.
    let resp = r
        .http
        .put(r.url(&format!("{topic}/configs/retention.ms")))
        .header("Content-Type", "application/json")
        .body(json!({"value": "1000"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.text().await.unwrap(), "");
    let (_, c) = get("retention.ms").await;
    assert_eq!(
        (&c["value"], &c["is_default"], &c["source"]),
        (
            &json!("1000"),
            &json!(false),
            &json!("DYNAMIC_TOPIC_CONFIG")
        ),
        "{c}"
    );
    let (_, v2) = r.get_json("/topics/cfg").await;
    assert_eq!(v2["configs"]["retention.ms"], "1000", "{v2}");
    let resp = r
        .http
        .delete(r.url(&format!("{topic}/configs/retention.ms")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (_, c) = get("retention.ms").await;
    assert_eq!(
        (&c["value"], &c["is_default"]),
        (&json!("604800000"), &json!(true)),
        "{c}"
    );

    // PUT refusals: a bad value, an unknown name, no value; all 40002 and nothing changes.
    for (name, body) in [
        ("retention.ms", json!({"value": "soon"})),
        ("no.such.config", json!({"value": "1"})),
        ("retention.ms", json!({})),
    ] {
        let resp = r
            .http
            .put(r.url(&format!("{topic}/configs/{name}")))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let got = crate::support::status_json(resp).await;
        assert_error(&format!("PUT {name} {body}"), &got, 400, 40002);
    }
    let (_, c) = get("retention.ms").await;
    assert_eq!(c["value"], "604800000", "{c}");

    // configs:alter: SET and DELETE together, all or nothing.
    let alter = format!("{topic}/configs:alter");
    let resp = r
        .http
        .post(r.url(&alter))
        .header("Content-Type", "application/json")
        .body(
            json!({"data": [
                {"name": "cleanup.policy", "value": "compact"},
                {"name": "retention.ms", "value": "5000", "operation": "SET"},
            ]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(get("cleanup.policy").await.1["value"], "compact");
    assert_eq!(get("retention.ms").await.1["value"], "5000");
    for (what, body) in [
        (
            "a bad value",
            json!({"data": [
                {"name": "retention.ms", "operation": "DELETE"},
                {"name": "segment.bytes", "value": "lots"},
            ]}),
        ),
        (
            "a name twice",
            json!({"data": [
                {"name": "retention.ms", "value": "1"},
                {"name": "retention.ms", "operation": "DELETE"},
            ]}),
        ),
        (
            "a SET without value",
            json!({"data": [{"name": "retention.ms"}]}),
        ),
    ] {
        let got = r.post(&alter, "application/json", &body).await;
        assert_error(&format!("configs:alter with {what}"), &got, 400, 40002);
    }
    assert_eq!(get("retention.ms").await.1["value"], "5000", "unchanged");
    let resp = r
        .http
        .post(r.url(&alter))
        .header("Content-Type", "application/json")
        .body(
            json!({"data": [{"name": "retention.ms", "operation": "DELETE"}], "validate_only": true})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        get("retention.ms").await.1["value"],
        "5000",
        "validate_only"
    );
    let resp = r
        .http
        .post(r.url(&alter))
        .header("Content-Type", "application/json")
        .body(
            json!({"data": [
                {"name": "retention.ms", "operation": "DELETE"},
                {"name": "cleanup.policy", "operation": "DELETE"},
            ]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(get("retention.ms").await.1["is_default"], true);
    assert_eq!(get("cleanup.policy").await.1["value"], "delete");
    let got = r
        .post(
            &format!("/v3/clusters/{cid}/topics/nope/configs:alter"),
            "application/json",
            &json!({"data": [{"name": "retention.ms", "value": "1"}]}),
        )
        .await;
    assert_error("configs:alter on an unknown topic", &got, 404, 40403);

    // PATCH partitions_count: grow; not growing is 40002.
    let patch = |body: Value| {
        let r = &r;
        let url = r.url(&topic);
        async move {
            let resp = r
                .http
                .patch(url)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            crate::support::status_json(resp).await
        }
    };
    let (status, t) = patch(json!({"partitions_count": 4})).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["kind"], "KafkaTopic", "{t}");
    assert_eq!(t["topic_name"], "cfg", "{t}");
    assert_eq!(t["partitions_count"], 4, "{t}");
    let (_, v2) = r.get_json("/topics/cfg").await;
    assert_eq!(v2["partitions"].as_array().unwrap().len(), 4, "{v2}");
    let (status, body) = r
        .post(
            "/topics/cfg/partitions/3",
            JSON_V2,
            &json!({"records": [{"value": 3}]}),
        )
        .await;
    assert_eq!(status, 200, "produce to a new partition: {body}");
    assert_eq!(offsets_of(&body), [(3, 0)]);
    for (what, body) in [
        ("the same count", json!({"partitions_count": 4})),
        ("fewer", json!({"partitions_count": 2})),
    ] {
        let got = patch(body).await;
        assert_error(&format!("PATCH to {what}"), &got, 400, 40002);
    }
    let (status, body) = patch(json!({"partitions_count": "many"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        r.get_json(&format!("{topic}/partitions")).await.1["data"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    r.assert_no_panic();
}

/// One sample of the exposition text: the value on the line that starts with `series` and a
/// space (`name{labels} value`).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().expect("sample value"))
}

async fn metrics_text(r: &Runnel) -> String {
    let resp = r
        .http
        .get(r.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain"), "content type {ct}");
    resp.text().await.expect("metrics body")
}

#[tokio::test]
async fn metrics_count_records_requests_latency_and_connections() {
    let r = Runnel::start_with_topic("counted", 2).await;
    let cid = r.cluster_id().await;
    let series = "runnel_topic_records_in_total{topic=\"counted\"}";
    let before = sample(&metrics_text(&r).await, series).unwrap_or(0.0);

    // 5 (v2 json) + 2 (v2 binary) + 1 (v3) + 3 (v3 batch, one failure) + 2 (v3 concatenated).
    let values: Vec<Value> = (0..5).map(|i| json!(i)).collect();
    r.produce_ok("counted", &values).await;
    r.post_expect(
        "/topics/counted",
        BINARY_V2,
        &json!({"records": [{"value": B64.encode("a")}, {"value": B64.encode("b")}]}),
        200,
    )
    .await;
    let records = format!("/v3/clusters/{cid}/topics/counted/records");
    r.post_expect(
        &records,
        "application/json",
        &json!({"value": {"type": "JSON", "data": 1}}),
        200,
    )
    .await;
    let body = r
        .post_expect(
            &format!("{records}:batch"),
            "application/json",
            &json!({"entries": [
                {"id": "1", "value": {"type": "JSON", "data": 1}},
                {"id": "2", "value": {"type": "BINARY", "data": 2}},
                {"id": "3", "value": {"type": "JSON", "data": 3}},
                {"id": "4", "value": {"type": "JSON", "data": 4}},
            ]}),
            207,
        )
        .await;
    assert_eq!(body["successes"].as_array().unwrap().len(), 3, "{body}");
    let one = json!({"value": {"type": "JSON", "data": 1}}).to_string();
    let (status, _, text) =
        post_raw(&r, &records, "application/json", &format!("{one}{one}")).await;
    assert_eq!(status, 200, "{text}");
    // Refused requests add nothing.
    let got = r
        .produce_json("counted", &[json!({"value": 1, "partition": 9})])
        .await;
    assert_error("unknown partition", &got, 404, 40402);
    r.post_expect(
        &records,
        "application/json",
        &json!({"value": {"type": "BINARY", "data": 1}}),
        400,
    )
    .await;

    let text = metrics_text(&r).await;
    let after = sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert_eq!(after - before, 13.0, "records in, in\n{text}");
    assert!(
        sample(&text, "runnel_topic_bytes_in_total{topic=\"counted\"}").is_some_and(|b| b > 0.0),
        "{text}"
    );
    let produced_200 = sample(
        &text,
        "runnel_http_requests_total{method=\"POST\",route=\"/topics/{topic}\",status=\"200\"}",
    )
    .unwrap_or_else(|| panic!("no v2 produce request count in\n{text}"));
    assert!(produced_200 >= 2.0, "{text}");
    assert!(
        sample(
            &text,
            "runnel_http_requests_total{method=\"POST\",route=\"/topics/{topic}\",status=\"404\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "the 404 produce is counted with its status:\n{text}"
    );
    assert!(
        text.contains("# TYPE runnel_http_requests_total counter")
            && text.contains("# TYPE runnel_produce_latency_seconds histogram")
            && text.contains("# TYPE runnel_http_open_connections gauge"),
        "{text}"
    );
    let buckets: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("runnel_produce_latency_seconds_bucket{"))
        .collect();
    assert!(buckets.len() >= 2, "{text}");
    let inf = sample(&text, "runnel_produce_latency_seconds_bucket{le=\"+Inf\"}")
        .unwrap_or_else(|| panic!("no +Inf bucket in\n{text}"));
    assert!(inf >= 7.0, "seven produce requests at least: {inf}\n{text}");
    assert_eq!(
        sample(&text, "runnel_produce_latency_seconds_count"),
        Some(inf),
        "{text}"
    );
    // Buckets are cumulative.
    let counts: Vec<f64> = buckets
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    let open = sample(&text, "runnel_http_open_connections")
        .unwrap_or_else(|| panic!("no open connections gauge in\n{text}"));
    assert!(open >= 1.0, "this client's connection is open: {open}");

    // Every non-comment line is `name[{labels}] value`.
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (_, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(
            value.parse::<f64>().is_ok() && line.starts_with("runnel_"),
            "bad sample line {line:?}"
        );
    }
    r.assert_no_panic();
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_confluent_format() {
    let r = Runnel::start_with_topic("t", 1).await;
    let cid = r.cluster_id().await;
    let not_found = json!({"error_code": 404, "message": "HTTP 404 Not Found"});
    for path in [
        "/nope",
        "/v3/nope",
        "/v3/clusters/x/y/z",
        "/topics/t/nope",
        "/v2/topics",
    ] {
        let resp = r.http.get(r.url(path)).send().await.unwrap();
        let ct = resp.headers().get("content-type").cloned();
        let got = crate::support::status_json(resp).await;
        assert_eq!(got, (404, not_found.clone()), "GET {path}");
        assert_eq!(
            ct.as_ref().and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "GET {path}"
        );
    }
    let method_not_allowed = json!({"error_code": 405, "message": "HTTP 405 Method Not Allowed"});
    for (method, path) in [
        (reqwest::Method::DELETE, "/brokers".to_owned()),
        (reqwest::Method::PUT, "/topics/t".to_owned()),
        (reqwest::Method::POST, "/v3/clusters".to_owned()),
        (reqwest::Method::DELETE, "/topics".to_owned()),
        (
            reqwest::Method::PUT,
            format!("/v3/clusters/{cid}/topics/t/records"),
        ),
        (
            reqwest::Method::GET,
            format!("/v3/clusters/{cid}/topics/t/records:batch"),
        ),
    ] {
        let resp = r
            .http
            .request(method.clone(), r.url(&path))
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert!(
            resp.headers().contains_key("allow"),
            "{method} {path}: {:?}",
            resp.headers()
        );
        let got = crate::support::status_json(resp).await;
        assert_eq!(got, (405, method_not_allowed.clone()), "{method} {path}");
    }
    r.assert_no_panic();
}
