//! Init config (typed, validated against `config.schema.json`) and open params (source forms,
//! validation, token redaction).
//!
//! The schema file is the single source of truth for the init config: the plugin returns it
//! verbatim from its init-schema entry point, and [`InitConfig::parse`] checks keys, types and
//! ranges by reading the same document, so the two cannot drift apart.

use serde_json::{Map, Value};
use std::ffi::CStr;
use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// `config.schema.json`, NUL-terminated for the plugin API.
pub const SCHEMA_CSTR: &CStr = {
    const TEXT: &str = concat!(include_str!("../config.schema.json"), "\0");
    match CStr::from_bytes_with_nul(TEXT.as_bytes()) {
        Ok(s) => s,
        Err(_) => panic!("config.schema.json contains a NUL byte"),
    }
};

/// The schema text, without the NUL.
pub fn schema_text() -> &'static str {
    include_str!("../config.schema.json")
}

fn schema_properties() -> &'static Map<String, Value> {
    static PROPS: OnceLock<Map<String, Value>> = OnceLock::new();
    PROPS.get_or_init(|| {
        serde_json::from_str::<Value>(schema_text())
            .ok()
            .and_then(|v| v.get("properties").and_then(Value::as_object).cloned())
            .unwrap_or_default()
    })
}

/// Validated `init_config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitConfig {
    /// Largest audit event passed to Falco, in bytes.
    pub max_event_size: usize,
    /// Fallback for `ka.cluster.name`; empty means none.
    pub cluster_name: String,
    /// Keepalive Ping period.
    pub ping_interval: Duration,
    /// No frame and no Pong for this long: the connection is dead.
    pub dead_timeout: Duration,
    /// Budget for TCP connect + TLS + WebSocket upgrade.
    pub connect_timeout: Duration,
    /// First reconnect delay.
    pub reconnect_min_backoff: Duration,
    /// Largest reconnect delay.
    pub reconnect_max_backoff: Duration,
    /// Bound of the queue between the reader thread and `next_batch`, in events.
    pub max_queued_events: usize,
    /// Extra CA certificates (PEM) for wss.
    pub ca_cert_file: Option<PathBuf>,
    /// Replay the missed window after a reconnection.
    pub backfill: bool,
    /// Longest gap replayed.
    pub backfill_max: Duration,
    /// How far before the last event a replay starts, and how far outside its window its
    /// events may lie.
    pub backfill_overlap: Duration,
    /// Most events read from one replayed window.
    pub backfill_max_events: u64,
    /// Longest time spent replaying one window.
    pub backfill_timeout: Duration,
}

impl Default for InitConfig {
    fn default() -> Self {
        // Defaults come from the schema, so they are documented where they are defined.
        Self::parse("").unwrap_or_else(|_| Self::fallback())
    }
}

impl InitConfig {
    fn fallback() -> Self {
        Self {
            max_event_size: 262_144,
            cluster_name: String::new(),
            ping_interval: Duration::from_secs(5),
            dead_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            reconnect_min_backoff: Duration::from_secs(1),
            reconnect_max_backoff: Duration::from_secs(60),
            max_queued_events: 4096,
            ca_cert_file: None,
            backfill: true,
            backfill_max: Duration::from_secs(3600),
            backfill_overlap: Duration::from_secs(10),
            backfill_max_events: 1_000_000,
            backfill_timeout: Duration::from_secs(300),
        }
    }

