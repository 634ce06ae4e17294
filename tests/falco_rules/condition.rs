//! Falco's condition language, as far as Kubernetes audit rules use it: parsing into an
//! expression tree, and evaluating one over field values with libsinsp's semantics (a field
//! with no value makes every comparison false, `exists` included; list fields only take
//! `exists`, `in` (every value in the set) and `intersects` (some value in the set)).

use std::collections::BTreeMap;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A bare name: a macro reference.
    Macro(String),
    Check(Check),
}

/// `field[arg] op rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub field: String,
    pub arg: Option<String>,
    pub op: String,
    pub rhs: Rhs,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// `exists` takes no operand.
    None,
    Single(Atom),
    /// `(a, b, list_name)`.
    List(Vec<Atom>),
}

/// An operand. Unquoted names inside a parenthesised list may name a Falco list.
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    pub text: String,
    pub quoted: bool,
}

/// Operators that are words. `exists` is unary; the set operators take a parenthesised list.
const WORD_OPS: &[&str] = &[
    "exists",
    "in",
    "intersects",
    "pmatch",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "glob",
    "iglob",
    "regex",
];
const SET_OPS: &[&str] = &["in", "intersects", "pmatch"];
/// The only operators libsinsp accepts on list fields.
pub const LIST_FIELD_OPS: &[&str] = &["exists", "in", "intersects"];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    LParen,
    RParen,
    Comma,
    Sym(String),
    Word { text: String, arg: Option<String> },
    Quoted(String),
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let ends_word = |c: char| c.is_whitespace() || "(),=<>!\"'[".contains(c);
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::LParen);
                i += 1;
            }
            ')' => {
                out.push(Token::RParen);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let sym = match two.as_str() {
                    "==" | "!=" | "<=" | ">=" => two,
                    _ if c == '!' => return Err(format!("stray '!' at {i} in {s:?}")),
                    _ => c.to_string(),
                };
                i += sym.len();
                out.push(Token::Sym(sym));
            }
            '"' | '\'' => {
                // As libsinsp's lexer: the string ends at the first quote not preceded by a
                // backslash (so a string cannot end with an escaped backslash), then `\\`
                // stands for a backslash and a backslash before the quote for the quote.
                let quote = c;
                let mut raw = Vec::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unterminated string in {s:?}")),
                        Some('\\') if chars.get(i + 1) == Some(&quote) => {
                            raw.push('\\');
                            raw.push(quote);
                            i += 2;
                        }
                        Some(&q) if q == quote => {
                            i += 1;
                            break;
                        }
                        Some(&o) => {
                            raw.push(o);
                            i += 1;
                        }
                    }
                }
                let mut text = String::new();
                let mut j = 0;
                while j < raw.len() {
                    if raw[j] == '\\'
                        && j + 1 < raw.len()
                        && (raw[j + 1] == '\\' || raw[j + 1] == quote)
                    {
                        text.push(raw[j + 1]);
                        j += 2;
                    } else {
                        text.push(raw[j]);
                        j += 1;
                    }
                }
                out.push(Token::Quoted(text));
            }
            _ => {
                let start = i;
                while i < chars.len() && !ends_word(chars[i]) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let mut arg = None;
                if chars.get(i) == Some(&'[') {
                    let close = chars[i..]
                        .iter()
                        .position(|&c| c == ']')
                        .ok_or_else(|| format!("unterminated '[' in {s:?}"))?;
                    arg = Some(chars[i + 1..i + close].iter().collect());
                    i += close + 1;
                }
                if text.is_empty() {
                    return Err(format!("unexpected {:?} at {i} in {s:?}", chars[i]));
                }
                out.push(Token::Word { text, arg });
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    src: String,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at token {} of {:?}", self.pos, self.src))
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Word { text, arg: None }) if text == kw)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.keyword("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.not()?];
        while self.keyword("and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::And(items)
        })
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Token::RParen) => Ok(e),
                    _ => self.err("expected ')'"),
                }
            }
            Some(Token::Word { text, arg }) if text.contains('.') => self.check(text, arg),
            Some(Token::Word { text, arg: None }) if !["and", "or", "not"].contains(&&*text) => {
                Ok(Expr::Macro(text))
            }
            _ => self.err("expected a field, a macro or '('"),
        }
    }

    fn check(&mut self, field: String, arg: Option<String>) -> Result<Expr, String> {
        let op = match self.next() {
            Some(Token::Sym(s)) => s,
            Some(Token::Word { text, arg: None }) if WORD_OPS.contains(&&*text) => text,
            _ => return self.err(&format!("expected an operator after {field}")),
        };
        let rhs = if op == "exists" {
            Rhs::None
        } else if SET_OPS.contains(&&*op) {
            if self.next() != Some(Token::LParen) {
                return self.err(&format!("expected '(' after {op}"));
            }
            let mut items = Vec::new();
            loop {
                match self.next() {
                    Some(Token::RParen) if items.is_empty() => break,
                    Some(Token::Word { text, arg: None }) => items.push(Atom {
                        text,
                        quoted: false,
                    }),
                    Some(Token::Quoted(text)) => items.push(Atom { text, quoted: true }),
                    _ => return self.err("expected a list item"),
                }
                match self.next() {
                    Some(Token::Comma) => {}
                    Some(Token::RParen) => break,
                    _ => return self.err("expected ',' or ')'"),
                }
            }
            Rhs::List(items)
        } else {
            match self.next() {
                Some(Token::Word { text, arg: None }) => Rhs::Single(Atom {
                    text,
                    quoted: false,
                }),
                Some(Token::Quoted(text)) => Rhs::Single(Atom { text, quoted: true }),
                _ => return self.err(&format!("expected a value after {op}")),
            }
        };
        Ok(Expr::Check(Check {
            field,
            arg,
            op,
            rhs,
        }))
    }
}

