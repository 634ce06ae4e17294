//! A scriptable WebSocket server on 127.0.0.1 for the tail tests.
//!
//! Each accepted connection plays one [`Script`]: the next one queued with
//! [`WsServer::push`], or the server's default. Steps answer the upgrade (or refuse it with an
//! HTTP status), send frames, and misbehave on command: stall before the upgrade, stop
//! answering Pings, close mid-frame, reset the TCP connection. Between and after steps the
//! server reads the client's frames, answering Pings (unless told not to) and Close frames.
//! When a script ends, the connection stays up until the client leaves.
//!
//! Replays, as LDP documents them ("give the begin & end as uri query parameter" to replay a
//! past window): the server keeps a history of timestamped frames ([`WsServer::history`]).
//! A request whose query has `begin` and `end` plays the next replay script
//! ([`WsServer::push_replay`], or [`WsServer::replays`]' default), whose [`Step::Replay`] sends
//! the history frames whose timestamp, in whole seconds, lies in `[begin, end]`. What the
//! script does next is the test's assumption about LDP: close ([`Step::Close`]), stay open,
//! or go on tailing. With no replay script, such a request plays an ordinary script: a server
//! that ignores the parameters.
//!
//! Plain blocking I/O, one thread per connection: easy to reason about, and every thread ends
//! when its client leaves or the server is dropped.

#![allow(dead_code)]

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What one connection does, in order.
pub type Script = Vec<Step>;

/// One step of a connection's script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Read the HTTP upgrade request and accept it (101).
    Upgrade,
    /// Read the HTTP upgrade request, answer with this status, and close.
    Refuse(u16),
    /// Send a text frame.
    Text(String),
    /// Send a binary frame.
    Binary(Vec<u8>),
    /// Send these bytes as they are (hand-made frames).
    Raw(Vec<u8>),
    /// Keep the connection this long, reading the client's frames.
    Hold(Duration),
    /// From now on, read Pings but never answer them.
    IgnorePings,
    /// Do nothing at all (read nothing, answer nothing) this long.
    Stall(Duration),
    /// Send a text frame's header and half its payload, then close the socket.
    HalfFrame(String),
    /// Send the text frames `make(i)` for `i` in the range, made one at a time (bursts too
    /// large to build up front).
    Generate(std::ops::Range<usize>, fn(usize) -> String),
    /// Send the history frames within the request's `begin`/`end` window.
    Replay,
    /// From now on, send each frame the live feed makes ([`WsServer::live_feed`]), as it is
    /// made, until the client goes.
    Live,
    /// Send a Close frame (1000), wait up to 1 s for the client's, then close.
    Close,
    /// Close the TCP connection (FIN) without a WebSocket Close.
    Drop,
    /// Abort the TCP connection (RST).
    Reset,
    /// Send a Ping and read until its Pong (up to 5 s). The client answers it only after it
    /// has read every frame before it, so a [`Step::Reset`] after this one cannot discard
    /// frames still unread in the client's socket buffer (an RST does that). If no Pong
    /// comes, the connection ends here.
    Received,
}

/// What the server saw on one connection.
#[derive(Debug, Clone)]
pub struct ConnRecord {
    /// When the TCP connection was accepted.
    pub accepted_at: Instant,
    /// The HTTP request head (request line and headers), if one arrived.
    pub request: Option<String>,
    /// Pings received from the client.
    pub pings: usize,
    /// The client sent a Close frame.
    pub client_close: bool,
    /// The connection is over (thread finished).
    pub ended: bool,
    /// When it was over.
    pub ended_at: Option<Instant>,
    /// The TLS handshake failed (wss): the client refused our certificate, or went away.
    pub tls_failed: bool,
    /// The `begin`/`end` query parameters of the request, when it had both.
    pub window: Option<(u64, u64)>,
    /// Data frames sent (text and binary, history included).
    pub frames_sent: usize,
    /// History frames sent by [`Step::Replay`].
    pub replayed: usize,
    /// The longest a single frame write waited (the client not reading: backpressure).
    pub longest_write: Duration,
}

