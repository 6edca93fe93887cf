//! One client's connection, served as QEMU's monitor serves it: the
//! greeting, capabilities negotiation, the in-band queue (commands run one
//! at a time, in order), out-of-band commands run as they arrive, and a
//! writer that sends replies and events in order.
//!
//! Three parts run in the connection's future: the reader (bytes to
//! requests; out-of-band ones run at once, before it reads on, as QEMU's
//! monitor runs them; in-band ones queued), the in-band runner, and the
//! writer. When the client goes (or the future is dropped), all three
//! end, the commands running included: nothing is spawned.
//!
//! Memory is bounded: the reader holds two read buffers (the second
//! filled while the queue is full, so that a client that goes is noticed
//! even then) and at most the largest message of a value begun; the
//! queue holds at most eight
//! requests (then the reader waits, or drops, as configured); the writer's
//! queue holds at most [`OUTGOING`] messages, and a client that does not
//! read makes the runner wait, the queue fill and the reader stop.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};

use super::arguments::check_arguments;
use super::config::{QueuePolicy, ServerConfig};
use super::dispatch::{Dispatch, Session};
use super::events::{Hub, Outgoing};
use super::introspection::query_qmp_schema;
use super::json::Streamer;
use super::request::Request;
use crate::error::QmpError;
use crate::schema::table::CommandDef;

/// In-band commands that may wait (QEMU's `QMP_REQ_QUEUE_LEN_MAX`).
pub(crate) const QUEUE_LIMIT: usize = 8;

/// Messages queued for the writer at most; events beyond are dropped for a
/// client that does not read.
pub(crate) const OUTGOING: usize = 256;

/// Bytes read at once.
const READ_BUFFER: usize = 64 << 10;

/// What the writer gathers into one write, at most (more when one message
/// is larger).
const WRITE_BATCH: usize = 64 << 10;

/// The phases of a connection.
const NEGOTIATING: u8 = 0;
const NEGOTIATED: u8 = 1;
const NEGOTIATED_OOB: u8 = 2;

/// What every connection of a server shares.
pub(crate) struct Engine {
    pub(crate) dispatch: Arc<dyn Dispatch>,
    pub(crate) config: ServerConfig,
    pub(crate) hub: Arc<Hub>,
    /// The `query-qmp-schema` reply, or why the dispatch's introspection
    /// is not JSON (see [`Engine::served_schema`]).
    pub(crate) served_schema: OnceLock<Result<Value, String>>,
    /// The greeting every connection gets (see [`greeting`]).
    pub(crate) greeting: Arc<str>,
}

/// The greeting of a server configured by `config`: `{"QMP": {"version":
/// ..., "capabilities": [...]}}`.
pub(crate) fn greeting(config: &ServerConfig) -> Arc<str> {
    let capabilities: &[&str] = if config.oob() { &["oob"] } else { &[] };
    json!({"QMP": {"version": config.version(), "capabilities": capabilities}})
        .to_string()
        .into()
}

/// A connection's state, shared by its parts.
struct Connection {
    id: u64,
    phase: AtomicU8,
    queue: Mutex<VecDeque<Request>>,
    /// A request was queued.
    queued: Notify,
    /// A request left the queue.
    dequeued: Notify,
    sender: mpsc::Sender<Outgoing>,
}

impl Connection {
    fn phase(&self) -> u8 {
        self.phase.load(Ordering::Acquire)
    }

    fn oob_enabled(&self) -> bool {
        self.phase() == NEGOTIATED_OOB
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Request>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What the reader has read and not yet parsed.
struct Input {
    /// The bytes of the last read, parsed up to `at`.
    buffer: Vec<u8>,
    at: usize,
    /// Bytes read while the queue was full, parsed after `buffer`.
    backlog: Vec<u8>,
    /// Where those are read into.
    spare: Vec<u8>,
}

/// Takes connection `id` out of the hub when the connection ends.
struct Leave<'a>(&'a Hub, u64);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.leave(self.1);
    }
}

