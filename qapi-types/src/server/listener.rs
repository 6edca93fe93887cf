//! Accepting connections: a [`Listener`] owns the task that accepts on a
//! unix socket or a TCP address and the connections it accepted; stopping
//! or dropping it ends them all, and removes its unix socket's file.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// A socket a server listens on, accepting connections until stopped.
///
/// Dropping it stops it too: the accepting task and every connection it
/// accepted end (at their next await), and a unix socket's file is
/// removed.
#[derive(Debug)]
pub struct Listener {
    address: Address,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Where a listener listens.
#[derive(Debug)]
enum Address {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

/// A socket that accepts streams.
pub(crate) trait Accept: Send + Sync + 'static {
    /// What it accepts.
    type Stream: AsyncRead + AsyncWrite + Send + 'static;

    /// The next connection.
    fn accept(&self) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;

    async fn accept(&self) -> io::Result<Self::Stream> {
        tokio::net::UnixListener::accept(self)
            .await
            .map(|(stream, _)| stream)
    }
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;

    async fn accept(&self) -> io::Result<Self::Stream> {
        let (stream, _) = tokio::net::TcpListener::accept(self).await?;
        // Replies are written whole: waiting to fill packets only delays them.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

impl Listener {
    /// Accepts on `listener` (bound to the unix socket `path`) in a task,
    /// serving each connection with `serve`, until `shutdown` turns true.
    pub(crate) fn unix<S, F>(
        listener: tokio::net::UnixListener,
        path: PathBuf,
        shutdown: watch::Receiver<bool>,
        serve: S,
    ) -> Self
    where
        S: Fn(tokio::net::UnixStream) -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        Self::spawn(Address::Unix(path), listener, shutdown, serve)
    }

    /// Accepts on the TCP `listener` in a task, serving each connection
    /// with `serve`, until `shutdown` turns true.
    pub(crate) fn tcp<S, F>(
        listener: tokio::net::TcpListener,
        shutdown: watch::Receiver<bool>,
        serve: S,
    ) -> io::Result<Self>
    where
        S: Fn(tokio::net::TcpStream) -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let address = Address::Tcp(listener.local_addr()?);
        Ok(Self::spawn(address, listener, shutdown, serve))
    }

    fn spawn<A, S, F>(
        address: Address,
        listener: A,
        mut shutdown: watch::Receiver<bool>,
        serve: S,
    ) -> Self
    where
        A: Accept,
        S: Fn(A::Stream) -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    () = shut_down(&mut shutdown) => break,
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                    accepted = listener.accept() => match accepted {
                        Ok(stream) => {
                            connections.spawn(serve(stream));
                        }
                        Err(error) => {
                            crate::trace::log_warn!(%error, "accepting a connection failed");
                            // Out of descriptors, say: wait for some to be freed.
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        }
                    },
                }
            }
            connections.shutdown().await;
        });
        Self {
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The unix socket's path (`None` for TCP).
    pub fn path(&self) -> Option<&Path> {
        match &self.address {
            Address::Unix(path) => Some(path),
            Address::Tcp(_) => None,
        }
    }

    /// The TCP address listened on, its port chosen if `0` was asked for
    /// (`None` for a unix socket).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.address {
            Address::Tcp(address) => Some(*address),
            Address::Unix(_) => None,
        }
    }

    /// Stops accepting, ends the connections accepted, and waits until
    /// they have ended.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Address::Unix(path) = &self.address {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Returns once `shutdown` turns true (never, if its sender is gone
/// without).
pub(crate) async fn shut_down(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|down| *down).await.is_err() {
        std::future::pending::<()>().await;
    }
}
