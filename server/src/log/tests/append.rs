//! Appends and rolls: batches encoded here are stored as checked ones are; a failed roll leaves
//! the old segment active; descriptor exhaustion is retriable.

use super::*;
use crate::log::{EncodedBatch, TimestampType};

/// The produce path appends its own batches without a CRC pass; the log must end up byte for
/// byte as if they had come through the checking append, log-append time included.
#[test]
fn an_encoded_batch_is_stored_as_the_checking_append_stores_it() {
    for timestamp_type in [TimestampType::CreateTime, TimestampType::LogAppendTime] {
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let config = LogConfig {
                timestamp_type,
                ..small_config()
            };
            let (checked, trusted) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            let mut a = open(checked.path(), &config, false);
            let mut b = open(trusted.path(), &config, false);
            for n in 1..6 {
                let recs: Vec<NewRecord> = (0..n)
                    .map(|i| rec(Some(&format!("k{i}")), Some("v"), T0 + i))
                    .collect();
                let max = config.max_batch_bytes();
                let encoded = EncodedBatch::encode(&recs, codec, T0, max).unwrap();
                let via_check = a.append(encoded.clone().into_bytes(), 3, T0 + n).unwrap();
                let via_encoder = b.append_encoded(encoded, 3, T0 + n).unwrap();
                assert_eq!(via_check, via_encoder, "{codec:?} {timestamp_type:?}");
            }
            assert_eq!(read_all(&a), read_all(&b), "{codec:?} {timestamp_type:?}");
            check_indexes(&b);
            a.close(T0).unwrap();
            b.close(T0).unwrap();
            assert_eq!(file_sizes(checked.path()), file_sizes(trusted.path()));
            let name = segment::file_name(0, "log");
            assert_eq!(
                std::fs::read(checked.path().join(&name)).unwrap(),
                std::fs::read(trusted.path().join(&name)).unwrap()
            );
        }
    }
}

/// A batch encoded for a larger `max.message.bytes` than the topic has now is refused.
#[test]
fn an_encoded_batch_over_the_current_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        max_message_bytes: 100,
        ..small_config()
    };
    let mut log = open(dir.path(), &config, false);
    let encoded =
        EncodedBatch::encode(&[value(&"x".repeat(200))], Compression::None, T0, 1 << 20).unwrap();
    let err = log.append_encoded(encoded, 0, T0).unwrap_err();
    assert!(matches!(err, Error::BatchTooLarge { .. }), "{err}");
    assert_eq!(log.log_end_offset(), 0);
}

#[test]
fn a_failed_roll_leaves_the_old_segment_active() {
    // Permissions mean nothing to root, so a directory where the new segment's file must go
    // makes creating it fail.
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    fill(&mut log, 2, 3, T0);
    let blocker = dir.path().join(segment::file_name(6, "log"));
    std::fs::create_dir(&blocker).unwrap();
    assert!(log.roll().is_err());
    assert_eq!(log.segment_bases(), [0]);
    assert!(!log.is_offline());
    // An append that must roll fails without writing anything.
    log.set_config(LogConfig {
        segment_bytes: 1,
        ..config.clone()
    });
    assert!(
        log.append(
            batch::encode_batch(&[value("x")], Compression::None, T0, 1 << 20).unwrap(),
            0,
            T0
        )
        .is_err()
    );
    assert_eq!(log.log_end_offset(), 6);
    assert_eq!(offsets(&read_records(&log)), (0..6).collect::<Vec<_>>());
    assert!(!dir.path().join(segment::file_name(6, "index")).exists());
    // The old segment still takes appends.
    log.set_config(config.clone());
    assert_eq!(
        append(&mut log, &[value("y")], Compression::None, T0).base_offset,
        6
    );
    check_indexes(&log);
    std::fs::remove_dir(&blocker).unwrap();
    log.roll().unwrap();
    assert_eq!(log.segment_bases(), [0, 7]);
    assert_eq!(
        append(&mut log, &[value("z")], Compression::None, T0).base_offset,
        7
    );
    drop(log);
    let log = open(dir.path(), &config, false);
    assert_eq!(offsets(&read_records(&log)), (0..8).collect::<Vec<_>>());
}

/// Running out of descriptors is retriable and leaves the log usable.
#[test]
fn out_of_descriptors_is_a_retriable_error() {
    for errno in [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE] {
        let e = Error::io(
            "x.log",
            std::io::Error::from_raw_os_error(errno.raw_os_error()),
        );
        assert!(matches!(e, Error::TooManyOpenFiles { .. }), "{e}");
        assert!(e.is_retriable());
    }
    let e = Error::io("x.log", std::io::Error::from_raw_os_error(5));
    assert!(!e.is_retriable());
}
