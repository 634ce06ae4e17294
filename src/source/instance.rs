//! The open instance: one reader thread running every stream on a smol executor, one bounded
//! queue per stream, and `next_batch` on Falco's thread taking from the queues in turn.
//!
//! Each stream has its own queue, of its share of `maxQueuedEvents`: a stream that floods
//! fills its own queue and is held back there (backpressure to its server), while
//! `next_batch` goes round the streams, so a quiet stream's events never wait behind a
//! flood. Memory is bounded per stream and in total. A stream that fails or ends stops alone;
//! the source fails (or ends) when every stream has.

use super::stop::{self, Stop};
use super::stream::{self, Outlet, Stream};
use crate::config::{InitConfig, OpenParams};
use crate::ingest::audit::AuditEvent;
use crate::ingest::sink::{now_nanos, Item};
use crate::metrics::MetricsBoard;
use crate::K8sAuditOvh;
use falco_plugin::anyhow::{self, Error};
use falco_plugin::source::{EventBatch, SourcePluginInstance};
use falco_plugin::FailureReason;
use smol::channel::{Sender, TryRecvError};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

/// Most events handed to Falco in one batch.
const MAX_BATCH: usize = 1024;
/// Most events taken from one stream before the next stream's turn.
const TURN: usize = 64;
/// How long `next_batch` waits for a first event before answering `Timeout`.
const BATCH_WAIT: Duration = Duration::from_millis(20);
/// After that wait, how long `next_batch` lets the events right behind the first one arrive
/// before it answers. Without it, a reader slower than Falco costs a wakeup of Falco's thread
/// and a batch of one per event. Delays events by at most this much.
const GATHER: Duration = Duration::from_micros(200);

/// An open source instance.
pub struct Instance {
    streams: Vec<Queue>,
    /// The events of the last batch: Falco has them once it asks for the next batch (it
    /// may drop the rest of a batch when it stops), not before ([`super::Witness`]).
    unconfirmed: Vec<Unconfirmed>,
    /// The stream whose turn comes first in the next batch.
    next: usize,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    finished: Option<Finished>,
}

/// One stream, as `next_batch` sees it.
struct Queue {
    outlet: Outlet,
    /// An item received while waiting, taken first.
    waiting: Option<Item>,
    finished: Option<Finished>,
}

#[derive(Clone)]
enum Finished {
    Eof,
    Fatal(String),
}

/// An event of the last batch whose stream keeps a ledger.
struct Unconfirmed {
    stream: usize,
    key: u64,
    ts: u64,
    payload: Vec<u8>,
}

/// What one batch took from one stream: the lag of its events.
#[derive(Default)]
struct Taken {
    /// Lag of the last event and the largest lag, in ms.
    last_lag: Option<u64>,
    worst_lag: u64,
}

impl Instance {
    pub(crate) fn open(
        params: OpenParams,
        config: InitConfig,
        board: &MetricsBoard,
    ) -> Result<Self, Error> {
        let n = params.streams.len();
        let prefixes: Vec<_> = params.streams.iter().map(|s| s.metric_prefix()).collect();
        let metrics = board.open(&prefixes);
        // Each stream's share of the queue bound; a single stream has all of it.
        let capacity = config.max_queued_events.div_ceil(n).max(1);
        let (streams, outlets): (Vec<Stream>, Vec<Outlet>) = params
            .streams
            .into_iter()
            .zip(metrics)
            .map(|(spec, m)| stream::prepare(spec, &config, m, capacity))
            .unzip();
        let (stop_tx, stop) = stop::pair();
        let thread = std::thread::Builder::new()
            .name("k8saudit-ovh".into())
            .spawn(move || read(streams, config, stop))
            .map_err(|e| anyhow::anyhow!("cannot start the reader thread: {e}"))?;
        Ok(Self {
            unconfirmed: Vec::new(),
            streams: outlets
                .into_iter()
                .map(|outlet| Queue {
                    outlet,
                    waiting: None,
                    finished: None,
                })
                .collect(),
            next: 0,
            stop: Some(stop_tx),
            thread: Some(thread),
            finished: None,
        })
    }

    /// Closes after Falco (or another host) took what `witness` says of the last batch:
    /// those events count as delivered in the position the streams leave.
    pub(crate) fn close_after(&mut self, witness: &super::Witness) {
        let last = std::mem::take(&mut self.unconfirmed);
        self.confirm(
            last.into_iter()
                .filter(|u| witness.went_through(&u.payload)),
        );
        self.close();
    }

