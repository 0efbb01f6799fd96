//! The audit's books: per topic, the open windows' tallies by tier and partition, the settled
//! windows' verdicts, each offset tier's counted-through offsets, and the `client` tier's
//! (reporter, sequence) ledger.
//!
//! Memory is bounded by settling: once a window's grace is over and it is judged, its
//! per-partition tallies are dropped and only its verdict (tier totals and problems) is kept,
//! at most [`MAX_SETTLED_WINDOWS`] per topic. A window stays open past its grace only while a
//! group lags in it. Late records for a settled window reopen it with the verdict as its base
//! (see `reconcile.rs`).
//!
//! Each topic's books are published whole (`persist.rs`) when they changed, except its settled
//! verdicts, which are published one by one as they settle (a day of them would otherwise be
//! rewritten every round), and restored at start: see [`Books::take_changed`],
//! [`Books::restore_topic`] and [`Books::restore_verdict`].
//!
//! Plain data behind the caller's lock: no I/O, no clock (times come in as arguments).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::reconcile::{
    self, ClientCounts, Context, Counted, Kind, OpenWindow, Status, Tier, Verdict,
};
use super::window::{Tally, Window};

/// Settled windows kept per topic: a day of one-minute windows. Each is a few hundred bytes.
pub(super) const MAX_SETTLED_WINDOWS: usize = 1440;
/// Sequences remembered per reporter. Older ones are refused as replays: a reporter numbers
/// its reports in order, so one this far behind its newest is a replay, not a late report.
pub(super) const MAX_SEQUENCES: usize = 4096;
/// Distinct reporters remembered, so their ledgers cannot grow the server without bound.
pub(super) const MAX_REPORTERS: usize = 10_000;

/// One topic's books, as published.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct TopicBooks {
    /// The topic's id: a topic deleted and created again starts fresh books.
    topic_id: String,
    open: BTreeMap<Window, OpenWindow>,
    /// Published apart, one record per window (see the module docs).
    #[serde(skip)]
    settled: BTreeMap<Window, Verdict>,
    /// Windows whose verdict record is to be written (settled) or deleted (reopened, evicted)
    /// by the next publish.
    #[serde(skip)]
    settled_changes: BTreeSet<Window>,
    /// Per partition, the log end offset when this process started: records below it and
    /// past the restored `log_through` are counted `before_start` (see `reconcile.rs`).
    #[serde(skip)]
    boot_end: BTreeMap<u32, u64>,
    /// Counted into or judged since last published. Only counts make books worth publishing:
    /// a broker whose topics never see a record never creates `__audit`.
    #[serde(skip)]
    changed: bool,
    /// Per partition, the offset the `log` tier has counted through (exclusive).
    log_through: BTreeMap<u32, u64>,
    /// Per group, per partition, the offset its tier has counted through (exclusive).
    group_through: BTreeMap<String, BTreeMap<u32, u64>>,
}

impl TopicBooks {
    fn context(&self) -> Context<'_> {
        Context {
            group_through: &self.group_through,
        }
    }

    /// The open window `w`, reopening it if it was settled.
    fn touch(&mut self, w: Window, now: i64) -> &mut OpenWindow {
        let (settled, changes) = (&mut self.settled, &mut self.settled_changes);
        let open = self.open.entry(w).or_insert_with(|| {
            let base = settled.remove(&w);
            if base.is_some() {
                changes.insert(w);
            }
            OpenWindow {
                base,
                ..OpenWindow::default()
            }
        });
        open.last_touch = open.last_touch.max(now);
        open
    }
}

/// A report's (reporter, sequence) ledger.
#[derive(Debug, Default)]
struct Reporter {
    seen: BTreeSet<u64>,
    /// The highest sequence forgotten to stay within [`MAX_SEQUENCES`].
    forgotten: Option<u64>,
}

/// Each reporter's highest accepted sequence: what a restart remembers of the ledgers.
pub(super) type Highest = BTreeMap<String, u64>;

/// What changed since the last publish ([`Books::take_changed`]); `None` deletes.
#[derive(Debug, Default)]
pub(super) struct Changes<'a> {
    pub topics: Vec<(String, Option<&'a TopicBooks>)>,
    pub verdicts: Vec<(String, Window, Option<&'a Verdict>)>,
    pub reporters: Option<Highest>,
}

/// Why a report was refused by the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ledger {
    Replayed,
    TooManyReporters,
}

