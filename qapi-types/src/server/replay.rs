//! A [`Dispatch`] serving a recorded session again: [`Replay`].
//!
//! A recording (see [`recording`](crate::recording)) of a QMP client
//! against a real QEMU holds every request with its reply, and the events
//! that came between them. Replayed, a request is answered with the
//! recorded reply of the first recorded request of the same command and
//! arguments not answered yet; identical requests take the recorded
//! replies in the order recorded, and once these are used up the last one
//! is given again (unless [`Replay::repeat_last`] turned that off). The
//! events received while a request waited for its reply are emitted
//! before its reply, those that followed a reply after it. Replies come at
//! once, or as long after their requests as when recorded
//! ([`Replay::pace`]).
//!
//! A request the recording does not have is answered with an error naming
//! it; the test asks for those ([`Replay::unmatched`]) and for the
//! recorded requests nobody asked for ([`Replay::unused`]).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::QmpError;
use crate::qmp::VersionInfo;
use crate::recording::{Direction, Recording, RecordingError};
use crate::schema::BindingSchema;
use crate::server::{Call, CallFuture, CallOutcome, Dispatch, Session};
use crate::RawEvent;

/// The commands a server answers itself, never through its dispatch: their
/// recorded requests are left out.
const ANSWERED_BY_THE_SERVER: [&str; 4] = [
    "qmp_capabilities",
    "query-version",
    "query-commands",
    "query-qmp-schema",
];

/// A recorded session served again. Clones share it.
#[derive(Clone)]
pub struct Replay {
    shared: Arc<Shared>,
}

struct Shared {
    schema: &'static BindingSchema,
    introspection: OnceLock<&'static str>,
    /// The server's version, from the first greeting recorded.
    version: Option<VersionInfo>,
    exchanges: Vec<Exchange>,
    /// The exchanges of each command, by index in `exchanges`, in order.
    by_name: HashMap<String, Vec<usize>>,
    /// Events before the first recorded reply.
    initial_events: Vec<RawEvent>,
    state: Mutex<State>,
}

struct State {
    /// Whether each exchange has been answered.
    used: Vec<bool>,
    /// Requests the recording does not have, in order.
    unmatched: Vec<Call>,
    /// Whether requests whose recorded replies are used up get the last
    /// one again.
    repeat_last: bool,
    /// Whether replies take as long as they took when recorded.
    pace: bool,
}

/// A recorded request and its reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    /// The request's line in the recording.
    pub line: usize,
    /// The command's wire name.
    pub name: String,
    /// Its arguments (an empty object when it had none).
    pub arguments: Map<String, Value>,
    /// The recorded reply: the return value or the error.
    pub answer: Result<Value, QmpError>,
    /// How long the reply took to come.
    pub took: Duration,
    /// The events received while the request waited for its reply:
    /// emitted before the reply.
    pub events_before: Vec<RawEvent>,
    /// The events that followed the reply, while no request waited:
    /// emitted after it.
    pub events_after: Vec<RawEvent>,
}

impl Replay {
    /// The recording in file `path`, served as a server of `schema` (the
    /// bindings' `SCHEMA`).
    pub fn from_file(
        path: impl AsRef<Path>,
        schema: &'static BindingSchema,
    ) -> Result<Self, RecordingError> {
        Ok(Self::new(&Recording::read(path)?, schema))
    }

