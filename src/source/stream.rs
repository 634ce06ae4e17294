//! One stream of an open instance: its source (a tail or a file), the sink that queues its
//! events, and for a tail, where it resumes from and where it keeps its checkpoint.
//!
//! [`prepare`] runs at open, on Falco's thread: it finds where the stream stood (the position
//! the previous instance of this stream handed off in this process, or its checkpoint file,
//! whichever is newer), and makes the stream's queue. [`Stream::run`] runs on the instance's
//! reader thread, beside the other streams, until the stream ends or the instance closes; it
//! keeps the checkpoint file while it runs, and leaves its position, to the file and to the
//! next open in this process, when the instance closes.

use super::checkpoint::{self, Rejected, StreamId};
use super::ledger::{Ledger, Position};
use super::stop::Stop;
use super::{replay, tail};
use crate::config::{metric_prefix, InitConfig, SourceSpec, StreamSpec, TailUrl};
use crate::ingest::audit::format_rfc3339;
use crate::ingest::dedup::{Keyer, REMEMBERED_KEYS};
use crate::ingest::sink::{now_nanos, Item, RateLimitedLog, Sink, Tracking};
use crate::metrics::{ConnState, Metrics};
use futures_lite::FutureExt;
use smol::channel::Receiver;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// A stream, ready to run on the reader thread.
pub(crate) struct Stream {
    source: SourceSpec,
    sink: Sink,
    /// Where a tail that keeps a ledger is remembered: its identity, and its checkpoint file.
    keeping: Option<Keeping>,
    resume: Option<Position>,
}

struct Keeping {
    id: StreamId,
    url: TailUrl,
    ledger: Arc<Ledger>,
    file: Option<PathBuf>,
}

/// What `next_batch` holds of a stream: its queue, its ledger and its counters.
pub(crate) struct Outlet {
    pub(crate) rx: Receiver<Item>,
    pub(crate) ledger: Option<Arc<Ledger>>,
    pub(crate) metrics: Arc<Metrics>,
    /// A live tail: the lag of its events is measured (a replayed file's would be its age).
    pub(crate) live: bool,
}

/// Makes stream `spec`'s queue (of `capacity` events) and finds where it resumes from.
pub(crate) fn prepare(
    spec: StreamSpec,
    config: &InitConfig,
    metrics: Arc<Metrics>,
    capacity: usize,
) -> (Stream, Outlet) {
    let (tx, rx) = smol::channel::bounded(capacity);
    let label = spec.cluster_name.as_deref();
    let mut sink = Sink::new(tx, Arc::clone(&metrics), config.max_event_size, label);
    metrics.set_state(ConnState::Connecting);
    log::info!("{}", sink.log.labelled(&format!("opening {}", spec.source)));
    let (mut keeping, mut resume) = (None, None);
    if let (SourceSpec::Tail(url), true) = (&spec.source, config.backfill) {
        let id = StreamId::of(url);
        let file = config
            .checkpoint_file
            .as_ref()
            .map(|f| checkpoint_file(f, label));
        resume = resume_from(&id, url, file.as_deref(), config, &metrics, &sink.log);
        let keyer = resume.as_ref().map_or_else(Keyer::random, |p| p.keyer);
        let ledger = Arc::new(Ledger::new(
            keyer,
            config.backfill_overlap.as_secs(),
            REMEMBERED_KEYS,
            resume.as_ref(),
        ));
        sink.track(Tracking {
            keyer,
            ledger: Arc::clone(&ledger),
        });
        keeping = Some(Keeping {
            id,
            url: url.clone(),
            ledger,
            file,
        });
    }
    let outlet = Outlet {
        rx,
        ledger: keeping.as_ref().map(|k| Arc::clone(&k.ledger)),
        metrics,
        live: matches!(spec.source, SourceSpec::Tail(_)),
    };
    let stream = Stream {
        source: spec.source,
        sink,
        keeping,
        resume,
    };
    (stream, outlet)
}

