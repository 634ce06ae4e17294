//! Which stream an event came from, for `ka.cluster.name` when `open_params` names several
//! streams. A plugin event carries nothing but its payload to extraction (libscap overwrites
//! the thread id of plugin events), and the payload is the event as received: so `next_batch`
//! records a keyed hash of each payload with its stream, and extraction looks the payload up.
//!
//! Falco extracts the fields of an event (rules, then outputs) before it reads the next one,
//! so the last few batches are all that must be remembered: the memory is bounded.

use siphasher::sip::SipHasher13;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};

/// Events remembered: four batches of `next_batch`.
const REMEMBERED: usize = 4096;

/// The streams' cluster names, and the stream of each event handed to Falco lately.
#[derive(Debug)]
pub struct StreamTags {
    secret: [u64; 2],
    names: Vec<Option<String>>,
    ring: VecDeque<u64>,
    /// Payload hash → (stream, copies in the ring).
    index: HashMap<u64, (usize, u32)>,
}

impl Default for StreamTags {
    fn default() -> Self {
        let bits = |salt: u64| RandomState::new().hash_one(salt);
        Self {
            secret: [bits(1), bits(2)],
            names: Vec::new(),
            ring: VecDeque::new(),
            index: HashMap::new(),
        }
    }
}

impl StreamTags {
    /// The cluster names of the streams of a new instance, by stream index; forgets the last
    /// instance's events.
    pub fn open(&mut self, names: Vec<Option<String>>) {
        self.names = names;
        self.ring.clear();
        self.index.clear();
    }

    /// Whether any stream is named (otherwise nothing needs recording).
    pub fn any(&self) -> bool {
        self.names.iter().any(Option::is_some)
    }

    /// A keyed hash of the payload's length and its first and last 256 bytes (where the
    /// events of a stream differ: `auditID` and stage first, timestamps last).
    fn hash(&self, payload: &[u8]) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.secret[0], self.secret[1]);
        h.write_usize(payload.len());
        let n = payload.len().min(256);
        h.write(&payload[..n]);
        h.write(&payload[payload.len() - n..]);
        h.finish()
    }

    /// `payload` came from stream `stream`.
    pub fn record(&mut self, payload: &[u8], stream: usize) {
        let h = self.hash(payload);
        if self.ring.len() == REMEMBERED {
            if let Some(old) = self.ring.pop_front() {
                if let Some(entry) = self.index.get_mut(&old) {
                    entry.1 -= 1;
                    if entry.1 == 0 {
                        self.index.remove(&old);
                    }
                }
            }
        }
        self.ring.push_back(h);
        let entry = self.index.entry(h).or_insert((stream, 0));
        *entry = (stream, entry.1 + 1);
    }

    /// The cluster name of the stream `payload` came from, if it is a named stream's event
    /// handed to Falco lately.
    pub fn cluster_of(&self, payload: &[u8]) -> Option<&str> {
        if !self.any() {
            return None;
        }
        let (stream, _) = self.index.get(&self.hash(payload))?;
        self.names.get(*stream)?.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_traced_to_their_stream() {
        let mut t = StreamTags::default();
        t.open(vec![Some("prod".into()), Some("staging".into())]);
        t.record(b"{\"auditID\":\"a\"}", 0);
        t.record(b"{\"auditID\":\"b\"}", 1);
        assert_eq!(t.cluster_of(b"{\"auditID\":\"a\"}"), Some("prod"));
        assert_eq!(t.cluster_of(b"{\"auditID\":\"b\"}"), Some("staging"));
        assert_eq!(t.cluster_of(b"{\"auditID\":\"c\"}"), None);
    }

    #[test]
    fn unnamed_streams_record_nothing_to_look_up() {
        let mut t = StreamTags::default();
        t.open(vec![None]);
        assert!(!t.any());
        t.record(b"x", 0);
        assert_eq!(t.cluster_of(b"x"), None);
    }

    #[test]
    fn the_memory_is_bounded_and_keeps_the_latest() {
        let mut t = StreamTags::default();
        t.open(vec![Some("a".into()), Some("b".into())]);
        t.record(b"first", 0);
        for i in 0..REMEMBERED {
            t.record(format!("event {i}").as_bytes(), 1);
        }
        assert_eq!(t.ring.len(), REMEMBERED);
        assert_eq!(t.index.len(), REMEMBERED);
        assert_eq!(t.cluster_of(b"first"), None, "forgotten");
        assert_eq!(t.cluster_of(b"event 4095"), Some("b"));
        // Identical payloads of two streams: the latest is the one meant.
        t.record(b"same", 0);
        t.record(b"same", 1);
        assert_eq!(t.cluster_of(b"same"), Some("b"));
    }
}
