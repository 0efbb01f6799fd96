//! Sparse indexes of one segment: offset → position and timestamp → offset.
//!
//! Both are arrays of fixed-size big-endian entries. The active segment's entries are kept in
//! memory and written to the file, trimmed to their length, when the segment is sealed or closed
//! (so nothing is preallocated and no writable map can fault on a full disk); a sealed index is
//! mapped read-only when first used (Kafka's KIP-263). Entries are decoded with `from_be_bytes`
//! on slices, never by casting to structs.
//!
//! Not owned here: deciding when to add an entry (`segment.rs`) or rebuilding an index from its
//! log after a crash (`recovery.rs`).

#![allow(unsafe_code)] // memmap2's map calls; each one carries a SAFETY comment
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

mod file;
pub mod offset;
pub mod time;

pub use offset::OffsetIndex;
pub use time::TimeIndex;
