//! Frame → GELF → audit events over arbitrary bytes: never panics, and every emitted event
//! respects the size limit and is valid JSON text taken from the payload. Also, string
//! decoding agrees with serde_json on the input as a string literal, short (decoded byte by
//! byte) and repeated past a few 64-byte blocks (decoded a block at a time).
#![no_main]

use k8saudit_ovh::ingest::{audit, frame};
use k8saudit_ovh::json::scan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = frame::decode(data) {
        let max = 4096;
        audit::split(
            &*payload.text,
            1,
            max,
            &mut |e| {
                assert!(e.payload.len() <= max);
                assert!(std::str::from_utf8(&e.payload).is_ok());
            },
            &mut |_| {},
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let repeat = if text.is_empty() { 1 } else { 1 + 300 / text.len() };
        for body in [text.to_owned(), text.repeat(repeat)] {
            let literal = format!("\"{body}\"");
            let ours = scan::string(&literal, 0..literal.len()).map(|s| s.into_owned());
            let reference = serde_json::from_str::<String>(&literal);
            assert_eq!(ours.ok(), reference.ok(), "{literal:?}");
        }
    }
});
