//! Reads schema files: tokens, values, directives and doc comments.
//!
//! The lexer and parser follow QEMU's `scripts/qapi/parser.py` token for
//! token, so that exactly the same files are accepted, but every value keeps
//! its position and nothing is parsed by rewriting text into JSON.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::frontend::diagnostic::Diagnostic;
use crate::frontend::doc::{self, Doc, DocEnd, DocLine, DocReporter};
use crate::frontend::error::describe_io_error;
use crate::frontend::pragma::Pragma;
use crate::frontend::source::{FileId, SourceMap, Span};
use crate::frontend::value::{Entry, Node, Object, Value};

/// How deeply values may nest. QAPI schemas nest a handful of levels; the
/// limit keeps hostile input from exhausting the stack.
const MAX_DEPTH: usize = 64;

/// One top-level item of a schema, in source order across all files.
#[derive(Debug)]
pub(crate) enum Item {
    /// A definition expression and the doc comment right before it.
    Definition { node: Node, doc: Option<Doc> },
    /// An include directive; the included file's items follow it.
    Include { span: Span, file: Option<FileId> },
    /// A free-form doc comment.
    FreeDoc(Doc),
}

/// The result of reading a schema and everything it includes.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub items: Vec<Item>,
    pub pragma: Pragma,
}

/// Why reading a schema stopped.
#[derive(Debug)]
pub(crate) enum ParseError {
    /// The root file could not be read.
    Io(std::io::Error),
    /// A syntax error (or a doc-comment error under strict rules).
    Invalid(Diagnostic),
}

/// Reads the schema at `path` and all files it includes.
///
/// Syntax errors stop the reading, as they do in QEMU; doc-comment problems
/// are reported through `reporter`, which may downgrade them to warnings.
pub(crate) fn parse_schema(
    path: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    sources: &mut SourceMap,
    reporter: &mut DocReporter,
) -> Result<Parsed, ParseError> {
    let text = read(path).map_err(ParseError::Io)?;
    let file = sources.add(path.to_path_buf(), None);
    let mut state = State {
        read,
        sources,
        reporter,
        included: HashMap::new(),
        items: Vec::new(),
        pragma: Pragma::default(),
        doc_text: String::new(),
    };
    state.included.insert(absolute(path), file);
    let result = state.parse_file(file, &text);
    match result {
        Ok(()) => Ok(Parsed {
            items: state.items,
            pragma: state.pragma,
        }),
        Err(diag) => Err(ParseError::Invalid(diag)),
    }
}

/// `os.path.abspath`: absolute and lexically normalised, symlinks kept.
fn absolute(path: &Path) -> PathBuf {
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

struct State<'s> {
    read: &'s dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    sources: &'s mut SourceMap,
    reporter: &'s mut DocReporter,
    /// The files read, by absolute path (made absolute once: that asks
    /// the system for the working directory).
    included: HashMap<PathBuf, FileId>,
    items: Vec<Item>,
    pragma: Pragma,
    /// The buffer doc comments gather a section's text in, kept from one
    /// comment to the next.
    doc_text: String,
}

