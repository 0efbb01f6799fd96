//! Small files replaced atomically: the vote, the committed and last-purged log ids, the
//! snapshot.
//!
//! A write goes to `<name>.tmp`, is fsynced, renamed over `<name>`, and the directory is
//! fsynced, so after `kill -9` or a power cut the file holds either the old or the new value,
//! never a mix. The content is framed `[crc32: u32 LE][len: u32 LE][postcard value]`, so a read
//! can tell a damaged file from a value and never trusts bytes it did not check.
//!
//! Not owned here: the Raft log, which is appended to rather than replaced (log.rs).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{CorruptReason, Error};

/// Bytes before the value: CRC and length.
const HEADER_LEN: usize = 8;

/// Writes `value` to `dir/name` atomically and durably.
///
/// # Errors
///
/// `Error::Io` when a write, fsync or rename fails; the previous value is then still in place.
pub(crate) fn write<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), Error> {
    let payload = postcard::to_stdvec(value).map_err(|source| Error::Encode { source })?;
    let len = u32::try_from(payload.len()).map_err(|_| Error::TooLarge {
        len: payload.len() as u64,
    })?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes.extend_from_slice(&payload);

    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| Error::io(&tmp, e))?;
    file.write_all(&bytes).map_err(|e| Error::io(&tmp, e))?;
    file.sync_data().map_err(|e| Error::io(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    sync_dir(dir)
}

/// Reads the value of `dir/name`; `None` when the file does not exist.
///
/// # Errors
///
/// `Error::Io` when the file cannot be read; `Error::Corrupt` when its frame or CRC does not
/// check out or the value does not decode.
pub(crate) fn read<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<Option<T>, Error> {
    let path = dir.join(name);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let corrupt = |reason| Error::Corrupt {
        path: path.clone(),
        position: 0,
        reason,
    };
    let (header, payload) = bytes
        .split_first_chunk::<HEADER_LEN>()
        .ok_or_else(|| corrupt(CorruptReason::Truncated))?;
    let (crc, len) = le_words(header);
    if usize::try_from(len).ok() != Some(payload.len()) {
        return Err(corrupt(CorruptReason::Truncated));
    }
    if crc32fast::hash(payload) != crc {
        return Err(corrupt(CorruptReason::ChecksumMismatch));
    }
    match postcard::take_from_bytes(payload) {
        Ok((value, [])) => Ok(Some(value)),
        Ok((_, rest)) => Err(corrupt(CorruptReason::Undecodable(format!(
            "{} bytes after the value",
            rest.len()
        )))),
        Err(e) => Err(corrupt(CorruptReason::Undecodable(e.to_string()))),
    }
}

/// The two little-endian `u32`s of an 8-byte record header, in order.
pub(crate) fn le_words(header: &[u8; HEADER_LEN]) -> (u32, u32) {
    let (first, second) = header.split_at(4);
    let word = |b: &[u8]| {
        let mut w = [0u8; 4];
        w.copy_from_slice(b);
        u32::from_le_bytes(w)
    };
    (word(first), word(second))
}

/// Fsyncs a directory, so that a rename or a new file in it survives a crash.
///
/// # Errors
///
/// `Error::Io` when the directory cannot be opened or synced.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "value", &(7u64, "seven".to_owned())).unwrap();
        let got: Option<(u64, String)> = read(dir.path(), "value").unwrap();
        assert_eq!(got, Some((7, "seven".to_owned())));
        assert!(!dir.path().join("value.tmp").exists());
    }

    #[test]
    fn missing_file_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read::<u64>(dir.path(), "absent").unwrap(), None);
    }

    #[test]
    fn flipped_bit_is_reported_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "value", &123_456u64).unwrap();
        let path = dir.path().join("value");
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        fs::write(&path, bytes).unwrap();
        assert!(matches!(
            read::<u64>(dir.path(), "value"),
            Err(Error::Corrupt {
                reason: CorruptReason::ChecksumMismatch,
                ..
            })
        ));
    }
}
