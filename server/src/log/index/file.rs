//! The file and mapping behind an index: preallocation, append, trim and flush.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapMut};

use crate::log::error::{Error, Result};

/// The mapping of an index file: writable while the segment is active, read-only once sealed.
#[derive(Debug)]
enum Map {
    /// Nothing mapped: a sealed index with no entries (a zero-length map is not allowed).
    Empty,
    Active(MmapMut),
    Sealed(Mmap),
}

/// Entries of `ENTRY` bytes in a memory-mapped file.
#[derive(Debug)]
pub(super) struct IndexFile<const ENTRY: usize> {
    path: PathBuf,
    file: File,
    map: Map,
    entries: usize,
}

impl<const ENTRY: usize> IndexFile<ENTRY> {
    /// Opens (or creates) the index for an active segment, keeping the first `entries` entries
    /// already in the file and preallocating room for `max_bytes`.
    pub(super) fn open_active(path: &Path, max_bytes: usize, entries: usize) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        // Never more than the kept entries need: an index reopened with every preallocated slot
        // counted (after a crash) must not grow each time. A full index makes the log roll.
        let capacity = (max_bytes / ENTRY).max(entries).max(1) * ENTRY;
        file.set_len(capacity as u64)
            .map_err(|e| Error::io(path, e))?;
        match rustix::fs::fallocate(
            &file,
            rustix::fs::FallocateFlags::empty(),
            0,
            capacity as u64,
        ) {
            Ok(()) => {}
            Err(rustix::io::Errno::NOSPC) => {
                return Err(Error::DiskFull { path: path.into() });
            }
            // Some file systems cannot preallocate; the sparse file still works there.
            Err(rustix::io::Errno::OPNOTSUPP) => {}
            Err(e) => return Err(Error::io(path, e.into())),
        }
        // SAFETY: the file is owned by this struct for the map's whole life and only this process
        // writes it; its length was just set and is only changed again after the map is dropped.
        let map = unsafe { MmapMut::map_mut(&file) }.map_err(|e| Error::io(path, e))?;
        Ok(IndexFile {
            path: path.into(),
            file,
            map: Map::Active(map),
            entries,
        })
    }

    /// Opens the trimmed index of a sealed segment; every whole entry in the file counts.
    pub(super) fn open_sealed(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len() as usize;
        let mut index = IndexFile {
            path: path.into(),
            file,
            map: Map::Empty,
            entries: len / ENTRY,
        };
        index.map_sealed()?;
        Ok(index)
    }

    fn map_sealed(&mut self) -> Result<()> {
        self.map = if self.entries == 0 {
            Map::Empty
        } else {
            // SAFETY: as in `open_active`; a sealed index file is never written again, only
            // replaced as a whole by rename, which leaves this mapping intact.
            Map::Sealed(unsafe { Mmap::map(&self.file) }.map_err(|e| Error::io(&self.path, e))?)
        };
        Ok(())
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn entries(&self) -> usize {
        self.entries
    }

    pub(super) fn is_full(&self) -> bool {
        match &self.map {
            Map::Active(m) => (self.entries + 1) * ENTRY > m.len(),
            Map::Empty | Map::Sealed(_) => true,
        }
    }

    /// The bytes of entry `i`.
    pub(super) fn entry(&self, i: usize) -> Option<&[u8]> {
        if i >= self.entries {
            return None;
        }
        let bytes: &[u8] = match &self.map {
            Map::Empty => return None,
            Map::Active(m) => m,
            Map::Sealed(m) => m,
        };
        bytes.get(i * ENTRY..(i + 1) * ENTRY)
    }

    /// Appends an entry; a full or sealed index ignores it (the segment rolls on `is_full`).
    pub(super) fn push(&mut self, entry: [u8; ENTRY]) {
        if let Map::Active(m) = &mut self.map
            && let Some(slot) = m.get_mut(self.entries * ENTRY..(self.entries + 1) * ENTRY)
        {
            slot.copy_from_slice(&entry);
            self.entries += 1;
        }
    }

    /// Drops every entry from `keep` on.
    pub(super) fn truncate(&mut self, keep: usize) {
        if keep < self.entries {
            if let Map::Active(m) = &mut self.map
                && let Some(tail) = m.get_mut(keep * ENTRY..self.entries * ENTRY)
            {
                tail.fill(0);
            }
            self.entries = keep;
        }
    }

    /// Writes mapped changes back to the file and fsyncs it.
    pub(super) fn flush(&self) -> Result<()> {
        if let Map::Active(m) = &self.map {
            m.flush().map_err(|e| Error::io(&self.path, e))?;
        }
        Ok(())
    }

    /// Trims the file to its entries and remaps it read-only.
    pub(super) fn seal(&mut self) -> Result<()> {
        self.flush()?;
        self.map = Map::Empty;
        self.file
            .set_len((self.entries * ENTRY) as u64)
            .map_err(|e| Error::io(&self.path, e))?;
        self.file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        self.map_sealed()
    }
}
