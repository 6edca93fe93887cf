//! Reading requests as QEMU's monitor does: a byte stream cut into JSON
//! values by its streamer (not by lines), parsed with its extensions
//! (single-quoted strings, `\'`), its limits (token size, token count,
//! nesting) and its error texts (`JSON parse error, ...`), and its way of
//! recovering from garbage (skip to the next structural character or
//! control character).
//!
//! [`Streamer::push`] takes one byte at a time, as QEMU's monitor reads
//! them, and returns a [`Parsed`] whenever a value (or an error) is
//! complete. What it holds is bounded: the text of the tokens of one
//! value, at most the configured largest message, and a small record a
//! token (at most [`MAX_TOKEN_COUNT`] of them).

use serde_json::{Map, Number, Value};

/// At most this many tokens make one value (QEMU's limit).
pub(crate) const MAX_TOKEN_COUNT: usize = 2 << 20;

/// At most this many objects and arrays are open in one value (QEMU's
/// limit).
pub(crate) const MAX_NESTING: usize = 1 << 10;

/// QEMU's refusal of a value nested deeper than [`MAX_NESTING`].
pub(crate) const TOO_DEEP: &str = "JSON nesting depth limit exceeded";

/// What the streamer completed: a value, or the error QEMU answers for
/// it (a `GenericError` with this description, without id).
#[derive(Debug, PartialEq)]
pub(crate) enum Parsed {
    /// A JSON object, with its keys in the order they were sent.
    Object(Map<String, Value>, Vec<String>),
    /// Another JSON value.
    Other(Value),
    /// What was sent is not JSON: the error's description.
    Error(String),
}

/// The kinds of tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    Comma,
    Colon,
    Integer,
    Float,
    Keyword,
    String,
}

/// Where the lexer is within a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Start,
    /// Skipping garbage after an error.
    Recovery,
    DqString,
    DqEscape,
    SqString,
    SqEscape,
    /// After a leading `-`.
    Sign,
    /// A number that began with `0`.
    Zero,
    /// The integer digits of a number.
    Digits,
    /// After the `.`.
    Mantissa,
    MantissaDigits,
    /// After `e`.
    ExpE,
    /// After the exponent's sign.
    ExpSign,
    ExpDigits,
    Keyword,
}

/// What a byte does in a state.
enum Step {
    /// Part of the token: the state after it.
    Next(State),
    /// Ends the token it is part of.
    Emit(Kind),
    /// Ends the token before it: the byte is read again in the start
    /// state.
    EmitBefore(Kind),
    /// Whitespace between tokens.
    Skip,
    /// Not allowed here: the token so far and this byte are an error.
    Error,
    /// Skipped in recovery, which goes on.
    Discard,
    /// Ends the recovery: the byte is read again in the start state.
    Resume,
}

/// A token kept until its value is complete: 8 bytes.
#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    /// Where its text ends in `Streamer::text` (the limit fits in 32
    /// bits).
    end: u32,
}

/// QEMU's JSON streamer and parser, one byte at a time.
#[derive(Debug)]
pub(crate) struct Streamer {
    state: State,
    /// The text of the token being read.
    token: Vec<u8>,
    /// The tokens of the value being read, their text in `text`.
    tokens: Vec<Token>,
    text: Vec<u8>,
    braces: isize,
    brackets: isize,
    /// The text of the tokens held, as QEMU counts it.
    size: usize,
    /// The largest token, and the most text of one value.
    limit: usize,
}

impl Streamer {
    /// A streamer holding at most `limit` bytes of one value's text (and
    /// 8 bytes a token); at most 4 GiB.
    pub(crate) fn new(limit: usize) -> Self {
        let limit = limit.min(u32::MAX as usize - 1);
        Self {
            state: State::Start,
            token: Vec::new(),
            tokens: Vec::new(),
            text: Vec::new(),
            braces: 0,
            brackets: 0,
            size: 0,
            limit,
        }
    }

    /// The bytes held of a value begun.
    pub(crate) fn buffered(&self) -> usize {
        self.token.len() + self.text.len()
    }

