//! One dial: TCP connect, TLS (wss), WebSocket upgrade, the whole bounded by
//! `connectTimeoutMs`; failures classified as fatal (the user must fix something) or
//! retryable (the network or LDP may get better).

use crate::config::{InitConfig, Scheme, TailUrl};
use async_native_tls::{Certificate, TlsConnector, TlsStream};
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::http::HeaderValue;
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use async_tungstenite::tungstenite::Error as WsError;
use async_tungstenite::WebSocketStream;
use futures_lite::io::BufReader;
use futures_lite::{AsyncRead, AsyncWrite, FutureExt};
use smol::net::TcpStream;
use std::cell::Cell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A connected WebSocket.
pub(crate) type Ws = WebSocketStream<Transport>;

/// Largest WebSocket message accepted, in bytes: 64 MiB, or more when `maxEventSize` is so
/// large that one event, escaped twice inside its LDP envelope, could exceed it. Oversize
/// *events* below this limit are skipped by the sink; a message above it ends the connection.
pub(crate) fn max_message_size(max_event_size: usize) -> usize {
    const FLOOR: usize = 64 << 20;
    max_event_size.saturating_mul(4).max(FLOOR)
}

/// Bytes tungstenite asks the transport for per read. It zero-fills that much of its buffer
/// before every read, and a TLS read returns one record (16 KiB at most): its default of
/// 128 KiB cleared eight times what arrived.
const READ_BUFFER: usize = 16 << 10;

/// Bytes read from the socket at once under TLS. OpenSSL reads a record's 5-byte header, then
/// its body, each straight from the socket: 2-3 `recv` calls per 16 KiB record, which at 300
/// MB/s cost a tenth of a core. A buffer below it gathers several records per call.
const TLS_SOCKET_BUFFER: usize = 64 << 10;

fn ws_config(config: &InitConfig) -> WebSocketConfig {
    let limit = max_message_size(config.max_event_size);
    WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit))
        .read_buffer_size(READ_BUFFER)
}

/// Why a dial (or a connection) ended badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DialError {
    /// Retrying cannot help; the message tells the user what to fix.
    Fatal(String),
    /// The network or the server may recover: dial again after a backoff.
    Retry(String),
}

/// The step a dial is in, for timeout messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Resolve,
    Connect,
    Tls,
    Upgrade,
}

impl Phase {
    fn describe(self) -> &'static str {
        match self {
            Phase::Resolve => "resolving the host name",
            Phase::Connect => "the TCP connect",
            Phase::Tls => "the TLS handshake",
            Phase::Upgrade => "the WebSocket upgrade",
        }
    }
}

/// Extra trusted CA certificates (`caCertFile`), read once per open instance.
#[derive(Clone, Default)]
pub(crate) struct TrustRoots(Vec<Certificate>);

impl TrustRoots {
    /// Reads `caCertFile`; errors are for the user.
    pub(crate) fn load(config: &InitConfig) -> Result<Self, String> {
        let Some(path) = &config.ca_cert_file else {
            return Ok(Self::default());
        };
        let pem = std::fs::read(path).map_err(|e| {
            format!(
                "cannot read caCertFile {}: {e}; give the path of a PEM CA bundle in init_config, or leave caCertFile out",
                path.display()
            )
        })?;
        match Certificate::stack_from_pem(&pem) {
            Ok(certs) if !certs.is_empty() => Ok(Self(certs)),
            Ok(_) => Err(format!(
                "caCertFile {} holds no PEM certificate (-----BEGIN CERTIFICATE-----); give a PEM CA bundle",
                path.display()
            )),
            Err(e) => Err(format!(
                "caCertFile {} is not a valid PEM certificate bundle ({e})",
                path.display()
            )),
        }
    }

    fn connector(&self) -> TlsConnector {
        // System roots (and SSL_CERT_FILE / SSL_CERT_DIR, through OpenSSL) plus ours;
        // verification of the chain and of the host name always on.
        self.0
            .iter()
            .cloned()
            .fold(TlsConnector::new(), TlsConnector::add_root_certificate)
    }
}

/// Dials `url`: TCP, TLS for wss, then the upgrade, within `connectTimeoutMs`.
pub(crate) async fn dial(
    url: &TailUrl,
    config: &InitConfig,
    roots: &TrustRoots,
) -> Result<Ws, DialError> {
    let phase = Cell::new(Phase::Resolve);
    let attempt = dial_steps(url, config, roots, &phase);
    let timeout = async {
        smol::Timer::after(config.connect_timeout).await;
        Err(DialError::Retry(format!(
            "no answer within connectTimeoutMs ({} ms), during {}",
            config.connect_timeout.as_millis(),
            phase.get().describe()
        )))
    };
    attempt.or(timeout).await
}

