//! The README's field table is generated from the plugin's own table (read through the C ABI,
//! as Falco reads it), and its deviations section from `tests/fields/deviations.rs`; these
//! tests fail when the README differs. Regenerate both with
//! `UPDATE_README=1 cargo test --test fields_readme`.

#[path = "fields/deviations.rs"]
mod deviations;
mod support;

use serde_json::Value;

fn cell(text: &str) -> String {
    text.trim().replace('|', "\\|")
}

fn field_table() -> String {
    let mut out = String::from(
        "| field | type | list | argument | description |\n| --- | --- | --- | --- | --- |\n",
    );
    for f in support::fields_json().as_array().expect("fields array") {
        let flag = |name: &str| f["arg"].get(name).and_then(Value::as_bool).unwrap_or(false);
        let arg = match (flag("isIndex"), flag("isKey"), flag("isRequired")) {
            (true, _, true) => "index",
            (true, _, false) => "optional index",
            (_, true, true) => "key",
            (_, true, false) => "optional key",
            _ => "",
        };
        let list = if f["isList"].as_bool().unwrap_or(false) {
            "yes"
        } else {
            ""
        };
        out.push_str(&format!(
            "| `{}` | {} | {list} | {arg} | {} |\n",
            f["name"].as_str().unwrap(),
            f["type"].as_str().unwrap(),
            cell(f["desc"].as_str().unwrap()),
        ));
    }
    out.push_str(
        "\nGenerated from the plugin's table (`src/fields/mod.rs`): \
         `UPDATE_README=1 cargo test --test fields_readme`.\n",
    );
    out
}

fn deviations_section() -> String {
    let mut out = String::new();
    for d in deviations::DEVIATIONS {
        out.push_str(&format!("{}. {} *Why:* {}\n", d.number, d.what, d.reason));
    }
    out
}

/// Checks (or with `UPDATE_README` rewrites) the README region between the markers.
fn check_region(name: &str, want: &str) {
    // The tests run in parallel; rewriting must not interleave.
    static README: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = README.lock().unwrap_or_else(|e| e.into_inner());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let (begin, end) = (
        format!("<!-- {name}:begin -->\n"),
        format!("<!-- {name}:end -->"),
    );
    let start = readme
        .find(&begin)
        .unwrap_or_else(|| panic!("no {begin:?} in README.md"))
        + begin.len();
    let stop = readme
        .find(&end)
        .unwrap_or_else(|| panic!("no {end:?} in README.md"));
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(
            path,
            format!("{}{want}{}", &readme[..start], &readme[stop..]),
        )
        .unwrap();
        return;
    }
    assert!(
        readme[start..stop] == *want,
        "README.md's {name} section is stale: run UPDATE_README=1 cargo test --test fields_readme"
    );
}

#[test]
fn readme_field_table_is_the_plugins() {
    check_region("fields", &field_table());
}

#[test]
fn readme_deviations_are_the_tested_ones() {
    check_region("deviations", &deviations_section());
}