/// Every topic's books.
#[derive(Debug)]
pub(super) struct Books {
    width_ms: i64,
    grace_ms: i64,
    topics: BTreeMap<String, TopicBooks>,
    reporters: HashMap<String, Reporter>,
    /// Records counted per tier since start, for `/metrics`.
    counted: BTreeMap<Tier, u64>,
    /// Topics whose books were dropped since last published (their records are deleted).
    dropped: BTreeSet<String>,
    /// Verdicts of dropped books, to delete.
    dropped_verdicts: Vec<(String, Window)>,
    /// The reporters' ledgers changed since last published.
    reporters_changed: bool,
    /// Per (group, topic, partition), the offset an offset reset moved the group to: records
    /// its tier reaches below it count as `skipped`. Kept until the tier passes it.
    skips: HashMap<(String, String, u32), u64>,
}

impl Books {
    pub(super) fn new(width_ms: i64, grace_ms: i64) -> Self {
        Books {
            width_ms,
            grace_ms,
            topics: BTreeMap::new(),
            reporters: HashMap::new(),
            counted: BTreeMap::new(),
            dropped: BTreeSet::new(),
            dropped_verdicts: Vec::new(),
            reporters_changed: false,
            skips: HashMap::new(),
        }
    }

    /// The books of `topic` (id `topic_id`), fresh if the topic was created again.
    fn topic(&mut self, topic: &str, topic_id: &str) -> &mut TopicBooks {
        let books = self.topics.entry(topic.to_owned()).or_default();
        if books.topic_id != topic_id {
            let old = books.settled.keys().map(|w| (topic.to_owned(), *w));
            self.dropped_verdicts.extend(old);
            *books = TopicBooks {
                topic_id: topic_id.to_owned(),
                ..TopicBooks::default()
            };
        }
        books
    }

    /// Remembers where the log of a partition ended when counting started.
    pub(super) fn set_boot_end(&mut self, topic: &str, topic_id: &str, partition: u32, end: u64) {
        self.topic(topic, topic_id).boot_end.insert(partition, end);
    }

    /// Installs the published books of `topic` (id `topic_id`), before anything is counted.
    pub(super) fn restore_topic(&mut self, topic: &str, topic_id: &str, books: TopicBooks) {
        if books.topic_id == topic_id {
            self.topics.insert(topic.to_owned(), books);
        }
    }

    /// Installs a published verdict of `topic`, whose books [`Books::restore_topic`] restored.
    pub(super) fn restore_verdict(&mut self, topic: &str, w: Window, verdict: Verdict) {
        if let Some(books) = self.topics.get_mut(topic) {
            books.settled.insert(w, verdict);
        }
    }

    /// Installs the published ledgers: each reporter's highest sequence. A restart forgets
    /// which lower sequences were taken, so they are refused from then on.
    pub(super) fn restore_reporters(&mut self, highest: BTreeMap<String, u64>) {
        for (reporter, sequence) in highest {
            self.reporters.insert(
                reporter,
                Reporter {
                    seen: BTreeSet::new(),
                    forgotten: Some(sequence),
                },
            );
        }
    }

