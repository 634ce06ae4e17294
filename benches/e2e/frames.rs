//! The frames the bench server sends, encoded once: the bundled LDP sample
//! (`examples/sample-frames.jsonl`, the audit corpus wrapped in GELF as LDP sends it), one
//! event per frame or EventLists of 50, as WebSocket text frames in one buffer.
//!
//! Every event's `auditID` is a placeholder the server overwrites as it sends, shaped like a
//! UUID: `SSSSSSSS-SSSS-SSSS-TTTT-TTTTTTTTTTTT`, 16 hex digits of sequence number then 16 of
//! send time (CLOCK_MONOTONIC ns). The bench reads both back from the event `next_batch`
//! returns: the delay from frame sent to event returned, and that no event was lost,
//! duplicated or reordered.

use memchr::memmem;
use serde_json::Value;
use std::ops::Range;
use std::sync::LazyLock;

/// The bundled LDP sample frames.
pub const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sample-frames.jsonl");

const PLACEHOLDER: &[u8] = b"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz";
const ID_LEN: usize = PLACEHOLDER.len();
const AUDIT_ID_KEY: &[u8] = br#""auditID":""#;

/// WebSocket frames in one buffer, with where each event's `auditID` sits in it.
pub struct FrameRing {
    pub bytes: Vec<u8>,
    pub frames: Vec<FrameSlot>,
    /// Offsets in `bytes` of `auditID` values to overwrite, with the event (index in its
    /// frame) each belongs to; a single-event frame has two (GELF `_audit_auditID` too).
    pub ids: Vec<(usize, u32)>,
    /// Audit events per frame.
    pub events_per_frame: usize,
    /// Bytes of WebSocket payload (the LDP frames themselves).
    pub payload_bytes: usize,
}

/// One frame of a [`FrameRing`].
pub struct FrameSlot {
    pub range: Range<usize>,
    pub ids: Range<usize>,
}

impl FrameRing {
    /// The sample's audit frames (one event each), or EventLists of `events_per_frame` events
    /// taken from them in turn.
    pub fn build(events_per_frame: usize) -> FrameRing {
        let text = std::fs::read_to_string(SAMPLE).expect("examples/sample-frames.jsonl");
        let frames: Vec<String> = text.lines().filter_map(with_placeholder_id).collect();
        assert!(frames.len() > 50, "too few audit frames in {SAMPLE}");
        let payloads: Vec<String> = if events_per_frame == 1 {
            frames
        } else {
            let events: Vec<String> = frames.iter().map(|f| audit_event(f).unwrap()).collect();
            (0..events.len())
                .map(|f| {
                    let items: Vec<&str> = (0..events_per_frame)
                        .map(|j| events[(f * events_per_frame + j) % events.len()].as_str())
                        .collect();
                    event_list_frame(&items)
                })
                .collect()
        };
        let mut ring = FrameRing {
            bytes: Vec::new(),
            frames: Vec::new(),
            ids: Vec::new(),
            events_per_frame,
            payload_bytes: 0,
        };
        for payload in payloads {
            ring.push(payload.as_bytes());
        }
        ring
    }

    fn push(&mut self, payload: &[u8]) {
        let start = self.bytes.len();
        let ids_start = self.ids.len();
        self.bytes.extend_from_slice(&frame_header(payload.len()));
        let at = self.bytes.len();
        self.bytes.extend_from_slice(payload);
        self.payload_bytes += payload.len();
        let found: Vec<usize> = memmem::find_iter(payload, PLACEHOLDER)
            .map(|i| at + i)
            .collect();
        if self.events_per_frame == 1 {
            self.ids.extend(found.iter().map(|&i| (i, 0)));
        } else {
            assert_eq!(found.len(), self.events_per_frame, "one auditID per item");
            self.ids
                .extend(found.iter().enumerate().map(|(n, &i)| (i, n as u32)));
        }
        for &(i, _) in &self.ids[ids_start..] {
            write_id(&mut self.bytes[i..i + ID_LEN], 0, 0);
        }
        self.frames.push(FrameSlot {
            range: start..self.bytes.len(),
            ids: ids_start..self.ids.len(),
        });
    }

    /// Stamps frame `f`'s events with sequence numbers from `first_seq` and `sent`.
    pub fn stamp(&mut self, f: usize, first_seq: u64, sent: u64) {
        let ids = self.frames[f].ids.clone();
        for &(at, event) in &self.ids[ids] {
            write_id(
                &mut self.bytes[at..at + ID_LEN],
                first_seq + event as u64,
                sent,
            );
        }
    }

