//! Runs the plugin without Falco: loads the built library through its C ABI (as Falco does),
//! opens a source and prints one line per audit event with a few `ka.*` fields.
//!
//! ```text
//! cargo run --example demo                                # replays examples/sample-frames.jsonl
//! cargo run --example demo -- /path/to/replay.jsonl       # replays a file
//! cargo run --example demo -- "$LDP_WEBSOCKET_URL"                   # tails a live LDP stream
//! cargo run --example demo -- '[{"clusterName":"prod","url":"'"$LDP_PROD"'"},
//!                               {"clusterName":"staging","url":"'"$LDP_STAGING"'"}]'
//!                                                         # tails several streams at once
//! ```
//!
//! The first argument is what Falco's `open_params` takes, in any of its forms.
//!
//! An optional second argument is the plugin's `init_config` JSON.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;
use support::{Arg, Batch, Host};

const COLUMNS: [(&str, &str); 7] = [
    ("verb", "ka.verb"),
    ("user", "ka.user.name"),
    ("resource", "ka.target.resource"),
    ("namespace", "ka.target.namespace"),
    ("name", "ka.target.name"),
    ("code", "ka.response.code"),
    ("cluster", "ka.cluster.name"),
];

fn main() {
    let mut args = std::env::args().skip(1);
    let source = args.next().unwrap_or_else(|| {
        format!(
            "{}/examples/sample-frames.jsonl",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let config = args.next().unwrap_or_default();
    support::echo_logs(true);
    if let Err(e) = run(&source, &config) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(source: &str, config: &str) -> Result<(), String> {
    let fields = support::fields_json();
    let known: Vec<&str> = fields
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    let columns: Vec<(&str, &str)> = COLUMNS
        .iter()
        .copied()
        .filter(|(_, field)| known.contains(field))
        .collect();
    eprintln!(
        "k8saudit-ovh {} ({} fields), library {}",
        support::info("version"),
        known.len(),
        support::plugin_path().display()
    );
    let mut host = Host::init(config)?;
    let mut events = Vec::new();
    {
        let mut inst = host.open(Some(source))?;
        loop {
            match inst.next_batch() {
                Batch::Events(batch) => events.extend(batch),
                Batch::Timeout => {
                    // Live tail: print as we go.
                    if !events.is_empty() {
                        print_events(inst.host, &columns, &std::mem::take(&mut events));
                    }
                }
                Batch::Eof => break,
                Batch::Failure(e) => return Err(e),
            }
            if events.len() >= 256 {
                print_events(inst.host, &columns, &std::mem::take(&mut events));
            }
        }
        print_events(inst.host, &columns, &events);
        inst.close();
    }
    let metrics = host.metrics();
    let mut names: Vec<_> = metrics.keys().collect();
    names.sort();
    eprintln!("--- metrics");
    for name in names {
        eprintln!("{name}: {}", metrics[name]);
    }
    std::thread::sleep(Duration::from_millis(10));
    Ok(())
}

fn print_events(host: &mut Host, columns: &[(&str, &str)], events: &[support::Event]) {
    let requests: Vec<(&str, Arg)> = columns.iter().map(|(_, f)| (*f, Arg::None)).collect();
    for event in events {
        let values = host.extract(event, &requests);
        let secs = event.ts / 1_000_000_000;
        let millis = (event.ts % 1_000_000_000) / 1_000_000;
        let mut line = format!("{secs}.{millis:03}");
        for ((label, _), value) in columns.iter().zip(values) {
            let shown = value.strings().join(",");
            let shown = if shown.is_empty() {
                "<NA>".into()
            } else {
                shown
            };
            line.push_str(&format!(" {label}={shown}"));
        }
        println!("{line}");
    }
}
