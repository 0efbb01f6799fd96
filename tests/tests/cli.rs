//! The client subcommands of the real `runnel` binary against a real server: `topics
//! create/list/describe/alter/delete`, `produce` from stdin with `--key-separator`, `consume`
//! back, and `bench produce --json`.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;

use crate::support::{BINARY_V2, Runnel, kafka_partition, runnel_bin};

/// What a CLI run did.
#[derive(Debug)]
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn success(self) -> Run {
        assert!(self.ok, "the command failed: {self:#?}");
        self
    }

    #[track_caller]
    fn failure(self) -> Run {
        assert!(!self.ok, "the command succeeded: {self:#?}");
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// Runs `runnel <command> --url <server>` with `stdin`, for at most a minute; `command` is split
/// at white space, as a shell would split it.
async fn cli(r: &Runnel, command: &str, stdin: &str) -> Run {
    let args: Vec<&str> = command.split_whitespace().collect();
    cli_with(&args, stdin, &[("--url", &r.url(""))], &[]).await
}

async fn cli_with(args: &[&str], stdin: &str, flags: &[(&str, &str)], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(runnel_bin());
    cmd.args(args)
        .env_remove("RUNNEL_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (flag, value) in flags {
        cmd.arg(flag).arg(value);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn runnel");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.as_bytes().to_vec();
    let writer = tokio::spawn(async move {
        let _ = input.write_all(&stdin).await;
        // Dropping closes stdin: the end of the input.
    });
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("runnel {args:?} ran for more than a minute"))
        .expect("wait for runnel");
    let _ = writer.await;
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn topics_create_list_describe_alter_and_delete() {
    let r = Runnel::start().await;
    let cid = r.cluster_id().await;

    let run = cli(
        &r,
        "topics create orders --partitions 3 --config retention.ms=3600000",
        "",
    )
    .await
    .success();
    assert_eq!(
        run.stdout, "created topic 'orders' with 3 partitions\n",
        "{run:#?}"
    );
    let (status, t) = r
        .get_json(&format!("/v3/clusters/{cid}/topics/orders"))
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["partitions_count"], 3, "{t}");
    let run = cli(&r, "topics create single -o json", "").await.success();
    let created = run.json();
    assert_eq!(created["topic_name"], "single", "{run:#?}");
    assert_eq!(created["partitions_count"], 1, "server default: {run:#?}");

    // Already there: a failure that says why.
    let run = cli(&r, "topics create orders", "").await.failure();
    assert!(run.stderr.contains("already exists"), "{run:#?}");

    // list: a table and JSON.
    let run = cli(&r, "topics list", "").await.success();
    let lines: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [
            vec!["TOPIC", "PARTITIONS", "REPLICATION", "INTERNAL"],
            vec!["orders", "3", "1", "no"],
            vec!["single", "1", "1", "no"],
        ],
        "{run:#?}"
    );
    let run = cli(&r, "topics list --output json", "").await.success();
    assert_eq!(
        run.json(),
        json!([
            {"topic_name": "orders", "partitions_count": 3, "replication_factor": 1, "is_internal": false},
            {"topic_name": "single", "partitions_count": 1, "replication_factor": 1, "is_internal": false},
        ]),
        "{run:#?}"
    );

    // describe: partitions with offsets, configs.
    r.post_expect(
        "/topics/orders/partitions/2",
        BINARY_V2,
        &json!({"records": [{"value": B64.encode("x")}, {"value": B64.encode("y")}]}),
        200,
    )
    .await;
    let run = cli(&r, "topics describe orders -o json", "")
        .await
        .success();
    let d = run.json();
    assert_eq!(d["topic_name"], "orders", "{run:#?}");
    assert_eq!(
        d["partitions"],
        json!([
            {"partition_id": 0, "earliest_offset": 0, "latest_offset": 0},
            {"partition_id": 1, "earliest_offset": 0, "latest_offset": 0},
            {"partition_id": 2, "earliest_offset": 0, "latest_offset": 2},
        ]),
        "{run:#?}"
    );
    let configs: BTreeMap<String, Value> = d["configs"]
        .as_array()
        .expect("configs")
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c.clone()))
        .collect();
    assert_eq!(configs["retention.ms"]["value"], "3600000", "{run:#?}");
    assert_eq!(configs["retention.ms"]["is_default"], false, "{run:#?}");
    assert_eq!(configs["cleanup.policy"]["value"], "delete", "{run:#?}");
    let run = cli(&r, "topics describe orders", "").await.success();
    assert!(
        run.stdout
            .starts_with("Topic: orders  partitions: 3  replication: 1\n"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["2", "0", "2"]),
        "partition 2 from 0 to 2: {run:#?}"
    );
    assert!(
        run.stdout.lines().any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.first() == Some(&"retention.ms") && cols.get(1) == Some(&"3600000")
        }),
        "{run:#?}"
    );

    // alter: set one config and reset another.
    let run = cli(
        &r,
        "topics alter orders --config cleanup.policy=compact --delete-config retention.ms",
        "",
    )
    .await
    .success();
    assert!(run.stdout.contains("cleanup.policy=compact"), "{run:#?}");
    let config = |name: &str| {
        let path = format!("/v3/clusters/{cid}/topics/orders/configs/{name}");
        let r = &r;
        async move { r.get_json(&path).await.1 }
    };
    assert_eq!(config("cleanup.policy").await["value"], "compact");
    assert_eq!(config("retention.ms").await["is_default"], true);
    let run = cli(&r, "topics alter orders --config retention.ms=soon", "")
        .await
        .failure();
    assert!(!run.stderr.is_empty(), "{run:#?}");
    assert_eq!(
        config("retention.ms").await["is_default"],
        true,
        "unchanged"
    );

    // delete.
    let run = cli(&r, "topics delete orders", "").await.success();
    assert_eq!(run.stdout, "deleted topic 'orders'\n", "{run:#?}");
    assert_eq!(r.get_json("/topics").await, (200, json!(["single"])));
    let run = cli(&r, "topics describe orders", "").await.failure();
    assert!(run.stderr.contains("orders"), "{run:#?}");
    cli(&r, "topics delete orders", "").await.failure();

    // RUNNEL_URL stands in for --url; a server that is not there is an error, not a hang.
    let run = cli_with(
        &["topics", "list", "-o", "json"],
        "",
        &[],
        &[("RUNNEL_URL", &r.url(""))],
    )
    .await
    .success();
    assert_eq!(run.json()[0]["topic_name"], "single", "{run:#?}");
    let dead = format!("http://127.0.0.1:{}", crate::support::free_port());
    cli_with(&["topics", "list"], "", &[("--url", &dead)], &[])
        .await
        .failure();
    r.assert_no_panic();
}

