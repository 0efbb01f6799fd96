//! A sealed segment's open files: loading them on first use, checking its indexes against the
//! log (rebuilding them when they disagree), and opening files when descriptors run short.
//!
//! Not owned here: keeping them open or closing them (`open_files.rs`), lookups (`view.rs`).

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tracing::warn;

use super::super::error::{Error, Result};
use super::super::index::{OffsetIndex, TimeIndex};
use super::super::open_files;
use super::{Segment, State};

/// The open files of a sealed segment, shared through the cache.
#[derive(Debug)]
pub struct SealedFiles {
    pub(super) file: Arc<File>,
    pub(super) offset_index: OffsetIndex,
    pub(super) time_index: TimeIndex,
}

/// Opens a file, giving the least recently used sealed segments' descriptors back once if the
/// process has none left.
pub(super) fn open_with_retry(
    path: &Path,
    mut open: impl FnMut() -> std::io::Result<File>,
) -> Result<File> {
    match open().map_err(|e| Error::io(path, e)) {
        Err(Error::TooManyOpenFiles { .. }) if open_files::sealed().shed_half() > 0 => {
            warn!(path = %path.display(), "out of file descriptors; closed idle segments");
            open().map_err(|e| Error::io(path, e))
        }
        other => other,
    }
}

impl Segment {
    /// The open files of a sealed segment, from the cache or opened (and checked) now.
    pub(super) fn sealed_files(&self) -> Result<Arc<SealedFiles>> {
        let cache = open_files::sealed();
        if let Some(f) = cache.get(self.id) {
            return Ok(f);
        }
        let files = Arc::new(self.load_sealed()?);
        cache.insert(self.id, Arc::clone(&files));
        Ok(files)
    }

    fn load_sealed(&self) -> Result<SealedFiles> {
        let mut read = OpenOptions::new();
        read.read(true);
        let open = || -> Result<SealedFiles> {
            Ok(SealedFiles {
                file: Arc::new(open_with_retry(&self.log_path, || {
                    read.open(&self.log_path)
                })?),
                offset_index: OffsetIndex::open_sealed(
                    &self.index_path("index"),
                    self.base_offset,
                )?,
                time_index: TimeIndex::open_sealed(
                    &self.index_path("timeindex"),
                    self.base_offset,
                )?,
            })
        };
        let files = open()?;
        let checked = match &self.state {
            State::Sealed {
                indexes_checked, ..
            } => indexes_checked,
            State::Active(_) => return Ok(files),
        };
        if checked.load(Ordering::Relaxed) {
            return Ok(files);
        }
        let view = self.view_of(&files.file, &files.offset_index, &files.time_index);
        let Err(e) = view.check_indexes() else {
            checked.store(true, Ordering::Relaxed);
            return Ok(files);
        };
        warn!(path = %self.log_path.display(), cause = %e, "rebuilding the indexes of a segment");
        drop(files);
        let dir = self.log_path.parent().unwrap_or(Path::new("."));
        let mut rebuilt = Segment::open(dir, self.base_offset, self.config, &self.storage)?;
        let scan = rebuilt.scan_and_rebuild()?;
        if let Some(reason) = scan.reason {
            // Below the recovery point nothing is truncated; reads stop at the damage.
            warn!(path = %self.log_path.display(), position = scan.valid_bytes, reason, "sealed segment holds an invalid batch");
        }
        rebuilt.seal()?;
        checked.store(true, Ordering::Relaxed);
        open()
    }
}
