//! Introspection: reading and capturing `query-qmp-schema`, rebuilding a
//! schema from it with derived names, resolving a schema source against
//! it, and the introspection of a schema (unmasked, and masked as QEMU
//! reports it).

pub mod capture;
pub mod introspect;
pub mod load;
pub mod masked;
pub mod of_schema;
pub mod reconstruct;
pub mod resolve;
