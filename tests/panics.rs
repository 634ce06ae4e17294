//! A panic on the reader thread, as it starts or while it decodes frames, ends the source
//! with a fatal error that Falco can show; it never unwinds into Falco nor aborts the process. The panics are injected through a hook that only debug builds have (so this
//! test is only built in debug builds too), named by an environment variable: alone in its
//! test binary, as that variable is the whole process's.
#![cfg(debug_assertions)]

#[path = "support/ldp.rs"]
mod ldp;
#[path = "support/observe.rs"]
mod observe;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, numbered, FAKE_TOKEN};
use observe::metric;
use serde_json::json;
use std::time::Duration;
use support::{Batch, Host};
use ws_server::{Step, WsServer};

const PANIC_IN: &str = "K8SAUDIT_OVH_DEBUG_PANIC_IN";
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
