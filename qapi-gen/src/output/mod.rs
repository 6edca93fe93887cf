//! Output: the token streams as source text (formatted or compact),
//! files written, and the build-script `Builder`.

pub(crate) mod compact;
pub mod generate;
pub(crate) mod layout;
