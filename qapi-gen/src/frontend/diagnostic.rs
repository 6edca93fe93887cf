//! Diagnostics: what is wrong with a schema, where, and how to print it.

use anstyle::{AnsiColor, Style};
use std::fmt::{self, Write as _};

use crate::frontend::source::{SourceMap, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The schema is rejected.
    Error,
    /// The schema is accepted; the problem is reported.
    Warning,
}

/// Which rules a diagnostic enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// The schema language itself: syntax, structure, types, names.
    Schema,
    /// Documentation comments. Older QEMU releases wrote doc comments that
    /// today's rules reject; these diagnostics can be downgraded to warnings
    /// (see [`DocRules`](crate::DocRules)).
    Doc,
}

/// The definition a diagnostic is about, printed as `In struct 'Foo':`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// The definition's kind: `enum`, `struct`, `union`, `alternate`,
    /// `command` or `event`.
    pub meta: &'static str,
    /// The definition's name.
    pub name: String,
}

/// One problem found in a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The rule set the problem belongs to.
    pub category: Category,
    /// Where the problem is; `None` for problems with no position, such as
    /// an unreadable root file.
    pub span: Option<Span>,
    /// The definition the problem was found in, if any.
    pub context: Option<Context>,
    /// What is wrong, in QEMU's words where QEMU reports the same problem.
    pub message: String,
    /// Further positions worth showing, such as a previous definition.
    pub notes: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A schema error at `span`.
    pub(crate) fn error(span: Span, message: impl Into<String>) -> Self {
        Self {
            span: Some(span),
            ..Self::bare(message)
        }
    }

    /// A documentation-comment error at `span`.
    pub(crate) fn doc(span: Span, message: impl Into<String>) -> Self {
        Self {
            category: Category::Doc,
            ..Self::error(span, message)
        }
    }

    /// An error without a position.
    pub(crate) fn bare(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            category: Category::Schema,
            span: None,
            context: None,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    /// Attaches the definition this diagnostic is about.
    pub(crate) fn in_definition(mut self, context: Option<&Context>) -> Self {
        if self.context.is_none() {
            self.context = context.cloned();
        }
        self
    }

    /// Adds a note at another position.
    pub(crate) fn with_note(mut self, span: Span, note: impl Into<String>) -> Self {
        self.notes.push((span, note.into()));
        self
    }

    /// Renders the diagnostic as QEMU does: include chain, definition
    /// context, then `FILE:LINE:COL: message`.
    pub fn render(&self, sources: &SourceMap) -> String {
        self.render_styled(sources, false)
    }

    /// Like [`Diagnostic::render`], with ANSI colours when `colour` is
    /// set (for a terminal): positions bold, errors red, warnings yellow.
    pub fn render_styled(&self, sources: &SourceMap, colour: bool) -> String {
        let style = |s: Style| if colour { s } else { Style::new() };
        let place = style(Style::new().bold());
        let (label, prefix) = match self.severity {
            Severity::Error => (style(AnsiColor::Red.on_default().bold()), ""),
            Severity::Warning => (style(AnsiColor::Yellow.on_default().bold()), "warning: "),
        };
        let message = format!("{label}{prefix}{}{label:#}", self.message);
        let mut out = String::new();
        let Some(span) = self.span else {
            out.push_str(&message);
            return out;
        };
        for site in sources.include_chain(span.file) {
            let _ = writeln!(
                out,
                "In file included from {}:{}:",
                sources.path(site.file).display(),
                site.line
            );
        }
        let path = sources.path(span.file).display();
        if let Some(context) = &self.context {
            let _ = writeln!(out, "{path}: In {} '{}':", context.meta, context.name);
        }
        let _ = write!(
            out,
            "{place}{path}:{}:{}:{place:#} {message}",
            span.line, span.col
        );
        for (note_span, note) in &self.notes {
            let _ = write!(
                out,
                "\n{place}{}:{}:{}:{place:#} {note}",
                sources.path(note_span.file).display(),
                note_span.line,
                note_span.col
            );
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    /// The message alone; use [`Diagnostic::render`] for positions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `a struct`, `an enum`, `a union`.
pub(crate) fn article(word: &str) -> String {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) && !word.starts_with("uni") {
        format!("an {word}")
    } else {
        format!("a {word}")
    }
}
