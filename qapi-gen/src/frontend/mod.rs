//! The frontend: schema files read, parsed into values, each definition
//! checked on its own; diagnostics and doc comments.

pub mod cond;
pub mod diagnostic;
pub mod doc;
pub mod error;
pub(crate) mod expr;
pub mod names;
pub(crate) mod parser;
pub mod pragma;
pub mod source;
pub mod value;
