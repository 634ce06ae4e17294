//! The reader side of the queue: turns frames into audit events, counts and logs what it
//! skips (at a bounded rate), lets a gate drop events already delivered, and queues the rest
//! for `next_batch` with backpressure.

use crate::ingest::audit::AuditEvent;
use crate::ingest::decode::{self, Decoded, Frame};
use crate::ingest::dedup::{Key, Keyer};
use crate::ingest::frame::Scratch;
use crate::metrics::{Metrics, SkipReason};
use crate::source::ledger::Ledger;
use smol::channel::Sender;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the reader thread hands to `next_batch`.
#[derive(Debug)]
pub(crate) enum Item {
    /// One audit event, with its key when the stream keeps a ledger.
    Event(AuditEvent, Option<Key>),
    /// The source failed for good; the message is for the user (never contains the token).
    Fatal(String),
    /// The source ended (file replay).
    Eof,
}

/// The queue was closed: the instance is closing.
#[derive(Debug)]
pub(crate) struct Closed;

/// What a [`Gate`] says of one decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Queue it for Falco.
    Deliver,
    /// Already delivered: dropped, counted in `duplicates_dropped`.
    Duplicate,
    /// This connection has given all it should (a replayed window is over, or went wrong):
    /// the event is dropped and the connection read no further. `complete`: the connection
    /// gave all that was asked of it. The reason is for the log.
    End { reason: String, complete: bool },
}

/// Decides, event by event (with its key), what a sink does with what its connection
/// delivers.
pub(crate) type Gate = Box<dyn FnMut(&AuditEvent, Key) -> Admit + Send>;

/// How a stream keeps track of what it delivers: the secret of its event keys, and its
/// ledger (what reached Falco, for checkpoints).
#[derive(Clone)]
pub(crate) struct Tracking {
    pub(crate) keyer: Keyer,
    pub(crate) ledger: Arc<Ledger>,
}

/// Logs one line per key at most every `period`, with the count of suppressed lines; every
/// line starts with the stream's label (its `clusterName`, when `open_params` names streams).
#[derive(Debug)]
pub(crate) struct RateLimitedLog {
    period: Duration,
    label: String,
    slots: Vec<(&'static str, Option<Instant>, u64)>,
}

impl RateLimitedLog {
    pub(crate) fn new(period: Duration, label: Option<&str>) -> Self {
        Self {
            period,
            label: label.map(|l| format!("stream {l:?}: ")).unwrap_or_default(),
            slots: Vec::new(),
        }
    }

    /// Another log of the same stream, with its own `period` and slots.
    pub(crate) fn fresh(&self, period: Duration) -> Self {
        Self {
            period,
            label: self.label.clone(),
            slots: Vec::new(),
        }
    }

    /// `msg` with the stream's label in front.
    pub(crate) fn labelled(&self, msg: &str) -> String {
        format!("{}{msg}", self.label)
    }

    /// Logs `msg()` under `key` unless a line with that key was logged within the period.
    pub(crate) fn log(
        &mut self,
        level: log::Level,
        key: &'static str,
        msg: impl FnOnce() -> String,
    ) {
        if let Some(suppressed) = self.admit(key, Instant::now()) {
            log::log!(level, "{}", self.line(&msg(), suppressed));
        }
    }

    /// The line for `msg`: labelled, and saying how many like it were suppressed before it.
    fn line(&self, msg: &str, suppressed: u64) -> String {
        let line = self.labelled(msg);
        if suppressed > 0 {
            format!("{line} ({suppressed} similar messages suppressed)")
        } else {
            line
        }
    }

    /// Whether a line under `key` may be logged at `now`: `Some(lines suppressed since the
    /// last one)`, or None (and one more suppressed) within the period of the last one.
    fn admit(&mut self, key: &'static str, now: Instant) -> Option<u64> {
        let idx = match self.slots.iter().position(|(k, _, _)| *k == key) {
            Some(i) => i,
            None => {
                self.slots.push((key, None, 0));
                self.slots.len() - 1
            }
        };
        let (_, last, suppressed) = &mut self.slots[idx];
        if last.is_some_and(|t| now.duration_since(t) < self.period) {
            *suppressed += 1;
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(suppressed))
    }
}

/// Current time in nanoseconds since the epoch.
pub(crate) fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// The reader's end of the queue.
pub(crate) struct Sink {
    tx: Sender<Item>,
    metrics: Arc<Metrics>,
    max_event_size: usize,
    pub(crate) log: RateLimitedLog,
    gate: Option<Gate>,
    /// Events delivered through this sink are backfilled (counted in `events_backfilled`).
    replay: bool,
    /// Greatest timestamp delivered since [`Sink::take_newest`].
    newest: Option<u64>,
    /// Why the gate ended this connection, and whether it got all it should.
    ended: Option<(String, bool)>,
    /// Events delivered, and dropped as duplicates, through this sink.
    delivered: u64,
    duplicates: u64,
    /// Buffers frames are decoded into, kept from one frame to the next.
    scratch: Scratch,
    /// Keys and ledger, when the stream keeps them (backfill on).
    tracking: Option<Tracking>,
}

impl Sink {
    /// A sink into `tx`, for the stream `label` (its `clusterName`, if named).
    pub(crate) fn new(
        tx: Sender<Item>,
        metrics: Arc<Metrics>,
        max_event_size: usize,
        label: Option<&str>,
    ) -> Self {
        Self {
            tx,
            metrics,
            max_event_size,
            log: RateLimitedLog::new(Duration::from_secs(10), label),
            gate: None,
            replay: false,
            newest: None,
            ended: None,
            delivered: 0,
            duplicates: 0,
            scratch: Scratch::default(),
            tracking: None,
        }
    }

