//! [`QmpServer`]: a [`Dispatch`] served over streams and sockets, with a
//! handle to send events and to shut down.

use std::io;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, ToSocketAddrs, UnixListener};
use tokio::sync::watch;

use super::config::ServerConfig;
use super::connection::{greeting, Engine};
use super::dispatch::Dispatch;
use super::events::{event_message, Hub};
use super::listener::{shut_down, Listener};
use crate::Event;

/// A QMP server: the commands of a [`Dispatch`], served as QEMU's monitor
/// serves them, over any stream ([`serve`](Self::serve)) or on sockets
/// ([`listen_unix`](Self::listen_unix), [`listen_tcp`](Self::listen_tcp)).
///
/// Cloning gives another handle to the same server: events emitted on
/// any go to every connection that has negotiated capabilities.
///
/// ```no_run
/// # async fn run(dispatch: impl qapi_types::server::Dispatch) -> std::io::Result<()> {
/// use qapi_types::server::{QmpServer, ServerConfig};
///
/// let server = QmpServer::new(dispatch, ServerConfig::default());
/// let listener = server.listen_unix("/tmp/qmp.sock").await?;
/// // ... clients connect ...
/// server.emit_raw("STOP", qapi_types::serde_json::Value::Null);
/// listener.stop().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct QmpServer {
    engine: Arc<Engine>,
    shutdown: Arc<watch::Sender<bool>>,
}

impl std::fmt::Debug for QmpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QmpServer")
            .field("config", &self.engine.config)
            .field("connections", &self.engine.hub.len())
            .finish_non_exhaustive()
    }
}

impl QmpServer {
    /// A server running the commands of `dispatch`, configured by
    /// `config`.
    pub fn new(dispatch: impl Dispatch, config: ServerConfig) -> Self {
        Self::from_arc(Arc::new(dispatch), config)
    }

    /// A server running the commands of a shared `dispatch`.
    pub fn from_arc(dispatch: Arc<dyn Dispatch>, config: ServerConfig) -> Self {
        Self {
            engine: Arc::new(Engine {
                dispatch,
                greeting: greeting(&config),
                config,
                hub: Arc::new(Hub::default()),
                served_schema: std::sync::OnceLock::new(),
            }),
            shutdown: Arc::new(watch::channel(false).0),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.engine.config
    }

    /// Serves one client over `stream` until it closes the connection,
    /// reading or writing fails, or the server shuts down (then `Ok`).
    /// Dropping the future ends the connection, and the command running.
    pub async fn serve<S>(&self, stream: S) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Send,
    {
        let mut shutdown = self.shutdown.subscribe();
        tokio::select! {
            result = self.engine.serve(stream) => result,
            () = shut_down(&mut shutdown) => Ok(()),
        }
    }

    /// Listens on the unix socket `path` (a stale file there is replaced),
    /// serving every client that connects, until the listener is stopped
    /// or dropped, or the server shuts down.
    pub async fn listen_unix(&self, path: impl AsRef<Path>) -> io::Result<Listener> {
        let path = path.as_ref();
        if std::os::unix::net::UnixStream::connect(path).is_err() {
            let _ = std::fs::remove_file(path);
        }
        let listener = UnixListener::bind(path)?;
        let server = self.clone();
        let shutdown = self.shutdown.subscribe();
        Ok(Listener::unix(
            listener,
            path.to_path_buf(),
            shutdown,
            move |stream| {
                let server = server.clone();
                async move {
                    let _ = server.serve(stream).await;
                }
            },
        ))
    }

    /// Listens on the TCP `address` (port 0: one chosen, see
    /// [`Listener::local_addr`]), serving every client that connects,
    /// until the listener is stopped or dropped, or the server shuts
    /// down.
    pub async fn listen_tcp(&self, address: impl ToSocketAddrs) -> io::Result<Listener> {
        let listener = TcpListener::bind(address).await?;
        let server = self.clone();
        let shutdown = self.shutdown.subscribe();
        Listener::tcp(listener, shutdown, move |stream| {
            let server = server.clone();
            async move {
                let _ = server.serve(stream).await;
            }
        })
    }

    /// Sends event `E` with `data` to every connection that has
    /// negotiated capabilities, stamped now.
    pub fn emit<E: Event + Serialize>(&self, data: &E) -> Result<(), serde_json::Error> {
        self.engine
            .hub
            .broadcast(&event_message(E::NAME, &serde_json::to_string(data)?));
        Ok(())
    }

    /// Sends event `name` with `data` (`null`: none) to every connection
    /// that has negotiated capabilities, stamped now.
    pub fn emit_raw(&self, name: &str, data: Value) {
        self.engine
            .hub
            .broadcast(&event_message(name, &data.to_string()));
    }

    /// How many connections have negotiated capabilities (and receive
    /// events).
    pub fn negotiated_connections(&self) -> usize {
        self.engine.hub.len()
    }

    /// How many events were not sent to a client that did not read its
    /// messages (its queue full), over all connections.
    pub fn dropped_events(&self) -> u64 {
        self.engine.hub.dropped()
    }

    /// Ends every connection ([`serve`](Self::serve) returns) and every
    /// listener's accepting: the server serves no more.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}
