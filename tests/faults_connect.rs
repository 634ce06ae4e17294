//! Fault injection, connecting: refused connections, a name that does not resolve, an
//! untrusted certificate, refused upgrades, throttling and server errors, a server that
//! accepts and never answers, and the backoff starting again after a connection that worked.
//! For each: what ends or recovers, the exact counters, what is logged (once), and no token
//! anywhere.

#[path = "support/ldp.rs"]
mod ldp;
#[path = "support/observe.rs"]
mod observe;
mod support;
#[path = "support/test_pki.rs"]
mod test_pki;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, ms, numbered, FAKE_TOKEN, SECOND};
use observe::{assert_metrics, assert_quiet, logged, logged_once, metric, wait_failure};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Batch, Host};
use test_pki::TestPki;
use ws_server::{Step, WsServer};

fn with_frames(range: std::ops::Range<usize>) -> Vec<Step> {
    let mut s = vec![Step::Upgrade];
    s.extend(range.map(|i| Step::Text(event_frame(&numbered(i)))));
    s
}

fn ids(events: &[support::Event]) -> Vec<String> {
    events.iter().map(|e| ldp::audit_id(&e.payload)).collect()
}

#[test]
fn connection_refused_is_retried_logged_once_and_recovers_when_the_server_comes_up() {
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
    let refused = metric(&mut inst, "connection_attempts");
    // 600 ms of dials 20 to 40 ms apart.
    assert!((10..=31).contains(&refused), "{refused} dials in 600 ms");
    let state = metric(&mut inst, "connection_state");
    assert!(
        state == 0 || state == 2,
        "connecting or backing off: {state}"
    );
    let addr = format!("127.0.0.1:{port}");
    let line = logged_once(&[&addr, "dialling again"]);
    assert!(line.to_lowercase().contains("refused"), "{line}");

    let server = WsServer::ws_on(port, with_frames(0..3));
    let up = Instant::now();
    let (events, end) = inst.collect(3, 5 * SECOND);
    let recovered = up.elapsed();
    eprintln!("connection refused: recovered {recovered:?} after the server came up");
    assert!(end.is_none(), "{end:?}");
    assert_eq!(ids(&events), ["ev-0", "ev-1", "ev-2"]);
    assert!(recovered < ms(40 + 500), "{recovered:?}");
    let attempts = metric(&mut inst, "connection_attempts");
    assert!(attempts > refused, "{attempts}");
    assert_quiet(&mut inst, ms(200));
    assert_metrics(
        &mut inst,
        &[
            ("connection_attempts", attempts),
            ("reconnects", 0),
            ("fatal_errors", 0),
            ("connection_state", 1),
            ("events_emitted", 3),
        ],
    );
    assert_eq!(server.connection_count(), 1);
    assert_eq!(
        logged(&[&addr, "dialling again"]).len(),
        1,
        "still one line"
    );
    logged_once(&["connected to", &addr]);
    drop(inst);
    ldp::assert_no_token_in_logs();
}

#[test]
fn an_untrusted_certificate_is_fatal_once_with_a_clear_message_and_no_retry_storm() {
    // The server's CA is unknown (no caCertFile), then a CA of another PKI is given.
    let served = TestPki::new("k8saudit-ovh test CA (served)");
    let other = TestPki::new("k8saudit-ovh test CA (other)");
    let other_ca = other.write_ca("faults-other-ca.pem");
    for config in [json!({}), json!({ "caCertFile": other_ca })] {
        let server = WsServer::wss(served.acceptor(), with_frames(0..1));
        let before = logged(&["TLS certificate verification failed"]).len();
        let mut host = Host::init(&fast_config(config)).unwrap();
        let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
        let msg = wait_failure(&mut inst, 5 * SECOND);
        for needle in [
            "TLS certificate verification failed for 127.0.0.1",
            "caCertFile",
            "SSL_CERT_FILE",
            "Verification cannot be turned off",
        ] {
            assert!(msg.contains(needle), "no {needle:?} in {msg}");
        }
        assert!(!msg.contains(FAKE_TOKEN), "{msg}");
        assert!(
            matches!(inst.next_batch(), Batch::Failure(m) if m == msg),
            "stays failed"
        );
        std::thread::sleep(ms(300));
        assert_eq!(server.connection_count(), 1, "no retry");
        assert!(server.connections()[0].tls_failed);
        assert_metrics(
            &mut inst,
            &[
                ("fatal_errors", 1),
                ("connection_attempts", 1),
                ("reconnects", 0),
                ("connection_state", 3),
                ("frames_received", 0),
            ],
        );
        let lines = logged(&["TLS certificate verification failed"]);
        assert_eq!(lines.len(), before + 1, "logged once: {lines:#?}");
    }
    ldp::assert_no_token_in_logs();
}

