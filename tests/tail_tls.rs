//! wss: a server certificate from a CA made at test time, trusted through `caCertFile`; an
//! unusable CA file is fatal with a message that says what to do. (An untrusted certificate
//! is a fault: tests/faults_connect.rs.)

#[path = "support/ldp.rs"]
mod ldp;
mod support;
#[path = "support/test_pki.rs"]
mod test_pki;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, numbered, FAKE_TOKEN};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Batch, Host, Instance};
use test_pki::TestPki;
use ws_server::{Step, WsServer};

fn wait_failure(inst: &mut Instance<'_>) -> String {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        match inst.next_batch() {
            Batch::Failure(msg) => return msg,
            Batch::Timeout => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("no failure");
}

#[test]
fn wss_with_a_private_ca_in_ca_cert_file() {
    let pki = TestPki::new("k8saudit-ovh test CA (caCertFile)");
    let ca = pki.write_ca("ca-cert-file.pem");
    let frames = vec![Step::Upgrade, Step::Text(event_frame(&numbered(0)))];
    let server = WsServer::wss(pki.acceptor(), frames);
    // One dial per open is the point: a TLS handshake slower than fast_config's 1 s budget
    // (a loaded machine) would make a second one.
    let config = fast_config(json!({ "caCertFile": ca, "connectTimeoutMs": 30_000 }));
    let mut host = Host::init(&config).unwrap();
    // By IP (the certificate has IP SAN 127.0.0.1) and by name (resolved, SAN localhost).
    let by_name = server.url(FAKE_TOKEN).replace("127.0.0.1", "localhost");
    for (n, url) in [server.url(FAKE_TOKEN), by_name].into_iter().enumerate() {
        let mut inst = host.open(Some(&url)).unwrap();
        let (events, end) = inst.collect(1, Duration::from_secs(30));
        assert_eq!(events.len(), 1, "{url}: {end:?}");
        assert_eq!(ldp::audit_id(&events[0].payload), "ev-0");
        // Plugin-wide counter: one dial per open, no retry.
        let attempts = *inst.host.metrics().get("connection_attempts").unwrap();
        assert_eq!(attempts, (n + 1) as f64);
    }
    assert!(server.connections().iter().all(|c| !c.tls_failed));
    ldp::assert_no_token_in_logs();
}

#[test]
fn ca_cert_file_without_a_certificate_is_fatal() {
    let path = support::temp_path("not-a-ca.pem");
    std::fs::write(&path, "this is not PEM\n").unwrap();
    let server = WsServer::wss(TestPki::new("unused").acceptor(), vec![Step::Upgrade]);
    let mut host = Host::init(&fast_config(json!({ "caCertFile": path }))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let msg = wait_failure(&mut inst);
    assert!(msg.contains("caCertFile") && msg.contains("PEM"), "{msg}");
    assert_eq!(
        server.connection_count(),
        0,
        "nothing dialled with a broken trust store"
    );
}
