//! Fault injection: a burst of 100,000 events while Falco calls `next_batch` slowly. Memory
//! stays bounded (the queue never holds more than `maxQueuedEvents`, the process RSS barely
//! moves), nothing is lost (every auditID once, in order), and backpressure reaches the socket
//! (the server's writes block while Falco does not read). Alone in its test binary: it
//! measures the process's memory.

#[path = "support/ldp.rs"]
mod ldp;
#[path = "support/observe.rs"]
mod observe;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{fast_config, FAKE_TOKEN};
use observe::{assert_metrics, metric, peak_rss_kib, rss_kib};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Batch, Host};
use ws_server::{Step, WsServer};

const BURST: usize = 100_000;
const QUEUE: u64 = 1000;

/// Event `i` of the burst: about 800 bytes on the wire. Made by hand (the server makes
/// 100,000 of them on the fly, and must outpace the plugin).
fn burst_frame(i: usize) -> String {
    let event = format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"ev-{i}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/web-{i}","verb":"get","user":{{"username":"kubernetes-admin","groups":["system:masters","system:authenticated"]}},"sourceIPs":["10.2.0.17"],"userAgent":"kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5","objectRef":{{"resource":"pods","namespace":"default","name":"web-{i}","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"2025-02-10T09:15:40.102611Z","stageTimestamp":"2025-02-10T09:15:40.104502Z"}}"#
    );
    let gelf = format!(
        r#"{{"version":"1.1","host":"mks-test","short_message":"{}","timestamp":1739178940.103,"level":6}}"#,
        escape(&event)
    );
    format!(r#"{{"message":"{}"}}"#, escape(&gelf))
}

/// JSON string escaping for text without control characters.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The number in an `"auditID":"ev-<n>"` payload, without parsing the whole event.
fn number(payload: &[u8]) -> usize {
    let text = std::str::from_utf8(payload).unwrap();
    let at = text.find("\"auditID\":\"ev-").expect("auditID") + 14;
    let end = text[at..].find('"').unwrap() + at;
    text[at..end].parse().unwrap()
}

#[test]
fn a_burst_read_slowly_stays_bounded_loses_nothing_and_blocks_the_server() {
    let server = WsServer::ws(vec![Step::Upgrade, Step::Generate(0..BURST, burst_frame)]);
    let mut host = Host::init(&fast_config(json!({ "maxQueuedEvents": QUEUE }))).unwrap();
    let baseline = rss_kib();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let start = Instant::now();
    let mut next = 0usize;
    let mut batches = 0usize;
    let mut max_depth = 0;
    let mut max_rss = baseline;
    let mut paused = false;
    let mut stall = None;
    while next < BURST && start.elapsed() < Duration::from_secs(60) {
        let mut events_in_batch = 0;
        match inst.next_batch() {
            Batch::Events(events) => {
                batches += 1;
                events_in_batch = events.len();
                for e in &events {
                    assert_eq!(number(&e.payload), next, "every event once, in order");
                    next += 1;
                }
            }
            Batch::Timeout => {}
            other => panic!("the source ended: {other:?}"),
        }
        let depth = metric(&mut inst, "queue_depth");
        max_depth = max_depth.max(depth);
        if batches % 16 == 0 {
            max_rss = max_rss.max(rss_kib());
        }
        // Falco stalls once, halfway: the server must stall too.
        if !paused && next >= BURST / 2 {
            paused = true;
            // Until the socket buffers are full and the server stops making progress...
            let sent = || server.connections()[0].frames_sent;
            let settle = Instant::now() + Duration::from_secs(10);
            let mut last = sent();
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let now = sent();
                if now == last || Instant::now() > settle {
                    break;
                }
                last = now;
            }
            // ...then it must stay blocked as long as Falco does not read.
            std::thread::sleep(Duration::from_millis(500));
            stall = Some((last, sent(), metric(&mut inst, "queue_depth")));
        }
        // Falco is slow: 10 µs of work per event.
        std::thread::sleep(Duration::from_micros(10 * events_in_batch as u64));
    }
    let took = start.elapsed();
    eprintln!(
        "reader thread CPU {:?}, process CPU {:?}",
        observe::reader_cpu_time(),
        observe::cpu_time()
    );
    assert_eq!(next, BURST, "all events delivered within 60 s");

    let (sent, still, depth) = stall.unwrap();
    eprintln!(
        "burst of {BURST}: {took:?}, {batches} batches, max queue depth {max_depth}, \
         RSS {} MiB before, max {} MiB during (+{} MiB), peak {} MiB; during the stall the \
         server had sent {sent} frames and sent {} more in 500 ms (queue {depth}), longest \
         server write {:?}",
        baseline / 1024,
        max_rss / 1024,
        (max_rss - baseline) / 1024,
        peak_rss_kib() / 1024,
        still - sent,
        server.connections()[0].longest_write
    );
    assert!(
        max_depth <= QUEUE,
        "queue depth {max_depth} over maxQueuedEvents"
    );
    assert_eq!(depth, QUEUE, "the queue was full while Falco stalled");
    assert_eq!(
        still, sent,
        "the server's writes blocked while Falco stalled"
    );
    assert!(sent < BURST, "the server could not run ahead: {sent}");
    assert!(server.connections()[0].longest_write >= Duration::from_millis(400));
    // The queue (1000 events of ~700 bytes) and socket buffers, not the burst (70 MB).
    assert!(
        max_rss - baseline < 48 * 1024,
        "RSS grew by {} MiB",
        (max_rss - baseline) / 1024
    );
    assert_metrics(
        &mut inst,
        &[
            ("events_emitted", BURST as u64),
            ("frames_received", BURST as u64),
            ("duplicates_dropped", 0),
            ("connection_attempts", 1),
            ("reconnects", 0),
        ],
    );
    drop(inst);
    ldp::assert_no_token_in_logs();
}
