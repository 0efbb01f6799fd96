//! Hostile input: topic names that try to leave the data dir, encoded path tricks, and segment
//! and index files damaged while the server was down. Nothing may be created outside the data
//! dir, nothing may panic, and a damaged log serves exactly its valid prefix.

use std::path::{Path, PathBuf};

use rand::Rng as _;
use serde_json::{Value, json};

use crate::support::{JSON_V2, Runnel, assert_error, raw_request, raw_request_body, snapshot};

#[tokio::test]
async fn hostile_topic_names_are_refused_without_touching_the_disk() {
    let r = Runnel::start_with_topic("legit", 1).await;
    let before = snapshot(r.root());
    let topics_before = snapshot(&r.data_dir().join("topics"));

    let long = "a".repeat(250);
    let names: [&str; 11] = [
        "../x",
        "a/b",
        "%2e%2e",
        "a\0b",
        &long,
        "",
        ".",
        "..",
        "../../../../tmp/escape",
        "x/../../y",
        "..\\x",
    ];
    for name in names {
        let got = r.try_create_topic(&json!({"topic_name": name})).await;
        assert_error(&format!("create topic {name:?}"), &got, 400, 40002);
    }
    // A name of exactly 249 characters is the longest legal one.
    r.create_topic(&"b".repeat(249), 1, &[]).await;
    let long_dir = format!("{}-0", "b".repeat(249));
    let after_long = snapshot(r.root());

    // Path tricks: percent-encoded separators and dot segments, sent byte for byte.
    let produce = r#"{"records":[{"value":1}]}"#;
    for path in [
        "/topics/..%2Fx",
        "/topics/..%2F..%2Fescape",
        "/topics/%2e%2e",
        "/topics/%2E%2E%2Flegit",
        "/topics/..%2Fx/partitions/0",
    ] {
        let got = raw_request_body(
            r.port(),
            "POST",
            path,
            &[("Content-Type", JSON_V2)],
            produce,
        );
        assert_error(&format!("POST {path}"), &got, 404, 40401);
    }
    for path in [
        "/topics/%2e%2e/partitions/0/records?offset=0",
        "/topics/..%2Fx/partitions/0/records?offset=0",
        "/topics/..%2F..%2Fetc%2Fpasswd/partitions/0/records?offset=0",
    ] {
        let got = raw_request(r.port(), "GET", path, &[("Accept", JSON_V2)]);
        assert_error(&format!("GET {path}"), &got, 404, 40401);
    }
    let cid = r.cluster_id().await;
    let got = raw_request(
        r.port(),
        "GET",
        &format!("/v3/clusters/{cid}/topics/..%2Fx"),
        &[],
    );
    assert_error("GET v3 topic ..%2Fx", &got, 404, 40403);

    let mut expected = before.clone();
    expected.extend(
        after_long
            .difference(&before)
            .filter(|p| p.starts_with(Path::new("data/topics").join(&long_dir)))
            .cloned(),
    );
    assert_eq!(
        after_long, expected,
        "creating the 249-character topic made files outside its directory"
    );
    let after = snapshot(r.root());
    assert_eq!(
        after, after_long,
        "refused requests created or removed files next to or inside the data dir"
    );
    let mut topics_after = snapshot(&r.data_dir().join("topics"));
    topics_after.retain(|p| !p.starts_with(&long_dir));
    assert_eq!(topics_after, topics_before, "new entries in <data>/topics");
    assert_eq!(
        r.get_json("/topics").await,
        (200, json!([&"b".repeat(249), "legit"]))
    );
    r.assert_no_panic();
}

// ----- damaged files -----

const TOPIC: &str = "damaged";
const BATCHES: usize = 10;
const PER_BATCH: usize = 5;

/// How the files are damaged while the server is down.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Flip bytes inside the records of batch 5: a CRC mismatch.
    FlipBytes,
    /// Cut the `.log` in the middle of batch 7.
    TruncateMidBatch,
    /// Overwrite `.index` and `.timeindex` with random bytes.
    GarbageIndexes,
}

