//! Our hand-written JSON code against the crates that could replace it, end to end on the
//! sample frames: LDP envelope → GELF → audit payload → events → the 20 `ka.*` values the
//! stock rules read most, each parser doing all of it, on the same machine in the same run.
//! Also how far each one's values and strictness differ from ours (which match upstream's).
//! The figures are those of `docs/decisions.md`.
//!
//! ```text
//! cargo bench --bench parsers --features compare-parsers
//! cargo bench --bench parsers --features compare-parsers -- --secs 5
//! ```
//!
//! The crates compared are optional dependencies behind `compare-parsers`, which nothing but
//! this bench turns on: the plugin itself links none of them.

use k8saudit_ovh::ingest::{audit, frame};
use k8saudit_ovh::json::{Kind, Tape, Value as TapeValue};
use serde::Deserialize;
use std::borrow::Cow;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// What is read of each event: (path to an array, path inside each element); an empty second
/// path is a value read whole. The 20 fields of `benches/e2e.rs`' `TOP_FIELDS`, as paths.
enum Op {
    /// The value at the path, as text (strings unescaped, the rest as compact JSON).
    One(&'static [&'static str]),
    /// For each element of the array at the first path, the value at the second.
    Each(&'static [&'static str], &'static [&'static str]),
}

const OPS: [Op; 20] = [
    Op::One(&["objectRef", "resource"]),
    Op::One(&["user", "username"]),
    Op::One(&["objectRef", "name"]),
    Op::One(&["objectRef", "namespace"]),
    Op::One(&["responseStatus", "code"]),
    Op::One(&["annotations", "authorization.k8s.io/decision"]),
    Op::One(&["annotations", "authorization.k8s.io/reason"]),
    Op::One(&["verb"]),
    Op::One(&["requestURI"]),
    Op::One(&["objectRef", "subresource"]),
    Op::One(&["responseObject", "metadata", "name"]),
    Op::Each(&["requestObject", "spec", "containers"], &["image"]),
    Op::Each(&["requestObject", "spec", "initContainers"], &["image"]),
    Op::One(&["requestObject", "data"]),
    Op::Each(&["requestObject", "rules"], &[]),
    Op::One(&["requestObject", "roleRef", "name"]),
    Op::Each(&["requestObject", "subjects"], &[]),
    Op::Each(&["requestObject", "rules"], &["resources"]),
    Op::Each(&["requestObject", "rules"], &["verbs"]),
    Op::Each(
        &["requestObject", "spec", "containers"],
        &["securityContext", "privileged"],
    ),
];

/// The values of one event, per op.
type Values = Vec<Vec<String>>;

/// Frames to the bytes of their events, as Falco stores them, handed to a callback.
type Split = fn(&[String], &mut dyn FnMut(&[u8]));

/// One way of doing the whole job.
struct Contender {
    name: &'static str,
    /// Frames to the bytes of their events, as Falco stores them.
    split: Split,
    /// The values of one event, from its bytes as Falco stores them; None if it does not
    /// parse.
    event: fn(&[u8]) -> Option<Values>,
}

fn ours_event(bytes: &[u8]) -> Option<Values> {
    let mut tape = Tape::default();
    tape.parse(bytes).ok()?;
    let root = tape.root(bytes)?;
    Some(OPS.iter().map(|op| ours_op(root, op)).collect())
}

fn serde_event(bytes: &[u8]) -> Option<Values> {
    let v = serde_json::from_slice::<serde_json::Value>(bytes).ok()?;
    Some(OPS.iter().map(|op| serde_op(&v, op)).collect())
}

fn simd_event(bytes: &[u8]) -> Option<Values> {
    let mut bytes = bytes.to_vec();
    let v = simd_json::to_borrowed_value(&mut bytes).ok()?;
    Some(OPS.iter().map(|op| simd_op(&v, op)).collect())
}

fn sonic_event(bytes: &[u8]) -> Option<Values> {
    let v = sonic_rs::from_slice::<sonic_rs::Value>(bytes).ok()?;
    Some(OPS.iter().map(|op| sonic_op(&v, op)).collect())
}

// ---- ours: the plugin's own code (frame, audit, the tape) ----

fn ours_split(frames: &[String], out: &mut dyn FnMut(&[u8])) {
    let mut scratch = frame::Scratch::default();
    for f in frames {
        let Ok(payload) = frame::decode_text_with(f, &mut scratch) else {
            continue;
        };
        audit::split(
            payload.text,
            0,
            1 << 20,
            &mut |e| out(&e.payload),
            &mut |_| {},
        );
    }
}

