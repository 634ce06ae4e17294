//! One connected WebSocket: frames into the sink, keepalive Pings, dead-connection detection,
//! and a prompt, polite end when the instance closes.
//!
//! Liveness is "the server sent something": any byte read, a frame, a Ping or a Pong. A quiet
//! stream whose server answers our Pings stays up forever; one that answers nothing for
//! `deadTimeoutMs` is dropped. Time spent waiting on a full queue (Falco slower than the
//! stream) is backpressure, not silence: the clock restarts once the sink took the frame.
//!
//! A replay connection (backfill) also ends when its sink's gate says the window is over, or
//! after `idle` without a data frame: a server may keep a replay open once it has sent it.

use super::dial::{describe_ws_error, Ws};
use crate::config::InitConfig;
use crate::ingest::decode::Frame;
use crate::ingest::sink::Sink;
use crate::metrics::SkipReason;
use crate::source::stop::Stop;
use async_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use futures_lite::{FutureExt, StreamExt};
use smol::Timer;
use std::time::{Duration, Instant};

/// How a connected session ended.
#[derive(Debug)]
pub(crate) enum SessionEnd {
    /// The instance is closing.
    Stopped,
    /// The connection is gone; dial again. `worked`: the server sent at least one frame
    /// (data, Ping or Pong), so the next failure starts the backoff afresh. `clean`: the
    /// server ended it (Close frame or end of stream), rather than an error or a dead peer.
    Lost {
        reason: String,
        worked: bool,
        clean: bool,
    },
    /// No data frame for the `idle` limit.
    Idle,
    /// The sink's gate wants nothing more from this connection: `complete` when it got all it
    /// should. The reason is for the log.
    Enough { reason: String, complete: bool },
}

/// Messages handled in a row before letting the other connections (the replay beside the
/// live tail, the other streams: they share the thread) have a turn. The executor looks for
/// sockets that became readable only every 200 turns, so a small share keeps a quiet
/// stream's events from waiting behind a flood: with 4, some 800 messages.
const FAIR_SHARE: u32 = 4;

enum Wake {
    Stop,
    Read(Option<Result<Message, WsError>>),
    Tick,
}

/// Reads `ws` into `sink` until the connection ends or `stop`; with `idle`, also after that
/// long without a data frame. The events of every frame read are queued before it returns
/// (unless the instance is closing).
pub(crate) async fn run(
    ws: &mut Ws,
    config: &InitConfig,
    sink: &mut Sink,
    stop: &Stop,
    idle: Option<Duration>,
) -> SessionEnd {
    let mut clock = Clock::new(config, idle, ws.get_ref().bytes_read());
    let mut pings: u64 = 0;
    let mut worked = false;
    // One timer and one stop listener for the whole session: made afresh for every frame,
    // each registered with the reactor again (a syscall to wake it, a lock, an allocation).
    let mut tick = Timer::never();
    let mut tick_at: Option<Instant> = None;
    let mut stopped = std::pin::pin!(stop.wait());
    let mut in_a_row = 0;
    loop {
        if stop.is_set() {
            return SessionEnd::Stopped;
        }
        in_a_row += 1;
        if in_a_row >= FAIR_SHARE {
            in_a_row = 0;
            futures_lite::future::yield_now().await;
        }
        clock.heard_bytes(ws.get_ref().bytes_read());
        let now = Instant::now();
        match clock.due(now) {
            Due::Dead => return dead(config, worked),
            Due::Idle => return SessionEnd::Idle,
            Due::Ping => {
                pings += 1;
                if let Err(end) = ping(ws, pings, clock.dead_at(), stop, config, worked).await {
                    return end;
                }
                clock.pinged(Instant::now());
                continue;
            }
            Due::Nothing(wake_at) => {
                // Deadlines only move later as frames come: a timer set for earlier is kept
                // (firing early costs one more turn of this loop), so it is rarely set again.
                if tick_at.is_none_or(|t| wake_at < t) {
                    tick.set_at(wake_at);
                    tick_at = Some(wake_at);
                }
            }
        }
        let wake = async {
            stopped.as_mut().await;
            Wake::Stop
        }
        .or(async { Wake::Read(ws.next().await) })
        .or(async {
            (&mut tick).await;
            Wake::Tick
        })
        .await;
        let message = match wake {
            Wake::Stop => return SessionEnd::Stopped,
            Wake::Tick => {
                tick_at = None;
                continue;
            }
            Wake::Read(read) => match received(read, sink, worked) {
                Ok(m) => m,
                Err(end) => return end,
            },
        };
        match take(message, sink, worked).await {
            Ok(Took::Data) => {
                worked = true;
                clock.data(Instant::now());
            }
            Ok(Took::Control) => worked = true,
            Ok(Took::Raw) => {}
            Err(end) => return end,
        }
        if let Some((reason, complete)) = sink.ended() {
            return SessionEnd::Enough {
                reason: reason.to_owned(),
                complete,
            };
        }
        // After the sink took the frame, possibly having waited for room in the queue.
        clock.heard(Instant::now());
    }
}

