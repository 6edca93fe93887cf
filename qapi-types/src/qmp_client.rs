//! The async QMP client (tokio): one connection shared by many tasks,
//! replies matched to callers by id, events to subscribers, descriptors
//! passed with the command that names them.
//!
//! Every way to connect takes the one [`Config`]:
//! [`Qmp::connect_unix`], [`Qmp::connect_unix_retry`] (until the socket
//! exists), [`Qmp::connect_tcp`], [`Qmp::accept_unix`] (QEMU started with
//! `server=off` connects to us), [`Qmp::from_stream`] (a socket connected
//! already) and [`Qmp::from_fd`] (one end of a socketpair whose other end
//! QEMU got as `-chardev socket,fd=N`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[cfg(unix)]
use std::os::fd::{BorrowedFd, OwnedFd};

use serde_json::Value;
use tokio::io::BufReader;
use tokio::sync::{broadcast, mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::error::Error;
use crate::framing::read_message;
use crate::protocol::{
    violation, write_request, Execution, Greeting, Message, ParseError, MAX_ABANDONED,
};
use crate::qmp::QMPCapability;
use crate::recording::ConnectionRecorder;
use crate::schema::{BindingSchema, SchemaReport};
use crate::trace::{log_debug, log_info, log_warn, CallTrace};
use crate::{Command, Event, OobCommand, RawEvent, Timestamped};

mod events;
pub(crate) mod transport;

pub use events::{Events, EventsError, Subscription};
pub use transport::Transport;
use transport::{Reader, Writer};

/// A QMP connection. Clones share it; the socket closes with the last
/// clone, or at once with [`Qmp::close`].
#[derive(Clone)]
pub struct Qmp {
    shared: Arc<Shared>,
}

/// What the writer task is given.
enum Outgoing {
    /// A request's bytes, and the copies of the descriptors that go with
    /// them (closed once sent, or dropped with the request).
    Request {
        bytes: Vec<u8>,
        #[cfg(unix)]
        fds: Vec<OwnedFd>,
    },
    /// Send what is queued before, then shut the socket's writing side.
    Close,
}

struct Shared {
    outgoing: mpsc::UnboundedSender<Outgoing>,
    state: Mutex<State>,
    next_id: AtomicU64,
    /// Gone once the connection closes, so that subscribers learn it.
    events: Mutex<Option<broadcast::Sender<RawEvent>>>,
    first_subscriber: Mutex<Option<broadcast::Receiver<RawEvent>>>,
    in_band: Arc<Semaphore>,
    greeting: Greeting,
    config: Config,
    /// Whether descriptors can go with a request (a unix socket).
    passes_fds: bool,
    /// Where the session is recorded, if it is.
    recorder: Option<ConnectionRecorder>,
    /// The tasks reading the server's output and writing requests:
    /// stopped with the last clone, or by [`Qmp::close`].
    tasks: Mutex<Option<Tasks>>,
}

struct Tasks {
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let Some(tasks) = self.tasks.get_mut().ok().and_then(Option::take) else {
            return;
        };
        tasks.reader.abort();
        // The writer stops by itself once `outgoing` is gone and the queue
        // is sent; a server that no longer reads would keep it (and the
        // socket) forever.
        let grace = self.config.close_grace();
        let writer = tasks.writer.abort_handle();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    tokio::time::sleep(grace).await;
                    writer.abort();
                });
            }
            Err(_) => writer.abort(),
        }
    }
}

struct State {
    pending: BTreeMap<u64, Pending>,
    /// How many of `pending` their callers gave up on (a time limit, a
    /// cancelled call).
    abandoned: usize,
    /// How many calls their callers gave up on while queued for an
    /// in-band permit, since the server last answered.
    starved: usize,
    closed: Option<Arc<str>>,
    negotiated: bool,
    oob: bool,
    dropped_replies: u64,
    ignored_messages: u64,
}

