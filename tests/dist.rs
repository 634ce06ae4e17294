//! The release packaging: `scripts/dist.sh --so <built plugin>` (its packaging step, without the
//! slow release build) must write flat, reproducible archives in the layouts falcoctl
//! installs; `index.yaml` and the `deploy/` examples must name what those archives hold.

mod falco_rules;
mod support;

use falco_rules::repo;
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn dist(so: &Path, out: &Path) {
    let status = Command::new("bash")
        .arg(repo().join("scripts/dist.sh"))
        .arg("--so")
        .arg(so)
        .arg("--out")
        .arg(out)
        .env("GZIP_LEVEL", "1")
        .env("SOURCE_DATE_EPOCH", "1739181600")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run scripts/dist.sh");
    assert!(status.success(), "scripts/dist.sh failed: {status}");
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

#[test]
fn dist_writes_flat_archives_in_the_layouts_falcoctl_installs() {
    let so = support::plugin_path();
    let out = out_dir("dist");
    dist(&so, &out);
    let plugin = out.join(format!(
        "k8saudit-ovh-{VERSION}-linux-{}.tar.gz",
        std::env::consts::ARCH
    ));
    let rules = out.join(format!("k8saudit-ovh-rules-{VERSION}.tar.gz"));
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
    // The rules archive holds the two rules files at its root, ours last (see dist.sh).
    assert_eq!(
        listing(&rules),
        vec![
            (
                "-rw-r--r--".into(),
                "0/0".into(),
                "k8s_audit_ovh_overlay.yaml".into()
            ),
            (
                "-rw-r--r--".into(),
                "0/0".into(),
                "k8s_audit_ovh_rules.yaml".into()
            ),
        ]
    );
    for f in ["k8s_audit_ovh_overlay.yaml", "k8s_audit_ovh_rules.yaml"] {
        assert_eq!(
            extract(&rules, f),
            std::fs::read(repo().join("rules").join(f)).unwrap(),
            "{f}"
        );
    }
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
    let so = support::temp_path("fake-libk8saudit_ovh.so");
    std::fs::write(&so, b"\x7fELF stand-in: only the packaging is under test").unwrap();
    let (a, b) = (out_dir("dist-a"), out_dir("dist-b"));
    dist(&so, &a);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    dist(&so, &b);
    for name in [
        "SHA256SUMS".to_owned(),
        format!("k8saudit-ovh-rules-{VERSION}.tar.gz"),
    ] {
        assert_eq!(
            std::fs::read(a.join(&name)).unwrap(),
            std::fs::read(b.join(&name)).unwrap(),
            "{name} differs between two runs"
        );
    }
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

#[test]
fn index_describes_the_plugin_and_the_rulesfile() {
    let index = yaml("index.yaml");
    let entries = index.as_sequence().expect("the index is a list of entries");
    assert_eq!(entries.len(), 2);
    let by_type = |t: &str| {
        entries
            .iter()
            .find(|e| s(e, "type") == t)
            .unwrap_or_else(|| panic!("no {t} entry"))
    };
    let (plugin, rules) = (by_type("plugin"), by_type("rulesfile"));
    assert_eq!(s(plugin, "name"), "k8saudit-ovh");
    assert_eq!(s(rules, "name"), "k8saudit-ovh-rules");
    for e in [plugin, rules] {
        for key in ["registry", "repository", "description", "home"] {
            assert!(!s(e, key).is_empty(), "{key}");
        }
        assert_eq!(s(e, "license"), "Apache-2.0");
        let keywords: Vec<&str> = e["keywords"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            keywords.contains(&s(e, "name")) && keywords.contains(&"ovhcloud"),
            "{keywords:?}"
        );
        assert!(e["maintainers"]
            .as_sequence()
            .is_some_and(|m| !m.is_empty()));
        assert!(e["sources"].as_sequence().is_some_and(|m| !m.is_empty()));
    }
    assert!(s(plugin, "repository").ends_with("/plugin/k8saudit-ovh"));
    assert!(s(rules, "repository").ends_with("/ruleset/k8saudit-ovh"));
    assert!(s(rules, "description").contains(&format!("k8saudit-ovh plugin >= {VERSION}")));
}

#[test]
fn deploy_examples_load_what_the_archives_install() {
    let check = |cfg: &Value, what: &str| {
        let load: Vec<&str> = cfg["load_plugins"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(load, vec!["k8saudit-ovh"], "{what}: load_plugins");
        let p = &cfg["plugins"][0];
        assert_eq!(s(p, "name"), "k8saudit-ovh", "{what}");
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
        let rules: Vec<&str> = cfg["rules_files"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            rules.contains(&"/etc/falco/k8s_audit_ovh_rules.yaml"),
            "{what}: rules_files"
        );
    };
    let falco = yaml("deploy/falco.yaml");
    assert_eq!(s(&falco["engine"], "kind"), "nodriver");
    check(&falco, "deploy/falco.yaml");
    let values = yaml("deploy/values.yaml");
    assert_eq!(values["driver"]["enabled"].as_bool(), Some(false));
    check(&values["falco"], "deploy/values.yaml");
    let refs: Vec<&str> = values["falcoctl"]["config"]["artifact"]["install"]["refs"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let index = yaml("index.yaml");
    for e in index.as_sequence().unwrap() {
        let full = format!("{}/{}:{VERSION}", s(e, "registry"), s(e, "repository"));
        assert!(
            refs.contains(&full.as_str()),
            "falcoctl install refs must include {full}"
        );
    }
}
