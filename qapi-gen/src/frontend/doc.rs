//! Documentation comments: `##` blocks, parsed as QEMU 10.0 parses them.

use crate::frontend::diagnostic::{Diagnostic, Severity};
use crate::frontend::source::Span;

/// How doc-comment problems are treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DocRules {
    /// Today's rules: a doc-comment problem is an error (`cargo qapi check`).
    #[default]
    Strict,
    /// Doc-comment problems are warnings, so that schemas of older QEMU
    /// releases, whose doc comments today's rules reject, still load.
    Lenient,
}

/// A documentation comment block: free-form, or documenting a definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Doc {
    /// Where the block starts (its opening `##`).
    pub span: Span,
    /// The documented definition's name (`# @Name:`); `None` for free-form
    /// documentation.
    pub symbol: Option<String>,
    /// The sections in source order. The first is always the untagged body
    /// (possibly empty).
    pub sections: Vec<Section>,
}

/// One section of a doc comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Where the section starts.
    pub span: Span,
    /// What the section is.
    pub kind: SectionKind,
    /// The text, without its tag, leading and trailing blank lines removed,
    /// continuation lines keeping their indentation (it is rST).
    pub text: String,
}

/// The kinds of doc-comment section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// Untagged text: the body or a later paragraph.
    Plain,
    /// `@name: ...`: a member, argument, enum value or branch.
    Member(String),
    /// `@name: ...` after `Features:`.
    Feature(String),
    /// `Returns: ...` (commands only).
    Returns,
    /// `Errors: ...` (commands only).
    Errors,
    /// `Since: ...`.
    Since,
    /// `TODO: ...`: for developers, not rendered.
    Todo,
    /// `Note:`/`Notes:` as older QEMU releases wrote them; rejected by
    /// today's rules. Holds the tag as written.
    LegacyNote(String),
    /// `Example:`/`Examples:` as older QEMU releases wrote them; rejected by
    /// today's rules. Holds the tag as written.
    LegacyExample(String),
}

impl SectionKind {
    fn tag(&self) -> &str {
        match self {
            SectionKind::Plain => "Plain",
            SectionKind::Member(_) => "Member",
            SectionKind::Feature(_) => "Feature",
            SectionKind::Returns => "Returns",
            SectionKind::Errors => "Errors",
            SectionKind::Since => "Since",
            SectionKind::Todo => "Todo",
            SectionKind::LegacyNote(tag) | SectionKind::LegacyExample(tag) => tag,
        }
    }
}

impl Doc {
    /// The untagged text right after the symbol line.
    pub fn body(&self) -> &str {
        &self.sections[0].text
    }

    /// The description of a member, argument, enum value or branch.
    pub fn member(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| matches!(&s.kind, SectionKind::Member(n) if n == name))
    }

    /// The description of a feature.
    pub fn feature(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| matches!(&s.kind, SectionKind::Feature(n) if n == name))
    }

    /// The first section of the given kind.
    pub fn section(&self, kind: &SectionKind) -> Option<&Section> {
        self.sections.iter().find(|s| &s.kind == kind)
    }

    /// The `Since:` text.
    pub fn since(&self) -> Option<&str> {
        self.section(&SectionKind::Since).map(|s| s.text.as_str())
    }

    /// For free-form documentation starting with `= Title`: the heading
    /// level (number of `=`) and its text.
    pub fn heading(&self) -> Option<(usize, &str)> {
        if self.symbol.is_some() {
            return None;
        }
        let first = self.body().lines().next()?;
        let level = first.bytes().take_while(|&b| b == b'=').count();
        let title = first[level..].strip_prefix(' ')?;
        (level > 0).then_some((level, title.trim()))
    }
}

/// Receives doc-comment problems: an error under [`DocRules::Strict`], a
/// warning (and parsing goes on) under [`DocRules::Lenient`].
#[derive(Debug)]
pub(crate) struct DocReporter {
    rules: DocRules,
    /// Problems downgraded to warnings.
    pub warnings: Vec<Diagnostic>,
}

impl DocReporter {
    /// Whether problems are warnings (older releases' doc comments).
    pub(crate) fn lenient(&self) -> bool {
        self.rules == DocRules::Lenient
    }

    pub(crate) fn new(rules: DocRules) -> Self {
        Self {
            rules,
            warnings: Vec::new(),
        }
    }