struct Pending {
    /// Where the reply goes; `None` once the caller gave up.
    reply: Option<oneshot::Sender<Result<Value, Error>>>,
    _permit: Option<OwnedSemaphorePermit>,
}

/// How long [`Qmp::connect_unix_retry`] waits between attempts, at most.
const RETRY_INTERVAL: Duration = Duration::from_millis(50);

impl Qmp {
    /// Connects to a QMP server on a unix socket, reads its greeting and
    /// negotiates capabilities (out-of-band execution when offered and
    /// configured).
    pub async fn connect_unix(path: impl AsRef<Path>, config: &Config) -> Result<Self, Error> {
        let path = path.as_ref();
        let limit = config.connect_timeout();
        let stream = tokio::time::timeout(limit, tokio::net::UnixStream::connect(path))
            .await
            .map_err(|_| Error::ConnectTimeout {
                to: path.display().to_string(),
                limit,
            })?
            .map_err(|e| Error::connect(path.display(), e))?;
        log_info!(to = %path.display(), "connected");
        Self::from_stream(stream, config).await
    }

    /// [`Qmp::connect_unix`], trying again while the socket does not
    /// exist yet or nobody listens on it (a QEMU starting up), until
    /// [`ConfigBuilder::connect_timeout`](crate::ConfigBuilder::connect_timeout)
    /// has passed ([`Error::ConnectTimeout`]).
    pub async fn connect_unix_retry(
        path: impl AsRef<Path>,
        config: &Config,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let limit = config.connect_timeout();
        let deadline = Instant::now() + limit;
        let mut interval = Duration::from_millis(5);
        let stream = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let timed_out = || Error::ConnectTimeout {
                to: path.display().to_string(),
                limit,
            };
            match tokio::time::timeout(left, tokio::net::UnixStream::connect(path)).await {
                Ok(Ok(stream)) => break stream,
                Ok(Err(error))
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    if Instant::now() + interval >= deadline {
                        return Err(timed_out());
                    }
                    tokio::time::sleep(interval).await;
                    interval = (interval * 2).min(RETRY_INTERVAL);
                }
                Ok(Err(error)) => return Err(Error::connect(path.display(), error)),
                Err(_) => return Err(timed_out()),
            }
        };
        log_info!(to = %path.display(), "connected");
        Self::from_stream(stream, config).await
    }

    /// Connects to a QMP server over TCP and negotiates capabilities.
    pub async fn connect_tcp(
        address: impl tokio::net::ToSocketAddrs + fmt::Debug,
        config: &Config,
    ) -> Result<Self, Error> {
        let shown = format!("{address:?}");
        let limit = config.connect_timeout();
        let stream = tokio::time::timeout(limit, tokio::net::TcpStream::connect(address))
            .await
            .map_err(|_| Error::ConnectTimeout {
                to: shown.clone(),
                limit,
            })?
            .map_err(|e| Error::connect(&shown, e))?;
        log_info!(to = %shown, "connected");
        Self::from_stream(stream, config).await
    }

    /// Waits on a listening unix socket for the server to connect (QEMU
    /// started with `-chardev socket,path=...,server=off` and a monitor on
    /// it), within
    /// [`ConfigBuilder::connect_timeout`](crate::ConfigBuilder::connect_timeout),
    /// and negotiates capabilities. Binding the listener before starting
    /// QEMU leaves no race with its start-up.
    #[cfg(unix)]
    pub async fn accept_unix(
        listener: &tokio::net::UnixListener,
        config: &Config,
    ) -> Result<Self, Error> {
        let shown = listener
            .local_addr()
            .ok()
            .and_then(|address| address.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "a listening unix socket".into());
        let limit = config.connect_timeout();
        let (stream, _) = tokio::time::timeout(limit, listener.accept())
            .await
            .map_err(|_| Error::ConnectTimeout {
                to: shown.clone(),
                limit,
            })?
            .map_err(|e| Error::connect(&shown, e))?;
        log_info!(on = %shown, "accepted");
        Self::from_stream(stream, config).await
    }

    /// Talks to a server over one end of a connected unix socket (a
    /// socketpair whose other end QEMU got as `-chardev socket,fd=N`):
    /// reads the greeting and negotiates. The descriptor is owned from
    /// now on, and closed with the connection.
    #[cfg(unix)]
    pub async fn from_fd(fd: OwnedFd, config: &Config) -> Result<Self, Error> {
        Self::from_stream(std::os::unix::net::UnixStream::from(fd), config).await
    }

    /// Reads the greeting from a connected stream (a tokio or std unix or
    /// TCP socket, or [`Transport::other`]) and negotiates capabilities.
    pub async fn from_stream(stream: impl Into<Transport>, config: &Config) -> Result<Self, Error> {
        let limit = config.greeting_timeout();
        let client = tokio::time::timeout(limit, Self::handshake(stream, config))
            .await
            .map_err(|_| Error::NoGreeting { limit })??;
        let enable: Vec<QMPCapability> =
            if config.oob() && client.greeting().offers(&QMPCapability::Oob) {
                vec![QMPCapability::Oob]
            } else {
                Vec::new()
            };
        tokio::time::timeout(limit, client.negotiate(&enable))
            .await
            .map_err(|_| Error::Timeout {
                command: "qmp_capabilities".into(),
                limit,
            })??;
        Ok(client)
    }

    /// Reads the greeting from a connected stream; capabilities are not
    /// negotiated yet (see [`Qmp::negotiate`]). No time limit: the
    /// caller sets one.
    pub async fn handshake(stream: impl Into<Transport>, config: &Config) -> Result<Self, Error> {
        let (read, writer) = stream.into().split()?;
        let mut reader = BufReader::new(read);
        let recorder = config.recorder().map(|recorder| recorder.connection());
        let greeting = loop {
            let line = read_message(&mut reader, config.max_message())
                .await?
                .ok_or_else(|| {
                    Error::Closed("the server closed the connection before its greeting".into())
                })?;
            if let Some(recorder) = &recorder {
                recorder.received(&line);
            }
            match Message::parse(&line) {
                Ok(Message::Greeting(greeting)) => break greeting,
                // Not JSON: an HMP monitor, or no monitor at all.
                Err(ParseError::NotAnObject(_)) => {
                    return Err(Error::NotQmp {
                        sent: crate::protocol::excerpt(&line),
                    })
                }
                Err(e @ ParseError::MalformedGreeting(_)) => {
                    return Err(violation(&e, &line));
                }
                // Other messages before the greeting: not in the
                // protocol; skip.
                _ => continue,
            }
        };
        log_debug!(version = %greeting.raw_version(), "greeted");
        let (outgoing, requests) = mpsc::unbounded_channel();
        let (events, first) = broadcast::channel(config.event_buffer());
        let shared = Arc::new(Shared {
            outgoing,
            state: Mutex::new(State {
                pending: BTreeMap::new(),
                closed: None,
                negotiated: false,
                oob: false,
                dropped_replies: 0,
                abandoned: 0,
                starved: 0,
                ignored_messages: 0,
            }),
            next_id: AtomicU64::new(1),
            events: Mutex::new(Some(events)),
            first_subscriber: Mutex::new(Some(first)),
            in_band: Arc::new(Semaphore::new(config.max_in_band())),
            greeting,
            config: config.clone(),
            passes_fds: writer.passes_fds(),
            recorder,
            tasks: Mutex::new(None),
        });
        let writing = tokio::spawn(write_requests(writer, requests, Arc::downgrade(&shared)));
        let reading = tokio::spawn(read_replies(
            reader,
            config.max_message(),
            Arc::downgrade(&shared),
        ));
        *shared.tasks.lock().expect("not poisoned") = Some(Tasks {
            reader: reading,
            writer: writing,
        });
        Ok(Self { shared })
    }

    /// The server's greeting.
    pub fn greeting(&self) -> &Greeting {
        &self.shared.greeting
    }

    /// Whether out-of-band execution was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.shared.state.lock().expect("not poisoned").oob
    }

    /// Whether descriptors can be passed ([`Qmp::execute_with_fds`]): the
    /// connection is a unix socket.
    pub fn passes_fds(&self) -> bool {
        self.shared.passes_fds
    }

    /// Leaves capabilities negotiation, turning on `enable`.
    pub async fn negotiate(&self, enable: &[QMPCapability]) -> Result<(), Error> {
        let mut command = crate::qmp::commands::QmpCapabilities::new();
        if !enable.is_empty() {
            command.enable = Some(enable.to_vec());
        }
        let arguments = crate::protocol::arguments(&command)?;
        self.call(
            crate::qmp::commands::QmpCapabilities::NAME,
            arguments,
            Execution::InBand,
            Request::default(),
        )
        .await?;
        let mut state = self.shared.state.lock().expect("not poisoned");
        state.negotiated = true;
        state.oob = enable.contains(&QMPCapability::Oob);
        Ok(())
    }

    /// Executes a command and decodes its reply, within
    /// [`ConfigBuilder::call_timeout`](crate::ConfigBuilder::call_timeout)
    /// when set. A command without a success response
    /// (`'success-response': false`) completes once queued to be sent.
    pub async fn execute<C: Command>(&self, command: &C) -> Result<C::Ok, Error> {
        self.typed(command, Execution::InBand, Request::default())
            .await
    }

    /// [`Qmp::execute`] with descriptors passed along (SCM_RIGHTS), for
    /// `getfd`, `add-fd` and commands naming a descriptor passed so: they
    /// go with the first byte of exactly this command, whatever other
    /// calls are in flight. The caller keeps its descriptors (copies are
    /// sent); none is leaked, whether the call succeeds, fails or is
    /// cancelled. Only on a unix socket ([`Error::FdPassingUnsupported`]).
    #[cfg(unix)]
    pub async fn execute_with_fds<C: Command>(
        &self,
        command: &C,
        fds: &[BorrowedFd<'_>],
    ) -> Result<C::Ok, Error> {
        let request = self.fd_request(C::NAME, fds)?;
        self.typed(command, Execution::InBand, request).await
    }

    /// Executes a command out of band: only commands the schema marks
    /// `allow-oob` implement [`OobCommand`].
    pub async fn execute_oob<C: OobCommand>(&self, command: &C) -> Result<C::Ok, Error> {
        let execution = if self.shared.config.legacy_oob() {
            Execution::OutOfBandLegacy
        } else {
            Execution::OutOfBand
        };
        self.typed(command, execution, Request::default()).await
    }

    /// [`Qmp::execute`] with a time limit of its own. The connection and
    /// the other calls are unaffected when it expires; a late reply is
    /// dropped.
    pub async fn execute_timeout<C: Command>(
        &self,
        command: &C,
        timeout: Duration,
    ) -> Result<C::Ok, Error> {
        let request = Request {
            limit: Some(timeout),
            ..Request::default()
        };
        self.typed(command, Execution::InBand, request).await
    }

    /// Compares `bindings` (the `SCHEMA` of generated bindings) with what
    /// the server describes in its `query-qmp-schema` reply: see
    /// [`crate::schema`].
    pub async fn check_schema(&self, bindings: &BindingSchema) -> Result<SchemaReport, Error> {
        let server = self
            .execute(&crate::qmp::commands::QueryQmpSchema::new())
            .await?;
        Ok(crate::schema::check(bindings, &server))
    }

    /// Executes a command the bindings lack: a name and JSON arguments.
    pub async fn execute_raw(&self, name: &str, arguments: Value) -> Result<Value, Error> {
        self.call(name, arguments, Execution::InBand, Request::default())
            .await
    }

    /// [`Qmp::execute_raw`] with descriptors passed along, as
    /// [`Qmp::execute_with_fds`] passes them.
    #[cfg(unix)]
    pub async fn execute_raw_with_fds(
        &self,
        name: &str,
        arguments: Value,
        fds: &[BorrowedFd<'_>],
    ) -> Result<Value, Error> {
        let request = self.fd_request(name, fds)?;
        self.call(name, arguments, Execution::InBand, request).await
    }

    /// The request carrying copies of `fds`, on a connection that can.
    #[cfg(unix)]
    fn fd_request(&self, name: &str, fds: &[BorrowedFd<'_>]) -> Result<Request, Error> {
        if !self.shared.passes_fds {
            return Err(Error::FdPassingUnsupported {
                command: name.to_string(),
            });
        }
        Ok(Request {
            fds: crate::fds::duplicate(fds)?,
            limit: None,
        })
    }

    /// Events from now on (the first subscriber also gets those that
    /// arrived since the connection was made). A subscriber that falls
    /// more than
    /// [`ConfigBuilder::event_buffer`](crate::ConfigBuilder::event_buffer)
    /// events behind is told how many it missed.
    pub fn events(&self) -> Events {
        let receiver = self
            .shared
            .first_subscriber
            .lock()
            .expect("not poisoned")
            .take()
            .unwrap_or_else(|| self.shared.subscribe());
        Events::new(receiver)
    }

    /// Events of type `E` from now on, decoded (see [`Subscription`]).
    /// Subscribe before the command that causes the event.
    pub fn subscribe<E: Event>(&self) -> Subscription<E> {
        Subscription::new(self.shared.subscribe())
    }

    /// The next event of type `E`, within `timeout`. It subscribes now:
    /// an event that may come before this is called needs
    /// [`Qmp::subscribe`] before the command causing it.
    pub async fn wait_for_event<E: Event>(
        &self,
        timeout: Duration,
    ) -> Result<Timestamped<E>, EventsError> {
        self.subscribe::<E>().wait(timeout).await
    }

    /// How many replies arrived with an id no call was waiting for (the
    /// late reply of a call that timed out or was cancelled, say).
    pub fn dropped_replies(&self) -> u64 {
        self.shared
            .state
            .lock()
            .expect("not poisoned")
            .dropped_replies
    }

    /// How many messages were ignored: JSON objects that are neither a
    /// reply, an event nor a greeting (a newer protocol's, perhaps), and
    /// events too malformed to deliver. Lines that are not JSON objects
    /// are not ignored: they close the connection.
    pub fn ignored_messages(&self) -> u64 {
        self.shared
            .state
            .lock()
            .expect("not poisoned")
            .ignored_messages
    }

    /// Closes the connection for every clone: calls waiting fail with
    /// [`Error::Closed`], requests already queued are still written, the
    /// socket's writing side is shut, and this returns once the server
    /// has closed its side too, or once
    /// [`ConfigBuilder::close_grace`](crate::ConfigBuilder::close_grace)
    /// has passed; the socket is closed then.
    pub async fn close(&self) {
        let shared = &self.shared;
        shared.close(Error::Closed("closed by the client".into()));
        let Some(tasks) = shared.tasks.lock().expect("not poisoned").take() else {
            return;
        };
        let _ = shared.outgoing.send(Outgoing::Close);
        let deadline = tokio::time::Instant::now() + shared.config.close_grace();
        for mut task in [tasks.writer, tasks.reader] {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                let _ = task.await;
            }
        }
    }

    /// A typed call: arguments encoded, the reply decoded; a command
    /// without a success response completes once queued.
    async fn typed<C: Command>(
        &self,
        command: &C,
        execution: Execution,
        request: Request,
    ) -> Result<C::Ok, Error> {
        let arguments = crate::protocol::arguments(command)?;
        let value = if C::SUCCESS_RESPONSE {
            self.call(C::NAME, arguments, execution, request).await?
        } else {
            self.send(C::NAME, &arguments, execution, request)?;
            Value::Object(Default::default())
        };
        crate::protocol::decode_reply::<C>(value)
    }

    /// Checks that a command may be sent now.
    fn admit(&self, name: &str, execution: Execution) -> Result<bool, Error> {
        let state = self.shared.state.lock().expect("not poisoned");
        if let Some(why) = &state.closed {
            return Err(Error::Closed(why.clone()));
        }
        if !state.negotiated && name != crate::qmp::commands::QmpCapabilities::NAME {
            return Err(Error::NotNegotiated {
                command: name.to_string(),
            });
        }
        if !state.oob && execution != Execution::InBand {
            return Err(Error::OobNotEnabled {
                command: name.to_string(),
            });
        }
        Ok(state.oob)
    }

    /// Queues a command nobody waits for the answer to (an error, if the
    /// server sends one, is counted in [`Qmp::dropped_replies`]).
    fn send(
        &self,
        name: &str,
        arguments: &Value,
        execution: Execution,
        request: Request,
    ) -> Result<(), Error> {
        self.admit(name, execution)?;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, arguments, Some(id), execution);
        self.shared.queue(bytes, request)
    }

    /// Sends a command and waits for its reply, within the request's
    /// limit or the configured one.
    async fn call(
        &self,
        name: &str,
        arguments: Value,
        execution: Execution,
        request: Request,
    ) -> Result<Value, Error> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let trace = CallTrace::new("qmp", name, id);
        let result = match request.limit.or(self.shared.config.call_timeout()) {
            Some(limit) => tokio::time::timeout(
                limit,
                self.call_now(id, name, arguments, execution, request),
            )
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    command: name.to_string(),
                    limit,
                })
            }),
            None => self.call_now(id, name, arguments, execution, request).await,
        };
        trace.finish(&result);
        result
    }

    /// Call `id`, without a time limit.
    async fn call_now(
        &self,
        id: u64,
        name: &str,
        arguments: Value,
        execution: Execution,
        request: Request,
    ) -> Result<Value, Error> {
        let shared = &self.shared;
        let oob = self.admit(name, execution)?;
        // A caller that gives up from here abandons the call.
        let mut waiting = Waiting {
            shared,
            id,
            stage: Stage::Queued,
        };
        let permit = if oob && execution == Execution::InBand {
            Some(
                shared
                    .in_band
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("never closed"),
            )
        } else {
            None
        };
        waiting.stage = Stage::Done;
        let (reply, receive) = oneshot::channel();
        {
            let mut state = shared.state.lock().expect("not poisoned");
            if let Some(why) = &state.closed {
                return Err(Error::Closed(why.clone()));
            }
            state.pending.insert(
                id,
                Pending {
                    reply: Some(reply),
                    _permit: permit,
                },
            );
        }
        waiting.stage = Stage::Pending;
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, &arguments, Some(id), execution);
        if let Err(error) = shared.queue(bytes, request) {
            shared
                .state
                .lock()
                .expect("not poisoned")
                .pending
                .remove(&id);
            return Err(error);
        }
        match receive.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(Error::Command { error, .. })) => Err(Error::Command {
                command: name.to_string(),
                error,
            }),
            Ok(Err(Error::Decode { reply, source, .. })) => Err(Error::Decode {
                command: name.to_string(),
                reply,
                source,
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(Error::Closed("the connection closed".into())),
        }
    }
}