#[test]
fn client_errors_at_the_upgrade_are_fatal_once_naming_the_status() {
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
        assert!(matches!(inst.next_batch(), Batch::Failure(_)));
        std::thread::sleep(ms(200));
        assert_eq!(server.connection_count(), 1, "{status} must not be retried");
        assert_metrics(
            &mut inst,
            &[
                ("fatal_errors", 1),
                ("connection_attempts", 1),
                ("reconnects", 0),
                ("connection_state", 3),
            ],
        );
        logged_once(&[words, &server.addr().to_string()]);
    }
    ldp::assert_no_token_in_logs();
}

#[test]
fn throttling_and_server_errors_are_retried_with_backoff_within_bounds_then_recover() {
    let server = WsServer::ws(vec![Step::Upgrade]);
    for status in [503, 502, 429, 500, 503] {
        server.push(vec![Step::Refuse(status)]);
    }
    server.push(with_frames(0..3));
    let (min, max) = (40u64, 200u64);
    let mut host = Host::init(&fast_config(json!({
        "reconnectMinBackoffMs": min, "reconnectMaxBackoffMs": max
    })))
    .unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, end) = inst.collect(3, 10 * SECOND);
    assert!(
        end.is_none(),
        "retryable statuses must not end the source: {end:?}"
    );
    assert_eq!(ids(&events), ["ev-0", "ev-1", "ev-2"]);
    assert_quiet(&mut inst, ms(200));
    assert_metrics(
        &mut inst,
        &[
            ("connection_attempts", 6),
            ("reconnects", 0),
            ("fatal_errors", 0),
            ("connection_state", 1),
            ("events_emitted", 3),
        ],
    );
    // Retry n waits within [min, min(max, min·2ⁿ)] (+ scheduling slack).
    let conns = server.connections();
    let gaps: Vec<Duration> = conns
        .windows(2)
        .map(|p| p[1].accepted_at - p[0].accepted_at)
        .collect();
    eprintln!(
        "redial intervals after 503, 502, 429, 500, 503 (min {min} ms, max {max} ms): {gaps:?}"
    );
    for (n, gap) in gaps.iter().enumerate() {
        let ceiling = ms((min << n).min(max));
        assert!(
            *gap >= ms(min),
            "retry {n} after {gap:?}: below the minimum"
        );
        assert!(
            *gap <= ceiling + ms(150),
            "retry {n} after {gap:?}: above {ceiling:?}"
        );
    }
    // Rate-limited: one line for the five refusals, with the first status.
    let addr = server.addr().to_string();
    let line = logged_once(&[&addr, "dialling again"]);
    assert!(
        line.contains("HTTP 503") && line.contains("tk=<redacted>"),
        "{line}"
    );
    logged_once(&["connected to", &addr]);
    drop(inst);
    ldp::assert_no_token_in_logs();
}

