//! Appends and rolls: a failed roll leaves the old segment active; descriptor exhaustion is
//! retriable.

use super::*;

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
