//! wss trusting a private CA through the `SSL_CERT_FILE` environment variable, as OpenSSL
//! users expect. Alone in its test binary: the variable is process-wide and read once.

#[path = "support/ldp.rs"]
mod ldp;
mod support;
#[path = "support/test_pki.rs"]
mod test_pki;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, numbered, FAKE_TOKEN};
use serde_json::json;
use std::time::Duration;
use support::Host;
use test_pki::TestPki;
use ws_server::{Step, WsServer};

#[test]
fn wss_trusts_the_ca_named_by_ssl_cert_file() {
    let pki = TestPki::new("k8saudit-ovh test CA (SSL_CERT_FILE)");
    let ca = pki.write_ca("ssl-cert-file.pem");
    // Before any TLS use in this process: OpenSSL and native-tls read it then.
    std::env::set_var("SSL_CERT_FILE", &ca);
    std::env::remove_var("SSL_CERT_DIR");
    let server = WsServer::wss(
        pki.acceptor(),
        vec![Step::Upgrade, Step::Text(event_frame(&numbered(0)))],
    );
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let (events, end) = inst.collect(1, Duration::from_secs(30));
    assert_eq!(events.len(), 1, "{end:?}");
    assert_eq!(ldp::audit_id(&events[0].payload), "ev-0");
    ldp::assert_no_token_in_logs();
}
