//! The blocking QMP client, over std unix or TCP sockets: the same typed
//! calls as [`crate::Qmp`], one at a time, with events kept until asked
//! for.
//!
//! Without a time limit a call waits as long as the server takes.
//! [`BlockingQmp::connect_unix_timeout`] and
//! [`BlockingQmp::connect_tcp_timeout`] bound connecting (the greeting
//! and the negotiation), [`BlockingQmp::set_timeout`] every call after.
//! A call that runs out of time closes the connection: its reply may
//! still come, and the client, which matches replies to the one call it
//! has outstanding, does not wait for it. Later calls fail with
//! [`Error::Closed`]; connect again.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::ToSocketAddrs;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::Error;
use crate::framing::{Decoder, TooLong};

mod stream;
use crate::protocol::{excerpt, violation, write_request, Execution, Greeting};
use crate::protocol::{Message, ParseError};
use crate::schema::{BindingSchema, SchemaReport};
use crate::{Command, OobCommand, RawEvent};
use stream::Stream;

/// The longest message accepted from the server, in bytes (a
/// pretty-printed one counts all its lines).
const MAX_MESSAGE: usize = 64 << 20;

/// A blocking QMP connection. Calls from several threads take turns.
pub struct BlockingQmp {
    inner: Mutex<Inner>,
    greeting: Greeting,
}

