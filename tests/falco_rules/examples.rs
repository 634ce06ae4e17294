//! The rule examples of `rules/tests/` (format in `rules/tests/README.md`).

use super::{repo, OVERLAY, OWN_RULES, STOCK};
use serde_json::Value as Json;
use std::path::PathBuf;

/// A directory of examples and the rules files its events are meant for, in load order.
pub struct Suite {
    pub dir: &'static str,
    pub rules_files: &'static [&'static str],
    /// The stock rules need Falco's `json` plugin (`jevt.*` fields).
    pub needs_json_plugin: bool,
}

pub const SUITES: &[Suite] = &[
    Suite {
        dir: "rules/tests/k8s_audit_ovh_rules",
        rules_files: &[OWN_RULES],
        needs_json_plugin: false,
    },
    Suite {
        dir: "rules/tests/k8s_audit_ovh_overlay",
        rules_files: &[STOCK, OVERLAY],
        needs_json_plugin: true,
    },
];

/// One line of an examples file.
#[derive(Debug, Clone)]
pub struct Example {
    pub file: PathBuf,
    pub line: usize,
    pub note: String,
    pub must: Vec<String>,
    pub must_not: Vec<String>,
    pub event: Json,
}

impl Example {
    /// `file:line (note)`, for messages.
    pub fn at(&self) -> String {
        format!("{}:{} ({})", super::rel(&self.file), self.line, self.note)
    }

    pub fn audit_id(&self) -> &str {
        self.event["auditID"].as_str().unwrap_or("")
    }
}

fn names(v: &Json, key: &str, at: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{at}: \"{key}\" must be a list of rule names"))
        .iter()
        .map(|n| {
            n.as_str()
                .unwrap_or_else(|| panic!("{at}: rule names are strings"))
                .to_owned()
        })
        .collect()
}

impl Suite {
    /// The `.jsonl` files of the suite, sorted.
    pub fn files(&self) -> Vec<PathBuf> {
        let dir = repo().join(self.dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        files
    }

    /// Every example of the suite, in file and line order.
    pub fn examples(&self) -> Vec<Example> {
        let mut out = Vec::new();
        for file in self.files() {
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let at = format!("{}:{}", super::rel(&file), i + 1);
                let v: Json = serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: {e}"));
                let keys: Vec<&String> = v
                    .as_object()
                    .map(|o| o.keys().collect())
                    .unwrap_or_default();
                for k in &keys {
                    assert!(
                        ["note", "must", "must_not", "event"].contains(&k.as_str()),
                        "{at}: unknown key {k:?}"
                    );
                }
                out.push(Example {
                    note: v["note"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{at}: \"note\" must say what the event is"))
                        .to_owned(),
                    must: names(&v, "must", &at),
                    must_not: names(&v, "must_not", &at),
                    event: v["event"].clone(),
                    file: file.clone(),
                    line: i + 1,
                });
            }
        }
        out
    }
}

/// What Falco's `json` plugin extracts for the `jevt.*` fields the stock rules use.
pub fn jevt(event: &Json, field: &str, arg: Option<&str>) -> Option<Vec<String>> {
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match (field, arg) {
        ("jevt.rawtime", None) => Some(vec!["1".to_owned()]),
        ("jevt.obj", None) => Some(vec![event.to_string()]),
        ("jevt.value", Some(ptr)) => event.pointer(ptr).map(|v| vec![text(v)]),
        _ => None,
    }
}