/// The checkpoint file of a stream: `checkpointFile` itself, or for a named stream
/// `checkpointFile.<clusterName as in its metric names>`.
fn checkpoint_file(file: &std::path::Path, cluster: Option<&str>) -> PathBuf {
    match cluster {
        None => file.to_path_buf(),
        Some(name) => {
            let mut named = file.as_os_str().to_owned();
            named.push(format!(".{}", metric_prefix(name)));
            PathBuf::from(named)
        }
    }
}

/// Where stream `id` stood when its last instance stopped: what it handed off in this process
/// (a reload), or its checkpoint file, whichever is newer.
fn resume_from(
    id: &StreamId,
    url: &TailUrl,
    file: Option<&std::path::Path>,
    config: &InitConfig,
    metrics: &Metrics,
    log: &RateLimitedLog,
) -> Option<Position> {
    // A hand-off older than the longest gap replayed would only be partly useful; and a
    // stream not reopened within a minute was not reloaded.
    let ttl = config.backfill_max.max(Duration::from_secs(60));
    let memory = checkpoint::take_handed_off(id, ttl);
    let stored = file.and_then(|f| match checkpoint::read(f, id, now_nanos()) {
        Ok(p) => p,
        Err(Rejected(why)) => {
            metrics.checkpoint_rejected.fetch_add(1, Ordering::Relaxed);
            log::warn!(
                "{}",
                log.labelled(&format!(
                    "checkpointFile {}: {why}; it is ignored (and replaced at the next write) and {url} starts live",
                    f.display()
                ))
            );
            None
        }
    });
    let (resume, whence) = newer(memory, stored)?;
    let whence = match (whence, file) {
        (Whence::File, Some(f)) => format!("checkpointFile {}", f.display()),
        _ => "where the instance closed before it in this process".to_owned(),
    };
    log::info!(
        "{}",
        log.labelled(&format!(
            "{url} resumes from {} ({whence}): the gap is replayed after connecting",
            format_rfc3339(resume.covered, false)
        ))
    );
    Some(resume)
}

/// Where a stream's resumed position comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whence {
    /// The instance of the stream closed before it in this process.
    HandedOff,
    /// The checkpoint file.
    File,
}

/// The newer of the position handed off in this process and the one in the checkpoint file.
/// On a tie, the hand-off: an instance that closes leaves the same position to both.
fn newer(memory: Option<Position>, stored: Option<Position>) -> Option<(Position, Whence)> {
    match (memory, stored) {
        (Some(m), Some(s)) if s.covered > m.covered => Some((s, Whence::File)),
        (Some(m), _) => Some((m, Whence::HandedOff)),
        (None, Some(s)) => Some((s, Whence::File)),
        (None, None) => None,
    }
}

impl Stream {
    /// The stream's counters.
    pub(crate) fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(self.sink.metrics_arc())
    }

    /// Where the stream's events go.
    pub(crate) fn queue(&self) -> smol::channel::Sender<Item> {
        self.sink.queue()
    }

    /// Reads the stream into its queue until it ends or `stop`; then leaves its position.
    pub(crate) async fn run(mut self, config: &InitConfig, stop: &Stop) {
        let work = AssertUnwindSafe(self.work(config, stop))
            .catch_unwind()
            .await;
        if work.is_err() {
            // A panic must not unwind into Falco: it ends this stream with an error.
            self.sink
                .fatal(
                    "k8saudit-ovh: internal error in the reader thread (a bug: please report it)"
                        .into(),
                )
                .await;
        } else if stop.is_set() {
            self.leave();
        }
        self.sink.metrics().set_state(ConnState::Stopped);
    }

    async fn work(&mut self, config: &InitConfig, stop: &Stop) {
        match &self.source {
            SourceSpec::File(path) => replay::run(path, &mut self.sink, stop).await,
            SourceSpec::Tail(url) => {
                // The keeper has its own handles: the tail holds the sink.
                let metrics = Arc::clone(self.sink.metrics_arc());
                let log = self.sink.log.fresh(Duration::from_secs(600));
                let keeping = &self.keeping;
                // Beside the tail, never instead of it: the tail ends the stream (politely).
                let keep = async {
                    if let Some(k @ Keeping { file: Some(_), .. }) = keeping {
                        k.keep(config, &metrics, log, stop).await;
                    }
                    futures_lite::future::pending::<()>().await
                };
                let resume = self.resume.take();
                let tail = tail::run(url.clone(), config, &mut self.sink, stop, resume);
                tail.or(keep).await;
            }
        }
    }

    /// The instance closes: the stream's position goes to its file and to the next open of
    /// the same stream in this process.
    fn leave(&mut self) {
        let Some(k) = &self.keeping else { return };
        let Some(position) = k.ledger.position() else {
            return;
        };
        if k.file.is_some() {
            let metrics = Arc::clone(self.sink.metrics_arc());
            k.save(&position, &metrics, &mut self.sink.log);
        }
        checkpoint::hand_off(&k.id, position);
    }
}

