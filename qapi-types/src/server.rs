//! Serving QMP: the other side of the protocol, for mocks in tests, replays
//! of recorded sessions, and Rust programs that offer a QMP interface.
//!
//! A server runs the commands of one schema through a [`Dispatch`]:
//! generated server bindings (qapi-gen's `server` setting), a
//! mock, or a replay of a recorded session. The runtime
//! speaks the protocol around it as QEMU does: greeting, capabilities
//! negotiation, argument checking, out-of-band execution, the in-band
//! queue, events, and the protocol's own commands.

mod arguments;
mod dispatch;
mod introspection;

pub use arguments::check_arguments;
pub use dispatch::{CallFuture, CallOutcome, Dispatch, Session};
pub use introspection::{query_qmp_schema, Conditions};
