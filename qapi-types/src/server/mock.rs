//! A [`Dispatch`] for users' tests: [`Mock`].
//!
//! The test implements the few commands it needs (typed handlers, sync or
//! async), scripts replies and errors (once, in order, or always), and
//! afterwards asks what the code under test sent: every command, in
//! order, with its arguments ([`Mock::calls`]), or one command's, decoded
//! ([`Mock::received`]). A command neither handled nor scripted answers as
//! QEMU answers a command it lacks.
//!
//! Events go out when the test says: at any time through the server
//! ([`QmpServer::emit`](super::QmpServer::emit)), after the next reply to
//! a command ([`Mock::emit_after`]), or from a handler given the
//! [`Session`] ([`Mock::on_with_session`]).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::QmpError;
use crate::schema::BindingSchema;
use crate::server::{CallFuture, CallOutcome, Dispatch, Session};
use crate::{Command, Event};

/// A mock QMP server's commands, for tests of code that drives QEMU.
///
/// Clones share the mock: keep one in the test to script it and to assert
/// on what it received, and serve another.
///
/// ```
/// use qapi_types::qmp::{self, commands::QueryVersion, VersionInfo, VersionTriple};
/// use qapi_types::server::Mock;
/// use qapi_types::QmpError;
///
/// let mock = Mock::new(&qmp::SCHEMA);
/// mock.on::<QueryVersion>(|_| {
///     Ok(VersionInfo::new(VersionTriple::new(10, 0, 2), String::new()))
/// });
/// mock.fail_once::<QueryVersion>(QmpError::generic("not yet"));
/// // ... serve it, run the code under test, then:
/// assert!(mock.calls().is_empty());
/// ```
#[derive(Clone)]
pub struct Mock {
    shared: Arc<Shared>,
}

struct Shared {
    schema: &'static BindingSchema,
    introspection: OnceLock<&'static str>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Answers given once each, before anything else, in the order
    /// scripted, by command.
    once: HashMap<String, VecDeque<Result<Value, QmpError>>>,
    /// What answers each command once its scripted answers are used up:
    /// a handler or a fixed answer, the last one set.
    standing: HashMap<String, Standing>,
    /// Events to emit after the next reply to a command (name and data),
    /// by command.
    after_next: HashMap<String, Vec<(String, Value)>>,
    /// Every command received, in order.
    calls: Vec<Call>,
}

/// A command's standing answer.
#[derive(Clone)]
enum Standing {
    /// The same answer every time.
    Fixed(Result<Value, QmpError>),
    /// A handler run on every call.
    Handler(Handler),
}

/// The answer of a handler, once it has run.
type Answer = Pin<Box<dyn Future<Output = Result<Value, QmpError>> + Send>>;

/// A handler, taking the arguments as JSON and the session (to emit
/// events while it runs).
type Handler = Arc<dyn Fn(Map<String, Value>, &Session) -> Answer + Send + Sync>;

/// A command a [`Mock`] received: its name and arguments (an empty object
/// when it had none).
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The command's wire name.
    pub name: String,
    /// Its arguments.
    pub arguments: Map<String, Value>,
}

