//! Tailing: every start position, credit flow control and memory, a thousand sockets, bad
//! input and oversized messages.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tails_from_earliest_latest_an_offset_and_a_timestamp() {
    let server = Server::start(test_limits()).await;
    server.topic("t", 1).await;
    for n in 0..10 {
        server
            .append("t", 0, vec![json_record(n, Some(1_000 + n as i64))])
            .await;
    }

    let mut earliest = server
        .connect("/v1/ws/consume?topic=t&from=earliest&credit=100")
        .await;
    let got = records(&mut earliest, 10).await;
    assert_eq!(offsets(&got), (0..10).collect::<Vec<_>>());
    assert_eq!(
        got[3],
        json!({"topic": "t", "key": "k3", "value": {"n": 3}, "partition": 0, "offset": 3,
               "timestamp": 1003, "headers": [{"key": "h", "value": "dg=="}]})
    );

    let mut at_offset = server
        .connect("/v1/ws/consume?topic=t&partition=0&from=6&credit=100")
        .await;
    assert_eq!(offsets(&records(&mut at_offset, 4).await), vec![6, 7, 8, 9]);

    let mut at_time = server
        .connect("/v1/ws/consume?topic=t&from=ts:1007&credit=100&format=binary")
        .await;
    let got = records(&mut at_time, 3).await;
    assert_eq!(offsets(&got), vec![7, 8, 9]);
    assert_eq!(got[0]["value"], "eyJuIjo3fQ==", "binary format is base64");

    let mut latest = server.connect("/v1/ws/consume?topic=t&credit=100").await;
    assert!(
        next_message(&mut latest, Duration::from_millis(300))
            .await
            .is_none()
    );

    // Appends reach every waiting socket, without polling.
    server.append("t", 0, vec![json_record(10, None)]).await;
    for ws in [&mut earliest, &mut at_offset, &mut at_time, &mut latest] {
        assert_eq!(offsets(&records(ws, 1).await), vec![10]);
    }

    // A seek moves the position back; the socket then sends from there.
    send_json(
        &mut latest,
        json!({"type": "seek", "partition": 0, "offset": 8}),
    )
    .await;
    assert_eq!(offsets(&records(&mut latest, 3).await), vec![8, 9, 10]);
    send_json(
        &mut latest,
        json!({"type": "seek", "partition": 0, "offset": "earliest"}),
    )
    .await;
    assert_eq!(
        offsets(&records(&mut latest, 11).await),
        (0..=10).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_partitions_are_tailed_and_credit_is_never_exceeded() {
    let server = Server::start(test_limits()).await;
    server.topic("multi", 3).await;
    for p in 0..3 {
        server
            .append("multi", p, (0..5).map(|n| json_record(n, None)).collect())
            .await;
    }
    let mut ws = server
        .connect("/v1/ws/consume?topic=multi&from=earliest")
        .await;
    assert!(
        next_message(&mut ws, Duration::from_millis(200))
            .await
            .is_none()
    );
    send_json(&mut ws, json!({"type": "credit", "records": 4})).await;
    assert_eq!(records(&mut ws, 4).await.len(), 4);
    assert!(
        next_message(&mut ws, Duration::from_millis(300))
            .await
            .is_none()
    );
    send_json(&mut ws, json!({"type": "credit", "records": 100})).await;
    let mut got = records(&mut ws, 11).await;
    got.sort_by_key(|r| (r["partition"].as_u64(), r["offset"].as_u64()));
    assert!(
        got.iter().all(|r| r["partition"].as_u64().unwrap() < 3),
        "{got:?}"
    );
    assert!(
        server
            .rt
            .stats()
            .buffered_records_peak
            .load(Ordering::Relaxed)
            <= 100
    );
}

/// RssAnon of this process in KiB: heap and other anonymous memory, not the page cache the
/// log's mapped files bring in.
fn rss_anon_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A consumer that grants no credit is sent nothing, and the server buffers nothing for it,
/// however much is produced: memory stays flat (RSS) and no record is ever held for it
/// (the runtime's buffered-records counter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credit_no_records_and_flat_memory_under_100k_records() {
    let _heavy = HEAVY.lock().await;
    let server = Server::start(test_limits()).await;
    // Compressed on disk (the values repeat), so the test needs little disk; decoded, every
    // record is its full size again.
    server
        .topic_with("flood", 1, &[("compression.type", "zstd")])
        .await;
    let mut idle = server
        .connect("/v1/ws/consume?topic=flood&from=earliest&format=binary")
        .await;
    let before = rss_anon_kib();
    let value = Bytes::from(vec![b'x'; 1024]);
    let reader = tokio::spawn(async move {
        // Keep reading (and so answering pings) while the producer runs: nothing may come.
        let got = next_message(&mut idle, Duration::from_secs(4)).await;
        (idle, got)
    });
    for chunk in 0..100 {
        let batch = (0..1000)
            .map(|n| NewRecord {
                key: Some(Bytes::from(format!("{chunk}-{n}"))),
                value: Some(value.clone()),
                ..NewRecord::default()
            })
            .collect();
        server.append("flood", 0, batch).await;
    }
    let (mut idle, got) = reader.await.unwrap();
    assert!(got.is_none(), "a consumer without credit got {got:?}");
    let after = rss_anon_kib();
    let stats = server.rt.stats();
    assert_eq!(stats.buffered_records_peak.load(Ordering::Relaxed), 0);
    assert_eq!(stats.records_sent.load(Ordering::Relaxed), 0);
    // 100,000 records of 1 KiB would be over 130 MiB as base64 JSON frames.
    let grown = after.saturating_sub(before);
    assert!(
        grown < 64 << 10,
        "RssAnon grew by {grown} KiB ({before} → {after}) for a consumer without credit"
    );

    send_json(&mut idle, json!({"type": "credit", "records": 10})).await;
    assert_eq!(
        offsets(&records(&mut idle, 10).await),
        (0..10).collect::<Vec<_>>()
    );
    assert!(
        next_message(&mut idle, Duration::from_millis(300))
            .await
            .is_none()
    );
    assert_eq!(stats.records_sent.load(Ordering::Relaxed), 10);
    assert_eq!(stats.buffered_records_peak.load(Ordering::Relaxed), 10);
    assert_eq!(stats.buffered_records.load(Ordering::Relaxed), 0);
}

