//! Audit payload → individual audit events: Event / EventList / array expansion, the event
//! timestamp, and the size limit. Pure functions, no I/O.

use crate::json::scan::{self, Elements, Invalid, Members};
use crate::metrics::SkipReason;
use std::borrow::Cow;
use std::ops::Range;

/// One audit event ready for Falco.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Event time, nanoseconds since the epoch: `stageTimestamp`, else the GELF timestamp,
    /// else the time the frame was received.
    pub ts: u64,
    /// The event's JSON, as it appeared in the payload: two copies of one event (live and
    /// replayed) have the same bytes.
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

/// What the payload layer needs of one audit event object.
struct EventRef {
    range: Range<usize>,
    stage_timestamp: Option<Range<usize>>,
    audit_id: Option<Range<usize>>,
}

/// One pass over an object's members: `kind`, `items`, `stageTimestamp`, `auditID`
/// (first occurrence wins, as upstream).
#[derive(Default)]
struct Keys {
    kind: Option<Range<usize>>,
    items: Option<Range<usize>>,
    stage_timestamp: Option<Range<usize>>,
    audit_id: Option<Range<usize>>,
}

fn keys(members: &mut Members<'_>) -> Result<Keys, Invalid> {
    let mut k = Keys::default();
    for m in members {
        let m = m?;
        let slot = match m.raw_key {
            "kind" => &mut k.kind,
            "items" => &mut k.items,
            "stageTimestamp" => &mut k.stage_timestamp,
            "auditID" => &mut k.audit_id,
            _ if m.key_escaped => {
                for (name, slot) in [
                    ("kind", &mut k.kind),
                    ("items", &mut k.items),
                    ("stageTimestamp", &mut k.stage_timestamp),
                    ("auditID", &mut k.audit_id),
                ] {
                    if slot.is_none() && m.key_is(name) {
                        *slot = Some(m.value.clone());
                    }
                }
                continue;
            }
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(m.value);
        }
    }
    Ok(k)
}

fn string_at(text: &str, range: &Option<Range<usize>>) -> Option<String> {
    let r = range.clone()?;
    (text.as_bytes()[r.start] == b'"')
        .then(|| scan::string(text, r).ok().map(|s| s.into_owned()))
        .flatten()
}

/// Splits an audit payload into events, calling `emit` for each accepted event and `skip` for
/// each skipped one. A payload that is not audit data at all is one `NotAudit` skip.
///
/// Accepted shapes, as upstream's source: a JSON array (each element handled recursively), an
/// object with `kind` `EventList` (its `items`), or an object with `kind` `Event`. A payload
/// given owned that is one event and nothing else becomes that event's payload as it is.
pub fn split<'a>(
    payload: impl Into<Cow<'a, str>>,
    fallback_ts: u64,
    max_event_size: usize,
    emit: &mut dyn FnMut(AuditEvent),
    skip: &mut dyn FnMut(Skipped),
) {
    let payload = payload.into();
    // The usual frame is one event and nothing else: its payload is then kept, not copied.
    let mut whole = None;
    {
        let payload: &str = &payload;
        let mut events = Vec::new();
        let collected = match scan::first_byte(payload) {
            Some(b'{') => Members::document(payload).and_then(|mut members| {
                let k = keys(&mut members)?;
                members.finish()?;
                Ok(object_events(payload, members.span(), k, &mut events))
            }),
            Some(b'[') => scan::document(payload).map(|doc| collect(payload, doc, &mut events, 0)),
            _ => Ok(false),
        };
        if collected != Ok(true) {
            skip(Skipped {
                reason: SkipReason::NotAudit,
                size: payload.len(),
                audit_id: None,
            });
            return;
        }
        let alone = matches!(events.as_slice(), [e] if e.range.len() == payload.len());
        for e in events {
            let size = e.range.len();
            if size > max_event_size {
                skip(Skipped {
                    reason: SkipReason::Oversize,
                    size,
                    audit_id: string_at(payload, &e.audit_id),
                });
                continue;
            }
            let ts = string_at(payload, &e.stage_timestamp)
                .and_then(|s| parse_rfc3339_nanos(&s))
                .unwrap_or(fallback_ts);
            if alone {
                whole = Some(ts);
                break;
            }
            emit(AuditEvent {
                ts,
                payload: payload.as_bytes()[e.range].to_vec(),
            });
        }
    }
    if let Some(ts) = whole {
        let mut bytes = payload.into_owned().into_bytes();
        // Decoded in a buffer sized for all that followed it in the frame: a queued event
        // holds no more than twice its size.
        if bytes.capacity() > 2 * bytes.len() + 1024 {
            bytes.shrink_to_fit();
        }
        emit(AuditEvent { ts, payload: bytes });
    }
}

/// Events of the object at `range` whose keys are `k`; false when it is not audit data.
fn object_events(text: &str, range: Range<usize>, k: Keys, out: &mut Vec<EventRef>) -> bool {
    match string_at(text, &k.kind).as_deref() {
        Some("Event") => {
            out.push(EventRef {
                range,
                stage_timestamp: k.stage_timestamp,
                audit_id: k.audit_id,
            });
            true
        }
        Some("EventList") => {
            let Some(items) = k.items.filter(|r| text.as_bytes()[r.start] == b'[') else {
                return false;
            };
            let Ok(elements) = Elements::of(text, items) else {
                return false;
            };
            for e in elements {
                let Ok(e) = e else { return false };
                // Upstream takes list items as events without checking their kind.
                let Ok(item) = Members::of(text, e.value.clone()).and_then(|mut m| keys(&mut m))
                else {
                    return false;
                };
                out.push(EventRef {
                    range: e.value,
                    stage_timestamp: item.stage_timestamp,
                    audit_id: item.audit_id,
                });
            }
            true
        }
        _ => false,
    }
}

