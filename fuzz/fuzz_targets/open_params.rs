//! open_params parsing over arbitrary text: never panics, and no error or display form of an
//! accepted URL contains the token.
#![no_main]

use k8saudit_ovh::config::{SourceSpec, TailUrl};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "SECRETTOKEN0123";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = SourceSpec::parse(Some(text));
    // Text that already holds the token string may show it legitimately (as a path, say):
    // the property is about the credential we plant.
    if text.contains(TOKEN) {
        return;
    }
    // With a token planted in the query, nothing shown may contain it.
    let with_token = format!("{text}?tk={TOKEN}");
    match TailUrl::parse(&with_token) {
        Ok(url) => {
            assert!(!url.to_string().contains(TOKEN), "{url}");
            assert!(!format!("{url:?}").contains(TOKEN));
        }
        Err(e) => assert!(!e.contains(TOKEN), "{e}"),
    }
});