    /// Reads bytes of `input` until something completes (or `input`
    /// ends): how many it took. Runs of a string's plain characters and of
    /// garbage skipped in recovery are taken at once; the rest a byte at a
    /// time, as [`push`](Self::push) takes them.
    pub(crate) fn feed(&mut self, input: &[u8], out: &mut Vec<Parsed>) -> usize {
        let mut at = 0;
        while at < input.len() && out.is_empty() {
            let rest = &input[at..];
            let run = match self.state {
                State::DqString | State::SqString => {
                    let quote = if self.state == State::DqString {
                        b'"'
                    } else {
                        b'\''
                    };
                    let plain = rest
                        .iter()
                        .take_while(|&&b| (0x20..=0xfd).contains(&b) && b != quote && b != b'\\')
                        .count();
                    // Up to the limit: the byte beyond it is pushed alone.
                    let run = plain.min(self.limit.saturating_sub(self.token.len()));
                    push_bounded(&mut self.token, &rest[..run], self.limit + 1);
                    run
                }
                State::Recovery => rest
                    .iter()
                    .take_while(|&&b| matches!(step(State::Recovery, b), Step::Discard))
                    .count(),
                _ => 0,
            };
            if run == 0 {
                self.push(rest[0], out);
                at += 1;
            } else {
                at += run;
            }
        }
        at
    }

    /// Reads one byte: what completes with it, if anything (at most two
    /// things complete with a byte: the token before it, and an error for
    /// it).
    pub(crate) fn push(&mut self, byte: u8, out: &mut Vec<Parsed>) {
        loop {
            match step(self.state, byte) {
                Step::Next(state) => {
                    push_bounded(&mut self.token, &[byte], self.limit + 1);
                    self.state = state;
                    if self.token.len() > self.limit {
                        // A token too large: handed on as it is, which
                        // the size check refuses.
                        self.state = State::Start;
                        self.end_token(None, out);
                    }
                    return;
                }
                Step::Emit(kind) => {
                    push_bounded(&mut self.token, &[byte], self.limit + 1);
                    self.state = State::Start;
                    self.end_token(Some(kind), out);
                    return;
                }
                Step::EmitBefore(kind) => {
                    self.state = State::Start;
                    self.end_token(Some(kind), out);
                }
                Step::Skip => {
                    self.state = State::Start;
                    return;
                }
                Step::Error => {
                    self.token.push(byte);
                    let token = std::mem::take(&mut self.token);
                    self.state = State::Recovery;
                    let text = String::from_utf8_lossy(&token);
                    self.emit(
                        Parsed::Error(format!("JSON parse error, stray '{text}'")),
                        out,
                    );
                    return;
                }
                Step::Discard => return,
                Step::Resume => self.state = State::Start,
            }
        }
    }

    /// Hands the token read on to [`token_done`](Self::token_done), then
    /// keeps its buffer for the next token (unless a large token made it
    /// large): no allocation a token.
    fn end_token(&mut self, kind: Option<Kind>, out: &mut Vec<Parsed>) {
        let mut token = std::mem::take(&mut self.token);
        self.token_done(kind, &token, out);
        if token.capacity() <= 1 << 16 {
            token.clear();
            self.token = token;
        }
    }

    /// A token is complete (`None`: a token cut at the size limit).
    fn token_done(&mut self, kind: Option<Kind>, token: &[u8], out: &mut Vec<Parsed>) {
        match kind {
            Some(Kind::LeftBrace) => self.braces += 1,
            Some(Kind::RightBrace) => self.braces -= 1,
            Some(Kind::LeftBracket) => self.brackets += 1,
            Some(Kind::RightBracket) => self.brackets -= 1,
            _ => {}
        }
        if self.size + token.len() + 1 > self.limit {
            return self.emit(Parsed::Error("JSON token size limit exceeded".into()), out);
        }
        if self.tokens.len() + 1 > MAX_TOKEN_COUNT {
            return self.emit(Parsed::Error("JSON token count limit exceeded".into()), out);
        }
        if self.braces + self.brackets > MAX_NESTING as isize {
            return self.emit(Parsed::Error(TOO_DEEP.into()), out);
        }
        let Some(kind) = kind else {
            // Unreachable: a cut token exceeds the limit.
            return self.emit(Parsed::Error("JSON token size limit exceeded".into()), out);
        };
        self.size += token.len();
        push_bounded(&mut self.text, token, self.limit);
        self.tokens.push(Token {
            kind,
            end: self.text.len() as u32,
        });
        if (self.braces > 0 || self.brackets > 0) && self.braces >= 0 && self.brackets >= 0 {
            return;
        }
        let parsed = Parser {
            tokens: &self.tokens,
            text: &self.text,
            next: 0,
            error: None,
        }
        .parse();
        self.emit(parsed, out);
    }

