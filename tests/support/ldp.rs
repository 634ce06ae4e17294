//! LDP frames and settings for the tail tests: audit events wrapped as LDP sends them, a fake
//! token that must never show up in a log line, and an init config with short timings.

#![allow(dead_code)]

use serde_json::{json, Value};

/// The `tk=` value of every test URL. Any log line or error containing it is a leak.
pub const FAKE_TOKEN: &str = "00000000-fake-fake-fake-000000000000";

/// A minimal audit event.
pub fn event(id: &str, stage_timestamp: &str) -> Value {
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": id, "stage": "ResponseComplete", "verb": "get",
        "requestURI": "/api/v1/namespaces/default/pods",
        "user": {"username": "kubernetes-admin"},
        "stageTimestamp": stage_timestamp
    })
}

/// The `i`-th event of a numbered stream: auditID `ev-<i>`, one millisecond apart.
pub fn numbered(i: usize) -> Value {
    event(&format!("ev-{i}"), &numbered_ts(i))
}

/// Event `i` of cluster `cluster` as LDP sends it: auditID `<cluster>-<i>`, the timestamp of
/// [`numbered`] `i`.
pub fn cluster_frame(cluster: &str, i: usize) -> String {
    event_frame(&event(&format!("{cluster}-{i}"), &numbered_ts(i)))
}

/// The `stageTimestamp` of [`numbered`] `i` (with nanoseconds, as the apiserver writes them).
pub fn numbered_ts(i: usize) -> String {
    format!(
        "2025-02-10T09:{:02}:{:02}.{:06}123Z",
        i / 60_000 % 60,
        i / 1000 % 60,
        (i % 1000) * 1000
    )
}

/// Nanoseconds since the epoch of [`numbered_ts`] `i`.
pub fn numbered_nanos(i: usize) -> u64 {
    // 2025-02-10T09:00:00Z
    const BASE: u64 = 1_739_178_000;
    let secs = BASE + (i / 1000) as u64;
    secs * 1_000_000_000 + (i % 1000) as u64 * 1_000_000 + 123
}

/// An LDP frame carrying `short_message` as its GELF `short_message`.
pub fn ldp_frame(short_message: &str) -> String {
    let gelf = json!({
        "version": "1.1", "host": "mks-test", "short_message": short_message,
        "timestamp": 1739178940.103, "level": 6, "_audit_verb": "get"
    });
    json!({ "message": gelf.to_string() }).to_string()
}

/// An LDP frame carrying one audit event.
pub fn event_frame(event: &Value) -> String {
    ldp_frame(&event.to_string())
}

/// An init config with timings short enough for tests, plus `extra` keys.
pub fn fast_config(extra: Value) -> String {
    let mut cfg = json!({
        "pingIntervalMs": 200,
        "deadTimeoutMs": 1000,
        "connectTimeoutMs": 1000,
        "reconnectMinBackoffMs": 50,
        "reconnectMaxBackoffMs": 400
    });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    cfg.to_string()
}

/// Fails if any log line captured so far holds the token.
pub fn assert_no_token_in_logs() {
    for line in crate::support::captured_logs() {
        assert!(
            !line.message.contains(FAKE_TOKEN),
            "the token leaked into a log line: {}",
            line.message
        );
    }
}

/// The auditID of an event payload.
pub fn audit_id(payload: &[u8]) -> String {
    serde_json::from_slice::<Value>(payload).unwrap()["auditID"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// `nanos` since the epoch as an RFC 3339 UTC timestamp with nanoseconds, as the apiserver
/// writes `stageTimestamp`.
pub fn rfc3339(nanos: u64) -> String {
    k8saudit_ovh::ingest::audit::format_rfc3339(nanos, true)
}

/// Nanoseconds since the epoch, now.
pub fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A numbered stream of events stamped from `base`, `step` apart: what a cluster produced
/// recently (backfill windows are computed from the wall clock, so their events must be
/// recent). Event `i` has auditID `ev-<i>`.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    pub base: u64,
    pub step: u64,
}

impl Timeline {
    /// Events `step_ms` apart, the first `ago` before now.
    pub fn recent(ago: std::time::Duration, step_ms: u64) -> Timeline {
        Timeline {
            base: now_nanos() - ago.as_nanos() as u64,
            step: step_ms * 1_000_000,
        }
    }

    /// The timestamp of event `i`, in ns.
    pub fn nanos(&self, i: usize) -> u64 {
        self.base + i as u64 * self.step
    }

    /// The LDP frame of event `i`.
    pub fn frame(&self, i: usize) -> String {
        event_frame(&event(&format!("ev-{i}"), &rfc3339(self.nanos(i))))
    }

    /// History entries (timestamp, frame) of events `range`, for a replaying server.
    pub fn history(&self, range: std::ops::Range<usize>) -> Vec<(u64, String)> {
        range.map(|i| (self.nanos(i), self.frame(i))).collect()
    }

    /// Events of `range` whose timestamp, in whole seconds, lies in `[begin, end]`.
    pub fn within(&self, range: std::ops::Range<usize>, (begin, end): (u64, u64)) -> Vec<usize> {
        range
            .filter(|i| (begin..=end).contains(&(self.nanos(*i) / 1_000_000_000)))
            .collect()
    }
}

/// One second, for test deadlines.
pub const SECOND: std::time::Duration = std::time::Duration::from_secs(1);

/// `n` milliseconds.
pub fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}

/// The numbers of `ev-<i>` auditIDs, sorted: for checks of what arrived, whatever the order
/// of the live and replayed connections.
pub fn sorted_numbers(events: &[crate::support::Event]) -> Vec<usize> {
    let mut nums = numbers(events);
    nums.sort_unstable();
    nums
}

/// The numbers of `ev-<i>` auditIDs, in order.
pub fn numbers(events: &[crate::support::Event]) -> Vec<usize> {
    events
        .iter()
        .map(|e| {
            audit_id(&e.payload)
                .strip_prefix("ev-")
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX)
        })
        .collect()
}
