//! The delivery audit through the real server (issue 13, first step): records produced
//! through v2, v3 and WebSocket and consumed by a v2 consumer group end `complete` with exact
//! counts per tier; an application's `client` report that the gateway falls 10 short of ends in a `gap` of
//! 10 for that reporter; bad reports are refused with a 4xx and book nothing.
//!
//! Windows are one second wide with a two-second grace, so verdicts come within seconds; every
//! wait polls `GET /v1/audit` for the verdict with a generous deadline.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Options, Runnel, assert_error, runnel_bin, ws_produce, ws_reply};

const V2: &str = "application/vnd.kafka.v2+json";
const JSON_V2: &str = "application/vnd.kafka.json.v2+json";
const DEADLINE: Duration = Duration::from_secs(90);

/// A server with one-second windows, a two-second grace and quick rounds.
async fn audited_server(extra: &[(&str, &str)]) -> Runnel {
    let mut env = vec![
        ("RUNNEL_AUDIT_WINDOW", "1s"),
        ("RUNNEL_AUDIT_GRACE", "2s"),
        ("RUNNEL_AUDIT_PUBLISH_INTERVAL", "200ms"),
    ];
    env.extend_from_slice(extra);
    Runnel::start_with(Options::with_env(&env)).await
}

/// `GET /v1/audit` for `topic` (and `group`), until `done` holds for its windows.
async fn windows_until(
    r: &Runnel,
    topic: &str,
    query: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (status, body) = r.get_json(&format!("/v1/audit?topic={topic}{query}")).await;
        assert_eq!(status, 200, "{body}");
        let windows = body["windows"].as_array().expect("windows").clone();
        if done(&windows) {
            return windows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} never happened: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count(window: &Value, tier: &str) -> u64 {
    window["tiers"][tier]["count"].as_u64().unwrap_or(0)
}

fn total(windows: &[Value], tier: &str) -> u64 {
    windows.iter().map(|w| count(w, tier)).sum()
}

/// `2025-01-01T00:00:00.{ms}Z`: record times inside one old window.
const JAN_1_2025_MS: i64 = 1_735_689_600_000;

#[tokio::test]
async fn records_through_v2_v3_and_websocket_and_a_group_end_complete_with_exact_counts() {
    const TOTAL: u64 = 50;
    let r = audited_server(&[]).await;
    r.create_topic("audited", 2, &[]).await;
    let cid = r.cluster_id().await;

    // v2: 30 keyed records over both partitions; the gateway stamps their time.
    let records: Vec<Value> = (0..30)
        .map(|i| json!({"key": format!("k{i}"), "value": {"n": i}}))
        .collect();
    r.post_expect(
        "/topics/audited",
        JSON_V2,
        &json!({ "records": records }),
        200,
    )
    .await;
    // v3: five single records and a batch of five, with and without their own timestamps.
    let v3 = format!("/v3/clusters/{cid}/topics/audited/records");
    for i in 0..5 {
        let body = json!({"partition_id": i % 2, "value": {"type": "JSON", "data": {"v3": i}}});
        let answer = r.post_expect(&v3, "application/json", &body, 200).await;
        assert_eq!(answer["error_code"], 200, "{answer}");
    }
    let entries: Vec<Value> = (0..5)
        .map(|i| {
            json!({"id": format!("e{i}"), "value": {"type": "JSON", "data": format!("b{i}")},
                   "timestamp": "2025-01-01T00:00:00.500Z"})
        })
        .collect();
    r.post_expect(
        &format!("{v3}:batch"),
        "application/json",
        &json!({ "entries": entries }),
        207,
    )
    .await;
    // WebSocket: one message of ten records.
    let mut ws = ws_produce(&r, "audited").await;
    let records: Vec<Value> = (0..10).map(|i| json!({"value": {"ws": i}})).collect();
    let message = json!({"type": "produce", "id": "m1", "records": records});
    let ack = ws_reply(&mut ws, message.to_string()).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["offsets"].as_array().map(Vec::len), Some(10), "{ack}");

    // A v2 consumer group reads them all and commits them.
    let member = json!({"name": "one", "format": "json", "auto.offset.reset": "earliest",
                        "auto.commit.enable": "false"});
    r.post_expect("/consumers/g", V2, &member, 200).await;
    r.post_expect(
        "/consumers/g/instances/one/subscription",
        V2,
        &json!({"topics": ["audited"]}),
        204,
    )
    .await;
    let mut last: BTreeMap<u64, u64> = BTreeMap::new();
    let mut seen = 0;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while seen < TOTAL {
        assert!(
            tokio::time::Instant::now() < deadline,
            "read {seen} of {TOTAL}"
        );
        let (status, records) = r
            .get_accept("/consumers/g/instances/one/records?timeout=500", JSON_V2)
            .await;
        assert_eq!(status, 200, "{records}");
        for rec in records.as_array().expect("records") {
            let (p, o) = (
                rec["partition"].as_u64().unwrap(),
                rec["offset"].as_u64().unwrap(),
            );
            let at = last.entry(p).or_default();
            *at = (*at).max(o);
            seen += 1;
        }
    }
    assert_eq!(seen, TOTAL);
    let offsets: Vec<Value> = last
        .iter()
        .map(|(p, o)| json!({"topic": "audited", "partition": p, "offset": o}))
        .collect();
    r.post_expect(
        "/consumers/g/instances/one/offsets",
        V2,
        &json!({ "offsets": offsets }),
        200,
    )
    .await;

    let windows = windows_until(&r, "audited", "", "every window complete", |ws| {
        !ws.is_empty()
            && ws.iter().all(|w| w["status"] == "complete")
            && total(ws, "group:g") == TOTAL
    })
    .await;
    assert_eq!(total(&windows, "ingress"), TOTAL);
    assert_eq!(total(&windows, "log"), TOTAL);
    for w in &windows {
        assert_eq!(w["problems"], json!([]), "{w}");
        let ingress = &w["tiers"]["ingress"];
        assert_eq!(&w["tiers"]["log"], ingress, "{w}");
        assert_eq!(&w["tiers"]["group:g"], ingress, "{w}");
        let start = w["window_start"].as_i64().expect("timed windows only");
        assert_eq!(w["window_end"].as_i64(), Some(start + 1000), "{w}");
    }
    // The batch's own timestamp put its five records in their own old window.
    let old = windows
        .iter()
        .find(|w| w["window_start"] == JAN_1_2025_MS)
        .expect("the batch's window");
    assert_eq!(count(old, "log"), 5, "{old}");

    // Filtering by window start and by group.
    let (_, only_old) = r
        .get_json(&format!(
            "/v1/audit?topic=audited&from={JAN_1_2025_MS}&to={}&group=other",
            JAN_1_2025_MS + 1
        ))
        .await;
    let only_old = only_old["windows"].as_array().expect("windows");
    assert_eq!(only_old.len(), 1, "{only_old:?}");
    assert!(
        only_old[0]["tiers"].get("group:g").is_none(),
        "{only_old:?}"
    );

    let (status, summary) = r.get_json("/v1/audit/summary").await;
    assert_eq!(status, 200, "{summary}");
    let topic = summary["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic"] == "audited")
        .expect("audited topic in the summary");
    assert!(topic["last_complete_window"].is_i64(), "{summary}");
    assert_eq!(topic["open_problems"], json!({}), "{summary}");

    assert_eq!(
        r.metric("runnel_audit_records_total{tier=\"ingress\"}")
            .await,
        TOTAL as f64
    );
    assert_eq!(
        r.metric("runnel_audit_records_total{tier=\"group:g\"}")
            .await,
        TOTAL as f64
    );
    assert_eq!(r.metric("runnel_audit_windows{status=\"gap\"}").await, 0.0);
    r.assert_no_panic();
}

