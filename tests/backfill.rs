//! Backfill through the built plugin's C ABI: after a reconnection the window missed is
//! replayed from the server's history on a second connection (`begin`/`end`), events
//! delivered twice are dropped, and a server that replays differently than assumed, or not
//! at all, causes neither a duplicate nor a loop.
//!
//! Every test streams events stamped from the moment it opens the source (windows are
//! computed from the wall clock), 10 ms apart: the first connection delivers events 0..10 and
//! drops, events 10..20 happen during the gap (the server keeps them in its history), and the
//! next live connection delivers 20..30.

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
use ws_server::{ConnRecord, Step, WsServer};

fn config(extra: serde_json::Value) -> String {
    let mut base = json!({ "backfillOverlapSeconds": 1 });
    base.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    fast_config(base)
}

fn frames(tl: &Timeline, range: std::ops::Range<usize>) -> Vec<Step> {
    range.map(|i| Step::Text(tl.frame(i))).collect()
}

fn live(tl: &Timeline, range: std::ops::Range<usize>, then: &[Step]) -> Vec<Step> {
    let mut s = vec![Step::Upgrade];
    s.extend(frames(tl, range));
    s.extend(then.iter().cloned());
    s
}

/// The server of the standard gap: history 0..20, first connection 0..10 then a drop, second
/// connection 20..30. Replay requests play `replay`, when given.
fn gap_server(tl: &Timeline, replay: Option<Vec<Step>>) -> WsServer {
    let server = WsServer::ws(vec![Step::Upgrade]);
    server.history(tl.history(0..20));
    if let Some(r) = replay {
        server.replays(r);
    }
    server
        .push(live(tl, 0..10, &[Step::Drop]))
        .push(live(tl, 20..30, &[]));
    server
}

/// Asserts `events` are 0..n once each, each connection's events in order.
#[track_caller]
fn assert_once_each(events: &[Event], n: usize) {
    let nums = ldp::numbers(events);
    let mut sorted = nums.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..n).collect::<Vec<_>>(),
        "each event once: {nums:?}"
    );
    assert_eq!(
        &nums[..10],
        &(0..10).collect::<Vec<_>>()[..],
        "first connection"
    );
    for part in [10..20, 20..n] {
        let sub: Vec<usize> = nums.iter().copied().filter(|i| part.contains(i)).collect();
        assert!(sub.windows(2).all(|w| w[0] < w[1]), "in order: {sub:?}");
    }
}

/// Collects events until `done(events so far)` holds (failing on an end of the source or
/// after `within`), then for a while more to see that nothing else arrives.
#[track_caller]
fn collect_until(
    inst: &mut support::Instance<'_>,
    within: Duration,
    done: impl Fn(&[Event]) -> bool,
) -> Vec<Event> {
    let end = Instant::now() + within;
    let mut events = Vec::new();
    while !done(&events) {
        assert!(
            Instant::now() < end,
            "not done within {within:?}: {events:?}"
        );
        let (more, end) = inst.collect(usize::MAX, ms(50));
        assert!(end.is_none(), "the source ended: {end:?}");
        events.extend(more);
    }
    let (more, end) = inst.collect(usize::MAX, ms(300));
    assert!(end.is_none(), "the source ended: {end:?}");
    events.extend(more);
    events
}

fn replays(server: &WsServer) -> Vec<ConnRecord> {
    server
        .connections()
        .into_iter()
        .filter(|c| c.window.is_some())
        .collect()
}

