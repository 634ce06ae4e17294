//! # k8saudit-ovh
//!
//! A Falco plugin that tails the Kubernetes audit log of OVHcloud Managed Kubernetes (MKS)
//! clusters. OVH forwards every kube-apiserver audit event of a cluster to a Logs Data Platform
//! (LDP) stream; this plugin follows that stream over a WebSocket and hands each audit event to
//! Falco as an event of source `k8s_audit`, with the same `ka.*` fields as Falco's `k8saudit`
//! plugin, so the stock Kubernetes audit rules run unchanged.
//!
//! Data moves one way:
//!
//! ```text
//! WebSocket frame → LDP envelope → GELF → audit payload → audit events
//!     (tail/, frame.rs, audit.rs; on the instance's own thread, with decoder.rs's thread
//!      taking over the decoding when the stream outruns it)
//! → bounded queue → next_batch → Falco event batch          (source.rs)
//!   (payload buffers go back to the decoding thread: spare.rs)
//! → (Falco asks) → ka.* field values                        (fields/)
//! ```
//!
//! Each open instance runs a small smol executor on a thread of its own; Falco's thread only
//! drains a bounded queue in `next_batch`, so it never waits on the network. Configuration is
//! validated at init and open against `config.schema.json` ([`config`]). The LDP token in the
//! URL is a credential: URLs are only ever displayed through [`config::TailUrl`], which
//! redacts it.

pub mod config;
mod fault;
pub mod fields;
pub mod ingest;
pub mod json;
pub mod metrics;
mod plugin;
mod source;

pub use plugin::K8sAuditOvh;
