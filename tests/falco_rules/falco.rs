//! A real Falco, when `FALCO` names its binary: the built plugin replays a file of audit
//! events (a path as `open_params`, read to its end), Falco evaluates a setup's rules files
//! over them, and its JSON alerts are mapped back to events by audit ID (appended to every
//! alert's fields with `append_output`).

use super::setups::Setup;
use super::{model, repo, Matching};
use crate::support;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Falco {
    pub bin: PathBuf,
    pub json_plugin: PathBuf,
}

impl Falco {
    /// `Ok(None)` without `FALCO`; an error if `FALCO` is set but unusable, or Falco's json
    /// plugin is missing (`FALCO_JSON_PLUGIN`, else `/usr/share/falco/plugins/libjson.so`): the
    /// recommended setups need it, and must not be skipped when Falco is there.
    pub fn from_env() -> Result<Option<Falco>, String> {
        let Some(bin) = std::env::var_os("FALCO").map(PathBuf::from) else {
            return Ok(None);
        };
        if !bin.is_file() {
            return Err(format!("FALCO={} is not a file", bin.display()));
        }
        let json_plugin = std::env::var_os("FALCO_JSON_PLUGIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/share/falco/plugins/libjson.so"));
        if !json_plugin.is_file() {
            return Err(format!(
                "Falco's json plugin is needed by the stock rules and the overlay: set FALCO_JSON_PLUGIN (not found at {})",
                json_plugin.display()
            ));
        }
        Ok(Some(Falco { bin, json_plugin }))
    }

    fn config(&self, json_plugin: bool, events: &Path, priority: &str) -> String {
        let mut load = vec!["k8saudit-ovh"];
        let mut plugins = format!(
            "  - name: k8saudit-ovh\n    library_path: {}\n    init_config:\n      clusterName: mks-examples\n    open_params: {}\n",
            support::plugin_path().display(),
            events.display()
        );
        if json_plugin {
            load.push("json");
            plugins += &format!(
                "  - name: json\n    library_path: {}\n    init_config: '{{\"useAsync\":false}}'\n",
                self.json_plugin.display()
            );
        }
        format!(
            "engine:\n  kind: nodriver\nload_plugins: [{}]\nplugins:\n{plugins}json_output: true\n\
             json_include_output_property: true\npriority: {priority}\nbuffered_outputs: false\n\
             stdout_output:\n  enabled: true\nsyslog_output:\n  enabled: false\nfile_output:\n  enabled: false\n\
             log_stderr: true\nlog_syslog: false\nwatch_config_files: false\n\
             append_output:\n  - match:\n      source: k8s_audit\n    extra_fields:\n      - ka.auditid\n",
            load.join(", ")
        )
    }

    /// Runs Falco over `events` with `rules` (relative to the repository); returns its stdout
    /// and stderr.
    #[allow(clippy::too_many_arguments)]
    fn exec(
        &self,
        tag: &str,
        rules: &[&str],
        json_plugin: bool,
        priority: &str,
        matching: Matching,
        events: &[&Json],
        dir: &Path,
    ) -> Result<(String, String), String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let events_path = dir.join(format!("{tag}.jsonl"));
        let mut text = String::new();
        for e in events {
            text += &serde_json::to_string(e).unwrap();
            text.push('\n');
        }
        std::fs::write(&events_path, text).map_err(|e| e.to_string())?;
        let config = dir.join(format!("{tag}.yaml"));
        std::fs::write(&config, self.config(json_plugin, &events_path, priority))
            .map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-c")
            .arg(&config)
            .arg("--disable-source")
            .arg("syscall")
            .arg("-o")
            .arg(format!("rule_matching={}", matching.name()));
        for r in rules {
            cmd.arg("-r").arg(repo().join(r));
        }
        run_to_end(cmd, dir, tag)
    }

    /// The alerts of Falco's JSON output, per audit ID, in the order Falco raised them.
    fn alerts(stdout: &str) -> Result<HashMap<String, Vec<String>>, String> {
        let mut alerts: HashMap<String, Vec<String>> = HashMap::new();
        for line in stdout.lines().filter(|l| l.starts_with('{')) {
            let v: Json = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
            let id = v["output_fields"]["ka.auditid"]
                .as_str()
                .ok_or_else(|| format!("an alert without ka.auditid: {line}"))?;
            let rule = v["rule"].as_str().ok_or("an alert without rule")?;
            alerts
                .entry(id.to_owned())
                .or_default()
                .push(rule.to_owned());
        }
        Ok(alerts)
    }

    /// Runs one evaluator model case; returns the rules Falco raised on its event.
    pub fn run_model(&self, case: &model::Case, dir: &Path) -> Result<Vec<String>, String> {
        let event = model::event();
        let files: Vec<&str> = case.files.iter().map(String::as_str).collect();
        let tag: String = case
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let tag = format!("{tag}-{}-{}", case.matching.name(), case.priority_name);
        let (stdout, _) = self.exec(
            &tag,
            &files,
            false,
            &case.priority_name,
            case.matching,
            &[&event],
            dir,
        )?;
        let alerts = Self::alerts(&stdout)?;
        Ok(alerts
            .get(event["auditID"].as_str().unwrap())
            .cloned()
            .unwrap_or_default())
    }

    /// Runs Falco once over `events` with `setup`'s rules files; returns, per audit ID, the
    /// rules it raised, in the order it raised them.
    pub fn run(
        &self,
        setup: &Setup,
        matching: Matching,
        events: &[&Json],
        dir: &Path,
    ) -> Result<HashMap<String, Vec<String>>, String> {
        let tag = format!("{}-{}", setup.name.replace('+', "_"), matching.name());
        let (stdout, stderr) = self.exec(
            &tag,
            setup.files,
            setup.json_plugin,
            "debug",
            matching,
            events,
            dir,
        )?;
        // Rules files that load with warnings are a defect too (an unused list, a shadowed
        // macro...): Falco says so on stderr.
        if stderr.contains("Warnings:") || stderr.contains("LOAD_") {
            return Err(format!(
                "Falco loaded {} with warnings:\n{stderr}",
                setup.name
            ));
        }
        let alerts = Self::alerts(&stdout)?;
        Ok(alerts)
    }
}

/// Runs `cmd` (a Falco that ends by itself: its source is a replay file) with its output in
/// `<dir>/<tag>.stdout` and `.stderr`, for at most 120 s. Its stdout and stderr, or why not.
pub fn run_to_end(mut cmd: Command, dir: &Path, tag: &str) -> Result<(String, String), String> {
    let out_path = dir.join(format!("{tag}.stdout"));
    let err_path = dir.join(format!("{tag}.stderr"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).map_err(|e| e.to_string())?)
        .stderr(std::fs::File::create(&err_path).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("Falco did not end within 120 s (did the replay reach EOF?)".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    if !status.success() {
        return Err(format!("Falco exited with {status}:\n{stderr}\n{stdout}"));
    }
    Ok((stdout, stderr))
}
