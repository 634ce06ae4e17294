//! Recognising an audit event delivered twice, as when a replayed window overlaps what the live
//! tail delivered, with a bounded memory of recent event keys. Pure, no I/O.
//!
//! An event's key is a keyed hash of all its bytes, with their length: only an exact copy of
//! an event is ever dropped. A replayed copy of a live event is the same `short_message`
//! text, so the same bytes. A key made of a few fields would let distinct requests collide:
//! the apiserver takes `auditID` from the client's `Audit-ID` request header, and two requests
//! can share it, their stage and their stage timestamp. A copy that differs in any byte (say,
//! re-serialised with other whitespace) is delivered twice rather than risk losing an event.
//! The hash (SipHash-1-3) is keyed with 128 random bits per stream, so nobody can craft
//! colliding keys; an accidental 64-bit collision within the memory is about one in 10¹⁴ per
//! event. The key is explicit, not `std`'s `RandomState`, so that a checkpoint can store it
//! with the keys of the events delivered last, and the next run recognise them.

use crate::ingest::audit::AuditEvent;
use siphasher::sip::SipHasher13;
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

/// The secret of a stream's event keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keyer(pub(crate) [u64; 2]);

impl Keyer {
    /// 128 fresh random bits (from the OS, through `RandomState`'s seeding).
    pub(crate) fn random() -> Self {
        let bits = |salt: u64| RandomState::new().hash_one(salt);
        Self([bits(1), bits(2)])
    }

    /// The key of `event`: a keyed hash of its length and all its bytes.
    pub(crate) fn key(&self, event: &AuditEvent) -> Key {
        let mut h = SipHasher13::new_with_keys(self.0[0], self.0[1]);
        h.write_usize(event.payload.len());
        h.write(&event.payload);
        h.finish()
    }
}

/// The memory of one tail: keys of recent live events and of recent replayed events (the
/// sink makes the keys, with its stream's [`Keyer`]).
pub(crate) struct Dedup {
    live: Recent,
    replayed: Recent,
}

impl Dedup {
    /// A memory that already knows `delivered` as live events: what the last run of this
    /// stream handed to Falco, from its checkpoint (keys made with the checkpoint's secret).
    pub(crate) fn seeded(capacity: usize, delivered: impl IntoIterator<Item = Key>) -> Self {
        let mut live = Recent::new(capacity);
        for k in delivered {
            live.insert(k);
        }
        Self {
            live,
            replayed: Recent::new(capacity),
        }
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

    fn event(json: &str) -> AuditEvent {
        AuditEvent {
            ts: 0,
            payload: json.as_bytes().to_vec(),
        }
    }

    const E: &str = r#"{"kind":"Event","auditID":"a","stage":"ResponseComplete","stageTimestamp":"2025-02-10T09:15:40.102611Z","requestObject":{"spec":{"replicas":1}}}"#;

    #[test]
    fn only_an_exact_copy_has_the_same_key() {
        let d = Keyer::random();
        let k = d.key(&event(E));
        assert_eq!(d.key(&event(E)), k, "a copy");
        let others = [
            // The same auditID, stage and stageTimestamp (a client reusing an Audit-ID), but
            // another request body.
            E.replace(r#""replicas":1"#, r#""replicas":2"#),
            // Other whitespace: delivered twice rather than risk a loss.
            E.replace(r#""kind":"Event","#, r#""kind": "Event","#),
            // A prefix of it.
            E[..E.len() - 1].to_owned(),
            E.replace("ResponseComplete", "ResponseStarted"),
        ];
        for other in others {
            assert_ne!(d.key(&event(&other)), k, "{other}");
        }
    }

    #[test]
    fn keys_differ_between_streams_and_agree_for_one_secret() {
        // Keyed per stream: nobody outside can compute (and so aim at) a key.
        let (a, b) = (Keyer::random(), Keyer::random());
        assert_ne!(a.key(&event(E)), b.key(&event(E)));
        // A checkpoint's secret makes the same keys in the next run.
        assert_eq!(Keyer(a.0).key(&event(E)), a.key(&event(E)));
    }

    #[test]
    fn a_seeded_memory_drops_what_the_last_run_delivered() {
        let keyer = Keyer::random();
        let k = keyer.key(&event(E));
        let mut next = Dedup::seeded(8, [k]);
        assert!(!next.admit_replayed(k), "replayed after a restart");
        assert!(!next.admit_live(k));
        let other = keyer.key(&event(&E.replace("ResponseComplete", "ResponseStarted")));
        assert!(next.admit_replayed(other));
    }

    #[test]
    fn live_and_replayed_copies_are_admitted_once_in_either_order() {
        let mut d = Dedup::seeded(8, []);
        assert!(d.admit_live(1));
        assert!(!d.admit_replayed(1), "replayed copy of a live event");
        assert!(d.admit_replayed(2));
        assert!(!d.admit_live(2), "live copy of a replayed event");
        assert!(!d.admit_replayed(2), "replayed twice (a retried window)");
        assert!(!d.admit_live(1), "live twice");
    }

    #[test]
    fn a_stream_remembers_the_last_65536_events_of_each_origin() {
        // The memory the README states: a copy is dropped while fewer than 65,536 events of
        // its origin came after it.
        let mut d = Dedup::seeded(REMEMBERED_KEYS, []);
        for k in 0..65_536 {
            assert!(d.admit_live(k));
        }
        assert!(!d.admit_replayed(0), "the oldest of 65,536 is still known");
        assert!(d.admit_live(65_536));
        assert!(d.admit_replayed(0), "the 65,537th live event pushed it out");
    }

    #[test]
    fn the_key_set_uses_keys_as_they_are() {
        // Keys are uniform hashes already: hashing them again would only cost time.
        let mut h = KeyHasher::default();
        h.write_u64(0xdead_beef_0123_4567);
        assert_eq!(h.finish(), 0xdead_beef_0123_4567);
        // Bytes (never written for u64 keys) are folded in, each changing the result.
        let mut h = KeyHasher::default();
        h.write(&[1, 2]);
        assert_eq!(h.finish(), 0x0102);
        // Folded with xor: a byte met again after a full turn cancels out.
        let mut h = KeyHasher::default();
        h.write(&[1, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(h.finish(), 0);
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
