//! The rule examples of `rules/tests/` through a real Falco, when `FALCO` names its binary:
//! each event is replayed by the built plugin (a file passed as `open_params`, read to the end)
//! and Falco's JSON alerts must name the rules the example expects, and none it forbids.
//! The overlay's examples also need Falco's `json` plugin: `FALCO_JSON_PLUGIN`, or
//! `/usr/share/falco/plugins/libjson.so` where Falco installs it.
//!
//!     FALCO=/usr/bin/falco cargo test --test rules_falco -- --nocapture

mod falco_rules;
mod support;

use falco_rules::examples::{Example, Suite, SUITES};
use falco_rules::repo;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn falco_yaml(events: &Path, json_plugin: Option<&Path>) -> String {
    let plugin = support::plugin_path();
    let mut load = vec!["k8saudit-ovh"];
    let mut plugins = format!(
        "  - name: k8saudit-ovh\n    library_path: {}\n    init_config:\n      clusterName: mks-examples\n    open_params: {}\n",
        plugin.display(),
        events.display()
    );
    if let Some(json) = json_plugin {
        load.push("json");
        plugins += &format!(
            "  - name: json\n    library_path: {}\n    init_config: \"\"\n",
            json.display()
        );
    }
    format!(
        "engine:\n  kind: nodriver\nload_plugins: [{}]\nplugins:\n{plugins}json_output: true\njson_include_output_property: true\n\
         priority: debug\nbuffered_outputs: false\nstdout_output:\n  enabled: true\nsyslog_output:\n  enabled: false\n\
         file_output:\n  enabled: false\nlog_stderr: true\nlog_syslog: false\nwatch_config_files: false\n",
        load.join(", ")
    )
}

/// Runs Falco on one example; returns the rules that fired.
fn run(
    falco: &Path,
    suite: &Suite,
    ex: &Example,
    dir: &Path,
    json_plugin: Option<&Path>,
) -> Result<Vec<String>, String> {
    let events = dir.join("events.jsonl");
    std::fs::write(&events, format!("{}\n", ex.event)).unwrap();
    let config = dir.join("falco.yaml");
    std::fs::write(&config, falco_yaml(&events, json_plugin)).unwrap();
    let mut cmd = Command::new(falco);
    cmd.arg("-c").arg(&config).arg("--disable-source=syscall");
    for r in suite.rules_files {
        cmd.arg("-r").arg(repo().join(r));
    }
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", falco.display()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("Falco did not end within 60 s (did the replay reach EOF?)".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    if !status.success() {
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        return Err(format!("Falco exited with {status}:\n{stderr}\n{stdout}"));
    }
    Ok(stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["rule"].as_str().map(str::to_owned))
        .collect())
}

#[test]
fn examples_through_a_real_falco() {
    let Some(falco) = std::env::var_os("FALCO").map(PathBuf::from) else {
        eprintln!("skipped: set FALCO=/path/to/falco to run the rule examples through a real Falco (see docs/rules.md)");
        return;
    };
    assert!(falco.is_file(), "FALCO={} is not a file", falco.display());
    let json_plugin = std::env::var_os("FALCO_JSON_PLUGIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/falco/plugins/libjson.so"));
    let dir = support::temp_path("rules-falco");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for suite in SUITES {
        let json = if suite.needs_json_plugin {
            if !json_plugin.is_file() {
                eprintln!(
                    "skipped {}: Falco's json plugin is needed by the stock rules; set FALCO_JSON_PLUGIN (not found at {})",
                    suite.dir,
                    json_plugin.display()
                );
                continue;
            }
            Some(json_plugin.as_path())
        } else {
            None
        };
        for ex in suite.examples() {
            match run(&falco, suite, &ex, &dir, json) {
                Ok(fired) => {
                    ran += 1;
                    for m in ex.must.iter().filter(|m| !fired.contains(m)) {
                        failures.push(format!(
                            "{}: must trigger {m:?}; Falco fired {fired:?}",
                            ex.at()
                        ));
                    }
                    for m in ex.must_not.iter().filter(|m| fired.contains(m)) {
                        failures.push(format!("{}: must not trigger {m:?}", ex.at()));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", ex.at())),
            }
        }
    }
    eprintln!("{ran} examples replayed through {}", falco.display());
    assert!(ran > 0, "no example was run");
    assert_eq!(failures, Vec::<String>::new());
}