struct Inner {
    reader: BufReader<Stream>,
    writer: Stream,
    next_id: u64,
    events: VecDeque<RawEvent>,
    event_limit: usize,
    lagged: u64,
    ignored: u64,
    negotiated: bool,
    oob: bool,
    /// Why the connection can't be used any more.
    closed: Option<Arc<str>>,
    /// What was read of a message begun, kept across reads that time
    /// out.
    decoder: Decoder,
    /// The time limit of each call ([`BlockingQmp::set_timeout`]).
    timeout: Option<Duration>,
    /// The socket's read and write timeouts as last set, so that they
    /// are only set when they change.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl BlockingQmp {
    /// Connects to a QMP server on a unix socket, reads its greeting and
    /// negotiates (turning on out-of-band execution when offered).
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open(Stream::unix(path.as_ref(), None)?, None, None)
    }

    /// [`BlockingQmp::connect_unix`] with a time limit: connecting and
    /// the greeting must come within `timeout` ([`Error::NoGreeting`]
    /// otherwise: a QEMU monitor serves one client at a time, so one
    /// that serves another client sends none), and the answer to the
    /// negotiation within `timeout` more ([`Error::Timeout`]). Calls
    /// after that have no limit unless [`BlockingQmp::set_timeout`] sets
    /// one.
    pub fn connect_unix_timeout(path: impl AsRef<Path>, timeout: Duration) -> Result<Self, Error> {
        let deadline = deadline(Some(timeout));
        let stream = Stream::unix(path.as_ref(), deadline.map(|d| (timeout, d)))?;
        Self::open(stream, Some(timeout), deadline)
    }

    /// Connects to a QMP server over TCP (QEMU's `-qmp tcp:HOST:PORT,server`),
    /// reads its greeting and negotiates.
    pub fn connect_tcp(address: impl ToSocketAddrs + std::fmt::Debug) -> Result<Self, Error> {
        Self::open(Stream::tcp(address, None)?, None, None)
    }

    /// [`BlockingQmp::connect_tcp`] with the time limits of
    /// [`BlockingQmp::connect_unix_timeout`], but for connecting: an
    /// address that does not answer in time is [`Error::Connect`]
    /// (`TimedOut`), and each of several addresses has an equal share of
    /// the time. The name is looked up first, outside the limit.
    pub fn connect_tcp_timeout(
        address: impl ToSocketAddrs + std::fmt::Debug,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let deadline = deadline(Some(timeout));
        let stream = Stream::tcp(address, deadline)?;
        Self::open(stream, Some(timeout), deadline)
    }

    /// Reads the greeting from a connected socket and negotiates, the
    /// greeting due by `deadline`, the negotiation's answer within
    /// `timeout` more.
    fn open(
        stream: Stream,
        timeout: Option<Duration>,
        deadline: Option<Instant>,
    ) -> Result<Self, Error> {
        let mut inner = Inner {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            next_id: 1,
            events: VecDeque::new(),
            event_limit: 1024,
            lagged: 0,
            ignored: 0,
            negotiated: false,
            oob: false,
            closed: None,
            decoder: Decoder::new(MAX_MESSAGE),
            timeout: None,
            read_timeout: None,
            write_timeout: None,
        };
        let greeting = loop {
            let line = match inner.message(deadline) {
                Ok(Some(line)) => line,
                Ok(None) => {
                    return Err(Error::NoGreeting {
                        limit: timeout.unwrap_or_default(),
                    })
                }
                Err(Error::Closed(_)) => {
                    return Err(Error::Closed(
                        "the server closed the connection before its greeting".into(),
                    ))
                }
                Err(error) => return Err(error),
            };
            match Message::parse(&line) {
                Ok(Message::Greeting(greeting)) => break greeting,
                // Not JSON: an HMP monitor, or no monitor at all.
                Err(ParseError::NotAnObject(_)) => {
                    return Err(Error::NotQmp {
                        sent: excerpt(&line),
                    })
                }
                Err(error @ ParseError::MalformedGreeting(_)) => {
                    return Err(violation(&error, &line))
                }
                // Other messages before the greeting: not in the
                // protocol; skip.
                _ => continue,
            }
        };
        let enable = if greeting.offers(&crate::qmp::QMPCapability::Oob) {
            serde_json::json!({ "enable": ["oob"] })
        } else {
            Value::Object(Default::default())
        };
        inner.call("qmp_capabilities", &enable, Execution::InBand, timeout)?;
        inner.negotiated = true;
        inner.oob = greeting.offers(&crate::qmp::QMPCapability::Oob);
        Ok(Self {
            inner: Mutex::new(inner),
            greeting,
        })
    }

    /// The server's greeting.
    pub fn greeting(&self) -> &Greeting {
        &self.greeting
    }

    /// Whether out-of-band execution was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.lock().oob
    }

    /// Bounds every later call: the reply must come within `timeout`
    /// (`None`: no limit, the default). A call that runs out of time
    /// fails with [`Error::Timeout`] and closes the connection (see the
    /// [module](self) documentation).
    pub fn set_timeout(&self, timeout: Option<Duration>) {
        self.lock().timeout = timeout;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Executes a command and decodes its reply. A command without a
    /// success response (`'success-response': false`) completes once
    /// sent.
    pub fn execute<C: Command>(&self, command: &C) -> Result<C::Ok, Error> {
        self.typed(command, Execution::InBand)
    }

    /// Executes a command out of band (only `allow-oob` commands). Calls
    /// on one connection take turns, so this does not overtake another
    /// thread's call in progress: the async [`crate::Qmp`] does.
    pub fn execute_oob<C: OobCommand>(&self, command: &C) -> Result<C::Ok, Error> {
        self.typed(command, Execution::OutOfBand)
    }

    /// Compares `bindings` (the `SCHEMA` of generated bindings) with what
    /// the server describes in its `query-qmp-schema` reply: see
    /// [`crate::schema`].
    pub fn check_schema(&self, bindings: &BindingSchema) -> Result<SchemaReport, Error> {
        let server = self.execute(&crate::qmp::commands::QueryQmpSchema::new())?;
        Ok(crate::schema::check(bindings, &server))
    }

    /// Executes a command the bindings lack: a name and JSON arguments.
    pub fn execute_raw(&self, name: &str, arguments: Value) -> Result<Value, Error> {
        let mut inner = self.lock();
        let timeout = inner.timeout;
        inner.call(name, &arguments, Execution::InBand, timeout)
    }

    /// The next event: one that arrived while waiting for a reply, or the
    /// next the server sends within `timeout` (`None` if none does).
    /// The connection stays usable when none does.
    pub fn next_event(&self, timeout: Duration) -> Result<Option<RawEvent>, Error> {
        let mut inner = self.lock();
        if let Some(event) = inner.events.pop_front() {
            return Ok(Some(event));
        }
        if let Some(why) = &inner.closed {
            return Err(Error::Closed(why.clone()));
        }
        let deadline = deadline(Some(timeout.max(Duration::from_millis(1))));
        loop {
            let Some(line) = inner.message(deadline)? else {
                return Ok(None);
            };
            match Message::parse(&line) {
                Ok(Message::Event(event)) => return Ok(Some(event)),
                Ok(Message::Greeting(_)) => {}
                Ok(Message::Return { .. } | Message::Error { .. })
                | Err(
                    ParseError::MalformedError { .. } | ParseError::TooDeep { reply: true, .. },
                ) => {
                    crate::trace::log_warn!(reply = %excerpt(&line), "dropped a reply nobody waits for");
                }
                Err(error @ ParseError::NotAnObject(_)) => {
                    return Err(inner.violation(&error, &line))
                }
                Err(error) => inner.ignore(&error, &line),
            }
        }
    }

    /// How many events were dropped because more than 1024 waited unread.
    pub fn lagged_events(&self) -> u64 {
        self.lock().lagged
    }

    /// How many messages were ignored: JSON objects that are neither a
    /// reply, an event nor a greeting (a newer protocol's, perhaps), and
    /// events too malformed to deliver. Lines that are not JSON objects
    /// are not ignored: they close the connection.
    pub fn ignored_messages(&self) -> u64 {
        self.lock().ignored
    }

    fn typed<C: Command>(&self, command: &C, execution: Execution) -> Result<C::Ok, Error> {
        let arguments = crate::protocol::arguments(command)?;
        let value = {
            let mut inner = self.lock();
            let timeout = inner.timeout;
            // A command without a success response completes once sent.
            let wait = C::SUCCESS_RESPONSE;
            match inner.exchange(C::NAME, &arguments, execution, timeout, wait)? {
                Value::Null if !wait => Value::Object(Default::default()),
                value => value,
            }
        };
        crate::protocol::decode_reply::<C>(value)
    }
}

