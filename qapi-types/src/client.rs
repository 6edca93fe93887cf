//! The async QMP client (tokio): one connection shared by many tasks,
//! replies matched to callers by id, events to subscribers.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{broadcast, mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::error::Error;
use crate::framing::Framer;
use crate::protocol::{violation, write_request, Execution, Greeting, Message, ParseError};
use crate::schema::{BindingSchema, SchemaReport};
use crate::{Command, EventSet, OobCommand, RawEvent, Timestamped};

/// A QMP connection. Clones share it.
#[derive(Clone)]
pub struct Qmp {
    shared: Arc<Shared>,
}

struct Shared {
    outgoing: mpsc::UnboundedSender<Vec<u8>>,
    state: Mutex<State>,
    next_id: AtomicU64,
    /// Gone once the connection closes, so that subscribers learn it.
    events: Mutex<Option<broadcast::Sender<RawEvent>>>,
    first_subscriber: Mutex<Option<broadcast::Receiver<RawEvent>>>,
    in_band: Arc<Semaphore>,
    greeting: Greeting,
    config: Config,
    /// The tasks reading the server's output and writing requests,
    /// stopped with the last clone so that the socket closes.
    tasks: Mutex<Option<(tokio::task::AbortHandle, tokio::task::AbortHandle)>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let Some((reader, writer)) = self.tasks.get_mut().ok().and_then(Option::take) else {
            return;
        };
        reader.abort();
        // The writer stops by itself once `outgoing` is gone and the queue
        // is sent; a server that no longer reads would keep it (and the
        // socket) forever.
        let grace = self.config.close_grace();
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
    closed: Option<Arc<str>>,
    negotiated: bool,
    oob: bool,
    dropped_replies: u64,
    ignored_messages: u64,
}

struct Pending {
    reply: oneshot::Sender<Result<Value, Error>>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Qmp {
    /// Connects to a QMP server on a unix socket and negotiates
    /// capabilities.
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
        Self::connect(stream, config.clone()).await
    }

    /// Connects to a QMP server over TCP and negotiates capabilities.
    pub async fn connect_tcp(
        address: impl tokio::net::ToSocketAddrs + std::fmt::Debug,
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
            .map_err(|e| Error::connect(shown, e))?;
        stream.set_nodelay(true)?;
        Self::connect(stream, config.clone()).await
    }

    /// Reads the greeting from any stream and negotiates capabilities.
    pub async fn connect<S>(stream: S, config: Config) -> Result<Self, Error>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let limit = config.greeting_timeout();
        let client = tokio::time::timeout(limit, Self::handshake(stream, config))
            .await
            .map_err(|_| Error::NoGreeting { limit })??;
        let enable: Vec<&str> = if client.shared.config.oob() && client.greeting().offers("oob") {
            vec!["oob"]
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

    /// Reads the greeting from a stream; capabilities are not negotiated
    /// yet (see [`Qmp::negotiate`]).
    pub async fn handshake<S>(stream: S, config: Config) -> Result<Self, Error>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, mut write) = tokio::io::split(stream);
        let mut reader = BufReader::new(read);
        let greeting = loop {
            let line = read_message(&mut reader, config.max_message())
                .await?
                .ok_or_else(|| {
                    Error::Closed("the server closed the connection before its greeting".into())
                })?;
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
        let (outgoing, mut requests) = mpsc::unbounded_channel::<Vec<u8>>();
        let (events, first) = broadcast::channel(config.event_buffer());
        let shared = Arc::new(Shared {
            outgoing,
            state: Mutex::new(State {
                pending: BTreeMap::new(),
                closed: None,
                negotiated: false,
                oob: false,
                dropped_replies: 0,
                ignored_messages: 0,
            }),
            next_id: AtomicU64::new(1),
            events: Mutex::new(Some(events)),
            first_subscriber: Mutex::new(Some(first)),
            in_band: Arc::new(Semaphore::new(config.max_in_band())),
            greeting,
            config,
            tasks: Mutex::new(None),
        });
        let writer_shared = Arc::downgrade(&shared);
        let writing = tokio::spawn(async move {
            while let Some(bytes) = requests.recv().await {
                if let Err(error) = async {
                    write.write_all(&bytes).await?;
                    write.flush().await
                }
                .await
                {
                    if let Some(shared) = writer_shared.upgrade() {
                        shared.close(Error::Closed(format!("write failed: {error}").into()));
                    }
                    return;
                }
            }
        });
        let reader_shared = Arc::downgrade(&shared);
        let max_line = shared.config.max_message();
        let reading = tokio::spawn(async move {
            let error = loop {
                let line = match read_message(&mut reader, max_line).await {
                    Ok(Some(line)) => line,
                    Ok(None) => break Error::Closed("the server closed the connection".into()),
                    // A protocol violation stays one for the callers.
                    Err(error) => break error,
                };
                let Some(shared) = reader_shared.upgrade() else {
                    return;
                };
                if let Err(error) = shared.dispatch(&line) {
                    break error;
                }
            };
            if let Some(shared) = reader_shared.upgrade() {
                shared.close(error);
            }
        });
        *shared.tasks.lock().expect("not poisoned") =
            Some((reading.abort_handle(), writing.abort_handle()));
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

    /// Leaves capabilities negotiation, turning on `enable`.
    pub async fn negotiate(&self, enable: &[&str]) -> Result<(), Error> {
        let arguments = if enable.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::json!({ "enable": enable })
        };
        self.call("qmp_capabilities", arguments, Execution::InBand)
            .await?;
        let mut state = self.shared.state.lock().expect("not poisoned");
        state.negotiated = true;
        state.oob = enable.contains(&"oob");
        Ok(())
    }

