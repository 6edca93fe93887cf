//! Why a schema could not be loaded or bindings generated.

use std::path::PathBuf;

use crate::frontend::diagnostic::Diagnostic;
use crate::frontend::source::SourceMap;

/// The diagnostics of a rejected schema, with the files they point into.
#[derive(Debug)]
pub struct Report {
    /// The files read before the schema was rejected.
    pub sources: SourceMap,
    /// Errors (and warnings), in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Every diagnostic rendered, one after the other.
    pub fn render(&self) -> String {
        self.render_styled(false)
    }

    /// Like [`Report::render`], with ANSI colours when `colour` is set.
    pub fn render_styled(&self, colour: bool) -> String {
        let mut out = String::new();
        for diag in &self.diagnostics {
            out.push_str(&diag.render_styled(&self.sources, colour));
            out.push('\n');
        }
        out
    }
}

/// Why a schema could not be loaded or bindings generated. New kinds of
/// failure may be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The root schema file could not be read.
    #[error("can't read schema file '{}': {}", path.display(), describe_io_error(source))]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The schema is invalid.
    #[error("{}", .0.render().trim_end())]
    Invalid(Report),
    /// An introspection file is not a `query-qmp-schema` reply.
    #[error("{}: {message}", path.display())]
    Introspection {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The generator produced code that does not parse: a bug of
    /// qapi-gen's (never of the schema's).
    #[error("qapi-gen generated code that does not parse ({message}): a bug of qapi-gen's; please report it with the schema")]
    Emitter {
        /// What the parser said, and where.
        message: String,
    },
    /// Allowlist names or patterns that match no command or event.
    #[error(transparent)]
    Unmatched(#[from] Unmatched),
}

/// Allowlist patterns that match no command or event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmatched {
    /// Each pattern that matched nothing, in the order given.
    pub patterns: Vec<UnmatchedPattern>,
}

/// One allowlist pattern that matches no command or event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmatchedPattern {
    /// The pattern as given.
    pub pattern: String,
    /// The schema's command and event names nearest to it, best first.
    pub nearest: Vec<String>,
}

/// `no command or event matches `query-stauts` (nearest: query-status)`,
/// a line a pattern.
impl std::fmt::Display for Unmatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, unmatched) in self.patterns.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "no command or event matches `{}` in the allowlist",
                unmatched.pattern
            )?;
            if !unmatched.nearest.is_empty() {
                write!(f, " (nearest: {})", unmatched.nearest.join(", "))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Unmatched {}

/// `strerror`-style text of an I/O error, without Rust's `(os error N)`.
pub(crate) fn describe_io_error(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