/// A call on its way: dropped before it ends (its caller gave up: a time
/// limit, a cancelled future), it counts the call as given up on.
///
/// - Sent and waiting for its reply, the call is abandoned: its reply is
///   dropped when it comes, and it keeps its place (an error without an
///   id goes to the oldest call) and its in-band permit (the server still
///   has the request).
/// - Queued for an in-band permit (all held by calls the server has not
///   answered), it counts until the server next answers anything.
///
/// A server that leaves more than [`MAX_ABANDONED`] calls given up on
/// unanswered is given up on.
struct Waiting<'a> {
    shared: &'a Shared,
    id: u64,
    stage: Stage,
}

/// Where a [`Waiting`] call is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for an in-band permit.
    Queued,
    /// Sent, or about to be: pending.
    Pending,
    /// Neither: nothing to count if dropped.
    Done,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match self.stage {
            Stage::Done => return,
            Stage::Queued => state.starved += 1,
            Stage::Pending => {
                let gave_up = state
                    .pending
                    .get_mut(&self.id)
                    .and_then(|pending| pending.reply.take());
                if gave_up.is_none() {
                    return;
                }
                state.abandoned += 1;
            }
        }
        if state.abandoned + state.starved <= MAX_ABANDONED {
            return;
        }
        drop(state);
        self.shared.close(Error::Closed(
            format!("{MAX_ABANDONED} calls were given up on, unanswered").into(),
        ));
    }
}

