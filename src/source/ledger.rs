//! What a stream has handed to Falco: a position before which every event of the stream has
//! reached Falco (or is being replayed), and the keys of the events handed over near it.
//!
//! A checkpoint and the in-process hand-off record exactly this ([`Position`]), so that the
//! next run replays from the position minus the overlap and drops only copies of what Falco
//! already had. Two things keep the position honest:
//! - events queued but not yet taken by `next_batch` have not reached Falco: the position is
//!   never past the oldest of them, and their keys are not recorded;
//! - while a replay fills a gap, the events after the gap are not "everything before": the
//!   position is where the replay has got to.

use crate::ingest::dedup::{Key, Keyer};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Where a stream stands, as a checkpoint records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    /// Every event stamped before this (ns since the epoch), minus the overlap, reached Falco.
    pub(crate) covered: u64,
    /// The secret of the event keys.
    pub(crate) keyer: Keyer,
    /// Keys of the events handed to Falco around `covered`, with their timestamps, oldest
    /// first.
    pub(crate) keys: Vec<(Key, u64)>,
}

/// The ledger of one stream, shared by its sinks (live and replay), its tail and `next_batch`.
pub(crate) struct Ledger {
    keyer: Keyer,
    /// How far before `covered` a replay starts, and its slack (ns): keys from this far back
    /// are recorded.
    overlap: u64,
    /// Most keys recorded.
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// From the tail: everything stamped before `covered` was queued (0: nothing yet).
    covered: u64,
    /// The newest event queued by the live connection and by a replay since `covered` was set.
    live: u64,
    replayed: u64,
    /// A replay is filling a gap: the events after the gap do not move the position.
    replaying: bool,
    /// Queued, not yet handed to Falco: key → (timestamp, copies).
    pending: HashMap<Key, (u64, u32)>,
    /// Handed to Falco, oldest first: (key, timestamp).
    handed: VecDeque<(Key, u64)>,
}

const NANOS: u64 = 1_000_000_000;

