//! Keeping the LDP token out of everything shown: URLs are displayed with every query value
//! but `begin`/`end` redacted, and any message that quotes user input has the input's
//! credentials (`tk=` values, userinfo) scrubbed as a last line of defence.

/// Replaces in `msg` every credential found in `input`: the values of `tk=` parameters and the
/// userinfo of an authority. The last line of defence for messages that quote the input (a
/// file path, say): whatever the shape of a paste, its token does not reach the log.
pub(super) fn scrub_secrets(msg: &str, input: &str) -> String {
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
pub(super) fn redact_path_and_query(pq: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "S3cr3tT0kenWithoutDashes";

    #[test]
    fn a_tk_value_ends_at_an_ampersand_a_fragment_or_whitespace() {
        for (input, msg) in [
            (
                format!("h/?tk={SECRET}&begin=1"),
                format!("x {SECRET}&begin=1"),
            ),
            (format!("h/?tk={SECRET}#frag"), format!("x {SECRET}#frag")),
            (
                format!("h/?tk={SECRET} trailing"),
                format!("x {SECRET} other"),
            ),
            (
                format!("h/?tk={SECRET}\ttrailing"),
                format!("x {SECRET}\tother"),
            ),
        ] {
            let out = scrub_secrets(&msg, &input);
            assert!(!out.contains(SECRET), "{input:?}: {out}");
            assert!(out.starts_with("x <redacted>"), "{input:?}: {out}");
            assert_eq!(
                out.len(),
                msg.len() - SECRET.len() + "<redacted>".len(),
                "{out}"
            );
        }
    }

    #[test]
    fn every_tk_in_any_case_is_hidden_and_the_rest_kept() {
        let input = format!("h/?TK=one{SECRET}&x=1&Tk=two{SECRET}");
        let msg = format!("a one{SECRET} b two{SECRET} c");
        assert_eq!(scrub_secrets(&msg, &input), "a <redacted> b <redacted> c");
        // An empty value hides nothing.
        assert_eq!(scrub_secrets("nothing here", "h/?tk=&a=b"), "nothing here");
        // Text around a secret, multibyte included, is kept as it is.
        let msg = format!("é{SECRET}ü");
        assert_eq!(
            scrub_secrets(&msg, &format!("?tk={SECRET}")),
            "é<redacted>ü"
        );
    }

    #[test]
    fn the_userinfo_of_an_authority_is_hidden_but_not_an_at_sign_past_it() {
        let input = format!("wss://user:{SECRET}@host/tail/");
        let msg = format!("cannot reach user:{SECRET}@host");
        assert_eq!(scrub_secrets(&msg, &input), "cannot reach <redacted>@host");
        // An @ in the path, query or fragment is not userinfo.
        for input in ["wss://host/a@b", "wss://host?a@b", "wss://host#a@b"] {
            assert_eq!(scrub_secrets(input, input), input);
        }
    }

    #[test]
    fn overlapping_or_adjacent_secrets_make_one_redaction() {
        let input = format!("?tk={SECRET}&tk={SECRET}x");
        let msg = format!("[{SECRET}{SECRET}x]");
        assert_eq!(scrub_secrets(&msg, &input), "[<redacted>]");
    }

    #[test]
    fn only_begin_and_end_show_and_only_as_digits() {
        assert_eq!(redact_path_and_query("/tail/"), "/tail/");
        assert_eq!(
            redact_path_and_query(&format!("/tail/?tk={SECRET}&begin=17&end=18")),
            "/tail/?tk=<redacted>&begin=17&end=18"
        );
        assert_eq!(
            redact_path_and_query(&format!("/?begin={SECRET}&end=1x")),
            "/?begin=<redacted>&end=<redacted>"
        );
        assert_eq!(
            redact_path_and_query(&format!("/?{SECRET}&t%6B={SECRET}&a_1=2&&")),
            "/?<redacted>&<redacted>&a_1=<redacted>&&"
        );
    }
}
