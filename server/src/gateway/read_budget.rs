//! The memory budget of read responses: one broker-wide pool (`limits.read_memory`) that every
//! stateless read and v2 consumer poll draws from for the bytes its answer holds, until that
//! answer has been written to the client or dropped.
//!
//! A slow reader pins what its response holds for as long as it takes to read it; without a
//! shared bound, two dozen slow 64 MiB reads pin gigabytes. Here a read first [`reserves`]
//! room: as much as its `max_bytes` asks if the pool has it, else what is left (the read then
//! answers fewer bytes, as Kafka's fetch does under `fetch.max.bytes`), and never less than
//! one whole batch (KIP-74): with less than that free, it waits, first come first served. Once
//! the batches are read the [`Grant`] is fitted to what the answer actually holds, and it is
//! released only when the response body is done or dropped ([`chunked_body`] owns it).
//!
//! The answer itself is rendered lazily, a chunk ([`CHUNK`]) at a time as hyper writes, so a
//! client that does not read holds the fetched batches and one rendered chunk, not the whole
//! JSON text (base64 makes that a third larger than the batches).
//!
//! Permits count KiB, so a 4 GiB budget still fits the semaphore's `u32` acquisitions.
//!
//! [`reserves`]: ReadBudget::reserve

use std::convert::Infallible;
use std::sync::Arc;
use std::task::Poll;

use axum::body::{Body, Bytes};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::errors::GatewayError;
use super::metrics;

/// Bytes of rendered JSON produced per poll of a response body.
pub const CHUNK: usize = 64 << 10;

const KIB: usize = 1024;

/// The shared pool; cheap to clone.
#[derive(Debug, Clone)]
pub struct ReadBudget {
    permits: Arc<Semaphore>,
    total_kib: usize,
    fetch_max_bytes: usize,
}

impl ReadBudget {
    /// A pool of `total` bytes; reads answer at most `fetch_max_bytes` each.
    pub fn new(total: usize, fetch_max_bytes: usize) -> Self {
        let total_kib = total.div_ceil(KIB).clamp(1, u32::MAX as usize);
        ReadBudget {
            permits: Arc::new(Semaphore::new(total_kib)),
            total_kib,
            fetch_max_bytes: fetch_max_bytes.max(1),
        }
    }

    /// The most bytes one read answers (Kafka's `fetch.max.bytes`).
    pub fn fetch_max_bytes(&self) -> usize {
        self.fetch_max_bytes
    }

    /// Reserves room for a read of up to `max_bytes` of batches whose batches may each be up to
    /// `max_batch` bytes: all of it if free, else what is free but at least one batch (or the
    /// whole budget, if a batch is larger), waiting for that much when it is not free.
    ///
    /// # Errors
    /// Never in practice: the pool is never closed.
    pub async fn reserve(&self, max_bytes: usize, max_batch: usize) -> Result<Grant, GatewayError> {
        let least = kib(max_batch.saturating_add(CHUNK)).min(self.total_kib);
        let want = kib(max_bytes.saturating_add(CHUNK)).clamp(least, self.total_kib);
        let take = self.permits.available_permits().clamp(least, want);
        let permit = Arc::clone(&self.permits)
            .acquire_many_owned(u32::try_from(take).unwrap_or(u32::MAX))
            .await
            .map_err(|e| GatewayError::Internal(format!("read budget: {e}")))?;
        metrics::read_memory_held(permit.num_permits() * KIB, true);
        Ok(Grant {
            permit: Some(permit),
            pool: Arc::clone(&self.permits),
        })
    }
}

fn kib(bytes: usize) -> usize {
    bytes.div_ceil(KIB).max(1)
}

/// Room taken from the budget; given back when dropped.
#[derive(Debug)]
pub struct Grant {
    permit: Option<OwnedSemaphorePermit>,
    pool: Arc<Semaphore>,
}