    /// Hands on what completed and starts a new value.
    fn emit(&mut self, parsed: Parsed, out: &mut Vec<Parsed>) {
        self.braces = 0;
        self.brackets = 0;
        self.size = 0;
        self.tokens.clear();
        self.text.clear();
        // A flood of small values must not keep a large message's memory.
        if self.text.capacity() > 1 << 16 || self.tokens.capacity() > 1 << 13 {
            self.text = Vec::new();
            self.tokens = Vec::new();
        }
        if self.token.capacity() > 1 << 16 {
            self.token = Vec::new();
        }
        out.push(parsed);
    }
}

/// Appends `bytes` to `buffer`, growing it by doubling but never past
/// `limit` bytes of capacity (what it may hold).
fn push_bounded(buffer: &mut Vec<u8>, bytes: &[u8], limit: usize) {
    let needed = buffer.len() + bytes.len();
    if needed > buffer.capacity() {
        let grown = (buffer.capacity() * 2).max(64).min(limit.max(needed));
        buffer.reserve_exact(grown.max(needed) - buffer.len());
    }
    buffer.extend_from_slice(bytes);
}

/// QEMU's lexer: what `byte` does in `state`.
fn step(state: State, byte: u8) -> Step {
    use State::*;
    let structural = matches!(byte, b'[' | b']' | b'{' | b'}' | b':' | b',');
    match state {
        Recovery => match byte {
            b'\t' => Step::Discard,
            0..=0x1f | 0xfe | 0xff => Step::Resume,
            _ if structural => Step::Resume,
            _ => Step::Discard,
        },
        DqString | SqString => match byte {
            b'\\' if state == DqString => Step::Next(DqEscape),
            b'\\' => Step::Next(SqEscape),
            b'"' if state == DqString => Step::Emit(Kind::String),
            b'\'' if state == SqString => Step::Emit(Kind::String),
            0x20..=0xfd => Step::Next(state),
            _ => Step::Error,
        },
        DqEscape | SqEscape => match byte {
            0x20..=0xfd if state == DqEscape => Step::Next(DqString),
            0x20..=0xfd => Step::Next(SqString),
            _ => Step::Error,
        },
        Zero => match byte {
            b'0'..=b'9' => Step::Error,
            b'.' => Step::Next(Mantissa),
            0x80..=0xff => Step::Error,
            _ => Step::EmitBefore(Kind::Integer),
        },
        ExpDigits => match byte {
            b'0'..=b'9' => Step::Next(ExpDigits),
            0x80..=0xff => Step::Error,
            _ => Step::EmitBefore(Kind::Float),
        },
        ExpSign => match byte {
            b'0'..=b'9' => Step::Next(ExpDigits),
            _ => Step::Error,
        },
        ExpE => match byte {
            b'-' | b'+' => Step::Next(ExpSign),
            b'0'..=b'9' => Step::Next(ExpDigits),
            _ => Step::Error,
        },
        MantissaDigits => match byte {
            b'0'..=b'9' => Step::Next(MantissaDigits),
            b'e' | b'E' => Step::Next(ExpE),
            0x80..=0xff => Step::Error,
            _ => Step::EmitBefore(Kind::Float),
        },
        Mantissa => match byte {
            b'0'..=b'9' => Step::Next(MantissaDigits),
            _ => Step::Error,
        },
        Digits => match byte {
            b'0'..=b'9' => Step::Next(Digits),
            b'e' | b'E' => Step::Next(ExpE),
            b'.' => Step::Next(Mantissa),
            0x80..=0xff => Step::Error,
            _ => Step::EmitBefore(Kind::Integer),
        },
        Sign => match byte {
            b'0' => Step::Next(Zero),
            b'1'..=b'9' => Step::Next(Digits),
            _ => Step::Error,
        },
        Keyword => match byte {
            b'a'..=b'z' => Step::Next(Keyword),
            0x80..=0xff => Step::Error,
            _ => Step::EmitBefore(Kind::Keyword),
        },
        Start => match byte {
            b'"' => Step::Next(DqString),
            b'\'' => Step::Next(SqString),
            b'0' => Step::Next(Zero),
            b'1'..=b'9' => Step::Next(Digits),
            b'-' => Step::Next(Sign),
            b'{' => Step::Emit(Kind::LeftBrace),
            b'}' => Step::Emit(Kind::RightBrace),
            b'[' => Step::Emit(Kind::LeftBracket),
            b']' => Step::Emit(Kind::RightBracket),
            b',' => Step::Emit(Kind::Comma),
            b':' => Step::Emit(Kind::Colon),
            b'a'..=b'z' => Step::Next(Keyword),
            b' ' | b'\t' | b'\r' | b'\n' => Step::Skip,
            _ => Step::Error,
        },
    }
}

