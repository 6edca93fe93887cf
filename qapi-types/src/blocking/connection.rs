//! The byte-level side of a blocking connection: requests written and
//! messages read within deadlines, what was read of a message kept across
//! a read that times out, and the connection marked unusable once the
//! stream is out of step.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use super::socket::Socket;
use crate::error::Error;
use crate::framing::{Decoder, TooLong};
use crate::recording::ConnectionRecorder;

/// A socket, read through a [`Decoder`].
#[derive(Debug)]
pub(super) struct Connection {
    reader: BufReader<Socket>,
    writer: Socket,
    decoder: Decoder,
    /// Why the connection can't be used any more.
    closed: Option<Arc<str>>,
    /// The socket's read and write timeouts as last set, so that they
    /// are only set when they change.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Where the session is recorded, if it is.
    recorder: Option<ConnectionRecorder>,
    /// Set by a [`Closer`] before it shuts the socket under a call.
    interrupted: Arc<AtomicBool>,
}

/// Why a connection a [`Closer`] shut is closed.
const CLOSED_BY_CLIENT: &str = "closed by the client";

/// Closes a [`Connection`] from outside the lock its calls hold: a
/// second handle on its socket, shut both ways so that a call blocked
/// reading or writing returns, which then fails with
/// [`Error::Closed`] ("closed by the client").
#[derive(Debug)]
pub(super) struct Closer {
    socket: Socket,
    interrupted: Arc<AtomicBool>,
}

impl Closer {
    /// `mutex`'s lock (a client's, around its connection): taken at once
    /// when no call holds it, else once the call in progress has failed
    /// for the socket shut under it.
    pub(super) fn lock_interrupting<'a, T>(&self, mutex: &'a Mutex<T>) -> MutexGuard<'a, T> {
        match mutex.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                self.interrupted.store(true, Ordering::Release);
                let _ = self.socket.shutdown(Shutdown::Both);
                mutex.lock().unwrap_or_else(PoisonError::into_inner)
            }
        }
    }
}

/// How far a request was written before its deadline.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Sent {
    /// All of it.
    All,
    /// Not a byte: the connection is as it was.
    Nothing,
}

/// When `timeout` from now is (`None` without a limit, or one too far
/// away to represent).
pub(super) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
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

impl Connection {
    pub(super) fn new(socket: Socket, max_message: usize) -> Result<Self, Error> {
        Ok(Self {
            reader: BufReader::new(socket.try_clone()?),
            writer: socket,
            decoder: Decoder::new(max_message),
            closed: None,
            read_timeout: None,
            write_timeout: None,
            recorder: None,
            interrupted: Arc::new(AtomicBool::new(false)),
        })
    }

    /// What closes this connection from outside its lock.
    pub(super) fn closer(&self) -> Result<Closer, Error> {
        Ok(Closer {
            socket: self.writer.try_clone()?,
            interrupted: self.interrupted.clone(),
        })
    }

    /// Records the session from now on: the requests written whole and
    /// the messages read.
    pub(super) fn record(&mut self, recorder: ConnectionRecorder) {
        self.recorder = Some(recorder);
    }

    /// Whether descriptors can be passed (a unix socket).
    pub(super) fn passes_fds(&self) -> bool {
        self.writer.passes_fds()
    }

    /// The socket, for `Debug`.
    pub(super) fn socket(&self) -> &Socket {
        &self.writer
    }

    /// [`Error::Closed`] if the connection is unusable.
    pub(super) fn check_open(&self) -> Result<(), Error> {
        match &self.closed {
            Some(why) => Err(Error::Closed(why.clone())),
            None if self.interrupted.load(Ordering::Acquire) => {
                Err(Error::Closed(CLOSED_BY_CLIENT.into()))
            }
            None => Ok(()),
        }
    }

