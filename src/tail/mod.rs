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
//!
//! Every message names the URL through `TailUrl`'s `Display`, which redacts the token.

mod backoff;
mod dial;
mod session;

use crate::config::{InitConfig, TailUrl};
use crate::metrics::ConnState;
use crate::sink::Sink;
use crate::source::Stop;
use backoff::Backoff;
use dial::{DialError, TrustRoots};
use futures_lite::FutureExt;
use session::SessionEnd;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long closing waits for the server to acknowledge our Close frame.
const CLOSE_BUDGET: Duration = Duration::from_millis(500);
/// The same after a lost connection, when the server may be gone.
const LOST_CLOSE_BUDGET: Duration = Duration::from_millis(100);

/// Tails `url` into `sink` until `stop`, reconnecting as needed.
pub(crate) async fn run(url: TailUrl, config: &InitConfig, sink: &mut Sink, stop: &Stop) {
    let roots = match TrustRoots::load(config) {
        Ok(r) => r,
        Err(msg) => return sink.fatal(msg).await,
    };
    let mut backoff = Backoff::new(config.reconnect_min_backoff, config.reconnect_max_backoff);
    let mut connected_before = false;
    loop {
        sink.metrics().set_state(ConnState::Connecting);
        sink.metrics()
            .connection_attempts
            .fetch_add(1, Ordering::Relaxed);
        let dialled = async { Some(dial::dial(&url, config, &roots).await) }
            .or(async {
                stop.wait().await;
                None
            })
            .await;
        let failure = match dialled {
            None => return,
            Some(Err(DialError::Fatal(msg))) => return sink.fatal(msg).await,
            Some(Err(DialError::Retry(reason))) => format!("cannot connect to {url}: {reason}"),
            Some(Ok(mut ws)) => {
                sink.metrics().set_state(ConnState::Connected);
                if connected_before {
                    let n = sink.metrics().reconnects.fetch_add(1, Ordering::Relaxed) + 1;
                    sink.log.log(log::Level::Info, "reconnected", || {
                        format!("reconnected to {url} ({n} reconnections so far)")
                    });
                } else {
                    log::info!("connected to {url}");
                }
                connected_before = true;
                match session::run(&mut ws, config, sink, stop).await {
                    SessionEnd::Stopped => {
                        session::close(&mut ws, CLOSE_BUDGET).await;
                        return;
                    }
                    SessionEnd::Lost { reason, worked } => {
                        if worked {
                            backoff.reset();
                        }
                        session::close(&mut ws, LOST_CLOSE_BUDGET).await;
                        format!("connection to {url} lost: {reason}")
                    }
                }
            }
        };
        sink.metrics().set_state(ConnState::Backoff);
        let delay = backoff.next_delay();
        sink.log.log(log::Level::Warn, "reconnect", || {
            format!("{failure}; dialling again in {}", seconds(delay))
        });
        let stopped = async {
            smol::Timer::after(delay).await;
            false
        }
        .or(async {
            stop.wait().await;
            true
        })
        .await;
        if stopped {
            return;
        }
    }
}

/// A delay in words: "250 ms", "1.5 s".
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