    /// Reports a problem; `Err` when it must stop the reading.
    pub(crate) fn report(&mut self, diag: Diagnostic) -> Result<(), Diagnostic> {
        match self.rules {
            DocRules::Strict => Err(diag),
            DocRules::Lenient => {
                self.warnings.push(Diagnostic {
                    severity: Severity::Warning,
                    ..diag
                });
                Ok(())
            }
        }
    }
}

/// One `#` line inside a doc comment, `#` included.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DocLine<'a> {
    pub span: Span,
    pub text: &'a str,
}

/// How a doc comment's lines ended.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DocEnd<'a> {
    /// By a line starting with `##` (which should be exactly `##`).
    Closed(Span, &'a str),
    /// By something that is not a comment, at this position.
    Unterminated(Span),
}

/// Parses a doc comment from its opening line, body lines and end; `text`
/// is a buffer for the sections' text, kept from one comment to the next.
pub(crate) fn parse(
    start: Span,
    opening: &str,
    lines: &[DocLine<'_>],
    end: DocEnd<'_>,
    reporter: &mut DocReporter,
    text: &mut String,
) -> Result<Doc, Diagnostic> {
    text.clear();
    if opening != "##" {
        reporter.report(Diagnostic::doc(
            start,
            "junk after '##' at start of documentation comment",
        ))?;
    }
    let mut parser = DocParser {
        lines,
        next: 0,
        end,
        span: start,
        reporter,
        doc: Doc {
            span: start,
            symbol: None,
            sections: vec![Section {
                span: start,
                kind: SectionKind::Plain,
                text: String::new(),
            }],
        },
        has_features: false,
        text,
    };
    parser.run()?;
    parser.finish()
}

struct DocParser<'l, 'r, 't> {
    lines: &'l [DocLine<'l>],
    next: usize,
    end: DocEnd<'l>,
    /// Position of the line last read.
    span: Span,
    reporter: &'r mut DocReporter,
    doc: Doc,
    has_features: bool,
    /// The last section's text so far: moved into the section, trimmed,
    /// when another starts or the comment ends, so that a section's text
    /// is allocated once, at its size.
    text: &'t mut String,
}

/// Matches `@name:` and following spaces: the name and the rest of the line.
fn at_name_colon(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('@')?;
    let colon = rest.find(':')?;
    Some((&rest[..colon], rest[colon + 1..].trim_start_matches(' ')))
}

/// Matches a section tag such as `Since:`: the tag and the rest of the line.
fn tagged(line: &str) -> Option<(&str, &str)> {
    const TAGS: [&str; 8] = [
        "Returns", "Errors", "Since", "Notes", "Note", "Examples", "Example", "TODO",
    ];
    TAGS.iter().find_map(|tag| {
        let rest = line.strip_prefix(tag)?.strip_prefix(':')?;
        if rest.starts_with(':') {
            return None;
        }
        Some((*tag, rest.trim_start_matches(' ')))
    })
}

