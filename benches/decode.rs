//! Frame decoding throughput on one thread: UTF-8 check, LDP envelope → GELF → audit events,
//! for the bundled sample frames, with buffers reused as the plugin reuses them (the GELF
//! document's, and each payload's once `next_batch` has given it back). Prints events/s and
//! MB/s, best and median of 9 runs of 500 passes (this shared machine's speed varies from
//! second to second). `cargo bench --bench decode`.

use k8saudit_ovh::ingest::{audit, frame};
use std::time::Instant;

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/sample-frames.jsonl"
    ))
    .expect("sample frames");
    let frames: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    let (runs, rounds) = if quick { (1, 1) } else { (9, 500) };
    let bytes: usize = frames.iter().map(|f| f.len()).sum::<usize>() * rounds;
    let mut secs = Vec::new();
    let mut events = 0usize;
    let mut scratch = frame::Scratch::default();
    for _ in 0..runs {
        events = 0;
        let start = Instant::now();
        for _ in 0..rounds {
            for f in &frames {
                let Ok(text) = std::str::from_utf8(f) else {
                    continue;
                };
                if let Ok(p) = frame::decode_text_with(text, &mut scratch) {
                    let mut spent = None;
                    let mut event = |e: audit::AuditEvent| {
                        events += 1;
                        spent = Some(e.payload);
                    };
                    audit::split(p.text, 0, 1 << 20, &mut event, &mut |_| {});
                    if let Some(buf) = spent {
                        scratch.payload = buf;
                    }
                }
            }
        }
        secs.push(start.elapsed().as_secs_f64());
    }
    secs.sort_by(f64::total_cmp);
    for (what, s) in [("best", secs[0]), ("median", secs[secs.len() / 2])] {
        println!(
            "decode ({what} of {runs}): {events} events in {s:.3} s: {:.0} events/s, {:.1} MB/s, {:.2} µs/event",
            events as f64 / s,
            bytes as f64 / s / 1e6,
            s * 1e6 / events as f64
        );
    }
}
