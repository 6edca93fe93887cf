//! Serving QMP: the other side of the protocol, for mocks in tests, replays
//! of recorded sessions, and Rust programs that offer a QMP interface.
//!
//! A server runs the commands of one schema through a [`Dispatch`]:
//! generated server bindings (qapi-gen's `server` setting), a
//! mock, or a replay of a recorded session. The runtime
//! speaks the protocol around it as QEMU does: greeting, capabilities
//! negotiation, argument checking, out-of-band execution, the in-band
//! queue, events, and the protocol's own commands.
//!
//! [`QmpServer`] serves a [`Dispatch`] over any tokio stream or on a
//! unix or TCP [`Listener`], as configured by a [`ServerConfig`]. What it
//! reads, it reads as QEMU 10.0.2's monitor does: JSON values cut from
//! the byte stream where their brackets balance (not at line ends), with
//! QEMU's limits (the largest message, 2 Mi tokens, 1024 levels of
//! nesting), its error texts (`JSON parse error, ...`), its checks of a
//! request's members, in the order QEMU makes them, and its answers to
//! requests before negotiation, out-of-band requests and commands it
//! lacks. `qmp_capabilities`, `query-version`, `query-commands` and
//! `query-qmp-schema` are answered by the runtime wherever the schema has
//! them.
//!
//! ```
//! use qapi_types::schema::{BindingSchema, CommandDef, TypeRef};
//! use qapi_types::serde_json::{json, Map, Value};
//! use qapi_types::server::{CallFuture, Dispatch, QmpServer, ServerConfig, Session};
//! use qapi_types::{Config, Qmp, Transport};
//!
//! static SCHEMA: BindingSchema = BindingSchema {
//!     commands: &[
//!         CommandDef::new("qmp_capabilities", TypeRef::ANY, TypeRef::ANY),
//!         CommandDef::new("query-status", TypeRef::ANY, TypeRef::ANY),
//!     ],
//!     events: &[],
//!     types: &[],
//! };
//!
//! /// Always running.
//! struct Running;
//!
//! impl Dispatch for Running {
//!     fn schema(&self) -> &'static BindingSchema {
//!         &SCHEMA
//!     }
//!
//!     fn call<'a>(
//!         &'a self,
//!         name: &'a str,
//!         _arguments: Map<String, Value>,
//!         session: &'a Session,
//!     ) -> CallFuture<'a> {
//!         Box::pin(async move {
//!             match name {
//!                 "query-status" => {
//!                     session.emit_raw_after_reply("RESUME", Value::Null);
//!                     Some(Ok(json!({"running": true, "status": "running"})))
//!                 }
//!                 _ => None,
//!             }
//!         })
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let server = QmpServer::new(Running, ServerConfig::default());
//! let (client_end, server_end) = tokio::io::duplex(4096);
//! tokio::spawn(async move { server.serve(server_end).await });
//! let qmp = Qmp::from_stream(Transport::other(client_end), &Config::default()).await?;
//! let status = qmp.execute_raw("query-status", json!({})).await?;
//! assert_eq!(status["status"], "running");
//! assert!(qmp.execute_raw("stop", json!({})).await.unwrap_err().is_qmp());
//! # Ok::<(), qapi_types::Error>(())
//! # }).unwrap();
//! ```

mod arguments;
mod conditions;
mod config;
mod connection;
mod dispatch;
mod events;
mod introspection;
mod json;
mod listener;
mod mock;
mod qdict;
mod qmp_server;
mod replay;
mod request;
pub(crate) mod requests;

pub use arguments::check_arguments;
pub use conditions::Conditions;
pub use config::{QueuePolicy, ServerConfig, ServerConfigBuilder};
pub use dispatch::{CallFuture, CallOutcome, Dispatch, Session};
pub use introspection::query_qmp_schema;
pub use listener::Listener;
pub use mock::{Call, Mock};
pub use qmp_server::QmpServer;
pub use replay::{Exchange, Replay};