    /// `recording`, served as a server of `schema`.
    pub fn new(recording: &Recording, schema: &'static BindingSchema) -> Self {
        let (exchanges, initial_events) = exchanges(recording);
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, exchange) in exchanges.iter().enumerate() {
            by_name
                .entry(exchange.name.clone())
                .or_default()
                .push(index);
        }
        let version = recording.entries().iter().find_map(|entry| {
            let version = entry.message.get("QMP")?.get("version")?;
            serde_json::from_value(version.clone()).ok()
        });
        Self {
            shared: Arc::new(Shared {
                schema,
                introspection: OnceLock::new(),
                version,
                state: Mutex::new(State {
                    used: vec![false; exchanges.len()],
                    unmatched: Vec::new(),
                    repeat_last: true,
                    pace: false,
                }),
                exchanges,
                by_name,
                initial_events,
            }),
        }
    }

    /// Whether a request whose recorded replies are all used up gets the
    /// last of them again (without its events): on by default, for code
    /// that polls. Off, it is answered as a request the recording lacks.
    pub fn repeat_last(&self, repeat: bool) -> &Self {
        self.state().repeat_last = repeat;
        self
    }

    /// Whether each reply comes as long after its request as it did when
    /// recorded (off by default: at once). Repeated and unmatched
    /// requests are answered at once.
    pub fn pace(&self, pace: bool) -> &Self {
        self.state().pace = pace;
        self
    }

    /// Answers `query-qmp-schema` from `introspection`, the generated
    /// server bindings' `server::INTROSPECTION` (without it, the replay
    /// has no `query-qmp-schema`). Only the first call counts.
    pub fn set_introspection(&self, introspection: &'static str) -> &Self {
        let _ = self.shared.introspection.set(introspection);
        self
    }

    /// The version the recorded server greeted with: give it to the
    /// server ([`ServerConfigBuilder::version`](super::ServerConfigBuilder::version))
    /// for its greeting and `query-version` to say what the recorded one
    /// said.
    pub fn recorded_version(&self) -> Option<&VersionInfo> {
        self.shared.version.as_ref()
    }

    /// The recorded requests and their replies, in the order recorded
    /// (those the server answers itself, such as `qmp_capabilities`, left
    /// out).
    pub fn exchanges(&self) -> &[Exchange] {
        &self.shared.exchanges
    }

    /// The events recorded before the first request: a replay does not
    /// emit them.
    pub fn initial_events(&self) -> &[RawEvent] {
        &self.shared.initial_events
    }

    /// The requests the recording does not have, in the order received:
    /// each was answered with an error naming it.
    pub fn unmatched(&self) -> Vec<Call> {
        self.state().unmatched.clone()
    }

    /// The recorded requests nobody has asked for yet, in the order
    /// recorded.
    pub fn unused(&self) -> Vec<Exchange> {
        let state = self.state();
        self.shared
            .exchanges
            .iter()
            .zip(&state.used)
            .filter(|(_, used)| !**used)
            .map(|(exchange, _)| exchange.clone())
            .collect()
    }

    /// The recorded answer to a request, with its events; an error
    /// naming the request if the recording has none.
    fn answer(&self, name: &str, arguments: Map<String, Value>) -> Answer {
        let mut state = self.state();
        let exchanges = &self.shared.exchanges;
        let same: Vec<usize> = self
            .shared
            .by_name
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&index| exchanges[index].arguments == arguments)
            .collect();
        let next = same.iter().copied().find(|&index| !state.used[index]);
        if let Some(index) = next {
            let exchange = &exchanges[index];
            state.used[index] = true;
            return Answer {
                outcome: Some(exchange.answer.clone()),
                before: exchange.events_before.clone(),
                after: exchange.events_after.clone(),
                delay: state.pace.then_some(exchange.took),
            };
        }
        if state.repeat_last {
            if let Some(&last) = same.last() {
                return Answer::alone(Some(exchanges[last].answer.clone()));
            }
        }
        let error = QmpError::generic(format!(
            "replay: the recording has no{} request '{name}' with arguments {}",
            if same.is_empty() { "" } else { " further" },
            Value::Object(arguments.clone())
        ));
        state.unmatched.push(Call {
            name: name.to_string(),
            arguments,
        });
        Answer::alone(Some(Err(error)))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What a replayed request gets: its outcome, and the events to emit
/// before and after it.
struct Answer {
    outcome: CallOutcome,
    before: Vec<RawEvent>,
    after: Vec<RawEvent>,
    /// How long to wait before replying.
    delay: Option<Duration>,
}

impl Answer {
    /// An outcome without events.
    fn alone(outcome: CallOutcome) -> Self {
        Self {
            outcome,
            before: Vec::new(),
            after: Vec::new(),
            delay: None,
        }
    }
}

/// A recorded request waiting for its reply, and the events received
/// meanwhile.
struct Waiting {
    line: usize,
    sent: Duration,
    name: String,
    arguments: Map<String, Value>,
    events: Vec<RawEvent>,
}

