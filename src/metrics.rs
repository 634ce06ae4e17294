//! Counters and gauges shared by the reader thread and Falco's thread, exposed through the
//! plugin metrics API.

use falco_plugin::base::{Metric, MetricLabel, MetricType, MetricValue};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a message was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The frame (or `message`) is not JSON.
    NotJson,
    /// The frame is JSON but not an LDP envelope with a GELF `message` holding `short_message`.
    NotGelf,
    /// `short_message` is not an audit Event, EventList or array of events.
    NotAudit,
    /// An audit event larger than `maxEventSize`.
    Oversize,
}

impl SkipReason {
    /// Every reason, for iteration.
    pub const ALL: [SkipReason; 4] = [
        SkipReason::NotJson,
        SkipReason::NotGelf,
        SkipReason::NotAudit,
        SkipReason::Oversize,
    ];

    /// Short name used in logs and metric names.
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::NotJson => "not_json",
            SkipReason::NotGelf => "not_gelf",
            SkipReason::NotAudit => "not_audit",
            SkipReason::Oversize => "oversize",
        }
    }
}

/// Connection state gauge values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum ConnState {
    /// Not connected, waiting or dialling.
    Connecting = 0,
    /// Upgrade done, reading frames.
    Connected = 1,
    /// Waiting for the next dial after a failure.
    Backoff = 2,
    /// Stopped for good (fatal error, EOF or closed).
    Stopped = 3,
}

/// All counters. Relaxed atomics: each is independent, read for reporting only.
#[derive(Debug, Default)]
pub struct Metrics {
    pub frames_received: AtomicU64,
    pub bytes_received: AtomicU64,
    pub events_emitted: AtomicU64,
    pub skipped_not_json: AtomicU64,
    pub skipped_not_gelf: AtomicU64,
    pub skipped_not_audit: AtomicU64,
    pub skipped_oversize: AtomicU64,
    pub connection_attempts: AtomicU64,
    pub reconnects: AtomicU64,
    pub fatal_errors: AtomicU64,
    pub connection_state: AtomicU64,
    pub queue_depth: AtomicU64,
    pub events_backfilled: AtomicU64,
    pub duplicates_dropped: AtomicU64,
    pub backfill_windows: AtomicU64,
    pub backfill_incomplete: AtomicU64,
    pub event_lag_ms: AtomicU64,
    pub event_lag_max_ms: AtomicU64,
}

impl Metrics {
    /// Adds one to the counter of `reason`.
    pub fn skipped(&self, reason: SkipReason) {
        let c = match reason {
            SkipReason::NotJson => &self.skipped_not_json,
            SkipReason::NotGelf => &self.skipped_not_gelf,
            SkipReason::NotAudit => &self.skipped_not_audit,
            SkipReason::Oversize => &self.skipped_oversize,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Current value of the counter of `reason`.
    pub fn skipped_count(&self, reason: SkipReason) -> u64 {
        let c = match reason {
            SkipReason::NotJson => &self.skipped_not_json,
            SkipReason::NotGelf => &self.skipped_not_gelf,
            SkipReason::NotAudit => &self.skipped_not_audit,
            SkipReason::Oversize => &self.skipped_oversize,
        };
        c.load(Ordering::Relaxed)
    }

    /// Records the lag of a batch handed to Falco: `newest` is the lag of its last event,
    /// `worst` the largest lag in it, both in milliseconds.
    pub fn batch_lag(&self, newest: u64, worst: u64) {
        self.event_lag_ms.store(newest, Ordering::Relaxed);
        self.event_lag_max_ms.fetch_max(worst, Ordering::Relaxed);
    }

    /// Sets the connection state gauge.
    pub fn set_state(&self, state: ConnState) {
        self.connection_state.store(state as u64, Ordering::Relaxed);
    }

    /// The metrics in Falco's form.
    pub fn to_falco(&self) -> Vec<Metric> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mono = |name: &'static std::ffi::CStr, v: u64| {
            Metric::new(
                MetricLabel::new(name, MetricType::Monotonic),
                MetricValue::U64(v),
            )
        };
        let gauge = |name: &'static std::ffi::CStr, v: u64| {
            Metric::new(
                MetricLabel::new(name, MetricType::NonMonotonic),
                MetricValue::U64(v),
            )
        };
        vec![
            mono(c"frames_received", get(&self.frames_received)),
            mono(c"bytes_received", get(&self.bytes_received)),
            mono(c"events_emitted", get(&self.events_emitted)),
            mono(c"skipped_not_json", get(&self.skipped_not_json)),
            mono(c"skipped_not_gelf", get(&self.skipped_not_gelf)),
            mono(c"skipped_not_audit", get(&self.skipped_not_audit)),
            mono(c"skipped_oversize", get(&self.skipped_oversize)),
            mono(c"connection_attempts", get(&self.connection_attempts)),
            mono(c"reconnects", get(&self.reconnects)),
            mono(c"fatal_errors", get(&self.fatal_errors)),
            gauge(c"connection_state", get(&self.connection_state)),
            gauge(c"queue_depth", get(&self.queue_depth)),
            mono(c"events_backfilled", get(&self.events_backfilled)),
            mono(c"duplicates_dropped", get(&self.duplicates_dropped)),
            mono(c"backfill_windows", get(&self.backfill_windows)),
            mono(c"backfill_incomplete", get(&self.backfill_incomplete)),
            gauge(c"event_lag_ms", get(&self.event_lag_ms)),
            gauge(c"event_lag_max_ms", get(&self.event_lag_max_ms)),
        ]
    }
}