    /// Executes a command and decodes its reply. A command without a
    /// success response (`'success-response': false`) completes once
    /// queued to be sent.
    pub async fn execute<C: Command>(&self, command: &C) -> Result<C::Ok, Error> {
        self.typed(command, Execution::InBand).await
    }

    /// A typed call: arguments encoded, the reply decoded; a command
    /// without a success response completes once queued.
    async fn typed<C: Command>(&self, command: &C, execution: Execution) -> Result<C::Ok, Error> {
        let arguments = crate::protocol::arguments(command)?;
        let value = if C::SUCCESS_RESPONSE {
            self.call(C::NAME, arguments, execution).await?
        } else {
            self.send(C::NAME, &arguments, execution)?;
            Value::Object(Default::default())
        };
        crate::protocol::decode_reply::<C>(value)
    }

    /// Queues a command nobody waits for the answer to (an error, if the
    /// server sends one, is counted in [`Qmp::dropped_replies`]).
    fn send(&self, name: &str, arguments: &Value, execution: Execution) -> Result<(), Error> {
        let shared = &self.shared;
        {
            let state = shared.state.lock().expect("not poisoned");
            if let Some(why) = &state.closed {
                return Err(Error::Closed(why.clone()));
            }
            if !state.negotiated {
                return Err(Error::NotNegotiated {
                    command: name.to_string(),
                });
            }
            if !state.oob && execution != Execution::InBand {
                return Err(Error::OobNotEnabled {
                    command: name.to_string(),
                });
            }
        }
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, arguments, Some(id), execution);
        shared
            .outgoing
            .send(bytes)
            .map_err(|_| Error::Closed("the connection's writer stopped".into()))
    }

    /// Executes a command out of band: only commands the schema marks
    /// `allow-oob` implement [`OobCommand`].
    pub async fn execute_oob<C: OobCommand>(&self, command: &C) -> Result<C::Ok, Error> {
        let execution = if self.shared.config.legacy_oob() {
            Execution::OutOfBandLegacy
        } else {
            Execution::OutOfBand
        };
        self.typed(command, execution).await
    }

    /// [`Qmp::execute`] with a time limit. The connection and the other
    /// calls are unaffected when it expires.
    pub async fn execute_timeout<C: Command>(
        &self,
        command: &C,
        timeout: Duration,
    ) -> Result<C::Ok, Error> {
        tokio::time::timeout(timeout, self.execute(command))
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    command: C::NAME.to_string(),
                    limit: timeout,
                })
            })
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
        self.call(name, arguments, Execution::InBand).await
    }

    /// Events from now on (the first subscriber also gets those that
    /// arrived since the connection was made). A subscriber that falls
    /// more than [`Config::event_buffer`] events behind is told how many
    /// it missed.
    pub fn events(&self) -> Events {
        let receiver = self
            .shared
            .first_subscriber
            .lock()
            .expect("not poisoned")
            .take()
            .unwrap_or_else(
                || match &*self.shared.events.lock().expect("not poisoned") {
                    Some(sender) => sender.subscribe(),
                    // Closed: a receiver whose sender is gone.
                    None => broadcast::channel(1).1,
                },
            );
        Events { receiver }
    }

    /// How many replies arrived with an id no call was waiting for.
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

    async fn call(
        &self,
        name: &str,
        arguments: Value,
        execution: Execution,
    ) -> Result<Value, Error> {
        match self.shared.config.call_timeout() {
            Some(limit) => tokio::time::timeout(limit, self.call_now(name, arguments, execution))
                .await
                .unwrap_or_else(|_| {
                    Err(Error::Timeout {
                        command: name.to_string(),
                        limit,
                    })
                }),
            None => self.call_now(name, arguments, execution).await,
        }
    }

    /// A call without the default time limit.
    async fn call_now(
        &self,
        name: &str,
        arguments: Value,
        execution: Execution,
    ) -> Result<Value, Error> {
        let shared = &self.shared;
        let (negotiated, oob) = {
            let state = shared.state.lock().expect("not poisoned");
            if let Some(why) = &state.closed {
                return Err(Error::Closed(why.clone()));
            }
            (state.negotiated, state.oob)
        };
        if !negotiated && name != "qmp_capabilities" {
            return Err(Error::NotNegotiated {
                command: name.to_string(),
            });
        }
        if !oob && execution != Execution::InBand {
            return Err(Error::OobNotEnabled {
                command: name.to_string(),
            });
        }
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
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, receive) = oneshot::channel();
        {
            let mut state = shared.state.lock().expect("not poisoned");
            if let Some(why) = &state.closed {
                return Err(Error::Closed(why.clone()));
            }
            state.pending.insert(
                id,
                Pending {
                    reply,
                    _permit: permit,
                },
            );
        }
        let span = crate::trace::call_span("qmp", name, id);
        let started = crate::trace::start(&span);
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, &arguments, Some(id), execution);
        if shared.outgoing.send(bytes).is_err() {
            shared
                .state
                .lock()
                .expect("not poisoned")
                .pending
                .remove(&id);
            return Err(Error::Closed("the connection's writer stopped".into()));
        }
        let result = match receive.await {
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
        };
        crate::trace::finish_call(&span, started, &result);
        result
    }
}