/// The exchanges of a recording, and the events before the first request.
/// Requests are paired with replies by connection and id. An event goes
/// with the oldest request waiting for its reply (emitted while it runs),
/// else after the last reply; one received on several connections is
/// kept once.
fn exchanges(recording: &Recording) -> (Vec<Exchange>, Vec<RawEvent>) {
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut initial_events = Vec::new();
    let mut waiting: HashMap<(u64, String), Waiting> = HashMap::new();
    // Events by their text (objects' keys sorted): a set, not a list
    // searched for every event.
    let mut seen_events: HashSet<String> = HashSet::new();
    for entry in recording.entries() {
        let Value::Object(message) = &entry.message else {
            continue;
        };
        let id = || message.get("id").map(Value::to_string).unwrap_or_default();
        if entry.direction == Direction::Sent {
            let Some(name) = message
                .get("execute")
                .or_else(|| message.get("exec-oob"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let arguments = match message.get("arguments") {
                Some(Value::Object(arguments)) => arguments.clone(),
                _ => Map::new(),
            };
            let request = Waiting {
                line: entry.line,
                sent: entry.time,
                name: name.to_string(),
                arguments,
                events: Vec::new(),
            };
            waiting.insert((entry.connection, id()), request);
            continue;
        }
        if message.contains_key("event") {
            let Ok(event) = serde_json::from_value::<RawEvent>(entry.message.clone()) else {
                continue;
            };
            if !seen_events.insert(entry.message.to_string()) {
                continue;
            }
            let oldest = waiting
                .values_mut()
                .filter(|request| !ANSWERED_BY_THE_SERVER.contains(&request.name.as_str()))
                .min_by_key(|request| request.line);
            match (oldest, exchanges.last_mut()) {
                (Some(request), _) => request.events.push(event),
                (None, Some(last)) => last.events_after.push(event),
                (None, None) => initial_events.push(event),
            }
            continue;
        }
        let answer = if let Some(value) = message.get("return") {
            Ok(value.clone())
        } else if let Some(error) = message.get("error") {
            match serde_json::from_value::<QmpError>(error.clone()) {
                Ok(error) => Err(error),
                Err(_) => continue,
            }
        } else {
            continue;
        };
        let Some(request) = waiting.remove(&(entry.connection, id())) else {
            continue;
        };
        if ANSWERED_BY_THE_SERVER.contains(&request.name.as_str()) {
            continue;
        }
        exchanges.push(Exchange {
            line: request.line,
            name: request.name,
            arguments: request.arguments,
            answer,
            took: entry.time.saturating_sub(request.sent),
            events_before: request.events,
            events_after: Vec::new(),
        });
    }
    (exchanges, initial_events)
}

impl Dispatch for Replay {
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
        let Answer {
            outcome,
            before,
            after,
            delay,
        } = self.answer(name, arguments);
        for event in before {
            session.emit_raw(&event.event, event.data);
        }
        for event in after {
            session.emit_raw_after_reply(&event.event, event.data);
        }
        Box::pin(async move {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            outcome
        })
    }
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Replay")
            .field("exchanges", &self.shared.exchanges.len())
            .field("used", &state.used.iter().filter(|used| **used).count())
            .field("unmatched", &state.unmatched.len())
            .field("repeat_last", &state.repeat_last)
            .field("pace", &state.pace)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qmp::SCHEMA;
    use serde_json::json;

    /// A recording of two connections: an event while a request waits,
    /// events after a reply, the same request twice with different
    /// replies, an error.
    const RECORDING: &str = r#"{"qapi-recording": 1, "started": 1.5}
{"t": 0.001, "conn": 1, "recv": {"QMP": {"version": {"qemu": {"major": 10, "minor": 0, "micro": 2}, "package": ""}, "capabilities": ["oob"]}}}
{"t": 0.002, "conn": 1, "send": {"execute": "qmp_capabilities", "id": 1}}
{"t": 0.003, "conn": 1, "recv": {"return": {}, "id": 1}}
{"t": 0.004, "conn": 1, "send": {"execute": "job-list", "id": 2}}
{"t": 0.005, "conn": 1, "recv": {"return": [], "id": 2}}
{"t": 0.006, "conn": 1, "send": {"execute": "job-start", "arguments": {"id": "j"}, "id": 3}}
{"t": 0.0065, "conn": 1, "recv": {"event": "JOB", "data": {"status": "created"}, "timestamp": {"seconds": 1, "microseconds": 0}}}
{"t": 0.007, "conn": 1, "recv": {"return": {}, "id": 3}}
{"t": 0.008, "conn": 1, "recv": {"event": "JOB", "data": {"status": "running"}, "timestamp": {"seconds": 1, "microseconds": 1}}}
{"t": 0.009, "conn": 1, "send": {"execute": "job-list", "id": 4}}
{"t": 0.010, "conn": 2, "recv": {"event": "JOB", "data": {"status": "running"}, "timestamp": {"seconds": 1, "microseconds": 1}}}
{"t": 0.011, "conn": 1, "recv": {"return": [{"id": "j"}], "id": 4}}
{"t": 0.012, "conn": 2, "send": {"exec-oob": "job-start", "arguments": {"id": "j"}, "id": 4}}
{"t": 0.013, "conn": 2, "recv": {"error": {"class": "GenericError", "desc": "Job ID 'j' already in use"}, "id": 4}}
"#;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn replay() -> Replay {
        Replay::new(&Recording::parse(RECORDING).expect("reads"), &SCHEMA)
    }

    #[test]
    fn requests_pair_with_replies_and_events_go_with_them() {
        let replay = replay();
        let names: Vec<&str> = replay.exchanges().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["job-list", "job-start", "job-list", "job-start"]);
        let started = &replay.exchanges()[1];
        assert_eq!(started.line, 7);
        assert_eq!(started.took, Duration::from_millis(1));
        assert_eq!(started.events_before[0].data["status"], "created");
        assert_eq!(started.events_after.len(), 1);
        assert_eq!(started.events_after[0].data["status"], "running");
        // The same event, received on the second connection, is kept once.
        assert!(replay.exchanges()[2].events_before.is_empty());
        assert!(replay.initial_events().is_empty());
        assert_eq!(replay.recorded_version().map(|v| v.qemu.major), Some(10));
        assert_eq!(
            replay.exchanges()[3].answer,
            Err(QmpError::generic("Job ID 'j' already in use"))
        );
    }

    #[test]
    fn identical_requests_take_the_replies_in_order_then_the_last_again() {
        let replay = replay();
        let list = || replay.answer("job-list", Map::new()).outcome;
        assert_eq!(list(), Some(Ok(json!([]))));
        replay.pace(true);
        let started = replay.answer("job-start", object(json!({"id": "j"})));
        assert_eq!(started.delay, Some(Duration::from_millis(1)));
        replay.pace(false);
        assert_eq!(started.outcome, Some(Ok(json!({}))));
        assert_eq!(started.before.len(), 1);
        assert_eq!(started.after[0].data, json!({"status": "running"}));
        assert_eq!(list(), Some(Ok(json!([{"id": "j"}]))));
        assert_eq!(list(), Some(Ok(json!([{"id": "j"}]))));
        assert!(replay.unmatched().is_empty());
        let unused = replay.unused();
        assert_eq!(unused.len(), 1);
        assert_eq!(unused[0].name, "job-start");
        replay.repeat_last(false);
        let Some(Err(error)) = list() else {
            panic!("no further reply")
        };
        assert!(
            error.desc.contains("no further request 'job-list'"),
            "{}",
            error.desc
        );
    }

    #[test]
    fn a_request_the_recording_lacks_fails_naming_it() {
        let replay = replay();
        let answer = replay.answer("job-start", object(json!({"id": "k"})));
        let Some(Err(error)) = answer.outcome else {
            panic!("an error")
        };
        assert!(answer.before.is_empty() && answer.after.is_empty());
        assert_eq!(error.class, "GenericError");
        assert_eq!(
            error.desc,
            r#"replay: the recording has no request 'job-start' with arguments {"id":"k"}"#
        );
        assert_eq!(replay.unmatched()[0].arguments, object(json!({"id": "k"})));
        assert_eq!(replay.unused().len(), 4);
        assert!(format!("{replay:?}").contains("unmatched: 1"));
    }

    #[test]
    fn events_before_any_request_are_kept_apart() {
        let recording = Recording::parse(concat!(
            "{\"qapi-recording\": 1}\n",
            "{\"t\": 0, \"conn\": 1, \"send\": {\"execute\": \"qmp_capabilities\", \"id\": 1}}\n",
            "{\"t\": 0, \"conn\": 1, \"recv\": {\"event\": \"E\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}}\n",
            "{\"t\": 0, \"conn\": 1, \"recv\": {\"return\": {}, \"id\": 1}}\n",
        ))
        .expect("reads");
        let replay = Replay::new(&recording, &SCHEMA);
        assert_eq!(replay.recorded_version(), None);
        assert!(replay.exchanges().is_empty());
        assert_eq!(replay.initial_events().len(), 1);
    }
}