    /// Stops the reader and joins its thread. Idempotent.
    pub(crate) fn close(&mut self) {
        // Dropping the stop sender wakes the reader; closing the queues releases a stream
        // blocked on a full one.
        self.stop.take();
        for q in &self.streams {
            q.outlet.rx.close();
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("the reader thread ended with a panic");
            }
        }
    }

    /// Takes what is ready, going round the streams, up to [`MAX_BATCH`] events.
    fn take_ready(
        &mut self,
        plugin: &mut K8sAuditOvh,
        batch: &mut EventBatch,
    ) -> Result<usize, Error> {
        let n = self.streams.len();
        let mut taken: Vec<Taken> = (0..n).map(|_| Taken::default()).collect();
        let now = now_nanos();
        let mut total = 0;
        let first = self.next;
        self.next = (self.next + 1) % n;
        loop {
            let mut progress = false;
            for k in 0..n {
                let i = (first + k) % n;
                let room = (MAX_BATCH - total).min(TURN);
                let got = self.take_from(i, room, batch, &mut taken[i], now, plugin)?;
                total += got;
                progress |= got > 0;
                if total == MAX_BATCH {
                    break;
                }
            }
            if !progress || total == MAX_BATCH {
                break;
            }
        }
        self.account(taken);
        self.settle();
        Ok(total)
    }

    /// Takes up to `room` events of stream `i`.
    fn take_from(
        &mut self,
        i: usize,
        room: usize,
        batch: &mut EventBatch,
        taken: &mut Taken,
        now: u64,
        plugin: &mut K8sAuditOvh,
    ) -> Result<usize, Error> {
        let q = &mut self.streams[i];
        let mut got = 0;
        while got < room && q.finished.is_none() {
            let item = match q
                .waiting
                .take()
                .map(Ok)
                .unwrap_or_else(|| q.outlet.rx.try_recv())
            {
                Ok(item) => item,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => {
                    q.finished = Some(Finished::Fatal(
                        "k8saudit-ovh: the reader thread stopped unexpectedly".into(),
                    ));
                    break;
                }
            };
            match item {
                Item::Event(e, key) => {
                    add(batch, &e)?;
                    if plugin.stream_tags.any() {
                        plugin.stream_tags.record(&e.payload, i);
                    }
                    if q.outlet.live {
                        // An event stamped ahead of our clock has no lag.
                        let lag = now.saturating_sub(e.ts) / 1_000_000;
                        taken.last_lag = Some(lag);
                        taken.worst_lag = taken.worst_lag.max(lag);
                    }
                    if let Some(key) = key {
                        self.unconfirmed.push(Unconfirmed {
                            stream: i,
                            key,
                            ts: e.ts,
                            payload: e.payload,
                        });
                    }
                    got += 1;
                }
                Item::Eof => q.finished = Some(Finished::Eof),
                Item::Fatal(msg) => q.finished = Some(Finished::Fatal(msg)),
            }
        }
        Ok(got)
    }

    /// Records each stream's queue depth and lag.
    fn account(&self, taken: Vec<Taken>) {
        for (q, t) in self.streams.iter().zip(taken) {
            let m = &q.outlet.metrics;
            m.queue_depth
                .store(q.outlet.rx.len() as u64, Ordering::Relaxed);
            if let Some(last) = t.last_lag {
                m.batch_lag(last, t.worst_lag);
            }
        }
    }

    /// Records `events` as delivered, in their streams' ledgers.
    fn confirm(&self, events: impl IntoIterator<Item = Unconfirmed>) {
        let mut by_stream: Vec<Vec<(u64, u64)>> = vec![Vec::new(); self.streams.len()];
        for u in events {
            by_stream[u.stream].push((u.key, u.ts));
        }
        for (q, handed) in self.streams.iter().zip(by_stream) {
            if let (Some(ledger), false) = (&q.outlet.ledger, handed.is_empty()) {
                ledger.handed(handed);
            }
        }
    }

    /// The source is finished when every stream is: it ends (EOF) when each ended, and fails
    /// otherwise, with every stream's reason.
    fn settle(&mut self) {
        if self.finished.is_some() || self.streams.iter().any(|q| q.finished.is_none()) {
            return;
        }
        let fatal: Vec<&str> = self
            .streams
            .iter()
            .filter_map(|q| match &q.finished {
                Some(Finished::Fatal(m)) => Some(m.as_str()),
                _ => None,
            })
            .collect();
        self.finished = Some(if fatal.is_empty() {
            Finished::Eof
        } else {
            Finished::Fatal(fatal.join("; "))
        });
    }

    fn finish(&self) -> Result<(), Error> {
        match &self.finished {
            Some(Finished::Eof) => {
                Err(anyhow::anyhow!("end of replay").context(FailureReason::Eof))
            }
            // No FailureReason context: Falco shows the outermost message, which must be ours.
            Some(Finished::Fatal(msg)) => Err(anyhow::anyhow!("{msg}")),
            None => Err(anyhow::anyhow!("no events right now").context(FailureReason::Timeout)),
        }
    }

    /// Waits up to [`BATCH_WAIT`] for any stream's next item, then, after an event,
    /// [`GATHER`]. Parks this thread rather than running `smol::block_on` with a `Timer`:
    /// registering a timer wakes the reactor, which the reader thread drives, so each wait
    /// cost the reader a syscall and a spurious wakeup.
    fn wait(&mut self) {
        struct Unpark(Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let deadline = Instant::now() + BATCH_WAIT;
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut open: Vec<&mut Queue> = self
            .streams
            .iter_mut()
            .filter(|q| q.finished.is_none() && q.waiting.is_none())
            .collect();
        let rxs: Vec<_> = open.iter().map(|q| q.outlet.rx.clone()).collect();
        let mut receiving: Vec<Pin<Box<_>>> = rxs.iter().map(|rx| Box::pin(rx.recv())).collect();
        let received = 'wait: loop {
            for (i, r) in receiving.iter_mut().enumerate() {
                if let Poll::Ready(item) = r.as_mut().poll(&mut cx) {
                    break 'wait Some((i, item));
                }
            }
            match deadline.checked_duration_since(Instant::now()) {
                // Unparked by a sender, or spuriously: poll again either way.
                Some(left) => std::thread::park_timeout(left),
                None => break None,
            }
        };
        let Some((i, item)) = received else { return };
        let event = matches!(item, Ok(Item::Event(..)));
        // Closed: the next take sees it.
        if let Ok(item) = item {
            open[i].waiting = Some(item);
        }
        if event {
            std::thread::sleep(GATHER);
        }
    }
}