/// One `records:batch` of ten records at `2025-01-01T00:00:00.{first..first+10}Z`.
async fn produce_batch(r: &Runnel, path: &str, first: u32) {
    let entries: Vec<Value> = (first..first + 10)
        .map(|i| {
            json!({"id": format!("r{i}"), "value": {"type": "JSON", "data": i},
                   "timestamp": format!("2025-01-01T00:00:00.{i:03}Z")})
        })
        .collect();
    let answer = r
        .post_expect(
            path,
            "application/json",
            &json!({ "entries": entries }),
            207,
        )
        .await;
    assert_eq!(
        answer["successes"].as_array().map(Vec::len),
        Some(10),
        "{answer}"
    );
}

#[tokio::test]
async fn a_request_the_gateway_never_got_is_a_client_gap_of_ten_for_that_reporter() {
    let r = audited_server(&[]).await;
    // Old record times must not be deleted by retention while the test runs.
    r.create_topic("orders", 1, &[("retention.ms", "-1")]).await;
    let cid = r.cluster_id().await;
    let path = format!("/v3/clusters/{cid}/topics/orders/records:batch");
    // The application sends 100 requests of ten; the 43rd is lost on the way.
    for request in (0..100).filter(|n| *n != 42) {
        produce_batch(&r, &path, request * 10).await;
    }
    let report = json!({"reporter": "checkout-1", "sequence": 1,
                        "counts": [{"topic": "orders", "window_start": JAN_1_2025_MS, "count": 1000}]});
    let (status, body) = r
        .post("/v1/audit/reports", "application/json", &report)
        .await;
    assert_eq!(status, 204, "{body}");

    let windows = windows_until(&r, "orders", "", "the window's verdict", |ws| {
        ws.iter().any(|w| w["status"] != "pending")
    })
    .await;
    assert_eq!(windows.len(), 1, "{windows:?}");
    let w = &windows[0];
    assert_eq!(w["window_start"], JAN_1_2025_MS);
    assert_eq!(w["status"], "gap", "{w}");
    assert_eq!(count(w, "client"), 1000);
    assert_eq!(count(w, "ingress"), 990);
    assert_eq!(count(w, "log"), 990);
    assert_eq!(
        w["problems"],
        json!([{"kind": "gap", "tier": "client", "partition": null, "offset_from": null,
                "offset_to": null, "count": 10, "reporter": "checkout-1"}]),
        "{w}"
    );

    // `runnel audit` shows the same, per window and per topic.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(runnel_bin())
            .arg("audit")
            .args(["--url", &r.url("")])
            .args(args)
            .output()
            .expect("run runnel audit");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).expect("UTF-8 output")
    };
    let table = cli(&["--topic", "orders"]);
    let row = table.lines().nth(1).expect("a window row");
    assert!(row.starts_with(&JAN_1_2025_MS.to_string()), "{table}");
    assert!(row.ends_with("gap 10 client (checkout-1)"), "{table}");
    let summary = cli(&[]);
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("orders") && l.ends_with("gap 1")),
        "{summary}"
    );
    r.assert_no_panic();
}

