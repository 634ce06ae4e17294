//! Fault injection: a flood of 50,000 messages that are not audit events (a stream shared
//! with other logs, or garbage) between two audit events. Every one is counted by reason,
//! each reason is logged once, the stream goes on, and the reader thread's CPU time stays
//! small. Alone in its test binary: it counts log lines and the reader thread's CPU time.

#[path = "support/ldp.rs"]
mod ldp;
#[path = "support/observe.rs"]
mod observe;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{fast_config, Timeline, FAKE_TOKEN};
use observe::{assert_metrics, collect_exactly, logged, reader_cpu_time};
use serde_json::json;
use std::time::{Duration, Instant};
use support::Host;
use ws_server::{Step, WsServer};

/// Message `i` of the flood: in turn a log line that is not JSON, an envelope whose `message`
/// is not GELF, and an LDP frame whose `short_message` is another application's log.
fn noise(i: usize) -> String {
    match i % 3 {
        0 => format!("2025-02-10 09:15:40 kubelet[{i}]: plain text, not JSON"),
        1 => json!({ "message": format!("plain text {i}, not GELF") }).to_string(),
        _ => ldp::ldp_frame(&format!("nginx: GET /healthz {i} 200")),
    }
}

#[test]
fn a_flood_of_non_audit_messages_is_counted_logged_once_per_reason_and_the_stream_goes_on() {
    const FLOOD: usize = 50_000;
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = WsServer::ws(vec![
        Step::Upgrade,
        Step::Text(tl.frame(0)),
        Step::Generate(0..FLOOD, noise),
        Step::Text(tl.frame(1)),
    ]);
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let t = Instant::now();
    let events = collect_exactly(&mut inst, 2, Duration::from_secs(30));
    let took = t.elapsed();
    let cpu = reader_cpu_time();
    eprintln!(
        "{FLOOD} non-audit messages: through in {took:?}, reader thread CPU {cpu:?} ({:.1} µs per message)",
        cpu.as_secs_f64() * 1e6 / FLOOD as f64
    );
    assert_eq!(ldp::numbers(&events), [0, 1]);
    let third = (FLOOD / 3) as u64;
    assert_metrics(
        &mut inst,
        &[
            ("skipped_not_json", third + 1),
            ("skipped_not_gelf", third + 1),
            ("skipped_not_audit", third),
            ("frames_received", FLOOD as u64 + 2),
            ("events_emitted", 2),
            ("connection_attempts", 1),
            ("reconnects", 0),
        ],
    );
    for needle in [
        "that is not JSON",
        "not an LDP frame with a GELF short_message",
        "not a Kubernetes audit event",
    ] {
        let lines = logged(&[needle]);
        // Once, and once more if the flood outlasts the 10 s rate limit.
        assert!(
            (1..=2).contains(&lines.len()),
            "{needle}: {} lines",
            lines.len()
        );
    }
    // The reader must not spin: a generous bound for an unoptimised build on a loaded machine
    // (about 1.5 s on an idle one).
    assert!(cpu < Duration::from_secs(10), "{cpu:?}");
}