struct Shared {
    queue: Mutex<VecDeque<Script>>,
    default: Script,
    replay_queue: Mutex<VecDeque<Script>>,
    replay_default: Mutex<Option<Script>>,
    history: Mutex<Vec<(u64, String)>>,
    /// The live feed's frames so far (they are in the history too).
    fed: Mutex<Vec<String>>,
    conns: Mutex<Vec<ConnRecord>>,
    stop: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// A running server; dropping it stops every connection and joins every thread.
pub struct WsServer {
    addr: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl WsServer {
    /// A plain ws:// server whose connections play `default` unless a script is queued.
    pub fn ws(default: Script) -> WsServer {
        Self::start(None, 0, default)
    }

    /// A plain ws:// server on `port` (one a client may already be dialling in vain).
    pub fn ws_on(port: u16, default: Script) -> WsServer {
        Self::start(None, port, default)
    }

    /// A wss:// server with `tls` as its identity.
    pub fn wss(tls: native_tls::TlsAcceptor, default: Script) -> WsServer {
        Self::start(Some(Arc::new(tls)), 0, default)
    }

    fn start(tls: Option<Arc<native_tls::TlsAcceptor>>, port: u16, default: Script) -> WsServer {
        let listener = if port == 0 {
            fresh_listener()
        } else {
            TcpListener::bind(("127.0.0.1", port)).unwrap()
        };
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            default,
            replay_queue: Mutex::new(VecDeque::new()),
            replay_default: Mutex::new(None),
            history: Mutex::new(Vec::new()),
            fed: Mutex::new(Vec::new()),
            conns: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
        });
        let is_tls = tls.is_some();
        let s = Arc::clone(&shared);
        let acceptor = std::thread::spawn(move || accept_loop(listener, tls, s));
        WsServer {
            addr,
            tls: is_tls,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Queues the script of a coming connection (first queued, first played).
    pub fn push(&self, script: Script) -> &Self {
        self.shared.queue.lock().unwrap().push_back(script);
        self
    }

    /// Queues the script of a coming replay request (one with `begin` and `end`).
    pub fn push_replay(&self, script: Script) -> &Self {
        self.shared.replay_queue.lock().unwrap().push_back(script);
        self
    }

    /// The script of replay requests when none is queued.
    pub fn replays(&self, script: Script) -> &Self {
        *self.shared.replay_default.lock().unwrap() = Some(script);
        self
    }

    /// Adds frames to the history replays draw from: (timestamp in ns, frame text).
    pub fn history(&self, frames: impl IntoIterator<Item = (u64, String)>) -> &Self {
        self.shared.history.lock().unwrap().extend(frames);
        self
    }

    /// Starts a live feed: every `every`, frame `make(i, now)` for the next `i` (from 0),
    /// stamped with the time it is made (ns since the epoch), goes to the history (for
    /// replays) and to every [`Step::Live`] connection: an LDP stream as time goes.
    pub fn live_feed(&self, every: Duration, make: fn(usize, u64) -> String) -> &Self {
        let shared = Arc::clone(&self.shared);
        let t = std::thread::spawn(move || {
            let start = Instant::now();
            let mut i = 0usize;
            while !shared.stop.load(Ordering::SeqCst) {
                let due = start + every * i as u32;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait.min(Duration::from_millis(20)));
                    continue;
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64;
                let f = make(i, now);
                shared.history.lock().unwrap().push((now, f.clone()));
                shared.fed.lock().unwrap().push(f);
                i += 1;
            }
        });
        self.shared.threads.lock().unwrap().push(t);
        self
    }

    /// Frames the live feed made so far.
    pub fn fed(&self) -> usize {
        self.shared.fed.lock().unwrap().len()
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to open, with `token` as the `tk` parameter.
    pub fn url(&self, token: &str) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}/tail/?tk={token}", self.addr)
    }

    /// What each connection so far saw, in accept order.
    pub fn connections(&self) -> Vec<ConnRecord> {
        self.shared.conns.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.shared.conns.lock().unwrap().len()
    }