fn ours_get<'a>(mut v: TapeValue<'a>, path: &[&str]) -> Option<TapeValue<'a>> {
    for k in path {
        v = v.get(k)?;
    }
    Some(v)
}

fn ours_text(v: TapeValue<'_>) -> String {
    match v.as_str() {
        Some(s) => String::from_utf8_lossy(&s.to_bytes()).into_owned(),
        None => {
            let mut out = Vec::new();
            v.write_compact(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

fn ours_op(root: TapeValue<'_>, op: &Op) -> Vec<String> {
    match op {
        Op::One(path) => ours_get(root, path).map(ours_text).into_iter().collect(),
        Op::Each(list, path) => match ours_get(root, list) {
            Some(a) if a.kind() == Kind::Array => a
                .elements()
                .filter_map(|e| ours_get(e, path))
                .map(ours_text)
                .collect(),
            _ => Vec::new(),
        },
    }
}

// ---- the layers as serde structs, for the crates that take them ----

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Gelf<'a> {
    #[serde(borrow)]
    short_message: Option<Cow<'a, str>>,
    #[allow(dead_code)]
    timestamp: Option<f64>,
}

// ---- serde_json (already a dependency) ----

#[derive(Deserialize)]
struct SerdeHead<'a> {
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    items: Option<Vec<&'a serde_json::value::RawValue>>,
}

fn serde_events<'a>(text: &'a str, events: &mut Vec<&'a str>) {
    match text.trim_start().as_bytes().first() {
        Some(b'[') => {
            if let Ok(items) = serde_json::from_str::<Vec<&serde_json::value::RawValue>>(text) {
                for i in items {
                    serde_events(i.get(), events);
                }
            }
        }
        Some(b'{') => match serde_json::from_str::<SerdeHead>(text) {
            Ok(h) if h.kind.as_deref() == Some("Event") => events.push(text),
            Ok(h) if h.kind.as_deref() == Some("EventList") => {
                events.extend(h.items.unwrap_or_default().iter().map(|i| i.get()))
            }
            _ => {}
        },
        _ => {}
    }
}

fn serde_split(frames: &[String], out: &mut dyn FnMut(&[u8])) {
    for f in frames {
        let Ok(Envelope { message: Some(m) }) = serde_json::from_str::<Envelope>(f) else {
            continue;
        };
        let Ok(Gelf {
            short_message: Some(payload),
            ..
        }) = serde_json::from_str::<Gelf>(&m)
        else {
            continue;
        };
        let mut events = Vec::new();
        serde_events(&payload, &mut events);
        for e in events {
            // The event's bytes, as Falco stores them.
            out(e.as_bytes());
        }
    }
}

fn serde_get<'a>(mut v: &'a serde_json::Value, path: &[&str]) -> Option<&'a serde_json::Value> {
    for k in path {
        v = v.get(k)?;
    }
    Some(v)
}

fn serde_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn serde_op(root: &serde_json::Value, op: &Op) -> Vec<String> {
    match op {
        Op::One(path) => serde_get(root, path).map(serde_text).into_iter().collect(),
        Op::Each(list, path) => match serde_get(root, list) {
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|e| serde_get(e, path))
                .map(serde_text)
                .collect(),
            _ => Vec::new(),
        },
    }
}

// ---- simd-json ----

fn simd_split(frames: &[String], out: &mut dyn FnMut(&[u8])) {
    for f in frames {
        let mut frame = f.as_bytes().to_vec();
        let Ok(Envelope { message: Some(m) }) =
            simd_json::serde::from_slice::<Envelope>(&mut frame)
        else {
            continue;
        };
        let mut gelf = m.into_owned().into_bytes();
        let Ok(Gelf {
            short_message: Some(payload),
            ..
        }) = simd_json::serde::from_slice::<Gelf>(&mut gelf)
        else {
            continue;
        };
        let mut payload = payload.into_owned().into_bytes();
        let Ok(v) = simd_json::to_borrowed_value(&mut payload) else {
            continue;
        };
        // simd-json keeps no spans of the source: an event's bytes for Falco are re-encoded.
        let mut stored = Vec::new();
        simd_events(&v, &mut stored);
        for bytes in stored {
            out(&bytes);
        }
    }
}

