//! Decoding JSON string content: escapes resolved, validated in the same pass.
//!
//! The two strings decoded per frame (the GELF document inside the LDP envelope, then the
//! audit event inside GELF's `short_message`) are JSON quoted once and twice: an escape every
//! six bytes or so. Walked one escape at a time, each step waits on the last (find the next
//! special byte, then look at it, then find the next), and that chain was a third of the
//! reader thread's time. Here 64-byte blocks are classified first, word at a time: where
//! the backslashes, quotes and control characters are, as bit masks; which backslashes start
//! an escape is then bit arithmetic. In a block whose escapes all escape `"` or `\` (most
//! blocks: those are the escapes of quoted JSON), decoding is dropping the escaping
//! backslashes, eight bytes at a time through a table; otherwise the copy between escapes
//! works through the mask with fixed-size copies. What a block cannot settle (`\u` escapes
//! across its end, the last bytes of the input) goes byte by byte, as does the reference
//! decoder the tests compare it with.

use super::lex::{skip_plain, Invalid};

type Result<T> = std::result::Result<T, Invalid>;

/// Bytes classified per block.
const BLOCK: usize = 64;
/// Bytes copied per plain run, whatever its length: runs up to this long cost no branch.
const COPY: usize = 32;
/// Bytes a block needs in front of it: itself, and the overshoot of its last copy.
const WINDOW: usize = BLOCK + COPY;

/// What `\x` decodes to, by `x`: 0 for an invalid escape, [`UNICODE`] for `\u`.
static UNESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[b'b' as usize] = 0x08;
    t[b'f' as usize] = 0x0c;
    t[b'n' as usize] = b'\n';
    t[b'r' as usize] = b'\r';
    t[b't' as usize] = b'\t';
    t[b'u' as usize] = UNICODE;
    t
};
/// [`UNESCAPE`]'s mark for `\u`: no simple escape decodes to this byte.
const UNICODE: u8 = 0xff;

