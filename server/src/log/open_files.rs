//! The broker-wide bounded cache of open sealed segments (Kafka keeps every segment open; with
//! tiny `segment.bytes` that exhausts `RLIMIT_NOFILE`).
//!
//! A sealed segment holds no file descriptor of its own: its `.log` file is opened, and its
//! indexes mapped read-only, on first use and kept here, least recently used first out, so the
//! whole process holds at most [`capacity`] sealed log files however many segments exist. Entries
//! are `Arc`s: a read that took one before it was evicted keeps a working file (the descriptor is
//! closed when the last holder drops it), so eviction never breaks a read in flight. Index maps
//! hold no descriptor, and being dropped with their entry they also stay within the
//! `vm.max_map_count` budget.
//!
//! Not owned here: what an entry holds or how it is loaded (`segment.rs`), the active segments,
//! which keep their log file open for appends (one descriptor per partition).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use super::segment::SealedFiles;

/// Sealed segments kept open until the broker sizes the cache from its open-file limit
/// ([`set_capacity`]); enough for tests and small embeddings.
const DEFAULT_CAPACITY: usize = 256;

static SEALED: LazyLock<Lru<SealedFiles>> = LazyLock::new(|| Lru::new(DEFAULT_CAPACITY));
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The process-wide cache of sealed segments.
pub(crate) fn sealed() -> &'static Lru<SealedFiles> {
    &SEALED
}

/// A key no other segment instance ever had: a segment replaced by compaction gets a new one, so
/// its old files can never be served for it.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Sets how many sealed segments stay open (at least one).
pub fn set_capacity(capacity: usize) {
    SEALED.set_capacity(capacity);
}

/// How many sealed segments stay open at most.
pub fn capacity() -> usize {
    SEALED.capacity()
}

/// How many sealed segments are open now.
pub fn open_count() -> usize {
    SEALED.len()
}

/// A least-recently-used map from segment id to shared open files.
#[derive(Debug)]
pub(crate) struct Lru<V> {
    inner: Mutex<Inner<V>>,
}

#[derive(Debug)]
struct Inner<V> {
    capacity: usize,
    /// Bumped on every use; the smallest tick is the least recently used entry.
    tick: u64,
    entries: HashMap<u64, (u64, Arc<V>)>,
    by_tick: BTreeMap<u64, u64>,
}

impl<V> Inner<V> {
    fn evict_to(&mut self, keep: usize) -> Vec<Arc<V>> {
        let mut evicted = Vec::new();
        while self.entries.len() > keep {
            let Some((_, id)) = self.by_tick.pop_first() else {
                break;
            };
            if let Some((_, v)) = self.entries.remove(&id) {
                evicted.push(v);
            }
        }
        evicted
    }
}

impl<V> Lru<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Lru {
            inner: Mutex::new(Inner {
                capacity: capacity.max(1),
                tick: 0,
                entries: HashMap::new(),
                by_tick: BTreeMap::new(),
            }),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.inner.lock().capacity
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    pub(crate) fn set_capacity(&self, capacity: usize) {
        let evicted = {
            let mut inner = self.inner.lock();
            inner.capacity = capacity.max(1);
            let keep = inner.capacity;
            inner.evict_to(keep)
        };
        // Descriptors close here, outside the lock.
        drop(evicted);
    }

    /// The entry for `id`, now the most recently used.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<V>> {
        let mut inner = self.inner.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let (old_tick, v) = inner.entries.get_mut(&id)?;
        let prev = std::mem::replace(old_tick, tick);
        let v = Arc::clone(v);
        inner.by_tick.remove(&prev);
        inner.by_tick.insert(tick, id);
        Some(v)
    }

    /// Adds (or replaces) the entry for `id`, evicting the least recently used past capacity.
    pub(crate) fn insert(&self, id: u64, value: Arc<V>) {
        let evicted = {
            let mut inner = self.inner.lock();
            inner.tick += 1;
            let tick = inner.tick;
            if let Some((prev, _)) = inner.entries.insert(id, (tick, value)) {
                inner.by_tick.remove(&prev);
            }
            inner.by_tick.insert(tick, id);
            let keep = inner.capacity;
            inner.evict_to(keep)
        };
        drop(evicted);
    }

    /// Forgets `id` (its segment was sealed anew, replaced or deleted).
    pub(crate) fn remove(&self, id: u64) {
        let removed = {
            let mut inner = self.inner.lock();
            let removed = inner.entries.remove(&id);
            if let Some((tick, _)) = &removed {
                inner.by_tick.remove(tick);
            }
            removed
        };
        drop(removed);
    }

    /// Closes the older half of the entries: the process ran out of descriptors, and idle
    /// segments give them back before anything else fails.
    pub(crate) fn shed_half(&self) -> usize {
        let evicted = {
            let mut inner = self.inner.lock();
            let keep = inner.entries.len() / 2;
            inner.evict_to(keep)
        };
        evicted.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::fs::File;
    use std::io::Write;
    use std::os::unix::fs::FileExt;

    use super::*;

    fn file_with(dir: &std::path::Path, name: &str, text: &str) -> Arc<File> {
        let path = dir.join(name);
        File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        Arc::new(File::open(&path).unwrap())
    }

    #[test]
    fn least_recently_used_entry_is_evicted_first() {
        let dir = tempfile::tempdir().unwrap();
        let lru = Lru::new(2);
        lru.insert(1, file_with(dir.path(), "a", "a"));
        lru.insert(2, file_with(dir.path(), "b", "b"));
        assert!(lru.get(1).is_some(), "1 is now the most recent");
        lru.insert(3, file_with(dir.path(), "c", "c"));
        assert_eq!(lru.len(), 2);
        assert!(lru.get(2).is_none(), "2 was the least recently used");
        assert!(lru.get(1).is_some());
        assert!(lru.get(3).is_some());
    }

    #[test]
    fn a_read_holding_an_evicted_file_still_works() {
        let dir = tempfile::tempdir().unwrap();
        let lru = Lru::new(1);
        lru.insert(1, file_with(dir.path(), "a", "held"));
        let held = lru.get(1).unwrap();
        lru.insert(2, file_with(dir.path(), "b", "b"));
        assert!(lru.get(1).is_none(), "evicted");
        let mut buf = [0u8; 4];
        held.read_exact_at(&mut buf, 0).unwrap();
        assert_eq!(&buf, b"held");
    }

    #[test]
    fn shrinking_and_shedding_close_entries() {
        let dir = tempfile::tempdir().unwrap();
        let lru = Lru::new(8);
        for id in 0..8 {
            lru.insert(id, file_with(dir.path(), &id.to_string(), "x"));
        }
        assert_eq!(lru.shed_half(), 4);
        assert!(lru.get(0).is_none() && lru.get(7).is_some());
        lru.set_capacity(1);
        assert_eq!(lru.len(), 1);
        assert!(lru.get(7).is_some(), "the most recent entry stays");
        lru.remove(7);
        assert_eq!(lru.len(), 0);
    }
}