impl Engine {
    /// The `query-qmp-schema` reply: the dispatch's introspection under
    /// the configured build conditions (or why it is not JSON), worked
    /// out once it has one (so that a mock's introspection set after the
    /// server was made counts).
    fn served_schema(&self) -> Option<&Result<Value, String>> {
        if let Some(served) = self.served_schema.get() {
            return Some(served);
        }
        let introspection = self.dispatch.introspection()?;
        Some(self.served_schema.get_or_init(|| {
            query_qmp_schema(introspection, self.config.conditions())
                .map_err(|error| error.to_string())
        }))
    }

    /// Whether the configured build conditions leave `command` out: it
    /// is then answered as one the server lacks.
    fn left_out(&self, command: &CommandDef) -> bool {
        !self.config.conditions().keeps(command.condition)
    }

    /// Serves one client until it goes: `Ok` when it closed the
    /// connection, an error when reading or writing failed.
    pub(crate) async fn serve<S>(&self, stream: S) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Send,
    {
        let (read, write) = tokio::io::split(stream);
        let (sender, receiver) = mpsc::channel(OUTGOING);
        let connection = Connection {
            id: self.hub.next_id(),
            phase: AtomicU8::new(NEGOTIATING),
            queue: Mutex::new(VecDeque::new()),
            queued: Notify::new(),
            dequeued: Notify::new(),
            sender,
        };
        let _leave = Leave(&self.hub, connection.id);
        crate::trace::log_info!(connection = connection.id, "client connected");
        // The queue is empty: this can't wait.
        let _ = connection
            .sender
            .try_send(Outgoing::Message(self.greeting.clone()));
        let result = tokio::select! {
            result = self.read(read, &connection) => result,
            () = self.run_in_band(&connection) => Ok(()),
            result = write_all(write, receiver, &self.hub) => result,
        };
        crate::trace::log_info!(connection = connection.id, "client gone");
        result
    }

    /// Reads requests until the client closes the connection.
    async fn read<R: AsyncRead>(&self, read: R, connection: &Connection) -> io::Result<()> {
        tokio::pin!(read);
        let mut input = Input {
            buffer: Vec::with_capacity(READ_BUFFER),
            at: 0,
            backlog: Vec::new(),
            spare: vec![0; READ_BUFFER],
        };
        let mut streamer = Streamer::new(self.config.max_message());
        let mut parsed = Vec::new();
        loop {
            if input.at == input.buffer.len() {
                input.at = 0;
                if input.backlog.is_empty() {
                    // Into the buffer's room: nothing is zeroed first.
                    input.buffer.clear();
                    input.buffer.reserve(READ_BUFFER);
                    let n = read.read_buf(&mut input.buffer).await?;
                    if n == 0 {
                        return Ok(());
                    }
                } else {
                    std::mem::swap(&mut input.buffer, &mut input.backlog);
                    input.backlog.clear();
                }
            }
            input.at += streamer.feed(&input.buffer[input.at..], &mut parsed);
            for value in parsed.drain(..) {
                let request = Request::new(value);
                if request.skips_queue(self.config.legacy_oob()) {
                    // As QEMU does: at once, before reading on.
                    let reply = self.execute(request, connection).await;
                    if connection.sender.send(reply).await.is_err() {
                        return Ok(());
                    }
                } else if !self
                    .enqueue(request, connection, read.as_mut(), &mut input)
                    .await?
                {
                    return Ok(());
                }
            }
        }
    }

    /// Queues an in-band request: waits while the queue is full (with
    /// out-of-band execution off, while one waits, as QEMU does), or
    /// drops it with `COMMAND_DROPPED` when so configured. While it waits,
    /// it reads on into `input`'s backlog (one buffer's worth at most), so
    /// that a client that goes is noticed: `false` then.
    async fn enqueue<R: AsyncRead>(
        &self,
        request: Request,
        connection: &Connection,
        mut read: std::pin::Pin<&mut R>,
        input: &mut Input,
    ) -> io::Result<bool> {
        loop {
            let oob = connection.oob_enabled();
            let limit = if oob { QUEUE_LIMIT } else { 1 };
            {
                let mut queue = connection.queue();
                if queue.len() < limit {
                    queue.push_back(request);
                    connection.queued.notify_one();
                    return Ok(true);
                }
            }
            if oob && self.config.queue_policy() == QueuePolicy::DropWhenFull {
                let id = request.id().cloned().unwrap_or(Value::Null);
                crate::trace::log_warn!(id = %id, "in-band queue full: command dropped");
                let data = json!({"id": id, "reason": "queue-full"});
                let event = super::events::event_message("COMMAND_DROPPED", &data.to_string());
                let _ = connection.sender.send(Outgoing::Message(event)).await;
                return Ok(true);
            }
            let room = READ_BUFFER.saturating_sub(input.backlog.len());
            tokio::select! {
                () = connection.dequeued.notified() => {}
                n = read.read(&mut input.spare[..room]), if room > 0 => {
                    let n = n?;
                    if n == 0 {
                        return Ok(false);
                    }
                    input.backlog.extend_from_slice(&input.spare[..n]);
                }
            }
        }
    }

