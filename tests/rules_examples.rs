//! The rule examples of `rules/tests/`, executed without Falco: every event is handed to the
//! built plugin, the rules files of each setup are evaluated over the fields it extracts, as
//! Falco does (first match in load order by default, every match with `rule_matching: all`),
//! and each line must raise exactly the alerts it names.

mod falco_rules;
mod support;

use falco_rules::eval::Extractor;
use falco_rules::examples::SUITES;
use falco_rules::setups::{Setup, STOCK_OVH, STOCK_OVH_JSON};
use falco_rules::{Compiled, Matching, Priority, RuleSet, OVERLAY, STOCK};
use std::collections::{BTreeMap, BTreeSet};

fn compile(setup: &Setup) -> Compiled {
    RuleSet::load(setup.files)
        .unwrap_or_else(|e| panic!("{}: {e}", setup.name))
        .compile(Priority::Debug)
        .unwrap()
}

#[test]
fn examples_raise_exactly_the_alerts_they_name_under_first_and_all_matching() {
    let mut x = Extractor::new();
    let mut compiled: BTreeMap<&str, Compiled> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut evaluated = 0;
    for suite in SUITES {
        for setup in suite.setups {
            compiled.entry(setup.name).or_insert_with(|| compile(setup));
        }
        for ex in suite.examples() {
            let mut src = x.event(&ex.event);
            for setup in suite.setups {
                let c = &compiled[setup.name];
                evaluated += 1;
                for matching in [Matching::First, Matching::All] {
                    let got = c
                        .evaluate(&mut src, matching)
                        .unwrap_or_else(|e| panic!("{}: {e}", ex.at()));
                    let want = ex.expected(setup.name, matching);
                    if got != want {
                        failures.push(format!(
                            "{} [{} / {}]: raises {got:?}, the example says {want:?}",
                            ex.at(),
                            setup.name,
                            matching.name()
                        ));
                    }
                    if matching == Matching::All {
                        for m in ex.must_not.iter().filter(|m| got.contains(m)) {
                            failures.push(format!(
                                "{} [{}]: must not raise {m:?}",
                                ex.at(),
                                setup.name
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(evaluated >= 150, "only {evaluated} example evaluations");
    assert_eq!(failures, Vec::<String>::new());
}

#[test]
fn every_field_the_examples_need_is_extracted_by_the_built_plugin() {
    let x = Extractor::new();
    for suite in SUITES {
        for setup in suite.setups {
            let set = RuleSet::load(setup.files).unwrap();
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
                .filter(|f| !x.table().0.contains_key(*f))
                .collect();
            assert!(
                missing.is_empty(),
                "{}: the built plugin lacks {missing:?}",
                setup.name
            );
        }
    }
}

/// The overlay turns stock rules off because they would mask (or, with `rule_matching: all`,
/// duplicate) an MKS alert: for each, some example shows a request it would have matched.
#[test]
fn every_stock_rule_the_overlay_turns_off_would_match_an_example() {
    let set = RuleSet::load(STOCK_OVH.files).unwrap();
    let disabled: Vec<String> = set.files[OVERLAY]
        .overrides
        .iter()
        .filter(|n| set.rule(n).is_some_and(|r| r.file == STOCK && !r.enabled))
        .cloned()
        .collect();
    assert!(disabled.len() >= 15, "the overlay turns off {disabled:?}");
    let c = set.compile(Priority::Debug).unwrap();
    let mut x = Extractor::new();
    let mut seen = BTreeSet::new();
    for suite in SUITES
        .iter()
        .filter(|s| s.setups.iter().any(|s| s.name == STOCK_OVH.name))
    {
        for ex in suite.examples() {
            let mut src = x.event(&ex.event);
            seen.extend(c.matching_any(&mut src).unwrap());
        }
    }
    let unshown: Vec<&String> = disabled.iter().filter(|d| !seen.contains(*d)).collect();
    assert!(
        unshown.is_empty(),
        "no example shows a request these turned-off stock rules would match: {unshown:?}"
    );
}

/// In the setups with the stock rules no stock rule raises an alert: the overlay leaves none
/// that could mask an MKS rule.
#[test]
fn in_the_stock_setups_every_alert_comes_from_the_mks_files() {
    let mut x = Extractor::new();
    let mut failures = Vec::new();
    for setup in [&STOCK_OVH, &STOCK_OVH_JSON] {
        let set = RuleSet::load(setup.files).unwrap();
        let c = set.compile(Priority::Debug).unwrap();
        for suite in SUITES {
            for ex in suite.examples() {
                let mut src = x.event(&ex.event);
                for name in c.evaluate(&mut src, Matching::All).unwrap() {
                    if set.rule(&name).unwrap().file == STOCK {
                        failures.push(format!(
                            "{} [{}]: stock rule {name:?} fires",
                            ex.at(),
                            setup.name
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(failures, Vec::<String>::new());
}
