//! Produce over a WebSocket: bad input, pipelined acks in order, acks=0, base64 and binary
//! frames, and `runnel bench --transport ws` end to end.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_bad_input_gets_error_frames_and_keeps_going_when_it_can() {
    let server = Server::start(test_limits()).await;
    server.topic("p", 2).await;
    let mut ws = server.connect("/v1/ws/produce?topic=p").await;
    // Per-message failures: an error frame with the id, the socket stays open.
    let per_message = [
        (
            json!({"type": "produce", "id": "a", "records": [{"value": 1, "partition": 5}]}),
            40402,
        ),
        (json!({"type": "produce", "id": "b", "records": []}), 42203),
        (
            json!({"type": "produce", "id": "c", "records": [{"value": 1, "headers": [{"key": "h", "value": "%%"}]}]}),
            42203,
        ),
        (
            json!({"type": "produce", "id": "d", "records": {"value": 1}}),
            42203,
        ),
        (
            json!({"type": "produce", "id": 7, "records": [{"value": 1, "partition": -1}]}),
            40402,
        ),
    ];
    for (message, _) in &per_message {
        send_json(&mut ws, message.clone()).await;
    }
    for (message, code) in &per_message {
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "error", "{reply}");
        assert_eq!(reply["id"], message["id"]);
        assert_eq!(reply["error_code"], *code, "{reply}");
    }
    send_json(
        &mut ws,
        json!({"type": "produce", "id": "ok", "records": [{"value": 1}]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "ack");

    // Protocol violations: an error frame, then close 1008.
    for bad in [
        "{\"type\":\"produce\"",
        r#"{"type":"consume","id":"z"}"#,
        r#"{"type":"produce","records":[]}"#,
        r#"{"type":"produce","id":{"x":1},"records":[]}"#,
        "42",
    ] {
        let mut ws = server.connect("/v1/ws/produce?topic=p").await;
        ws.send(Message::text(bad)).await.unwrap();
        let (code, error) = close_code(&mut ws).await;
        assert_eq!(code, Some(1008), "{bad}");
        let error = error.unwrap_or_else(|| panic!("no error frame for {bad}"));
        assert!(error.get("id").is_some(), "{error}");
    }
    let mut ws = server.connect("/v1/ws/produce?topic=p").await;
    ws.send(Message::binary(vec![9, 9])).await.unwrap();
    let mut error = None;
    let code = loop {
        match next_message(&mut ws, WAIT).await {
            Some(Message::Binary(b)) => error = Some(binary::decode_reply(&b).unwrap()),
            Some(Message::Close(f)) => break f.map(|f| u16::from(f.code)),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(code, Some(1008));
    assert!(
        matches!(
            error,
            Some(Reply::Error {
                error_code: 400,
                ..
            })
        ),
        "{error:?}"
    );
}

/// Pipelined produce: many messages sent before any ack is read; the acks come back in order
/// with offsets that a later read finds holding those very records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_acks_arrive_in_order_with_offsets_a_read_confirms() {
    let server = Server::start(WsLimits {
        max_in_flight: 8,
        ..test_limits()
    })
    .await;
    server.topic("orders", 3).await;
    let mut ws = server.connect("/v1/ws/produce?topic=orders").await;
    const MESSAGES: usize = 60;
    let mut sent = Vec::new();
    for m in 0..MESSAGES {
        let records: Vec<Value> = (0..10)
            .map(|r| match r % 3 {
                0 => json!({"value": {"m": m, "r": r}, "partition": (m + r) % 3}),
                1 => json!({"key": format!("key-{r}"), "value": {"m": m, "r": r}}),
                _ => {
                    json!({"value": {"m": m, "r": r}, "headers": [{"key": "src", "value": "d3M="}]})
                }
            })
            .collect();
        sent.push(records.clone());
        ws.send(Message::text(
            json!({"type": "produce", "id": format!("m{m}"), "records": records}).to_string(),
        ))
        .await
        .unwrap();
    }
    let mut placed = BTreeMap::new();
    let mut last = [None::<u64>; 3];
    for (m, records) in sent.iter().enumerate() {
        let ack = next_json(&mut ws).await;
        assert_eq!(ack["type"], "ack", "{ack}");
        assert_eq!(ack["id"], format!("m{m}"));
        let acked = ack["offsets"].as_array().unwrap();
        assert_eq!(acked.len(), records.len());
        for (a, r) in acked.iter().zip(records) {
            let p = a["partition"].as_u64().unwrap();
            let o = a["offset"].as_u64().unwrap();
            // Offsets grow in message order within each partition.
            assert!(last[p as usize].is_none_or(|l| o > l), "{ack}");
            last[p as usize] = Some(o);
            if let Some(explicit) = r.get("partition") {
                assert_eq!(explicit.as_u64(), Some(p));
            }
            placed.insert((p, o), r["value"].clone());
        }
    }
    assert_eq!(placed.len(), MESSAGES * 10);
    // The counter moves just after the write the client already read.
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.rt.stats().produce_replies.load(Ordering::Relaxed) < MESSAGES as u64 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let mut reader = server
        .connect("/v1/ws/consume?topic=orders&from=earliest&credit=1000")
        .await;
    let got = records(&mut reader, MESSAGES * 10).await;
    for r in &got {
        let key = (
            r["partition"].as_u64().unwrap(),
            r["offset"].as_u64().unwrap(),
        );
        assert_eq!(placed.get(&key), Some(&r["value"]), "{r}");
        if r["value"]["r"].as_u64().unwrap() % 3 == 2 {
            assert_eq!(r["headers"], json!([{"key": "src", "value": "d3M="}]));
        }
    }
    // Equal keys land on one partition.
    let mut by_key: BTreeMap<String, u64> = BTreeMap::new();
    for r in &got {
        if let Some(k) = r["key"].as_str() {
            let p = r["partition"].as_u64().unwrap();
            assert_eq!(*by_key.entry(k.to_owned()).or_insert(p), p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_0_base64_and_binary_frames() {
    let server = Server::start(test_limits()).await;
    server.topic("modes", 1).await;

    let mut ws = server.connect("/v1/ws/produce?topic=modes&acks=0").await;
    send_json(
        &mut ws,
        json!({"type": "produce", "id": 1, "records": [{"value": "x"}]}),
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(
        ack,
        json!({"type": "ack", "id": 1, "offsets": [{"partition": 0, "offset": null}]})
    );

    let mut ws = server
        .connect("/v1/ws/produce?topic=modes&format=binary")
        .await;
    send_json(
        &mut ws,
        json!({"type": "produce", "id": "b64", "records": [{"key": "aw==", "value": "AAEC"}]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["offsets"][0]["offset"], 1);
    send_json(
        &mut ws,
        json!({"type": "produce", "id": "bad", "records": [{"value": {"x": 1}}]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["error_code"], 42203);

    // The compact binary encoding, on the same socket: binary in, binary out.
    let record = NewRecord {
        key: None,
        value: Some(Bytes::from_static(&[0xff, 0x00])),
        headers: vec![Header {
            key: "t".into(),
            value: None,
        }],
        timestamp: None,
    };
    let request = binary::encode_produce(b"bin-1", &[(Some(0), &record), (None, &record)]);
    ws.send(Message::binary(request)).await.unwrap();
    let reply = match next_message(&mut ws, WAIT).await {
        Some(Message::Binary(b)) => binary::decode_reply(&b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reply,
        Reply::Ack {
            id: Bytes::from_static(b"bin-1"),
            offsets: vec![(0, Some(2)), (0, Some(3))]
        }
    );
    let request = binary::encode_produce(b"bin-2", &[(Some(4), &record)]);
    ws.send(Message::binary(request)).await.unwrap();
    match next_message(&mut ws, WAIT).await {
        Some(Message::Binary(b)) => assert!(matches!(
            binary::decode_reply(&b).unwrap(),
            Reply::Error {
                error_code: 40402,
                ..
            }
        )),
        other => panic!("{other:?}"),
    }

    let mut reader = server
        .connect("/v1/ws/consume?topic=modes&from=1&credit=10&format=binary")
        .await;
    let got = records(&mut reader, 3).await;
    assert_eq!(got[0]["key"], "aw==");
    assert_eq!(got[0]["value"], "AAEC");
    assert_eq!(got[1]["value"], "/wA=");
    assert_eq!(got[1]["headers"], json!([{"key": "t", "value": null}]));
}

/// `runnel bench --transport ws` end to end: produce (JSON and binary frames), then consume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_over_websockets_counts_every_record() {
    use clap::Parser as _;

    use crate::cli::{BenchCommand, Cli, Command};
    let server = Server::start(test_limits()).await;
    let url = format!("http://{}", server.addr);
    let bench = |argv: &[&str]| {
        let mut full = vec!["runnel", "bench"];
        full.extend_from_slice(argv);
        full.extend_from_slice(&["--url", &url, "--transport", "ws"]);
        let Command::Bench(b) = Cli::try_parse_from(full).unwrap().command else {
            unreachable!()
        };
        b.command
    };
    for format in ["json", "binary"] {
        let BenchCommand::Produce(args) = bench(&[
            "produce",
            "--topic",
            "wsb",
            "--partitions",
            "2",
            "--records",
            "5000",
            "--batch",
            "300",
            "--concurrency",
            "2",
            "--format",
            format,
        ]) else {
            unreachable!()
        };
        let report = crate::cli::bench::run_produce(&args, false).await.unwrap();
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        assert_eq!(report.records, 5000, "{format}");
        assert_eq!(report.bytes, 5000 * 100);
    }
    let BenchCommand::Consume(args) = bench(&["consume", "--topic", "wsb", "--format", "binary"])
    else {
        unreachable!()
    };
    let report = crate::cli::bench::run_consume(&args, false).await.unwrap();
    assert_eq!(report.errors, 0, "{:?}", report.first_error);
    assert_eq!(report.records, 10_000);
}
