//! Faults injected through the storage seam (`log/storage.rs`) on real files: a failed fsync,
//! failed and short writes, failed checkpoint writes; what the log (and the partition around it)
//! shows afterwards, and what a restart or a power cut leaves.

use std::sync::Arc;

use super::*;
use crate::broker::Partition;
use crate::log::checkpoint;
use crate::log::storage::{Fault, Faults, Op, Storage};

fn open_faulty(dir: &Path, config: &LogConfig) -> (Log, Arc<Faults>) {
    let faults = Faults::new();
    let storage = Storage::with_faults(Arc::clone(&faults));
    let log = Log::open_with_storage(dir, config.clone(), false, T0, storage).unwrap();
    (log, faults)
}

fn values(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

/// One fsync per append, so an acknowledged record is a durable one.
fn durable_config() -> LogConfig {
    LogConfig {
        flush_messages: 1,
        ..small_config()
    }
}

/// Produces one record through the partition's group-commit appender, as the gateway does.
async fn produce(p: &Arc<Partition>, v: &str) -> Result<u64, Error> {
    let reply = p
        .enqueue(vec![crate::broker::appender::Sized::new(value(v))])
        .await?;
    let mut results = reply.await.expect("the appender answers");
    results.pop().expect("one result per record")
}

#[tokio::test]
async fn a_failed_fsync_takes_the_partition_offline_and_keeps_acknowledged_data() {
    let dir = tempfile::tempdir().unwrap();
    let config = durable_config();
    let (log, faults) = open_faulty(dir.path(), &config);
    let p = Arc::new(Partition::new("t".into(), 0, log, Default::default()));
    for (i, v) in ["a", "b", "c"].into_iter().enumerate() {
        assert_eq!(produce(&p, v).await.unwrap(), i as u64);
    }

    faults.fail_next(Op::Sync, Fault::Eio);
    let err = produce(&p, "unacknowledged").await.unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");

    // From now on appends are refused before anything is written, with an error the gateway
    // answers as a server error (the client may retry elsewhere or later), never a 4xx.
    let writes = faults.calls(Op::Write);
    let err = produce(&p, "refused").await.unwrap_err();
    assert!(matches!(err, Error::Offline { .. }), "{err}");
    assert!(crate::gateway::errors::log_status(&err).0.is_server_error());
    assert_eq!(
        faults.calls(Op::Write),
        writes,
        "nothing written once offline"
    );

    // Acknowledged records stay readable.
    let mut read = Vec::new();
    while read.len() < 3 {
        let fetched = p.read(read.len() as u64, 1 << 20).unwrap();
        assert!(!fetched.records.is_empty());
        read.extend(fetched.records);
    }
    assert_eq!(values(&read)[..3], ["a", "b", "c"]);

    // A power cut now keeps what was fsynced: exactly the acknowledged prefix, after which the
    // next append takes the next offset.
    let image = tempfile::tempdir().unwrap();
    faults.crash_image(dir.path(), image.path()).unwrap();
    drop(p);
    let mut log = open(image.path(), &config, false);
    assert_eq!(values(&read_records(&log)), ["a", "b", "c"]);
    assert_eq!(
        append(&mut log, &[value("d")], Compression::None, T0).base_offset,
        3
    );
    check_indexes(&log);

    // A restart of the process alone (the page cache survived) keeps at least that prefix.
    let log = open(dir.path(), &config, false);
    assert_eq!(values(&read_records(&log))[..3], ["a", "b", "c"]);
}

/// A write that fails part-way (short, EIO or ENOSPC) is cut back out of the file: no reader and
/// no recovery sees part of a batch, and the next append takes the offsets it would have had.
#[test]
fn a_failed_or_short_write_leaves_no_partial_batch_and_the_next_append_follows() {
    for fault in [Fault::ShortWrite, Fault::Eio, Fault::Enospc] {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config();
        let (mut log, faults) = open_faulty(dir.path(), &config);
        fill(&mut log, 2, 3, T0);
        let segment_path = dir.path().join(segment::file_name(0, "log"));
        let size = std::fs::metadata(&segment_path).unwrap().len();

        faults.fail_next(Op::Write, fault);
        let bytes = batch::encode_batch(&[value("lost")], Compression::None, T0, 1 << 20).unwrap();
        let err = log.append(bytes, 0, T0).unwrap_err();
        if fault == Fault::Enospc {
            assert!(matches!(err, Error::DiskFull { .. }), "{err}");
            assert!(err.is_retriable());
        } else {
            assert!(matches!(err, Error::Io { .. }), "{fault:?}: {err}");
        }
        assert!(!log.is_offline(), "{fault:?}: the rollback succeeded");
        assert_eq!(log.log_end_offset(), 6);
        assert_eq!(
            std::fs::metadata(&segment_path).unwrap().len(),
            size,
            "{fault:?}: the partial batch is cut"
        );
        assert_eq!(offsets(&read_records(&log)), (0..6).collect::<Vec<_>>());

        assert_eq!(
            append(&mut log, &[value("next")], Compression::None, T0).base_offset,
            6
        );
        check_indexes(&log);
        drop(log);
        let log = open(dir.path(), &config, false);
        let records = read_records(&log);
        assert_eq!(offsets(&records), (0..7).collect::<Vec<_>>());
        assert_eq!(values(&records).last().map(String::as_str), Some("next"));
    }
}

/// When the partial batch cannot be cut out either, the log no longer knows its own tail: it
/// refuses writes, keeps serving what it had, and the restart's recovery cuts the torn batch.
#[test]
fn a_short_write_that_cannot_be_rolled_back_takes_the_log_offline_until_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let (mut log, faults) = open_faulty(dir.path(), &config);
    fill(&mut log, 2, 3, T0);
    let segment_path = dir.path().join(segment::file_name(0, "log"));
    let size = std::fs::metadata(&segment_path).unwrap().len();

    faults.fail_next(Op::Write, Fault::ShortWrite);
    faults.fail_next(Op::SetLen, Fault::Eio);
    let bytes = batch::encode_batch(&[value("torn")], Compression::None, T0, 1 << 20).unwrap();
    let err = log.append(bytes, 0, T0).unwrap_err();
    assert!(matches!(err, Error::Offline { .. }), "{err}");
    assert!(log.is_offline());
    assert!(std::fs::metadata(&segment_path).unwrap().len() > size);
    assert_eq!(offsets(&read_records(&log)), (0..6).collect::<Vec<_>>());
    let bytes = batch::encode_batch(&[value("refused")], Compression::None, T0, 1 << 20).unwrap();
    assert!(matches!(
        log.append(bytes, 0, T0).unwrap_err(),
        Error::Offline { .. }
    ));

    drop(log);
    let mut log = open(dir.path(), &config, false);
    assert_eq!(offsets(&read_records(&log)), (0..6).collect::<Vec<_>>());
    assert_eq!(std::fs::metadata(&segment_path).unwrap().len(), size);
    assert_eq!(
        append(&mut log, &[value("next")], Compression::None, T0).base_offset,
        6
    );
}