#[tokio::test]
async fn bad_reports_are_refused_with_a_4xx_and_book_nothing() {
    let r = audited_server(&[("RUNNEL_LIMITS_MAX_REQUEST_BODY", "1MiB")]).await;
    r.create_topic("t", 1, &[]).await;
    let window = JAN_1_2025_MS;
    let report = |sequence: i64, counts: Value| json!({"reporter": "app", "sequence": sequence, "counts": counts});
    let entry = |count: Value| json!([{"topic": "t", "window_start": window, "count": count}]);
    let post = |body: Value| {
        let r = &r;
        async move { r.post("/v1/audit/reports", "application/json", &body).await }
    };

    assert_error(
        "negative count",
        &post(report(1, entry(json!(-5)))).await,
        422,
        42203,
    );
    assert_error(
        "count beyond u64",
        &post(report(1, entry(json!(1e30)))).await,
        422,
        42203,
    );
    assert_error(
        "huge count",
        &post(report(1, entry(json!(u64::MAX)))).await,
        400,
        40002,
    );
    assert_error(
        "negative sequence",
        &post(report(-1, entry(json!(1)))).await,
        422,
        42203,
    );
    assert_error(
        "unknown topic",
        &post(report(
            1,
            json!([{"topic": "nope", "window_start": window, "count": 1}]),
        ))
        .await,
        404,
        40401,
    );
    // The far future: a day ahead of any clock this test runs on, on a window boundary.
    let future = (JAN_1_2025_MS / 1000 + 100 * 365 * 86_400) * 1000;
    assert_error(
        "window in the future",
        &post(report(
            1,
            json!([{"topic": "t", "window_start": future, "count": 1}]),
        ))
        .await,
        400,
        40002,
    );
    assert_error(
        "window not on a boundary",
        &post(report(
            1,
            json!([{"topic": "t", "window_start": window + 1, "count": 1}]),
        ))
        .await,
        400,
        40002,
    );
    assert_error(
        "checksum not a number",
        &post(report(
            1,
            json!([{"topic": "t", "window_start": window, "count": 1, "checksum": "x"}]),
        ))
        .await,
        400,
        40002,
    );
    assert_error(
        "an internal topic (here not yet created)",
        &post(report(
            1,
            json!([{"topic": "__consumer_offsets", "window_start": window, "count": 1}]),
        ))
        .await,
        404,
        40401,
    );
    assert_error("no counts", &post(report(1, json!([]))).await, 400, 40002);
    // One bad entry refuses the whole report, the good entry before it included.
    assert_error(
        "one bad entry",
        &post(report(
            1,
            json!([{"topic": "t", "window_start": window, "count": 7},
                   {"topic": "nope", "window_start": window, "count": 1}]),
        ))
        .await,
        404,
        40401,
    );
    let big = report(
        1,
        json!([{"topic": "t", "window_start": window, "count": 1,
                                "pad": "x".repeat(2 << 20)}]),
    );
    let (status, _) = post(big).await;
    assert_eq!(status, 413, "a body over limits.max_request_body");
    let (status, _) = r
        .post(
            "/v1/audit/reports",
            "text/plain",
            &report(1, entry(json!(1))),
        )
        .await;
    assert_eq!(status, 415);

    // The one good report is taken once; its replay is refused.
    let (status, body) = post(report(1, entry(json!(5)))).await;
    assert_eq!(status, 204, "{body}");
    assert_error(
        "replay",
        &post(report(1, entry(json!(5)))).await,
        409,
        40904,
    );

    let windows = windows_until(&r, "t", "", "the report's window", |ws| !ws.is_empty()).await;
    assert_eq!(windows.len(), 1, "{windows:?}");
    assert_eq!(
        count(&windows[0], "client"),
        5,
        "only the accepted report counts"
    );
    assert_eq!(
        r.metric("runnel_audit_records_total{tier=\"client\"}")
            .await,
        5.0
    );
    r.assert_no_panic();
}

