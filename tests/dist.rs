//! The release: `scripts/dist.sh --so <built plugin>` (its packaging step, without the slow
//! release build) must write flat, reproducible archives in the layouts falcoctl installs and
//! print push commands that name them right; `index.yaml`, the `deploy/` examples and the
//! snippets of the docs must name what those archives hold and load the recommended rules
//! setups (`tests/falco_rules/setups.rs`) in their order.
//!
//! When `FALCO` names a Falco binary (and `FALCO_JSON_PLUGIN` its json plugin), Falco runs
//! `deploy/falco.yaml` as shipped, but for paths, with the built plugin: the default setup, then
//! the stock-rules setup its comments show. The release libraries themselves (`scripts/dist.sh`
//! without `--so`: both architectures, glibc 2.28, OpenSSL linked in) are checked when
//! `K8SAUDIT_OVH_DIST_DIR` names the directory it wrote, and the x86_64 one runs in that Falco
//! too, with the rules of the release archive; `.ci/dist-check` does both. Without them those
//! tests say on stderr that they skipped.

mod falco_rules;
mod support;

use falco_rules::examples::SUITES;
use falco_rules::setups::{Setup, OVH_JSON, STOCK_OVH_JSON};
use falco_rules::{repo, Matching, JSON_RULES, OVERLAY, OWN_RULES, SANDBOX, STOCK};
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Falco's rules engine version in Falco 0.41.0 (`falco_engine_version.h`), the first Falco
/// whose libs (0.21.0) offer plugin API 3.11, which the plugin asks for.
const ENGINE_SEMVER: &str = "0.50.0";
/// The oldest glibc the release libraries may need (RHEL 8, Debian 10, Ubuntu 20.04).
const GLIBC_BASELINE: (u32, u32) = (2, 28);
const ARCHES: [&str; 2] = ["x86_64", "aarch64"];
/// The rules files of the rules archive, in archive order (scripts/dist.sh's `rules`).
const ARCHIVED_RULES: [&str; 4] = [OVERLAY, OWN_RULES, JSON_RULES, SANDBOX];
/// Falco's json plugin: its name in `required_plugin_versions`, in `load_plugins` and in
/// falcosecurity's index, whose artifact `json` falcoctl resolves the dependency to.
const JSON_PLUGIN: &str = "json";

/// Says on the test's stderr, past libtest's capture, that a check did not run.
fn skipped(what: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}

/// Runs scripts/dist.sh; returns its stdout.
fn dist(args: &[&str], out: &Path) -> String {
    let output = Command::new("bash")
        .arg(repo().join("scripts/dist.sh"))
        .args(args)
        .arg("--out")
        .arg(out)
        .env("GZIP_LEVEL", "1")
        .env("SOURCE_DATE_EPOCH", "1739181600")
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/dist.sh");
    assert!(
        output.status.success(),
        "scripts/dist.sh failed: {}",
        output.status
    );
    String::from_utf8(output.stdout).unwrap()
}

fn so_arg(arch: &str, so: &Path) -> String {
    format!("{arch}={}", so.display())
}

/// `tar -tvzf`: (mode string, owner, name) per entry, in archive order.
fn listing(archive: &Path) -> Vec<(String, String, String)> {
    let out = Command::new("tar")
        .arg("-tvzf")
        .arg(archive)
        .output()
        .expect("tar");
    assert!(out.status.success(), "tar -tvzf {}", archive.display());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (
                cols[0].to_owned(),
                cols[1].to_owned(),
                cols[cols.len() - 1].to_owned(),
            )
        })
        .collect()
}

fn extract(archive: &Path, name: &str) -> Vec<u8> {
    let out = Command::new("tar")
        .arg("-xOzf")
        .arg(archive)
        .arg(name)
        .output()
        .expect("tar");
    assert!(
        out.status.success(),
        "tar -xOzf {} {name}",
        archive.display()
    );
    out.stdout
}

