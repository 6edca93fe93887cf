//! The async guest-agent (QGA) client: no greeting, one command at a
//! time, resynchronised with `guest-sync-delimited`.

use std::fmt;
use std::future::Future;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::{Mutex, Notify};

use crate::config::Config;
use crate::error::Error;
use crate::framing::{read_message, Decoder};
use crate::protocol::{write_request, Execution, Message, ParseError};
use crate::qmp_client::transport::{Reader, Writer};
use crate::qmp_client::Transport;
use crate::trace::CallTrace;
use crate::Command;

/// A connection to a guest agent.
pub struct Qga {
    io: Mutex<Io>,
    next_sync: AtomicU64,
    config: Config,
    /// Set by [`Qga::close`], which then wakes the calls waiting on the
    /// agent (or for their turn) through `closing`, so that they fail
    /// at once rather than hold the connection.
    closed_by_client: AtomicBool,
    closing: Notify,
}

struct Io {
    reader: BufReader<Reader>,
    writer: Writer,
    /// A call was interrupted (dropped, timed out): what the agent sends
    /// next may belong to it, so the next call resynchronises first.
    needs_sync: bool,
    /// Calls made, for their spans.
    calls: u64,
    /// The longest line accepted from the agent.
    max_line: usize,
    /// Why the connection can't be used any more.
    closed: Option<std::sync::Arc<str>>,
}

/// How long [`Qga::connect_unix_retry`] waits between attempts, at most.
const RETRY_INTERVAL: Duration = Duration::from_millis(50);

