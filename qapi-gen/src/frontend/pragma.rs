//! The schema's `pragma` directive.

/// The schema's pragmas, which relax some rules for listed names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pragma {
    /// Every definition must be documented.
    pub doc_required: bool,
    /// Commands whose names may contain `_`.
    pub command_name_exceptions: Vec<String>,
    /// Commands that may return non-object types.
    pub command_returns_exceptions: Vec<String>,
    /// Definitions whose members need not be documented.
    pub documentation_exceptions: Vec<String>,
    /// Types whose member names may contain uppercase letters and `_`.
    pub member_name_exceptions: Vec<String>,
}
