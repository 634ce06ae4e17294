//! Fault injection, connected: a frame cut in half, TCP reset, Close, FIN, a silent server, a
//! server that never answers Pings, 10 MB frames, a message over the WebSocket limit, invalid
//! UTF-8. For each: the recovery and the time it took, the exact counters, what is logged
//! (once), and, since these servers keep their history and replay it (see tests/backfill.rs),
//! that no event is lost or duplicated across the fault.
//!
//! The standard run: events stamped from the moment the source opens, 10 ms apart; the first
//! connection delivers 0..10 and then fails; 10..20 happen meanwhile (the server keeps them);
//! the second connection delivers 20..30.

#[path = "support/ldp.rs"]
mod ldp;
#[path = "support/observe.rs"]
mod observe;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{fast_config, ms, Timeline, FAKE_TOKEN, SECOND};
use observe::{assert_metrics, collect_exactly, logged, logged_once, metric};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Event, Host};
use ws_server::{frame, frame_header, Step, WsServer};

fn frames(tl: &Timeline, range: std::ops::Range<usize>) -> Vec<Step> {
    range.map(|i| Step::Text(tl.frame(i))).collect()
}

/// Asserts `events` are 0..30 once each, each connection's events in order.
#[track_caller]
fn assert_once_each(events: &[Event]) {
    let nums = ldp::numbers(events);
    let mut sorted = nums.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..30).collect::<Vec<_>>(),
        "each event once: {nums:?}"
    );
    for part in [0..10, 10..20, 20..30] {
        let sub: Vec<usize> = nums.iter().copied().filter(|i| part.contains(i)).collect();
        assert!(sub.windows(2).all(|w| w[0] < w[1]), "in order: {sub:?}");
    }
}

/// What a standard run observed.
struct Run {
    server: WsServer,
    /// From the first connection's end, as the server saw it, to the second's accept (none
    /// when the server only noticed the end later, as a stalled one does).
    redial: Option<Duration>,
    /// How many history frames the replay sent.
    replayed: u64,
    /// How many frames the first connection delivered.
    first: u64,
}

/// Plays the standard run with `fault` after the first connection's ten frames, and checks
/// what every fault has in common: every event once, one reconnection, one replay, and the
/// counters that follow from what the first connection delivered.
fn run_fault(fault: &[Step], extra: serde_json::Value) -> (Run, Host) {
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = WsServer::ws(vec![Step::Upgrade]);
    server
        .history(tl.history(0..20))
        .replays(vec![Step::Upgrade, Step::Replay, Step::Close]);
    let mut first = vec![Step::Upgrade];
    first.extend(frames(&tl, 0..10));
    first.extend(fault.iter().cloned());
    let mut second = vec![Step::Upgrade];
    second.extend(frames(&tl, 20..30));
    server.push(first).push(second);
    let mut cfg = json!({ "backfillOverlapSeconds": 1 });
    cfg.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let mut host = Host::init(&fast_config(cfg)).unwrap();
    let (redial, replayed, first) = {
        let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
        let events = collect_exactly(&mut inst, 30, 10 * SECOND);
        assert_once_each(&events);
        let conns = server.connections();
        let live: Vec<_> = conns.iter().filter(|c| c.window.is_none()).collect();
        assert_eq!(live.len(), 2, "one reconnection");
        let replay: Vec<_> = conns.iter().filter(|c| c.window.is_some()).collect();
        assert_eq!(replay.len(), 1, "one replay");
        let replayed = replay[0].replayed as u64;
        assert_eq!(replayed, 20, "the whole gap lies in the window");
        let redial = conns[0]
            .ended_at
            .filter(|t| *t <= live[1].accepted_at)
            .map(|t| live[1].accepted_at - t);
        // Frames the first connection delivered: all ten, unless the fault destroyed some in
        // flight (a TCP reset may discard what the client had not read yet).
        let first = metric(&mut inst, "frames_received") - replayed - 10;
        assert!(first <= 10, "{first}");
        assert_metrics(
            &mut inst,
            &[
                ("events_emitted", 30),
                ("events_backfilled", 20 - first),
                ("duplicates_dropped", first),
                ("backfill_windows", 1),
                ("backfill_incomplete", 0),
                ("connection_attempts", 2),
                ("reconnects", 1),
                ("fatal_errors", 0),
                ("connection_state", 1),
            ],
        );
        let addr = server.addr().to_string();
        logged_once(&["reconnected to", &addr]);
        logged_once(&[
            "replayed",
            &addr,
            &format!("{} events backfilled", 20 - first),
        ]);
        (redial, replayed, first)
    };
    ldp::assert_no_token_in_logs();
    (
        Run {
            server,
            redial,
            replayed,
            first,
        },
        host,
    )
}