fn out_dir(name: &str) -> PathBuf {
    let d = support::temp_path(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn plugin_archive(arch: &str) -> String {
    format!("k8saudit-ovh-{VERSION}-linux-{arch}.tar.gz")
}

fn rules_archive() -> String {
    format!("k8saudit-ovh-rules-{VERSION}.tar.gz")
}

fn fake_so(name: &str) -> PathBuf {
    let so = support::temp_path(name);
    std::fs::write(&so, b"\x7fELF stand-in: only the packaging is under test").unwrap();
    so
}

#[test]
fn dist_writes_flat_archives_in_the_layouts_falcoctl_installs() {
    let so = support::plugin_path();
    let out = out_dir("dist");
    dist(&["--so", so.to_str().unwrap()], &out);
    let plugin = out.join(plugin_archive(std::env::consts::ARCH));
    let rules = out.join(rules_archive());
    // The plugin archive holds only the library, under the name falco.yaml's library_path uses.
    assert_eq!(
        listing(&plugin),
        vec![(
            "-rwxr-xr-x".into(),
            "0/0".into(),
            "libk8saudit-ovh.so".into()
        )]
    );
    assert!(
        extract(&plugin, "libk8saudit-ovh.so") == std::fs::read(&so).unwrap(),
        "the archived library is the built one"
    );
    // The rules archive holds every rules file at its root, in dist.sh's order, unchanged.
    let want: Vec<(String, String, String)> = ARCHIVED_RULES
        .iter()
        .map(|f| ("-rw-r--r--".into(), "0/0".into(), file_name(f).into()))
        .collect();
    assert_eq!(listing(&rules), want);
    for f in ARCHIVED_RULES {
        assert_eq!(
            extract(&rules, file_name(f)),
            std::fs::read(repo().join(f)).unwrap(),
            "{f}"
        );
    }
    // Every rules file of rules/ ships: a new one must be added to dist.sh and here.
    let mut shipped: Vec<String> = std::fs::read_dir(repo().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    shipped.sort();
    let mut archived: Vec<String> = ARCHIVED_RULES.map(|f| file_name(f).to_owned()).to_vec();
    archived.sort();
    assert_eq!(shipped, archived, "rules/*.yaml and the rules archive");
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    for a in [&plugin, &rules] {
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(
            sums.lines().any(|l| l.ends_with(&format!("  {name}"))),
            "SHA256SUMS lists {name}"
        );
    }
}

#[test]
fn dist_archives_are_reproducible() {
    let (x86, arm) = (fake_so("fake-x86_64.so"), fake_so("fake-aarch64.so"));
    let args = [
        "--so".to_owned(),
        so_arg("x86_64", &x86),
        "--so".to_owned(),
        so_arg("aarch64", &arm),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (a, b) = (out_dir("dist-a"), out_dir("dist-b"));
    dist(&args, &a);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    dist(&args, &b);
    let mut names = vec!["SHA256SUMS".to_owned(), rules_archive()];
    names.extend(ARCHES.map(plugin_archive));
    for name in names {
        assert_eq!(
            std::fs::read(a.join(&name)).unwrap(),
            std::fs::read(b.join(&name)).unwrap(),
            "{name} differs between two runs"
        );
    }
}

/// One `falcoctl registry push` command as cobra parses it: flags (in order) and positionals.
#[derive(Debug, Default)]
struct Push {
    flags: Vec<(String, Option<String>)>,
    args: Vec<String>,
}

impl Push {
    fn all(&self, flag: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(f, _)| f == flag)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
            .collect()
    }
    fn one(&self, flag: &str) -> &str {
        let all = self.all(flag);
        assert_eq!(all.len(), 1, "{flag} once in {self:?}");
        all[0]
    }
    fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|(f, _)| f == flag)
    }
}

/// The push commands dist.sh prints, continuation lines joined.
fn pushes(stdout: &str) -> Vec<Push> {
    let joined = stdout.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|l| l.trim().strip_prefix("falcoctl registry push "))
        .map(|cmd| {
            let mut push = Push::default();
            let mut words = cmd.split_whitespace();
            while let Some(w) = words.next() {
                if w == "--add-floating-tags" {
                    push.flags.push((w.to_owned(), None));
                } else if w.starts_with("--") {
                    let v = words.next().unwrap_or_else(|| panic!("{w} has no value"));
                    push.flags.push((w.to_owned(), Some(v.to_owned())));
                } else {
                    push.args.push(w.to_owned());
                }
            }
            push
        })
        .collect()
}

fn semver(v: &str) -> (u64, u64, u64) {
    let mut p = v.split(['.', '-']).map(|n| n.parse().unwrap_or(0));
    (
        p.next().unwrap_or(0),
        p.next().unwrap_or(0),
        p.next().unwrap_or(0),
    )
}

/// What one rules file requires (`required_plugin_versions`): (plugin, version), in order.
fn required_plugins(file: &str) -> Vec<(String, String)> {
    yaml(file)
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|item| item["required_plugin_versions"].as_sequence().cloned())
        .flatten()
        .map(|p| {
            assert!(
                p["alternatives"].is_null(),
                "{file}: {p:?}: --depends-on NAME:VERSION cannot carry alternatives"
            );
            (s(&p, "name").to_owned(), s(&p, "version").to_owned())
        })
        .collect()
}

/// Per plugin, the newest version the shipped rules files require: what the rules artifact
/// depends on. k8saudit-ovh's is this release or an older one of its major; the json plugin's
/// is at least what `k8s_audit_ovh_json_rules.yaml` requires.
fn rules_require() -> BTreeMap<String, String> {
    let mut newest: BTreeMap<String, String> = BTreeMap::new();
    for f in ARCHIVED_RULES {
        for (name, version) in required_plugins(f) {
            let v = newest.entry(name).or_insert_with(|| version.clone());
            if semver(&version) > semver(v) {
                *v = version;
            }
        }
    }
    let own = newest
        .get("k8saudit-ovh")
        .expect("the rules require k8saudit-ovh");
    assert!(
        semver(own) <= semver(VERSION) && semver(own).0 == semver(VERSION).0,
        "the rules require k8saudit-ovh {own}, not this release ({VERSION}) or an older one of its major"
    );
    assert!(
        required_plugins(JSON_RULES)
            .iter()
            .any(|(n, _)| n == JSON_PLUGIN),
        "{JSON_RULES} reads jevt.* fields: it requires the json plugin"
    );
    newest
}