    /// Keys every event with `tracking`'s secret and records what it queues in its ledger;
    /// a gate needs it.
    pub(crate) fn track(&mut self, tracking: Tracking) {
        self.tracking = Some(tracking);
    }

    /// The queue this sink feeds.
    pub(crate) fn queue(&self) -> Sender<Item> {
        self.tx.clone()
    }

    /// How this sink keeps track of what it delivers, if it does.
    pub(crate) fn tracking(&self) -> Option<&Tracking> {
        self.tracking.as_ref()
    }

    /// A second sink into the same queue, for replayed windows.
    pub(crate) fn fork_replay(&self) -> Self {
        let mut fork = Self::new(
            self.tx.clone(),
            Arc::clone(&self.metrics),
            self.max_event_size,
            None,
        );
        fork.log.label = self.log.label.clone();
        fork.replay = true;
        fork.tracking = self.tracking.clone();
        fork
    }

    /// Puts `gate` in front of the queue (none: every event is delivered).
    pub(crate) fn set_gate(&mut self, gate: Option<Gate>) {
        self.gate = gate;
        self.ended = None;
    }

    /// The greatest event timestamp delivered since the last call.
    pub(crate) fn take_newest(&mut self) -> Option<u64> {
        self.newest.take()
    }

    /// The greatest event timestamp delivered since [`Sink::take_newest`].
    pub(crate) fn newest(&self) -> Option<u64> {
        self.newest
    }

    /// Why the gate ended this connection, and whether it got all it should, if it did.
    pub(crate) fn ended(&self) -> Option<(&str, bool)> {
        self.ended.as_ref().map(|(r, c)| (r.as_str(), *c))
    }

