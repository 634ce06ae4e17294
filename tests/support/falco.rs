//! The real Falco, run as a process the way users run it: a `falco.yaml` written by the test,
//! `--disable-source syscall`, JSON alerts on stdout, logs on stderr.
//!
//! `FALCO`, `FALCO_JSON_PLUGIN` and `UPSTREAM_PLUGIN` name Falco, its json plugin and the
//! upstream Go k8saudit-ovh (`eval "$(../shared/tools/falco/setup)"` sets all three). Tests
//! that need them run as `harness = false` binaries ([`run_tests`]), so that a missing Falco
//! shows as SKIPPED, never as a silent `ok`.

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Where the real Falco and the plugins beside it are.
#[derive(Debug, Clone)]
pub struct FalcoEnv {
    pub falco: PathBuf,
    /// Falco's json plugin (the stock rules need its `jevt.*` fields).
    pub json_plugin: Option<PathBuf>,
    /// The upstream Go k8saudit-ovh, to compare with.
    pub upstream: Option<PathBuf>,
}

impl FalcoEnv {
    /// From the environment: `Ok(None)` when `FALCO` is not set; an error when a variable
    /// names no file (a broken setup must fail, not skip).
    pub fn from_env() -> Result<Option<FalcoEnv>, String> {
        let Some(falco) = std::env::var_os("FALCO").map(PathBuf::from) else {
            return Ok(None);
        };
        let file = |var: &str| -> Result<Option<PathBuf>, String> {
            match std::env::var_os(var).map(PathBuf::from) {
                Some(p) if p.is_file() => Ok(Some(p)),
                Some(p) => Err(format!("{var}={} is not a file", p.display())),
                None => Ok(None),
            }
        };
        if !falco.is_file() {
            return Err(format!("FALCO={} is not a file", falco.display()));
        }
        Ok(Some(FalcoEnv {
            falco,
            json_plugin: file("FALCO_JSON_PLUGIN")?,
            upstream: file("UPSTREAM_PLUGIN")?,
        }))
    }

    /// The json plugin, or a skip.
    pub fn json_plugin(&self) -> Result<&Path, Skip> {
        self.json_plugin
            .as_deref()
            .ok_or(Skip("FALCO_JSON_PLUGIN not set"))
    }

    /// The upstream plugin, or a skip.
    pub fn upstream(&self) -> Result<&Path, Skip> {
        self.upstream
            .as_deref()
            .ok_or(Skip("UPSTREAM_PLUGIN not set"))
    }
}