#[test]
fn the_gap_is_replayed_and_events_delivered_twice_are_dropped() {
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = gap_server(&tl, Some(vec![Step::Upgrade, Step::Replay, Step::Close]));
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 30, 10 * SECOND);
    assert_once_each(&events, 30);
    for e in &events {
        let i = ldp::numbers(std::slice::from_ref(e))[0];
        assert_eq!(e.ts, tl.nanos(i), "ev-{i} keeps its stageTimestamp");
    }

    let replay = replays(&server);
    assert_eq!(replay.len(), 1, "one replay");
    let (begin, end) = replay[0].window.unwrap();
    assert_eq!(
        begin,
        tl.nanos(9) / 1_000_000_000 - 1,
        "last event, minus the overlap"
    );
    assert!(
        end > tl.nanos(19) / 1_000_000_000,
        "to after the reconnection: {end}"
    );
    assert!(end - begin <= 4, "a short window: {begin}..{end}");
    let replayed = tl.within(0..20, (begin, end)).len();
    assert_eq!(replay[0].replayed, replayed);
    assert_eq!(replayed, 20, "the whole history lies in the window");
    assert!(replay[0].request.as_deref().unwrap().contains(FAKE_TOKEN));
    assert!(
        server.wait_until(SECOND, |c| c.len() == 3 && c[2].ended),
        "no further connection"
    );

    assert_metrics(
        &mut inst,
        &[
            ("events_emitted", 30),
            ("events_backfilled", 10),
            ("duplicates_dropped", replayed as u64 - 10),
            ("frames_received", 10 + replayed as u64 + 10),
            ("backfill_windows", 1),
            ("backfill_incomplete", 0),
            ("connection_attempts", 2),
            ("reconnects", 1),
            ("fatal_errors", 0),
            ("connection_state", 1),
        ],
    );
    let addr = server.addr().to_string();
    let start = logged_once(&["replaying the missed window", &addr]);
    assert!(
        start.contains(&format!("&begin={begin}&end={end}")) && start.contains("tk=<redacted>"),
        "{start}"
    );
    logged_once(&[
        "replayed",
        &addr,
        "10 events backfilled",
        &format!("{} duplicates dropped", replayed - 10),
    ]);
    drop(inst);
    ldp::assert_no_token_in_logs();
}

#[test]
fn a_replay_left_open_ends_after_the_dead_timeout_without_data() {
    // Assumption B: the server sends the window, then keeps the connection open (answering
    // Pings). The replay is taken as finished after deadTimeoutMs (1 s) without a frame.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = gap_server(&tl, Some(vec![Step::Upgrade, Step::Replay]));
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 30, 10 * SECOND);
    assert_once_each(&events, 30);
    let t = Instant::now();
    let addr = server.addr().to_string();
    while logged(&["replayed", &addr]).is_empty() && t.elapsed() < 5 * SECOND {
        std::thread::sleep(ms(20));
    }
    logged_once(&["replayed", &addr, "10 events backfilled"]);
    assert!(server.wait_until(SECOND, |c| c.iter().any(|c| c.window.is_some() && c.ended)));
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 10),
            ("duplicates_dropped", 10),
            ("backfill_windows", 1),
            ("backfill_incomplete", 0),
            ("connection_attempts", 2),
        ],
    );
}

#[test]
fn a_replay_that_goes_on_tailing_live_stops_at_the_first_event_past_the_window() {
    // Assumption C: after the window the replay connection goes on as a live tail. The live
    // events it sends (stamped a minute later) end it and are left to the live connection.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let later = Timeline {
        base: tl.base + 60 * 1_000_000_000,
        step: tl.step,
    };
    let mut replay = vec![Step::Upgrade, Step::Replay];
    replay.extend((100..200).map(|i| Step::Text(later.frame(i))));
    let server = gap_server(&tl, Some(replay));
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 30, 10 * SECOND);
    assert_once_each(&events, 30);
    let addr = server.addr().to_string();
    logged_once(&["replayed", &addr, "10 events backfilled"]);
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 10),
            ("duplicates_dropped", 10),
            ("backfill_windows", 1),
            ("backfill_incomplete", 0),
        ],
    );
    let replay = &replays(&server)[0];
    assert!(replay.client_close, "closed by the plugin after the window");
}

#[test]
fn a_server_ignoring_begin_and_end_causes_no_duplicate_and_no_loop() {
    // The replay request is served as a live tail: it sends what the live connection sends
    // (20..30), then later events. Nothing is delivered twice, the replay connection is
    // dropped once it strays past the window, and it is not dialled again.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let later = Timeline {
        base: tl.base + 60 * 1_000_000_000,
        step: tl.step,
    };
    let server = WsServer::ws(vec![Step::Upgrade]);
    server.history(tl.history(0..20));
    server.push(live(&tl, 0..10, &[Step::Drop]));
    // Whichever of the two connections comes second plays the ignoring script: both deliver
    // 20..30, then the replay also sends live events from a minute later.
    let mut ignoring = live(&tl, 20..30, &[]);
    ignoring.extend((100..110).map(|i| Step::Text(later.frame(i))));
    server.push(live(&tl, 20..30, &[])).push(ignoring);
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 20, 5 * SECOND);
    let nums = ldp::numbers(&events);
    let mut sorted = nums.clone();
    sorted.sort_unstable();
    let want: Vec<usize> = (0..10).chain(20..30).collect();
    assert_eq!(
        sorted, want,
        "no duplicate; 10..20 cannot be recovered: {nums:?}"
    );
    assert_eq!(server.connection_count(), 3, "no loop");
    let replay = replays(&server);
    assert_eq!(replay.len(), 1);
    assert!(server.wait_until(SECOND, |c| c.iter().all(|c| c.window.is_none() || c.ended)));
    assert_metrics(
        &mut inst,
        &[
            ("events_emitted", 20),
            ("duplicates_dropped", 10),
            ("backfill_windows", 1),
            ("connection_attempts", 2),
        ],
    );
    // Whether the replay delivered 20..30 before the live connection did is a race; either
    // way the window ends as complete (events in it, then past it).
    assert!(metric(&mut inst, "events_backfilled") <= 10);
    logged_once(&["replaying the missed window", &server.addr().to_string()]);
}

