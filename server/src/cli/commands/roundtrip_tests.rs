//! The client subcommands and `runnel bench` against the real gateway, served in-process on
//! `127.0.0.1:0` from a broker in a temporary directory. Commands are parsed from argv with the
//! real clap definitions, so flags are covered too.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser as _;
use serde_json::Value;

use super::{consume, produce, topics};
use crate::broker::{Broker, BrokerConfig};
use crate::cli::client::Client;
use crate::cli::{BenchCommand, Cli, Command};
use crate::gateway::{self, AppState, Limits};

/// A gateway serving a fresh data directory until the test's runtime ends.
struct TestServer {
    url: String,
    _dir: tempfile::TempDir,
}

async fn start_server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let config = BrokerConfig {
        data_dir: dir.path().to_owned(),
        cluster_id: None,
        broker_id: 1,
        num_partitions: 1,
        topic_defaults: BTreeMap::new(),
        log_check_interval: Duration::from_secs(1),
        checkpoint_interval: Duration::from_secs(60),
    };
    let broker = tokio::task::spawn_blocking(move || Broker::open(config))
        .await
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let registry = crate::schemas::open_registry(Arc::clone(&broker), Default::default())
        .await
        .unwrap();
    let state = AppState {
        groups: crate::group::GroupCoordinator::open_with_defaults(Arc::clone(&broker)).unwrap(),
        registry,
        broker,
        public_url: Arc::from(url.as_str()),
        cluster: crate::metadata::ClusterView::single(1, &url),
    };
    let limits = Limits {
        max_request_body: 64 << 20,
        max_concurrent_requests: 256,
        max_records_per_request: 100_000,
        ..Limits::default()
    };
    let app = gateway::router(state, limits);
    tokio::spawn(async move { axum::serve(listener, app).await });
    TestServer { url, _dir: dir }
}

fn parse(server: &TestServer, argv: &[&str]) -> Command {
    let mut full = vec!["runnel"];
    full.extend_from_slice(argv);
    full.extend_from_slice(&["--url", &server.url]);
    Cli::try_parse_from(full).unwrap().command
}

/// Runs a `topics` command with `--output json` and returns what it printed, parsed.
async fn topics_json(server: &TestServer, argv: &[&str]) -> anyhow::Result<Value> {
    let mut full = vec!["topics"];
    full.extend_from_slice(argv);
    full.extend_from_slice(&["--output", "json"]);
    let Command::Topics(args) = parse(server, &full) else {
        unreachable!()
    };
    let mut out = Vec::new();
    topics::run(
        &Client::new(&args.server.url)?,
        &args.command,
        args.output,
        &mut out,
    )
    .await?;
    Ok(serde_json::from_slice(&out)?)
}

async fn produce_lines(
    server: &TestServer,
    argv: &[&str],
    input: &[u8],
) -> anyhow::Result<produce::ProduceSummary> {
    let Command::Produce(args) = parse(server, argv) else {
        unreachable!()
    };
    produce::run(&Client::new(&args.server.url)?, &args, input).await
}

