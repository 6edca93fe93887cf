//! The blocking clients, over std unix or TCP sockets: [`BlockingQmp`],
//! the same typed calls as [`crate::Qmp`] one at a time, with events kept
//! until asked for, and [`BlockingQga`], a guest agent's.
//!
//! Both take a [`Config`]: connecting (the socket, then the greeting or
//! the first synchronisation) is bounded by its connect and greeting
//! limits, every call by its call limit unless the call has one of its
//! own (`execute_timeout`). A call that runs out of time fails with
//! [`Error::Timeout`] and leaves the connection usable: its late reply
//! is recognised by its id and dropped (a guest agent's, which carries no
//! id, by resynchronising before the next call). Only a request cut off
//! half-written closes the connection.

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::net::ToSocketAddrs;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use crate::config::Config;
use crate::error::Error;
use crate::protocol::{excerpt, violation, write_request, Execution, Greeting};
use crate::protocol::{Message, ParseError, MAX_ABANDONED};
use crate::qmp::QMPCapability;
use crate::schema::{BindingSchema, SchemaReport};
use crate::trace::{log_debug, log_warn, CallTrace};
use crate::{Command, Event, OobCommand, RawEvent, Timestamped};

mod connection;
mod qga;
mod socket;

use connection::{deadline, Closer, Connection, Sent};
pub use qga::BlockingQga;
pub use socket::Socket;

/// A blocking QMP connection. Calls from several threads take turns.
pub struct BlockingQmp {
    inner: Mutex<Inner>,
    /// Closes the connection under a call in progress.
    closer: Closer,
    greeting: Greeting,
    config: Config,
}

struct Inner {
    connection: Connection,
    next_id: u64,
    events: VecDeque<RawEvent>,
    lagged: u64,
    ignored: u64,
    dropped: u64,
    negotiated: bool,
    oob: bool,
    /// The ids of calls that ran out of time: their replies are dropped
    /// when they come.
    abandoned: BTreeSet<u64>,
    /// The time limit of each call without one of its own.
    timeout: Option<Duration>,
    /// How many events are kept.
    event_limit: usize,
}

/// What a message from the server is to a caller.
enum Routed {
    /// A reply (`None`: an error the server could not attribute), and
    /// what its call returns.
    Reply(Option<Value>, Result<Value, Error>),
    /// Kept (an event), or dropped.
    Handled,
}

impl BlockingQmp {
    /// Connects to a QMP server on a unix socket, reads its greeting and
    /// negotiates (out-of-band execution when offered and configured).
    /// A QEMU monitor serving another client neither accepts nor greets:
    /// [`Error::ConnectTimeout`] or [`Error::NoGreeting`] after the
    /// configured limits.
    pub fn connect_unix(path: impl AsRef<Path>, config: &Config) -> Result<Self, Error> {
        let socket = Socket::unix(path.as_ref(), config.connect_timeout())?;
        log_debug!(to = %path.as_ref().display(), "connected");
        Self::from_socket(socket, config)
    }

    /// [`BlockingQmp::connect_unix`], trying again while the socket does
    /// not exist yet or nobody listens on it (a QEMU starting up), until
    /// the configured connect limit has passed
    /// ([`Error::ConnectTimeout`]).
    pub fn connect_unix_retry(path: impl AsRef<Path>, config: &Config) -> Result<Self, Error> {
        let socket = Socket::unix_retry(path.as_ref(), config.connect_timeout())?;
        Self::from_socket(socket, config)
    }

    /// Connects to a QMP server over TCP (QEMU's `-qmp
    /// tcp:HOST:PORT,server`), reads its greeting and negotiates. Each of
    /// several addresses has an equal share of the connect limit; the
    /// name is looked up first, outside it.
    pub fn connect_tcp(
        address: impl ToSocketAddrs + fmt::Debug,
        config: &Config,
    ) -> Result<Self, Error> {
        Self::from_socket(Socket::tcp(address, config.connect_timeout())?, config)
    }

