//! Reuse of the buffers reads fill: a small process-wide pool of `pread` buffers.
//!
//! A read of a few MiB otherwise allocates a fresh buffer, fills it from the page cache and
//! frees it on whichever thread drops the last record sliced from it. Allocators answer that
//! churn badly one way or the other: glibc's per-thread arenas hand the pages back to the
//! kernel and the next read faults them in again (the stateless read lost ~28% to
//! `clear_page`); mimalloc, tried instead, kept them, so the process held 250-300 MiB after a
//! burst of reads and never gave them back. A returned buffer is kept here instead (a bounded
//! number, each bounded in size) and the next read of at most its capacity fills it again: no
//! faults, and what stays resident after a burst is at most [`MAX_RETAINED`].
//!
//! A buffer goes back when the last `Bytes` pointing into it is dropped
//! ([`Bytes::from_owner`]), so records sliced from a read keep it alive as long as they live.

use bytes::Bytes;
use parking_lot::Mutex;

/// Buffers larger than this are not kept: a rare huge read should not pin its memory.
const MAX_POOLED_CAPACITY: usize = 16 << 20;
/// Bytes of capacity kept in the pool at most.
const MAX_RETAINED: usize = 64 << 20;

static POOL: Mutex<Pool> = Mutex::new(Pool {
    buffers: Vec::new(),
    retained: 0,
});

struct Pool {
    buffers: Vec<Vec<u8>>,
    retained: usize,
}

/// An empty buffer with room for `len` bytes: a pooled one when one is large enough.
pub(crate) fn take(len: usize) -> Vec<u8> {
    let mut pool = POOL.lock();
    // The smallest that fits, so large buffers stay for large reads.
    let best = pool
        .buffers
        .iter()
        .enumerate()
        .filter(|(_, b)| b.capacity() >= len)
        .min_by_key(|(_, b)| b.capacity())
        .map(|(i, _)| i);
    match best {
        Some(i) => {
            let buf = pool.buffers.swap_remove(i);
            pool.retained -= buf.capacity();
            buf
        }
        None => {
            drop(pool);
            Vec::with_capacity(len)
        }
    }
}

/// `buf` as `Bytes` that give it back to the pool when the last reference goes.
pub(crate) fn freeze(buf: Vec<u8>) -> Bytes {
    Bytes::from_owner(Pooled(buf))
}

struct Pooled(Vec<u8>);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.0);
        let capacity = buf.capacity();
        if capacity == 0 || capacity > MAX_POOLED_CAPACITY {
            return;
        }
        let mut pool = POOL.lock();
        if pool.retained + capacity > MAX_RETAINED {
            return;
        }
        buf.clear();
        pool.retained += capacity;
        pool.buffers.push(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_buffer_is_reused_and_its_bytes_stay_valid_while_referenced() {
        let mut buf = take(1000);
        buf.extend_from_slice(&[7u8; 1000]);
        let ptr = buf.as_ptr();
        let bytes = freeze(buf);
        let slice = bytes.slice(10..20);
        drop(bytes);
        // Still referenced by `slice`: not back in the pool, contents intact.
        assert_eq!(&slice[..], &[7u8; 10]);
        drop(slice);
        let again = take(1000);
        assert!(again.is_empty());
        // Other tests share the pool, so the same buffer is likely but not certain; what must
        // hold is that a pooled buffer comes back empty and large enough.
        assert!(again.capacity() >= 1000);
        let _ = ptr;
    }

    #[test]
    fn huge_buffers_are_not_kept() {
        let buf = Vec::with_capacity(MAX_POOLED_CAPACITY + 1);
        drop(freeze(buf));
        assert!(
            POOL.lock()
                .buffers
                .iter()
                .all(|b| b.capacity() <= MAX_POOLED_CAPACITY)
        );
        assert!(POOL.lock().retained <= MAX_RETAINED);
    }
}
