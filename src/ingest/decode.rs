//! One frame, decoded: its audit events, what was skipped among them, or why the whole frame
//! was. A pure function of the frame ([`frame`] then [`audit`]), run by the sink on the
//! reader thread.

use crate::ingest::audit::{self, AuditEvent, Skipped};
use crate::ingest::frame::{self, Scratch};
use crate::metrics::SkipReason;
use async_tungstenite::tungstenite::{Bytes, Utf8Bytes};

/// A WebSocket message that carries data.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A text frame: tungstenite has validated its UTF-8.
    Text(Utf8Bytes),
    Binary(Bytes),
}

impl Frame {
    pub(crate) fn len(&self) -> usize {
        match self {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }
}

/// What one frame holds.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The frame's size in bytes.
    pub(crate) size: usize,
    /// Its audit events and what was skipped among them, or why the whole frame was.
    pub(crate) outcome: Result<(Vec<AuditEvent>, Vec<Skipped>), SkipReason>,
}

/// Decodes `frame`, received at `received` (ns since the epoch: the timestamp of events
/// that have no other), with `scratch`'s buffers.
pub(crate) fn decode(
    frame: &Frame,
    received: u64,
    max_event_size: usize,
    scratch: &mut Scratch,
) -> Decoded {
    crate::fault::injected_panic_on(
        "decode",
        match frame {
            Frame::Text(t) => t.as_bytes(),
            Frame::Binary(b) => b,
        },
    );
    let payload = match frame {
        Frame::Text(t) => frame::decode_text_with(t.as_str(), scratch),
        Frame::Binary(b) => std::str::from_utf8(b)
            .map_err(|_| SkipReason::NotJson)
            .and_then(|t| frame::decode_text_with(t, scratch)),
    };
    finish(payload, frame.len(), received, max_event_size)
}

/// [`decode`] for a frame of unknown encoding (a line of a replay file).
pub(crate) fn decode_bytes(bytes: &[u8], received: u64, max_event_size: usize) -> Decoded {
    finish(frame::decode(bytes), bytes.len(), received, max_event_size)
}

fn finish(
    payload: Result<frame::Payload<'_>, SkipReason>,
    size: usize,
    received: u64,
    max_event_size: usize,
) -> Decoded {
    let outcome = payload.map(|payload| {
        let fallback = payload.gelf_timestamp.map(gelf_nanos).unwrap_or(received);
        let (mut events, mut skips) = (Vec::new(), Vec::new());
        audit::split(
            payload.text,
            fallback,
            max_event_size,
            &mut |e| events.push(e),
            &mut |s| skips.push(s),
        );
        (events, skips)
    });
    Decoded { size, outcome }
}

/// GELF timestamps are float seconds with (at most) microsecond meaning; converting the
/// fraction on its own keeps `...05.25` from becoming `...05.249999872`.
fn gelf_nanos(t: f64) -> u64 {
    let secs = t.trunc();
    let micros = ((t - secs) * 1e6).round() as u64;
    (secs as u64) * 1_000_000_000 + micros * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(audit_id: &str) -> Frame {
        let event = format!(
            r#"{{"kind":"Event","auditID":"{audit_id}","stage":"ResponseComplete","stageTimestamp":"2025-02-10T09:15:40.102611Z"}}"#
        );
        let gelf = serde_json::json!({"version": "1.1", "short_message": event, "timestamp": 1739178940.5});
        Frame::Text(
            serde_json::json!({ "message": gelf.to_string() })
                .to_string()
                .into(),
        )
    }

    fn ids(d: &Decoded) -> Vec<String> {
        let (events, _) = d.outcome.as_ref().unwrap();
        events
            .iter()
            .map(|e| {
                let v: serde_json::Value = serde_json::from_slice(&e.payload).unwrap();
                v["auditID"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    #[test]
    fn decodes_text_and_binary_alike() {
        let scratch = &mut Scratch::default();
        let text = decode(&frame("a"), 7, 1 << 20, scratch);
        let Frame::Text(t) = frame("a") else {
            unreachable!()
        };
        let binary = decode(
            &Frame::Binary(Bytes::from(t.as_bytes().to_vec())),
            7,
            1 << 20,
            scratch,
        );
        assert_eq!(ids(&text), ["a"]);
        assert_eq!(text.outcome, binary.outcome);
        let first = text.outcome.unwrap().0.into_iter().next().unwrap();
        assert_eq!(first.ts, 1739178940102611000);
        let bad = decode(
            &Frame::Binary(Bytes::from_static(b"\xff{")),
            7,
            1 << 20,
            scratch,
        );
        assert_eq!(bad.outcome.unwrap_err(), SkipReason::NotJson);
        assert_eq!(bad.size, 2);
    }

    #[test]
    fn events_of_an_event_list_stay_in_order() {
        let list = serde_json::json!({"kind": "EventList", "items": (0..5)
            .map(|i| serde_json::json!({"kind": "Event", "auditID": i.to_string()}))
            .collect::<Vec<_>>()});
        let gelf = serde_json::json!({"short_message": list.to_string()});
        let frame = Frame::Text(
            serde_json::json!({ "message": gelf.to_string() })
                .to_string()
                .into(),
        );
        let decoded = decode(&frame, 7, 1 << 20, &mut Scratch::default());
        assert_eq!(ids(&decoded), ["0", "1", "2", "3", "4"]);
        let (events, _) = decoded.outcome.unwrap();
        let owned: Vec<serde_json::Value> = events
            .into_iter()
            .map(|e| serde_json::from_slice(&e.payload).unwrap())
            .collect();
        assert_eq!(owned[4]["auditID"], "4");
        assert_eq!(owned.len(), 5);
    }

    #[test]
    fn gelf_timestamps_keep_their_microseconds() {
        assert_eq!(gelf_nanos(1739178965.25), 1739178965250000000);
        assert_eq!(gelf_nanos(1739178940.103), 1739178940103000000);
    }
}
