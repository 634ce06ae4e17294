//! End-to-end benchmark: a loopback LDP stand-in streams the audit corpus over wss (or ws),
//! and the built plugin is driven through its C ABI as Falco drives it: `next_batch` in a
//! loop, then one `extract_fields` call per field per event for the 20 `ka.*` fields the
//! stock rules use most. Prints events/s, MB/s, CPU seconds per million events, peak RSS and
//! the delay from frame sent to event returned, against the project's targets.
//!
//! ```text
//! cargo bench --bench e2e                      # the suite, over wss: 3 runs of 10 s each
//! cargo bench --bench e2e -- --ws              # the same over plain ws://
//! cargo bench --bench e2e -- --only paced      # some scenarios (comma-separated names)
//! cargo bench --bench e2e -- --secs 20 --repeat 5
//! cargo bench --bench e2e -- --field-costs     # also: nanoseconds per extract_fields call, per field
//! cargo bench --bench e2e -- --soak 600        # 10 min at 10,000 events/s, RSS every 15 s
//! cargo bench --bench e2e -- --soak 600 --rate 50000
//! UPSTREAM_PLUGIN=/path/to/upstream.so cargo bench --bench e2e   # also the Go plugin, side by side
//! ```
//!
//! With `UPSTREAM_PLUGIN` set (`eval "$(../shared/tools/falco/setup)"` sets it), the same
//! scenarios then run against the upstream Go plugin, driven the same way against the same
//! server, in a child process of this binary (`K8SAUDIT_OVH_PLUGIN` points the host at its
//! library; Go's TLS trusts the test CA through `SSL_CERT_FILE`), and a table of ratios ends
//! the report. The Go plugin only dials wss, so `--ws` runs ours alone.
//!
//! Without `--bench` on the command line (clippy, `cargo test --benches`, a bare run) each
//! scenario runs once for a fraction of a second: a smoke test, not a measurement.
//!
//! The server is a child process (this binary again), so the CPU time and memory measured
//! here are the plugin's and its host's only; see `e2e/server.rs`.

#[path = "e2e/frames.rs"]
mod frames;
// Shared with the falco bench, which uses more of it.
#[allow(dead_code)]
#[path = "e2e/server.rs"]
mod server;
#[path = "e2e/stats.rs"]
mod stats;
#[path = "../tests/support/mod.rs"]
mod support;
#[path = "../tests/support/test_pki.rs"]
mod test_pki;

use server::{Feed, Server};
use stats::{context_switches, cpu_seconds, mono_ns, status_mb, thread_cpu_seconds, Histogram};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::{Arg, Host, Instance, PreparedField, RawBatch};

/// The 20 `ka.*` fields Falco's stock rules (`tests/fixtures/rules/k8s_audit_rules.yaml`)
/// name most often, counting occurrences in rule and macro conditions and in rule outputs;
/// the number is that count. The 20th place is a tie of fields named once: the first of them
/// in the file. None takes an argument there.
const TOP_FIELDS: [(&str, u32); 20] = [
    ("ka.target.resource", 57),
    ("ka.user.name", 53),
    ("ka.target.name", 43),
    ("ka.target.namespace", 34),
    ("ka.response.code", 25),
    ("ka.auth.decision", 23),
    ("ka.auth.reason", 23),
    ("ka.verb", 10),
    ("ka.uri", 10),
    ("ka.target.subresource", 7),
    ("ka.resp.name", 7),
    ("ka.req.pod.containers.image", 7),
    ("ka.req.pod.containers.image.repository", 7),
    ("ka.req.configmap.obj", 6),
    ("ka.req.role.rules", 5),
    ("ka.req.binding.role", 3),
    ("ka.req.binding.subjects", 3),
    ("ka.req.role.rules.resources", 2),
    ("ka.req.role.rules.verbs", 2),
    ("ka.req.pod.containers.privileged", 1),
];

/// Targets, and the upstream Go plugin driven the same way on the reference 2-core machine.
const TARGET_P99_MS: f64 = 5.0;
const TARGET_RSS_MB: f64 = 50.0;
const PACED_RATE: u64 = 10_000;

