//! No blind spot across restarts and reloads, through the built plugin's C ABI, against a
//! local LDP stand-in that makes events as time goes and replays its history for
//! `begin`/`end`.
//!
//! Falco itself is played by child processes of this test binary (`__host`), so that a crash
//! is a real SIGKILL and a restart a new process (nothing left in memory), and by this process
//! for in-process reloads (close, destroy, init, open with the library loaded). A
//! `harness = false` binary: it runs its own tests, in order.

#[path = "support/ldp.rs"]
mod ldp;
#[path = "support/observe.rs"]
mod observe;
mod support;
#[path = "support/ws_server.rs"]
mod ws_server;

use ldp::{event_frame, fast_config, FAKE_TOKEN};
use observe::{logged, metric};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hasher;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::Host;
use ws_server::{Step, WsServer};

const HOST: &str = "__host";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(HOST) {
        return host_main(&args[1], &args[2]);
    }
    let tests: [(&str, fn()); 8] = [
        (
            "crash_clean_restart_and_reload_lose_nothing_and_repeat_only_after_a_crash",
            crash_clean_restart_and_reload_lose_nothing_and_repeat_only_after_a_crash,
        ),
        (
            "an_in_process_reload_without_a_checkpoint_file_loses_nothing",
            an_in_process_reload_without_a_checkpoint_file_loses_nothing,
        ),
        (
            "a_corrupt_checkpoint_is_ignored_with_a_warning_and_the_stream_starts_live",
            a_corrupt_checkpoint_is_ignored_with_a_warning_and_the_stream_starts_live,
        ),
        (
            "a_checkpoint_of_another_stream_is_ignored",
            a_checkpoint_of_another_stream_is_ignored,
        ),
        (
            "a_gap_longer_than_backfill_max_seconds_is_cut_and_reported",
            a_gap_longer_than_backfill_max_seconds_is_cut_and_reported,
        ),
        (
            "a_directory_that_cannot_be_written_is_counted_and_the_stream_goes_on",
            a_directory_that_cannot_be_written_is_counted_and_the_stream_goes_on,
        ),
        (
            "the_checkpoint_file_is_0600_and_holds_no_token",
            the_checkpoint_file_is_0600_and_holds_no_token,
        ),
        (
            "events_of_the_last_batch_falco_did_not_go_through_are_delivered_again",
            events_of_the_last_batch_falco_did_not_go_through_are_delivered_again,
        ),
    ];
    let filter: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let (mut passed, mut failed) = (0, Vec::new());
    println!("\nrunning {} tests", tests.len());
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let t = Instant::now();
        match std::panic::catch_unwind(test) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({:.1} s)", t.elapsed().as_secs_f64());
            }
            Err(_) => {
                failed.push(name);
                println!("test {name} ... FAILED");
            }
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed\n",
        failed.len()
    );
    if !failed.is_empty() {
        std::process::exit(101);
    }
}

/// Event `i` of the live feed, stamped `ts`: auditID `ev-<i>`.
fn feed_frame(i: usize, ts: u64) -> String {
    event_frame(&ldp::event(&format!("ev-{i}"), &ldp::rfc3339(ts)))
}

/// A stand-in for LDP: a live feed of one event every `every`, history replays.
fn ldp_server(every: Duration) -> WsServer {
    let server = WsServer::ws(vec![Step::Upgrade, Step::Live]);
    server
        .replays(vec![Step::Upgrade, Step::Replay, Step::Close])
        .live_feed(every, feed_frame);
    server
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = support::temp_path(&format!("restarts-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(extra: Value) -> String {
    let mut base = json!({ "backfillOverlapSeconds": 1, "checkpointIntervalMs": 200 });
    base.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    fast_config(base)
}

/// The number of `ev-<i>`.
fn number(payload: &str) -> usize {
    let v: Value = serde_json::from_str(payload).unwrap();
    v["auditID"].as_str().unwrap()["ev-".len()..]
        .parse()
        .unwrap()
}

// ---- the host in a child process: Falco that can crash ----

/// The child: opens `url` with `config`, prints `event <payload>` for each event, and obeys
/// its stdin: `reload <ms>` (close, destroy, pause, init, open), `close` (then exit).
fn host_main(config: &str, url: &str) {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
        let _ = tx.send("close".into());
    });
    let mut out = std::io::stdout();
    let mut logs_shown = 0;
    loop {
        let mut host = Host::init(config).expect("init");
        let mut inst = host.open(Some(url)).expect("open");
        // Where the open resumed from, for the parent.
        let logs = support::captured_logs();
        for line in &logs[logs_shown..] {
            if line.message.contains("resumes from") {
                writeln!(out, "log {}", line.message).unwrap();
            }
        }
        logs_shown = logs.len();
        let command = loop {
            if let Ok(c) = rx.try_recv() {
                break c;
            }
            let (events, end) = inst.collect(usize::MAX, Duration::from_millis(20));
            assert!(end.is_none(), "the source ended: {end:?}");
            for e in events {
                writeln!(out, "event {}", e.text()).unwrap();
            }
            out.flush().unwrap();
        };
        inst.close();
        drop(host);
        match command.split_once(' ') {
            Some(("reload", ms)) => {
                std::thread::sleep(Duration::from_millis(ms.parse().unwrap()));
                writeln!(out, "reloaded").unwrap();
            }
            _ => {
                writeln!(out, "closed").unwrap();
                out.flush().unwrap();
                return;
            }
        }
    }
}

