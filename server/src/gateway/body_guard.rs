//! Admission: the request slot a request takes (`slots.rs`), and request bodies the gateway
//! refuses before they cost anything: one declared too large, and one sent too slowly. All in
//! one middleware, [`admit`].
//!
//! - A `Content-Length` above `limits.max_request_body` is answered 413
//!   before the handler runs, so no byte of the body is read and hyper never sends
//!   `100 Continue` (it does so only when a body is first polled). Bodies without a length are
//!   still cut at the limit as they arrive (`DefaultBodyLimit`, `extract.rs`). The schema
//!   registry's routes keep their own, smaller limit (42209) and are left to it.
//! - A body must arrive within `limits.body_read_timeout` of its first read,
//!   plus one second per `limits.min_body_rate` bytes received (Apache's `mod_reqtimeout`
//!   `body=20,MinRate=500`). A client that falls behind gets 408 and its connection is closed,
//!   so a thousand clients trickling a byte every 20 s cannot hold every request slot.
//!   Confluent's streaming produce (a chunked body to the v3 records route) is exempt: it is a
//!   long-lived stream of records sent as they happen, bounded by `limits.idle_timeout`.
//!
//! Not owned here: the time allowed for headers (`listener.rs`).

use std::collections::HashSet;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::errors::GatewayError;
use super::slots::Slots;

/// The route whose chunked bodies are Confluent's streaming produce.
const STREAMING_ROUTE: &str = "/v3/clusters/{cluster_id}/topics/{topic}/records";

/// The minimum body rate: `grace` for any body, then `bytes_per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRate {
    pub grace: Duration,
    pub bytes_per_second: u64,
}

impl BodyRate {
    /// How long after its first read a body that has delivered `received` bytes may still run.
    fn allowance(self, received: u64) -> Duration {
        let earned = received / self.bytes_per_second.max(1);
        self.grace.saturating_add(Duration::from_secs(earned))
    }
}

/// The error a too-slow body ends with; the handler sees it as a failed read.
#[derive(Debug, thiserror::Error)]
#[error("request body arrived slower than {bytes_per_second} bytes/s after the first {grace:?}")]
pub struct BodyTooSlow {
    grace: Duration,
    bytes_per_second: u64,
}

/// What [`admit`] checks every request against.
#[derive(Debug, Clone)]
pub struct Admission {
    pub slots: Slots,
    pub rate: BodyRate,
    pub max_request_body: usize,
    /// Matched routes that keep their own body limit and error (the schema registry's 42209).
    pub own_body_limit: Arc<HashSet<String>>,
}

/// Middleware, the one every request passes (one layer, not three, because each `from_fn`
/// layer costs a boxed future and a service clone per request): an active request slot
/// (`slots.rs`; 429 when none is free), 413 for a declared `Content-Length` over
/// `max_request_body` before any byte is read, and the minimum body rate, after which a
/// client that fell behind gets 408 (whatever the handler made of its failed read) and the
/// connection is closed.
pub async fn admit(State(admission): State<Admission>, mut req: Request, next: Next) -> Response {
    let slot = match admission.slots.admit(&mut req) {
        Ok(slot) => slot,
        Err(e) => return e.into_response(),
    };
    if let Some(refusal) = declared_too_large(&req, &admission) {
        return refusal;
    }
    if !has_body(&req) || is_streaming_produce(&req) {
        let response = next.run(req).await;
        drop(slot);
        return response;
    }
    let too_slow = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let guarded = Body::new(RateGuarded {
        inner: body,
        rate: admission.rate,
        received: 0,
        first_read: None,
        timer: None,
        too_slow: Arc::clone(&too_slow),
    });
    let response = next.run(Request::from_parts(parts, guarded)).await;
    drop(slot);
    if too_slow.load(Ordering::Acquire) {
        tracing::debug!("closing a connection whose request body was too slow");
        return closing(GatewayError::RequestTimeout);
    }
    response
}

