//! The reader side of the queue: turns frames into audit events, counts and logs what it
//! skips (at a bounded rate), lets a gate drop events already delivered, and queues the rest
//! for `next_batch` with backpressure.

use crate::ingest::audit::AuditEvent;
use crate::ingest::decoder::{self, Decoded, Frame, Offload};
use crate::ingest::spare::{Buffers, Spares};
use crate::metrics::{Metrics, SkipReason};
use smol::channel::Sender;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the reader thread hands to `next_batch`.
#[derive(Debug)]
pub(crate) enum Item {
    /// One audit event.
    Event(AuditEvent),
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

/// Decides, event by event, what a sink does with what its connection delivers.
pub(crate) type Gate = Box<dyn FnMut(&AuditEvent) -> Admit + Send>;

/// Logs one line per key at most every `period`, with the count of suppressed lines.
#[derive(Debug)]
pub(crate) struct RateLimitedLog {
    period: Duration,
    slots: Vec<(&'static str, Option<Instant>, u64)>,
}

impl RateLimitedLog {
    pub(crate) fn new(period: Duration) -> Self {
        Self {
            period,
            slots: Vec::new(),
        }
    }

    /// Logs `msg()` under `key` unless a line with that key was logged within the period.
    pub(crate) fn log(
        &mut self,
        level: log::Level,
        key: &'static str,
        msg: impl FnOnce() -> String,
    ) {
        let now = Instant::now();
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
            return;
        }
        let more = if *suppressed > 0 {
            format!(" ({} similar messages suppressed)", *suppressed)
        } else {
            String::new()
        };
        log::log!(level, "{}{more}", msg());
        *last = Some(now);
        *suppressed = 0;
    }
}

/// Current time in nanoseconds since the epoch.
pub(crate) fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Frames in a row found waiting that make the reader hand decoding to the decoder thread.
const BEHIND: u32 = 16;

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
    /// This thread's share of the payload buffers that `next_batch` gives back.
    buffers: Buffers,
    /// The decoder thread, once a backlog has needed it.
    offload: Option<Offload>,
    offload_failed: bool,
    /// Frames in a row that were there before the reader asked for them.
    behind: u32,
}

impl Sink {
    /// A sink into `tx`; `spares` are the payload buffers `next_batch` gives back.
    pub(crate) fn new(
        tx: Sender<Item>,
        metrics: Arc<Metrics>,
        max_event_size: usize,
        spares: Arc<Spares>,
    ) -> Self {
        Self {
            tx,
            metrics,
            max_event_size,
            log: RateLimitedLog::new(Duration::from_secs(10)),
            gate: None,
            replay: false,
            newest: None,
            ended: None,
            delivered: 0,
            duplicates: 0,
            buffers: Buffers::new(spares),
            offload: None,
            offload_failed: false,
            behind: 0,
        }
    }

    /// A second sink into the same queue, for replayed windows.
    pub(crate) fn fork_replay(&self) -> Self {
        let mut fork = Self::new(
            self.tx.clone(),
            Arc::clone(&self.metrics),
            self.max_event_size,
            Arc::clone(self.buffers.spares()),
        );
        fork.replay = true;
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

    /// Decodes one frame and queues its events, waiting while the queue is full.
    pub(crate) async fn frame(&mut self, bytes: &[u8]) -> Result<(), Closed> {
        self.count_frame(bytes.len());
        let decoded = decoder::decode_bytes(bytes, now_nanos(), self.max_event_size);
        self.deliver(decoded).await
    }

    /// [`Sink::frame`] for a frame the reader owns. `backlog`: the frame was there before the
    /// reader asked for it. After [`BEHIND`] such frames in a row the reader cannot keep up
    /// alone: frames go to the decoder thread, which decodes them while the reader reads on,
    /// and their events are queued (in order) by later calls, [`Sink::decoded`] or
    /// [`Sink::drain`]. Otherwise, with nothing in flight, the frame is decoded here: on a
    /// stream the reader keeps up with, a hand-off would cost more than it saves.
    pub(crate) async fn owned_frame(&mut self, frame: Frame, backlog: bool) -> Result<(), Closed> {
        let size = frame.len();
        self.behind = if backlog {
            self.behind.saturating_add(1)
        } else {
            0
        };
        let busy = self.behind >= BEHIND;
        if busy && self.offload.is_none() && !self.offload_failed {
            match Offload::start(self.max_event_size, Arc::clone(self.buffers.spares())) {
                Ok(o) => self.offload = Some(o),
                Err(e) => {
                    self.offload_failed = true;
                    log::warn!("cannot start the decoder thread ({e}); frames are decoded on the reader thread");
                }
            }
        }
        let in_flight = self.offload.as_ref().is_some_and(|o| o.in_flight() > 0);
        if self.offload.is_none() || !(busy || in_flight) {
            self.count_frame(size);
            let scratch = self.buffers.scratch();
            let decoded = decoder::decode(&frame, now_nanos(), self.max_event_size, scratch);
            return self.deliver(decoded).await;
        }
        // Room in the pipeline first: the frames in it, and their events, are bounded.
        while self.offload.as_ref().is_some_and(|o| o.full(size)) {
            let decoded = self.decoded().await;
            self.deliver(decoded).await?;
        }
        self.count_frame(size);
        if let Some(o) = self.offload.as_mut() {
            o.submit(frame, now_nanos());
        }
        while let Some(decoded) = self.offload.as_mut().and_then(Offload::try_result) {
            self.deliver(decoded).await?;
        }
        Ok(())
    }

    /// Hands the frames gathered for the decoder thread over now: the reader is about to
    /// wait for the network.
    pub(crate) fn flush(&mut self) {
        if let Some(o) = self.offload.as_mut() {
            o.flush();
        }
    }

    /// The next frame decoded on the decoder thread; never resolves while none is in flight.
    pub(crate) async fn decoded(&mut self) -> Decoded {
        match self.offload.as_mut() {
            Some(o) if o.in_flight() > 0 => o.result().await,
            _ => futures_lite::future::pending().await,
        }
    }

    /// Queues the events of every frame still on the decoder thread.
    pub(crate) async fn drain(&mut self) -> Result<(), Closed> {
        while self.offload.as_ref().is_some_and(|o| o.in_flight() > 0) {
            let decoded = self.decoded().await;
            self.deliver(decoded).await?;
        }
        Ok(())
    }

    fn count_frame(&self, size: usize) {
        self.metrics.frames_received.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .bytes_received
            .fetch_add(size as u64, Ordering::Relaxed);
    }

    /// Queues the events of one decoded frame, through the gate; counts and logs what it
    /// skipped.
    pub(crate) async fn deliver(&mut self, decoded: Decoded) -> Result<(), Closed> {
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
            if let Some(gate) = self.gate.as_mut() {
                match gate(&e) {
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
            self.send(Item::Event(e)).await?;
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

    /// Ends the source with an error for the user.
    pub(crate) async fn fatal(&self, msg: String) {
        self.metrics.fatal_errors.fetch_add(1, Ordering::Relaxed);
        log::error!("{msg}");
        self.send(Item::Fatal(msg)).await.ok();
    }

    /// Ends the source normally.
    pub(crate) async fn eof(&self) {
        self.send(Item::Eof).await.ok();
    }
}
