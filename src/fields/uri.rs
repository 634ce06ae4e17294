//! `ka.uri.param[k]`: a query parameter of the request URI, read as Go's `net/url` reads it
//! (`url.Parse`, then `url.ParseQuery` on its raw query), because that is what upstream does.
//! Where Go reports an error, in the URI or anywhere in its query, there is no value.
//!
//! Not ported: the check recent Go releases added that a bracketed host is an IPv6 address
//! (request URIs are paths: a host only appears in one that starts with `//`). Go's limit of
//! 10,000 query parameters (`urlmaxqueryparams`) does not apply to upstream: it is on by
//! default only for modules that declare `go 1.24` or later, and upstream's `go.mod` declares
//! `go 1.23`; so there is no limit here either.

use std::borrow::Cow;

/// The first value of query parameter `key` in `uri`, decoded (`%XX`, and `+` as a space).
/// `None` when the parameter is absent or when Go would reject the URI or its query.
pub fn query_param(uri: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let query = raw_query(uri)?;
    let mut found = None;
    for pair in query.split(|&b| b == b'&') {
        if pair.contains(&b';') {
            return None;
        }
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &b""[..]),
        };
        let k = unescape(k, Mode::QueryComponent)?;
        let v = unescape(v, Mode::QueryComponent)?;
        if found.is_none() && *k == *key {
            found = Some(v.into_owned());
        }
    }
    found
}

/// The raw query of `uri` as `url.Parse` splits it, or `None` when `url.Parse` fails.
fn raw_query(uri: &[u8]) -> Option<&[u8]> {
    let (uri, fragment) = match uri.iter().position(|&b| b == b'#') {
        Some(hash) => (&uri[..hash], &uri[hash + 1..]),
        None => (uri, &b""[..]),
    };
    if uri.iter().any(|&b| b < b' ' || b == 0x7f) {
        return None;
    }
    if uri == b"*" {
        return Some(b"");
    }
    let (scheme, rest) = split_scheme(uri)?;
    let (rest, query) = if rest.ends_with(b"?") && rest.iter().filter(|&&b| b == b'?').count() == 1
    {
        (&rest[..rest.len() - 1], &b""[..])
    } else {
        match rest.iter().position(|&b| b == b'?') {
            Some(q) => (&rest[..q], &rest[q + 1..]),
            None => (rest, &b""[..]),
        }
    };
    let mut path = rest;
    if !rest.starts_with(b"/") {
        if !scheme.is_empty() {
            // scheme:opaque
            return fragment_ok(fragment).then_some(query);
        }
        let first_segment = rest.split(|&b| b == b'/').next().unwrap_or(b"");
        if first_segment.contains(&b':') {
            return None;
        }
    }
    if (!scheme.is_empty() || !rest.starts_with(b"///")) && rest.starts_with(b"//") {
        let authority = &rest[2..];
        let (authority, after) = match authority.iter().position(|&b| b == b'/') {
            Some(slash) => (&authority[..slash], &authority[slash..]),
            None => (authority, &b""[..]),
        };
        authority_ok(authority).then_some(())?;
        path = after;
    }
    unescape(path, Mode::Path)?;
    fragment_ok(fragment).then_some(query)
}

fn fragment_ok(fragment: &[u8]) -> bool {
    fragment.is_empty() || unescape(fragment, Mode::Fragment).is_some()
}

/// Splits `scheme:rest`; no scheme unless the URI starts with a letter followed by letters,
/// digits, `+`, `-` or `.` up to a `:`. `None` for a URI starting with `:`.
fn split_scheme(uri: &[u8]) -> Option<(&[u8], &[u8])> {
    for (i, &c) in uri.iter().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return None,
            b':' => return Some((&uri[..i], &uri[i + 1..])),
            _ => break,
        }
    }
    Some((b"", uri))
}

fn authority_ok(authority: &[u8]) -> bool {
    let at = authority.iter().rposition(|&b| b == b'@');
    let host = at.map_or(authority, |at| &authority[at + 1..]);
    if !host_ok(host) {
        return false;
    }
    let Some(at) = at else { return true };
    let userinfo = &authority[..at];
    let valid = userinfo.iter().all(|&c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'%'
            )
    });
    // user and password are unescaped separately; both checks are the same `%XX` check.
    valid
        && userinfo
            .split(|&b| b == b':')
            .all(|part| unescape(part, Mode::UserPassword).is_some())
}