    /// What changed since the last call.
    pub(super) fn take_changed(&mut self) -> Changes<'_> {
        let reporters = std::mem::take(&mut self.reporters_changed).then(|| {
            self.reporters
                .iter()
                .filter_map(|(r, l)| Some((r.clone(), l.seen.last().copied().max(l.forgotten)?)))
                .collect()
        });
        let mut changed: Vec<(String, Option<&TopicBooks>)> = std::mem::take(&mut self.dropped)
            .into_iter()
            .map(|t| (t, None))
            .collect();
        let mut verdicts: Vec<(String, Window)> = std::mem::take(&mut self.dropped_verdicts);
        for (name, books) in &mut self.topics {
            if std::mem::take(&mut books.changed) {
                changed.push((name.clone(), None));
            }
            let windows = std::mem::take(&mut books.settled_changes);
            verdicts.extend(windows.into_iter().map(|w| (name.clone(), w)));
        }
        for entry in &mut changed {
            if let Some(books) = self.topics.get(&entry.0) {
                entry.1 = Some(books);
            }
        }
        let verdicts = verdicts
            .into_iter()
            .map(|(topic, w)| {
                let verdict = self.topics.get(&topic).and_then(|b| b.settled.get(&w));
                (topic, w, verdict)
            })
            .collect();
        Changes {
            topics: changed,
            verdicts,
            reporters,
        }
    }

    /// Marks everything to be published again (a publish failed).
    pub(super) fn mark_all_changed(&mut self) {
        for books in self.topics.values_mut() {
            books.changed = true;
            books.settled_changes.extend(books.settled.keys().copied());
        }
        self.reporters_changed = true;
    }

    /// Counts records the gateway acknowledged: `(partition, window, hash)` each.
    pub(super) fn ingress(
        &mut self,
        topic: &str,
        topic_id: &str,
        records: impl Iterator<Item = (u32, Window, u64)>,
        now: i64,
    ) {
        let books = self.topic(topic, topic_id);
        let mut n = 0;
        for (p, w, hash) in records {
            books.touch(w, now).ingress.entry(p).or_default().add(hash);
            n += 1;
        }
        books.changed |= n > 0;
        *self.counted.entry(Tier::Ingress).or_default() += n;
    }

    /// Where the `log` tier of a partition has counted through, if it has started.
    pub(super) fn log_through(&self, topic: &str, partition: u32) -> Option<u64> {
        self.topics.get(topic)?.log_through.get(&partition).copied()
    }

    /// Where group `group`'s tier has counted through in a partition, if it has started.
    pub(super) fn group_through(&self, topic: &str, group: &str, partition: u32) -> Option<u64> {
        self.topics
            .get(topic)?
            .group_through
            .get(group)?
            .get(&partition)
            .copied()
    }

    /// Counts log records `(offset, window, hash)` of a partition and moves its `log` tier to
    /// `through`.
    pub(super) fn log(
        &mut self,
        topic: &str,
        topic_id: &str,
        partition: u32,
        records: &[(u64, Window, u64)],
        through: u64,
        now: i64,
    ) {
        if records.is_empty() && self.log_through(topic, partition) == Some(through) {
            return;
        }
        let books = self.topic(topic, topic_id);
        let boot_end = books.boot_end.get(&partition).copied().unwrap_or(0);
        for (offset, w, hash) in records {
            let before_start = *offset < boot_end;
            books
                .touch(*w, now)
                .log
                .entry(partition)
                .and_modify(|c| c.add(*offset, *hash, before_start))
                .or_insert_with(|| Counted::new(*offset, *hash, before_start));
        }
        books.changed |= !records.is_empty();
        books.log_through.insert(partition, through);
        *self.counted.entry(Tier::Log).or_default() += records.len() as u64;
    }

    /// Notes that an offset reset moves `group` to `to` in a partition.
    pub(super) fn skip(&mut self, group: &str, topic: &str, partition: u32, to: u64) {
        let at = self
            .skips
            .entry((group.to_owned(), topic.to_owned(), partition))
            .or_default();
        *at = (*at).max(to);
    }

    /// The offset a pending reset moves `group` to in a partition.
    pub(super) fn skip_to(&self, group: &str, topic: &str, partition: u32) -> Option<u64> {
        self.skips
            .get(&(group.to_owned(), topic.to_owned(), partition))
            .copied()
    }

    /// Counts the records group `group` committed past in a partition, `(window, hash,
    /// skipped)` each, and moves its tier to `through`.
    #[expect(
        clippy::too_many_arguments,
        reason = "the tier's coordinates and one round's result, each a plain value; a struct \
                  for this one caller would only rename them"
    )]
    pub(super) fn group(
        &mut self,
        topic: &str,
        topic_id: &str,
        group: &str,
        partition: u32,
        records: &[(Window, u64, bool)],
        through: u64,
        now: i64,
    ) {
        if records.is_empty() && self.group_through(topic, group, partition) == Some(through) {
            return;
        }
        let books = self.topic(topic, topic_id);
        for (w, hash, skipped) in records {
            let open = books.touch(*w, now);
            let tier = if *skipped {
                &mut open.skipped
            } else {
                &mut open.groups
            };
            tier.entry(group.to_owned())
                .or_default()
                .entry(partition)
                .or_default()
                .add(*hash);
        }
        books.changed |= !records.is_empty();
        books
            .group_through
            .entry(group.to_owned())
            .or_default()
            .insert(partition, through);
        let key = (group.to_owned(), topic.to_owned(), partition);
        if self.skips.get(&key).is_some_and(|to| through >= *to) {
            self.skips.remove(&key);
        }
        let consumed = records.iter().filter(|(_, _, skipped)| !skipped).count() as u64;
        if consumed > 0 {
            *self
                .counted
                .entry(Tier::Group(group.to_owned()))
                .or_default() += consumed;
        }
    }

    /// Takes a client report once: refuses a replayed (reporter, sequence), and otherwise
    /// books its counts `(topic, topic id, window, tally, checksummed)`.
    ///
    /// # Errors
    /// [`Ledger::Replayed`], [`Ledger::TooManyReporters`]; nothing is booked then.
    pub(super) fn client(
        &mut self,
        reporter: &str,
        sequence: u64,
        counts: Vec<(String, String, Window, Tally, bool)>,
        now: i64,
    ) -> Result<(), Ledger> {
        if !self.reporters.contains_key(reporter) && self.reporters.len() >= MAX_REPORTERS {
            return Err(Ledger::TooManyReporters);
        }
        let ledger = self.reporters.entry(reporter.to_owned()).or_default();
        if ledger.forgotten.is_some_and(|f| sequence <= f) || !ledger.seen.insert(sequence) {
            return Err(Ledger::Replayed);
        }
        if ledger.seen.len() > MAX_SEQUENCES {
            ledger.forgotten = ledger.seen.pop_first().max(ledger.forgotten);
        }
        self.reporters_changed = true;
        let mut n = 0;
        for (topic, topic_id, w, tally, checksummed) in counts {
            let books = self.topic(&topic, &topic_id);
            books.changed = true;
            let open = books.touch(w, now);
            let client = open.client.get_or_insert_with(|| ClientCounts {
                checksummed: true,
                ..ClientCounts::default()
            });
            client.tally.merge(tally);
            client.checksummed &= checksummed;
            client.reporters.insert(reporter.to_owned());
            n += tally.count;
        }
        *self.counted.entry(Tier::Client).or_default() += n;
        Ok(())
    }

    /// Judges every open window whose grace is over; settles those without a lagging group.
    pub(super) fn reconcile_due(&mut self, now: i64) {
        let (width, grace) = (self.width_ms, self.grace_ms);
        let due = |w: Window, touch: i64| due_at(w, touch, width, grace) <= now;
        for books in self.topics.values_mut() {
            let before = (books.open.len(), books.settled.len());
            let ready: Vec<Window> = books
                .open
                .iter()
                .filter(|(w, o)| due(**w, o.last_touch))
                .map(|(w, _)| *w)
                .collect();
            for w in ready {
                let Some(open) = books.open.get(&w) else {
                    continue;
                };
                let verdict = reconcile::reconcile(open, &books.context());
                if verdict.status != Status::Problem(Kind::Lagging) {
                    books.open.remove(&w);
                    books.settled.insert(w, verdict);
                    books.settled_changes.insert(w);
                }
            }
            while books.settled.len() > MAX_SETTLED_WINDOWS {
                if let Some((w, _)) = books.settled.pop_first() {
                    books.settled_changes.insert(w);
                }
            }
            books.changed |= before != (books.open.len(), books.settled.len());
        }
    }

    /// Forgets topics not in `live` (`(name, id)`): deleted, or created again under a new id.
    pub(super) fn retain_topics(&mut self, live: &HashMap<String, String>) {
        let (dropped, dropped_verdicts) = (&mut self.dropped, &mut self.dropped_verdicts);
        self.topics.retain(|name, books| {
            let keep = live.get(name).is_some_and(|id| *id == books.topic_id);
            // Books without windows never counted anything, so were never published.
            let had_counts = !books.open.is_empty() || !books.settled.is_empty();
            if !keep && had_counts {
                dropped.insert(name.clone());
                dropped_verdicts.extend(books.settled.keys().map(|w| (name.clone(), *w)));
            }
            keep
        });
    }

    /// The windows of `topic` starting in `[from, to)` (the no-time bucket only without
    /// bounds), each with its verdict as of `now`: pending ones with their totals so far.
    pub(super) fn windows(
        &self,
        topic: &str,
        from: Option<i64>,
        to: Option<i64>,
        now: i64,
    ) -> Vec<(Window, Verdict)> {
        let Some(books) = self.topics.get(topic) else {
            return Vec::new();
        };
        let wanted = |w: &Window| match w.start() {
            None => from.is_none() && to.is_none(),
            Some(s) => from.is_none_or(|f| s >= f) && to.is_none_or(|t| s < t),
        };
        let mut out: BTreeMap<Window, Verdict> = books
            .settled
            .iter()
            .filter(|(w, _)| wanted(w))
            .map(|(w, v)| (*w, v.clone()))
            .collect();
        for (w, open) in books.open.iter().filter(|(w, _)| wanted(w)) {
            let verdict = if due_at(*w, open.last_touch, self.width_ms, self.grace_ms) <= now {
                reconcile::reconcile(open, &books.context())
            } else {
                Verdict {
                    status: Status::Pending,
                    tiers: reconcile::totals(open, &books.context()),
                    problems: Vec::new(),
                }
            };
            out.insert(*w, verdict);
        }
        out.into_iter().collect()
    }

    /// Topics with books.
    pub(super) fn topic_names(&self) -> impl Iterator<Item = &str> {
        self.topics.keys().map(String::as_str)
    }

    /// Records counted per tier since start.
    pub(super) fn counted(&self) -> &BTreeMap<Tier, u64> {
        &self.counted
    }
}

