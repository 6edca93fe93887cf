//! Comparison: the schema diff and its wire rules, and the text diff of
//! `--check`.

pub(crate) mod diff;
pub mod schema_diff;
pub(crate) mod wire;
