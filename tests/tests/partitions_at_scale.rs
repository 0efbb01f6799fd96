//! Many partitions and many segments on the real server: open file descriptors stay bounded
//! however many segments exist, empty partitions cost no index disk blocks, and a `kill -9`
//! restart opens only what it must and keeps every acknowledged record.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{JSON_V2, Options, Runnel, http_client};

/// The server runs with this open-file limit (soft and hard), far below the three descriptors
/// per segment that tiny segments used to hold.
const FILE_LIMIT: u32 = 256;
/// Records produced one per request into a topic whose segments roll on every produce.
const TINY_RECORDS: u64 = 600;

fn limited(limit: u32) -> Options {
    Options {
        wrapper: [
            "sh".to_owned(),
            "-c".to_owned(),
            format!("ulimit -n {limit} && exec \"$@\""),
            "sh".to_owned(),
        ]
        .into_iter()
        .map(Into::into)
        .collect(),
        ..Options::default()
    }
}

/// Open descriptors of the server process.
fn open_fds(r: &Runnel) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", r.pid()))
        .expect("read /proc/<pid>/fd")
        .count()
}

/// Files under `dir` (recursively) with extension `ext`, as `(count, apparent bytes, 512-byte
/// blocks allocated)`.
fn files_with_ext(dir: &Path, ext: &str) -> (usize, u64, u64) {
    let mut out = (0, 0, 0);
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let meta = entry.metadata().expect("stat");
        if meta.is_dir() {
            let (n, len, blocks) = files_with_ext(&entry.path(), ext);
            out = (out.0 + n, out.1 + len, out.2 + blocks);
        } else if entry.path().extension().is_some_and(|e| e == ext) {
            out = (out.0 + 1, out.1 + meta.len(), out.2 + meta.blocks());
        }
    }
    out
}

/// Produces `{"n": i}` for every `i` in `range`, one request each, to `topic`'s `partition`.
async fn produce_each(r: &Runnel, topic: &str, partition: u32, range: std::ops::Range<u64>) {
    for i in range {
        let (status, body) = r
            .post(
                &format!("/topics/{topic}/partitions/{partition}"),
                JSON_V2,
                &json!({"records": [{"value": {"n": i}}]}),
            )
            .await;
        assert_eq!(status, 200, "produce {i} to {topic}/{partition}: {body}");
        assert!(body["offsets"][0]["error_code"].is_null(), "{body}");
    }
}

fn values(records: &[Value]) -> Vec<u64> {
    records
        .iter()
        .map(|r| r["value"]["n"].as_u64().expect("value n"))
        .collect()
}

