//! Panics on demand, in debug builds only: for the tests that prove a panic on the reader
//! thread becomes the source's fatal error and never reaches Falco. Release builds have no
//! trace of it.

/// The environment variable naming where to panic: `reader` (as the thread starts) or
/// `decode` (decoding a frame).
#[cfg(debug_assertions)]
const PANIC_IN: &str = "K8SAUDIT_OVH_DEBUG_PANIC_IN";

/// Panics if [`PANIC_IN`] names `place` (debug builds only).
#[cfg(debug_assertions)]
pub(crate) fn injected_panic(place: &str) {
    if std::env::var_os(PANIC_IN).is_some_and(|v| v == place) {
        panic!("panic injected: {place} ({PANIC_IN})");
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) fn injected_panic(_place: &str) {}