/// The `--depends-on` values the rules push must carry: this plugin first, then the others
/// by name, each at the newest version the files require.
fn expected_depends_on() -> Vec<String> {
    let required = rules_require();
    let own = format!("k8saudit-ovh:{}", required["k8saudit-ovh"]);
    let others = required
        .iter()
        .filter(|(n, _)| *n != "k8saudit-ovh")
        .map(|(n, v)| format!("{n}:{v}"));
    std::iter::once(own).chain(others).collect()
}

/// A version's line, as floating tags name it: `0.7.0` -> `0.7`.
fn minor(v: &str) -> &str {
    v.rsplit_once('.').unwrap().0
}

#[test]
fn the_archive_order_gives_the_same_dependencies() {
    // falcosecurity/plugins' registry tool builds a rules artifact's dependencies from the
    // files of its archive, in archive order, a later file's version of a plugin replacing an
    // earlier one's: in dist.sh's order, the last file naming a plugin requires the newest.
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for f in ARCHIVED_RULES {
        last.extend(required_plugins(f));
    }
    assert_eq!(last, rules_require());
}

fn index_entry(kind: &str) -> Value {
    let index = yaml("index.yaml");
    index
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| s(e, "type") == kind)
        .unwrap_or_else(|| panic!("no {kind} entry in index.yaml"))
        .clone()
}

#[test]
fn dist_prints_one_push_per_artifact_with_its_name_platforms_and_requirements() {
    let (x86, arm) = (fake_so("push-x86_64.so"), fake_so("push-aarch64.so"));
    let out = out_dir("dist-push");
    let stdout = dist(
        &[
            "--so",
            &so_arg("aarch64", &arm),
            "--so",
            &so_arg("x86_64", &x86),
        ],
        &out,
    );
    let pushes = pushes(&stdout);
    assert_eq!(pushes.len(), 2, "{stdout}");
    let (plugin, rules) = (&pushes[0], &pushes[1]);
    let (plugin_entry, rules_entry) = (index_entry("plugin"), index_entry("rulesfile"));
    let at = |e: &Value| format!("{}/{}:{VERSION}", s(e, "registry"), s(e, "repository"));

    // The plugin: both platforms in one push (each archive followed by its platform, in
    // order), named as the index names it, asking for the plugin API the library asks for.
    assert_eq!(plugin.one("--type"), "plugin");
    assert_eq!(plugin.one("--name"), s(&plugin_entry, "name"));
    assert_eq!(plugin.one("--version"), VERSION);
    let api = support::required_api_version();
    assert_eq!(
        plugin.one("--requires"),
        format!("plugin_api_version:{api}"),
        "the library asks Falco for plugin API {api}"
    );
    let files: Vec<String> = ARCHES
        .iter()
        .map(|a| out.join(plugin_archive(a)).display().to_string())
        .collect();
    assert_eq!(plugin.args, [vec![at(&plugin_entry)], files].concat());
    assert_eq!(plugin.all("--platform"), ["linux/amd64", "linux/arm64"]);

    // The rules: their own name (not the plugin's, which falcoctl would take for the
    // plugin), a dependency on each plugin the files require, by its index name (json is
    // falcosecurity's) at the newest version they require, one flag each (falcoctl v0.13.0
    // records every --depends-on as a dependency, and "a|b" within one as an alternative), and
    // the Falco engine they require.
    assert_eq!(rules.one("--type"), "rulesfile");
    assert_eq!(rules.one("--name"), s(&rules_entry, "name"));
    assert_eq!(rules.one("--name"), "k8saudit-ovh-rules");
    assert_eq!(rules.one("--version"), VERSION);
    let depends_on = rules.all("--depends-on");
    assert_eq!(depends_on, expected_depends_on(), "{stdout}");
    let required = rules_require();
    assert_eq!(
        depends_on[..2],
        [
            format!("{}:{}", s(&plugin_entry, "name"), required["k8saudit-ovh"]),
            format!("{JSON_PLUGIN}:{}", required[JSON_PLUGIN])
        ]
    );
    assert!(
        depends_on.iter().all(|d| !d.contains('|')),
        "{depends_on:?}"
    );
    assert_eq!(
        rules.one("--requires"),
        format!("engine_version_semver:{ENGINE_SEMVER}")
    );
    assert_eq!(
        rules.args,
        [
            at(&rules_entry),
            out.join(rules_archive()).display().to_string()
        ]
    );
    assert!(rules.all("--platform").is_empty());

    // Floating tags (0, 0.7 and latest) for both, which follow and short installs track.
    for p in [plugin, rules] {
        assert!(p.has("--add-floating-tags"), "{p:?}");
        assert_eq!(p.all("--tag"), ["latest"]);
    }
    // Signing by digest, for falcoctl's verification.
    for e in [&plugin_entry, &rules_entry] {
        let sign = format!(
            "cosign sign --yes {}/{}@<digest>",
            s(e, "registry"),
            s(e, "repository")
        );
        assert!(stdout.lines().any(|l| l.trim() == sign), "{sign}\n{stdout}");
    }
    assert!(!stdout.contains("Warning"), "{stdout}");
}

