//! The cluster port's wire format: versioned frames between brokers.
//!
//! ```text
//! frame:  [len: u32 BE]                     LengthDelimitedCodec, len ≤ MAX_FRAME_LEN
//!         [header: postcard(Header)]        version, correlation id, kind: fixed forever
//!         [body: postcard(kind's message)]  changes with the version
//!         [tail: raw bytes]                 the rest of the frame, never decoded here
//! ```
//!
//! The header's layout never changes, so a node can always read a peer's version, correlation
//! id and kind, and answer an unsupported version or an unknown kind with an `Error` frame that
//! the peer can match to its request. The body's type follows from the kind, so the kind is the
//! one tag on the wire. The tail is what follows the body: record batches ride there as their
//! stored bytes (and HTTP bodies as they came); decoding hands it out as a `Bytes` slice of the
//! received frame, no copy.
//!
//! A request and its answer share the correlation id; many requests may be in flight on one
//! connection, answered in any order.
//!
//! Not owned here: connections, dispatch and timeouts (network/).

use bytes::{BufMut, Bytes, BytesMut};
use openraft::error::{InstallSnapshotError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::{Deserialize, Serialize};
use tokio_util::codec::LengthDelimitedCodec;

use crate::data::{DataRequest, DataResponse};
use crate::metadata::{BrokerEpoch, BrokerId, Command};
use crate::node::{Committed, ProposeError};
use crate::types::{NodeId, TypeConfig};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;

/// The largest frame accepted or sent: it bounds what one peer can make another buffer, and is
/// far above any metadata message (a snapshot goes in chunks well below it).
pub const MAX_FRAME_LEN: usize = 64 * 1024 * 1024;

/// The codec of the cluster port: 4-byte big-endian length, frames up to `MAX_FRAME_LEN`.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .max_frame_length(MAX_FRAME_LEN)
        .new_codec()
}

/// The fixed part of every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub version: u16,
    pub correlation_id: u64,
    /// A `Kind`, kept raw so that an unknown one still decodes as a header.
    pub kind: u16,
}

/// What a frame's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Kind {
    Error = 0,
    AppendEntries = 1,
    AppendEntriesResponse = 2,
    Vote = 3,
    VoteResponse = 4,
    InstallSnapshot = 5,
    InstallSnapshotResponse = 6,
    Propose = 7,
    ProposeResponse = 8,
    Heartbeat = 9,
    HeartbeatResponse = 10,
    Data = 11,
    DataResponse = 12,
    Join = 13,
    JoinResponse = 14,
}

impl Kind {
    fn from_wire(kind: u16) -> Option<Kind> {
        Some(match kind {
            0 => Kind::Error,
            1 => Kind::AppendEntries,
            2 => Kind::AppendEntriesResponse,
            3 => Kind::Vote,
            4 => Kind::VoteResponse,
            5 => Kind::InstallSnapshot,
            6 => Kind::InstallSnapshotResponse,
            7 => Kind::Propose,
            8 => Kind::ProposeResponse,
            9 => Kind::Heartbeat,
            10 => Kind::HeartbeatResponse,
            11 => Kind::Data,
            12 => Kind::DataResponse,
            13 => Kind::Join,
            14 => Kind::JoinResponse,
            _ => return None,
        })
    }
}