/// 413 for a declared `Content-Length` over the limit, on the routes that use it.
fn declared_too_large(req: &Request, admission: &Admission) -> Option<Response> {
    let max = admission.max_request_body;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())?;
    let own_limit = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| admission.own_body_limit.contains(p.as_str()));
    (declared > max as u64 && !own_limit).then(|| {
        closing(GatewayError::PayloadTooLarge(format!(
            "Request body of {declared} bytes is larger than the configured limit of {max} bytes \
             (limits.max_request_body)."
        )))
    })
}

/// Whether a body follows the headers at all (HTTP/1.1: a non-zero length, or chunks).
fn has_body(req: &Request) -> bool {
    let headers = req.headers();
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

fn is_streaming_produce(req: &Request) -> bool {
    req.method() == Method::POST
        && req
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|p| p.as_str() == STREAMING_ROUTE)
        && req
            .headers()
            .get(TRANSFER_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
}

/// `err`'s answer, telling hyper not to keep the connection: the unread or half-read body
/// must not be taken for the next request.
fn closing(err: GatewayError) -> Response {
    let mut response = err.into_response();
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails with [`BodyTooSlow`] once it falls behind its [`BodyRate`].
struct RateGuarded {
    inner: Body,
    rate: BodyRate,
    received: u64,
    /// The clock starts at the first read, not at arrival: a handler may check other things
    /// before it reads.
    first_read: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
    too_slow: Arc<AtomicBool>,
}

impl http_body::Body for RateGuarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.too_slow.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        let first_read = *this.first_read.get_or_insert_with(Instant::now);
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                this.received += data.map_or(0, |d| d.len() as u64);
            }
            return Poll::Ready(frame);
        }
        let deadline = first_read + this.rate.allowance(this.received);
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        ready!(timer.as_mut().poll(cx));
        this.too_slow.store(true, Ordering::Release);
        Poll::Ready(Some(Err(axum::Error::new(BodyTooSlow {
            grace: this.rate.grace,
            bytes_per_second: this.rate.bytes_per_second,
        }))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: BodyRate = BodyRate {
        grace: Duration::from_secs(20),
        bytes_per_second: 500,
    };

    #[test]
    fn each_rate_worth_of_bytes_buys_a_second() {
        assert_eq!(RATE.allowance(0), Duration::from_secs(20));
        assert_eq!(RATE.allowance(499), Duration::from_secs(20));
        assert_eq!(RATE.allowance(5_000), Duration::from_secs(30));
    }

    /// A short grace, so the test runs on the real clock in well under a second.
    const QUICK: BodyRate = BodyRate {
        grace: Duration::from_millis(300),
        bytes_per_second: 1000,
    };

    fn guarded(rx: tokio::sync::mpsc::Receiver<Bytes>) -> (Body, Arc<AtomicBool>) {
        let mut rx = rx;
        let inner = Body::from_stream(futures_util::stream::poll_fn(move |cx| {
            rx.poll_recv(cx).map(|b| b.map(Ok::<_, std::io::Error>))
        }));
        let flag = Arc::new(AtomicBool::new(false));
        let body = Body::new(RateGuarded {
            inner,
            rate: QUICK,
            received: 0,
            first_read: None,
            timer: None,
            too_slow: Arc::clone(&flag),
        });
        (body, flag)
    }

    #[tokio::test]
    async fn a_body_slower_than_the_rate_fails_and_a_faster_one_arrives() {
        // Each 1,000 bytes buy a second; 10 of them sent 50 ms apart are never cut.
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let (body, flag) = guarded(rx);
        tokio::spawn(async move {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = tx.send(Bytes::from(vec![b'x'; 1000])).await;
            }
        });
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("the fast body arrives");
        assert_eq!(bytes.len(), 10_000);
        assert!(!flag.load(Ordering::Relaxed));

        // Nothing after the first byte: cut once the grace has passed.
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let (body, flag) = guarded(rx);
        tx.send(Bytes::from_static(b"x")).await.unwrap();
        let err = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect_err("the slow body fails");
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert!(
            format!("{err} {cause:?}").contains("slower than 1000 bytes/s"),
            "{err} {cause:?}"
        );
        assert!(flag.load(Ordering::Relaxed));
        drop(tx);
    }
}
