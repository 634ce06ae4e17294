//! The rule examples of `rules/tests/` (format in `rules/tests/README.md`): each names the
//! alert Falco raises for its event under each setup of its directory.

use super::setups::{Setup, OVH, OVH_JSON, OVH_SANDBOX, STOCK_OVH, STOCK_OVH_JSON};
use super::{repo, Matching, JSON_RULES, OVERLAY, OWN_RULES, SANDBOX};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A directory of examples, the setups its events are evaluated under, and the rules file
/// whose rules and entries it covers.
pub struct Suite {
    pub dir: &'static str,
    pub setups: &'static [&'static Setup],
    pub covers: &'static str,
}

pub const SUITES: &[Suite] = &[
    Suite {
        dir: "rules/tests/k8s_audit_ovh_rules",
        setups: &[&OVH_JSON, &STOCK_OVH_JSON, &OVH, &STOCK_OVH],
        covers: OWN_RULES,
    },
    Suite {
        dir: "rules/tests/k8s_audit_ovh_overlay",
        setups: &[&STOCK_OVH_JSON, &STOCK_OVH],
        covers: OVERLAY,
    },
    Suite {
        dir: "rules/tests/k8s_audit_ovh_json_rules",
        setups: &[&OVH_JSON, &STOCK_OVH_JSON],
        covers: JSON_RULES,
    },
    Suite {
        dir: "rules/tests/k8s_audit_ovh_sandbox",
        setups: &[&OVH_SANDBOX],
        covers: SANDBOX,
    },
];

/// One line of an examples file.
#[derive(Debug, Clone)]
pub struct Example {
    pub file: PathBuf,
    pub line: usize,
    pub note: String,
    /// Per setup name: the one rule Falco raises under `rule_matching: first`, if any.
    pub fires: BTreeMap<String, Option<String>>,
    /// Per setup name: every rule raised under `rule_matching: all`, in load order. A setup
    /// absent here raises exactly its `fires` rule.
    pub all: BTreeMap<String, Vec<String>>,
    /// Rules whose condition does not match the event (in any setup, either mode).
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

    /// What Falco must raise for this event under `setup` and `matching`.
    pub fn expected(&self, setup: &str, matching: Matching) -> Vec<String> {
        let first: Vec<String> = self.fires[setup].iter().cloned().collect();
        match matching {
            Matching::First => first,
            Matching::All => self.all.get(setup).cloned().unwrap_or(first),
        }
    }
}

fn rule_name(v: &Json, at: &str) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => panic!("{at}: a rule name or null, not {other}"),
    }
}

fn names(v: &Json, at: &str) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("{at}: a list of rule names"))
        .iter()
        .map(|n| {
            n.as_str()
                .unwrap_or_else(|| panic!("{at}: rule names are strings"))
                .to_owned()
        })
        .collect()
}

/// `value` for every setup of the suite, or an object keyed by setup name.
fn per_setup<T>(
    suite: &Suite,
    value: &Json,
    at: &str,
    parse: impl Fn(&Json) -> T,
) -> BTreeMap<String, T> {
    match value {
        Json::Object(m) => {
            for k in m.keys() {
                assert!(
                    suite.setups.iter().any(|s| s.name == k),
                    "{at}: {k:?} is not a setup of {}",
                    suite.dir
                );
            }
            m.iter().map(|(k, v)| (k.clone(), parse(v))).collect()
        }
        v => suite
            .setups
            .iter()
            .map(|s| (s.name.to_owned(), parse(v)))
            .collect(),
    }
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
                        ["note", "fires", "all", "must_not", "event"].contains(&k.as_str()),
                        "{at}: unknown key {k:?}"
                    );
                }
                let fires = per_setup(
                    self,
                    v.get("fires")
                        .unwrap_or_else(|| panic!("{at}: \"fires\" is required")),
                    &at,
                    |x| rule_name(x, &at),
                );
                for s in self.setups {
                    assert!(
                        fires.contains_key(s.name),
                        "{at}: \"fires\" says nothing for setup {}",
                        s.name
                    );
                }
                let all = match v.get("all") {
                    Some(a) => per_setup(self, a, &at, |x| names(x, &at)),
                    None => BTreeMap::new(),
                };
                out.push(Example {
                    note: v["note"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{at}: \"note\" must say what the event is"))
                        .to_owned(),
                    fires,
                    all,
                    must_not: match v.get("must_not") {
                        Some(m) => names(m, &at),
                        None => vec![],
                    },
                    event: v["event"].clone(),
                    file: file.clone(),
                    line: i + 1,
                });
            }
        }
        out
    }
}
