//! Which events of the last batch Falco went through, for the position a closing instance
//! leaves.
//!
//! Falco asks for a batch once it has taken every event of the one before: those reached
//! Falco. The last batch is the uncertain one. Falco checks for SIGTERM and SIGHUP right
//! after taking an event, and on a signal drops that event and the rest of the batch; a
//! simpler host (a test harness) takes the whole batch. What tells them apart is field
//! extraction: Falco evaluates its rules on each event it takes, which asks this plugin for
//! `ka.*` fields. So at close, an event of the last batch counts as delivered when its fields
//! were asked for, or when the host never asks for fields at all. An event Falco took whose
//! fields no rule asked for is delivered again by the next run: a duplicate rather than a
//! loss.

use siphasher::sip::SipHasher13;
use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};

/// What the host did with the events handed to it. Lives in the plugin (extraction sees the
/// plugin, not the instance); only Falco's event thread touches it.
#[derive(Debug)]
pub(crate) struct Witness {
    secret: [u64; 2],
    /// The host has asked for fields since the instance opened.
    extracting: Cell<bool>,
    /// The last event extracted from, by event number: its other fields add nothing.
    last_evtnum: Cell<Option<u64>>,
    /// Fingerprints of the events extracted from since the last batch was handed over.
    extracted: RefCell<HashSet<u64>>,
}

impl Default for Witness {
    fn default() -> Self {
        let bits = |salt: u64| RandomState::new().hash_one(salt);
        Self {
            secret: [bits(1), bits(2)],
            extracting: Cell::new(false),
            last_evtnum: Cell::new(None),
            extracted: RefCell::default(),
        }
    }
}

impl Witness {
    /// A keyed hash of the payload's length and its first and last 256 bytes: the events
    /// of one batch differ there (the `auditID` and stage open an event, its timestamps and
    /// annotations close it), and hashing the middle of large events too would cost Falco's
    /// thread for nothing.
    fn fingerprint(&self, payload: &[u8]) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.secret[0], self.secret[1]);
        ends(&mut h, payload);
        h.finish()
    }

    /// An instance opens: nothing is known of its host yet.
    pub(crate) fn opened(&self) {
        self.extracting.set(false);
        self.last_evtnum.set(None);
        self.extracted.borrow_mut().clear();
    }

    /// A new batch is handed over: the last one was gone through.
    pub(crate) fn batch(&self) {
        self.extracted.borrow_mut().clear();
    }

    /// The host asked for a field of event `evtnum`.
    pub(crate) fn extracted(&self, evtnum: u64, payload: &[u8]) {
        self.extracting.set(true);
        if self.last_evtnum.replace(Some(evtnum)) != Some(evtnum) {
            let fp = self.fingerprint(payload);
            self.extracted.borrow_mut().insert(fp);
        }
    }

    /// Whether the host went through `payload`, an event of the last batch.
    pub(crate) fn went_through(&self, payload: &[u8]) -> bool {
        !self.extracting.get() || self.extracted.borrow().contains(&self.fingerprint(payload))
    }
}

/// Writes `payload`'s length and its first and last 256 bytes into `h`.
fn ends(h: &mut impl Hasher, payload: &[u8]) {
    h.write_usize(payload.len());
    let n = payload.len().min(256);
    h.write(&payload[..n]);
    h.write(&payload[payload.len() - n..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_that_never_extracts_went_through_everything() {
        let w = Witness::default();
        w.opened();
        w.batch();
        assert!(w.went_through(b"anything"));
    }

    #[test]
    fn falco_went_through_the_events_it_extracted_from() {
        let w = Witness::default();
        w.opened();
        w.batch();
        w.extracted(7, b"first");
        w.extracted(7, b"first");
        assert!(w.went_through(b"first"));
        assert!(!w.went_through(b"second"), "dropped after a signal");
        w.batch();
        assert!(!w.went_through(b"first"), "a new batch");
        w.opened();
        assert!(
            w.went_through(b"second"),
            "another instance, no extraction yet"
        );
    }
}
