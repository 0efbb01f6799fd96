//! The auditor's judgement of one topic's window: the tiers' counts side by side, each tier
//! checked against the one upstream of it, and a verdict.
//!
//! The chain is `client → ingress → log → group:<g>`. `client` and `ingress` are compared per
//! topic (an application reports counts per topic, not per partition); `ingress`, `log` and each
//! group per partition, so a problem names its partition and, from the `log` tier's offsets,
//! the offset range the window covers there. A downstream tier that counted fewer records
//! has a `gap`, more a `duplicate`, as many with another checksum a `mismatch`.
//!
//! Two findings are not losses: a group that has not yet committed past the window's last
//! offset in a partition is `lagging` (the window stays open and is judged again), and a
//! partition whose `log` tally holds records appended before this process started but after
//! the books were last published is `incomplete` for `ingress` (what the gateway counted of
//! them died with the previous process), instead of a false `duplicate`.
//!
//! A window judged once and touched again by late records is reopened: its earlier totals
//! come back as `base`, and the comparison is made on topic totals, since the per-partition
//! tallies were dropped when it was first settled.
//!
//! Pure: no clock, no locks; `books.rs` decides when a window is due.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::window::Tally;

/// A counting tier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// What producing applications report through `POST /v1/audit/reports`.
    Client,
    /// Records the gateway acknowledged.
    Ingress,
    /// Records in the log, counted by offset.
    Log,
    /// Records a consumer group committed past, counted by offset.
    Group(String),
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tier::Client => f.write_str("client"),
            Tier::Ingress => f.write_str("ingress"),
            Tier::Log => f.write_str("log"),
            Tier::Group(g) => write!(f, "group:{g}"),
        }
    }
}

/// What is wrong with a window, worst first (a window's status is its worst problem).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    Gap,
    Duplicate,
    Mismatch,
    /// A group's offsets were reset forward past records it had not committed.
    Skipped,
    Incomplete,
    Lagging,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Gap,
        Kind::Duplicate,
        Kind::Mismatch,
        Kind::Skipped,
        Kind::Incomplete,
        Kind::Lagging,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Gap => "gap",
            Kind::Duplicate => "duplicate",
            Kind::Mismatch => "mismatch",
            Kind::Skipped => "skipped",
            Kind::Incomplete => "incomplete",
            Kind::Lagging => "lagging",
        }
    }
}

/// A window's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Its grace period is not over.
    Pending,
    Complete,
    /// Judged, with this as its worst problem.
    Problem(Kind),
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Complete => "complete",
            Status::Problem(k) => k.as_str(),
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: Kind,
    pub tier: Tier,
    pub partition: Option<u32>,
    /// First and last offset of the window's records in `partition` (the `log` tier's).
    pub offsets: Option<(u64, u64)>,
    /// Records missing, extra, or (lagging) not yet committed past.
    pub count: u64,
    /// For the `client` tier, the application that reported, when the window has one.
    pub reporter: Option<String>,
}

/// The `log` tier's tally in one partition, with the offsets it covered, and whether it
/// counted records appended before this process started that the last published books had
/// not counted: the gateway's counts of those died with the previous process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Counted {
    pub tally: Tally,
    pub first_offset: u64,
    pub last_offset: u64,
    pub before_start: bool,
}

impl Counted {
    pub(super) fn new(offset: u64, hash: u64, before_start: bool) -> Self {
        let mut tally = Tally::default();
        tally.add(hash);
        Counted {
            tally,
            first_offset: offset,
            last_offset: offset,
            before_start,
        }
    }

    pub(super) fn add(&mut self, offset: u64, hash: u64, before_start: bool) {
        self.tally.add(hash);
        self.first_offset = self.first_offset.min(offset);
        self.last_offset = self.last_offset.max(offset);
        self.before_start |= before_start;
    }
}

/// What the applications reported for a window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ClientCounts {
    pub tally: Tally,
    pub reporters: BTreeSet<String>,
    /// Whether every report carried a checksum; only then is the sum compared.
    pub checksummed: bool,
}

/// A window not yet settled: each tier's tallies.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct OpenWindow {
    pub client: Option<ClientCounts>,
    pub ingress: BTreeMap<u32, Tally>,
    pub log: BTreeMap<u32, Counted>,
    pub groups: BTreeMap<String, BTreeMap<u32, Tally>>,
    /// Per group and partition, the records an offset reset moved it past.
    #[serde(default)]
    pub skipped: BTreeMap<String, BTreeMap<u32, Tally>>,
    /// When a tier last counted into it (ms): a late record restarts the grace period.
    pub last_touch: i64,
    /// The verdict it had before late records reopened it.
    pub base: Option<Verdict>,
}

