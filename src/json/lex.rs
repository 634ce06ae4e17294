//! The JSON lexer: whitespace, strings, numbers and literals, checked against RFC 8259, as
//! functions of a byte slice and a position. The tape parser ([`super::parse`]), the scanner
//! ([`super::scan`]) and the unescaper build on it, so all three are equally strict; it knows
//! nothing of documents or nesting.

use std::fmt;

/// Deepest nesting accepted: the top-level value is at depth 1, the values inside it at depth 2,
/// and so on. This is fastjson's limit, so upstream and we reject the same documents.
pub const MAX_DEPTH: usize = 300;

/// Why a document is not strict JSON, and where (byte offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub offset: usize,
    pub reason: Reason,
}

/// What was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The input ended inside a value.
    Truncated,
    /// A byte that cannot start or continue a value here.
    Unexpected,
    /// A malformed number (`+1`, `.5`, `01`, `1.`, `NaN`...).
    Number,
    /// A control character (below U+0020) not escaped inside a string.
    ControlCharacter,
    /// An escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
    Escape,
    /// Something after the top-level value.
    TrailingData,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Larger than 4 GiB (spans are 32-bit).
    TooLarge,
    /// [`for_each_member`] was given something other than an object.
    NotAnObject,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.reason {
            Reason::Truncated => "unexpected end of input",
            Reason::Unexpected => "unexpected character",
            Reason::Number => "malformed number",
            Reason::ControlCharacter => "unescaped control character in string",
            Reason::Escape => "invalid escape in string",
            Reason::TrailingData => "data after the JSON value",
            Reason::TooDeep => "nested too deeply",
            Reason::TooLarge => "document larger than 4 GiB",
            Reason::NotAnObject => "not a JSON object",
        };
        write!(f, "invalid JSON at byte {}: {what}", self.offset)
    }
}

impl std::error::Error for Error {}

/// The input is not strict JSON: the error of the layers that need no detail (the scanner,
/// the unescaper).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

impl From<Error> for Invalid {
    fn from(_: Error) -> Self {
        Invalid
    }
}

fn err<T>(offset: usize, reason: Reason) -> Result<T, Error> {
    Err(Error { offset, reason })
}

pub(crate) fn skip_ws(src: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = src.get(pos) {
        pos += 1;
    }
    pos
}

/// Bytes that end the fast scan of a string: `"`, `\` and control characters.
static STRING_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Index of the first byte at or after `i` that ends the fast scan of a string (`"`, `\` or a
/// control character), or `src.len()`. Eight bytes at a time.
pub(crate) fn skip_plain(src: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = src.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let quote = x ^ (ONES * b'"' as u64);
        let backslash = x ^ (ONES * b'\\' as u64);
        // High bit set in a lane that is zero (resp. below 0x20). Borrows may flag lanes above
        // a flagged one, but the lowest flag is always exact, and that is the one used.
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        let found = found & HIGHS;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < src.len() && !STRING_SPECIAL[src[i] as usize] {
        i += 1;
    }
    i
}

/// Scans the string literal whose opening quote is at `pos`: where it ends (after the closing
/// quote), and whether it contains escapes.
pub(crate) fn string(src: &[u8], pos: usize) -> Result<(usize, bool), Error> {
    let mut i = pos + 1;
    let mut escaped = false;
    loop {
        i = skip_plain(src, i);
        let Some(&b) = src.get(i) else {
            return err(i, Reason::Truncated);
        };
        match b {
            b'"' => return Ok((i + 1, escaped)),
            b'\\' => {
                escaped = true;
                i = escape(src, i)?;
            }
            _ => return err(i, Reason::ControlCharacter),
        }
    }
}

/// Checks the escape whose backslash is at `i`; returns where it ends.
fn escape(src: &[u8], i: usize) -> Result<usize, Error> {
    match src.get(i + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
        Some(b'u') => match src.get(i + 2..i + 6) {
            Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => Ok(i + 6),
            Some(_) => err(i, Reason::Escape),
            None if src[(i + 2).min(src.len())..]
                .iter()
                .all(u8::is_ascii_hexdigit) =>
            {
                err(i, Reason::Truncated)
            }
            None => err(i, Reason::Escape),
        },
        Some(_) => err(i, Reason::Escape),
        None => err(i, Reason::Truncated),
    }
}

/// The number at `pos`, `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`: where it ends.
pub(crate) fn number(src: &[u8], pos: usize) -> Result<usize, Error> {
    let mut i = pos;
    if src[i] == b'-' {
        i += 1;
    }
    match src.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(src, i + 1),
        Some(_) => return err(i, Reason::Number),
        None => return err(i, Reason::Truncated),
    }
    if src.get(i) == Some(&b'.') {
        i = some_digits(src, i + 1)?;
    }
    if let Some(b'e' | b'E') = src.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = src.get(i) {
            i += 1;
        }
        i = some_digits(src, i)?;
    }
    Ok(i)
}

fn digits(src: &[u8], mut i: usize) -> usize {
    while src.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// At least one digit at `i`: where they end.
fn some_digits(src: &[u8], i: usize) -> Result<usize, Error> {
    match digits(src, i) {
        end if end > i => Ok(end),
        end if end == src.len() => err(end, Reason::Truncated),
        end => err(end, Reason::Number),
    }
}

/// The literal `word` (`true`, `false`, `null`) at `pos`: where it ends.
pub(crate) fn literal(src: &[u8], pos: usize, word: &[u8]) -> Result<usize, Error> {
    let end = pos + word.len();
    match src.get(pos..end) {
        Some(s) if s == word => Ok(end),
        Some(_) => err(pos, Reason::Unexpected),
        None if word.starts_with(&src[pos..]) => err(pos, Reason::Truncated),
        None => err(pos, Reason::Unexpected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_plain_stops_at_the_first_special_byte_wherever_it_is() {
        for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
            for len in 0..20 {
                for at in 0..=len {
                    let mut s: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                    // Bytes just above the limits must not stop the scan.
                    if len > 2 {
                        s[0] = 0x20;
                        s[1] = 0xff;
                    }
                    let want = if at < len {
                        s[at] = special;
                        (0..len).find(|&i| STRING_SPECIAL[s[i] as usize]).unwrap()
                    } else {
                        len
                    };
                    assert_eq!(skip_plain(&s, 0), want, "{special} in {len} at {at}");
                }
            }
        }
    }
}
