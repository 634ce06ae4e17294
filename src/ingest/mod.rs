//! Frames to events: the pipeline between a connection and the queue `next_batch` drains.
//!
//! A WebSocket frame is an LDP envelope ([`frame`]) whose GELF `short_message` is an audit
//! payload, split into audit events ([`audit`]); [`decode`] does both for one frame. The
//! [`sink`] decodes each frame a source reads, counts and logs what it skips, lets a gate drop
//! exact copies ([`dedup`]) and queues the rest with backpressure. All but the sink are pure;
//! nothing here knows of sockets.

pub mod audit;
pub(crate) mod decode;
pub(crate) mod dedup;
pub mod frame;
pub(crate) mod sink;