    /// Parses and validates `init_config` text. Empty text (Falco passes it when the
    /// setting is absent) means all defaults.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Self::from_value(&Value::Object(Map::new()));
        }
        match serde_json::from_str::<Value>(text) {
            Ok(value) => Self::from_value(&value),
            Err(e) => Err(format!("init_config is not valid JSON ({e})")),
        }
    }

    /// Validates an already parsed `init_config` document.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        let given = match value {
            Value::Object(map) => map,
            Value::Null => &Map::new(),
            _ => {
                return Err(
                    "init_config must be a JSON object, like {\"maxEventSize\": 262144}".into(),
                )
            }
        };
        let props = schema_properties();
        let unknown: Vec<&str> = given
            .keys()
            .filter(|k| !props.contains_key(*k))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            let allowed: Vec<&str> = props.keys().map(String::as_str).collect();
            return Err(format!(
                "init_config has unknown key(s) {}; allowed keys are: {}",
                quote_list(&unknown),
                allowed.join(", ")
            ));
        }
        for (key, value) in given {
            check_against_schema(key, value, &props[key])?;
        }
        let int = |key: &str| -> u64 {
            given
                .get(key)
                .or_else(|| props[key].get("default"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        let string = |key: &str| -> String {
            given
                .get(key)
                .or_else(|| props[key].get("default"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let boolean = |key: &str| -> bool {
            given
                .get(key)
                .or_else(|| props[key].get("default"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let ms = |key: &str| Duration::from_millis(int(key));
        let secs = |key: &str| Duration::from_secs(int(key));
        let ca = string("caCertFile");
        let cfg = Self {
            max_event_size: int("maxEventSize") as usize,
            cluster_name: string("clusterName"),
            ping_interval: ms("pingIntervalMs"),
            dead_timeout: ms("deadTimeoutMs"),
            connect_timeout: ms("connectTimeoutMs"),
            reconnect_min_backoff: ms("reconnectMinBackoffMs"),
            reconnect_max_backoff: ms("reconnectMaxBackoffMs"),
            max_queued_events: int("maxQueuedEvents") as usize,
            ca_cert_file: (!ca.is_empty()).then(|| PathBuf::from(ca)),
            backfill: boolean("backfill"),
            backfill_max: secs("backfillMaxSeconds"),
            backfill_overlap: secs("backfillOverlapSeconds"),
            backfill_max_events: int("backfillMaxEvents"),
            backfill_timeout: ms("backfillTimeoutMs"),
        };
        if cfg.dead_timeout <= cfg.ping_interval {
            return Err(format!(
                "init_config: deadTimeoutMs ({}) must be larger than pingIntervalMs ({}), or a quiet but healthy connection would be dropped",
                cfg.dead_timeout.as_millis(),
                cfg.ping_interval.as_millis()
            ));
        }
        if cfg.reconnect_max_backoff < cfg.reconnect_min_backoff {
            return Err(format!(
                "init_config: reconnectMaxBackoffMs ({}) must be at least reconnectMinBackoffMs ({})",
                cfg.reconnect_max_backoff.as_millis(),
                cfg.reconnect_min_backoff.as_millis()
            ));
        }
        if let Some(path) = &cfg.ca_cert_file {
            if !path.is_file() {
                return Err(format!(
                    "init_config: caCertFile {:?} is not a readable file; give the path of a PEM CA bundle or leave it out",
                    path
                ));
            }
        }
        Ok(cfg)
    }
}

fn quote_list(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks one value against its schema property (the keywords our schema uses).
fn check_against_schema(key: &str, value: &Value, prop: &Value) -> Result<(), String> {
    let want = prop.get("type").and_then(Value::as_str).unwrap_or("");
    match want {
        "integer" => {
            let min = prop.get("minimum").and_then(Value::as_u64).unwrap_or(0);
            let max = prop
                .get("maximum")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            match value.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(()),
                Some(n) => Err(format!(
                    "init_config: {key} = {n} is out of range; allowed: {min} to {max}"
                )),
                None => Err(format!(
                    "init_config: {key} must be a whole number from {min} to {max}, not {value}"
                )),
            }
        }
        "string" => {
            let max = prop
                .get("maxLength")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            match value.as_str() {
                Some(s) if s.chars().count() as u64 <= max => Ok(()),
                Some(_) => Err(format!(
                    "init_config: {key} is too long; at most {max} characters"
                )),
                None => Err(format!("init_config: {key} must be a string, not {value}")),
            }
        }
        "boolean" => match value {
            Value::Bool(_) => Ok(()),
            _ => Err(format!(
                "init_config: {key} must be true or false, not {value}"
            )),
        },
        _ => Ok(()),
    }
}

/// Where an open instance reads from, parsed from `open_params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A live LDP WebSocket tail.
    Tail(TailUrl),
    /// A local file replayed once, then EOF.
    File(PathBuf),
}

/// WebSocket scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain WebSocket, loopback only.
    Ws,
    /// WebSocket over TLS.
    Wss,
}

/// A WebSocket URL whose `Display` and `Debug` redact the credential (`tk=` and userinfo).
#[derive(Clone, PartialEq, Eq)]
pub struct TailUrl {
    scheme: Scheme,
    userinfo: Option<String>,
    host: String,
    port: u16,
    /// Path and query, starting with `/`.
    path_and_query: String,
}

impl TailUrl {
    /// `ws` or `wss`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    /// Host name or IP literal (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }
    /// TCP port (default 443 for wss, 80 for ws).
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Path and query, as sent in the upgrade request.
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// The full URL, token included. Only for the HTTP request line; never display it.
    pub fn expose_secret(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        };
        let userinfo = self
            .userinfo
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!(
            "{scheme}://{userinfo}{}:{}{}",
            self.host_for_url(),
            self.port,
            self.path_and_query
        )
    }

    fn host_for_url(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// Returns a copy with extra query parameters appended (e.g. `begin`/`end` for a replay).
    pub fn with_query_params(&self, extra: &[(&str, String)]) -> TailUrl {
        let mut out = self.clone();
        for (k, v) in extra {
            let sep = if out.path_and_query.contains('?') {
                if out.path_and_query.ends_with('?') || out.path_and_query.ends_with('&') {
                    ""
                } else {
                    "&"
                }
            } else {
                "?"
            };
            out.path_and_query.push_str(&format!("{sep}{k}={v}"));
        }
        out
    }

    /// Parses a WebSocket address: `wss://...`, loopback `ws://...`, or scheme-less (wss).
    /// Errors never contain the credentials found in `text`.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::parse_unscrubbed(text).map_err(|e| scrub_secrets(&e, text))
    }

    fn parse_unscrubbed(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(text, "wss://") {
            (Scheme::Wss, rest)
        } else if let Some(rest) = strip_prefix_ci(text, "ws://") {
            (Scheme::Ws, rest)
        } else if let Some(idx) = text.find("://") {
            // Echo the scheme only when it looks like one: the text before "://" is whatever
            // was pasted, and could be a credential (found by fuzzing).
            let scheme = &text[..idx];
            let shown = if !scheme.is_empty()
                && scheme.len() <= 10
                && scheme.bytes().all(|b| b.is_ascii_alphabetic())
            {
                format!(" {scheme:?}")
            } else {
                String::new()
            };
            return Err(format!(
                "open_params: unsupported scheme{shown}; use the LDP WebSocket address (wss://<cluster>.logs.ovh.com/tail/?tk=<token>, with or without wss://) or a file path"
            ));
        } else {
            (Scheme::Wss, text)
        };
        let (authority, path_and_query) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        let path_and_query = path_and_query.split('#').next().unwrap_or("/").to_owned();
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(authority[..i].to_owned()), &authority[i + 1..]),
            None => (None, authority),
        };
        let default_port = match scheme {
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        };
        let (host, port) = split_host_port(hostport, default_port)?;
        if host.is_empty() {
            return Err("open_params: the WebSocket address has no host; expected e.g. gra1.logs.ovh.com/tail/?tk=<token>".into());
        }
        let host_ok = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        if !host_ok {
            return Err("open_params: the host of the WebSocket address is not a valid host name; expected e.g. gra1.logs.ovh.com/tail/?tk=<token>".into());
        }
        if path_and_query
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err("open_params: the WebSocket address contains spaces or control characters; paste it exactly as the OVHcloud console gives it".into());
        }
        let url = TailUrl {
            scheme,
            userinfo,
            host,
            port,
            path_and_query,
        };
        if scheme == Scheme::Ws && !is_loopback(&url.host) {
            return Err(format!(
                "open_params: plain ws:// is only allowed to a loopback host (127.0.0.0/8, ::1, localhost), for local tests; use wss:// ({url})"
            ));
        }
        Ok(url)
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    if text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&text[prefix.len()..])
    } else {
        None
    }
}

