//! What a server runs commands through: [`Dispatch`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};

use super::events::{event_message, Hub};
use crate::error::QmpError;
use crate::schema::BindingSchema;
use crate::Event;

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
///
/// Events go to every connection of the server that has negotiated
/// capabilities, this one included, stamped with the time they are
/// emitted.
#[derive(Debug)]
pub struct Session {
    hub: Arc<Hub>,
    after_reply: Mutex<Vec<Arc<str>>>,
}

impl Session {
    pub(crate) fn new(hub: Arc<Hub>) -> Self {
        Self {
            hub,
            after_reply: Mutex::new(Vec::new()),
        }
    }

    /// Sends event `E` with `data` now: before the command's reply.
    pub fn emit<E: Event + Serialize>(&self, data: &E) -> Result<(), serde_json::Error> {
        self.send(
            E::NAME,
            event_message(E::NAME, &serde_json::to_string(data)?),
        );
        Ok(())
    }

    /// Sends event `name` with `data` (`null`: none) now.
    pub fn emit_raw(&self, name: &str, data: Value) {
        self.send(name, event_message(name, &data.to_string()));
    }

    fn send(&self, name: &str, message: Arc<str>) {
        crate::trace::log_debug!(event = name, "event emitted");
        self.hub.broadcast(&message);
    }

    /// Sends event `E` with `data` just after the command's reply (an
    /// event the command causes, as a recording saw it follow the reply).
    pub fn emit_after_reply<E: Event + Serialize>(
        &self,
        data: &E,
    ) -> Result<(), serde_json::Error> {
        self.send_after_reply(event_message(E::NAME, &serde_json::to_string(data)?));
        Ok(())
    }

    /// Sends event `name` with `data` (`null`: none) just after the
    /// command's reply. Stamped now.
    pub fn emit_raw_after_reply(&self, name: &str, data: Value) {
        self.send_after_reply(event_message(name, &data.to_string()));
    }

    fn send_after_reply(&self, message: Arc<str>) {
        self.after_reply
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message);
    }

    /// The events to send after the reply.
    pub(crate) fn take_after_reply(&self) -> Vec<Arc<str>> {
        std::mem::take(
            &mut self
                .after_reply
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}
