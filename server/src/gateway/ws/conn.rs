//! What both endpoints do once upgraded: the heartbeat, error frames, batched sends with a
//! deadline, and closing with a code and a reason.

use std::fmt::Write as _;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;

use super::WsLimits;
use crate::gateway::errors::{GatewayError, log_message};

/// How long closing waits for our close frame to go out and for the peer's reply.
const CLOSE_LINGER: Duration = Duration::from_secs(1);
/// A close frame's reason is at most 123 bytes (125 minus the code).
const MAX_CLOSE_REASON: usize = 123;

pub(super) const GOING_AWAY: u16 = 1001;
pub(super) const UNSUPPORTED_DATA: u16 = 1003;
pub(super) const POLICY_VIOLATION: u16 = 1008;
pub(super) const MESSAGE_TOO_BIG: u16 = 1009;
pub(super) const INTERNAL_ERROR: u16 = 1011;

/// How a connection ends.
#[derive(Debug)]
pub(super) enum End {
    /// Send a close frame with this code and reason, then wait briefly for the peer's.
    Close(u16, String),
    /// The peer closed first: flush our automatic reply.
    PeerClosed,
    /// The peer is gone or not reading: drop the socket.
    Drop,
}

impl End {
    pub(super) fn shutdown() -> Self {
        End::Close(GOING_AWAY, "server shutting down".into())
    }

    /// The end for a failed read: 1009 for a message over the size limit, else a dropped
    /// socket (reset, protocol error, idle timeout).
    pub(super) fn read_failed(e: axum::Error, limits: &WsLimits) -> Self {
        let inner = e.into_inner();
        match inner.downcast_ref::<tungstenite::Error>() {
            Some(tungstenite::Error::Capacity(c)) => End::Close(
                MESSAGE_TOO_BIG,
                format!(
                    "{c}; limit {} bytes (limits.ws_max_message_size)",
                    limits.max_message_size
                ),
            ),
            _ => {
                tracing::debug!(cause = %inner, "WebSocket read failed");
                End::Drop
            }
        }
    }
}

/// A failure reported in an error frame: the Confluent code, the message, and the close code
/// that follows it where the connection ends (4000 + HTTP status for client errors, 1011 for
/// server errors).
#[derive(Debug)]
pub(super) struct Failure {
    pub error_code: u32,
    pub message: String,
    pub close_code: u16,
}

impl Failure {
    /// A protocol violation: closes with 1008.
    pub(super) fn policy(error_code: u32, message: impl Into<String>) -> Self {
        Failure {
            error_code,
            message: message.into(),
            close_code: POLICY_VIOLATION,
        }
    }

    /// The close that follows this failure's error frame.
    pub(super) fn end(&self) -> End {
        End::Close(self.close_code, self.message.clone())
    }
}

impl From<&GatewayError> for Failure {
    fn from(e: &GatewayError) -> Self {
        let (status, error_code) = e.status_and_code();
        let message = match e {
            GatewayError::Broker(crate::broker::Error::Log(l), _) => log_message(l),
            _ if status.is_server_error() => {
                tracing::error!(cause = %e, "WebSocket request failed");
                "Internal broker error; see the broker log.".to_owned()
            }
            _ => e.to_string(),
        };
        let close_code = if status.is_client_error() {
            4000 + status.as_u16()
        } else {
            INTERNAL_ERROR
        };
        Failure {
            error_code,
            message,
            close_code,
        }
    }
}

impl From<GatewayError> for Failure {
    fn from(e: GatewayError) -> Self {
        Failure::from(&e)
    }
}