/// The soft limit of open files, raised to the hard limit when it is below `want`.
fn ensure_fd_limit(want: u64) -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c < want) {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tailing_sockets_each_get_every_record_of_a_burst() {
    const SOCKETS: usize = 1000;
    const BURST: usize = 100;
    let _heavy = HEAVY.lock().await;
    // Each socket is two descriptors here (client and server end), plus the log's files.
    let fds = ensure_fd_limit(3 * SOCKETS as u64);
    assert!(
        fds >= 2 * SOCKETS as u64 + 200,
        "open-file limit {fds} too low for {SOCKETS} sockets"
    );
    let server = Arc::new(Server::start(test_limits()).await);
    server.topic("burst", 1).await;

    let mut clients = Vec::with_capacity(SOCKETS);
    let mut connecting = tokio::task::JoinSet::new();
    for _ in 0..SOCKETS {
        let server = Arc::clone(&server);
        connecting.spawn(async move {
            server
                .connect("/v1/ws/consume?topic=burst&from=latest&credit=1000")
                .await
        });
        // Keep the accept backlog short.
        if connecting.len() >= 100 {
            clients.push(connecting.join_next().await.unwrap().unwrap());
        }
    }
    while let Some(c) = connecting.join_next().await {
        clients.push(c.unwrap());
    }
    assert_eq!(server.rt.open_connections(), SOCKETS);

    let mut readers = tokio::task::JoinSet::new();
    for mut ws in clients {
        readers.spawn(async move { offsets(&records(&mut ws, BURST).await) });
    }
    // Let every socket reach its wait before the burst.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A burst: every record queued at once (the appender groups them as they come), so the
    // sockets wake at arbitrary points of it.
    let p = server.broker.partition("burst", 0).unwrap();
    let mut acks = Vec::new();
    for n in 0..BURST as u64 {
        acks.push(
            p.enqueue(vec![Sized::new(json_record(n, None))])
                .await
                .unwrap(),
        );
    }
    for ack in acks {
        ack.await.unwrap().into_iter().for_each(|r| {
            r.unwrap();
        });
    }
    let expected: Vec<u64> = (0..BURST as u64).collect();
    let mut done = 0;
    while let Some(got) = readers.join_next().await {
        assert_eq!(got.unwrap(), expected);
        done += 1;
    }
    assert_eq!(done, SOCKETS);
    assert_eq!(
        server.rt.stats().records_sent.load(Ordering::Relaxed),
        (SOCKETS * BURST) as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_bad_input_gets_an_error_frame_and_a_close_code() {
    let server = Server::start(test_limits()).await;
    server.topic("bad", 2).await;
    let cases: Vec<(Message, u16, Option<u64>)> = vec![
        (Message::text(r#"{"type":"subscribe"}"#), 1008, Some(400)),
        (Message::text("{not json"), 1008, Some(400)),
        (Message::text("[1,2]"), 1008, Some(400)),
        (Message::text(r#"{"records":5}"#), 1008, Some(400)),
        (
            Message::text(r#"{"type":"credit","records":-1}"#),
            4400,
            Some(400),
        ),
        (
            Message::text(r#"{"type":"credit","records":1000000001}"#),
            4400,
            Some(400),
        ),
        (
            Message::text(r#"{"type":"credit","records":1e3}"#),
            4400,
            Some(400),
        ),
        (Message::text(r#"{"type":"credit"}"#), 4400, Some(400)),
        (
            Message::text(r#"{"type":"seek","partition":7,"offset":0}"#),
            4404,
            Some(40402),
        ),
        (
            Message::text(r#"{"type":"seek","partition":0,"offset":-5}"#),
            4400,
            Some(400),
        ),
        (Message::text(r#"{"type":"commit"}"#), 4400, Some(400)),
        (Message::binary(vec![1, 2, 3]), 1003, Some(400)),
    ];
    for (message, code, error_code) in cases {
        let shown = format!("{message:?}");
        let mut ws = server.connect("/v1/ws/consume?topic=bad").await;
        ws.send(message).await.unwrap();
        let (got, error) = close_code(&mut ws).await;
        assert_eq!(got, Some(code), "{shown}: {error:?}");
        assert_eq!(
            error.as_ref().and_then(|e| e["error_code"].as_u64()),
            error_code,
            "{shown}"
        );
    }

    // Refusals before the upgrade, in Confluent's format.
    for query in [
        "group=g1&partition=0",
        "group=g1&from=5",
        "group=g1&from=ts:100",
        "group=g1&auto_commit=yes",
        "group=",
    ] {
        let (status, body) = server
            .refused(&format!("/v1/ws/consume?topic=bad&{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["message"].is_string(), "{query}: {body}");
    }
    let (status, body) = server.refused("/v1/ws/consume?topic=nope").await;
    assert_eq!((status, body["error_code"].as_u64()), (404, Some(40401)));
    let (status, body) = server.refused("/v1/ws/consume?topic=bad&partition=9").await;
    assert_eq!((status, body["error_code"].as_u64()), (404, Some(40402)));
    for query in [
        "from=yesterday",
        "credit=-1",
        "credit=2000000000",
        "format=xml",
    ] {
        let (status, _) = server
            .refused(&format!("/v1/ws/consume?topic=bad&{query}"))
            .await;
        assert_eq!(status, 400, "{query}");
    }
    let (status, _) = server.refused("/v1/ws/produce?topic=bad&acks=2").await;
    assert_eq!(status, 400);

    // The server is fine afterwards.
    server.append("bad", 1, vec![json_record(0, None)]).await;
    let mut ws = server
        .connect("/v1/ws/consume?topic=bad&partition=1&from=earliest&credit=1")
        .await;
    assert_eq!(offsets(&records(&mut ws, 1).await), vec![0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_closes_with_1009_and_never_crashes() {
    let server = Server::start(WsLimits {
        max_message_size: 64 << 10,
        ..test_limits()
    })
    .await;
    server.topic("big", 1).await;

    // Over the limit, small enough for the socket buffers: the client finishes writing, and
    // reads the 1009 close.
    let mut ws = server.connect("/v1/ws/produce?topic=big").await;
    let over = format!(
        r#"{{"type":"produce","id":"x","records":[{{"value":"{}"}}]}}"#,
        "a".repeat(80 << 10)
    );
    ws.send(Message::text(over)).await.unwrap();
    let (code, _) = close_code(&mut ws).await;
    assert_eq!(code, Some(1009));

    // 100 MiB: refused from the frame header; the writer may see the socket reset instead of
    // the close frame, but either way the server lives on.
    let mut ws = server.connect("/v1/ws/produce?topic=big").await;
    let huge = Message::binary(vec![0u8; 100 << 20]);
    if ws.send(huge).await.is_ok() {
        let (code, _) = close_code(&mut ws).await;
        assert!(code.is_none() || code == Some(1009), "{code:?}");
    }
    let mut ws = server.connect("/v1/ws/produce?topic=big").await;
    send_json(
        &mut ws,
        json!({"type": "produce", "id": "after", "records": [{"value": 1}]}),
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["type"], "ack", "{ack}");
}