/// Creates and deletes a topic and answers on a new connection: the process has descriptors
/// left for everything else.
async fn still_serves_everyone(r: &Runnel, name: &str) {
    r.create_topic(name, 4, &[]).await;
    r.produce_ok(name, &[json!(1)]).await;
    let cluster = r.cluster_id().await;
    let resp = http_client()
        .delete(r.url(&format!("/v3/clusters/{cluster}/topics/{name}")))
        .send()
        .await
        .expect("delete topic");
    assert_eq!(resp.status().as_u16(), 204, "delete {name}");
    let resp = http_client()
        .get(r.url("/topics"))
        .send()
        .await
        .expect("a new connection is accepted");
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn tiny_segments_keep_open_descriptors_bounded_and_every_record_readable() {
    let mut r = Runnel::start_with(limited(FILE_LIMIT)).await;
    // 14 bytes is Kafka's minimum: every batch rolls a new segment.
    r.create_topic("tiny", 1, &[("segment.bytes", "14")]).await;
    produce_each(&r, "tiny", 0, 0..TINY_RECORDS).await;
    let segments = files_with_ext(&r.data_dir().join("topics/tiny-0"), "log").0;
    assert!(
        segments as u64 >= TINY_RECORDS,
        "every produce rolled: {segments} segments"
    );
    // One active log per partition, a bounded cache of sealed ones and a few sockets.
    let bound = (FILE_LIMIT / 2) as usize;
    let after_produce = open_fds(&r);
    assert!(after_produce < bound, "{after_produce} descriptors open");

    // Reading everything opens every sealed segment once; the cache closes the idle ones.
    let expected: Vec<u64> = (0..TINY_RECORDS).collect();
    assert_eq!(values(&r.read_all("tiny", 0).await), expected);
    let after_read = open_fds(&r);
    assert!(after_read < bound, "{after_read} descriptors open");
    still_serves_everyone(&r, "other").await;

    r.restart().await;
    assert_eq!(values(&r.read_all("tiny", 0).await), expected);
    assert!(open_fds(&r) < bound);

    r.crash_restart().await;
    let after_crash = open_fds(&r);
    assert!(after_crash < bound, "{after_crash} descriptors open");
    assert_eq!(values(&r.read_all("tiny", 0).await), expected);
    produce_each(&r, "tiny", 0, TINY_RECORDS..TINY_RECORDS + 5).await;
    still_serves_everyone(&r, "again").await;
    r.assert_no_panic();
}

#[tokio::test]
async fn empty_partitions_index_files_take_no_disk_blocks() {
    let mut r = Runnel::start_with_topic("empty", 200).await;
    let topics = r.data_dir().join("topics");
    for ext in ["index", "timeindex"] {
        let (n, len, blocks) = files_with_ext(&topics, ext);
        assert_eq!(n, 200, "one {ext} per partition");
        assert_eq!((len, blocks), (0, 0), "{ext} files are empty and sparse");
    }
    // A record in one partition indexes it (a few bytes once written); the others stay empty,
    // also after a clean restart and after a crash.
    r.post(
        "/topics/empty/partitions/7",
        JSON_V2,
        &json!({"records": [{"value": 1}]}),
    )
    .await;
    r.restart().await;
    // Only `empty`'s partitions: the audit's books of that record (`__audit`, issue 13) are
    // indexed too.
    let of_empty = |ext: &str| {
        std::fs::read_dir(&topics)
            .expect("read dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("empty-"))
            .map(|e| files_with_ext(&e.path(), ext))
            .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    };
    let (_, len, blocks) = of_empty("index");
    assert_eq!(len, 8, "one 8-byte entry in all");
    assert!(blocks <= 8, "{blocks} blocks: at most one page");
    r.crash_restart().await;
    let (_, len, _) = of_empty("timeindex");
    assert!(len <= 12, "{len} bytes of time index");
    assert_eq!(r.read_all("empty", 7).await.len(), 1);
    r.assert_no_panic();
}

#[tokio::test]
async fn kill9_restart_with_many_partitions_keeps_every_acknowledged_record() {
    const PARTITIONS: u32 = 300;
    const SEGMENTS: u64 = 200;
    let mut r = Runnel::start().await;
    r.create_topic("many", PARTITIONS, &[]).await;
    r.create_topic("rolled", 1, &[("segment.bytes", "14")])
        .await;
    for p in 0..PARTITIONS {
        let n = u64::from(p % 3 + 1);
        produce_each(&r, "many", p, 0..n).await;
    }
    produce_each(&r, "rolled", 0, 0..SEGMENTS).await;
    let before = open_fds(&r);

    r.crash_restart().await;
    // Start-up after the crash opened each partition's active segment, not the sealed ones.
    let after = open_fds(&r);
    assert!(
        after <= before + 32 && after < PARTITIONS as usize + 200,
        "{after} descriptors after the restart, {before} before"
    );
    for p in 0..PARTITIONS {
        let n = u64::from(p % 3 + 1);
        let got = values(&r.read_all("many", p).await);
        assert_eq!(got, (0..n).collect::<Vec<_>>(), "partition {p}");
    }
    let got = values(&r.read_all("rolled", 0).await);
    assert_eq!(got, (0..SEGMENTS).collect::<Vec<_>>());
    r.assert_no_panic();
}

#[tokio::test]
async fn running_out_of_descriptors_fails_only_the_append_that_needs_one_and_retriably() {
    let r = Runnel::start_with(limited(FILE_LIMIT)).await;
    r.create_topic("rolls", 1, &[("segment.bytes", "14")]).await;
    r.create_topic("steady", 1, &[]).await;
    produce_each(&r, "rolls", 0, 0..3).await;
    produce_each(&r, "steady", 0, 0..3).await;

    // Idle connections until the server has no descriptor left (the rest wait in the backlog).
    let mut idle = Vec::new();
    let addr = format!("127.0.0.1:{}", r.port());
    while open_fds(&r) < FILE_LIMIT as usize && idle.len() < 2 * FILE_LIMIT as usize {
        idle.push(
            tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect"),
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(
        open_fds(&r),
        FILE_LIMIT as usize,
        "the server is out of descriptors"
    );

    // On the connection opened before: an append that must roll a new segment fails
    // retriably; one that appends to the open segment of another partition succeeds.
    let failed = r
        .post(
            "/topics/rolls/partitions/0",
            JSON_V2,
            &json!({"records": [{"value": {"n": 3}}]}),
        )
        .await;
    let code = if failed.0 == 200 {
        &failed.1["offsets"][0]["error_code"]
    } else {
        &failed.1["error_code"]
    };
    assert_eq!(code, &json!(50003), "{failed:?}");
    produce_each(&r, "steady", 0, 3..4).await;

    // Descriptors come back: the same partition takes appends again and lost nothing.
    drop(idle);
    let mut accepted = false;
    for _ in 0..200 {
        if open_fds(&r) < (FILE_LIMIT / 2) as usize {
            accepted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(accepted, "the server closed the idle connections");
    produce_each(&r, "rolls", 0, 3..6).await;
    assert_eq!(
        values(&r.read_all("rolls", 0).await),
        (0..6).collect::<Vec<_>>()
    );
    assert_eq!(
        values(&r.read_all("steady", 0).await),
        (0..4).collect::<Vec<_>>()
    );
    r.assert_no_panic();
}
