//! Consumer groups through the real server (issue 4): v2 consumer instances, WebSocket group
//! members and `runnel consume --group` sharing partitions, eviction of a member that stops
//! answering, committed offsets across restarts, and independent groups.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Runnel, Ws, runnel_bin};

const V2: &str = "application/vnd.kafka.v2+json";
const JSON_V2: &str = "application/vnd.kafka.json.v2+json";
const SETTLE: Duration = Duration::from_secs(20);

/// A v2 consumer instance of `group` named `name`, subscribed to `topic`.
async fn member(r: &Runnel, group: &str, name: &str, topic: &str) {
    let body = json!({"name": name, "format": "json", "auto.offset.reset": "earliest",
                      "auto.commit.enable": "false"});
    let created = r
        .post_expect(&format!("/consumers/{group}"), V2, &body, 200)
        .await;
    assert!(
        created["base_uri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/consumers/{group}/instances/{name}")),
        "{created}"
    );
    let path = format!("/consumers/{group}/instances/{name}/subscription");
    r.post_expect(&path, V2, &json!({"topics": [topic]}), 204)
        .await;
}

async fn assigned(r: &Runnel, group: &str, name: &str) -> BTreeSet<u32> {
    let (status, body) = r
        .get_json(&format!("/consumers/{group}/instances/{name}/assignments"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| u32::try_from(p["partition"].as_u64().unwrap()).unwrap())
        .collect()
}

/// Waits until the members' assignments cover `0..partitions` exactly once with the sizes
/// `sizes` (sorted), and returns them.
async fn settled(
    r: &Runnel,
    group: &str,
    names: &[&str],
    partitions: u32,
    sizes: &[usize],
) -> Vec<BTreeSet<u32>> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let mut got = Vec::new();
        for name in names {
            got.push(assigned(r, group, name).await);
        }
        let total: usize = got.iter().map(BTreeSet::len).sum();
        let union: BTreeSet<u32> = got.iter().flatten().copied().collect();
        let mut lens: Vec<usize> = got.iter().map(BTreeSet::len).collect();
        lens.sort_unstable();
        if total == partitions as usize && union == (0..partitions).collect() && lens == sizes {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "assignments never settled: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn poll(r: &Runnel, group: &str, name: &str) -> Vec<Value> {
    let path = format!("/consumers/{group}/instances/{name}/records?timeout=500");
    let (status, records) = r.get_accept(&path, JSON_V2).await;
    assert_eq!(status, 200, "{records}");
    records.as_array().expect("records").clone()
}

/// Each record's (partition, offset).
fn positions(records: &[Value]) -> Vec<(u32, u64)> {
    records
        .iter()
        .map(|r| {
            (
                u32::try_from(r["partition"].as_u64().unwrap()).unwrap(),
                r["offset"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Produces `n` JSON records `{"n": i}` round-robin over `partitions` partitions.
async fn produce(r: &Runnel, topic: &str, partitions: u32, n: u32) -> BTreeSet<(u32, u64)> {
    let mut out = BTreeSet::new();
    for p in 0..partitions {
        let records: Vec<Value> = (0..n)
            .filter(|i| i % partitions == p)
            .map(|i| json!({"value": {"n": i}}))
            .collect();
        let body = r
            .post_expect(
                &format!("/topics/{topic}/partitions/{p}"),
                JSON_V2,
                &json!({ "records": records }),
                200,
            )
            .await;
        for o in body["offsets"].as_array().unwrap() {
            out.insert((p, o["offset"].as_u64().unwrap()));
        }
    }
    out
}

#[tokio::test]
async fn two_then_three_members_share_six_partitions_with_no_overlap_or_gap() {
    let r = Runnel::start_with_topic("six", 6).await;
    member(&r, "g", "a", "six").await;
    assert_eq!(
        settled(&r, "g", &["a"], 6, &[6]).await,
        vec![(0..6).collect::<BTreeSet<u32>>()]
    );
    member(&r, "g", "b", "six").await;
    let two = settled(&r, "g", &["a", "b"], 6, &[3, 3]).await;
    // Range assignor: members sorted by id take contiguous halves.
    assert!(two.contains(&(0..3).collect()), "{two:?}");

    member(&r, "g", "c", "six").await;
    settled(&r, "g", &["a", "b", "c"], 6, &[2, 2, 2]).await;

    // v3 describes the same group: Stable, three members, six assignments in all.
    let cluster = r.cluster_id().await;
    let (status, group) = r
        .get_json(&format!("/v3/clusters/{cluster}/consumer-groups/g"))
        .await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["state"], "STABLE", "{group}");
    assert_eq!(group["partition_assignor"], "range", "{group}");
    let (status, consumers) = r
        .get_json(&format!(
            "/v3/clusters/{cluster}/consumer-groups/g/consumers"
        ))
        .await;
    assert_eq!(status, 200, "{consumers}");
    assert_eq!(
        consumers["data"].as_array().unwrap().len(),
        3,
        "{consumers}"
    );

    // Records produced now reach exactly the member that owns their partition.
    let produced = produce(&r, "six", 6, 60).await;
    let mut seen = BTreeMap::new();
    for name in ["a", "b", "c"] {
        let owned = assigned(&r, "g", name).await;
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + SETTLE;
        while got.len() < 20 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "member {name} got only {got:?}"
            );
            got.extend(positions(&poll(&r, "g", name).await));
        }
        assert!(
            got.iter().all(|(p, _)| owned.contains(p)),
            "{name}: {got:?}"
        );
        for pos in got {
            assert!(seen.insert(pos, name).is_none(), "{pos:?} delivered twice");
        }
    }
    assert_eq!(seen.keys().copied().collect::<BTreeSet<_>>(), produced);

    // Instance polls count as records out in /metrics.
    let metrics = r
        .http
        .get(r.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let out: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("runnel_topic_records_out_total{topic=\"six\"} "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert_eq!(out, 60, "{metrics}");
    r.assert_no_panic();
}

/// A WebSocket group member of `group` on `topic`.
async fn ws_member(r: &Runnel, topic: &str, group: &str) -> Ws {
    let url = format!(
        "ws://127.0.0.1:{}/v1/ws/consume?topic={topic}&group={group}&from=earliest&credit=100000",
        r.port()
    );
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The partitions of the next `assignment` frame, skipping record frames.
async fn ws_assignment(ws: &mut Ws) -> BTreeSet<u32> {
    loop {
        let frame = ws_frame(ws).await;
        if frame["type"] == "assignment" {
            return frame["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| u32::try_from(p["partition"].as_u64().unwrap()).unwrap())
                .collect();
        }
        assert_ne!(frame["type"], "error", "{frame}");
    }
}

async fn ws_frame(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(SETTLE, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).unwrap(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_member_that_stops_answering_is_evicted_and_its_partitions_move() {
    let r = Runnel::start_with_env(&[
        ("RUNNEL_LIMITS_WS_PING_INTERVAL", "200ms"),
        ("RUNNEL_LIMITS_WS_PONG_TIMEOUT", "500ms"),
    ])
    .await;
    r.create_topic("evict", 6, &[]).await;
    let mut live = ws_member(&r, "evict", "e").await;
    assert_eq!(ws_assignment(&mut live).await, (0..6).collect());

    // A second member joins over a raw socket, reads nothing more after the handshake, and so
    // never answers a ping.
    let mut deaf = tokio::net::TcpStream::connect(("127.0.0.1", r.port()))
        .await
        .unwrap();
    let handshake = "GET /v1/ws/consume?topic=evict&group=e HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    deaf.write_all(handshake.as_bytes()).await.unwrap();
    let halved = ws_assignment(&mut live).await;
    assert_eq!(halved.len(), 3, "the deaf member took half: {halved:?}");

    // Its pong deadline passes, the server drops it, and the group rebalances to one member.
    assert_eq!(ws_assignment(&mut live).await, (0..6).collect());
    drop(deaf);
    r.assert_no_panic();
}

#[tokio::test]
async fn committed_offsets_survive_a_graceful_restart_and_a_crash() {
    let mut r = Runnel::start_with_env(&[("RUNNEL_TOPIC_DEFAULTS_FLUSH_MESSAGES", "1")]).await;
    r.create_topic("keep", 2, &[]).await;
    produce(&r, "keep", 2, 40).await;
    member(&r, "k", "one", "keep").await;
    settled(&r, "k", &["one"], 2, &[2]).await;
    // v2 commits name the last record processed; the group stores the offset after it.
    let commit = json!({"offsets": [
        {"topic": "keep", "partition": 0, "offset": 7},
        {"topic": "keep", "partition": 1, "offset": 13},
    ]});
    r.post_expect("/consumers/k/instances/one/offsets", V2, &commit, 200)
        .await;

    let before = lags(&r, "k").await;
    assert_eq!(before, vec![(0, 8, 12), (1, 14, 6)]);

    r.restart().await;
    assert_eq!(lags(&r, "k").await, before, "after a graceful restart");
    r.crash_restart().await;
    assert_eq!(lags(&r, "k").await, before, "after kill -9");

    // A new member resumes at the committed offsets.
    member(&r, "k", "two", "keep").await;
    settled(&r, "k", &["two"], 2, &[2]).await;
    let mut first = BTreeMap::new();
    let mut total = 0;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while total < 18 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {total} records"
        );
        let got = positions(&poll(&r, "k", "two").await);
        total += got.len();
        for (p, o) in got {
            first.entry(p).or_insert(o);
        }
    }
    assert_eq!(total, 18);
    assert_eq!(first, BTreeMap::from([(0, 8), (1, 14)]));
    r.assert_no_panic();
}

/// Group `group`'s (partition, committed offset, lag) from v3.
async fn lags(r: &Runnel, group: &str) -> Vec<(u64, u64, u64)> {
    let cluster = r.cluster_id().await;
    let (status, body) = r
        .get_json(&format!(
            "/v3/clusters/{cluster}/consumer-groups/{group}/lags"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["partition_id"].as_u64().unwrap(),
                l["current_offset"].as_u64().unwrap(),
                l["lag"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Runs `runnel consume <topic> --group <group> -f json` and returns its stdout lines.
async fn cli_consume_group(r: &Runnel, topic: &str, group: &str, extra: &[&str]) -> Vec<String> {
    let mut cmd = tokio::process::Command::new(runnel_bin());
    cmd.args([
        "consume",
        topic,
        "--group",
        group,
        "-f",
        "json",
        "--url",
        &r.url(""),
    ])
    .args(extra)
    .env_remove("RUNNEL_URL")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("runnel consume --group ran for more than a minute")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn two_groups_each_see_every_record() {
    let r = Runnel::start_with_topic("both", 6).await;
    // Group "ws": two WebSocket members, settled before anything is produced.
    let mut a = ws_member(&r, "both", "ws").await;
    assert_eq!(ws_assignment(&mut a).await.len(), 6);
    let mut b = ws_member(&r, "both", "ws").await;
    let (pa, pb) = (ws_assignment(&mut a).await, ws_assignment(&mut b).await);
    assert_eq!(pa.len() + pb.len(), 6);
    assert!(pa.is_disjoint(&pb));

    let produced = produce(&r, "both", 6, 600).await;

    let mut seen = BTreeSet::new();
    for (ws, owned) in [(&mut a, &pa), (&mut b, &pb)] {
        let mut got = 0;
        while got < 300 {
            let frame = ws_frame(ws).await;
            assert_eq!(frame["type"], "records", "{frame}");
            for rec in positions(frame["records"].as_array().unwrap()) {
                assert!(owned.contains(&rec.0), "{rec:?} outside {owned:?}");
                assert!(seen.insert(rec), "{rec:?} twice in group ws");
                got += 1;
            }
        }
    }
    assert_eq!(seen, produced, "group ws saw every record once");

    // Group "cli": `runnel consume --group` sees all 600 too, and commits them: a second run
    // prints only what was produced after the first.
    let lines = cli_consume_group(&r, "both", "cli", &["--offset", "earliest"]).await;
    assert_eq!(lines.len(), 600);
    let values: BTreeSet<String> = lines.into_iter().collect();
    assert_eq!(values.len(), 600, "every record once");
    produce(&r, "both", 6, 12).await;
    let again = cli_consume_group(&r, "both", "cli", &[]).await;
    assert_eq!(again.len(), 12, "{again:?}");

    // The WebSocket group is independent of the CLI group: its members get just the 12 new
    // records, two per partition, each from the partitions it owns.
    for (ws, owned) in [(&mut a, &pa), (&mut b, &pb)] {
        let mut got = Vec::new();
        while got.len() < 2 * owned.len() {
            let frame = ws_frame(ws).await;
            assert_eq!(frame["type"], "records", "{frame}");
            got.extend(positions(frame["records"].as_array().unwrap()));
        }
        assert_eq!(got.len(), 2 * owned.len(), "{got:?}");
        assert!(
            got.iter().all(|(p, o)| owned.contains(p) && *o >= 100),
            "{got:?}"
        );
    }

    // Mixing --offset N with --group is refused with a message.
    let mut cmd = tokio::process::Command::new(runnel_bin());
    let out = cmd
        .args([
            "consume",
            "both",
            "--group",
            "cli",
            "--offset",
            "5",
            "--url",
            &r.url(""),
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("earliest or latest"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    r.assert_no_panic();
}

#[tokio::test]
async fn bench_consume_as_a_group_reads_every_record_over_both_transports() {
    let r = Runnel::start().await;
    for transport in ["http", "ws"] {
        let group = format!("bench-{transport}");
        let out = tokio::process::Command::new(runnel_bin())
            .args([
                "bench",
                "consume",
                "--json",
                "--topic",
                "gbench",
                "--partitions",
                "3",
            ])
            .args(["--prefill", "3000", "--concurrency", "2", "--group", &group])
            .args(["--transport", transport, "--url", &r.url("")])
            .env_remove("RUNNEL_URL")
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["mode"], "consume-group", "{report}");
        assert_eq!(report["transport"], transport, "{report}");
        assert_eq!(report["records"], 3000, "{report}");
        assert_eq!(report["errors"], 0, "{report}");
        // The members leave when the run ends (a closed socket is noticed by the server a
        // moment later); with no committed offsets (the bench does not commit) the group is
        // then gone, as in Kafka.
        let cluster = r.cluster_id().await;
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            let (status, g) = r
                .get_json(&format!("/v3/clusters/{cluster}/consumer-groups/{group}"))
                .await;
            if (status, g["error_code"].as_u64()) == (404, Some(40405)) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the group stayed: {g}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    r.assert_no_panic();
}

#[tokio::test]
async fn an_idle_consumer_instance_expires_after_the_configured_timeout() {
    let r = Runnel::start_with_env(&[("RUNNEL_CONSUMER_INSTANCE_TIMEOUT", "1s")]).await;
    r.create_topic("idle", 4, &[]).await;
    member(&r, "i", "busy", "idle").await;
    member(&r, "i", "idle", "idle").await;
    settled(&r, "i", &["busy", "idle"], 4, &[2, 2]).await;
    // "busy" keeps polling; "idle" makes no request, expires, and leaves the group.
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        poll(&r, "i", "busy").await;
        if assigned(&r, "i", "busy").await.len() == 4 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the idle instance never expired"
        );
    }
    let (status, body) = r.get_json("/consumers/i/instances/idle/assignments").await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (404, Some(40403)),
        "{body}"
    );
    r.assert_no_panic();
}