#[test]
fn a_server_that_starts_past_the_window_is_reported_as_not_applying_begin_and_end() {
    // A replay request answered with live events only (stamped a minute later): the first
    // event is past the window, so the replay is abandoned as incomplete, and logged once.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let later = Timeline {
        base: tl.base + 60 * 1_000_000_000,
        step: tl.step,
    };
    let mut replay = vec![Step::Upgrade];
    replay.extend((100..110).map(|i| Step::Text(later.frame(i))));
    let server = gap_server(&tl, Some(replay));
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 20, 5 * SECOND);
    let nums = ldp::sorted_numbers(&events);
    assert_eq!(nums, (0..10).chain(20..30).collect::<Vec<_>>());
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 0),
            ("duplicates_dropped", 0),
            ("backfill_windows", 1),
            ("backfill_incomplete", 1),
        ],
    );
    let line = logged_once(&["could not replay", &server.addr().to_string()]);
    assert!(line.contains("does not seem to apply begin/end"), "{line}");
    assert_eq!(
        replays(&server).len(),
        1,
        "not retried: retrying cannot help"
    );
}

#[test]
fn a_server_replaying_far_more_than_asked_is_bounded_by_backfill_max_events() {
    // A replay of everything since long before `begin`: dropped as already delivered, and
    // abandoned after backfillMaxEvents.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let old = Timeline {
        base: tl.base - 3600 * 1_000_000_000,
        step: tl.step,
    };
    let mut replay = vec![Step::Upgrade];
    replay.extend((1000..1500).map(|i| Step::Text(old.frame(i))));
    replay.push(Step::Replay);
    let server = gap_server(&tl, Some(replay));
    let mut host = Host::init(&config(json!({"backfillMaxEvents": 100}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 20, 5 * SECOND);
    let nums = ldp::sorted_numbers(&events);
    assert_eq!(nums, (0..10).chain(20..30).collect::<Vec<_>>());
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 0),
            ("duplicates_dropped", 100),
            ("backfill_windows", 1),
            ("backfill_incomplete", 1),
        ],
    );
    let line = logged_once(&["could not replay", &server.addr().to_string()]);
    assert!(line.contains("backfillMaxEvents (100)"), "{line}");
}

