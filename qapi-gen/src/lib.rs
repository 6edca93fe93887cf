//! qapi-gen: a compiler for QEMU's QAPI schema language.
//!
//! [`load`] reads a schema file and everything it includes, checks it by the
//! rules of QEMU's `docs/devel/qapi-code-gen.rst` (as QEMU 10.0's own
//! generator does), and returns a [`Schema`]: every definition in
//! declaration order, every reference resolved, with positions, docs,
//! conditions and features.
//!
//! ```no_run
//! let loaded = qapi_gen::load("schema/example.json", qapi_gen::DocRules::Strict)?;
//! for id in loaded.schema.definitions() {
//!     let entity = loaded.schema.entity(id);
//!     println!("{} {}", entity.meta(), entity.name);
//! }
//! # Ok::<(), qapi_gen::Error>(())
//! ```
#![warn(missing_docs)]

// The stages, in the order data flows through them. A module imports only
// from its own stage and earlier ones (`tests/layering.rs` checks it).
pub mod cli;
mod compare;
mod frontend;
mod introspection;
pub mod model;
mod output;
mod rust;

pub use compare::schema_diff;
pub use diagnostic::{Category, Diagnostic, Severity};
pub use frontend::doc::DocRules;
pub use frontend::error::{Error, Report};
pub use frontend::{diagnostic, doc, names, source, value};
pub use introspection::{capture, reconstruct, resolve};
pub use model::load::{load, load_for_generation, load_with, Loaded};
pub use model::selection::{self, Selection};
pub use model::Schema;
pub use output::generate::{
    item_paths, rust_source, rust_source_only, rust_source_with, write_if_changed, Builder,
    Generated, Options,
};
pub use rust::ident;
pub use source::{SourceMap, Span};

pub mod introspect {
    //! QEMU's introspection: the `query-qmp-schema` reply, read as a
    //! schema (with the schema source QEMU was built from, or rebuilt
    //! alone), and what QEMU built from a schema would report.
    pub use crate::introspection::introspect::{looks_like_introspection, Introspection};
    pub use crate::introspection::load::{
        load, load_named, load_pair, read_input, rebuild, rebuild_like, to_qapi, Input,
        Introspected,
    };
    pub use crate::introspection::of_schema::of_schema;
}
