//! The socket under a blocking connection (a unix socket or TCP), and
//! every way of getting one: connecting, connecting once the socket
//! exists, accepting the server's connection.

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;

/// A connected socket a blocking client talks over: a std unix or TCP
/// socket (`From` either), or one end of a socketpair
/// ([`Socket::from_fd`]).
pub struct Socket {
    kind: Kind,
}

enum Kind {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl From<UnixStream> for Socket {
    fn from(stream: UnixStream) -> Self {
        Self {
            kind: Kind::Unix(stream),
        }
    }
}

impl From<TcpStream> for Socket {
    fn from(stream: TcpStream) -> Self {
        // Requests are small and each is awaited: send them at once. A
        // socket that refuses is still usable.
        let _ = stream.set_nodelay(true);
        Self {
            kind: Kind::Tcp(stream),
        }
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Unix(s) => match s
                .peer_addr()
                .ok()
                .and_then(|a| a.as_pathname().map(Path::to_path_buf))
            {
                Some(path) => write!(f, "unix:{}", path.display()),
                None => f.write_str("unix"),
            },
            Kind::Tcp(s) => match s.peer_addr() {
                Ok(address) => write!(f, "tcp:{address}"),
                Err(_) => f.write_str("tcp"),
            },
        }
    }
}

/// How long connecting once the socket exists waits between attempts,
/// at most.
const RETRY_INTERVAL: Duration = Duration::from_millis(50);

impl Socket {
    /// One end of a connected unix socket (a socketpair whose other end
    /// the server got, QEMU's `-chardev socket,fd=N`), owned from now on.
    pub fn from_fd(fd: OwnedFd) -> Self {
        UnixStream::from(fd).into()
    }

    /// Connects to a unix socket within `limit`. A unix socket's
    /// `connect` blocks while the server's backlog is full (a QEMU
    /// monitor serving another client accepts no one else), and std
    /// offers no time limit for it: the connection is made on a thread
    /// of its own, left behind if it takes too long.
    pub(crate) fn unix(path: &Path, limit: Duration) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let (sender, receiver) = std::sync::mpsc::channel();
        let owned = path.to_path_buf();
        std::thread::Builder::new()
            .name("qmp-connect".into())
            .spawn(move || {
                let _ = sender.send(UnixStream::connect(owned));
            })?;
        match receiver.recv_timeout(limit) {
            Ok(connected) => connected
                .map(Socket::from)
                .map_err(|e| Error::connect(shown, e)),
            Err(_) => Err(Error::ConnectTimeout { to: shown, limit }),
        }
    }

    /// [`Socket::unix`], trying again while the socket does not exist
    /// or nobody listens on it yet, until `limit` has passed.
    pub(crate) fn unix_retry(path: &Path, limit: Duration) -> Result<Self, Error> {
        let deadline = Instant::now() + limit;
        let mut interval = Duration::from_millis(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match Self::unix(path, left.max(Duration::from_millis(1))) {
                Err(Error::Connect { source, .. })
                    if matches!(
                        source.kind(),
                        ErrorKind::NotFound | ErrorKind::ConnectionRefused
                    ) && Instant::now() + interval < deadline =>
                {
                    std::thread::sleep(interval);
                    interval = (interval * 2).min(RETRY_INTERVAL);
                }
                Err(Error::Connect { source, .. })
                    if matches!(
                        source.kind(),
                        ErrorKind::NotFound | ErrorKind::ConnectionRefused
                    ) =>
                {
                    return Err(Error::ConnectTimeout {
                        to: path.display().to_string(),
                        limit,
                    })
                }
                Err(Error::ConnectTimeout { to, .. }) => {
                    return Err(Error::ConnectTimeout { to, limit })
                }
                other => return other,
            }
        }
    }

    /// Connects over TCP to the first of `address`'s addresses that
    /// answers. Each address has an equal share of the time left, so
    /// that one that never answers leaves time for the others; when none
    /// answers in time, the error is the last address's (`TimedOut`).
    /// The name is looked up first, by the system's resolver, outside
    /// the limit.
    pub(crate) fn tcp(
        address: impl ToSocketAddrs + fmt::Debug,
        limit: Duration,
    ) -> Result<Self, Error> {
        let deadline = Instant::now() + limit;
        let shown = format!("{address:?}");
        let addresses: Vec<_> = address
            .to_socket_addrs()
            .map_err(|e| Error::connect(&shown, e))?
            .collect();
        let mut last = io::Error::new(ErrorKind::InvalidInput, "no address to connect to");
        for (tried, address) in addresses.iter().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            // At least a millisecond: a zero timeout is an error.
            let share = (left / (addresses.len() - tried) as u32).max(Duration::from_millis(1));
            match TcpStream::connect_timeout(address, share) {
                Ok(stream) => return Ok(stream.into()),
                Err(error) => last = error,
            }
        }
        if last.kind() == ErrorKind::TimedOut {
            return Err(Error::ConnectTimeout { to: shown, limit });
        }
        Err(Error::connect(shown, last))
    }

    /// Waits on `listener` for one connection, within `limit`. The
    /// listener is polled in non-blocking mode meanwhile, and left in
    /// blocking mode (std's default).
    pub(crate) fn accept(listener: &UnixListener, limit: Duration) -> Result<Self, Error> {
        let shown = listener
            .local_addr()
            .ok()
            .and_then(|address| address.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "a listening unix socket".into());
        let deadline = Instant::now() + limit;
        listener.set_nonblocking(true)?;
        let mut interval = Duration::from_millis(1);
        let accepted = loop {
            match listener.accept() {
                Ok((stream, _)) => break Ok(stream),
                Err(error) if error.kind() == ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        break Err(Error::ConnectTimeout {
                            to: shown.clone(),
                            limit,
                        });
                    }
                    std::thread::sleep(
                        interval.min(deadline.saturating_duration_since(Instant::now())),
                    );
                    interval = (interval * 2).min(RETRY_INTERVAL);
                }
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => break Err(Error::connect(&shown, error)),
            }
        };
        listener.set_nonblocking(false)?;
        let stream = accepted?;
        stream.set_nonblocking(false)?;
        Ok(stream.into())
    }

    pub(crate) fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            kind: match &self.kind {
                Kind::Unix(s) => Kind::Unix(s.try_clone()?),
                Kind::Tcp(s) => Kind::Tcp(s.try_clone()?),
            },
        })
    }

    /// Whether descriptors can be passed over it (a unix socket).
    pub(crate) fn passes_fds(&self) -> bool {
        matches!(self.kind, Kind::Unix(_))
    }

    pub(crate) fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match &self.kind {
            Kind::Unix(s) => s.set_read_timeout(timeout),
            Kind::Tcp(s) => s.set_read_timeout(timeout),
        }
    }

    pub(crate) fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match &self.kind {
            Kind::Unix(s) => s.set_write_timeout(timeout),
            Kind::Tcp(s) => s.set_write_timeout(timeout),
        }
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match &self.kind {
            Kind::Unix(s) => s.shutdown(how),
            Kind::Tcp(s) => s.shutdown(how),
        }
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.kind {
            Kind::Unix(s) => s.as_fd(),
            Kind::Tcp(s) => s.as_fd(),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.kind {
            Kind::Unix(s) => s.read(buf),
            Kind::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.kind {
            Kind::Unix(s) => s.write(buf),
            Kind::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.kind {
            Kind::Unix(s) => s.flush(),
            Kind::Tcp(s) => s.flush(),
        }
    }
}
