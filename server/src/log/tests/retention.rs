//! Retention by bytes, by time and by the log start offset.

use super::*;
use crate::log::compaction;

#[test]
fn retention_by_bytes_deletes_only_sealed_segments() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    one_batch_segments(&mut log, 5, T0);
    fill(&mut log, 1, 3, T0); // the active segment
    let size = log.size() / 6;
    assert_eq!(log.size(), 6 * size, "equal segments");
    log.set_config(LogConfig {
        retention_bytes: Some(3 * size + 1),
        ..small_config()
    });
    // 6 segments; keep deleting while what remains is still ≥ the limit.
    assert_eq!(log.apply_retention(T0).unwrap(), 2);
    assert_eq!(log.segment_bases(), [6, 9, 12, 15]);
    assert_eq!(log.log_start_offset(), 6);
    assert_eq!(offsets(&read_records(&log)), (6..18).collect::<Vec<_>>());
    log.set_config(LogConfig {
        retention_bytes: Some(0),
        ..small_config()
    });
    assert_eq!(
        log.apply_retention(T0).unwrap(),
        3,
        "never the active segment"
    );
    assert_eq!(log.segment_bases(), [15]);
    assert_eq!(log.log_start_offset(), 15);
    assert_eq!(offsets(&read_records(&log)), [15, 16, 17]);
    check_indexes(&log);
}

#[test]
fn retention_by_time_deletes_expired_segments_and_rolls_an_expired_active_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        retention_ms: Some(HOUR),
        ..small_config()
    };
    let mut log = open(dir.path(), &config, false);
    one_batch_segments(&mut log, 2, T0 - 3 * HOUR);
    one_batch_segments(&mut log, 1, T0 - 30 * MINUTE);
    one_batch_segments(&mut log, 1, T0 - 3 * HOUR); // older, but behind a young segment
    fill(&mut log, 1, 3, T0);
    assert_eq!(log.apply_retention(T0).unwrap(), 2);
    assert_eq!(log.log_start_offset(), 6);
    assert_eq!(log.segment_bases(), [6, 9, 12]);
    // Later everything has expired: the active segment is rolled and goes too.
    assert_eq!(log.apply_retention(T0 + 2 * HOUR).unwrap(), 3);
    assert_eq!(log.segment_bases(), [15]);
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (15, 15));
    assert!(read_records(&log).is_empty());
    assert_eq!(
        append(&mut log, &[value("x")], Compression::None, T0).base_offset,
        15
    );
    // Compacted topics are not retained by time.
    log.set_config(LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        ..config
    });
    log.roll().unwrap();
    assert_eq!(log.apply_retention(T0 + 10 * HOUR).unwrap(), 0);
}

/// Found by `log_matches_model`: retention moved the log start offset to the deleted segment's
/// next offset. After compaction
/// emptied the end of that segment this lay below the next segment's base, so the start offset
/// pointed into a gap and jumped forward on the next reopen (which derives it from the first
/// segment's base).
#[test]
fn regression_retention_after_compaction_moves_log_start_to_next_segment() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        ..small_config()
    };
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    let a = |v: &str| rec(Some("a"), Some(v), T0);
    append(&mut log, &[a("1"), a("2"), a("3")], Compression::None, T0);
    log.roll().unwrap();
    append(&mut log, &[a("4")], Compression::None, T0);
    log.roll().unwrap();
    let log = Mutex::new(log);
    compaction::compact(&log, T0).unwrap();
    let mut log = log.into_inner();
    assert_eq!(log.segment_bases(), [0, 3, 4]);
    assert_eq!(
        log.apply_retention(T0).unwrap(),
        1,
        "the emptied segment goes"
    );
    assert_eq!(log.log_start_offset(), 3);
    assert_eq!(offsets(&read_records(&log)), [3]);
    log.close(T0).unwrap();
    let log = Log::open(dir.path(), config, true, T0).unwrap();
    assert_eq!(log.log_start_offset(), 3);
}
