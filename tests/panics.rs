//! A panic on the reader thread, as it starts or while it decodes frames, ends the source
//! with a fatal error that Falco can show; it never unwinds into Falco nor aborts the process.
//! With several streams, a panic while decoding one stream's frames ends that stream only.
//! The panics are injected through a hook that only debug builds have (so this
//! test is only built in debug builds too), named by an environment variable: alone in its
//! test binary, as that variable is the whole process's, and one test at a time ([`ENV`]).
#![cfg(debug_assertions)]

#[path = "support/ldp.rs"]
mod ldp;
#[path = "support/observe.rs"]
mod observe;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, numbered, numbered_ts, FAKE_TOKEN};
use observe::{metric, wait_metric};
use serde_json::json;
use std::sync::Mutex;
use std::time::Duration;
use support::{Batch, Host};
use ws_server::{Step, WsServer};

const PANIC_IN: &str = "K8SAUDIT_OVH_DEBUG_PANIC_IN";
/// Held by each test while it sets [`PANIC_IN`]: tests of one binary run on parallel threads.
static ENV: Mutex<()> = Mutex::new(());
const INTERNAL_ERROR: &str =
    "k8saudit-ovh: internal error in the reader thread (a bug: please report it)";

fn frame(i: usize) -> String {
    event_frame(&numbered(i))
}

/// Opens a source on `server` with `config`, reads until it fails, and returns the failure
/// and the fatal error count.
fn failure(server: &WsServer, config: serde_json::Value) -> (String, u64) {
    let mut host = Host::init(&fast_config(config)).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (_, end) = inst.drain(Duration::from_secs(20));
    let message = match end {
        Some(Batch::Failure(message)) => message,
        other => panic!("the source should have failed, it ended with {other:?}"),
    };
    let fatal = metric(&mut inst, "fatal_errors");
    // Later calls keep failing with the same message rather than hanging or crashing.
    assert!(matches!(inst.next_batch(), Batch::Failure(m) if m == message));
    inst.close();
    (message, fatal)
}

#[test]
fn a_panic_on_the_reader_thread_as_it_starts_or_decodes_is_a_fatal_error_not_a_crash() {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    for place in ["reader", "decode"] {
        std::env::set_var(PANIC_IN, place);
        let server = WsServer::ws(vec![Step::Upgrade, Step::Generate(0..10, frame)]);
        assert_eq!(
            failure(&server, json!({})),
            (INTERNAL_ERROR.to_owned(), 1),
            "{place}"
        );
    }
    std::env::remove_var(PANIC_IN);
}

#[test]
fn a_panic_decoding_one_stream_ends_that_stream_only() {
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    // Only frames that contain "poisoned" panic: those of the second stream.
    std::env::set_var(PANIC_IN, "decode:poisoned");
    let poisoned = |i: usize| event_frame(&ldp::event(&format!("poisoned-{i}"), &numbered_ts(i)));
    let prod = WsServer::ws(vec![
        Step::Upgrade,
        Step::Generate(0..50, frame),
        Step::Live,
    ]);
    let bad = WsServer::ws(vec![Step::Upgrade, Step::Generate(0..10, poisoned)]);
    let params = json!([
        { "clusterName": "prod", "url": prod.url(FAKE_TOKEN) },
        { "clusterName": "bad", "url": bad.url(FAKE_TOKEN) },
    ])
    .to_string();
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&params)).unwrap();
    let (events, end) = inst.collect(50, Duration::from_secs(20));
    assert!(end.is_none(), "the source goes on: {end:?}");
    // The bad stream's first frame may arrive after the healthy stream's fifty events.
    wait_metric(&mut inst, "bad.fatal_errors", 1, Duration::from_secs(20));
    std::env::remove_var(PANIC_IN);
    let ids: Vec<String> = events.iter().map(|e| ldp::audit_id(&e.payload)).collect();
    let want: Vec<String> = (0..50).map(|i| format!("ev-{i}")).collect();
    assert_eq!(ids, want, "every event of the healthy stream, in order");
    assert_eq!(metric(&mut inst, "bad.fatal_errors"), 1);
    assert_eq!(metric(&mut inst, "bad.connection_state"), 3, "stopped");
    assert_eq!(metric(&mut inst, "prod.fatal_errors"), 0);
    assert_eq!(metric(&mut inst, "prod.connection_state"), 1, "connected");
    inst.close();
}
