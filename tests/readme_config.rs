//! The README's init_config table is generated from config.schema.json; this test fails when
//! they differ. Regenerate with `UPDATE_README=1 cargo test --test readme_config`.

use serde_json::Value;

fn table(schema: &Value) -> String {
    let mut out = String::from(
        "| key | type | default | range | meaning |\n| --- | --- | --- | --- | --- |\n",
    );
    let props = schema["properties"].as_object().expect("properties");
    for (key, prop) in props {
        let ty = prop["type"].as_str().unwrap_or("");
        let default = match &prop["default"] {
            Value::String(s) if s.is_empty() => "(none)".to_owned(),
            Value::String(s) => format!("`{s}`"),
            Value::Null => String::new(),
            other => format!("`{other}`"),
        };
        let range = match (
            prop.get("minimum"),
            prop.get("maximum"),
            prop.get("maxLength"),
        ) {
            (Some(min), Some(max), _) => format!("{min} to {max}"),
            (_, _, Some(len)) => format!("at most {len} chars"),
            _ => String::new(),
        };
        let desc = prop["description"]
            .as_str()
            .unwrap_or("")
            .replace('|', "\\|");
        out.push_str(&format!(
            "| `{key}` | {ty} | {default} | {range} | {desc} |\n"
        ));
    }
    out
}

#[test]
fn readme_config_table_matches_the_schema() {
    let root = env!("CARGO_MANIFEST_DIR");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/config.schema.json")).unwrap(),
    )
    .unwrap();
    let readme_path = format!("{root}/README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (begin, end) = ("<!-- config:begin -->\n", "<!-- config:end -->");
    let start = readme.find(begin).expect("config:begin marker") + begin.len();
    let stop = readme.find(end).expect("config:end marker");
    let want = table(&schema);
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{}{}", &readme[..start], want, &readme[stop..]);
        std::fs::write(&readme_path, updated).unwrap();
        return;
    }
    assert_eq!(
        &readme[start..stop],
        want,
        "README init_config table is stale: run UPDATE_README=1 cargo test --test readme_config"
    );
}