    /// Whether the connection was marked unusable.
    pub(super) fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Writes a request, `fds` attached to its first byte; the
    /// descriptors are closed here whatever happens. A request cut short
    /// by the deadline leaves the stream out of step: the connection is
    /// closed then, with `out_of_time`'s message.
    pub(super) fn send(
        &mut self,
        bytes: &[u8],
        fds: Vec<OwnedFd>,
        deadline: Option<Instant>,
        out_of_time: impl FnOnce() -> Error,
    ) -> Result<Sent, Error> {
        let mut written = 0;
        let mut fds = Some(fds).filter(|fds| !fds.is_empty());
        while written < bytes.len() {
            let Some(left) = left(deadline) else {
                return self.cut_short(written, out_of_time);
            };
            if self.write_timeout != left {
                self.writer.set_write_timeout(left)?;
                self.write_timeout = left;
            }
            let result = match fds.take() {
                Some(fds) => {
                    // Dropped (closed) once sent, or not.
                    crate::fds::send_with_fds(self.writer.as_fd(), &bytes[written..], &fds)
                }
                None => self.writer.write(&bytes[written..]),
            };
            match result {
                Ok(0) => return Err(self.closed_by("writing failed: the socket accepts no more")),
                Ok(n) => written += n,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) if deadline.is_some() && timed_out(&error) => {
                    return self.cut_short(written, out_of_time);
                }
                Err(error) => {
                    self.close(format!("writing failed: {error}"));
                    return Err(self.interruption().unwrap_or_else(|| error.into()));
                }
            }
        }
        if let Some(recorder) = &self.recorder {
            recorder.sent(bytes);
        }
        Ok(Sent::All)
    }

    /// A request out of time after `written` bytes.
    fn cut_short(
        &mut self,
        written: usize,
        out_of_time: impl FnOnce() -> Error,
    ) -> Result<Sent, Error> {
        if written == 0 {
            return Ok(Sent::Nothing);
        }
        let error = out_of_time();
        self.close(format!(
            "{error}: part of the request was written, so the stream is out of step"
        ));
        Err(error)
    }

    /// The next message (a line, or the lines of a pretty-printed one:
    /// see [`Decoder`]); `None` if `deadline` passes first (what was read
    /// of it is kept for the next call).
    pub(super) fn message(&mut self, deadline: Option<Instant>) -> Result<Option<Vec<u8>>, Error> {
        self.check_open()?;
        loop {
            if !self.fill(deadline)? {
                return Ok(None);
            }
            let (used, message) = self.decoder.decode(self.reader.buffer());
            self.reader.consume(used);
            match message {
                None => continue,
                Some(Ok(message)) => {
                    if let Some(recorder) = &self.recorder {
                        recorder.received(&message);
                    }
                    return Ok(Some(message));
                }
                Some(Err(TooLong { limit })) => {
                    let error = Error::Protocol(format!("a message longer than {limit} bytes"));
                    self.close(error.to_string());
                    return Err(error);
                }
            }
        }
    }

    /// Skips what the server sends up to and including `delimiter`
    /// (what a guest agent answers `guest-sync-delimited` with), handing
    /// each message before it to `before`; `false` if `deadline` passes
    /// first. What was read of a message begun is dropped.
    pub(super) fn skip_past(
        &mut self,
        delimiter: u8,
        deadline: Option<Instant>,
        mut before: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        self.check_open()?;
        loop {
            if !self.fill(deadline)? {
                return Ok(false);
            }
            let buffer = self.reader.buffer();
            let found = buffer.iter().position(|&b| b == delimiter);
            // Stale output is skipped, however long.
            self.decoder
                .skip(&buffer[..found.unwrap_or(buffer.len())], &mut before)?;
            match found {
                Some(at) => {
                    self.reader.consume(at + 1);
                    self.decoder = Decoder::new(self.decoder.limit());
                    return Ok(true);
                }
                None => {
                    let all = self.reader.buffer().len();
                    self.reader.consume(all);
                }
            }
        }
    }

    /// Waits for bytes to read within `deadline`: `false` if none came.
    /// What is buffered already is used whatever the time. One read at
    /// a time, so that a server trickling bytes can't keep a read from
    /// timing out.
    fn fill(&mut self, deadline: Option<Instant>) -> Result<bool, Error> {
        loop {
            if !self.reader.buffer().is_empty() {
                return Ok(true);
            }
            let Some(left) = left(deadline) else {
                return Ok(false);
            };
            if self.read_timeout != left {
                self.reader.get_ref().set_read_timeout(left)?;
                self.read_timeout = left;
            }
            match self.reader.fill_buf() {
                Ok([]) => {
                    let why = if self.decoder.buffered() == 0 {
                        "the server closed the connection"
                    } else {
                        "the server closed the connection mid-message"
                    };
                    return Err(self.closed_by(why));
                }
                Ok(_) => return Ok(true),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                // The deadline is checked again.
                Err(error) if deadline.is_some() && timed_out(&error) => {}
                Err(error) => {
                    self.close(format!("reading failed: {error}"));
                    return Err(self.interruption().unwrap_or_else(|| error.into()));
                }
            }
        }
    }

    /// Marks the connection unusable for `why` (unless it was already, or
    /// a [`Closer`] did it): the error that says so.
    fn closed_by(&mut self, why: &str) -> Error {
        self.close(why);
        Error::Closed(self.closed.clone().unwrap_or_else(|| why.into()))
    }

    /// [`Error::Closed`] if a [`Closer`] shut the socket.
    fn interruption(&self) -> Option<Error> {
        self.interrupted
            .load(Ordering::Acquire)
            .then(|| Error::Closed(CLOSED_BY_CLIENT.into()))
    }

    /// Marks the connection unusable; the first reason is kept.
    pub(super) fn close(&mut self, why: impl Into<Arc<str>>) {
        if self.closed.is_none() {
            let why = if self.interrupted.load(Ordering::Acquire) {
                CLOSED_BY_CLIENT.into()
            } else {
                why.into()
            };
            crate::trace::log_info!(why = %why, "connection closed");
            self.closed = Some(why);
        }
    }

    /// Closes the connection: marked unusable, its writing side shut,
    /// then what the server still sends read and dropped until it closes
    /// its side or `grace` has passed; the socket is shut both ways then.
    pub(super) fn shut(&mut self, grace: Duration) {
        self.close("closed by the client");
        let _ = self.writer.shutdown(Shutdown::Write);
        let deadline = Instant::now() + grace;
        let mut sink = [0u8; 4096];
        let _ = self
            .reader
            .get_ref()
            .set_read_timeout(Some(grace.max(Duration::from_millis(1))));
        let reader = self.reader.get_mut();
        while Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if reader
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .is_err()
            {
                break;
            }
            match reader.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.read_timeout = None;
        let _ = self.writer.shutdown(Shutdown::Both);
    }
}
