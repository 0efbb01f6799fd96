//! The issue-3 limits through the real server: a 1 GiB body is refused after a small part of it,
//! without the server's memory growing by more than a small multiple of the body limit, too many records in one
//! request are refused with nothing written, and clients that trickle their headers neither stop
//! a normal client from being served nor outlive `limits.header_read_timeout`.
//!
//! The big bodies and the slow clients go over raw TCP: an HTTP library would not announce a
//! gigabyte it does not have, nor send headers a byte at a time.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{JSON_V2, Options, Runnel, assert_error};

const MIB: u64 = 1 << 20;
/// `limits.max_request_body` of the big-body tests.
const BODY_LIMIT: u64 = 8 * MIB;
const GIB: u64 = 1 << 30;
/// Body bytes a refused request may have got out before the answer: the limit, plus what the
/// sockets buffer on both sides; a small part of the gigabyte, whatever the machine's speed.
const REFUSED_WITHIN: u64 = GIB / 16;

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read proc status");
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS; false where the kernel refuses.
fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// What the server answered to a body it was sent.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    /// Body bytes the client managed to write.
    sent: u64,
}

/// How a big body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Content-Length: 1073741824`.
    Length,
    /// `Transfer-Encoding: chunked`, 64 KiB chunks.
    Chunked,
}

/// Sends `prefix` then `fill` bytes up to 1 GiB of body (announced as `framing` says) on a raw
/// socket, while reading the answer; stops writing once the answer is in or the server closes.
fn send_gib(port: u16, path: &str, framing: Framing, prefix: &[u8], fill: u8) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let framing_header = match framing {
        Framing::Length => format!("Content-Length: {GIB}"),
        Framing::Chunked => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         {framing_header}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).expect("send headers");

    let stop = Arc::new(AtomicBool::new(false));
    let mut w = s.try_clone().expect("clone socket");
    let writer_stop = Arc::clone(&stop);
    let prefix = prefix.to_vec();
    let writer = std::thread::spawn(move || {
        let mut block = vec![fill; 64 * 1024];
        block[..prefix.len()].copy_from_slice(&prefix);
        let mut sent = 0u64;
        while sent < GIB && !writer_stop.load(Ordering::Relaxed) {
            let n = (GIB - sent).min(block.len() as u64) as usize;
            let result = match framing {
                Framing::Length => w.write_all(&block[..n]),
                Framing::Chunked => w
                    .write_all(format!("{n:x}\r\n").as_bytes())
                    .and_then(|()| w.write_all(&block[..n]))
                    .and_then(|()| w.write_all(b"\r\n")),
            };
            if result.is_err() {
                break; // The server closed: that is the expected end.
            }
            sent += n as u64;
            block[..prefix.len()].fill(fill);
        }
        if framing == Framing::Chunked && sent == GIB {
            let _ = w.write_all(b"0\r\n\r\n");
        }
        sent
    });

    // Read one whole answer: the head, then a Content-Length or chunked body.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let answer = loop {
        if let Some(answer) = parse_answer(&buf) {
            break Some(answer);
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break parse_answer(&buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    stop.store(true, Ordering::Relaxed);
    let _ = s.shutdown(Shutdown::Both);
    let sent = writer.join().expect("writer thread");
    let (status, body) = answer.unwrap_or_else(|| {
        panic!(
            "no complete answer after {sent} body bytes: {:?}",
            String::from_utf8_lossy(&buf)
        )
    });
    Answer { status, body, sent }
}

/// Status and JSON body of a complete HTTP/1.1 answer in `buf`, or `None` while incomplete.
/// A chunked body counts as complete at its first whole JSON document (a streaming answer).
fn parse_answer(buf: &[u8]) -> Option<(u16, Value)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let body = &buf[end + 4..];
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let text: Vec<u8> = match length {
        Some(n) if body.len() >= n => body[..n].to_vec(),
        Some(_) => return None,
        None => dechunk(body),
    };
    let mut it = serde_json::Deserializer::from_slice(&text).into_iter::<Value>();
    match it.next() {
        Some(Ok(v)) => Some((status, v)),
        _ if length.is_some() => Some((status, Value::Null)),
        _ => None,
    }
}

/// The data of the complete chunks at the start of a chunked body.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let Some(size) = std::str::from_utf8(&body[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
        else {
            break;
        };
        let data = eol + 2;
        if size == 0 || body.len() < data + size {
            break;
        }
        out.extend_from_slice(&body[data..data + size]);
        body = body.get(data + size + 2..).unwrap_or_default();
    }
    out
}

