//! The Raft log store against an in-memory model: random appends, truncations, purges and
//! reopens must leave the store with the model's entries and log state after every step.

use std::collections::BTreeMap;

use openraft::RaftLogReader;
use openraft::storage::{RaftLogStorage, RaftLogStorageExt};
use openraft::testing::{blank_ent, log_id};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use super::{LogStore, open};
use crate::types::TypeConfig;

#[derive(Debug, Clone)]
enum Op {
    /// Append this many entries after the last one.
    Append(u64),
    /// Truncate at a point chosen by this fraction of the live range.
    Truncate(u8),
    /// Purge up to a point chosen by this fraction of the live range (past its end when 255,
    /// as openraft does after installing a snapshot ahead of the log).
    Purge(u8),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u64..6).prop_map(Op::Append),
        1 => any::<u8>().prop_map(Op::Truncate),
        2 => any::<u8>().prop_map(Op::Purge),
        1 => Just(Op::Reopen),
    ]
}

/// What the log should hold: live entries by index (with their term) and the last purged
/// index.
#[derive(Debug, Default)]
struct Model {
    entries: BTreeMap<u64, u64>,
    purged: Option<u64>,
}

impl Model {
    fn next_index(&self) -> u64 {
        match (self.entries.keys().next_back(), self.purged) {
            (Some(last), _) => last + 1,
            (None, Some(purged)) => purged + 1,
            (None, None) => 1,
        }
    }

    /// An index in `first..=next` picked by `fraction`.
    fn pick(&self, fraction: u8) -> u64 {
        let first = self
            .entries
            .keys()
            .next()
            .copied()
            .unwrap_or(self.next_index());
        let span = self.next_index() - first;
        first + span * u64::from(fraction) / 255
    }
}

async fn check(store: &mut LogStore, model: &Model) {
    let got: Vec<(u64, u64)> = store
        .try_get_log_entries(..)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.log_id.index, e.log_id.leader_id.term))
        .collect();
    let want: Vec<(u64, u64)> = model.entries.iter().map(|(i, t)| (*i, *t)).collect();
    assert_eq!(got, want);
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id.map(|l| l.index), model.purged);
    // Purges are recorded with term 1 (what the store was told), entries with their own.
    let last = model.entries.iter().next_back().map(|(i, t)| (*i, *t));
    assert_eq!(
        state.last_log_id.map(|l| (l.index, l.leader_id.term)),
        last.or(model.purged.map(|p| (p, 1)))
    );
}

async fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = open(dir.path(), 1).unwrap();
    let mut model = Model::default();
    // Each append uses a new term, so a truncated-and-rewritten index is told apart.
    let mut term = 1;
    for op in ops {
        match op {
            Op::Append(n) => {
                term += 1;
                let first = model.next_index();
                let entries: Vec<_> = (first..first + n)
                    .map(|i| blank_ent::<TypeConfig>(term, 1, i))
                    .collect();
                store.blocking_append(entries).await.unwrap();
                for i in first..first + n {
                    model.entries.insert(i, term);
                }
            }
            Op::Truncate(fraction) => {
                let at = model.pick(fraction);
                store.truncate(log_id(1, 1, at)).await.unwrap();
                model.entries.split_off(&at);
            }
            Op::Purge(fraction) => {
                let upto = if fraction == u8::MAX {
                    model.next_index() + 3
                } else {
                    model.pick(fraction)
                };
                if model.purged.is_some_and(|p| upto <= p) {
                    continue;
                }
                store.purge(log_id(1, 1, upto)).await.unwrap();
                model.entries = model.entries.split_off(&(upto + 1));
                model.purged = Some(upto);
            }
            Op::Reopen => {
                drop(store);
                store = open(dir.path(), 1).unwrap().0;
            }
        }
        check(&mut store, &model).await;
    }
}

proptest! {
    // 64 cases keep a debug run short; `PROPTEST_CASES=5000` searches deeper.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn log_store_matches_model(ops in prop::collection::vec(op(), 1..40)) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(ops));
    }
}
