//! Backfill: after a reconnection, the window the tail missed is replayed on a second
//! connection (LDP's `begin`/`end` query parameters) while the live tail goes on, and a
//! shared memory of recent event keys ([`crate::ingest::dedup`]) drops what both deliver.
//!
//! What LDP does with `begin`/`end` is only partly documented ("replay a given time window in
//! the past"), so a replay connection is bounded on every side: it ends when the server closes
//! it, when it sends nothing for `deadTimeoutMs`, when it sends an event from after the window
//! (it went on tailing live, or ignores the parameters), after `backfillMaxEvents` events and
//! after `backfillTimeoutMs`. Events from before the window were delivered before the gap and
//! are dropped as duplicates. A replay that fails is tried again (a few times, from where it
//! got to) while the live tail runs; one cut short by the loss of the live connection is
//! resumed after the next reconnection.

use super::backoff::Backoff;
use super::dial::{self, DialError, TrustRoots};
use super::session::{self, SessionEnd};
use crate::config::{InitConfig, TailUrl};
use crate::ingest::dedup::Dedup;
use crate::ingest::sink::{Admit, Gate, Sink};
use crate::source::stop::Stop;
use futures_lite::FutureExt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const NANOS: u64 = 1_000_000_000;
/// Dials of one window before giving up on it.
const ATTEMPTS: u32 = 3;
/// How long closing a replay connection waits for the server's Close.
const CLOSE_BUDGET: Duration = Duration::from_millis(100);

/// The past window to replay, in whole seconds since the epoch, as LDP takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    /// `begin`: the last event received, minus the overlap, rounded down.
    pub(crate) begin: u64,
    /// `end`: the reconnection, rounded up, plus a second (whether LDP's `end` is inclusive is
    /// not documented).
    pub(crate) end: u64,
    /// When the gap is longer than `backfillMaxSeconds`: the part not replayed, in ns.
    pub(crate) missed: Option<(u64, u64)>,
}

impl Window {
    /// The window after a gap: everything up to `covered` (ns) was delivered, and the live tail
    /// took over again at `live_since` (ns).
    pub(crate) fn after_gap(
        covered: u64,
        live_since: u64,
        overlap: Duration,
        max: Duration,
    ) -> Window {
        let end = live_since.div_ceil(NANOS) + 1;
        let wanted = (covered / NANOS)
            .saturating_sub(overlap.as_secs())
            .min(end - 1);
        let begin = wanted.max(end.saturating_sub(max.as_secs().max(1)));
        let missed = (begin > wanted).then(|| (covered.min(begin * NANOS), begin * NANOS));
        Window { begin, end, missed }
    }

    fn params(&self, begin: u64) -> [(&'static str, String); 2] {
        [("begin", begin.to_string()), ("end", self.end.to_string())]
    }
}

/// How a replayed window ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Replayed to its end.
    Complete,
    /// Given up; the reason is for the log.
    Incomplete(String),
}

/// The backfill of one tail: the replay sink and the memory shared with the live sink.
pub(crate) struct Backfill {
    dedup: Arc<Mutex<Dedup>>,
    sink: Sink,
}

fn lock(dedup: &Mutex<Dedup>) -> MutexGuard<'_, Dedup> {
    // A panic while holding it cannot leave the memory inconsistent in a harmful way.
    dedup.lock().unwrap_or_else(|e| e.into_inner())
}

impl Backfill {
    /// Puts the duplicate filter `dedup` in front of `live` (which keys its events) and makes
    /// the replay sink.
    pub(crate) fn new(live: &mut Sink, dedup: Dedup) -> Self {
        let dedup = Arc::new(Mutex::new(dedup));
        let shared = Arc::clone(&dedup);
        live.set_gate(Some(Box::new(move |_, k| {
            if lock(&shared).admit_live(k) {
                Admit::Deliver
            } else {
                Admit::Duplicate
            }
        })));
        let sink = live.fork_replay();
        Self { dedup, sink }
    }

    /// The greatest timestamp replayed since the last call.
    pub(crate) fn take_newest(&mut self) -> Option<u64> {
        self.sink.take_newest()
    }

