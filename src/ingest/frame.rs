//! Frame → LDP envelope → GELF → audit payload. Pure functions, no I/O.
//!
//! An LDP WebSocket frame is a JSON object whose `message` is a string holding a GELF
//! document; the audit payload is the GELF `short_message`. For replays and tests, a frame
//! may also be the audit payload itself (an Event, EventList or array of events). Each layer is
//! scanned once ([`crate::json::scan`]); only the two strings that carry the next layer are decoded.

use crate::json::scan::{self, Members};
use crate::metrics::SkipReason;
use std::borrow::Cow;
use std::ops::Range;

/// The audit payload carried by one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload<'a> {
    /// The payload JSON text (an Event, EventList or array of events, not yet checked).
    pub text: Cow<'a, str>,
    /// GELF `timestamp` (seconds since the epoch), when present.
    pub gelf_timestamp: Option<f64>,
}

/// Extracts the audit payload of a frame (text or binary).
pub fn decode(frame: &[u8]) -> Result<Payload<'_>, SkipReason> {
    decode_text(std::str::from_utf8(frame).map_err(|_| SkipReason::NotJson)?)
}

/// [`decode`] for a frame already known to be text (a WebSocket text frame, which
/// tungstenite has validated).
pub fn decode_text(text: &str) -> Result<Payload<'_>, SkipReason> {
    decode_text_with(text, &mut Scratch::default())
}

/// Buffers to decode frames into, for a caller that decodes many: allocating them anew for
/// every frame would cost more than the decoding they hold.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The GELF document of the frame being decoded; kept for the next frame.
    pub gelf: Vec<u8>,
    /// What the next payload is decoded into: taken by each payload decoded.
    pub payload: Vec<u8>,
}

impl Scratch {
    /// The largest GELF buffer kept for the next frame.
    pub const KEPT: usize = 1 << 20;
}

/// [`decode_text`] into `scratch`'s buffers.
pub fn decode_text_with<'a>(
    text: &'a str,
    scratch: &mut Scratch,
) -> Result<Payload<'a>, SkipReason> {
    match envelope_with(text, std::mem::take(&mut scratch.gelf))? {
        Envelope::Gelf(gelf) => {
            let payload = gelf_payload_with(&gelf, std::mem::take(&mut scratch.payload));
            // A buffer grown for a huge frame is let go rather than kept idle.
            if gelf.capacity() <= Scratch::KEPT {
                scratch.gelf = gelf.into_bytes();
            }
            payload
        }
        Envelope::Bare(range) => Ok(bare(text, range)),
    }
}

/// A frame's outer layer, opened.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    /// An LDP envelope: its `message`, decoded (a GELF document, not yet checked).
    Gelf(String),
    /// Not an envelope: a bare audit payload (replay files), or something else entirely;
    /// the range of the JSON document in the frame.
    Bare(Range<usize>),
}

/// The first half of [`decode_text`]: opens the LDP envelope; [`gelf_payload`] does the
/// rest.
pub fn envelope(text: &str) -> Result<Envelope, SkipReason> {
    envelope_with(text, Vec::new())
}

/// [`envelope`], decoding the GELF document into `buf`.
pub fn envelope_with(text: &str, mut buf: Vec<u8>) -> Result<Envelope, SkipReason> {
    if scan::first_byte(text) != Some(b'{') {
        // Not an envelope: a bare array of events (replay files), or something to be judged
        // by the audit layer if it is JSON at all.
        let doc = scan::document(text).map_err(|_| SkipReason::NotJson)?;
        return Ok(Envelope::Bare(doc));
    }
    let mut members = Members::document(text).map_err(|_| SkipReason::NotJson)?;
    // (present, decoded string value): a non-string `message` is not GELF.
    let mut message: Option<Option<String>> = None;
    while let Some(m) = members.next_decoding_into(|m| m.key_is("message"), &mut buf) {
        let (m, decoded) = m.map_err(|_| SkipReason::NotJson)?;
        if message.is_none() && m.key_is("message") {
            message = Some(decoded);
        }
    }
    members.finish().map_err(|_| SkipReason::NotJson)?;
    match message {
        None => Ok(Envelope::Bare(members.span())),
        Some(None) => Err(SkipReason::NotGelf),
        Some(Some(gelf)) => Ok(Envelope::Gelf(gelf)),
    }
}

fn bare(text: &str, doc: Range<usize>) -> Payload<'_> {
    Payload {
        text: Cow::Borrowed(&text[doc]),
        gelf_timestamp: None,
    }
}

