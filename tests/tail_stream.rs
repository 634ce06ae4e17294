//! The live tail against a local WebSocket server, through the built plugin's C ABI: frames
//! to events, keepalive on a quiet stream, skipped messages, backpressure, a prompt close, the
//! token. Faults (refusals, resets, dead servers, huge or broken frames, floods, bursts) are in
//! tests/faults_*.rs, backfill in tests/backfill.rs.

#[path = "support/ldp.rs"]
mod ldp;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, ms, numbered, numbered_nanos, FAKE_TOKEN, SECOND};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Event, Host, Instance};
use ws_server::{Step, WsServer};

fn frames(range: std::ops::Range<usize>) -> Vec<Step> {
    range
        .map(|i| Step::Text(event_frame(&numbered(i))))
        .collect()
}

fn script(parts: &[&[Step]]) -> Vec<Step> {
    parts.iter().flat_map(|p| p.iter().cloned()).collect()
}

fn metric(inst: &mut Instance<'_>, name: &str) -> u64 {
    *inst
        .host
        .metrics()
        .get(name)
        .unwrap_or_else(|| panic!("no metric {name}")) as u64
}

/// Asserts `events` are the numbered events `range`, in order, each with its own timestamp.
fn assert_numbered(events: &[Event], range: std::ops::Range<usize>) {
    let ids: Vec<String> = events.iter().map(|e| ldp::audit_id(&e.payload)).collect();
    let want: Vec<String> = range.clone().map(|i| format!("ev-{i}")).collect();
    assert_eq!(ids, want, "events once each, in order");
    for (e, i) in events.iter().zip(range) {
        assert_eq!(
            e.ts,
            numbered_nanos(i),
            "timestamp of ev-{i} is its stageTimestamp"
        );
        assert_eq!(e.plugin_id, 22);
    }
}

/// Polls `next_batch` for `during`, asserting no event arrives and the source stays up.
fn assert_quiet(inst: &mut Instance<'_>, during: Duration) {
    let (events, end) = inst.collect(usize::MAX, during);
    assert!(events.is_empty(), "unexpected events: {events:?}");
    assert!(end.is_none(), "the source ended: {end:?}");
}

#[test]
fn every_frame_arrives_once_in_order_with_its_timestamp() {
    let server = WsServer::ws(script(&[&[Step::Upgrade], &frames(0..500)]));
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, end) = inst.collect(500, 10 * SECOND);
    assert!(end.is_none(), "{end:?}");
    assert_numbered(&events, 0..500);
    assert_quiet(&mut inst, ms(300));
    assert_eq!(metric(&mut inst, "events_emitted"), 500);
    assert_eq!(metric(&mut inst, "frames_received"), 500);
    let bytes: usize = (0..500).map(|i| event_frame(&numbered(i)).len()).sum();
    assert_eq!(
        metric(&mut inst, "bytes_received"),
        bytes as u64,
        "the payload bytes of every frame"
    );
    assert_eq!(metric(&mut inst, "connection_attempts"), 1);
    assert_eq!(metric(&mut inst, "connection_state"), 1, "connected");
    let request = server.connections()[0].request.clone().unwrap();
    assert!(
        request.starts_with(&format!("GET /tail/?tk={FAKE_TOKEN} HTTP/1.1")),
        "{request}"
    );
    let lower = request.to_ascii_lowercase();
    assert!(
        !lower.contains("authorization:"),
        "no Authorization header: {request}"
    );
    assert!(
        !lower.contains("sec-websocket-protocol:"),
        "no subprotocol: {request}"
    );
    drop(inst);
    ldp::assert_no_token_in_logs();
}

#[test]
fn event_lists_arrays_and_binary_frames_expand_in_order() {
    let list = json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
        "items": [numbered(0), numbered(1), numbered(2)]});
    let array = json!([numbered(3), numbered(4)]);
    let server = WsServer::ws(vec![
        Step::Upgrade,
        Step::Text(ldp::ldp_frame(&list.to_string())),
        Step::Binary(ldp::ldp_frame(&array.to_string()).into_bytes()),
        Step::Binary(event_frame(&numbered(5)).into_bytes()),
    ]);
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, _) = inst.collect(6, 5 * SECOND);
    assert_numbered(&events, 0..6);
    assert_eq!(metric(&mut inst, "frames_received"), 3);
}