struct Scenario {
    name: &'static str,
    what: &'static str,
    /// What each stream's server sends (the rate is per stream).
    feed: Feed,
    extract: bool,
    /// LDP streams in the source (`open_params` as an array when more than one).
    streams: usize,
}

/// Streams of the many-streams scenario, sharing [`PACED_RATE`].
const STREAMS: usize = 10;
/// The name of the plugin's reader thread (its CPU is shown apart).
const READER_THREAD: &str = "k8saudit-ovh";

const SCENARIOS: [Scenario; 6] = [
    Scenario {
        name: "batch",
        what: "next_batch only, 1 event per frame, as fast as read",
        feed: Feed {
            events_per_frame: 1,
            rate: 0,
        },
        extract: false,
        streams: 1,
    },
    Scenario {
        name: "fields",
        what: "next_batch + 20 fields, 1 event per frame, as fast as read",
        feed: Feed {
            events_per_frame: 1,
            rate: 0,
        },
        extract: true,
        streams: 1,
    },
    Scenario {
        name: "list",
        what: "next_batch only, EventList of 50 per frame, as fast as read",
        feed: Feed {
            events_per_frame: 50,
            rate: 0,
        },
        extract: false,
        streams: 1,
    },
    Scenario {
        name: "list-fields",
        what: "next_batch + 20 fields, EventList of 50 per frame, as fast as read",
        feed: Feed {
            events_per_frame: 50,
            rate: 0,
        },
        extract: true,
        streams: 1,
    },
    Scenario {
        name: "paced",
        what: "next_batch + 20 fields, 1 event per frame, 10,000 events/s",
        feed: Feed {
            events_per_frame: 1,
            rate: PACED_RATE,
        },
        extract: true,
        streams: 1,
    },
    Scenario {
        name: "streams",
        what: "next_batch + 20 fields, 10 streams of 1,000 events/s each (10,000 in all)",
        feed: Feed {
            events_per_frame: 1,
            rate: PACED_RATE / STREAMS as u64,
        },
        extract: true,
        streams: STREAMS,
    },
];

struct Options {
    quick: bool,
    tls: bool,
    secs: f64,
    warmup: f64,
    repeat: usize,
    only: Option<Vec<String>>,
    soak: Option<f64>,
    rate: u64,
    field_costs: bool,
    /// This process drives the upstream plugin (a child of the main run): the server
    /// certificate and key the main run made.
    as_upstream: Option<(PathBuf, PathBuf)>,
}

impl Options {
    fn parse(args: &[String]) -> Options {
        let quick = !args.iter().any(|a| a == "--bench");
        let value = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .map(String::as_str)
        };
        let number = |name: &str| {
            value(name).map(|v| {
                v.parse::<f64>()
                    .unwrap_or_else(|_| panic!("{name} takes a number, not {v:?}"))
            })
        };
        Options {
            quick,
            tls: !args.iter().any(|a| a == "--ws"),
            secs: number("--secs").unwrap_or(if quick { 0.3 } else { 10.0 }),
            warmup: if quick { 0.1 } else { 2.0 },
            repeat: number("--repeat").map_or(if quick { 1 } else { 3 }, |n| n as usize),
            only: value("--only").map(|v| v.split(',').map(str::to_owned).collect()),
            soak: number("--soak"),
            rate: number("--rate").map_or(PACED_RATE, |r| r as u64),
            field_costs: args.iter().any(|a| a == "--field-costs"),
            as_upstream: args.iter().position(|a| a == AS_UPSTREAM).map(|i| {
                let path =
                    |k: usize| PathBuf::from(args.get(i + k).expect("--as-upstream CERT KEY"));
                (path(1), path(2))
            }),
        }
    }
}

/// Argument that makes this binary drive the upstream plugin (see the crate doc).
const AS_UPSTREAM: &str = "--as-upstream";

/// The server's TLS identity and the plugin config that trusts it.
struct Env {
    tls: Option<(PathBuf, PathBuf)>,
    /// The test CA (wss).
    ca: Option<PathBuf>,
    config: String,
    fields: Vec<PreparedField>,
    /// Driving the upstream Go plugin: it takes the address without a scheme (wss).
    upstream: bool,
}

