//! The storage seam: every call by which the log engine changes what is on disk.
//!
//! Writes, fsyncs (of files and directories), renames, truncations (`set_len`), file creations
//! and removals all go through a [`Storage`] handle, one per log, cloned into its segments,
//! indexes, checkpoints and flush plans. In production the handle holds no faults and each call
//! is the plain `std` call after one `None` check: no dynamic dispatch, no lock, nothing measurable
//! next to a system call. A test builds a handle over a [`Faults`] plan that makes the Nth call of
//! one kind fail with EIO, ENOSPC or a short write, on real files in a temporary directory (as
//! redb's `FuzzerBackend` and lsm-tree's fault tests do).
//!
//! Not owned here: reads (`pread`, index maps), which change nothing; what a failure means
//! (the callers roll back, or take the log offline); error wrapping with paths (`error.rs`).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

/// The kinds of call a test can make fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// Writing bytes to a file (a segment, an index, a checkpoint, a cleaned segment).
    Write,
    /// `fdatasync`/`fsync` of a file or a directory.
    Sync,
    /// Renaming a file over another (checkpoints, compaction's swap).
    Rename,
    /// Changing a file's length (rolling back a failed append, truncation, trimming an index).
    SetLen,
    /// Creating a file (a new segment, an index, a checkpoint's temporary file).
    Create,
    /// Removing a file (segments deleted by retention or truncation, leftovers).
    Remove,
}

/// How an injected failure looks to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The device reports an I/O error (EIO): on disk, nothing of the call happened.
    Eio,
    /// The device is full (ENOSPC): nothing of the call happened.
    Enospc,
    /// For a write: the first half of the buffer reaches the file, then the write fails as
    /// `write_all` fails when the kernel stops taking bytes (`WriteZero`). Other calls: EIO.
    ShortWrite,
}

impl Fault {
    fn error(self) -> io::Error {
        match self {
            Fault::Eio => io::Error::from_raw_os_error(rustix::io::Errno::IO.raw_os_error()),
            Fault::Enospc => io::Error::from_raw_os_error(rustix::io::Errno::NOSPC.raw_os_error()),
            Fault::ShortWrite => io::Error::new(io::ErrorKind::WriteZero, "injected short write"),
        }
    }
}

/// A test's plan of failures: which call of which kind fails, and how. It also counts every
/// call and remembers how long each file was at its last successful fsync, so a test can build
/// the image a power cut would leave ([`Faults::crash_image`]).
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    calls: HashMap<Op, u64>,
    /// `(op, call number, fault)`: the call with that number (counted from the first) fails.
    armed: Vec<(Op, u64, Fault)>,
    /// File length at its last successful fsync, by path.
    synced_len: HashMap<PathBuf, u64>,
}

impl Faults {
    /// An empty plan: every call succeeds (and is counted).
    pub fn new() -> Arc<Self> {
        Arc::new(Faults::default())
    }

    /// Makes the `nth` call of `op` from now on fail with `fault` (1 is the next call).
    pub fn fail_nth(&self, op: Op, nth: u64, fault: Fault) {
        let mut s = self.state.lock();
        let at = s.calls.get(&op).copied().unwrap_or(0) + nth.max(1);
        s.armed.push((op, at, fault));
    }

    /// Makes the next call of `op` fail with `fault`.
    pub fn fail_next(&self, op: Op, fault: Fault) {
        self.fail_nth(op, 1, fault);
    }

    /// Calls of `op` made so far, failed ones included.
    pub fn calls(&self, op: Op) -> u64 {
        self.state.lock().calls.get(&op).copied().unwrap_or(0)
    }

