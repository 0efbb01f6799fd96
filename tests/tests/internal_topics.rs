//! The broker's own topics (`_schemas`, `__consumer_offsets`) and the topic lifecycle, through
//! the real server: clients cannot forge, delete or reconfigure what the registry and the group
//! coordinator keep their state in; a topic delete is one step that either happens or changes
//! nothing; topic names that differ only in `.` and `_` collide; a produce racing a delete is
//! told the topic is unknown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{JSON_V2, Runnel, assert_error, runnel_bin};

const SCHEMA: &str = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}"#;

/// Registers a schema (which creates `_schemas`) and commits an offset for group `g` on topic
/// `data` (which creates `__consumer_offsets`).
async fn make_internal_state(r: &Runnel) {
    r.register_schema("orders-value", SCHEMA).await;
    r.create_topic("data", 1, &[]).await;
    r.produce_ok("data", &[json!(1), json!(2), json!(3)]).await;
    let (status, body) = r
        .post(
            "/consumers/g",
            JSON_V2,
            &json!({"name": "i", "format": "json"}),
        )
        .await;
    assert_eq!(status, 200, "consumer: {body}");
    let (status, body) = r
        .post(
            "/consumers/g/instances/i/assignments",
            JSON_V2,
            &json!({"partitions": [{"topic": "data", "partition": 0}]}),
        )
        .await;
    assert_eq!(status, 204, "assign: {body}");
    let (status, body) = r
        .post(
            "/consumers/g/instances/i/offsets",
            JSON_V2,
            &json!({"offsets": [{"topic": "data", "partition": 0, "offset": 1}]}),
        )
        .await;
    assert_eq!(status, 200, "commit: {body}");
}

/// What the registry and the coordinator hold: the subject's versions and group `g`'s
/// committed offsets.
async fn internal_state(r: &Runnel) -> (Value, Value) {
    let (status, versions) = r.get_json("/subjects/orders-value/versions").await;
    assert_eq!(status, 200, "versions: {versions}");
    let cluster = r.cluster_id().await;
    let (status, lags) = r
        .get_json(&format!("/v3/clusters/{cluster}/consumer-groups/g/lags"))
        .await;
    assert_eq!(status, 200, "lags: {lags}");
    let offsets = lags["data"]
        .as_array()
        .expect("lags")
        .iter()
        .map(|l| json!([l["topic_name"], l["partition_id"], l["current_offset"]]))
        .collect();
    (versions, offsets)
}

#[tokio::test]
async fn internal_topics_refuse_client_appends() {
    let mut r = Runnel::start().await;
    make_internal_state(&r).await;
    let before = internal_state(&r).await;
    let cluster = r.cluster_id().await;

    // A forged tombstone for the schema and a forged commit, on every produce front-end.
    for topic in ["_schemas", "__consumer_offsets"] {
        let got = r
            .post(
                &format!("/topics/{topic}"),
                JSON_V2,
                &json!({"records": [{"key": "forged", "value": null}]}),
            )
            .await;
        assert_error(&format!("v2 produce to {topic}"), &got, 400, 40002);
        assert!(
            got.1["message"]
                .as_str()
                .is_some_and(|m| m.contains("Cannot append to internal topic")),
            "{}",
            got.1
        );
        let got = r
            .post(
                &format!("/topics/{topic}/partitions/0"),
                JSON_V2,
                &json!({"records": [{"value": 1}]}),
            )
            .await;
        assert_error(&format!("v2 produce to {topic}/0"), &got, 400, 40002);
        let got = r
            .post(
                &format!("/v3/clusters/{cluster}/topics/{topic}/records"),
                "application/json",
                &json!({"value": {"type": "JSON", "data": 1}}),
            )
            .await;
        assert_error(&format!("v3 produce to {topic}"), &got, 400, 40002);
        let got = r
            .post(
                &format!("/v3/clusters/{cluster}/topics/{topic}/records:batch"),
                "application/json",
                &json!({"entries": [{"id": "1", "value": {"type": "JSON", "data": 1}}]}),
            )
            .await;
        assert_error(&format!("v3 batch produce to {topic}"), &got, 400, 40002);
        let ws = tokio_tungstenite::connect_async(format!(
            "ws://127.0.0.1:{}/v1/ws/produce?topic={topic}",
            r.port()
        ))
        .await;
        match ws {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 400, "ws produce to {topic}");
            }
            other => panic!("ws produce to {topic} was not refused: {other:?}"),
        }
    }

    assert_eq!(internal_state(&r).await, before);
    r.crash_restart().await;
    assert_eq!(internal_state(&r).await, before, "after a restart");
    r.assert_no_panic();
}

