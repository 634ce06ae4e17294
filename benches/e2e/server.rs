//! The loopback LDP stand-in, run as a child process (this same binary, first argument
//! [`SERVE`]) so that its CPU time and memory are not the plugin's: getrusage and VmHWM of the
//! bench process then measure the plugin and its Falco-like host only.
//!
//! It accepts WebSocket connections (wss with the bench's test CA, or ws) and sends the
//! pre-encoded [`FrameRing`] round and round, in writes of about 64 kB, as fast as the client
//! reads or at a set rate of events per second. Before each write it stamps the frames'
//! auditIDs with their sequence numbers and the time. It never reads what the client sends
//! (Pings, Close): data flowing is liveness enough for the plugin. It exits when the bench
//! closes its stdin; a `count` line on its stdin makes it print the events sent so far.

use crate::frames::FrameRing;
use crate::stats::mono_ns;
use async_tungstenite::tungstenite::handshake::derive_accept_key;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// First argument that makes this binary the server.
pub const SERVE: &str = "__e2e_server";

/// Connection `n` numbers its events from `n << STREAM_SHIFT`.
pub const STREAM_SHIFT: u32 = 40;

/// Bytes per write when sending as fast as the client reads.
const CHUNK: usize = 64 * 1024;

/// What the server sends.
#[derive(Debug, Clone, Copy)]
pub struct Feed {
    /// Audit events per frame: 1, or 50 (EventLists).
    pub events_per_frame: usize,
    /// Events per second; 0: as fast as the client reads.
    pub rate: u64,
}

/// A running server process; dropping it ends it.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    pub port: u16,
}

impl Server {
    /// Starts the server; `tls` is the server certificate and key (PEM files) for wss.
    pub fn start(feed: Feed, tls: Option<(&Path, &Path)>) -> Server {
        let exe = std::env::current_exe().expect("current_exe");
        let mut cmd = Command::new(exe);
        cmd.arg(SERVE)
            .arg(feed.events_per_frame.to_string())
            .arg(feed.rate.to_string());
        if let Some((cert, key)) = tls {
            cmd.arg(cert).arg(key);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the bench server");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).expect("server port");
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("bench server said {line:?}"));
        Server {
            stdin: child.stdin.take(),
            stdout,
            child,
            port,
        }
    }

    /// Audit events written to sockets so far (some may still be in socket buffers).
    pub fn events_sent(&mut self) -> u64 {
        let stdin = self.stdin.as_mut().expect("server running");
        stdin.write_all(b"count\n").expect("ask the server");
        stdin.flush().ok();
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("server count");
        line.trim()
            .strip_prefix("sent ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("bench server said {line:?}"))
    }
}

/// Events sent by the server process, for `count`.
static SENT: AtomicU64 = AtomicU64::new(0);

impl Drop for Server {
    fn drop(&mut self) {
        self.stdin.take();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The server process: `SERVE <events per frame> <rate> [<cert.pem> <key.pem>]`.
pub fn main(args: &[String]) -> ! {
    let events_per_frame: usize = args[0].parse().expect("events per frame");
    let rate: u64 = args[1].parse().expect("rate");
    let tls = args.get(3).map(|key| {
        let cert = std::fs::read(&args[2]).expect("cert");
        let key = std::fs::read(key).expect("key");
        let identity = native_tls::Identity::from_pkcs8(&cert, &key).expect("identity");
        std::sync::Arc::new(native_tls::TlsAcceptor::new(identity).expect("TLS acceptor"))
    });
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("port {}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().ok();
    // The bench closing our stdin (or dying) ends us; `count` asks for the events sent.
    std::thread::spawn(|| {
        for line in std::io::stdin().lines() {
            match line {
                Ok(l) if l.trim() == "count" => {
                    println!("sent {}", SENT.load(Ordering::Relaxed));
                    std::io::stdout().flush().ok();
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        std::process::exit(0);
    });
    // Each connection on a thread of its own, with its own copy of the frames and a sequence
    // of its own: connection n numbers its events from n·2⁴⁰, so that the bench can check
    // the order of each stream of a source that reads several.
    for (n, tcp) in listener.incoming().enumerate() {
        let Ok(tcp) = tcp else { continue };
        tcp.set_nodelay(true).ok();
        let tls = tls.clone();
        let mut ring = FrameRing::build(events_per_frame);
        std::thread::spawn(move || {
            let mut seq = (n as u64) << STREAM_SHIFT;
            match tls {
                Some(acceptor) => {
                    if let Ok(mut s) = acceptor.accept(tcp) {
                        serve(&mut s, &mut ring, rate, &mut seq);
                    }
                }
                None => {
                    let mut s = tcp;
                    serve(&mut s, &mut ring, rate, &mut seq);
                }
            }
        });
    }
    std::process::exit(0)
}

/// Upgrades the connection, then sends until the client goes away.
fn serve(conn: &mut (impl Read + Write), ring: &mut FrameRing, rate: u64, seq: &mut u64) {
    let Some(key) = read_upgrade(conn) else {
        return;
    };
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    if conn.write_all(answer.as_bytes()).is_err() {
        return;
    }
    let per_frame = ring.events_per_frame as u64;
    let start = mono_ns();
    let mut next = 0usize; // next frame of the ring
    let mut frames_sent = 0u64;
    loop {
        // How many frames to send now.
        let mut want = usize::MAX;
        if rate > 0 {
            let due =
                (mono_ns() - start) as u128 * rate as u128 / 1_000_000_000 / per_frame as u128;
            let due = due as u64 - frames_sent;
            if due == 0 {
                // Sleep until the next frame is due: one wakeup per frame whatever the rate,
                // so ten connections at a tenth of the rate cost the machine what one does.
                let next_due = start as u128
                    + (frames_sent + 1) as u128 * per_frame as u128 * 1_000_000_000 / rate as u128;
                let wait = (next_due as u64).saturating_sub(mono_ns());
                std::thread::sleep(Duration::from_nanos(wait.max(20_000)));
                continue;
            }
            want = due as usize;
        }
        // Frames next.. up to CHUNK bytes (at least one), without wrapping round the ring.
        let first = next;
        let mut end = first;
        let mut bytes = 0;
        while end < ring.frames.len() && end - first < want && (bytes < CHUNK || end == first) {
            bytes += ring.frames[end].range.len();
            end += 1;
        }
        let sent = mono_ns();
        for f in first..end {
            ring.stamp(f, *seq, sent);
            *seq += per_frame;
        }
        let span = ring.frames[first].range.start..ring.frames[end - 1].range.end;
        if conn.write_all(&ring.bytes[span]).is_err() || conn.flush().is_err() {
            return;
        }
        frames_sent += (end - first) as u64;
        SENT.fetch_add((end - first) as u64 * per_frame, Ordering::Relaxed);
        next = if end == ring.frames.len() { 0 } else { end };
    }
}

/// Reads the HTTP upgrade request; its Sec-WebSocket-Key.
fn read_upgrade(conn: &mut impl Read) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| v.trim().to_owned())
    })
}
