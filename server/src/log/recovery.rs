//! Opening a partition directory, and crash recovery.
//!
//! Opening touches only what it must, so a broker with thousands of partitions starts quickly:
//! segments below the recovery point are only listed and stat'ed, never opened or mapped (their
//! indexes are checked, and rebuilt if damaged, when first read). After a clean shutdown the
//! newest segment's indexes are loaded and trusted once they pass a sanity check. Without one,
//! every segment from the one holding the recovery point onwards is scanned: each batch's
//! framing, CRC and offset order are checked, the file is truncated at the first invalid byte (a
//! length pointing past the end is a torn tail, never an allocation), later segments are deleted,
//! and indexes are rebuilt (the active segment's were only in memory). Leftovers of interrupted
//! work (`*.tmp`, `*.cleaned`, indexes without a log) are removed.
//!
//! Not owned here: deciding whether the shutdown was clean (`manager.rs` owns the marker).

use std::collections::BTreeMap;
use std::path::Path;

use tracing::warn;

use super::config::LogConfig;
use super::error::{Error, Result};
use super::segment::{self, Segment};
use super::storage::Storage;

/// Opens every segment in `dir`, recovering as described in the module docs; the newest segment
/// is returned active (unsealed), the others sealed. An empty directory gets one empty segment
/// at `log_start`.
pub(super) fn load_segments(
    dir: &Path,
    config: &LogConfig,
    clean_shutdown: bool,
    recovery_point: u64,
    log_start: u64,
    storage: &Storage,
) -> Result<BTreeMap<u64, Segment>> {
    let index_config = config.index_config();
    let mut bases = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(".tmp") || name.ends_with(".cleaned") {
            remove(storage, &entry.path());
        } else if let Some(base) = segment::parse_file_name(name, "log") {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    // Indexes whose log is gone (a crash in the middle of a segment deletion).
    for ext in ["index", "timeindex"] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if let Some(base) = name.to_str().and_then(|n| segment::parse_file_name(n, ext))
                    && bases.binary_search(&base).is_err()
                {
                    remove(storage, &entry.path());
                }
            }
        }
    }

    // The segment holding the recovery point: recovery starts there. After a clean shutdown
    // only the newest segment is opened (to append to).
    let recover_from = if clean_shutdown {
        bases.last().copied().unwrap_or(0)
    } else {
        bases
            .iter()
            .rev()
            .find(|&&b| b <= recovery_point)
            .copied()
            .unwrap_or(0)
    };
    let mut segments: BTreeMap<u64, Segment> = BTreeMap::new();
    let split = bases.partition_point(|&b| b < recover_from);
    let (untouched, to_open) = bases.split_at(split);
    // Below the recovery point the data is durable and was checked when written: a sealed
    // segment is only stat'ed here, and opened (its indexes checked) when first read.
    for (i, &base) in untouched.iter().enumerate() {
        let path = dir.join(segment::file_name(base, "log"));
        let size = std::fs::metadata(&path)
            .map_err(|e| Error::io(&path, e))?
            .len();
        let next = untouched
            .get(i + 1)
            .or(to_open.first())
            .copied()
            .unwrap_or(base);
        segments.insert(
            base,
            Segment::sealed(dir, base, size, next, index_config, storage),
        );
    }
    let mut expected_next: Option<u64> = None;
    let mut iter = to_open.iter().copied();
    for base in iter.by_ref() {
        // Seal the previous one first, so recovering N segments never holds N of them open.
        if let Some(prev) = segments.values_mut().next_back() {
            prev.seal()?;
        }
        let (mut seg, needs_scan) = if clean_shutdown {
            let mut seg = Segment::open_active(dir, base, index_config, storage)?;
            match seg.load_next_offset() {
                Ok(()) => (seg, false),
                Err(e) => {
                    warn!(path = %seg.log_path().display(), cause = %e, "rebuilding the indexes of a segment");
                    (seg, true)
                }
            }
        } else {
            (Segment::open(dir, base, index_config, storage)?, true)
        };
        if expected_next.is_some_and(|n| base < n) {
            // A segment that overlaps its predecessor cannot be trusted: stop here.
            warn!(path = %seg.log_path().display(), "segment overlaps the previous one; deleting it and all later segments");
            seg.delete_files()?;
            break;
        }
        let mut truncated = false;
        if needs_scan {
            let scan = seg.scan_and_rebuild()?;
            if scan.invalid_bytes > 0 {
                warn!(
                    path = %seg.log_path().display(),
                    position = scan.valid_bytes,
                    bytes = scan.invalid_bytes,
                    reason = scan.reason.as_deref().unwrap_or(""),
                    "recovery truncates the log at the first invalid batch"
                );
                seg.truncate_invalid_tail()?;
                truncated = true;
            }
        }
        expected_next = Some(seg.next_offset());
        segments.insert(base, seg);
        if truncated {
            break;
        }
    }
    // Anything after a truncation point follows a gap: delete it, as Kafka does.
    for base in iter {
        let path = dir.join(segment::file_name(base, "log"));
        warn!(path = %path.display(), "deleting a segment that follows a truncated one");
        for ext in ["log", "index", "timeindex"] {
            remove(storage, &dir.join(segment::file_name(base, ext)));
        }
    }
    if segments.is_empty() {
        let seg = Segment::create(dir, log_start, index_config, storage)?;
        segments.insert(log_start, seg);
    }
    // The newest segment becomes the active one.
    if let Some(last) = segments.values_mut().next_back() {
        last.unseal()?;
    }
    Ok(segments)
}

fn remove(storage: &Storage, path: &Path) {
    if let Err(e) = storage.remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        warn!(path = %path.display(), cause = %e, "could not remove a leftover file");
    }
}