    /// Runs the queued requests one at a time, in order, and queues their
    /// replies for the writer. Ends only when the writer is gone.
    async fn run_in_band(&self, connection: &Connection) {
        loop {
            let request = loop {
                let next = connection.queue().pop_front();
                match next {
                    Some(request) => {
                        connection.dequeued.notify_one();
                        break request;
                    }
                    None => connection.queued.notified().await,
                }
            };
            let reply = self.execute(request, connection).await;
            if connection.sender.send(reply).await.is_err() {
                return;
            }
        }
    }

    /// Runs one request: its reply, and the events to send after it.
    async fn execute(&self, request: Request, connection: &Connection) -> Outgoing {
        let id = request.id().cloned();
        let session = Session::new(self.hub.clone());
        let started = std::time::Instant::now();
        let result = self.run(request, connection, &session).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(error) => error.class.as_str(),
        };
        crate::trace::log_debug!(
            connection = connection.id,
            outcome = %outcome,
            duration_us = started.elapsed().as_micros() as u64,
            "request answered"
        );
        let text = match result {
            Ok(value) => match id {
                Some(id) => format!("{{\"return\": {value}, \"id\": {id}}}"),
                None => format!("{{\"return\": {value}}}"),
            },
            Err(mut error) => {
                if connection.phase() == NEGOTIATING && error.class == "CommandNotFound" {
                    error.desc =
                        "Expecting capabilities negotiation with 'qmp_capabilities'".into();
                }
                crate::trace::log_debug!(desc = %error.desc, "error reply");
                let error = json!({"class": error.class, "desc": error.desc});
                match id {
                    Some(id) => format!("{{\"id\": {id}, \"error\": {error}}}"),
                    None => format!("{{\"error\": {error}}}"),
                }
            }
        };
        Outgoing::Reply(text, session.take_after_reply())
    }

    /// What QEMU's dispatcher does with a request: checks it, finds the
    /// command, checks its arguments, runs it.
    async fn run(
        &self,
        request: Request,
        connection: &Connection,
        session: &Session,
    ) -> Result<Value, QmpError> {
        let call = request.check(connection.oob_enabled(), self.config.legacy_oob())?;
        if call.oob && !connection.oob_enabled() {
            // Only QEMU 2.12's syntax gets here; its words.
            return Err(QmpError::generic(
                "Please enable Out-Of-Band first for the session during capabilities negotiation",
            ));
        }
        let schema = self.dispatch.schema();
        crate::trace::log_debug!(command = %call.name, oob = call.oob, "command");
        if connection.phase() == NEGOTIATING {
            // Only qmp_capabilities exists before the negotiation.
            if call.name != "qmp_capabilities" {
                return Err(QmpError::command_not_found(&call.name));
            }
            if call.oob {
                return Err(not_oob(&call.name));
            }
            if let Some(command) = schema.command(&call.name) {
                check_arguments(schema, command, &call.arguments, self.config.conditions())?;
            }
            let oob = requested_oob(&call.arguments)?;
            return self.negotiate(oob, connection);
        }
        let Some(command) = schema
            .command(&call.name)
            .filter(|command| !self.left_out(command))
        else {
            return Err(QmpError::command_not_found(&call.name));
        };
        if call.oob && !command.allow_oob {
            return Err(not_oob(&call.name));
        }
        check_arguments(schema, command, &call.arguments, self.config.conditions())?;
        match call.name.as_str() {
            "qmp_capabilities" => {
                // The arguments are checked before the command refuses.
                requested_oob(&call.arguments)?;
                Err(QmpError::new(
                    "CommandNotFound",
                    "Capabilities negotiation is already complete, command ignored",
                ))
            }
            "query-version" => Ok(json!(self.config.version())),
            "query-commands" => Ok(schema
                .commands
                .iter()
                .filter(|command| !self.left_out(command))
                .map(|command| json!({"name": command.name}))
                .collect()),
            "query-qmp-schema" => match self.served_schema() {
                Some(served) => served.clone().map_err(|error| {
                    QmpError::generic(format!("The introspection is not JSON: {error}"))
                }),
                None => Err(QmpError::command_not_found(&call.name)),
            },
            name => match self.dispatch.call(name, call.arguments, session).await {
                Some(result) => result,
                None => Err(QmpError::command_not_found(name)),
            },
        }
    }

    /// `qmp_capabilities` while negotiating: turns on out-of-band
    /// execution if asked for (and offered), and makes the connection
    /// receive events.
    fn negotiate(&self, oob: bool, connection: &Connection) -> Result<Value, QmpError> {
        if oob && !self.config.oob() {
            return Err(QmpError::generic(
                "Capability 'oob' not available with this monitor",
            ));
        }
        let phase = if oob { NEGOTIATED_OOB } else { NEGOTIATED };
        connection.phase.store(phase, Ordering::Release);
        self.hub.join(connection.id, connection.sender.clone());
        Ok(json!({}))
    }
}

