//! Several LDP streams in one source (`open_params` as a JSON array of `{"url",
//! "clusterName"}`), through the built plugin's C ABI, against local wss servers: every
//! stream's events in its own order with its own `ka.cluster.name`, one stream failing alone,
//! a flooding stream that cannot starve a quiet one, and per-stream metrics. That closing
//! joins every stream is in tail_close.rs, whose tests count the process's threads and
//! sockets and so run one at a time.

#[path = "support/ldp.rs"]
mod ldp;
#[path = "support/observe.rs"]
mod observe;
mod support;
#[path = "support/test_pki.rs"]
mod test_pki;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{cluster_frame, event_frame, fast_config, ms, FAKE_TOKEN, SECOND};
use observe::{logged, metric, wait_metric};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{Arg, Event, Host};
use test_pki::TestPki;
use ws_server::{Step, WsServer};

fn frames(cluster: &str, n: usize) -> Vec<Step> {
    let mut s = vec![Step::Upgrade];
    s.extend((0..n).map(|i| Step::Text(cluster_frame(cluster, i))));
    s.push(Step::Hold(Duration::from_secs(30)));
    s
}

fn streams(entries: &[(&str, String)]) -> String {
    let list: Vec<Value> = entries
        .iter()
        .map(|(name, url)| json!({ "clusterName": name, "url": url }))
        .collect();
    Value::Array(list).to_string()
}

/// auditID and `ka.cluster.name` of each event.
fn labelled(host: &mut Host, events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .enumerate()
        .map(|(n, e)| {
            let cluster = host
                .extract_one(e, 1000 + n as u64, "ka.cluster.name", &Arg::None)
                .one()
                .unwrap_or_default();
            (ldp::audit_id(&e.payload), cluster)
        })
        .collect()
}

#[test]
fn healthy_streams_deliver_in_order_with_their_cluster_name_while_a_401_fails_alone() {
    let pki = TestPki::new("k8saudit-ovh streams CA");
    let ca = pki.write_ca("streams-ca.pem");
    let prod = WsServer::wss(pki.acceptor(), frames("prod", 200));
    let staging = WsServer::wss(pki.acceptor(), frames("staging", 150));
    let broken = WsServer::wss(pki.acceptor(), vec![Step::Refuse(401)]);
    let params = streams(&[
        ("prod-gra", prod.url(FAKE_TOKEN)),
        ("staging", staging.url("staging-token")),
        ("team-a", broken.url("wrong-token")),
    ]);
    // init_config's clusterName is only a fallback: each stream's own name wins. Three TLS
    // dials at once can take over a second on a busy machine: a dial that timed out would be
    // retried, and the 401 seen twice.
    let config = fast_config(json!({
        "caCertFile": ca, "clusterName": "configured", "connectTimeoutMs": 30_000
    }));
    let mut host = Host::init(&config).unwrap();
    let mut inst = host.open(Some(&params)).unwrap();
    let (events, end) = inst.collect(350, 10 * SECOND);
    assert!(
        end.is_none(),
        "one failing stream does not end the source: {end:?}"
    );
    assert_eq!(events.len(), 350);
    let got = labelled(inst.host, &events);
    for (cluster, prefix, n) in [("prod-gra", "prod", 200), ("staging", "staging", 150)] {
        let ids: Vec<&str> = got
            .iter()
            .filter(|(_, c)| c == cluster)
            .map(|(id, _)| id.as_str())
            .collect();
        let want: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
        assert_eq!(ids, want, "{cluster}: every event, once, in order");
    }
    assert!(got.iter().all(|(_, c)| c != "configured"));

    // The 401 may come after the other streams' 350 events on a busy machine.
    wait_metric(&mut inst, "team_a.fatal_errors", 1, 10 * SECOND);
    let metrics = inst.host.metrics();
    let m = |name: &str| metrics.get(name).copied().unwrap_or(-1.0) as i64;
    assert_eq!(m("events_emitted"), 350, "totals");
    assert_eq!(m("prod_gra.events_emitted"), 200);
    assert_eq!(m("staging.events_emitted"), 150);
    assert_eq!(m("team_a.events_emitted"), 0);
    assert_eq!(m("team_a.fatal_errors"), 1, "counted on its stream");
    assert_eq!(m("team_a.connection_state"), 3, "stopped");
    assert_eq!(m("prod_gra.connection_state"), 1);
    assert_eq!(m("fatal_errors"), 1);
    assert_eq!(m("connection_state"), 3, "not every stream is connected");
    let line = logged(&["team-a", "HTTP 401"]);
    assert_eq!(line.len(), 1, "logged once, naming the stream: {line:?}");
    for token in [FAKE_TOKEN, "staging-token", "wrong-token"] {
        for l in support::captured_logs() {
            assert!(!l.message.contains(token), "a token leaked: {}", l.message);
        }
    }
    assert_eq!(
        broken.connection_count(),
        1,
        "a 401 is not retried: {:?}",
        broken.connections()
    );
    // The others go on.
    observe::assert_quiet(&mut inst, ms(300));
}

