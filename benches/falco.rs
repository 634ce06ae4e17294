//! The plugin in the real host: a real Falco (`FALCO`, from `../shared/tools/falco/setup`)
//! tails the loopback LDP stand-in of the e2e bench over wss, as fast as Falco takes events
//! (or at `--rate`), with each recommended rules setup, and with the stock rules alone as the
//! Go plugin runs them. Prints events/s
//! (events the server wrote, in steady state), Falco's CPU per event, and the share of it
//! spent on the plugin's own threads.
//!
//! ```text
//! eval "$(../shared/tools/falco/setup)"
//! cargo bench --bench falco                          # 3 runs of 10 s per rules setup
//! cargo bench --bench falco -- --upstream            # the Go plugin too, same server, same run
//! cargo bench --bench falco -- --plugin other.so     # another build of the plugin (A/B)
//! cargo bench --bench falco -- --only default --secs 20 --repeat 5
//! cargo bench --bench falco -- --rate 3000           # a steady 3,000 events/s: CPU per event
//! ```
//!
//! Without `FALCO` it says so and measures nothing.

// Shared with the e2e bench, which uses more of them.
#[path = "../tests/support/falco.rs"]
mod falco;
#[allow(dead_code)]
#[path = "e2e/frames.rs"]
mod frames;
#[path = "e2e/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "e2e/stats.rs"]
mod stats;
#[path = "../tests/support/mod.rs"]
mod support;
#[path = "../tests/support/test_pki.rs"]
mod test_pki;

use falco::{FalcoConfig, FalcoEnv, FalcoProcess, PluginEntry};
use server::{Feed, Server};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A rules setup Falco runs with.
struct Setup {
    name: &'static str,
    what: &'static str,
    rules: &'static [&'static str],
    json: bool,
}

const SETUPS: [Setup; 3] = [
    Setup {
        name: "default",
        what: "the default setup: the OVH rules and the OVH json rules, with the json plugin",
        rules: &[
            "rules/k8s_audit_ovh_rules.yaml",
            "rules/k8s_audit_ovh_json_rules.yaml",
        ],
        json: true,
    },
    Setup {
        name: "stock",
        what: "Falco's stock k8s audit rules, the overlay, the OVH rules and the OVH json rules, with the json plugin",
        rules: &[
            "tests/fixtures/rules/k8s_audit_rules.yaml",
            "rules/k8s_audit_ovh_overlay.yaml",
            "rules/k8s_audit_ovh_rules.yaml",
            "rules/k8s_audit_ovh_json_rules.yaml",
        ],
        json: true,
    },
    Setup {
        name: "upstream",
        what: "Falco's stock k8s audit rules alone, with the json plugin (what the Go plugin runs)",
        rules: &["tests/fixtures/rules/k8s_audit_rules.yaml"],
        json: true,
    },
];

struct Options {
    secs: f64,
    warmup: f64,
    repeat: usize,
    only: Option<Vec<String>>,
    plugin: Option<PathBuf>,
    upstream: bool,
    /// Events per second the server sends; 0: as fast as Falco takes them.
    rate: u64,
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
        let number = |name: &str| value(name).map(|v| v.parse::<f64>().expect("a number"));
        Options {
            secs: number("--secs").unwrap_or(if quick { 1.0 } else { 10.0 }),
            warmup: if quick { 1.0 } else { 3.0 },
            repeat: number("--repeat").map_or(if quick { 1 } else { 3 }, |n| n as usize),
            only: value("--only").map(|v| v.split(',').map(str::to_owned).collect()),
            plugin: value("--plugin").map(PathBuf::from),
            upstream: args.iter().any(|a| a == "--upstream"),
            rate: number("--rate").map_or(0, |r| r as u64),
        }
    }
}

/// CPU seconds (user + system) of process `pid`, all threads, and of its threads whose name
/// starts with `prefix`.
fn cpu_of(pid: u32, prefix: &str) -> (f64, f64) {
    let ticks = |stat: &str| -> f64 {
        let rest = stat.rsplit_once(')').expect("stat line").1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        // utime, stime: fields 14 and 15, counted from 1 with the name as field 2.
        (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
    };
    let all = ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("Falco's stat"));
    let mut mine = 0.0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("Falco's tasks")
        .flatten()
    {
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(task.path().join("comm")),
            std::fs::read_to_string(task.path().join("stat")),
        ) else {
            continue;
        };
        if comm.trim().starts_with(prefix) {
            mine += ticks(&stat);
        }
    }
    (all, mine)
}

struct Measured {
    events_per_s: f64,
    cpu_us_per_event: f64,
    /// CPU of the plugin's own threads per event (its work on Falco's thread not included).
    plugin_us_per_event: f64,
    plugin_share: f64,
    alerts_per_s: f64,
}

/// What plugin Falco runs.
struct Subject<'a> {
    label: String,
    library: &'a Path,
    upstream: bool,
}