/// A judged window: tier totals, problems and the status they give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub status: Status,
    pub tiers: BTreeMap<Tier, Tally>,
    pub problems: Vec<Problem>,
}

/// What the auditor knows beside the window's tallies.
#[derive(Debug, Clone, Copy)]
pub(super) struct Context<'a> {
    /// Per group auditing the topic, per partition, the offset its tier has counted through.
    pub group_through: &'a BTreeMap<String, BTreeMap<u32, u64>>,
}

/// Every tier's topic total for `w` (groups from `ctx` included with zero counts).
pub(super) fn totals(w: &OpenWindow, ctx: &Context<'_>) -> BTreeMap<Tier, Tally> {
    let mut tiers: BTreeMap<Tier, Tally> = BTreeMap::new();
    if let Some(base) = &w.base {
        tiers.clone_from(&base.tiers);
    }
    if let Some(c) = &w.client {
        tiers.entry(Tier::Client).or_default().merge(c.tally);
    }
    let ingress = tiers.entry(Tier::Ingress).or_default();
    w.ingress.values().for_each(|t| ingress.merge(*t));
    let log = tiers.entry(Tier::Log).or_default();
    w.log.values().for_each(|c| log.merge(c.tally));
    for g in ctx.group_through.keys() {
        let total = tiers.entry(Tier::Group(g.clone())).or_default();
        if let Some(parts) = w.groups.get(g) {
            parts.values().for_each(|t| total.merge(*t));
        }
    }
    tiers
}

/// Judges a window whose grace period is over.
pub(super) fn reconcile(w: &OpenWindow, ctx: &Context<'_>) -> Verdict {
    let tiers = totals(w, ctx);
    let mut problems = Vec::new();
    let total = |t: &Tier| tiers.get(t).copied().unwrap_or_default();

    let incomplete: BTreeSet<u32> = w
        .log
        .iter()
        .filter(|(_, c)| c.before_start)
        .map(|(p, _)| *p)
        .collect();
    for p in &incomplete {
        let counted = w.ingress.get(p).map_or(0, |t| t.count);
        let logged = w.log.get(p).map_or(0, |c| c.tally.count);
        problems.push(Problem {
            kind: Kind::Incomplete,
            tier: Tier::Ingress,
            partition: Some(*p),
            offsets: w.log.get(p).map(|c| (c.first_offset, c.last_offset)),
            count: logged.saturating_sub(counted),
            reporter: None,
        });
    }

    if let Some(c) = &w.client
        && incomplete.is_empty()
    {
        let reporter = match c.reporters.len() {
            1 => c.reporters.first().cloned(),
            _ => None,
        };
        let checked = Check {
            tier: Tier::Client,
            partition: None,
            offsets: None,
            reporter,
            checksums: c.checksummed,
        };
        // The application is upstream of the gateway: the gateway short of the report is a
        // gap in what the client sent.
        checked.compare(total(&Tier::Client), total(&Tier::Ingress), &mut problems);
    }

    if w.base.is_some() {
        // Reopened: the per-partition tallies of its first judgement are gone.
        if incomplete.is_empty() {
            Check::topic(Tier::Log).compare(
                total(&Tier::Ingress),
                total(&Tier::Log),
                &mut problems,
            );
        }
        for g in ctx.group_through.keys() {
            let tier = Tier::Group(g.clone());
            if let Some(lag) = lagging(w, ctx, g) {
                problems.extend(lag);
                continue;
            }
            let mut skipped = Tally::default();
            if let Some(parts) = w.skipped.get(g) {
                parts.values().for_each(|t| skipped.merge(*t));
            }
            let before = w.base.as_ref().map_or(0, |b| {
                b.problems
                    .iter()
                    .filter(|p| p.kind == Kind::Skipped && p.tier == tier)
                    .map(|p| p.count)
                    .sum()
            });
            if skipped.count + before > 0 {
                problems.push(Problem {
                    kind: Kind::Skipped,
                    tier: tier.clone(),
                    partition: None,
                    offsets: None,
                    count: skipped.count + before,
                    reporter: None,
                });
            }
            let mut seen = total(&tier);
            seen.merge(skipped);
            // The base's skipped records count as seen; their checksums are not kept.
            let checksums = before == 0;
            let check = Check {
                checksums,
                ..Check::topic(tier)
            };
            check.compare(
                total(&Tier::Log),
                Tally {
                    count: seen.count + before,
                    checksum: seen.checksum,
                },
                &mut problems,
            );
        }
    } else {
        let partitions: BTreeSet<u32> = w.ingress.keys().chain(w.log.keys()).copied().collect();
        for p in partitions.difference(&incomplete) {
            let logged = w.log.get(p);
            Check::partition(Tier::Log, *p, logged).compare(
                w.ingress.get(p).copied().unwrap_or_default(),
                logged.map(|c| c.tally).unwrap_or_default(),
                &mut problems,
            );
        }
        for g in ctx.group_through.keys() {
            if let Some(lag) = lagging(w, ctx, g) {
                problems.extend(lag);
                continue;
            }
            let counted = w.groups.get(g);
            let partitions: BTreeSet<u32> = w
                .log
                .keys()
                .chain(counted.into_iter().flat_map(BTreeMap::keys))
                .copied()
                .collect();
            for p in partitions {
                let logged = w.log.get(&p);
                let mut seen = counted.and_then(|c| c.get(&p)).copied().unwrap_or_default();
                if let Some(skipped) = w.skipped.get(g).and_then(|s| s.get(&p)) {
                    problems.push(Problem {
                        kind: Kind::Skipped,
                        tier: Tier::Group(g.clone()),
                        partition: Some(p),
                        offsets: logged.map(|c| (c.first_offset, c.last_offset)),
                        count: skipped.count,
                        reporter: None,
                    });
                    seen.merge(*skipped);
                }
                Check::partition(Tier::Group(g.clone()), p, logged).compare(
                    logged.map(|c| c.tally).unwrap_or_default(),
                    seen,
                    &mut problems,
                );
            }
        }
    }

    let status = problems
        .iter()
        .map(|p| p.kind)
        .min()
        .map_or(Status::Complete, Status::Problem);
    Verdict {
        status,
        tiers,
        problems,
    }
}