/// Decodes string content from `i` into `out` (appending), validating as it goes, up to the
/// closing quote or the end of `b`; returns where it stopped. A raw control character or a
/// bad escape is [`Invalid`]; so is a lone UTF-16 surrogate.
pub(crate) fn decode_into(b: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize> {
    let base = out.len();
    decode_at(b, i, out, base)
}

/// [`decode_into`], replacing what `out` holds: a buffer reused this way is not zeroed again
/// where it already holds bytes.
pub(crate) fn decode_over(b: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize> {
    decode_at(b, i, out, 0)
}

fn decode_at(b: &[u8], mut i: usize, out: &mut Vec<u8>, base: usize) -> Result<usize> {
    // The decoded text is never longer than the text it comes from: room for all of it,
    // made once, written by index, trimmed at the end.
    let room = base + b.len().saturating_sub(i);
    if out.len() < room {
        if base == 0 && out.capacity() < room {
            // Growing would copy the old bytes, all to be overwritten: start afresh.
            *out = Vec::with_capacity(room);
        }
        out.resize(room, 0);
    }
    let mut o = base;
    let result = loop {
        let Some(window) = b.get(i..i + WINDOW) else {
            break decode_scalar(b, i, out, &mut o);
        };
        let Ok(window) = <&[u8; WINDOW]>::try_from(window) else {
            break Err(Invalid);
        };
        let (used, written) = match block(window, &mut out[o..]) {
            Ok(step) => step,
            Err(e) => break Err(e),
        };
        i += used;
        o += written;
        if used < BLOCK {
            // The block stopped early: at the closing quote, at something invalid, or at an
            // escape it left to the next block.
            match b.get(i) {
                Some(b'"') => break Ok(i),
                Some(b'\\') => {}
                _ => break Err(Invalid),
            }
        }
    };
    out.truncate(o);
    result
}

/// Decodes the first [`BLOCK`] bytes of `window` into `out`, stopping early at a closing
/// quote or a control character, or before an escape that does not end within the block.
/// Returns the bytes consumed and written.
fn block(window: &[u8; WINDOW], out: &mut [u8]) -> Result<(usize, usize)> {
    let [backslashes, quotes, controls] = classify(window);
    let escapes = escape_starts(backslashes);
    let escaped = escapes << 1;
    // An escape starting on the last byte ends in the next block: stop before it.
    let trim = escapes & (1 << (BLOCK - 1));
    let stop = (((quotes | controls) & !escaped) | trim).trailing_zeros() as usize;
    let mut pending = escapes & low_bits(stop);
    // `"` and `\`, nearly all escapes here, decode to the byte they escape: dropping the
    // backslash is all they take. The others go through the table.
    let others = pending & !((quotes | backslashes) >> 1);
    if others == 0 && out.len() >= BLOCK {
        // Only such escapes, as in most blocks: drop all their backslashes at once.
        squeeze(window, pending, out);
        return Ok((stop, stop - pending.count_ones() as usize));
    }
    let (mut last, mut o) = (0, 0);
    while pending != 0 {
        let p = pending.trailing_zeros() as usize;
        pending &= pending - 1;
        if others & (1 << p) == 0 {
            copy_run(window, last, p, out, &mut o);
            last = p + 1;
            continue;
        }
        if p < last {
            // Inside a `\u` escape already decoded (the second half of a surrogate pair).
            continue;
        }
        copy_run(window, last, p, out, &mut o);
        match UNESCAPE[window[p + 1] as usize] {
            0 => return Err(Invalid),
            UNICODE => {
                if p + 12 > BLOCK {
                    // It might run past the block: the next block starts with it.
                    return Ok((p, o));
                }
                let (c, used) = unicode_escape(window, p)?;
                o += c.encode_utf8(&mut out[o..o + 4]).len();
                last = p + used;
            }
            c => {
                out[o] = c;
                o += 1;
                last = p + 2;
            }
        }
    }
    // A `\u` escape may have consumed bytes past `stop` (a control character cannot be in
    // one, and `stop` is never inside one otherwise).
    let stop = stop.max(last);
    copy_run(window, last, stop, out, &mut o);
    Ok((stop, o))
}

/// Writes the first [`BLOCK`] bytes of `window` to the start of `out`, without the bytes
/// whose bits are set in `drop`, eight at a time.
#[inline(always)]
fn squeeze(window: &[u8; WINDOW], drop: u64, out: &mut [u8]) {
    let mut o = 0;
    for (w, word) in window[..BLOCK].chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let dropped = (drop >> (8 * w)) as u8;
        out[o..o + 8].copy_from_slice(&squeeze_lanes(x, dropped).to_le_bytes());
        // (`count_ones` is a dozen instructions on x86-64 without POPCNT: a table instead.)
        o += KEPT[usize::from(dropped)] as usize;
    }
}

/// The byte lanes of `x` whose bits are clear in `dropped`, moved down in order to the low
/// lanes. Each kept lane moves down by the number of dropped lanes below it; the moves are
/// made in three steps, by one lane, two and four, as that number's bits say (a lane never
/// lands on another: Hacker's Delight's `compress`, on bytes).
#[inline(always)]
fn squeeze_lanes(x: u64, dropped: u8) -> u64 {
    let [keep, by1, by2, by4] = SQUEEZE[usize::from(dropped)];
    let mut x = x & keep;
    let t = x & by1;
    x = (x ^ t) | (t >> 8);
    let t = x & by2;
    x = (x ^ t) | (t >> 16);
    let t = x & by4;
    (x ^ t) | (t >> 32)
}

/// For each set of dropped lanes (a bit per lane), how many are kept.
static KEPT: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut m = 0;
    while m < 256 {
        table[m] = 8 - (m as u8).count_ones() as u8;
        m += 1;
    }
    table
};

/// For each set of dropped lanes (a bit per lane): the lanes kept, then the lanes that move
/// at each step of [`squeeze_lanes`], where they are before that step.
static SQUEEZE: [[u64; 4]; 256] = {
    let mut table = [[0u64; 4]; 256];
    let mut m = 0;
    while m < 256 {
        let (mut at, mut by) = ([0usize; 8], [0usize; 8]);
        let mut below = 0;
        let mut lane = 0;
        while lane < 8 {
            at[lane] = lane;
            if m & (1 << lane) != 0 {
                below += 1;
            } else {
                table[m][0] |= 0xff << (8 * lane);
                by[lane] = below;
            }
            lane += 1;
        }
        let mut step = 0;
        while step < 3 {
            let mut lane = 0;
            while lane < 8 {
                if m & (1 << lane) == 0 && by[lane] & (1 << step) != 0 {
                    table[m][1 + step] |= 0xff << (8 * at[lane]);
                    at[lane] -= 1 << step;
                }
                lane += 1;
            }
            step += 1;
        }
        m += 1;
    }
    table
};

