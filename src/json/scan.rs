//! Walking a JSON document without building it: an object's members or an array's elements
//! as byte ranges, with the one string that carries the next layer decoded in the same pass
//! that validates it. The frame pipeline touches three nested JSON layers per event (envelope,
//! GELF, audit payload); a tape ([`super::Tape`]) would validate each big string once
//! and decode it again, which costs a third of the throughput here.
//!
//! The lexer (values, numbers, strings, depth) is [`super::lex`]'s, so strictness is the
//! same: RFC 8259, no NaN, no `+1`, no raw control characters, no trailing text. One
//! difference, on purpose: decoding a string here rejects a lone UTF-16 surrogate, where
//! `json` keeps it as text to match upstream's field values; a transport layer that does not
//! decode to valid text is not one we can read.

use super::lex::{self, skip_plain, skip_ws, MAX_DEPTH};
use super::parse;
use super::unescape::{decode_into, decode_over};
use std::ops::Range;

pub use super::lex::Invalid;

type Result<T> = std::result::Result<T, Invalid>;

/// The first byte of `text` that is not whitespace.
pub fn first_byte(text: &str) -> Option<u8> {
    let b = text.as_bytes();
    b.get(skip_ws(b, 0)).copied()
}

/// Steps over the value at `i`, validating it (the tape parser's grammar); returns where it
/// ends.
fn skip_value(b: &[u8], i: usize, depth: usize) -> Result<usize> {
    Ok(parse::skip_value(b, i, depth)?)
}

/// Range of the single JSON value `text` holds, without surrounding whitespace.
pub fn document(text: &str) -> Result<Range<usize>> {
    let b = text.as_bytes();
    let start = skip_ws(b, 0);
    let end = skip_value(b, start, 1)?;
    if skip_ws(b, end) != b.len() {
        return Err(Invalid);
    }
    Ok(start..end)
}

/// One object member: the key's raw text (between the quotes, still escaped) and the value's
/// range.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// Key text between the quotes, escapes not decoded.
    pub raw_key: &'a str,
    /// Whether the key contains escapes.
    pub key_escaped: bool,
    /// The value, without surrounding whitespace.
    pub value: Range<usize>,
}

impl Member<'_> {
    /// Whether the key is `name` (keys with escapes are decoded to compare).
    pub fn key_is(&self, name: &str) -> bool {
        if self.key_escaped {
            unescape_raw(self.raw_key).is_ok_and(|k| k == name)
        } else {
            self.raw_key == name
        }
    }
}

/// Iterates the members of the object at `start`, validating as it goes. After the last
/// member it checks the closing brace; an error ends the iteration.
pub struct Members<'a> {
    text: &'a str,
    b: &'a [u8],
    start: usize,
    i: usize,
    depth: usize,
    state: IterState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum IterState {
    First,
    Next,
    Done,
}

impl IterState {
    /// Turns one step into an iterator item; the end or an error ends the iteration for good.
    fn finish_on<T>(&mut self, step: Result<Option<T>>) -> Option<Result<T>> {
        match step {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => {
                *self = IterState::Done;
                None
            }
            Err(e) => {
                *self = IterState::Done;
                Some(Err(e))
            }
        }
    }
}

impl<'a> Members<'a> {
    fn at(text: &'a str, start: usize, depth: usize) -> Result<Self> {
        let b = text.as_bytes();
        if b.get(start) != Some(&b'{') || depth > MAX_DEPTH {
            return Err(Invalid);
        }
        Ok(Self {
            text,
            b,
            start,
            i: start + 1,
            depth,
            state: IterState::First,
        })
    }

    /// Members of the object `text[range]` (a range from [`document`] or a member value).
    pub fn of(text: &'a str, range: Range<usize>) -> Result<Self> {
        Self::at(text.get(..range.end).ok_or(Invalid)?, range.start, 1)
    }

    /// Members of the object that `text` holds as its whole document. After iterating,
    /// [`Members::finish`] checks that only whitespace follows.
    pub fn document(text: &'a str) -> Result<Self> {
        Self::at(text, skip_ws(text.as_bytes(), 0), 1)
    }

    /// The object's range, once iterated to its closing brace.
    pub fn span(&self) -> Range<usize> {
        self.start..self.i
    }

