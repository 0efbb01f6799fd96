//! The cluster's control plane with real processes: three `runnel serve` brokers voting in one
//! metadata quorum (openraft), their registration and liveness, the controller's failover, and
//! bad cluster settings. A single node is a one-voter quorum on the same path.

use std::process::Stdio;

use serde_json::{Value, json};

use crate::support::*;

/// The v3 cluster id and the listed broker ids, as broker `b` answers.
async fn v3_brokers(c: &Cluster, b: u32) -> (String, Vec<u64>) {
    let r = c.broker(b);
    let id = r.cluster_id().await;
    let (status, body) = r.get_json(&format!("/v3/clusters/{id}/brokers")).await;
    assert_eq!(status, 200, "{body}");
    let ids = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|b| b["broker_id"].as_u64().expect("broker_id"))
        .collect();
    (id, ids)
}

fn live(status: &Value, brokers: &[u32]) -> bool {
    brokers.iter().all(|b| fenced(status, *b) == Some(false))
}

#[tokio::test]
async fn three_brokers_form_one_cluster_and_list_each_other() {
    let c = Cluster::start(3).await;
    let agreed = c
        .wait_status(1, "three live brokers", |s| live(s, &[1, 2, 3]))
        .await;
    let controller = agreed["controller_id"].as_u64().expect("a controller");
    for b in 1..=3 {
        let s = c
            .wait_status(b, "the same controller", |s| {
                live(s, &[1, 2, 3]) && s["controller_id"] == controller
            })
            .await;
        assert_eq!(
            s["cluster_id"], agreed["cluster_id"],
            "one cluster id on every broker"
        );
        let (id, ids) = v3_brokers(&c, b).await;
        assert_eq!(id, agreed["cluster_id"]);
        assert_eq!(ids, [1, 2, 3]);
        // Each broker registered the URL clients reach it at.
        let me = s["brokers"][b as usize - 1].clone();
        assert_eq!(me["url"], c.broker(b).url(""), "{s}");
    }
    // The controller link of the v3 cluster and the metrics agree.
    let (_, cluster) = c.broker(2).get_json("/v3/clusters").await;
    let link = cluster["data"][0]["controller"]["related"]
        .as_str()
        .unwrap_or_default();
    assert!(
        link.ends_with(&format!("/brokers/{controller}")),
        "{cluster}"
    );
    assert_eq!(
        c.broker(3).metric("runnel_cluster_controller_id").await,
        controller as f64
    );
    // The controller knows how far each broker's metadata log is behind: caught up, here.
    let controller = u32::try_from(controller).expect("a broker id");
    let caught_up = c
        .wait_status(controller, "every broker's metadata lag at 0", |s| {
            s["brokers"]
                .as_array()
                .is_some_and(|bs| bs.iter().all(|b| b["metadata_lag"] == 0))
        })
        .await;
    assert_eq!(caught_up["offline_partitions"], 0, "{caught_up}");
    let metrics = c
        .broker(controller)
        .request("GET", "/metrics", &[], None)
        .await
        .text;
    assert!(
        metrics.contains("runnel_cluster_metadata_lag{broker="),
        "{metrics}"
    );
    assert!(
        metrics.contains("runnel_cluster_offline_partitions 0"),
        "{metrics}"
    );

    // `runnel cluster status` prints the same for a person.
    let out = tokio::process::Command::new(runnel_bin())
        .args(["cluster", "status", "--url", &c.broker(1).url("")])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run runnel cluster status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("controller {controller}")), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains(" live ")).count(),
        3,
        "{text}"
    );
    for b in &c.brokers {
        b.assert_no_panic();
    }
}

