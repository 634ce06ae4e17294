//! The duplicate filter drops exact copies and nothing else, through the built plugin's C ABI:
//! distinct events that share `auditID`, `stage` and `stageTimestamp` (a client can choose its
//! `Audit-ID`) are all delivered, on one live connection and across a replayed window, while a
//! replayed copy of a live event is delivered once.

#[path = "support/ldp.rs"]
mod ldp;
#[path = "support/observe.rs"]
mod observe;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, ms, rfc3339, Timeline, FAKE_TOKEN, SECOND};
use observe::{assert_metrics, collect_exactly};
use serde_json::{json, Value};
use std::time::Duration;
use support::Host;
use ws_server::{Step, WsServer};

/// The audit events of the shared corpus, one per line (`tests/fixtures/k8saudit/`).
fn corpus() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/k8saudit/corpus.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The `(auditID, stage, stageTimestamp)` of an event.
fn identity(event: &str) -> (String, String, String) {
    let v: Value = serde_json::from_str(event).unwrap();
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (s("auditID"), s("stage"), s("stageTimestamp"))
}

/// The LDP frame of an event given as text, kept byte for byte as `short_message`.
fn frame(event: &str) -> String {
    ldp::ldp_frame(event)
}

#[test]
fn corpus_events_that_share_audit_id_stage_and_timestamp_are_all_delivered() {
    let events = corpus();
    // Lines 1 and 51, and 21 and 24, are different requests with the same three fields.
    for (a, b) in [(0, 50), (20, 23)] {
        assert_eq!(identity(&events[a]), identity(&events[b]), "lines {a} {b}");
        assert_ne!(events[a], events[b]);
    }
    let mut script = vec![Step::Upgrade];
    script.extend(events.iter().map(|e| Step::Text(frame(e))));
    let server = WsServer::ws(script);
    // Backfill on (the default): the duplicate filter stands in front of the live tail.
    let mut host = Host::init(&fast_config(json!({ "backfill": true }))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let got = collect_exactly(&mut inst, events.len(), 10 * SECOND);
    let got: Vec<String> = got.iter().map(|e| e.text()).collect();
    assert_eq!(got, events, "every event, once, in order");
    assert_metrics(
        &mut inst,
        &[
            ("events_emitted", events.len() as u64),
            ("duplicates_dropped", 0),
            ("connection_attempts", 1),
        ],
    );
}

/// An event with a request body: a pod created by `kubectl run`.
fn pod_create(id: &str, ts: &str, image: &str) -> Value {
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": id, "stage": "ResponseComplete", "verb": "create",
        "requestURI": "/api/v1/namespaces/default/pods",
        "user": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
        "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5",
        "objectRef": {"resource": "pods", "namespace": "default", "name": "web", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 201},
        "requestObject": {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": image}]}},
        "requestReceivedTimestamp": ts, "stageTimestamp": ts,
        "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""}
    })
}

#[test]
fn a_pair_that_differs_only_inside_the_request_object_is_delivered_twice() {
    let ts = "2025-02-10T09:15:40.102611Z";
    let a = pod_create("same-id", ts, "nginx:1.27");
    let b = pod_create("same-id", ts, "xmrig/xmrig:latest");
    let server = WsServer::ws(vec![
        Step::Upgrade,
        Step::Text(event_frame(&a)),
        Step::Text(event_frame(&b)),
        // An exact copy of the second: the one event the filter may drop.
        Step::Text(event_frame(&b)),
    ]);
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let got = collect_exactly(&mut inst, 2, 10 * SECOND);
    let got: Vec<Value> = got
        .iter()
        .map(|e| serde_json::from_slice(&e.payload).unwrap())
        .collect();
    assert_eq!(got, [a, b]);
    assert_metrics(&mut inst, &[("duplicates_dropped", 1)]);
}

#[test]
fn a_replayed_copy_is_delivered_once_and_a_replayed_look_alike_is_delivered() {
    // Live: events 0..10, then the connection drops; the server's history also holds events
    // 10..20 (missed) and a look-alike of event 5 (same auditID, stage and stageTimestamp,
    // another image), which the live tail never delivered. Live again: 20..30.
    let tl = Timeline::recent(Duration::ZERO, 10);
    let ev = |i: usize, image: &str| pod_create(&format!("ev-{i}"), &rfc3339(tl.nanos(i)), image);
    let live = |range: std::ops::Range<usize>, end: Step| {
        let mut s = vec![Step::Upgrade];
        s.extend(range.map(|i| Step::Text(event_frame(&ev(i, "nginx:1.27")))));
        s.push(end);
        s
    };
    let mut history: Vec<(u64, String)> = (0..20)
        .map(|i| (tl.nanos(i), event_frame(&ev(i, "nginx:1.27"))))
        .collect();
    let look_alike = ev(5, "xmrig/xmrig:latest");
    history.insert(6, (tl.nanos(5), event_frame(&look_alike)));
    let server = WsServer::ws(vec![Step::Upgrade]);
    server.history(history);
    server.replays(vec![Step::Upgrade, Step::Replay, Step::Close]);
    server
        .push(live(0..10, Step::Drop))
        .push(live(20..30, Step::Hold(ms(5000))));
    let config = fast_config(json!({ "backfillOverlapSeconds": 1 }));
    let mut host = Host::init(&config).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    let got = collect_exactly(&mut inst, 31, 10 * SECOND);
    let mut seen: Vec<(usize, String)> = got
        .iter()
        .map(|e| {
            let v: Value = serde_json::from_slice(&e.payload).unwrap();
            let n = ldp::numbers(std::slice::from_ref(e))[0];
            let image = v["requestObject"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap()
                .to_owned();
            (n, image)
        })
        .collect();
    seen.sort();
    let mut want: Vec<(usize, String)> = (0..30).map(|i| (i, "nginx:1.27".to_owned())).collect();
    want.push((5, "xmrig/xmrig:latest".to_owned()));
    want.sort();
    assert_eq!(seen, want, "every event once, and the look-alike too");
    assert_metrics(
        &mut inst,
        &[
            ("events_emitted", 31),
            ("events_backfilled", 11),
            // Events 0..10 replayed again: exact copies of live events.
            ("duplicates_dropped", 10),
            ("backfill_windows", 1),
        ],
    );
}
