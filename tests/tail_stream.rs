//! The live tail against a local WebSocket server, through the built plugin's C ABI: frames
//! to events, reconnects, fatal upgrade answers, keepalive, skipped messages, the token.

#[path = "support/ldp.rs"]
mod ldp;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, numbered, numbered_nanos, FAKE_TOKEN};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Batch, Event, Host, Instance};
use ws_server::{frame, frame_header, Step, WsServer};

const SECOND: Duration = Duration::from_secs(1);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

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

/// Polls `next_batch` until the source fails; returns its message.
fn wait_failure(inst: &mut Instance<'_>, within: Duration) -> String {
    let end = Instant::now() + within;
    while Instant::now() < end {
        match inst.next_batch() {
            Batch::Failure(msg) => return msg,
            Batch::Events(ev) => panic!("unexpected events: {ev:?}"),
            Batch::Eof => panic!("unexpected EOF"),
            Batch::Timeout => {}
        }
    }
    panic!("no failure within {within:?}");
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
fn server_dropping_mid_stream_is_redialled_and_the_stream_continues() {
    let server = WsServer::ws(vec![Step::Upgrade]);
    server
        .push(script(&[&[Step::Upgrade], &frames(0..5), &[Step::Drop]]))
        .push(script(&[&[Step::Upgrade], &frames(5..10), &[Step::Reset]]))
        .push(script(&[&[Step::Upgrade], &frames(10..15), &[Step::Close]]))
        .push(script(&[&[Step::Upgrade], &frames(15..20)]));
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, end) = inst.collect(20, 10 * SECOND);
    assert!(end.is_none(), "{end:?}");
    assert_numbered(&events, 0..20);
    assert_eq!(metric(&mut inst, "connection_attempts"), 4);
    assert_eq!(metric(&mut inst, "reconnects"), 3);
    assert_eq!(server.connection_count(), 4);
    // A connection that delivered frames resets the backoff: each redial waits the minimum.
    let conns = server.connections();
    for pair in conns.windows(2) {
        let gap = pair[1].accepted_at - pair[0].accepted_at;
        assert!(
            gap < ms(50 + 300),
            "redial after a good connection took {gap:?}"
        );
    }
    drop(inst);
    ldp::assert_no_token_in_logs();
}

#[test]
fn close_mid_frame_is_redialled_without_a_partial_event() {
    let server = WsServer::ws(vec![Step::Upgrade]);
    server
        .push(script(&[
            &[Step::Upgrade],
            &frames(0..2),
            &[Step::HalfFrame(event_frame(&numbered(99)))],
        ]))
        .push(script(&[&[Step::Upgrade], &frames(2..4)]));
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, _) = inst.collect(4, 5 * SECOND);
    assert_numbered(&events, 0..4);
    assert_quiet(&mut inst, ms(200));
    assert_eq!(metric(&mut inst, "reconnects"), 1);
    assert_eq!(
        metric(&mut inst, "skipped_not_json"),
        0,
        "the half frame is not an event"
    );
}

#[test]
fn refused_upgrade_with_a_client_error_is_fatal_naming_the_status_without_the_token() {
    for (status, words) in [
        (401, "401 Unauthorized"),
        (403, "403 Forbidden"),
        (404, "404 Not Found"),
        (400, "400 Bad Request"),
    ] {
        let server = WsServer::ws(vec![Step::Refuse(status)]);
        let mut host = Host::init(&fast_config(json!({}))).unwrap();
        let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
        let msg = wait_failure(&mut inst, 5 * SECOND);
        assert!(msg.contains(words), "{status}: {msg}");
        for hint in ["token", "WebSocket is enabled", "address", "tk=<redacted>"] {
            assert!(msg.contains(hint), "{status}: no {hint:?} in {msg}");
        }
        assert!(!msg.contains(FAKE_TOKEN), "{msg}");
        // Fatal: the source stays failed, and no retry reaches the server.
        assert!(matches!(inst.next_batch(), Batch::Failure(_)));
        std::thread::sleep(ms(200));
        assert_eq!(server.connection_count(), 1, "{status} must not be retried");
        assert_eq!(metric(&mut inst, "fatal_errors"), 1);
        assert_eq!(metric(&mut inst, "connection_attempts"), 1);
        assert_eq!(metric(&mut inst, "connection_state"), 3, "stopped");
    }
    ldp::assert_no_token_in_logs();
}