#[tokio::test]
async fn killing_the_controller_elects_another_which_fences_it_until_it_returns() {
    let mut c = Cluster::start(3).await;
    let first = c
        .wait_status(1, "three live brokers", |s| live(s, &[1, 2, 3]))
        .await;
    let cluster_id = first["cluster_id"].clone();
    let old = u32::try_from(first["controller_id"].as_u64().expect("controller")).unwrap();
    c.broker_mut(old).kill9();

    let other = (1..=3).find(|b| *b != old).unwrap();
    let after = c
        .wait_status(other, "a new controller that fenced the old one", |s| {
            s["controller_id"]
                .as_u64()
                .is_some_and(|id| id != u64::from(old))
                && fenced(s, old) == Some(true)
        })
        .await;
    let (_, ids) = v3_brokers(&c, other).await;
    assert!(
        !ids.contains(&u64::from(old)),
        "a fenced broker is not listed: {ids:?}"
    );
    assert_eq!(
        c.broker(other)
            .metric("runnel_cluster_brokers{state=\"fenced\"}")
            .await,
        1.0
    );

    c.restart(old).await;
    let back = c
        .wait_status(old, "itself unfenced under the new controller", |s| {
            live(s, &[1, 2, 3]) && s["controller_id"] == after["controller_id"]
        })
        .await;
    assert_eq!(
        back["cluster_id"], cluster_id,
        "the restarted broker kept its cluster"
    );
    for b in &c.brokers {
        b.assert_no_panic();
    }
}

#[tokio::test]
async fn a_single_node_is_a_one_voter_cluster_without_a_cluster_port() {
    let r = Runnel::start().await;
    let (status, s) = r.get_json("/v1/cluster").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["controller_id"], 1);
    assert_eq!(s["brokers"].as_array().map(Vec::len), Some(1), "{s}");
    assert_eq!(s["brokers"][0]["cluster_addr"], "", "no cluster port: {s}");
    assert_eq!(s["cluster_id"], r.cluster_id().await);
}

/// `runnel serve` with these extra arguments exits with an error naming the problem.
async fn refused(args: &[&str], env: &[(&str, &str)], expect: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tokio::process::Command::new(runnel_bin())
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RUNNEL_CONFIG")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run runnel serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} started: {stderr}");
    assert!(stderr.contains(expect), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read data dir")
        .collect();
    assert!(written.is_empty(), "{args:?} wrote {written:?}");
}

#[tokio::test]
async fn bad_cluster_settings_are_refused_before_anything_is_written() {
    refused(&["--peers", "1@127.0.0.1"], &[], "ID@HOST:PORT").await;
    refused(
        &["--peers", "1@127.0.0.1:9,1@127.0.0.1:10"],
        &[],
        "node id 1 appears twice",
    )
    .await;
    refused(
        &["--peers", "1@127.0.0.1:9,2@127.0.0.1:10"],
        &[],
        "cluster_listen",
    )
    .await;
    refused(
        &[
            "--node-id",
            "3",
            "--cluster-listen",
            "127.0.0.1:0",
            "--peers",
            "1@127.0.0.1:9,2@127.0.0.1:10",
        ],
        &[],
        "node_id 3 is not among the peers",
    )
    .await;
    refused(&["--node-id", "0"], &[], "greater than zero").await;
}