async fn dial_steps(
    url: &TailUrl,
    config: &InitConfig,
    roots: &TrustRoots,
    phase: &Cell<Phase>,
) -> Result<Ws, DialError> {
    let addrs = resolve(url).await?;
    phase.set(Phase::Connect);
    let tcp = connect_any(&addrs).await?;
    let transport = match url.scheme() {
        Scheme::Ws => Transport::new(Io::Plain(tcp)),
        Scheme::Wss => {
            phase.set(Phase::Tls);
            let tls = roots
                .connector()
                .connect(url.host(), BufReader::with_capacity(TLS_SOCKET_BUFFER, tcp))
                .await
                .map_err(|e| tls_failure(&e.to_string(), url))?;
            Transport::new(Io::Tls(Box::new(tls)))
        }
    };
    phase.set(Phase::Upgrade);
    let request = upgrade_request(url).map_err(|e| {
        DialError::Fatal(format!(
            "the WebSocket address {url} cannot be used in a request ({e}); check open_params"
        ))
    })?;
    match async_tungstenite::client_async_with_config(request, transport, Some(ws_config(config)))
        .await
    {
        Ok((ws, _response)) => Ok(ws),
        Err(WsError::Http(response)) => Err(upgrade_refused(
            response.status().as_u16(),
            response.status().canonical_reason().unwrap_or(""),
            url,
        )),
        Err(e) => Err(DialError::Retry(format!(
            "WebSocket upgrade failed: {}",
            describe_ws_error(&e)
        ))),
    }
}

/// The upgrade request: no Authorization, no subprotocol, and a Host header without the
/// default port (as browsers and LDP's own client send it).
fn upgrade_request(
    url: &TailUrl,
) -> Result<async_tungstenite::tungstenite::handshake::client::Request, WsError> {
    let mut request = url.expose_secret().into_client_request()?;
    let host = if url.host().contains(':') {
        format!("[{}]", url.host())
    } else {
        url.host().to_owned()
    };
    let default_port = match url.scheme() {
        Scheme::Ws => 80,
        Scheme::Wss => 443,
    };
    let host = if url.port() == default_port {
        host
    } else {
        format!("{host}:{}", url.port())
    };
    let value = HeaderValue::from_str(&host).map_err(|e| WsError::HttpFormat(e.into()))?;
    request.headers_mut().insert("Host", value);
    Ok(request)
}

async fn resolve(url: &TailUrl) -> Result<Vec<SocketAddr>, DialError> {
    if let Ok(ip) = url.host().parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, url.port())]);
    }
    match smol::net::resolve((url.host(), url.port())).await {
        Ok(addrs) if !addrs.is_empty() => Ok(addrs),
        Ok(_) => Err(DialError::Retry(format!(
            "the host name {} resolves to no address",
            url.host()
        ))),
        Err(e) => Err(DialError::Retry(format!(
            "cannot resolve the host name {}: {e}",
            url.host()
        ))),
    }
}

async fn connect_any(addrs: &[SocketAddr]) -> Result<TcpStream, DialError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                // Pings and Close must not wait behind Nagle.
                s.set_nodelay(true).ok();
                return Ok(s);
            }
            Err(e) => last = Some(format!("TCP connect to {addr} failed: {e}")),
        }
    }
    Err(DialError::Retry(
        last.unwrap_or_else(|| "no address to connect to".into()),
    ))
}

/// Classifies a TLS handshake failure: an untrusted certificate is a configuration problem,
/// not something a retry fixes.
pub(crate) fn tls_failure(detail: &str, url: &TailUrl) -> DialError {
    let lower = detail.to_ascii_lowercase();
    if lower.contains("certificate verify failed") || lower.contains("hostname mismatch") {
        DialError::Fatal(format!(
            "TLS certificate verification failed for {}: {}. The server's certificate is not trusted for this host name: if it is signed by a private CA, give that CA with caCertFile in init_config or with the SSL_CERT_FILE environment variable; check also that the address in open_params is the one the OVHcloud console gives. Verification cannot be turned off",
            url.host(),
            verify_reason(detail)
        ))
    } else {
        DialError::Retry(format!("TLS handshake failed: {detail}"))
    }
}

/// OpenSSL's verdict, e.g. "unable to get local issuer certificate", from native-tls's
/// "error:…:certificate verify failed:…: (verdict)"; the whole text when there is none.
fn verify_reason(detail: &str) -> &str {
    detail
        .trim_end()
        .strip_suffix(')')
        .and_then(|d| d.rsplit_once(" (").map(|(_, why)| why))
        .filter(|why| !why.is_empty())
        .unwrap_or(detail)
}

/// Classifies an HTTP answer other than 101 to the upgrade. 400/401/403/404 cannot get
/// better by retrying (bad URL, bad token, WebSocket not enabled); anything else may.
pub(crate) fn upgrade_refused(status: u16, reason: &str, url: &TailUrl) -> DialError {
    let status_text = if reason.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status} {reason}")
    };
    let hint = match status {
        401 | 403 => "the token (the tk= parameter of open_params) is not accepted",
        404 => "no stream is served at this address",
        400 => "the request was malformed",
        _ => {
            let extra = if (300..400).contains(&status) {
                " (a redirect: check the address in open_params)"
            } else {
                ""
            };
            return DialError::Retry(format!(
                "the server answered the WebSocket upgrade with {status_text}{extra}"
            ));
        }
    };
    DialError::Fatal(format!(
        "LDP refused the WebSocket upgrade of {url} with {status_text}: {hint}. Check the token in open_params, that WebSocket is enabled on the LDP data stream, and the address (OVHcloud console: your data stream → Monitor in real-time → Copy WebSocket address). Retrying cannot fix this, so the source stops"
    ))
}