/// What goes with one request besides its command.
#[derive(Default)]
struct Request {
    /// Descriptors attached to its first byte.
    #[cfg(unix)]
    fds: Vec<OwnedFd>,
    /// Its own time limit.
    limit: Option<Duration>,
}

impl fmt::Debug for Qmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock().expect("not poisoned");
        f.debug_struct("Qmp")
            .field("version", &self.shared.greeting.raw_version())
            .field("negotiated", &state.negotiated)
            .field("oob", &state.oob)
            .field("passes_fds", &self.shared.passes_fds)
            .field("in_flight", &state.pending.len())
            .field("abandoned", &state.abandoned)
            .field("starved", &state.starved)
            .field("closed", &state.closed)
            .finish()
    }
}

impl Shared {
    /// A new receiver of the events from now on.
    fn subscribe(&self) -> broadcast::Receiver<RawEvent> {
        match &*self.events.lock().expect("not poisoned") {
            Some(sender) => sender.subscribe(),
            // Closed: a receiver whose sender is gone.
            None => broadcast::channel(1).1,
        }
    }

    /// Hands a request's bytes (and descriptors) to the writer.
    fn queue(&self, bytes: Vec<u8>, request: Request) -> Result<(), Error> {
        if let Some(recorder) = &self.recorder {
            recorder.sent(&bytes);
        }
        self.outgoing
            .send(Outgoing::Request {
                bytes,
                #[cfg(unix)]
                fds: request.fds,
            })
            .map_err(|_| Error::Closed("the connection's writer stopped".into()))
    }