#[tokio::test]
async fn a_data_dir_of_another_cluster_is_refused() {
    let mut a = Runnel::start().await;
    a.create_topic("kept", 1, &[]).await;
    a.stop().await;
    let mut b = Runnel::start().await;
    b.stop().await;
    // B's metadata quorum has its own cluster id; A's topics come with A's.
    std::fs::copy(
        a.data_dir().join("meta.json"),
        b.data_dir().join("meta.json"),
    )
    .expect("copy meta.json");
    b.spawn(0);
    let err = b
        .wait_ready()
        .await
        .expect_err("a foreign data dir must not start");
    assert!(err.contains("exited"), "{err}");
    let text = b.stderr();
    assert!(text.contains("belongs to cluster"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

/// Polls `probe` until it returns `Some` (or panics after the deadline, naming `what`).
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + CLUSTER_DEADLINE;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} not seen within {CLUSTER_DEADLINE:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// What broker `b` lists of topic `t`: the v3 topic (without `metadata`, whose links name the
/// broker's own URL), each partition's leader id and replica ids, and the topic's configs.
/// `None` when the topic is unknown there.
async fn topic_view(c: &Cluster, b: u32, t: &str) -> Option<Value> {
    let r = c.broker(b);
    let cid = r.cluster_id().await;
    let base = format!("/v3/clusters/{cid}/topics/{t}");
    let (status, topic) = r.get_json(&base).await;
    if status != 200 {
        return None;
    }
    let (_, partitions) = r.get_json(&format!("{base}/partitions")).await;
    let mut placed = Vec::new();
    for p in partitions["data"].as_array()? {
        let id = p["partition_id"].as_u64()?;
        let leader = p["leader"]["related"]
            .as_str()
            .and_then(|l| l.rsplit('/').next())
            .and_then(|l| l.parse::<u64>().ok());
        let (_, replicas) = r
            .get_json(&format!("{base}/partitions/{id}/replicas"))
            .await;
        let replicas: Vec<Value> = replicas["data"]
            .as_array()?
            .iter()
            .map(|x| json!([x["broker_id"], x["is_leader"], x["is_in_sync"]]))
            .collect();
        placed.push(json!({ "partition": id, "leader": leader, "replicas": replicas }));
    }
    let (_, configs) = r.get_json(&format!("{base}/configs")).await;
    let configs: Vec<Value> = configs["data"]
        .as_array()?
        .iter()
        .map(|x| json!([x["name"], x["value"], x["is_default"]]))
        .collect();
    Some(json!({
        "name": topic["topic_name"],
        "partitions_count": topic["partitions_count"],
        "replication_factor": topic["replication_factor"],
        "partitions": placed,
        "configs": configs,
    }))
}

/// Waits until every running broker lists `t` as `expected` (by `topic_view`).
async fn seen_alike(c: &Cluster, brokers: &[u32], t: &str, expected: &Value) {
    for &b in brokers {
        eventually(
            &format!("broker {b} listing {t} as the others do"),
            || async { (topic_view(c, b, t).await.as_ref() == Some(expected)).then_some(()) },
        )
        .await;
    }
}

/// The leader of each partition in a `topic_view`.
fn leaders(view: &Value) -> Vec<u64> {
    view["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .map(|p| p["leader"].as_u64().expect("a leader"))
        .collect()
}

async fn set_config(c: &Cluster, b: u32, t: &str, name: &str, value: &str) -> (u16, Value) {
    let r = c.broker(b);
    let cid = r.cluster_id().await;
    r.call(
        "PUT",
        &format!("/v3/clusters/{cid}/topics/{t}/configs/{name}"),
        Some(&json!({ "value": value })),
    )
    .await
}

#[tokio::test]
async fn topics_live_in_the_metadata_log_and_are_placed_across_brokers() {
    let c = Cluster::start(3).await;
    c.wait_status(1, "three live brokers", |s| live(s, &[1, 2, 3]))
        .await;
    c.broker(1).create_topic("spread", 6, &[]).await;
    let view = topic_view(&c, 1, "spread").await.expect("created");
    let leaders = leaders(&view);
    for b in 1..=3 {
        assert_eq!(
            leaders.iter().filter(|l| **l == b).count(),
            2,
            "2/2/2 leaders: {view}"
        );
    }
    seen_alike(&c, &[1, 2, 3], "spread", &view).await;

    // A factor the cluster cannot honour: Kafka's text for too few brokers, and a clear
    // refusal above 1 until replication exists.
    let (status, body) = c
        .broker(2)
        .try_create_topic(&json!({"topic_name": "wide", "replication_factor": 4}))
        .await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (400, Some(40002)),
        "{body}"
    );
    assert_eq!(
        body["message"],
        "Replication factor: 4 larger than available brokers: 3."
    );
    let (status, body) = c
        .broker(2)
        .try_create_topic(&json!({"topic_name": "wide", "replication_factor": 2}))
        .await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (400, Some(40002)),
        "{body}"
    );

    // A config change through broker 3 is seen on all.
    let (status, body) = set_config(&c, 3, "spread", "retention.ms", "123456").await;
    assert_eq!(status, 204, "{body}");
    let changed = topic_view(&c, 3, "spread").await.expect("still there");
    assert_ne!(changed, view);
    seen_alike(&c, &[1, 2, 3], "spread", &changed).await;

    // Delete through broker 2 removes it everywhere, with its partition directories.
    let cid = c.broker(2).cluster_id().await;
    let (status, body) = c
        .broker(2)
        .call("DELETE", &format!("/v3/clusters/{cid}/topics/spread"), None)
        .await;
    assert_eq!(status, 204, "{body}");
    for b in 1..=3 {
        eventually(&format!("broker {b} forgetting the topic"), || async {
            let gone = topic_view(&c, b, "spread").await.is_none();
            let dirs = std::fs::read_dir(c.broker(b).data_dir().join("topics"))
                .map(|d| {
                    d.filter_map(Result::ok)
                        .any(|e| e.file_name().to_string_lossy().starts_with("spread-"))
                })
                .unwrap_or(false);
            (gone && !dirs).then_some(())
        })
        .await;
    }
    for b in &c.brokers {
        b.assert_no_panic();
    }
}

#[tokio::test]
async fn topic_changes_survive_the_controller_and_a_restarted_broker_catches_up() {
    let mut c = Cluster::start(3).await;
    let first = c
        .wait_status(1, "three live brokers", |s| live(s, &[1, 2, 3]))
        .await;
    c.broker(1).create_topic("before", 3, &[]).await;
    let old = u32::try_from(first["controller_id"].as_u64().expect("controller")).unwrap();
    c.broker_mut(old).kill9();
    let others: Vec<u32> = (1..=3).filter(|b| *b != old).collect();
    c.wait_status(others[0], "a new controller", |s| {
        s["controller_id"]
            .as_u64()
            .is_some_and(|id| id != u64::from(old))
            && fenced(s, old) == Some(true)
    })
    .await;
    // Creating a topic and changing a config go through the new controller.
    c.broker(others[0]).create_topic("after", 4, &[]).await;
    let (status, body) = set_config(&c, others[1], "before", "retention.ms", "654321").await;
    assert_eq!(status, 204, "{body}");

    c.restart(old).await;
    for t in ["before", "after"] {
        let view = topic_view(&c, others[0], t).await.expect("listed");
        seen_alike(&c, &[1, 2, 3], t, &view).await;
    }
    for b in &c.brokers {
        b.assert_no_panic();
    }
}

#[tokio::test]
async fn a_single_node_data_dir_migrates_into_the_metadata_log_with_every_record() {
    let mut r = Runnel::start().await;
    r.create_topic("old", 2, &[("retention.ms", "7200000")])
        .await;
    let values: Vec<Value> = (0..20).map(|i| json!({ "i": i })).collect();
    r.produce_ok("old", &values).await;
    let before: Vec<Vec<Value>> = vec![r.read_all("old", 0).await, r.read_all("old", 1).await];
    let cid = r.cluster_id().await;
    let (_, configs) = r
        .get_json(&format!(
            "/v3/clusters/{cid}/topics/old/configs/retention.ms"
        ))
        .await;
    r.stop().await;

    // Today's single-node format: no metadata log, topics only in meta.json (format 1).
    std::fs::remove_dir_all(r.data_dir().join("metadata")).expect("remove metadata/");
    let meta_path = r.data_dir().join("meta.json");
    let mut meta: Value =
        serde_json::from_slice(&std::fs::read(&meta_path).expect("meta.json")).expect("json");
    meta["version"] = json!(1);
    std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta).unwrap()).expect("write");

    r.restart().await;
    assert_eq!(r.cluster_id().await, cid, "the cluster id is kept");
    let after: Vec<Vec<Value>> = vec![r.read_all("old", 0).await, r.read_all("old", 1).await];
    assert_eq!(after, before, "every record kept");
    assert_eq!(after.iter().map(Vec::len).sum::<usize>(), 20);
    let (_, again) = r
        .get_json(&format!(
            "/v3/clusters/{cid}/topics/old/configs/retention.ms"
        ))
        .await;
    assert_eq!(again["value"], configs["value"]);
    assert_eq!(again["value"], "7200000");
    let migrated: Value =
        serde_json::from_slice(&std::fs::read(&meta_path).expect("meta.json")).expect("json");
    assert_eq!(migrated["version"], 2, "{migrated}");

    // From now on the metadata log is the source of truth, across restarts.
    r.restart().await;
    assert_eq!(r.read_all("old", 0).await, before[0]);
    r.produce_ok("old", &values).await;
    r.assert_no_panic();
}