impl Env {
    fn new(tls: bool) -> Env {
        let mut ca = None;
        let (tls, config) = if tls {
            let pki = test_pki::TestPki::new("k8saudit-ovh e2e bench CA");
            let ca_path = pki.write_ca("e2e-ca.pem");
            let cert = support::temp_path("e2e-server-cert.pem");
            let key = support::temp_path("e2e-server-key.pem");
            std::fs::write(&cert, &pki.cert_pem).unwrap();
            std::fs::write(&key, &pki.key_pem).unwrap();
            let config = serde_json::json!({ "caCertFile": ca_path }).to_string();
            ca = Some(ca_path);
            (Some((cert, key)), config)
        } else {
            (None, "{}".to_owned())
        };
        Env {
            tls,
            ca,
            config,
            fields: Self::fields(),
            upstream: false,
        }
    }

    /// The upstream plugin's side, on the certificate the main run made.
    fn upstream(cert: PathBuf, key: PathBuf) -> Env {
        Env {
            tls: Some((cert, key)),
            ca: None,
            // Its json extraction would otherwise run asynchronously, which crawls on 2 cores.
            config: r#"{"useAsync":false}"#.to_owned(),
            fields: Self::fields(),
            upstream: true,
        }
    }

    fn fields() -> Vec<PreparedField> {
        TOP_FIELDS
            .iter()
            .filter_map(|(name, _)| Host::prepare_field(name, Arg::None))
            .collect()
    }

    fn url(&self, server: &Server) -> String {
        if self.upstream {
            return format!("127.0.0.1:{}/tail/?tk=bench", server.port);
        }
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://127.0.0.1:{}/tail/?tk=bench", server.port)
    }

    /// `open_params` for `streams` streams of `server` (one: its address; more: the array
    /// form, each stream a connection of its own).
    fn open_params(&self, server: &Server, streams: usize) -> String {
        if streams == 1 {
            return self.url(server);
        }
        let list: Vec<serde_json::Value> = (0..streams)
            .map(|i| {
                serde_json::json!({
                    "clusterName": format!("cluster-{i}"),
                    "url": format!("{}-{i}", self.url(server)),
                })
            })
            .collect();
        serde_json::Value::Array(list).to_string()
    }
}

/// What one stretch of a run saw.
struct Window {
    events: u64,
    batches: u64,
    latency: Histogram,
    timeouts: u64,
    values: u64,
    /// queue_depth, sampled every 100 ms: (sum, samples, max).
    queue: (f64, u64, f64),
    /// Per field: nanoseconds spent in extract_fields, calls, values (only with timing on).
    field_ns: Vec<(u64, u64, u64)>,
}

impl Window {
    fn new(fields: usize) -> Window {
        Window {
            events: 0,
            batches: 0,
            latency: Histogram::new(),
            timeouts: 0,
            values: 0,
            queue: (0.0, 0, 0.0),
            field_ns: vec![(0, 0, 0); fields],
        }
    }
}

/// The Falco side of a run: the open instance and where the stream is.
struct Falco<'e, 'h> {
    inst: Instance<'h>,
    env: &'e Env,
    extract: bool,
    time_fields: bool,
    evtnum: u64,
    /// The next sequence number expected of each stream (`seq >> STREAM_SHIFT`).
    next_seq: std::collections::HashMap<u64, u64>,
    /// Events out of sequence (lost, duplicated or reordered): must stay 0.
    order_errors: u64,
}