#[tokio::test]
async fn produce_lines_and_consume_them_back() {
    let r = Runnel::start().await;
    cli(&r, "topics create lines -p 1", "").await.success();

    let input = "k1:v1\nk2:hello world\r\nk3:v:3\n:no key\n";
    let run = cli(&r, "produce lines --key-separator :", input)
        .await
        .success();
    assert!(
        run.stdout.starts_with("produced 4 records to 'lines'\n"),
        "{run:#?}"
    );
    // Stored as sent: the line's bytes, split at the first separator.
    let recs = r.read_from("lines", 0, 0, BINARY_V2).await;
    let decode = |v: &Value| {
        v.as_str()
            .map(|s| String::from_utf8(B64.decode(s).unwrap()).unwrap())
    };
    let got: Vec<(Option<String>, Option<String>)> = recs
        .iter()
        .map(|r| (decode(&r["key"]), decode(&r["value"])))
        .collect();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        got,
        [
            (some("k1"), some("v1")),
            (some("k2"), some("hello world")),
            (some("k3"), some("v:3")),
            (some(""), some("no key")),
        ]
    );

    let run = cli(
        &r,
        "consume lines --offset earliest --max-records 2 --print-key",
        "",
    )
    .await
    .success();
    assert_eq!(run.stdout, "k1\tv1\nk2\thello world\n", "{run:#?}");
    let run = cli(&r, "consume lines --offset earliest --max-records 100", "")
        .await
        .success();
    assert_eq!(
        run.stdout, "v1\nhello world\nv:3\nno key\n",
        "stops at the end: {run:#?}"
    );
    let run = cli(
        &r,
        "consume lines --offset 2 --max-records 1 --print-offset",
        "",
    )
    .await
    .success();
    assert_eq!(run.stdout, "0\t2\tv:3\n", "{run:#?}");
    let run = cli(&r, "consume lines --offset latest --max-records 5", "")
        .await
        .success();
    assert_eq!(run.stdout, "", "{run:#?}");

    // A line without the separator stops the run with an error.
    let run = cli(&r, "produce lines --key-separator :", "no separator here\n")
        .await
        .failure();
    assert!(!run.stderr.is_empty(), "{run:#?}");
    // An unknown topic fails both ways.
    cli(&r, "produce nope", "x\n").await.failure();
    cli(&r, "consume nope --max-records 1", "").await.failure();

    // Keys choose partitions as Kafka's default partitioner does, and every line comes back.
    cli(&r, "topics create keyed --partitions 3", "")
        .await
        .success();
    let lines: Vec<String> = (0..30)
        .map(|i| format!("key-{}=value-{i}", i % 7))
        .collect();
    let input = lines.join("\n") + "\n";
    let run = cli(&r, "produce keyed -k = --batch 4", &input)
        .await
        .success();
    assert!(
        run.stdout.starts_with("produced 30 records to 'keyed'\n"),
        "{run:#?}"
    );
    let mut expected = [0u64; 3];
    for i in 0..30 {
        expected[kafka_partition(format!("key-{}", i % 7).as_bytes(), 3) as usize] += 1;
    }
    let run = cli(&r, "topics describe keyed -o json", "").await.success();
    let latest: Vec<u64> = run.json()["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["latest_offset"].as_u64().unwrap())
        .collect();
    assert_eq!(latest, expected, "records per partition: {run:#?}");
    let run = cli(
        &r,
        "consume keyed --offset earliest --max-records 30 --print-key",
        "",
    )
    .await
    .success();
    let mut got: Vec<String> = run
        .stdout
        .lines()
        .map(|l| l.replacen('\t', "=", 1))
        .collect();
    let mut want = lines.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{run:#?}");
    r.assert_no_panic();
}

#[tokio::test]
async fn bench_produce_prints_a_json_summary() {
    let r = Runnel::start().await;
    let run = cli(
        &r,
        "bench produce --duration 2s --json --topic bench --concurrency 2 --batch 100",
        "",
    )
    .await
    .success();
    let report = run.json();
    assert_eq!(report["mode"], "produce", "{run:#?}");
    assert_eq!(report["topic"], "bench", "{run:#?}");
    let records = report["records"].as_u64().expect("records");
    assert!(records > 0, "{run:#?}");
    assert_eq!(report["errors"], 0, "{run:#?}");
    assert!(
        report["requests"].as_u64().is_some_and(|n| n > 0),
        "{run:#?}"
    );
    assert!(
        report["elapsed_secs"].as_f64().is_some_and(|s| s >= 1.0),
        "{run:#?}"
    );
    for p in ["p50", "p99", "max"] {
        assert!(report["latency_us"][p].is_u64(), "{p}: {run:#?}");
    }
    // The records are really there (the topic was created for the run).
    let (status, body) = r.get_json("/topics/bench/partitions/0/offsets").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["end_offset"]
            .as_u64()
            .is_some_and(|end| end >= records),
        "{records} records reported, offsets {body}"
    );
    r.assert_no_panic();
}
