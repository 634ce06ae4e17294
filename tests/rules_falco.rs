//! The rule examples of `rules/tests/` through a real Falco, when `FALCO` names its binary.
//! For every setup the examples use (the recommended ones with Falco's json plugin, which
//! must then be present), Falco runs once per `rule_matching` mode over all their events,
//! replayed by the built plugin from a file, and must raise for each event exactly the alerts
//! its example names. The evaluator model cases of `tests/fixtures/rules/model/` run too, so
//! the static evaluator the other tests use is checked against Falco itself.
//!
//! A test binary of its own (`harness = false`): it prints one line per run, `ok`, `FAILED`,
//! or `SKIPPED (FALCO not set)`, and exits non-zero on a failure.
//!
//!     FALCO=/usr/bin/falco FALCO_JSON_PLUGIN=/usr/share/falco/plugins/libjson.so \
//!         cargo test --test rules_falco

mod falco_rules;
mod support;

use falco_rules::examples::{Example, SUITES};
use falco_rules::falco::Falco;
use falco_rules::model;
use falco_rules::setups::SETUPS;
use falco_rules::Matching;
use std::process::ExitCode;

const TEMP: &str = "rules-falco";

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        return ExitCode::SUCCESS;
    }
    let falco = match Falco::from_env() {
        Ok(Some(f)) => f,
        Ok(None) => {
            println!(
                "rules_falco: SKIPPED (FALCO not set): the rule examples and the evaluator model were not run through a real Falco; set FALCO and FALCO_JSON_PLUGIN (see docs/rules.md)"
            );
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            println!("rules_falco: FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = support::temp_path(TEMP);
    let mut failed = false;

    for case in model::cases() {
        let got = falco.run_model(&case, &dir.join("model"));
        match got {
            Ok(got) if got == case.expected => {
                println!(
                    "rules_falco: evaluator model case {:?} ({}): ok",
                    case.name,
                    case.matching.name()
                )
            }
            Ok(got) => {
                failed = true;
                println!(
                    "rules_falco: evaluator model case {:?} ({}): FAILED: Falco raised {got:?}, the model says {:?}",
                    case.name,
                    case.matching.name(),
                    case.expected
                );
            }
            Err(e) => {
                failed = true;
                println!(
                    "rules_falco: evaluator model case {:?}: FAILED: {e}",
                    case.name
                );
            }
        }
    }

    for setup in SETUPS {
        let examples: Vec<Example> = SUITES
            .iter()
            .filter(|s| s.setups.iter().any(|x| x.name == setup.name))
            .flat_map(|s| s.examples())
            .collect();
        if examples.is_empty() {
            continue;
        }
        let events: Vec<&serde_json::Value> = examples.iter().map(|e| &e.event).collect();
        for matching in [Matching::First, Matching::All] {
            let what = format!(
                "examples of setup {} ({}), rule_matching {}",
                setup.name,
                setup.files.join(" + "),
                matching.name()
            );
            let alerts = match falco.run(setup, matching, &events, &dir) {
                Ok(a) => a,
                Err(e) => {
                    failed = true;
                    println!("rules_falco: {what}: FAILED: {e}");
                    continue;
                }
            };
            let mut failures = Vec::new();
            for ex in &examples {
                let got = alerts.get(ex.audit_id()).cloned().unwrap_or_default();
                let want = ex.expected(setup.name, matching);
                if got != want {
                    failures.push(format!(
                        "  {}: Falco raised {got:?}, the example says {want:?}",
                        ex.at()
                    ));
                }
            }
            if failures.is_empty() {
                println!("rules_falco: {what}: {} events, ok", examples.len());
            } else {
                failed = true;
                println!("rules_falco: {what}: {} events, FAILED:", examples.len());
                for f in failures {
                    println!("{f}");
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        // Kept on a failure, to look at Falco's config, input and output.
        let dir = support::temp_path(TEMP);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = dir.parent().map(std::fs::remove_dir);
        ExitCode::SUCCESS
    }
}
