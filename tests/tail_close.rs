//! Closing a live tail: open/close 100 times leaves no thread and no socket behind, and each
//! connection ends with a WebSocket Close. Alone in its test binary, since it counts the
//! threads and sockets of the whole process.

#[path = "support/ldp.rs"]
mod ldp;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, numbered, FAKE_TOKEN};
use serde_json::json;
use std::time::{Duration, Instant};
use support::Host;
use ws_server::{Step, WsServer};

fn reader_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "k8saudit-ovh")
        .count()
}

/// Waits until `f()` equals `want`; returns the last value seen.
fn settle(want: usize, f: impl Fn() -> usize) -> usize {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let v = f();
        if v == want || Instant::now() >= end {
            return v;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn open_read_close(host: &mut Host, url: &str) {
    let mut inst = host.open(Some(url)).unwrap();
    let (events, end) = inst.collect(1, Duration::from_secs(5));
    assert_eq!(events.len(), 1, "{end:?}");
    inst.close();
}

#[test]
fn open_close_100_times_leaves_no_thread_and_no_socket_behind() {
    let server = WsServer::ws(vec![Step::Upgrade, Step::Text(event_frame(&numbered(0)))]);
    let url = server.url(FAKE_TOKEN);
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    // The first open starts process-wide helpers that live on (smol's reactor thread).
    open_read_close(&mut host, &url);
    assert_eq!(settle(0, || server.active()), 0);
    let (threads, sockets) = (support::thread_count(), support::socket_count());

    let started = Instant::now();
    for _ in 0..100 {
        open_read_close(&mut host, &url);
    }
    let took = started.elapsed();
    eprintln!("100 open/read/close cycles in {took:?}");

    assert_eq!(
        settle(0, || server.active()),
        0,
        "the server saw every connection end"
    );
    assert_eq!(reader_threads(), 0, "every reader thread joined");
    assert_eq!(settle(threads, support::thread_count), threads, "threads");
    assert_eq!(settle(sockets, support::socket_count), sockets, "sockets");
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
