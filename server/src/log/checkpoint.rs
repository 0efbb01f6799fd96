//! Small checkpoint files: one number that must survive a crash intact or not at all.
//!
//! Written as tmp file + fsync + rename + directory fsync, so a reader sees either the old or the
//! new value. The format is text, `0\n<value>\n` (version 0), readable with `cat`. Every call
//! that changes a file goes through the log's [`Storage`], so tests can fail any step.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::error::{Error, Result};
use super::storage::Storage;

/// Writes `value` to `path` atomically and durably.
///
/// # Errors
/// I/O errors, [`Error::DiskFull`].
pub fn write(storage: &Storage, path: &Path, value: u64) -> Result<()> {
    write_bytes_with(storage, path, format!("0\n{value}\n").as_bytes())
}

/// Replaces `path` with `bytes` atomically and durably, with real file calls.
///
/// # Errors
/// I/O errors, [`Error::DiskFull`].
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_bytes_with(&Storage::real(), path, bytes)
}

/// [`write_bytes`] through `storage`.
///
/// # Errors
/// I/O errors, [`Error::DiskFull`].
pub fn write_bytes_with(storage: &Storage, path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let io = |p: &Path, e: std::io::Error| {
        if e.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()) {
            Error::DiskFull { path: p.into() }
        } else {
            Error::io(p, e)
        }
    };
    let dir_path = path.parent().unwrap_or(Path::new("."));
    let result = (|| {
        // Everything that can run out of descriptors happens before the rename, so a failure
        // after it can only be the directory fsync: an error here means the old file stands
        // unless the rename itself happened (see `Broker`'s commit, which checks).
        let dir = File::open(dir_path).map_err(|e| io(dir_path, e))?;
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        let f = storage.create(&tmp, &options).map_err(|e| io(&tmp, e))?;
        storage.write_all(&f, bytes).map_err(|e| io(&tmp, e))?;
        storage.sync_all(&f, &tmp).map_err(|e| io(&tmp, e))?;
        storage.rename(&tmp, path).map_err(|e| io(path, e))?;
        storage
            .sync_all(&dir, dir_path)
            .map_err(|e| Error::io(dir_path, e))
    })();
    if result.is_err() {
        let _ = storage.remove_file(&tmp);
    }
    result
}

/// Fsyncs a directory, making renames and creations in it durable.
///
/// # Errors
/// I/O errors.
pub fn sync_dir(storage: &Storage, dir: &Path) -> Result<()> {
    storage.sync_dir(dir).map_err(|e| Error::io(dir, e))
}

/// Reads a checkpoint; a missing or unreadable file gives `None` (start from the safe default).
pub fn read(path: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    (lines.next()? == "0").then_some(())?;
    lines.next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trips_and_rejects_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("recovery-point");
        assert_eq!(read(&p), None);
        write(&Storage::real(), &p, 42).expect("write");
        assert_eq!(read(&p), Some(42));
        std::fs::write(&p, "7\nxx\n").expect("write");
        assert_eq!(read(&p), None);
        assert!(!p.with_extension("tmp").exists());
    }
}