/// Whether a line starts a description or a tagged section.
fn starts_section(line: &str) -> bool {
    at_name_colon(line).is_some() || tagged(line).is_some() || line == "Features:"
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

impl<'l> DocParser<'l, '_, '_> {
    fn problem(&mut self, span: Span, message: impl Into<String>) -> Result<(), Diagnostic> {
        self.reporter.report(Diagnostic::doc(span, message))
    }

    /// The next line without `# `, `""` for a blank one, `None` at the end.
    fn line(&mut self) -> Result<Option<&'l str>, Diagnostic> {
        let Some(line) = self.lines.get(self.next) else {
            if self.next == self.lines.len() {
                self.next += 1;
                match self.end {
                    DocEnd::Closed(span, text) => {
                        self.span = span;
                        if text != "##" {
                            self.problem(span, "junk after '##' at end of documentation comment")?;
                        }
                    }
                    DocEnd::Unterminated(span) => {
                        self.span = span;
                        self.problem(span, "documentation comment must end with '##'")?;
                    }
                }
            }
            return Ok(None);
        };
        self.next += 1;
        self.span = line.span;
        let text = line.text;
        if text == "#" {
            return Ok(Some(""));
        }
        let body = match text[1..].strip_prefix(' ') {
            Some(body) => body,
            None => {
                self.problem(line.span, "missing space after #")?;
                &text[1..]
            }
        };
        Ok(Some(body.trim_end()))
    }

    fn append_line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// Moves the text read into the last section, without the blank lines
    /// around it, and starts `next`.
    fn start_section(&mut self, next: Section) {
        self.end_section();
        self.doc.sections.push(next);
    }

    /// Moves the text read into the last section, without the blank lines
    /// around it.
    fn end_section(&mut self) {
        let section = self
            .doc
            .sections
            .last_mut()
            .expect("a doc always has a body");
        section.text = self.text.trim_matches('\n').to_string();
        self.text.clear();
    }

    fn run(&mut self) -> Result<(), Diagnostic> {
        let mut line = self.line()?;
        match &line {
            Some(first) if first.starts_with('@') => {
                let symbol = match first.strip_suffix(':') {
                    Some(stripped) => stripped[1..].to_string(),
                    None => {
                        self.problem(self.span, "line should end with ':'")?;
                        first[1..].split(':').next().unwrap_or_default().to_string()
                    }
                };
                if symbol.is_empty() {
                    self.problem(self.span, "name required after '@'")?;
                    return self.free_form(line);
                }
                self.doc.symbol = Some(symbol);
                line = self.line()?;
                self.definition(line)
            }
            _ => self.free_form(line),
        }
    }

    fn free_form(&mut self, mut line: Option<&'l str>) -> Result<(), Diagnostic> {
        let mut first = true;
        while let Some(text) = line {
            if let Some((name, _)) = at_name_colon(text) {
                let message = format!("'@{name}:' not allowed in free-form documentation");
                self.problem(self.span, message)?;
            }
            if text.starts_with('=') && !first {
                self.problem(self.span, "'=' heading must come first in a comment block")?;
            }
            self.append_line(text);
            line = self.line()?;
            first = false;
        }
        Ok(())
    }

    fn definition(&mut self, mut line: Option<&'l str>) -> Result<(), Diagnostic> {
        let mut no_more_args = false;
        loop {
            while line == Some("") {
                line = self.line()?;
            }
            let Some(text) = line else { return Ok(()) };
            if text == "Features:" {
                if self.has_features {
                    self.problem(self.span, "duplicated 'Features:' line")?;
                }
                line = self.line()?;
                while line == Some("") {
                    line = self.line()?;
                }
                let mut any = false;
                while let Some((name, rest)) = line.and_then(at_name_colon) {
                    any = true;
                    self.new_description(name.to_string(), true)?;
                    if !rest.is_empty() {
                        self.append_line(rest);
                    }
                    line = self.indented()?;
                }
                self.has_features |= any;
                if !self.has_features {
                    self.problem(self.span, "feature descriptions expected")?;
                }
                no_more_args = true;
            } else if let Some((name, _)) = at_name_colon(text) {
                if no_more_args {
                    let message = format!("description of '@{name}:' follows a section");
                    self.problem(self.span, message)?;
                }
                line = Some(text);
                while let Some((name, rest)) = line.and_then(at_name_colon) {
                    self.new_description(name.to_string(), false)?;
                    if !rest.is_empty() {
                        self.append_line(rest);
                    }
                    line = self.indented()?;
                }
                no_more_args = true;
            } else if let Some((tag, rest)) = tagged(text) {
                let kind = match tag {
                    "Returns" => SectionKind::Returns,
                    "Errors" => SectionKind::Errors,
                    "Since" => SectionKind::Since,
                    "TODO" => SectionKind::Todo,
                    "Note" | "Notes" => {
                        let message = format!(
                            "The '{tag}' section is no longer supported. Please use rST's \
                             '.. note::' or '.. admonition:: notes' directives, or another \
                             suitable admonition instead."
                        );
                        self.problem(self.span, message)?;
                        SectionKind::LegacyNote(tag.to_string())
                    }
                    _ => {
                        let message = format!(
                            "The '{tag}' section is no longer supported. Please use the \
                             '.. qmp-example::' directive, or other suitable markup instead."
                        );
                        self.problem(self.span, message)?;
                        SectionKind::LegacyExample(tag.to_string())
                    }
                };
                let legacy = matches!(
                    kind,
                    SectionKind::LegacyNote(_) | SectionKind::LegacyExample(_)
                );
                self.new_tagged_section(kind)?;
                if !rest.is_empty() {
                    self.append_line(rest);
                }
                line = if legacy {
                    self.legacy_section()?
                } else {
                    self.indented()?
                };
                no_more_args = true;
            } else {
                if text.starts_with('=') {
                    self.problem(
                        self.span,
                        "unexpected '=' markup in definition documentation",
                    )?;
                }
                self.ensure_untagged_section();
                self.append_line(text);
                line = self.paragraph()?;
            }
        }
    }

    /// The rest of a section whose continuation lines are indented.
    fn indented(&mut self) -> Result<Option<&'l str>, Diagnostic> {
        let mut line = self.line()?;
        let mut blank_before = false;
        while line == Some("") {
            blank_before = true;
            self.append_line("");
            line = self.line()?;
        }
        let Some(first) = line else { return Ok(None) };
        let indent = indent_of(first);
        if indent == 0 {
            if self.reporter.lenient() && !blank_before && !starts_section(first) {
                // Older releases continued a section without indenting.
                return self.unindented_continuation(first);
            }
            return Ok(Some(first));
        }
        self.append_line(first);
        let mut after_first = false;
        loop {
            let Some(text) = self.line()? else {
                return Ok(None);
            };
            if at_name_colon(text).is_some() {
                return Ok(Some(text));
            }
            if !text.is_empty() && indent_of(text) < indent {
                // QEMU ends the section here, except right after its first
                // indented line, where a de-indent is an error.
                if after_first {
                    return Ok(Some(text));
                }
                let message = format!("unexpected de-indent (expected at least {indent} spaces)");
                self.problem(self.span, message)?;
            }
            self.append_line(text);
            after_first = true;
        }
    }

    /// The rest of an old-style `Example:` or `Note:` section: everything up
    /// to the next tag or member description, blank lines included.
    fn legacy_section(&mut self) -> Result<Option<&'l str>, Diagnostic> {
        loop {
            let Some(text) = self.line()? else {
                return Ok(None);
            };
            if at_name_colon(text).is_some() || tagged(text).is_some() || text == "Features:" {
                return Ok(Some(text));
            }
            self.append_line(text);
        }
    }

    /// The rest of a paragraph: up to a blank line.
    fn paragraph(&mut self) -> Result<Option<&'l str>, Diagnostic> {
        loop {
            let line = self.line()?;
            match line {
                None | Some("") => return Ok(line),
                // Older releases started sections without a blank line.
                Some(text) if self.reporter.lenient() && starts_section(text) => return Ok(line),
                Some(text) => self.append_line(text),
            }
        }
    }

    /// Under lenient rules: a section continued by unindented lines, up to
    /// a blank line or the start of another section.
    fn unindented_continuation(&mut self, first: &'l str) -> Result<Option<&'l str>, Diagnostic> {
        let mut text = first;
        loop {
            self.append_line(text);
            match self.line()? {
                None => return Ok(None),
                Some("") => return Ok(Some("")),
                Some(next) if starts_section(next) => return Ok(Some(next)),
                Some(next) => text = next,
            }
        }
    }

    fn ensure_untagged_section(&mut self) {
        let span = self.span;
        let last = self
            .doc
            .sections
            .last_mut()
            .expect("a doc always has a body");
        if last.kind == SectionKind::Plain {
            if self.text.is_empty() {
                last.span = span;
            }
            self.text.push('\n');
            return;
        }
        self.start_section(Section {
            span,
            kind: SectionKind::Plain,
            text: String::new(),
        });
    }

    fn new_tagged_section(&mut self, kind: SectionKind) -> Result<(), Diagnostic> {
        let unique = matches!(
            kind,
            SectionKind::Returns | SectionKind::Errors | SectionKind::Since
        );
        if unique && self.doc.section(&kind).is_some() {
            let message = format!("duplicated '{}' section", kind.tag());
            self.problem(self.span, message)?;
        }
        self.start_section(Section {
            span: self.span,
            kind,
            text: String::new(),
        });
        Ok(())
    }

    fn new_description(&mut self, name: String, feature: bool) -> Result<(), Diagnostic> {
        if name.is_empty() {
            self.problem(self.span, "invalid parameter name")?;
        } else if self.doc.sections.iter().any(|s| match &s.kind {
            SectionKind::Member(n) => !feature && *n == name,
            SectionKind::Feature(n) => feature && *n == name,
            _ => false,
        }) {
            self.problem(self.span, format!("'{name}' parameter name duplicated"))?;
        }
        let kind = if feature {
            SectionKind::Feature(name)
        } else {
            SectionKind::Member(name)
        };
        self.start_section(Section {
            span: self.span,
            kind,
            text: String::new(),
        });
        Ok(())
    }

    /// Ends the last section and checks that tagged ones have text.
    fn finish(mut self) -> Result<Doc, Diagnostic> {
        self.end_section();
        for section in &self.doc.sections {
            if section.kind != SectionKind::Plain && section.text.is_empty() {
                let message = format!("text required after '{}:'", section.kind.tag());
                self.reporter
                    .report(Diagnostic::doc(section.span, message))?;
            }
        }
        Ok(self.doc)
    }
}