impl Falco<'_, '_> {
    /// Calls next_batch (and extracts) until `until`.
    fn pump(&mut self, until: Instant, w: &mut Window) {
        let fields = &self.env.fields;
        let (extract, time_fields) = (self.extract, self.time_fields);
        let (evtnum, next_seq, order_errors) =
            (&mut self.evtnum, &mut self.next_seq, &mut self.order_errors);
        let mut sample_at = Instant::now();
        loop {
            let now = Instant::now();
            if now >= until {
                break;
            }
            // (The Go plugin has no metrics.)
            if now >= sample_at && !self.env.upstream {
                sample_at = now + Duration::from_millis(100);
                let depth = self
                    .inst
                    .host
                    .metrics()
                    .get("queue_depth")
                    .copied()
                    .unwrap_or(0.0);
                w.queue.0 += depth;
                w.queue.1 += 1;
                w.queue.2 = f64::max(w.queue.2, depth);
            }
            let mut returned = 0u64;
            let batch = self.inst.next_batch_raw(|host, raw| {
                if returned == 0 {
                    returned = mono_ns();
                }
                match frames::read_id(support::event_payload(raw)) {
                    Some((seq, sent)) => {
                        w.latency.record(returned.saturating_sub(sent));
                        let stream = seq >> server::STREAM_SHIFT;
                        if next_seq.get(&stream).is_some_and(|s| *s != seq) {
                            *order_errors += 1;
                        }
                        next_seq.insert(stream, seq + 1);
                    }
                    None => *order_errors += 1,
                }
                if extract {
                    *evtnum += 1;
                    for (i, f) in fields.iter().enumerate() {
                        let t0 = if time_fields { mono_ns() } else { 0 };
                        let n = host
                            .extract_prepared(raw, *evtnum, f, |_| {})
                            .unwrap_or_else(|e| panic!("extracting {}: {e}", f.name));
                        w.values += n as u64;
                        if time_fields {
                            let c = &mut w.field_ns[i];
                            c.0 += mono_ns() - t0;
                            c.1 += 1;
                            c.2 += n as u64;
                        }
                    }
                }
            });
            match batch {
                RawBatch::Events(n) => {
                    w.events += n as u64;
                    w.batches += 1;
                }
                RawBatch::Timeout => w.timeouts += 1,
                RawBatch::Eof => panic!("the stream ended"),
                RawBatch::Failure(e) => panic!("the source failed: {e}"),
            }
        }
    }

    fn metric(&mut self, name: &str) -> f64 {
        if self.env.upstream {
            return f64::NAN;
        }
        self.inst.host.metrics().get(name).copied().unwrap_or(0.0)
    }
}