    /// Waits on a listening unix socket for the server to connect (QEMU
    /// started with `-chardev socket,path=...,server=off` and a monitor
    /// on it) within the connect limit, then reads its greeting and
    /// negotiates. Binding the listener before starting QEMU leaves no
    /// race with its start-up.
    pub fn accept_unix(listener: &UnixListener, config: &Config) -> Result<Self, Error> {
        Self::from_socket(Socket::accept(listener, config.connect_timeout())?, config)
    }

    /// Talks to a server over one end of a connected unix socket (a
    /// socketpair whose other end QEMU got as `-chardev socket,fd=N`),
    /// owned from now on.
    pub fn from_fd(fd: OwnedFd, config: &Config) -> Result<Self, Error> {
        Self::from_socket(Socket::from_fd(fd), config)
    }

    /// Reads the greeting from a connected socket (a std `UnixStream` or
    /// `TcpStream`, or a [`Socket`]) within the greeting limit, and
    /// negotiates, the answer due within that limit again.
    pub fn from_socket(socket: impl Into<Socket>, config: &Config) -> Result<Self, Error> {
        let limit = config.greeting_timeout();
        let mut connection = Connection::new(socket.into(), config.max_message())?;
        if let Some(recorder) = config.recorder() {
            connection.record(recorder.connection());
        }
        let mut inner = Inner {
            connection,
            next_id: 1,
            events: VecDeque::new(),
            lagged: 0,
            ignored: 0,
            dropped: 0,
            negotiated: false,
            oob: false,
            abandoned: BTreeSet::new(),
            timeout: config.call_timeout(),
            event_limit: config.event_buffer(),
        };
        let greeting = inner.greeting(limit)?;
        log_debug!(version = %greeting.raw_version(), "greeted");
        let oob = config.oob() && greeting.offers(&QMPCapability::Oob);
        let enable = if oob {
            serde_json::json!({ "enable": ["oob"] })
        } else {
            Value::Object(Default::default())
        };
        let id = inner.take_id();
        let trace = CallTrace::new("blocking-qmp", "qmp_capabilities", id);
        let negotiated = inner.exchange(
            "qmp_capabilities",
            &enable,
            Vec::new(),
            id,
            Execution::InBand,
            Some(limit),
            true,
        );
        trace.finish(&negotiated);
        negotiated?;
        inner.negotiated = true;
        inner.oob = oob;
        Ok(Self {
            closer: inner.connection.closer()?,
            inner: Mutex::new(inner),
            greeting,
            config: config.clone(),
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

    /// Whether descriptors can be passed ([`BlockingQmp::execute_with_fds`]):
    /// on a unix socket.
    pub fn passes_fds(&self) -> bool {
        self.lock().connection.passes_fds()
    }

    /// Sets the time limit of every later call without one of its own
    /// (`None`: no limit), in place of the configured call limit.
    pub fn set_timeout(&self, timeout: Option<Duration>) {
        self.lock().timeout = timeout;
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Executes a command and decodes its reply, within the call limit.
    /// A command without a success response (`'success-response':
    /// false`) completes once sent.
    pub fn execute<C: Command>(&self, command: &C) -> Result<C::Ok, Error> {
        self.typed(command, Execution::InBand, Vec::new(), None)
    }

    /// [`BlockingQmp::execute`] within `timeout` rather than the call
    /// limit. The connection stays usable when it runs out.
    pub fn execute_timeout<C: Command>(
        &self,
        command: &C,
        timeout: Duration,
    ) -> Result<C::Ok, Error> {
        self.typed(command, Execution::InBand, Vec::new(), Some(timeout))
    }

    /// [`BlockingQmp::execute`] with descriptors passed along
    /// (SCM_RIGHTS), for `getfd`, `add-fd` and commands naming a
    /// descriptor passed so: they go with the first byte of this
    /// command. The caller keeps its descriptors (copies are sent, and
    /// closed here whatever becomes of the call). Only on a unix socket
    /// ([`Error::FdPassingUnsupported`]).
    pub fn execute_with_fds<C: Command>(
        &self,
        command: &C,
        fds: &[BorrowedFd<'_>],
    ) -> Result<C::Ok, Error> {
        let copies = self.copies(C::NAME, fds)?;
        self.typed(command, Execution::InBand, copies, None)
    }

    /// Executes a command out of band (only `allow-oob` commands). Calls
    /// on one connection take turns, so this does not overtake another
    /// thread's call in progress: the async [`crate::Qmp`] does.
    pub fn execute_oob<C: OobCommand>(&self, command: &C) -> Result<C::Ok, Error> {
        let execution = if self.config.legacy_oob() {
            Execution::OutOfBandLegacy
        } else {
            Execution::OutOfBand
        };
        self.typed(command, execution, Vec::new(), None)
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
        self.raw(name, &arguments, Vec::new())
    }

    /// [`BlockingQmp::execute_raw`] with descriptors passed along, as
    /// [`BlockingQmp::execute_with_fds`] passes them.
    pub fn execute_raw_with_fds(
        &self,
        name: &str,
        arguments: Value,
        fds: &[BorrowedFd<'_>],
    ) -> Result<Value, Error> {
        let copies = self.copies(name, fds)?;
        self.raw(name, &arguments, copies)
    }

    /// Copies of `fds` to send with `command`, on a connection that can.
    fn copies(&self, command: &str, fds: &[BorrowedFd<'_>]) -> Result<Vec<OwnedFd>, Error> {
        if !self.passes_fds() {
            return Err(Error::FdPassingUnsupported {
                command: command.to_string(),
            });
        }
        Ok(crate::fds::duplicate(fds)?)
    }

    fn raw(&self, name: &str, arguments: &Value, fds: Vec<OwnedFd>) -> Result<Value, Error> {
        let mut inner = self.lock();
        let id = inner.take_id();
        let trace = CallTrace::new("blocking-qmp", name, id);
        let timeout = inner.timeout;
        let result = inner.exchange(name, arguments, fds, id, Execution::InBand, timeout, true);
        trace.finish(&result);
        result
    }

    fn typed<C: Command>(
        &self,
        command: &C,
        execution: Execution,
        fds: Vec<OwnedFd>,
        timeout: Option<Duration>,
    ) -> Result<C::Ok, Error> {
        let mut inner = self.lock();
        let id = inner.take_id();
        let trace = CallTrace::new("blocking-qmp", C::NAME, id);
        let result = crate::protocol::arguments(command).and_then(|arguments| {
            let timeout = timeout.or(inner.timeout);
            // A command without a success response completes once sent.
            let wait = C::SUCCESS_RESPONSE;
            let value = inner.exchange(C::NAME, &arguments, fds, id, execution, timeout, wait)?;
            drop(inner);
            crate::protocol::decode_reply::<C>(match value {
                Value::Null if !wait => Value::Object(Default::default()),
                value => value,
            })
        });
        trace.finish(&result);
        result
    }

    /// The next event: one kept while waiting for a reply, or the next
    /// the server sends within `timeout` (`None` if none does). The
    /// connection stays usable when none does.
    pub fn next_event(&self, timeout: Duration) -> Result<Option<RawEvent>, Error> {
        let mut inner = self.lock();
        if let Some(event) = inner.events.pop_front() {
            return Ok(Some(event));
        }
        inner.connection.check_open()?;
        let deadline = deadline(Some(timeout.max(Duration::from_millis(1))));
        loop {
            let Some(line) = inner.connection.message(deadline)? else {
                return Ok(None);
            };
            if let Routed::Reply(reply_id, _) = inner.route(&line, "")? {
                inner.drop_reply(reply_id.as_ref(), &line);
            }
            if let Some(event) = inner.events.pop_front() {
                return Ok(Some(event));
            }
        }
    }

    /// The first event of type `E` (a generated event struct), decoded:
    /// one kept since the connection was made (or since events were last
    /// taken), or the next the server sends within `timeout` (`None` if
    /// none does). Other events stay kept for [`BlockingQmp::next_event`].
    /// As every event is kept, there is no need to ask before the
    /// command that causes it.
    pub fn wait_for_event<E: Event>(
        &self,
        timeout: Duration,
    ) -> Result<Option<Timestamped<E>>, Error> {
        self.wait_for_event_where(timeout, |_: &E| true)
    }

    /// [`BlockingQmp::wait_for_event`], for only the events `accept`
    /// returns `true` for (a job's completion among all jobs', say);
    /// others of type `E` stay kept. An event of type `E` whose data does
    /// not decode is taken and reported ([`Error::Decode`], the raw data
    /// kept in it).
    pub fn wait_for_event_where<E: Event>(
        &self,
        timeout: Duration,
        mut accept: impl FnMut(&E) -> bool,
    ) -> Result<Option<Timestamped<E>>, Error> {
        let mut inner = self.lock();
        let mut seen = 0;
        let deadline = deadline(Some(timeout.max(Duration::from_millis(1))));
        loop {
            // The events not looked at yet: all of them at first, then
            // those that came with the last message.
            while seen < inner.events.len() {
                let raw = &inner.events[seen];
                if let Some(decoded) = raw.decode::<E>() {
                    // One that does not decode is taken, so that the
                    // next wait does not fail on it again.
                    let event = match decoded {
                        Ok(event) => event,
                        Err(error) => {
                            let raw = inner.events.remove(seen).expect("looked at");
                            return Err(Error::decode(&raw.event, Some(raw.data), error));
                        }
                    };
                    if accept(&event) {
                        let raw = inner.events.remove(seen).expect("looked at");
                        return Ok(Some(Timestamped {
                            event,
                            timestamp: raw.timestamp,
                        }));
                    }
                }
                seen += 1;
            }
            inner.connection.check_open()?;
            let Some(line) = inner.connection.message(deadline)? else {
                return Ok(None);
            };
            let lagged = inner.lagged;
            if let Routed::Reply(reply_id, _) = inner.route(&line, "")? {
                inner.drop_reply(reply_id.as_ref(), &line);
            }
            // An event dropped for the limit shifts those kept (and those
            // looked at) one place to the front.
            seen = seen.saturating_sub((inner.lagged - lagged) as usize);
        }
    }

    /// How many events were dropped because more than the configured
    /// event buffer waited unread.
    pub fn lagged_events(&self) -> u64 {
        self.lock().lagged
    }

    /// How many replies arrived that no call waited for (the late reply
    /// of a call that ran out of time, say).
    pub fn dropped_replies(&self) -> u64 {
        self.lock().dropped
    }

    /// How many messages were ignored: JSON objects that are neither a
    /// reply, an event nor a greeting (a newer protocol's, perhaps), and
    /// events too malformed to deliver. Lines that are not JSON objects
    /// are not ignored: they close the connection.
    pub fn ignored_messages(&self) -> u64 {
        self.lock().ignored
    }

    /// Closes the connection: later calls fail with [`Error::Closed`];
    /// the socket's writing side is shut, and this returns once the
    /// server has closed its side too, or once the configured close
    /// grace has passed. When another thread is using the connection (a
    /// call in progress), the socket is shut both ways at once instead:
    /// that call fails with [`Error::Closed`], and what the server still
    /// sends is not waited for. The descriptor is released when the
    /// client is dropped.
    pub fn close(&self) {
        let mut inner = self.closer.lock_interrupting(&self.inner);
        inner.connection.shut(self.config.close_grace());
    }
}

impl fmt::Debug for BlockingQmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("BlockingQmp");
        out.field("version", self.greeting.raw_version());
        match self.inner.try_lock() {
            Ok(inner) => out
                .field("socket", inner.connection.socket())
                .field("oob", &inner.oob)
                .field("closed", &inner.connection.is_closed())
                .field("events_kept", &inner.events.len()),
            Err(_) => out.field("socket", &"(in use by a call)"),
        };
        out.finish_non_exhaustive()
    }
}

impl Inner {
    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Reads up to the greeting within `limit`.
    fn greeting(&mut self, limit: Duration) -> Result<Greeting, Error> {
        let deadline = deadline(Some(limit));
        loop {
            let line = match self.connection.message(deadline) {
                Ok(Some(line)) => line,
                Ok(None) => return Err(Error::NoGreeting { limit }),
                Err(Error::Closed(_)) => {
                    return Err(Error::Closed(
                        "the server closed the connection before its greeting".into(),
                    ))
                }
                Err(error) => return Err(error),
            };
            match Message::parse(&line) {
                Ok(Message::Greeting(greeting)) => return Ok(greeting),
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
        }
    }

    /// Sends request `id` (with `fds`) and, when `wait`, reads up to its
    /// reply within `timeout` (events kept, late replies dropped);
    /// without waiting, returns `null` once it is sent.
    #[allow(clippy::too_many_arguments)]
    fn exchange(
        &mut self,
        name: &str,
        arguments: &Value,
        fds: Vec<OwnedFd>,
        id: u64,
        execution: Execution,
        timeout: Option<Duration>,
        wait: bool,
    ) -> Result<Value, Error> {
        self.connection.check_open()?;
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
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, arguments, Some(id), execution);
        let deadline = deadline(timeout);
        let out_of_time = || Error::Timeout {
            command: name.to_string(),
            limit: timeout.unwrap_or_default(),
        };
        if self.connection.send(&bytes, fds, deadline, out_of_time)? == Sent::Nothing {
            return Err(out_of_time());
        }
        if !wait {
            return Ok(Value::Null);
        }
        loop {
            let Some(line) = self.connection.message(deadline)? else {
                return Err(self.abandon(id, out_of_time()));
            };
            let (reply_id, result) = match self.route(&line, name)? {
                Routed::Handled => continue,
                Routed::Reply(reply_id, result) => (reply_id, result),
            };
            match reply_id.as_ref().map(Value::as_u64) {
                Some(Some(reply_id)) if reply_id == id => return result,
                // An error the server could not attribute concerns the
                // oldest request unanswered: this one, unless one out of
                // time is older.
                None if self.abandoned.is_empty() => return result,
                _ => self.drop_reply(reply_id.as_ref(), &line),
            }
        }
    }

    /// Classifies a message: events are kept, messages of no use
    /// counted; a reply is returned with its id. An error is a message
    /// that breaks the protocol: the connection is closed.
    fn route(&mut self, line: &[u8], command: &str) -> Result<Routed, Error> {
        Ok(match Message::parse(line) {
            Ok(Message::Return { id, value }) => Routed::Reply(id, Ok(value)),
            Ok(Message::Error { id, error }) => Routed::Reply(
                id,
                Err(Error::Command {
                    command: command.to_string(),
                    error,
                }),
            ),
            Ok(Message::Event(event)) => {
                log_debug!(event = %event.event, "event received");
                if self.events.len() >= self.event_limit {
                    self.events.pop_front();
                    self.lagged += 1;
                }
                self.events.push_back(event);
                Routed::Handled
            }
            Ok(Message::Greeting(_)) => Routed::Handled,
            Err(error @ ParseError::NotAnObject(_)) => {
                let error = violation(&error, line);
                log_warn!(%error, "protocol violation");
                self.connection.close(error.to_string());
                return Err(error);
            }
            // A reply all the same: the call fails.
            Err(error) => match error.failed_reply(command, line) {
                Some((id, failure)) => Routed::Reply(id, Err(failure)),
                None => {
                    self.ignored += 1;
                    log_warn!(%error, message = %excerpt(line), "ignored a message");
                    Routed::Handled
                }
            },
        })
    }

    /// A reply no call waits for (`line`, with `id`): counted and dropped.
    /// It settles the call out of time it answers (an error without an
    /// id, the oldest), which is no longer waited for.
    fn drop_reply(&mut self, id: Option<&Value>, line: &[u8]) {
        match id {
            Some(id) => {
                if let Some(id) = id.as_u64() {
                    self.abandoned.remove(&id);
                }
            }
            None => {
                self.abandoned.pop_first();
            }
        }
        self.dropped += 1;
        log_warn!(reply = %excerpt(line), "dropped a reply nobody waits for");
    }

    /// A call out of time: its reply, when it comes, is dropped. A server
    /// that has left too many calls unanswered is given up on.
    fn abandon(&mut self, id: u64, error: Error) -> Error {
        if self.abandoned.len() >= MAX_ABANDONED {
            self.connection.close(format!(
                "{error}: {MAX_ABANDONED} calls ran out of time before it, unanswered"
            ));
        } else {
            self.abandoned.insert(id);
        }
        error
    }
}
