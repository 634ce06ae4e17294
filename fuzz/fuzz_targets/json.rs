//! The strict JSON parser against serde_json, over arbitrary bytes: both accept exactly the
//! same UTF-8 documents (shallow enough for serde_json's recursion limit), and what the tape
//! holds means what serde_json reads: compact output parses to the same value, strings decode
//! to the same text, top-level members are the object's.
#![no_main]

use k8saudit_ovh::json::{for_each_member, Kind, Tape};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Brackets anywhere (strings included): a cheap upper bound on the nesting depth.
fn brackets(text: &str) -> usize {
    text.bytes().filter(|b| matches!(b, b'[' | b'{')).count()
}

fuzz_target!(|data: &[u8]| {
    let mut tape = Tape::default();
    let ours = tape.parse(data);
    let members_ok = for_each_member(data, |_, _| {}).is_ok();
    if members_ok {
        assert!(ours.is_ok(), "for_each_member accepted what parse rejected");
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if brackets(text) >= 120 {
        return; // serde_json stops at 128 levels, we at 300
    }
    let theirs = serde_json::from_str::<serde::de::IgnoredAny>(text);
    assert_eq!(
        ours.is_ok(),
        theirs.is_ok(),
        "ours {ours:?} theirs {theirs:?}"
    );
    let Some(root) = tape.root(data) else { return };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return; // e.g. lone surrogates, which serde_json only refuses to decode
    };
    let mut compact = Vec::new();
    root.write_compact(&mut compact);
    let reparsed: Value = serde_json::from_slice(&compact).expect("compact output is JSON");
    assert_eq!(reparsed, value);
    if let (Some(s), Value::String(t)) = (root.as_str(), &value) {
        assert_eq!(&*s.to_bytes(), t.as_bytes());
    }
    if root.kind() == Kind::Object {
        assert!(members_ok);
        let mut n = 0;
        for_each_member(data, |_, _| n += 1).unwrap();
        assert_eq!(n, root.members().count());
    }
});