/// The session's deadlines: when the server was last heard from, when it last sent data, and
/// when the next Ping is due.
struct Clock {
    last_heard: Instant,
    last_data: Instant,
    bytes_seen: u64,
    next_ping: Instant,
    ping_interval: Duration,
    dead_timeout: Duration,
    idle: Option<Duration>,
}

/// What is due now.
enum Due {
    /// Nothing heard for `deadTimeoutMs`.
    Dead,
    /// No data frame for the `idle` limit.
    Idle,
    Ping,
    /// Nothing before this instant.
    Nothing(Instant),
}

impl Clock {
    fn new(config: &InitConfig, idle: Option<Duration>, bytes_seen: u64) -> Self {
        let now = Instant::now();
        Self {
            last_heard: now,
            last_data: now,
            bytes_seen,
            next_ping: now + config.ping_interval,
            ping_interval: config.ping_interval,
            dead_timeout: config.dead_timeout,
            idle,
        }
    }

    /// Bytes of a frame still arriving count as life, even before the frame is whole.
    fn heard_bytes(&mut self, read: u64) {
        if read != self.bytes_seen {
            self.bytes_seen = read;
            self.last_heard = self.last_heard.max(Instant::now());
        }
    }

    /// The server sent a whole message.
    fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    /// The server sent a data frame.
    fn data(&mut self, now: Instant) {
        self.last_data = now;
    }

    fn pinged(&mut self, now: Instant) {
        self.next_ping = now + self.ping_interval;
    }

    fn dead_at(&self) -> Instant {
        self.last_heard + self.dead_timeout
    }

    fn due(&self, now: Instant) -> Due {
        let dead_at = self.dead_at();
        if now >= dead_at {
            return Due::Dead;
        }
        let idle_at = self.idle.map(|d| self.last_data + d);
        if idle_at.is_some_and(|t| now >= t) {
            return Due::Idle;
        }
        if now >= self.next_ping {
            return Due::Ping;
        }
        Due::Nothing(self.next_ping.min(dead_at).min(idle_at.unwrap_or(dead_at)))
    }
}

fn dead(config: &InitConfig, worked: bool) -> SessionEnd {
    SessionEnd::Lost {
        reason: format!(
            "nothing received, not even a Pong, for deadTimeoutMs ({} ms)",
            config.dead_timeout.as_millis()
        ),
        worked,
        clean: false,
    }
}

/// Sends Ping number `n`, giving up at `dead_at` (the server is gone) or on `stop`.
async fn ping(
    ws: &mut Ws,
    n: u64,
    dead_at: Instant,
    stop: &Stop,
    config: &InitConfig,
    worked: bool,
) -> Result<(), SessionEnd> {
    let ping = ws.send(Message::Ping(Bytes::copy_from_slice(&n.to_be_bytes())));
    let sent = async { Some(ping.await) }
        .or(async {
            Timer::at(dead_at).await;
            None
        })
        .or(async {
            stop.wait().await;
            Some(Ok(()))
        })
        .await;
    match sent {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(SessionEnd::Lost {
            reason: format!("sending a Ping failed: {}", describe_ws_error(&e)),
            worked,
            clean: false,
        }),
        None => Err(dead(config, worked)),
    }
}

