//! One lock per subject, for registrations: those to one subject run one at a time (each is
//! checked against the versions the one before may add), those to different subjects run side
//! by side.
//!
//! An entry lives only while someone holds or waits for its lock, so the map is bounded by the
//! registrations in flight, not by every subject ever named in a request.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// The per-subject locks of one registry.
#[derive(Debug, Default)]
pub(crate) struct SubjectLocks {
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// Holds one subject's lock; dropping it (also while still waiting) releases the lock and
/// removes the entry once nobody else uses it.
#[derive(Debug)]
pub(crate) struct SubjectGuard<'a> {
    owner: &'a SubjectLocks,
    subject: String,
    lock: Option<Arc<AsyncMutex<()>>>,
    held: Option<OwnedMutexGuard<()>>,
}

impl SubjectLocks {
    /// Waits for `subject`'s lock.
    pub(crate) async fn lock(&self, subject: &str) -> SubjectGuard<'_> {
        let lock = Arc::clone(self.locks.lock().entry(subject.to_owned()).or_default());
        let mut guard = SubjectGuard {
            owner: self,
            subject: subject.to_owned(),
            lock: Some(Arc::clone(&lock)),
            held: None,
        };
        guard.held = Some(lock.lock_owned().await);
        guard
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.locks.lock().len()
    }
}

impl Drop for SubjectGuard<'_> {
    fn drop(&mut self) {
        let mut locks = self.owner.locks.lock();
        self.held = None;
        self.lock = None;
        // Every other user clones the entry under this map lock, so a count of one (the map's)
        // means nobody holds or waits for it.
        if locks
            .get(&self.subject)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.subject);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_subject_waits_other_subjects_do_not_and_entries_go() {
        let locks = SubjectLocks::default();
        let a = locks.lock("a").await;
        // Another subject is free while "a" is held.
        let b = locks.lock("b").await;
        assert_eq!(locks.len(), 2);
        drop(b);
        assert_eq!(locks.len(), 1);
        // "a" again waits until the first guard goes.
        let waiting = locks.lock("a");
        tokio::pin!(waiting);
        assert!(
            futures_util::poll!(waiting.as_mut()).is_pending(),
            "a second lock of one subject must wait"
        );
        drop(a);
        let again = waiting.await;
        drop(again);
        assert_eq!(locks.len(), 0, "no entry outlives its users");
    }
}