/// The figures of one measured run.
struct Measured {
    events_per_s: f64,
    mb_per_s: f64,
    cpu_per_m: f64,
    /// The reader thread's share of `cpu_per_m`.
    reader_cpu_per_m: f64,
    switches_per_k: f64,
    peak_rss_mb: f64,
    base_rss_mb: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    order_errors: u64,
    values_per_event: f64,
    events_per_batch: f64,
    queue_mean: f64,
    queue_max: f64,
    load: String,
    field_ns: Vec<(u64, u64, u64)>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn run(sc: &Scenario, env: &Env, opts: &Options, time_fields: bool) -> Measured {
    stats::reset_peak_rss();
    let base_rss_mb = status_mb("VmRSS");
    let server = Server::start(
        sc.feed,
        env.tls.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
    );
    let mut host = Host::init(&env.config).expect("plugin init");
    let inst = host
        .open(Some(&env.open_params(&server, sc.streams)))
        .expect("plugin open");
    let mut falco = Falco {
        inst,
        env,
        extract: sc.extract,
        time_fields,
        evtnum: 0,
        next_seq: Default::default(),
        order_errors: 0,
    };
    let warm_until = Instant::now() + Duration::from_secs_f64(opts.warmup);
    falco.pump(warm_until, &mut Window::new(env.fields.len()));

    let mut w = Window::new(env.fields.len());
    let (bytes0, cpu0, cs0, reader0) = (
        falco.metric("bytes_received"),
        cpu_seconds(),
        context_switches(),
        thread_cpu_seconds(READER_THREAD),
    );
    let t0 = Instant::now();
    falco.pump(t0 + Duration::from_secs_f64(opts.secs), &mut w);
    let secs = t0.elapsed().as_secs_f64();
    let (bytes1, cpu1, cs1, reader1) = (
        falco.metric("bytes_received"),
        cpu_seconds(),
        context_switches(),
        thread_cpu_seconds(READER_THREAD),
    );
    let peak_rss_mb = status_mb("VmHWM");
    let order_errors = falco.order_errors;
    // Server first: the plugin's polite Close then fails at once instead of waiting for an
    // answer this server never gives.
    drop(server);
    drop(falco);
    let events = w.events.max(1) as f64;
    Measured {
        events_per_s: events / secs,
        mb_per_s: (bytes1 - bytes0) / secs / 1e6,
        cpu_per_m: (cpu1 - cpu0) / events * 1e6,
        reader_cpu_per_m: (reader1 - reader0) / events * 1e6,
        switches_per_k: (cs1 - cs0) as f64 / events * 1e3,
        peak_rss_mb,
        base_rss_mb,
        p50_ms: ms(w.latency.quantile(0.5)),
        p99_ms: ms(w.latency.quantile(0.99)),
        max_ms: ms(w.latency.max()),
        order_errors,
        values_per_event: w.values as f64 / events,
        events_per_batch: events / w.batches.max(1) as f64,
        queue_mean: w.queue.0 / w.queue.1.max(1) as f64,
        queue_max: w.queue.2,
        load: stats::load(),
        field_ns: w.field_ns,
    }
}

/// 1234567.8 → "1,234,568".
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn print_run(i: usize, m: &Measured) {
    println!(
        "  run {i}: {:>9} events/s  {:6.1} MB/s  {:5.2} CPU s/M events (reader {:.2})  {:4.0} cs/k events  peak RSS {:5.1} MB (base {:.1})  frame→event p50 {:7.3} ms  p99 {:7.3} ms  max {:7.1} ms  {:.1} events/batch  queue {:.0} (max {:.0})  {:.1} values/event  order errors {}  load {}",
        thousands(m.events_per_s),
        m.mb_per_s,
        m.cpu_per_m,
        m.reader_cpu_per_m,
        m.switches_per_k,
        m.peak_rss_mb,
        m.base_rss_mb,
        m.p50_ms,
        m.p99_ms,
        m.max_ms,
        m.events_per_batch,
        m.queue_mean,
        m.queue_max,
        m.values_per_event,
        m.order_errors,
        m.load
    );
}

struct Summary {
    name: &'static str,
    best: Measured,
    min_rate: f64,
    max_rss: f64,
    worst_p99: f64,
    /// Median CPU s/M events over the runs.
    median_cpu: f64,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {}", kernel.trim())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(server::SERVE) {
        server::main(&args[1..]);
    }
    let opts = Options::parse(&args);
    frames::self_check();
    let env = match &opts.as_upstream {
        Some((cert, key)) => Env::upstream(cert.clone(), key.clone()),
        None => Env::new(opts.tls),
    };
    let transport = if env.upstream {
        "wss (test CA via SSL_CERT_FILE), the upstream Go plugin"
    } else if opts.tls {
        "wss (test CA via caCertFile)"
    } else {
        "ws"
    };
    println!("e2e: {} on {}", support::plugin_path().display(), machine());
    println!(
        "e2e: {transport} on 127.0.0.1; frames from examples/sample-frames.jsonl: {:.0} bytes per 1-event frame, {:.0} per 50-event frame; load {}",
        frames::FrameRing::build(1).mean_frame_size(),
        frames::FrameRing::build(50).mean_frame_size(),
        stats::load()
    );
    let missing: Vec<&str> = TOP_FIELDS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !env.fields.iter().any(|f| f.name == *n))
        .collect();
    println!(
        "e2e: {} fields extracted per event{}",
        env.fields.len(),
        if missing.is_empty() {
            String::new()
        } else {
            format!(" (not in the plugin's table yet: {})", missing.join(", "))
        }
    );
    if opts.quick {
        println!("e2e: quick smoke run (no --bench): figures are not measurements");
    }
    if !stats::reset_peak_rss() {
        println!("e2e: cannot reset VmHWM: peak RSS figures are since the process started");
    }
    if let Some(secs) = opts.soak {
        return soak(&env, &opts, secs);
    }

    let mut summaries = Vec::new();
    for sc in &SCENARIOS {
        if opts
            .only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == sc.name))
        {
            continue;
        }
        if env.upstream && sc.streams > 1 {
            // The Go plugin reads one stream per source.
            continue;
        }
        println!("\n{}: {}", sc.name, sc.what);
        let mut runs = Vec::new();
        for i in 1..=opts.repeat {
            let m = run(sc, &env, &opts, false);
            print_run(i, &m);
            runs.push(m);
        }
        let min_rate = runs.iter().map(|m| m.events_per_s).fold(f64::MAX, f64::min);
        let max_rss = runs.iter().map(|m| m.peak_rss_mb).fold(0.0, f64::max);
        let worst_p99 = runs.iter().map(|m| m.p99_ms).fold(0.0, f64::max);
        let mut cpus: Vec<f64> = runs.iter().map(|m| m.cpu_per_m).collect();
        cpus.sort_by(f64::total_cmp);
        let median_cpu = cpus[cpus.len() / 2];
        // Best: fastest; for the paced run (rate fixed) the lowest p99.
        let best = if sc.feed.rate > 0 {
            runs.into_iter()
                .min_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms))
        } else {
            runs.into_iter()
                .max_by(|a, b| a.events_per_s.total_cmp(&b.events_per_s))
        }
        .unwrap();
        summaries.push(Summary {
            name: sc.name,
            best,
            min_rate,
            max_rss,
            worst_p99,
            median_cpu,
        });
    }
    if env.upstream {
        for s in &summaries {
            println!("{}", upstream_line(s));
        }
        return;
    }
    if opts.field_costs {
        field_costs(&env, &opts);
    }
    report(&summaries, opts.quick);
    if let Some(upstream) = std::env::var_os("UPSTREAM_PLUGIN").map(PathBuf::from) {
        side_by_side(&summaries, &upstream, &env, &args);
    }
}