impl Grant {
    fn kib(&self) -> usize {
        self.permit
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits)
    }

    /// Bytes of batches the read may fetch: the grant less one rendered chunk.
    pub fn read_bytes(&self) -> usize {
        (self.kib() * KIB).saturating_sub(CHUNK).max(1)
    }

    /// Fits the grant to `held` bytes (the fetched batches, or their decompressed records)
    /// plus one rendered chunk: gives back what the read did not use, or takes what a
    /// decompressed answer needs beyond it if the pool has it free. It never waits for more,
    /// which could deadlock readers that each hold part of the pool; the overshoot is at most
    /// the expansion of compressed batches.
    pub fn fit(&mut self, held: usize) {
        let need = kib(held.saturating_add(CHUNK));
        let have = self.kib();
        let Some(permit) = self.permit.as_mut() else {
            return;
        };
        if need < have {
            if let Some(excess) = permit.split(have - need) {
                metrics::read_memory_held(excess.num_permits() * KIB, false);
            }
        } else if need > have
            && let Ok(extra) = Arc::clone(&self.pool)
                .try_acquire_many_owned(u32::try_from(need - have).unwrap_or(u32::MAX))
        {
            metrics::read_memory_held(extra.num_permits() * KIB, true);
            permit.merge(extra);
        }
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        if let Some(p) = self.permit.take() {
            metrics::read_memory_held(p.num_permits() * KIB, false);
        }
    }
}

/// A response body that yields what `next_chunk` renders, one chunk per poll, and holds
/// `grant` until the last chunk has been handed to hyper or the body is dropped (a client that
/// went away).
pub fn chunked_body(
    grant: Grant,
    first: Bytes,
    mut next_chunk: impl FnMut() -> Option<Bytes> + Send + 'static,
) -> Body {
    let mut grant = Some(grant);
    let mut first = Some(first);
    Body::from_stream(futures_util::stream::poll_fn(move |_| {
        let chunk = first.take().or_else(&mut next_chunk);
        if chunk.is_none() {
            drop(grant.take());
        }
        Poll::Ready(chunk.map(Ok::<_, Infallible>))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_short_budget_grants_fewer_bytes_but_at_least_a_batch() {
        let budget = ReadBudget::new(4 << 20, 55 << 20);
        let mut first = budget.reserve(3 << 20, 1 << 20).await.unwrap();
        assert_eq!(first.read_bytes(), 3 << 20, "all it asked for");
        let second = budget.reserve(3 << 20, 256 << 10).await.unwrap();
        assert_eq!(second.read_bytes() + CHUNK, (4 << 20) - (3 << 20) - CHUNK);

        // Less than a batch free: the next read waits until room is given back.
        let pending = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(1 << 20, 1 << 20).await.unwrap().read_bytes() }
        });
        tokio::task::yield_now().await;
        assert!(!pending.is_finished());
        first.fit(100);
        assert_eq!(first.kib(), kib(100 + CHUNK), "unused room given back");
        assert_eq!(pending.await.unwrap(), 1 << 20);
        drop(second);
        assert_eq!(budget.permits.available_permits(), 4096 - first.kib());
    }

    #[tokio::test]
    async fn the_body_holds_its_grant_until_written_or_dropped() {
        let budget = ReadBudget::new(1 << 20, 1 << 20);
        let grant = budget.reserve(512 << 10, 1024).await.unwrap();
        let mut left = 1;
        let body = chunked_body(grant, Bytes::from_static(b"["), move || {
            left -= 1;
            (left >= 0).then(|| Bytes::from_static(b"]"))
        });
        assert!(budget.permits.available_permits() < 1024);
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert_eq!(&bytes[..], b"[]");
        assert_eq!(budget.permits.available_permits(), 1024);

        let grant = budget.reserve(512 << 10, 1024).await.unwrap();
        let body = chunked_body(grant, Bytes::new(), || None);
        drop(body);
        assert_eq!(budget.permits.available_permits(), 1024);
    }
}
