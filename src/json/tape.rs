//! Strict JSON (RFC 8259) parsed once into a flat tape of spans over the caller's bytes.
//!
//! [`Tape::parse`] checks the whole document against the RFC 8259 grammar (no `NaN`, no `+1`,
//! no raw control characters in strings, no trailing garbage) and records one node per value
//! in document order: its kind, its byte span and where its subtree ends. Nothing is copied or
//! decoded: numbers keep their source text, and strings are unescaped only when a caller asks
//! ([`Str::to_bytes`]), and only if they contain escapes. A [`Value`] is a cursor on the tape;
//! walking it allocates nothing. The tape is reusable, so parsing a stream of documents
//! allocates only when a document is bigger than every one before it.
//!
//! [`for_each_member`] validates a document the same way without a tape and hands out the spans
//! of the top-level object's members, for callers that only need a few top-level keys.
//!

use super::lex::{self, skip_ws, Error, Reason};
use super::parse::{Kind, Node, Parser};
use std::borrow::Cow;
use std::fmt;

/// A parsed document: the nodes of one [`Tape::parse`] call, reusable for the next.
#[derive(Debug, Default)]
pub struct Tape {
    nodes: Vec<Node>,
}

impl Tape {
    /// Parses `src` as one strict JSON document, replacing what the tape held. On error the tape
    /// is left empty.
    pub fn parse(&mut self, src: &[u8]) -> Result<(), Error> {
        self.nodes.clear();
        let result = Parser::<true>::new(src, &mut self.nodes).document();
        if result.is_err() {
            self.nodes.clear();
        }
        result
    }

    /// The top-level value of the document last parsed from `src`.
    ///
    /// `src` must be the bytes given to the last successful [`Tape::parse`]; with other bytes
    /// the values read are meaningless and reading them may panic. `None` if the last parse
    /// failed.
    pub fn root<'a>(&'a self, src: &'a [u8]) -> Option<Value<'a>> {
        (!self.nodes.is_empty()).then_some(Value {
            src,
            nodes: &self.nodes,
            idx: 0,
        })
    }

    /// Nodes the tape can hold without reallocating.
    pub fn capacity(&self) -> usize {
        self.nodes.capacity()
    }

    /// Releases memory beyond `nodes` nodes (after an unusually large document).
    pub fn shrink_to(&mut self, nodes: usize) {
        self.nodes.clear();
        self.nodes.shrink_to(nodes);
    }
}

/// Checks that `src` is one strict JSON document whose top-level value is an object, and calls
/// `member` with each top-level key and the source text of its value, in document order
/// (duplicates included). Allocates nothing. Nothing is reported unless the whole document is
/// valid: the members are collected in a first pass only if it succeeds.
pub fn for_each_member<'a>(
    src: &'a [u8],
    mut member: impl FnMut(Str<'a>, &'a [u8]),
) -> Result<(), Error> {
    let mut none = Vec::new();
    Parser::<false>::new(src, &mut none).document()?;
    let start = skip_ws(src, 0);
    if src.get(start) != Some(&b'{') {
        return Err(Error {
            offset: start,
            reason: Reason::NotAnObject,
        });
    }
    // The document is valid, so a second, non-validating walk over the top level is simple.
    let mut p = Parser::<false>::new(src, &mut none);
    p.pos = skip_ws(src, start + 1);
    if src[p.pos] == b'}' {
        return Ok(());
    }
    loop {
        let key_start = p.pos + 1;
        let (key_end, escaped) = lex::string(src, p.pos)?;
        p.pos = key_end;
        let key = Str {
            raw: &src[key_start..key_end - 1],
            escaped,
        };
        p.pos = skip_ws(src, p.pos) + 1; // ':'
        p.pos = skip_ws(src, p.pos);
        let value_start = p.pos;
        p.value(2)?;
        member(key, &src[value_start..p.pos]);
        p.pos = skip_ws(src, p.pos);
        if src[p.pos] == b'}' {
            return Ok(());
        }
        p.pos = skip_ws(src, p.pos + 1); // ','
    }
}

