//! Loading a schema: its files parsed, each definition checked, the model
//! built and the rules across definitions checked.

use std::path::Path;

use crate::frontend::diagnostic::Diagnostic;
use crate::frontend::doc::{DocReporter, DocRules};
use crate::frontend::error::{Error, Report};
use crate::frontend::source::SourceMap;
use crate::frontend::{expr, parser};
use crate::model::build::{self, DefItem};
use crate::model::check;
use crate::model::{Schema, SchemaItem};

/// A loaded, checked schema and the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The schema.
    pub schema: Schema,
    /// Problems downgraded to warnings (see [`DocRules::Lenient`]).
    pub warnings: Vec<Diagnostic>,
}

/// Reads, parses and checks the schema at `path` and the files it includes.
pub fn load(path: impl AsRef<Path>, rules: DocRules) -> Result<Loaded, Error> {
    load_with(path.as_ref(), rules, &|p| std::fs::read(p))
}

/// Like [`load`], but files are read by `read` (given the root path, then
/// each include's path joined onto its includer's directory): for schemas
/// held in memory.
pub fn load_with(
    path: &Path,
    rules: DocRules,
    read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Loaded, Error> {
    let mut sources = SourceMap::default();
    let mut reporter = DocReporter::new(rules);
    let invalid =
        |sources: SourceMap, mut diagnostics: Vec<Diagnostic>, warnings: Vec<Diagnostic>| {
            diagnostics.splice(0..0, warnings);
            Error::Invalid(Report {
                sources,
                diagnostics,
            })
        };
    let parsed = match parser::parse_schema(path, read, &mut sources, &mut reporter) {
        Ok(parsed) => parsed,
        Err(parser::ParseError::Io(source)) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            })
        }
        Err(parser::ParseError::Invalid(diag)) => {
            return Err(invalid(sources, vec![diag], reporter.warnings))
        }
    };
    let mut defs = Vec::with_capacity(parsed.items.len());
    let mut errors = Vec::new();
    for item in parsed.items {
        match item {
            parser::Item::Definition { node, doc } => {
                match expr::check_definition(&node, doc, &parsed.pragma, &mut reporter) {
                    Ok(def) => defs.push(DefItem::Def(Box::new(def))),
                    Err(diag) => errors.push(diag),
                }
            }
            parser::Item::Include { span, file } => {
                defs.push(DefItem::Include(SchemaItem::Include { span, file }))
            }
            parser::Item::FreeDoc(doc) => defs.push(DefItem::Doc(doc)),
        }
    }
    if !errors.is_empty() {
        return Err(invalid(sources, errors, reporter.warnings));
    }
    let built = match build::build(defs, parsed.pragma) {
        Ok(built) => built,
        Err(errors) => return Err(invalid(sources, errors, reporter.warnings)),
    };
    match check::resolve_and_check(built, sources, &mut reporter) {
        Ok(schema) => Ok(Loaded {
            schema,
            warnings: reporter.warnings,
        }),
        Err((sources, errors)) => Err(invalid(sources, errors, reporter.warnings)),
    }
}

/// Loads a schema for generation: doc-comment problems are warnings, so
/// that schemas of older QEMU releases generate.
pub fn load_for_generation(path: &Path) -> Result<Loaded, Error> {
    load(path, DocRules::Lenient)
}