/// A frame's body, by kind.
#[derive(Debug)]
pub enum Message {
    /// The answer to a frame that could not be served.
    Error(ProtocolError),
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    AppendEntriesResponse(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    Vote(VoteRequest<NodeId>),
    VoteResponse(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
    InstallSnapshotResponse(
        Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>,
    ),
    /// A metadata command forwarded to the leader.
    Propose(Command),
    ProposeResponse(Result<Committed, ProposeError>),
    /// A broker's heartbeat to the controller (kept in the controller's memory, not in the
    /// metadata log, as KRaft does: only the fencing decisions it leads to are logged).
    Heartbeat(Heartbeat),
    /// `NotLeader` when the node asked is not the controller.
    HeartbeatResponse(Result<(), ProposeError>),
    /// A client's request that another broker serves (`data.rs`); batches and HTTP bodies
    /// ride in the tail.
    Data(DataRequest),
    DataResponse(DataResponse),
    /// A new broker asks to join as a non-voting member (a Raft learner).
    Join(JoinRequest),
    JoinResponse(Result<(), JoinError>),
}

/// A broker started with `--join`: its node id and where the cluster reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub node_id: NodeId,
    pub cluster_addr: String,
}

/// Why a join was not done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum JoinError {
    /// Only the leader adds members; ask it (at `leader_addr`, when known).
    #[error("not the metadata leader (leader at {leader_addr:?})")]
    NotLeader { leader_addr: Option<String> },
    /// The cluster will not take this node (its id is another member's); retrying will not
    /// help.
    #[error("{0}")]
    Refused(String),
    /// The leader could not add it now (it lost leadership, say); retry.
    #[error("{0}")]
    Failed(String),
}

/// A broker is alive at its registration epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub broker: BrokerId,
    pub epoch: BrokerEpoch,
}

impl Message {
    /// The kind that tags this message on the wire.
    pub fn kind(&self) -> Kind {
        match self {
            Message::Error(_) => Kind::Error,
            Message::AppendEntries(_) => Kind::AppendEntries,
            Message::AppendEntriesResponse(_) => Kind::AppendEntriesResponse,
            Message::Vote(_) => Kind::Vote,
            Message::VoteResponse(_) => Kind::VoteResponse,
            Message::InstallSnapshot(_) => Kind::InstallSnapshot,
            Message::InstallSnapshotResponse(_) => Kind::InstallSnapshotResponse,
            Message::Propose(_) => Kind::Propose,
            Message::ProposeResponse(_) => Kind::ProposeResponse,
            Message::Heartbeat(_) => Kind::Heartbeat,
            Message::HeartbeatResponse(_) => Kind::HeartbeatResponse,
            Message::Data(_) => Kind::Data,
            Message::DataResponse(_) => Kind::DataResponse,
            Message::Join(_) => Kind::Join,
            Message::JoinResponse(_) => Kind::JoinResponse,
        }
    }

    /// Serializes the body (no tag: the header's kind is the tag) after `out`.
    fn encode_body(&self, out: BytesMut) -> postcard::Result<BytesMut> {
        match self {
            Message::Error(m) => postcard::to_extend(m, out),
            Message::AppendEntries(m) => postcard::to_extend(m, out),
            Message::AppendEntriesResponse(m) => postcard::to_extend(m, out),
            Message::Vote(m) => postcard::to_extend(m, out),
            Message::VoteResponse(m) => postcard::to_extend(m, out),
            Message::InstallSnapshot(m) => postcard::to_extend(m, out),
            Message::InstallSnapshotResponse(m) => postcard::to_extend(m, out),
            Message::Propose(m) => postcard::to_extend(m, out),
            Message::ProposeResponse(m) => postcard::to_extend(m, out),
            Message::Heartbeat(m) => postcard::to_extend(m, out),
            Message::HeartbeatResponse(m) => postcard::to_extend(m, out),
            Message::Data(m) => postcard::to_extend(m, out),
            Message::DataResponse(m) => postcard::to_extend(m, out),
            Message::Join(m) => postcard::to_extend(m, out),
            Message::JoinResponse(m) => postcard::to_extend(m, out),
        }
    }
}

/// Why a peer could not serve a frame; sent back as an `Error` frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ProtocolError {
    #[error("protocol version {got} is not supported (this node speaks {supported})")]
    UnsupportedVersion { got: u16, supported: u16 },
    #[error("frame kind {kind} is unknown")]
    UnknownKind { kind: u16 },
    #[error("a frame of kind {kind} is not a request")]
    NotARequest { kind: u16 },
    #[error("the body of a frame of kind {kind} does not decode: {reason}")]
    MalformedBody { kind: u16, reason: String },
    /// The node has not started serving client data yet (its broker is still opening).
    #[error("node {node} is not serving client requests yet")]
    NotServing { node: u64 },
}

