//! Counters and gauges shared by the reader thread and Falco's thread, exposed through the
//! plugin metrics API: one set per stream, reported as totals, and also per stream, under its
//! `clusterName`, when `open_params` names its streams.

use falco_plugin::base::{Metric, MetricLabel, MetricType, MetricValue};
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
    pub checkpoint_writes: AtomicU64,
    pub checkpoint_write_failures: AtomicU64,
    pub checkpoint_resumes: AtomicU64,
    pub checkpoint_rejected: AtomicU64,
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

    /// Every metric: name, kind, and how streams add up into the total.
    fn table(&self) -> [(&'static CStr, Kind, &AtomicU64); 22] {
        use Kind::*;
        [
            (c"frames_received", Counter, &self.frames_received),
            (c"bytes_received", Counter, &self.bytes_received),
            (c"events_emitted", Counter, &self.events_emitted),
            (c"skipped_not_json", Counter, &self.skipped_not_json),
            (c"skipped_not_gelf", Counter, &self.skipped_not_gelf),
            (c"skipped_not_audit", Counter, &self.skipped_not_audit),
            (c"skipped_oversize", Counter, &self.skipped_oversize),
            (c"connection_attempts", Counter, &self.connection_attempts),
            (c"reconnects", Counter, &self.reconnects),
            (c"fatal_errors", Counter, &self.fatal_errors),
            (c"connection_state", State, &self.connection_state),
            (c"queue_depth", GaugeSum, &self.queue_depth),
            (c"events_backfilled", Counter, &self.events_backfilled),
            (c"duplicates_dropped", Counter, &self.duplicates_dropped),
            (c"backfill_windows", Counter, &self.backfill_windows),
            (c"backfill_incomplete", Counter, &self.backfill_incomplete),
            (c"event_lag_ms", GaugeMax, &self.event_lag_ms),
            (c"event_lag_max_ms", GaugeMax, &self.event_lag_max_ms),
            (c"checkpoint_writes", Counter, &self.checkpoint_writes),
            (
                c"checkpoint_write_failures",
                Counter,
                &self.checkpoint_write_failures,
            ),
            (c"checkpoint_resumes", Counter, &self.checkpoint_resumes),
            (c"checkpoint_rejected", Counter, &self.checkpoint_rejected),
        ]
    }
}

/// How a metric reads, and adds up over streams.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Monotonic: the total is the sum, over every stream opened since init.
    Counter,
    /// A gauge summed over the streams open now.
    GaugeSum,
    /// A gauge whose total is the largest over the streams open now.
    GaugeMax,
    /// `connection_state`: the total is connected (1) when every open stream is, else the
    /// state of the first one that is not.
    State,
}

fn metric(name: &'static CStr, kind: Kind, value: u64) -> Metric {
    let t = match kind {
        Kind::Counter => MetricType::Monotonic,
        _ => MetricType::NonMonotonic,
    };
    Metric::new(MetricLabel::new(name, t), MetricValue::U64(value))
}

/// One stream's counters, with its names when it reports under its own prefix.
struct Entry {
    prefix: Option<String>,
    metrics: Arc<Metrics>,
    /// `<prefix>.<metric>`, made once per stream (Falco takes names that outlive the call).
    names: Vec<&'static CStr>,
    /// The stream is part of the open instance.
    open: bool,
}

/// The plugin's metrics: the counters of every stream opened since init.
#[derive(Default)]
pub struct MetricsBoard(Mutex<Vec<Entry>>);

impl MetricsBoard {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The streams an instance opens, by metric prefix (None: the single, unnamed stream),
    /// and their counters, kept from an earlier instance of the same stream, so that
    /// counters never go back. The other streams stay in the totals only.
    pub fn open(&self, prefixes: &[Option<String>]) -> Vec<Arc<Metrics>> {
        let mut all = self.lock();
        for e in all.iter_mut() {
            e.open = false;
        }
        prefixes
            .iter()
            .map(|prefix| {
                let i = match all.iter().position(|e| &e.prefix == prefix) {
                    Some(i) => i,
                    None => {
                        let metrics = Arc::new(Metrics::default());
                        let names = prefix.as_ref().map_or_else(Vec::new, |p| {
                            metrics
                                .table()
                                .iter()
                                .map(|(name, _, _)| leak_name(p, name))
                                .collect()
                        });
                        all.push(Entry {
                            prefix: prefix.clone(),
                            metrics,
                            names,
                            open: false,
                        });
                        all.len() - 1
                    }
                };
                all[i].open = true;
                Arc::clone(&all[i].metrics)
            })
            .collect()
    }

    /// The metrics in Falco's form.
    pub fn to_falco(&self) -> Vec<Metric> {
        self.rows()
            .into_iter()
            .map(|(name, kind, value)| metric(name, kind, value))
            .collect()
    }

