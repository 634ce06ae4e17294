//! What the user configures: `init_config` ([`InitConfig`], validated against
//! `config.schema.json`) and `open_params` ([`SourceSpec`]: a file, or an LDP WebSocket
//! address whose token never shows, [`TailUrl`]).

mod init;
mod open_params;
mod redact;
mod url;

pub use init::{schema_text, InitConfig, SCHEMA_CSTR};
pub use open_params::{metric_prefix, OpenParams, SourceSpec, StreamSpec};
pub use url::{Scheme, TailUrl};
