//! Reads and lookups: the high watermark, whole batches, out-of-range offsets, time lookups
//! and sealed segments opened on first read.

use super::*;

#[test]
fn offset_for_timestamp_with_create_time_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    let ts = |d: i64| T0 + d;
    let at = |d: i64| rec(None, Some("v"), ts(d));
    append(
        &mut log,
        &[at(100), at(101), at(102)],
        Compression::None,
        T0,
    ); // 0..=2
    append(&mut log, &[at(90), at(150), at(120)], Compression::Gzip, T0); // 3..=5
    log.roll().unwrap();
    append(&mut log, &[at(200), at(201)], Compression::None, T0); // 6..=7
    append(&mut log, &[at(130)], Compression::Zstd, T0); // 8
    let cases = [
        (i64::MIN, Some((0, ts(100)))),
        (ts(0), Some((0, ts(100)))),
        (ts(100), Some((0, ts(100)))),
        (ts(101), Some((1, ts(101)))),
        (ts(103), Some((4, ts(150)))),
        (ts(130), Some((4, ts(150)))),
        (ts(150), Some((4, ts(150)))),
        (ts(151), Some((6, ts(200)))),
        (ts(201), Some((7, ts(201)))),
        (ts(202), None),
        (i64::MAX, None),
    ];
    for (t, want) in cases {
        assert_eq!(log.offset_for_timestamp(t).unwrap(), want, "ts {t}");
    }
    log.close(T0).unwrap();
    let log = open(dir.path(), &config, true);
    for (t, want) in cases {
        assert_eq!(
            log.offset_for_timestamp(t).unwrap(),
            want,
            "after reopen, ts {t}"
        );
    }
}

#[test]
fn offset_for_timestamp_with_log_append_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        timestamp_type: TimestampType::LogAppendTime,
        ..small_config()
    };
    let mut log = open(dir.path(), &config, false);
    // Create times are ignored: the broker's clock at append counts.
    let old = |v| rec(None, Some(v), T0 - HOUR);
    append(
        &mut log,
        &[old("a"), old("b")],
        Compression::None,
        T0 + 1000,
    ); // 0..=1
    log.roll().unwrap();
    append(&mut log, &[old("c"), old("d")], Compression::Lz4, T0 + 2000); // 2..=3
    append(&mut log, &[old("e")], Compression::None, T0 + 3000); // 4
    for (t, want) in [
        (T0 - HOUR, Some((0, T0 + 1000))),
        (T0 + 1000, Some((0, T0 + 1000))),
        (T0 + 1001, Some((2, T0 + 2000))),
        (T0 + 2500, Some((4, T0 + 3000))),
        (T0 + 3001, None),
    ] {
        assert_eq!(log.offset_for_timestamp(t).unwrap(), want, "ts {t}");
    }
    assert!(read_records(&log).iter().all(|r| r.timestamp > T0));
}

#[test]
fn read_respects_the_high_watermark_and_returns_a_whole_oversized_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    fill(&mut log, 4, 3, T0); // batches 0..=2, 3..=5, 6..=8, 9..=11
    let bases = |bytes: Bytes| -> Vec<u64> {
        decode_batches(&bytes, usize::MAX)
            .iter()
            .map(|b| b.0.base_offset)
            .collect()
    };
    let size = read_all(&log)[0].1;
    assert_eq!(bases(log.read(0, 1 << 20, 12).unwrap()), [0, 3, 6, 9]);
    assert_eq!(bases(log.read(0, 1 << 20, 6).unwrap()), [0, 3]);
    assert_eq!(
        bases(log.read(0, 1 << 20, 5).unwrap()),
        [0],
        "a batch across the HW is not read"
    );
    assert_eq!(bases(log.read(0, 1 << 20, 2).unwrap()), Vec::<u64>::new());
    assert_eq!(bases(log.read(0, 1 << 20, 0).unwrap()), Vec::<u64>::new());
    assert_eq!(bases(log.read(4, 1 << 20, 12).unwrap()), [3, 6, 9]);
    assert_eq!(
        bases(log.read(11, 1 << 20, 100).unwrap()),
        [9],
        "max_offset past the end"
    );
    assert_eq!(
        bases(log.read(0, 1, 12).unwrap()),
        [0],
        "at least one whole batch"
    );
    assert_eq!(bases(log.read(0, size - 1, 12).unwrap()), [0]);
    assert_eq!(bases(log.read(0, 2 * size - 1, 12).unwrap()), [0]);
    assert_eq!(bases(log.read(0, 2 * size, 12).unwrap()), [0, 3]);
    assert!(log.read(12, 1 << 20, 12).unwrap().is_empty(), "at the end");
}