/// The message read, or how the connection ended.
fn received(
    read: Option<Result<Message, WsError>>,
    sink: &mut Sink,
    worked: bool,
) -> Result<Message, SessionEnd> {
    match read {
        Some(Ok(m)) => Ok(m),
        Some(Err(e)) => Err(SessionEnd::Lost {
            clean: ended_by_server(&e),
            reason: read_failed(&e, sink),
            worked,
        }),
        None => Err(SessionEnd::Lost {
            reason: "the server closed the connection".into(),
            worked,
            clean: true,
        }),
    }
}

/// What kind of message the session took.
enum Took {
    /// A data frame, into the sink.
    Data,
    /// A Ping or a Pong.
    Control,
    /// A raw frame (tungstenite never reads one).
    Raw,
}

/// Hands a data frame to the sink; a Close frame ends the session.
async fn take(message: Message, sink: &mut Sink, worked: bool) -> Result<Took, SessionEnd> {
    let frame = match message {
        Message::Text(text) => Frame::Text(text),
        Message::Binary(bytes) => Frame::Binary(bytes),
        // tungstenite queues the Pong for a Ping and sends it on the next read.
        Message::Ping(_) | Message::Pong(_) => return Ok(Took::Control),
        Message::Frame(_) => return Ok(Took::Raw),
        Message::Close(frame) => {
            return Err(SessionEnd::Lost {
                reason: closed(frame),
                worked,
                clean: true,
            })
        }
    };
    if sink.ws_frame(&frame).await.is_err() {
        return Err(SessionEnd::Stopped);
    }
    Ok(Took::Data)
}

/// The log's words for the server's Close frame.
fn closed(frame: Option<CloseFrame>) -> String {
    match frame {
        Some(f) if f.reason.is_empty() => {
            format!(
                "the server closed the WebSocket (code {})",
                u16::from(f.code)
            )
        }
        Some(f) => format!(
            "the server closed the WebSocket (code {}: {:?})",
            u16::from(f.code),
            f.reason.chars().take(120).collect::<String>()
        ),
        None => "the server closed the WebSocket".into(),
    }
}

/// Whether a read error is the server ending the stream (a FIN without a Close frame) rather
/// than a failure.
fn ended_by_server(e: &WsError) -> bool {
    matches!(
        e,
        WsError::ConnectionClosed
            | WsError::AlreadyClosed
            | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)
    )
}

/// Explains a read error, counting and logging the ones that are about a message.
fn read_failed(e: &WsError, sink: &mut Sink) -> String {
    match e {
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
            sink.metrics().skipped(SkipReason::Oversize);
            let (size, max_size) = (*size, *max_size);
            sink.log.log(log::Level::Warn, "oversize_message", || {
                format!(
                    "skipped a WebSocket message of {size} bytes, over the {max_size} bytes this plugin reads in one message; the connection is dialled again (its events are larger than maxEventSize anyway)"
                )
            });
            format!("a message of {size} bytes exceeded the {max_size}-byte limit")
        }
        WsError::Utf8(_) => {
            sink.metrics().skipped(SkipReason::NotJson);
            sink.log.log(log::Level::Warn, "invalid_utf8", || {
                "skipped a text frame that is not valid UTF-8; the connection is dialled again"
                    .into()
            });
            "a text frame was not valid UTF-8".into()
        }
        other => describe_ws_error(other),
    }
}

/// Ends the connection politely: a Close frame, then the server's Close or EOF, all within
/// `budget`; past it the socket is just dropped.
pub(crate) async fn close(ws: &mut Ws, budget: Duration) {
    let polite = async {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "falco k8saudit-ovh closing".into(),
        };
        // After the server's own Close, sending ours fails (nothing more may be sent), but the
        // next read flushes the reply tungstenite queued, then sees the server's end.
        let _ = ws.close(Some(frame)).await;
        while let Some(Ok(_)) = ws.next().await {}
    };
    polite
        .or(async {
            Timer::after(budget).await;
        })
        .await;
}
