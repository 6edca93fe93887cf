//! What the async client talks over: a connected socket of any kind,
//! split into the half the reader task reads and the half the writer
//! task writes requests (and passes descriptors) on.

use std::fmt;
use std::io;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

#[cfg(unix)]
use std::os::fd::OwnedFd;

/// A connected stream to a QMP server, for [`Qmp::from_stream`]: a tokio
/// or std unix socket (descriptors can be passed over it), a tokio or std
/// TCP socket, or any other byte stream ([`Transport::other`]).
///
/// [`Qmp::from_stream`]: crate::Qmp::from_stream
pub struct Transport {
    kind: Kind,
}

enum Kind {
    #[cfg(unix)]
    TokioUnix(tokio::net::UnixStream),
    #[cfg(unix)]
    StdUnix(std::os::unix::net::UnixStream),
    TokioTcp(tokio::net::TcpStream),
    StdTcp(std::net::TcpStream),
    Other(Pin<Box<dyn Duplex>>),
}

/// A byte stream both ways.
trait Duplex: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> Duplex for T {}

impl Transport {
    /// Any byte stream (a `tokio::io::duplex` pipe, a TLS stream, ...):
    /// descriptors can't be passed over it.
    pub fn other(stream: impl AsyncRead + AsyncWrite + Send + 'static) -> Self {
        Self {
            kind: Kind::Other(Box::pin(stream)),
        }
    }

    /// The two halves, registered with the runtime (std sockets are made
    /// non-blocking).
    pub(crate) fn split(self) -> io::Result<(Reader, Writer)> {
        match self.kind {
            #[cfg(unix)]
            Kind::TokioUnix(stream) => {
                let (read, write) = stream.into_split();
                Ok((Box::pin(read), Writer::Unix(write)))
            }
            #[cfg(unix)]
            Kind::StdUnix(stream) => {
                stream.set_nonblocking(true)?;
                Self::from(tokio::net::UnixStream::from_std(stream)?).split()
            }
            Kind::TokioTcp(stream) => {
                stream.set_nodelay(true)?;
                let (read, write) = stream.into_split();
                Ok((Box::pin(read), Writer::Other(Box::pin(write))))
            }
            Kind::StdTcp(stream) => {
                stream.set_nonblocking(true)?;
                Self::from(tokio::net::TcpStream::from_std(stream)?).split()
            }
            Kind::Other(stream) => {
                let (read, write) = tokio::io::split(stream);
                Ok((Box::pin(read), Writer::Other(Box::pin(write))))
            }
        }
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            #[cfg(unix)]
            Kind::TokioUnix(_) | Kind::StdUnix(_) => "unix socket",
            Kind::TokioTcp(_) | Kind::StdTcp(_) => "TCP socket",
            Kind::Other(_) => "other stream",
        };
        f.debug_tuple("Transport").field(&kind).finish()
    }
}

#[cfg(unix)]
impl From<tokio::net::UnixStream> for Transport {
    fn from(stream: tokio::net::UnixStream) -> Self {
        Self {
            kind: Kind::TokioUnix(stream),
        }
    }
}

#[cfg(unix)]
impl From<std::os::unix::net::UnixStream> for Transport {
    fn from(stream: std::os::unix::net::UnixStream) -> Self {
        Self {
            kind: Kind::StdUnix(stream),
        }
    }
}

impl From<tokio::net::TcpStream> for Transport {
    fn from(stream: tokio::net::TcpStream) -> Self {
        Self {
            kind: Kind::TokioTcp(stream),
        }
    }
}

impl From<std::net::TcpStream> for Transport {
    fn from(stream: std::net::TcpStream) -> Self {
        Self {
            kind: Kind::StdTcp(stream),
        }
    }
}

/// The half the reader task reads.
pub(crate) type Reader = Pin<Box<dyn AsyncRead + Send>>;

/// The half requests are written on.
pub(crate) enum Writer {
    /// A unix socket: descriptors can go with a request.
    #[cfg(unix)]
    Unix(tokio::net::unix::OwnedWriteHalf),
    /// Anything else.
    Other(Pin<Box<dyn AsyncWrite + Send>>),
}

impl Writer {
    /// Whether descriptors can be passed.
    pub(crate) fn passes_fds(&self) -> bool {
        match self {
            #[cfg(unix)]
            Writer::Unix(_) => true,
            Writer::Other(_) => false,
        }
    }

    /// Writes `bytes`.
    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            #[cfg(unix)]
            Writer::Unix(write) => write.write_all(bytes).await,
            Writer::Other(write) => {
                write.write_all(bytes).await?;
                write.flush().await
            }
        }
    }

    /// Writes `bytes` with `fds` attached to the first byte; the copies
    /// are closed once sent (or when this fails).
    #[cfg(unix)]
    pub(crate) async fn write_with_fds(
        &mut self,
        bytes: &[u8],
        fds: Vec<OwnedFd>,
    ) -> io::Result<()> {
        use std::os::fd::AsFd;
        let Writer::Unix(write) = self else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "descriptors can only be passed on a unix socket",
            ));
        };
        let socket: &tokio::net::UnixStream = write.as_ref();
        let written = loop {
            socket.writable().await?;
            match socket.try_io(tokio::io::Interest::WRITABLE, || {
                crate::fds::send_with_fds(socket.as_fd(), bytes, &fds)
            }) {
                Ok(written) => break written,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(error),
            }
        };
        drop(fds);
        write.write_all(&bytes[written..]).await
    }

    /// Shuts the writing direction: the server reads the end of the
    /// stream, and closes its side.
    pub(crate) async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            #[cfg(unix)]
            Writer::Unix(write) => write.shutdown().await,
            Writer::Other(write) => write.shutdown().await,
        }
    }
}
