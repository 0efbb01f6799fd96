//! Time as a dependency: a [`Clock`] gives monotonic instants (for timeouts) and wall-clock
//! milliseconds (for timestamps that are stored or shown).
//!
//! Logic that expires things — consumer-group sessions today, ISR membership and retention
//! later — takes an `Arc<dyn Clock>` instead of calling `Instant::now()`, so its tests drive a
//! [`ManualClock`] forward and check the outcome without sleeping (iggy `core/clock`).
//!
//! Not owned here: scheduling. Whoever runs a periodic check still uses a Tokio interval; the
//! clock only answers "what time is it".

use std::fmt::Debug;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

/// A source of time.
pub trait Clock: Debug + Send + Sync + 'static {
    /// A monotonic instant, for measuring timeouts.
    fn now(&self) -> Instant;
    /// Milliseconds since the Unix epoch, for timestamps that leave the process.
    fn unix_ms(&self) -> i64;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told to: both readings advance together.
///
/// ```
/// use std::time::Duration;
/// use runnel::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_000);
/// let before = clock.now();
/// clock.advance(Duration::from_secs(3));
/// assert_eq!(clock.now() - before, Duration::from_secs(3));
/// assert_eq!(clock.unix_ms(), 4_000);
/// ```
#[derive(Debug)]
pub struct ManualClock {
    /// Fixed at creation; `now()` is this plus `elapsed`.
    origin: Instant,
    origin_unix_ms: i64,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    /// A clock whose wall-clock reading starts at `unix_ms`.
    pub fn new(unix_ms: i64) -> Self {
        ManualClock {
            origin: Instant::now(),
            origin_unix_ms: unix_ms,
            elapsed: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves both readings forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.elapsed.lock() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.origin + *self.elapsed.lock()
    }

    fn unix_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.elapsed.lock().as_millis()).unwrap_or(i64::MAX);
        self.origin_unix_ms.saturating_add(elapsed)
    }
}
