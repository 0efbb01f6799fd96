//! The client side of the cluster port: one reused connection per peer, many requests in
//! flight on it, and openraft's `RaftNetwork` on top.
//!
//! A `Connection` has a writer half behind an async mutex (a frame is written whole) and a
//! reader task that hands each answer to the request waiting on its correlation id, so a slow
//! snapshot chunk does not hold up a heartbeat. A connection that fails is dropped from the
//! pool and the next request dials again. Every call has a deadline.
//!
//! Errors map to openraft's as it expects: a peer that cannot be dialled is `Unreachable`
//! (openraft backs off), any failure after the request was sent is a `NetworkError` (openraft
//! retries), and an error the peer's Raft returned is a `RemoteError`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use parking_lot::Mutex;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_util::codec::{Framed, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;

use crate::protocol::{self, DecodeError, Frame, Message, ProtocolError};
use crate::types::{NodeId, RaftNode, TypeConfig};

/// How long dialling a peer may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a call to a peer failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CallError {
    /// The peer could not be dialled: the request was not sent.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: io::Error,
    },
    /// No answer within the deadline; the request may or may not have been served.
    #[error("no answer from {addr} within {timeout:?}")]
    Timeout { addr: String, timeout: Duration },
    /// The connection broke after the request was sent.
    #[error("the connection to {addr} closed before the answer")]
    Closed { addr: String },
    #[error("could not encode the request: {0}")]
    Encode(#[source] postcard::Error),
    /// The peer answered with an `Error` frame.
    #[error("{addr} refused the request: {error}")]
    Refused { addr: String, error: ProtocolError },
    /// The peer answered with a message of another kind than the request's answer.
    #[error("{addr} answered with an unexpected {kind:?} frame")]
    UnexpectedAnswer { addr: String, kind: protocol::Kind },
}

type Sink = SplitSink<Framed<TcpStream, LengthDelimitedCodec>, Bytes>;

#[derive(Debug)]
struct Connection {
    writer: tokio::sync::Mutex<Sink>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Frame>>>,
    next_id: AtomicU64,
    closed: AtomicBool,
}

/// The connections of one node to its peers, by address; shared by every Raft client and by
/// forwarded proposals.
#[derive(Debug, Clone)]
pub(crate) struct Peers {
    connections: Arc<Mutex<HashMap<String, Arc<Connection>>>>,
    shutdown: CancellationToken,
}

impl Peers {
    pub(crate) fn new(shutdown: CancellationToken) -> Self {
        Peers {
            connections: Arc::default(),
            shutdown,
        }
    }

    /// Sends `message` to `addr` and waits up to `timeout` for its answer.
    ///
    /// # Errors
    ///
    /// A `CallError` saying whether the request was sent at all.
    pub(crate) async fn call(
        &self,
        addr: &str,
        message: Message,
        timeout: Duration,
    ) -> Result<Message, CallError> {
        self.exchange(addr, message, Bytes::new(), timeout)
            .await
            .map(|frame| frame.message)
    }

    /// Sends `message` with `tail` after it and waits up to `timeout` for the answering
    /// frame, tail included.
    ///
    /// # Errors
    ///
    /// As [`Self::call`].
    pub(crate) async fn exchange(
        &self,
        addr: &str,
        message: Message,
        tail: Bytes,
        timeout: Duration,
    ) -> Result<Frame, CallError> {
        let connection = self.connection(addr, timeout.min(CONNECT_TIMEOUT)).await?;
        let correlation_id = connection.next_id.fetch_add(1, Ordering::Relaxed);
        let mut frame = Frame::new(correlation_id, message);
        frame.tail = tail;
        let bytes = frame.encode().map_err(CallError::Encode)?;
        let (tx, rx) = oneshot::channel();
        connection.pending.lock().insert(correlation_id, tx);
        let exchange = async {
            let sent = connection.writer.lock().await.send(bytes).await;
            if sent.is_err() {
                connection.closed.store(true, Ordering::Release);
                return Err(CallError::Closed {
                    addr: addr.to_owned(),
                });
            }
            rx.await.map_err(|_| CallError::Closed {
                addr: addr.to_owned(),
            })
        };
        let answer = tokio::time::timeout(timeout, exchange).await;
        connection.pending.lock().remove(&correlation_id);
        match answer {
            Err(_) => Err(CallError::Timeout {
                addr: addr.to_owned(),
                timeout,
            }),
            Ok(Err(e)) => Err(e),
            Ok(Ok(Frame {
                message: Message::Error(error),
                ..
            })) => Err(CallError::Refused {
                addr: addr.to_owned(),
                error,
            }),
            Ok(Ok(frame)) => Ok(frame),
        }
    }

