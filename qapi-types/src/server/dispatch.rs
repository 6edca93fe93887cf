//! What a server runs commands through: [`Dispatch`].

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

use crate::error::QmpError;
use crate::schema::BindingSchema;

/// What running a command gives: its return value as JSON, or the error
/// (class and description) it answers with. `None` when the command is not
/// implemented: the server then answers as QEMU does for a command it
/// lacks.
pub type CallOutcome = Option<Result<Value, QmpError>>;

/// The future a [`Dispatch::call`] returns.
pub type CallFuture<'a> = Pin<Box<dyn Future<Output = CallOutcome> + Send + 'a>>;

/// The commands a server runs, all of one schema.
///
/// Implemented by generated server bindings, by mocks and by replays. The
/// runtime checks a command's arguments against [`schema`](Self::schema)
/// as QEMU does before it calls [`call`](Self::call), so `call` may decode
/// them without reporting errors of its own for them.
pub trait Dispatch: Send + Sync + 'static {
    /// The schema's table: the commands, their arguments' types, which
    /// allow out-of-band execution.
    fn schema(&self) -> &'static BindingSchema;

    /// The schema's introspection, as generated server bindings carry it,
    /// for `query-qmp-schema`; `None` when this dispatch has none.
    fn introspection(&self) -> Option<&'static str> {
        None
    }

    /// Runs command `name` with arguments already checked against the
    /// schema. `session` emits events.
    fn call<'a>(
        &'a self,
        name: &'a str,
        arguments: Map<String, Value>,
        session: &'a Session,
    ) -> CallFuture<'a>;
}

/// What a command being run can do besides answering: emit events, now or
/// just after its reply.
#[derive(Debug)]
pub struct Session {
    _private: (),
}