/// Why a test did not run.
#[derive(Debug)]
pub struct Skip(pub &'static str);

/// One `plugins:` entry.
#[derive(Debug, Clone)]
pub struct PluginEntry {
    pub name: String,
    pub library: PathBuf,
    /// JSON text, or empty.
    pub init_config: String,
    pub open_params: Option<String>,
}

impl PluginEntry {
    /// The source plugin named `k8saudit-ovh` (ours or upstream's library).
    pub fn k8saudit_ovh(library: &Path, init_config: &str, open_params: &str) -> PluginEntry {
        PluginEntry {
            name: "k8saudit-ovh".into(),
            library: library.to_path_buf(),
            init_config: init_config.into(),
            open_params: Some(open_params.into()),
        }
    }

    /// Falco's json plugin, synchronous (its async mode crawls on 2 cores).
    pub fn json(library: &Path) -> PluginEntry {
        PluginEntry {
            name: "json".into(),
            library: library.to_path_buf(),
            init_config: r#"{"useAsync":false}"#.into(),
            open_params: None,
        }
    }
}

/// A `falco.yaml`.
#[derive(Debug, Clone, Default)]
pub struct FalcoConfig {
    pub plugins: Vec<PluginEntry>,
    pub rules_files: Vec<PathBuf>,
    /// More top-level YAML, appended as it is.
    pub extra: String,
    /// Falco's hot reload (SIGHUP, changed files): off unless asked, as it needs this.
    pub watch_config_files: bool,
}

/// YAML single-quoted scalar.
pub fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl FalcoConfig {
    pub fn yaml(&self) -> String {
        let mut y = String::from("engine:\n  kind: nodriver\nload_plugins: [");
        let names: Vec<&str> = self.plugins.iter().map(|p| p.name.as_str()).collect();
        y += &names.join(", ");
        y += "]\nplugins:\n";
        for p in &self.plugins {
            y += &format!(
                "  - name: {}\n    library_path: {}\n    init_config: {}\n",
                p.name,
                quoted(&p.library.display().to_string()),
                quoted(&p.init_config)
            );
            if let Some(o) = &p.open_params {
                y += &format!("    open_params: {}\n", quoted(o));
            }
        }
        y += "rules_files:\n";
        for r in &self.rules_files {
            y += &format!("  - {}\n", quoted(&r.display().to_string()));
        }
        y += "json_output: true\njson_include_output_property: true\npriority: debug\n\
              buffered_outputs: false\nstdout_output:\n  enabled: true\nsyslog_output:\n  enabled: false\n\
              file_output:\n  enabled: false\nlog_stderr: true\nlog_syslog: false\nlog_level: info\n";
        y += &format!("watch_config_files: {}\n", self.watch_config_files);
        y += &self.extra;
        y
    }
}

/// A running (or finished) Falco.
pub struct FalcoProcess {
    child: Child,
    pub dir: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl FalcoProcess {
    /// Writes `config` into `dir` and starts Falco on it, with `env` added to its environment.
    pub fn start(
        falco: &Path,
        config: &FalcoConfig,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> FalcoProcess {
        std::fs::create_dir_all(dir).unwrap();
        let yaml = dir.join("falco.yaml");
        std::fs::write(&yaml, config.yaml()).unwrap();
        let stdout = dir.join("stdout");
        let stderr = dir.join("stderr");
        let mut cmd = Command::new(falco);
        cmd.arg("-c")
            .arg(&yaml)
            .arg("--disable-source")
            .arg("syscall")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", falco.display()));
        FalcoProcess {
            child,
            dir: dir.to_path_buf(),
            stdout,
            stderr,
        }
    }

    /// Falco's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lines Falco printed on stdout so far (alerts), without reading them all into memory.
    pub fn stdout_lines(&self) -> u64 {
        use std::io::Read;
        let mut count = 0;
        let mut buf = vec![0u8; 1 << 16];
        if let Ok(mut f) = std::fs::File::open(&self.stdout) {
            while let Ok(n) = f.read(&mut buf) {
                if n == 0 {
                    break;
                }
                count += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            }
        }
        count
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Both outputs, for messages and for token checks.
    pub fn output(&self) -> String {
        format!("--- stderr\n{}--- stdout\n{}", self.stderr(), self.stdout())
    }

    /// The alerts printed so far (JSON lines of stdout).
    pub fn alerts(&self) -> Vec<Value> {
        self.stdout()
            .lines()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until `done(alerts)` holds; false when Falco exited or `within` passed first.
    pub fn wait_for_alerts(&mut self, within: Duration, done: impl Fn(&[Value]) -> bool) -> bool {
        let end = Instant::now() + within;
        loop {
            if done(&self.alerts()) {
                return true;
            }
            if Instant::now() > end || self.child.try_wait().ok().flatten().is_some() {
                return done(&self.alerts());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for Falco to exit by itself; kills it and panics after `within`.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let end = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("Falco did not exit within {within:?}:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` to Falco.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, signal);
        }
    }

    /// Stops Falco as a user would (SIGTERM) and waits for it.
    pub fn stop(&mut self, within: Duration) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit(within)
    }
}

impl Drop for FalcoProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A test of a `harness = false` binary: it panics to fail, and returns `Err(Skip)` when what
/// it needs is not there.
pub type FalcoTest = (&'static str, fn(&FalcoEnv) -> Result<(), Skip>);

/// Runs `tests` as libtest would print them (honouring a name filter and `--list`), each
/// against the real Falco; without `FALCO`, prints every test as SKIPPED with the reason.
/// Exits non-zero when a test failed.
pub fn run_tests(tests: &[FalcoTest]) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in tests {
            println!("{name}: test");
        }
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let exact = args.iter().any(|a| a == "--exact");
    let selected: Vec<&FalcoTest> = tests
        .iter()
        .filter(|(name, _)| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    if exact {
                        name == f
                    } else {
                        name.contains(f.as_str())
                    }
                })
        })
        .collect();
    println!("\nrunning {} tests (real Falco)", selected.len());
    let env = match FalcoEnv::from_env() {
        Ok(Some(env)) => env,
        Ok(None) => {
            for (name, _) in &selected {
                println!("test {name} ... SKIPPED (FALCO not set)");
            }
            println!(
                "\ntest result: ok. 0 passed; 0 failed; {} SKIPPED: set FALCO (eval \"$(../shared/tools/falco/setup)\") to run them\n",
                selected.len()
            );
            return;
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let (mut passed, mut failed, mut skipped) = (0, Vec::new(), 0);
    for (name, test) in selected {
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| test(&env));
        let secs = started.elapsed().as_secs_f64();
        match outcome {
            Ok(Ok(())) => {
                passed += 1;
                println!("test {name} ... ok ({secs:.1} s)");
            }
            Ok(Err(Skip(why))) => {
                skipped += 1;
                println!("test {name} ... SKIPPED ({why})");
            }
            Err(_) => {
                failed.push(*name);
                println!("test {name} ... FAILED ({secs:.1} s)");
            }
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; {skipped} SKIPPED; with {}\n",
        failed.len(),
        env.falco.display()
    );
    if !failed.is_empty() {
        println!("failures: {}", failed.join(", "));
        std::process::exit(101);
    }
}
