//! Frame → GELF → audit events over arbitrary bytes: never panics, and every emitted event
//! respects the size limit and is valid JSON text taken from the payload.
#![no_main]

use k8saudit_ovh::{audit, frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = frame::decode(data) {
        let max = 4096;
        audit::split(
            &payload.text,
            1,
            max,
            &mut |e| {
                assert!(e.payload.len() <= max);
                assert!(std::str::from_utf8(&e.payload).is_ok());
            },
            &mut |_| {},
        );
    }
});