impl Ledger {
    /// A ledger whose keys are made with `keyer`; `from`: where the last run of the stream
    /// stopped, whose keys stay known until the stream moves past them.
    pub(crate) fn new(
        keyer: Keyer,
        overlap_secs: u64,
        capacity: usize,
        from: Option<&Position>,
    ) -> Self {
        let mut inner = Inner::default();
        if let Some(p) = from {
            inner.covered = p.covered;
            inner.handed = p.keys.iter().copied().collect();
        }
        Self {
            keyer,
            overlap: overlap_secs * NANOS,
            capacity: capacity.max(1),
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Nothing done under the lock can leave it inconsistent in a harmful way.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tail's position: everything stamped before `covered` was queued. A new session
    /// starts; `replaying`: a replay fills the gap before it.
    pub(crate) fn session(&self, covered: u64, replaying: bool) {
        let mut l = self.lock();
        l.covered = l.covered.max(covered);
        l.live = 0;
        l.replayed = 0;
        l.replaying = replaying;
    }

    /// The replay of the gap is over (done or given up): the live events move the position.
    pub(crate) fn replay_over(&self) {
        self.lock().replaying = false;
    }

    /// An event was queued for `next_batch`.
    pub(crate) fn queued(&self, key: Key, ts: u64, replayed: bool) {
        let mut l = self.lock();
        let newest = if replayed {
            &mut l.replayed
        } else {
            &mut l.live
        };
        *newest = (*newest).max(ts);
        let entry = l.pending.entry(key).or_insert((ts, 0));
        entry.1 += 1;
    }

    /// `next_batch` handed these events to Falco, (key, timestamp) each.
    pub(crate) fn handed(&self, events: impl IntoIterator<Item = (Key, u64)>) {
        let mut l = self.lock();
        for (key, ts) in events {
            if let Some(entry) = l.pending.get_mut(&key) {
                entry.1 -= 1;
                if entry.1 == 0 {
                    l.pending.remove(&key);
                }
            }
            if l.handed.len() == self.capacity {
                l.handed.pop_front();
            }
            l.handed.push_back((key, ts));
        }
    }

    /// Where the stream stands; None before anything is known.
    pub(crate) fn position(&self) -> Option<Position> {
        let l = self.lock();
        let tail = if l.replaying {
            l.covered.max(l.replayed)
        } else {
            l.covered.max(l.live).max(l.replayed)
        };
        // Not past what is still queued: it has not reached Falco.
        let covered = l.pending.values().map(|(ts, _)| *ts).fold(tail, u64::min);
        if covered == 0 {
            return None;
        }
        // A replay from here starts `overlap` earlier and takes events `overlap` earlier still.
        let from = covered.saturating_sub(2 * self.overlap + NANOS);
        let keys = l
            .handed
            .iter()
            .filter(|(_, ts)| *ts >= from)
            .copied()
            .collect();
        Some(Position {
            covered,
            keyer: self.keyer,
            keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS;

    fn ledger() -> Ledger {
        Ledger::new(Keyer([1, 2]), 10, 100, None)
    }

    fn keys(p: Position) -> Vec<Key> {
        p.keys.iter().map(|(k, _)| *k).collect()
    }

    #[test]
    fn nothing_known_is_no_position() {
        assert_eq!(ledger().position(), None);
    }

    #[test]
    fn the_position_is_the_newest_event_handed_over() {
        let l = ledger();
        l.session(1000 * S, false);
        for (k, ts) in [(1, 1001), (2, 1003), (3, 1002)] {
            l.queued(k, ts * S, false);
        }
        // Queued, not handed: the position stays at the oldest of them.
        assert_eq!(l.position().unwrap().covered, 1001 * S);
        l.handed([(1, 1001 * S)]);
        assert_eq!(
            l.position().unwrap().covered,
            1002 * S,
            "ev 3 is still queued"
        );
        l.handed([(2, 1003 * S), (3, 1002 * S)]);
        let p = l.position().unwrap();
        assert_eq!(p.covered, 1003 * S);
        assert_eq!(p.keys, [(1, 1001 * S), (2, 1003 * S), (3, 1002 * S)]);
        assert_eq!(p.keyer, Keyer([1, 2]));
    }

    #[test]
    fn while_a_replay_fills_a_gap_the_position_is_where_it_got_to() {
        let l = ledger();
        l.session(1000 * S, true);
        l.queued(9, 1100 * S, false);
        l.handed([(9, 1100 * S)]);
        assert_eq!(
            l.position().unwrap().covered,
            1000 * S,
            "live, after the gap"
        );
        l.queued(5, 1050 * S, true);
        l.handed([(5, 1050 * S)]);
        assert_eq!(l.position().unwrap().covered, 1050 * S);
        l.replay_over();
        assert_eq!(l.position().unwrap().covered, 1100 * S);
    }

    #[test]
    fn keys_are_those_within_reach_of_the_next_replay() {
        let l = ledger();
        l.session(0, false);
        let events = [(1, 900), (2, 970), (3, 979), (4, 1000)];
        for (k, ts) in events {
            l.queued(k, ts * S, false);
        }
        l.handed(events.map(|(k, ts)| (k, ts * S)));
        // covered 1000 s, overlap 10 s: a replay begins at 990 and takes events from 980.
        assert_eq!(keys(l.position().unwrap()), [3, 4]);
    }

    #[test]
    fn copies_of_a_queued_event_are_counted() {
        let l = ledger();
        l.session(0, false);
        l.queued(7, 10 * S, false);
        l.queued(7, 10 * S, true);
        l.queued(8, 20 * S, false);
        l.handed([(7, 10 * S), (8, 20 * S)]);
        assert_eq!(
            l.position().unwrap().covered,
            10 * S,
            "one copy still queued"
        );
        l.handed([(7, 10 * S)]);
        assert_eq!(l.position().unwrap().covered, 20 * S);
    }

    #[test]
    fn the_memory_of_handed_keys_is_bounded() {
        let l = Ledger::new(Keyer([1, 2]), 10, 3, None);
        l.session(0, false);
        for k in 0..10 {
            l.queued(k, 100 * S, false);
            l.handed([(k, 100 * S)]);
        }
        assert_eq!(keys(l.position().unwrap()), [7, 8, 9]);
    }

    #[test]
    fn a_resumed_ledger_keeps_the_last_runs_keys_until_the_stream_moves_past_them() {
        let last_run = Position {
            covered: 1000 * S,
            keyer: Keyer([1, 2]),
            keys: vec![(1, 995 * S), (2, 1000 * S)],
        };
        let l = Ledger::new(Keyer([1, 2]), 10, 100, Some(&last_run));
        // Closed again before anything new: the same position, the same keys.
        assert_eq!(l.position(), Some(last_run.clone()));
        l.session(1000 * S, false);
        l.queued(3, 1020 * S, false);
        l.handed([(3, 1020 * S)]);
        // At 1020 s a replay takes events from 999 s: key 1 is out of its reach.
        assert_eq!(keys(l.position().unwrap()), [2, 3]);
    }
}