#[test]
fn a_replay_that_never_finishes_is_bounded_by_backfill_timeout() {
    // The server trickles its history, one frame every 300 ms, and never closes: the
    // backfillTimeoutMs (1 s) ends it as incomplete; the live tail is not disturbed.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = gap_server(&tl, Some(trickling(&tl, 10..20, ms(300))));
    let mut host = Host::init(&config(json!({"backfillTimeoutMs": 1000}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let addr = server.addr().to_string();
    let events = collect_until(&mut inst, 5 * SECOND, |e| {
        e.len() >= 20 && !logged(&["could not replay", &addr]).is_empty()
    });
    let nums = ldp::numbers(&events);
    let recovered = nums.iter().filter(|i| (10..20).contains(*i)).count() as u64;
    assert!((2..=5).contains(&recovered), "{nums:?}");
    assert_eq!(nums.len() as u64, 20 + recovered, "{nums:?}");
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", recovered),
            ("backfill_windows", 1),
            ("backfill_incomplete", 1),
            ("connection_attempts", 2),
        ],
    );
    let line = logged_once(&["could not replay", &server.addr().to_string()]);
    assert!(line.contains("backfillTimeoutMs (1000 ms)"), "{line}");
}

/// Whole seconds of a timestamp, as `begin`/`end` carry them.
fn secs(nanos: u64) -> u64 {
    nanos / 1_000_000_000
}

/// Events 10 ms apart from shortly after now, with a whole second between ev-9 and ev-14: a
/// window starting from ev-14 then has another `begin` than one starting from ev-9.
fn straddling_a_second() -> Timeline {
    let second = ldp::SECOND.as_nanos() as u64;
    let boundary = (ldp::now_nanos() + 200_000_000).div_ceil(second) * second;
    let tl = Timeline {
        base: boundary - 115_000_000,
        step: 10_000_000,
    };
    assert_eq!(secs(tl.nanos(14)), secs(tl.nanos(9)) + 1);
    tl
}

#[test]
fn a_failed_replay_is_retried_from_where_it_got_to() {
    // The first replay attempt is refused (503), the second breaks after five events (TCP
    // reset), the third completes: every event once. Each window's `begin` tells how far the
    // replay had got.
    let tl = straddling_a_second();
    let server = gap_server(&tl, Some(vec![Step::Upgrade, Step::Replay, Step::Close]));
    server.push_replay(vec![Step::Refuse(503)]);
    let mut broken = vec![Step::Upgrade];
    broken.extend(frames(&tl, 0..15));
    broken.extend([Step::Received, Step::Reset]);
    server.push_replay(broken);
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 30, 10 * SECOND);
    assert_once_each(&events, 30);
    let windows: Vec<(u64, u64)> = replays(&server).iter().map(|r| r.window.unwrap()).collect();
    assert_eq!(windows.len(), 3);
    let (begin, end) = windows[0];
    assert_eq!(
        begin,
        secs(tl.nanos(9)) - 1,
        "the last live event, minus the overlap"
    );
    assert_eq!(
        windows[1],
        (begin, end),
        "nothing replayed yet: the same window"
    );
    assert_eq!(
        windows[2],
        (secs(tl.nanos(14)) - 1, end),
        "resumed from the last event replayed (ev-14), minus the overlap"
    );
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 10),
            ("backfill_windows", 1),
            ("backfill_incomplete", 0),
            ("connection_attempts", 2),
            ("reconnects", 1),
        ],
    );
    logged_once(&[
        "replayed",
        &server.addr().to_string(),
        "10 events backfilled",
    ]);
}

#[test]
fn a_replay_cut_short_by_the_live_connection_resumes_after_the_next_reconnection() {
    // The second live connection drops while the replay trickles; the replay stops with it
    // and the next reconnection replays the rest. The second window's `begin` tells how far
    // the first replay had got.
    let tl = straddling_a_second();
    let server = WsServer::ws(vec![Step::Upgrade]);
    server.history(tl.history(0..20));
    let mut slow = trickling(&tl, 0..15, ms(20));
    slow.push(Step::Hold(ms(5000)));
    server
        .push_replay(slow)
        .replays(vec![Step::Upgrade, Step::Replay, Step::Close]);
    server
        .push(live(&tl, 0..10, &[Step::Drop]))
        .push(vec![Step::Upgrade, Step::Hold(ms(600)), Step::Drop])
        .push(live(&tl, 20..30, &[]));
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 30, 10 * SECOND);
    assert_once_each(&events, 30);
    let replay = replays(&server);
    assert_eq!(replay.len(), 2);
    assert_eq!(
        replay[0].window.unwrap().0,
        secs(tl.nanos(9)) - 1,
        "the last live event, minus the overlap"
    );
    assert_eq!(
        replay[1].window.unwrap().0,
        secs(tl.nanos(14)) - 1,
        "resumed from the last event replayed (ev-14), minus the overlap"
    );
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 10),
            ("backfill_windows", 2),
            ("backfill_incomplete", 0),
            ("connection_attempts", 3),
            ("reconnects", 2),
        ],
    );
    logged_once(&[
        "stopped with the live connection",
        &server.addr().to_string(),
    ]);
}

#[test]
fn a_replay_that_keeps_failing_is_given_up_after_three_attempts() {
    // Every replay request is refused (503): three attempts, then the window is reported as
    // possibly missing, and the live tail goes on.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = gap_server(&tl, Some(vec![Step::Refuse(503)]));
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let addr = server.addr().to_string();
    let events = collect_until(&mut inst, 10 * SECOND, |e| {
        e.len() >= 20 && !logged(&["could not replay", &addr]).is_empty()
    });
    assert_eq!(
        ldp::sorted_numbers(&events),
        (0..10).chain(20..30).collect::<Vec<_>>()
    );
    // Time for more attempts, were there any (the backoff is at most 400 ms).
    std::thread::sleep(ms(1500));
    assert_eq!(replays(&server).len(), 3);
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 0),
            ("backfill_windows", 1),
            ("backfill_incomplete", 1),
        ],
    );
    let line = logged_once(&["could not replay", &addr]);
    assert!(line.contains("after 3 attempts"), "{line}");
}