/// Parses a condition.
pub fn parse(src: &str) -> Result<Expr, String> {
    let mut p = Parser {
        tokens: tokenize(src)?,
        pos: 0,
        src: src.to_owned(),
    };
    let e = p.or()?;
    if p.pos != p.tokens.len() {
        return p.err("trailing tokens");
    }
    Ok(e)
}

impl Expr {
    /// Calls `f` on every node, depth first.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.walk(f)),
            Expr::Not(e) => e.walk(f),
            Expr::Macro(_) | Expr::Check(_) => {}
        }
    }

    /// Macro names referenced directly.
    pub fn macros(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Macro(m) = e {
                out.push(m.clone());
            }
        });
        out
    }

    /// Checks made directly (not through macros).
    pub fn checks(&self) -> Vec<Check> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Check(c) = e {
                out.push(c.clone());
            }
        });
        out
    }
}

/// The `%field` and `%field[arg]` references of an output format.
pub fn output_fields(output: &str) -> Vec<(String, Option<String>)> {
    let chars: Vec<char> = output.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < chars.len() && (chars[j].is_ascii_alphanumeric() || "._".contains(chars[j])) {
            j += 1;
        }
        let mut name: String = chars[start..j].iter().collect();
        while name.ends_with('.') {
            name.pop();
            j -= 1;
        }
        let mut arg = None;
        if chars.get(j) == Some(&'[') {
            if let Some(close) = chars[j..].iter().position(|&c| c == ']') {
                arg = Some(chars[j + 1..j + close].iter().collect());
                j += close + 1;
            }
        }
        if !name.is_empty() {
            out.push((name, arg));
        }
        i = j.max(i + 1);
    }
    out
}

/// Where evaluation reads field values: `None` is "no value".
pub trait FieldSource {
    fn values(&mut self, field: &str, arg: Option<&str>) -> Option<Vec<String>>;
    fn is_list(&self, field: &str) -> bool;
}

/// Compiled lists and macros, as evaluation needs them.
pub struct Env<'a> {
    pub lists: &'a BTreeMap<String, Vec<String>>,
    pub macros: &'a BTreeMap<String, Expr>,
}

impl Env<'_> {
    /// The values of a right-hand side: list names expanded (unquoted items only).
    pub fn rhs_values(&self, rhs: &Rhs) -> Vec<String> {
        match rhs {
            Rhs::None => vec![],
            Rhs::Single(a) => vec![a.text.clone()],
            Rhs::List(items) => items
                .iter()
                .flat_map(|a| match self.lists.get(&a.text) {
                    Some(values) if !a.quoted => values.clone(),
                    _ => vec![a.text.clone()],
                })
                .collect(),
        }
    }

    pub fn eval(&self, e: &Expr, src: &mut dyn FieldSource) -> Result<bool, String> {
        Ok(match e {
            Expr::And(v) => {
                for x in v {
                    if !self.eval(x, src)? {
                        return Ok(false);
                    }
                }
                true
            }
            Expr::Or(v) => {
                for x in v {
                    if self.eval(x, src)? {
                        return Ok(true);
                    }
                }
                false
            }
            Expr::Not(x) => !self.eval(x, src)?,
            Expr::Macro(m) => {
                let body = self
                    .macros
                    .get(m)
                    .ok_or_else(|| format!("undefined macro {m}"))?;
                self.eval(body, src)?
            }
            Expr::Check(c) => {
                let rhs = self.rhs_values(&c.rhs);
                compare(c, &rhs, src)?
            }
        })
    }
}

fn glob(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some(('?', rest)) => !text.is_empty() && glob(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

/// One comparison, with libsinsp's semantics for missing values and list fields.
pub fn compare(c: &Check, rhs: &[String], src: &mut dyn FieldSource) -> Result<bool, String> {
    let Some(values) = src.values(&c.field, c.arg.as_deref()) else {
        return Ok(false);
    };
    if values.is_empty() {
        return Ok(false);
    }
    if c.op == "exists" {
        return Ok(true);
    }
    if src.is_list(&c.field) {
        return match c.op.as_str() {
            "in" => Ok(values.iter().all(|v| rhs.contains(v))),
            "intersects" => Ok(values.iter().any(|v| rhs.contains(v))),
            op => Err(format!(
                "list field {} does not take operator {op}",
                c.field
            )),
        };
    }
    if values.len() > 1 {
        return Err(format!(
            "scalar field {} gave {} values",
            c.field,
            values.len()
        ));
    }
    let v = &values[0];
    let one = || rhs.first().cloned().unwrap_or_default();
    Ok(match c.op.as_str() {
        "=" | "==" => *v == one(),
        "!=" => *v != one(),
        "contains" => v.contains(&one()),
        "icontains" => v.to_lowercase().contains(&one().to_lowercase()),
        "startswith" => v.starts_with(&one()),
        "endswith" => v.ends_with(&one()),
        "glob" => glob(
            &one().chars().collect::<Vec<_>>(),
            &v.chars().collect::<Vec<_>>(),
        ),
        "in" | "intersects" => rhs.contains(v),
        "pmatch" => rhs
            .iter()
            .any(|p| v == p || v.starts_with(&format!("{}/", p.trim_end_matches('/')))),
        op => return Err(format!("operator {op} is not supported by this evaluator")),
    })
}
