//! The rule examples of `rules/tests/`, executed without Falco: every event is handed to the
//! built plugin, the rule conditions are evaluated over the fields it extracts, and each line
//! must trigger the rules it names under `must` and none of those under `must_not`.

mod falco_rules;
mod support;

use falco_rules::condition::FieldSource;
use falco_rules::examples::{jevt, SUITES};
use falco_rules::{FieldTable, RuleSet};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use support::{Arg, Extracted, Host};

/// Field values for one event: `ka.*` from the built plugin, `jevt.*` as Falco's json plugin
/// gives them.
struct EventFields<'a> {
    host: &'a mut Host,
    event: support::Event,
    json: &'a Json,
    table: &'a FieldTable,
    evtnum: u64,
}

impl FieldSource for EventFields<'_> {
    fn values(&mut self, field: &str, arg: Option<&str>) -> Option<Vec<String>> {
        if field.starts_with("jevt.") {
            return jevt(self.json, field, arg);
        }
        let info = &self.table.0[field];
        let arg = match arg {
            None => Arg::None,
            Some(a) if info.arg_index && !info.arg_key => Arg::Index(a.parse().unwrap()),
            Some(a) => Arg::Key(a.to_owned()),
        };
        match self.host.extract_one(&self.event, self.evtnum, field, &arg) {
            Extracted::Values(v) => Some(
                v.into_iter()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .collect(),
            ),
            Extracted::None => None,
            Extracted::Error(e) => panic!("extracting {field}: {e}"),
        }
    }

    fn is_list(&self, field: &str) -> bool {
        self.table.0.get(field).is_some_and(|f| f.is_list)
    }
}

#[test]
fn examples_trigger_exactly_the_rules_they_name() {
    let built = FieldTable::from_json(&support::fields_json());
    let mut host = Host::init(r#"{"clusterName": "mks-examples"}"#).expect("plugin init");
    let mut failures = Vec::new();
    let mut evaluated = 0;
    for suite in SUITES {
        let set = RuleSet::load(suite.rules_files).unwrap();
        let mut needed = BTreeSet::new();
        for r in &set.rules {
            for c in set.expand(&r.condition).unwrap().0 {
                if c.field.starts_with("ka.") {
                    needed.insert(c.field);
                }
            }
        }
        let missing: Vec<&String> = needed
            .iter()
            .filter(|f| !built.0.contains_key(*f))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: the built plugin lacks {missing:?}",
            suite.dir
        );
        for ex in suite.examples() {
            // A new event number per event: the plugin caches the last event it parsed.
            evaluated += 1;
            let n = evaluated as u64;
            let payload = serde_json::to_vec(&ex.event).unwrap();
            let mut src = EventFields {
                host: &mut host,
                event: support::Event::plugin_event(22, 1_739_181_600_000_000_000 + n, &payload),
                json: &ex.event,
                table: &built,
                evtnum: 1_000 + n,
            };
            let firing = set
                .firing(&mut src)
                .unwrap_or_else(|e| panic!("{}: {e}", ex.at()));
            for m in &ex.must {
                if !firing.contains(m) {
                    failures.push(format!(
                        "{}: must trigger {m:?}; triggered {firing:?}",
                        ex.at()
                    ));
                }
            }
            for m in &ex.must_not {
                if firing.contains(m) {
                    failures.push(format!("{}: must not trigger {m:?}", ex.at()));
                }
            }
        }
    }
    assert!(evaluated >= 80, "only {evaluated} examples evaluated");
    assert_eq!(failures, Vec::<String>::new());
}