#[tokio::test]
async fn internal_topics_refuse_deletion_and_configs_that_would_lose_records() {
    let mut r = Runnel::start().await;
    make_internal_state(&r).await;
    let before = internal_state(&r).await;
    let c = r.cluster_id().await;

    for topic in ["_schemas", "__consumer_offsets"] {
        let t = format!("/v3/clusters/{c}/topics/{topic}");
        let got = r.call("DELETE", &t, None).await;
        assert_error(&format!("DELETE {topic}"), &got, 400, 40002);

        for (name, value) in [
            ("cleanup.policy", "delete"),
            ("cleanup.policy", "compact,delete"),
            ("retention.ms", "1"),
            ("retention.bytes", "1"),
        ] {
            let got = r
                .call(
                    "PUT",
                    &format!("{t}/configs/{name}"),
                    Some(&json!({ "value": value })),
                )
                .await;
            assert_error(&format!("{topic} {name}={value}"), &got, 400, 40002);
            let got = r
                .call(
                    "POST",
                    &format!("{t}/configs:alter"),
                    Some(&json!({"data": [{ "name": name, "value": value }]})),
                )
                .await;
            assert_error(&format!("{topic} alter {name}={value}"), &got, 400, 40002);
        }
        // Resetting the policy would bring back the default, delete.
        let got = r
            .call("DELETE", &format!("{t}/configs/cleanup.policy"), None)
            .await;
        assert_error(&format!("{topic} reset cleanup.policy"), &got, 400, 40002);
        // A config that keeps every record stays the operator's.
        let got = r
            .call(
                "PUT",
                &format!("{t}/configs/flush.messages"),
                Some(&json!({ "value": "1" })),
            )
            .await;
        assert_eq!(got.0, 204, "{topic} flush.messages=1: {}", got.1);
    }

    r.restart().await;
    assert_eq!(internal_state(&r).await, before, "after a restart");
    r.assert_no_panic();
}