async fn consume_output(server: &TestServer, argv: &[&str]) -> anyhow::Result<(u64, Vec<u8>)> {
    let Command::Consume(args) = parse(server, argv) else {
        unreachable!()
    };
    let mut out = Vec::new();
    let n = consume::run(&Client::new(&args.server.url)?, &args, &mut out).await?;
    Ok((n, out))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_produce_consume_and_describe_round_trip() {
    let server = start_server().await;
    let created = topics_json(
        &server,
        &[
            "create",
            "orders",
            "--partitions",
            "3",
            "--config",
            "retention.ms=3600000",
        ],
    )
    .await
    .unwrap();
    assert_eq!(created["topic_name"], "orders");
    assert_eq!(created["partitions_count"], 3);
    let again = topics_json(&server, &["create", "orders"])
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("already exists") && again.to_string().ends_with("(40002)"),
        "{again}"
    );

    // 1,000 keyed lines in batches of 128: each key lands on its murmur2 partition.
    let lines: Vec<String> = (0..1_000)
        .map(|i| format!("key-{}:value {i}", i % 37))
        .collect();
    let input = lines.join("\n") + "\n";
    let summary = produce_lines(
        &server,
        &[
            "produce",
            "orders",
            "--key-separator",
            ":",
            "--batch",
            "128",
        ],
        input.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!((summary.records, summary.failed), (1_000, 0));
    assert_eq!(
        summary.partitions.values().map(|p| p.records).sum::<u64>(),
        1_000
    );
    assert!(summary.partitions.len() > 1, "37 keys over 3 partitions");

    // Everything comes back exactly once, each partition in offset order.
    let (n, out) = consume_output(
        &server,
        &["consume", "orders", "--print-key", "--print-offset"],
    )
    .await
    .unwrap();
    assert_eq!(n, 1_000);
    let text = String::from_utf8(out).unwrap();
    let mut got = Vec::new();
    let mut last_offset: BTreeMap<u32, u64> = BTreeMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.splitn(4, '\t').collect();
        let [partition, offset, key, value] = fields[..] else {
            panic!("bad line {line:?}");
        };
        let (partition, offset): (u32, u64) = (partition.parse().unwrap(), offset.parse().unwrap());
        if let Some(prev) = last_offset.insert(partition, offset) {
            assert_eq!(offset, prev + 1, "partition {partition} out of order");
        }
        got.push(format!("{key}:{value}"));
    }
    let mut want = lines.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    for (partition, s) in &summary.partitions {
        assert_eq!(last_offset[partition], s.last_offset);
    }

    let (n, out) = consume_output(
        &server,
        &[
            "consume",
            "orders",
            "--partition",
            "0",
            "--max-records",
            "10",
        ],
    )
    .await
    .unwrap();
    assert_eq!((n, out.iter().filter(|&&b| b == b'\n').count()), (10, 10));
    let (n, _) = consume_output(&server, &["consume", "orders", "--offset", "latest"])
        .await
        .unwrap();
    assert_eq!(n, 0);

    // describe: offsets match what produce reported; configs carry the override.
    let described = topics_json(&server, &["describe", "orders"]).await.unwrap();
    let partitions = described["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 3);
    for p in partitions {
        let id = u32::try_from(p["partition_id"].as_u64().unwrap()).unwrap();
        let expected = summary.partitions.get(&id).map_or(0, |s| s.last_offset + 1);
        assert_eq!(p["earliest_offset"], 0);
        assert_eq!(p["latest_offset"], expected);
    }
    let config = |d: &Value, name: &str| -> Value {
        d["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .map_or(Value::Null, |c| c["value"].clone())
    };
    assert_eq!(config(&described, "retention.ms"), "3600000");

    topics_json(
        &server,
        &[
            "alter",
            "orders",
            "--config",
            "cleanup.policy=compact",
            "--delete-config",
            "retention.ms",
        ],
    )
    .await
    .unwrap();
    let described = topics_json(&server, &["describe", "orders"]).await.unwrap();
    assert_eq!(config(&described, "cleanup.policy"), "compact");
    assert_ne!(config(&described, "retention.ms"), "3600000");

    let listed = topics_json(&server, &["list"]).await.unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["topic_name"] == "orders")
    );
    topics_json(&server, &["delete", "orders"]).await.unwrap();
    let missing = topics_json(&server, &["describe", "orders"])
        .await
        .unwrap_err();
    assert!(
        missing.to_string().starts_with("topic 'orders'"),
        "{missing}"
    );
    assert!(missing.to_string().contains("not found"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_values_and_binary_bytes_survive_the_round_trip() {
    let server = start_server().await;
    topics_json(&server, &["create", "docs"]).await.unwrap();
    let docs = "{\"a\": 1}\n[1, 2]\n\"text\"\n";
    let summary = produce_lines(
        &server,
        &["produce", "docs", "--value-json"],
        docs.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(summary.records, 3);
    let (_, out) = consume_output(&server, &["consume", "docs", "--format", "json"])
        .await
        .unwrap();
    assert_eq!(out, b"{\"a\":1}\n[1,2]\ntext\n");

    topics_json(&server, &["create", "bytes"]).await.unwrap();
    let raw = b"\x00\x01\xfe\xff\r\nline two\n";
    produce_lines(&server, &["produce", "bytes"], raw)
        .await
        .unwrap();
    let (_, out) = consume_output(&server, &["consume", "bytes"])
        .await
        .unwrap();
    assert_eq!(out, b"\x00\x01\xfe\xff\nline two\n");

    let err = produce_lines(&server, &["produce", "nope"], b"x\n")
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("not found"), "{err:#}");
    let err = produce_lines(&server, &["produce", "docs", "-k", ":"], b"no separator\n")
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "line 1: no key separator \":\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_produce_and_consume_report_sane_numbers() {
    let server = start_server().await;
    let Command::Bench(bench) = parse(
        &server,
        &[
            "bench",
            "produce",
            "--topic",
            "b",
            "--partitions",
            "2",
            "--duration",
            "2s",
            "--concurrency",
            "2",
            "--batch",
            "100",
            "--acks",
            "1",
        ],
    ) else {
        unreachable!()
    };
    let BenchCommand::Produce(args) = bench.command else {
        unreachable!()
    };
    let report = crate::cli::bench::run_produce(&args, false).await.unwrap();
    assert_eq!(report.errors, 0, "{:?}", report.first_error);
    assert!(report.records > 0 && report.records_per_sec > 0.0);
    assert_eq!(report.bytes, report.records * 100);
    assert!(report.elapsed_secs >= 2.0);
    let l = &report.latency_us;
    assert!(0 < l.p50 && l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max);
    let json = serde_json::to_value(&report).unwrap();
    for key in [
        "records",
        "records_per_sec",
        "mb_per_sec",
        "latency_us",
        "acks",
        "transport",
    ] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
    assert_eq!(json["partitions"], 2);
    assert_eq!(json["acks"], "1");

    // An empty topic is filled first, then read back in full.
    let Command::Bench(bench) = parse(
        &server,
        &[
            "bench",
            "consume",
            "--topic",
            "c",
            "--partitions",
            "2",
            "--prefill",
            "5000",
            "--format",
            "json",
        ],
    ) else {
        unreachable!()
    };
    let BenchCommand::Consume(args) = bench.command else {
        unreachable!()
    };
    let report = crate::cli::bench::run_consume(&args, false).await.unwrap();
    assert_eq!(report.errors, 0, "{:?}", report.first_error);
    assert_eq!(report.records, 5_000);
    assert_eq!(report.bytes, 5_000 * 102, "100 characters and their quotes");
    assert_eq!(report.run.concurrency, 2);
}