/// Collects the events of the array or object at `range`; false when it is not audit data.
fn collect(text: &str, range: Range<usize>, out: &mut Vec<EventRef>, depth: u32) -> bool {
    // Arrays may nest (upstream recurses); bound the depth so hostile input cannot recurse far.
    if depth > 16 {
        return false;
    }
    match text.as_bytes()[range.start] {
        b'[' => {
            let Ok(elements) = Elements::of(text, range) else {
                return false;
            };
            for e in elements {
                match e {
                    Ok(e) if collect(text, e.value.clone(), out, depth + 1) => {}
                    _ => return false,
                }
            }
            true
        }
        b'{' => match Members::of(text, range.clone()).and_then(|mut m| keys(&mut m)) {
            Ok(k) => object_events(text, range, k, out),
            Err(_) => false,
        },
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

/// Formats nanoseconds since the epoch as an RFC 3339 UTC time, the inverse of
/// [`parse_rfc3339_nanos`]: `2025-02-10T09:15:40Z`, or with `fraction` nine fraction digits
/// (`2025-02-10T09:15:40.102611000Z`).
pub fn format_rfc3339(nanos: u64, fraction: bool) -> String {
    let secs = nanos / 1_000_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    if fraction {
        let frac = nanos % 1_000_000_000;
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{frac:09}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    }
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
    fn an_owned_payload_that_is_one_event_becomes_its_payload_uncopied() {
        let event = r#"{"kind":"Event","auditID":"a"}"#;
        let owned = event.to_owned();
        let at = owned.as_ptr();
        let mut got = Vec::new();
        split(owned, 7, 1 << 20, &mut |e| got.push(e), &mut |_| {});
        assert_eq!(got[0].payload, event.as_bytes());
        assert_eq!(got[0].payload.as_ptr(), at);
        // Anything around the event: copied, without it.
        for text in [format!(" {event}\n"), format!("[{event}]")] {
            let mut got = Vec::new();
            split(text, 7, 1 << 20, &mut |e| got.push(e), &mut |_| {});
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].payload, event.as_bytes());
        }
    }

    #[test]
    fn a_payload_kept_as_it_is_is_shrunk_only_when_over_twice_its_size_and_a_kib() {
        let event = r#"{"kind":"Event","auditID":"a"}"#;
        let bound = 2 * event.len() + 1024;
        for (capacity, kept) in [
            (256 * 1024, None),
            (bound + 1, None),
            (bound, Some(bound)),
            (event.len() + 100, Some(event.len() + 100)),
        ] {
            let mut owned = String::with_capacity(capacity);
            owned.push_str(event);
            assert_eq!(owned.capacity(), capacity);
            let mut got = Vec::new();
            split(owned, 7, 1 << 20, &mut |e| got.push(e), &mut |_| {});
            assert_eq!(got[0].payload, event.as_bytes());
            let want = kept.unwrap_or(event.len());
            assert_eq!(got[0].payload.capacity(), want, "from {capacity}");
        }
    }

    #[test]
    fn rfc3339_formatting_round_trips() {
        for nanos in [
            0,
            1_739_178_940_102_611_000,
            951_782_400_000_000_001,
            4_102_444_799_999_999_999,
        ] {
            assert_eq!(
                parse_rfc3339_nanos(&format_rfc3339(nanos, true)),
                Some(nanos)
            );
            assert_eq!(
                parse_rfc3339_nanos(&format_rfc3339(nanos, false)),
                Some(nanos / 1_000_000_000 * 1_000_000_000)
            );
        }
        assert_eq!(format_rfc3339(0, false), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(1_709_164_800_000_000_000, true),
            "2024-02-29T00:00:00.000000000Z"
        );
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

    #[test]
    fn an_event_of_exactly_max_event_size_bytes_is_kept_and_one_more_is_skipped() {
        let max = 1024;
        let sized = |n: usize| {
            let e = format!(r#"{{"kind":"Event","auditID":"a{n}","pad":""}}"#);
            e.replace(
                r#""pad":"""#,
                &format!(r#""pad":"{}""#, "x".repeat(n - e.len())),
            )
        };
        let (at, over) = (sized(max), sized(max + 1));
        assert_eq!((at.len(), over.len()), (max, max + 1));
        for whole in [false, true] {
            // Alone in its payload (kept without a copy), and inside an EventList.
            let payload = |e: &str| {
                if whole {
                    e.to_owned()
                } else {
                    format!(r#"{{"kind":"EventList","items":[{e}]}}"#)
                }
            };
            let (ev, sk) = run(&payload(&at), max);
            assert_eq!((ev.len(), sk.len()), (1, 0), "{max} bytes, whole: {whole}");
            assert_eq!(ev[0].payload, at.as_bytes());
            let (ev, sk) = run(&payload(&over), max);
            assert_eq!((ev.len(), sk.len()), (0, 1), "{} bytes", max + 1);
            assert_eq!(sk[0].size, max + 1);
        }
    }
}