    /// Events delivered through this sink so far.
    pub(crate) fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Events this sink dropped as duplicates so far.
    pub(crate) fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Shared counters, to keep.
    pub(crate) fn metrics_arc(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Shared counters.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Decodes one frame of unknown encoding (a line of a replay file) and queues its
    /// events, waiting while the queue is full.
    pub(crate) async fn frame(&mut self, bytes: &[u8]) -> Result<(), Closed> {
        self.count_frame(bytes.len());
        let decoded = decode::decode_bytes(bytes, now_nanos(), self.max_event_size);
        self.deliver(decoded).await
    }

    /// [`Sink::frame`] for a WebSocket message.
    pub(crate) async fn ws_frame(&mut self, frame: &Frame) -> Result<(), Closed> {
        self.count_frame(frame.len());
        let decoded = decode::decode(frame, now_nanos(), self.max_event_size, &mut self.scratch);
        self.deliver(decoded).await
    }

    fn count_frame(&self, size: usize) {
        self.metrics.frames_received.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .bytes_received
            .fetch_add(size as u64, Ordering::Relaxed);
    }

    /// Queues the events of one decoded frame, through the gate; counts and logs what it
    /// skipped.
    async fn deliver(&mut self, decoded: Decoded) -> Result<(), Closed> {
        if self.ended.is_some() {
            // The gate ended this connection: frames read past that point are not wanted.
            return Ok(());
        }
        let (events, skips) = match decoded.outcome {
            Ok(split) => split,
            Err(reason) => {
                self.skipped(reason, decoded.size, None);
                return Ok(());
            }
        };
        for s in skips {
            self.skipped(s.reason, s.size, s.audit_id.as_deref());
        }
        for e in events {
            let key = self.tracking.as_ref().map(|t| t.keyer.key(&e));
            if let (Some(gate), Some(key)) = (self.gate.as_mut(), key) {
                match gate(&e, key) {
                    Admit::Deliver => {}
                    Admit::Duplicate => {
                        self.duplicates += 1;
                        self.metrics
                            .duplicates_dropped
                            .fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Admit::End { reason, complete } => {
                        self.ended = Some((reason, complete));
                        break;
                    }
                }
            }
            let ts = e.ts;
            if let (Some(t), Some(key)) = (&self.tracking, key) {
                // Before it can be taken: the ledger must know it is pending.
                t.ledger.queued(key, ts, self.replay);
            }
            self.send(Item::Event(e, key)).await?;
            self.metrics.events_emitted.fetch_add(1, Ordering::Relaxed);
            self.delivered += 1;
            if self.replay {
                self.metrics
                    .events_backfilled
                    .fetch_add(1, Ordering::Relaxed);
            }
            self.newest = self.newest.max(Some(ts));
        }
        Ok(())
    }

    fn skipped(&mut self, reason: SkipReason, size: usize, audit_id: Option<&str>) {
        self.metrics.skipped(reason);
        let total = self.metrics.skipped_count(reason);
        let max = self.max_event_size;
        self.log.log(log::Level::Warn, reason.name(), || match reason {
            SkipReason::Oversize => format!(
                "skipped an audit event of {size} bytes (auditID {}): larger than maxEventSize ({max}); raise maxEventSize in init_config to keep such events ({total} skipped so far)",
                audit_id.unwrap_or("unknown")
            ),
            SkipReason::NotJson => format!(
                "skipped a message of {size} bytes that is not JSON ({total} so far)"
            ),
            SkipReason::NotGelf => format!(
                "skipped a message of {size} bytes that is not an LDP frame with a GELF short_message ({total} so far)"
            ),
            SkipReason::NotAudit => format!(
                "skipped a log message that is not a Kubernetes audit event ({total} so far); is the stream shared with other logs?"
            ),
        });
    }

    async fn send(&self, item: Item) -> Result<(), Closed> {
        let sent = self.tx.send(item).await.map_err(|_| Closed);
        self.metrics
            .queue_depth
            .store(self.tx.len() as u64, Ordering::Relaxed);
        sent
    }

    /// Ends the stream with an error for the user (labelled with the stream).
    pub(crate) async fn fatal(&self, msg: String) {
        self.metrics.fatal_errors.fetch_add(1, Ordering::Relaxed);
        let msg = self.log.labelled(&msg);
        log::error!("{msg}");
        self.send(Item::Fatal(msg)).await.ok();
    }

    /// Ends the source normally.
    pub(crate) async fn eof(&self) {
        self.send(Item::Eof).await.ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_key_per_period_then_the_count_of_those_suppressed() {
        let mut log = RateLimitedLog::new(Duration::from_secs(10), None);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(log.admit("oversize", at(0)), Some(0));
        assert_eq!(log.admit("oversize", at(1)), None);
        assert_eq!(log.admit("oversize", at(9)), None);
        // Another key has its own period.
        assert_eq!(log.admit("not-json", at(9)), Some(0));
        // A whole period after the last line (not after the last suppressed one).
        assert_eq!(log.admit("oversize", at(10)), Some(2));
        assert_eq!(log.admit("oversize", at(11)), None);
        assert_eq!(log.admit("oversize", at(25)), Some(1));
        assert_eq!(log.admit("not-json", at(25)), Some(0));
    }

    #[test]
    fn lines_carry_the_stream_label_and_a_fresh_log_keeps_it() {
        let log = RateLimitedLog::new(Duration::from_secs(10), Some("prod"));
        assert_eq!(log.labelled("lost"), "stream \"prod\": lost");
        let mut fresh = log.fresh(Duration::from_secs(60));
        assert_eq!(fresh.labelled("lost"), "stream \"prod\": lost");
        let t0 = Instant::now();
        assert_eq!(fresh.admit("k", t0), Some(0));
        assert_eq!(
            fresh.admit("k", t0 + Duration::from_secs(30)),
            None,
            "its own period"
        );
        let plain = RateLimitedLog::new(Duration::from_secs(10), None);
        assert_eq!(plain.labelled("lost"), "lost");
    }

    #[test]
    fn a_line_after_suppressed_ones_says_how_many() {
        let log = RateLimitedLog::new(Duration::from_secs(10), Some("prod"));
        assert_eq!(log.line("skipped", 0), "stream \"prod\": skipped");
        assert_eq!(
            log.line("skipped", 1),
            "stream \"prod\": skipped (1 similar messages suppressed)"
        );
        assert_eq!(
            log.line("skipped", 7),
            "stream \"prod\": skipped (7 similar messages suppressed)"
        );
    }

    #[test]
    fn now_is_the_wall_clock_in_nanoseconds() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let now = now_nanos();
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        assert!(before <= now && now <= after, "{before} {now} {after}");
    }
}