    /// Copies the regular files of `dir` into `to` as a power cut would leave them: each segment
    /// (`.log`) file cut to its length at its last successful fsync (empty if never synced).
    /// Other files are copied whole: checkpoints are synced before they are renamed into place,
    /// and recovery rebuilds the indexes of whatever it scans.
    ///
    /// # Errors
    /// I/O errors reading `dir` or writing `to`.
    pub fn crash_image(&self, dir: &Path, to: &Path) -> io::Result<()> {
        std::fs::create_dir_all(to)?;
        let synced = self.state.lock().synced_len.clone();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            let target = to.join(entry.file_name());
            std::fs::copy(entry.path(), &target)?;
            if entry.path().extension().is_some_and(|e| e == "log") {
                let keep = synced.get(&entry.path()).copied().unwrap_or(0);
                let f = OpenOptions::new().write(true).open(&target)?;
                f.set_len(keep.min(f.metadata()?.len()))?;
            }
        }
        Ok(())
    }

    fn synced(&self, path: &Path, len: u64) {
        self.state.lock().synced_len.insert(path.to_path_buf(), len);
    }

    /// Counts a call and says whether it must fail.
    fn check(&self, op: Op) -> Option<Fault> {
        let mut s = self.state.lock();
        let n = s.calls.entry(op).or_insert(0);
        *n += 1;
        let n = *n;
        let hit = s.armed.iter().position(|&(o, at, _)| o == op && at == n)?;
        Some(s.armed.swap_remove(hit).2)
    }
}

/// The handle through which a log changes files; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Storage {
    faults: Option<Arc<Faults>>,
}

impl Storage {
    /// Real calls, as production uses.
    pub fn real() -> Self {
        Storage::default()
    }

    /// Real calls, except those `faults` makes fail.
    pub fn with_faults(faults: Arc<Faults>) -> Self {
        Storage {
            faults: Some(faults),
        }
    }

    #[inline]
    fn fault(&self, op: Op) -> Option<Fault> {
        self.faults.as_ref().and_then(|f| f.check(op))
    }

    #[inline]
    fn plain(&self, op: Op) -> io::Result<()> {
        match self.fault(op) {
            // Only a write can be short; anything else fails whole.
            Some(Fault::ShortWrite) => Err(Fault::Eio.error()),
            Some(f) => Err(f.error()),
            None => Ok(()),
        }
    }

    /// `pwrite`s all of `buf` at `position`.
    ///
    /// # Errors
    /// I/O errors; after an error part of `buf` may be in the file.
    #[inline]
    pub fn write_all_at(&self, file: &File, buf: &[u8], position: u64) -> io::Result<()> {
        if let Some(f) = self.fault(Op::Write) {
            if f == Fault::ShortWrite {
                file.write_all_at(buf.get(..buf.len() / 2).unwrap_or_default(), position)?;
            }
            return Err(f.error());
        }
        file.write_all_at(buf, position)
    }

    /// Asks the kernel to start writing `len` bytes at `position` back to the device, without
    /// waiting (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, RocksDB's `bytes_per_sync`). Linux
    /// starts background writeback only past `dirty_background_ratio` (gigabytes here), so
    /// without this a flush finds every byte since the last one still dirty and waits for all
    /// of it; started early, the device writes while the log appends. A hint: it changes nothing
    /// the log relies on (the fsync of the flush policy still decides durability), so its
    /// failure is ignored and no fault is injected into it.
    pub fn start_writeback(&self, file: &File, position: u64, len: u64) {
        let (Ok(position), Ok(len)) = (i64::try_from(position), i64::try_from(len)) else {
            return;
        };
        #[allow(unsafe_code)]
        // SAFETY: the call reads no memory of ours; the descriptor is borrowed from a live `File`.
        let _ = unsafe {
            libc::sync_file_range(file.as_raw_fd(), position, len, libc::SYNC_FILE_RANGE_WRITE)
        };
    }

    /// Writes all of `buf` at the file's cursor.
    ///
    /// # Errors
    /// As [`Self::write_all_at`].
    pub fn write_all(&self, mut file: &File, buf: &[u8]) -> io::Result<()> {
        if let Some(f) = self.fault(Op::Write) {
            if f == Fault::ShortWrite {
                file.write_all(buf.get(..buf.len() / 2).unwrap_or_default())?;
            }
            return Err(f.error());
        }
        file.write_all(buf)
    }

