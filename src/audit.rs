//! Audit payload → individual audit events: Event / EventList / array expansion, the event
//! timestamp, and the size limit. Pure functions, no I/O.

use crate::metrics::SkipReason;
use serde_json::value::RawValue;
use std::collections::HashMap;

/// One audit event ready for Falco.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Event time, nanoseconds since the epoch: `stageTimestamp`, else the GELF timestamp,
    /// else the time the frame was received.
    pub ts: u64,
    /// The event's JSON, as it appeared in the payload.
    pub payload: Vec<u8>,
}

/// Something inside a payload that was skipped, for counting and logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Why.
    pub reason: SkipReason,
    /// Size of the skipped event in bytes (oversize only).
    pub size: usize,
    /// Its `auditID`, when it has one (oversize only).
    pub audit_id: Option<String>,
}

type Object<'a> = HashMap<String, &'a RawValue>;

fn string_of(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(raw.get()).ok()
}

/// Splits an audit payload into events, calling `emit` for each accepted event and `skip` for
/// each skipped one. A payload that is not audit data at all is one `NotAudit` skip.
///
/// Accepted shapes, as upstream's source: a JSON array (each element handled recursively), an
/// object with `kind` `EventList` (its `items`), or an object with `kind` `Event`.
pub fn split(
    payload: &str,
    fallback_ts: u64,
    max_event_size: usize,
    emit: &mut dyn FnMut(AuditEvent),
    skip: &mut dyn FnMut(Skipped),
) {
    let not_audit = Skipped {
        reason: SkipReason::NotAudit,
        size: payload.len(),
        audit_id: None,
    };
    let Ok(raw) = serde_json::from_str::<&RawValue>(payload) else {
        skip(not_audit);
        return;
    };
    let mut events = Vec::new();
    if !collect(raw, &mut events, 0) {
        skip(not_audit);
        return;
    }
    for (raw, object) in events {
        let size = raw.get().len();
        if size > max_event_size {
            skip(Skipped {
                reason: SkipReason::Oversize,
                size,
                audit_id: object.get("auditID").and_then(|v| string_of(v)),
            });
            continue;
        }
        let ts = object
            .get("stageTimestamp")
            .and_then(|v| string_of(v))
            .and_then(|s| parse_rfc3339_nanos(&s))
            .unwrap_or(fallback_ts);
        emit(AuditEvent {
            ts,
            payload: raw.get().as_bytes().to_vec(),
        });
    }
}

/// Collects the events of `raw` into `out`; false when `raw` is not audit data.
fn collect<'a>(raw: &'a RawValue, out: &mut Vec<(&'a RawValue, Object<'a>)>, depth: u32) -> bool {
    // Arrays may nest (upstream recurses); bound the depth so hostile input cannot recurse far.
    if depth > 16 {
        return false;
    }
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'[') => {
            let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) else {
                return false;
            };
            items.into_iter().all(|item| collect(item, out, depth + 1))
        }
        Some(b'{') => {
            let Ok(object) = serde_json::from_str::<Object>(text) else {
                return false;
            };
            match object.get("kind").and_then(|k| string_of(k)).as_deref() {
                Some("Event") => {
                    out.push((raw, object));
                    true
                }
                Some("EventList") => {
                    let Some(items) = object
                        .get("items")
                        .and_then(|i| serde_json::from_str::<Vec<&RawValue>>(i.get()).ok())
                    else {
                        return false;
                    };
                    for item in items {
                        // Upstream takes list items as events without checking their kind.
                        match serde_json::from_str::<Object>(item.get()) {
                            Ok(obj) => out.push((item, obj)),
                            Err(_) => return false,
                        }
                    }
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Parses an RFC 3339 timestamp (`2025-02-10T09:15:40.102611Z`, `...+02:00`, up to nine
/// fraction digits) to nanoseconds since the epoch. `None` for anything else or before 1970.
pub fn parse_rfc3339_nanos(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = num(start..i)? * 10i64.pow(9 - digits as u32);
    }
    let offset_secs = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    if secs < 0 {
        return None;
    }
    (secs as u64)
        .checked_mul(1_000_000_000)?
        .checked_add(nanos as u64)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(payload: &str, max: usize) -> (Vec<AuditEvent>, Vec<Skipped>) {
        let (mut ev, mut sk) = (Vec::new(), Vec::new());
        split(payload, 7, max, &mut |e| ev.push(e), &mut |s| sk.push(s));
        (ev, sk)
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_nanos("2025-02-10T09:15:40.102611Z"),
            Some(1_739_178_940_102_611_000)
        );
        assert_eq!(
            parse_rfc3339_nanos("2025-02-10T10:15:40.102611123+01:00"),
            Some(1_739_178_940_102_611_123)
        );
        assert_eq!(
            parse_rfc3339_nanos("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000_000_000)
        );
        for bad in [
            "2023-02-29T00:00:00Z",
            "2025-02-10 09:15:40Z",
            "2025-02-10T09:15:40",
            "2025-02-10T09:15:40.Z",
            "2025-02-10T09:15:40.1234567890Z",
            "2025-13-10T09:15:40Z",
            "x",
        ] {
            assert_eq!(parse_rfc3339_nanos(bad), None, "{bad}");
        }
    }

    #[test]
    fn event_list_and_arrays_expand_in_order() {
        let p = r#"[{"kind":"Event","auditID":"1","stageTimestamp":"1970-01-01T00:00:01Z"},
                    {"kind":"EventList","items":[{"auditID":"2"},{"auditID":"3"}]}]"#;
        let (ev, sk) = run(p, 1 << 20);
        assert!(sk.is_empty());
        let ids: Vec<_> = ev
            .iter()
            .map(|e| String::from_utf8_lossy(&e.payload).into_owned())
            .collect();
        assert_eq!(
            ids[0],
            r#"{"kind":"Event","auditID":"1","stageTimestamp":"1970-01-01T00:00:01Z"}"#
        );
        assert_eq!(ids[1], r#"{"auditID":"2"}"#);
        assert_eq!(ids[2], r#"{"auditID":"3"}"#);
        assert_eq!(ev[0].ts, 1_000_000_000);
        assert_eq!(ev[1].ts, 7, "falls back when stageTimestamp is missing");
    }

    #[test]
    fn non_audit_payloads_are_one_skip() {
        for p in [
            r#"{"kind":"Pod"}"#,
            "42",
            r#""text""#,
            "{",
            r#"{"auditID":"x"}"#,
        ] {
            let (ev, sk) = run(p, 1 << 20);
            assert!(ev.is_empty(), "{p}");
            assert_eq!(sk.len(), 1, "{p}");
            assert_eq!(sk[0].reason, SkipReason::NotAudit, "{p}");
        }
    }

    #[test]
    fn oversize_events_are_skipped_with_their_id() {
        let big = format!(
            r#"{{"kind":"Event","auditID":"big","pad":"{}"}}"#,
            "x".repeat(2000)
        );
        let p = format!(r#"[{big},{{"kind":"Event","auditID":"small"}}]"#);
        let (ev, sk) = run(&p, 1024);
        assert_eq!(ev.len(), 1);
        assert_eq!(sk.len(), 1);
        assert_eq!(sk[0].reason, SkipReason::Oversize);
        assert_eq!(sk[0].audit_id.as_deref(), Some("big"));
        assert_eq!(sk[0].size, big.len());
    }
}