/// QEMU's parser, over the tokens of one value: the first error it meets
/// is the one reported.
struct Parser<'a> {
    tokens: &'a [Token],
    text: &'a [u8],
    next: usize,
    error: Option<String>,
}

impl Parser<'_> {
    fn parse(mut self) -> Parsed {
        let value = if self.peek() == Some(Kind::LeftBrace) {
            self.object(true)
        } else {
            self.value()
        };
        match (value, self.error) {
            (_, Some(error)) => Parsed::Error(error),
            (Some(Top::Object(map, order)), None) => Parsed::Object(map, order),
            (Some(Top::Value(value)), None) => Parsed::Other(value),
            (None, None) => Parsed::Error("JSON parse error, premature EOI".into()),
        }
    }

    fn fail(&mut self, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(format!("JSON parse error, {}", message.into()));
        }
    }

    fn peek(&self) -> Option<Kind> {
        self.tokens.get(self.next).map(|t| t.kind)
    }

    /// Takes the next token: its kind and text.
    fn pop(&mut self) -> Option<(Kind, &[u8])> {
        let token = self.tokens.get(self.next)?;
        let start = match self.next {
            0 => 0,
            n => self.tokens[n - 1].end as usize,
        };
        self.next += 1;
        Some((token.kind, &self.text[start..token.end as usize]))
    }

    fn value(&mut self) -> Option<Top> {
        match self.peek() {
            None => {
                self.fail("premature EOI");
                None
            }
            Some(Kind::LeftBrace) => self.object(false),
            Some(Kind::LeftBracket) => self.array().map(Top::Value),
            Some(Kind::Integer | Kind::Float | Kind::String) => self.literal().map(Top::Value),
            Some(Kind::Keyword) => self.keyword().map(Top::Value),
            Some(_) => {
                self.fail("expecting value");
                None
            }
        }
    }

    fn plain(&mut self) -> Option<Value> {
        self.value().map(Top::into_value)
    }

    /// An object; with `ordered`, the order of its keys is kept.
    fn object(&mut self, ordered: bool) -> Option<Top> {
        self.pop();
        let mut map = Map::new();
        let mut order = Vec::new();
        if self.peek().is_none() {
            self.fail("premature EOI");
            return None;
        }
        if self.peek() == Some(Kind::RightBrace) {
            self.pop();
        } else {
            self.pair(&mut map, &mut order, ordered)?;
            loop {
                match self.pop().map(|(kind, _)| kind) {
                    None => {
                        self.fail("premature EOI");
                        return None;
                    }
                    Some(Kind::RightBrace) => break,
                    Some(Kind::Comma) => self.pair(&mut map, &mut order, ordered)?,
                    Some(_) => {
                        self.fail("expected separator in dict");
                        return None;
                    }
                }
            }
        }
        Some(if ordered {
            Top::Object(map, order)
        } else {
            Top::Value(Value::Object(map))
        })
    }

    fn pair(
        &mut self,
        map: &mut Map<String, Value>,
        order: &mut Vec<String>,
        ordered: bool,
    ) -> Option<()> {
        if self.peek().is_none() {
            self.fail("premature EOI");
            return None;
        }
        let key = match self.plain() {
            Some(Value::String(key)) => key,
            _ => {
                self.fail("key is not a string in object");
                return None;
            }
        };
        match self.pop().map(|(kind, _)| kind) {
            None => {
                self.fail("premature EOI");
                return None;
            }
            Some(Kind::Colon) => {}
            Some(_) => {
                self.fail("missing : in object pair");
                return None;
            }
        }
        let Some(value) = self.plain() else {
            self.fail("Missing value in dict");
            return None;
        };
        if map.contains_key(&key) {
            self.fail("duplicate key");
            return None;
        }
        if ordered {
            order.push(key.clone());
        }
        map.insert(key, value);
        Some(())
    }

    fn array(&mut self) -> Option<Value> {
        self.pop();
        let mut list = Vec::new();
        if self.peek().is_none() {
            self.fail("premature EOI");
            return None;
        }
        if self.peek() == Some(Kind::RightBracket) {
            self.pop();
            return Some(Value::Array(list));
        }
        let Some(first) = self.plain() else {
            self.fail("expecting value");
            return None;
        };
        list.push(first);
        loop {
            match self.pop().map(|(kind, _)| kind) {
                None => {
                    self.fail("premature EOI");
                    return None;
                }
                Some(Kind::RightBracket) => return Some(Value::Array(list)),
                Some(Kind::Comma) => {
                    let Some(value) = self.plain() else {
                        self.fail("expecting value");
                        return None;
                    };
                    list.push(value);
                }
                Some(_) => {
                    self.fail("expected separator in list");
                    return None;
                }
            }
        }
    }

    fn keyword(&mut self) -> Option<Value> {
        let (_, text) = self.pop()?;
        match text {
            b"true" => Some(Value::Bool(true)),
            b"false" => Some(Value::Bool(false)),
            b"null" => Some(Value::Null),
            other => {
                let text = String::from_utf8_lossy(other).into_owned();
                self.fail(format!("invalid keyword '{text}'"));
                None
            }
        }
    }

    fn literal(&mut self) -> Option<Value> {
        let (kind, text) = self.pop()?;
        match kind {
            Kind::String => match string(text) {
                Ok(text) => Some(Value::String(text)),
                Err(message) => {
                    self.fail(message);
                    None
                }
            },
            _ => Some(number(kind, text)),
        }
    }
}

