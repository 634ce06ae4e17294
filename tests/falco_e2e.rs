//! The built plugin inside the real Falco, as users run it: each test writes a `falco.yaml`,
//! starts Falco as a process and reads its alerts and logs. Side by side with the upstream Go
//! plugin on the same stream, where it has one.
//!
//!     eval "$(../shared/tools/falco/setup)" && cargo test --test falco_e2e
//!
//! Without `FALCO` every test prints SKIPPED (a `harness = false` binary: see
//! `support/falco.rs`).

#[path = "support/falco.rs"]
mod falco;
#[path = "support/ldp.rs"]
mod ldp;
mod support;
#[path = "support/test_pki.rs"]
mod test_pki;
#[path = "support/ws_server.rs"]
mod ws_server;

use falco::{FalcoConfig, FalcoEnv, FalcoProcess, PluginEntry, Skip};
use ldp::FAKE_TOKEN;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use ws_server::{Step, WsServer};

fn main() {
    falco::run_tests(&[
        (
            "wss_tail_raises_the_alerts_of_the_upstream_plugin",
            wss_tail_raises_the_alerts_of_the_upstream_plugin,
        ),
        (
            "every_open_params_form_raises_the_same_alerts",
            every_open_params_form_raises_the_same_alerts,
        ),
        (
            "a_401_stops_falco_with_the_status_and_no_token",
            a_401_stops_falco_with_the_status_and_no_token,
        ),
        (
            "a_bad_init_config_is_rejected_before_any_event_naming_the_key",
            a_bad_init_config_is_rejected_before_any_event_naming_the_key,
        ),
        (
            "rule_outputs_and_plugininfo_render_as_users_see_them",
            rule_outputs_and_plugininfo_render_as_users_see_them,
        ),
        (
            "sighup_reloads_lose_no_event_and_repeat_none",
            sighup_reloads_lose_no_event_and_repeat_none,
        ),
        (
            "a_stop_and_a_restart_with_a_checkpoint_file_lose_no_event_and_repeat_none",
            a_stop_and_a_restart_with_a_checkpoint_file_lose_no_event_and_repeat_none,
        ),
        (
            "several_clusters_in_one_falco_alert_with_their_names_and_a_401_fails_alone",
            several_clusters_in_one_falco_alert_with_their_names_and_a_401_fails_alone,
        ),
    ]);
}

const SENTINEL_ID: &str = "e2e-end-of-stream";
const SENTINEL_RULE: &str = "E2E end of stream";
const EVERY_EVENT_RULE: &str = "E2E every other event";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    support::temp_path(&format!("falco-e2e-{name}"))
}

