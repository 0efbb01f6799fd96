//! A consume socket as a consumer-group member: sharing, rebalances, commits, eviction.

use super::*;

/// Reads frames until an `assignment` frame; returns its partitions, sorted.
async fn assignment(ws: &mut Client) -> Vec<u64> {
    loop {
        let frame = next_json(ws).await;
        if frame["type"] == "assignment" {
            assert!(frame["generation_id"].as_i64().unwrap() >= 1, "{frame}");
            let mut ps: Vec<u64> = frame["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["partition"].as_u64().unwrap())
                .collect();
            ps.sort_unstable();
            return ps;
        }
        assert_ne!(frame["type"], "error", "{frame}");
    }
}

/// Each record's (partition, value "n").
fn partition_and_n(records: &[Value]) -> Vec<(u64, u64)> {
    records
        .iter()
        .map(|r| {
            (
                r["partition"].as_u64().unwrap(),
                r["value"]["n"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_sockets_share_partitions_and_rebalance_when_a_second_joins() {
    let server = Server::start(test_limits()).await;
    server.topic("shared", 6).await;
    let url = "/v1/ws/consume?topic=shared&group=g&from=earliest&credit=1000";
    let mut a = server.connect(url).await;
    assert_eq!(assignment(&mut a).await, vec![0, 1, 2, 3, 4, 5]);

    let mut b = server.connect(url).await;
    let (got_a, got_b) = (assignment(&mut a).await, assignment(&mut b).await);
    assert_eq!(got_a.len() + got_b.len(), 6, "{got_a:?} {got_b:?}");
    let mut all: Vec<u64> = got_a.iter().chain(&got_b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, vec![0, 1, 2, 3, 4, 5], "no overlap, no gap");
    assert_eq!(
        got_a.len(),
        3,
        "range assignor splits six partitions evenly"
    );

    // Every record reaches exactly the socket that owns its partition.
    for p in 0..6u32 {
        server
            .append(
                "shared",
                p,
                (0..4)
                    .map(|n| json_record(u64::from(p) * 10 + n, None))
                    .collect(),
            )
            .await;
    }
    let ra = partition_and_n(&records(&mut a, 12).await);
    let rb = partition_and_n(&records(&mut b, 12).await);
    assert!(ra.iter().all(|(p, _)| got_a.contains(p)), "{ra:?}");
    assert!(rb.iter().all(|(p, _)| got_b.contains(p)), "{rb:?}");
    let mut ns: Vec<u64> = ra.iter().chain(&rb).map(|(_, n)| *n).collect();
    ns.sort_unstable();
    let want: Vec<u64> = (0..6)
        .flat_map(|p| (0..4).map(move |n| p * 10 + n))
        .collect();
    assert_eq!(ns, want);

    // Closing one socket hands its partitions to the other.
    a.close(None).await.unwrap();
    assert_eq!(assignment(&mut b).await, vec![0, 1, 2, 3, 4, 5]);
    // No commits were made, so the partitions `a` had start over from `from=earliest`.
    let again = partition_and_n(&records(&mut b, 12).await);
    assert!(again.iter().all(|(p, _)| got_a.contains(p)), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commits_are_confirmed_and_a_new_socket_resumes_after_them() {
    let server = Server::start(test_limits()).await;
    server.topic("resume", 2).await;
    for p in 0..2 {
        server
            .append("resume", p, (0..5).map(|n| json_record(n, None)).collect())
            .await;
    }
    let url = "/v1/ws/consume?topic=resume&group=r&from=earliest&credit=6";
    let mut ws = server.connect(url).await;
    assert_eq!(assignment(&mut ws).await, vec![0, 1]);
    let got = records(&mut ws, 6).await;
    send_json(&mut ws, json!({"type": "commit"})).await;
    let committed = next_json(&mut ws).await;
    assert_eq!(committed["type"], "committed", "{committed}");
    let mut want: BTreeMap<u64, u64> = BTreeMap::new();
    for r in &got {
        let e = want.entry(r["partition"].as_u64().unwrap()).or_default();
        *e = (*e).max(r["offset"].as_u64().unwrap() + 1);
    }
    let stored: BTreeMap<u64, u64> = committed["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["partition"].as_u64().unwrap(),
                o["offset"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(stored, want, "a bare commit stores what was delivered");

    // An explicit commit moves partition 0 back to offset 1.
    send_json(
        &mut ws,
        json!({"type": "commit", "offsets": [{"topic": "resume", "partition": 0, "offset": 1}]}),
    )
    .await;
    let committed = next_json(&mut ws).await;
    assert_eq!(
        committed,
        json!({"type": "committed", "offsets": [{"topic": "resume", "partition": 0, "offset": 1}]})
    );
    ws.close(None).await.unwrap();
    drop(ws);

    // A new member of the group starts at the committed offsets, not at `from`.
    let mut next = server
        .connect("/v1/ws/consume?topic=resume&group=r&credit=100")
        .await;
    assert_eq!(assignment(&mut next).await, vec![0, 1]);
    let remaining = 10 - 1 - (want.get(&1).copied().unwrap_or(0) as usize);
    let got = records(&mut next, remaining).await;
    let first: BTreeMap<u64, u64> = got
        .iter()
        .rev()
        .map(|r| {
            (
                r["partition"].as_u64().unwrap(),
                r["offset"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(first.get(&0), Some(&1), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_errors_close_the_socket() {
    let server = Server::start(test_limits()).await;
    server.topic("gc", 2).await;
    let cases = [
        (
            json!({"type": "commit", "offsets": [{"topic": "gc", "partition": 9, "offset": 0}]}),
            4409,
            40903,
        ),
        (
            json!({"type": "commit", "offsets": [{"topic": "other", "partition": 0, "offset": 0}]}),
            4409,
            40903,
        ),
        (
            json!({"type": "commit", "offsets": [{"topic": "gc", "partition": 0, "offset": -1}]}),
            4400,
            400,
        ),
        (
            json!({"type": "commit", "offsets": {"topic": "gc"}}),
            4400,
            400,
        ),
    ];
    for (message, code, error_code) in cases {
        let mut ws = server.connect("/v1/ws/consume?topic=gc&group=bad").await;
        assert_eq!(assignment(&mut ws).await, vec![0, 1]);
        send_json(&mut ws, message.clone()).await;
        let (got, error) = close_code(&mut ws).await;
        assert_eq!(got, Some(code), "{message}: {error:?}");
        assert_eq!(
            error.as_ref().and_then(|e| e["error_code"].as_u64()),
            Some(error_code),
            "{message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_socket_that_stops_answering_loses_its_partitions() {
    let server = Server::start(WsLimits {
        ping_interval: Duration::from_millis(100),
        pong_timeout: Duration::from_millis(300),
        ..test_limits()
    })
    .await;
    server.topic("evict", 4).await;
    let url = "/v1/ws/consume?topic=evict&group=e&credit=10";
    let mut live = server.connect(url).await;
    assert_eq!(assignment(&mut live).await, vec![0, 1, 2, 3]);
    // The second member reads its assignment, then stops reading: it answers no pings.
    let mut deaf = server.connect(url).await;
    let held = assignment(&mut deaf).await;
    let kept = assignment(&mut live).await;
    assert_eq!(held.len() + kept.len(), 4);
    // The server closes the silent socket, the member leaves, and the live one gets everything.
    let started = std::time::Instant::now();
    assert_eq!(assignment(&mut live).await, vec![0, 1, 2, 3]);
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(deaf);
}
