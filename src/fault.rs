//! Panics on demand, in debug builds only: for the tests that prove a panic on the reader
//! thread becomes the source's fatal error and never reaches Falco. Release builds have no
//! trace of it.

/// The environment variable naming where to panic: `reader` (as the thread starts) or
/// `decode` (decoding a frame); `decode:<text>` panics only on the frames that contain
/// `<text>` (one stream of several, say).
#[cfg(debug_assertions)]
const PANIC_IN: &str = "K8SAUDIT_OVH_DEBUG_PANIC_IN";

/// Panics if [`PANIC_IN`] names `place` (debug builds only).
#[cfg(debug_assertions)]
pub(crate) fn injected_panic(place: &str) {
    if std::env::var_os(PANIC_IN).is_some_and(|v| v == place) {
        panic!("panic injected: {place} ({PANIC_IN})");
    }
}

/// Panics if [`PANIC_IN`] names `place`, or `place:<text>` and `data` contains `<text>`
/// (debug builds only).
#[cfg(debug_assertions)]
pub(crate) fn injected_panic_on(place: &str, data: &[u8]) {
    let Some(v) = std::env::var_os(PANIC_IN) else {
        return;
    };
    let v = v.to_string_lossy();
    let hit = match v.strip_prefix(place) {
        Some("") => true,
        Some(rest) => rest.strip_prefix(':').is_some_and(|text| {
            data.windows(text.len().max(1))
                .any(|w| w == text.as_bytes())
        }),
        None => false,
    };
    if hit {
        panic!("panic injected: {v} ({PANIC_IN})");
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) fn injected_panic(_place: &str) {}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) fn injected_panic_on(_place: &str, _data: &[u8]) {}
