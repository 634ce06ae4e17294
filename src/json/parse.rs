//! The recursive-descent parser over the lexer ([`super::lex`]): it validates a whole
//! document, nesting included, and with `BUILD` records one node per value, in document
//! order, for the tape ([`super::tape`]).

use super::lex::{self, skip_ws, Error, Reason, MAX_DEPTH};

/// The kind of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    False,
    True,
    Number,
    String,
    Array,
    Object,
}

/// One value of a parsed document.
#[derive(Debug, Clone, Copy)]
pub(super) struct Node {
    /// Span of the value in the source; strings include their quotes.
    pub(super) start: u32,
    pub(super) end: u32,
    /// Index of the node after this value's subtree (its next sibling, if any).
    pub(super) next: u32,
    pub(super) kind: Kind,
    /// Strings only: the text contains at least one backslash escape.
    pub(super) escaped: bool,
}

/// Validates a document or a value; with `BUILD` it also records the nodes.
pub(super) struct Parser<'s, 'n, const BUILD: bool> {
    src: &'s [u8],
    pub(super) pos: usize,
    nodes: &'n mut Vec<Node>,
}

/// Validates the value starting at `pos` (no leading whitespace), nested `depth` levels deep
/// (the top-level value is at depth 1), and returns where it ends. Builds nothing: for
/// scanners that walk a document themselves and only need to step over values
/// ([`super::scan`]).
pub(crate) fn skip_value(src: &[u8], pos: usize, depth: usize) -> Result<usize, Error> {
    let mut none = Vec::new();
    let mut p = Parser::<false>::new(src, &mut none);
    p.pos = pos;
    p.value(depth)?;
    Ok(p.pos)
}

impl<'s, 'n, const BUILD: bool> Parser<'s, 'n, BUILD> {
    pub(super) fn new(src: &'s [u8], nodes: &'n mut Vec<Node>) -> Self {
        Parser { src, pos: 0, nodes }
    }

    fn err<T>(&self, reason: Reason) -> Result<T, Error> {
        Err(Error {
            offset: self.pos,
            reason,
        })
    }

    /// The whole of `src`: one value between optional whitespace.
    pub(super) fn document(&mut self) -> Result<(), Error> {
        if self.src.len() > u32::MAX as usize {
            return self.err(Reason::TooLarge);
        }
        self.pos = skip_ws(self.src, 0);
        self.value(1)?;
        self.pos = skip_ws(self.src, self.pos);
        if self.pos != self.src.len() {
            return self.err(Reason::TrailingData);
        }
        Ok(())
    }

    fn peek(&self) -> Result<u8, Error> {
        match self.src.get(self.pos) {
            Some(&b) => Ok(b),
            None => self.err(Reason::Truncated),
        }
    }

    /// Records a node whose span starts at `start`; returns its index.
    fn open(&mut self, start: usize, kind: Kind) -> usize {
        let idx = self.nodes.len();
        if BUILD {
            self.nodes.push(Node {
                start: start as u32,
                end: start as u32,
                next: 0,
                kind,
                escaped: false,
            });
        }
        idx
    }

    fn close(&mut self, idx: usize, escaped: bool) {
        if BUILD {
            let next = self.nodes.len() as u32;
            let node = &mut self.nodes[idx];
            node.end = self.pos as u32;
            node.next = next;
            node.escaped = escaped;
        }
    }

    /// A token the lexer read whole, ending at `end`: records its node and moves past it.
    fn token(&mut self, kind: Kind, end: usize, escaped: bool) -> Result<(), Error> {
        let idx = self.open(self.pos, kind);
        self.pos = end;
        self.close(idx, escaped);
        Ok(())
    }

    /// Parses the value at `pos` (whitespace already skipped), which sits at `depth`.
    pub(super) fn value(&mut self, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return self.err(Reason::TooDeep);
        }
        let (src, pos) = (self.src, self.pos);
        match self.peek()? {
            b'{' => self.container(Kind::Object, depth),
            b'[' => self.container(Kind::Array, depth),
            b'"' => {
                let (end, escaped) = lex::string(src, pos)?;
                self.token(Kind::String, end, escaped)
            }
            b't' => self.token(Kind::True, lex::literal(src, pos, b"true")?, false),
            b'f' => self.token(Kind::False, lex::literal(src, pos, b"false")?, false),
            b'n' => self.token(Kind::Null, lex::literal(src, pos, b"null")?, false),
            b'-' | b'0'..=b'9' => self.token(Kind::Number, lex::number(src, pos)?, false),
            _ => self.err(Reason::Unexpected),
        }
    }

    /// An object or an array, with its node around its children's.
    fn container(&mut self, kind: Kind, depth: usize) -> Result<(), Error> {
        let idx = self.open(self.pos, kind);
        let (close, member) = match kind {
            Kind::Object => (b'}', true),
            _ => (b']', false),
        };
        self.pos = skip_ws(self.src, self.pos + 1);
        if self.peek()? == close {
            self.pos += 1;
        } else {
            loop {
                if member {
                    self.key()?;
                }
                self.value(depth + 1)?;
                if self.item_ends(close)? {
                    break;
                }
            }
        }
        self.close(idx, false);
        Ok(())
    }

    /// An object member's key and colon; leaves `pos` on its value.
    fn key(&mut self) -> Result<(), Error> {
        if self.peek()? != b'"' {
            return self.err(Reason::Unexpected);
        }
        let (end, escaped) = lex::string(self.src, self.pos)?;
        self.token(Kind::String, end, escaped)?;
        self.pos = skip_ws(self.src, self.pos);
        if self.peek()? != b':' {
            return self.err(Reason::Unexpected);
        }
        self.pos = skip_ws(self.src, self.pos + 1);
        Ok(())
    }

    /// After an object member or array element: a comma (another follows, false) or `close`
    /// (the container ends, true).
    #[inline]
    fn item_ends(&mut self, close: u8) -> Result<bool, Error> {
        self.pos = skip_ws(self.src, self.pos);
        match self.peek()? {
            b',' => {
                self.pos = skip_ws(self.src, self.pos + 1);
                Ok(false)
            }
            c if c == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => self.err(Reason::Unexpected),
        }
    }
}