#[test]
fn quiet_server_answering_pings_stays_connected() {
    // Upstream panics Falco after ~60 s without a frame; here 3 s of silence (3× the dead
    // timeout) with Pongs must keep the one connection.
    let server = WsServer::ws(vec![Step::Upgrade]);
    server.push(script(&[
        &[Step::Upgrade, Step::Hold(ms(3000))],
        &frames(0..1),
    ]));
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, end) = inst.collect(1, 6 * SECOND);
    assert!(end.is_none(), "{end:?}");
    assert_numbered(&events, 0..1);
    let conns = server.connections();
    assert_eq!(conns.len(), 1, "no redial");
    assert!(
        conns[0].pings >= 10,
        "a Ping every 200 ms, got {}",
        conns[0].pings
    );
    assert_eq!(metric(&mut inst, "reconnects"), 0);
}

#[test]
fn non_audit_malformed_and_oversize_messages_are_skipped_and_counted_while_the_stream_goes_on() {
    let big = ldp::event("too-big", &ldp::numbered_ts(0));
    let mut big = big;
    big["requestObject"] = json!({ "data": "x".repeat(5000) });
    let server = WsServer::ws(vec![
        Step::Upgrade,
        Step::Text(event_frame(&numbered(0))),
        Step::Text("this is not json".into()),
        Step::Text(json!({"message": "plain text, not GELF"}).to_string()),
        Step::Text(ldp::ldp_frame("kubelet: some other log line")),
        Step::Text(ldp::ldp_frame(&json!({"kind": "Pod"}).to_string())),
        Step::Text(event_frame(&big)),
        Step::Text(event_frame(&numbered(1))),
    ]);
    let mut host = Host::init(&fast_config(json!({"maxEventSize": 2048}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, _) = inst.collect(2, 5 * SECOND);
    assert_numbered(&events, 0..2);
    assert_eq!(metric(&mut inst, "skipped_not_json"), 1);
    assert_eq!(metric(&mut inst, "skipped_not_gelf"), 1);
    assert_eq!(metric(&mut inst, "skipped_not_audit"), 2);
    assert_eq!(metric(&mut inst, "skipped_oversize"), 1);
    assert_eq!(
        metric(&mut inst, "connection_attempts"),
        1,
        "the stream went on"
    );
    let oversize = support::captured_logs()
        .into_iter()
        .any(|l| l.message.contains("too-big") && l.message.contains("maxEventSize"));
    assert!(oversize, "the oversize event is logged with its auditID");
}

#[test]
fn time_blocked_on_a_full_queue_is_not_silence() {
    // The server answers no Ping: only frames show it is alive. Falco (this test) stops
    // reading for 2.5 s, far past the 1 s dead timeout, while the queue (1 event) is full.
    let server = WsServer::ws(script(&[
        &[Step::Upgrade, Step::IgnorePings],
        &frames(0..20),
    ]));
    let mut host = Host::init(&fast_config(json!({"maxQueuedEvents": 1}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (mut events, _) = inst.collect(1, 5 * SECOND);
    assert!(!events.is_empty());
    std::thread::sleep(ms(2500));
    let (rest, _) = inst.collect(20 - events.len(), 5 * SECOND);
    events.extend(rest);
    assert_numbered(&events, 0..20);
    assert_eq!(
        server.connection_count(),
        1,
        "backpressure must not look like a dead server: {:?}",
        server.connections()
    );
    assert_eq!(metric(&mut inst, "reconnects"), 0);
}

#[test]
fn close_is_prompt_while_dialling_in_backoff_or_connected() {
    // Stalled before the upgrade (dialling), refusing with 503 under a long backoff, and
    // connected: close() returns quickly in each case.
    let stalled = WsServer::ws(vec![Step::Stall(ms(5000))]);
    let refusing = WsServer::ws(vec![Step::Refuse(503)]);
    let healthy = WsServer::ws(vec![Step::Upgrade]);
    let config = fast_config(json!({
        "connectTimeoutMs": 60000, "reconnectMinBackoffMs": 60000, "reconnectMaxBackoffMs": 60000
    }));
    for server in [&stalled, &refusing, &healthy] {
        let mut host = Host::init(&config).unwrap();
        let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
        assert!(server.wait_until(5 * SECOND, |c| !c.is_empty()));
        assert_quiet(&mut inst, ms(100));
        let t = Instant::now();
        inst.close();
        let took = t.elapsed();
        assert!(took < ms(700), "close took {took:?}");
    }
    assert!(
        healthy.wait_until(SECOND, |c| c[0].client_close),
        "a connected tail says goodbye with a Close frame"
    );
}