    /// The open connection to `addr`, dialling one if there is none.
    async fn connection(
        &self,
        addr: &str,
        connect_timeout: Duration,
    ) -> Result<Arc<Connection>, CallError> {
        if let Some(c) = self.connections.lock().get(addr)
            && !c.closed.load(Ordering::Acquire)
        {
            return Ok(Arc::clone(c));
        }
        let connect_error = |source| CallError::Connect {
            addr: addr.to_owned(),
            source,
        };
        let stream = tokio::time::timeout(connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| connect_error(io::ErrorKind::TimedOut.into()))?
            .map_err(connect_error)?;
        stream.set_nodelay(true).map_err(connect_error)?;
        let (writer, reader) = Framed::new(stream, protocol::codec()).split();
        let connection = Arc::new(Connection {
            writer: tokio::sync::Mutex::new(writer),
            pending: Mutex::default(),
            next_id: AtomicU64::new(1),
            closed: AtomicBool::new(false),
        });
        tokio::spawn(read_answers(
            Arc::clone(&connection),
            reader,
            addr.to_owned(),
            self.shutdown.clone(),
        ));
        // Two callers may dial at once; the later one replaces the earlier in the pool, and
        // the earlier connection serves its own request and then idles until the peer closes.
        self.connections
            .lock()
            .insert(addr.to_owned(), Arc::clone(&connection));
        Ok(connection)
    }
}

/// Routes each answer on a connection to its waiting request, until the connection ends.
async fn read_answers(
    connection: Arc<Connection>,
    mut reader: futures_util::stream::SplitStream<Framed<TcpStream, LengthDelimitedCodec>>,
    addr: String,
    shutdown: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            next = reader.next() => next,
            () = shutdown.cancelled() => break,
        };
        let bytes = match next {
            Some(Ok(bytes)) => bytes,
            Some(Err(e)) => {
                tracing::warn!(peer = %addr, error = %e, "cluster connection failed");
                break;
            }
            None => break,
        };
        match Frame::decode(bytes) {
            Ok(frame) => {
                let waiter = connection.pending.lock().remove(&frame.correlation_id);
                // No waiter: the request timed out and its answer is late; drop it.
                if let Some(waiter) = waiter {
                    let _ = waiter.send(frame);
                }
            }
            Err(DecodeError::Unservable {
                correlation_id,
                error,
            }) => {
                tracing::warn!(peer = %addr, %error, "undecodable answer from a peer");
                // The waiter learns of it as a closed exchange.
                connection.pending.lock().remove(&correlation_id);
            }
            Err(e @ DecodeError::Header(_)) => {
                tracing::warn!(peer = %addr, error = %e, "closing a cluster connection");
                break;
            }
        }
    }
    connection.closed.store(true, Ordering::Release);
    // Dropping the senders wakes every waiter with `Closed`.
    connection.pending.lock().clear();
}

/// openraft's network factory: a client per target, over the shared connections.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    pub(crate) peers: Peers,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &RaftNode) -> PeerClient {
        PeerClient {
            peers: self.peers.clone(),
            target,
            addr: node.cluster_addr.clone(),
        }
    }
}

/// openraft's client of one peer.
#[derive(Debug)]
pub(crate) struct PeerClient {
    peers: Peers,
    target: NodeId,
    addr: String,
}

type RpcResult<T, E = openraft::error::Infallible> =
    Result<T, RPCError<NodeId, RaftNode, RaftError<NodeId, E>>>;

impl PeerClient {
    /// Makes one call and unpacks the peer Raft's own result.
    fn call<T, E, F>(
        &self,
        message: Message,
        option: &RPCOption,
        unpack: F,
    ) -> impl Future<Output = RpcResult<T, E>> + Send + '_
    where
        T: Send,
        E: std::error::Error + Send,
        F: FnOnce(Message) -> Option<Result<T, RaftError<NodeId, E>>> + Send + 'static,
    {
        let timeout = option.hard_ttl();
        async move {
            let answer = self
                .peers
                .call(&self.addr, message, timeout)
                .await
                .map_err(|e| match e {
                    CallError::Connect { .. } => RPCError::Unreachable(Unreachable::new(&e)),
                    _ => RPCError::Network(NetworkError::new(&e)),
                })?;
            let kind = answer.kind();
            match unpack(answer) {
                Some(Ok(value)) => Ok(value),
                Some(Err(remote)) => {
                    Err(RPCError::RemoteError(RemoteError::new(self.target, remote)))
                }
                None => Err(RPCError::Network(NetworkError::new(
                    &CallError::UnexpectedAnswer {
                        addr: self.addr.clone(),
                        kind,
                    },
                ))),
            }
        }
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>> {
        self.call(Message::AppendEntries(rpc), &option, |m| match m {
            Message::AppendEntriesResponse(r) => Some(r),
            _ => None,
        })
        .await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<NodeId>, InstallSnapshotError> {
        self.call(Message::InstallSnapshot(rpc), &option, |m| match m {
            Message::InstallSnapshotResponse(r) => Some(r),
            _ => None,
        })
        .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>> {
        self.call(Message::Vote(rpc), &option, |m| match m {
            Message::VoteResponse(r) => Some(r),
            _ => None,
        })
        .await
    }
}