fn host_ok(host: &[u8]) -> bool {
    if host.first() == Some(&b'[') {
        let Some(close) = host.iter().rposition(|&b| b == b']') else {
            return false;
        };
        if !port_ok(&host[close + 1..]) {
            return false;
        }
        if let Some(zone) = host[..close].windows(3).position(|w| w == b"%25") {
            return unescape(&host[..zone], Mode::Host).is_some()
                && unescape(&host[zone..close], Mode::Zone).is_some()
                && unescape(&host[close..], Mode::Host).is_some();
        }
    } else if let Some(colon) = host.iter().rposition(|&b| b == b':') {
        if !port_ok(&host[colon..]) {
            return false;
        }
    }
    unescape(host, Mode::Host).is_some()
}

/// Empty, or `:` followed by digits only.
fn port_ok(port: &[u8]) -> bool {
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    QueryComponent,
    Fragment,
}

/// Go's `shouldEscape` for the two modes where `unescape` consults it (host and zone).
fn host_byte_needs_escape(c: u8) -> bool {
    !(c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
                | b'-'
                | b'_'
                | b'.'
                | b'~'
        ))
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Go's `unescape`: `None` where it returns an error.
fn unescape(s: &[u8], mode: Mode) -> Option<Cow<'_, [u8]>> {
    let mut percents = false;
    let mut plus = false;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                percents = true;
                let hex = s.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let byte = unhex(hex[0]) << 4 | unhex(hex[1]);
                let is_25 = hex == b"25";
                // In a host, %-escapes may only encode non-ASCII bytes (or %25 for zones).
                if mode == Mode::Host && unhex(hex[0]) < 8 && !is_25 {
                    return None;
                }
                if mode == Mode::Zone && !is_25 && byte != b' ' && host_byte_needs_escape(byte) {
                    return None;
                }
                i += 3;
            }
            b'+' => {
                plus = mode == Mode::QueryComponent;
                i += 1;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && host_byte_needs_escape(c)
                {
                    return None;
                }
                i += 1;
            }
        }
    }
    if !percents && !plus {
        return Some(Cow::Borrowed(s));
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                out.push(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
                i += 3;
                continue;
            }
            b'+' if mode == Mode::QueryComponent => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::query_param;

    fn param(uri: &str, key: &str) -> Option<String> {
        query_param(uri.as_bytes(), key.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn first_value_decoded() {
        let uri = "/api/v1/pods?watch=true&limit=500&limit=10&labelSelector=app+in+(a%2Cb)";
        assert_eq!(param(uri, "watch").as_deref(), Some("true"));
        assert_eq!(param(uri, "limit").as_deref(), Some("500"));
        assert_eq!(param(uri, "labelSelector").as_deref(), Some("app in (a,b)"));
        assert_eq!(param(uri, "nope"), None);
    }

    #[test]
    fn keys_are_decoded_before_matching() {
        let uri = "/p?a+b=1&a%20b=2&%C3%BCn%C3%AF=3&=novalue&&&flag";
        assert_eq!(param(uri, "a b").as_deref(), Some("1"));
        assert_eq!(param(uri, "ünï").as_deref(), Some("3"));
        assert_eq!(param(uri, "").as_deref(), Some("novalue"));
        assert_eq!(param(uri, "flag").as_deref(), Some(""));
    }

    #[test]
    fn fragment_and_force_query() {
        assert_eq!(param("/p?limit=10#frag?watch=true", "watch"), None);
        assert_eq!(
            param("/p?limit=10#frag?watch=true", "limit").as_deref(),
            Some("10")
        );
        assert_eq!(param("/p?", "watch"), None);
        assert_eq!(param("/p?a=1?b", "a").as_deref(), Some("1?b"));
    }

    #[test]
    fn any_number_of_parameters_is_read_as_upstream_reads_it() {
        let uri = format!("/p?{}last=1", "a=1&".repeat(20_000));
        assert_eq!(param(&uri, "last").as_deref(), Some("1"));
    }

    #[test]
    fn go_errors_give_no_value() {
        for uri in [
            "/p?a=1;b=2",
            "/p?limit=%zz",
            "/p?watch=true%",
            "/p?%=1",
            "http://[::1",
            "::",
            "/p%zz?watch=1",
            "/p?watch=1#%zz",
            "/p\n?watch=1",
            "1a:b?watch=1",
            "http://ho st/?watch=1",
            "http://host:80x/?watch=1",
            "http://us er@host/?watch=1",
            "http://h%41/?watch=1",
        ] {
            assert_eq!(param(uri, "watch"), None, "{uri:?}");
        }
    }

    #[test]
    fn absolute_and_odd_uris_that_go_accepts() {
        for uri in [
            "https://user:pass@example.com:8443/api?watch=1",
            "//host/path?watch=1",
            "///x?watch=1",
            "mailto:someone?watch=1",
            "/p ath?watch=1",
            "http://[fe80::1%25en0]:80/?watch=1",
            "http://h%C3%A9/?watch=1",
        ] {
            assert_eq!(param(uri, "watch").as_deref(), Some("1"), "{uri:?}");
        }
    }
}