    /// Replays `window` of `url` into the queue; logs what it did.
    pub(crate) async fn run(
        &mut self,
        url: &TailUrl,
        window: &Window,
        config: &InitConfig,
        roots: &TrustRoots,
        stop: &Stop,
    ) {
        let metrics = Arc::clone(self.sink.metrics_arc());
        metrics.backfill_windows.fetch_add(1, Ordering::Relaxed);
        let first = url.with_query_params(&window.params(window.begin));
        self.sink.log.log(log::Level::Info, "backfill_start", || {
            format!(
                "replaying the missed window {} to {} ({first})",
                utc(window.begin),
                utc(window.end)
            )
        });
        if let Some((from, to)) = window.missed {
            metrics.backfill_incomplete.fetch_add(1, Ordering::Relaxed);
            self.sink.log.log(log::Level::Warn, "backfill_missed", || {
                format!(
                    "the gap in {url} is longer than backfillMaxSeconds ({} s): events from {} to {} are not replayed and may be missing",
                    config.backfill_max.as_secs(),
                    utc(from / NANOS),
                    utc(to / NANOS)
                )
            });
        }
        let started = Instant::now();
        let start = self.counts();
        let outcome = self.attempts(url, window, config, roots, stop, start).await;
        let (delivered, dropped) = self.since(start);
        match outcome {
            Outcome::Complete => self.sink.log.log(log::Level::Info, "backfill_end", || {
                format!(
                    "replayed {} to {} of {url}: {delivered} events backfilled, {dropped} duplicates dropped, in {:.1} s",
                    utc(window.begin),
                    utc(window.end),
                    started.elapsed().as_secs_f64()
                )
            }),
            Outcome::Incomplete(_) if stop.is_set() => {}
            Outcome::Incomplete(reason) => {
                metrics.backfill_incomplete.fetch_add(1, Ordering::Relaxed);
                self.sink.log.log(log::Level::Warn, "backfill_end", || {
                    format!(
                        "could not replay {} to {} of {url} ({reason}); {delivered} events backfilled, {dropped} duplicates dropped; events of this window may be missing",
                        utc(window.begin),
                        utc(window.end)
                    )
                });
            }
        }
    }

    /// Events the replay sink delivered and dropped as duplicates so far.
    fn counts(&self) -> (u64, u64) {
        (self.sink.delivered(), self.sink.duplicates())
    }

    /// Events delivered and dropped as duplicates since `start` (an earlier [`Self::counts`]).
    fn since(&self, (delivered0, dropped0): (u64, u64)) -> (u64, u64) {
        let (delivered, dropped) = self.counts();
        (delivered - delivered0, dropped - dropped0)
    }