    /// Mean frame size in bytes (WebSocket payload).
    pub fn mean_frame_size(&self) -> f64 {
        self.payload_bytes as f64 / self.frames.len() as f64
    }
}

/// The frame with its audit event's `auditID` (in `short_message`, and GELF's
/// `_audit_auditID` when LDP added it) replaced by the placeholder; None for a frame that
/// carries no audit event.
fn with_placeholder_id(frame: &str) -> Option<String> {
    let event: Value = serde_json::from_str(&audit_event(frame)?).ok()?;
    let id = event.get("auditID")?.as_str()?;
    let placeholder = std::str::from_utf8(PLACEHOLDER).unwrap();
    // The event sits twice escaped in the frame, GELF's copy of the id once.
    let out = frame
        .replacen(
            &format!(r#"\\\"auditID\\\":\\\"{id}\\\""#),
            &format!(r#"\\\"auditID\\\":\\\"{placeholder}\\\""#),
            1,
        )
        .replacen(
            &format!(r#"\"_audit_auditID\":\"{id}\""#),
            &format!(r#"\"_audit_auditID\":\"{placeholder}\""#),
            1,
        );
    let check: Value = serde_json::from_str(&audit_event(&out)?).ok()?;
    (check["auditID"] == placeholder).then_some(out)
}

/// The audit event JSON a single-event LDP frame carries.
fn audit_event(frame: &str) -> Option<String> {
    let envelope: Value = serde_json::from_str(frame).ok()?;
    let gelf: Value = serde_json::from_str(envelope.get("message")?.as_str()?).ok()?;
    let short = gelf.get("short_message")?.as_str()?;
    let event: Value = serde_json::from_str(short).ok()?;
    (event.get("kind")? == "Event").then(|| short.to_owned())
}

/// An LDP frame whose GELF `short_message` is an EventList of `items`.
fn event_list_frame(items: &[&str]) -> String {
    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{}]}}"#,
        items.join(",")
    );
    let gelf = format!(
        r#"{{"version":"1.1","host":"mks-<cluster-id>","short_message":{},"timestamp":1739178940.103,"level":6}}"#,
        serde_json::to_string(&list).unwrap()
    );
    format!(r#"{{"message":{}}}"#, serde_json::to_string(&gelf).unwrap())
}

/// The header of an unmasked, final text frame of `len` bytes.
fn frame_header(len: usize) -> Vec<u8> {
    let mut h = vec![0x81];
    if len < 126 {
        h.push(len as u8);
    } else if len <= u16::MAX as usize {
        h.push(126);
        h.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        h.push(127);
        h.extend_from_slice(&(len as u64).to_be_bytes());
    }
    h
}

const HEX: &[u8; 16] = b"0123456789abcdef";
/// Where the 32 hex digits go in the 36 characters of a UUID.
const DIGITS: [usize; 32] = {
    let mut d = [0; 32];
    let (mut i, mut at) = (0, 0);
    while i < 32 {
        if at == 8 || at == 13 || at == 18 || at == 23 {
            at += 1;
        }
        d[i] = at;
        i += 1;
        at += 1;
    }
    d
};

fn write_id(dst: &mut [u8], seq: u64, sent: u64) {
    let both = ((seq as u128) << 64) | sent as u128;
    for (i, &at) in DIGITS.iter().enumerate() {
        dst[at] = HEX[(both >> (124 - 4 * i) & 0xf) as usize];
    }
    for at in [8, 13, 18, 23] {
        dst[at] = b'-';
    }
}

/// Sequence number and send time stamped in an event's `auditID`.
pub fn read_id(event: &[u8]) -> Option<(u64, u64)> {
    static KEY: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(AUDIT_ID_KEY));
    let at = KEY.find(event)? + AUDIT_ID_KEY.len();
    let id = event.get(at..at + ID_LEN)?;
    let mut both: u128 = 0;
    for &i in &DIGITS {
        let d = (id[i] as char).to_digit(16)?;
        both = (both << 4) | d as u128;
    }
    Some(((both >> 64) as u64, both as u64))
}

/// Checks that an id written by the server reads back.
pub fn self_check() {
    let mut id = *b"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz";
    write_id(&mut id, 0x0123_4567_89ab_cdef, 42);
    assert_eq!(&id, b"01234567-89ab-cdef-0000-00000000002a");
    let event = [br#"{"auditID":""#.as_slice(), &id, b"\"}"].concat();
    assert_eq!(read_id(&event), Some((0x0123_4567_89ab_cdef, 42)));
}
