//! The socket under a blocking connection: a unix socket or TCP.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;

/// A connected socket.
#[derive(Debug)]
pub(super) enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    /// Connects to a unix socket, before `deadline` if there is one.
    /// A unix socket's `connect` blocks while the server's backlog is
    /// full (a QEMU monitor serving another client accepts no one else),
    /// and std offers no time limit for it: the connection is then made
    /// on a thread of its own, left behind if it takes too long.
    pub(super) fn unix(path: &Path, limit: Option<(Duration, Instant)>) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let Some((limit, deadline)) = limit else {
            return UnixStream::connect(path)
                .map(Stream::Unix)
                .map_err(|e| Error::connect(shown, e));
        };
        let (sender, receiver) = std::sync::mpsc::channel();
        let path = path.to_path_buf();
        std::thread::Builder::new()
            .name("qmp-connect".into())
            .spawn(move || {
                let _ = sender.send(UnixStream::connect(path));
            })?;
        match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(connected) => connected
                .map(Stream::Unix)
                .map_err(|e| Error::connect(shown, e)),
            Err(_) => Err(Error::NoGreeting { limit }),
        }
    }

    /// Connects over TCP to the first of `address`'s addresses that
    /// answers. With a deadline, each address has an equal share of the
    /// time left, so that one that never answers leaves time for the
    /// others; when none answers in time, the error is the last
    /// address's (`TimedOut`). The name is looked up first, by the
    /// system's resolver, outside the limit.
    pub(super) fn tcp(
        address: impl ToSocketAddrs + std::fmt::Debug,
        deadline: Option<Instant>,
    ) -> Result<Self, Error> {
        let shown = format!("{address:?}");
        let addresses: Vec<_> = address
            .to_socket_addrs()
            .map_err(|e| Error::connect(&shown, e))?
            .collect();
        let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
        for (tried, address) in addresses.iter().enumerate() {
            let connected = match deadline {
                None => TcpStream::connect(address),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    // At least a millisecond: a zero timeout is an error.
                    let share =
                        (left / (addresses.len() - tried) as u32).max(Duration::from_millis(1));
                    TcpStream::connect_timeout(address, share)
                }
            };
            match connected {
                Ok(stream) => {
                    // Requests are small and each is awaited: send them
                    // at once.
                    stream.set_nodelay(true)?;
                    return Ok(Stream::Tcp(stream));
                }
                Err(error) => last = error,
            }
        }
        Err(Error::connect(shown, last))
    }

    pub(super) fn try_clone(&self) -> io::Result<Self> {
        Ok(match self {
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
        })
    }

    pub(super) fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Tcp(s) => s.set_read_timeout(timeout),
        }
    }

    pub(super) fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_write_timeout(timeout),
            Stream::Tcp(s) => s.set_write_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}