    /// Connections not yet over.
    pub fn active(&self) -> usize {
        self.shared
            .conns
            .lock()
            .unwrap()
            .iter()
            .filter(|c| !c.ended)
            .count()
    }

    /// Waits until `cond(connections)` holds or `timeout` passes; returns whether it held.
    pub fn wait_until(&self, timeout: Duration, cond: impl Fn(&[ConnRecord]) -> bool) -> bool {
        let end = Instant::now() + timeout;
        loop {
            if cond(&self.connections()) {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for WsServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.acceptor.take() {
            t.join().ok();
        }
        let threads = std::mem::take(&mut *self.shared.threads.lock().unwrap());
        for t in threads {
            t.join().ok();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<native_tls::TlsAcceptor>>,
    shared: Arc<Shared>,
) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((tcp, _)) => {
                tcp.set_nonblocking(false).unwrap();
                let index = {
                    let mut conns = shared.conns.lock().unwrap();
                    conns.push(ConnRecord {
                        accepted_at: Instant::now(),
                        request: None,
                        pings: 0,
                        client_close: false,
                        ended: false,
                        ended_at: None,
                        tls_failed: false,
                        window: None,
                        frames_sent: 0,
                        replayed: 0,
                        longest_write: Duration::ZERO,
                    });
                    conns.len() - 1
                };
                let s = Arc::clone(&shared);
                let tls = tls.clone();
                let t = std::thread::spawn(move || {
                    serve(tcp, tls, index, &s);
                    let mut conns = s.conns.lock().unwrap();
                    conns[index].ended = true;
                    conns[index].ended_at = Some(Instant::now());
                });
                shared.threads.lock().unwrap().push(t);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<native_tls::TlsStream<TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// How reading the client ended.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    /// The time given is over; the connection goes on.
    TimeUp,
    /// The client sent Close (we answered) or closed the socket, or the socket failed.
    Over,
}

struct Peer<'a> {
    conn: Conn,
    buf: Vec<u8>,
    answer_pings: bool,
    /// Pongs received from the client.
    pongs: usize,
    shared: &'a Shared,
    index: usize,
    /// The upgrade request head, read before the script was chosen.
    head: Option<String>,
}

/// Short socket read timeout: reading loops check the stop flag and their deadline this often.
const POLL: Duration = Duration::from_millis(10);

fn serve(tcp: TcpStream, tls: Option<Arc<native_tls::TlsAcceptor>>, index: usize, shared: &Shared) {
    tcp.set_write_timeout(Some(Duration::from_secs(10))).ok();
    let conn = match tls {
        None => Conn::Plain(tcp),
        Some(acceptor) => {
            tcp.set_read_timeout(Some(Duration::from_secs(5))).ok();
            match acceptor.accept(tcp) {
                Ok(s) => Conn::Tls(Box::new(s)),
                Err(_) => {
                    shared.conns.lock().unwrap()[index].tls_failed = true;
                    return;
                }
            }
        }
    };
    conn.tcp().set_read_timeout(Some(POLL)).ok();
    let mut peer = Peer {
        conn,
        buf: Vec::new(),
        answer_pings: true,
        pongs: 0,
        shared,
        index,
        head: None,
    };
    // The request decides the script: a replay request plays a replay script, if any.
    peer.head = peer.read_request();
    let window = peer.head.as_deref().and_then(query_window);
    peer.record(|r| r.window = window);
    let replay = window.and_then(|_| {
        let queued = shared.replay_queue.lock().unwrap().pop_front();
        queued.or_else(|| shared.replay_default.lock().unwrap().clone())
    });
    let script = replay.unwrap_or_else(|| {
        let queued = shared.queue.lock().unwrap().pop_front();
        queued.unwrap_or_else(|| shared.default.clone())
    });
    for step in script {
        if peer.stopping() || !peer.play(step) {
            return;
        }
    }
    peer.pump(None);
}

impl Peer<'_> {
    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    fn record(&self, f: impl FnOnce(&mut ConnRecord)) {
        f(&mut self.shared.conns.lock().unwrap()[self.index]);
    }

    /// Plays one step; false when the connection is over.
    fn play(&mut self, step: Step) -> bool {
        match step {
            Step::Upgrade => {
                let Some(head) = self.head.take().or_else(|| self.read_request()) else {
                    return false;
                };
                let key = header(&head, "sec-websocket-key").unwrap_or_default();
                let answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    derive_accept_key(key.as_bytes())
                );
                self.send(answer.as_bytes())
            }
            Step::Refuse(status) => {
                if self.head.take().or_else(|| self.read_request()).is_none() {
                    return false;
                }
                let answer = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\nrefused",
                    reason_phrase(status)
                );
                self.send(answer.as_bytes());
                self.conn.tcp().shutdown(Shutdown::Both).ok();
                false
            }
            Step::Text(t) => self.send_frame(&frame(0x1, t.as_bytes())),
            Step::Binary(b) => self.send_frame(&frame(0x2, &b)),
            Step::Generate(range, make) => range
                .into_iter()
                .all(|i| !self.stopping() && self.send_frame(&frame(0x1, make(i).as_bytes()))),
            Step::Replay => {
                let Some((begin, end)) = self.shared.conns.lock().unwrap()[self.index].window
                else {
                    return true;
                };
                let frames: Vec<String> = self
                    .shared
                    .history
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(ts, _)| (begin..=end).contains(&(ts / 1_000_000_000)))
                    .map(|(_, f)| f.clone())
                    .collect();
                frames.iter().all(|f| {
                    let sent = self.send_frame(&frame(0x1, f.as_bytes()));
                    if sent {
                        self.record(|r| r.replayed += 1);
                    }
                    sent
                })
            }
            Step::Live => {
                let mut next = self.shared.fed.lock().unwrap().len();
                loop {
                    let new: Vec<String> = self.shared.fed.lock().unwrap()[next..].to_vec();
                    next += new.len();
                    if !new
                        .iter()
                        .all(|f| self.send_frame(&frame(0x1, f.as_bytes())))
                    {
                        return false;
                    }
                    if self.pump(Some(Instant::now() + Duration::from_millis(5))) == Flow::Over {
                        return false;
                    }
                }
            }
            Step::Raw(b) => self.send(&b),
            Step::Hold(d) => self.pump(Some(Instant::now() + d)) == Flow::TimeUp,
            Step::IgnorePings => {
                self.answer_pings = false;
                true
            }
            Step::Stall(d) => {
                let end = Instant::now() + d;
                while Instant::now() < end && !self.stopping() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                true
            }
            Step::HalfFrame(t) => {
                let whole = frame(0x1, t.as_bytes());
                let cut = whole.len() - t.len() / 2;
                self.send(&whole[..cut]);
                self.conn.tcp().shutdown(Shutdown::Both).ok();
                false
            }
            Step::Close => {
                let mut payload = 1000u16.to_be_bytes().to_vec();
                payload.extend_from_slice(b"bye");
                if self.send(&frame(0x8, &payload)) {
                    self.pump(Some(Instant::now() + Duration::from_secs(1)));
                }
                self.conn.tcp().shutdown(Shutdown::Both).ok();
                false
            }
            Step::Drop => {
                self.conn.tcp().shutdown(Shutdown::Both).ok();
                false
            }
            Step::Reset => {
                reset(self.conn.tcp());
                false
            }
            Step::Received => {
                let seen = self.pongs;
                if !self.send(&frame(0x9, b"received?")) {
                    return false;
                }
                let end = Instant::now() + Duration::from_secs(5);
                while self.pongs == seen {
                    if Instant::now() >= end || self.pump(Some(Instant::now() + POLL)) == Flow::Over
                    {
                        return false;
                    }
                }
                true
            }
        }
    }

    /// Sends a data frame, counting it and how long the write waited.
    fn send_frame(&mut self, bytes: &[u8]) -> bool {
        let t = Instant::now();
        let sent = self.send(bytes);
        let took = t.elapsed();
        self.record(|r| {
            r.frames_sent += usize::from(sent);
            r.longest_write = r.longest_write.max(took);
        });
        sent
    }

    fn send(&mut self, bytes: &[u8]) -> bool {
        self.conn
            .write_all(bytes)
            .and_then(|_| self.conn.flush())
            .is_ok()
    }

    /// Reads once (at most `POLL`); `None` when the socket is over.
    fn fill(&mut self) -> Option<usize> {
        let mut chunk = [0u8; 64 * 1024];
        match self.conn.read(&mut chunk) {
            Ok(0) => None,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Some(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Some(0)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Some(0),
            Err(_) => None,
        }
    }

    /// Reads the HTTP request head (up to 5 s).
    fn read_request(&mut self) -> Option<String> {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 4);
                let recorded = head.clone();
                self.record(|r| r.request = Some(recorded));
                return Some(head);
            }
            if Instant::now() >= end || self.stopping() {
                return None;
            }
            self.fill()?;
        }
    }

    /// Reads client frames until `until` (forever if None), answering Pings and Close.
    fn pump(&mut self, until: Option<Instant>) -> Flow {
        loop {
            while let Some((opcode, payload, used)) = parse_client_frame(&self.buf) {
                self.buf.drain(..used);
                match opcode {
                    0x9 => {
                        self.record(|r| r.pings += 1);
                        if self.answer_pings && !self.send(&frame(0xA, &payload)) {
                            return Flow::Over;
                        }
                    }
                    0xA => self.pongs += 1,
                    0x8 => {
                        self.record(|r| r.client_close = true);
                        self.send(&frame(0x8, &payload));
                        self.conn.tcp().shutdown(Shutdown::Both).ok();
                        return Flow::Over;
                    }
                    _ => {}
                }
            }
            if self.stopping() {
                return Flow::Over;
            }
            if until.is_some_and(|t| Instant::now() >= t) {
                return Flow::TimeUp;
            }
            if self.fill().is_none() {
                return Flow::Over;
            }
        }
    }
}