fn simd_events(v: &simd_json::BorrowedValue<'_>, out: &mut Vec<Vec<u8>>) {
    use simd_json::prelude::*;
    if let Some(a) = v.as_array() {
        a.iter().for_each(|e| simd_events(e, out));
        return;
    }
    match v.get_str("kind") {
        Some("Event") => out.push(v.encode().into_bytes()),
        Some("EventList") => {
            if let Some(items) = v.get_array("items") {
                out.extend(items.iter().map(|i| i.encode().into_bytes()));
            }
        }
        _ => {}
    }
}

fn simd_get<'a, 'v>(
    mut v: &'a simd_json::BorrowedValue<'v>,
    path: &[&str],
) -> Option<&'a simd_json::BorrowedValue<'v>> {
    use simd_json::prelude::ValueObjectAccess;
    for k in path {
        v = v.get(*k)?;
    }
    Some(v)
}

fn simd_text(v: &simd_json::BorrowedValue<'_>) -> String {
    use simd_json::prelude::*;
    match v.as_str() {
        Some(s) => s.to_owned(),
        None => v.encode(),
    }
}

fn simd_op(root: &simd_json::BorrowedValue<'_>, op: &Op) -> Vec<String> {
    use simd_json::prelude::*;
    match op {
        Op::One(path) => simd_get(root, path).map(simd_text).into_iter().collect(),
        Op::Each(list, path) => match simd_get(root, list).and_then(|a| a.as_array()) {
            Some(a) => a
                .iter()
                .filter_map(|e| simd_get(e, path))
                .map(simd_text)
                .collect(),
            None => Vec::new(),
        },
    }
}

// ---- sonic-rs ----

#[derive(Deserialize)]
struct SonicHead<'a> {
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    items: Option<Vec<sonic_rs::LazyValue<'a>>>,
}

fn sonic_events<'a>(text: &'a str, events: &mut Vec<Cow<'a, str>>) {
    match text.trim_start().as_bytes().first() {
        Some(b'[') => {
            if let Ok(items) = sonic_rs::from_str::<Vec<sonic_rs::LazyValue>>(text) {
                for i in items {
                    let raw = i.as_raw_str().to_owned();
                    let mut inner = Vec::new();
                    sonic_events(&raw, &mut inner);
                    events.extend(inner.into_iter().map(|c| Cow::Owned(c.into_owned())));
                }
            }
        }
        Some(b'{') => match sonic_rs::from_str::<SonicHead>(text) {
            Ok(h) if h.kind.as_deref() == Some("Event") => events.push(Cow::Borrowed(text)),
            Ok(h) if h.kind.as_deref() == Some("EventList") => events.extend(
                h.items
                    .unwrap_or_default()
                    .iter()
                    .map(|i| Cow::Owned(i.as_raw_str().to_owned())),
            ),
            _ => {}
        },
        _ => {}
    }
}

fn sonic_split(frames: &[String], out: &mut dyn FnMut(&[u8])) {
    for f in frames {
        let Ok(Envelope { message: Some(m) }) = sonic_rs::from_str::<Envelope>(f) else {
            continue;
        };
        let Ok(Gelf {
            short_message: Some(payload),
            ..
        }) = sonic_rs::from_str::<Gelf>(&m)
        else {
            continue;
        };
        let mut events = Vec::new();
        sonic_events(&payload, &mut events);
        for e in events {
            out(e.as_bytes());
        }
    }
}

fn sonic_get<'a>(mut v: &'a sonic_rs::Value, path: &[&str]) -> Option<&'a sonic_rs::Value> {
    use sonic_rs::JsonValueTrait;
    for k in path {
        v = v.get(k)?;
    }
    Some(v)
}

fn sonic_text(v: &sonic_rs::Value) -> String {
    use sonic_rs::JsonValueTrait;
    match v.as_str() {
        Some(s) => s.to_owned(),
        None => sonic_rs::to_string(v).unwrap_or_default(),
    }
}

fn sonic_op(root: &sonic_rs::Value, op: &Op) -> Vec<String> {
    use sonic_rs::JsonContainerTrait;
    match op {
        Op::One(path) => sonic_get(root, path).map(sonic_text).into_iter().collect(),
        Op::Each(list, path) => match sonic_get(root, list).and_then(|a| a.as_array()) {
            Some(a) => a
                .iter()
                .filter_map(|e| sonic_get(e, path))
                .map(sonic_text)
                .collect(),
            None => Vec::new(),
        },
    }
}

// ---- the run ----