/// Prefix of the result lines the upstream child prints for its parent.
const UPSTREAM_RESULT: &str = "upstream-result";

fn upstream_line(s: &Summary) -> String {
    let b = &s.best;
    format!(
        "{UPSTREAM_RESULT} {} {} {} {} {} {}",
        s.name, b.events_per_s, s.min_rate, b.cpu_per_m, s.max_rss, b.p99_ms
    )
}

/// The same scenarios against the upstream Go plugin, in a child process, and the ratios.
fn side_by_side(ours: &[Summary], upstream: &std::path::Path, env: &Env, args: &[String]) {
    let (Some((cert, key)), Some(ca)) = (&env.tls, &env.ca) else {
        println!(
            "
upstream: not run (the Go plugin only dials wss; drop --ws)"
        );
        return;
    };
    println!(
        "
upstream: the same scenarios against {}",
        upstream.display()
    );
    let out = std::process::Command::new(std::env::current_exe().expect("current_exe"))
        .args(args)
        .arg(AS_UPSTREAM)
        .arg(cert)
        .arg(key)
        .env("K8SAUDIT_OVH_PLUGIN", upstream)
        .env("SSL_CERT_FILE", ca)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run the upstream side");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut theirs = Vec::new();
    for line in text.lines() {
        match line.strip_prefix(UPSTREAM_RESULT) {
            Some(rest) => theirs.push(
                rest.split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>(),
            ),
            None => println!("  | {line}"),
        }
    }
    if !out.status.success() {
        println!("upstream: the run failed ({})", out.status);
        return;
    }
    println!("
side by side, same server, same driving, same run (ratio: ours / upstream; CPU and p99: upstream / ours)");
    println!(
        "  {:<12} {:>10} {:>10} {:>7}   {:>10} {:>10} {:>7}   {:>8} {:>8}   {:>9} {:>9}",
        "scenario",
        "ours ev/s",
        "Go ev/s",
        "ratio",
        "ours CPU",
        "Go CPU",
        "ratio",
        "ours RSS",
        "Go RSS",
        "ours p99",
        "Go p99"
    );
    for t in &theirs {
        let Some(o) = ours.iter().find(|o| o.name == t[0]) else {
            continue;
        };
        let num = |i: usize| t[i].parse::<f64>().unwrap_or(f64::NAN);
        let (rate, cpu, rss, p99) = (num(1), num(3), num(4), num(5));
        println!(
            "  {:<12} {:>10} {:>10} {:>6.1}x   {:>10.2} {:>10.2} {:>6.1}x   {:>5.1} MB {:>5.1} MB   {:>6.2} ms {:>6.1} ms",
            o.name,
            thousands(o.best.events_per_s),
            thousands(rate),
            o.best.events_per_s / rate,
            o.best.cpu_per_m,
            cpu,
            cpu / o.best.cpu_per_m,
            o.max_rss,
            rss,
            o.best.p99_ms,
            p99
        );
    }
}

fn report(summaries: &[Summary], quick: bool) {
    if summaries.is_empty() {
        return;
    }
    println!("\nsummary (best run of each; spread = slowest run .. best run)");
    println!(
        "  {:<12} {:>10} {:>21} {:>7} {:>10} {:>10} {:>9} {:>9}",
        "scenario", "events/s", "spread", "MB/s", "CPU s/M ev", "peak RSS", "p50 ms", "p99 ms"
    );
    for s in summaries {
        let b = &s.best;
        println!(
            "  {:<12} {:>10} {:>21} {:>7.1} {:>10.2} {:>7.1} MB {:>9.3} {:>9.3}",
            s.name,
            thousands(b.events_per_s),
            format!("{} .. {}", thousands(s.min_rate), thousands(b.events_per_s)),
            b.mb_per_s,
            b.cpu_per_m,
            b.peak_rss_mb,
            b.p50_ms,
            b.p99_ms
        );
    }
    if quick {
        println!(
            "\n(smoke run: run with `cargo bench --bench e2e` to measure against the targets)"
        );
        return;
    }
    let get = |n: &str| summaries.iter().find(|s| s.name == n);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("\ntargets (upstream Go plugin, same driving, 2-core reference machine, in brackets)");
    // The isolated throughput targets (150,000 events/s alone, 60,000 with the fields) were
    // retired when the real host showed it could not use them (docs/decisions.md, section 3):
    // these lines print the figures beside the Go plugin's, with no verdict.
    if let Some(s) = get("batch") {
        println!(
            "  next_batch alone (no target; the real Falco takes 3,000-7,000): {:>9} events/s  [5,000-8,000]",
            thousands(s.best.events_per_s),
        );
    }
    if let Some(s) = get("fields") {
        println!(
            "  with the 20 fields (no target):                            {:>9} events/s  [2,200-3,800]",
            thousands(s.best.events_per_s),
        );
    }
    if let Some(s) = get("paced") {
        println!(
            "  frame→event p99 at {} events/s < {TARGET_P99_MS} ms: {:.3} ms (worst run {:.3}) {}",
            thousands(PACED_RATE as f64),
            s.best.p99_ms,
            s.worst_p99,
            verdict(s.worst_p99 < TARGET_P99_MS)
        );
    }
    if let (Some(one), Some(many)) = (get("paced"), get("streams")) {
        // Medians of the runs: CPU per event at a fixed rate is noisy from run to run.
        let ratio = many.median_cpu / one.median_cpu;
        println!(
            "  {STREAMS} streams at {} events/s in all, CPU per event within 10% of one stream: {:.2} vs {:.2} CPU s/M events, median of the runs ({:+.0}%) {}; peak RSS {:.1} MB",
            thousands(PACED_RATE as f64),
            many.median_cpu,
            one.median_cpu,
            (ratio - 1.0) * 100.0,
            verdict(ratio <= 1.10),
            many.max_rss
        );
    }
    let rss = summaries.iter().map(|s| s.max_rss).fold(0.0, f64::max);
    println!(
        "  peak RSS at any rate    < {TARGET_RSS_MB} MB: {rss:.1} MB (whole bench process) {}  [35 MB]",
        verdict(rss < TARGET_RSS_MB)
    );
    let errors: u64 = summaries.iter().map(|s| s.best.order_errors).sum();
    println!("  events lost, duplicated or out of order: {errors}");
}

/// Nanoseconds per extract_fields call for each field, on the as-fast-as-read stream.
fn field_costs(env: &Env, opts: &Options) {
    let sc = &SCENARIOS[1];
    let m = run(sc, env, opts, true);
    // What timing one call costs by itself (two clock reads).
    let probe = 100_000;
    let t0 = mono_ns();
    for _ in 0..probe {
        std::hint::black_box(mono_ns());
    }
    let clock = (mono_ns() - t0) as f64 / probe as f64;
    println!(
        "\nfield costs (one extract_fields call, ns, minus {clock:.0} ns of timing; on {} events/s of 1-event frames)",
        thousands(m.events_per_s)
    );
    let mut rows: Vec<(&str, f64, f64)> = env
        .fields
        .iter()
        .zip(&m.field_ns)
        .map(|(f, &(ns, calls, values))| {
            let calls = calls.max(1) as f64;
            (
                f.name.as_str(),
                ns as f64 / calls - clock,
                values as f64 / calls,
            )
        })
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = rows.iter().map(|r| r.1).sum();
    for (name, ns, values) in rows {
        println!("  {name:<40} {ns:7.0} ns  {values:5.2} values/call");
    }
    println!("  {:<40} {total:7.0} ns per event", "all 20");
}

/// A long run at a steady rate, printing RSS as it goes: it must stay flat.
fn soak(env: &Env, opts: &Options, secs: f64) {
    let sc = Scenario {
        name: "soak",
        what: "",
        feed: Feed {
            events_per_frame: 1,
            rate: opts.rate,
        },
        extract: true,
        streams: 1,
    };
    let every = if opts.quick {
        0.2
    } else {
        (secs / 20.0).clamp(10.0, 30.0)
    };
    println!(
        "\nsoak: {secs:.0} s at {} events/s, next_batch + {} fields, RSS every {every:.0} s",
        thousands(opts.rate as f64),
        env.fields.len()
    );
    let server = Server::start(
        sc.feed,
        env.tls.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
    );
    let mut host = Host::init(&env.config).expect("plugin init");
    let inst = host.open(Some(&env.url(&server))).expect("plugin open");
    let mut falco = Falco {
        inst,
        env,
        extract: sc.extract,
        time_fields: false,
        evtnum: 0,
        next_seq: Default::default(),
        order_errors: 0,
    };
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let (mut total, mut rss) = (0u64, Vec::new());
    let cpu0 = cpu_seconds();
    while Instant::now() < end {
        let mut w = Window::new(env.fields.len());
        let t = Instant::now();
        falco.pump((t + Duration::from_secs_f64(every)).min(end), &mut w);
        total += w.events;
        let now_rss = status_mb("VmRSS");
        rss.push((start.elapsed().as_secs_f64(), now_rss));
        println!(
            "  t={:5.0} s  events {:>11}  {:>7} events/s  RSS {:5.1} MB  peak {:5.1} MB  queue {:>5}  p99 {:6.3} ms  order errors {}  load {}",
            start.elapsed().as_secs_f64(),
            thousands(total as f64),
            thousands(w.events as f64 / t.elapsed().as_secs_f64()),
            now_rss,
            status_mb("VmHWM"),
            falco.metric("queue_depth"),
            ms(w.latency.quantile(0.99)),
            falco.order_errors,
            stats::load()
        );
    }
    let cpu = cpu_seconds() - cpu0;
    let order_errors = falco.order_errors;
    drop(server);
    drop(falco);
    // Flat: after the first minute, RSS stays within a few MB; the second half shows whether
    // it still creeps up.
    let range = |from: f64| {
        let r: Vec<f64> = rss
            .iter()
            .filter(|(t, _)| *t >= from)
            .map(|r| r.1)
            .collect();
        let lo = r.iter().copied().fold(f64::MAX, f64::min);
        (lo, r.iter().copied().fold(lo, f64::max))
    };
    let last = rss.last().map_or(0.0, |r| r.0);
    let (lo, hi) = range(60f64.min(last));
    let (half_lo, half_hi) = range(last / 2.0);
    println!(
        "soak: {} events, {:.2} CPU s/M events, order errors {}; RSS {lo:.1} .. {hi:.1} MB after the first minute, {half_lo:.1} .. {half_hi:.1} MB over the second half; peak {:.1} MB",
        thousands(total as f64),
        cpu / total.max(1) as f64 * 1e6,
        order_errors,
        status_mb("VmHWM")
    );
}