impl State<'_> {
    fn parse_file(&mut self, file: FileId, bytes: &[u8]) -> Result<(), Diagnostic> {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                let valid = &bytes[..err.valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                let prefix = std::str::from_utf8(&valid[line_start..]).unwrap_or_default();
                let span = Span {
                    file,
                    line: saturate(line),
                    col: column(prefix),
                };
                return Err(Diagnostic::error(span, "file is not valid UTF-8"));
            }
        };
        let mut src = String::with_capacity(text.len() + 1);
        src.push_str(text);
        if !src.ends_with('\n') {
            src.push('\n');
        }
        let mut lexer = Lexer::new(&src, file);
        lexer.accept(true)?;
        let mut cur_doc: Option<Doc> = None;
        // The lines of a doc comment, the buffer kept from one to the next.
        let mut doc_lines = Vec::new();
        while lexer.tok != Tok::Eof {
            let span = lexer.span();
            if lexer.tok == Tok::Comment {
                self.reject_expr_doc(cur_doc.take())?;
                cur_doc = Some(self.parse_doc(&mut lexer, &mut doc_lines)?);
                continue;
            }
            let node = lexer.value(0)?;
            let Value::Object(object) = &node.value else {
                return Err(Diagnostic::error(
                    span,
                    "top-level expression must be an object",
                ));
            };
            if object.contains("include") {
                self.reject_expr_doc(cur_doc.take())?;
                self.include(file, span, object)?;
            } else if object.contains("pragma") {
                self.reject_expr_doc(cur_doc.take())?;
                self.pragma(span, object)?;
            } else {
                let mut doc = cur_doc.take();
                if let Some(d) = &doc {
                    if d.symbol.is_none() {
                        self.reporter
                            .report(Diagnostic::doc(d.span, "definition documentation required"))?;
                        self.items
                            .push(Item::FreeDoc(doc.take().expect("checked above")));
                    }
                }
                self.items.push(Item::Definition { node, doc });
            }
        }
        self.reject_expr_doc(cur_doc)
    }

    /// A definition doc comment must be followed by its definition.
    fn reject_expr_doc(&mut self, doc: Option<Doc>) -> Result<(), Diagnostic> {
        let Some(doc) = doc else { return Ok(()) };
        if let Some(symbol) = &doc.symbol {
            self.reporter.report(Diagnostic::doc(
                doc.span,
                format!("documentation for '{symbol}' is not followed by the definition"),
            ))?;
        }
        self.items.push(Item::FreeDoc(doc));
        Ok(())
    }

    fn parse_doc<'a>(
        &mut self,
        lexer: &mut Lexer<'a>,
        lines: &mut Vec<DocLine<'a>>,
    ) -> Result<Doc, Diagnostic> {
        let start = lexer.span();
        let opening = lexer.comment_text();
        lines.clear();
        let end = loop {
            lexer.accept(false)?;
            if lexer.tok != Tok::Comment {
                break DocEnd::Unterminated(lexer.span());
            }
            let text = lexer.comment_text();
            if text.starts_with("##") {
                break DocEnd::Closed(lexer.span(), text);
            }
            lines.push(DocLine {
                span: lexer.span(),
                text,
            });
        };
        let closed = matches!(end, DocEnd::Closed(..));
        let doc = doc::parse(
            start,
            opening,
            lines,
            end,
            self.reporter,
            &mut self.doc_text,
        )?;
        if closed {
            lexer.accept(true)?;
        }
        Ok(doc)
    }

    fn include(&mut self, file: FileId, span: Span, object: &Object) -> Result<(), Diagnostic> {
        if object.len() != 1 {
            return Err(Diagnostic::error(span, "invalid 'include' directive"));
        }
        let Some(include) = object.get("include").and_then(|n| n.value.as_str()) else {
            return Err(Diagnostic::error(
                span,
                "value of 'include' must be a string",
            ));
        };
        let including = self.sources.path(file).to_path_buf();
        let incl_path = including
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(include);
        let incl_abs = absolute(&incl_path);
        if let Some(&read) = self.included.get(&incl_abs) {
            // An include loop: the file is one of the files including
            // this one. Otherwise it was read already, and is skipped.
            let mut ancestor = Some(file);
            while let Some(id) = ancestor {
                if id == read {
                    return Err(Diagnostic::error(
                        span,
                        format!("inclusion loop for {include}"),
                    ));
                }
                ancestor = self.sources.file(id).included_from.map(|s| s.file);
            }
            self.items.push(Item::Include { span, file: None });
            return Ok(());
        }
        let bytes = (self.read)(&incl_path).map_err(|err| {
            Diagnostic::error(
                span,
                format!(
                    "can't read include file '{}': {}",
                    incl_path.display(),
                    describe_io_error(&err)
                ),
            )
        })?;
        let id = self.sources.add(incl_path, Some(span));
        self.included.insert(incl_abs, id);
        self.items.push(Item::Include {
            span,
            file: Some(id),
        });
        self.parse_file(id, &bytes)
    }

    fn pragma(&mut self, span: Span, object: &Object) -> Result<(), Diagnostic> {
        if object.len() != 1 {
            return Err(Diagnostic::error(span, "invalid 'pragma' directive"));
        }
        let Some(Value::Object(pragmas)) = object.get("pragma").map(|n| &n.value) else {
            return Err(Diagnostic::error(
                span,
                "value of 'pragma' must be an object",
            ));
        };
        for Entry { key, value, .. } in &pragmas.entries {
            let list = || -> Result<Vec<String>, Diagnostic> {
                let strings = match &value.value {
                    Value::Array(items) => items
                        .iter()
                        .map(|item| item.value.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>(),
                    _ => None,
                };
                strings.ok_or_else(|| {
                    Diagnostic::error(span, format!("pragma {key} must be a list of strings"))
                })
            };
            match key.as_str() {
                "doc-required" => match value.value {
                    Value::Bool(b) => self.pragma.doc_required = b,
                    _ => {
                        return Err(Diagnostic::error(
                            span,
                            "pragma 'doc-required' must be boolean",
                        ))
                    }
                },
                "command-name-exceptions" => self.pragma.command_name_exceptions = list()?,
                "command-returns-exceptions" => self.pragma.command_returns_exceptions = list()?,
                "documentation-exceptions" => self.pragma.documentation_exceptions = list()?,
                "member-name-exceptions" => self.pragma.member_name_exceptions = list()?,
                _ => return Err(Diagnostic::error(span, format!("unknown pragma '{key}'"))),
            }
        }
        Ok(())
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The 1-based column after `prefix`, tabs expanded to multiples of eight.
fn column(prefix: &str) -> u32 {
    let mut col: usize = 1;
    for ch in prefix.chars() {
        if ch == '\t' {
            col = (col - 1) / 8 * 8 + 9;
        } else {
            col += 1;
        }
    }
    saturate(col)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Punct(u8),
    Str(String),
    Bool(bool),
    /// A comment; its text is `src[pos..cursor]`.
    Comment,
    Eof,
}

/// QEMU's schema lexer, with positions.
struct Lexer<'a> {
    src: &'a str,
    file: FileId,
    line: u32,
    line_start: usize,
    /// Whether the current line so far has a tab or a non-ASCII character,
    /// so that columns must be counted rather than subtracted.
    line_is_irregular: bool,
    pos: usize,
    cursor: usize,
    tok: Tok,
}

impl<'a> Lexer<'a> {
    /// `src` must end with a newline.
    fn new(src: &'a str, file: FileId) -> Self {
        Self {
            src,
            file,
            line: 1,
            line_start: 0,
            line_is_irregular: false,
            pos: 0,
            cursor: 0,
            tok: Tok::Eof,
        }
    }

    /// The position of the current token.
    fn span(&self) -> Span {
        let col = if self.line_is_irregular {
            column(&self.src[self.line_start..self.pos])
        } else {
            saturate(self.pos - self.line_start + 1)
        };
        Span {
            file: self.file,
            line: self.line,
            col,
        }
    }

    fn error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.span(), message)
    }

    /// The text of the current comment token, `#` included.
    fn comment_text(&self) -> &'a str {
        &self.src[self.pos..self.cursor]
    }

    /// Reads the next token. Comments are skipped unless `skip_comment` is
    /// false or the comment starts a doc comment (`##`).
    fn accept(&mut self, skip_comment: bool) -> Result<(), Diagnostic> {
        let bytes = self.src.as_bytes();
        loop {
            self.pos = self.cursor;
            let c = bytes[self.cursor];
            self.cursor += 1;
            match c {
                b'#' => {
                    let doc_start = bytes[self.cursor] == b'#';
                    let nl = self.src[self.cursor..]
                        .find('\n')
                        .map_or(self.src.len() - 1, |i| self.cursor + i);
                    self.cursor = nl;
                    if !skip_comment || doc_start {
                        self.tok = Tok::Comment;
                        return Ok(());
                    }
                }
                b'{' | b'}' | b':' | b',' | b'[' | b']' => {
                    self.tok = Tok::Punct(c);
                    return Ok(());
                }
                b'\'' => {
                    self.tok = Tok::Str(self.string()?);
                    return Ok(());
                }
                b'\n' => {
                    if self.cursor == bytes.len() {
                        self.tok = Tok::Eof;
                        return Ok(());
                    }
                    self.line = self.line.saturating_add(1);
                    self.line_start = self.cursor;
                    self.line_is_irregular = false;
                }
                // Indentation: a run of spaces at once.
                b' ' | b'\r' => {
                    while bytes[self.cursor] == b' ' {
                        self.cursor += 1;
                    }
                }
                b't' if self.src[self.pos..].starts_with("true") => {
                    self.cursor = self.pos + 4;
                    self.tok = Tok::Bool(true);
                    return Ok(());
                }
                b'f' if self.src[self.pos..].starts_with("false") => {
                    self.cursor = self.pos + 5;
                    self.tok = Tok::Bool(false);
                    return Ok(());
                }
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or(' ');
                    self.cursor = self.pos + ch.len_utf8();
                    self.line_is_irregular = true;
                    if !is_python_space(ch) {
                        let stray: String = self.src[self.pos..]
                            .chars()
                            .take_while(|&c| {
                                !matches!(c, '[' | ']' | '{' | '}' | ':' | ',' | '\'')
                                    && !is_python_space(c)
                            })
                            .collect();
                        return Err(self.error(format!("stray '{stray}'")));
                    }
                }
            }
        }
    }

    /// Reads a string after its opening quote.
    fn string(&mut self) -> Result<String, Diagnostic> {
        let bytes = self.src.as_bytes();
        // Fast path: printable ASCII without escapes up to the closing quote.
        let start = self.cursor;
        let plain = bytes[start..]
            .iter()
            .position(|&b| !(b' '..=b'~').contains(&b) || b == b'\\' || b == b'\'');
        if let Some(len) = plain {
            if bytes[start + len] == b'\'' {
                self.cursor = start + len + 1;
                return Ok(self.src[start..start + len].to_string());
            }
        }
        let mut out = String::new();
        let mut escaped = false;
        loop {
            let Some(ch) = self.src[self.cursor..].chars().next() else {
                return Err(self.error("missing terminating \"'\""));
            };
            self.cursor += ch.len_utf8();
            if ch == '\n' {
                return Err(self.error("missing terminating \"'\""));
            }
            if escaped {
                if ch != '\\' {
                    return Err(self.error(format!("unknown escape \\{ch}")));
                }
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
                continue;
            } else if ch == '\'' {
                return Ok(out);
            }
            if !(' '..='~').contains(&ch) {
                return Err(self.error("funny character in string"));
            }
            out.push(ch);
        }
    }

    /// Parses one value starting at the current token.
    fn value(&mut self, depth: usize) -> Result<Node, Diagnostic> {
        let span = self.span();
        if depth > MAX_DEPTH && matches!(self.tok, Tok::Punct(b'{' | b'[')) {
            return Err(self.error(format!("values nest deeper than {MAX_DEPTH} levels")));
        }
        let value = match std::mem::replace(&mut self.tok, Tok::Eof) {
            Tok::Punct(b'{') => {
                self.accept(true)?;
                Value::Object(self.members(depth)?)
            }
            Tok::Punct(b'[') => {
                self.accept(true)?;
                Value::Array(self.values(depth)?)
            }
            Tok::Str(s) => {
                self.accept(true)?;
                Value::Str(s)
            }
            Tok::Bool(b) => {
                self.accept(true)?;
                Value::Bool(b)
            }
            other => {
                self.tok = other;
                return Err(self.error("expected '{', '[', string, or boolean"));
            }
        };
        Ok(Node { span, value })
    }

    fn members(&mut self, depth: usize) -> Result<Object, Diagnostic> {
        let mut object = Object::default();
        if self.tok == Tok::Punct(b'}') {
            self.accept(true)?;
            return Ok(object);
        }
        if !matches!(self.tok, Tok::Str(_)) {
            return Err(self.error("expected string or '}'"));
        }
        loop {
            let key_span = self.span();
            let Tok::Str(key) = std::mem::replace(&mut self.tok, Tok::Eof) else {
                unreachable!("checked before the loop and at its end")
            };
            self.accept(true)?;
            if self.tok != Tok::Punct(b':') {
                return Err(self.error("expected ':'"));
            }
            self.accept(true)?;
            if object.contains(&key) {
                return Err(Diagnostic::error(
                    key_span,
                    format!("duplicate key '{key}'"),
                ));
            }
            let value = self.value(depth + 1)?;
            object.entries.push(Entry {
                key,
                key_span,
                value,
            });
            if self.tok == Tok::Punct(b'}') {
                self.accept(true)?;
                return Ok(object);
            }
            if self.tok != Tok::Punct(b',') {
                return Err(self.error("expected ',' or '}'"));
            }
            self.accept(true)?;
            if !matches!(self.tok, Tok::Str(_)) {
                return Err(self.error("expected string"));
            }
        }
    }

    fn values(&mut self, depth: usize) -> Result<Vec<Node>, Diagnostic> {
        let mut values = Vec::new();
        if self.tok == Tok::Punct(b']') {
            self.accept(true)?;
            return Ok(values);
        }
        if !matches!(
            self.tok,
            Tok::Punct(b'{' | b'[') | Tok::Str(_) | Tok::Bool(_)
        ) {
            return Err(self.error("expected '{', '[', ']', string, or boolean"));
        }
        loop {
            values.push(self.value(depth + 1)?);
            if self.tok == Tok::Punct(b']') {
                self.accept(true)?;
                return Ok(values);
            }
            if self.tok != Tok::Punct(b',') {
                return Err(self.error("expected ',' or ']'"));
            }
            self.accept(true)?;
        }
    }
}

/// Python's `str.isspace`, which QEMU's lexer uses to skip white space.
fn is_python_space(ch: char) -> bool {
    ch.is_whitespace() || ('\x1c'..='\x1f').contains(&ch)
}
