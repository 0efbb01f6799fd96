//! Sparse, memory-mapped indexes of one segment: offset → position and timestamp → offset.
//!
//! Both are arrays of fixed-size big-endian entries in a file that is preallocated for the active
//! segment (with `fallocate`, so a full disk fails at roll time instead of raising SIGBUS on a
//! page fault inside the map) and trimmed to its used length when the segment is sealed.
//! Entries are decoded with `from_be_bytes` on slices of the map, never by casting to structs.
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