/// When `timeout` from now is (`None` without a limit, or one too far
/// away to represent).
fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|timeout| Instant::now().checked_add(timeout))
}

/// How long until `deadline`: `Some(None)` without one, `None` once it
/// has passed.
fn left(deadline: Option<Instant>) -> Option<Option<Duration>> {
    match deadline {
        None => Some(None),
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            (!left.is_zero()).then_some(Some(left))
        }
    }
}

fn timed_out(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

impl Inner {
    fn call(
        &mut self,
        name: &str,
        arguments: &Value,
        execution: Execution,
        timeout: Option<Duration>,
    ) -> Result<Value, Error> {
        self.exchange(name, arguments, execution, timeout, true)
    }

    /// Sends a request and, when `wait`, reads up to its reply (events
    /// kept, other replies skipped); without waiting, returns `null` once
    /// it is sent.
    fn exchange(
        &mut self,
        name: &str,
        arguments: &Value,
        execution: Execution,
        timeout: Option<Duration>,
        wait: bool,
    ) -> Result<Value, Error> {
        if let Some(why) = &self.closed {
            return Err(Error::Closed(why.clone()));
        }
        if !self.negotiated && name != "qmp_capabilities" {
            return Err(Error::NotNegotiated {
                command: name.to_string(),
            });
        }
        if !self.oob && execution != Execution::InBand {
            return Err(Error::OobNotEnabled {
                command: name.to_string(),
            });
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, arguments, Some(id), execution);
        let deadline = deadline(timeout);
        let out_of_time = || Error::Timeout {
            command: name.to_string(),
            limit: timeout.unwrap_or_default(),
        };
        if !self.send(&bytes, deadline)? {
            return Err(self.give_up(out_of_time()));
        }
        if !wait {
            return Ok(Value::Null);
        }
        loop {
            let Some(line) = self.message(deadline)? else {
                return Err(self.give_up(out_of_time()));
            };
            let (reply_id, result) = match Message::parse(&line) {
                Ok(Message::Return { id, value }) => (id, Ok(value)),
                Ok(Message::Error { id, error }) => (
                    id,
                    Err(Error::Command {
                        command: name.to_string(),
                        error,
                    }),
                ),
                Ok(Message::Event(event)) => {
                    if self.events.len() == self.event_limit {
                        self.events.pop_front();
                        self.lagged += 1;
                    }
                    self.events.push_back(event);
                    continue;
                }
                Ok(Message::Greeting(_)) => continue,
                Err(error @ ParseError::NotAnObject(_)) => {
                    return Err(self.violation(&error, &line))
                }
                // A reply all the same: the call fails.
                Err(error) => match error.failed_reply(name, &line) {
                    Some((id, failure)) => (id, Err(failure)),
                    None => {
                        self.ignore(&error, &line);
                        continue;
                    }
                },
            };
            // Only this call is outstanding: an id-less error is its own.
            match reply_id {
                None => return result,
                Some(reply_id) if reply_id.as_u64() == Some(id) => return result,
                Some(_) => {
                    crate::trace::log_warn!(reply = %excerpt(&line), "dropped a reply nobody waits for");
                    continue;
                }
            }
        }
    }

    /// Writes a request; `false` if `deadline` passed first.
    fn send(&mut self, bytes: &[u8], deadline: Option<Instant>) -> Result<bool, Error> {
        let Some(left) = left(deadline) else {
            return Ok(false);
        };
        if self.write_timeout != left {
            self.writer.set_write_timeout(left)?;
            self.write_timeout = left;
        }
        match self.writer.write_all(bytes) {
            Ok(()) => Ok(true),
            // Part of the request may be written: the stream is unusable
            // either way.
            Err(error) if deadline.is_some() && timed_out(&error) => Ok(false),
            Err(error) => {
                self.close(format!("writing failed: {error}"));
                Err(error.into())
            }
        }
    }

    /// The next message (a line, or the lines of a pretty-printed one:
    /// see [`Decoder`]); `None` if `deadline` passes first (what was read
    /// of it is kept for the next call).
    fn message(&mut self, deadline: Option<Instant>) -> Result<Option<Vec<u8>>, Error> {
        loop {
            // What is read already is used whatever the time; the
            // deadline bounds waiting for more.
            if self.reader.buffer().is_empty() {
                let Some(left) = left(deadline) else {
                    return Ok(None);
                };
                if self.read_timeout != left {
                    self.reader.get_ref().set_read_timeout(left)?;
                    self.read_timeout = left;
                }
            }
            // One read at a time, so that a server trickling bytes can't
            // keep a read from timing out.
            let buffer = match self.reader.fill_buf() {
                Ok(buffer) => buffer,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                // What was read is in the decoder; the deadline is checked
                // again.
                Err(error) if deadline.is_some() && timed_out(&error) => continue,
                Err(error) => {
                    self.close(format!("reading failed: {error}"));
                    return Err(error.into());
                }
            };
            if buffer.is_empty() {
                let why = if self.decoder.buffered() == 0 {
                    "the server closed the connection"
                } else {
                    "the server closed the connection mid-message"
                };
                return Err(self.closing(why));
            }
            let (used, message) = self.decoder.decode(buffer);
            self.reader.consume(used);
            match message {
                None => continue,
                Some(Ok(message)) => return Ok(Some(message)),
                Some(Err(TooLong { limit })) => {
                    let error = Error::Protocol(format!("a message longer than {limit} bytes"));
                    self.close(error.to_string());
                    return Err(error);
                }
            }
        }
    }

    /// Marks the connection unusable; the first reason is kept.
    fn close(&mut self, why: impl Into<Arc<str>>) {
        if self.closed.is_none() {
            self.closed = Some(why.into());
        }
    }

    /// [`Error::Closed`] for `why`, the connection marked closed.
    fn closing(&mut self, why: &str) -> Error {
        self.close(why);
        Error::Closed(why.into())
    }

    /// A call out of time: the connection is closed, as its reply may
    /// still come.
    fn give_up(&mut self, error: Error) -> Error {
        self.close(format!(
            "{error}: its reply may still come, so the connection is not used any more"
        ));
        error
    }

    /// A line that breaks the protocol: the connection is closed.
    fn violation(&mut self, error: &ParseError, line: &[u8]) -> Error {
        let error = violation(error, line);
        self.close(error.to_string());
        error
    }

    /// A message of no use, counted and logged.
    fn ignore(&mut self, error: &ParseError, line: &[u8]) {
        self.ignored += 1;
        crate::trace::log_warn!(%error, message = %excerpt(line), "ignored a message");
    }
}