    /// Handles one line from the server. An error is a line that breaks
    /// the protocol: the connection is to be closed with it.
    fn dispatch(&self, line: &[u8]) -> Result<(), Error> {
        if let Some(recorder) = &self.recorder {
            recorder.received(line);
        }
        let (id, result) = match Message::parse(line) {
            Ok(Message::Event(event)) => {
                log_debug!(event = %event.event, "event received");
                if let Some(sender) = &*self.events.lock().expect("not poisoned") {
                    let _ = sender.send(event);
                }
                return Ok(());
            }
            Ok(Message::Greeting(_)) => return Ok(()),
            Ok(Message::Return { id, value }) => (id, Ok(value)),
            Ok(Message::Error { id, error }) => (
                id,
                Err(Error::Command {
                    command: String::new(),
                    error,
                }),
            ),
            Err(error @ ParseError::NotAnObject(_)) => return Err(violation(&error, line)),
            // A reply all the same: its call fails.
            Err(error) => match error.failed_reply("", line) {
                Some((id, failure)) => (id, Err(failure)),
                None => {
                    self.state.lock().expect("not poisoned").ignored_messages += 1;
                    log_warn!(%error, message = %crate::protocol::excerpt(line), "ignored a message");
                    return Ok(());
                }
            },
        };
        let mut state = self.state.lock().expect("not poisoned");
        // The server answers: calls queued behind it may yet go out.
        state.starved = 0;
        let pending = match id {
            Some(id) => id.as_u64().and_then(|id| state.pending.remove(&id)),
            // An error the server could not attribute (it could not read
            // the id): it concerns the oldest request still waiting, as
            // the server reads requests in order.
            None => state.pending.pop_first().map(|(_, pending)| pending),
        };
        // A caller that gave up (a time limit, a cancelled call) is not
        // told; its in-band permit is released now all the same.
        let delivered = match pending.map(|pending| pending.reply) {
            Some(Some(reply)) => reply.send(result).is_ok(),
            Some(None) => {
                state.abandoned -= 1;
                false
            }
            None => false,
        };
        if !delivered {
            state.dropped_replies += 1;
            log_warn!(
                reply = %crate::protocol::excerpt(line),
                "dropped a reply nobody waits for"
            );
        }
        Ok(())
    }