    /// The totals, then each open named stream's metrics under its prefix.
    fn rows(&self) -> Vec<(&'static CStr, Kind, u64)> {
        let all = self.lock();
        let zero = Metrics::default();
        let mut out: Vec<(&'static CStr, Kind, u64)> = zero
            .table()
            .iter()
            .enumerate()
            .map(|(i, (name, kind, _))| {
                let values = |open_only: bool| {
                    all.iter()
                        .filter(move |e| e.open || !open_only)
                        .map(move |e| e.metrics.table()[i].2.load(Ordering::Relaxed))
                };
                let total = match kind {
                    Kind::Counter => values(false).sum(),
                    Kind::GaugeSum => values(true).sum(),
                    Kind::GaugeMax => values(true).max().unwrap_or(0),
                    Kind::State => values(true)
                        .find(|s| *s != ConnState::Connected as u64)
                        .unwrap_or(if values(true).next().is_some() {
                            ConnState::Connected as u64
                        } else {
                            ConnState::Connecting as u64
                        }),
                };
                (*name, *kind, total)
            })
            .collect();
        for e in all.iter().filter(|e| e.open && e.prefix.is_some()) {
            for (name, (_, kind, value)) in e.names.iter().zip(e.metrics.table()) {
                out.push((name, kind, value.load(Ordering::Relaxed)));
            }
        }
        out
    }
}

/// `<prefix>.<name>`, kept for the life of the process: one per metric of each named stream
/// ever opened (Falco's metric names must outlive the call that reports them).
fn leak_name(prefix: &str, name: &CStr) -> &'static CStr {
    let full = format!("{prefix}.{}", name.to_string_lossy());
    let c = CString::new(full).unwrap_or_else(|_| CString::from(c"stream.metric"));
    Box::leak(c.into_boxed_c_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(board: &MetricsBoard, name: &str) -> Option<u64> {
        board
            .rows()
            .into_iter()
            .find(|(n, _, _)| n.to_str() == Ok(name))
            .map(|(_, _, v)| v)
    }

    #[test]
    fn one_unnamed_stream_reports_its_own_metrics_under_the_plain_names() {
        let board = MetricsBoard::default();
        assert_eq!(value(&board, "events_emitted"), Some(0), "before any open");
        assert_eq!(value(&board, "connection_state"), Some(0));
        let m = board.open(&[None]);
        m[0].events_emitted.store(5, Ordering::Relaxed);
        m[0].set_state(ConnState::Connected);
        assert_eq!(value(&board, "events_emitted"), Some(5));
        assert_eq!(value(&board, "connection_state"), Some(1));
        assert_eq!(board.rows().len(), 22, "no prefixed metrics");
    }

    #[test]
    fn named_streams_add_up_and_report_under_their_prefix() {
        let board = MetricsBoard::default();
        let m = board.open(&[Some("prod".into()), Some("staging".into())]);
        m[0].events_emitted.store(3, Ordering::Relaxed);
        m[1].events_emitted.store(4, Ordering::Relaxed);
        m[0].queue_depth.store(10, Ordering::Relaxed);
        m[1].queue_depth.store(1, Ordering::Relaxed);
        m[0].event_lag_ms.store(7, Ordering::Relaxed);
        m[1].event_lag_ms.store(9, Ordering::Relaxed);
        m[0].set_state(ConnState::Connected);
        m[1].set_state(ConnState::Backoff);
        assert_eq!(value(&board, "events_emitted"), Some(7));
        assert_eq!(value(&board, "queue_depth"), Some(11));
        assert_eq!(value(&board, "event_lag_ms"), Some(9));
        assert_eq!(
            value(&board, "connection_state"),
            Some(2),
            "not all connected"
        );
        assert_eq!(value(&board, "prod.events_emitted"), Some(3));
        assert_eq!(value(&board, "staging.connection_state"), Some(2));
        m[1].set_state(ConnState::Connected);
        assert_eq!(value(&board, "connection_state"), Some(1));
    }

    #[test]
    fn counters_survive_a_reopen_and_closed_streams_stay_in_the_totals() {
        let board = MetricsBoard::default();
        let m = board.open(&[Some("a".into()), Some("b".into())]);
        m[1].events_emitted.store(4, Ordering::Relaxed);
        m[1].queue_depth.store(4, Ordering::Relaxed);
        let again = board.open(&[Some("a".into())]);
        assert!(Arc::ptr_eq(&again[0], &m[0]), "the same counters");
        assert_eq!(
            value(&board, "events_emitted"),
            Some(4),
            "b's events still count"
        );
        assert_eq!(value(&board, "queue_depth"), Some(0), "b is not open");
        assert_eq!(value(&board, "b.events_emitted"), None);
    }
}
