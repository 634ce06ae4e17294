//! The plugin's field table, as Falco reads it (`plugin_get_fields` through the C ABI), is
//! upstream's: the same 100 fields in the same order, with the same names, types, list flags,
//! argument kinds and descriptions.

mod support;

use serde_json::Value;

/// The parts of a field definition Falco acts on, with absent flags as false and no display
/// name as empty (the SDK writes `null` where upstream writes `false` or `""`).
fn normalized(field: &Value) -> Value {
    let flag = |name: &str| {
        field["arg"]
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    serde_json::json!({
        "name": field["name"],
        "type": field["type"],
        "isList": field["isList"].as_bool().unwrap_or(false),
        "arg": {
            "isRequired": flag("isRequired"),
            "isIndex": flag("isIndex"),
            "isKey": flag("isKey"),
        },
        "display": field["display"].as_str().unwrap_or(""),
        "desc": field["desc"],
    })
}

#[test]
fn the_field_table_is_upstreams() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/k8saudit/upstream-fields.json"
    );
    let upstream: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let upstream: Vec<Value> = upstream
        .as_array()
        .unwrap()
        .iter()
        .map(normalized)
        .collect();
    let ours: Vec<Value> = support::fields_json()
        .as_array()
        .expect("fields array")
        .iter()
        .map(normalized)
        .collect();
    assert_eq!(upstream.len(), 100);
    for (i, (ours, upstream)) in ours.iter().zip(&upstream).enumerate() {
        assert_eq!(ours, upstream, "field #{i}");
    }
    assert_eq!(ours.len(), upstream.len());
}

#[test]
fn no_field_adds_itself_to_outputs() {
    // Upstream suggests no output fields; `addOutput` would change Falco's outputs.
    for field in support::fields_json().as_array().unwrap() {
        assert_eq!(field.get("addOutput"), None, "{}", field["name"]);
    }
}