/// A value at the top, where an object keeps its keys' order.
enum Top {
    Object(Map<String, Value>, Vec<String>),
    Value(Value),
}

impl Top {
    fn into_value(self) -> Value {
        match self {
            Top::Object(map, _) => Value::Object(map),
            Top::Value(value) => value,
        }
    }
}

/// A number as QEMU reads it: a 64-bit signed integer if it fits, else
/// unsigned, else a double (infinity, which JSON can't write, as `null`).
fn number(kind: Kind, text: &[u8]) -> Value {
    let text = std::str::from_utf8(text).unwrap_or("0");
    if kind == Kind::Integer {
        if let Ok(value) = text.parse::<i64>() {
            return Value::Number(value.into());
        }
        if let Ok(value) = text.parse::<u64>() {
            return Value::Number(value.into());
        }
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// A string token's text (quotes included) as QEMU decodes it, or the
/// error it reports.
fn string(token: &[u8]) -> Result<String, String> {
    let quote = token[0];
    let mut out = String::new();
    let mut at = 1;
    while at < token.len() && token[at] != quote {
        if token[at] == b'\\' {
            let begin = at;
            at += 1;
            let escape = token.get(at).copied().unwrap_or(0);
            at += 1;
            let c = match escape {
                b'"' => '"',
                b'\'' => '\'',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let mut cp = hex4(token.get(at..));
                    at += 4;
                    if (0xd800..=0xdbff).contains(&cp)
                        && token.get(at) == Some(&b'\\')
                        && token.get(at + 1) == Some(&b'u')
                    {
                        let trailing = hex4(token.get(at + 2..));
                        if (0xdc00..=0xdfff).contains(&trailing) {
                            cp = (0x10000 + ((cp & 0x3ff) << 10)) | (trailing & 0x3ff);
                            at += 6;
                        } else {
                            cp = -1;
                        }
                    }
                    match valid_codepoint(cp) {
                        Some(c) => c,
                        None => {
                            let end = at.min(token.len());
                            let text = String::from_utf8_lossy(&token[begin..end]);
                            return Err(format!("{text} is not a valid Unicode character"));
                        }
                    }
                }
                _ => return Err("invalid escape sequence in string".into()),
            };
            out.push(c);
            continue;
        }
        let (cp, len) = utf8_codepoint(&token[at..]);
        match valid_codepoint(cp) {
            Some(c) => out.push(c),
            None => return Err("invalid UTF-8 sequence in string".into()),
        }
        at += len;
    }
    Ok(out)
}

/// Four hex digits, or -1.
fn hex4(digits: Option<&[u8]>) -> i64 {
    let Some(digits) = digits.filter(|d| d.len() >= 4) else {
        return -1;
    };
    let mut cp = 0;
    for &d in &digits[..4] {
        let Some(value) = (d as char).to_digit(16) else {
            return -1;
        };
        cp = cp << 4 | i64::from(value);
    }
    cp
}

/// A code point QEMU accepts in a string: Unicode's, but no surrogate and
/// no noncharacter.
fn valid_codepoint(cp: i64) -> Option<char> {
    if !(0..=0x10ffff).contains(&cp) || (0xfdd0..=0xfdef).contains(&cp) || cp & 0xfffe == 0xfffe {
        return None;
    }
    char::from_u32(cp as u32)
}

/// Decodes one UTF-8 sequence as QEMU's modified UTF-8 does (`C0 80` is
/// NUL; overlong forms, stray continuation bytes, `FE` and `FF` are
/// invalid): the code point (-1 when invalid) and the bytes taken.
fn utf8_codepoint(bytes: &[u8]) -> (i64, usize) {
    let first = bytes[0];
    if first < 0x80 {
        return (i64::from(first), 1);
    }
    if first >= 0xfe || first & 0x40 == 0 {
        return (-1, 1);
    }
    let len = first.leading_ones() as usize;
    let mut cp = i64::from(first & (0x7f >> len));
    for i in 1..len {
        match bytes.get(i) {
            Some(&byte) if byte & 0xc0 == 0x80 => cp = cp << 6 | i64::from(byte & 0x3f),
            _ => return (-1, i),
        }
    }
    let min = [0x80, 0x800, 0x10000, 0x200000, 0x4000000][len - 2];
    if cp < min && !(len == 2 && cp == 0) {
        return (-1, len);
    }
    (cp, len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feed(input: &[u8]) -> Vec<Parsed> {
        let mut streamer = Streamer::new(64 << 20);
        let mut out = Vec::new();
        for &byte in input {
            streamer.push(byte, &mut out);
        }
        out
    }

    fn error(text: &str) -> Parsed {
        Parsed::Error(text.into())
    }

    #[test]
    fn values_are_cut_where_brackets_balance_not_at_lines() {
        let out = feed(b"{\"execute\":\n\"stop\", 'id': 1}[1,\n2] 3 \"x\"");
        let mut map = Map::new();
        map.insert("execute".into(), json!("stop"));
        map.insert("id".into(), json!(1));
        assert_eq!(
            out,
            [
                Parsed::Object(map, vec!["execute".into(), "id".into()]),
                Parsed::Other(json!([1, 2])),
                Parsed::Other(json!(3)),
                Parsed::Other(json!("x")),
            ]
        );
    }

    #[test]
    fn errors_are_qemus() {
        assert_eq!(
            feed(b"foo!\n"),
            [
                error("JSON parse error, invalid keyword 'foo'"),
                error("JSON parse error, stray '!'")
            ]
        );
        assert_eq!(
            feed(b"007}\n"),
            [
                error("JSON parse error, stray '00'"),
                error("JSON parse error, expecting value")
            ]
        );
        assert_eq!(
            feed(b"{\"a\":1,\"a\":2}"),
            [error("JSON parse error, duplicate key")]
        );
        assert_eq!(
            feed(b"\"\\ud800\""),
            [error(
                "JSON parse error, \\ud800 is not a valid Unicode character"
            )]
        );
        assert_eq!(
            feed(b"\"a\x01b\"\n"),
            [error("JSON parse error, stray '\"a\u{1}'")]
        );
        let deep = [b'['; MAX_NESTING + 1];
        assert_eq!(feed(&deep), [error("JSON nesting depth limit exceeded")]);
    }

    #[test]
    fn garbage_is_skipped_to_the_next_structural_character() {
        let out = feed(b"\xff junk {\"id\": 1}");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], error("JSON parse error, stray '\u{fffd}'"));
        assert!(matches!(out[1], Parsed::Object(..)));
    }

    #[test]
    fn feeding_runs_reads_as_pushing_bytes() {
        let input = b"{'a\\'b': \"xyz\\u00e9\"} junk\xff\t[\"\x01 more ]\"abc\"";
        for limit in [4, 8, 1 << 10] {
            let mut fed = Vec::new();
            let mut streamer = Streamer::new(limit);
            let mut at = 0;
            while at < input.len() {
                let mut out = Vec::new();
                at += streamer.feed(&input[at..], &mut out);
                fed.extend(out);
            }
            let mut pushed = Vec::new();
            let mut streamer = Streamer::new(limit);
            for &byte in input.iter() {
                streamer.push(byte, &mut pushed);
            }
            assert_eq!(fed, pushed, "limit {limit}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any bytes, any limit, cut anywhere: no panic, the same values
        /// fed in runs as pushed a byte at a time, and never more held
        /// than the limit allows.
        #[test]
        fn any_input_is_read_alike_and_bounded(
            input in proptest::collection::vec(
                proptest::prelude::prop_oneof![
                    proptest::prelude::any::<u8>(),
                    proptest::sample::select(b"{}[]:,\"'\\ ae1-.0".to_vec()),
                ],
                0..400,
            ),
            limit in 1usize..64,
            cut in 1usize..17,
        ) {
            let mut fed = Vec::new();
            let mut streamer = Streamer::new(limit);
            for chunk in input.chunks(cut) {
                let mut at = 0;
                while at < chunk.len() {
                    let mut out = Vec::new();
                    at += streamer.feed(&chunk[at..], &mut out);
                    fed.extend(out);
                    proptest::prop_assert!(streamer.buffered() <= 2 * limit + 1);
                }
            }
            let mut pushed = Vec::new();
            let mut streamer = Streamer::new(limit);
            for &byte in &input {
                streamer.push(byte, &mut pushed);
            }
            proptest::prop_assert_eq!(fed, pushed);
        }
    }

    #[test]
    fn numbers_are_integers_where_they_fit() {
        assert_eq!(
            feed(b"[-0.5e3, 18446744073709551615, -1, 1e400]"),
            [Parsed::Other(json!([-500.0, u64::MAX, -1, null]))]
        );
    }

    #[test]
    fn a_value_larger_than_the_limit_is_refused_and_not_held() {
        let mut streamer = Streamer::new(100);
        let mut out = Vec::new();
        for &byte in b"[\"" {
            streamer.push(byte, &mut out);
        }
        for _ in 0..1000 {
            streamer.push(b'a', &mut out);
            assert!(streamer.buffered() <= 102);
        }
        assert_eq!(out[0], error("JSON token size limit exceeded"));
    }
}