    /// After the last member: whether the rest of the input is only whitespace.
    pub fn finish(&self) -> Result<()> {
        if self.state == IterState::Done && skip_ws(self.b, self.i) == self.b.len() {
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// Like `next`, but when `decode(key)` says so and the value is a string, the value is
    /// decoded in the same pass that validates it (returned beside the member).
    pub fn next_decoding(
        &mut self,
        decode: impl Fn(&Member<'a>) -> bool,
    ) -> Option<Result<(Member<'a>, Option<String>)>> {
        self.next_decoding_into(decode, &mut Vec::new())
    }

    /// [`Members::next_decoding`], decoding into `buf` (taken when a value is decoded: a
    /// buffer to reuse, whose capacity the decoded string keeps).
    pub fn next_decoding_into(
        &mut self,
        decode: impl Fn(&Member<'a>) -> bool,
        buf: &mut Vec<u8>,
    ) -> Option<Result<(Member<'a>, Option<String>)>> {
        let step = self.step_with(&decode, buf);
        self.state.finish_on(step)
    }

    fn step(&mut self) -> Result<Option<Member<'a>>> {
        Ok(self
            .step_with(&|_: &Member<'a>| false, &mut Vec::new())?
            .map(|(m, _)| m))
    }

    fn step_with(
        &mut self,
        decode: &dyn Fn(&Member<'a>) -> bool,
        buf: &mut Vec<u8>,
    ) -> Result<Option<(Member<'a>, Option<String>)>> {
        if self.state == IterState::Done {
            return Ok(None);
        }
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        match (self.state, b.get(i)) {
            (_, Some(b'}')) => {
                self.i = i + 1;
                return Ok(None);
            }
            (IterState::Next, Some(b',')) => i = skip_ws(b, i + 1),
            (IterState::First, Some(b'"')) => {}
            _ => return Err(Invalid),
        }
        if b.get(i) != Some(&b'"') {
            return Err(Invalid);
        }
        let (key_end, key_escaped) = lex::string(b, i)?;
        // Both ends are ASCII quotes: character boundaries, so this never fails.
        let raw_key = self.text.get(i + 1..key_end - 1).ok_or(Invalid)?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err(Invalid);
        }
        let vstart = skip_ws(b, i + 1);
        let mut member = Member {
            raw_key,
            key_escaped,
            value: vstart..vstart,
        };
        let (vend, decoded) = if b.get(vstart) == Some(&b'"') && decode(&member) {
            let (end, text) = decode_string(b, vstart, std::mem::take(buf))?;
            (end, Some(text))
        } else {
            (skip_value(b, vstart, self.depth + 1)?, None)
        };
        member.value = vstart..vend;
        self.i = vend;
        self.state = IterState::Next;
        Ok(Some((member, decoded)))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<Member<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let step = self.step();
        self.state.finish_on(step)
    }
}

/// One array element's range.
#[derive(Debug, Clone)]
pub struct Element {
    /// The element, without surrounding whitespace.
    pub value: Range<usize>,
}

/// Iterates the elements of the array at `start`, validating as it goes.
pub struct Elements<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
    state: IterState,
}

impl<'a> Elements<'a> {
    fn at(b: &'a [u8], start: usize, depth: usize) -> Result<Self> {
        if b.get(start) != Some(&b'[') || depth > MAX_DEPTH {
            return Err(Invalid);
        }
        Ok(Self {
            b,
            i: start + 1,
            depth,
            state: IterState::First,
        })
    }

    /// Elements of the array `text[range]`.
    pub fn of(text: &'a str, range: Range<usize>) -> Result<Self> {
        Self::at(&text.as_bytes()[..range.end], range.start, 1)
    }

    fn step(&mut self) -> Result<Option<Element>> {
        if self.state == IterState::Done {
            return Ok(None);
        }
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        match (self.state, b.get(i)) {
            (IterState::First | IterState::Next, Some(b']')) => {
                self.i = i + 1;
                return Ok(None);
            }
            (IterState::Next, Some(b',')) => i = skip_ws(b, i + 1),
            (IterState::First, Some(_)) => {}
            _ => return Err(Invalid),
        }
        let end = skip_value(b, i, self.depth + 1)?;
        self.i = end;
        self.state = IterState::Next;
        Ok(Some(Element { value: i..end }))
    }
}

impl Iterator for Elements<'_> {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Self::Item> {
        let step = self.step();
        self.state.finish_on(step)
    }
}

/// Decodes the JSON string literal `text[range]` (quotes included), validating it.
pub fn string(text: &str, range: Range<usize>) -> Result<std::borrow::Cow<'_, str>> {
    let lit = text.get(range).ok_or(Invalid)?;
    let inner = lit
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or(Invalid)?;
    // No quote, backslash or control character: the text is the value.
    if skip_plain(inner.as_bytes(), 0) == inner.len() {
        return Ok(std::borrow::Cow::Borrowed(inner));
    }
    unescape_raw(inner).map(std::borrow::Cow::Owned)
}

/// Decodes escapes in string content (without quotes). Lone surrogates are invalid.
fn unescape_raw(s: &str) -> Result<String> {
    let mut out = Vec::new();
    let end = decode_into(s.as_bytes(), 0, &mut out)?;
    if end != s.len() {
        return Err(Invalid);
    }
    String::from_utf8(out).map_err(|_| Invalid)
}

