//! Frames to events: the pipeline between a connection and the queue `next_batch` drains.
//!
//! A WebSocket frame is an LDP envelope ([`frame`]) whose GELF `short_message` is an audit
//! payload, split into audit events ([`audit`]). The [`sink`] does this for each frame a
//! source reads (or hands it to the [`decoder`] thread when the reader falls behind), counts
//! and logs what it skips, lets a gate drop exact copies ([`dedup`]) and queues the rest with
//! backpressure; payload buffers come back from `next_batch` to be reused ([`spare`]).
//! `frame` and `audit` are pure; nothing here knows of sockets.

pub mod audit;
pub(crate) mod decoder;
pub(crate) mod dedup;
pub mod frame;
pub(crate) mod sink;
pub(crate) mod spare;