/// One decoded frame.
#[derive(Debug)]
pub struct Frame {
    pub correlation_id: u64,
    pub message: Message,
    /// The raw bytes after the body (empty when there are none).
    pub tail: Bytes,
}

/// Why a received frame could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not even the header decodes: the peer does not speak this protocol.
    #[error("the frame header does not decode: {0}")]
    Header(#[source] postcard::Error),
    /// The header decodes but the rest cannot be served; answer with this error.
    #[error("frame {correlation_id}: {error}")]
    Unservable {
        correlation_id: u64,
        error: ProtocolError,
    },
}

impl Frame {
    /// A frame without a tail.
    pub fn new(correlation_id: u64, message: Message) -> Self {
        Frame {
            correlation_id,
            message,
            tail: Bytes::new(),
        }
    }

    /// Encodes the frame's content (the codec adds the length).
    ///
    /// # Errors
    ///
    /// When a value does not serialize (postcard refuses only unsupported serde shapes, which
    /// none of the messages use).
    pub fn encode(&self) -> postcard::Result<Bytes> {
        let header = Header {
            version: PROTOCOL_VERSION,
            correlation_id: self.correlation_id,
            kind: self.message.kind() as u16,
        };
        let out = postcard::to_extend(&header, BytesMut::new())?;
        let mut out = self.message.encode_body(out)?;
        out.put_slice(&self.tail);
        Ok(out.freeze())
    }

    /// Decodes one frame's content as the codec delivered it.
    ///
    /// # Errors
    ///
    /// `DecodeError::Header` when the header does not decode; `DecodeError::Unservable` for an
    /// unsupported version, an unknown kind or a body that does not decode.
    pub fn decode(frame: BytesMut) -> Result<Frame, DecodeError> {
        let (header, rest) =
            postcard::take_from_bytes::<Header>(&frame).map_err(DecodeError::Header)?;
        let unservable = |error| DecodeError::Unservable {
            correlation_id: header.correlation_id,
            error,
        };
        if header.version != PROTOCOL_VERSION {
            return Err(unservable(ProtocolError::UnsupportedVersion {
                got: header.version,
                supported: PROTOCOL_VERSION,
            }));
        }
        let kind = Kind::from_wire(header.kind)
            .ok_or_else(|| unservable(ProtocolError::UnknownKind { kind: header.kind }))?;
        let (message, rest) = decode_body(kind, rest).map_err(|e| {
            unservable(ProtocolError::MalformedBody {
                kind: header.kind,
                reason: e.to_string(),
            })
        })?;
        let body_end = frame.len() - rest.len();
        let mut frame = frame;
        let tail = frame.split_off(body_end).freeze();
        Ok(Frame {
            correlation_id: header.correlation_id,
            message,
            tail,
        })
    }
}

fn decode_body(kind: Kind, bytes: &[u8]) -> postcard::Result<(Message, &[u8])> {
    fn take<T, F>(bytes: &[u8], wrap: F) -> postcard::Result<(Message, &[u8])>
    where
        T: serde::de::DeserializeOwned,
        F: FnOnce(T) -> Message,
    {
        postcard::take_from_bytes::<T>(bytes).map(|(value, rest)| (wrap(value), rest))
    }
    match kind {
        Kind::Error => take(bytes, Message::Error),
        Kind::AppendEntries => take(bytes, Message::AppendEntries),
        Kind::AppendEntriesResponse => take(bytes, Message::AppendEntriesResponse),
        Kind::Vote => take(bytes, Message::Vote),
        Kind::VoteResponse => take(bytes, Message::VoteResponse),
        Kind::InstallSnapshot => take(bytes, Message::InstallSnapshot),
        Kind::InstallSnapshotResponse => take(bytes, Message::InstallSnapshotResponse),
        Kind::Propose => take(bytes, Message::Propose),
        Kind::ProposeResponse => take(bytes, Message::ProposeResponse),
        Kind::Heartbeat => take(bytes, Message::Heartbeat),
        Kind::HeartbeatResponse => take(bytes, Message::HeartbeatResponse),
        Kind::Data => take(bytes, Message::Data),
        Kind::DataResponse => take(bytes, Message::DataResponse),
        Kind::Join => take(bytes, Message::Join),
        Kind::JoinResponse => take(bytes, Message::JoinResponse),
    }
}

