//! The open instance: a reader thread running a smol executor (WebSocket tail or file
//! replay) ⇄ a bounded queue ⇄ `next_batch` on Falco's thread.

use super::stop;
use super::{replay, tail};
use crate::config::{InitConfig, SourceSpec};
use crate::ingest::audit::AuditEvent;
use crate::ingest::sink::{now_nanos, Item, Sink};
use crate::metrics::{ConnState, Metrics};
use crate::K8sAuditOvh;
use falco_plugin::anyhow::{self, Error};
use falco_plugin::source::{EventBatch, SourcePluginInstance};
use falco_plugin::FailureReason;
use smol::channel::{Receiver, Sender, TryRecvError};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

/// Most events handed to Falco in one batch.
const MAX_BATCH: usize = 1024;
/// How long `next_batch` waits for a first event before answering `Timeout`.
const BATCH_WAIT: Duration = Duration::from_millis(20);
/// After that wait, how long `next_batch` lets the events right behind the first one arrive
/// before it answers. Without it, a reader slower than Falco costs a wakeup of Falco's thread
/// and a batch of one per event. Delays events by at most this much.
const GATHER: Duration = Duration::from_micros(200);

/// An open source instance.
pub struct Instance {
    rx: Receiver<Item>,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    metrics: Arc<Metrics>,
    finished: Option<Finished>,
    /// Live sources report the lag of what they hand to Falco; replayed files would only
    /// report their age.
    measure_lag: bool,
}

/// The lag of the events of one batch: now minus their timestamp, in milliseconds.
struct BatchLag {
    now: u64,
    last: Option<u64>,
    worst: u64,
}

impl BatchLag {
    fn new() -> Self {
        Self {
            now: now_nanos(),
            last: None,
            worst: 0,
        }
    }

    fn add(&mut self, ts: u64) {
        // An event stamped ahead of our clock has no lag.
        let lag = self.now.saturating_sub(ts) / 1_000_000;
        self.last = Some(lag);
        self.worst = self.worst.max(lag);
    }
}

enum Finished {
    Eof,
    Fatal(String),
}

impl Instance {
    pub(crate) fn open(
        spec: SourceSpec,
        config: InitConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, Error> {
        let (tx, rx) = smol::channel::bounded(config.max_queued_events);
        let (stop_tx, stop) = stop::pair();
        let sink = Sink::new(tx, Arc::clone(&metrics), config.max_event_size);
        metrics.set_state(ConnState::Connecting);
        log::info!("opening {spec}");
        let measure_lag = matches!(spec, SourceSpec::Tail(_));
        let thread_metrics = Arc::clone(&metrics);
        let thread = std::thread::Builder::new()
            .name("k8saudit-ovh".into())
            .spawn(move || {
                let mut sink = sink;
                let work = async {
                    crate::fault::injected_panic("reader");
                    match spec {
                        SourceSpec::Tail(url) => tail::run(url, &config, &mut sink, &stop).await,
                        SourceSpec::File(path) => replay::run(&path, &mut sink, &stop).await,
                    }
                };
                // A panic in the reader must not unwind into Falco: it becomes a fatal error.
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| smol::block_on(work)));
                if outcome.is_err() {
                    smol::block_on(sink.fatal(
                        "k8saudit-ovh: internal error in the reader thread (a bug: please report it)"
                            .into(),
                    ));
                }
                thread_metrics.set_state(ConnState::Stopped);
            })
            .map_err(|e| anyhow::anyhow!("cannot start the reader thread: {e}"))?;
        Ok(Self {
            rx,
            stop: Some(stop_tx),
            thread: Some(thread),
            metrics,
            finished: None,
            measure_lag,
        })
    }

    /// Stops the reader and joins its thread. Idempotent.
    pub(crate) fn close(&mut self) {
        // Dropping the stop sender wakes the reader; closing the queue releases a reader
        // blocked on a full queue.
        self.stop.take();
        self.rx.close();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("the reader thread ended with a panic");
            }
        }
    }

    fn add(batch: &mut EventBatch, e: AuditEvent, lag: &mut BatchLag) -> Result<(), Error> {
        let mut event = Self::plugin_event(&e.payload);
        event.metadata.ts = e.ts;
        batch.add(event)?;
        lag.add(e.ts);
        Ok(())
    }

    fn take_ready(&mut self, batch: &mut EventBatch, lag: &mut BatchLag) -> Result<usize, Error> {
        let mut n = 0;
        while n < MAX_BATCH {
            match self.rx.try_recv() {
                Ok(Item::Event(e)) => {
                    Self::add(batch, e, lag)?;
                    n += 1;
                }
                Ok(Item::Eof) => {
                    self.finished = Some(Finished::Eof);
                    break;
                }
                Ok(Item::Fatal(msg)) => {
                    self.finished = Some(Finished::Fatal(msg));
                    break;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => {
                    if self.finished.is_none() {
                        self.finished = Some(Finished::Fatal(
                            "k8saudit-ovh: the reader thread stopped unexpectedly".into(),
                        ));
                    }
                    break;
                }
            }
        }
        self.metrics
            .queue_depth
            .store(self.rx.len() as u64, Ordering::Relaxed);
        Ok(n)
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
        _plugin: &mut K8sAuditOvh,
        batch: &mut EventBatch,
    ) -> Result<(), Error> {
        if self.finished.is_some() {
            return self.finish();
        }
        let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut lag = BatchLag::new();
            let mut n = self.take_ready(batch, &mut lag)?;
            if n == 0 && self.finished.is_none() {
                // Nothing queued: wait briefly for the first event, never long.
                let ready = wait_first(&self.rx);
                if let Some(item) = ready {
                    lag.now = now_nanos();
                    n = self.push_first(item, batch, &mut lag)?;
                    n += self.take_ready(batch, &mut lag)?;
                }
            }
            if let (true, Some(last)) = (self.measure_lag, lag.last) {
                self.metrics.batch_lag(last, lag.worst);
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

impl Instance {
    fn push_first(
        &mut self,
        item: Item,
        batch: &mut EventBatch,
        lag: &mut BatchLag,
    ) -> Result<usize, Error> {
        match item {
            Item::Event(e) => {
                Self::add(batch, e, lag)?;
                Ok(1)
            }
            Item::Eof => {
                self.finished = Some(Finished::Eof);
                Ok(0)
            }
            Item::Fatal(msg) => {
                self.finished = Some(Finished::Fatal(msg));
                Ok(0)
            }
        }
    }
}

/// Waits up to [`BATCH_WAIT`] for the next item, then, after an event, [`GATHER`].
///
/// It parks this thread rather than running `smol::block_on` with a `Timer`: registering a
/// timer wakes the reactor, which the reader thread drives, so each wait cost the reader a
/// syscall and a spurious wakeup.
fn wait_first(rx: &Receiver<Item>) -> Option<Item> {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let deadline = Instant::now() + BATCH_WAIT;
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut recv = std::pin::pin!(rx.recv());
    let item = loop {
        if let Poll::Ready(item) = recv.as_mut().poll(&mut cx) {
            break item.ok()?;
        }
        // Unparked by the sender, or spuriously: poll again either way.
        std::thread::park_timeout(deadline.checked_duration_since(Instant::now())?);
    };
    if matches!(item, Item::Event(_)) {
        std::thread::sleep(GATHER);
    }
    Some(item)
}
