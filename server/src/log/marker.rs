//! The clean-shutdown marker of a data directory.
//!
//! Written (and fsynced) only after every log closed cleanly; removed at start-up before any
//! write. Its absence at start-up means the last run crashed, so logs recover from their
//! recovery points.

use std::path::Path;

use super::checkpoint;
use super::error::{Error, Result};
use super::storage::Storage;

const MARKER: &str = ".clean_shutdown";

/// Whether the last run shut down cleanly; removes the marker so a crash from now on is noticed.
///
/// # Errors
/// I/O errors removing the marker.
pub fn take(data_dir: &Path) -> Result<bool> {
    let path = data_dir.join(MARKER);
    match std::fs::remove_file(&path) {
        Ok(()) => {
            checkpoint::sync_dir(&Storage::real(), data_dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Records a clean shutdown; call after every log has been closed.
///
/// # Errors
/// I/O errors.
pub fn write(data_dir: &Path) -> Result<()> {
    checkpoint::write_bytes(&data_dir.join(MARKER), b"clean\n")
}
