//! Bad input on the cluster port: clean error answers or a closed connection, never a crash,
//! and the node keeps working.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use runnel_cluster::protocol::{self, Frame, Header, Message, PROTOCOL_VERSION, ProtocolError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::support::*;

fn header_only(version: u16, correlation_id: u64, kind: u16) -> Bytes {
    postcard::to_stdvec(&Header {
        version,
        correlation_id,
        kind,
    })
    .unwrap()
    .into()
}

async fn answer(conn: &mut Framed<TcpStream, tokio_util::codec::LengthDelimitedCodec>) -> Frame {
    let bytes = tokio::time::timeout(DEADLINE, conn.next())
        .await
        .expect("an answer within the deadline")
        .expect("an answer, not a closed connection")
        .unwrap();
    Frame::decode(bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_version_and_kind_get_error_answers() {
    init_tracing();
    let (node, _dir, _) = start_single().await;
    node.propose(register(1)).await.unwrap();
    let stream = TcpStream::connect(node.cluster_addr().unwrap())
        .await
        .unwrap();
    let mut conn = Framed::new(stream, protocol::codec());

    // An unknown kind: answered, and the connection stays usable.
    conn.send(header_only(PROTOCOL_VERSION, 7, 999))
        .await
        .unwrap();
    let frame = answer(&mut conn).await;
    assert_eq!(frame.correlation_id, 7);
    assert!(matches!(
        frame.message,
        Message::Error(ProtocolError::UnknownKind { kind: 999 })
    ));

    // A known kind whose body is garbage: answered too.
    let mut garbage = header_only(PROTOCOL_VERSION, 8, 7).to_vec();
    garbage.extend_from_slice(&[0xff; 3]);
    conn.send(Bytes::from(garbage)).await.unwrap();
    let frame = answer(&mut conn).await;
    assert_eq!(frame.correlation_id, 8);
    assert!(matches!(
        frame.message,
        Message::Error(ProtocolError::MalformedBody { kind: 7, .. })
    ));

    // Another version: answered, then the connection is closed.
    conn.send(header_only(99, 9, 3)).await.unwrap();
    let frame = answer(&mut conn).await;
    assert_eq!(frame.correlation_id, 9);
    assert_eq!(frame.tail.len(), 0, "an error answer carries no raw tail");
    assert!(matches!(
        frame.message,
        Message::Error(ProtocolError::UnsupportedVersion {
            got: 99,
            supported: PROTOCOL_VERSION
        })
    ));
    let closed = tokio::time::timeout(DEADLINE, conn.next()).await.unwrap();
    assert!(
        closed.is_none(),
        "the connection is closed after a version mismatch"
    );

    assert_applies(&node, "still-working").await;
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_length_closes_the_connection_and_nothing_is_applied() {
    init_tracing();
    let (node, _dir, _) = start_single().await;
    node.propose(register(1)).await.unwrap();
    let before = node.metadata();

    let mut stream = TcpStream::connect(node.cluster_addr().unwrap())
        .await
        .unwrap();
    // Claims a frame of ~4 GiB, far over the limit, then sends a little.
    stream.write_all(&[0xff, 0xff, 0xff, 0xf0]).await.unwrap();
    stream.write_all(&[0u8; 64]).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(DEADLINE, stream.read(&mut buf))
        .await
        .expect("the node closes the connection within the deadline");
    // Closed: end of stream, or a reset because our unread bytes were still in flight.
    assert!(matches!(read, Ok(0) | Err(_)), "got {read:?}");
    assert_eq!(node.metadata(), before, "nothing was applied");

    assert_applies(&node, "still-working").await;
    node.shutdown().await.unwrap();
}