impl Mock {
    /// A mock of a server of `schema` (a bindings' `SCHEMA`) that
    /// implements no command yet.
    pub fn new(schema: &'static BindingSchema) -> Self {
        Self {
            shared: Arc::new(Shared {
                schema,
                introspection: OnceLock::new(),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Answers `query-qmp-schema` from `introspection`, the generated
    /// server bindings' `server::INTROSPECTION` (without it, the mock has
    /// no `query-qmp-schema`). Only the first call counts.
    pub fn set_introspection(&self, introspection: &'static str) -> &Self {
        let _ = self.shared.introspection.set(introspection);
        self
    }

    /// Answers command `C` with `handler`, given the arguments decoded:
    /// every call, once the answers scripted with
    /// [`reply_once`](Self::reply_once) and
    /// [`fail_once`](Self::fail_once) are used up. Replaces what answered
    /// `C` before.
    pub fn on<C>(
        &self,
        handler: impl Fn(C) -> Result<C::Ok, QmpError> + Send + Sync + 'static,
    ) -> &Self
    where
        C: Command + DeserializeOwned,
        C::Ok: Serialize,
    {
        self.on_with_session::<C>(move |arguments, _| handler(arguments))
    }

    /// [`on`](Self::on) with a handler that may emit events, now
    /// ([`Session::emit`]) or after its reply
    /// ([`Session::emit_after_reply`]).
    pub fn on_with_session<C>(
        &self,
        handler: impl Fn(C, &Session) -> Result<C::Ok, QmpError> + Send + Sync + 'static,
    ) -> &Self
    where
        C: Command + DeserializeOwned,
        C::Ok: Serialize,
    {
        let handler: Handler = Arc::new(move |arguments, session| {
            let answer = decode_arguments::<C>(arguments)
                .and_then(|arguments| handler(arguments, session))
                .and_then(encode_return::<C>);
            Box::pin(std::future::ready(answer))
        });
        self.set_standing(C::NAME, Standing::Handler(handler))
    }

    /// [`on`](Self::on) with an async handler: the server goes on
    /// reading (and running out-of-band commands) while it runs.
    pub fn on_async<C, F, A>(&self, handler: F) -> &Self
    where
        C: Command + DeserializeOwned,
        C::Ok: Serialize,
        F: Fn(C) -> A + Send + Sync + 'static,
        A: Future<Output = Result<C::Ok, QmpError>> + Send + 'static,
        C::Ok: Send,
    {
        let handler: Handler =
            Arc::new(move |arguments, _| match decode_arguments::<C>(arguments) {
                Ok(arguments) => {
                    let answer = handler(arguments);
                    Box::pin(async move { encode_return::<C>(answer.await?) })
                }
                Err(error) => Box::pin(std::future::ready(Err(error))),
            });
        self.set_standing(C::NAME, Standing::Handler(handler))
    }

    /// Answers command `name` with `handler`, given the arguments as
    /// JSON: for commands the bindings have no type for, or to see the
    /// arguments exactly as sent.
    pub fn on_raw(
        &self,
        name: &str,
        handler: impl Fn(Map<String, Value>) -> Result<Value, QmpError> + Send + Sync + 'static,
    ) -> &Self {
        let handler: Handler =
            Arc::new(move |arguments, _| Box::pin(std::future::ready(handler(arguments))));
        self.set_standing(name, Standing::Handler(handler))
    }

    /// Answers every call of `C` with `value`, once the answers scripted
    /// once are used up. Replaces what answered `C` before.
    pub fn reply<C>(&self, value: C::Ok) -> &Self
    where
        C: Command,
        C::Ok: Serialize,
    {
        self.set_standing(C::NAME, Standing::Fixed(encode_return::<C>(value)))
    }

    /// Answers the next call of `C` with `value`; answers scripted so
    /// for one command are given in the order scripted, before its
    /// handler or standing answer.
    pub fn reply_once<C>(&self, value: C::Ok) -> &Self
    where
        C: Command,
        C::Ok: Serialize,
    {
        self.push_once(C::NAME, encode_return::<C>(value))
    }

    /// Answers every call of `C` with `error`, once the answers scripted
    /// once are used up. Replaces what answered `C` before.
    pub fn fail<C: Command>(&self, error: QmpError) -> &Self {
        self.set_standing(C::NAME, Standing::Fixed(Err(error)))
    }

    /// Answers the next call of `C` with `error` (in order with the other
    /// answers scripted once).
    pub fn fail_once<C: Command>(&self, error: QmpError) -> &Self {
        self.push_once(C::NAME, Err(error))
    }

    /// Answers the next call of command `name` with `answer`, a return
    /// value as JSON or an error (in order with the other answers
    /// scripted once).
    pub fn answer_once_raw(&self, name: &str, answer: Result<Value, QmpError>) -> &Self {
        self.push_once(name, answer)
    }

    /// Answers every call of command `name` with `answer`, once the
    /// answers scripted once are used up.
    pub fn answer_raw(&self, name: &str, answer: Result<Value, QmpError>) -> &Self {
        self.set_standing(name, Standing::Fixed(answer))
    }

    /// Emits event `E` with `data` just after the next reply to `C`
    /// (whatever answers it); events set so for one command go out in
    /// the order set.
    pub fn emit_after<C: Command, E: Event + Serialize>(
        &self,
        data: &E,
    ) -> Result<&Self, serde_json::Error> {
        Ok(self.emit_raw_after(C::NAME, E::NAME, serde_json::to_value(data)?))
    }

    /// Emits event `event` with `data` (`null`: none) just after the next
    /// reply to command `command`.
    pub fn emit_raw_after(&self, command: &str, event: &str, data: Value) -> &Self {
        self.state()
            .after_next
            .entry(command.to_string())
            .or_default()
            .push((event.to_string(), data));
        self
    }

    /// Forgets what answers command `name`: it answers as a command the
    /// server lacks again.
    pub fn unset(&self, name: &str) -> &Self {
        let mut state = self.state();
        state.once.remove(name);
        state.standing.remove(name);
        state.after_next.remove(name);
        drop(state);
        self
    }

    /// Every command received so far, in order, with its arguments
    /// (those the server answered as lacking included). Commands the
    /// server refuses before running them (arguments that don't match
    /// the schema, say) never reach the mock.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// [`calls`](Self::calls), forgetting them: the next call returns
    /// only what is received from now on.
    pub fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut self.state().calls)
    }

    /// The arguments of every call of `C` received so far, in order,
    /// decoded (those that do not decode as `C` are left out).
    pub fn received<C: Command + DeserializeOwned>(&self) -> Vec<C> {
        self.state()
            .calls
            .iter()
            .filter(|call| call.name == C::NAME)
            .filter_map(|call| C::deserialize(&Value::Object(call.arguments.clone())).ok())
            .collect()
    }

    /// The names of the commands received so far, in order.
    pub fn call_names(&self) -> Vec<String> {
        self.state()
            .calls
            .iter()
            .map(|call| call.name.clone())
            .collect()
    }

    /// The answers scripted once and not given yet, by command name.
    pub fn pending_once(&self) -> Vec<(String, usize)> {
        let mut pending: Vec<(String, usize)> = self
            .state()
            .once
            .iter()
            .filter(|(_, answers)| !answers.is_empty())
            .map(|(name, answers)| (name.clone(), answers.len()))
            .collect();
        pending.sort();
        pending
    }

    /// Records a call of `name` and answers it: an answer scripted once,
    /// else the standing one, else `None` (not implemented); the events
    /// set to follow its reply are emitted after it.
    async fn answer(
        &self,
        name: &str,
        arguments: Map<String, Value>,
        session: &Session,
    ) -> CallOutcome {
        let (scripted, events) = {
            let mut state = self.state();
            state.calls.push(Call {
                name: name.to_string(),
                arguments: arguments.clone(),
            });
            let events = state.after_next.remove(name).unwrap_or_default();
            let scripted = match state.once.get_mut(name).and_then(VecDeque::pop_front) {
                Some(answer) => Some(Standing::Fixed(answer)),
                None => state.standing.get(name).cloned(),
            };
            (scripted, events)
        };
        for (event, data) in events {
            session.emit_raw_after_reply(&event, data);
        }
        match scripted? {
            Standing::Fixed(answer) => Some(answer),
            Standing::Handler(handler) => Some(handler(arguments, session).await),
        }
    }

    fn set_standing(&self, name: &str, standing: Standing) -> &Self {
        self.state().standing.insert(name.to_string(), standing);
        self
    }

    fn push_once(&self, name: &str, answer: Result<Value, QmpError>) -> &Self {
        self.state()
            .once
            .entry(name.to_string())
            .or_default()
            .push_back(answer);
        self
    }

    /// The state; a handler that panicked while it was held leaves it as
    /// it was.
    fn state(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The arguments as `C`; they were checked against the schema already, so
/// this fails only for bindings of another schema.
fn decode_arguments<C: Command + DeserializeOwned>(
    arguments: Map<String, Value>,
) -> Result<C, QmpError> {
    C::deserialize(Value::Object(arguments)).map_err(|error| {
        QmpError::generic(format!(
            "mock: the arguments of {} do not decode: {error}",
            C::NAME
        ))
    })
}

/// A return value as JSON.
fn encode_return<C>(value: C::Ok) -> Result<Value, QmpError>
where
    C: Command,
    C::Ok: Serialize,
{
    serde_json::to_value(value).map_err(|error| {
        QmpError::generic(format!(
            "mock: the return value of {} does not serialize: {error}",
            C::NAME
        ))
    })
}

impl Dispatch for Mock {
    fn schema(&self) -> &'static BindingSchema {
        self.shared.schema
    }

    fn introspection(&self) -> Option<&'static str> {
        self.shared.introspection.get().copied()
    }

    fn call<'a>(
        &'a self,
        name: &'a str,
        arguments: Map<String, Value>,
        session: &'a Session,
    ) -> CallFuture<'a> {
        Box::pin(self.answer(name, arguments, session))
    }
}