/// Sends one 1 GiB body and checks the server's memory: its peak RSS during the request (or
/// its RSS after, where the peak cannot be reset) is at most three times the body limit above
/// the RSS before: a body collected up to the limit, plus the buffer it outgrew while growing
/// (an allocator may copy on realloc rather than remap), plus the allocator's own slack.
fn send_gib_checking_rss(
    r: &Runnel,
    path: &str,
    framing: Framing,
    prefix: &[u8],
    fill: u8,
) -> Answer {
    let pid = r.pid();
    let before = status_kib(pid, "VmRSS");
    let peak_reset = reset_peak_rss(pid);
    let answer = send_gib(r.port(), path, framing, prefix, fill);
    let after = if peak_reset {
        status_kib(pid, "VmHWM")
    } else {
        status_kib(pid, "VmRSS")
    };
    let growth = after.saturating_sub(before) * 1024;
    assert!(
        growth <= 3 * BODY_LIMIT,
        "{path} ({framing:?}): RSS grew by {} KiB (from {before} KiB to {after} KiB{}), more \
         than three times the {} MiB body limit; {answer:?}",
        growth / 1024,
        if peak_reset { " at its peak" } else { "" },
        BODY_LIMIT / MIB
    );
    answer
}

fn assert_413(what: &str, a: &Answer) {
    assert_eq!(a.status, 413, "{what}: {a:?}");
    assert_eq!(a.body["error_code"], 413, "{what}: {a:?}");
    assert!(
        a.body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {a:?}"
    );
    assert!(
        a.sent < GIB,
        "{what}: the whole gigabyte was accepted before the answer: {a:?}"
    );
}

async fn end_offset(r: &Runnel, topic: &str) -> u64 {
    let (status, body) = r
        .get_json(&format!("/topics/{topic}/partitions/0/offsets"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["end_offset"].as_u64().expect("end_offset")
}

#[tokio::test]
async fn a_gigabyte_body_is_refused_after_a_small_part_and_memory_stays_bounded() {
    let r = Runnel::start_with_env(&[("RUNNEL_LIMITS_MAX_REQUEST_BODY", "8MiB")]).await;
    r.create_topic("big", 1, &[]).await;
    let cid = r.cluster_id().await;
    // Warm up the paths measured, so first-use allocations are not counted as growth.
    r.produce_ok("big", &[json!("warm")]).await;
    let v3 = format!("/v3/clusters/{cid}/topics/big/records");
    r.post_expect(
        &v3,
        "application/json",
        &json!({"value": {"type": "JSON", "data": 1}}),
        200,
    )
    .await;

    for path in ["/topics/big".to_owned(), v3.clone(), format!("{v3}:batch")] {
        let a = send_gib_checking_rss(&r, &path, Framing::Length, b"", 0);
        assert_413(&format!("{path} with Content-Length: 1 GiB"), &a);
        assert!(a.sent < REFUSED_WITHIN, "{path}: refused too late: {a:?}");
    }

    // Without a length the limit applies as the body arrives: past 8 MiB of a chunked v2
    // produce, 413.
    let a = send_gib_checking_rss(&r, "/topics/big", Framing::Chunked, b"{\"records\":[", b' ');
    assert_413("chunked 1 GiB v2 produce", &a);
    assert!(a.sent < REFUSED_WITHIN, "{a:?}");

    // Streaming mode never ends by itself, but one record may not grow without bound: a string
    // that never closes is refused in the stream (200, then a 400 report) and the stream ends.
    let a = send_gib_checking_rss(
        &r,
        &v3,
        Framing::Chunked,
        b"{\"value\":{\"type\":\"STRING\",\"data\":\"",
        b'a',
    );
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["error_code"], 400, "{a:?}");
    assert!(a.sent < REFUSED_WITHIN, "{a:?}");

    assert_eq!(end_offset(&r, "big").await, 2, "nothing written");
    r.produce_ok("big", &[json!("still serving")]).await;
    assert!(r.stderr().lines().count() < 10_000, "log flood");
    r.assert_no_panic();
}

#[tokio::test]
async fn more_records_than_the_limit_are_refused_with_nothing_written() {
    let r = Runnel::start_with_env(&[("RUNNEL_LIMITS_MAX_RECORDS_PER_REQUEST", "10")]).await;
    r.create_topic("few", 1, &[]).await;
    let cid = r.cluster_id().await;
    let records = |n: usize| -> Vec<Value> { (0..n).map(|i| json!({ "value": i })).collect() };

    let got = r.produce_json("few", &records(11)).await;
    assert_error("11 records", &got, 413, 413);
    let got = r
        .post(
            "/topics/few/partitions/0",
            JSON_V2,
            &json!({"records": records(1000)}),
        )
        .await;
    assert_error("1000 records to a partition", &got, 413, 413);
    let got = r
        .post(
            "/topics/few",
            crate::support::BINARY_V2,
            &json!({"records": (0..11).map(|_| json!({"value": "AA=="})).collect::<Vec<_>>()}),
        )
        .await;
    assert_error("11 binary records", &got, 413, 413);
    // v3: eleven concatenated records in one (not chunked) body are one request too.
    let one = json!({"value": {"type": "JSON", "data": 1}}).to_string();
    let v3 = format!("/v3/clusters/{cid}/topics/few/records");
    let concatenated = |n: usize| {
        let json = [("Content-Type", "application/json")];
        let (r, v3, body) = (&r, &v3, one.repeat(n));
        async move { r.request("POST", v3, &json, Some(body)).await }
    };
    let got = concatenated(11).await.status_json();
    assert_error("11 concatenated v3 records", &got, 413, 413);
    assert_eq!(end_offset(&r, "few").await, 0, "nothing written");

    // At the limit: fine.
    let (status, body) = r.produce_json("few", &records(10)).await;
    assert_eq!(status, 200, "{body}");
    let reply = concatenated(10).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(end_offset(&r, "few").await, 20);
    r.assert_no_panic();
}

/// Makes sure this process (and so the servers it starts) may open `want` files, raising the
/// soft limit with `prlimit` when it is lower.
pub(crate) fn ensure_fd_limit(want: u64) {
    let soft = || -> (u64, String) {
        let text = std::fs::read_to_string("/proc/self/limits").expect("read /proc/self/limits");
        let line = text
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .expect("Max open files")
            .to_owned();
        let mut nums = line.split_whitespace().skip(3);
        let soft = nums.next().and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
        let hard = nums.next().unwrap_or("unlimited").to_owned();
        (soft, hard)
    };
    let (current, hard) = soft();
    if current >= want {
        return;
    }
    let target = hard.parse::<u64>().map_or(want, |h| h.min(want.max(4096)));
    let _ = std::process::Command::new("prlimit")
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--nofile={target}:{hard}"))
        .status();
    let (now, _) = soft();
    assert!(
        now >= want,
        "this test needs {want} open files, the limit is {now} (hard {hard}); raise it with \
         `ulimit -n {want}`"
    );
}

/// How a trickling connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trickled {
    /// The client stopped (told to, or out of bytes) with the connection still open.
    StillOpen,
    /// The server closed it (EOF, reset or an answer such as 408) after this long.
    Closed(Duration),
}