/// When window `w`, last touched at `last_touch`, is due for judgement: `grace` after its
/// end, or after its last late record.
fn due_at(w: Window, last_touch: i64, width_ms: i64, grace_ms: i64) -> i64 {
    w.end(width_ms)
        .unwrap_or(last_touch)
        .max(last_touch)
        .saturating_add(grace_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn books() -> Books {
        Books::new(MINUTE, 2 * MINUTE)
    }

    fn statuses(b: &Books, now: i64) -> Vec<(Window, &'static str)> {
        b.windows("t", None, None, now)
            .into_iter()
            .map(|(w, v)| (w, v.status.as_str()))
            .collect()
    }

    #[test]
    fn a_window_is_pending_until_its_grace_is_over_then_settles() {
        let mut b = books();
        let w = Window::Start(0);
        b.ingress("t", "id", [(0, w, 7)].into_iter(), 1_000);
        b.log("t", "id", 0, &[(0, w, 7)], 1, 2_000);
        assert_eq!(statuses(&b, 3 * MINUTE - 1), [(w, "pending")]);
        b.reconcile_due(3 * MINUTE - 1);
        assert!(b.topics["t"].settled.is_empty());
        b.reconcile_due(3 * MINUTE);
        assert!(
            b.topics["t"].open.is_empty(),
            "settled windows drop their tallies"
        );
        assert_eq!(statuses(&b, 3 * MINUTE), [(w, "complete")]);
    }

    #[test]
    fn a_late_record_reopens_a_settled_window_and_restarts_its_grace() {
        let mut b = books();
        let w = Window::Start(0);
        b.ingress("t", "id", [(0, w, 7)].into_iter(), 1_000);
        b.log("t", "id", 0, &[(0, w, 7)], 1, 1_000);
        b.reconcile_due(3 * MINUTE);
        let late = 10 * MINUTE;
        b.ingress("t", "id", [(0, w, 8)].into_iter(), late);
        assert_eq!(statuses(&b, late + 1), [(w, "pending")]);
        b.log("t", "id", 0, &[(1, w, 8)], 2, late + 1);
        b.reconcile_due(late + 1 + 2 * MINUTE);
        let windows = b.windows("t", None, None, late + 1 + 2 * MINUTE);
        assert_eq!(windows[0].1.status, Status::Complete);
        assert_eq!(windows[0].1.tiers[&Tier::Log].count, 2);
    }

    #[test]
    fn a_lagging_group_keeps_its_window_open() {
        let mut b = books();
        let w = Window::Start(0);
        b.ingress("t", "id", [(0, w, 7)].into_iter(), 0);
        b.log("t", "id", 0, &[(0, w, 7)], 1, 0);
        b.group("t", "id", "g", 0, &[], 0, 0);
        b.reconcile_due(5 * MINUTE);
        assert_eq!(statuses(&b, 5 * MINUTE), [(w, "lagging")]);
        b.group("t", "id", "g", 0, &[(w, 7, false)], 1, 5 * MINUTE);
        b.reconcile_due(8 * MINUTE);
        assert_eq!(statuses(&b, 8 * MINUTE), [(w, "complete")]);
        assert!(b.topics["t"].open.is_empty());
    }

    #[test]
    fn a_reset_forward_books_what_it_passed_as_skipped_until_the_tier_passes_it() {
        let mut b = books();
        let w = Window::Start(0);
        b.ingress("t", "id", [(0, w, 1), (0, w, 2)].into_iter(), 0);
        b.log("t", "id", 0, &[(0, w, 1), (1, w, 2)], 2, 0);
        b.skip("g", "t", 0, 2);
        assert_eq!(b.skip_to("g", "t", 0), Some(2));
        b.group("t", "id", "g", 0, &[(w, 1, true), (w, 2, true)], 2, 0);
        assert_eq!(b.skip_to("g", "t", 0), None, "passed, forgotten");
        assert!(!b.counted().contains_key(&Tier::Group("g".to_owned())));
        b.reconcile_due(3 * MINUTE);
        let v = &b.windows("t", None, None, 3 * MINUTE)[0].1;
        assert_eq!(v.status, Status::Problem(Kind::Skipped));
        assert_eq!(v.problems[0].count, 2);
    }

    #[test]
    fn a_replayed_report_is_refused_and_not_counted() {
        let mut b = books();
        let counts = || {
            vec![(
                "t".to_owned(),
                "id".to_owned(),
                Window::Start(0),
                Tally {
                    count: 5,
                    checksum: 0,
                },
                false,
            )]
        };
        assert_eq!(b.client("app", 1, counts(), 0), Ok(()));
        assert_eq!(b.client("app", 1, counts(), 0), Err(Ledger::Replayed));
        assert_eq!(b.counted()[&Tier::Client], 5);
        let windows = b.windows("t", None, None, 0);
        assert_eq!(windows[0].1.tiers[&Tier::Client].count, 5);
    }

    #[test]
    fn the_ledger_is_bounded_and_refuses_what_it_forgot() {
        let mut b = books();
        for s in 0..=MAX_SEQUENCES as u64 {
            assert_eq!(b.client("app", s, Vec::new(), 0), Ok(()));
        }
        assert_eq!(b.reporters["app"].seen.len(), MAX_SEQUENCES);
        assert_eq!(b.client("app", 0, Vec::new(), 0), Err(Ledger::Replayed));
    }

    #[test]
    fn settled_windows_are_bounded_per_topic() {
        let mut b = books();
        for i in 0..(MAX_SETTLED_WINDOWS as i64 + 10) {
            let w = Window::Start(i * MINUTE);
            b.ingress("t", "id", [(0, w, 1)].into_iter(), i * MINUTE);
            b.log("t", "id", 0, &[(i as u64, w, 1)], i as u64 + 1, i * MINUTE);
        }
        b.reconcile_due(i64::MAX / 2);
        assert_eq!(b.topics["t"].settled.len(), MAX_SETTLED_WINDOWS);
        assert!(b.topics["t"].open.is_empty());
    }

    #[test]
    fn published_books_restore_and_what_they_missed_is_incomplete() {
        let mut b = books();
        let w = Window::Start(0);
        b.ingress("t", "id", [(0, w, 7)].into_iter(), 0);
        b.log("t", "id", 0, &[(0, w, 7)], 1, 0);
        let changes = b.take_changed();
        assert_eq!(changes.topics.len(), 1);
        let bytes = postcard::to_stdvec(changes.topics[0].1.unwrap()).unwrap();
        assert!(b.take_changed().topics.is_empty(), "nothing changed since");
        b.log("t", "id", 0, &[], 1, 0);
        assert!(
            b.take_changed().topics.is_empty(),
            "an idle round changes nothing"
        );

        // The next process: two records were appended (and acknowledged) after the publish.
        let mut next = books();
        next.restore_topic("t", "id", postcard::from_bytes(&bytes).unwrap());
        next.set_boot_end("t", "id", 0, 3);
        assert_eq!(
            next.log_through("t", 0),
            Some(1),
            "counting resumes, not restarts"
        );
        next.log("t", "id", 0, &[(1, w, 8), (2, w, 9)], 3, 1);
        next.reconcile_due(10 * MINUTE);
        let v = &next.windows("t", None, None, 10 * MINUTE)[0].1;
        assert_eq!(v.status, Status::Problem(Kind::Incomplete));
        assert_eq!(v.tiers[&Tier::Log].count, 3);
        assert_eq!(v.tiers[&Tier::Ingress].count, 1);
        assert_eq!(v.problems[0].count, 2);
    }

    #[test]
    fn verdicts_are_published_once_as_they_settle_and_deleted_when_reopened() {
        let mut b = books();
        let w = Window::Start(0);
        b.ingress("t", "id", [(0, w, 7)].into_iter(), 0);
        b.log("t", "id", 0, &[(0, w, 7)], 1, 0);
        b.take_changed();
        b.reconcile_due(3 * MINUTE);
        let changes = b.take_changed();
        assert_eq!(changes.verdicts.len(), 1);
        let (topic, window, verdict) = &changes.verdicts[0];
        assert_eq!((topic.as_str(), *window), ("t", w));
        let verdict = verdict.expect("the settled verdict").clone();
        assert_eq!(verdict.status, Status::Complete);
        let books_bytes = postcard::to_stdvec(changes.topics[0].1.unwrap()).unwrap();
        assert!(b.take_changed().verdicts.is_empty(), "published once");

        // A restart restores the verdict beside the books.
        let mut next = books();
        next.restore_topic("t", "id", postcard::from_bytes(&books_bytes).unwrap());
        next.restore_verdict("t", w, verdict);
        assert_eq!(
            next.windows("t", None, None, 3 * MINUTE)[0].1.status,
            Status::Complete
        );

        // A late record reopens it: its verdict record is deleted.
        b.ingress("t", "id", [(0, w, 8)].into_iter(), 4 * MINUTE);
        let changes = b.take_changed();
        assert_eq!(changes.verdicts.len(), 1);
        assert!(changes.verdicts[0].2.is_none(), "a tombstone");
    }

    #[test]
    fn restored_ledgers_refuse_what_they_had_taken() {
        let mut b = books();
        b.restore_reporters(BTreeMap::from([("app".to_owned(), 5)]));
        assert_eq!(b.client("app", 5, Vec::new(), 0), Err(Ledger::Replayed));
        assert_eq!(b.client("app", 6, Vec::new(), 0), Ok(()));
        let reporters = b.take_changed().reporters;
        assert_eq!(reporters, Some(BTreeMap::from([("app".to_owned(), 6)])));
    }

    #[test]
    fn books_without_counts_are_not_worth_publishing() {
        let mut b = books();
        b.set_boot_end("t", "id", 0, 0);
        b.log("t", "id", 0, &[], 0, 0);
        b.group("t", "id", "g", 0, &[], 0, 0);
        b.reconcile_due(MINUTE);
        assert!(b.take_changed().topics.is_empty());
        b.retain_topics(&HashMap::new());
        assert!(
            b.take_changed().topics.is_empty(),
            "no tombstone for books never published"
        );
    }

    #[test]
    fn a_topic_created_again_starts_fresh_books() {
        let mut b = books();
        b.log("t", "old", 0, &[(0, Window::Start(0), 1)], 1, 0);
        assert_eq!(b.log_through("t", 0), Some(1));
        b.log("t", "new", 0, &[], 0, 0);
        assert_eq!(b.log_through("t", 0), Some(0));
        b.retain_topics(&HashMap::new());
        assert_eq!(b.topic_names().count(), 0);
    }
}
