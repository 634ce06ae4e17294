//! The WebSocket address of an LDP stream ([`TailUrl`]): its forms (`wss://`, loopback
//! `ws://`, or the Go plugin's form without a scheme), their checks, and a `Display` that never
//! shows the token.

use super::redact::{redact_path_and_query, scrub_secrets};
use std::fmt;

/// WebSocket scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain WebSocket, loopback only.
    Ws,
    /// WebSocket over TLS.
    Wss,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }
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
        let scheme = self.scheme.name();
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
        let (scheme, rest) = split_scheme(text.trim())?;
        let (authority, path_and_query) = split_authority(rest);
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(authority[..i].to_owned()), &authority[i + 1..]),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport, scheme.default_port())?;
        check_host(&host)?;
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

/// The scheme (`wss` when there is none) and what follows it.
fn split_scheme(text: &str) -> Result<(Scheme, &str), String> {
    if let Some(rest) = strip_prefix_ci(text, "wss://") {
        return Ok((Scheme::Wss, rest));
    }
    if let Some(rest) = strip_prefix_ci(text, "ws://") {
        return Ok((Scheme::Ws, rest));
    }
    let Some(idx) = text.find("://") else {
        return Ok((Scheme::Wss, text));
    };
    // Echo the scheme only when it looks like one: the text before "://" is whatever was
    // pasted, and could be a credential (found by fuzzing).
    let scheme = &text[..idx];
    let shown = if !scheme.is_empty()
        && scheme.len() <= 10
        && scheme.bytes().all(|b| b.is_ascii_alphabetic())
    {
        format!(" {scheme:?}")
    } else {
        String::new()
    };
    Err(format!(
        "open_params: unsupported scheme{shown}; use the LDP WebSocket address (wss://<cluster>.logs.ovh.com/tail/?tk=<token>, with or without wss://) or a file path"
    ))
}

/// The authority and the path and query (starting with `/`, without a fragment).
fn split_authority(rest: &str) -> (&str, String) {
    let (authority, path_and_query) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let path_and_query = path_and_query.split('#').next().unwrap_or("/").to_owned();
    (authority, path_and_query)
}

fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("open_params: the WebSocket address has no host; expected e.g. gra1.logs.ovh.com/tail/?tk=<token>".into());
    }
    let host_ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if !host_ok {
        return Err("open_params: the host of the WebSocket address is not a valid host name; expected e.g. gra1.logs.ovh.com/tail/?tk=<token>".into());
    }
    Ok(())
}

pub(super) fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
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

impl fmt::Display for TailUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.scheme.name();
        let userinfo = if self.userinfo.is_some() {
            "<redacted>@"
        } else {
            ""
        };
        let port = if self.port != self.scheme.default_port() {
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

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "00000000-fake-fake-fake-000000000000";

    #[test]
    fn scheme_less_address_means_wss() {
        let spec = TailUrl::parse(&format!("gra1.logs.ovh.com/tail/?tk={TOKEN}")).unwrap();
        let url = spec;
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
    fn query_params_can_be_appended() {
        let url = TailUrl::parse("ws://127.0.0.1:1/tail/?tk=x").unwrap();
        let url = url.with_query_params(&[("begin", "10".into()), ("end", "20".into())]);
        assert_eq!(url.path_and_query(), "/tail/?tk=x&begin=10&end=20");
        for (path, want) in [
            ("/tail/", "/tail/?begin=10"),
            ("/tail/?", "/tail/?begin=10"),
            ("/tail/?tk=x&", "/tail/?tk=x&begin=10"),
        ] {
            let url = TailUrl::parse(&format!("ws://127.0.0.1:1{path}")).unwrap();
            let url = url.with_query_params(&[("begin", "10".into())]);
            assert_eq!(url.path_and_query(), want, "{path}");
        }
    }

    #[test]
    fn an_unsupported_scheme_is_named_only_when_it_looks_like_one() {
        let err = TailUrl::parse("https://h/tail/").unwrap_err();
        assert!(err.contains("unsupported scheme \"https\";"), "{err}");
        let err = TailUrl::parse("abcdefghij://h/").unwrap_err();
        assert!(err.contains("scheme \"abcdefghij\";"), "ten letters: {err}");
        for pasted in ["abcdefghijk://h/", "h2://h/", "://h/", "a-b://h/"] {
            let err = TailUrl::parse(pasted).unwrap_err();
            assert!(err.contains("unsupported scheme;"), "{pasted}: {err}");
        }
    }

    #[test]
    fn ports_are_1_to_65535_bracketed_or_not() {
        for (text, port) in [
            ("wss://h:1/", 1),
            ("wss://h:65535/", 65535),
            ("wss://[2001:db8::1]:1/", 1),
            ("wss://[2001:db8::1]/", 443),
            ("ws://[::1]:8080/", 8080),
        ] {
            assert_eq!(TailUrl::parse(text).unwrap().port(), port, "{text}");
        }
        for text in [
            "wss://h:0/",
            "wss://[2001:db8::1]:0/",
            "wss://h:65536/",
            "wss://h:x/",
        ] {
            let err = TailUrl::parse(text).unwrap_err();
            assert!(err.contains("port"), "{text}: {err}");
        }
        let err = TailUrl::parse("wss://[2001:db8::1]x/").unwrap_err();
        assert!(err.contains("after ']'"), "{err}");
        let err = TailUrl::parse("wss://[2001:db8::1/").unwrap_err();
        assert!(err.contains("unclosed '['"), "{err}");
    }

    #[test]
    fn a_query_straight_after_the_host_gets_a_root_path() {
        let url = TailUrl::parse("gra1.logs.ovh.com?tk=x").unwrap();
        assert_eq!(url.host(), "gra1.logs.ovh.com");
        assert_eq!(url.path_and_query(), "/?tk=x");
        let url = TailUrl::parse("gra1.logs.ovh.com/tail/?tk=x#frag").unwrap();
        assert_eq!(url.path_and_query(), "/tail/?tk=x");
        let url = TailUrl::parse("gra1.logs.ovh.com").unwrap();
        assert_eq!(url.path_and_query(), "/");
    }

    #[test]
    fn spaces_and_control_characters_in_the_path_are_refused() {
        for text in [
            "wss://h/tail/ x?tk=1",
            "wss://h/tail/?tk=1 2",
            "wss://h/tail/\u{7}?tk=1",
            "wss://h/tail/?tk=\u{0}",
        ] {
            let err = TailUrl::parse(text).unwrap_err();
            assert!(
                err.contains("spaces or control characters"),
                "{text:?}: {err}"
            );
        }
    }
}
