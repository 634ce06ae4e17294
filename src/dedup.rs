//! Recognising an audit event delivered twice, as when a replayed window overlaps what the live
//! tail delivered, with a bounded memory of recent event keys. Pure, no I/O.
//!
//! An event's key is a keyed hash of its `auditID`, `stage` and `stageTimestamp`. The
//! apiserver takes `auditID` from the client's `Audit-ID` request header when there is one,
//! so `auditID` and `stage` alone would let a client hide a request behind an earlier one
//! that reused its ID; the stage timestamp (microseconds) tells such requests apart, while two
//! copies of one event agree on all three. The hash is keyed per instance, so nobody can
//! craft colliding keys; an accidental 64-bit collision within the memory is about one in
//! 10¹⁴ per event.

use crate::audit::AuditEvent;
use std::collections::hash_map::RandomState;
use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// Keys remembered per origin (live, replayed): about 1.7 MB each when full.
pub(crate) const REMEMBERED_KEYS: usize = 1 << 16;

/// An event's key.
pub(crate) type Key = u64;

/// Keys are already uniform hashes: the set uses them as they are.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The last `capacity` keys inserted: a ring for their order, a set for lookups.
pub(crate) struct Recent {
    ring: VecDeque<Key>,
    set: HashSet<Key, BuildHasherDefault<KeyHasher>>,
    capacity: usize,
}

impl Recent {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            ring: VecDeque::new(),
            set: HashSet::default(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn contains(&self, key: Key) -> bool {
        self.set.contains(&key)
    }

    /// Remembers `key`, forgetting the oldest key when full; false if it was already known.
    pub(crate) fn insert(&mut self, key: Key) -> bool {
        if !self.set.insert(key) {
            return false;
        }
        if self.ring.len() == self.capacity {
            if let Some(old) = self.ring.pop_front() {
                self.set.remove(&old);
            }
        }
        self.ring.push_back(key);
        true
    }
}

/// The memory of one tail: keys of recent live events and of recent replayed events.
pub(crate) struct Dedup {
    hasher: RandomState,
    live: Recent,
    replayed: Recent,
}

impl Dedup {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            hasher: RandomState::new(),
            live: Recent::new(capacity),
            replayed: Recent::new(capacity),
        }
    }

    /// The key of `event`; `None` when it has no `auditID` (such events are never dropped).
    pub(crate) fn key(&self, event: &AuditEvent) -> Option<Key> {
        let parts = event.identity_values()?;
        let mut h = self.hasher.build_hasher();
        for p in parts {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            h.write_usize(p.len());
            h.write(p);
        }
        Some(h.finish())
    }

    /// A live event: true (deliver) unless delivered recently, live or replayed.
    pub(crate) fn admit_live(&mut self, key: Key) -> bool {
        !self.replayed.contains(key) && self.live.insert(key)
    }

    /// A replayed event: true (deliver) unless delivered recently, live or replayed.
    pub(crate) fn admit_replayed(&mut self, key: Key) -> bool {
        !self.live.contains(key) && self.replayed.insert(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, stage: &str, ts: &str) -> AuditEvent {
        let json = format!(
            r#"{{"kind":"Event","auditID":"{id}","stage":"{stage}","stageTimestamp":"{ts}"}}"#
        );
        let mut out = None;
        crate::audit::split(&json, 0, 1 << 20, &mut |e| out = Some(e), &mut |_| {});
        out.unwrap()
    }

    const T1: &str = "2025-02-10T09:15:40.102611Z";
    const T2: &str = "2025-02-10T09:15:40.102612Z";

    #[test]
    fn copies_agree_and_any_difference_is_another_event() {
        let d = Dedup::new(8);
        let k = d.key(&event("a", "ResponseComplete", T1)).unwrap();
        assert_eq!(d.key(&event("a", "ResponseComplete", T1)), Some(k));
        for other in [
            event("b", "ResponseComplete", T1),
            event("a", "ResponseStarted", T1),
            // A client reusing an Audit-ID: same ID and stage, another time.
            event("a", "ResponseComplete", T2),
        ] {
            assert_ne!(d.key(&other), Some(k));
        }
    }

    #[test]
    fn events_without_audit_id_have_no_key() {
        let d = Dedup::new(8);
        let mut e = None;
        crate::audit::split(
            r#"{"kind":"Event"}"#,
            0,
            1024,
            &mut |x| e = Some(x),
            &mut |_| {},
        );
        assert_eq!(d.key(&e.unwrap()), None);
    }

    #[test]
    fn live_and_replayed_copies_are_admitted_once_in_either_order() {
        let mut d = Dedup::new(8);
        assert!(d.admit_live(1));
        assert!(!d.admit_replayed(1), "replayed copy of a live event");
        assert!(d.admit_replayed(2));
        assert!(!d.admit_live(2), "live copy of a replayed event");
        assert!(!d.admit_replayed(2), "replayed twice (a retried window)");
        assert!(!d.admit_live(1), "live twice");
    }

    #[test]
    fn memory_is_bounded_and_forgets_the_oldest() {
        let mut r = Recent::new(3);
        for k in 0..10 {
            assert!(r.insert(k));
        }
        assert_eq!(r.ring.len(), 3);
        assert_eq!(r.set.len(), 3);
        assert!(!r.contains(6));
        assert!(r.contains(7) && r.contains(9));
        assert!(!r.insert(9));
        assert_eq!(r.ring.len(), 3);
    }
}
