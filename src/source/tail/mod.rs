//! The WebSocket client on smol: dial, TLS, keepalive, backoff.
//!
//! [`run`] loops dial → session → backoff until the instance closes or a fatal error:
//!
//! - [`dial`] makes one connection (TCP, TLS for wss, upgrade) within `connectTimeoutMs` and
//!   says whether a failure is fatal (400/401/403/404 at the upgrade, an untrusted
//!   certificate, an unusable `caCertFile`) or worth retrying (everything else).
//! - [`session`] reads one connection until it ends: frames to the sink, Pings, dead peers.
//! - [`backoff`] spaces the dials: `reconnectMinBackoffMs` doubling to
//!   `reconnectMaxBackoffMs` with jitter, reset by a connection that worked.
//! - [`backfill`] (unless `backfill` is off) replays, on a second connection, the window
//!   missed between the last event received and a reconnection, while the new live
//!   connection runs; both feed the queue through a filter that drops events delivered twice.
//!
//! Every message names the URL through `TailUrl`'s `Display`, which redacts the token.

mod backfill;
mod backoff;
mod dial;
mod session;

use crate::config::{InitConfig, TailUrl};
use crate::ingest::dedup::{Dedup, REMEMBERED_KEYS};
use crate::ingest::sink::{now_nanos, Sink};
use crate::metrics::ConnState;
use crate::source::ledger::{Ledger, Position};
use crate::source::stop::Stop;
use backfill::{Backfill, Window};
use backoff::Backoff;
use dial::{DialError, TrustRoots};
use futures_lite::FutureExt;
use session::SessionEnd;
use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How long closing waits for the server to acknowledge our Close frame.
const CLOSE_BUDGET: Duration = Duration::from_millis(500);
/// The same after a lost connection, when the server may be gone.
const LOST_CLOSE_BUDGET: Duration = Duration::from_millis(100);

/// Tails `url` into `sink` until `stop`, reconnecting as needed. With `resume` (where the
/// last run of this stream stopped: a checkpoint), the first connection replays the gap
/// from there, like a reconnection.
pub(crate) async fn run(
    url: TailUrl,
    config: &InitConfig,
    sink: &mut Sink,
    stop: &Stop,
    resume: Option<Position>,
) {
    let roots = match TrustRoots::load(config) {
        Ok(r) => r,
        Err(msg) => return sink.fatal(msg).await,
    };
    let mut tail = Tail::new(url, config, roots, sink, resume);
    loop {
        sink.metrics().set_state(ConnState::Connecting);
        sink.metrics()
            .connection_attempts
            .fetch_add(1, Ordering::Relaxed);
        let dialled = async { Some(dial::dial(&tail.url, config, &tail.roots).await) }
            .or(async {
                stop.wait().await;
                None
            })
            .await;
        let failure = match dialled {
            None => return,
            Some(Err(DialError::Fatal(msg))) => return sink.fatal(msg).await,
            Some(Err(DialError::Retry(reason))) => {
                format!("cannot connect to {}: {reason}", tail.url)
            }
            Some(Ok(ws)) => match tail.connected(ws, sink, stop).await {
                Some(failure) => failure,
                None => return,
            },
        };
        sink.metrics().set_state(ConnState::Backoff);
        let delay = tail.backoff.next_delay();
        sink.log.log(log::Level::Warn, "reconnect", || {
            format!("{failure}; dialling again in {}", seconds(delay))
        });
        if stop.sleep(delay).await {
            return;
        }
    }
}

/// One stream's tail, from connection to connection.
struct Tail<'c> {
    url: TailUrl,
    config: &'c InitConfig,
    roots: TrustRoots,
    backoff: Backoff,
    connected_before: bool,
    ledger: Option<Arc<Ledger>>,
    /// The replays of missed windows (none without `backfill`, or for an untracked sink).
    backfill: Option<Backfill>,
    /// Everything the server had from before this time (ns, event clock) was delivered: the
    /// newest event delivered, or the first connection while there is none, or where the
    /// last run stopped.
    covered: Option<u64>,
    /// The next connection resumes where the last run stopped.
    resuming: bool,
}

impl<'c> Tail<'c> {
    fn new(
        url: TailUrl,
        config: &'c InitConfig,
        roots: TrustRoots,
        sink: &mut Sink,
        resume: Option<Position>,
    ) -> Self {
        let ledger = sink.tracking().map(|t| Arc::clone(&t.ledger));
        let backfill = match (config.backfill, sink.tracking()) {
            (true, Some(_)) => {
                let delivered = resume.iter().flat_map(|p| p.keys.iter().map(|(k, _)| *k));
                let dedup = Dedup::seeded(REMEMBERED_KEYS, delivered);
                Some(Backfill::new(sink, dedup))
            }
            _ => None,
        };
        let covered = resume.as_ref().map(|p| p.covered);
        Self {
            url,
            config,
            roots,
            backoff: Backoff::new(config.reconnect_min_backoff, config.reconnect_max_backoff),
            connected_before: false,
            ledger,
            backfill,
            covered,
            resuming: covered.is_some(),
        }
    }