#[test]
fn dist_publishes_where_repo_says_and_warns_of_a_missing_platform() {
    let x86 = fake_so("repo-x86_64.so");
    let out = out_dir("dist-repo");
    let stdout = dist(
        &[
            "--so",
            &so_arg("x86_64", &x86),
            "--repo",
            "registry.example/team/falco/",
        ],
        &out,
    );
    let pushes = pushes(&stdout);
    assert_eq!(
        pushes[0].args[0],
        format!("registry.example/team/falco/plugin/k8saudit-ovh:{VERSION}")
    );
    assert_eq!(
        pushes[1].args[0],
        format!("registry.example/team/falco/ruleset/k8saudit-ovh:{VERSION}")
    );
    assert_eq!(pushes[0].all("--platform"), ["linux/amd64"]);
    assert!(
        stdout.contains("Warning: only linux/amd64 packaged"),
        "a one-platform push must say what it drops:\n{stdout}"
    );
    assert!(!out.join(plugin_archive("aarch64")).exists());
}

fn yaml(path: &str) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(repo().join(path)).unwrap())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing {key} in {v:?}"))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_sequence()
        .unwrap_or_else(|| panic!("not a list: {v:?}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn index_describes_the_plugin_and_the_rulesfile() {
    let index = yaml("index.yaml");
    let entries = index.as_sequence().expect("the index is a list of entries");
    assert_eq!(entries.len(), 2);
    let (plugin, rules) = (index_entry("plugin"), index_entry("rulesfile"));
    assert_eq!(s(&plugin, "name"), "k8saudit-ovh");
    assert_eq!(s(&rules, "name"), "k8saudit-ovh-rules");
    for e in [&plugin, &rules] {
        for key in ["registry", "repository", "description", "home"] {
            assert!(!s(e, key).is_empty(), "{key}");
        }
        assert_eq!(s(e, "license"), "Apache-2.0");
        let keywords = strings(&e["keywords"]);
        assert!(
            keywords.contains(&s(e, "name")) && keywords.contains(&"ovhcloud"),
            "{keywords:?}"
        );
        assert!(e["maintainers"]
            .as_sequence()
            .is_some_and(|m| !m.is_empty()));
        assert!(e["sources"].as_sequence().is_some_and(|m| !m.is_empty()));
        // falcoctl verifies what it installs by the policy of the index entry of that name:
        // keyless cosign, an issuer and the identity that signs.
        let cosign = &e["signature"]["cosign"];
        assert!(!s(cosign, "certificate-oidc-issuer").is_empty(), "{e:?}");
        assert!(
            cosign["certificate-identity"].is_string()
                || cosign["certificate-identity-regexp"].is_string(),
            "{e:?}"
        );
    }
    assert_eq!(plugin["signature"], rules["signature"]);
    assert!(s(&plugin, "repository").ends_with("/plugin/k8saudit-ovh"));
    assert!(s(&rules, "repository").ends_with("/ruleset/k8saudit-ovh"));
    // The rules' description names what they need and every file.
    let required = rules_require();
    let description = s(&rules, "description");
    for (plugin, version) in &required {
        assert!(
            description.contains(&format!("{plugin} plugin >= {version}")),
            "{description}"
        );
    }
    for f in ARCHIVED_RULES {
        assert!(description.contains(file_name(f)), "{f}: {description}");
    }
}

/// Falco's priorities, most severe first (falco_common::priority_type).
const PRIORITIES: [&str; 8] = [
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "informational",
    "debug",
];

fn priority_rank(p: &str) -> usize {
    let p = p.to_ascii_lowercase();
    let p = if p == "info" {
        "informational".into()
    } else {
        p
    };
    PRIORITIES
        .iter()
        .position(|q| *q == p)
        .unwrap_or_else(|| panic!("unknown priority {p}"))
}

/// The last part of a path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

/// A setup's rules files where falcoctl installs them (`k8saudit-rules` holds the stock file).
fn installed(setup: &Setup) -> Vec<String> {
    setup
        .files
        .iter()
        .map(|f| format!("/etc/falco/{}", file_name(f)))
        .collect()
}

/// The rules files a comment of `text` lists, in order: `#   - /etc/falco/<file>.yaml`.
fn commented_rules_files(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .filter_map(|l| l.trim_start().strip_prefix("- /etc/falco/"))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|f| f.ends_with(".yaml"))
        .map(|f| format!("/etc/falco/{f}"))
        .collect()
}

/// The `plugins` entry of that name.
fn plugin_entry<'a>(cfg: &'a Value, name: &str) -> &'a Value {
    cfg["plugins"]
        .as_sequence()
        .unwrap_or_else(|| panic!("no plugins in {cfg:?}"))
        .iter()
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no plugins entry named {name}"))
}

