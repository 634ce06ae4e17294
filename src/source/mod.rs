//! The sources behind an open instance: the WebSocket tail ([`tail`]) and file replay
//! ([`replay`]), each run on the instance's reader thread ([`instance`]) until it ends or the
//! instance closes ([`stop`]).

mod instance;
mod replay;
mod stop;
mod tail;

pub use instance::Instance;