/// The one "connection lost" line of `run`.
fn lost_line(run: &Run) -> String {
    logged_once(&["connection to", &run.server.addr().to_string(), "lost"])
}

#[test]
fn a_frame_cut_in_half_loses_no_event_and_counts_nothing_as_skipped() {
    let tl = Timeline::recent(Duration::ZERO, 10);
    let (run, mut host) = run_fault(&[Step::HalfFrame(tl.frame(10))], json!({}));
    assert_eq!(run.first, 10, "nothing lost in flight");
    eprintln!("frame cut in half: redialled after {:?}", run.redial);
    let line = lost_line(&run);
    assert!(line.contains("dialling again"), "{line}");
    let m = host.metrics();
    assert_eq!(m["skipped_not_json"], 0.0, "the half frame is no message");
    assert_eq!(m["frames_received"], (10 + run.replayed + 10) as f64);
}

#[test]
fn an_abrupt_tcp_reset_loses_no_event() {
    let (run, _) = run_fault(&[Step::Reset], json!({}));
    eprintln!(
        "TCP reset: {} of 10 frames in flight survived it",
        run.first
    );
    eprintln!("TCP reset: redialled after {:?}", run.redial);
    let redial = run.redial.expect("a reset ends the server's side at once");
    assert!(
        redial < ms(50 + 300),
        "a connection that worked redials at the minimum: {redial:?}"
    );
    let line = lost_line(&run);
    assert!(line.to_lowercase().contains("reset"), "{line}");
}

#[test]
fn a_close_from_the_server_is_answered_and_loses_no_event() {
    let (run, _) = run_fault(&[Step::Close], json!({}));
    assert_eq!(run.first, 10, "nothing lost in flight");
    eprintln!("server Close: redialled after {:?}", run.redial);
    assert!(
        run.server.connections()[0].client_close,
        "the plugin answered with a Close"
    );
    let line = lost_line(&run);
    assert!(
        line.contains("the server closed the WebSocket (code 1000"),
        "{line}"
    );
}

#[test]
fn a_tcp_close_without_websocket_close_loses_no_event() {
    let (run, _) = run_fault(&[Step::Drop], json!({}));
    assert_eq!(run.first, 10, "nothing lost in flight");
    eprintln!("server FIN: redialled after {:?}", run.redial);
    lost_line(&run);
}

#[test]
fn a_server_silent_past_the_dead_timeout_is_redialled_and_loses_no_event() {
    // It reads nothing and answers nothing, with the TCP connection up.
    let (run, _) = run_fault(&[Step::Stall(ms(5000))], json!({}));
    assert_eq!(run.first, 10, "nothing lost in flight");
    let line = lost_line(&run);
    assert!(
        line.contains("not even a Pong, for deadTimeoutMs (1000 ms)"),
        "{line}"
    );
    // The connection was given up when it had been silent deadTimeoutMs.
    let c = &run.server.connections();
    let lived = c[1].accepted_at - c[0].accepted_at;
    eprintln!("silent server (deadTimeoutMs 1000): redialled {lived:?} after the first connection");
    assert!(
        lived >= ms(1000) && lived < ms(1000 + 400 + 400),
        "{lived:?}"
    );
}

#[test]
fn a_server_that_never_answers_pings_is_redialled_and_loses_no_event() {
    // It reads our Pings but never answers, and sends nothing more.
    let (run, _) = run_fault(&[Step::IgnorePings, Step::Hold(ms(5000))], json!({}));
    assert_eq!(run.first, 10, "nothing lost in flight");
    let c = &run.server.connections();
    let lived = c[1].accepted_at - c[0].accepted_at;
    eprintln!("no Pongs (deadTimeoutMs 1000): connection given up after {lived:?}");
    assert!(c[0].pings >= 3, "pinged before giving up: {}", c[0].pings);
    assert!(
        lived >= ms(1000) && lived < ms(1000 + 400 + 400),
        "{lived:?}"
    );
    let line = lost_line(&run);
    assert!(line.contains("deadTimeoutMs (1000 ms)"), "{line}");
}

