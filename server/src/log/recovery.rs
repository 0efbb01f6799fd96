//! Opening a partition directory, and crash recovery.
//!
//! After a clean shutdown every segment's indexes are trusted once they pass a sanity check.
//! Without one, every segment from the one holding the recovery point onwards is scanned: each
//! batch's framing, CRC and offset order are checked, the file is truncated at the first invalid
//! byte (a length pointing past the end is a torn tail, never an allocation), later segments are
//! deleted, and indexes are rebuilt. A damaged or missing index of an older segment is rebuilt
//! too. Leftovers of interrupted work (`*.tmp`, `*.cleaned`, indexes without a log) are removed.
//!
//! Not owned here: deciding whether the shutdown was clean (`manager.rs` owns the marker).

use std::collections::BTreeMap;
use std::path::Path;

use tracing::warn;

use super::config::LogConfig;
use super::error::{Error, Result};
use super::segment::{self, Segment};

/// Opens every segment in `dir`, recovering as described in the module docs; the newest segment
/// is returned active (unsealed), the others sealed. An empty directory gets one empty segment
/// at `log_start`.
pub(super) fn load_segments(
    dir: &Path,
    config: &LogConfig,
    clean_shutdown: bool,
    recovery_point: u64,
    log_start: u64,
) -> Result<BTreeMap<u64, Segment>> {
    let index_config = config.index_config();
    let mut bases = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(".tmp") || name.ends_with(".cleaned") {
            remove(&entry.path());
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
                    remove(&entry.path());
                }
            }
        }
    }

    // The segment holding the recovery point: recovery starts there.
    let recover_from = bases
        .iter()
        .rev()
        .find(|&&b| b <= recovery_point)
        .copied()
        .unwrap_or(0);
    let mut segments: BTreeMap<u64, Segment> = BTreeMap::new();
    let mut expected_next: Option<u64> = None;
    let mut iter = bases.into_iter();
    for base in iter.by_ref() {
        // A scan unseals its segment, preallocating both indexes (`segment.index.bytes` each):
        // seal the previous one first, so recovering N segments never reserves N times that.
        if let Some(prev) = segments.values_mut().next_back() {
            prev.seal()?;
        }
        let mut seg = Segment::open(dir, base, index_config)?;
        if expected_next.is_some_and(|n| base < n) {
            // A segment that overlaps its predecessor cannot be trusted: stop here.
            warn!(path = %seg.log_path().display(), "segment overlaps the previous one; deleting it and all later segments");
            seg.delete_files()?;
            break;
        }
        let must_scan = !clean_shutdown && base >= recover_from;
        let needs_scan = must_scan
            || match seg.load_next_offset() {
                Ok(()) => false,
                Err(e) => {
                    warn!(path = %seg.log_path().display(), cause = %e, "rebuilding the indexes of a segment");
                    true
                }
            };
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
            remove(&dir.join(segment::file_name(base, ext)));
        }
    }
    if segments.is_empty() {
        let seg = Segment::create(dir, log_start, index_config)?;
        segments.insert(log_start, seg);
    }
    // Seal everything but the newest, which becomes the active segment.
    let last = segments.keys().next_back().copied();
    for (base, seg) in &mut segments {
        if Some(*base) == last {
            seg.unseal()?;
        } else {
            seg.seal()?;
        }
    }
    Ok(segments)
}

fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        warn!(path = %path.display(), cause = %e, "could not remove a leftover file");
    }
}