#[test]
fn the_source_fails_only_when_every_stream_has_failed() {
    let a = WsServer::ws(vec![Step::Refuse(401)]);
    let b = WsServer::ws(vec![Step::Refuse(403)]);
    let params = streams(&[("a", a.url("t1")), ("b", b.url("t2"))]);
    let mut host = Host::init(&fast_config(json!({}))).unwrap();
    let mut inst = host.open(Some(&params)).unwrap();
    let msg = observe::wait_failure(&mut inst, 10 * SECOND);
    assert!(
        msg.contains("\"a\"") && msg.contains("\"b\""),
        "both named: {msg}"
    );
    assert!(msg.contains("401") && msg.contains("403"), "{msg}");
    assert!(!msg.contains("t1") || !msg.contains("tk=t1"), "{msg}");
}

#[test]
fn files_end_the_source_when_every_one_has_ended() {
    let dir = support::temp_path("streams-files");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, n: usize| {
        let path = dir.join(format!("{name}.jsonl"));
        let lines: Vec<String> = (0..n).map(|i| cluster_frame(name, i)).collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path.display().to_string()
    };
    let params = streams(&[("one", write("one", 30)), ("two", write("two", 40))]);
    let mut host = Host::init("").unwrap();
    let mut inst = host.open(Some(&params)).unwrap();
    let (events, end) = inst.drain(10 * SECOND);
    assert!(matches!(end, Some(support::Batch::Eof)), "{end:?}");
    let got = labelled(inst.host, &events);
    let count = |c: &str| got.iter().filter(|(_, x)| x == c).count();
    assert_eq!((count("one"), count("two")), (30, 40));
}

fn flood(i: usize) -> String {
    cluster_frame("flood", i)
}

fn quiet(i: usize, ts: u64) -> String {
    event_frame(&ldp::event(&format!("quiet-{i}"), &ldp::rfc3339(ts)))
}

#[test]
fn a_flooding_stream_cannot_starve_a_quiet_one() {
    // One stream sends 200,000 events as fast as it can; the other makes one event every
    // 20 ms, stamped when made. Falco is slow (50 µs per event): the flooding stream fills its
    // queue, and yet each quiet event reaches Falco soon after it is made.
    let loud = WsServer::ws(vec![Step::Upgrade, Step::Generate(0..200_000, flood)]);
    let calm = WsServer::ws(vec![Step::Upgrade, Step::Live]);
    calm.live_feed(ms(20), quiet);
    let params = streams(&[("loud", loud.url("t")), ("quiet", calm.url("t"))]);
    let mut host = Host::init(&fast_config(json!({ "maxQueuedEvents": 2048 }))).unwrap();
    let mut inst = host.open(Some(&params)).unwrap();
    let start = Instant::now();
    let mut delays: BTreeMap<usize, Duration> = BTreeMap::new();
    let mut loud_events = 0usize;
    let mut depth_max = 0u64;
    while delays.len() < 50 {
        assert!(
            start.elapsed() < 20 * SECOND,
            "quiet events: {}",
            delays.len()
        );
        match inst.next_batch() {
            support::Batch::Events(events) => {
                let now = ldp::now_nanos();
                std::thread::sleep(Duration::from_micros(50 * events.len() as u64));
                for e in events {
                    let id = ldp::audit_id(&e.payload);
                    match id.strip_prefix("quiet-") {
                        // The quiet events made before the source connected are not counted.
                        Some(n) if calm.connections().len() == 1 => {
                            let made_ago = Duration::from_nanos(now.saturating_sub(e.ts));
                            delays.insert(n.parse().unwrap(), made_ago);
                        }
                        Some(_) => {}
                        None => loud_events += 1,
                    }
                }
            }
            support::Batch::Timeout => {}
            other => panic!("{other:?}"),
        }
        depth_max = depth_max.max(metric(&mut inst, "loud.queue_depth"));
    }
    let worst = delays.values().max().copied().unwrap();
    let median = {
        let mut d: Vec<Duration> = delays.values().copied().collect();
        d.sort();
        d[d.len() / 2]
    };
    eprintln!(
        "quiet stream: 50 events, {median:?} median and {worst:?} worst from made to handed to Falco; loud stream: {loud_events} events meanwhile, its queue up to {depth_max} (its share: 1024)"
    );
    assert!(
        depth_max >= 1000,
        "the loud stream did fill its queue: {depth_max}"
    );
    assert!(depth_max <= 1024, "and no more than its share: {depth_max}");
    assert!(
        worst < ms(500),
        "a quiet event waited {worst:?}: {delays:?}"
    );
    assert!(
        loud_events > 5_000,
        "the loud stream went on too: {loud_events}"
    );
}
