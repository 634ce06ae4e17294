//! Frame → LDP envelope → GELF → audit payload. Pure functions, no I/O.
//!
//! An LDP WebSocket frame is a JSON object whose `message` is a string holding a GELF
//! document; the audit payload is the GELF `short_message`. For replays and tests, a frame
//! may also be the audit payload itself (an Event, EventList or array of events).

use crate::metrics::SkipReason;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;

/// The audit payload carried by one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload<'a> {
    /// The payload JSON text (an Event, EventList or array of events, not yet checked).
    pub text: Cow<'a, str>,
    /// GELF `timestamp` (seconds since the epoch), when present.
    pub gelf_timestamp: Option<f64>,
}

type Object<'a> = HashMap<String, &'a RawValue>;

fn object(text: &str) -> Option<Object<'_>> {
    serde_json::from_str::<Object>(text).ok()
}

fn first_non_ws(text: &str) -> Option<u8> {
    text.bytes().find(|b| !b.is_ascii_whitespace())
}

/// Extracts the audit payload of a frame (text or binary).
pub fn decode(frame: &[u8]) -> Result<Payload<'_>, SkipReason> {
    let text = std::str::from_utf8(frame).map_err(|_| SkipReason::NotJson)?;
    // Validate the whole frame strictly first: it is either JSON or skipped as not JSON.
    let raw: &RawValue = serde_json::from_str(text).map_err(|_| SkipReason::NotJson)?;
    if first_non_ws(raw.get()) != Some(b'{') {
        // A bare array of events (replay files).
        return Ok(Payload {
            text: Cow::Borrowed(raw.get()),
            gelf_timestamp: None,
        });
    }
    let envelope = object(raw.get()).ok_or(SkipReason::NotJson)?;
    let Some(message) = envelope.get("message") else {
        // No envelope: a bare audit payload (replay files) or something else entirely.
        return Ok(Payload {
            text: Cow::Borrowed(raw.get()),
            gelf_timestamp: None,
        });
    };
    let message: String = serde_json::from_str(message.get()).map_err(|_| SkipReason::NotGelf)?;
    let gelf_raw: &RawValue = serde_json::from_str(&message).map_err(|_| SkipReason::NotGelf)?;
    let gelf = object(gelf_raw.get()).ok_or(SkipReason::NotGelf)?;
    let short: String = gelf
        .get("short_message")
        .and_then(|v| serde_json::from_str(v.get()).ok())
        .ok_or(SkipReason::NotGelf)?;
    let gelf_timestamp = gelf
        .get("timestamp")
        .and_then(|v| serde_json::from_str::<f64>(v.get()).ok())
        .filter(|t| t.is_finite() && *t > 0.0);
    Ok(Payload {
        text: Cow::Owned(short),
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
    fn bare_payloads_pass_through() {
        let p = decode(br#" {"kind":"Event","auditID":"a"} "#).unwrap();
        assert_eq!(p.text, r#"{"kind":"Event","auditID":"a"}"#);
        assert_eq!(p.gelf_timestamp, None);
        assert_eq!(decode(b"[1,2]").unwrap().text, "[1,2]");
    }

    #[test]
    fn skip_reasons() {
        assert_eq!(decode(b"not json").unwrap_err(), SkipReason::NotJson);
        assert_eq!(decode(b"{\"a\":NaN}").unwrap_err(), SkipReason::NotJson);
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
    }
}