impl Shared {
    /// Handles one line from the server. An error is a line that breaks
    /// the protocol: the connection is to be closed with it.
    fn dispatch(&self, line: &[u8]) -> Result<(), Error> {
        let (id, result) = match Message::parse(line) {
            Ok(Message::Event(event)) => {
                crate::trace::log_debug!(event = %event.event, "event received");
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
                    crate::trace::log_warn!(%error, message = %crate::protocol::excerpt(line), "ignored a message");
                    return Ok(());
                }
            },
        };
        let mut state = self.state.lock().expect("not poisoned");
        let pending = match id {
            Some(id) => id.as_u64().and_then(|id| state.pending.remove(&id)),
            // An error the server could not attribute (it could not read
            // the id): it concerns the oldest request still waiting, as
            // the server reads requests in order.
            None => state.pending.pop_first().map(|(_, pending)| pending),
        };
        match pending {
            Some(pending) => {
                // The caller may have given up (a timeout): then nobody
                // is told, and the permit is released all the same.
                let _ = pending.reply.send(result);
            }
            None => {
                state.dropped_replies += 1;
                crate::trace::log_warn!(
                    reply = %crate::protocol::excerpt(line),
                    "dropped a reply nobody waits for"
                );
            }
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
        crate::trace::log_info!(%why, "connection closed");
        state.closed = Some(why);
        for (_, pending) in std::mem::take(&mut state.pending) {
            let _ = pending.reply.send(Err(error.clone()));
        }
        self.events.lock().expect("not poisoned").take();
    }
}

/// Reads one message (one line, or the lines of a pretty-printed one:
/// see [`Framer`]); `None` at end of stream. Messages longer than
/// `limit` are an error.
async fn read_message<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    limit: usize,
) -> Result<Option<Vec<u8>>, Error> {
    let mut framer = Framer::default();
    loop {
        let mut line = Vec::new();
        let left = limit.saturating_sub(framer.len());
        let read = (&mut *reader)
            .take(left.saturating_add(1) as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            if framer.len() > 0 {
                return Err(Error::Closed(
                    "the server closed the connection mid-message".into(),
                ));
            }
            return Ok(None);
        }
        if line.len() > left {
            return Err(Error::Protocol(format!(
                "a message longer than {limit} bytes"
            )));
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if let Some(message) = framer.push(line) {
            return Ok(Some(message));
        }
    }
}

/// A subscription to a connection's events.
pub struct Events {
    receiver: broadcast::Receiver<RawEvent>,
}

/// Why [`Events::next`] returned no event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventsError {
    /// The subscriber fell behind: this many events were dropped for it.
    #[error("the subscriber fell behind: {0} events dropped")]
    Lagged(u64),
    /// The connection closed.
    #[error("the connection closed")]
    Closed,
}

impl Events {
    /// The next event as it arrived.
    pub async fn next(&mut self) -> Result<RawEvent, EventsError> {
        self.receiver.recv().await.map_err(|e| match e {
            broadcast::error::RecvError::Lagged(n) => EventsError::Lagged(n),
            broadcast::error::RecvError::Closed => EventsError::Closed,
        })
    }

    /// The next event, decoded with the schema's event set `E`.
    pub async fn next_typed<E: EventSet>(
        &mut self,
    ) -> Result<Result<Timestamped<E>, serde_json::Error>, EventsError> {
        let raw = self.next().await?;
        Ok(E::decode_timestamped(&raw))
    }
}
