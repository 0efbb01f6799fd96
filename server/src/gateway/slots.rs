//! Request slots: how many requests the gateway works on at once, and how many long-polls it
//! lets wait.
//!
//! Two pools. An *active* slot (`limits.max_concurrent_requests`) is taken by every request
//! when it arrives; past the limit the request is shed at once with 429 (42901), as before. A
//! request that is about to wait for records (a stateless read with `timeout` at the log end, a
//! v2 consumer poll) calls [`RequestSlot::park`]: it gives its active slot back and takes a
//! *waiting* slot (`limits.max_waiting_polls`) instead, so a thousand tailing readers never
//! crowd out produce requests. Past the waiting limit the poll is refused with 429 rather than
//! kept active. The read after the wait runs without an active slot: it is short, and the
//! memory it may hold is bounded by `read_budget.rs`.
//!
//! The probes (`/health`, `/ready`) and `/metrics` are outside both pools: an orchestrator must
//! see a live broker as live however busy it is.
//!
//! Not owned here: WebSocket connections (their own limit in `ws/`), bodies (`body_guard.rs`).

use std::sync::Arc;

use axum::extract::Request;
use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use super::errors::GatewayError;
use super::metrics;

/// Paths served whatever the load.
const UNLIMITED_PATHS: [&str; 3] = ["/health", "/ready", "/metrics"];

/// The two pools, shared by every request.
#[derive(Debug, Clone)]
pub struct Slots {
    active: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
}

impl Slots {
    pub fn new(max_active: usize, max_waiting: usize) -> Self {
        Slots {
            active: Arc::new(Semaphore::new(max_active)),
            waiting: Arc::new(Semaphore::new(max_waiting)),
        }
    }
}

/// A request's hold on an active slot, in its extensions; see [`RequestSlot::park`].
#[derive(Debug, Clone)]
pub struct RequestSlot {
    active: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
    waiting: Arc<Semaphore>,
}

/// A waiting slot, held while a long-poll waits and until its answer is built.
#[derive(Debug)]
pub struct Parked {
    _permit: OwnedSemaphorePermit,
}

impl Drop for Parked {
    fn drop(&mut self) {
        metrics::poll_unparked();
    }
}

impl RequestSlot {
    /// Trades this request's active slot for a waiting one, before a long-poll waits.
    ///
    /// # Errors
    /// [`GatewayError::TooManyWaiting`] when every waiting slot is taken; the request keeps
    /// its active slot and should answer at once.
    pub fn park(&self) -> Result<Parked, GatewayError> {
        let permit = match Arc::clone(&self.waiting).try_acquire_owned() {
            Ok(p) => p,
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                return Err(GatewayError::TooManyWaiting);
            }
        };
        if self.active.lock().take().is_some() {
            metrics::request_finished();
        }
        metrics::poll_parked();
        Ok(Parked { _permit: permit })
    }
}

/// Parks `slot` if there is one (a router built without [`Slots::admit`] has none, and its
/// requests wait without counting).
///
/// # Errors
/// As [`RequestSlot::park`].
pub fn park(slot: Option<&RequestSlot>) -> Result<Option<Parked>, GatewayError> {
    slot.map(RequestSlot::park).transpose()
}

impl Slots {
    /// Takes an active slot for `req` (recorded in its extensions for [`park`]), except for the
    /// probes and `/metrics`, which take none.
    ///
    /// # Errors
    /// [`GatewayError::TooManyRequests`] when every active slot is taken.
    pub fn admit(&self, req: &mut Request) -> Result<Option<Admitted>, GatewayError> {
        if UNLIMITED_PATHS.contains(&req.uri().path()) {
            return Ok(None);
        }
        let Ok(permit) = Arc::clone(&self.active).try_acquire_owned() else {
            return Err(GatewayError::TooManyRequests);
        };
        metrics::request_started();
        let active = Arc::new(Mutex::new(Some(permit)));
        req.extensions_mut().insert(RequestSlot {
            active: Arc::clone(&active),
            waiting: Arc::clone(&self.waiting),
        });
        Ok(Some(Admitted { active }))
    }
}

/// A request's active slot, given back when the request is answered (unless it parked).
#[derive(Debug)]
pub struct Admitted {
    active: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if self.active.lock().take().is_some() {
            metrics::request_finished();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(slots: &Slots) -> RequestSlot {
        let permit = Arc::clone(&slots.active).try_acquire_owned().unwrap();
        RequestSlot {
            active: Arc::new(Mutex::new(Some(permit))),
            waiting: Arc::clone(&slots.waiting),
        }
    }

    #[test]
    fn parking_frees_the_active_slot_until_the_waiting_pool_is_full() {
        let slots = Slots::new(1, 2);
        let first = slot(&slots);
        assert_eq!(slots.active.available_permits(), 0);
        let parked = first.park().unwrap();
        assert_eq!(
            slots.active.available_permits(),
            1,
            "active slot given back"
        );

        let second = slot(&slots);
        let _also = second.park().unwrap();
        let third = slot(&slots);
        assert!(matches!(third.park(), Err(GatewayError::TooManyWaiting)));
        assert_eq!(
            slots.active.available_permits(),
            0,
            "a refused park keeps its active slot"
        );
        drop(parked);
        assert_eq!(slots.waiting.available_permits(), 1);
    }
}