/// A tungstenite error in words, never echoing frame content (invalid UTF-8 errors carry it).
pub(crate) fn describe_ws_error(e: &WsError) -> String {
    match e {
        WsError::Utf8(_) => "a text frame is not valid UTF-8".into(),
        WsError::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// TCP or TLS over TCP, as one stream type for the WebSocket, counting the bytes it reads:
/// any byte from the server, even part of a large frame, shows the connection is alive.
pub(crate) struct Transport {
    io: Io,
    bytes_read: u64,
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<BufReader<TcpStream>>>),
}

impl Transport {
    fn new(io: Io) -> Self {
        Self { io, bytes_read: 0 }
    }

    /// Bytes read from the socket so far (TLS records included).
    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = match &mut this.io {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        };
        if let Poll::Ready(Ok(n)) = &polled {
            this.bytes_read += *n as u64;
        }
        polled
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_close(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_close(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "00000000-fake-fake-fake-000000000000";

    fn url() -> TailUrl {
        TailUrl::parse(&format!("gra1.logs.ovh.com/tail/?tk={TOKEN}")).unwrap()
    }

    fn text(e: &DialError) -> &str {
        match e {
            DialError::Fatal(m) | DialError::Retry(m) => m,
        }
    }

    #[test]
    fn client_errors_at_upgrade_are_fatal_and_say_what_to_check() {
        for (status, reason) in [
            (400, "Bad Request"),
            (401, "Unauthorized"),
            (403, "Forbidden"),
            (404, "Not Found"),
        ] {
            let e = upgrade_refused(status, reason, &url());
            let DialError::Fatal(msg) = &e else {
                panic!("{status} must be fatal")
            };
            assert!(msg.contains(&format!("HTTP {status} {reason}")), "{msg}");
            for needle in ["token", "WebSocket is enabled", "address", "tk=<redacted>"] {
                assert!(msg.contains(needle), "{needle:?} missing in {msg}");
            }
            assert!(!msg.contains(TOKEN), "{msg}");
        }
    }

    #[test]
    fn throttling_server_errors_and_redirects_are_retried() {
        for status in [429, 500, 502, 503, 504, 301, 418] {
            let e = upgrade_refused(status, "", &url());
            assert!(matches!(e, DialError::Retry(_)), "{status}: {e:?}");
            assert!(text(&e).contains(&format!("HTTP {status}")));
            assert!(!text(&e).contains(TOKEN));
        }
        assert!(text(&upgrade_refused(302, "Found", &url())).contains("redirect"));
    }

    #[test]
    fn untrusted_certificates_are_fatal_other_tls_errors_retried() {
        let verify = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:ssl/statem/statem_clnt.c:2102: (self-signed certificate in certificate chain)";
        let e = tls_failure(verify, &url());
        let DialError::Fatal(msg) = &e else {
            panic!("must be fatal")
        };
        assert!(
            msg.contains("caCertFile") && msg.contains("SSL_CERT_FILE"),
            "{msg}"
        );
        assert!(
            msg.contains("for gra1.logs.ovh.com: self-signed certificate in certificate chain."),
            "{msg}"
        );
        assert!(!msg.contains("statem"), "OpenSSL internals left out: {msg}");
        assert!(matches!(
            tls_failure("unexpected EOF", &url()),
            DialError::Retry(_)
        ));
        assert!(matches!(
            tls_failure("error ... (Hostname mismatch)", &url()),
            DialError::Fatal(_)
        ));
    }

    #[test]
    fn message_limit_covers_a_twice_escaped_max_event() {
        assert_eq!(max_message_size(262_144), 64 << 20);
        assert_eq!(max_message_size(64 << 20), 256 << 20);
        assert_eq!(max_message_size(usize::MAX), usize::MAX);
    }

    #[test]
    fn utf8_errors_do_not_echo_the_frame() {
        let e = WsError::Utf8("secret payload".into());
        assert!(!describe_ws_error(&e).contains("secret"));
    }

    #[test]
    fn host_header_omits_the_default_port() {
        let req = upgrade_request(&url()).unwrap();
        assert_eq!(req.headers()["Host"], "gra1.logs.ovh.com");
        assert!(req.headers().get("Authorization").is_none());
        assert!(req.headers().get("Sec-WebSocket-Protocol").is_none());
        assert!(
            req.uri().to_string().contains(TOKEN),
            "the request itself carries the token"
        );
        let local = TailUrl::parse("ws://[::1]:9000/tail/?tk=x").unwrap();
        assert_eq!(
            upgrade_request(&local).unwrap().headers()["Host"],
            "[::1]:9000"
        );
    }
}