    /// Runs a new connection until it ends: the live session, with the replay of the window
    /// missed before it beside it. None when the instance is closing; otherwise why the
    /// connection ended, for the log.
    async fn connected(
        &mut self,
        mut ws: dial::Ws,
        sink: &mut Sink,
        stop: &Stop,
    ) -> Option<String> {
        let live_since = now_nanos();
        sink.metrics().set_state(ConnState::Connected);
        self.announce(sink);
        let window = self.window(live_since);
        if self.resuming && window.is_some() {
            sink.metrics()
                .checkpoint_resumes
                .fetch_add(1, Ordering::Relaxed);
        }
        self.connected_before = true;
        self.resuming = false;
        if let Some(l) = &self.ledger {
            l.session(self.covered.unwrap_or(live_since), window.is_some());
        }
        let (end, interrupted) = match (&window, self.backfill.as_mut()) {
            (Some(w), Some(bf)) => {
                beside_replay(
                    &mut ws,
                    &self.url,
                    w,
                    bf,
                    self.config,
                    &self.roots,
                    sink,
                    stop,
                )
                .await
            }
            _ => (
                session::run(&mut ws, self.config, sink, stop, None).await,
                false,
            ),
        };
        self.advance(sink, live_since, interrupted && !stop.is_set());
        self.ended(end, &mut ws).await
    }

    fn announce(&self, sink: &mut Sink) {
        let url = &self.url;
        if self.connected_before {
            let n = sink.metrics().reconnects.fetch_add(1, Ordering::Relaxed) + 1;
            sink.log.log(log::Level::Info, "reconnected", || {
                format!("reconnected to {url} ({n} reconnections so far)")
            });
        } else {
            sink.log.log(log::Level::Info, "connected", || {
                format!("connected to {url}")
            });
        }
    }

    /// The window to replay beside a connection that went live at `live_since`: what came
    /// after the newest event delivered, on a reconnection or when resuming.
    fn window(&self, live_since: u64) -> Option<Window> {
        match (&self.backfill, self.covered) {
            (Some(_), Some(c)) if self.connected_before || self.resuming => {
                Some(Window::after_gap(
                    c,
                    live_since,
                    self.config.backfill_overlap,
                    self.config.backfill_max,
                ))
            }
            _ => None,
        }
    }

    /// Moves `covered` past what the connection (live since `live_since`) and its replay
    /// delivered. A replay `interrupted` by the end of the connection resumes from where it
    /// got to after the next reconnection.
    fn advance(&mut self, sink: &mut Sink, live_since: u64, interrupted: bool) {
        let newest = sink.take_newest();
        let replayed_newest = self.backfill.as_mut().and_then(Backfill::take_newest);
        self.covered = if interrupted {
            let url = &self.url;
            sink.log.log(log::Level::Info, "backfill_interrupted", || {
                format!("the replay of the window missed from {url} stopped with the live connection; it resumes after the reconnection")
            });
            self.covered.max(replayed_newest)
        } else {
            // Nothing from before the first connection is replayed.
            self.covered
                .or(Some(live_since))
                .max(newest)
                .max(replayed_newest)
        };
    }

    /// Closes the connection after its session ended with `end`: None when the instance is
    /// closing, otherwise why it ended.
    async fn ended(&mut self, end: SessionEnd, ws: &mut dial::Ws) -> Option<String> {
        let url = &self.url;
        match end {
            SessionEnd::Stopped => {
                session::close(ws, CLOSE_BUDGET).await;
                None
            }
            SessionEnd::Lost { reason, worked, .. } => {
                if worked {
                    self.backoff.reset();
                }
                session::close(ws, LOST_CLOSE_BUDGET).await;
                Some(format!("connection to {url} lost: {reason}"))
            }
            // Only replay connections have an idle limit or a gate that ends them.
            SessionEnd::Idle | SessionEnd::Enough { .. } => {
                session::close(ws, LOST_CLOSE_BUDGET).await;
                Some(format!("connection to {url} ended"))
            }
        }
    }
}

/// Runs the live session of `ws` with the replay of `window` beside it; returns how the
/// session ended, and whether it ended before the replay did.
#[allow(clippy::too_many_arguments)]
async fn beside_replay(
    ws: &mut dial::Ws,
    url: &TailUrl,
    window: &Window,
    backfill: &mut Backfill,
    config: &InitConfig,
    roots: &TrustRoots,
    sink: &mut Sink,
    stop: &Stop,
) -> (SessionEnd, bool) {
    let finished = Cell::new(false);
    let sink_tracking = sink.tracking().cloned();
    let sink_tracking = sink_tracking.as_ref();
    let mut replay = std::pin::pin!(async {
        backfill.run(url, window, config, roots, stop).await;
        if let Some(t) = sink_tracking {
            // The gap is filled (or given up): the live events move the position again.
            t.ledger.replay_over();
        }
        finished.set(true);
    });
    let beside = async {
        (&mut replay).await;
        futures_lite::future::pending().await
    };
    let end = session::run(ws, config, sink, stop, None).or(beside).await;
    if matches!(end, SessionEnd::Stopped) && !finished.get() {
        // Closing: the replay sees it too, and closes its connection politely.
        replay.await;
    }
    (end, !finished.get())
}

/// A delay in words: "250 ms", "1.5 s".
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