/// A Falco configuration of the docs or `deploy/` (the `falco` values of the chart): it loads
/// both plugins (the json plugin with synchronous extraction), reads the stream's address from
/// the environment, and loads a recommended setup of the rules files installed in /etc/falco,
/// in its order, then nothing but `rules.d`. Returns that setup.
fn check_falco_config(cfg: &Value, what: &str) -> &'static Setup {
    let load = strings(&cfg["load_plugins"]);
    assert_eq!(load, ["k8saudit-ovh", JSON_PLUGIN], "{what}: load_plugins");
    let p = plugin_entry(cfg, "k8saudit-ovh");
    assert_eq!(
        s(p, "library_path"),
        "libk8saudit-ovh.so",
        "{what}: the name inside the plugin archive"
    );
    assert!(
        p["init_config"]["clusterName"].is_string(),
        "{what}: clusterName"
    );
    assert_eq!(
        s(p, "open_params"),
        "${LDP_WEBSOCKET_URL}",
        "{what}: the token stays out of the file"
    );
    let json = plugin_entry(cfg, JSON_PLUGIN);
    assert_eq!(s(json, "library_path"), "libjson.so", "{what}");
    assert_eq!(
        json["init_config"]["useAsync"].as_bool(),
        Some(false),
        "{what}: the json plugin's init_config"
    );
    let mut rules = strings(&cfg["rules_files"]);
    if rules.last() == Some(&"/etc/falco/rules.d") {
        rules.pop();
    }
    [&OVH_JSON, &STOCK_OVH_JSON]
        .into_iter()
        .find(|setup| rules == installed(setup))
        .unwrap_or_else(|| {
            panic!("{what}: rules_files {rules:?} is no recommended setup (in its order)")
        })
}

