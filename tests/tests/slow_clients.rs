//! Slow and waiting clients through the real server (issue 9, items 6 and 7): a body declared
//! too large is refused before a byte of it is read; a body trickled slower than the minimum
//! rate is cut with 408 and its slot freed; long-polls filling every request slot leave the
//! probes and produce answering; readers that never read their answers keep the server's
//! memory within the read budget.
//!
//! Raw TCP where an HTTP library would not misbehave the way these clients do.

use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::{BINARY_V2, JSON_V2, Runnel, assert_error};

const MIB: u64 = 1 << 20;

/// `VmRSS` of a process, in bytes.
fn rss_bytes(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

/// Waits (polling `/metrics`) until gauge `name` reaches `want`.
async fn wait_for_gauge(r: &Runnel, name: &str, want: i64) {
    for _ in 0..600 {
        if r.metric(name).await >= want as f64 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} never reached {want} (now {})", r.metric(name).await);
}

/// Reads whatever the server sends until it closes the connection (or 60 s pass).
async fn read_until_closed(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

fn status_of(answer: &str) -> Option<u16> {
    answer.split(' ').nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_body_declared_too_large_is_refused_before_it_is_read() {
    let r = Runnel::start_with_env(&[("RUNNEL_LIMITS_MAX_REQUEST_BODY", "1MiB")]).await;
    r.create_topic("t", 1, &[]).await;
    let cid = r.cluster_id().await;
    for path in [
        "/topics/t".to_owned(),
        format!("/v3/clusters/{cid}/topics/t/records"),
    ] {
        let mut s = TcpStream::connect(("127.0.0.1", r.port()))
            .await
            .expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {JSON_V2}\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            1u64 << 40
        );
        s.write_all(head.as_bytes()).await.expect("send headers");
        // Not one byte of the body is sent: the answer must come anyway, and be final.
        let answer = read_until_closed(&mut s).await;
        assert!(
            !answer.contains("100 Continue"),
            "{path}: the server asked for the body: {answer:?}"
        );
        assert_eq!(status_of(&answer), Some(413), "{path}: {answer:?}");
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let v: serde_json::Value = serde_json::from_str(body).expect("JSON error body");
        assert_eq!(v["error_code"], 413, "{path}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| m.contains("limit")));
    }
    // Bodies within the limit are still served.
    r.produce_ok("t", &[json!("fits")]).await;
    r.assert_no_panic();
}

#[tokio::test]
async fn a_body_trickled_slower_than_the_minimum_rate_is_cut_and_its_slot_freed() {
    let r = Runnel::start_with_env(&[
        ("RUNNEL_LIMITS_BODY_READ_TIMEOUT", "1s"),
        ("RUNNEL_LIMITS_MIN_BODY_RATE", "1KiB"),
        ("RUNNEL_LIMITS_MAX_CONCURRENT_REQUESTS", "4"),
    ])
    .await;
    r.create_topic("t", 1, &[]).await;
    // Every request slot taken by a client announcing a body it sends a byte a second of.
    let mut tricklers = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(("127.0.0.1", r.port()))
            .await
            .expect("connect");
        s.write_all(
            format!(
                "POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: {JSON_V2}\r\n\
                 Content-Length: 100000\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .expect("send head");
        tricklers.push(tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut sent = 0;
            loop {
                tokio::select! {
                    read = s.read_buf(&mut buf) => match read {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    },
                    () = tokio::time::sleep(Duration::from_secs(1)) => {
                        if s.write_all(b" ").await.is_err() {
                            break;
                        }
                        sent += 1;
                        assert!(sent < 60, "the trickling client was never cut");
                    }
                }
            }
            String::from_utf8_lossy(&buf).into_owned()
        }));
    }
    for t in tricklers {
        let answer = t.await.expect("trickler");
        assert_eq!(status_of(&answer), Some(408), "{answer:?}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer:?}"
        );
        assert!(answer.contains("\"error_code\":408"), "{answer:?}");
    }
    // The slots are free again, and nothing half-sent was written.
    r.produce_ok("t", &[json!("after")]).await;
    assert_eq!(r.read_all("t", 0).await.len(), 1);
    r.assert_no_panic();
}

/// Opens a stateless read at the log end that waits up to 30 s; returns the socket.
async fn open_long_poll(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(
        b"GET /topics/t/partitions/0/records?offset=0&timeout=30000 HTTP/1.1\r\n\
          Host: x\r\nAccept: application/vnd.kafka.json.v2+json\r\n\r\n",
    )
    .await
    .expect("send");
    s
}

#[tokio::test]
async fn probes_and_produce_answer_while_long_polls_fill_every_request_slot() {
    let r = Runnel::start_with_env(&[("RUNNEL_LIMITS_MAX_CONCURRENT_REQUESTS", "8")]).await;
    r.create_topic("t", 1, &[]).await;
    // One at a time: a poll holds an active slot until it parks, and 12 arriving together
    // could find all 8 taken by polls not yet parked (shed with 429, as any request).
    let mut polls = Vec::new();
    for i in 1..=12 {
        polls.push(open_long_poll(r.port()).await);
        wait_for_gauge(&r, "runnel_http_waiting_polls", i).await;
    }
    for probe in ["/health", "/ready", "/metrics"] {
        let resp = r.http.get(r.url(probe)).send().await.expect("probe");
        assert_eq!(resp.status(), 200, "{probe}");
    }
    r.produce_ok("t", &[json!("wakes them")]).await;
    // Every waiting poll answers with the record.
    for mut s in polls {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf))
            .await
            .expect("the long-poll answered")
            .expect("read");
        let text = String::from_utf8_lossy(&buf[..n]);
        assert_eq!(status_of(&text), Some(200), "{text}");
    }
    r.assert_no_panic();
}