impl fmt::Debug for Mock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        let mut answered: Vec<&str> = state
            .standing
            .keys()
            .chain(state.once.keys())
            .map(String::as_str)
            .collect();
        answered.sort_unstable();
        answered.dedup();
        f.debug_struct("Mock")
            .field("commands", &self.shared.schema.commands.len())
            .field("answered", &answered)
            .field("calls", &state.calls.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qmp::commands::{QmpCapabilities, QueryCommands, QueryVersion};
    use crate::qmp::{CommandInfo, VersionInfo, VersionTriple, SCHEMA};
    use crate::server::events::{Hub, Outgoing};
    use serde_json::json;

    fn version(major: i64) -> VersionInfo {
        VersionInfo::new(VersionTriple::new(major, 0, 2), String::new())
    }

    /// Calls `name` on `mock` as a server does, with a session of a
    /// server without connections.
    fn call(mock: &Mock, name: &str, arguments: Map<String, Value>) -> CallOutcome {
        call_in(
            mock,
            name,
            arguments,
            &Session::new(Arc::new(Hub::default())),
        )
    }

    /// Calls `name` on `mock` as a server does, in `session`.
    fn call_in(
        mock: &Mock,
        name: &str,
        arguments: Map<String, Value>,
        session: &Session,
    ) -> CallOutcome {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(mock.call(name, arguments, session))
    }

    #[test]
    fn a_command_nobody_answers_is_not_implemented() {
        let mock = Mock::new(&SCHEMA);
        assert_eq!(call(&mock, "query-version", Map::new()), None);
        assert_eq!(mock.call_names(), ["query-version"]);
    }

    #[test]
    fn typed_handlers_get_decoded_arguments() {
        let mock = Mock::new(&SCHEMA);
        mock.on::<QmpCapabilities>(|arguments| {
            if arguments.enable.is_some() {
                Err(QmpError::generic("no capabilities here"))
            } else {
                Ok(crate::Empty {})
            }
        });
        assert_eq!(
            call(&mock, "qmp_capabilities", Map::new()),
            Some(Ok(json!({})))
        );
        let enable = json!({"enable": ["oob"]});
        let Value::Object(enable) = enable else {
            unreachable!("an object")
        };
        assert_eq!(
            call(&mock, "qmp_capabilities", enable.clone()),
            Some(Err(QmpError::generic("no capabilities here")))
        );
        let received = mock.received::<QmpCapabilities>();
        assert_eq!(received.len(), 2);
        assert_eq!(received[0].enable, None);
        assert_eq!(
            received[1].enable,
            Some(vec![crate::qmp::QMPCapability::Oob])
        );
        assert_eq!(
            mock.calls()[1],
            Call {
                name: "qmp_capabilities".into(),
                arguments: enable
            }
        );
    }

    #[test]
    fn scripted_answers_come_first_in_order_then_the_standing_one() {
        let mock = Mock::new(&SCHEMA);
        mock.reply::<QueryVersion>(version(10))
            .fail_once::<QueryVersion>(QmpError::new("DeviceNotActive", "wait"))
            .reply_once::<QueryVersion>(version(9));
        let answers: Vec<CallOutcome> = (0..4)
            .map(|_| call(&mock, "query-version", Map::new()))
            .collect();
        assert_eq!(
            answers,
            [
                Some(Err(QmpError::new("DeviceNotActive", "wait"))),
                Some(Ok(serde_json::to_value(version(9)).expect("serializes"))),
                Some(Ok(serde_json::to_value(version(10)).expect("serializes"))),
                Some(Ok(serde_json::to_value(version(10)).expect("serializes"))),
            ]
        );
        assert!(mock.pending_once().is_empty());
        mock.fail::<QueryVersion>(QmpError::generic("gone"));
        assert_eq!(
            call(&mock, "query-version", Map::new()),
            Some(Err(QmpError::generic("gone")))
        );
        mock.unset("query-version");
        assert_eq!(call(&mock, "query-version", Map::new()), None);
        assert_eq!(mock.take_calls().len(), 6);
        assert!(mock.calls().is_empty());
    }

    #[test]
    fn async_and_raw_handlers() {
        let mock = Mock::new(&SCHEMA);
        mock.on_async::<QueryCommands, _, _>(|_| async {
            tokio::task::yield_now().await;
            Ok(vec![CommandInfo::new("query-commands")])
        });
        mock.on_raw("query-qmp-schema", |arguments| {
            Ok(json!([{"arguments": arguments}]))
        });
        mock.answer_once_raw("query-qmp-schema", Ok(json!([])));
        assert_eq!(
            call(&mock, "query-commands", Map::new()),
            Some(Ok(json!([{"name": "query-commands"}])))
        );
        assert_eq!(
            call(&mock, "query-qmp-schema", Map::new()),
            Some(Ok(json!([])))
        );
        assert_eq!(
            call(&mock, "query-qmp-schema", Map::new()),
            Some(Ok(json!([{"arguments": {}}])))
        );
    }

    #[test]
    fn clones_share_the_script_and_the_calls() {
        let mock = Mock::new(&SCHEMA);
        let served = mock.clone();
        mock.reply_once::<QueryVersion>(version(10));
        assert_eq!(mock.pending_once(), [("query-version".to_string(), 1)]);
        assert!(call(&served, "query-version", Map::new()).is_some());
        assert_eq!(mock.received::<QueryVersion>().len(), 1);
        let shown = format!("{mock:?}");
        assert!(
            shown.contains("query-version") && shown.contains("calls: 1"),
            "{shown}"
        );
    }

    #[test]
    fn arguments_of_another_schema_fail_the_call_only() {
        let mock = Mock::new(&SCHEMA);
        mock.on::<QmpCapabilities>(|_| Ok(crate::Empty {}));
        let Value::Object(wrong) = json!({"enable": 5}) else {
            unreachable!("an object")
        };
        let Some(Err(error)) = call(&mock, "qmp_capabilities", wrong) else {
            panic!("an error")
        };
        assert_eq!(error.class, "GenericError");
        assert!(error.desc.contains("qmp_capabilities"), "{}", error.desc);
        assert!(mock.received::<QmpCapabilities>().is_empty());
        assert_eq!(mock.calls().len(), 1);
    }

    #[test]
    fn events_follow_the_next_reply_or_come_from_handlers() {
        let mock = Mock::new(&SCHEMA);
        mock.reply::<QueryVersion>(version(10));
        mock.emit_raw_after("query-version", "FIRST", json!({"n": 1}))
            .emit_raw_after("query-version", "SECOND", Value::Null);
        mock.on_with_session::<QmpCapabilities>(|_, session| {
            session.emit_raw("NOW", json!({}));
            session.emit_raw_after_reply("LATER", json!({}));
            Ok(crate::Empty {})
        });
        let hub = Arc::new(Hub::default());
        let (sender, mut receiver) = tokio::sync::mpsc::channel(8);
        hub.join(hub.next_id(), sender);
        let names = |session: &Session| -> Vec<String> {
            session
                .take_after_reply()
                .iter()
                .map(|text| {
                    let event: crate::RawEvent = serde_json::from_str(text).expect("an event");
                    event.event
                })
                .collect()
        };
        let session = Session::new(hub.clone());
        assert!(call_in(&mock, "query-version", Map::new(), &session).is_some());
        assert_eq!(names(&session), ["FIRST", "SECOND"]);
        // Only after the next reply.
        assert!(call_in(&mock, "query-version", Map::new(), &session).is_some());
        assert!(names(&session).is_empty());
        assert!(call_in(&mock, "qmp_capabilities", Map::new(), &session).is_some());
        assert_eq!(names(&session), ["LATER"]);
        let Ok(Outgoing::Message(now)) = receiver.try_recv() else {
            panic!("an event sent now")
        };
        assert!(now.contains("\"NOW\""), "{now}");
    }
}