/// Lines a child printed, shared with the thread that reads them.
type Lines = Arc<Mutex<Vec<String>>>;

/// A child host and what it printed.
struct Falco {
    child: Child,
    events: Lines,
    lines: Lines,
}

impl Falco {
    fn start(config: &str, url: &str) -> Falco {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([HOST, config, url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (events, lines) = (Arc::default(), Arc::default());
        let stdout = child.stdout.take().unwrap();
        let (e, l): (Lines, Lines) = (Arc::clone(&events), Arc::clone(&lines));
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                match line.strip_prefix("event ") {
                    Some(p) => e.lock().unwrap().push(p.to_owned()),
                    None => l.lock().unwrap().push(line),
                }
            }
        });
        Falco {
            child,
            events,
            lines,
        }
    }

    fn numbers(&self) -> Vec<usize> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|p| number(p))
            .collect()
    }

    /// Waits until it printed an event numbered `n` or above.
    fn wait_for(&self, n: usize, within: Duration) {
        let end = Instant::now() + within;
        while !self.numbers().iter().any(|&i| i >= n) {
            assert!(Instant::now() < end, "no ev-{n} within {within:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn command(&mut self, c: &str, answer: &str) {
        writeln!(self.child.stdin.as_mut().unwrap(), "{c}").unwrap();
        let end = Instant::now() + Duration::from_secs(20);
        while !self.lines.lock().unwrap().iter().any(|l| l == answer) {
            assert!(Instant::now() < end, "no {answer:?} after {c:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.lines.lock().unwrap().retain(|l| l != answer);
    }

    /// The lines it logged about where it resumed from, in order.
    fn resumed(&self) -> Vec<String> {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .filter_map(|l| l.strip_prefix("log "))
            .map(str::to_owned)
            .collect()
    }

    /// Falco stops cleanly: the instance closes and the plugin is destroyed.
    fn close(mut self) -> Vec<String> {
        self.command("close", "closed");
        self.child.wait().unwrap();
        self.events.lock().unwrap().clone()
    }

    /// Falco crashes: SIGKILL, nothing closes.
    fn kill(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        self.events.lock().unwrap().clone()
    }
}

/// The keys a checkpoint file records, and its secret: which events it says Falco had.
fn checkpoint_keys(path: &Path) -> (BTreeSet<u64>, [u64; 2]) {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let secret = doc["dedup"]["secret"].as_str().unwrap();
    let s = [
        u64::from_str_radix(&secret[..16], 16).unwrap(),
        u64::from_str_radix(&secret[16..], 16).unwrap(),
    ];
    // Each event: its key, then its timestamp, 16 hex digits each.
    let keys = doc["dedup"]["keys"].as_str().unwrap();
    let keys = (0..keys.len() / 32)
        .map(|i| u64::from_str_radix(&keys[i * 32..i * 32 + 16], 16).unwrap())
        .collect();
    (keys, s)
}

/// An event's key with a checkpoint's secret, as the plugin makes it.
fn key(secret: [u64; 2], payload: &str) -> u64 {
    let mut h = siphasher::sip::SipHasher13::new_with_keys(secret[0], secret[1]);
    h.write_usize(payload.len());
    h.write(payload.as_bytes());
    h.finish()
}

/// How many times each event number was delivered.
fn counts(all: &[&[String]]) -> BTreeMap<usize, usize> {
    let mut c = BTreeMap::new();
    for part in all {
        for p in part.iter() {
            *c.entry(number(p)).or_default() += 1;
        }
    }
    c
}

// ---- the tests ----

fn crash_clean_restart_and_reload_lose_nothing_and_repeat_only_after_a_crash() {
    // The scenario of the issue, at 20 events/s: a crash after 40 events, a restart 3 s
    // later, a clean stop after 100 more, a restart 3 s later, and an in-process reload with
    // a 1 s pause after 20 more.
    let server = ldp_server(Duration::from_millis(50));
    let dir = scratch_dir("scenario");
    let file = dir.join("k8saudit-ovh.checkpoint");
    let config = config(json!({ "checkpointFile": file }));
    let url = server.url(FAKE_TOKEN);

    let first = Falco::start(&config, &url);
    first.wait_for(39, Duration::from_secs(20));
    let crashed = first.kill();
    let (kept, secret) = checkpoint_keys(&file);
    std::thread::sleep(Duration::from_secs(3));

    let second = Falco::start(&config, &url);
    let from_file = format!("(checkpointFile {})", file.display());
    second.wait_for(0, Duration::from_secs(20));
    let resumed = second.resumed();
    assert!(
        resumed.len() == 1 && resumed[0].contains(&from_file),
        "a new process resumes from the file: {resumed:?}"
    );
    let last_crashed = crashed.iter().map(|p| number(p)).max().unwrap();
    second.wait_for(last_crashed + 60 + 100, Duration::from_secs(30));
    let cleanly = second.close();
    std::thread::sleep(Duration::from_secs(3));

    let mut third = Falco::start(&config, &url);
    let last_clean = cleanly.iter().map(|p| number(p)).max().unwrap();
    third.wait_for(last_clean + 60 + 20, Duration::from_secs(30));
    third.command("reload 1000", "reloaded");
    let before_reload = third.numbers().into_iter().max().unwrap();
    third.wait_for(before_reload + 20 + 20, Duration::from_secs(30));
    let resumed = third.resumed();
    assert_eq!(resumed.len(), 2, "{resumed:?}");
    assert!(resumed[0].contains(&from_file), "{resumed:?}");
    assert!(
        resumed[1].contains("(where the instance closed before it in this process)"),
        "a reload resumes from what the closed instance handed over: {resumed:?}"
    );
    let reloaded = third.close();

    let all = counts(&[&crashed, &cleanly, &reloaded]);
    // From the first event the first run received (the feed may start before it connects).
    let first_seen = crashed.iter().map(|p| number(p)).min().unwrap();
    let last = *all.keys().max().unwrap();
    let missing: Vec<usize> = (first_seen..=last)
        .filter(|i| !all.contains_key(i))
        .collect();
    assert_eq!(missing, Vec::<usize>::new(), "events lost");
    assert!(
        last - first_seen >= 300,
        "the span covers the scenario: {first_seen}..{last}"
    );
    // Duplicates only after the crash, and only of events the checkpoint did not have.
    let twice: Vec<usize> = all
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(i, _)| *i)
        .collect();
    let after_crash = counts(&[&crashed, &cleanly]);
    for i in &twice {
        assert_eq!(
            after_crash.get(i),
            Some(&2),
            "ev-{i} twice, not across the crash"
        );
        let p = crashed.iter().find(|p| number(p) == *i).unwrap();
        assert!(
            !kept.contains(&key(secret, p)),
            "ev-{i} was in the checkpoint, yet delivered again"
        );
    }
    eprintln!(
        "    {} events, {} delivered twice (after the crash, past its last checkpoint)",
        last - first_seen + 1,
        twice.len()
    );
}

fn an_in_process_reload_without_a_checkpoint_file_loses_nothing() {
    let server = ldp_server(Duration::from_millis(20));
    let config = config(json!({}));
    let url = server.url(FAKE_TOKEN);
    let mut seen = Vec::new();
    for round in 0..3 {
        let mut host = Host::init(&config).unwrap();
        let mut inst = host.open(Some(&url)).unwrap();
        let (events, end) = inst.collect(usize::MAX, Duration::from_millis(1500));
        assert!(end.is_none(), "{end:?}");
        seen.extend(events.iter().map(|e| e.text()));
        if round > 0 {
            assert_eq!(metric(&mut inst, "checkpoint_resumes"), 1, "round {round}");
        }
        inst.close();
        drop(host);
        // Falco reloads: the library stays loaded; events go on meanwhile.
        std::thread::sleep(Duration::from_millis(700));
    }
    let all = counts(&[&seen]);
    // From the first event received (the feed may start before the first connection).
    let (first, last) = (*all.keys().min().unwrap(), *all.keys().max().unwrap());
    let missing: Vec<usize> = (first..=last).filter(|i| !all.contains_key(i)).collect();
    assert_eq!(missing, Vec::<usize>::new(), "events lost across reloads");
    let twice: Vec<usize> = all
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(twice, Vec::<usize>::new(), "events delivered twice");
    let addr = server.addr().to_string();
    let resumed = logged(&[
        &addr,
        "resumes from",
        "(where the instance closed before it in this process)",
    ]);
    assert_eq!(resumed.len(), 2, "{resumed:?}");
}

/// Opens `url` with `config`, collects for `during` (and with a checkpoint file, until it was
/// written), closes; returns the events and metrics.
fn run_once(config: &str, url: &str, during: Duration) -> (Vec<usize>, Vec<(String, u64)>) {
    let mut host = Host::init(config).unwrap();
    let mut inst = host.open(Some(url)).unwrap();
    let (mut events, end) = inst.collect(usize::MAX, during);
    assert!(end.is_none(), "{end:?}");
    if config.contains("checkpointFile") {
        events.extend(until_written(&mut inst, 1));
    }
    let names = [
        "checkpoint_rejected",
        "checkpoint_resumes",
        "checkpoint_writes",
        "checkpoint_write_failures",
        "backfill_incomplete",
    ];
    let metrics = names
        .iter()
        .map(|n| (n.to_string(), metric(&mut inst, n)))
        .collect();
    inst.close();
    (events.iter().map(|e| number(&e.text())).collect(), metrics)
}

/// Collects until the checkpoint file was written `writes` times (however slow the machine:
/// within 20 s); returns the events.
fn until_written(inst: &mut support::Instance<'_>, writes: u64) -> Vec<support::Event> {
    let (mut events, end) = (Vec::new(), Instant::now() + Duration::from_secs(20));
    while metric(inst, "checkpoint_writes") < writes {
        assert!(
            Instant::now() < end,
            "not {writes} checkpoint writes within 20 s"
        );
        let (more, over) = inst.collect(usize::MAX, Duration::from_millis(100));
        assert!(over.is_none(), "{over:?}");
        events.extend(more);
    }
    events
}

fn value(metrics: &[(String, u64)], name: &str) -> u64 {
    metrics.iter().find(|(n, _)| n == name).unwrap().1
}

fn a_corrupt_checkpoint_is_ignored_with_a_warning_and_the_stream_starts_live() {
    let server = ldp_server(Duration::from_millis(20));
    let dir = scratch_dir("corrupt");
    let file = dir.join("cp");
    std::fs::write(
        &file,
        "{\"format\": \"k8saudit-ovh checkpoint\", \"version\": 1, \"strea",
    )
    .unwrap();
    let config = config(json!({ "checkpointFile": file }));
    std::thread::sleep(Duration::from_millis(500));
    let (events, m) = run_once(&config, &server.url(FAKE_TOKEN), Duration::from_millis(800));
    assert_eq!(value(&m, "checkpoint_rejected"), 1);
    assert_eq!(value(&m, "checkpoint_resumes"), 0);
    assert!(value(&m, "checkpoint_writes") >= 1, "the file is replaced");
    // Live from the open: what the feed made before was not replayed.
    assert!(*events.iter().min().unwrap() > 5, "{events:?}");
    let line = logged(&[&file.display().to_string(), "not a valid checkpoint"]);
    assert_eq!(line.len(), 1, "{line:?}");
    assert!(line[0].contains("starts live") && !line[0].contains(FAKE_TOKEN));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(doc["version"], 1, "a valid checkpoint now");
}

fn a_checkpoint_of_another_stream_is_ignored() {
    let (one, other) = (
        ldp_server(Duration::from_millis(20)),
        ldp_server(Duration::from_millis(20)),
    );
    let dir = scratch_dir("other");
    let file = dir.join("cp");
    let config = config(json!({ "checkpointFile": file }));
    let (_, m) = run_once(&config, &one.url(FAKE_TOKEN), Duration::from_millis(600));
    assert!(value(&m, "checkpoint_writes") >= 1);
    let (_, m) = run_once(&config, &other.url(FAKE_TOKEN), Duration::from_millis(600));
    assert_eq!(value(&m, "checkpoint_rejected"), 1);
    assert_eq!(value(&m, "checkpoint_resumes"), 0);
    let lines = logged(&["belongs to another stream", &file.display().to_string()]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(!lines[0].contains(FAKE_TOKEN));
}

fn a_gap_longer_than_backfill_max_seconds_is_cut_and_reported() {
    let server = ldp_server(Duration::from_millis(20));
    let config = config(json!({ "backfillMaxSeconds": 1 }));
    let url = server.url(FAKE_TOKEN);
    let (first, _) = run_once(&config, &url, Duration::from_millis(600));
    std::thread::sleep(Duration::from_secs(3));
    let (second, m) = run_once(&config, &url, Duration::from_millis(1500));
    assert_eq!(value(&m, "checkpoint_resumes"), 1);
    assert_eq!(
        value(&m, "backfill_incomplete"),
        1,
        "the older part is reported"
    );
    let resumed_from = *second.iter().min().unwrap();
    let stopped_at = *first.iter().max().unwrap();
    assert!(
        resumed_from > stopped_at + 50,
        "only the last second or two of a 3 s gap: {stopped_at} then {resumed_from}"
    );
    let addr = server.addr().to_string();
    let line = logged(&[&addr, "longer than backfillMaxSeconds (1 s)"]);
    assert_eq!(line.len(), 1, "{line:?}");
    assert!(
        line[0].contains(" to "),
        "says which time range: {}",
        line[0]
    );
}

fn a_directory_that_cannot_be_written_is_counted_and_the_stream_goes_on() {
    let server = ldp_server(Duration::from_millis(20));
    let dir = scratch_dir("gone");
    let config = config(json!({ "checkpointFile": dir.join("cp") }));
    let mut host = Host::init(&config).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    // The directory goes away under the running plugin (root can write anywhere else).
    std::fs::remove_dir_all(&dir).unwrap();
    let (events, end) = inst.collect(usize::MAX, Duration::from_millis(1200));
    assert!(end.is_none(), "{end:?}");
    assert!(events.len() > 20, "the stream goes on: {}", events.len());
    assert!(metric(&mut inst, "checkpoint_write_failures") >= 2);
    let lines = logged(&["cannot write checkpointFile", &dir.display().to_string()]);
    assert_eq!(lines.len(), 1, "logged once: {lines:?}");
    inst.close();
}

fn the_checkpoint_file_is_0600_and_holds_no_token() {
    use std::os::unix::fs::PermissionsExt;
    let server = ldp_server(Duration::from_millis(20));
    let dir = scratch_dir("mode");
    let file = dir.join("cp");
    let config = config(json!({ "checkpointFile": file }));
    let mut host = Host::init(&config).unwrap();
    let mut inst = host.open(Some(&server.url(FAKE_TOKEN))).unwrap();
    // Written every checkpointIntervalMs (200) while events come.
    until_written(&mut inst, 2);
    inst.close();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(FAKE_TOKEN), "{text}");
    assert!(text.contains("tk=<redacted>"), "{text}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind: {left:?}");
    ldp::assert_no_token_in_logs();
}

fn events_of_the_last_batch_falco_did_not_go_through_are_delivered_again() {
    // Falco takes events one by one and, on SIGTERM or SIGHUP, drops the rest of a batch;
    // it asks for the fields of each event it takes. Played here: of a batch of ten, the
    // host asks for fields of the first four only, then closes and reopens (a reload).
    let tl = ldp::Timeline::recent(Duration::ZERO, 10);
    let server = WsServer::ws(vec![Step::Upgrade, Step::Hold(Duration::from_secs(10))]);
    server.history(tl.history(0..10));
    server.replays(vec![Step::Upgrade, Step::Replay, Step::Close]);
    let mut first = vec![Step::Upgrade];
    first.extend((0..10).map(|i| Step::Text(tl.frame(i))));
    first.push(Step::Hold(Duration::from_secs(10)));
    server.push(first);
    let config = config(json!({}));
    let url = server.url(FAKE_TOKEN);
    let mut host = Host::init(&config).unwrap();
    let mut inst = host.open(Some(&url)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let batch = loop {
        match inst.next_batch() {
            support::Batch::Events(e) => break e,
            support::Batch::Timeout => continue,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(batch.len(), 10, "one batch of ten");
    for (n, e) in batch.iter().take(4).enumerate() {
        let got = inst
            .host
            .extract_one(e, n as u64 + 1, "ka.auditid", &support::Arg::None);
        assert!(got.one().is_some());
    }
    inst.close();
    drop(host);
    let mut host = Host::init(&config).unwrap();
    let mut inst = host.open(Some(&url)).unwrap();
    let (again, end) = inst.collect(usize::MAX, Duration::from_millis(1500));
    assert!(end.is_none(), "{end:?}");
    let again: Vec<usize> = again.iter().map(|e| number(&e.text())).collect();
    assert_eq!(
        again,
        (4..10).collect::<Vec<_>>(),
        "the six Falco dropped, once"
    );
}