/// A replay connection that sends `range` of `tl`, then `then`.
/// A replay that sends the events of `range` one every `every`.
fn trickling(tl: &Timeline, range: std::ops::Range<usize>, every: Duration) -> Vec<Step> {
    let mut s = vec![Step::Upgrade];
    for i in range {
        s.push(Step::Text(tl.frame(i)));
        s.push(Step::Hold(every));
    }
    s
}

fn replaying(
    tl: &Timeline,
    range: std::ops::Range<usize>,
    then: impl IntoIterator<Item = Step>,
) -> Vec<Step> {
    let mut s = vec![Step::Upgrade];
    s.extend(frames(tl, range));
    s.extend(then);
    s
}

#[test]
fn backfill_max_events_bounds_a_window_across_its_attempts() {
    // backfillMaxEvents 15. The first attempt reads events 2..10 again (8 duplicates) and
    // breaks (TCP reset, once the plugin has read them all); the second may read 7 more: 8 and 9 (duplicates) and 10..15, and
    // gives up.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = gap_server(&tl, None);
    server
        .push_replay(replaying(&tl, 2..10, [Step::Received, Step::Reset]))
        .push_replay(replaying(&tl, 8..20, [Step::Close]));
    let mut host = Host::init(&config(json!({"backfillMaxEvents": 15}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let addr = server.addr().to_string();
    let events = collect_until(&mut inst, 10 * SECOND, |e| {
        e.len() >= 25 && !logged(&["could not replay", &addr]).is_empty()
    });
    assert_eq!(
        ldp::sorted_numbers(&events),
        (0..15).chain(20..30).collect::<Vec<_>>()
    );
    assert_eq!(replays(&server).len(), 2);
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 5),
            ("duplicates_dropped", 10),
            ("backfill_windows", 1),
            ("backfill_incomplete", 1),
        ],
    );
    let line = logged_once(&["could not replay", &addr]);
    assert!(line.contains("backfillMaxEvents (15)"), "{line}");
}

#[test]
fn each_window_has_its_own_budget_whatever_earlier_windows_read() {
    // Two gaps (10..20 and 30..40), each replayed with 5 duplicates and 10 new events: 15 of
    // backfillMaxEvents 20 each, as the second window is not charged for the first.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = WsServer::ws(vec![Step::Upgrade]);
    server.history(tl.history(0..50));
    server
        .push(live(&tl, 0..10, &[Step::Drop]))
        .push(live(&tl, 20..30, &[Step::Hold(ms(1500)), Step::Drop]))
        .push(live(&tl, 40..50, &[]));
    server
        .push_replay(replaying(&tl, 5..20, [Step::Close]))
        .push_replay(replaying(&tl, 25..40, [Step::Close]));
    let mut host = Host::init(&config(json!({"backfillMaxEvents": 20}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 50, 10 * SECOND);
    assert_eq!(ldp::sorted_numbers(&events), (0..50).collect::<Vec<_>>());
    assert_eq!(replays(&server).len(), 2);
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 20),
            ("duplicates_dropped", 10),
            ("backfill_windows", 2),
            ("backfill_incomplete", 0),
        ],
    );
}

#[test]
fn closing_during_a_replay_does_not_report_the_window_as_missed() {
    // The instance closes while the replay trickles: no warning that events may be missing
    // (the position left for the next open covers what was not replayed).
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = gap_server(&tl, Some(trickling(&tl, 10..20, ms(200))));
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_until(&mut inst, 5 * SECOND, |e| {
        e.len() >= 22 && ldp::numbers(e).iter().any(|i| (10..20).contains(i))
    });
    let replayed = ldp::numbers(&events)
        .into_iter()
        .filter(|i| (10..20).contains(i))
        .count();
    assert!(replayed < 10, "the replay was over before the close");
    inst.close();
    let addr = server.addr().to_string();
    assert_eq!(logged(&["could not replay", &addr]), Vec::<String>::new());
    assert_eq!(logged(&["replayed", &addr]), Vec::<String>::new());
}

