//! The blocking QMP client, over std sockets: the same typed calls as
//! [`crate::Qmp`], one at a time, with events kept until asked for.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::error::Error;
use crate::protocol::{write_request, Execution, Greeting, Message};
use crate::schema::{BindingSchema, SchemaReport};
use crate::{Command, OobCommand, RawEvent};

/// The longest line accepted from the server.
const MAX_LINE: usize = 64 << 20;

/// A blocking QMP connection. Calls from several threads take turns.
pub struct BlockingQmp {
    inner: Mutex<Inner>,
    greeting: Greeting,
}

struct Inner {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    events: VecDeque<RawEvent>,
    event_limit: usize,
    lagged: u64,
    negotiated: bool,
    oob: bool,
    closed: bool,
    /// A line begun before a read timed out, kept for the next read.
    partial: Vec<u8>,
}

impl BlockingQmp {
    /// Connects to a QMP server on a unix socket, reads its greeting and
    /// negotiates (turning on out-of-band execution when offered).
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<Self, Error> {
        let stream = UnixStream::connect(path)?;
        let mut inner = Inner {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            next_id: 1,
            events: VecDeque::new(),
            event_limit: 1024,
            lagged: 0,
            negotiated: false,
            oob: false,
            closed: false,
            partial: Vec::new(),
        };
        let greeting = loop {
            let line = inner.line()?;
            if let Ok(Message::Greeting(greeting)) = Message::parse(&line) {
                break greeting;
            }
        };
        let enable = if greeting.offers("oob") {
            serde_json::json!({ "enable": ["oob"] })
        } else {
            Value::Object(Default::default())
        };
        inner.call("qmp_capabilities", &enable, Execution::InBand)?;
        inner.negotiated = true;
        inner.oob = greeting.offers("oob");
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Executes a command and decodes its reply.
    pub fn execute<C: Command>(&self, command: &C) -> Result<C::Ok, Error> {
        self.typed(command, Execution::InBand)
    }

    /// Executes a command out of band (only `allow-oob` commands).
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
        self.lock().call(name, &arguments, Execution::InBand)
    }

    /// The next event: one that arrived while waiting for a reply, or the
    /// next the server sends within `timeout` (`None` if none does).
    pub fn next_event(&self, timeout: Duration) -> Result<Option<RawEvent>, Error> {
        let mut inner = self.lock();
        if let Some(event) = inner.events.pop_front() {
            return Ok(Some(event));
        }
        inner
            .reader
            .get_ref()
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let line = inner.line();
        inner.reader.get_ref().set_read_timeout(None)?;
        let line = match line {
            Ok(line) => line,
            Err(Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        match Message::parse(&line) {
            Ok(Message::Event(event)) => Ok(Some(event)),
            _ => Ok(None),
        }
    }

    /// How many events were dropped because more than 1024 waited unread.
    pub fn lagged_events(&self) -> u64 {
        self.lock().lagged
    }

    fn typed<C: Command>(&self, command: &C, execution: Execution) -> Result<C::Ok, Error> {
        let arguments = crate::protocol::arguments(command)?;
        let value = self.lock().call(C::NAME, &arguments, execution)?;
        crate::protocol::decode_reply::<C>(value)
    }
}

impl Inner {
    fn call(
        &mut self,
        name: &str,
        arguments: &Value,
        execution: Execution,
    ) -> Result<Value, Error> {
        if self.closed {
            return Err(Error::Closed("the connection closed".into()));
        }
        if !self.negotiated && name != "qmp_capabilities" {
            return Err(Error::NotNegotiated {
                command: name.to_string(),
            });
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, arguments, Some(id), execution);
        self.writer.write_all(&bytes)?;
        loop {
            let line = self.line()?;
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
                _ => continue,
            };
            // Only this call is outstanding: an id-less error is its own.
            match reply_id {
                None => return result,
                Some(reply_id) if reply_id.as_u64() == Some(id) => return result,
                Some(_) => continue,
            }
        }
    }

    fn line(&mut self) -> Result<Vec<u8>, Error> {
        loop {
            let limit = (MAX_LINE + 1).saturating_sub(self.partial.len()) as u64;
            let read = (&mut self.reader)
                .take(limit)
                .read_until(b'\n', &mut self.partial)?;
            if read == 0 && self.partial.is_empty() {
                self.closed = true;
                return Err(Error::Closed("the server closed the connection".into()));
            }
            if self.partial.len() > MAX_LINE {
                self.closed = true;
                return Err(Error::Protocol(format!(
                    "a line longer than {MAX_LINE} bytes"
                )));
            }
            if self.partial.last() != Some(&b'\n') {
                if read == 0 {
                    self.closed = true;
                    return Err(Error::Closed(
                        "the server closed the connection mid-line".into(),
                    ));
                }
                continue;
            }
            let mut line = std::mem::take(&mut self.partial);
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Ok(line);
            }
        }
    }
}
