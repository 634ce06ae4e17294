//! The plugin as Falco sees it: identity, API version, init schema and config errors,
//! accepted and refused open params, file replay, event rendering. Driven through the built
//! library's C ABI.

mod support;

use std::io::Write;
use std::time::Duration;
use support::{Arg, Batch, Event, Host};

const FAKE_TOKEN: &str = "00000000-fake-fake-fake-000000000000";

fn fixture(path: &str) -> String {
    format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn write_file(name: &str, lines: &[String]) -> String {
    let path = support::temp_path(name);
    let mut f = std::fs::File::create(&path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    path.to_string_lossy().into_owned()
}

fn event_json(id: &str, ts: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{id}","stage":"ResponseComplete","verb":"get","stageTimestamp":"{ts}"}}"#
    )
}

fn ldp_frame(short_message: &str, gelf_ts: f64) -> String {
    let gelf = serde_json::json!({
        "version": "1.1", "host": "mks", "short_message": short_message,
        "timestamp": gelf_ts, "level": 6
    });
    serde_json::json!({ "message": gelf.to_string() }).to_string()
}

#[test]
fn identity_matches_the_go_plugin() {
    assert_eq!(support::info("name"), "k8saudit-ovh");
    assert_eq!(support::info("event_source"), "k8s_audit");
    assert_eq!(support::plugin_id(), 22);
    let version = support::info("version");
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    assert_eq!(
        parts[0], 0,
        "major 0, so rules requiring k8saudit-ovh 0.6.0 load"
    );
    assert!(parts[1] >= 6, "at least 0.6.0: {version}");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn required_api_version_loads_in_falco_with_api_3_11() {
    assert_eq!(support::required_api_version(), "3.11.0");
}

#[test]
fn init_schema_is_config_schema_json() {
    let (ty, schema) = support::init_schema();
    assert_eq!(ty, 1, "JSON schema");
    let served: serde_json::Value = serde_json::from_str(&schema).unwrap();
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/config.schema.json", env!("CARGO_MANIFEST_DIR")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        served, file,
        "the plugin must serve config.schema.json exactly"
    );
}

#[test]
fn init_accepts_defaults_and_rejects_bad_config_with_a_clear_message() {
    Host::init("").expect("empty config");
    Host::init("{}").expect("empty object");
    Host::init(r#"{"maxEventSize": 1048576, "clusterName": "prod-gra"}"#).expect("valid");
    let err = Host::init(r#"{"maxEvenSize": 1}"#)
        .err()
        .expect("unknown key");
    assert!(err.contains("\"maxEvenSize\""), "{err}");
    assert!(err.contains("maxEventSize"), "lists allowed keys: {err}");
    let err = Host::init(r#"{"reconnectMaxBackoffMs": 5}"#)
        .err()
        .expect("out of range");
    assert!(err.contains("10 to 3600000"), "{err}");
    let err = Host::init(r#"{"caCertFile": "/nonexistent/ca.pem"}"#)
        .err()
        .expect("bad CA path");
    assert!(err.contains("caCertFile"), "{err}");
}

#[test]
fn refused_open_params_say_what_is_wrong_without_the_token() {
    let mut host = Host::init("").unwrap();
    let cases = [
        (None, "empty"),
        (Some(String::new()), "empty"),
        (
            Some(format!("https://gra1.logs.ovh.com/tail/?tk={FAKE_TOKEN}")),
            "unsupported scheme",
        ),
        (
            Some(format!("ws://gra1.logs.ovh.com/tail/?tk={FAKE_TOKEN}")),
            "loopback",
        ),
        (
            Some(format!("wss://gra1.logs.ovh.com:0/tail/?tk={FAKE_TOKEN}")),
            "port",
        ),
        (
            Some("/no/such/replay.jsonl".to_owned()),
            "not a readable file",
        ),
        (
            Some("file:///no/such/replay.jsonl".to_owned()),
            "not a readable file",
        ),
    ];
    for (params, want) in cases {
        let err = host
            .open(params.as_deref())
            .err()
            .unwrap_or_else(|| panic!("{params:?} opened"));
        assert!(err.contains(want), "{params:?}: {err}");
        assert!(!err.contains(FAKE_TOKEN), "token leaked: {err}");
    }
}

#[test]
fn accepted_open_params_forms() {
    let mut host =
        Host::init(r#"{"reconnectMinBackoffMs": 10, "reconnectMaxBackoffMs": 20}"#).unwrap();
    let file = write_file("accepted.jsonl", &[event_json("a", "2025-01-01T00:00:00Z")]);
    for params in [
        format!("gra1.logs.ovh.com/tail/?tk={FAKE_TOKEN}"),
        format!("wss://gra1.logs.ovh.com/tail/?tk={FAKE_TOKEN}"),
        format!("ws://127.0.0.1:9/tail/?tk={FAKE_TOKEN}"),
        file.clone(),
        format!("file://{file}"),
    ] {
        let inst = host
            .open(Some(&params))
            .unwrap_or_else(|e| panic!("{params}: {e}"));
        inst.close();
    }
}

#[test]
fn file_replay_delivers_every_event_in_order_then_eof() {
    let mut host = Host::init("").unwrap();
    let list = format!(
        r#"{{"kind":"EventList","items":[{},{}]}}"#,
        event_json("list-1", "2025-01-01T00:00:02Z"),
        event_json("list-2", "2025-01-01T00:00:03.5Z")
    );
    let lines = vec![
        event_json("bare", "2025-01-01T00:00:01Z"),
        ldp_frame(&list, 1.0),
        "not json at all".to_owned(),
        ldp_frame("plain text log line from another service", 2.0),
        ldp_frame(r#"{"kind":"Pod"}"#, 3.0),
        ldp_frame(
            &format!("[{}]", event_json("array", "2025-01-01T00:00:04Z")),
            4.0,
        ),
        ldp_frame(r#"{"kind":"Event","auditID":"no-ts"}"#, 1735689605.25),
    ];
    let path = write_file("replay.jsonl", &lines);
    let mut inst = host.open(Some(&path)).unwrap();
    let (events, end) = inst.drain(Duration::from_secs(10));
    assert!(matches!(end, Some(Batch::Eof)), "{end:?}");
    let ids: Vec<String> = events
        .iter()
        .map(|e| {
            serde_json::from_slice::<serde_json::Value>(&e.payload).unwrap()["auditID"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["bare", "list-1", "list-2", "array", "no-ts"]);
    let ts: Vec<u64> = events.iter().map(|e| e.ts).collect();
    assert_eq!(
        ts,
        [
            1_735_689_601_000_000_000,
            1_735_689_602_000_000_000,
            1_735_689_603_500_000_000,
            1_735_689_604_000_000_000,
            1_735_689_605_250_000_000, // GELF timestamp fallback
        ]
    );
    assert!(events.iter().all(|e| e.plugin_id == 22));
    // EOF is sticky.
    assert!(matches!(inst.next_batch(), Batch::Eof));
    inst.close();
    let m = host.metrics();
    assert_eq!(m["events_emitted"], 5.0);
    assert_eq!(m["skipped_not_json"], 1.0);
    assert_eq!(m["skipped_not_audit"], 2.0);
}

#[test]
fn replays_the_bundled_ldp_frames() {
    let mut host = Host::init("").unwrap();
    let mut inst = host.open(Some(&fixture("ldp/frames.jsonl"))).unwrap();
    let (events, end) = inst.drain(Duration::from_secs(10));
    assert!(matches!(end, Some(Batch::Eof)), "{end:?}");
    assert_eq!(events.len(), 5);
    drop(inst);
    let first = &events[0];
    assert_eq!(first.ts, 1_739_178_940_102_611_000, "stageTimestamp");
    let got = host.extract(first, &[("ka.auditid", Arg::None), ("ka.verb", Arg::None)]);
    assert_eq!(
        got[0].one().as_deref(),
        Some("5f0c6a0e-2b8e-4a51-9a53-0c1d7c9b2e11")
    );
    assert_eq!(got[1].one().as_deref(), Some("watch"));
}

#[test]
fn oversize_events_are_skipped_and_the_stream_goes_on() {
    let mut host = Host::init(r#"{"maxEventSize": 1024}"#).unwrap();
    let big = format!(
        r#"{{"kind":"Event","auditID":"too-big","stageTimestamp":"2025-01-01T00:00:00Z","pad":"{}"}}"#,
        "x".repeat(4000)
    );
    let path = write_file(
        "oversize.jsonl",
        &[big, event_json("after", "2025-01-01T00:00:01Z")],
    );
    let mut inst = host.open(Some(&path)).unwrap();
    let (events, end) = inst.drain(Duration::from_secs(10));
    assert!(matches!(end, Some(Batch::Eof)));
    assert_eq!(events.len(), 1);
    assert!(events[0].text().contains("\"after\""));
    drop(inst);
    assert_eq!(host.metrics()["skipped_oversize"], 1.0);
    let logs = support::captured_logs();
    assert!(
        logs.iter()
            .any(|l| l.message.contains("too-big") && l.message.contains("maxEventSize")),
        "oversize log names the auditID and the setting: {logs:?}"
    );
}

#[test]
fn event_to_string_renders_the_audit_json() {
    let mut host = Host::init("").unwrap();
    let json = event_json("render", "2025-01-01T00:00:00Z");
    let ev = Event::plugin_event(22, 1, json.as_bytes());
    assert_eq!(host.event_to_string(&ev).as_deref(), Some(json.as_str()));
}

#[test]
fn open_close_leaves_no_thread_behind() {
    let mut host = Host::init("").unwrap();
    let path = write_file(
        "openclose.jsonl",
        &[event_json("x", "2025-01-01T00:00:00Z")],
    );
    let before = support::thread_count();
    for _ in 0..100 {
        let mut inst = host.open(Some(&path)).unwrap();
        let _ = inst.next_batch();
        inst.close();
    }
    // Other tests run concurrently: allow their threads, but 100 leaked threads would show.
    let after = support::thread_count();
    assert!(
        after < before + 20,
        "threads before {before}, after {after}"
    );
}

#[test]
fn init_schema_is_byte_for_byte_the_file() {
    let (_, schema) = support::init_schema();
    let file =
        std::fs::read_to_string(format!("{}/config.schema.json", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(
            format!("{}/config.schema.json", env!("CARGO_MANIFEST_DIR")),
            format!("{schema}\n"),
        )
        .unwrap();
    }
    assert_eq!(
        schema.trim_end(),
        file.trim_end(),
        "config.schema.json must be what the plugin serves; regenerate with UPDATE_SCHEMA=1 cargo test --test plugin_abi"
    );
}

#[test]
fn extraction_applies_to_our_own_plugin_events_only() {
    // An empty list means "the plugin's own event source" for a plugin that also sources
    // events (libsinsp adds `k8s_audit` itself), exactly as for the Go plugin.
    assert_eq!(support::extract_event_sources(), serde_json::json!([]));
    assert_eq!(
        support::extract_event_types(),
        vec![322],
        "PPME_PLUGINEVENT_E only"
    );
}
