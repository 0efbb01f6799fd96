//! The data plane on the cluster port: what one broker asks of another on a client's behalf.
//!
//! Any broker accepts any client request (Kafka's REST proxies do the same over the Kafka
//! protocol): what it does not lead it asks of the broker that does, in one of these
//! messages. Records to append and records read travel as stored batch bytes in the frame's
//! tail, never re-encoded, and errors come back as [`DataError`]s the asking broker maps to
//! the same status and code a local call would give. Requests that belong to one broker as a
//! whole (a consumer group's, the schema registry's) travel as the HTTP request itself and
//! come back as its HTTP answer.
//!
//! This crate carries the messages and dispatches them to the server's [`DataService`]; what
//! they mean to partitions and HTTP routes is the server's.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A request from one broker to another, for a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataRequest {
    /// Append the batches in the tail (encoded by the sender, base offset 0) to a partition
    /// the receiver leads; the receiver checks them as bytes from outside the process.
    Produce { topic: String, partition: u32 },
    /// Read stored batches from `offset` on, at most `max_bytes` (at least one batch); the
    /// answer's tail holds them.
    Fetch {
        topic: String,
        partition: u32,
        offset: u64,
        max_bytes: u32,
    },
    /// The partition's log start offset and high watermark.
    ListOffsets { topic: String, partition: u32 },
    /// The first offset whose timestamp is at or after `timestamp`.
    OffsetForTimestamp {
        topic: String,
        partition: u32,
        timestamp: i64,
    },
    /// Answer once the high watermark is above `above`, or after `timeout_ms`: a long poll.
    WaitFor {
        topic: String,
        partition: u32,
        above: u64,
        timeout_ms: u32,
    },
    /// A client's HTTP request for what the receiver owns as a whole (a consumer group it
    /// coordinates, the schema registry it writes), served by its own router; the body is the
    /// tail.
    Http(HttpRequest),
}

/// An HTTP request as the client sent it (the body rides in the frame's tail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// An HTTP answer (the body rides in the frame's tail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// A fetch's answer besides the batch bytes in the tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetched {
    pub high_watermark: u64,
    pub log_start_offset: u64,
}

/// The answer to a [`DataRequest`], of the same variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataResponse {
    /// Per batch of the request, in order: its first and last offsets, or why it failed.
    Produced(Vec<Result<(u64, u64), DataError>>),
    Fetched(Result<Fetched, DataError>),
    Offsets(Result<(u64, u64), DataError>),
    OffsetForTimestamp(Result<Option<(u64, i64)>, DataError>),
    /// The high watermark when the wait ended.
    Waited(Result<u64, DataError>),
    Http(HttpResponse),
}

/// Why a partition request failed at the broker that received it, in terms the sender maps
/// back to its own errors (the same status and code a local call would give).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DataError {
    /// The receiver does not lead the partition (its metadata is newer or older than the
    /// sender's); `leader` as the receiver knows it.
    #[error("broker {broker} does not lead partition {partition} of '{topic}'")]
    NotLeader {
        broker: u32,
        topic: String,
        partition: u32,
        leader: Option<u32>,
    },
    #[error("Topic '{0}' not found.")]
    UnknownTopic(String),
    #[error("offset {requested} is out of range [{log_start_offset}, {log_end_offset}]")]
    OffsetOutOfRange {
        requested: u64,
        log_start_offset: u64,
        log_end_offset: u64,
    },
    #[error("record batch of {size} bytes exceeds the limit of {limit} bytes")]
    BatchTooLarge { size: u64, limit: u64 },
    /// A fault the client may retry (a full disk, no descriptor left).
    #[error("{0}")]
    Retriable(String),
    /// A request the receiver refused as malformed (a corrupt batch from the sender).
    #[error("{0}")]
    Invalid(String),
    /// Any other failure (an offline log); the receiver logged the details.
    #[error("{0}")]
    Failed(String),
}

/// What the server does with data-plane requests; registered with
/// [`crate::MetadataNode::serve_data`].
pub trait DataService: Send + Sync + 'static {
    /// Serves one request; `tail` is the frame's raw tail. The answer's tail goes back raw.
    fn serve(
        &self,
        request: DataRequest,
        tail: Bytes,
    ) -> Pin<Box<dyn Future<Output = (DataResponse, Bytes)> + Send + 'static>>;
}

/// Why a data-plane call to another broker failed before it had an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallFailed {
    /// The broker is not in the metadata, or has no cluster address.
    #[error("broker {0} is not known to the cluster metadata")]
    UnknownBroker(u32),
    /// The request was not sent (the broker could not be dialled): safe to retry.
    #[error("broker {broker} cannot be reached: {reason}")]
    Unreachable { broker: u32, reason: String },
    /// The request was sent and no answer came: it may or may not have been served.
    #[error("broker {broker} did not answer: {reason}")]
    NoAnswer { broker: u32, reason: String },
}
