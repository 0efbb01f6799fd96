//! The server side of the cluster port: accepts peers' connections and hands their requests to
//! the local Raft node.
//!
//! Each connection has a reader (this task) and a writer task fed by a bounded channel; every
//! request is served in its own task, so answers go back in completion order under their
//! correlation ids. What a peer can cost is bounded: connections by a semaphore, requests in
//! flight per connection by another, frame size by the codec.
//!
//! Bad input never reaches Raft: a frame longer than the limit (a lying length) or a header
//! that does not decode closes the connection with a warning; an unsupported version is
//! answered with an `Error` frame and the connection closed (the peer speaks another
//! dialect); an unknown kind, a malformed body or an answer sent as a request is answered with
//! an `Error` frame and the connection goes on.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::controller::{self, Liveness};
use crate::data::DataService;
use crate::node::propose_local;
use crate::protocol::{self, DecodeError, Frame, Message, ProtocolError};
use crate::types::{MetadataRaft, NodeId};

/// Peer connections served at once; a cluster has a handful of brokers, each with one
/// connection to every other, so this only stops a misbehaving client from piling up tasks.
const MAX_CONNECTIONS: usize = 256;
/// Requests served at once per connection.
const MAX_IN_FLIGHT: usize = 64;
/// Answers queued for the writer of one connection.
const WRITE_QUEUE: usize = 64;

/// The server's data-plane handler, registered after the node opens (the broker that serves
/// it needs the node first).
pub(crate) type DataSlot = Arc<OnceLock<Arc<dyn DataService>>>;

/// What a connection's requests are served by.
#[derive(Clone)]
struct Services {
    node_id: NodeId,
    raft: MetadataRaft,
    liveness: Arc<Liveness>,
    data: DataSlot,
}

/// Serves the cluster port until `shutdown` is cancelled.
pub(crate) async fn serve(
    listener: TcpListener,
    node_id: NodeId,
    raft: MetadataRaft,
    liveness: Arc<Liveness>,
    data: DataSlot,
    shutdown: CancellationToken,
) {
    let services = Services {
        node_id,
        raft,
        liveness,
        data,
    };
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit,
            () = shutdown.cancelled() => return,
        };
        let Ok(permit) = permit else { return };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let span = tracing::info_span!("cluster_connection", node_id, %peer);
                let services = services.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(
                    async move {
                        serve_connection(stream, peer, services, shutdown).await;
                        drop(permit);
                    }
                    .instrument(span),
                );
            }
            Err(e) => tracing::warn!(error = %e, "accepting a cluster connection failed"),
        }
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    services: Services,
    shutdown: CancellationToken,
) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
    let (mut sink, mut stream) = Framed::new(stream, protocol::codec()).split();
    let (answers, mut queue) = mpsc::channel::<Bytes>(WRITE_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(bytes) = queue.recv().await {
            if sink.send(bytes).await.is_err() {
                break;
            }
        }
    });
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            () = shutdown.cancelled() => break,
        };
        let bytes = match next {
            Some(Ok(bytes)) => bytes,
            Some(Err(e)) => {
                // The codec's error for a frame over the limit lands here: nothing of it was
                // read into a request.
                tracing::warn!(%peer, error = %e, "closing a cluster connection: bad framing");
                break;
            }
            None => break,
        };
        let frame = match Frame::decode(bytes) {
            Ok(frame) => frame,
            Err(DecodeError::Header(e)) => {
                tracing::warn!(%peer, error = %e, "closing a cluster connection: bad header");
                break;
            }
            Err(DecodeError::Unservable {
                correlation_id,
                error,
            }) => {
                tracing::warn!(%peer, %error, "refusing a cluster frame");
                let close = matches!(error, ProtocolError::UnsupportedVersion { .. });
                if answer(
                    &answers,
                    correlation_id,
                    Message::Error(error),
                    Bytes::new(),
                )
                .await
                .is_err()
                    || close
                {
                    break;
                }
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
            break;
        };
        let services = services.clone();
        let answers = answers.clone();
        tokio::spawn(
            async move {
                let (reply, tail) = handle(&services, frame.message, frame.tail).await;
                // The connection may be gone by now; its peer has given up on the answer.
                let _ = answer(&answers, frame.correlation_id, reply, tail).await;
                drop(permit);
            }
            .in_current_span(),
        );
    }
    drop(answers);
    // The writer ends when the queue's senders are gone (the request tasks finish on their
    // own); waiting here keeps the connection's permit until its answers are written.
    let _ = writer.await;
}

async fn answer(
    answers: &mpsc::Sender<Bytes>,
    correlation_id: u64,
    message: Message,
    tail: Bytes,
) -> Result<(), ()> {
    let mut frame = Frame::new(correlation_id, message);
    frame.tail = tail;
    let bytes = frame.encode().map_err(|e| {
        tracing::error!(error = %e, "could not encode an answer");
    })?;
    answers.send(bytes).await.map_err(|_| ())
}

/// Serves one request; the answer is always a message (errors included) and its tail.
async fn handle(services: &Services, message: Message, tail: Bytes) -> (Message, Bytes) {
    let Services {
        node_id,
        raft,
        liveness,
        data,
    } = services;
    let node_id = *node_id;
    let reply = match message {
        Message::AppendEntries(rpc) => {
            Message::AppendEntriesResponse(raft.append_entries(rpc).await)
        }
        Message::Vote(rpc) => Message::VoteResponse(raft.vote(rpc).await),
        Message::InstallSnapshot(rpc) => {
            Message::InstallSnapshotResponse(raft.install_snapshot(rpc).await)
        }
        // Not re-forwarded when this node is not the leader: the proposer asks the leader it
        // learns of from the answer, so a stale view cannot bounce a proposal around.
        Message::Propose(command) => {
            Message::ProposeResponse(propose_local(raft, node_id, command).await)
        }
        Message::Heartbeat(heartbeat) => {
            Message::HeartbeatResponse(controller::receive(raft, node_id, liveness, heartbeat))
        }
        Message::Join(request) => {
            Message::JoinResponse(crate::node::admit_learner(raft, request).await)
        }
        Message::Data(request) => {
            return match data.get() {
                Some(service) => {
                    let (response, tail) = service.serve(request, tail).await;
                    (Message::DataResponse(response), tail)
                }
                None => (
                    Message::Error(ProtocolError::NotServing { node: node_id }),
                    Bytes::new(),
                ),
            };
        }
        other @ (Message::Error(_)
        | Message::AppendEntriesResponse(_)
        | Message::VoteResponse(_)
        | Message::InstallSnapshotResponse(_)
        | Message::ProposeResponse(_)
        | Message::HeartbeatResponse(_)
        | Message::DataResponse(_)
        | Message::JoinResponse(_)) => Message::Error(ProtocolError::NotARequest {
            kind: other.kind() as u16,
        }),
    };
    (reply, Bytes::new())
}