#[test]
fn throttling_and_server_errors_are_retried_with_growing_delays_then_recover() {
    let server = WsServer::ws(vec![Step::Refuse(503)]);
    for status in [503, 502, 429, 500, 503] {
        server.push(vec![Step::Refuse(status)]);
    }
    server.push(script(&[&[Step::Upgrade], &frames(0..3)]));
    let mut host = Host::init(&fast_config(json!({
        "reconnectMinBackoffMs": 40, "reconnectMaxBackoffMs": 200
    })))
    .unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, end) = inst.collect(3, 10 * SECOND);
    assert!(
        end.is_none(),
        "retryable statuses must not end the source: {end:?}"
    );
    assert_numbered(&events, 0..3);
    assert_eq!(metric(&mut inst, "connection_attempts"), 6);
    assert_eq!(
        metric(&mut inst, "reconnects"),
        0,
        "first successful connection"
    );
    assert_eq!(metric(&mut inst, "fatal_errors"), 0);
    // Retry n waits within [min, min(max, min·2ⁿ)] (+ scheduling slack).
    let conns = server.connections();
    let gaps: Vec<Duration> = conns
        .windows(2)
        .map(|p| p[1].accepted_at - p[0].accepted_at)
        .collect();
    eprintln!("measured redial intervals after 503/502/429/500/503: {gaps:?}");
    for (n, gap) in gaps.iter().enumerate() {
        let ceiling = ms((40u64 << n).min(200));
        assert!(
            *gap >= ms(40),
            "retry {n} after {gap:?}: below the minimum backoff"
        );
        assert!(
            *gap <= ceiling + ms(150),
            "retry {n} after {gap:?}: above {ceiling:?}"
        );
    }
    // Reconnect logs are rate-limited: one line for the five failures, with the status.
    let lines: Vec<String> = support::captured_logs()
        .into_iter()
        .map(|l| l.message)
        .filter(|m| m.contains(&server.addr().to_string()) && m.contains("dialling again"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("HTTP 503"), "{}", lines[0]);
    assert!(lines[0].contains("tk=<redacted>"), "{}", lines[0]);
    drop(inst);
    ldp::assert_no_token_in_logs();
}

#[test]
fn connection_refused_is_retried_and_logged_once_without_the_token() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("ws://127.0.0.1:{port}/tail/?tk={FAKE_TOKEN}");
    let mut host = Host::init(&fast_config(json!({
        "reconnectMinBackoffMs": 20, "reconnectMaxBackoffMs": 40
    })))
    .unwrap();
    let mut inst = host.open(Some(&url)).unwrap();
    assert_quiet(&mut inst, ms(600));
    let attempts = metric(&mut inst, "connection_attempts");
    assert!(
        (5..=40).contains(&attempts),
        "{attempts} attempts in 600 ms"
    );
    let state = metric(&mut inst, "connection_state");
    assert!(
        state == 0 || state == 2,
        "connecting or in backoff, not {state}"
    );
    let lines: Vec<String> = support::captured_logs()
        .into_iter()
        .map(|l| l.message)
        .filter(|m| m.contains(&format!("127.0.0.1:{port}")) && m.contains("dialling again"))
        .collect();
    assert_eq!(lines.len(), 1, "rate-limited: {lines:#?}");
    assert!(lines[0].to_lowercase().contains("refused"), "{}", lines[0]);
    drop(inst);
    ldp::assert_no_token_in_logs();
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
fn server_that_stops_answering_pings_is_redialled_after_the_dead_timeout() {
    let server = WsServer::ws(vec![Step::Upgrade]);
    server
        .push(script(&[
            &[Step::Upgrade],
            &frames(0..1),
            &[Step::IgnorePings],
        ]))
        .push(script(&[&[Step::Upgrade], &frames(1..2)]));
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, _) = inst.collect(2, 5 * SECOND);
    assert_numbered(&events, 0..2);
    let conns = server.connections();
    assert_eq!(conns.len(), 2);
    assert!(
        conns[0].pings >= 3,
        "pinged before giving up: {}",
        conns[0].pings
    );
    let gap = conns[1].accepted_at - conns[0].accepted_at;
    eprintln!("dead connection (deadTimeoutMs 1000) redialled after {gap:?}");
    assert!(gap >= ms(1000), "dropped before the dead timeout: {gap:?}");
    assert!(
        gap <= ms(1000 + 400 + 300),
        "dead connection kept too long: {gap:?}"
    );
    assert_eq!(metric(&mut inst, "reconnects"), 1);
}