fn split_host_port(hostport: &str, default_port: u16) -> Result<(String, u16), String> {
    // The text is not echoed: in a mangled paste it could be anything, a token included.
    let bad_port = |_: &str| {
        "open_params: the port in the WebSocket address is not a number from 1 to 65535".to_owned()
    };
    if let Some(rest) = hostport.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err("open_params: unclosed '[' in the WebSocket address host".into());
        };
        let host = rest[..end].to_owned();
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad_port(p))?,
            None if after.is_empty() => default_port,
            None => return Err("open_params: unexpected text after ']' in the host".into()),
        };
        return Ok((host, port));
    }
    match hostport.rsplit_once(':') {
        Some((host, p)) => {
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad_port(p))?;
            Ok((host.to_ascii_lowercase(), port))
        }
        None => Ok((hostport.to_ascii_lowercase(), default_port)),
    }
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// Replaces in `msg` every credential found in `input`: the values of `tk=` parameters and the
/// userinfo of an authority. The last line of defence for messages that quote the input (a
/// file path, say): whatever the shape of a paste, its token does not reach the log.
fn scrub_secrets(msg: &str, input: &str) -> String {
    let mut secrets: Vec<&str> = Vec::new();
    let lower = input.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find("tk=") {
        let start = from + pos + 3;
        let end = input[start..]
            .find(|c: char| c == '&' || c == '#' || c.is_whitespace())
            .map_or(input.len(), |e| start + e);
        secrets.push(&input[start..end]);
        from = start;
    }
    if let Some(after) = input.find("://").map(|i| &input[i + 3..]) {
        let authority = after.split(['/', '?', '#']).next().unwrap_or("");
        if let Some(at) = authority.rfind('@') {
            secrets.push(&authority[..at]);
        }
    }
    // Mark every occurrence in the original message, then rebuild it once: replacing secret
    // by secret would search text already redacted, and grows without bound when secrets are
    // short (found by fuzzing: 2 GB from a 233-byte paste).
    let mut hidden = vec![false; msg.len()];
    for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
        for (at, _) in msg.match_indices(secret) {
            hidden[at..at + secret.len()]
                .iter_mut()
                .for_each(|h| *h = true);
        }
    }
    let mut out = String::with_capacity(msg.len());
    let mut in_secret = false;
    for (i, c) in msg.char_indices() {
        if hidden[i] {
            if !in_secret {
                out.push_str("<redacted>");
            }
            in_secret = true;
        } else {
            out.push(c);
            in_secret = false;
        }
    }
    out
}