/// A checkpoint is a temporary file, fsynced, renamed over the old one: whichever step fails,
/// the old checkpoint stands whole, no temporary file is left, the log's own offsets do not move
/// ahead of their checkpoint, and a restart reads the old value.
#[test]
fn a_failed_checkpoint_rename_leaves_the_previous_checkpoint_valid() {
    let steps = [
        (Op::Rename, Fault::Eio),
        (Op::Create, Fault::Enospc),
        (Op::Write, Fault::ShortWrite),
        (Op::Sync, Fault::Eio),
    ];
    for (op, fault) in steps {
        let dir = tempfile::tempdir().unwrap();
        let config = small_config();
        let (mut log, faults) = open_faulty(dir.path(), &config);
        let recovery_point = dir.path().join("recovery-point");
        let log_start = dir.path().join("log-start-offset");
        fill(&mut log, 2, 3, T0);
        log.flush(T0).unwrap();
        log.checkpoint().unwrap();
        assert_eq!(checkpoint::read(&recovery_point), Some(6));

        fill(&mut log, 2, 3, T0);
        log.flush(T0).unwrap();
        faults.fail_next(op, fault);
        assert!(log.checkpoint().is_err(), "{op:?}");
        assert_eq!(checkpoint::read(&recovery_point), Some(6), "{op:?}");
        assert!(!recovery_point.with_extension("tmp").exists(), "{op:?}");

        faults.fail_next(op, fault);
        assert!(log.advance_log_start_offset(3).is_err(), "{op:?}");
        assert_eq!(checkpoint::read(&log_start), Some(0), "{op:?}");
        assert_eq!(
            log.log_start_offset(),
            0,
            "{op:?}: not ahead of its checkpoint"
        );

        drop(log);
        let log = open(dir.path(), &config, false);
        assert_eq!(log.log_start_offset(), 0, "{op:?}");
        assert_eq!(offsets(&read_records(&log)), (0..12).collect::<Vec<_>>());
    }
}