    async fn attempts(
        &mut self,
        url: &TailUrl,
        window: &Window,
        config: &InitConfig,
        roots: &TrustRoots,
        stop: &Stop,
        start: (u64, u64),
    ) -> Outcome {
        let deadline = Instant::now() + config.backfill_timeout;
        let mut backoff = Backoff::new(config.reconnect_min_backoff, config.reconnect_max_backoff);
        let mut begin = window.begin;
        let mut newest: Option<u64> = None;
        let mut attempt = 0;
        loop {
            attempt += 1;
            // The window's budget, whatever its earlier attempts read.
            let (delivered, dropped) = self.since(start);
            let read = delivered + dropped;
            let gate = replay_gate(
                Arc::clone(&self.dedup),
                window,
                config,
                config.backfill_max_events.saturating_sub(read),
            );
            self.sink.set_gate(Some(gate));
            let url = url.with_query_params(&window.params(begin));
            let sink = &mut self.sink;
            let one = async {
                let mut ws = match dial::dial(&url, config, roots).await {
                    Ok(ws) => ws,
                    Err(DialError::Fatal(msg)) => return Err((msg, false)),
                    Err(DialError::Retry(msg)) => return Err((msg, true)),
                };
                let end =
                    session::run(&mut ws, config, sink, stop, Some(config.dead_timeout)).await;
                session::close(&mut ws, CLOSE_BUDGET).await;
                Ok(end)
            };
            let timed = async { Some(one.await) }
                .or(async {
                    smol::Timer::at(deadline).await;
                    None
                })
                .await;
            newest = newest.max(self.sink.newest());
            let failure = match timed {
                None => {
                    return Outcome::Incomplete(format!(
                        "not finished within backfillTimeoutMs ({} ms)",
                        config.backfill_timeout.as_millis()
                    ))
                }
                Some(Err((msg, retry))) => {
                    if !retry {
                        return Outcome::Incomplete(msg);
                    }
                    format!("cannot connect: {msg}")
                }
                Some(Ok(SessionEnd::Stopped)) => return Outcome::Incomplete("closing".into()),
                Some(Ok(SessionEnd::Idle)) | Some(Ok(SessionEnd::Lost { clean: true, .. })) => {
                    return Outcome::Complete
                }
                Some(Ok(SessionEnd::Enough { complete: true, .. })) => return Outcome::Complete,
                Some(Ok(SessionEnd::Enough { reason, .. })) => return Outcome::Incomplete(reason),
                Some(Ok(SessionEnd::Lost { reason, .. })) => reason,
            };
            if attempt >= ATTEMPTS {
                return Outcome::Incomplete(format!("{failure}, after {ATTEMPTS} attempts"));
            }
            // Resume from the last event replayed, with the overlap.
            if let Some(n) = newest {
                begin = begin.max((n / NANOS).saturating_sub(config.backfill_overlap.as_secs()));
            }
            let delay = backoff.next_delay();
            if stop.sleep(delay).await {
                return Outcome::Incomplete("closing".into());
            }
        }
    }
}

/// The gate of a replay connection: drops what is outside the window or already delivered,
/// and ends the connection once it strays past the window or past `budget` events.
fn replay_gate(
    dedup: Arc<Mutex<Dedup>>,
    window: &Window,
    config: &InitConfig,
    budget: u64,
) -> Gate {
    let slack = config.backfill_overlap.as_nanos() as u64;
    let low = (window.begin * NANOS).saturating_sub(slack);
    let high = (window.end * NANOS).saturating_add(slack);
    let max = config.backfill_max_events;
    let mut left = budget;
    let mut in_window = 0u64;
    Box::new(move |e, key| {
        if left == 0 {
            return Admit::End {
                reason: format!("more than backfillMaxEvents ({max}) events"),
                complete: false,
            };
        }
        left -= 1;
        if e.ts > high {
            return if in_window == 0 {
                Admit::End {
                    reason: "the first event replayed is from after the window: the server does not seem to apply begin/end".into(),
                    complete: false,
                }
            } else {
                Admit::End {
                    reason: "the server went on past the end of the window".into(),
                    complete: true,
                }
            };
        }
        if e.ts < low {
            // Before the window: the live tail delivered it before the gap.
            return Admit::Duplicate;
        }
        in_window += 1;
        if lock(&dedup).admit_replayed(key) {
            Admit::Deliver
        } else {
            Admit::Duplicate
        }
    })
}

