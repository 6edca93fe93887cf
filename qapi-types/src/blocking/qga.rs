//! The blocking guest-agent (QGA) client: no greeting, one command at a
//! time, resynchronised with `guest-sync-delimited` after a call that
//! ran out of time (the agent's replies carry no id).

use std::fmt;
use std::net::ToSocketAddrs;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::connection::{deadline, Closer, Connection, Sent};
use super::socket::Socket;
use crate::config::Config;
use crate::error::Error;
use crate::protocol::{violation, write_request, Execution, Message, ParseError};
use crate::trace::CallTrace;
use crate::Command;

/// The byte a guest agent resets its parser on, and sends before its
/// answer to `guest-sync-delimited`.
const DELIMITER: u8 = 0xff;

/// A blocking connection to a guest agent. Calls from several threads
/// take turns.
pub struct BlockingQga {
    inner: Mutex<Inner>,
    /// Closes the connection under a call in progress.
    closer: Closer,
    config: Config,
}

struct Inner {
    connection: Connection,
    /// The next `guest-sync-delimited` id (random-ish, so that a stale
    /// answer of another client's is not taken for ours).
    next_sync: u64,
    /// Calls made, for their spans.
    calls: u64,
    /// A call ran out of time, or its answer was not read: what the
    /// agent sends next may belong to it, so the next call
    /// resynchronises first.
    needs_sync: bool,
    /// The time limit of each call without one of its own.
    timeout: Option<Duration>,
}

impl BlockingQga {
    /// Connects to an agent listening on a unix socket (`qemu-ga -m
    /// unix-listen`, or QEMU's chardev of a virtio-serial port) and
    /// synchronises within the greeting limit.
    pub fn connect_unix(path: impl AsRef<Path>, config: &Config) -> Result<Self, Error> {
        Self::from_socket(
            Socket::unix(path.as_ref(), config.connect_timeout())?,
            config,
        )
    }

    /// [`BlockingQga::connect_unix`], trying again while the socket does
    /// not exist yet or nobody listens on it, until the connect limit
    /// has passed ([`Error::ConnectTimeout`]).
    pub fn connect_unix_retry(path: impl AsRef<Path>, config: &Config) -> Result<Self, Error> {
        let socket = Socket::unix_retry(path.as_ref(), config.connect_timeout())?;
        Self::from_socket(socket, config)
    }

    /// Connects to an agent's chardev over TCP and synchronises.
    pub fn connect_tcp(
        address: impl ToSocketAddrs + fmt::Debug,
        config: &Config,
    ) -> Result<Self, Error> {
        Self::from_socket(Socket::tcp(address, config.connect_timeout())?, config)
    }

    /// Waits on a listening unix socket for QEMU to connect the agent's
    /// chardev (`server=off`) within the connect limit, and synchronises.
    pub fn accept_unix(listener: &UnixListener, config: &Config) -> Result<Self, Error> {
        Self::from_socket(Socket::accept(listener, config.connect_timeout())?, config)
    }

    /// Talks to an agent over one end of a connected unix socket, owned
    /// from now on.
    pub fn from_fd(fd: OwnedFd, config: &Config) -> Result<Self, Error> {
        Self::from_socket(Socket::from_fd(fd), config)
    }

    /// Talks to an agent over a connected socket (a std `UnixStream` or
    /// `TcpStream`, or a [`Socket`]) and synchronises within the greeting
    /// limit ([`Error::Timeout`] for `guest-sync-delimited`).
    pub fn from_socket(socket: impl Into<Socket>, config: &Config) -> Result<Self, Error> {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 & 0x7fff_ffff);
        let mut inner = Inner {
            connection: Connection::new(socket.into(), config.max_message())?,
            next_sync: seed.max(1),
            calls: 0,
            needs_sync: true,
            timeout: config.call_timeout(),
        };
        inner.sync(Some(config.greeting_timeout()))?;
        Ok(Self {
            closer: inner.connection.closer()?,
            inner: Mutex::new(inner),
            config: config.clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets the time limit of every later call without one of its own
    /// (`None`: no limit), in place of the configured call limit.
    pub fn set_timeout(&self, timeout: Option<Duration>) {
        self.lock().timeout = timeout;
    }

    /// Resynchronises within the call limit: resets the agent's parser
    /// with a 0xFF byte, then skips whatever it sends until its answer to
    /// `guest-sync-delimited`.
    pub fn sync(&self) -> Result<(), Error> {
        let mut inner = self.lock();
        let timeout = inner.timeout;
        inner.sync(timeout)
    }

    /// Executes a command within the call limit. Commands without a
    /// success response (`guest-shutdown`, …) complete once sent.
    pub fn execute<C: Command>(&self, command: &C) -> Result<C::Ok, Error> {
        self.typed(command, None)
    }

    /// [`BlockingQga::execute`] within `timeout` rather than the call
    /// limit; when it runs out, the next call resynchronises first.
    pub fn execute_timeout<C: Command>(
        &self,
        command: &C,
        timeout: Duration,
    ) -> Result<C::Ok, Error> {
        self.typed(command, Some(timeout))
    }

    /// Executes a command the bindings lack: a name and JSON arguments.
    pub fn execute_raw(&self, name: &str, arguments: Value) -> Result<Value, Error> {
        let mut inner = self.lock();
        let trace = inner.trace(name);
        let timeout = inner.timeout;
        let result = inner.call(name, &arguments, true, timeout);
        trace.finish(&result);
        result
    }

    fn typed<C: Command>(&self, command: &C, timeout: Option<Duration>) -> Result<C::Ok, Error> {
        let mut inner = self.lock();
        let trace = inner.trace(C::NAME);
        let result = crate::protocol::arguments(command).and_then(|arguments| {
            let timeout = timeout.or(inner.timeout);
            let value = inner.call(C::NAME, &arguments, C::SUCCESS_RESPONSE, timeout)?;
            drop(inner);
            crate::protocol::decode_reply::<C>(match value {
                Value::Null if !C::SUCCESS_RESPONSE => Value::Object(Default::default()),
                value => value,
            })
        });
        trace.finish(&result);
        result
    }

    /// Closes the connection: later calls fail with [`Error::Closed`];
    /// the socket's writing side is shut, and this returns once the agent
    /// has closed its side too, or once the configured close grace has
    /// passed. When another thread is using the connection (a call in
    /// progress), the socket is shut both ways at once instead: that call
    /// fails with [`Error::Closed`], and what the agent still sends is not
    /// waited for.
    pub fn close(&self) {
        let mut inner = self.closer.lock_interrupting(&self.inner);
        inner.connection.shut(self.config.close_grace());
    }
}

impl fmt::Debug for BlockingQga {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("BlockingQga");
        match self.inner.try_lock() {
            Ok(inner) => out
                .field("socket", inner.connection.socket())
                .field("needs_sync", &inner.needs_sync)
                .field("closed", &inner.connection.is_closed()),
            Err(_) => out.field("socket", &"(in use by a call)"),
        };
        out.finish_non_exhaustive()
    }
}

/// A line of the agent's output without the delimiter bytes a
/// resynchronisation leaves.
fn without_delimiters(mut line: Vec<u8>) -> Vec<u8> {
    line.retain(|&b| b != DELIMITER);
    line
}

impl Inner {
    fn trace(&mut self, command: &str) -> CallTrace {
        self.calls += 1;
        CallTrace::new("blocking-qga", command, self.calls)
    }