/// Query parameters whose values are shown; every other value is redacted. An allow-list,
/// not a deny-list: `??tk=`, `t%6B=` or a token pasted without a name must not slip through.
fn is_public_param(name: &str) -> bool {
    matches!(name, "begin" | "end")
}

/// Redacts credentials in a path-and-query string.
fn redact_path_and_query(pq: &str) -> String {
    let Some((path, query)) = pq.split_once('?') else {
        return pq.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if is_public_param(k) && v.bytes().all(|b| b.is_ascii_digit()) => {
                kv.to_owned()
            }
            Some((k, _)) if k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
                format!("{k}=<redacted>")
            }
            _ if kv.is_empty() => String::new(),
            _ => "<redacted>".to_owned(),
        })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

impl fmt::Display for TailUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        };
        let userinfo = if self.userinfo.is_some() {
            "<redacted>@"
        } else {
            ""
        };
        let default_port = match self.scheme {
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        };
        let port = if self.port != default_port {
            format!(":{}", self.port)
        } else {
            String::new()
        };
        let shown = format!(
            "{scheme}://{userinfo}{}{port}{}",
            self.host_for_url(),
            redact_path_and_query(&self.path_and_query)
        );
        // Found by fuzzing: a pasted token can also stand in a parameter's name.
        f.write_str(&scrub_secrets(&shown, &self.expose_secret()))
    }
}

