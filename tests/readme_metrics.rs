//! The README's Metrics table is hand-written: this test keeps it true. Every metric the
//! plugin reports through the C ABI has a row, with the right kind, and every row is a metric
//! the plugin reports.

mod support;

use falco_plugin_api::*;
use std::collections::BTreeMap;
use support::Host;

/// The metrics the plugin reports, name → "counter" or "gauge".
fn reported() -> BTreeMap<String, &'static str> {
    let host = Host::init("").expect("init");
    host.metric_kinds()
        .into_iter()
        .map(|(name, kind)| {
            let kind = match kind {
                k if k == ss_plugin_metric_type_SS_PLUGIN_METRIC_TYPE_MONOTONIC => "counter",
                _ => "gauge",
            };
            (name, kind)
        })
        .collect()
}

/// The rows of the README's Metrics table, name → kind.
fn documented() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Metrics\n")
        .nth(1)
        .expect("a Metrics section")
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_owned(), cells.get(2)?.to_string()))
        })
        .collect()
}

#[test]
fn readme_metrics_table_lists_every_reported_metric_with_its_kind() {
    let reported = reported();
    let documented = documented();
    assert!(reported.len() >= 12, "{reported:?}");
    for (name, kind) in &reported {
        assert_eq!(
            documented.get(name).map(String::as_str),
            Some(*kind),
            "README Metrics table: no row for `{name}` ({kind})"
        );
    }
    for name in documented.keys() {
        assert!(
            reported.contains_key(name),
            "README Metrics table documents `{name}`, which the plugin does not report"
        );
    }
}