/// Adds `e` to the batch as a plugin event stamped with its timestamp.
fn add(batch: &mut EventBatch, e: &AuditEvent) -> Result<(), Error> {
    let mut event = Instance::plugin_event(&e.payload);
    event.metadata.ts = e.ts;
    batch.add(event)?;
    Ok(())
}

/// The reader thread: every stream on one executor, until each has ended or the instance
/// closes. A panic outside a stream ends every stream with an error, never Falco.
fn read(streams: Vec<Stream>, config: InitConfig, stop: Stop) {
    let ends: Vec<_> = streams.iter().map(|s| (s.queue(), s.metrics())).collect();
    let run = || {
        crate::fault::injected_panic("reader");
        let ex = smol::LocalExecutor::new();
        smol::block_on(ex.run(async {
            let tasks: Vec<_> = streams
                .into_iter()
                .map(|s| ex.spawn(s.run(&config, &stop)))
                .collect();
            for t in tasks {
                t.await;
            }
        }));
    };
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err() {
        let msg = "k8saudit-ovh: internal error in the reader thread (a bug: please report it)";
        log::error!("{msg}");
        for (queue, metrics) in ends {
            metrics.fatal_errors.fetch_add(1, Ordering::Relaxed);
            metrics.set_state(crate::metrics::ConnState::Stopped);
            let _ = queue.try_send(Item::Fatal(msg.into()));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.close();
    }
}

impl SourcePluginInstance for Instance {
    type Plugin = K8sAuditOvh;

    fn next_batch(
        &mut self,
        plugin: &mut K8sAuditOvh,
        batch: &mut EventBatch,
    ) -> Result<(), Error> {
        // Falco asks for a batch once it took every event of the last one.
        let last = std::mem::take(&mut self.unconfirmed);
        self.confirm(last);
        plugin.witness.batch();
        if self.finished.is_some() {
            return self.finish();
        }
        let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut n = self.take_ready(plugin, batch)?;
            if n == 0 && self.finished.is_none() {
                // Nothing queued: wait briefly for the first event, never long.
                self.wait();
                n = self.take_ready(plugin, batch)?;
            }
            Ok::<usize, Error>(n)
        }));
        match guarded {
            Ok(Ok(n)) if n > 0 => Ok(()),
            Ok(Ok(_)) => self.finish(),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(anyhow::anyhow!(
                "k8saudit-ovh: internal error in next_batch (a bug: please report it)"
            )),
        }
    }
}