/// Byte ranges of the batches in a `.log` (v2 framing: base offset i64, batch length i32).
fn batch_bounds(log: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= log.len() {
        let len = i32::from_be_bytes(log[at + 8..at + 12].try_into().unwrap());
        let end = at + 12 + usize::try_from(len).unwrap();
        assert!(end <= log.len(), "a batch runs past the end of a clean log");
        out.push((at, end));
        at = end;
    }
    assert_eq!(at, log.len(), "trailing bytes in a clean log");
    out
}

fn partition_dir(r: &Runnel) -> PathBuf {
    r.data_dir().join("topics").join(format!("{TOPIC}-0"))
}

fn segment_file(r: &Runnel, ext: &str) -> PathBuf {
    partition_dir(r).join(format!("{:020}.{ext}", 0))
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand::rng().fill(&mut v[..]);
    v
}

/// Produces `BATCHES` requests of `PER_BATCH` records (one batch each), stops the server with
/// SIGTERM, damages the files, optionally deletes the clean-shutdown marker, restarts, and
/// checks that exactly the first `survivors` batches are served and a new produce follows them.
async fn damaged_restart(damage: Damage, keep_marker: bool) {
    let mut r = Runnel::start().await;
    r.create_topic(TOPIC, 1, &[]).await;
    let mut values = Vec::new();
    for b in 0..BATCHES {
        let batch: Vec<Value> = (0..PER_BATCH)
            .map(|i| json!({"batch": b, "i": i, "pad": "p".repeat(100)}))
            .collect();
        let offs = r.produce_ok(TOPIC, &batch).await;
        assert_eq!(offs[0].1, (b * PER_BATCH) as u64);
        values.extend(batch);
    }
    r.stop().await;
    let marker = r.data_dir().join(".clean_shutdown");
    assert!(
        marker.exists(),
        "a graceful stop writes {}",
        marker.display()
    );

    let log_path = segment_file(&r, "log");
    let log = std::fs::read(&log_path).unwrap();
    let bounds = batch_bounds(&log);
    assert_eq!(bounds.len(), BATCHES, "one batch per produce request");
    let survivors = match damage {
        Damage::FlipBytes => {
            let (start, end) = bounds[5];
            let mut bytes = log.clone();
            // Inside the records section (the batch header is 61 bytes).
            let mid = start + 61 + (end - start - 61) / 2;
            for b in &mut bytes[mid..mid + 4] {
                *b ^= 0xff;
            }
            std::fs::write(&log_path, bytes).unwrap();
            5
        }
        Damage::TruncateMidBatch => {
            let (start, end) = bounds[7];
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&log_path)
                .unwrap();
            f.set_len(((start + end) / 2) as u64).unwrap();
            7
        }
        Damage::GarbageIndexes => {
            for ext in ["index", "timeindex"] {
                let p = segment_file(&r, ext);
                let len = std::fs::metadata(&p).unwrap().len() as usize;
                std::fs::write(&p, random_bytes(len.max(64))).unwrap();
            }
            BATCHES
        }
    };
    if !keep_marker {
        std::fs::remove_file(&marker).unwrap();
    }

    r.spawn_ready().await;
    let case = format!(
        "{damage:?}, marker {}",
        if keep_marker { "kept" } else { "deleted" }
    );
    if keep_marker && matches!(damage, Damage::FlipBytes) {
        return damage_inside_a_trusted_log(r, &values, &case).await;
    }
    let expected = &values[..survivors * PER_BATCH];
    let got: Vec<Value> = r
        .read_all(TOPIC, 0)
        .await
        .into_iter()
        .map(|rec| rec["value"].clone())
        .collect();
    assert_eq!(
        got.len(),
        expected.len(),
        "{case}: served {} records, the valid prefix has {}",
        got.len(),
        expected.len()
    );
    assert_eq!(
        got, expected,
        "{case}: served records differ from the valid prefix"
    );

    // A new produce gets the next offset after the survivors, and reads see it.
    let next = (survivors * PER_BATCH) as u64;
    let offs = r.produce_ok(TOPIC, &[json!({"after": "damage"})]).await;
    assert_eq!(
        offs,
        vec![(0, next)],
        "{case}: offset of the first new record"
    );
    let all = r.read_all(TOPIC, 0).await;
    assert_eq!(all.len() as u64, next + 1, "{case}");
    assert_eq!(all[next as usize]["value"], json!({"after": "damage"}));

    // The repair holds across another restart.
    r.restart().await;
    assert_eq!(
        r.read_all(TOPIC, 0).await,
        all,
        "{case}: after a further restart"
    );
    r.assert_no_panic();
}