#[tokio::test]
async fn a_topic_with_audit_enable_false_is_not_counted() {
    let r = audited_server(&[]).await;
    r.create_topic("counted", 1, &[]).await;
    r.create_topic("quiet", 1, &[("audit.enable", "false")])
        .await;
    r.produce_ok("quiet", &[json!(1), json!(2)]).await;
    r.produce_ok("counted", &[json!(3)]).await;
    // Both topics are counted in the same rounds: once `counted` shows its record in the log
    // tier, `quiet`'s would show too if it were audited.
    windows_until(&r, "counted", "", "the audited topic's log count", |ws| {
        total(ws, "log") == 1
    })
    .await;
    let (status, body) = r.get_json("/v1/audit?topic=quiet").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["windows"], json!([]));
    let report = json!({"reporter": "a", "sequence": 1,
                        "counts": [{"topic": "quiet", "window_start": JAN_1_2025_MS, "count": 2}]});
    let got = r
        .post("/v1/audit/reports", "application/json", &report)
        .await;
    assert_error("report for an opted-out topic", &got, 400, 40002);
    assert_eq!(
        r.metric("runnel_audit_records_total{tier=\"ingress\"}")
            .await,
        1.0
    );
    r.assert_no_panic();
}

/// Waits until `/metrics` shows more than `after` publishes of the books to `__audit`.
async fn published_after(r: &Runnel, after: f64) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while r.metric("runnel_audit_publishes_total").await <= after {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the books were never published"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn after_kill_9_the_books_resume_from_audit_with_exact_counts() {
    let mut r = audited_server(&[]).await;
    r.create_topic("crashy", 1, &[("retention.ms", "-1")]).await;
    let cid = r.cluster_id().await;
    let path = format!("/v3/clusters/{cid}/topics/crashy/records:batch");
    produce_batch(&r, &path, 0).await;
    produce_batch(&r, &path, 10).await;
    windows_until(&r, "crashy", "", "20 records in the log tier", |ws| {
        total(ws, "log") == 20 && total(ws, "ingress") == 20
    })
    .await;
    // A round that saw all 20 has been published (the round after the one that counted them).
    let seen = r.metric("runnel_audit_publishes_total").await;
    published_after(&r, seen).await;

    r.crash_restart().await;
    produce_batch(&r, &path, 20).await;
    let windows = windows_until(&r, "crashy", "", "the window's verdict", |ws| {
        ws.iter().any(|w| w["status"] != "pending")
    })
    .await;
    assert_eq!(windows.len(), 1, "{windows:?}");
    let w = &windows[0];
    // Neither recounted (50) nor lost (10): the books resumed from __audit.
    assert_eq!(count(w, "log"), 30, "{w}");
    assert_eq!(count(w, "ingress"), 30, "{w}");
    assert_eq!(w["status"], "complete", "{w}");
    r.assert_no_panic();
}