    /// Marks the connection closed and fails every waiting call with
    /// `error`; later calls fail with [`Error::Closed`].
    fn close(&self, error: Error) {
        let mut state = self.state.lock().expect("not poisoned");
        if state.closed.is_some() {
            return;
        }
        let why: Arc<str> = match &error {
            Error::Closed(why) => why.clone(),
            other => other.to_string().into(),
        };
        if error.is_protocol() {
            log_warn!(%error, "protocol violation");
        }
        log_info!(%why, "connection closed");
        state.closed = Some(why);
        state.abandoned = 0;
        state.starved = 0;
        for (_, pending) in std::mem::take(&mut state.pending) {
            if let Some(reply) = pending.reply {
                let _ = reply.send(Err(error.clone()));
            }
        }
        self.events.lock().expect("not poisoned").take();
    }
}

/// The writer task: writes requests in the order queued, those without
/// descriptors gathered into one write while more are waiting.
async fn write_requests(
    mut writer: Writer,
    mut requests: mpsc::UnboundedReceiver<Outgoing>,
    shared: std::sync::Weak<Shared>,
) {
    /// Gathered requests are written once they reach this size.
    const GATHER: usize = 64 << 10;
    let mut buffer = Vec::new();
    let mut closing = false;
    while let Some(first) = requests.recv().await {
        let mut next = Some(first);
        let mut written = Ok(());
        while let Some(outgoing) = next.take() {
            match outgoing {
                Outgoing::Close => {
                    closing = true;
                    break;
                }
                #[cfg(unix)]
                Outgoing::Request { bytes, fds } if !fds.is_empty() => {
                    written = async {
                        if !buffer.is_empty() {
                            writer.write_all(&buffer).await?;
                            buffer.clear();
                        }
                        writer.write_with_fds(&bytes, fds).await
                    }
                    .await;
                }
                Outgoing::Request { bytes, .. } => buffer.extend_from_slice(&bytes),
            }
            if written.is_err() {
                break;
            }
            if buffer.len() < GATHER {
                next = requests.try_recv().ok();
            }
        }
        if written.is_ok() && !buffer.is_empty() {
            written = writer.write_all(&buffer).await;
            buffer.clear();
        }
        if let Err(error) = written {
            if let Some(shared) = shared.upgrade() {
                shared.close(Error::Closed(format!("write failed: {error}").into()));
            }
            return;
        }
        if closing {
            break;
        }
    }
    // Closing, or every clone gone: the server reads the end of the
    // stream and closes its side.
    let _ = writer.shutdown().await;
}

/// The reader task: hands each message to [`Shared::dispatch`] until
/// the stream ends or breaks the protocol.
async fn read_replies(
    mut reader: BufReader<Reader>,
    max_message: usize,
    shared: std::sync::Weak<Shared>,
) {
    let error = loop {
        let line = match read_message(&mut reader, max_message).await {
            Ok(Some(line)) => line,
            Ok(None) => break Error::Closed("the server closed the connection".into()),
            // A protocol violation stays one for the callers.
            Err(error) => break error,
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if let Err(error) = shared.dispatch(&line) {
            break error;
        }
    };
    if let Some(shared) = shared.upgrade() {
        shared.close(error);
    }
}
