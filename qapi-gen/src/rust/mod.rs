//! Rust output: identifiers, boxing, docs and the emitters of the
//! bindings, as token streams.

pub(crate) mod boxing;
pub(crate) mod codegen;
pub mod ident;
pub(crate) mod moved;
pub(crate) mod rustdoc;
pub(crate) mod table;