/// Seconds since the epoch as an RFC 3339 UTC time, for logs.
pub(crate) fn utc(secs: u64) -> String {
    crate::ingest::audit::format_rfc3339(secs.saturating_mul(NANOS), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS;
    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn window_runs_from_the_last_event_minus_the_overlap_to_after_the_reconnection() {
        let w = Window::after_gap(
            1000 * S + 700_000_000,
            1030 * S + 1,
            Duration::from_secs(10),
            MIN * 60,
        );
        assert_eq!(
            w,
            Window {
                begin: 990,
                end: 1032,
                missed: None
            }
        );
        // Exactly on a second: end is that second plus one.
        let w = Window::after_gap(1000 * S, 1030 * S, Duration::ZERO, MIN * 60);
        assert_eq!((w.begin, w.end), (1000, 1031));
    }

    #[test]
    fn long_gaps_keep_their_most_recent_part_and_say_what_is_missed() {
        let w = Window::after_gap(1000 * S, 10_000 * S, Duration::from_secs(10), MIN);
        assert_eq!((w.begin, w.end), (9941, 10_001));
        assert_eq!(w.missed, Some((1000 * S, 9941 * S)));
    }

    #[test]
    fn a_last_event_from_the_future_still_gives_a_window() {
        // The apiserver's clock ahead of ours.
        let w = Window::after_gap(2000 * S, 1000 * S, Duration::from_secs(10), MIN * 60);
        assert!(w.begin < w.end, "{w:?}");
        assert_eq!(w.end, 1001);
    }

    #[test]
    fn utc_formats_seconds() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_739_178_940), "2025-02-10T09:15:40Z");
        assert_eq!(utc(1_709_164_800), "2024-02-29T00:00:00Z");
    }

    fn event(id: &str, ts_secs: u64) -> crate::ingest::audit::AuditEvent {
        let json = format!(r#"{{"kind":"Event","auditID":"{id}","stage":"ResponseComplete"}}"#);
        let mut out = None;
        crate::ingest::audit::split(
            &json,
            ts_secs * S,
            1 << 20,
            &mut |e| out = Some(e),
            &mut |_| {},
        );
        out.unwrap()
    }

    fn config() -> InitConfig {
        InitConfig::parse(r#"{"backfillOverlapSeconds": 5, "backfillMaxEvents": 4}"#).unwrap()
    }

    /// Calls `gate` as a sink does: with the event and its key.
    fn admit(gate: &mut Gate, e: crate::ingest::audit::AuditEvent) -> Admit {
        let key = crate::ingest::dedup::Keyer([1, 2]).key(&e);
        gate(&e, key)
    }

    /// The gate of the window 100 to 200 s (5 s of slack) for `budget` events, with an empty
    /// memory of keys.
    fn window_gate(budget: u64) -> Gate {
        let dedup = Arc::new(Mutex::new(Dedup::seeded(16, [])));
        let w = Window {
            begin: 100,
            end: 200,
            missed: None,
        };
        replay_gate(dedup, &w, &config(), budget)
    }

    #[test]
    fn replay_gate_keeps_the_window_and_ends_past_it() {
        let mut gate = window_gate(4);
        assert_eq!(
            admit(&mut gate, event("old", 90)),
            Admit::Duplicate,
            "before the window"
        );
        assert_eq!(
            admit(&mut gate, event("a", 96)),
            Admit::Deliver,
            "within the slack"
        );
        assert_eq!(admit(&mut gate, event("a", 96)), Admit::Duplicate, "twice");
        assert!(matches!(
            admit(&mut gate, event("late", 206)),
            Admit::End { complete: true, .. }
        ));
        // A server that starts past the window ignores the parameters.
        let mut gate = window_gate(4);
        assert!(matches!(
            admit(&mut gate, event("live", 300)),
            Admit::End {
                complete: false,
                ..
            }
        ));
    }

    #[test]
    fn replay_gate_takes_events_on_either_edge_of_the_window_and_its_slack() {
        // Window 100 to 200 s with a 5 s overlap: from 95 s to 205 s, both included.
        let mut gate = window_gate(4);
        for (id, secs) in [("first", 95), ("last", 205)] {
            assert_eq!(
                admit(&mut gate, event(id, secs)),
                Admit::Deliver,
                "{secs} s"
            );
        }
        let mut gate = window_gate(4);
        let just_before = crate::ingest::audit::AuditEvent {
            ts: 95 * S - 1,
            ..event("before", 95)
        };
        assert_eq!(admit(&mut gate, just_before), Admit::Duplicate);
        let just_after = crate::ingest::audit::AuditEvent {
            ts: 205 * S + 1,
            ..event("after", 205)
        };
        assert!(matches!(admit(&mut gate, just_after), Admit::End { .. }));
    }

    #[test]
    fn replay_gate_stops_after_its_budget() {
        let mut gate = window_gate(2);
        assert_eq!(admit(&mut gate, event("a", 150)), Admit::Deliver);
        assert_eq!(admit(&mut gate, event("b", 150)), Admit::Deliver);
        let end = admit(&mut gate, event("c", 150));
        assert!(
            matches!(&end, Admit::End { complete: false, reason } if reason.contains("backfillMaxEvents (4)")),
            "{end:?}"
        );
    }
}