#[tokio::test]
async fn probes_answer_while_eleven_hundred_long_polls_wait() {
    crate::limits::ensure_fd_limit(2400);
    let r = Runnel::start_with_topic("t", 1).await;
    // In waves of 100, each parked before the next: more than 1,024 polls arriving together
    // could find every active slot held by polls not yet parked.
    let mut polls = Vec::new();
    for wave in 1..=11 {
        for _ in 0..100 {
            polls.push(open_long_poll(r.port()).await);
        }
        wait_for_gauge(&r, "runnel_http_waiting_polls", wave * 100).await;
    }
    for probe in ["/health", "/ready"] {
        let resp = r.http.get(r.url(probe)).send().await.expect("probe");
        assert_eq!(resp.status(), 200, "{probe}");
    }
    r.produce_ok("t", &[json!(1)]).await;
    drop(polls);
    r.assert_no_panic();
}

#[tokio::test]
async fn long_polls_past_the_waiting_limit_are_refused_and_probes_still_answer() {
    let r = Runnel::start_with_env(&[
        ("RUNNEL_LIMITS_MAX_CONCURRENT_REQUESTS", "8"),
        ("RUNNEL_LIMITS_MAX_WAITING_POLLS", "4"),
    ])
    .await;
    r.create_topic("t", 1, &[]).await;
    let mut waiting = Vec::new();
    for _ in 0..4 {
        waiting.push(open_long_poll(r.port()).await);
    }
    wait_for_gauge(&r, "runnel_http_waiting_polls", 4).await;
    let got = r
        .get_json("/topics/t/partitions/0/records?offset=0&timeout=30000")
        .await;
    assert_error("a fifth long-poll", &got, 429, 42901);
    let resp = r.http.get(r.url("/ready")).send().await.expect("probe");
    assert_eq!(resp.status(), 200);
    r.produce_ok("t", &[json!("ok")]).await;
    drop(waiting);
    r.assert_no_panic();
}

/// Produces `mib` MiB to partition 0 of `t` as 64 KiB binary records.
async fn fill(r: &Runnel, mib: usize) {
    let value = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 64 << 10]);
    for _ in 0..mib {
        let records: Vec<_> = (0..16).map(|_| json!({ "value": value })).collect();
        r.post_expect("/topics/t", BINARY_V2, &json!({ "records": records }), 200)
            .await;
    }
}

#[tokio::test]
async fn readers_that_do_not_read_keep_memory_within_the_read_budget() {
    const BUDGET: u64 = 16 * MIB;
    const READERS: usize = 24;
    let r = Runnel::start_with_env(&[("RUNNEL_LIMITS_READ_MEMORY", "16MiB")]).await;
    r.create_topic("t", 1, &[]).await;
    fill(&r, 12).await;
    // Warm the read path so first-use allocations are not counted.
    let (status, _) = r.read_raw("t", 0, 0, BINARY_V2, "").await;
    assert_eq!(status, 200);
    let before = rss_bytes(r.pid());

    // Each asks for 12 MiB (16 MiB of base64 JSON) and reads nothing of the answer.
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let mut s = TcpStream::connect(("127.0.0.1", r.port()))
            .await
            .expect("connect");
        s.write_all(
            format!(
                "GET /topics/t/partitions/0/records?offset=0&max_bytes={} HTTP/1.1\r\n\
                 Host: x\r\nAccept: {BINARY_V2}\r\n\r\n",
                12 * MIB
            )
            .as_bytes(),
        )
        .await
        .expect("send");
        readers.push(s);
    }
    let mut peak = 0;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(rss_bytes(r.pid()));
    }
    let growth = peak.saturating_sub(before);
    assert!(
        growth <= 2 * BUDGET + 16 * MIB,
        "RSS grew by {} MiB with {READERS} readers not reading, over twice the {} MiB budget",
        growth / MIB,
        BUDGET / MIB
    );

    // Gone readers give their room back: a normal read is answered.
    drop(readers);
    let (status, body) = r.read_raw("t", 0, 0, BINARY_V2, "").await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.as_array().expect("records").is_empty());
    r.assert_no_panic();
}