fn run(env: &FalcoEnv, subject: &Subject, setup: &Setup, pki: &Pki, opts: &Options) -> Measured {
    let mut server = Server::start(
        Feed {
            events_per_frame: 1,
            rate: opts.rate,
        },
        Some((&pki.cert, &pki.key)),
    );
    let dir = support::temp_path(&format!("falco-bench-{}-{}", setup.name, subject.upstream));
    let (init, params, proc_env) = if subject.upstream {
        (
            r#"{"useAsync":false}"#.to_owned(),
            format!("127.0.0.1:{}/tail/?tk=bench", server.port),
            vec![("SSL_CERT_FILE", pki.ca.display().to_string())],
        )
    } else {
        (
            serde_json::json!({ "caCertFile": pki.ca }).to_string(),
            format!("wss://127.0.0.1:{}/tail/?tk=bench", server.port),
            vec![],
        )
    };
    let mut plugins = vec![PluginEntry::k8saudit_ovh(subject.library, &init, &params)];
    if setup.json {
        plugins.push(PluginEntry::json(
            env.json_plugin.as_deref().expect("FALCO_JSON_PLUGIN"),
        ));
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = FalcoConfig {
        plugins,
        rules_files: setup.rules.iter().map(|r| repo.join(r)).collect(),
        extra: String::new(),
        watch_config_files: false,
    };
    let proc_env: Vec<(&str, &str)> = proc_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let falco = FalcoProcess::start(&env.falco, &config, &dir, &proc_env);
    let pid = falco.pid();
    std::thread::sleep(Duration::from_secs_f64(opts.warmup));
    let alerts0 = falco.stdout_lines();
    let (events0, cpu0, t0) = (
        server.events_sent(),
        cpu_of(pid, "k8saudit-ovh"),
        Instant::now(),
    );
    std::thread::sleep(Duration::from_secs_f64(opts.secs));
    let (events1, cpu1, secs) = (
        server.events_sent(),
        cpu_of(pid, "k8saudit-ovh"),
        t0.elapsed().as_secs_f64(),
    );
    let alerts = falco.stdout_lines() - alerts0;
    assert!(
        events1 > events0,
        "Falco took no events:\n{}",
        falco.output()
    );
    drop(falco);
    drop(server);
    let events = (events1 - events0) as f64;
    Measured {
        events_per_s: events / secs,
        cpu_us_per_event: (cpu1.0 - cpu0.0) / events * 1e6,
        plugin_us_per_event: (cpu1.1 - cpu0.1) / events * 1e6,
        plugin_share: (cpu1.1 - cpu0.1) / (cpu1.0 - cpu0.0).max(1e-9),
        alerts_per_s: alerts as f64 / secs,
    }
}

/// The test CA and the server certificate, as files.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(server::SERVE) {
        server::main(&args[1..]);
    }
    let opts = Options::parse(&args);
    let env = match FalcoEnv::from_env() {
        Ok(Some(env)) => env,
        Ok(None) => {
            println!("falco bench: SKIPPED: set FALCO (eval \"$(../shared/tools/falco/setup)\")");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let pki = test_pki::TestPki::new("k8saudit-ovh falco bench CA");
    let cert = support::temp_path("falco-bench-cert.pem");
    let key = support::temp_path("falco-bench-key.pem");
    std::fs::write(&cert, &pki.cert_pem).unwrap();
    std::fs::write(&key, &pki.key_pem).unwrap();
    let pki = Pki {
        ca: pki.write_ca("falco-bench-ca.pem"),
        cert,
        key,
    };
    let ours = opts.plugin.clone().unwrap_or_else(support::plugin_path);
    let mut subjects = vec![Subject {
        label: format!("ours ({})", ours.display()),
        library: &ours,
        upstream: false,
    }];
    let upstream = env.upstream.clone();
    if opts.upstream {
        let lib = upstream
            .as_deref()
            .expect("--upstream needs UPSTREAM_PLUGIN");
        subjects.push(Subject {
            label: format!("upstream ({})", lib.display()),
            library: lib,
            upstream: true,
        });
    }
    println!(
        "falco bench: {} ({}), wss on 127.0.0.1, frames from examples/sample-frames.jsonl (1 event each), load {}",
        env.falco.display(),
        std::process::Command::new(&env.falco)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_owned())
            .unwrap_or_default(),
        stats::load()
    );
    let mut table = Vec::new();
    for setup in &SETUPS {
        if opts
            .only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == setup.name))
        {
            continue;
        }
        println!("\n{}: {}", setup.name, setup.what);
        for subject in &subjects {
            println!("  {}", subject.label);
            if subject.upstream && setup.name != "upstream" {
                // The OVH rules require this plugin's version (0.7.0); the Go plugin is 0.6.0.
                println!("    not run: the OVH rules require k8saudit-ovh 0.7.0");
                continue;
            }
            let mut runs = Vec::new();
            for i in 1..=opts.repeat {
                let m = run(&env, subject, setup, &pki, &opts);
                println!(
                    "    run {i}: {:>8.0} events/s  {:6.2} µs CPU per event, {:5.2} on the plugin's threads ({:4.1}%)  {:>7.0} alerts/s  load {}",
                    m.events_per_s,
                    m.cpu_us_per_event,
                    m.plugin_us_per_event,
                    m.plugin_share * 100.0,
                    m.alerts_per_s,
                    stats::load()
                );
                runs.push(m);
            }
            let best = runs.iter().map(|m| m.events_per_s).fold(0.0, f64::max);
            let lo = runs.iter().map(|m| m.events_per_s).fold(f64::MAX, f64::min);
            let cpu_lo = runs
                .iter()
                .map(|m| m.cpu_us_per_event)
                .fold(f64::MAX, f64::min);
            let cpu_hi = runs.iter().map(|m| m.cpu_us_per_event).fold(0.0, f64::max);
            table.push((setup.name, subject.upstream, lo, best, cpu_lo, cpu_hi));
        }
    }
    println!("\nsummary (range over runs)");
    println!(
        "  {:<7} {:<9} {:>21} {:>21}",
        "rules", "plugin", "events/s", "µs CPU per event"
    );
    for (setup, up, lo, hi, clo, chi) in &table {
        println!(
            "  {:<7} {:<9} {:>21} {:>21}",
            setup,
            if *up { "upstream" } else { "ours" },
            format!("{lo:.0} .. {hi:.0}"),
            format!("{clo:.2} .. {chi:.2}")
        );
    }
}