    /// Resynchronises within `timeout`.
    fn sync(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.connection.check_open()?;
        let deadline = deadline(timeout);
        let id = self.next_sync;
        self.next_sync += 1;
        let out_of_time = || Error::Timeout {
            command: "guest-sync-delimited".into(),
            limit: timeout.unwrap_or_default(),
        };
        let mut bytes = vec![DELIMITER];
        write_request(
            &mut bytes,
            "guest-sync-delimited",
            &serde_json::json!({ "id": id }),
            None,
            Execution::InBand,
        );
        self.needs_sync = true;
        if self
            .connection
            .send(&bytes, Vec::new(), deadline, out_of_time)?
            == Sent::Nothing
        {
            return Err(out_of_time());
        }
        // Skip to the delimiter the agent sends before its answer (a QMP
        // server sends none: its greeting gives it away), then past the
        // parse error it reports for the 0xFF and any stale output, to
        // the answer with our id.
        let skipped =
            self.connection.skip_past(DELIMITER, deadline, |message| {
                match Message::parse(message) {
                    Ok(Message::Greeting(_)) => Err(Error::Protocol(
                        "not a guest agent: it greets as a QMP server does (use a QMP client)"
                            .into(),
                    )),
                    _ => Ok(()),
                }
            })?;
        if !skipped {
            return Err(out_of_time());
        }
        loop {
            let Some(line) = self.connection.message(deadline)? else {
                return Err(out_of_time());
            };
            if let Ok(Message::Return { value, .. }) = Message::parse(&without_delimiters(line)) {
                if value.as_u64() == Some(id) {
                    self.needs_sync = false;
                    return Ok(());
                }
            }
        }
    }

    /// Sends a request and, when `wait`, reads its answer, all within
    /// `timeout`; without waiting, returns `null` once it is sent.
    fn call(
        &mut self,
        name: &str,
        arguments: &Value,
        wait: bool,
        timeout: Option<Duration>,
    ) -> Result<Value, Error> {
        self.connection.check_open()?;
        let started = Instant::now();
        let deadline = deadline(timeout);
        let out_of_time = || Error::Timeout {
            command: name.to_string(),
            limit: timeout.unwrap_or_default(),
        };
        if self.needs_sync {
            let left = timeout.map(|t| t.saturating_sub(started.elapsed()));
            self.sync(left).map_err(|error| match error {
                Error::Timeout { .. } => out_of_time(),
                other => other,
            })?;
        }
        self.needs_sync = true;
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, arguments, None, Execution::InBand);
        if self
            .connection
            .send(&bytes, Vec::new(), deadline, out_of_time)?
            == Sent::Nothing
        {
            // Nothing was sent: nothing to skip.
            self.needs_sync = false;
            return Err(out_of_time());
        }
        if !wait {
            // The agent still answers an error (a bad argument): the next
            // call resynchronises, so that it does not take that answer
            // for its own (`needs_sync` stays set).
            return Ok(Value::Null);
        }
        loop {
            let Some(line) = self.connection.message(deadline)? else {
                return Err(out_of_time());
            };
            let line = without_delimiters(line);
            // What is left of a line of delimiters.
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let result = match Message::parse(&line) {
                Ok(Message::Return { value, .. }) => Ok(value),
                Ok(Message::Error { error, .. }) => Err(Error::Command {
                    command: name.to_string(),
                    error,
                }),
                // A line that is not JSON: the call fails, and the next
                // one resynchronises first (`needs_sync` is still set).
                Err(error @ ParseError::NotAnObject(_)) => return Err(violation(&error, &line)),
                // A reply all the same: the call fails.
                Err(error) => match error.failed_reply(name, &line) {
                    Some((_, failure)) => Err(failure),
                    None => continue,
                },
                // The agent sends no events; skip anything else.
                Ok(Message::Event(_) | Message::Greeting(_)) => continue,
            };
            self.needs_sync = false;
            return result;
        }
    }
}