/// The partitions where group `g` has not committed past the window's last offset, as
/// `lagging` problems; `None` when it has passed them all.
fn lagging(w: &OpenWindow, ctx: &Context<'_>, g: &str) -> Option<Vec<Problem>> {
    let through = ctx.group_through.get(g);
    let counted = w.groups.get(g);
    let lag: Vec<Problem> = w
        .log
        .iter()
        .filter_map(|(p, c)| {
            let at = through.and_then(|t| t.get(p)).copied();
            if at.is_some_and(|at| at > c.last_offset) {
                return None;
            }
            let skipped = w
                .skipped
                .get(g)
                .and_then(|t| t.get(p))
                .map_or(0, |t| t.count);
            let got = counted.and_then(|t| t.get(p)).map_or(0, |t| t.count) + skipped;
            Some(Problem {
                kind: Kind::Lagging,
                tier: Tier::Group(g.to_owned()),
                partition: Some(*p),
                offsets: Some((
                    at.unwrap_or(c.first_offset).max(c.first_offset),
                    c.last_offset,
                )),
                count: c.tally.count.saturating_sub(got),
                reporter: None,
            })
        })
        .collect();
    (!lag.is_empty()).then_some(lag)
}

/// One comparison of a tier with the tier upstream of it.
struct Check {
    tier: Tier,
    partition: Option<u32>,
    offsets: Option<(u64, u64)>,
    reporter: Option<String>,
    /// Whether both sides' checksums are meaningful.
    checksums: bool,
}

impl Check {
    fn topic(tier: Tier) -> Self {
        Check {
            tier,
            partition: None,
            offsets: None,
            reporter: None,
            checksums: true,
        }
    }

    fn partition(tier: Tier, partition: u32, logged: Option<&Counted>) -> Self {
        Check {
            tier,
            partition: Some(partition),
            offsets: logged.map(|c| (c.first_offset, c.last_offset)),
            reporter: None,
            checksums: true,
        }
    }