#[test]
fn server_stalling_before_the_upgrade_hits_the_connect_timeout_and_is_redialled() {
    let server = WsServer::ws(vec![Step::Upgrade]);
    server
        .push(vec![Step::Stall(ms(5000))])
        .push(script(&[&[Step::Upgrade], &frames(0..1)]));
    let mut host = Host::init(&fast_config(json!({"connectTimeoutMs": 300}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, _) = inst.collect(1, 5 * SECOND);
    assert_numbered(&events, 0..1);
    let conns = server.connections();
    let gap = conns[1].accepted_at - conns[0].accepted_at;
    assert!(gap >= ms(300) && gap < ms(300 + 400 + 300), "{gap:?}");
    let logged = support::captured_logs().into_iter().any(|l| {
        l.message.contains(&server.addr().to_string())
            && l.message.contains("connectTimeoutMs (300 ms)")
            && l.message.contains("WebSocket upgrade")
    });
    assert!(logged, "the timeout is logged with the phase it hit");
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
fn ten_megabyte_frame_is_skipped_as_oversize_without_dropping_the_connection() {
    let mut big = ldp::event("ten-mb", &ldp::numbered_ts(0));
    big["responseObject"] = json!({ "data": "y".repeat(10 << 20) });
    let server = WsServer::ws(vec![
        Step::Upgrade,
        Step::Text(event_frame(&numbered(0))),
        Step::Text(event_frame(&big)),
        Step::Text(event_frame(&numbered(1))),
    ]);
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, _) = inst.collect(2, 10 * SECOND);
    assert_numbered(&events, 0..2);
    assert_eq!(metric(&mut inst, "skipped_oversize"), 1);
    assert_eq!(metric(&mut inst, "connection_attempts"), 1);
}

#[test]
fn message_over_the_websocket_limit_is_counted_and_redialled() {
    let server = WsServer::ws(vec![Step::Upgrade]);
    server
        .push(vec![
            Step::Upgrade,
            Step::Text(event_frame(&numbered(0))),
            // A frame announcing 1 GiB: refused from its header, nothing buffered.
            Step::Raw(frame_header(0x1, 1 << 30)),
        ])
        .push(script(&[&[Step::Upgrade], &frames(1..2)]));
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, _) = inst.collect(2, 5 * SECOND);
    assert_numbered(&events, 0..2);
    assert_eq!(metric(&mut inst, "skipped_oversize"), 1);
    assert_eq!(metric(&mut inst, "reconnects"), 1);
    let logged = support::captured_logs()
        .into_iter()
        .any(|l| l.message.contains("1073741824 bytes"));
    assert!(logged, "the oversize message is logged with its size");
}

#[test]
fn invalid_utf8_text_frame_is_counted_and_redialled() {
    let server = WsServer::ws(vec![Step::Upgrade]);
    server
        .push(vec![
            Step::Upgrade,
            Step::Text(event_frame(&numbered(0))),
            Step::Raw(frame(0x1, b"{\"message\": \"\xff\xfe\"}")),
        ])
        .push(script(&[&[Step::Upgrade], &frames(1..2)]));
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, _) = inst.collect(2, 5 * SECOND);
    assert_numbered(&events, 0..2);
    assert_eq!(metric(&mut inst, "skipped_not_json"), 1);
    assert_eq!(metric(&mut inst, "reconnects"), 1);
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
        "backpressure must not look like a dead server"
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
