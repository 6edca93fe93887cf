//! qapi-gen: a compiler for QEMU's QAPI schema language, and the
//! `cargo qapi` command.
//!
//! QAPI is the language QEMU describes its management APIs in: the types,
//! commands and events of the QMP monitor and of the guest agent, with
//! their docs. qapi-gen reads the same schema files QEMU builds from (or
//! a running QEMU's introspection), checks them as QEMU's own generator
//! does, and generates typed, documented Rust bindings that run on
//! [qapi-types](https://docs.rs/qapi-types).
//!
//! Where to start:
//!
//! - **From a build script:** [`Builder`] generates bindings into
//!   `OUT_DIR` on every build; a bad schema fails the build with
//!   `FILE:LINE:COL` diagnostics.
//!
//!   ```no_run
//!   // build.rs
//!   qapi_gen::Builder::new("schema/qmp.json").run();
//!   // src/lib.rs: pub mod qmp { include!(concat!(env!("OUT_DIR"), "/qmp.rs")); }
//!   ```
//!
//! - **Checked-in bindings:** `cargo install qapi-gen` puts `cargo-qapi`
//!   on the path; `cargo qapi generate schema/qmp.json --out src/qmp.rs`
//!   writes them, and the same line with `--check` in CI fails with a diff
//!   when they are stale.
//! - **From the QEMU you run:** [`Builder::qemu`], or `cargo qapi
//!   introspect` then `cargo qapi generate --introspect`, generate
//!   bindings from a QEMU binary's `query-qmp-schema`, with no schema
//!   source needed.
//! - **Comparing versions:** `cargo qapi diff OLD NEW` says what changed
//!   between two schemas and what breaks a client.
//! - **The schema itself:** [`load`] reads and checks a schema and returns
//!   its model, [`Schema`]:
//!
//!   ```no_run
//!   let loaded = qapi_gen::load("schema/example.json", qapi_gen::DocRules::Strict)?;
//!   for id in loaded.schema.definitions() {
//!       let entity = loaded.schema.entity(id);
//!       println!("{} {}", entity.meta(), entity.name);
//!   }
//!   # Ok::<(), qapi_gen::Error>(())
//!   ```
//!
//! The sections below are the reference: what the bindings hold and how
//! they are named, how a schema is checked, and the rules of the diff.
//!
#![doc = include_str!("../docs/bindings.md")]
//!
#![doc = include_str!("../docs/check.md")]
//!
#![doc = include_str!("../docs/diff.md")]
#![warn(missing_docs)]

mod boxing;
pub mod capture;
mod check;
pub mod cli;
mod codegen;
mod compact;
pub mod diagnostic;
mod diff;
pub mod doc;
mod expr;
mod generate;
pub mod ident;
pub mod introspect;
pub mod model;
pub mod names;
mod parser;
pub mod reconstruct;
pub mod resolve;
mod rustdoc;
mod schema;
pub mod schema_diff;
pub mod source;
mod table;
pub mod value;

use std::path::{Path, PathBuf};

pub use diagnostic::{Category, Diagnostic, Severity};
pub use generate::{
    item_paths, load_for_generation, rust_source, rust_source_with, write_if_changed, Builder,
    Generated, Options,
};
pub use model::Schema;
pub use source::{SourceMap, Span};

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

/// A loaded, checked schema and the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The schema.
    pub schema: Schema,
    /// Problems downgraded to warnings (see [`DocRules::Lenient`]).
    pub warnings: Vec<Diagnostic>,
}

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
    #[error("can't read schema file '{}': {}", path.display(), parser::describe_io_error(source))]
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
    let mut reporter = doc::DocReporter::new(rules);
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
                    Ok(def) => defs.push(schema::DefItem::Def(Box::new(def))),
                    Err(diag) => errors.push(diag),
                }
            }
            parser::Item::Include { span, file } => {
                defs.push(schema::DefItem::Include(model::SchemaItem::Include {
                    span,
                    file,
                }))
            }
            parser::Item::FreeDoc(doc) => defs.push(schema::DefItem::Doc(doc)),
        }
    }
    if !errors.is_empty() {
        return Err(invalid(sources, errors, reporter.warnings));
    }
    match schema::build(defs, parsed.pragma, sources, &mut reporter) {
        Ok(schema) => Ok(Loaded {
            schema,
            warnings: reporter.warnings,
        }),
        Err((sources, errors)) => Err(invalid(sources, errors, reporter.warnings)),
    }
}