#[tokio::test]
async fn clients_cannot_create_internal_topics() {
    let r = Runnel::start().await;
    for name in ["_schemas", "__consumer_offsets", "__anything"] {
        let got = r
            .try_create_topic(&json!({"topic_name": name, "partitions_count": 1,
                "configs": [{"name": "cleanup.policy", "value": "delete"}]}))
            .await;
        assert_error(&format!("create {name}"), &got, 400, 40002);
    }
    // The registry still creates its own topic, compacted.
    r.register_schema("s-value", SCHEMA).await;
    let c = r.cluster_id().await;
    let (status, body) = r
        .get_json(&format!(
            "/v3/clusters/{c}/topics/_schemas/configs/cleanup.policy"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"], "compact");
}

/// Runs `runnel serve` on `data_dir` and expects it to exit by itself, refusing to start;
/// returns its stderr.
fn serve_expecting_refusal(data_dir: &std::path::Path) -> String {
    let mut child = Command::new(runnel_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "info")
        .env_remove("RUNNEL_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn runnel");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(!status.success(), "a refused start exits non-zero");
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
                .expect("read stderr");
            return err;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("runnel started on a misconfigured internal topic");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Makes the stopped server's data dir one of a single node from before the metadata log:
/// `meta.json` holds the topics (format 1) and there is no metadata log. Such a dir is where
/// an internal topic that deletes records can come from.
fn make_single_node_dir(data_dir: &std::path::Path) {
    let path = data_dir.join("meta.json");
    let mut meta: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read meta.json")).expect("json");
    meta["version"] = json!(1);
    std::fs::write(&path, serde_json::to_vec_pretty(&meta).expect("json")).expect("write");
    match std::fs::remove_dir_all(data_dir.join("metadata")) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("remove the metadata log: {e}"),
    }
}

/// Sets `configs` of `topic` in the stopped server's `meta.json`, as an older version or a
/// hand edit could have left them.
fn edit_configs(data_dir: &std::path::Path, topic: &str, configs: Value) {
    let path = data_dir.join("meta.json");
    let mut meta: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read meta.json")).expect("json");
    meta["topics"][topic]["configs"] = configs;
    std::fs::write(&path, serde_json::to_vec_pretty(&meta).expect("json")).expect("write");
}

#[tokio::test]
async fn registry_and_coordinator_refuse_to_run_on_a_topic_that_deletes_records() {
    let mut r = Runnel::start().await;
    make_internal_state(&r).await;
    let before = internal_state(&r).await;
    r.stop().await;
    let data = r.data_dir().to_path_buf();

    for (topic, configs) in [
        ("_schemas", json!({"cleanup.policy": "delete"})),
        (
            "_schemas",
            json!({"cleanup.policy": "compact", "retention.ms": "1"}),
        ),
        (
            "__consumer_offsets",
            json!({"cleanup.policy": "compact,delete"}),
        ),
    ] {
        make_single_node_dir(&data);
        edit_configs(&data, topic, configs.clone());
        let err = serve_expecting_refusal(&data);
        assert!(
            err.contains(topic) && err.contains("meta.json"),
            "{topic} {configs}: the error names the topic and the fix:\n{err}"
        );
        edit_configs(&data, topic, json!({"cleanup.policy": "compact"}));
    }
    // Fixed as the error says, it starts with everything it had.
    r.spawn_ready().await;
    assert_eq!(internal_state(&r).await, before);
}

#[tokio::test]
async fn topic_names_differing_only_in_dot_and_underscore_collide() {
    let r = Runnel::start_with_topic("col.x", 1).await;
    let got = r
        .try_create_topic(&json!({"topic_name": "col_x", "partitions_count": 1}))
        .await;
    assert_error("create col_x", &got, 400, 40002);
    assert!(
        got.1["message"]
            .as_str()
            .is_some_and(|m| m.contains("collides") && m.contains("col.x")),
        "{}",
        got.1
    );
    let c = r.cluster_id().await;
    let got = r
        .call("DELETE", &format!("/v3/clusters/{c}/topics/col.x"), None)
        .await;
    assert_eq!(got.0, 204, "{}", got.1);
    r.create_topic("col_x", 1, &[]).await;
}

/// Lowers the server's open-file limit to what it holds now plus `headroom`, so the next few
/// opens fail with EMFILE; `None` restores the original limit.
fn limit_open_files(pid: u32, headroom: Option<usize>) {
    let limit = match headroom {
        Some(h) => {
            let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .expect("/proc/<pid>/fd")
                .count();
            (open + h).to_string()
        }
        None => "20000".to_owned(),
    };
    let status = Command::new("prlimit")
        .arg("--pid")
        .arg(pid.to_string())
        .arg(format!("--nofile={limit}:{}", hard_limit()))
        .status()
        .expect("run prlimit");
    assert!(status.success(), "prlimit failed");
}

fn hard_limit() -> String {
    let out = Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .expect("ulimit");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Regression: a DELETE that answered 500 (out of descriptors) had already rewritten the
/// metadata, and the next start removed the topic's records. Whatever the answer, the next
/// start must find the whole topic (if the delete failed) or none of it (if it succeeded).
#[tokio::test]
async fn a_failed_topic_delete_deletes_nothing() {
    let mut r = Runnel::start_with_env(&[("RUNNEL_TOPIC_DEFAULTS_FLUSH_MESSAGES", "1")]).await;
    let c = r.cluster_id().await;
    let values: Vec<Value> = (0..50).map(|i| json!({ "n": i })).collect();
    let mut failed = 0;
    for headroom in 0..6 {
        let topic = format!("doomed-{headroom}");
        r.create_topic(&topic, 2, &[]).await;
        for _ in 0..4 {
            r.produce_ok(&topic, &values).await;
        }
        let pid = r.pid();
        // Keep the connection open so the request itself needs no new descriptor.
        let client = r.http.clone();
        let _ = client.get(r.url("/health")).send().await.expect("warm");
        limit_open_files(pid, Some(headroom));
        let resp = client
            .delete(r.url(&format!("/v3/clusters/{c}/topics/{topic}")))
            .send()
            .await;
        limit_open_files(pid, None);
        let status = resp.map(|r| r.status().as_u16()).ok();
        r.crash_restart().await;
        let (code, _) = r
            .get_json(&format!("/v3/clusters/{c}/topics/{topic}"))
            .await;
        match status {
            Some(204) => assert_eq!(code, 404, "{topic}: deleted, yet back after a restart"),
            _ => {
                failed += 1;
                assert_eq!(
                    code, 200,
                    "{topic}: the delete failed ({status:?}) yet the topic is gone"
                );
                let total = r.read_all(&topic, 0).await.len() + r.read_all(&topic, 1).await.len();
                assert_eq!(total, 200, "{topic}: the failed delete lost records");
            }
        }
    }
    assert!(failed > 0, "no delete failed: the limit did not bite");
    r.assert_no_panic();
}

/// Regression: a produce racing a topic delete answered 50002 and took the partition
/// "offline after an i/o failure"; it is an unknown topic now.
#[tokio::test]
async fn a_produce_racing_a_topic_delete_is_told_the_topic_is_unknown() {
    let r = Runnel::start().await;
    let c = r.cluster_id().await;
    for round in 0..5 {
        let topic = format!("race-{round}");
        r.create_topic(&topic, 4, &[]).await;
        let url = r.url(&format!("/topics/{topic}"));
        let producers: Vec<_> = (0..4)
            .map(|_| {
                let http = r.http.clone();
                let url = url.clone();
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    for _ in 0..40 {
                        let records: Vec<Value> = (0..20).map(|i| json!({ "value": i })).collect();
                        let resp = http
                            .post(&url)
                            .header("Content-Type", JSON_V2)
                            .body(json!({ "records": records }).to_string())
                            .send()
                            .await
                            .expect("produce");
                        answers.push(crate::support::status_json(resp).await);
                    }
                    answers
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let got = r
            .call("DELETE", &format!("/v3/clusters/{c}/topics/{topic}"), None)
            .await;
        assert_eq!(got.0, 204, "{}", got.1);
        for p in producers {
            for (status, body) in p.await.expect("producer") {
                match status {
                    200 => {
                        for o in body["offsets"].as_array().expect("offsets") {
                            let code = &o["error_code"];
                            assert!(
                                code.is_null() || code == 40401,
                                "a record failed with something else than unknown topic: {body}"
                            );
                        }
                    }
                    404 => assert_eq!(body["error_code"], 40401, "{body}"),
                    other => panic!("produce racing a delete answered {other}: {body}"),
                }
            }
        }
    }
    let log = r.stderr();
    assert!(
        !log.contains("offline"),
        "a deleted partition was reported offline:\n{log}"
    );
    r.assert_no_panic();
}
