//! Small rules files of `tests/fixtures/rules/model/` whose outcome shows how Falco matches:
//! load order, first match, overrides, redefinitions, names defined after their use,
//! priorities. `rules_static` evaluates them with the evaluator the other tests rely on,
//! `rules_falco` runs them through Falco: both must give the outcome the case names.

use super::{repo, Matching, Priority, RuleSet};
use serde_json::Value as Json;

pub const DIR: &str = "tests/fixtures/rules/model";

pub struct Case {
    pub name: String,
    /// Rules files in load order, relative to the repository.
    pub files: Vec<String>,
    pub matching: Matching,
    pub priority: Priority,
    /// Falco's name for `priority`, for `falco.yaml`.
    pub priority_name: String,
    pub expected: Vec<String>,
}

impl Case {
    pub fn ruleset(&self) -> RuleSet {
        let files: Vec<&str> = self.files.iter().map(String::as_str).collect();
        RuleSet::load(&files).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

/// The one event every case is evaluated on (a `get` by kubernetes-admin).
pub fn event() -> Json {
    let p = repo().join(DIR).join("event.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

pub fn cases() -> Vec<Case> {
    let p = repo().join(DIR).join("cases.json");
    let v: Json = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| {
                c[k].as_str()
                    .unwrap_or_else(|| panic!("case {k}"))
                    .to_owned()
            };
            Case {
                name: s("name"),
                files: c["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| format!("{DIR}/{}", f.as_str().unwrap()))
                    .collect(),
                matching: match s("matching").as_str() {
                    "first" => Matching::First,
                    "all" => Matching::All,
                    m => panic!("matching {m}"),
                },
                priority: Priority::parse(&s("priority")).unwrap(),
                priority_name: s("priority"),
                expected: c["expected"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect(),
            }
        })
        .collect()
}
