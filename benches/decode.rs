//! Frame decoding throughput on the reader thread: LDP envelope → GELF → audit events, for the
//! bundled sample frames. Prints events/s and MB/s. `cargo bench --bench decode`.

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
    let rounds = if quick { 1 } else { 2000 };
    let bytes: usize = frames.iter().map(|f| f.len()).sum::<usize>() * rounds;
    let start = Instant::now();
    let mut events = 0usize;
    for _ in 0..rounds {
        for f in &frames {
            if let Ok(p) = frame::decode(f) {
                audit::split(&p.text, 0, 1 << 20, &mut |_| events += 1, &mut |_| {});
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "decode: {events} events in {secs:.3} s: {:.0} events/s, {:.1} MB/s, {:.2} µs/event",
        events as f64 / secs,
        bytes as f64 / secs / 1e6,
        secs * 1e6 / events as f64
    );
}