/// The audit events of the shared corpus, one per line.
fn corpus() -> Vec<String> {
    std::fs::read_to_string(repo().join("tests/fixtures/k8saudit/corpus.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Falco's stock k8s audit rules.
fn stock_rules() -> PathBuf {
    repo().join("tests/fixtures/rules/k8s_audit_rules.yaml")
}

/// The event that ends a test stream: Falco handles events in order, so once its alert is out,
/// every event before it was handled.
fn sentinel_event() -> String {
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": SENTINEL_ID, "stage": "ResponseComplete", "verb": "get",
        "requestURI": "/version", "user": {"username": "e2e"},
        "stageTimestamp": "2025-02-10T09:15:40.102611Z"
    })
    .to_string()
}

/// Rules around the ones under test: the sentinel's, loaded first (it matches only the
/// sentinel), and a catch-all loaded last, so that under first-match every event raises
/// exactly one alert and the alerts account for every event Falco received.
fn harness_rules(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let first = dir.join("e2e-first.yaml");
    let last = dir.join("e2e-last.yaml");
    std::fs::write(
        &first,
        format!(
            "- rule: {SENTINEL_RULE}\n  desc: the end of a test stream\n  condition: ka.auditid = \"{SENTINEL_ID}\"\n  output: end of stream (id=%ka.auditid)\n  priority: INFORMATIONAL\n  source: k8s_audit\n"
        ),
    )
    .unwrap();
    std::fs::write(
        &last,
        format!(
            "- rule: {EVERY_EVENT_RULE}\n  desc: any event no other rule matched\n  condition: ka.auditid exists or not ka.auditid exists\n  output: event (id=%ka.auditid verb=%ka.verb uri=%ka.uri info=%evt.plugininfo)\n  priority: DEBUG\n  source: k8s_audit\n"
        ),
    )
    .unwrap();
    (first, last)
}

/// Runs Falco with the stock rules between the harness rules until the sentinel's alert
/// (streams that do not end by themselves), or until it exits (file replays); returns the
/// alerts and the whole output.
fn alerts_of(
    env: &FalcoEnv,
    dir: &Path,
    source: PluginEntry,
    proc_env: &[(&str, &str)],
    ends_by_itself: bool,
) -> (Vec<Value>, String) {
    let (first, last) = harness_rules(dir);
    let json_plugin = env.json_plugin.as_deref().unwrap();
    let config = FalcoConfig {
        plugins: vec![source, PluginEntry::json(json_plugin)],
        rules_files: vec![first, stock_rules(), last],
        extra: String::new(),
        watch_config_files: false,
    };
    let mut falco = FalcoProcess::start(&env.falco, &config, dir, proc_env);
    if ends_by_itself {
        let status = falco.wait_exit(Duration::from_secs(60));
        assert!(status.success(), "Falco: {status}\n{}", falco.output());
    } else {
        let ended = falco.wait_for_alerts(Duration::from_secs(60), |a| {
            a.iter().any(|a| a["rule"] == SENTINEL_RULE)
        });
        assert!(ended, "no end-of-stream alert:\n{}", falco.output());
        falco.stop(Duration::from_secs(20));
    }
    (falco.alerts(), falco.output())
}

/// Output fields where the README documents a deliberate difference from upstream
/// (`<!-- deviations -->`): backticked `ka.*` names (`*` matching any part, `[..]`
/// arguments dropped), `*.suffix` names and bare suffixes such as `eff_run_as_group`.
fn deviation_patterns() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find("<!-- deviations:begin -->").unwrap();
    let end = readme.find("<!-- deviations:end -->").unwrap();
    readme[start..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|t| t.split('[').next().unwrap_or(t).to_owned())
        .filter(|t| {
            t.starts_with("ka.")
                || t.starts_with("*.")
                || (!t.is_empty() && t.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .collect()
}

fn is_deviation(field: &str, patterns: &[String]) -> bool {
    let field = field.split('[').next().unwrap_or(field);
    patterns.iter().any(|p| {
        if let Some(suffix) = p.strip_prefix('*') {
            field.ends_with(suffix)
        } else if !p.starts_with("ka.") {
            field.ends_with(&format!(".{p}"))
        } else if let Some((head, tail)) = p.split_once('*') {
            field.starts_with(head) && field.ends_with(tail) && field.len() >= p.len() - 1
        } else {
            field == p
        }
    })
}

/// What must agree between two alerts: rule, priority, time, source, and the output fields
/// (the rendered output too, unless it shows a deviating field).
fn comparable(alert: &Value, patterns: &[String]) -> Value {
    let mut fields = alert["output_fields"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let before = fields.len();
    fields.retain(|k, _| !is_deviation(k, patterns));
    let output = if fields.len() == before {
        alert["output"].clone()
    } else {
        Value::Null
    };
    json!({
        "rule": alert["rule"], "priority": alert["priority"], "time": alert["time"],
        "source": alert["source"], "output_fields": fields, "output": output,
    })
}

fn rules_of(alerts: &[Value]) -> Vec<&str> {
    alerts.iter().filter_map(|a| a["rule"].as_str()).collect()
}

/// The corpus as LDP frames, then the sentinel.
fn corpus_frames() -> Vec<String> {
    let mut frames: Vec<String> = corpus().iter().map(|e| ldp::ldp_frame(e)).collect();
    frames.push(ldp::ldp_frame(&sentinel_event()));
    frames
}

/// A wss server whose every connection streams the corpus, then holds.
fn corpus_server(pki: &test_pki::TestPki) -> WsServer {
    let mut script = vec![Step::Upgrade];
    script.extend(corpus_frames().into_iter().map(Step::Text));
    script.push(Step::Hold(Duration::from_secs(120)));
    WsServer::wss(pki.acceptor(), script)
}

fn wss_tail_raises_the_alerts_of_the_upstream_plugin(env: &FalcoEnv) -> Result<(), Skip> {
    env.json_plugin()?;
    let upstream = env.upstream()?;
    let dir = scratch("side-by-side");
    let pki = test_pki::TestPki::new("k8saudit-ovh falco e2e CA");
    let ca = pki.write_ca("falco-e2e-ca.pem");
    let server = corpus_server(&pki);
    let ca_config = json!({ "caCertFile": ca }).to_string();

    let ours_entry =
        PluginEntry::k8saudit_ovh(&support::plugin_path(), &ca_config, &server.url(FAKE_TOKEN));
    let (ours, ours_out) = alerts_of(env, &dir.join("ours"), ours_entry, &[], false);
    // The Go plugin: the scheme-less form, and Go's TLS trusts SSL_CERT_FILE.
    let scheme_less = format!("{}/tail/?tk={FAKE_TOKEN}", server.addr());
    let theirs_entry = PluginEntry::k8saudit_ovh(upstream, r#"{"useAsync":false}"#, &scheme_less);
    let ca_text = ca.display().to_string();
    let (theirs, theirs_out) = alerts_of(
        env,
        &dir.join("upstream"),
        theirs_entry,
        &[("SSL_CERT_FILE", &ca_text)],
        false,
    );

    let events = corpus().len();
    let count = |alerts: &[Value], pred: &dyn Fn(&str) -> bool| {
        rules_of(alerts).into_iter().filter(|r| pred(r)).count()
    };
    let is_stock = |r: &str| r != SENTINEL_RULE && r != EVERY_EVENT_RULE;
    // Every event reached Falco: one alert each under first-match.
    assert_eq!(
        count(&ours, &|r| r != SENTINEL_RULE),
        events,
        "every corpus event reached Falco:\n{ours_out}"
    );
    assert_eq!(
        count(&theirs, &|r| r != SENTINEL_RULE),
        events,
        "upstream: every corpus event reached Falco:\n{theirs_out}"
    );
    assert_eq!(count(&theirs, &is_stock), 51, "upstream's stock alerts");
    let patterns = deviation_patterns();
    let a: Vec<Value> = ours.iter().map(|x| comparable(x, &patterns)).collect();
    let b: Vec<Value> = theirs.iter().map(|x| comparable(x, &patterns)).collect();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "alert {i} differs from upstream's");
    }
    assert_eq!(a.len(), b.len());
    // (The Go plugin logs its address, token included: "Connected to ...?tk=...".)
    assert!(
        !ours_out.contains(FAKE_TOKEN),
        "the token leaked:\n{ours_out}"
    );
    Ok(())
}

fn every_open_params_form_raises_the_same_alerts(env: &FalcoEnv) -> Result<(), Skip> {
    env.json_plugin()?;
    let dir = scratch("forms");
    std::fs::create_dir_all(&dir).unwrap();
    let frames_file = dir.join("frames.jsonl");
    let events_file = dir.join("events.jsonl");
    std::fs::write(&frames_file, corpus_frames().join("\n") + "\n").unwrap();
    let mut events = corpus();
    events.push(sentinel_event());
    std::fs::write(&events_file, events.join("\n") + "\n").unwrap();
    let pki = test_pki::TestPki::new("k8saudit-ovh falco e2e CA");
    let ca = pki.write_ca("falco-e2e-forms-ca.pem");
    let server = corpus_server(&pki);
    let ca_config = json!({ "caCertFile": ca }).to_string();
    let plugin = support::plugin_path();

    let run = |name: &str, init: &str, params: String, ends: bool| {
        let entry = PluginEntry::k8saudit_ovh(&plugin, init, &params);
        let (alerts, out) = alerts_of(env, &dir.join(name), entry, &[], ends);
        assert!(
            !out.contains(FAKE_TOKEN),
            "{name}: the token leaked:\n{out}"
        );
        (alerts, out)
    };
    let (want, want_out) = run("frames-file", "", frames_file.display().to_string(), true);
    assert_eq!(
        rules_of(&want).len(),
        corpus().len() + 1,
        "one alert per event:\n{want_out}"
    );
    let forms = [
        (
            "events-file-url",
            String::new(),
            format!("file://{}", events_file.display()),
            true,
        ),
        (
            "scheme-less",
            ca_config.clone(),
            format!("{}/tail/?tk={FAKE_TOKEN}", server.addr()),
            false,
        ),
        ("wss", ca_config.clone(), server.url(FAKE_TOKEN), false),
    ];
    let patterns = deviation_patterns();
    let want: Vec<Value> = want.iter().map(|a| comparable(a, &patterns)).collect();
    for (name, init, params, ends) in forms {
        let (got, out) = run(name, &init, params, ends);
        let got: Vec<Value> = got.iter().map(|a| comparable(a, &patterns)).collect();
        assert_eq!(got.len(), want.len(), "{name}: alerts\n{out}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{name}: alert {i}");
        }
    }
    Ok(())
}

fn a_401_stops_falco_with_the_status_and_no_token(env: &FalcoEnv) -> Result<(), Skip> {
    let dir = scratch("401");
    let pki = test_pki::TestPki::new("k8saudit-ovh falco e2e CA");
    let ca = pki.write_ca("falco-e2e-401-ca.pem");
    let server = WsServer::wss(pki.acceptor(), vec![Step::Refuse(401)]);
    let config = FalcoConfig {
        plugins: vec![PluginEntry::k8saudit_ovh(
            &support::plugin_path(),
            &json!({ "caCertFile": ca }).to_string(),
            &server.url(FAKE_TOKEN),
        )],
        rules_files: vec![repo().join("rules/k8s_audit_ovh_rules.yaml")],
        extra: String::new(),
        watch_config_files: false,
    };
    let mut falco = FalcoProcess::start(&env.falco, &config, &dir, &[]);
    let status = falco.wait_exit(Duration::from_secs(30));
    let out = falco.output();
    assert!(!status.success(), "Falco must stop with an error:\n{out}");
    assert!(
        server
            .connections()
            .first()
            .and_then(|c| c.request.clone())
            .is_some_and(|r| r.contains(FAKE_TOKEN)),
        "the plugin dialled with the token"
    );
    let stderr = falco.stderr();
    let line = stderr
        .lines()
        .find(|l| l.contains("HTTP 401"))
        .unwrap_or_else(|| panic!("no line names the status:\n{out}"));
    assert!(
        line.contains("tk=") && line.contains("open_params"),
        "the line says what to check: {line}"
    );
    assert!(!out.contains(FAKE_TOKEN), "the token leaked:\n{out}");
    assert_eq!(server.connection_count(), 1, "a 401 is not retried");
    Ok(())
}

fn a_bad_init_config_is_rejected_before_any_event_naming_the_key(
    env: &FalcoEnv,
) -> Result<(), Skip> {
    let events = scratch("bad-config-events.jsonl");
    std::fs::write(&events, corpus().join("\n") + "\n").unwrap();
    let cases = [
        ("unknown", r#"{"maxEvntSize": 262144}"#, "maxEvntSize"),
        ("range", r#"{"maxEventSize": 10}"#, "maxEventSize"),
        ("type", r#"{"pingIntervalMs": "5s"}"#, "pingIntervalMs"),
        (
            "cross-field",
            r#"{"pingIntervalMs": 5000, "deadTimeoutMs": 4000}"#,
            "deadTimeoutMs",
        ),
    ];
    for (name, init, key) in cases {
        let dir = scratch(&format!("bad-config-{name}"));
        let config = FalcoConfig {
            plugins: vec![PluginEntry::k8saudit_ovh(
                &support::plugin_path(),
                init,
                &events.display().to_string(),
            )],
            rules_files: vec![repo().join("rules/k8s_audit_ovh_rules.yaml")],
            extra: String::new(),
            watch_config_files: false,
        };
        let mut falco = FalcoProcess::start(&env.falco, &config, &dir, &[]);
        let status = falco.wait_exit(Duration::from_secs(30));
        let out = falco.output();
        assert!(
            !status.success(),
            "{name}: Falco must refuse {init}:\n{out}"
        );
        assert!(falco.alerts().is_empty(), "{name}: no event before:\n{out}");
        assert!(
            !out.contains("opening file"),
            "{name}: rejected before open:\n{out}"
        );
        let err = falco
            .stderr()
            .lines()
            .rev()
            .find(|l| l.contains("rror"))
            .map(str::to_owned)
            .unwrap_or_default();
        assert!(
            err.contains(key),
            "{name}: the error must name {key}: {err:?}\n{out}"
        );
    }
    Ok(())
}

fn rule_outputs_and_plugininfo_render_as_users_see_them(env: &FalcoEnv) -> Result<(), Skip> {
    let dir = scratch("render");
    std::fs::create_dir_all(&dir).unwrap();
    let event = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
        "auditID": "6d3a2b61-0d4f-4c1e-9b2a-7f1e5c3d9a01", "stage": "ResponseStarted",
        "requestURI": "/api/v1/namespaces/shop/pods/cart-7d9f/exec?command=sh&container=cart&stdin=true&stdout=true&tty=true",
        "verb": "get",
        "user": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
        "sourceIPs": ["203.0.113.7", "10.2.0.4"],
        "userAgent": "kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5",
        "objectRef": {"resource": "pods", "namespace": "shop", "name": "cart-7d9f", "apiVersion": "v1", "subresource": "exec"},
        "responseStatus": {"metadata": {}, "code": 101},
        "requestReceivedTimestamp": "2025-02-10T09:15:40.101523Z",
        "stageTimestamp": "2025-02-10T09:15:40.102611Z",
        "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""}
    })
    .to_string();
    let events = dir.join("events.jsonl");
    std::fs::write(&events, format!("{event}\n")).unwrap();
    let rules = dir.join("render.yaml");
    std::fs::write(
        &rules,
        "- rule: Render\n  desc: renders fields\n  condition: ka.target.subresource = exec\n  \
         output: \"%ka.user.name ran %ka.uri.param[command] in %ka.target.namespace/%ka.target.name \
         (cluster=%ka.cluster.name ips=%ka.sourceips id=%ka.auditid) %evt.plugininfo\"\n  \
         priority: WARNING\n  source: k8s_audit\n",
    )
    .unwrap();
    let config = FalcoConfig {
        plugins: vec![PluginEntry::k8saudit_ovh(
            &support::plugin_path(),
            r#"{"clusterName": "mks-prod-gra"}"#,
            &events.display().to_string(),
        )],
        rules_files: vec![rules],
        extra: String::new(),
        watch_config_files: false,
    };
    let mut falco = FalcoProcess::start(&env.falco, &config, &dir, &[]);
    let status = falco.wait_exit(Duration::from_secs(30));
    let out = falco.output();
    assert!(status.success(), "{status}\n{out}");
    let alerts = falco.alerts();
    assert_eq!(alerts.len(), 1, "{out}");
    let a = &alerts[0];
    assert_eq!(a["rule"], "Render");
    assert_eq!(a["priority"], "Warning");
    assert_eq!(a["source"], "k8s_audit");
    assert_eq!(
        a["time"], "2025-02-10T09:15:40.102611000Z",
        "the stageTimestamp"
    );
    let want = format!(
        "09:15:40.102611000: Warning kubernetes-admin ran sh in shop/cart-7d9f \
         (cluster=mks-prod-gra ips=(203.0.113.7,10.2.0.4) id=6d3a2b61-0d4f-4c1e-9b2a-7f1e5c3d9a01) {event}"
    );
    assert_eq!(a["output"], want.as_str());
    assert_eq!(a["output_fields"]["ka.cluster.name"], "mks-prod-gra");
    assert_eq!(
        a["output_fields"]["evt.plugininfo"],
        event.as_str(),
        "%evt.plugininfo is the audit event as received"
    );
    Ok(())
}

/// A server that makes 50 events a second and replays its history.
fn live_server() -> WsServer {
    let server = WsServer::ws(vec![Step::Upgrade, Step::Live]);
    server
        .replays(vec![Step::Upgrade, Step::Replay, Step::Close])
        .live_feed(Duration::from_millis(20), |i, ts| {
            ldp::event_frame(&ldp::event(&format!("ev-{i}"), &ldp::rfc3339(ts)))
        });
    server
}

/// The `ev-<i>` numbers Falco alerted on (one alert per event: the catch-all rule).
fn alerted_numbers(alerts: &[Value]) -> Vec<usize> {
    alerts
        .iter()
        .filter_map(|a| a["output_fields"]["ka.auditid"].as_str())
        .filter_map(|id| id.strip_prefix("ev-")?.parse().ok())
        .collect()
}

/// Checks that `numbers` hold every number from the first to the last once.
fn assert_each_once(mut numbers: Vec<usize>, what: &str) {
    numbers.sort_unstable();
    let (first, last) = (numbers[0], *numbers.last().unwrap());
    let twice: Vec<usize> = numbers
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    let missing: Vec<usize> = (first..=last)
        .filter(|i| numbers.binary_search(i).is_err())
        .collect();
    eprintln!(
        "    {} events {what}: {} missing, {} twice",
        last - first + 1,
        missing.len(),
        twice.len()
    );
    assert_eq!(missing, Vec::<usize>::new(), "lost {what}");
    assert_eq!(twice, Vec::<usize>::new(), "delivered twice {what}");
}

fn a_stop_and_a_restart_with_a_checkpoint_file_lose_no_event_and_repeat_none(
    env: &FalcoEnv,
) -> Result<(), Skip> {
    let dir = scratch("checkpoint");
    let server = live_server();
    let (_, last) = harness_rules(&dir);
    let file = dir.join("k8saudit-ovh.checkpoint");
    let config = FalcoConfig {
        plugins: vec![PluginEntry::k8saudit_ovh(
            &support::plugin_path(),
            &json!({ "backfillOverlapSeconds": 1, "checkpointFile": file }).to_string(),
            &server.url(FAKE_TOKEN),
        )],
        rules_files: vec![last],
        extra: String::new(),
        watch_config_files: false,
    };
    let mut numbers = Vec::new();
    for run in 0..3 {
        let mut falco = FalcoProcess::start(&env.falco, &config, &dir.join(format!("{run}")), &[]);
        assert!(
            falco.wait_for_alerts(Duration::from_secs(20), |a| a.len() > 100),
            "run {run}:\n{}",
            falco.output()
        );
        // Falco stops as a pod does: SIGTERM; the next one starts 2 s later.
        falco.stop(Duration::from_secs(20));
        assert!(!falco.output().contains(FAKE_TOKEN));
        numbers.extend(alerted_numbers(&falco.alerts()));
        std::thread::sleep(Duration::from_secs(2));
    }
    assert_each_once(numbers, "across 2 restarts");
    Ok(())
}

fn sighup_reloads_lose_no_event_and_repeat_none(env: &FalcoEnv) -> Result<(), Skip> {
    // A stream of 50 events/s; Falco reloads five times (SIGHUP: close, destroy, init and
    // open in the same process), without checkpointFile: the in-process hand-off covers it.
    let dir = scratch("sighup");
    let server = live_server();
    let (_, last) = harness_rules(&dir);
    let config = FalcoConfig {
        plugins: vec![PluginEntry::k8saudit_ovh(
            &support::plugin_path(),
            r#"{"backfillOverlapSeconds": 1}"#,
            &server.url(FAKE_TOKEN),
        )],
        rules_files: vec![last],
        extra: String::new(),
        // Without it Falco starts no restart handler, and SIGHUP does nothing.
        watch_config_files: true,
    };
    let mut falco = FalcoProcess::start(&env.falco, &config, &dir, &[]);
    assert!(
        falco.wait_for_alerts(Duration::from_secs(20), |a| a.len() > 50),
        "no events:\n{}",
        falco.output()
    );
    for _ in 0..5 {
        falco.signal(libc::SIGHUP);
        let before = falco.alerts().len();
        assert!(
            falco.wait_for_alerts(Duration::from_secs(30), |a| a.len() > before + 75),
            "Falco did not come back after SIGHUP:\n{}",
            falco.output()
        );
    }
    falco.stop(Duration::from_secs(20));
    let out = falco.output();
    assert_eq!(
        out.matches("SIGHUP received").count(),
        5,
        "five reloads:\n{out}"
    );
    assert!(!out.contains(FAKE_TOKEN), "the token leaked:\n{out}");
    assert_each_once(alerted_numbers(&falco.alerts()), "across 5 reloads");
    Ok(())
}

fn several_clusters_in_one_falco_alert_with_their_names_and_a_401_fails_alone(
    env: &FalcoEnv,
) -> Result<(), Skip> {
    let dir = scratch("clusters");
    let pki = test_pki::TestPki::new("k8saudit-ovh falco e2e CA");
    let ca = pki.write_ca("falco-e2e-clusters-ca.pem");
    let stream = |prefix: &'static str, n: usize| {
        let mut script = vec![Step::Upgrade];
        script.extend((0..n).map(|i| {
            Step::Text(ldp::event_frame(&ldp::event(
                &format!("{prefix}-{i}"),
                &ldp::numbered_ts(i),
            )))
        }));
        script.push(Step::Hold(Duration::from_secs(60)));
        WsServer::wss(pki.acceptor(), script)
    };
    let (prod, staging) = (stream("prod", 40), stream("staging", 30));
    let broken = WsServer::wss(pki.acceptor(), vec![Step::Refuse(401)]);
    let params = json!([
        { "clusterName": "prod-gra", "url": prod.url(FAKE_TOKEN) },
        { "clusterName": "staging", "url": staging.url(FAKE_TOKEN) },
        { "clusterName": "team-a", "url": broken.url(FAKE_TOKEN) },
    ])
    .to_string();
    let rules = dir.join("clusters.yaml");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        &rules,
        "- rule: Every event\n  desc: one alert per event, naming its cluster\n  condition: ka.auditid exists\n  \
         output: \"%ka.auditid in %ka.cluster.name\"\n  priority: INFORMATIONAL\n  source: k8s_audit\n",
    )
    .unwrap();
    let config = FalcoConfig {
        plugins: vec![PluginEntry::k8saudit_ovh(
            &support::plugin_path(),
            &json!({ "caCertFile": ca, "clusterName": "fallback" }).to_string(),
            &params,
        )],
        rules_files: vec![rules],
        extra: String::new(),
        watch_config_files: false,
    };
    let mut falco = FalcoProcess::start(&env.falco, &config, &dir, &[]);
    let done = falco.wait_for_alerts(Duration::from_secs(30), |a| a.len() >= 70);
    assert!(done, "alerts of both healthy clusters:\n{}", falco.output());
    std::thread::sleep(Duration::from_millis(300));
    falco.stop(Duration::from_secs(20));
    let out = falco.output();
    assert!(!out.contains(FAKE_TOKEN), "the token leaked:\n{out}");
    let mut by_cluster: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for a in falco.alerts() {
        let id = a["output_fields"]["ka.auditid"]
            .as_str()
            .unwrap()
            .to_owned();
        let cluster = a["output_fields"]["ka.cluster.name"]
            .as_str()
            .unwrap()
            .to_owned();
        by_cluster.entry(cluster).or_default().push(id);
    }
    let want = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}-{i}")).collect::<Vec<_>>();
    assert_eq!(
        by_cluster.get("prod-gra"),
        Some(&want("prod", 40)),
        "{by_cluster:?}"
    );
    assert_eq!(
        by_cluster.get("staging"),
        Some(&want("staging", 30)),
        "{by_cluster:?}"
    );
    assert_eq!(by_cluster.len(), 2, "{by_cluster:?}");
    let stderr = falco.stderr();
    let line = stderr
        .lines()
        .find(|l| l.contains("HTTP 401"))
        .unwrap_or_else(|| panic!("the 401 is in Falco's log:\n{out}"));
    assert!(line.contains("team-a"), "names the stream: {line}");
    assert_eq!(
        stderr.matches("HTTP 401").count(),
        1,
        "logged once:\n{stderr}"
    );
    Ok(())
}
