//! Replica placement for new partitions: Kafka's rack-unaware rule
//! (`AdminUtils.assignReplicasToBrokers`).
//!
//! The first replica of partition `p` goes to broker `(start + p) mod n` of the sorted live
//! brokers, so leaders spread round-robin; the other replicas follow it at a shift that grows
//! every `n` partitions, so followers spread too. `start` and the shift are drawn at random by
//! the caller (pure function here, so tests can pin them), as Kafka does, so many small topics
//! do not all lead on the lowest broker id.
//!
//! Not owned here: which brokers are live (the image's unfenced brokers), proposing the result
//! (`Command::CreateTopic` / `CreatePartitions`).

use crate::metadata::{BrokerId, PartitionAssignment};

/// Why replicas could not be placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// Kafka's `InvalidReplicationFactorException` text, word for word.
    #[error("Replication factor: {factor} larger than available brokers: {available}.")]
    NotEnoughBrokers { factor: u32, available: usize },
    #[error("Replication factor must be larger than 0.")]
    ZeroFactor,
}

/// The random choices of one placement: where the first replica starts, and the first
/// follower shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    pub index: usize,
    pub shift: usize,
}

impl Start {
    /// Both drawn uniformly over `brokers` brokers, as Kafka does.
    pub fn random(brokers: usize) -> Self {
        let n = brokers.max(1);
        Start {
            index: rand::random_range(0..n),
            shift: rand::random_range(0..n),
        }
    }
}

/// Places `count` new partitions numbered from `first` with `factor` replicas each over
/// `brokers` (live brokers; sorted here). The first replica of each is its preferred leader.
///
/// # Errors
/// [`PlacementError::ZeroFactor`], or [`PlacementError::NotEnoughBrokers`] when `factor`
/// exceeds the brokers.
pub fn place(
    brokers: &[BrokerId],
    first: u32,
    count: u32,
    factor: u32,
    start: Start,
) -> Result<Vec<PartitionAssignment>, PlacementError> {
    if factor == 0 {
        return Err(PlacementError::ZeroFactor);
    }
    let mut brokers = brokers.to_vec();
    brokers.sort_unstable();
    brokers.dedup();
    let n = brokers.len();
    if factor as usize > n {
        return Err(PlacementError::NotEnoughBrokers {
            factor,
            available: n,
        });
    }
    let mut shift = start.shift % n;
    let mut assignments = Vec::with_capacity(count as usize);
    for p in (first..first.saturating_add(count)).map(|p| p as usize) {
        // Kafka bumps the shift each time the leaders have gone once round the brokers.
        if p > 0 && p % n == 0 {
            shift += 1;
        }
        let leader = (start.index + p) % n;
        let mut replicas = Vec::with_capacity(factor as usize);
        replicas.extend(brokers.get(leader).copied());
        for j in 0..(factor as usize).saturating_sub(1) {
            // Followers sit 1..n-1 places after the leader, never on it.
            let follower = (leader + 1 + (shift + j) % (n - 1)) % n;
            replicas.extend(brokers.get(follower).copied());
        }
        assignments.push(PartitionAssignment { replicas });
    }
    Ok(assignments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(ids: &[u32]) -> Vec<BrokerId> {
        ids.iter().copied().map(BrokerId).collect()
    }

    fn leaders(a: &[PartitionAssignment]) -> Vec<u32> {
        a.iter().map(|p| p.replicas[0].0).collect()
    }

    #[test]
    fn leaders_go_round_robin_from_the_start_index() {
        let brokers = ids(&[3, 1, 2]);
        let a = place(&brokers, 0, 6, 1, Start { index: 1, shift: 0 }).unwrap();
        assert_eq!(leaders(&a), [2, 3, 1, 2, 3, 1]);
        assert!(a.iter().all(|p| p.replicas.len() == 1));
    }

    #[test]
    fn six_partitions_over_three_brokers_are_two_each_whatever_the_start() {
        for index in 0..3 {
            let a = place(&ids(&[1, 2, 3]), 0, 6, 1, Start { index, shift: 0 }).unwrap();
            for b in 1..=3 {
                assert_eq!(leaders(&a).iter().filter(|l| **l == b).count(), 2);
            }
        }
    }

    #[test]
    fn followers_are_distinct_and_never_the_leader() {
        let brokers = ids(&[1, 2, 3, 4, 5]);
        for shift in 0..5 {
            let a = place(&brokers, 0, 20, 3, Start { index: 2, shift }).unwrap();
            for p in &a {
                let mut r = p.replicas.clone();
                r.sort_unstable();
                r.dedup();
                assert_eq!(r.len(), 3, "{:?}", p.replicas);
            }
        }
    }

    #[test]
    fn matches_kafkas_worked_example() {
        // AdminUtils' doc: brokers 0..4, start 0, shift 0.
        let a = place(
            &ids(&[0, 1, 2, 3, 4]),
            0,
            10,
            3,
            Start { index: 0, shift: 0 },
        )
        .unwrap();
        let got: Vec<Vec<u32>> = a
            .iter()
            .map(|p| p.replicas.iter().map(|b| b.0).collect())
            .collect();
        assert_eq!(
            got,
            [
                [0, 1, 2],
                [1, 2, 3],
                [2, 3, 4],
                [3, 4, 0],
                [4, 0, 1],
                [0, 2, 3],
                [1, 3, 4],
                [2, 4, 0],
                [3, 0, 1],
                [4, 1, 2],
            ]
        );
    }

    #[test]
    fn a_factor_above_the_live_brokers_is_kafkas_error() {
        let e = place(&ids(&[1, 2]), 0, 1, 3, Start { index: 0, shift: 0 }).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Replication factor: 3 larger than available brokers: 2."
        );
        assert!(place(&[], 0, 1, 1, Start { index: 0, shift: 0 }).is_err());
        assert_eq!(
            place(&ids(&[1]), 0, 1, 0, Start { index: 0, shift: 0 }),
            Err(PlacementError::ZeroFactor)
        );
    }

    #[test]
    fn growth_continues_the_round_robin_from_the_first_new_partition() {
        let brokers = ids(&[1, 2, 3]);
        let start = Start { index: 0, shift: 0 };
        let all = place(&brokers, 0, 6, 1, start).unwrap();
        let grown = place(&brokers, 4, 2, 1, start).unwrap();
        assert_eq!(leaders(&grown), leaders(&all[4..]));
    }
}