    fn compare(self, upstream: Tally, downstream: Tally, problems: &mut Vec<Problem>) {
        let (kind, count) = if downstream.count < upstream.count {
            (Kind::Gap, upstream.count - downstream.count)
        } else if downstream.count > upstream.count {
            (Kind::Duplicate, downstream.count - upstream.count)
        } else if self.checksums && downstream.checksum != upstream.checksum {
            (Kind::Mismatch, 0)
        } else {
            return;
        };
        problems.push(Problem {
            kind,
            tier: self.tier,
            partition: self.partition,
            offsets: self.offsets,
            count,
            reporter: self.reporter,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(hashes: &[u64]) -> Tally {
        let mut t = Tally::default();
        hashes.iter().for_each(|h| t.add(*h));
        t
    }

    fn counted(first: u64, hashes: &[u64]) -> Counted {
        let mut c = Counted::new(first, hashes[0], false);
        for (i, h) in hashes.iter().enumerate().skip(1) {
            c.add(first + i as u64, *h, false);
        }
        c
    }

    /// Records 1..=n of one partition, seen by ingress and log alike.
    fn balanced(n: u64) -> OpenWindow {
        let hashes: Vec<u64> = (1..=n).collect();
        OpenWindow {
            ingress: BTreeMap::from([(0, tally(&hashes))]),
            log: BTreeMap::from([(0, counted(10, &hashes))]),
            ..OpenWindow::default()
        }
    }

    fn judge(w: &OpenWindow, groups: &[(&str, u64)]) -> Verdict {
        let through: BTreeMap<String, BTreeMap<u32, u64>> = groups
            .iter()
            .map(|(g, t)| ((*g).to_owned(), BTreeMap::from([(0, *t)])))
            .collect();
        reconcile(
            w,
            &Context {
                group_through: &through,
            },
        )
    }

    #[test]
    fn equal_books_are_complete() {
        let v = judge(&balanced(5), &[]);
        assert_eq!(v.status, Status::Complete);
        assert!(v.problems.is_empty());
        assert_eq!(v.tiers[&Tier::Ingress].count, 5);
        assert_eq!(v.tiers[&Tier::Log], v.tiers[&Tier::Ingress]);
    }

    #[test]
    fn a_record_missing_from_the_log_is_a_gap_with_its_offsets() {
        let mut w = balanced(5);
        w.log.insert(0, counted(10, &[1, 2, 3, 4]));
        let v = judge(&w, &[]);
        assert_eq!(v.status, Status::Problem(Kind::Gap));
        assert_eq!(
            v.problems,
            [Problem {
                kind: Kind::Gap,
                tier: Tier::Log,
                partition: Some(0),
                offsets: Some((10, 13)),
                count: 1,
                reporter: None,
            }]
        );
    }

    #[test]
    fn more_downstream_is_a_duplicate_and_equal_counts_with_other_sums_a_mismatch() {
        let mut w = balanced(3);
        w.log.insert(0, counted(10, &[1, 2, 3, 3]));
        assert_eq!(judge(&w, &[]).status, Status::Problem(Kind::Duplicate));
        w.log.insert(0, counted(10, &[1, 2, 2]));
        let v = judge(&w, &[]);
        assert_eq!(v.status, Status::Problem(Kind::Mismatch));
        assert_eq!(v.problems[0].count, 0);
    }

    #[test]
    fn a_client_report_short_at_ingress_is_a_gap_for_that_reporter() {
        let mut w = balanced(990);
        w.client = Some(ClientCounts {
            tally: Tally {
                count: 1000,
                checksum: 0,
            },
            reporters: BTreeSet::from(["app-1".to_owned()]),
            checksummed: false,
        });
        let v = judge(&w, &[]);
        assert_eq!(v.status, Status::Problem(Kind::Gap));
        assert_eq!(v.problems.len(), 1);
        assert_eq!(v.problems[0].tier, Tier::Client);
        assert_eq!(v.problems[0].count, 10);
        assert_eq!(v.problems[0].reporter.as_deref(), Some("app-1"));
        assert_eq!(v.tiers[&Tier::Client].count, 1000);
    }

    #[test]
    fn a_client_checksum_is_compared_only_when_every_report_had_one() {
        let mut w = balanced(2);
        let client = |checksummed| ClientCounts {
            tally: Tally {
                count: 2,
                checksum: 99,
            },
            reporters: BTreeSet::from(["a".to_owned()]),
            checksummed,
        };
        w.client = Some(client(false));
        assert_eq!(judge(&w, &[]).status, Status::Complete);
        w.client = Some(client(true));
        assert_eq!(judge(&w, &[]).status, Status::Problem(Kind::Mismatch));
    }

    #[test]
    fn a_group_short_of_the_window_lags_then_settles() {
        let mut w = balanced(3); // offsets 10..=12
        w.groups
            .insert("g".to_owned(), BTreeMap::from([(0, tally(&[1, 2]))]));
        let v = judge(&w, &[("g", 12)]);
        assert_eq!(v.status, Status::Problem(Kind::Lagging));
        assert_eq!(v.problems[0].offsets, Some((12, 12)));
        assert_eq!(v.problems[0].count, 1);
        w.groups
            .insert("g".to_owned(), BTreeMap::from([(0, tally(&[1, 2, 3]))]));
        let v = judge(&w, &[("g", 13)]);
        assert_eq!(v.status, Status::Complete);
        assert_eq!(v.tiers[&Tier::Group("g".to_owned())].count, 3);
    }

    #[test]
    fn a_group_past_the_window_that_counted_less_has_a_gap() {
        let mut w = balanced(3);
        w.groups
            .insert("g".to_owned(), BTreeMap::from([(0, tally(&[1]))]));
        let v = judge(&w, &[("g", 100)]);
        assert_eq!(v.status, Status::Problem(Kind::Gap));
        assert_eq!(v.problems[0].tier, Tier::Group("g".to_owned()));
        assert_eq!(v.problems[0].count, 2);
        assert_eq!(v.problems[0].offsets, Some((10, 12)));
    }

    #[test]
    fn records_a_reset_moved_a_group_past_are_skipped_not_a_gap() {
        let mut w = balanced(5);
        w.groups
            .insert("g".to_owned(), BTreeMap::from([(0, tally(&[1, 2]))]));
        w.skipped
            .insert("g".to_owned(), BTreeMap::from([(0, tally(&[3, 4, 5]))]));
        let v = judge(&w, &[("g", 15)]);
        assert_eq!(v.status, Status::Problem(Kind::Skipped));
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].count, 3);
        assert_eq!(v.problems[0].tier, Tier::Group("g".to_owned()));
        assert_eq!(v.tiers[&Tier::Group("g".to_owned())].count, 2);

        // Reopened by a late record, the window still says how many were skipped.
        let mut late = OpenWindow {
            base: Some(v),
            ..OpenWindow::default()
        };
        late.ingress.insert(0, tally(&[6]));
        late.log.insert(0, counted(15, &[6]));
        late.groups
            .insert("g".to_owned(), BTreeMap::from([(0, tally(&[6]))]));
        let v = judge(&late, &[("g", 16)]);
        assert_eq!(v.status, Status::Problem(Kind::Skipped), "{:?}", v.problems);
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].count, 3);
    }

    #[test]
    fn log_records_from_before_a_restart_are_incomplete_not_duplicates() {
        let mut w = balanced(5);
        w.ingress.insert(0, tally(&[4, 5])); // the gateway's counts of 1..=3 died with it
        w.log.get_mut(&0).unwrap().before_start = true;
        w.client = Some(ClientCounts {
            tally: tally(&[1, 2, 3, 4, 5]),
            reporters: BTreeSet::from(["a".to_owned()]),
            checksummed: true,
        });
        let v = judge(&w, &[]);
        assert_eq!(v.status, Status::Problem(Kind::Incomplete));
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert_eq!(v.problems[0].tier, Tier::Ingress);
        assert_eq!(v.problems[0].count, 3);
    }

    #[test]
    fn the_worst_problem_is_the_status() {
        let mut w = balanced(3);
        w.log.insert(0, counted(10, &[1, 2]));
        w.groups
            .insert("g".to_owned(), BTreeMap::from([(0, tally(&[1, 2, 3]))]));
        let v = judge(&w, &[("g", 100)]);
        let kinds: Vec<Kind> = v.problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [Kind::Gap, Kind::Duplicate]);
        assert_eq!(v.status, Status::Problem(Kind::Gap));
    }

    #[test]
    fn a_reopened_window_is_judged_on_topic_totals() {
        let first = judge(&balanced(3), &[]);
        let mut late = OpenWindow {
            base: Some(first),
            ..OpenWindow::default()
        };
        late.ingress.insert(1, tally(&[7]));
        late.log.insert(1, counted(0, &[7]));
        let v = judge(&late, &[]);
        assert_eq!(v.status, Status::Complete);
        assert_eq!(v.tiers[&Tier::Log].count, 4);
        late.log.clear();
        let v = judge(&late, &[]);
        assert_eq!(v.status, Status::Problem(Kind::Gap));
        assert_eq!(v.problems[0].partition, None);
    }

    #[test]
    fn tier_names_are_the_api_names() {
        assert_eq!(Tier::Group("billing".into()).to_string(), "group:billing");
        assert_eq!(Status::Problem(Kind::Lagging).as_str(), "lagging");
        assert!(Kind::Gap < Kind::Lagging);
    }
}