/// Bytes flipped inside batch 5 of a log that was shut down cleanly. A clean start trusts the
/// log, as Kafka does, and does not re-check every CRC; the damage surfaces on read. Reads then
/// serve the valid batches before it, the damaged batch alone answers 50002 (not a panic, not
/// garbage), the batches after it stay readable, and produce goes on at the log end.
async fn damage_inside_a_trusted_log(r: Runnel, values: &[Value], case: &str) {
    let mut served = Vec::new();
    let mut next = 0u64;
    let failed_at = loop {
        let (status, body) = r.read_raw(TOPIC, 0, next, JSON_V2, "").await;
        if status != 200 {
            assert_error(
                &format!("{case}: read at {next}"),
                &(status, body),
                500,
                50002,
            );
            break next;
        }
        let recs = body.as_array().expect("array");
        assert!(
            !recs.is_empty(),
            "{case}: the read ended at {next}, before the damage"
        );
        for rec in recs {
            assert_eq!(rec["offset"], next, "{case}");
            served.push(rec["value"].clone());
            next += 1;
        }
    };
    assert_eq!(
        failed_at,
        (5 * PER_BATCH) as u64,
        "{case}: the read fails exactly at the damaged batch"
    );
    assert_eq!(
        served,
        values[..5 * PER_BATCH],
        "{case}: the batches before the damage"
    );
    let after: Vec<Value> = r
        .read_from(TOPIC, 0, (6 * PER_BATCH) as u64, JSON_V2)
        .await
        .into_iter()
        .map(|rec| rec["value"].clone())
        .collect();
    assert_eq!(
        after,
        values[6 * PER_BATCH..],
        "{case}: the batches after the damage"
    );
    let offs = r.produce_ok(TOPIC, &[json!({"after": "damage"})]).await;
    assert_eq!(
        offs,
        vec![(0, values.len() as u64)],
        "{case}: produce goes on at the log end"
    );
    r.assert_no_panic();
}

#[tokio::test]
async fn flipped_bytes_after_a_crash_serve_the_batches_before_them() {
    damaged_restart(Damage::FlipBytes, false).await;
}

#[tokio::test]
async fn flipped_bytes_after_a_clean_shutdown_fail_only_the_damaged_batch() {
    damaged_restart(Damage::FlipBytes, true).await;
}

#[tokio::test]
async fn truncated_log_after_a_crash_serves_the_whole_batches() {
    damaged_restart(Damage::TruncateMidBatch, false).await;
}

#[tokio::test]
async fn truncated_log_after_a_clean_shutdown_serves_the_whole_batches() {
    damaged_restart(Damage::TruncateMidBatch, true).await;
}

#[tokio::test]
async fn garbage_indexes_after_a_crash_are_rebuilt() {
    damaged_restart(Damage::GarbageIndexes, false).await;
}

#[tokio::test]
async fn garbage_indexes_after_a_clean_shutdown_are_rebuilt() {
    damaged_restart(Damage::GarbageIndexes, true).await;
}