#[test]
fn a_gap_longer_than_backfill_max_seconds_keeps_its_last_part_and_says_what_is_missed() {
    // Two dials stall past connectTimeoutMs (1 s each): a gap of over 2 s, while events
    // 100..140 happen, 100 ms apart. With backfillMaxSeconds 2 only the window's last two
    // seconds are replayed, and what precedes them is logged as possibly missed.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let during: Vec<(usize, u64)> = (100..140)
        .map(|i| (i, tl.base + (i as u64 - 99) * 100_000_000))
        .collect();
    let frame =
        |i: usize, t: u64| ldp::event_frame(&ldp::event(&format!("ev-{i}"), &ldp::rfc3339(t)));
    let server = WsServer::ws(vec![Step::Upgrade]);
    server
        .history(during.iter().map(|&(i, t)| (t, frame(i, t))))
        .replays(vec![Step::Upgrade, Step::Replay, Step::Close]);
    let mut after = vec![Step::Upgrade];
    after.extend((200..210).map(|i| Step::Text(frame(i, tl.base + 5_000_000_000))));
    server
        .push(live(&tl, 0..10, &[Step::Drop]))
        .push(vec![Step::Stall(ms(1500))])
        .push(vec![Step::Stall(ms(1500))])
        .push(after);
    let mut host = Host::init(&config(json!({"backfillMaxSeconds": 2}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let addr = server.addr().to_string();
    let events = collect_until(&mut inst, 6 * SECOND, |e| {
        ldp::numbers(e).contains(&209) && !logged(&["replayed", &addr]).is_empty()
    });
    let (begin, end) = replays(&server)[0].window.unwrap();
    assert_eq!(end - begin, 2, "{begin}..{end}");
    let replayed: Vec<usize> = during
        .iter()
        .filter(|(_, t)| (begin..=end).contains(&(t / 1_000_000_000)))
        .map(|(i, _)| *i)
        .collect();
    assert!(
        !replayed.is_empty() && replayed.len() < during.len(),
        "part of the gap is replayed: {replayed:?}"
    );
    let mut want: Vec<usize> = (0..10)
        .chain(replayed.iter().copied())
        .chain(200..210)
        .collect();
    want.sort_unstable();
    let nums = ldp::sorted_numbers(&events);
    assert_eq!(nums, want);
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", replayed.len() as u64),
            ("duplicates_dropped", 0),
            ("backfill_windows", 1),
            ("backfill_incomplete", 1),
            ("connection_attempts", 4),
        ],
    );
    let line = logged_once(&[
        "longer than backfillMaxSeconds (2 s)",
        &server.addr().to_string(),
    ]);
    let missed_to = ldp::rfc3339(begin * 1_000_000_000);
    assert!(
        line.contains(&format!("to {}Z", &missed_to[..19])) && line.contains("may be missing"),
        "{line}"
    );
}

#[test]
fn with_backfill_off_a_gap_stays_a_gap_and_nothing_is_filtered() {
    let tl = Timeline::recent(Duration::ZERO, 10);
    let server = gap_server(&tl, Some(vec![Step::Upgrade, Step::Replay, Step::Close]));
    let mut host = Host::init(&config(json!({"backfill": false}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let events = collect_exactly(&mut inst, 20, 5 * SECOND);
    let nums = ldp::numbers(&events);
    assert_eq!(nums, (0..10).chain(20..30).collect::<Vec<_>>());
    assert_eq!(server.connection_count(), 2, "no replay request");
    assert_metrics(
        &mut inst,
        &[
            ("events_backfilled", 0),
            ("duplicates_dropped", 0),
            ("backfill_windows", 0),
        ],
    );
}

#[test]
fn lag_metrics_report_how_old_delivered_events_are() {
    // Events stamped 30 s ago arrive now: the lag of the last batch and the maximum are
    // about 30 s.
    let tl = Timeline::recent(Duration::from_secs(30), 10);
    let server = WsServer::ws(live(&tl, 0..5, &[]));
    let mut host = Host::init(&config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    collect_exactly(&mut inst, 5, 5 * SECOND);
    let (lag, max) = (
        metric(&mut inst, "event_lag_ms"),
        metric(&mut inst, "event_lag_max_ms"),
    );
    assert!((29_000..35_000).contains(&lag), "{lag}");
    assert!(max >= lag && max < 35_000, "{max}");
}