/// A value of a parsed document: a cursor on its tape.
#[derive(Clone, Copy)]
pub struct Value<'a> {
    src: &'a [u8],
    nodes: &'a [Node],
    idx: usize,
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}({})", self.kind(), self.raw().escape_ascii())
    }
}

impl<'a> Value<'a> {
    fn node(&self) -> &'a Node {
        &self.nodes[self.idx]
    }

    fn at(&self, idx: usize) -> Value<'a> {
        Value { idx, ..*self }
    }

    pub fn kind(&self) -> Kind {
        self.node().kind
    }

    /// The value's source text (strings with their quotes and escapes).
    pub fn raw(&self) -> &'a [u8] {
        let n = self.node();
        &self.src[n.start as usize..n.end as usize]
    }

    /// The string's text, if this is a string.
    pub fn as_str(&self) -> Option<Str<'a>> {
        let n = self.node();
        (n.kind == Kind::String).then(|| Str {
            raw: &self.src[n.start as usize + 1..n.end as usize - 1],
            escaped: n.escaped,
        })
    }

    /// The tape range of this value's children when it is of `kind`, else an empty one.
    fn children(&self, kind: Kind) -> (usize, usize) {
        let n = self.node();
        if n.kind == kind {
            (self.idx + 1, n.next as usize)
        } else {
            (0, 0)
        }
    }

    /// The elements of an array (nothing for other kinds).
    pub fn elements(&self) -> Elements<'a> {
        let (next, end) = self.children(Kind::Array);
        Elements {
            value: *self,
            next,
            end,
        }
    }

    /// The members of an object, in document order, duplicates included (nothing for other
    /// kinds).
    pub fn members(&self) -> Members<'a> {
        let (next, end) = self.children(Kind::Object);
        Members {
            value: *self,
            next,
            end,
        }
    }

    /// The member `key` of an object (`None` for other kinds). With duplicate keys, the first
    /// wins; keys are compared after unescaping.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.members()
            .find(|(k, _)| k.eq_bytes(key.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Appends the value as compact JSON: its source text without the whitespace between
    /// tokens. Strings, numbers and duplicate keys are kept exactly as written.
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        let raw = self.raw();
        match self.kind() {
            Kind::Object | Kind::Array => {}
            _ => return out.extend_from_slice(raw),
        }
        out.reserve(raw.len());
        let mut i = 0;
        while i < raw.len() {
            match raw[i] {
                b' ' | b'\t' | b'\n' | b'\r' => i += 1,
                b'"' => {
                    let start = i;
                    i += 1;
                    while raw[i] != b'"' {
                        i += if raw[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                    out.extend_from_slice(&raw[start..i]);
                }
                _ => {
                    let start = i;
                    while i < raw.len() && !matches!(raw[i], b' ' | b'\t' | b'\n' | b'\r' | b'"') {
                        i += 1;
                    }
                    out.extend_from_slice(&raw[start..i]);
                }
            }
        }
    }
}

/// Iterator over the elements of an array.
#[derive(Clone)]
pub struct Elements<'a> {
    value: Value<'a>,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.next >= self.end {
            return None;
        }
        let v = self.value.at(self.next);
        self.next = v.node().next as usize;
        Some(v)
    }
}

/// Iterator over the members of an object.
#[derive(Clone)]
pub struct Members<'a> {
    value: Value<'a>,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (Str<'a>, Value<'a>);

    fn next(&mut self) -> Option<(Str<'a>, Value<'a>)> {
        if self.next >= self.end {
            return None;
        }
        let key = self.value.at(self.next);
        let value = self.value.at(self.next + 1);
        self.next = value.node().next as usize;
        // Keys are string nodes by construction.
        let key = key.as_str().unwrap_or(Str {
            raw: b"",
            escaped: false,
        });
        Some((key, value))
    }
}