#[tokio::test]
async fn a_report_taken_before_a_restart_is_still_refused_after_it() {
    let mut r = audited_server(&[]).await;
    r.create_topic("t", 1, &[]).await;
    let report = json!({"reporter": "app", "sequence": 3,
                        "counts": [{"topic": "t", "window_start": JAN_1_2025_MS, "count": 4}]});
    let (status, body) = r
        .post("/v1/audit/reports", "application/json", &report)
        .await;
    assert_eq!(status, 204, "{body}");
    r.restart().await;
    let got = r
        .post("/v1/audit/reports", "application/json", &report)
        .await;
    assert_error("replay after a restart", &got, 409, 40904);
    let windows = windows_until(&r, "t", "", "the restored window", |ws| !ws.is_empty()).await;
    assert_eq!(count(&windows[0], "client"), 4, "{windows:?}");
    r.assert_no_panic();
}

#[tokio::test]
async fn a_group_reset_forward_past_records_it_never_committed_is_skipped_by_the_count() {
    let r = audited_server(&[]).await;
    r.create_topic("resets", 1, &[]).await;
    let values: Vec<Value> = (0..20).map(|i| json!(i)).collect();
    r.produce_ok("resets", &values).await;

    // Group r reads and commits the first five, then leaves.
    let member = json!({"name": "one", "format": "json", "auto.offset.reset": "earliest",
                        "auto.commit.enable": "false"});
    r.post_expect("/consumers/r", V2, &member, 200).await;
    r.post_expect(
        "/consumers/r/instances/one/subscription",
        V2,
        &json!({"topics": ["resets"]}),
        204,
    )
    .await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (status, records) = r
            .get_accept("/consumers/r/instances/one/records?timeout=500", JSON_V2)
            .await;
        assert_eq!(status, 200, "{records}");
        if records.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing to read");
    }
    let commit = json!({"offsets": [{"topic": "resets", "partition": 0, "offset": 4}]});
    r.post_expect("/consumers/r/instances/one/offsets", V2, &commit, 200)
        .await;
    let (status, body) = r.call("DELETE", "/consumers/r/instances/one", None).await;
    assert_eq!(status, 204, "{body}");
    // The audit has counted the five committed before the reset moves the group on.
    windows_until(&r, "resets", "", "five records counted for group r", |ws| {
        total(ws, "group:r") == 5
    })
    .await;

    let cid = r.cluster_id().await;
    r.post_expect(
        &format!("/v3/clusters/{cid}/consumer-groups/r/offsets:reset"),
        "application/json",
        &json!({"to": "latest"}),
        200,
    )
    .await;

    let skipped = |ws: &[Value]| -> u64 {
        ws.iter()
            .flat_map(|w| w["problems"].as_array().cloned().unwrap_or_default())
            .filter(|p| p["kind"] == "skipped")
            .map(|p| p["count"].as_u64().unwrap_or(0))
            .sum()
    };
    let windows = windows_until(&r, "resets", "", "the skipped windows judged", |ws| {
        ws.iter()
            .all(|w| w["status"] != "pending" && w["status"] != "lagging")
            && skipped(ws) == 15
    })
    .await;
    assert_eq!(total(&windows, "log"), 20);
    assert_eq!(
        total(&windows, "group:r"),
        5,
        "skipped records are not consumed ones"
    );
    for w in &windows {
        for p in w["problems"].as_array().unwrap() {
            assert_eq!(p["kind"], "skipped", "{w}");
            assert_eq!(p["tier"], "group:r", "{w}");
        }
    }
    assert!(
        windows.iter().any(|w| w["status"] == "skipped"),
        "{windows:?}"
    );
    r.assert_no_panic();
}

#[tokio::test]
async fn late_records_reopen_a_judged_window_and_it_settles_again() {
    let r = audited_server(&[]).await;
    r.create_topic("late", 1, &[("retention.ms", "-1")]).await;
    let cid = r.cluster_id().await;
    let path = format!("/v3/clusters/{cid}/topics/late/records:batch");
    produce_batch(&r, &path, 0).await;
    windows_until(&r, "late", "", "the first judgement", |ws| {
        ws.len() == 1 && ws[0]["status"] == "complete" && count(&ws[0], "log") == 10
    })
    .await;

    // Ten more records of the same (long past) window.
    produce_batch(&r, &path, 100).await;
    let windows = windows_until(&r, "late", "", "the second judgement", |ws| {
        ws.len() == 1 && ws[0]["status"] == "complete" && count(&ws[0], "log") == 20
    })
    .await;
    let w = &windows[0];
    assert_eq!(w["window_start"], JAN_1_2025_MS, "{w}");
    assert_eq!(count(w, "ingress"), 20, "{w}");
    assert_eq!(w["tiers"]["ingress"], w["tiers"]["log"], "{w}");
    assert_eq!(w["problems"], json!([]), "{w}");
    r.assert_no_panic();
}