#[test]
fn a_server_that_never_answers_pings_but_keeps_sending_stays_connected() {
    // Liveness is "the server sent something": frames every 300 ms, 3 s in all (3× the dead
    // timeout), and not one Pong.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let mut script = vec![Step::Upgrade, Step::IgnorePings];
    for i in 0..10 {
        script.push(Step::Text(tl.frame(i)));
        script.push(Step::Hold(ms(300)));
    }
    let server = WsServer::ws(script);
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 10, 10 * SECOND);
    assert_eq!(ldp::numbers(&events), (0..10).collect::<Vec<_>>());
    assert_eq!(server.connection_count(), 1);
    assert!(server.connections()[0].pings >= 10);
    assert_metrics(&mut inst, &[("connection_attempts", 1), ("reconnects", 0)]);
}

#[test]
fn a_message_over_the_websocket_limit_is_counted_logged_once_and_loses_no_event() {
    // A frame announcing 1 GiB is refused from its header (nothing buffered); the connection
    // cannot continue past it.
    let (run, mut host) = run_fault(&[Step::Raw(frame_header(0x1, 1 << 30))], json!({}));
    let m = host.metrics();
    assert_eq!(m["skipped_oversize"], 1.0);
    logged_once(&["1073741824 bytes", "over the 67108864 bytes"]);
    let line = lost_line(&run);
    assert!(line.contains("exceeded"), "{line}");
}

#[test]
fn invalid_utf8_in_a_text_frame_is_counted_logged_once_and_loses_no_event() {
    // A text frame must be UTF-8: the WebSocket layer fails the connection on it.
    let (run, mut host) = run_fault(
        &[Step::Raw(frame(0x1, b"{\"message\": \"\xff\xfe\"}"))],
        json!({}),
    );
    assert_eq!(host.metrics()["skipped_not_json"], 1.0);
    logged_once(&["text frame that is not valid UTF-8"]);
    let line = lost_line(&run);
    assert!(line.contains("not valid UTF-8"), "{line}");
}

#[test]
fn ten_megabyte_frames_are_skipped_or_delivered_by_max_event_size_without_a_reconnection() {
    let tl = Timeline::recent(Duration::ZERO, 10);
    let big = |id: &str| {
        let mut e = ldp::event(id, &ldp::rfc3339(tl.nanos(0)));
        e["responseObject"] = json!({ "data": "y".repeat(10 << 20) });
        ldp::event_frame(&e)
    };
    let script = vec![
        Step::Upgrade,
        Step::Text(tl.frame(0)),
        Step::Text(big("big-1")),
        Step::Text(tl.frame(1)),
        Step::Text(big("big-2")),
        Step::Text(tl.frame(2)),
    ];
    // Default maxEventSize (256 KiB): both skipped, one log line naming the first.
    let server = WsServer::ws(script.clone());
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let t = Instant::now();
    let events = collect_exactly(&mut inst, 3, 10 * SECOND);
    eprintln!("two 10 MB frames skipped in {:?}", t.elapsed());
    assert_eq!(ldp::numbers(&events), [0, 1, 2]);
    assert_metrics(
        &mut inst,
        &[
            ("skipped_oversize", 2),
            ("frames_received", 5),
            ("events_emitted", 3),
            ("connection_attempts", 1),
        ],
    );
    let line = logged_once(&["big-", "maxEventSize"]);
    assert!(
        line.contains("big-1") && line.contains("raise maxEventSize"),
        "{line}"
    );
    drop(inst);

    // maxEventSize 16 MiB: both delivered whole.
    let server = WsServer::ws(script);
    let mut host = Host::init(&fast_config(json!({"maxEventSize": 16 << 20}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 5, 10 * SECOND);
    let sizes: Vec<usize> = events.iter().map(|e| e.payload.len()).collect();
    assert!(sizes[1] > 10 << 20 && sizes[3] > 10 << 20, "{sizes:?}");
    assert_eq!(ldp::audit_id(&events[3].payload), "big-2");
    assert_eq!(metric(&mut inst, "skipped_oversize"), 0);
    assert_eq!(logged(&["big-2"]).len(), 0);
}
