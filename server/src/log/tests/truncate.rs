//! Truncation (replication's truncate to a leader's epoch end) and its regressions.

use super::*;
use crate::log::compaction;

#[test]
fn truncate_to_various_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    one_batch_segments(&mut log, 2, T0); // 0..=2 | 3..=5 |
    fill(&mut log, 3, 3, T0); // 6..=8, 9..=11, 12..=14
    log.truncate_to(15).unwrap();
    log.truncate_to(100).unwrap();
    assert_eq!(
        log.log_end_offset(),
        15,
        "at or past the end: nothing to do"
    );
    log.truncate_to(13).unwrap();
    assert_eq!(
        log.log_end_offset(),
        12,
        "a batch across the point goes whole"
    );
    log.truncate_to(9).unwrap();
    assert_eq!(log.log_end_offset(), 9, "at a batch boundary");
    log.truncate_to(6).unwrap();
    assert_eq!(log.log_end_offset(), 6, "at a segment's base");
    assert_eq!(log.segment_bases(), [0, 3]);
    assert_eq!(log_files(dir.path()), [0, 3]);
    check_indexes(&log);
    assert_eq!(
        append(&mut log, &[value("x")], Compression::None, T0).base_offset,
        6
    );
    log.truncate_to(4).unwrap();
    assert_eq!(log.log_end_offset(), 3);
    assert_eq!(
        append(&mut log, &[value("y")], Compression::None, T0).base_offset,
        3
    );
    assert_eq!(offsets(&read_records(&log)), [0, 1, 2, 3]);
    check_indexes(&log);
    drop(log);
    let mut log = open(dir.path(), &config, false);
    assert_eq!(log.log_end_offset(), 4);
    log.truncate_to(0).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 0));
    assert!(read_records(&log).is_empty());
    // Below the log start offset the log restarts empty at the given offset.
    one_batch_segments(&mut log, 3, T0);
    log.advance_log_start_offset(6).unwrap();
    log.apply_retention(T0).unwrap();
    log.truncate_to(2).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (2, 2));
    assert_eq!(log.segment_bases(), [2]);
    assert_eq!(log_files(dir.path()), [2]);
    assert_eq!(
        append(&mut log, &[value("z")], Compression::None, T0).base_offset,
        2
    );
    drop(log);
    let log = open(dir.path(), &config, false);
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (2, 3));
    assert_eq!(offsets(&read_records(&log)), [2]);
}

/// Found by `log_matches_model`: truncating into a compacted segment whose last batches had been
/// cleaned away set the log end offset to the end of the surviving data, below the truncation point, so offsets that had
/// already been handed out (and that a leader still holds) were assigned again.
#[test]
fn regression_truncate_into_compacted_gap_keeps_end_offset() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        delete_retention_ms: 0,
        ..small_config()
    };
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    append(&mut log, &[rec(None, Some("x"), T0)], Compression::None, T0);
    append(&mut log, &[rec(Some("a"), None, T0)], Compression::None, T0);
    append(&mut log, &[rec(Some("a"), None, T0)], Compression::None, T0);
    log.roll().unwrap();
    append(&mut log, &[rec(None, Some("y"), T0)], Compression::None, T0);
    let log = Mutex::new(log);
    compaction::compact(&log, T0).unwrap();
    let mut log = log.into_inner();
    // Offsets 1 and 2 were tombstones, cleaned away.
    assert_eq!(offsets(&read_records(&log)), [0, 3]);
    log.truncate_to(3).unwrap();
    assert_eq!(log.log_end_offset(), 3);
    assert_eq!(
        append(&mut log, &[rec(None, Some("z"), T0)], Compression::None, T0).base_offset,
        3
    );
    log.truncate_to(2).unwrap();
    assert_eq!(log.log_end_offset(), 2);
    drop(log);
    let mut log = Log::open(dir.path(), config, false, T0).unwrap();
    assert_eq!(log.log_end_offset(), 2, "the end offset survives a restart");
    assert_eq!(
        append(&mut log, &[rec(None, Some("z"), T0)], Compression::None, T0).base_offset,
        2
    );
    assert_eq!(offsets(&read_records(&log)), [0, 2]);
}

/// Found by `log_matches_model`: after `DeleteRecords` moved the log start offset inside a batch,
/// truncating inside that batch removed it whole and left the log end offset below the log
/// start offset, so every read and the next append's offset were out of range.
#[test]
fn regression_truncate_below_a_log_start_inside_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    append(&mut log, &[value("a")], Compression::None, T0);
    append(
        &mut log,
        &[value("b"), value("c"), value("d")],
        Compression::None,
        T0,
    );
    log.advance_log_start_offset(2).unwrap();
    append(&mut log, &[value("e")], Compression::None, T0);
    log.truncate_to(3).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (1, 1));
    assert!(read_records(&log).is_empty());
    assert_eq!(
        append(&mut log, &[value("f")], Compression::None, T0).base_offset,
        1
    );
    assert_eq!(offsets(&read_records(&log)), [1]);
    drop(log);
    let log = open(dir.path(), &config, false);
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (1, 2));
}