#[test]
fn a_server_that_accepts_and_never_answers_the_upgrade_hits_the_connect_timeout_and_recovers() {
    let server = WsServer::ws(vec![Step::Upgrade]);
    server
        .push(vec![Step::Stall(ms(5000))])
        .push(with_frames(0..1));
    let mut host = Host::init(&fast_config(json!({"connectTimeoutMs": 300}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let t = Instant::now();
    let (events, _) = inst.collect(1, 5 * SECOND);
    eprintln!("stalled upgrade: first event after {:?}", t.elapsed());
    assert_eq!(ids(&events), ["ev-0"]);
    let conns = server.connections();
    let gap = conns[1].accepted_at - conns[0].accepted_at;
    assert!(gap >= ms(300) && gap < ms(300 + 400 + 300), "{gap:?}");
    assert_metrics(
        &mut inst,
        &[
            ("connection_attempts", 2),
            ("reconnects", 0),
            ("fatal_errors", 0),
            ("connection_state", 1),
        ],
    );
    let line = logged_once(&[&server.addr().to_string(), "connectTimeoutMs (300 ms)"]);
    assert!(line.contains("during the WebSocket upgrade"), "{line}");
}

#[test]
fn a_name_that_does_not_resolve_is_retried_with_backoff_and_logged_once() {
    // `.invalid` never resolves (RFC 6761), with or without a DNS server.
    let url = format!("wss://k8saudit-ovh-test.invalid/tail/?tk={FAKE_TOKEN}");
    let mut host = Host::init(&fast_config(json!({
        "reconnectMinBackoffMs": 20, "reconnectMaxBackoffMs": 40
    })))
    .unwrap();
    let mut inst = host.open(Some(&url)).unwrap();
    assert_quiet(&mut inst, ms(1500));
    let attempts = metric(&mut inst, "connection_attempts");
    assert!(attempts >= 3, "retried: {attempts} dials in 1.5 s");
    let state = metric(&mut inst, "connection_state");
    assert!(
        state == 0 || state == 2,
        "connecting or backing off: {state}"
    );
    assert_metrics(&mut inst, &[("fatal_errors", 0), ("reconnects", 0)]);
    let line = logged_once(&["k8saudit-ovh-test.invalid", "dialling again"]);
    assert!(line.contains("tk=<redacted>"), "{line}");
    let lower = line.to_lowercase();
    assert!(
        lower.contains("resolve") || lower.contains("dns") || lower.contains("lookup"),
        "says the name did not resolve: {line}"
    );
    drop(inst);
    ldp::assert_no_token_in_logs();
}

#[test]
fn after_a_connection_that_worked_the_backoff_starts_again_from_the_minimum() {
    // Three rounds of: seven refusals (the backoff grows to min·2⁶ = 640 ms at most), then a
    // connection that delivers an event and drops. The dial after each drop must come after
    // the minimum (10 ms), not after a delay drawn up to 1,280 ms: were the backoff not
    // reset, three such dials would all come that soon about once in a hundred runs.
    let (min, max) = (10u64, 5000u64);
    let server = WsServer::ws(with_frames(3..4));
    for round in 0..3 {
        for _ in 0..7 {
            server.push(vec![Step::Refuse(503)]);
        }
        let mut good = with_frames(round..round + 1);
        good.push(Step::Drop);
        server.push(good);
    }
    // No backfill: its replay connections would take the scripts queued for the redials.
    let mut host = Host::init(&fast_config(json!({
        "reconnectMinBackoffMs": min, "reconnectMaxBackoffMs": max, "backfill": false
    })))
    .unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, end) = inst.collect(4, 30 * SECOND);
    assert!(end.is_none(), "{end:?}");
    assert_eq!(ids(&events), ["ev-0", "ev-1", "ev-2", "ev-3"]);
    let conns = server.connections();
    assert_eq!(conns.len(), 25);
    let redials: Vec<Duration> = (0..3)
        .map(|round| {
            let good = &conns[8 * round + 7];
            conns[8 * round + 8].accepted_at - good.ended_at.expect("the good connection ended")
        })
        .collect();
    eprintln!("redial after a good connection (min {min} ms): {redials:?}");
    for gap in &redials {
        // The minimum, plus noticing the drop and closing (up to 100 ms), plus slack.
        assert!(*gap < ms(min + 100 + 150), "redialled after {gap:?}");
    }
    assert_metrics(&mut inst, &[("reconnects", 3), ("fatal_errors", 0)]);
}
