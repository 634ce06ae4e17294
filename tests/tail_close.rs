//! Closing a live tail: open/close 100 times leaves no thread and no socket behind, closing a
//! source of five streams joins every one, and each connection ends with a WebSocket Close.
//! These tests count the threads and sockets of the whole process, so they are alone in
//! their test binary and take turns (`one_at_a_time`): another test's sockets would skew
//! the count.

#[path = "support/ldp.rs"]
mod ldp;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{cluster_frame, event_frame, fast_config, numbered, FAKE_TOKEN};
use serde_json::{json, Value};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use support::Host;
use ws_server::{Step, WsServer};

/// Held by each test for its whole run: the counts are of the process, not of one test.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    // A test that failed holding the turn poisons it; the next one still runs.
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The plugin's reader threads alive. A joined thread can still show for a moment: the kernel
/// wakes the joiner before it removes the thread from /proc.
fn reader_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "k8saudit-ovh")
        .count()
}

/// Waits until `f()` is at most `limit`; returns the last value seen.
fn settle(limit: usize, f: impl Fn() -> usize) -> usize {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let v = f();
        if v <= limit || Instant::now() >= end {
            return v;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Asserts that the process has no more threads and sockets than `before` once closing
/// settles. No more, rather than as many: a thread from before the count may end meanwhile
/// (the test harness's thread of the previous test), while a leak would add one a cycle.
fn assert_nothing_left(before: (usize, usize)) {
    let (threads, sockets) = before;
    let now = settle(threads, support::thread_count);
    assert!(now <= threads, "threads: {now}, before: {threads}");
    let now = settle(sockets, support::socket_count);
    assert!(now <= sockets, "sockets: {now}, before: {sockets}");
}

/// Opens `params`, reads `want` events, and closes.
fn open_read_close(host: &mut Host, params: &str, want: usize) {
    let mut inst = host.open(Some(params)).unwrap();
    let (events, end) = inst.collect(want, Duration::from_secs(10));
    assert_eq!(events.len(), want, "{end:?}");
    inst.close();
}

#[test]
fn open_close_100_times_leaves_no_thread_and_no_socket_behind() {
    let _turn = one_at_a_time();
    let server = WsServer::ws(vec![Step::Upgrade, Step::Text(event_frame(&numbered(0)))]);
    let url = server.url(FAKE_TOKEN);
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    // The first open starts process-wide helpers that live on (smol's reactor thread).
    open_read_close(&mut host, &url, 1);
    assert_eq!(settle(0, || server.active()), 0);
    let before = (support::thread_count(), support::socket_count());

    let started = Instant::now();
    for _ in 0..100 {
        open_read_close(&mut host, &url, 1);
    }
    let took = started.elapsed();
    eprintln!("100 open/read/close cycles in {took:?}");

    assert_eq!(
        settle(0, || server.active()),
        0,
        "the server saw every connection end"
    );
    assert_eq!(settle(0, reader_threads), 0, "every reader thread joined");
    assert_nothing_left(before);
    // Each open after the first also replays what was missed since the last close (the
    // position a closed instance hands to the next open in the process): 101 live
    // connections, and replays beside them.
    let conns = server.connections();
    let live = conns.iter().filter(|c| c.window.is_none()).count();
    assert_eq!(live, 101);
    assert!(
        conns.iter().all(|c| c.client_close),
        "every connection was closed with a WebSocket Close frame"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    drop(host);
    ldp::assert_no_token_in_logs();
}

#[test]
fn closing_a_source_of_five_streams_joins_every_one() {
    let _turn = one_at_a_time();
    let servers: Vec<WsServer> = (0..5)
        .map(|i| {
            let mut steps = vec![Step::Upgrade];
            steps.extend((0..10).map(|n| Step::Text(cluster_frame(&format!("s{i}"), n))));
            steps.push(Step::Hold(Duration::from_secs(30)));
            WsServer::ws(steps)
        })
        .collect();
    let params = Value::Array(
        servers
            .iter()
            .enumerate()
            .map(|(i, s)| json!({ "clusterName": format!("c{i}"), "url": s.url(FAKE_TOKEN) }))
            .collect(),
    )
    .to_string();
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let all_ended = || servers.iter().map(|s| s.active()).sum::<usize>();
    // The first open starts process-wide helpers that live on (smol's reactor thread).
    open_read_close(&mut host, &params, 50);
    assert_eq!(settle(0, all_ended), 0);
    let before = (support::thread_count(), support::socket_count());

    for _ in 0..10 {
        open_read_close(&mut host, &params, 50);
    }

    assert_eq!(
        settle(0, all_ended),
        0,
        "every server saw its connections end"
    );
    assert_eq!(settle(0, reader_threads), 0, "every reader thread joined");
    assert_nothing_left(before);
    for (i, s) in servers.iter().enumerate() {
        let impolite: Vec<usize> = s
            .connections()
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.client_close)
            .map(|(n, _)| n)
            .collect();
        assert_eq!(impolite, Vec::<usize>::new(), "stream {i} closed politely");
    }
    drop(host);
    ldp::assert_no_token_in_logs();
}
