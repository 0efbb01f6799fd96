//! The storage behind an index: entries in memory while the segment is active, a read-only map of
//! the trimmed file once it is sealed.
//!
//! The active segment's entries live in a `Vec` (at most `segment.index.bytes`, usually a few
//! entries) and reach the file with ordinary writes when the segment is sealed or closed. No
//! writable map exists, so nothing is preallocated (an empty partition's indexes take no disk
//! blocks) and a full disk fails that write with ENOSPC instead of raising SIGBUS inside a map.
//! A crash loses nothing the log does not hold: recovery rebuilds the active segment's indexes
//! from its log. Mapping a sealed index keeps no descriptor open.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::log::error::{Error, Result};
use crate::log::storage::Storage;

#[derive(Debug)]
enum Data {
    /// An active index: `bytes` are the entries, of which the first `written` bytes are in the
    /// file (and the file is no longer than that unless `dirty`).
    Memory {
        bytes: Vec<u8>,
        max_entries: usize,
        written: usize,
        dirty: bool,
    },
    /// A sealed index with no entries (a zero-length map is not allowed).
    Empty,
    Mapped(Mmap),
}

/// Entries of `ENTRY` bytes.
#[derive(Debug)]
pub(super) struct IndexFile<const ENTRY: usize> {
    path: PathBuf,
    data: Data,
    entries: usize,
}

impl<const ENTRY: usize> IndexFile<ENTRY> {
    /// Loads the index of an active segment into memory, keeping the first `entries` entries of
    /// the file (a missing file has none); it may hold `max_bytes` of entries (and never fewer
    /// than it keeps, so a reopened index does not lose any). A full index makes the log roll.
    pub(super) fn open_active(path: &Path, max_bytes: usize, entries: usize) -> Result<Self> {
        let mut bytes = Vec::new();
        let mut file_len = 0;
        match File::open(path) {
            Ok(file) => {
                file_len = file.metadata().map_err(|e| Error::io(path, e))?.len() as usize;
                let keep = file_len.min(entries.saturating_mul(ENTRY)) / ENTRY * ENTRY;
                bytes.resize(keep, 0);
                file.read_exact_at(&mut bytes, 0)
                    .map_err(|e| Error::io(path, e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
        let entries = bytes.len() / ENTRY;
        Ok(IndexFile {
            path: path.into(),
            data: Data::Memory {
                max_entries: (max_bytes / ENTRY).max(entries).max(1),
                written: bytes.len(),
                dirty: file_len != bytes.len(),
                bytes,
            },
            entries,
        })
    }

    /// Maps the trimmed index of a sealed segment read-only; every whole entry in the file counts
    /// and a missing file has none.
    pub(super) fn open_sealed(path: &Path) -> Result<Self> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(IndexFile {
                    path: path.into(),
                    data: Data::Empty,
                    entries: 0,
                });
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len() as usize;
        let entries = len / ENTRY;
        let data = if entries == 0 {
            Data::Empty
        } else {
            // SAFETY: only this process writes index files, and a sealed index file is never
            // written again, only replaced as a whole (remove or rename), which leaves this
            // mapping intact. The descriptor may close: the map keeps the file alive.
            Data::Mapped(unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?)
        };
        Ok(IndexFile {
            path: path.into(),
            data,
            entries,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn entries(&self) -> usize {
        self.entries
    }

    pub(super) fn is_full(&self) -> bool {
        match &self.data {
            Data::Memory { max_entries, .. } => self.entries >= *max_entries,
            Data::Empty | Data::Mapped(_) => true,
        }
    }

    /// The bytes of entry `i`.
    pub(super) fn entry(&self, i: usize) -> Option<&[u8]> {
        if i >= self.entries {
            return None;
        }
        let bytes: &[u8] = match &self.data {
            Data::Empty => return None,
            Data::Memory { bytes, .. } => bytes,
            Data::Mapped(m) => m,
        };
        bytes.get(i * ENTRY..(i + 1) * ENTRY)
    }

    /// Appends an entry; a full or sealed index ignores it (the segment rolls on `is_full`).
    pub(super) fn push(&mut self, entry: [u8; ENTRY]) {
        if let Data::Memory {
            bytes, max_entries, ..
        } = &mut self.data
            && self.entries < *max_entries
        {
            bytes.extend_from_slice(&entry);
            self.entries += 1;
        }
    }

    /// Drops every entry from `keep` on.
    pub(super) fn truncate(&mut self, keep: usize) {
        if keep < self.entries
            && let Data::Memory {
                bytes,
                written,
                dirty,
                ..
            } = &mut self.data
        {
            bytes.truncate(keep * ENTRY);
            if *written > bytes.len() {
                *written = bytes.len();
                *dirty = true;
            }
            self.entries = keep;
        }
    }

    /// Writes the entries not yet in the file, trims it to them and fsyncs it.
    ///
    /// # Errors
    /// I/O errors; [`Error::DiskFull`] when the device is full (the entries stay in memory).
    pub(super) fn flush(&mut self, storage: &Storage) -> Result<()> {
        let Data::Memory {
            bytes,
            written,
            dirty,
            ..
        } = &mut self.data
        else {
            return Ok(());
        };
        if *written == bytes.len() && !*dirty {
            return Ok(());
        }
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(false);
        let file = storage
            .create(&self.path, &options)
            .map_err(|e| Error::io(&self.path, e))?;
        let tail = bytes.get(*written..).unwrap_or_default();
        storage
            .write_all_at(&file, tail, *written as u64)
            .map_err(|e| Error::write(&self.path, e))?;
        storage
            .set_len(&file, bytes.len() as u64)
            .map_err(|e| Error::write(&self.path, e))?;
        storage
            .sync_all(&file, &self.path)
            .map_err(|e| Error::write(&self.path, e))?;
        *written = bytes.len();
        *dirty = false;
        Ok(())
    }

    /// Writes the file (trimmed to its entries) and maps it read-only.
    ///
    /// # Errors
    /// As [`Self::flush`], and mapping errors.
    pub(super) fn seal(&mut self, storage: &Storage) -> Result<()> {
        self.flush(storage)?;
        *self = Self::open_sealed(&self.path)?;
        Ok(())
    }
}
