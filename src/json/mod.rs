//! The JSON toolkit: one strict RFC 8259 lexer under two ways of reading documents.
//!
//! - [`lex`]: whitespace, strings, numbers and literals; the only place the grammar's tokens
//!   are checked.
//! - [`parse`] and [`tape`]: a document parsed once into a flat, reusable tape of spans
//!   ([`Tape`]), walked without allocating ([`Value`]). Field extraction reads events this way.
//! - [`scan`]: an object's members or an array's elements walked without a tape, with the one
//!   string that carries the next layer decoded in the same pass ([`unescape`]). The frame
//!   pipeline reads its three nested layers (envelope, GELF, audit payload) this way.
//!
//! Nothing here knows of frames, events or Falco. Why this is written by hand rather than
//! taken from a crate: `docs/decisions.md`.
//!
//! Conventions shared with Falco's reference `k8saudit` plugin (whose parser is fastjson), so the
//! same documents mean the same thing to both:
//! - duplicate object keys: the first one wins ([`Value::get`]); keys are compared after
//!   unescaping;
//! - nesting: a value may sit at most [`MAX_DEPTH`] levels deep;
//! - bytes inside strings are passed through unchanged, even when they are not UTF-8; the grammar
//!   is what is checked, not the encoding;
//! - a lone UTF-16 surrogate escape (`\ud800` not followed by a `\u` escape) stays as its six
//!   characters of source text, and a surrogate followed by a `\u` escape that does not pair
//!   with it decodes to U+FFFD.

mod lex;
mod parse;
pub mod scan;
mod tape;
mod unescape;

pub use lex::{Error, Invalid, Reason, MAX_DEPTH};
pub use parse::Kind;
pub use tape::{for_each_member, Elements, Members, Str, Tape, Value};
