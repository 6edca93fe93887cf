//! The async guest-agent (QGA) client: no greeting, one command at a
//! time, resynchronised with `guest-sync-delimited`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadHalf,
    WriteHalf,
};
use tokio::sync::Mutex;

use crate::error::Error;
use crate::protocol::{write_request, Execution, Message, ParseError};
use crate::Command;

/// The longest line accepted from the agent.
const MAX_LINE: usize = 64 << 20;

/// How long [`Qga::connect`] waits for the agent to answer the first
/// `guest-sync-delimited` (no agent listening on the other end, say).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

type Reader = BufReader<ReadHalf<Box<dyn Stream>>>;
type Writer = WriteHalf<Box<dyn Stream>>;

/// A byte stream to the agent.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// A connection to a guest agent.
pub struct Qga {
    io: Mutex<Io>,
    next_sync: AtomicU64,
}

struct Io {
    reader: Reader,
    writer: Writer,
    /// A call was interrupted (dropped, timed out): what the agent sends
    /// next may belong to it, so the next call resynchronises first.
    needs_sync: bool,
}

impl Qga {
    /// Connects to an agent listening on a unix socket and synchronises.
    pub async fn connect_unix(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let stream = tokio::net::UnixStream::connect(path)
            .await
            .map_err(|e| Error::connect(path.display(), e))?;
        Self::connect(stream).await
    }

    /// Talks to an agent over any stream (a virtio-serial port, a socket)
    /// and synchronises, within 30 s ([`Error::Timeout`]).
    pub async fn connect<S: Stream + 'static>(stream: S) -> Result<Self, Error> {
        let boxed: Box<dyn Stream> = Box::new(stream);
        let (read, writer) = tokio::io::split(boxed);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 & 0x7fff_ffff);
        let qga = Self {
            io: Mutex::new(Io {
                reader: BufReader::new(read),
                writer,
                needs_sync: true,
            }),
            next_sync: AtomicU64::new(seed.max(1)),
        };
        let id = qga.sync_id();
        let mut io = qga.io.lock().await;
        tokio::time::timeout(CONNECT_TIMEOUT, io.sync(id))
            .await
            .map_err(|_| Error::Timeout {
                command: "guest-sync-delimited".into(),
                limit: CONNECT_TIMEOUT,
            })??;
        drop(io);
        Ok(qga)
    }

    fn sync_id(&self) -> u64 {
        self.next_sync.fetch_add(1, Ordering::Relaxed)
    }

    /// Resynchronises: resets the agent's parser with a 0xFF byte, then
    /// skips whatever it sends until its answer to `guest-sync-delimited`.
    pub async fn sync(&self) -> Result<(), Error> {
        self.io.lock().await.sync(self.sync_id()).await
    }

    /// Executes a command. Commands without a success response
    /// (`guest-shutdown`, …) complete once sent.
    pub async fn execute<C: Command>(&self, command: &C) -> Result<C::Ok, Error> {
        let arguments = crate::protocol::arguments(command)?;
        let value = if C::SUCCESS_RESPONSE {
            self.call(C::NAME, &arguments, true).await?
        } else {
            self.call(C::NAME, &arguments, false).await?;
            Value::Object(Default::default())
        };
        crate::protocol::decode_reply::<C>(value)
    }

    /// [`Qga::execute`] with a time limit; after a timeout the next call
    /// resynchronises first.
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

    /// Executes a command the bindings lack: a name and JSON arguments.
    pub async fn execute_raw(&self, name: &str, arguments: Value) -> Result<Value, Error> {
        self.call(name, &arguments, true).await
    }

    async fn call(&self, name: &str, arguments: &Value, wait: bool) -> Result<Value, Error> {
        let mut io = self.io.lock().await;
        if io.needs_sync {
            io.sync(self.sync_id()).await?;
        }
        io.needs_sync = true;
        let mut bytes = Vec::with_capacity(64);
        write_request(&mut bytes, name, arguments, None, Execution::InBand);
        io.writer.write_all(&bytes).await?;
        io.writer.flush().await?;
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
}

impl Io {
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
        self.writer.flush().await?;
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
        let mut line = Vec::new();
        loop {
            let buf = self.reader.fill_buf().await?;
            if buf.is_empty() {
                return Err(Error::Closed("the agent closed the connection".into()));
            }
            let (taken, found) = match buf.iter().position(|&b| b == 0xff) {
                Some(at) => (at + 1, true),
                None => (buf.len(), false),
            };
            for &byte in &buf[..taken] {
                if byte != b'\n' {
                    line.push(byte);
                    continue;
                }
                if let Ok(Message::Greeting(_)) = Message::parse(&line) {
                    return Err(Error::Protocol(
                        "not a guest agent: it greets as a QMP server does (use Qmp)".into(),
                    ));
                }
                line.clear();
            }
            self.reader.consume(taken);
            if found {
                return Ok(());
            }
            if line.len() > MAX_LINE {
                return Err(Error::Protocol(format!(
                    "a line longer than {MAX_LINE} bytes"
                )));
            }
        }
    }

    /// The next non-empty line, `\n` or `\r\n` terminated.
    async fn line(&mut self) -> Result<Vec<u8>, Error> {
        loop {
            let mut line = Vec::new();
            let read = (&mut self.reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line)
                .await?;
            if read == 0 {
                return Err(Error::Closed("the agent closed the connection".into()));
            }
            if line.len() > MAX_LINE {
                return Err(Error::Protocol(format!(
                    "a line longer than {MAX_LINE} bytes"
                )));
            }
            // A delimiter byte left from a resynchronisation.
            line.retain(|&b| b != 0xff);
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Ok(line);
            }
        }
    }
}
