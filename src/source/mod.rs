//! The sources behind an open instance: the WebSocket tail ([`tail`]) and file replay
//! ([`replay`]), each run on the instance's reader thread ([`instance`]) until it ends or the
//! instance closes ([`stop`]). A tail keeps a [`ledger`] of what reached Falco, which a
//! [`checkpoint`] keeps across restarts and reloads.

mod checkpoint;
mod instance;
pub(crate) mod ledger;
mod replay;
mod stop;
mod stream;
mod tail;
mod witness;

pub use instance::Instance;
pub(crate) use witness::Witness;