    /// `fdatasync` of the file at `path`: its data and the metadata needed to read it back.
    ///
    /// # Errors
    /// I/O errors: the state of the file's unsynced pages is then unknown.
    #[inline]
    pub fn sync_data(&self, file: &File, path: &Path) -> io::Result<()> {
        self.plain(Op::Sync)?;
        file.sync_data()?;
        self.note_synced(file, path)
    }

    /// `fsync` of the file at `path`: data and all metadata.
    ///
    /// # Errors
    /// As [`Self::sync_data`].
    pub fn sync_all(&self, file: &File, path: &Path) -> io::Result<()> {
        self.plain(Op::Sync)?;
        file.sync_all()?;
        self.note_synced(file, path)
    }

    fn note_synced(&self, file: &File, path: &Path) -> io::Result<()> {
        if let Some(f) = &self.faults {
            f.synced(path, file.metadata()?.len());
        }
        Ok(())
    }

    /// Fsyncs a directory, making creations, removals and renames in it durable.
    ///
    /// # Errors
    /// I/O errors opening or syncing it.
    pub fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.plain(Op::Sync)?;
        File::open(dir)?.sync_all()
    }

    /// Sets the file's length (truncates or extends with zeros).
    ///
    /// # Errors
    /// I/O errors.
    pub fn set_len(&self, file: &File, len: u64) -> io::Result<()> {
        self.plain(Op::SetLen)?;
        file.set_len(len)
    }

    /// Renames `from` over `to` (atomic within a directory).
    ///
    /// # Errors
    /// I/O errors: `to` is then unchanged.
    pub fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.plain(Op::Rename)?;
        std::fs::rename(from, to)
    }

    /// Opens `path` with `options`, which create it (or truncate it).
    ///
    /// # Errors
    /// I/O errors.
    pub fn create(&self, path: &Path, options: &OpenOptions) -> io::Result<File> {
        self.plain(Op::Create)?;
        options.open(path)
    }

    /// Removes a file.
    ///
    /// # Errors
    /// I/O errors, including `NotFound`.
    pub fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.plain(Op::Remove)?;
        std::fs::remove_file(path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_nth_call_of_its_kind_fails() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Faults::new();
        let storage = Storage::with_faults(Arc::clone(&faults));
        let file = File::create(dir.path().join("f")).unwrap();
        faults.fail_nth(Op::Sync, 2, Fault::Eio);
        let path = dir.path().join("f");
        storage.sync_data(&file, &path).unwrap();
        storage.write_all_at(&file, b"abc", 0).unwrap();
        let e = storage.sync_all(&file, &path).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(rustix::io::Errno::IO.raw_os_error()));
        storage.sync_data(&file, &path).unwrap();
        assert_eq!((faults.calls(Op::Sync), faults.calls(Op::Write)), (3, 1));
    }

    #[test]
    fn a_crash_image_keeps_segment_bytes_up_to_their_last_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Faults::new();
        let storage = Storage::with_faults(Arc::clone(&faults));
        let path = dir.path().join("00000000000000000000.log");
        let file = File::create(&path).unwrap();
        storage.write_all_at(&file, b"durable", 0).unwrap();
        storage.sync_data(&file, &path).unwrap();
        storage.write_all_at(&file, b"+lost", 7).unwrap();
        std::fs::write(dir.path().join("recovery-point"), "0\n7\n").unwrap();
        let image = tempfile::tempdir().unwrap();
        faults.crash_image(dir.path(), image.path()).unwrap();
        let image = image.path();
        assert_eq!(
            std::fs::read(image.join("00000000000000000000.log")).unwrap(),
            b"durable"
        );
        assert_eq!(
            std::fs::read(image.join("recovery-point")).unwrap(),
            b"0\n7\n"
        );
    }

    #[test]
    fn a_short_write_leaves_half_the_buffer_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Faults::new();
        let storage = Storage::with_faults(Arc::clone(&faults));
        let path = dir.path().join("f");
        let file = File::create(&path).unwrap();
        faults.fail_next(Op::Write, Fault::ShortWrite);
        let e = storage.write_all_at(&file, b"abcdef", 0).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WriteZero);
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
    }
}