const CONTENDERS: [Contender; 4] = [
    Contender {
        name: "ours",
        split: ours_split,
        event: ours_event,
    },
    Contender {
        name: "serde_json",
        split: serde_split,
        event: serde_event,
    },
    Contender {
        name: "simd-json",
        split: simd_split,
        event: simd_event,
    },
    Contender {
        name: "sonic-rs",
        split: sonic_split,
        event: sonic_event,
    },
];

/// Lines of a fixture file of the conformance tests (`tests/fixtures/k8saudit/`).
fn fixture(name: &str) -> Vec<Vec<u8>> {
    let path = format!(
        "{}/tests/fixtures/k8saudit/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path)
        .expect("fixture")
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Per contender: the events of `lines` whose values differ from ours (ours equal upstream's
/// on these files: `tests/fields_conformance.rs`), and the documents it parses where ours
/// refuses or refuses where ours parses.
fn disagreement(lines: &[Vec<u8>]) -> Vec<(usize, usize)> {
    let want: Vec<Option<Values>> = lines.iter().map(|l| ours_event(l)).collect();
    CONTENDERS
        .iter()
        .map(|c| {
            let got: Vec<Option<Values>> = lines.iter().map(|l| (c.event)(l)).collect();
            let values = want
                .iter()
                .zip(&got)
                .filter(|(w, g)| matches!((w, g), (Some(w), Some(g)) if w != g))
                .count();
            let parse = want
                .iter()
                .zip(&got)
                .filter(|(w, g)| w.is_some() != g.is_some())
                .count();
            if std::env::var_os("PARSERS_VERBOSE").is_some() {
                for (n, (w, g)) in want.iter().zip(&got).enumerate() {
                    if w != g {
                        println!("  {}: line {} differs from ours", c.name, n + 1);
                    }
                }
            }
            (values, parse)
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = !args.iter().any(|a| a == "--bench");
    let secs = args
        .iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(if quick { 0.2 } else { 3.0 });
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sample-frames.jsonl");
    let frames: Vec<String> = std::fs::read_to_string(sample)
        .expect("sample frames")
        .lines()
        .map(str::to_owned)
        .collect();
    let mut stored: Vec<Vec<u8>> = Vec::new();
    ours_split(&frames, &mut |e| stored.push(e.to_vec()));
    println!(
        "parsers: {} frames, {} events from examples/sample-frames.jsonl; {} values per event; {secs} s per contender and stage, best of 3 rounds",
        frames.len(),
        stored.len(),
        OPS.len()
    );
    let time = |work: &mut dyn FnMut() -> usize| {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let mut events = 0;
            while start.elapsed() < Duration::from_secs_f64(secs) {
                events += work();
            }
            best = best.min(start.elapsed().as_nanos() as f64 / events as f64);
        }
        best
    };
    // (frames to events, events to values, the whole) in ns per event.
    let mut figures = Vec::new();
    for c in &CONTENDERS {
        let split = time(&mut || {
            let mut n = 0;
            (c.split)(&frames, &mut |e| {
                n += 1;
                black_box(e);
            });
            n
        });
        let fields = time(&mut || {
            for e in &stored {
                black_box((c.event)(e));
            }
            stored.len()
        });
        let whole = time(&mut || {
            let mut n = 0;
            (c.split)(&frames, &mut |e| {
                n += 1;
                black_box((c.event)(e));
            });
            n
        });
        figures.push((split, fields, whole));
    }
    let corpus = disagreement(&fixture("corpus.jsonl"));
    let adversarial = disagreement(&fixture("adversarial.jsonl"));
    println!(
        "\n  {:<11} {:>21} {:>21} {:>21}   {:>30}   {:>34}",
        "ns per event",
        "frames to events",
        "events to values",
        "the whole",
        "corpus (61): values, parsing",
        "adversarial (110): values, parsing"
    );
    let cell = |ns: f64, ours: f64| format!("{ns:.0} ({:.2}x)", ns / ours);
    for (i, c) in CONTENDERS.iter().enumerate() {
        let (s0, f0, w0) = figures[0];
        let (s, f, w) = figures[i];
        println!(
            "  {:<11} {:>21} {:>21} {:>21}   {:>30}   {:>34}",
            c.name,
            cell(s, s0),
            cell(f, f0),
            cell(w, w0),
            format!("{} events, {} docs", corpus[i].0, corpus[i].1),
            format!("{} events, {} docs", adversarial[i].0, adversarial[i].1),
        );
    }
    if quick {
        println!(
            "\n(smoke run: `cargo bench --bench parsers --features compare-parsers` measures)"
        );
    }
}