/// Opens a connection and sends a request that never completes, one byte every 200 ms, for at
/// most `max` or until `stop`; watches for the server closing it.
async fn trickle(port: u16, stop: Arc<AtomicBool>, max: Duration) -> Trickled {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect a slow client");
    let _ = s.set_nodelay(true);
    let start = Instant::now();
    let head = b"POST /topics/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: ";
    let mut bytes = head.iter().copied().chain(std::iter::repeat(b'a'));
    let mut buf = [0u8; 256];
    while start.elapsed() < max && !stop.load(Ordering::Relaxed) {
        let byte = bytes.next().unwrap_or(b'a');
        if s.write_all(&[byte]).await.is_err() {
            return Trickled::Closed(start.elapsed());
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
            // Any read result means the server is done with this connection: EOF, a reset, or
            // an answer (a 408) before closing.
            _ = s.read(&mut buf) => return Trickled::Closed(start.elapsed()),
        }
    }
    Trickled::StillOpen
}

async fn open_connections(r: &Runnel) -> f64 {
    r.metric("runnel_http_open_connections").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_slow_clients_do_not_stop_a_normal_client() {
    const SLOW: usize = 500;
    ensure_fd_limit(4 * SLOW as u64);
    // The default header timeout (30 s) outlasts the test: the slow clients stay connected.
    let r = Runnel::start_with_topic("fast", 1).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut slow = tokio::task::JoinSet::new();
    for _ in 0..SLOW {
        slow.spawn(trickle(
            r.port(),
            Arc::clone(&stop),
            Duration::from_secs(25),
        ));
    }
    // Wait until the server holds them all.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let open = open_connections(&r).await;
        if open >= SLOW as f64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server holds only {open} of the {SLOW} slow connections"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A normal client, on a fresh connection each time, is served meanwhile (within the
    // client's generous timeout: the slow ones hold no slot it needs).
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    for round in 0..5u64 {
        let resp = client
            .post(r.url("/topics/fast"))
            .header("Content-Type", JSON_V2)
            .body(json!({"records": [{"value": round}]}).to_string())
            .send()
            .await
            .expect("produce");
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.expect("produce answer");
        assert_eq!(body["offsets"][0]["offset"], round, "{body}");

        let resp = client
            .get(r.url(&format!(
                "/topics/fast/partitions/0/records?offset={round}&max_bytes=1048576"
            )))
            .header("Accept", JSON_V2)
            .send()
            .await
            .expect("read");
        assert_eq!(resp.status(), 200);
        let recs: Value = resp.json().await.expect("read answer");
        assert_eq!(recs[0]["value"], round, "{recs}");
    }
    assert!(
        open_connections(&r).await >= SLOW as f64,
        "the slow clients were still connected while the normal one was served"
    );

    stop.store(true, Ordering::Relaxed);
    let mut still_open = 0;
    while let Some(t) = slow.join_next().await {
        if t.expect("slow client task") == Trickled::StillOpen {
            still_open += 1;
        }
    }
    assert_eq!(
        still_open, SLOW,
        "no slow client was dropped before its timeout"
    );
    // Their connections are counted out again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while open_connections(&r).await > 10.0 {
        assert!(
            Instant::now() < deadline,
            "open connections stay at {}",
            open_connections(&r).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    r.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_headers_is_closed_at_the_header_read_timeout() {
    const SLOW: usize = 20;
    let r = Runnel::start_with_env(&[("RUNNEL_LIMITS_HEADER_READ_TIMEOUT", "2s")]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut slow = tokio::task::JoinSet::new();
    for _ in 0..SLOW {
        slow.spawn(trickle(
            r.port(),
            Arc::clone(&stop),
            Duration::from_secs(15),
        ));
    }
    // A connection that sends nothing at all is closed too.
    let port = r.port();
    let silent = tokio::spawn(async move {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let start = Instant::now();
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_secs(15), s.read(&mut buf)).await {
            Ok(_) => Trickled::Closed(start.elapsed()),
            Err(_) => Trickled::StillOpen,
        }
    });

    let mut closed = Vec::new();
    while let Some(t) = slow.join_next().await {
        closed.push(t.expect("slow client task"));
    }
    closed.push(silent.await.expect("silent client task"));
    for t in &closed {
        match t {
            // Not before the timeout; not after it either, or it would still be open at 15 s.
            Trickled::Closed(after) => assert!(
                *after >= Duration::from_millis(1500),
                "closed after {after:?}, before the 2 s timeout ({closed:?})"
            ),
            Trickled::StillOpen => {
                panic!("a slow client was still connected after 15 s: {closed:?}")
            }
        }
    }
    // The server is fine.
    assert_eq!(r.get_json("/topics").await, (200, json!([])));
    r.assert_no_panic();
}

#[tokio::test]
async fn partitions_past_the_open_file_limit_are_refused_with_nothing_created() {
    // 1,300 open files: a quarter kept for connections, an eighth for open sealed segments and
    // one per partition leaves room for 813 partitions in all.
    let r = Runnel::start_with(Options {
        wrapper: ["sh", "-c", "ulimit -n 1300 && exec \"$@\"", "sh"]
            .into_iter()
            .map(Into::into)
            .collect(),
        ..Options::default()
    })
    .await;
    let cluster = r.cluster_id().await;
    let topics = format!("/v3/clusters/{cluster}/topics");
    r.post_expect(
        &topics,
        "application/json",
        &json!({"topic_name": "fits", "partitions_count": 50}),
        201,
    )
    .await;
    let got = r
        .post(
            &topics,
            "application/json",
            &json!({"topic_name": "huge", "partitions_count": 1000}),
        )
        .await;
    assert_error("create past the limit", &got, 400, 40002);
    assert!(
        got.1["message"]
            .as_str()
            .unwrap()
            .contains("open-file limit"),
        "{}",
        got.1
    );
    let patch = r
        .http
        .patch(r.url(&format!("{topics}/fits")))
        .json(&json!({"partitions_count": 9748}))
        .send()
        .await
        .unwrap();
    let got = (
        patch.status().as_u16(),
        patch.json::<Value>().await.unwrap(),
    );
    assert_error("grow past the limit", &got, 400, 40002);

    // Nothing was created by the refused requests, and the topic still works.
    let dirs = std::fs::read_dir(r.data_dir().join("topics"))
        .unwrap()
        .count();
    assert_eq!(dirs, 50, "only fits-0..49 exist");
    let (status, _) = r.get_json("/topics/huge").await;
    assert_eq!(status, 404);
    r.post_expect(
        "/topics/fits/partitions/49",
        JSON_V2,
        &json!({"records": [{"value": 1}]}),
        200,
    )
    .await;
    r.assert_no_panic();
}