#[test]
fn read_out_of_range_below_the_log_start_and_above_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    fill(&mut log, 2, 3, T0);
    log.roll().unwrap();
    fill(&mut log, 2, 3, T0);
    log.advance_log_start_offset(6).unwrap();
    assert_eq!(log.apply_retention(T0).unwrap(), 1);
    assert_eq!(log.log_start_offset(), 6);
    let out_of_range = |r: crate::log::Result<Bytes>, at: u64| match r {
        Err(Error::OffsetOutOfRange {
            requested,
            log_start_offset: 6,
            log_end_offset: 12,
        }) => assert_eq!(requested, at),
        other => panic!("read at {at}: {other:?}"),
    };
    out_of_range(log.read(5, 100, 12), 5);
    out_of_range(log.read(0, 100, 12), 0);
    out_of_range(log.read(13, 100, 12), 13);
    out_of_range(log.read(u64::MAX, 100, u64::MAX), u64::MAX);
    assert!(log.read(12, 100, 12).unwrap().is_empty());
    assert_eq!(
        decode_batches(&log.read(6, 1, 12).unwrap(), usize::MAX)[0]
            .0
            .base_offset,
        6
    );
    assert!(matches!(
        log.advance_log_start_offset(13),
        Err(Error::OffsetOutOfRange { .. })
    ));
}

/// Found by `log_matches_model`: a read with `max_bytes` below the 12-byte length prefix
/// returned nothing instead of the first whole batch, so a consumer with a tiny fetch size
/// stalled forever.
#[test]
fn regression_read_smaller_than_length_field_returns_first_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), small_config(), false, T0).unwrap();
    fill(&mut log, 2, 3, T0);
    for max_bytes in [0, 1, 11, 12, 13, 60] {
        let got = decode_batches(&log.read(0, max_bytes, 6).unwrap(), usize::MAX);
        assert_eq!(got.len(), 1, "max_bytes {max_bytes}");
        assert_eq!(offsets(&got[0].2), [0, 1, 2]);
    }
}

/// `offset_for_timestamp` gave up on a segment when the batch it found lay wholly below the log
/// start offset (after `DeleteRecords`), skipping that segment's later batches.
#[test]
fn regression_offset_for_timestamp_skips_batches_below_the_log_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    let at = |d: i64| rec(None, Some("v"), T0 + d);
    append(&mut log, &[at(0), at(1)], Compression::None, T0);
    append(&mut log, &[at(2), at(3)], Compression::None, T0);
    log.roll().unwrap();
    append(&mut log, &[at(4)], Compression::None, T0);
    log.advance_log_start_offset(2).unwrap();
    assert_eq!(log.offset_for_timestamp(T0).unwrap(), Some((2, T0 + 2)));
    log.advance_log_start_offset(3).unwrap();
    assert_eq!(log.offset_for_timestamp(T0).unwrap(), Some((3, T0 + 3)));
}

/// Opening a cleanly closed log opens only its active segment; a sealed one is opened (through
/// the shared cache) by the first read that needs it.
#[test]
fn sealed_segments_are_opened_on_first_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    for _ in 0..3 {
        fill(&mut log, 2, 2, T0);
        log.roll().unwrap();
    }
    log.close(T0).unwrap();
    let log = open(dir.path(), &config, true);
    let cache = crate::log::open_files::sealed();
    let sealed: Vec<&Segment> = log
        .segments
        .values()
        .take(log.segment_count() - 1)
        .collect();
    assert!(sealed.len() >= 2, "the log rolled");
    assert!(sealed.iter().all(|s| cache.get(s.id()).is_none()));
    assert!(!log.read(0, 1, u64::MAX).unwrap().is_empty());
    assert!(cache.get(sealed[0].id()).is_some(), "opened by the read");
    assert!(cache.get(sealed[1].id()).is_none(), "not needed by it");
}

/// A read planned while its sealed segment was open keeps working after the cache closed it.
#[test]
fn a_read_planned_before_its_segment_is_evicted_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), &small_config(), false);
    fill(&mut log, 6, 2, T0);
    log.roll().unwrap();
    let expected = log.read(0, usize::MAX, u64::MAX).unwrap();
    let plan = log.plan_read(0, usize::MAX, u64::MAX).unwrap();
    let first = log.segments.values().next().unwrap();
    crate::log::open_files::sealed().remove(first.id());
    assert_eq!(plan.execute().unwrap(), expected);
}
