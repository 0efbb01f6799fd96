//! Compaction: latest value per key, tombstones, and passes after truncation.

use super::*;
use crate::log::compaction;

#[test]
fn compaction_keeps_the_latest_per_key_and_tombstones_until_delete_retention() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        delete_retention_ms: HOUR,
        ..small_config()
    };
    let mut log = open(dir.path(), &config, false);
    let kv = |k: &str, v: Option<&str>| rec(Some(k), v, T0);
    let none = Compression::None;
    append(
        &mut log,
        &[kv("a", Some("1")), kv("b", Some("1")), kv("c", Some("1"))],
        none,
        T0,
    );
    append(
        &mut log,
        &[kv("a", Some("2")), kv("b", None)],
        Compression::Zstd,
        T0,
    ); // 3, 4
    append(&mut log, &[value("x")], none, T0); // 5: no key
    log.roll().unwrap();
    append(&mut log, &[kv("c", Some("2"))], none, T0); // 6: active, not cleaned
    let log = Mutex::new(log);
    let stats = compaction::compact(&log, T0 + MINUTE).unwrap();
    assert_eq!(stats.records_removed, 2, "{stats:?}");
    let batches = read_all(&log.lock());
    let shape: Vec<(u64, u64, Vec<u64>)> = batches
        .iter()
        .map(|(h, _, r)| (h.base_offset, h.last_offset(), offsets(r)))
        .collect();
    assert_eq!(
        shape,
        [
            (0, 2, vec![2]),
            (3, 4, vec![3, 4]),
            (5, 5, vec![5]),
            (6, 6, vec![6])
        ],
        "batches keep their offsets; the tombstone is still young"
    );
    assert_eq!(batches[1].0.compression, Compression::Zstd);
    // New data rolled; two hours on, the tombstone and the superseded c=1 go.
    append(&mut log.lock(), &[kv("d", Some("1"))], none, T0); // 7
    log.lock().roll().unwrap();
    compaction::compact(&log, T0 + 2 * HOUR).unwrap();
    let mut log = log.into_inner();
    let recs = read_records(&log);
    assert_eq!(offsets(&recs), [3, 5, 6, 7]);
    assert_eq!(recs[0].value.as_deref(), Some(&b"2"[..]));
    check_indexes(&log);
    log.close(T0).unwrap();
    let log = open(dir.path(), &config, true);
    assert_eq!(offsets(&read_records(&log)), [3, 5, 6, 7]);
    assert_eq!(log.log_end_offset(), 8);
}

/// After a truncation below the point compaction had cleaned to, new data rolled into sealed
/// segments below that point was never compacted: the pass was skipped as already clean.
#[test]
fn regression_compaction_after_truncation_cleans_new_data() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        ..small_config()
    };
    let mut log = Log::open(dir.path(), config, false, T0).unwrap();
    for i in 0..6 {
        append(
            &mut log,
            &[rec(Some(&format!("k{i}")), Some("v"), T0)],
            Compression::None,
            T0,
        );
        log.roll().unwrap();
    }
    let log = Mutex::new(log);
    assert!(compaction::compact(&log, T0).unwrap().segments > 0);
    let mut log = log.into_inner();
    log.truncate_to(2).unwrap();
    append(
        &mut log,
        &[rec(Some("a"), Some("1"), T0)],
        Compression::None,
        T0,
    );
    append(
        &mut log,
        &[rec(Some("a"), Some("2"), T0)],
        Compression::None,
        T0,
    );
    log.roll().unwrap();
    let log = Mutex::new(log);
    let stats = compaction::compact(&log, T0).unwrap();
    assert_eq!(stats.records_removed, 1, "{stats:?}");
    assert_eq!(offsets(&read_records(&log.lock())), [0, 1, 3]);
}
