//! Accepting connections: the HTTP/1.1 server loop under the router.
//!
//! Owns what `axum::serve` does not let us set: the time a client may take to send a request's
//! headers (so clients trickling bytes cannot hold connections forever), the idle time of a
//! keep-alive connection (a read timeout on the socket), the time a client may leave our
//! writes blocked (a reader that stops reading its answer is closed, and the response memory
//! it pinned, `read_budget.rs`, goes back), the open-connections gauge, and the graceful drain
//! (stop accepting, let in-flight requests finish, up to a deadline).
//!
//! Not owned here: per-request limits (body size, concurrency), which are router layers.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use super::metrics;

/// Connection-level timeouts.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
}

/// A socket whose reads fail after `idle` without a byte (closing idle keep-alive
/// connections), and whose writes fail after `idle` blocked (closing clients that stopped
/// reading).
#[derive(Debug)]
struct IdleTimeout {
    inner: TcpStream,
    idle: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    write_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl AsyncRead for IdleTimeout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.deadline = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let idle = this.idle;
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "connection idle for too long",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl IdleTimeout {
    /// Passes a write's result on, failing a write that has stayed blocked for `idle`.
    fn check_write(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<std::io::Result<usize>>,
    ) -> Poll<std::io::Result<usize>> {
        if result.is_ready() {
            self.write_deadline = None;
            return result;
        }
        let idle = self.idle;
        let deadline = self
            .write_deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "client has not read its answer for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for IdleTimeout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.check_write(cx, result)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.check_write(cx, result)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Serves `app` on `listener` until `shutdown`, then drains in-flight requests for at most
/// `drain_timeout`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
    drain_timeout: Duration,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    warn!(cause = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(IdleTimeout {
            inner: stream,
            idle: limits.idle_timeout,
            deadline: None,
            write_deadline: None,
        });
        let service = TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(io, service).with_upgrades();
        let stop = shutdown.clone();
        metrics::connection_opened();
        connections.spawn(async move {
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                () = stop.cancelled() => {
                    // Finish the request in flight, then close instead of keeping alive.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                debug!(peer = %peer, cause = %e, "connection ended with an error");
            }
            metrics::connection_closed();
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(drain_timeout, connections.wait())
        .await
        .is_err()
    {
        warn!(timeout = ?drain_timeout, "requests still running at the drain deadline; closing anyway");
    }
}