/// Copies `window[from..to]` to `out` at `*o`. Runs up to [`COPY`] bytes are copied as
/// [`COPY`] bytes, without a branch on their length; what lands past the run is overwritten
/// later or trimmed.
#[inline(always)]
fn copy_run(window: &[u8; WINDOW], from: usize, to: usize, out: &mut [u8], o: &mut usize) {
    let len = to - from;
    if len <= COPY && from + COPY <= WINDOW && *o + COPY <= out.len() {
        out[*o..*o + COPY].copy_from_slice(&window[from..from + COPY]);
    } else {
        out[*o..*o + len].copy_from_slice(&window[from..to]);
    }
    *o += len;
}

/// The low `n` bits set (all 64 for `n` of 64 or more).
fn low_bits(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// Bit masks over the first [`BLOCK`] bytes of `window`, bit k for byte k: backslashes,
/// quotes and control characters.
#[inline(always)]
fn classify(window: &[u8; WINDOW]) -> [u64; 3] {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let (mut backslashes, mut quotes, mut any_control) = (0, 0, 0);
    for (w, word) in window[..BLOCK].chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        backslashes |= gather(zero_lanes(x ^ (ONES * u64::from(b'\\')))) << (8 * w);
        quotes |= gather(zero_lanes(x ^ (ONES * u64::from(b'"')))) << (8 * w);
        // Whether any byte is below 0x20 (borrows may flag more lanes, never fewer).
        any_control |= x.wrapping_sub(ONES * 0x20) & !x;
    }
    // Control characters are invalid in strings, so seldom there: placed only if present.
    let mut controls = 0;
    if any_control & (ONES * 0x80) != 0 {
        for (w, word) in window[..BLOCK].chunks_exact(8).enumerate() {
            let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
            controls |= gather(zero_lanes(x & (ONES * 0xe0))) << (8 * w);
        }
    }
    [backslashes, quotes, controls]
}

/// The high bit of each byte lane of `y` that is zero, exactly (no borrow between lanes).
#[inline(always)]
fn zero_lanes(y: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((y & LOW7) + LOW7) | y) & !LOW7
}

/// The lane high bits of `h` (bits 7, 15, … 63, nothing else set) as the 8 low bits, lane 0
/// lowest.
#[inline(always)]
fn gather(h: u64) -> u64 {
    h.wrapping_mul(0x0002_0408_1020_4081) >> 56
}

/// Which backslashes start an escape: in each run of backslashes, the first, third, fifth…
/// (the others are escaped backslashes). Runs are told apart by where they start: adding a
/// run's start bit to the mask carries through the run.
#[inline(always)]
fn escape_starts(backslashes: u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let starts = backslashes & !(backslashes << 1);
    let in_even_runs = backslashes & !backslashes.wrapping_add(starts & EVEN);
    let in_odd_runs = backslashes & !in_even_runs;
    (in_even_runs & EVEN) | (in_odd_runs & !EVEN)
}

