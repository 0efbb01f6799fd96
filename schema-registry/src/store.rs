//! Where the registry's state lives: an append-only, key-compacted log of records, in the
//! server the single-partition compacted topic `_schemas`.
//!
//! The registry needs two operations from it: append records (acknowledged only once they are
//! as durable as any acknowledged produce), and read every record back in order at start-up.
//! It also asks how large one record may be, so a schema whose record would not fit is refused
//! as too large (42209) before the append rather than failing in the log.
//! Keys and values are Confluent's JSON layouts (see `registry::records`); a `None` value is a
//! tombstone, which compaction eventually drops together with every earlier record of its key.
//!
//! The trait keeps this crate independent of the server: the server implements it over its
//! broker (`runnel::schemas`), tests use [`MemoryStore`].
//!
//! Not owned here: what the records mean (`registry.rs`) or who may write (the registry's
//! single writer).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

/// One stored record: a key and a value, `None` for a tombstone.
pub type StoreRecord = (Bytes, Option<Bytes>);

/// A boxed future, as the store's methods return (the trait stays object-safe).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A failure of the underlying log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The append was not acknowledged; it may or may not be in the log.
    #[error("append to the schema store failed: {0}")]
    Append(String),
    /// Reading the log back failed.
    #[error("reading the schema store failed: {0}")]
    Read(String),
    /// The log is not usable as a schema store (wrong partition count, ...).
    #[error("the schema store is misconfigured: {0}")]
    Misconfigured(String),
}

/// The registry's durable log.
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Appends `records` in order; resolves once all of them are acknowledged.
    ///
    /// # Errors
    /// [`StoreError::Append`] when any record was not written.
    fn append(&self, records: Vec<StoreRecord>) -> StoreFuture<'_, ()>;

    /// Every record in the log, oldest first (after compaction: the latest of each key, in
    /// the order they were written, plus tombstones not yet removed).
    ///
    /// # Errors
    /// [`StoreError::Read`].
    fn replay(&self) -> StoreFuture<'_, Vec<StoreRecord>>;

    /// The largest record, key plus value bytes, an append accepts.
    fn max_record_bytes(&self) -> usize;
}

/// An in-memory [`Store`] for tests: a `Vec` of records, optionally failing appends.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<MemoryInner>>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    records: Vec<StoreRecord>,
    fail_appends: bool,
    lose_acks: bool,
    /// `None`: unbounded.
    max_record_bytes: Option<usize>,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Makes every later append fail (or succeed again).
    pub fn set_fail_appends(&self, fail: bool) {
        self.inner.lock().fail_appends = fail;
    }

    /// Makes every later append store its records and still fail, as a lost acknowledgement.
    pub fn set_lose_acks(&self, lose: bool) {
        self.inner.lock().lose_acks = lose;
    }

    /// Bounds one record's key plus value, as a topic's `max.message.bytes` does.
    pub fn set_max_record_bytes(&self, max: usize) {
        self.inner.lock().max_record_bytes = Some(max);
    }

    /// Every record appended so far.
    pub fn records(&self) -> Vec<StoreRecord> {
        self.inner.lock().records.clone()
    }

    /// Keeps only the latest record of each key, in log order, dropping tombstones: what a
    /// fully compacted topic holds once tombstones expired.
    pub fn compact(&self) {
        let mut inner = self.inner.lock();
        let mut latest = std::collections::HashMap::new();
        for (i, (k, _)) in inner.records.iter().enumerate() {
            latest.insert(k.clone(), i);
        }
        let records = std::mem::take(&mut inner.records);
        inner.records = records
            .into_iter()
            .enumerate()
            .filter(|(i, (k, v))| latest.get(k) == Some(i) && v.is_some())
            .map(|(_, r)| r)
            .collect();
    }
}

impl Store for MemoryStore {
    fn append(&self, records: Vec<StoreRecord>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut inner = self.inner.lock();
            if inner.fail_appends {
                return Err(StoreError::Append(
                    "the memory store fails on purpose".into(),
                ));
            }
            let max = inner.max_record_bytes.unwrap_or(usize::MAX);
            if records
                .iter()
                .any(|(k, v)| k.len() + v.as_ref().map_or(0, Bytes::len) > max)
            {
                return Err(StoreError::Append(format!(
                    "a record is larger than the memory store's limit of {max} bytes"
                )));
            }
            inner.records.extend(records);
            if inner.lose_acks {
                return Err(StoreError::Append(
                    "the acknowledgement was lost on purpose".into(),
                ));
            }
            Ok(())
        })
    }

    fn replay(&self) -> StoreFuture<'_, Vec<StoreRecord>> {
        Box::pin(async move { Ok(self.inner.lock().records.clone()) })
    }

    fn max_record_bytes(&self) -> usize {
        self.inner.lock().max_record_bytes.unwrap_or(usize::MAX)
    }
}