/// Whether `qmp_capabilities`' arguments ask for out-of-band execution;
/// an error for what QEMU's input visitor refuses in them, with its
/// texts (when the schema's table has the command, argument checking
/// has refused most of it before).
fn requested_oob(arguments: &Map<String, Value>) -> Result<bool, QmpError> {
    let mut oob = false;
    for (name, value) in arguments {
        if name != "enable" {
            return Err(QmpError::generic(format!(
                "Parameter '{name}' is unexpected"
            )));
        }
        let Value::Array(capabilities) = value else {
            return Err(QmpError::generic(
                "Invalid parameter type for 'enable', expected: array",
            ));
        };
        for (i, capability) in capabilities.iter().enumerate() {
            match capability.as_str() {
                Some("oob") => oob = true,
                // QEMU 10.0.2 names the element so.
                Some(other) => {
                    return Err(QmpError::generic(format!(
                        "Parameter 'null' does not accept value '{other}'"
                    )));
                }
                None => {
                    return Err(QmpError::generic(format!(
                        "Invalid parameter type for 'enable[{i}]', expected: string"
                    )));
                }
            }
        }
    }
    Ok(oob)
}

/// QEMU's error for `exec-oob` of a command that does not allow it.
fn not_oob(name: &str) -> QmpError {
    QmpError::generic(format!("The command {name} does not support OOB"))
}

/// Writes what the connection sends, in order, gathering what is queued
/// into one write. Events to send after a reply are handed to the hub
/// once it is written.
async fn write_all<W: AsyncWrite>(
    write: W,
    mut receiver: mpsc::Receiver<Outgoing>,
    hub: &Hub,
) -> io::Result<()> {
    tokio::pin!(write);
    let mut out = Vec::with_capacity(WRITE_BATCH);
    let mut after = Vec::new();
    while let Some(first) = receiver.recv().await {
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Outgoing::Message(text) => out.extend_from_slice(text.as_bytes()),
                Outgoing::Reply(text, events) => {
                    out.extend_from_slice(text.as_bytes());
                    after.extend(events);
                }
            }
            out.extend_from_slice(b"\r\n");
            if out.len() < WRITE_BATCH && after.is_empty() {
                next = receiver.try_recv().ok();
            }
        }
        write.write_all(&out).await?;
        write.flush().await?;
        for event in after.drain(..) {
            hub.broadcast(&event);
        }
        out.clear();
        if out.capacity() > WRITE_BATCH {
            out = Vec::with_capacity(WRITE_BATCH);
        }
    }
    Ok(())
}
