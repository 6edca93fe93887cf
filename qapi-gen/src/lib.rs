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
//! - **Serving QMP:** [`Builder::server`], or `generate --server`, adds
//!   the server side: a trait of the schema's commands to implement, the
//!   wrapper that serves it with `qapi_types::server`, and the
//!   introspection QEMU would report.
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
    pub use crate::introspection::masked::masked;
    pub use crate::introspection::of_schema::of_schema;
}