/// The text of a JSON string, as written between its quotes.
#[derive(Debug, Clone, Copy)]
pub struct Str<'a> {
    raw: &'a [u8],
    escaped: bool,
}

impl<'a> Str<'a> {
    /// The text as written, escapes included.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The unescaped text; borrowed unless the string has escapes.
    pub fn to_bytes(&self) -> Cow<'a, [u8]> {
        if self.escaped {
            let mut out = Vec::with_capacity(self.raw.len());
            unescape_into(self.raw, &mut out);
            Cow::Owned(out)
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// Appends the unescaped text to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        if self.escaped {
            unescape_into(self.raw, out);
        } else {
            out.extend_from_slice(self.raw);
        }
    }

    /// Whether the unescaped text equals `other`.
    pub fn eq_bytes(&self, other: &[u8]) -> bool {
        if !self.escaped {
            return self.raw == other;
        }
        // Decoding never lengthens a string: a cheap bound rules most keys out.
        if other.len() > self.raw.len() {
            return false;
        }
        *self.to_bytes() == *other
    }
}

fn hex4(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, &c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => c - b'A' + 10,
        };
        (acc << 4) | d as u32
    })
}

fn push_char(out: &mut Vec<u8>, c: u32) {
    let c = char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}

/// Decodes the escapes of a validated string body (see the module doc for surrogates).
fn unescape_into(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        let plain = raw[i..]
            .iter()
            .position(|&b| b == b'\\')
            .unwrap_or(raw.len() - i);
        out.extend_from_slice(&raw[i..i + plain]);
        i += plain;
        if i >= raw.len() {
            break;
        }
        let Some(&e) = raw.get(i + 1) else {
            out.push(b'\\');
            break;
        };
        i += 2;
        let simple = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => 0,
            other => {
                // Not reachable for validated input; keep the text as written.
                out.extend_from_slice(&[b'\\', other]);
                continue;
            }
        };
        if e != b'u' {
            out.push(simple);
            continue;
        }
        let Some(digits) = raw.get(i..i + 4) else {
            out.extend_from_slice(b"\\u");
            continue;
        };
        let hi = hex4(digits);
        i += 4;
        if !(0xd800..0xe000).contains(&hi) {
            push_char(out, hi);
            continue;
        }
        match raw.get(i..i + 6) {
            Some([b'\\', b'u', lo @ ..]) if lo.iter().all(u8::is_ascii_hexdigit) => {
                let lo = hex4(lo);
                i += 6;
                if (0xd800..0xdc00).contains(&hi) && (0xdc00..0xe000).contains(&lo) {
                    push_char(out, 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
                } else {
                    push_char(out, 0xfffd);
                }
            }
            _ => {
                out.extend_from_slice(b"\\u");
                out.extend_from_slice(digits);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Tape, Error> {
        let mut tape = Tape::default();
        tape.parse(src.as_bytes()).map(|()| tape)
    }

    fn compact(src: &str) -> String {
        let tape = parse(src).unwrap();
        let mut out = Vec::new();
        tape.root(src.as_bytes()).unwrap().write_compact(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn unescaped(body: &str) -> Vec<u8> {
        let doc = format!("\"{body}\"");
        let tape = parse(&doc).unwrap();
        let v = tape.root(doc.as_bytes()).unwrap();
        v.as_str().unwrap().to_bytes().into_owned()
    }

    #[test]
    fn accepts_rfc8259_documents() {
        for ok in [
            "{}",
            "[]",
            " {\"a\" : [1, -0, 0.5, 1e3, 1E+3, -2.5e-3, true, false, null, \"x\"]} ",
            "\"\\u00e9\\n\\/\"",
            "123",
            "[[[]]]",
            "{\"a\":{\"b\":{}}}",
            "\"\u{7f}\u{80}\"",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_what_rfc8259_forbids() {
        for (bad, reason) in [
            ("", Reason::Truncated),
            ("{\"a\":NaN}", Reason::Unexpected),
            ("{\"a\":nan}", Reason::Unexpected),
            ("{\"a\":inf}", Reason::Unexpected),
            ("{\"a\":-Inf}", Reason::Number),
            ("{\"a\":+1}", Reason::Unexpected),
            ("{\"a\":.5}", Reason::Unexpected),
            ("{\"a\":01}", Reason::Unexpected),
            ("{\"a\":1.}", Reason::Number),
            ("{\"a\":1e}", Reason::Number),
            ("{\"a\":-}", Reason::Number),
            ("{\"a\":\"x\ty\"}", Reason::ControlCharacter),
            ("{\"a\":\"\\x41\"}", Reason::Escape),
            ("{\"a\":\"\\u12g4\"}", Reason::Escape),
            ("{\"a\":1} x", Reason::TrailingData),
            ("{\"a\":1}{}", Reason::TrailingData),
            ("{\"a\":1", Reason::Truncated),
            ("{\"a\":1,}", Reason::Unexpected),
            ("[1,]", Reason::Unexpected),
            ("{a:1}", Reason::Unexpected),
            ("{\"a\" 1}", Reason::Unexpected),
            ("[tru]", Reason::Unexpected),
            ("tru", Reason::Truncated),
            ("\"abc", Reason::Truncated),
            ("[1 2]", Reason::Unexpected),
        ] {
            assert_eq!(parse(bad).err().map(|e| e.reason), Some(reason), "{bad:?}");
        }
    }

    #[test]
    fn depth_limit_matches_fastjson() {
        // 299 arrays around a scalar: the scalar is at depth 300.
        let ok = format!("{}1{}", "[".repeat(299), "]".repeat(299));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        assert_eq!(parse(&deep).unwrap_err().reason, Reason::TooDeep);
        // An empty container adds no value inside it.
        let empty = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(parse(&empty).is_ok());
    }

    #[test]
    fn bytes_inside_strings_pass_through_even_when_not_utf8() {
        let src = b"{\"a\":\"g\xffet\"}";
        let mut tape = Tape::default();
        tape.parse(src).unwrap();
        let a = tape.root(src).unwrap().get("a").unwrap();
        assert_eq!(&*a.as_str().unwrap().to_bytes(), b"g\xffet");
        // Outside strings they are still errors.
        assert!(tape.parse(b"{\"a\":1\xff}").is_err());
    }

    #[test]
    fn first_duplicate_key_wins_and_keys_compare_unescaped() {
        let src = r#"{"verb":"get","verb":"delete","ver\u0062x":1,"k\u0031":"one"}"#;
        let tape = parse(src).unwrap();
        let root = tape.root(src.as_bytes()).unwrap();
        assert_eq!(root.get("verb").unwrap().raw(), b"\"get\"");
        assert_eq!(root.get("verbx").unwrap().raw(), b"1");
        assert_eq!(root.get("k1").unwrap().raw(), b"\"one\"");
        assert!(root.get("k\\u0031").is_none());
        assert!(root.get("nope").is_none());
        assert!(root.get("verb").unwrap().get("x").is_none());
    }

    #[test]
    fn walks_arrays_and_objects_in_order() {
        let src = r#"[1, {"a": [2, 3], "b": {}}, "s", [[]], null]"#;
        let tape = parse(src).unwrap();
        let root = tape.root(src.as_bytes()).unwrap();
        let kinds: Vec<Kind> = root.elements().map(|v| v.kind()).collect();
        assert_eq!(
            kinds,
            [
                Kind::Number,
                Kind::Object,
                Kind::String,
                Kind::Array,
                Kind::Null
            ]
        );
        let obj = root.elements().nth(1).unwrap();
        let keys: Vec<&[u8]> = obj.members().map(|(k, _)| k.raw()).collect();
        assert_eq!(keys, [b"a".as_slice(), b"b"]);
        let a: Vec<&[u8]> = obj.get("a").unwrap().elements().map(|v| v.raw()).collect();
        assert_eq!(a, [b"2".as_slice(), b"3"]);
        assert_eq!(root.members().count(), 0);
        assert_eq!(obj.elements().count(), 0);
    }

    #[test]
    fn compact_keeps_source_text_of_strings_numbers_and_duplicates() {
        assert_eq!(
            compact("{ \"k\\u0031\" : [ 1.50 , \"a b\\/\" , {\"x\" :[ ]} ], \"k\":1, \"k\":2 }"),
            "{\"k\\u0031\":[1.50,\"a b\\/\",{\"x\":[]}],\"k\":1,\"k\":2}"
        );
        assert_eq!(compact("\n 2e2 "), "2e2");
        assert_eq!(compact("\"\\\"\""), "\"\\\"\"");
    }

    #[test]
    fn unescapes_like_upstream() {
        assert_eq!(
            unescaped(r#"a\"b\\c\/d\b\f\n\r\t"#),
            b"a\"b\\c/d\x08\x0c\n\r\t"
        );
        assert_eq!(unescaped(r"\u00e9\u4e2d"), "é中".as_bytes());
        assert_eq!(unescaped(r"\ud83d\ude00"), "😀".as_bytes());
        assert_eq!(unescaped(r"\u0000x"), b"\0x");
        // Lone surrogates keep their escape text.
        assert_eq!(unescaped(r"\ud800lone"), br"\ud800lone");
        assert_eq!(unescaped(r"\uDC00"), br"\uDC00");
        // A surrogate followed by an escape that does not pair: U+FFFD, both consumed.
        assert_eq!(unescaped(r"\ud800\u0041!"), "\u{fffd}!".as_bytes());
        assert_eq!(unescaped(r"\udc00\ud800"), "\u{fffd}".as_bytes());
    }

    #[test]
    fn str_equality_without_decoding_plain_strings() {
        let src = r#"["pods","pod\u0073","p\u00f6ds"]"#;
        let tape = parse(src).unwrap();
        let s: Vec<Str> = tape
            .root(src.as_bytes())
            .unwrap()
            .elements()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(s[0].eq_bytes(b"pods"));
        assert!(s[1].eq_bytes(b"pods"));
        assert!(!s[2].eq_bytes(b"pods"));
        assert!(s[2].eq_bytes("pöds".as_bytes()));
    }

    #[test]
    fn for_each_member_reports_top_level_spans_of_valid_objects_only() {
        let src = br#" {"kind" : "Event", "items":[1, {"a":2}], "kind":"x", "k\u0031": 2.0 } "#;
        let mut seen = Vec::new();
        for_each_member(src, |k, v| {
            seen.push((k.to_bytes().into_owned(), v.to_vec()))
        })
        .unwrap();
        let want: Vec<(Vec<u8>, Vec<u8>)> = [
            ("kind", "\"Event\""),
            ("items", "[1, {\"a\":2}]"),
            ("kind", "\"x\""),
            ("k1", "2.0"),
        ]
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
        assert_eq!(seen, want);

        let mut called = false;
        let bad = for_each_member(br#"{"a":1,"b":NaN}"#, |_, _| called = true);
        assert!(bad.is_err() && !called);
        let arr = for_each_member(b"[1]", |_, _| called = true);
        assert_eq!(arr.unwrap_err().reason, Reason::NotAnObject);
        assert!(for_each_member(b"{}", |_, _| called = true).is_ok());
        assert!(!called);
    }

    #[test]
    fn a_failed_parse_leaves_no_root() {
        let mut tape = Tape::default();
        tape.parse(b"{\"a\":1}").unwrap();
        assert!(tape.parse(b"{\"a\":").is_err());
        assert!(tape.root(b"{\"a\":").is_none());
    }
}