#[cfg(test)]
mod tests {
    use crate::metadata::Applied;
    use openraft::Vote;

    use super::*;

    #[test]
    fn a_frame_round_trips_with_its_tail_sliced_not_copied() {
        let mut frame = Frame::new(
            42,
            Message::Propose(Command::DeleteTopic {
                name: "orders".into(),
            }),
        );
        frame.tail = Bytes::from_static(b"stored record batch bytes");
        let encoded = frame.encode().unwrap();
        let received = BytesMut::from(&encoded[..]);
        let start = received.as_ptr() as usize;
        let end = start + received.len();

        let decoded = Frame::decode(received).unwrap();
        assert_eq!(decoded.correlation_id, 42);
        assert!(matches!(
            decoded.message,
            Message::Propose(Command::DeleteTopic { ref name }) if name == "orders"
        ));
        assert_eq!(&decoded.tail[..], b"stored record batch bytes");
        let tail_at = decoded.tail.as_ptr() as usize;
        assert!(
            (start..end).contains(&tail_at),
            "the tail is a slice of the received buffer"
        );
    }

    #[test]
    fn every_message_kind_round_trips() {
        let messages = [
            Message::Error(ProtocolError::UnknownKind { kind: 77 }),
            Message::Vote(VoteRequest::new(Vote::new(3, 1), None)),
            Message::ProposeResponse(Ok(Committed {
                log_index: 7,
                applied: Applied::Done,
            })),
            Message::ProposeResponse(Err(ProposeError::NotLeader {
                node: 2,
                leader: Some(1),
            })),
            Message::Propose(Command::FenceBroker {
                broker: BrokerId(3),
                epoch: BrokerEpoch(9),
            }),
            Message::Heartbeat(Heartbeat {
                broker: BrokerId(2),
                epoch: BrokerEpoch(4),
            }),
            Message::HeartbeatResponse(Ok(())),
            Message::Data(DataRequest::ListOffsets {
                topic: "orders".into(),
                partition: 2,
            }),
            Message::DataResponse(DataResponse::Offsets(Ok((3, 9)))),
            Message::Join(JoinRequest {
                node_id: 4,
                cluster_addr: "127.0.0.1:9094".into(),
            }),
            Message::JoinResponse(Err(JoinError::NotLeader {
                leader_addr: Some("127.0.0.1:9093".into()),
            })),
        ];
        for message in messages {
            let kind = message.kind();
            let bytes = Frame::new(1, message).encode().unwrap();
            let decoded = Frame::decode(BytesMut::from(&bytes[..])).unwrap();
            assert_eq!(decoded.message.kind(), kind);
            assert!(decoded.tail.is_empty());
        }
    }

    #[test]
    fn unknown_version_and_kind_keep_the_correlation_id() {
        let header = |version, kind| {
            let bytes = postcard::to_stdvec(&Header {
                version,
                correlation_id: 5,
                kind,
            })
            .unwrap();
            BytesMut::from(&bytes[..])
        };
        assert!(matches!(
            Frame::decode(header(2, 3)),
            Err(DecodeError::Unservable {
                correlation_id: 5,
                error: ProtocolError::UnsupportedVersion { got: 2, .. }
            })
        ));
        assert!(matches!(
            Frame::decode(header(PROTOCOL_VERSION, 4000)),
            Err(DecodeError::Unservable {
                correlation_id: 5,
                error: ProtocolError::UnknownKind { kind: 4000 }
            })
        ));
        assert!(matches!(
            Frame::decode(BytesMut::from(&[0xffu8; 2][..])),
            Err(DecodeError::Header(_))
        ));
    }
}
