//! Errors of the log engine.
//!
//! One enum for the whole storage layer. Variants are structured so the gateway can map each one
//! to a Confluent error code without parsing text; `Display` is written for operators.

use std::path::PathBuf;

/// What can go wrong inside the log engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O call failed on a file of this log.
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The device is full: the append was rolled back and may be retried once space is freed.
    #[error("no space left on the device holding {path}; the append was rolled back")]
    DiskFull { path: PathBuf },
    /// The process (EMFILE) or the system (ENFILE) has no file descriptor left to open a file of
    /// this log; nothing was changed, and the call may succeed once descriptors are released.
    #[error("too many open files to open {path}; retry later or raise the open-file limit")]
    TooManyOpenFiles { path: PathBuf },
    /// An earlier fsync or rollback failed, so the state on disk is unknown; the log refuses
    /// writes until it is reopened (and recovered).
    #[error("log {path} is offline after an earlier i/o failure; restart the broker to recover it")]
    Offline { path: PathBuf },
    /// The log was retired because its topic was deleted: for a producer that raced the delete,
    /// the topic is unknown now (not a failure of the broker).
    #[error("partition {} no longer exists: its topic was deleted", path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned()))]
    Deleted { path: PathBuf },
    /// Bytes that should hold a record batch do not.
    #[error("corrupt batch: {reason}")]
    Corrupt { reason: String },
    /// The CRC stored in a batch does not match its contents.
    #[error("batch CRC mismatch: stored {expected:#010x}, computed {actual:#010x}")]
    ChecksumMismatch { expected: u32, actual: u32 },
    /// A batch (or its decompressed records) is larger than the configured maximum.
    #[error("record batch of {size} bytes exceeds the limit of {limit} bytes")]
    BatchTooLarge { size: usize, limit: usize },
    /// A compression codec this build cannot handle (Kafka's snappy, or an unknown id).
    #[error("unsupported compression codec id {0}")]
    UnsupportedCompression(u8),
    /// A read asked for an offset outside `[log_start_offset, log_end_offset]`.
    #[error("offset {requested} is out of range [{log_start_offset}, {log_end_offset}]")]
    OffsetOutOfRange {
        requested: u64,
        log_start_offset: u64,
        log_end_offset: u64,
    },
    /// A request that can never succeed, such as an empty batch.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A client produce or read of a partition this broker does not lead (Kafka's
    /// `NOT_LEADER_OR_FOLLOWER`, retriable): `leader` is the broker that does, `None` when the
    /// partition is offline.
    #[error("{}", not_leader_message(topic, *partition, *leader))]
    NotLeader {
        topic: String,
        partition: u32,
        leader: Option<u32>,
    },
    /// The partition's leader is another broker that could not be reached, or that answered
    /// with a fault the client may retry (its own full disk, say).
    #[error("{reason}")]
    LeaderUnavailable { reason: String },
    /// The partition's leader, another broker, failed the request; its log has the details.
    #[error("{reason}")]
    LeaderFailed { reason: String },
}

fn not_leader_message(topic: &str, partition: u32, leader: Option<u32>) -> String {
    match leader {
        Some(broker) => format!(
            "Partition {partition} of topic '{topic}' is led by broker {broker}, not this one; retry"
        ),
        None => format!(
            "Partition {partition} of topic '{topic}' has no leader: its broker is offline; retry later"
        ),
    }
}

impl Error {
    /// An I/O failure; running out of descriptors becomes [`Error::TooManyOpenFiles`], which
    /// callers must not treat as a broken log.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let out_of_files = [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE]
            .map(|e| Some(e.raw_os_error()))
            .contains(&source.raw_os_error());
        if out_of_files {
            return Error::TooManyOpenFiles { path: path.into() };
        }
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// As [`Error::io`], with a full device as [`Error::DiskFull`].
    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        if source.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()) {
            return Error::DiskFull { path: path.into() };
        }
        Error::io(path, source)
    }

    pub(crate) fn corrupt(reason: impl Into<String>) -> Self {
        Error::Corrupt {
            reason: reason.into(),
        }
    }

    /// A copy for reporting one failure to several waiters (`io::Error` is not `Clone`, so an
    /// I/O error keeps its kind and text).
    pub fn duplicate(&self) -> Self {
        match self {
            Error::Io { path, source } => Error::Io {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            Error::DiskFull { path } => Error::DiskFull { path: path.clone() },
            Error::TooManyOpenFiles { path } => Error::TooManyOpenFiles { path: path.clone() },
            Error::Offline { path } => Error::Offline { path: path.clone() },
            Error::Deleted { path } => Error::Deleted { path: path.clone() },
            Error::Corrupt { reason } => Error::Corrupt {
                reason: reason.clone(),
            },
            Error::ChecksumMismatch { expected, actual } => Error::ChecksumMismatch {
                expected: *expected,
                actual: *actual,
            },
            Error::BatchTooLarge { size, limit } => Error::BatchTooLarge {
                size: *size,
                limit: *limit,
            },
            Error::UnsupportedCompression(c) => Error::UnsupportedCompression(*c),
            Error::NotLeader {
                topic,
                partition,
                leader,
            } => Error::NotLeader {
                topic: topic.clone(),
                partition: *partition,
                leader: *leader,
            },
            Error::OffsetOutOfRange {
                requested,
                log_start_offset,
                log_end_offset,
            } => Error::OffsetOutOfRange {
                requested: *requested,
                log_start_offset: *log_start_offset,
                log_end_offset: *log_end_offset,
            },
            Error::InvalidRequest(m) => Error::InvalidRequest(m.clone()),
            Error::LeaderUnavailable { reason } => Error::LeaderUnavailable {
                reason: reason.clone(),
            },
            Error::LeaderFailed { reason } => Error::LeaderFailed {
                reason: reason.clone(),
            },
        }
    }

    /// True when the same call may succeed later without anything else changing on the client
    /// side (Kafka's `RetriableException`).
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            Error::DiskFull { .. }
                | Error::TooManyOpenFiles { .. }
                | Error::LeaderUnavailable { .. }
        )
    }
}

/// Result alias for the log engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;