/// Decodes the string literal starting at the quote at `i` into `out` (replacing it);
/// returns its end (after the closing quote) and its text.
fn decode_string(b: &[u8], i: usize, mut out: Vec<u8>) -> Result<(usize, String)> {
    let end = decode_over(b, i + 1, &mut out)?;
    if b.get(end) != Some(&b'"') {
        return Err(Invalid);
    }
    Ok((end + 1, String::from_utf8(out).map_err(|_| Invalid)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_are_validated_even_without_escapes() {
        // Found by the frame fuzz target: a raw control character was passed through.
        for bad in ["\"\r\"", "\"a\u{1f}\"", "\"a\"b\"", "\"\\\""] {
            assert_eq!(string(bad, 0..bad.len()), Err(Invalid), "{bad:?}");
            assert!(serde_json::from_str::<String>(bad).is_err());
        }
        assert_eq!(string("\"plain é\"", 0..10).unwrap(), "plain é");
    }

    #[test]
    fn accepts_what_serde_json_accepts() {
        for ok in [
            "{}",
            "[]",
            " {\"a\" : [1, -0.5e+3, true, false, null, \"x\\u00e9\\n\"], \"b\":{}} ",
            "\"\\ud83d\\ude00\"",
            "0",
            "-1.25E-7",
            "[[[]]]",
            "{\"a\":\"0123456789abcdef0123456789\"}",
        ] {
            assert!(document(ok).is_ok(), "{ok}");
            assert!(
                serde_json::from_str::<serde_json::Value>(ok).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn rejects_what_strict_json_rejects() {
        for bad in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "NaN",
            "+1",
            "01",
            "1.",
            ".5",
            "1e",
            "tru",
            "\"\\x\"",
            "\"a\u{1}b\"",
            "{} {}",
            "[1 2]",
            "{\"a\":1 \"b\":2}",
            "\"unterminated",
            "\"\\u12g4\"",
            "'x'",
            "[,1]",
            "{,}",
        ] {
            assert!(document(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(document(&deep).is_err());
        let ok = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(document(&ok).is_ok());
    }

    #[test]
    fn members_and_elements() {
        let text = r#" {"kind":"EventList", "items" : [ {"a":1}, [2], "3" ], "k\u0069nd":0} "#;
        let doc = document(text).unwrap();
        let members: Vec<_> = Members::of(text, doc)
            .unwrap()
            .map(|m| m.unwrap())
            .collect();
        assert_eq!(members.len(), 3);
        assert!(members[0].key_is("kind"));
        assert_eq!(string(text, members[0].value.clone()).unwrap(), "EventList");
        assert!(members[2].key_is("kind"), "escaped key decodes");
        let items: Vec<_> = Elements::of(text, members[1].value.clone())
            .unwrap()
            .map(|e| &text[e.unwrap().value])
            .collect();
        assert_eq!(items, [r#"{"a":1}"#, "[2]", "\"3\""]);
    }

    #[test]
    fn iteration_ends_for_good_after_the_end_or_an_error() {
        let text = "[1,}";
        let mut elements = Elements::of(text, 0..text.len()).unwrap();
        assert!(matches!(elements.next(), Some(Ok(_))));
        assert!(matches!(elements.next(), Some(Err(Invalid))));
        assert!(elements.next().is_none());
        let text = "{}";
        let mut members = Members::document(text).unwrap();
        assert!(members.next().is_none());
        assert!(members.next().is_none());
        members.finish().unwrap();
    }

    #[test]
    fn members_can_decode_values_in_the_same_pass() {
        let text = r#"{"a":"x\ty","b":"keep","c":{"d":"e"}}"#;
        let mut members = Members::document(text).unwrap();
        let mut got = Vec::new();
        while let Some(m) = members.next_decoding(|m| m.key_is("a") || m.key_is("c")) {
            let (m, decoded) = m.unwrap();
            got.push((m.raw_key, decoded));
        }
        members.finish().unwrap();
        assert_eq!(
            got,
            [("a", Some("x\ty".to_owned())), ("b", None), ("c", None)]
        );
        let mut bad = Members::document(r#"{"a":"x\q"}"#).unwrap();
        assert!(bad.next_decoding(|_| true).unwrap().is_err());
    }

    #[test]
    fn strings_decode_like_serde_json() {
        for lit in [
            r#""plain""#,
            r#""tab\tquote\"slash\/back\\""#,
            r#""\u00e9\u4e2d\ud83d\ude00""#,
            r#""\b\f\n\r""#,
        ] {
            let want: String = serde_json::from_str(lit).unwrap();
            assert_eq!(string(lit, 0..lit.len()).unwrap(), want, "{lit}");
        }
        assert!(string(r#""\ud83d""#, 0..8).is_err(), "lone surrogate");
    }
}
