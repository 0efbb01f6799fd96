//! The socket's life: the connection limit, heartbeats both ways, shutdown.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_limit_refuses_with_429_and_frees_slots_on_close() {
    let server = Server::start(WsLimits {
        max_connections: 2,
        ..test_limits()
    })
    .await;
    server.topic("lim", 1).await;
    let a = server.connect("/v1/ws/consume?topic=lim").await;
    let _b = server.connect("/v1/ws/produce?topic=lim").await;
    let (status, body) = server.refused("/v1/ws/consume?topic=lim").await;
    assert_eq!((status, body["error_code"].as_u64()), (429, Some(42901)));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("ws_max_connections")
    );
    drop(a);
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.rt.open_connections() >= 2 {
        assert!(tokio::time::Instant::now() < deadline, "slot never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _c = server.connect("/v1/ws/consume?topic=lim").await;
}

/// A receive-only tail outlives the listener's idle timeout: the server's pings draw pongs,
/// which are reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_keep_a_receive_only_tail_past_the_idle_timeout() {
    let server = Server::start_with(
        WsLimits {
            ping_interval: Duration::from_millis(200),
            pong_timeout: Duration::from_secs(2),
            ..test_limits()
        },
        Some(Duration::from_millis(600)),
    )
    .await;
    server.topic("quiet", 1).await;
    let mut ws = server.connect("/v1/ws/consume?topic=quiet&credit=5").await;
    // Only reading (which answers pings) for several idle timeouts.
    assert!(
        next_message(&mut ws, Duration::from_secs(2))
            .await
            .is_none()
    );
    server.append("quiet", 0, vec![json_record(0, None)]).await;
    assert_eq!(offsets(&records(&mut ws, 1).await), vec![0]);
}

/// A client that never answers pings is closed with 1011 after the pong timeout. Raw TCP, so
/// nothing answers the pings automatically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_pongs_is_closed_with_1011() {
    let server = Server::start(WsLimits {
        ping_interval: Duration::from_millis(100),
        pong_timeout: Duration::from_millis(300),
        ..test_limits()
    })
    .await;
    server.topic("deaf", 1).await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let handshake = format!(
        "GET /v1/ws/consume?topic=deaf HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(WAIT, read_all).await.unwrap();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    let frames = &got[text.find("\r\n\r\n").unwrap() + 4..];
    // Unmasked server frames: pings (0x89), then a close (0x88) with code 1011.
    assert_eq!(frames[0], 0x89, "{frames:?}");
    let close = frames
        .windows(4)
        .position(|w| w[0] == 0x88 && w[2..4] == 1011u16.to_be_bytes());
    assert!(close.is_some(), "no 1011 close in {frames:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_sockets_with_1001() {
    let server = Server::start(test_limits()).await;
    server.topic("bye", 1).await;
    let mut tail = server.connect("/v1/ws/consume?topic=bye").await;
    let mut prod = server.connect("/v1/ws/produce?topic=bye").await;
    server.shutdown.cancel();
    assert_eq!(close_code(&mut tail).await.0, Some(1001));
    assert_eq!(close_code(&mut prod).await.0, Some(1001));
    server.rt.drain(Duration::from_secs(5)).await;
    assert_eq!(server.rt.open_connections(), 0);
}
