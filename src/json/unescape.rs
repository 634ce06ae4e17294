//! Decoding JSON string content: escapes resolved, validated in the same pass.
//!
//! The runs between escapes are found eight bytes at a time by the lexer's
//! [`skip_plain`] and copied whole; each escape is then decoded on its own. A 64-byte block
//! decoder with a lane-squeezing table once did this faster in isolation, but Falco's rule
//! engine, not decoding, sets the pace in the real host: see `docs/decisions.md`.

use super::lex::{skip_plain, Invalid};

type Result<T> = std::result::Result<T, Invalid>;

/// Decodes string content from `i` into `out` (appending), validating as it goes, up to the
/// closing quote or the end of `b`; returns where it stopped. A raw control character or a
/// bad escape is [`Invalid`]; so is a lone UTF-16 surrogate.
pub(crate) fn decode_into(b: &[u8], mut i: usize, out: &mut Vec<u8>) -> Result<usize> {
    // The decoded text is never longer than the text it comes from.
    out.reserve(b.len().saturating_sub(i));
    loop {
        let run = skip_plain(b, i);
        out.extend_from_slice(&b[i..run]);
        i = run;
        match b.get(i) {
            None | Some(b'"') => return Ok(i),
            Some(b'\\') => i = escape(b, i, out)?,
            Some(_) => return Err(Invalid),
        }
    }
}

/// [`decode_into`], replacing what `out` holds (its allocation is reused).
pub(crate) fn decode_over(b: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize> {
    out.clear();
    decode_into(b, i, out)
}

/// Decodes the escape whose backslash is at `i` into `out`; returns where it ends.
fn escape(b: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize> {
    let simple = match b.get(i + 1).ok_or(Invalid)? {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => {
            let (c, used) = unicode_escape(b, i)?;
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            return Ok(i + used);
        }
        _ => return Err(Invalid),
    };
    out.push(simple);
    Ok(i + 2)
}

/// The character of the `\u` escape at `i` (a surrogate pair takes two), and the bytes it
/// takes. Lone surrogates are invalid.
fn unicode_escape(b: &[u8], i: usize) -> Result<(char, usize)> {
    let hi = hex4(b.get(i + 2..i + 6).ok_or(Invalid)?)?;
    let (c, used) = if (0xD800..0xDC00).contains(&hi) {
        if b.get(i + 6..i + 8) != Some(b"\\u") {
            return Err(Invalid);
        }
        let lo = hex4(b.get(i + 8..i + 12).ok_or(Invalid)?)?;
        if !(0xDC00..0xE000).contains(&lo) {
            return Err(Invalid);
        }
        (0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00), 12)
    } else {
        (hi, 6)
    };
    Ok((char::from_u32(c).ok_or(Invalid)?, used))
}

fn hex4(s: &[u8]) -> Result<u32> {
    s.iter().try_fold(0u32, |acc, &c| {
        let d = (c as char).to_digit(16).ok_or(Invalid)?;
        Ok(acc * 16 + d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so failures replay.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Well-formed pieces strings are made of: plain text, every escape, runs of backslashes.
    const PIECES: &[&[u8]] = &[
        b"a",
        b"kind",
        b"system:serviceaccount:kube-system:",
        b"\\\"",
        b"\\\\",
        b"\\\\\\\"",
        b"\\\\\\\\\\\\\\\"",
        b"\\/",
        b"\\b\\f\\n\\r\\t",
        b"\\u00e9",
        b"\\u0022",
        b"\\u005c",
        b"\\ud83d\\ude00",
        b"\xc3\xa9",
        b"\xe2\x82\xac",
        b"\x7f",
    ];

    #[test]
    fn agrees_with_serde_json_on_generated_strings() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let mut s = Vec::new();
            for _ in 0..1 + rng.below(60) {
                s.extend_from_slice(PIECES[rng.below(PIECES.len())]);
            }
            let quoted = [b"\"".as_slice(), &s, b"\""].concat();
            let want: String = serde_json::from_slice(&quoted).unwrap();
            let mut out = b"prefix".to_vec();
            assert_eq!(decode_into(&quoted, 1, &mut out), Ok(quoted.len() - 1));
            assert_eq!(&out[..6], b"prefix", "what was in the buffer stays");
            assert_eq!(
                &out[6..],
                want.as_bytes(),
                "{}",
                String::from_utf8_lossy(&s)
            );
        }
    }

    #[test]
    fn stops_at_the_closing_quote_or_the_end() {
        let mut out = Vec::new();
        assert_eq!(decode_into(br#"ab\"c" tail"#, 0, &mut out), Ok(5));
        assert_eq!(out, br#"ab"c"#);
        out.clear();
        assert_eq!(decode_into(b"no quote", 0, &mut out), Ok(8));
        assert_eq!(out, b"no quote");
    }

    #[test]
    fn bad_escapes_control_characters_and_lone_surrogates_are_invalid() {
        for bad in [
            &b"\\x"[..],
            b"\\",
            b"\\u12",
            b"\\u12g4",
            b"\\ud83d",
            b"\\ud83dx",
            b"\\ud83d\\u0041",
            b"\\ude00",
            b"a\nb",
            b"\x1f",
        ] {
            let mut out = Vec::new();
            assert_eq!(
                decode_into(bad, 0, &mut out),
                Err(Invalid),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn decodes_doubly_quoted_documents() {
        let inner = r#"{"user":{"username":"system:node:n\u00e9"},"note":"a\"b\\c"}"#;
        let once = serde_json::to_string(inner).unwrap();
        let twice = serde_json::to_string(&once).unwrap();
        let mut out = Vec::new();
        let end = decode_into(twice.as_bytes(), 1, &mut out).unwrap();
        assert_eq!(end, twice.len() - 1);
        assert_eq!(out, once.as_bytes());
        let mut decoded = Vec::new();
        assert_eq!(decode_into(&out, 1, &mut decoded), Ok(out.len() - 1));
        assert_eq!(String::from_utf8(decoded).unwrap(), inner);
    }

    #[test]
    fn decoding_over_a_buffer_replaces_what_it_held() {
        for held in [
            Vec::new(),
            b"something longer than the text".to_vec(),
            vec![b'x'; 4],
        ] {
            let capacity = held.capacity();
            let mut out = held;
            let text = br#"a\"b\\c" and more"#;
            assert_eq!(decode_over(text, 0, &mut out), Ok(7));
            assert_eq!(out, br#"a"b\c"#);
            if capacity >= text.len() {
                assert_eq!(out.capacity(), capacity, "reused");
            }
        }
    }
}