/// `short_message` and `timestamp` of a GELF document: the second half of [`decode_text`],
/// for an envelope that held GELF.
pub fn gelf_payload(gelf: &str) -> Result<Payload<'static>, SkipReason> {
    gelf_payload_with(gelf, Vec::new())
}

/// [`gelf_payload`], decoding the payload into `buf`.
pub fn gelf_payload_with(gelf: &str, mut buf: Vec<u8>) -> Result<Payload<'static>, SkipReason> {
    let mut members = Members::document(gelf).map_err(|_| SkipReason::NotGelf)?;
    let (mut short, mut timestamp) = (None, None);
    while let Some(m) = members.next_decoding_into(|m| m.key_is("short_message"), &mut buf) {
        let (m, decoded) = m.map_err(|_| SkipReason::NotGelf)?;
        if short.is_none() && m.key_is("short_message") {
            short = Some(decoded);
        } else if timestamp.is_none() && m.key_is("timestamp") {
            timestamp = Some(m.value);
        }
    }
    members.finish().map_err(|_| SkipReason::NotGelf)?;
    let text = short.flatten().ok_or(SkipReason::NotGelf)?;
    let gelf_timestamp = timestamp
        .and_then(|r| gelf[r].parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t > 0.0);
    Ok(Payload {
        text: Cow::Owned(text),
        gelf_timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ldp_frame(short_message: &str) -> String {
        let gelf = serde_json::json!({
            "version": "1.1", "host": "h", "short_message": short_message,
            "timestamp": 1739178940.103, "level": 6
        });
        serde_json::json!({ "message": gelf.to_string() }).to_string()
    }

    #[test]
    fn envelope_gelf_short_message() {
        let frame = ldp_frame(r#"{"kind":"Event","auditID":"a"}"#);
        let p = decode(frame.as_bytes()).unwrap();
        assert_eq!(p.text, r#"{"kind":"Event","auditID":"a"}"#);
        assert_eq!(p.gelf_timestamp, Some(1739178940.103));
    }

    #[test]
    fn the_gelf_buffer_is_kept_for_the_next_frame_unless_huge() {
        let mut scratch = Scratch::default();
        let frame = ldp_frame(r#"{"kind":"Event","auditID":"a"}"#);
        let p = decode_text_with(&frame, &mut scratch).unwrap();
        assert_eq!(p.text, r#"{"kind":"Event","auditID":"a"}"#);
        assert!(scratch.gelf.capacity() > 0);
        let huge = ldp_frame(&"x".repeat(Scratch::KEPT + 1));
        assert!(decode_text_with(&huge, &mut scratch).is_ok());
        assert_eq!(scratch.gelf.capacity(), 0);
    }

    #[test]
    fn bare_payloads_pass_through() {
        let p = decode(br#" {"kind":"Event","auditID":"a"} "#).unwrap();
        assert_eq!(p.text, r#"{"kind":"Event","auditID":"a"}"#);
        assert_eq!(p.gelf_timestamp, None);
        assert_eq!(decode(b"[1,2]").unwrap().text, "[1,2]");
    }

    #[test]
    fn first_message_key_wins() {
        let frame = r#"{"message":"{\"short_message\":\"first\"}","message":"{\"short_message\":\"second\"}"}"#;
        assert_eq!(decode(frame.as_bytes()).unwrap().text, "first");
    }

    #[test]
    fn skip_reasons() {
        assert_eq!(decode(b"not json").unwrap_err(), SkipReason::NotJson);
        assert_eq!(decode(b"{\"a\":NaN}").unwrap_err(), SkipReason::NotJson);
        assert_eq!(
            decode(b"{\"message\":\"x\"} trailing").unwrap_err(),
            SkipReason::NotJson
        );
        assert_eq!(decode(b"\xff\xfe").unwrap_err(), SkipReason::NotJson);
        assert_eq!(
            decode(br#"{"message": 3}"#).unwrap_err(),
            SkipReason::NotGelf
        );
        assert_eq!(
            decode(br#"{"message": "plain text log"}"#).unwrap_err(),
            SkipReason::NotGelf
        );
        assert_eq!(
            decode(br#"{"message": "{\"version\":\"1.1\",\"host\":\"h\"}"}"#).unwrap_err(),
            SkipReason::NotGelf
        );
        assert_eq!(
            decode(br#"{"message": "{\"short_message\":5}"}"#).unwrap_err(),
            SkipReason::NotGelf
        );
    }
}