#[test]
fn deploy_examples_run_the_default_setup_with_the_json_plugin() {
    let falco = yaml("deploy/falco.yaml");
    assert_eq!(s(&falco["engine"], "kind"), "nodriver");
    let setup = check_falco_config(&falco, "deploy/falco.yaml");
    assert_eq!(setup.name, OVH_JSON.name, "deploy/falco.yaml: the default");
    assert_eq!(
        strings(&falco["rules_files"]),
        installed(&OVH_JSON),
        "deploy/falco.yaml: every file of the default setup, and nothing else"
    );

    let values = yaml("deploy/values.yaml");
    assert_eq!(values["driver"]["enabled"].as_bool(), Some(false));
    // No hostPath and nothing privileged, so that Pod Security "baseline" admits the pod:
    // chart 9.1.0 mounts the host's /proc unless both of these are false.
    assert_eq!(values["falco"]["plugins_hostinfo"].as_bool(), Some(false));
    assert_eq!(values["collectors"]["enabled"].as_bool(), Some(false));
    let setup = check_falco_config(&values["falco"], "deploy/values.yaml");
    assert_eq!(setup.name, OVH_JSON.name, "deploy/values.yaml: the default");
    // The token comes from a Secret, into the environment open_params reads.
    let env = values["extra"]["env"].as_sequence().expect("extra.env");
    assert!(
        env.iter()
            .any(|e| e["name"].as_str() == Some("LDP_WEBSOCKET_URL")
                && e["valueFrom"]["secretKeyRef"]["key"].as_str() == Some("LDP_WEBSOCKET_URL")),
        "deploy/values.yaml: LDP_WEBSOCKET_URL from a Secret: {env:?}"
    );

    // Both show, in comments, the stock-rules setup in its order.
    for path in ["deploy/falco.yaml", "deploy/values.yaml"] {
        let text = std::fs::read_to_string(repo().join(path)).unwrap();
        assert_eq!(
            commented_rules_files(&text),
            installed(&STOCK_OVH_JSON),
            "{path}: the commented stock-rules setup"
        );
    }

    // falcoctl resolves the short names through the indexes, in order: this repository's
    // comes after falcosecurity's, so that its entries (and their signature policy) win.
    let falcoctl = &values["falcoctl"]["config"];
    let indexes: Vec<&str> = falcoctl["indexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|i| s(i, "name"))
        .collect();
    assert_eq!(indexes, ["falcosecurity", "k8saudit-ovh"]);
    let ours = &falcoctl["indexes"][1];
    assert!(s(ours, "url").ends_with("/index.yaml"), "{ours:?}");
    let (plugin, rules) = (index_entry("plugin"), index_entry("rulesfile"));
    let floating = |e: &Value| format!("{}:{}", s(e, "name"), minor(VERSION));
    // The json plugin comes from falcosecurity's index, on the line the rules require. The
    // chart mounts an empty plugins directory over the image's (which has the json plugin):
    // falcoctl must install it, and resolves the rules' dependencies (resolveDeps) so that
    // the plugins are at least what the rules require.
    let json = format!("{JSON_PLUGIN}:{}", minor(&rules_require()[JSON_PLUGIN]));
    let artifact = &falcoctl["artifact"];
    assert_eq!(
        strings(&artifact["install"]["refs"]),
        [floating(&rules), floating(&plugin), json]
    );
    assert_eq!(artifact["install"]["resolveDeps"].as_bool(), Some(true));
    let allowed = strings(&artifact["allowedTypes"]);
    assert!(
        allowed.contains(&"plugin") && allowed.contains(&"rulesfile"),
        "{allowed:?}"
    );
    assert_eq!(
        strings(&artifact["follow"]["refs"]),
        [floating(&rules)],
        "follow tracks the rules' release line, as upstream does"
    );
    assert!(!artifact["noVerify"].as_bool().unwrap_or(false));
}

/// The fenced `yaml` blocks of a Markdown file.
fn yaml_blocks(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(path)).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let fence = line.trim_start();
        match &mut current {
            None if fence == "```yaml" => current = Some(String::new()),
            Some(block) if fence == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn docs_snippets_load_a_recommended_setup() {
    let mut defaults = 0;
    for path in ["README.md", "docs/install.md"] {
        for (i, block) in yaml_blocks(path).iter().enumerate() {
            let what = format!("{path}, yaml block {}", i + 1);
            let v: Value = serde_yaml::from_str(block).unwrap_or_else(|e| panic!("{what}: {e}"));
            // The chart's values nest Falco's configuration under `falco`.
            let cfg = if v["falco"].is_mapping() {
                &v["falco"]
            } else {
                &v
            };
            if !cfg["load_plugins"].is_null() {
                if check_falco_config(cfg, &what).name == OVH_JSON.name {
                    defaults += 1;
                }
            } else if !cfg["rules_files"].is_null() {
                let mut rules = strings(&cfg["rules_files"]);
                rules.retain(|r| *r != "/etc/falco/rules.d");
                assert!(
                    rules == installed(&OVH_JSON) || rules == installed(&STOCK_OVH_JSON),
                    "{what}: rules_files {rules:?} is no recommended setup (in its order)"
                );
            }
        }
    }
    assert!(
        defaults >= 3,
        "the README's falco.yaml and docs/install.md's load the default"
    );
}

/// Falco's stock Kubernetes audit rules: rule name → priority rank.
fn stock_priorities() -> std::collections::HashMap<String, usize> {
    let stock: Value =
        serde_yaml::from_str(&std::fs::read_to_string(repo().join(falco_rules::STOCK)).unwrap())
            .unwrap();
    stock
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|r| Some((r["rule"].as_str()?.to_owned(), r["priority"].as_str()?)))
        .map(|(name, p)| (name, priority_rank(p)))
        .collect()
}

#[test]
fn deploy_falco_yaml_keeps_every_stock_rule() {
    // Falco drops the rules below `priority`; the stock rules go down to debug.
    let lowest = *stock_priorities().values().max().unwrap();
    let falco = yaml("deploy/falco.yaml");
    assert!(
        priority_rank(s(&falco, "priority")) >= lowest,
        "deploy/falco.yaml's priority {} drops stock rules of priority {}",
        s(&falco, "priority"),
        PRIORITIES[lowest]
    );
    let values = yaml("deploy/values.yaml");
    if let Some(p) = values["falco"]["priority"].as_str() {
        assert!(
            priority_rank(p) >= lowest,
            "deploy/values.yaml priority {p}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The release libraries, when K8SAUDIT_OVH_DIST_DIR names what scripts/dist.sh wrote.

fn dist_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("K8SAUDIT_OVH_DIST_DIR")?);
    Some(if dir.is_absolute() {
        dir
    } else {
        repo().join(dir)
    })
}

/// The library of one architecture's release archive, unpacked for the test `who`.
fn release_library(dir: &Path, arch: &str, who: &str) -> Option<PathBuf> {
    let archive = dir.join(plugin_archive(arch));
    if !archive.is_file() {
        return None;
    }
    let so = support::temp_path(&format!("{who}-{arch}-libk8saudit-ovh.so"));
    std::fs::write(&so, extract(&archive, "libk8saudit-ovh.so")).unwrap();
    Some(so)
}

fn readelf(args: &[&str], so: &Path) -> String {
    let out = Command::new("readelf")
        .args(args)
        .arg(so)
        .output()
        .expect("readelf (binutils)");
    assert!(out.status.success(), "readelf {args:?} {}", so.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `GLIBC_x.y[.z]` versions the library needs, as `readelf -V` lists them.
fn glibc_versions(so: &Path) -> Vec<String> {
    let text = readelf(&["-V", "-W"], so);
    let mut found: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|w| w.starts_with("GLIBC_"))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

fn parse_glibc(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.strip_prefix("GLIBC_")?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[test]
fn release_libraries_need_no_openssl_and_no_glibc_past_2_28() {
    let Some(dir) = dist_dir() else {
        skipped("release library checks: set K8SAUDIT_OVH_DIST_DIR to what scripts/dist.sh wrote (.ci/dist-check does)");
        return;
    };
    let mut checked = 0;
    for arch in ARCHES {
        let Some(so) = release_library(&dir, arch, "elf") else {
            skipped(&format!(
                "{arch}: no {} in {}",
                plugin_archive(arch),
                dir.display()
            ));
            continue;
        };
        // The archive of an architecture holds an ELF of that architecture.
        let elf = std::fs::read(&so).unwrap();
        assert_eq!(&elf[..4], b"\x7fELF", "{arch}: not an ELF file");
        assert_eq!((elf[4], elf[5]), (2, 1), "{arch}: not 64-bit little-endian");
        let machine = u16::from_le_bytes([elf[18], elf[19]]);
        let want = match arch {
            "x86_64" => 62,
            _ => 183,
        };
        assert_eq!(machine, want, "{arch}: ELF e_machine");
        assert_eq!(u16::from_le_bytes([elf[16], elf[17]]), 3, "{arch}: ET_DYN");

        let needed: Vec<String> = readelf(&["-d", "-W"], &so)
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .filter_map(|l| Some(l.split_once('[')?.1.trim_end_matches(']').to_owned()))
            .collect();
        assert!(
            !needed
                .iter()
                .any(|n| n.starts_with("libssl") || n.starts_with("libcrypto")),
            "{arch}: the release library must carry OpenSSL, not need it: NEEDED {needed:?}"
        );
        let glibc = glibc_versions(&so);
        for v in &glibc {
            let parsed = parse_glibc(v);
            assert!(
                parsed.is_some_and(|p| p <= GLIBC_BASELINE),
                "{arch}: needs {v}, past glibc {}.{}: {glibc:?}",
                GLIBC_BASELINE.0,
                GLIBC_BASELINE.1
            );
        }
        let _ = writeln!(
            std::io::stderr(),
            "{arch}: NEEDED {needed:?}; newest glibc symbol version {}",
            glibc
                .iter()
                .max_by_key(|v| parse_glibc(v))
                .map_or("none", |v| v)
        );
        checked += 1;
    }
    if checked < ARCHES.len() {
        skipped(&format!(
            "{} of {} architectures checked",
            checked,
            ARCHES.len()
        ));
    }
}

/// What a Falco run of `deploy/falco.yaml` uses in place of what falcoctl installs.
struct Installed {
    falco: PathBuf,
    /// The k8saudit-ovh library.
    plugin: PathBuf,
    json_plugin: PathBuf,
    /// Where this plugin's rules files are (the rules archive's files, or rules/).
    rules: PathBuf,
}

/// `FALCO` and `FALCO_JSON_PLUGIN`, or why the Falco runs cannot happen: no `FALCO` skips
/// them, `FALCO` without the json plugin fails (the shipped setup needs it).
fn falco_env(what: &str) -> Option<(PathBuf, PathBuf)> {
    let Some(falco) = std::env::var_os("FALCO")
        .filter(|f| !f.is_empty())
        .map(PathBuf::from)
    else {
        skipped(&format!(
            "{what}: set FALCO=/path/to/falco and FALCO_JSON_PLUGIN (../shared/tools/falco/setup)"
        ));
        return None;
    };
    let json = std::env::var_os("FALCO_JSON_PLUGIN")
        .map(PathBuf::from)
        .filter(|j| j.is_file())
        .unwrap_or_else(|| {
            panic!("{what}: FALCO is set but FALCO_JSON_PLUGIN names no file: deploy/falco.yaml loads Falco's json plugin")
        });
    Some((falco, json))
}

/// deploy/falco.yaml as shipped, but for paths (the libraries, and the rules files of
/// `rules_files`, given as /etc/falco/<file>: this plugin's from `inst.rules`, the stock file
/// from the tests' copy), and no web server (another run may hold its port).
fn shipped_config(inst: &Installed, rules_files: &[String]) -> Value {
    let mut cfg = yaml("deploy/falco.yaml");
    for p in cfg["plugins"].as_sequence_mut().unwrap() {
        let lib = match p["name"].as_str() {
            Some("k8saudit-ovh") => &inst.plugin,
            Some(JSON_PLUGIN) => &inst.json_plugin,
            other => panic!("deploy/falco.yaml: unexpected plugin {other:?}"),
        };
        p["library_path"] = Value::from(lib.display().to_string());
    }
    cfg["rules_files"] = rules_files
        .iter()
        .map(|r| {
            let name = r.strip_prefix("/etc/falco/").unwrap();
            let path = if name == file_name(STOCK) {
                repo().join(STOCK)
            } else {
                inst.rules.join(name)
            };
            assert!(path.is_file(), "{r}: no {}", path.display());
            Value::from(path.display().to_string())
        })
        .collect();
    cfg["webserver"]["enabled"] = Value::from(false);
    cfg
}

/// The events the Falco runs replay: the sample frames, then the events of the json rules'
/// examples (bare audit events, which a file `open_params` also takes).
fn replay_file(dir: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string(repo().join("examples/sample-frames.jsonl")).unwrap();
    for e in json_rules_examples() {
        text.push_str(&serde_json::to_string(&e.event).unwrap());
        text.push('\n');
    }
    let path = dir.join("events.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

fn json_rules_examples() -> Vec<falco_rules::examples::Example> {
    SUITES
        .iter()
        .find(|suite| suite.covers == JSON_RULES)
        .unwrap()
        .examples()
}

/// Runs Falco on `cfg` with `events` as the stream (`LDP_WEBSOCKET_URL`, which the shipped
/// open_params reads: a file is replayed, then Falco ends). Fails if Falco does, or if it
/// loads the rules with warnings; returns, per audit ID, the rules raised, in order.
fn falco_run(
    inst: &Installed,
    cfg: &Value,
    events: &Path,
    dir: &Path,
) -> BTreeMap<String, Vec<String>> {
    std::fs::create_dir_all(dir).unwrap();
    let config = dir.join("falco.yaml");
    std::fs::write(&config, serde_yaml::to_string(cfg).unwrap()).unwrap();
    let mut cmd = Command::new(&inst.falco);
    cmd.arg("-c")
        .arg(&config)
        .arg("--disable-source=syscall")
        .env("LDP_WEBSOCKET_URL", events);
    let (stdout, stderr) = falco_rules::falco::run_to_end(cmd, dir, "falco")
        .unwrap_or_else(|e| panic!("{}: {e}", config.display()));
    // deploy/falco.yaml logs to stderr: the plugins and rules files it loaded, and warnings
    // (an unused macro, a shadowed rule...), which are a defect of the shipped setup too.
    assert!(
        !stderr.contains("Warnings:") && !stderr.contains("LOAD_"),
        "Falco loaded {} with warnings:\n{stderr}",
        config.display()
    );
    for plugin in ["k8saudit-ovh", JSON_PLUGIN] {
        assert!(
            stderr.contains(&format!("Loaded plugin '{plugin}@")),
            "{plugin} not loaded:\n{stderr}"
        );
    }
    let mut fired: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for alert in stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["rule"].is_string())
    {
        // Every alert names its event's audit ID (deploy/falco.yaml's append_output), the key
        // that drops the alerts of a rollout's overlap.
        let id = alert["output_fields"]["ka.auditid"]
            .as_str()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| panic!("no ka.auditid in {alert}"));
        fired
            .entry(id.to_owned())
            .or_default()
            .push(alert["rule"].as_str().unwrap().to_owned());
    }
    fired
}

/// Runs deploy/falco.yaml as shipped (the default setup), then with the stock-rules setup its
/// comments show: both load without warnings, the sample frames raise alerts, each json rules
/// example raises what it names for that setup, and the stock setup raises the default's
/// alerts on every event the default alerted (the overlay lets no stock rule mask them).
/// Returns the number of alerts of each run.
fn run_shipped_setups(inst: &Installed, dir: &Path) -> (usize, usize) {
    std::fs::create_dir_all(dir).unwrap();
    let events = replay_file(dir);
    let shipped: Vec<String> = strings(&yaml("deploy/falco.yaml")["rules_files"])
        .into_iter()
        .map(str::to_owned)
        .collect();
    let text = std::fs::read_to_string(repo().join("deploy/falco.yaml")).unwrap();
    let stock = commented_rules_files(&text);
    let examples = json_rules_examples();
    let mut counts = Vec::new();
    let mut default_run = BTreeMap::new();
    for (setup, files) in [(&OVH_JSON, shipped), (&STOCK_OVH_JSON, stock)] {
        assert_eq!(
            files,
            installed(setup),
            "deploy/falco.yaml: the {} setup",
            setup.name
        );
        let fired = falco_run(
            inst,
            &shipped_config(inst, &files),
            &events,
            &dir.join(setup.name.replace('+', "_")),
        );
        for e in &examples {
            let got = fired.get(e.audit_id()).cloned().unwrap_or_default();
            assert_eq!(
                got,
                e.expected(setup.name, Matching::First),
                "{}: {}",
                setup.name,
                e.at()
            );
        }
        let example_ids: BTreeSet<&str> = examples.iter().map(|e| e.audit_id()).collect();
        let sample_alerts = fired
            .iter()
            .filter(|(id, _)| !example_ids.contains(id.as_str()))
            .count();
        assert!(
            sample_alerts > 0,
            "{}: no alert from the sample frames",
            setup.name
        );
        counts.push(fired.values().map(Vec::len).sum());
        if setup.name == OVH_JSON.name {
            default_run = fired;
        } else {
            for (id, rules) in &default_run {
                assert_eq!(
                    fired.get(id),
                    Some(rules),
                    "{}: event {id} raises other alerts than in the default setup",
                    setup.name
                );
            }
        }
    }
    (counts[0], counts[1])
}

#[test]
fn deploy_falco_yaml_runs_in_falco() {
    let Some((falco, json_plugin)) = falco_env("deploy/falco.yaml in a real Falco") else {
        return;
    };
    let inst = Installed {
        falco,
        plugin: support::plugin_path(),
        json_plugin,
        rules: repo().join("rules"),
    };
    let (default, stock) = run_shipped_setups(&inst, &support::temp_path("falco-deploy"));
    let _ = writeln!(
        std::io::stderr(),
        "deploy/falco.yaml in {} with the built plugin: {default} alerts; with the stock-rules setup: {stock}",
        inst.falco.display()
    );
}

#[test]
fn release_library_replays_the_sample_frames_in_falco() {
    let Some(dir) = dist_dir() else {
        skipped("Falco load check of the release library: set K8SAUDIT_OVH_DIST_DIR (and FALCO) as .ci/dist-check does");
        return;
    };
    let Some((falco, json_plugin)) = falco_env("Falco load check of the release library") else {
        return;
    };
    let arch = std::env::consts::ARCH;
    let so = release_library(&dir, arch, "falco")
        .unwrap_or_else(|| panic!("no {} in {}", plugin_archive(arch), dir.display()));
    // The rules as falcoctl installs them: the release archive unpacked.
    let rules = support::temp_path("falco-release-rules");
    std::fs::create_dir_all(&rules).unwrap();
    let archive = dir.join(rules_archive());
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&rules)
        .output()
        .expect("tar");
    assert!(out.status.success(), "tar -xzf {}", archive.display());
    let inst = Installed {
        falco,
        plugin: so,
        json_plugin,
        rules,
    };
    let (default, stock) = run_shipped_setups(&inst, &support::temp_path("falco-release"));
    let _ = writeln!(
        std::io::stderr(),
        "{arch} release library in {} with deploy/falco.yaml: {default} alerts; with the stock-rules setup: {stock}",
        inst.falco.display()
    );
}