/// `{"type":"error"[,"id":<id>],"error_code":N,"message":"..."}`; `id` is raw JSON text.
pub(super) fn error_frame(id: Option<&str>, f: &Failure) -> String {
    let mut s = String::from(r#"{"type":"error","#);
    if let Some(id) = id {
        let _ = write!(s, r#""id":{id},"#);
    }
    let message = serde_json::to_string(&f.message).unwrap_or_else(|_| "\"\"".into());
    let _ = write!(s, r#""error_code":{},"message":{message}}}"#, f.error_code);
    s
}

/// Pings every `ping_interval`; a peer that sends nothing for `pong_timeout` after a ping is
/// dead. Any frame from the peer counts, not only pongs.
#[derive(Debug)]
pub(super) struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    next_ping: Instant,
    deadline: Option<Instant>,
}

impl Heartbeat {
    pub(super) fn new(limits: &WsLimits) -> Self {
        Heartbeat {
            interval: limits.ping_interval,
            timeout: limits.pong_timeout,
            next_ping: Instant::now() + limits.ping_interval,
            deadline: None,
        }
    }

    /// When [`Heartbeat::wake`] has something to do.
    pub(super) fn next_wake(&self) -> Instant {
        self.deadline.unwrap_or(self.next_ping)
    }

    /// The peer sent a frame.
    pub(super) fn heard(&mut self) {
        self.deadline = None;
    }

    /// Sends a ping when due, or ends the connection when the last one went unanswered.
    pub(super) async fn wake(&mut self, ws: &mut WebSocket) -> Result<(), End> {
        let now = Instant::now();
        if let Some(deadline) = self.deadline {
            if now >= deadline {
                return Err(End::Close(
                    INTERNAL_ERROR,
                    format!(
                        "no pong within {} ms (limits.ws_pong_timeout)",
                        self.timeout.as_millis()
                    ),
                ));
            }
            return Ok(());
        }
        if now >= self.next_ping {
            send(ws, [Message::Ping(Bytes::new())], self.timeout).await?;
            self.deadline = Some(now + self.timeout);
            self.next_ping = now + self.interval;
        }
        Ok(())
    }

    /// The deadline for one batch of writes: a peer that leaves a write blocked this long is
    /// not reading.
    pub(super) fn write_timeout(&self) -> Duration {
        self.timeout
    }
}

/// Feeds every message, then flushes once, all within `deadline`.
///
/// # Errors
/// [`End::Drop`] when the socket fails or the deadline passes: a peer whose writes block is
/// not reading, and a close frame would only queue behind the blocked bytes.
pub(super) async fn send(
    ws: &mut WebSocket,
    messages: impl IntoIterator<Item = Message>,
    deadline: Duration,
) -> Result<(), End> {
    let work = async {
        for m in messages {
            ws.feed(m).await?;
        }
        ws.flush().await
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            tracing::debug!(cause = %e, "WebSocket write failed");
            Err(End::Drop)
        }
        Err(_) => {
            tracing::debug!(timeout = ?deadline, "WebSocket peer not reading; dropping it");
            Err(End::Drop)
        }
    }
}

/// Ends the connection as `end` says.
pub(super) async fn finish(mut ws: WebSocket, end: End) {
    tracing::debug!(?end, "WebSocket connection ends");
    match end {
        End::Close(code, reason) => {
            let frame = CloseFrame {
                code,
                reason: truncate(&reason, MAX_CLOSE_REASON).into(),
            };
            let sent = tokio::time::timeout(CLOSE_LINGER, ws.send(Message::Close(Some(frame))));
            if matches!(sent.await, Ok(Ok(()))) {
                // Wait for the peer's close so it reads ours before the TCP close. When the
                // read side is broken (a message over the limit is still arriving), wait out
                // the linger instead: closing a socket with unread input resets it, and the
                // reset could beat our close frame to the peer.
                let _ = tokio::time::timeout(CLOSE_LINGER, async {
                    loop {
                        match ws.next().await {
                            None | Some(Ok(Message::Close(_))) => return,
                            Some(Ok(_)) => {}
                            Some(Err(_)) => std::future::pending::<()>().await,
                        }
                    }
                })
                .await;
            }
        }
        End::PeerClosed => {
            let _ = tokio::time::timeout(CLOSE_LINGER, ws.close()).await;
        }
        End::Drop => {}
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_are_cut_on_char_boundaries() {
        assert_eq!(truncate("abc", 123), "abc");
        let long = "é".repeat(100);
        let cut = truncate(&long, MAX_CLOSE_REASON);
        assert!(cut.len() <= MAX_CLOSE_REASON);
        assert_eq!(cut.len(), 122);
    }

    #[test]
    fn error_frames_carry_the_id_as_given() {
        let f = Failure::policy(400, "bad \"thing\"");
        assert_eq!(
            error_frame(Some("\"a1\""), &f),
            r#"{"type":"error","id":"a1","error_code":400,"message":"bad \"thing\""}"#
        );
        assert_eq!(
            error_frame(None, &f),
            r#"{"type":"error","error_code":400,"message":"bad \"thing\""}"#
        );
    }
}