/// Decodes byte by byte from `i`, writing at `*o`: the end of the input, and the reference
/// the block decoder is tested against.
fn decode_scalar(b: &[u8], mut i: usize, out: &mut [u8], o: &mut usize) -> Result<usize> {
    loop {
        let run = skip_plain(b, i);
        out[*o..*o + run - i].copy_from_slice(&b[i..run]);
        *o += run - i;
        i = run;
        match b.get(i) {
            None | Some(b'"') => return Ok(i),
            Some(b'\\') => {}
            Some(_) => return Err(Invalid),
        }
        match UNESCAPE[*b.get(i + 1).ok_or(Invalid)? as usize] {
            0 => return Err(Invalid),
            UNICODE => {
                let (c, used) = unicode_escape(b, i)?;
                *o += c.encode_utf8(&mut out[*o..*o + 4]).len();
                i += used;
            }
            c => {
                out[*o] = c;
                *o += 1;
                i += 2;
            }
        }
    }
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

    /// The reference: the byte-by-byte decoder over the whole input.
    fn reference(b: &[u8], i: usize) -> Result<(usize, Vec<u8>)> {
        let mut out = vec![0; b.len() - i];
        let mut o = 0;
        let end = decode_scalar(b, i, &mut out, &mut o)?;
        out.truncate(o);
        Ok((end, out))
    }

    fn fast(b: &[u8], i: usize) -> Result<(usize, Vec<u8>)> {
        let mut out = b"prefix".to_vec();
        let end = decode_into(b, i, &mut out)?;
        assert_eq!(&out[..6], b"prefix", "what was in the buffer stays");
        Ok((end, out[6..].to_vec()))
    }

    fn same(b: &[u8], i: usize) {
        assert_eq!(
            fast(b, i),
            reference(b, i),
            "{:?} from {i}",
            String::from_utf8_lossy(b)
        );
    }

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

    /// Pieces strings are made of: plain text, every escape, runs of backslashes, what ends
    /// a string and what is invalid.
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
        b"\\ud83d",
        b"\\ude00",
        b"\\u12",
        b"\\x",
        b"\\",
        b"\n",
        b"\x1f",
        b"\x7f",
        b"\"",
        b"}",
    ];

    #[test]
    fn agrees_with_the_reference_on_generated_strings() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let mut s = Vec::new();
            let pieces = 1 + rng.below(60);
            // Mostly well-formed: the risky pieces are rarer.
            for _ in 0..pieces {
                let piece = if rng.below(10) < 8 {
                    PIECES[rng.below(13)]
                } else {
                    PIECES[rng.below(PIECES.len())]
                };
                s.extend_from_slice(piece);
            }
            if round % 2 == 0 {
                s.extend_from_slice(b"\",\"rest\":1}");
            }
            for i in [0, 1, rng.below(s.len())] {
                if i <= s.len() {
                    same(&s, i);
                }
            }
        }
    }

    #[test]
    fn every_escape_at_every_position_around_block_ends() {
        for piece in PIECES {
            for at in 0..(2 * WINDOW + 8) {
                let mut s = vec![b'x'; at];
                s.extend_from_slice(piece);
                s.extend(std::iter::repeat_n(b'y', 2 * WINDOW));
                s.extend_from_slice(b"\" tail");
                same(&s, 0);
            }
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
    fn escape_starts_alternate_within_runs() {
        // Backslash runs of 1..=5 at even and odd offsets.
        for run in 1..=5 {
            for at in 0..3 {
                let mask = ((1u64 << run) - 1) << at;
                let want = (0..run).step_by(2).fold(0, |m, k| m | 1 << (at + k));
                assert_eq!(escape_starts(mask), want, "run {run} at {at}");
            }
        }
        // Two runs side by side with one byte between.
        assert_eq!(escape_starts(0b1101_1011), 0b0100_1001);
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

    #[test]
    fn squeezing_lanes_keeps_the_others_in_order() {
        let mut rng = Rng(7);
        for dropped in 0..=255u8 {
            for _ in 0..8 {
                let x = rng.next();
                let kept: Vec<u8> = (0..8)
                    .filter(|lane| dropped & (1 << lane) == 0)
                    .map(|lane| x.to_le_bytes()[lane])
                    .collect();
                let got = squeeze_lanes(x, dropped).to_le_bytes();
                assert_eq!(
                    &got[..kept.len()],
                    &kept[..],
                    "{x:#x} without {dropped:#010b}"
                );
                assert!(got[kept.len()..].iter().all(|&b| b == 0));
            }
        }
    }

    #[test]
    fn gather_and_zero_lanes_are_exact() {
        for lane in 0..8 {
            for v in [0u8, 1, 0x1f, 0x20, 0x5c, 0x7f, 0x80, 0xff] {
                let x =
                    (u64::from(v) << (8 * lane)) | (0x4141_4141_4141_4141 & !(0xff << (8 * lane)));
                let zeros = gather(zero_lanes(x));
                assert_eq!(
                    zeros,
                    if v == 0 { 1 << lane } else { 0 },
                    "{v:#x} at {lane}"
                );
            }
        }
    }
}
