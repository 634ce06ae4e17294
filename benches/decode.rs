//! Frame decoding throughput on the reader thread: LDP envelope → GELF → audit events, for the
//! bundled sample frames. Prints events/s and MB/s, best and median of 9 runs of 500 passes
//! (this shared machine's speed varies from second to second). `cargo bench --bench decode`.

use k8saudit_ovh::{audit, frame};
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
    for _ in 0..runs {
        events = 0;
        let start = Instant::now();
        for _ in 0..rounds {
            for f in &frames {
                if let Ok(p) = frame::decode(f) {
                    audit::split(&*p.text, 0, 1 << 20, &mut |_| events += 1, &mut |_| {});
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