/// A listener on a port no earlier server of this process had. The plugin knows a stream by
/// its address and token, and hands a closed stream's position to the next open of the same
/// stream: on a reused port, a test's new server would be an earlier test's stream, and its
/// first connection would start with a replay.
fn fresh_listener() -> TcpListener {
    static USED: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut used = USED.lock().unwrap();
    // Refused listeners stay bound until a fresh port is found, so none comes back.
    let mut refused = Vec::new();
    loop {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        if !used.contains(&port) {
            used.push(port);
            return listener;
        }
        refused.push(listener);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `begin` and `end` query parameters of a request head, when it has both.
fn query_window(head: &str) -> Option<(u64, u64)> {
    let target = head.lines().next()?.split(' ').nth(1)?;
    let query = target.split_once('?')?.1;
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
    };
    Some((param("begin")?, param("end")?))
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

/// A server frame (unmasked, FIN set).
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = frame_header(opcode, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

/// The header of a server frame whose payload is `len` bytes (to send a lie, or a part).
pub fn frame_header(opcode: u8, len: u64) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    if len < 126 {
        out.push(len as u8);
    } else if len <= u16::MAX as u64 {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out
}

/// Parses one (masked) client frame at the start of `buf`: (opcode, payload, bytes used).
fn parse_client_frame(buf: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let opcode = buf[0] & 0x0f;
    let masked = buf[1] & 0x80 != 0;
    let (len, mut at) = match buf[1] & 0x7f {
        126 => (
            u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let mask = if masked {
        let m: [u8; 4] = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(m)
    } else {
        None
    };
    let mut payload = buf.get(at..at + len)?.to_vec();
    if let Some(m) = mask {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= m[i % 4];
        }
    }
    Some((opcode, payload, at + len))
}

/// Closes `tcp` with a RST instead of a FIN.
fn reset(tcp: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a correctly sized `linger` value.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    // The socket closes (with RST) when the connection's stream is dropped, right after.
}