impl Qga {
    /// Connects to an agent listening on a unix socket and synchronises,
    /// within the configured connect and greeting limits.
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
        Self::from_stream(stream, config).await
    }

    /// [`Qga::connect_unix`], trying again while the socket does not
    /// exist yet or nobody listens on it, until the connect limit has
    /// passed ([`Error::ConnectTimeout`]).
    pub async fn connect_unix_retry(
        path: impl AsRef<Path>,
        config: &Config,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let limit = config.connect_timeout();
        let deadline = tokio::time::Instant::now() + limit;
        let mut interval = Duration::from_millis(5);
        let timed_out = || Error::ConnectTimeout {
            to: path.display().to_string(),
            limit,
        };
        let stream = loop {
            match tokio::time::timeout_at(deadline, tokio::net::UnixStream::connect(path)).await {
                Ok(Ok(stream)) => break stream,
                Ok(Err(error))
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    if tokio::time::Instant::now() + interval >= deadline {
                        return Err(timed_out());
                    }
                    tokio::time::sleep(interval).await;
                    interval = (interval * 2).min(RETRY_INTERVAL);
                }
                Ok(Err(error)) => return Err(Error::connect(path.display(), error)),
                Err(_) => return Err(timed_out()),
            }
        };
        Self::from_stream(stream, config).await
    }

    /// Connects to an agent's chardev over TCP and synchronises.
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
        Self::from_stream(stream, config).await
    }

    /// Waits on a listening unix socket for QEMU to connect the agent's
    /// chardev (`server=off`) within the connect limit, and synchronises.
    pub async fn accept_unix(
        listener: &tokio::net::UnixListener,
        config: &Config,
    ) -> Result<Self, Error> {
        let shown = "a listening unix socket";
        let limit = config.connect_timeout();
        let (stream, _) = tokio::time::timeout(limit, listener.accept())
            .await
            .map_err(|_| Error::ConnectTimeout {
                to: shown.into(),
                limit,
            })?
            .map_err(|e| Error::connect(shown, e))?;
        Self::from_stream(stream, config).await
    }

    /// Talks to an agent over one end of a connected unix socket, owned
    /// from now on, and synchronises.
    pub async fn from_fd(fd: OwnedFd, config: &Config) -> Result<Self, Error> {
        Self::from_stream(std::os::unix::net::UnixStream::from(fd), config).await
    }

    /// Talks to an agent over a connected stream (a tokio or std socket,
    /// or [`Transport::other`]: a virtio-serial port, say) and
    /// synchronises within the greeting limit ([`Error::Timeout`]).
    pub async fn from_stream(stream: impl Into<Transport>, config: &Config) -> Result<Self, Error> {
        let (read, writer) = stream.into().split()?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 & 0x7fff_ffff);
        let qga = Self {
            io: Mutex::new(Io {
                reader: BufReader::new(read),
                writer,
                needs_sync: true,
                calls: 0,
                max_line: config.max_message(),
                closed: None,
            }),
            next_sync: AtomicU64::new(seed.max(1)),
            config: config.clone(),
            closed_by_client: AtomicBool::new(false),
            closing: Notify::new(),
        };
        let id = qga.sync_id();
        let limit = config.greeting_timeout();
        let mut io = qga.io.lock().await;
        tokio::time::timeout(limit, io.sync(id))
            .await
            .map_err(|_| Error::Timeout {
                command: "guest-sync-delimited".into(),
                limit,
            })??;
        drop(io);
        Ok(qga)
    }

    /// Closes the connection: waiting and later calls fail with
    /// [`Error::Closed`]; the writing side is shut, and this returns once
    /// the agent has closed its side too, or once the configured close
    /// grace has passed.
    pub async fn close(&self) {
        self.closed_by_client.store(true, Ordering::Release);
        self.closing.notify_waiters();
        let grace = self.config.close_grace();
        let _ = tokio::time::timeout(grace, async {
            let mut io = self.io.lock().await;
            io.closed = Some("closed by the client".into());
            let _ = io.writer.shutdown().await;
            let mut sink = Vec::new();
            let _ = (&mut io.reader).take(u64::MAX).read_to_end(&mut sink).await;
        })
        .await;
    }

    fn sync_id(&self) -> u64 {
        self.next_sync.fetch_add(1, Ordering::Relaxed)
    }

    /// Resynchronises: resets the agent's parser with a 0xFF byte, then
    /// skips whatever it sends until its answer to `guest-sync-delimited`.
    pub async fn sync(&self) -> Result<(), Error> {
        self.until_closed(async { self.io.lock().await.sync(self.sync_id()).await })
            .await
    }

    /// Runs `operation` (on the connection), failing it as soon as
    /// [`Qga::close`] is called.
    async fn until_closed<T>(
        &self,
        operation: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let mut closing = std::pin::pin!(self.closing.notified());
        // Woken by a close from now on; one before is seen in the flag.
        closing.as_mut().enable();
        let closed = || Error::Closed("closed by the client".into());
        if self.closed_by_client.load(Ordering::Acquire) {
            return Err(closed());
        }
        let mut operation = std::pin::pin!(operation);
        std::future::poll_fn(|context| {
            if let Poll::Ready(result) = operation.as_mut().poll(context) {
                return Poll::Ready(result);
            }
            closing.as_mut().poll(context).map(|()| Err(closed()))
        })
        .await
    }

    /// Executes a command, within the configured call limit if there is
    /// one. Commands without a success response (`guest-shutdown`, …)
    /// complete once sent.
    pub async fn execute<C: Command>(&self, command: &C) -> Result<C::Ok, Error> {
        match self.config.call_timeout() {
            Some(limit) => self.execute_timeout(command, limit).await,
            None => self.execute_unlimited(command).await,
        }
    }

    async fn execute_unlimited<C: Command>(&self, command: &C) -> Result<C::Ok, Error> {
        let arguments = crate::protocol::arguments(command)?;
        let value = if C::SUCCESS_RESPONSE {
            self.call(C::NAME, &arguments, true).await?
        } else {
            self.call(C::NAME, &arguments, false).await?;
            Value::Object(Default::default())
        };
        crate::protocol::decode_reply::<C>(value)
    }

    /// [`Qga::execute`] within `timeout` rather than the call limit;
    /// after a timeout the next call resynchronises first.
    pub async fn execute_timeout<C: Command>(
        &self,
        command: &C,
        timeout: Duration,
    ) -> Result<C::Ok, Error> {
        tokio::time::timeout(timeout, self.execute_unlimited(command))
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    command: C::NAME.to_string(),
                    limit: timeout,
                })
            })
    }

    /// Executes a command the bindings lack: a name and JSON arguments.
    /// Within the configured call limit if there is one.
    pub async fn execute_raw(&self, name: &str, arguments: Value) -> Result<Value, Error> {
        let Some(limit) = self.config.call_timeout() else {
            return self.call(name, &arguments, true).await;
        };
        tokio::time::timeout(limit, self.call(name, &arguments, true))
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    command: name.to_string(),
                    limit,
                })
            })
    }

    async fn call(&self, name: &str, arguments: &Value, wait: bool) -> Result<Value, Error> {
        self.until_closed(async {
            let mut io = self.io.lock().await;
            io.calls += 1;
            let trace = CallTrace::new("qga", name, io.calls);
            let result = io.call(self.sync_id(), name, arguments, wait).await;
            trace.finish(&result);
            result
        })
        .await
    }
}

