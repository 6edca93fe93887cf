//! Bindings against a server: what the bindings use that the server lacks.
//!
//! Generated bindings describe themselves in a [`BindingSchema`] (`SCHEMA`
//! at the root of the generated module): their commands, events and the
//! types these reach, with QAPI names. [`check`] compares it with what a
//! server describes in its `query-qmp-schema` reply (`Qmp::check_schema`
//! runs both), and reports every [`Mismatch`]: a command the server lacks,
//! an argument it does not know or requires, a reply member the bindings
//! require but the server may leave out, an enumeration value it rejects,
//! a type that is a different kind of JSON value on the server.
//!
//! The server names its types with meaningless numbers, so types are
//! paired structurally, starting from commands and events (by name):
//! arguments with `arg-type`, returns with `ret-type`, members by name,
//! union branches by case, array elements, alternates' alternatives by
//! JSON type. Each pair of types is compared once, in each direction: a
//! mismatch is reported at the first place that reaches it.
//!
//! What the server offers beyond the bindings is fine (newer servers add
//! commands, members and values) and only counted ([`ServerOnly`]).
//! Definitions, members and values that the schema makes conditional
//! (`'if'`) may be absent from a server built without them: their
//! mismatches are notes, which [`SchemaReport::is_compatible`] accepts.
//! A missing event is a note too.
//!
//! Whatever the server sends, the report stays small: the members a
//! server's object requires and the bindings lack are one mismatch for
//! the pair of objects, names the server chose are shortened, and at most
//! [`MAX_KEPT`] incompatibilities and as many notes are kept (the others
//! are counted).
//!
//! The table's types are in [`table`] (which generated bindings name, and
//! which imports nothing of the bindings); the check and its report are
//! private modules whose items are re-exported here, with the table's.

mod check;
mod report;
mod server_types;
pub mod table;

pub use check::check;
pub use report::{Location, Mismatch, MismatchKind, SchemaReport, ServerOnly, MAX_KEPT};
pub use server_types::{ServerType, ServerTypes};
pub use table::{
    Alternative, BindingSchema, Branch, Builtin, CommandDef, Condition, EnumValue, EventDef,
    Member, TypeDef, TypeKind, TypeRef,
};