impl Keeping {
    /// Writes the checkpoint file every `checkpointIntervalMs` when the stream moved.
    /// `log` is the keeper's own (the sink's is the tail's while it runs): at most one line
    /// every 10 minutes, as a directory that cannot be written stays so.
    async fn keep(
        &self,
        config: &InitConfig,
        metrics: &Arc<Metrics>,
        mut log: RateLimitedLog,
        stop: &Stop,
    ) {
        let mut written: Option<Position> = None;
        loop {
            if stop.sleep(config.checkpoint_interval).await {
                return;
            }
            let Some(position) = self.ledger.position() else {
                continue;
            };
            if written.as_ref() != Some(&position) {
                self.save(&position, metrics, &mut log);
                written = Some(position);
            }
        }
    }

    fn save(&self, position: &Position, metrics: &Metrics, log: &mut RateLimitedLog) {
        let Some(file) = &self.file else { return };
        let text = checkpoint::render(&self.url, &self.id, position, now_nanos());
        match checkpoint::write_atomic(file, &text) {
            Ok(()) => {
                metrics.checkpoint_writes.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                metrics
                    .checkpoint_write_failures
                    .fetch_add(1, Ordering::Relaxed);
                log.log(log::Level::Warn, "checkpoint_write", || {
                    format!(
                        "cannot write checkpointFile {} ({e}); the stream goes on, but after a restart what it carried meanwhile may be missed; check that the directory is writable",
                        file.display()
                    )
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::dedup::Keyer;
    use std::path::Path;

    #[test]
    fn a_named_stream_keeps_its_own_checkpoint_file_beside_the_configured_one() {
        let file = Path::new("/var/lib/k8saudit-ovh/checkpoint");
        assert_eq!(checkpoint_file(file, None), file);
        assert_eq!(
            checkpoint_file(file, Some("prod-eu.1")),
            Path::new("/var/lib/k8saudit-ovh/checkpoint.prod_eu_1"),
            "the name as in metric names"
        );
    }

    fn at(covered: u64, key: u64) -> Position {
        Position {
            covered,
            keyer: Keyer([1, 2]),
            keys: vec![(key, covered)],
        }
    }

    #[test]
    fn a_stream_resumes_from_the_newer_of_its_hand_off_and_its_file() {
        use Whence::{File, HandedOff};
        assert_eq!(newer(None, None), None);
        assert_eq!(newer(Some(at(5, 1)), None), Some((at(5, 1), HandedOff)));
        assert_eq!(newer(None, Some(at(5, 2))), Some((at(5, 2), File)));
        assert_eq!(
            newer(Some(at(5, 1)), Some(at(6, 2))),
            Some((at(6, 2), File)),
            "a file written since, by another process"
        );
        assert_eq!(
            newer(Some(at(6, 1)), Some(at(5, 2))),
            Some((at(6, 1), HandedOff)),
            "a file older than the hand-off (not writable since, say)"
        );
        assert_eq!(
            newer(Some(at(5, 1)), Some(at(5, 2))),
            Some((at(5, 1), HandedOff)),
            "a tie"
        );
    }
}