impl fmt::Debug for TailUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TailUrl({self})")
    }
}

impl SourceSpec {
    /// Parses `open_params`. Errors say what is wrong and never contain the token.
    pub fn parse(params: Option<&str>) -> Result<Self, String> {
        let text = params.unwrap_or("");
        Self::parse_unscrubbed(text).map_err(|e| scrub_secrets(&e, text))
    }

    fn parse_unscrubbed(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("open_params is empty: set it to the LDP WebSocket address of the audit-log stream (e.g. gra1.logs.ovh.com/tail/?tk=<token>, from the OVHcloud console: Monitor in real-time → Copy WebSocket address), or to a file to replay".into());
        }
        if let Some(rest) = strip_prefix_ci(text, "file://") {
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            return Self::file(PathBuf::from(path));
        }
        let looks_like_path = text.starts_with('/')
            || text.starts_with("./")
            || text.starts_with("../")
            || (!text.contains("://")
                && !text.contains('?')
                && std::path::Path::new(text).is_file());
        if looks_like_path {
            return Self::file(PathBuf::from(text));
        }
        TailUrl::parse(text).map(SourceSpec::Tail)
    }

    fn file(path: PathBuf) -> Result<Self, String> {
        if path.as_os_str().is_empty() {
            return Err(
                "open_params: file:// needs a path, e.g. file:///var/log/audit.jsonl".into(),
            );
        }
        if !path.is_file() {
            return Err(format!(
                "open_params: {} is not a readable file; give the path of a JSON-lines replay file, or the LDP WebSocket address",
                path.display()
            ));
        }
        Ok(SourceSpec::File(path))
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Tail(url) => write!(f, "{url}"),
            SourceSpec::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "00000000-fake-fake-fake-000000000000";

    #[test]
    fn defaults_come_from_the_schema() {
        let cfg = InitConfig::parse("").unwrap();
        assert_eq!(cfg.max_event_size, 262_144);
        assert_eq!(cfg.ping_interval, Duration::from_secs(5));
        assert_eq!(cfg.reconnect_max_backoff, Duration::from_secs(60));
        assert!(cfg.backfill);
        assert_eq!(cfg.backfill_max, Duration::from_secs(3600));
        assert_eq!(cfg.backfill_overlap, Duration::from_secs(10));
        assert_eq!(cfg.backfill_timeout, Duration::from_secs(300));
        assert_eq!(cfg.backfill_max_events, 1_000_000);
        assert_eq!(InitConfig::parse("{}").unwrap(), cfg);
        assert_eq!(
            InitConfig::fallback(),
            cfg,
            "fallback and schema defaults agree"
        );
        let off = InitConfig::parse(r#"{"backfill": false}"#).unwrap();
        assert!(!off.backfill);
        let err = InitConfig::parse(r#"{"backfill": "yes"}"#).unwrap_err();
        assert!(err.contains("true or false"), "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err =
            InitConfig::parse(r#"{"maxEventSize": 2048, "bogus": 1, "other": 2}"#).unwrap_err();
        assert!(err.contains("\"bogus\""), "{err}");
        assert!(err.contains("\"other\""), "{err}");
        assert!(err.contains("maxEventSize"), "{err}");
    }

    #[test]
    fn out_of_range_says_the_range() {
        let err = InitConfig::parse(r#"{"maxEventSize": 10}"#).unwrap_err();
        assert!(err.contains("1024 to 67108864"), "{err}");
        let err = InitConfig::parse(r#"{"pingIntervalMs": "5"}"#).unwrap_err();
        assert!(err.contains("whole number"), "{err}");
        let err =
            InitConfig::parse(r#"{"pingIntervalMs": 5000, "deadTimeoutMs": 4000}"#).unwrap_err();
        assert!(err.contains("deadTimeoutMs"), "{err}");
    }

    #[test]
    fn scheme_less_address_means_wss() {
        let spec = SourceSpec::parse(Some(&format!("gra1.logs.ovh.com/tail/?tk={TOKEN}"))).unwrap();
        let SourceSpec::Tail(url) = spec else {
            panic!("not a tail")
        };
        assert_eq!(url.scheme(), Scheme::Wss);
        assert_eq!(url.host(), "gra1.logs.ovh.com");
        assert_eq!(url.port(), 443);
        assert_eq!(url.path_and_query(), format!("/tail/?tk={TOKEN}"));
        assert_eq!(
            url.to_string(),
            "wss://gra1.logs.ovh.com/tail/?tk=<redacted>"
        );
        assert!(!format!("{url:?}").contains(TOKEN));
    }

    #[test]
    fn userinfo_and_token_are_redacted() {
        let url = TailUrl::parse(&format!(
            "wss://me:{TOKEN}@h.example:8443/tail/?a=1&tk={TOKEN}"
        ))
        .unwrap();
        let shown = url.to_string();
        assert!(!shown.contains(TOKEN), "{shown}");
        assert_eq!(
            shown,
            "wss://<redacted>@h.example:8443/tail/?a=<redacted>&tk=<redacted>"
        );
        assert!(url.expose_secret().contains(TOKEN));
    }

    #[test]
    fn only_begin_and_end_values_are_shown() {
        // Found by fuzzing: a doubled '?' made the parameter name "?tk", which a deny-list
        // of names missed.
        for pq in [
            format!("/tail/??tk={TOKEN}"),
            format!("/tail/?t%6B={TOKEN}"),
            format!("/tail/?{TOKEN}"),
            format!("/tail/?x=1&tk={TOKEN}&begin=10"),
            format!("/tail/?begin={TOKEN}"),
            format!("/tail/?&&tk={TOKEN}"),
            format!("/tail/?{TOKEN}x=1&tk={TOKEN}"),
        ] {
            let url = TailUrl::parse(&format!("wss://h{pq}")).unwrap();
            assert!(!url.to_string().contains(TOKEN), "{pq} shown as {url}");
        }
        let url = TailUrl::parse("wss://h/tail/?tk=x&begin=10&end=20").unwrap();
        assert_eq!(
            url.to_string(),
            "wss://h/tail/?tk=<redacted>&begin=10&end=20"
        );
    }

    #[test]
    fn ws_only_to_loopback() {
        assert!(TailUrl::parse("ws://127.0.0.1:9000/tail/?tk=x").is_ok());
        assert!(TailUrl::parse("ws://[::1]:9000/").is_ok());
        assert!(TailUrl::parse("ws://localhost/").is_ok());
        let err = TailUrl::parse(&format!("ws://gra1.logs.ovh.com/tail/?tk={TOKEN}")).unwrap_err();
        assert!(err.contains("loopback"), "{err}");
        assert!(!err.contains(TOKEN), "{err}");
    }

    #[test]
    fn refused_forms_say_what_is_wrong() {
        assert!(SourceSpec::parse(None).unwrap_err().contains("empty"));
        assert!(SourceSpec::parse(Some("  ")).unwrap_err().contains("empty"));
        let err =
            SourceSpec::parse(Some(&format!("https://gra1.logs.ovh.com/?tk={TOKEN}"))).unwrap_err();
        assert!(err.contains("unsupported scheme"), "{err}");
        assert!(!err.contains(TOKEN), "{err}");
        // Found by fuzzing: no part of a mangled paste is echoed back with its token.
        for pasted in [
            format!("h:2{TOKEN}/x?tk={TOKEN}"),
            format!("ws://{TOKEN}/?tk={TOKEN}"),
            format!("/tail/?tk={TOKEN}"),
            format!("wss://bad host/?tk={TOKEN}"),
            "\u{4}\u{4}?z./<tk=e&cttk=c&ted/?tk=?tk=d&tk=r&tk=a&tk=<".repeat(20),
        ] {
            let err = SourceSpec::parse(Some(&pasted)).unwrap_err();
            assert!(!err.contains(TOKEN), "{pasted}: {err}");
        }
        let err = SourceSpec::parse(Some(&format!("{TOKEN}://h/"))).unwrap_err();
        assert!(err.contains("unsupported scheme;"), "{err}");
        assert!(!err.contains(TOKEN), "{err}");
        let err = SourceSpec::parse(Some("wss://host:99999/")).unwrap_err();
        assert!(err.contains("port"), "{err}");
        let err = SourceSpec::parse(Some("/no/such/file.jsonl")).unwrap_err();
        assert!(err.contains("not a readable file"), "{err}");
        let err = SourceSpec::parse(Some("wss://bad host/")).unwrap_err();
        assert!(err.contains("spaces") || err.contains("host"), "{err}");
    }

    #[test]
    fn ws_is_refused_to_every_address_but_loopback() {
        for url in [
            "ws://127.0.0.1:9000/",
            "ws://127.8.9.10/",
            "ws://[::1]:9000/",
            "ws://localhost/",
            "ws://LOCALHOST:1/",
        ] {
            assert!(TailUrl::parse(url).is_ok(), "{url}");
        }
        for url in [
            "ws://8.8.8.8/tail/",
            "ws://10.1.2.3/tail/",
            "ws://192.168.1.10:8080/",
            "ws://169.254.169.254/",
            "ws://0.0.0.0/",
            "ws://[2001:db8::1]/",
            "ws://[::ffff:8.8.8.8]/",
            "ws://localhost.example.com/",
            "ws://127.0.0.1.nip.io/",
        ] {
            let err = TailUrl::parse(url).unwrap_err();
            assert!(err.contains("loopback"), "{url}: {err}");
        }
        // wss:// goes anywhere.
        assert!(TailUrl::parse("wss://8.8.8.8/").is_ok());
    }

    #[test]
    fn a_token_without_dashes_is_never_shown() {
        // Path redaction alone hides dashed UUIDs; a plain token must be scrubbed as well,
        // wherever it stands: as the tk value and as another parameter's name.
        let token = "S3cr3tT0ken";
        for text in [
            format!("wss://gra1.logs.ovh.com/tail/?tk={token}"),
            format!("wss://gra1.logs.ovh.com/tail/?tk={token}&{token}=1"),
            format!("wss://gra1.logs.ovh.com/tail/?{token}&tk={token}"),
            format!("gra1.logs.ovh.com/tail/?TK={token}"),
        ] {
            let url = TailUrl::parse(&text).unwrap();
            assert!(url.expose_secret().contains(token), "{text}");
            for shown in [url.to_string(), format!("{url:?}")] {
                assert!(!shown.contains(token), "{text} shown as {shown}");
                assert!(shown.contains("<redacted>"), "{shown}");
            }
            let replay = url.with_query_params(&[("begin", "10".into()), ("end", "20".into())]);
            let shown = replay.to_string();
            assert!(!shown.contains(token), "{shown}");
            assert!(shown.contains("begin=10&end=20"), "{shown}");
        }
    }

    #[test]
    fn file_forms() {
        let path = std::env::temp_dir().join(format!(
            "k8saudit-ovh-config-test-{}.jsonl",
            std::process::id()
        ));
        std::fs::write(&path, "{}\n").unwrap();
        let p = path.to_str().unwrap();
        assert_eq!(
            SourceSpec::parse(Some(p)).unwrap(),
            SourceSpec::File(path.clone())
        );
        assert_eq!(
            SourceSpec::parse(Some(&format!("file://{p}"))).unwrap(),
            SourceSpec::File(path.clone())
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn query_params_can_be_appended() {
        let url = TailUrl::parse("ws://127.0.0.1:1/tail/?tk=x").unwrap();
        let url = url.with_query_params(&[("begin", "10".into()), ("end", "20".into())]);
        assert_eq!(url.path_and_query(), "/tail/?tk=x&begin=10&end=20");
    }
}
