//! `runnel bench latency` and `runnel bench sockets` of the real binary against a real server:
//! each runs to its end and reports sane numbers in its `--json` summary.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Runnel, runnel_bin};

/// What a `runnel bench ... --json` run did.
#[derive(Debug)]
struct Run {
    ok: bool,
    report: Value,
    stderr: String,
}

/// Runs `runnel bench <command> --json --url <server>`, for at most a minute; `command` is split
/// at white space.
async fn bench(r: &Runnel, command: &str) -> Run {
    let output = tokio::process::Command::new(runnel_bin())
        .arg("bench")
        .args(command.split_whitespace())
        .args(["--json", "--url", &r.url("")])
        .env_remove("RUNNEL_URL")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .unwrap_or_else(|_| panic!("runnel bench {command} ran for more than a minute"))
        .expect("run runnel bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    Run {
        ok: output.status.success(),
        report,
        stderr,
    }
}

#[tokio::test]
async fn bench_latency_delivers_every_acknowledged_record_and_times_it() {
    let r = Runnel::start().await;
    let run = bench(&r, "latency --rate 1000 --duration 2s -t lat").await;
    assert!(run.ok, "{run:#?}");
    let rep = &run.report;
    assert_eq!(rep["mode"], "latency", "{run:#?}");
    for (field, want) in [
        ("records_sent", 2_000),
        ("records_acked", 2_000),
        ("records_received", 2_000),
        ("lost", 0),
        ("duplicates", 0),
        ("errors", 0),
    ] {
        assert_eq!(rep[field], want, "{field}: {run:#?}");
    }
    // The rate reached depends on how busy the machine is: only its presence is checked.
    assert!(
        rep["offered_rate"].as_f64().is_some_and(|r| r > 0.0),
        "{run:#?}"
    );
    for kind in ["e2e_latency_us", "ack_latency_us"] {
        let p50 = rep[kind]["p50"].as_u64().expect("p50");
        let p99 = rep[kind]["p99"].as_u64().expect("p99");
        let max = rep[kind]["max"].as_u64().expect("max");
        assert!(0 < p50 && p50 <= p99 && p99 <= max, "{kind}: {run:#?}");
        assert!(max < 30_000_000, "{kind}: {run:#?}");
    }
    // The records are really in the topic.
    let (status, body) = r.get_json("/topics/lat/partitions/0/offsets").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["end_offset"], 2_000, "{body}");
    r.assert_no_panic();
}

#[tokio::test]
async fn bench_sockets_opens_holds_and_closes_them_all() {
    let r = Runnel::start().await;
    let run = bench(&r, "sockets --connections 200 --hold 1s -t idle").await;
    assert!(run.ok, "{run:#?}");
    let rep = &run.report;
    assert_eq!(rep["mode"], "sockets", "{run:#?}");
    assert_eq!(rep["opened"], 200, "{run:#?}");
    assert_eq!(rep["failed"], 0, "{run:#?}");
    assert_eq!(rep["dropped"], 0, "{run:#?}");
    assert!(
        rep["held_secs"].as_f64().is_some_and(|s| s >= 1.0),
        "{run:#?}"
    );
    assert!(
        rep["handshake_latency_us"]["p50"]
            .as_u64()
            .is_some_and(|p| p > 0),
        "{run:#?}"
    );
    assert!(run.stderr.contains("all 200 sockets open"), "{run:#?}");
    r.assert_no_panic();
}

#[tokio::test]
async fn bench_sockets_fails_past_the_servers_connection_limit() {
    let r = Runnel::start_with_env(&[("RUNNEL_LIMITS_WS_MAX_CONNECTIONS", "20")]).await;
    let run = bench(&r, "sockets --connections 30 --hold 100ms").await;
    assert!(!run.ok, "{run:#?}");
    assert_eq!(run.report["opened"], 20, "{run:#?}");
    assert_eq!(run.report["failed"], 10, "{run:#?}");
    assert!(
        run.report["first_error"]
            .as_str()
            .is_some_and(|e| e.contains("429")),
        "{run:#?}"
    );
    r.assert_no_panic();
}
