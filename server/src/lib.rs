//! Runnel: Kafka's partitioned commit log behind an HTTP gateway.
//!
//! # Layout
//! - [`log`]: the storage engine — segments, indexes, batches, recovery, retention, compaction.
pub mod log;