impl fmt::Debug for Qga {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Qga");
        match self.io.try_lock() {
            Ok(io) => out
                .field("needs_sync", &io.needs_sync)
                .field("closed", &io.closed.is_some()),
            Err(_) => out.field("io", &"(in use by a call)"),
        };
        out.finish_non_exhaustive()
    }
}

impl Io {
    async fn call(
        &mut self,
        sync_id: u64,
        name: &str,
        arguments: &Value,
        wait: bool,
    ) -> Result<Value, Error> {
        let io = self;
        if let Some(why) = &io.closed {
            return Err(Error::Closed(why.clone()));
        }
        if io.needs_sync {
            io.sync(sync_id).await?;
        }
        io.needs_sync = true;
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, arguments, None, Execution::InBand);
        io.writer.write_all(&bytes).await?;
        if !wait {
            // The agent still answers an error (a bad argument): the next
            // call resynchronises, so that it does not take that answer
            // for its own (`needs_sync` stays set).
            return Ok(Value::Null);
        }
        let result = loop {
            let line = io.line().await?;
            match Message::parse(&line) {
                Ok(Message::Return { value, .. }) => break Ok(value),
                Ok(Message::Error { error, .. }) => {
                    break Err(Error::Command {
                        command: name.to_string(),
                        error,
                    })
                }
                // A line that is not JSON: the call fails, and the next
                // one resynchronises first (`needs_sync` is still set).
                Err(error @ ParseError::NotAnObject(_)) => {
                    return Err(crate::protocol::violation(&error, &line))
                }
                // A reply all the same: the call fails.
                Err(error) => match error.failed_reply(name, &line) {
                    Some((_, failure)) => break Err(failure),
                    None => continue,
                },
                // The agent sends no events; skip anything else.
                Ok(Message::Event(_) | Message::Greeting(_)) => continue,
            }
        };
        io.needs_sync = false;
        result
    }

    async fn sync(&mut self, id: u64) -> Result<(), Error> {
        let mut bytes = vec![0xff];
        write_request(
            &mut bytes,
            "guest-sync-delimited",
            &serde_json::json!({ "id": id }),
            None,
            Execution::InBand,
        );
        self.writer.write_all(&bytes).await?;
        // Skip to the delimiter the agent sends before its answer, then
        // past the parse error it reports for the 0xFF and any stale
        // output, to the answer with our id.
        self.skip_to_delimiter().await?;
        loop {
            let line = self.line().await?;
            if let Ok(Message::Return { value, .. }) = Message::parse(&line) {
                if value.as_u64() == Some(id) {
                    self.needs_sync = false;
                    return Ok(());
                }
            }
        }
    }

    /// Skips what the agent sends up to the 0xFF it answers
    /// `guest-sync-delimited` with. A QMP server sends none: its greeting
    /// gives it away.
    async fn skip_to_delimiter(&mut self) -> Result<(), Error> {
        // Stale output is skipped, however long.
        let mut decoder = Decoder::new(self.max_line);
        loop {
            let buf = self.reader.fill_buf().await?;
            if buf.is_empty() {
                return Err(Error::Closed("the agent closed the connection".into()));
            }
            let found = buf.iter().position(|&b| b == 0xff);
            decoder.skip(
                &buf[..found.unwrap_or(buf.len())],
                |message| match Message::parse(message) {
                    Ok(Message::Greeting(_)) => Err(Error::Protocol(
                        "not a guest agent: it greets as a QMP server does (use Qmp)".into(),
                    )),
                    _ => Ok(()),
                },
            )?;
            let taken = found.map_or(buf.len(), |at| at + 1);
            self.reader.consume(taken);
            if found.is_some() {
                return Ok(());
            }
        }
    }

    /// The next message that is not blank, without the delimiter bytes
    /// a resynchronisation leaves.
    async fn line(&mut self) -> Result<Vec<u8>, Error> {
        loop {
            let Some(mut line) = read_message(&mut self.reader, self.max_line).await? else {
                return Err(Error::Closed("the agent closed the connection".into()));
            };
            line.retain(|&b| b != 0xff);
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Ok(line);
            }
        }
    }
}
