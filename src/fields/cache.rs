//! The last parsed event, kept between `extract_fields` calls.
//!
//! Falco asks for one field per `extract_fields` call, and the SDK builds a fresh extraction
//! context for each call, so the parsed event lives in the plugin instead. It is reused only for
//! the very same event: same event number, same payload address and length, and the same bytes
//! at both ends of the payload (a cheap guard against a buffer reused for another event).

use crate::json::{Tape, Value};
use std::cell::RefCell;

/// Bytes compared at each end of the payload for the identity check.
const SAMPLE: usize = 16;

/// Keep at most this many tape nodes (16 bytes each) after an unusually large event.
const KEEP_NODES: usize = 1 << 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EventKey {
    evtnum: u64,
    addr: usize,
    len: usize,
    head: [u8; SAMPLE],
    tail: [u8; SAMPLE],
}

impl EventKey {
    fn of(evtnum: u64, payload: &[u8]) -> EventKey {
        let mut head = [0; SAMPLE];
        let mut tail = [0; SAMPLE];
        let n = payload.len().min(SAMPLE);
        head[..n].copy_from_slice(&payload[..n]);
        tail[..n].copy_from_slice(&payload[payload.len() - n..]);
        EventKey {
            evtnum,
            addr: payload.as_ptr() as usize,
            len: payload.len(),
            head,
            tail,
        }
    }
}

/// Per-plugin cache of the last parsed event. Interior mutability lets an extraction read the
/// plugin's configuration while it uses the cache.
#[derive(Debug, Default)]
pub struct ExtractCache(RefCell<ParsedEvent>);

impl ExtractCache {
    /// Calls `f` with the top-level object of `payload` if it is an audit event (a strict JSON
    /// object with an `auditID`); `None` otherwise.
    pub fn with_audit_event<R>(
        &self,
        evtnum: u64,
        payload: &[u8],
        f: impl FnOnce(Value<'_>) -> R,
    ) -> Option<R> {
        let mut parsed = self.0.borrow_mut();
        parsed.audit_event(evtnum, payload).map(f)
    }

    /// Drops the cached event (after a panic during extraction).
    pub fn forget(&self) {
        if let Ok(mut parsed) = self.0.try_borrow_mut() {
            parsed.forget();
        }
    }
}

/// The last parsed event and its identity.
#[derive(Debug, Default)]
pub struct ParsedEvent {
    key: Option<EventKey>,
    tape: Tape,
    /// The cached event is an audit event (strict JSON object with an `auditID`).
    audit: bool,
    parses: u64,
}

impl ParsedEvent {
    /// The top-level object of `payload` if it is an audit event, parsing it unless it is the
    /// event parsed last. `None` for anything else: not strict JSON, not an object, or no
    /// `auditID` key (upstream's gate: such events have no `ka.*` values at all).
    pub fn audit_event<'a>(&'a mut self, evtnum: u64, payload: &'a [u8]) -> Option<Value<'a>> {
        let key = EventKey::of(evtnum, payload);
        if self.key != Some(key) {
            // Forget the old event first: if parsing panics, nothing stale survives.
            self.key = None;
            if self.tape.capacity() > KEEP_NODES {
                self.tape.shrink_to(KEEP_NODES);
            }
            self.audit = is_audit_event(&mut self.tape, payload);
            self.parses += 1;
            self.key = Some(key);
        }
        if !self.audit {
            return None;
        }
        self.tape.root(payload)
    }

    fn forget(&mut self) {
        self.key = None;
        self.audit = false;
    }
}

fn is_audit_event(tape: &mut Tape, payload: &[u8]) -> bool {
    // Upstream only looks at payloads starting with `{` or `[` (no leading whitespace), and an
    // array has no `auditID`.
    if payload.first() != Some(&b'{') || tape.parse(payload).is_err() {
        return false;
    }
    tape.root(payload)
        .is_some_and(|root| root.get("auditID").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_event_once() {
        let mut cache = ParsedEvent::default();
        let a = br#"{"auditID":"a","verb":"get"}"#.to_vec();
        for _ in 0..3 {
            let root = cache.audit_event(7, &a).unwrap();
            assert_eq!(root.get("verb").unwrap().raw(), b"\"get\"");
        }
        assert_eq!(cache.parses, 1);
    }

    #[test]
    fn another_event_with_the_same_number_is_parsed_again() {
        let mut cache = ParsedEvent::default();
        let a = br#"{"auditID":"a","verb":"get"}"#.to_vec();
        let b = br#"{"auditID":"b","verb":"list"}"#.to_vec();
        assert!(cache.audit_event(1, &a).is_some());
        let root = cache.audit_event(1, &b).unwrap();
        assert_eq!(root.get("verb").unwrap().raw(), b"\"list\"");
        assert_eq!(cache.parses, 2);
    }

    #[test]
    fn a_reused_buffer_with_new_bytes_is_parsed_again() {
        let mut cache = ParsedEvent::default();
        let mut buf = br#"{"auditID":"a","verb":"get"}"#.to_vec();
        assert!(cache.audit_event(1, &buf).is_some());
        buf.copy_from_slice(br#"{"auditID":"a","verb":"put"}"#);
        let root = cache.audit_event(1, &buf).unwrap();
        assert_eq!(root.get("verb").unwrap().raw(), b"\"put\"");
    }

    #[test]
    fn only_strict_json_objects_with_an_audit_id_are_audit_events() {
        let mut cache = ParsedEvent::default();
        for (n, payload) in [
            &br#"{"auditID":null}"#[..],
            br#"{"auditID":"x","a":[1,{"b":2}]}"#,
        ]
        .iter()
        .enumerate()
        {
            assert!(cache.audit_event(n as u64, payload).is_some(), "{n}");
        }
        for (n, payload) in [
            &b""[..],
            b"{}",
            br#" {"auditID":"x"}"#,
            br#"[{"auditID":"x"}]"#,
            br#"{"auditID":"x","verb":NaN}"#,
            br#"{"auditID":"x"} trailing"#,
            br#"{"kind":"Event"}"#,
            b"\"auditID\"",
        ]
        .iter()
        .enumerate()
        {
            assert!(cache.audit_event(100 + n as u64, payload).is_none(), "{n}");
        }
    }
}