/// `n` records of topic `t` from offset 0 as broker `b` reads them (stateless v2 read, JSON).
async fn read_through(c: &Cluster, b: u32, t: &str, p: u32) -> Vec<Value> {
    c.broker(b).read_all(t, p).await
}

#[tokio::test]
async fn any_broker_produces_to_and_reads_from_every_partition() {
    let c = Cluster::start(3).await;
    c.wait_status(1, "three live brokers", |s| live(s, &[1, 2, 3]))
        .await;
    c.broker(1).create_topic("spread", 6, &[]).await;
    let view = topic_view(&c, 1, "spread").await.expect("created");
    seen_alike(&c, &[1, 2, 3], "spread", &view).await;
    let leaders = leaders(&view);
    let cid = c.broker(1).cluster_id().await;

    // Every broker takes records for every partition, through v2, v3 and WebSocket produce,
    // and each lands on the partition's leader at the next offset.
    let mut sent: Vec<Vec<Value>> = vec![Vec::new(); 6];
    for b in 1..=3u32 {
        let mut ws = ws_produce(c.broker(b), "spread").await;
        for p in 0..6u32 {
            let v2 = json!({"via": b, "api": "v2", "p": p});
            let (status, body) = c
                .broker(b)
                .post(
                    &format!("/topics/spread/partitions/{p}"),
                    JSON_V2,
                    &json!({"records": [{"value": v2}]}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            assert!(body["offsets"][0]["error_code"].is_null(), "{body}");
            assert_eq!(
                body["offsets"][0]["offset"],
                sent[p as usize].len(),
                "{body}"
            );
            sent[p as usize].push(v2);

            let v3 = json!({"via": b, "api": "v3", "p": p});
            let (status, body) = c
                .broker(b)
                .post(
                    &format!("/v3/clusters/{cid}/topics/spread/records"),
                    "application/json",
                    &json!({"partition_id": p, "value": {"type": "JSON", "data": v3}}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["error_code"], 200, "{body}");
            assert_eq!(body["offset"], sent[p as usize].len(), "{body}");
            sent[p as usize].push(v3);

            let ws_value = json!({"via": b, "api": "ws", "p": p});
            let message = json!({"type": "produce", "id": p, "records": [{"partition": p, "value": ws_value}]});
            let frame = ws_reply(&mut ws, message.to_string()).await;
            assert_eq!(frame["type"], "ack", "{frame}");
            assert_eq!(
                frame["offsets"][0]["offset"],
                sent[p as usize].len(),
                "{frame}"
            );
            sent[p as usize].push(ws_value);
        }
    }

    // Keyed records through a broker: murmur2 picks the partition wherever it is led.
    let keyed: Vec<Value> = (0..30)
        .map(|i| json!({"key": format!("k{i}"), "value": i}))
        .collect();
    let (status, body) = c.broker(2).produce_json("spread", &keyed).await;
    assert_eq!(status, 200, "{body}");
    for (i, o) in body["offsets"]
        .as_array()
        .expect("offsets")
        .iter()
        .enumerate()
    {
        assert!(o["error_code"].is_null(), "{body}");
        let p = o["partition"].as_u64().expect("partition") as usize;
        assert_eq!(o["offset"], sent[p].len(), "{body}");
        sent[p].push(json!(i));
    }

    // Every broker reads every partition the same, byte for byte, as its leader holds it.
    for p in 0..6u32 {
        let leader = leaders[p as usize] as u32;
        let at_leader = read_through(&c, leader, "spread", p).await;
        let values: Vec<Value> = at_leader.iter().map(|r| r["value"].clone()).collect();
        assert_eq!(
            values, sent[p as usize],
            "partition {p} at its leader {leader}"
        );
        for b in 1..=3u32 {
            assert_eq!(
                read_through(&c, b, "spread", p).await,
                at_leader,
                "partition {p} read through broker {b}"
            );
            let (status, offsets) = c
                .broker(b)
                .get_json(&format!(
                    "/v3/clusters/{cid}/topics/spread/partitions/{p}/offset"
                ))
                .await;
            assert_eq!(status, 200, "{offsets}");
            assert_eq!(
                offsets["latest_offset"],
                sent[p as usize].len(),
                "{offsets}"
            );
        }
    }

    // A WebSocket tail through one broker sees all six partitions, wherever they are led,
    // including records appended after it connected.
    let url = format!(
        "ws://127.0.0.1:{}/v1/ws/consume?topic=spread&from=earliest&credit=100000",
        c.broker(3).port()
    );
    let (mut tail, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
    let total: usize = sent.iter().map(Vec::len).sum();
    let late = json!({"late": true});
    let (status, body) = c
        .broker(1)
        .post(
            "/topics/spread/partitions/4",
            JSON_V2,
            &json!({"records": [{"value": late}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut seen = 0;
    let mut saw_late = false;
    while seen < total + 1 {
        let frame = ws_next_frame(&mut tail).await;
        assert_eq!(frame["type"], "records", "{frame}");
        for r in frame["records"].as_array().expect("records") {
            saw_late |= r["value"] == late;
            seen += 1;
        }
    }
    assert!(saw_late, "the record appended after connecting arrived");
    assert_eq!(seen, total + 1);

    // A partition whose leader stopped: a retriable 5xx through the others, never a hang.
    let victim = leaders[0] as u32;
    let other = (1..=3).find(|b| *b != victim).expect("another broker");
    let mut c = c;
    c.broker_mut(victim).kill9();
    let (status, body) = c.broker(other).read_raw("spread", 0, 0, JSON_V2, "").await;
    assert!(status >= 500, "{status} {body}");
    assert_eq!(body["error_code"], 50003, "{body}");
    // Fenced, its two partitions are offline; produce to them fails at once, retriably.
    c.wait_status(other, "the stopped broker's partitions offline", |s| {
        s["offline_partitions"] == 2
    })
    .await;
    let (status, body) = c
        .broker(other)
        .post(
            "/topics/spread/partitions/0",
            JSON_V2,
            &json!({"records": [{"value": 1}]}),
        )
        .await;
    assert!(
        status >= 500 || body["offsets"][0]["error_code"] == 50003,
        "{status} {body}"
    );
    // Back, it leads them again, with every record it had.
    c.restart(victim).await;
    c.wait_status(other, "no partition offline", |s| {
        s["offline_partitions"] == 0
    })
    .await;
    let back = eventually("partition 0 readable again", || async {
        let (status, body) = c.broker(other).read_raw("spread", 0, 0, JSON_V2, "").await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(back[0]["value"], sent[0][0], "{back}");
    assert_eq!(
        read_through(&c, other, "spread", 0).await.len(),
        sent[0].len()
    );
    for b in &c.brokers {
        b.assert_no_panic();
    }
}

/// The next JSON text frame of a WebSocket, skipping pings, within the cluster deadline.
async fn ws_next_frame(ws: &mut Ws) -> Value {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(CLUSTER_DEADLINE, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).expect("JSON"),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The v2 embedded-format-less media type (consumer and subscription bodies).
const V2_CONTENT: &str = "application/vnd.kafka.v2+json";

#[tokio::test]
async fn groups_and_the_registry_are_served_through_any_broker() {
    let c = Cluster::start(3).await;
    c.wait_status(1, "three live brokers", |s| live(s, &[1, 2, 3]))
        .await;
    c.broker(1).create_topic("gt", 6, &[]).await;
    let view = topic_view(&c, 1, "gt").await.expect("created");
    seen_alike(&c, &[1, 2, 3], "gt", &view).await;
    let values: Vec<Value> = (0..60).map(|i| json!(i)).collect();
    c.broker(1).produce_ok("gt", &values).await;
    let cid = c.broker(1).cluster_id().await;

    // The schema registry: writes through any broker reach its one writer, and every broker
    // answers reads the same.
    const ORDER: &str =
        r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}"#;
    let mut ids = Vec::new();
    for b in 1..=3u32 {
        ids.push(
            c.broker(b)
                .register_schema(&format!("s{b}-value"), ORDER)
                .await,
        );
    }
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one schema, one id: {ids:?}"
    );
    for b in 1..=3u32 {
        let (status, subjects) = c.broker(b).sr_call("GET", "/subjects", None).await;
        assert_eq!(status, 200, "{subjects}");
        assert_eq!(
            subjects,
            json!(["s1-value", "s2-value", "s3-value"]),
            "via {b}"
        );
        let (status, schema) = c
            .broker(b)
            .sr_call("GET", &format!("/schemas/ids/{}", ids[0]), None)
            .await;
        assert_eq!(status, 200, "{schema}");
    }

    // Avro produce and reads through a broker that does not lead `_schemas`: its registry
    // follows the leader's.
    let (status, schemas) = c
        .broker(1)
        .get_json(&format!("/v3/clusters/{cid}/topics/_schemas/partitions/0"))
        .await;
    assert_eq!(status, 200, "{schemas}");
    let writer = schemas["leader"]["related"]
        .as_str()
        .and_then(|l| l.rsplit('/').next())
        .and_then(|l| l.parse::<u32>().ok())
        .expect("_schemas has a leader");
    let follower = (1..=3u32).find(|b| *b != writer).expect("another broker");
    c.broker(1).create_topic("avro", 1, &[]).await;
    let body = json!({"value_schema_id": ids[0], "records": [{"value": {"id": 7}}]});
    let produced = eventually("Avro produce through a registry follower", || async {
        let (status, answer) = c
            .broker(follower)
            .post("/topics/avro", "application/vnd.kafka.avro.v2+json", &body)
            .await;
        (status == 200 && answer["offsets"][0]["error_code"].is_null()).then_some(answer)
    })
    .await;
    assert_eq!(produced["offsets"][0]["offset"], 0, "{produced}");
    let (status, read) = c
        .broker(follower)
        .read_raw("avro", 0, 0, "application/vnd.kafka.avro.v2+json", "")
        .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read[0]["value"], json!({"id": 7}), "{read}");

    // A v2 consumer group through a broker that does not coordinate it: the instance lives
    // on the coordinator (its base_uri says so), and every call through the first broker
    // reaches it.
    let me = c.broker(1).url("");
    let (group, base_uri) = {
        let mut found = None;
        for i in 0..40 {
            let group = format!("fwd-{i}");
            let body = json!({"name": "m", "format": "json", "auto.offset.reset": "earliest",
                              "auto.commit.enable": "false"});
            let (status, created) = c
                .broker(1)
                .post(&format!("/consumers/{group}"), V2_CONTENT, &body)
                .await;
            assert_eq!(status, 200, "{created}");
            let base = created["base_uri"].as_str().expect("base_uri").to_owned();
            if !base.starts_with(&me) {
                found = Some((group, base));
                break;
            }
            let (status, _) = c
                .broker(1)
                .call("DELETE", &format!("/consumers/{group}/instances/m"), None)
                .await;
            assert_eq!(status, 204);
        }
        found.expect("some group is coordinated by another broker")
    };
    let coordinator = (1..=3u32)
        .find(|b| base_uri.starts_with(&c.broker(*b).url("")))
        .expect("base_uri names a broker");
    assert!(base_uri.ends_with(&format!("/consumers/{group}/instances/m")));
    let instance = format!("/consumers/{group}/instances/m");
    let (status, body) = c
        .broker(1)
        .post(
            &format!("{instance}/subscription"),
            V2_CONTENT,
            &json!({"topics": ["gt"]}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let mut got = Vec::new();
    for _ in 0..100 {
        let (status, records) = c
            .broker(1)
            .get_accept(&format!("{instance}/records?timeout=500"), JSON_V2)
            .await;
        assert_eq!(status, 200, "{records}");
        got.extend(
            records
                .as_array()
                .expect("records")
                .iter()
                .map(|r| r["value"].clone()),
        );
        if got.len() >= values.len() {
            break;
        }
    }
    got.sort_by_key(|v| v.as_i64());
    assert_eq!(
        got, values,
        "every record, read through a broker that leads none of this"
    );
    let (status, body) = c
        .broker(1)
        .post(&format!("{instance}/offsets"), V2_CONTENT, &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");

    // The group's lag is the same through every broker: nothing left.
    for b in 1..=3u32 {
        let (status, summary) = c
            .broker(b)
            .get_json(&format!(
                "/v3/clusters/{cid}/consumer-groups/{group}/lag-summary"
            ))
            .await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["total_lag"], 0, "via {b}: {summary}");
    }

    // Every broker lists every group, whichever coordinates it.
    for b in 1..=3u32 {
        let (status, groups) = c
            .broker(b)
            .get_json(&format!("/v3/clusters/{cid}/consumer-groups"))
            .await;
        assert_eq!(status, 200, "{groups}");
        let listed: Vec<&str> = groups["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|g| g["consumer_group_id"].as_str())
            .collect();
        assert!(listed.contains(&group.as_str()), "via {b}: {groups}");
    }

    // A WebSocket member on a broker that does not coordinate its group is told where to go.
    let other = (1..=3u32).find(|b| *b != coordinator).expect("another");
    let url = format!(
        "ws://127.0.0.1:{}/v1/ws/consume?topic=gt&group={group}",
        c.broker(other).port()
    );
    let refused = tokio_tungstenite::connect_async(url).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("the upgrade is refused");
    };
    assert_eq!(response.status(), 500);
    let text = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned();
    assert!(
        text.contains(&format!("coordinated by broker {coordinator}")),
        "{text}"
    );

    let (status, _) = c.broker(1).call("DELETE", &instance, None).await;
    assert_eq!(status, 204);
    for b in &c.brokers {
        b.assert_no_panic();
    }
}

#[tokio::test]
async fn a_broker_joins_a_running_cluster_as_a_non_voting_member() {
    let mut c = Cluster::start(3).await;
    c.wait_status(1, "three live brokers", |s| live(s, &[1, 2, 3]))
        .await;
    c.broker(1).create_topic("before", 2, &[]).await;
    let learner = c.join(2).await;
    assert_eq!(learner, 4);
    // It has the metadata that was committed before it joined, and is a broker like the
    // others: listed, unfenced, given partitions of new topics, serving any request.
    let status = c
        .wait_status(4, "four live brokers", |s| live(s, &[1, 2, 3, 4]))
        .await;
    assert_eq!(
        status["brokers"].as_array().map(Vec::len),
        Some(4),
        "{status}"
    );
    let view = topic_view(&c, 1, "before").await.expect("created");
    seen_alike(&c, &[4], "before", &view).await;
    c.broker(4).create_topic("after", 8, &[]).await;
    let view = topic_view(&c, 4, "after").await.expect("created");
    assert!(
        leaders(&view).contains(&4),
        "the new broker leads some of a new topic's partitions: {view}"
    );
    seen_alike(&c, &[1, 2, 3, 4], "after", &view).await;
    let offsets = c
        .broker(1)
        .produce_ok("after", &[json!(1), json!(2), json!(3)])
        .await;
    let (p, _) = offsets[0];
    assert_eq!(
        c.broker(4).read_all("after", p).await.len(),
        offsets.iter().filter(|(q, _)| *q == p).count()
    );

    // It does not vote: with two of the three voters gone, the quorum is lost even though
    // the learner is up, so no metadata change is committed.
    c.broker_mut(2).kill9();
    c.broker_mut(3).kill9();
    let (status, body) = c
        .broker(4)
        .try_create_topic(&json!({"topic_name": "no-quorum", "partitions_count": 1}))
        .await;
    assert!(status >= 500, "no quorum, no change: {status} {body}");

    // A second broker with a voter's id is refused, and says why.
    let (_, cluster) = c.broker(1).get_json("/v1/cluster").await;
    let addr = cluster["brokers"][0]["cluster_addr"]
        .as_str()
        .expect("addr")
        .to_owned();
    let out = tokio::process::Command::new(runnel_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--node-id",
            "1",
            "--join",
            &addr,
        ])
        .args(["--cluster-listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--data-dir")
        .arg(c.broker(4).root().join("duplicate"))
        .stdin(Stdio::null())
        .output();
    let out = tokio::time::timeout(CLUSTER_DEADLINE, out)
        .await
        .expect("a refused join exits")
        .expect("run runnel");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("node id 1 is a voter"), "{err}");
    c.broker(1).assert_no_panic();
    c.broker(4).assert_no_panic();
}
