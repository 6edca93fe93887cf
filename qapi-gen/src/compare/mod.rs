//! Comparison: the schema diff and its compatibility rules, and the text diff of
//! `--check`.

pub(crate) mod compatibility;
pub(crate) mod diff;
pub mod schema_diff;
